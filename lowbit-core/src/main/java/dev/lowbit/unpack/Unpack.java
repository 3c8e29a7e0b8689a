package dev.lowbit.unpack;

import java.util.Arrays;

/**
 * IM-Unpack's decompositions (Zeng, Sankaralingam, Singh, ICML 2024): whole rows or columns of an
 * int32 matrix are split into base {@code s = 2^(b-1)} digits with floor semantics ({@code v = s·hi
 * + lo}, {@code lo = floorMod(v, s)}, {@code hi = floorDiv(v, s)}), every entry of the line at once,
 * until every entry satisfies {@code |x| <= s-1}. A line is split while it holds a heavy hitter,
 * an entry with {@code |x| >= s} ({@code -s} included). The high digits go to a new line appended
 * at the end, breadth first, with the exponent of its parent plus one.
 *
 * <ul>
 *   <li>{@link #rows}: UnpackRow; the product's output rows are recombined by owner.
 *   <li>{@link #columns}: UnpackColumn, the inner dimension; the partner's matching line is
 *       duplicated ({@link Unpacked#columnSource}), the inner exponents carried.
 *   <li>{@link #both}: UnpackBoth, greedy: split the row or column holding the most heavy hitters.
 * </ul>
 *
 * <p>Any int32 input is accepted, {@code Integer.MIN_VALUE} included; b is 2..8.
 */
public final class Unpack {

  private Unpack() {}

  /** @throws IllegalArgumentException unless 2 <= bits <= 8 */
  static void checkBits(int bits) {
    if (bits < 2 || bits > 8) {
      throw new IllegalArgumentException("unpack bit width " + bits + "; valid: 2..8 (signed)");
    }
  }

  /** Whether v is a heavy hitter at {@code bits}: {@code |v| >= 2^(bits-1)}, without overflow. */
  static boolean heavy(int v, int bits) {
    int max = (1 << (bits - 1)) - 1;
    return v > max || v < -max;
  }

  /**
   * The base {@code 2^(bits-1)} digits of v with floor semantics, least significant first: every
   * digit but the last in {@code [0, 2^(bits-1)-1]}, the last in {@code [-(2^(bits-1)-1),
   * 2^(bits-1)-1]}; {@code v == Σ digit[k]·2^((bits-1)·k)}. E.g. b=4: 329 → [1,1,5], -329 → [7,6,-6].
   */
  public static int[] digits(int v, int bits) {
    checkBits(bits);
    int[] d = new int[levels(v, bits)];
    for (int k = 0; k < d.length - 1; k++) {
      d[k] = v & ((1 << (bits - 1)) - 1); // floorMod by a power of two
      v >>= bits - 1; // floorDiv by a power of two, also for negatives
    }
    d[d.length - 1] = v;
    return d;
  }

  /** How many digits {@link #digits} gives: 1 for a value that fits, more for a heavy hitter. */
  static int levels(int v, int bits) {
    int n = 1;
    while (heavy(v, bits)) {
      v >>= bits - 1;
      n++;
    }
    return n;
  }

  /** UnpackRow (§1.6 of the spec): rows of {@code a} split until all entries fit {@code bits}. */
  public static Unpacked rows(IntMatrix a, int bits) {
    checkBits(bits);
    Lines l = splitRows(a, new int[a.rows()], bits, false);
    return new Unpacked(bits, new Int8Matrix(l.count, a.cols(), l.data), l.owner, l.exponent, identity(a.cols()),
        new int[a.cols()]);
  }

  /**
   * UnpackColumn (§1.7): columns of {@code a} split until all entries fit {@code bits}, starting
   * from the inner exponents {@code innerExponent} (one per column; zeros for a fresh product).
   * The partner B' of a product {@code a·B} is B's rows in the order of {@link
   * Unpacked#columnSource}; the result's column exponents are the inner exponents to carry on.
   */
  public static Unpacked columns(IntMatrix a, int[] innerExponent, int bits) {
    checkBits(bits);
    checkInner(a, innerExponent);
    Lines l = splitRows(a.transpose(), innerExponent, bits, true);
    return new Unpacked(bits, new Int8Matrix(a.rows(), l.count, l.data), identity(a.rows()), new int[a.rows()],
        l.owner, l.exponent);
  }

  /**
   * UnpackBoth (§1.8), greedy: while a heavy hitter remains, count the heavy hitters of every row
   * (R) and column (K) of the grown matrix, take the first row with the most and the first column
   * with the most, and split the row if {@code R >= K} (ties go to the row), else the column. The
   * counts are updated as lines split, not recounted. {@code innerExponent} as in {@link #columns}.
   */
  public static Unpacked both(IntMatrix a, int[] innerExponent, int bits) {
    checkBits(bits);
    checkInner(a, innerExponent);
    return new Greedy(a, innerExponent, bits).run();
  }

  private static void checkInner(IntMatrix a, int[] innerExponent) {
    if (innerExponent.length != a.cols()) {
      throw new IllegalArgumentException(innerExponent.length + " inner exponents for " + a.cols() + " columns");
    }
  }

  static int[] identity(int n) {
    int[] id = new int[n];
    for (int i = 0; i < n; i++) id[i] = i;
    return id;
  }

  /** Split lines: b-bit data (a line per row, or per column when transposed), each line's owner and exponent. */
  private record Lines(int count, byte[] data, int[] owner, int[] exponent) {}

  /**
   * The breadth-first row split in linear time: a row with L digits (L = the most any of its
   * entries needs) yields L rows, one per level, and level k's rows come after all rows of lower
   * levels, in the order of their original rows — the order the split-and-append loop produces.
   * With {@code transposed} the output is written column-major: its lines become columns.
   */
  private static Lines splitRows(IntMatrix a, int[] t0, int bits, boolean transposed) {
    int n = a.rows();
    int d = a.cols();
    int[] data = a.data();
    int[] lv = new int[n];
    int maxLevel = 0;
    for (int i = 0; i < n; i++) {
      int l = 1;
      for (int j = 0; j < d; j++) l = Math.max(l, levels(data[i * d + j], bits));
      lv[i] = l;
      maxLevel = Math.max(maxLevel, l);
    }
    int[] start = new int[maxLevel + 1]; // first output row of each level
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < lv[i]; k++) start[k + 1]++;
    }
    for (int k = 0; k < maxLevel; k++) start[k + 1] += start[k];
    int count = start[maxLevel];
    byte[] out = new byte[Math.multiplyExact(count, d)];
    int[] owner = new int[count];
    int[] exponent = new int[count];
    int[] next = Arrays.copyOf(start, maxLevel);
    int[] line = new int[d];
    int mask = (1 << (bits - 1)) - 1;
    for (int i = 0; i < n; i++) {
      System.arraycopy(data, i * d, line, 0, d);
      for (int k = 0; k < lv[i]; k++) {
        int r = next[k]++;
        owner[r] = i;
        exponent[r] = t0[i] + k;
        boolean last = k == lv[i] - 1;
        for (int j = 0; j < d; j++) {
          int v = line[j];
          out[transposed ? j * count + r : r * d + j] = (byte) (last ? v : v & mask);
          line[j] = v >> (bits - 1);
        }
      }
    }
    return new Lines(count, out, owner, exponent);
  }
}
