package dev.lowbit.format;

/**
 * Dense bit packing of n-bit codes (n = 1..32): code i occupies bits [i·n, (i+1)·n) of a
 * little-endian bit stream (bit k is bit k%8 of byte k/8).
 */
public final class Packing {

  private Packing() {}

  /** Packs the low {@code bits} bits of each code. */
  public static byte[] pack(int[] codes, int bits) {
    check(bits);
    byte[] out = new byte[(int) ((codes.length * (long) bits + 7) / 8)];
    long pos = 0;
    for (int c : codes) {
      long v = c & mask(bits);
      for (int k = 0; k < bits; ) {
        int byteIdx = (int) (pos >>> 3), off = (int) (pos & 7);
        int take = Math.min(8 - off, bits - k);
        out[byteIdx] |= (byte) (((v >>> k) & ((1 << take) - 1)) << off);
        k += take;
        pos += take;
      }
    }
    return out;
  }

  /** Unpacks {@code count} codes; {@code signed} sign-extends them from {@code bits} bits. */
  public static int[] unpack(byte[] data, int count, int bits, boolean signed) {
    check(bits);
    if ((count * (long) bits + 7) / 8 > data.length) {
      throw new IllegalArgumentException(count + " codes of " + bits + " bits need more than "
          + data.length + " bytes");
    }
    int[] out = new int[count];
    long pos = 0;
    for (int i = 0; i < count; i++) {
      long v = 0;
      for (int k = 0; k < bits; ) {
        int byteIdx = (int) (pos >>> 3), off = (int) (pos & 7);
        int take = Math.min(8 - off, bits - k);
        v |= (long) (((data[byteIdx] & 0xFF) >>> off) & ((1 << take) - 1)) << k;
        k += take;
        pos += take;
      }
      if (signed && bits < 32 && (v >>> (bits - 1)) != 0) v -= 1L << bits;
      out[i] = (int) v;
    }
    return out;
  }

  private static long mask(int bits) {
    return bits == 32 ? 0xFFFFFFFFL : (1L << bits) - 1;
  }

  private static void check(int bits) {
    if (bits < 1 || bits > 32) {
      throw new IllegalArgumentException("code width " + bits + " is invalid; valid: 1..32");
    }
  }
}
