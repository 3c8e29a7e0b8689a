package dev.lowbit.unpack;

/**
 * The digit extraction of unpacking on whole runs of a line, {@code (byte) ((x >> s) & mask)}, on
 * the Vector API (16 int32 lanes narrowed to 16 bytes) where the module is loaded, as C2 does not
 * vectorize the scalar loop's int-to-byte narrowing; else that loop.
 */
final class Digits {

  private Digits() {}

  private static final boolean VECTOR = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

  /** {@code out[to + k] = (byte) ((x[from + k] >> s) & mask)} for k in 0..len. */
  static void extract(int[] x, int from, byte[] out, int to, int len, int s, int mask) {
    int k = VECTOR ? VectorDigits.extract(x, from, out, to, len, s, mask) : 0;
    for (; k < len; k++) out[to + k] = (byte) ((x[from + k] >> s) & mask);
  }

  /** {@code out[to + k] = (byte) (x[from + k] & mask[k])} for k in 0..len: a row's level-0 digits, a mask per column. */
  static void extractMasked(int[] x, int from, int[] mask, byte[] out, int to, int len) {
    int k = VECTOR ? VectorDigits.extractMasked(x, from, mask, out, to, len) : 0;
    for (; k < len; k++) out[to + k] = (byte) (x[from + k] & mask[k]);
  }

  /** The first index in from..to of an entry with |x| > max (max >= 0), or to when none is. */
  static int nextHeavy(int[] x, int from, int to, int max) {
    int k = VECTOR ? VectorDigits.nextHeavy(x, from, to, max) : from;
    while (k < to && x[k] <= max && x[k] >= -max) k++;
    return k;
  }
}
