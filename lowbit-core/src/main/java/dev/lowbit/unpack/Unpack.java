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
    Lines l = Lines.of(lineLevels(a, bits, true), new int[a.rows()], bits);
    return new Unpacked(bits, new Int8Matrix(l.count, a.cols(), l.splitRows(a)), l.owner, l.exponent,
        identity(a.cols()), new int[a.cols()]);
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
    Lines l = Lines.of(lineLevels(a, bits, false), innerExponent, bits);
    return new Unpacked(bits, new Int8Matrix(a.rows(), l.count, l.splitColumns(a)), identity(a.rows()),
        new int[a.rows()], l.owner, l.exponent);
  }

  /**
   * {@link #columns} of {@code B'ᵀ}, B' being the rows {@code source} of {@code b} ({@code
   * b.transposeRows(source)}), transposed: the split B'' (lines × b's columns), its rows the split
   * lines (owners and exponents), its columns b's. B'ᵀ is never formed: its columns are b's rows,
   * so their digit counts are b's rows' and the split lines are digits of b's rows, made row by row.
   */
  static Unpacked columnsOfRows(IntMatrix b, int[] source, int[] innerExponent, int bits) {
    return columnsOfRows(b, source, innerExponent, bits, false);
  }

  /**
   * {@link #columnsOfRows}, the split lines in the spec's order or, {@code byExponent}, stably
   * sorted by exponent: then each inner exponent's lines are one contiguous block of B'', which an
   * unpacked product's GEMM reads in place.
   */
  static Unpacked columnsOfRows(IntMatrix b, int[] source, int[] innerExponent, int bits, boolean byExponent) {
    checkBits(bits);
    if (innerExponent.length != source.length) {
      throw new IllegalArgumentException(innerExponent.length + " inner exponents for " + source.length + " columns");
    }
    int[] byRow = lineLevels(b, bits, true);
    int[] lv = new int[source.length];
    for (int q = 0; q < lv.length; q++) lv[q] = byRow[source[q]];
    Lines spec = Lines.of(lv, innerExponent, bits);
    Lines l = byExponent ? spec.sortedByExponent() : spec;
    int m = b.cols();
    int count = l.count;
    int[] x = b.data();
    byte[] rowsOut = new byte[Math.multiplyExact(count, m)]; // B'': line r is a digit of b's row source[owner[r]]
    parallel(count, (long) count * m, r -> {
      int from = source[l.owner[r]] * m;
      int to = r * m;
      Digits.extract(x, from, rowsOut, to, m, l.shift[r], l.mask[r]);
    });
    return new Unpacked(bits, new Int8Matrix(count, m, rowsOut), l.owner, l.exponent, identity(m), new int[m]);
  }

  /** Tile edge of blocked transposes: a tile's source and result lines stay in cache. */
  static final int TILE = 64;

  /** Loops of at least this many entries run on several threads. */
  private static final long PARALLEL_ENTRIES = 1 << 16;

  /**
   * Runs {@code body} for 0..tasks-1, in parallel when the loop covers at least {@link
   * #PARALLEL_ENTRIES} entries; the tasks must write disjoint entries.
   */
  static void parallel(int tasks, long entries, java.util.function.IntConsumer body) {
    if (entries >= PARALLEL_ENTRIES && tasks > 1 && Runtime.getRuntime().availableProcessors() > 1) {
      java.util.stream.IntStream.range(0, tasks).parallel().forEach(body);
    } else {
      for (int t = 0; t < tasks; t++) body.accept(t);
    }
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

  /**
   * Digits each row (byRow) or each column of {@code a} needs: those of its widest entry, from
   * the line's largest and smallest entry (levels grow with |v|), in one sweep in memory order.
   */
  static int[] lineLevels(IntMatrix a, int bits, boolean byRow) {
    int n = a.rows();
    int d = a.cols();
    int[] x = a.data();
    int lines = byRow ? n : d;
    int[] hi = new int[lines];
    int[] lo = new int[lines];
    for (int i = 0; i < n; i++) {
      int o = i * d;
      if (byRow) {
        int h = 0;
        int l = 0;
        for (int j = o; j < o + d; j++) {
          h = Math.max(h, x[j]);
          l = Math.min(l, x[j]);
        }
        hi[i] = h;
        lo[i] = l;
      } else {
        for (int j = 0; j < d; j++) {
          hi[j] = Math.max(hi[j], x[o + j]);
          lo[j] = Math.min(lo[j], x[o + j]);
        }
      }
    }
    int[] lv = new int[lines];
    for (int q = 0; q < lines; q++) lv[q] = Math.max(levels(hi[q], bits), levels(lo[q], bits));
    return lv;
  }

  /**
   * The breadth-first split of lines (rows or columns) in linear time: a line with L digits (L =
   * the most any of its entries needs) yields L lines, one per level, and level k's lines come after all lines of lower levels, in
   * the order of their original lines — the order the split-and-append loop produces. So level 0
   * is the original lines in place. Line r holds digit {@code level} of line {@code owner[r]}:
   * {@code (v >> shift[r]) & mask[r]}, the mask all ones for a line's last (signed) digit.
   */
  private record Lines(int count, int[] owner, int[] exponent, int[] shift, int[] mask) {

    static Lines of(int[] lv, int[] t0, int bits) {
      int n = lv.length;
      int maxLevel = 0;
      for (int l : lv) maxLevel = Math.max(maxLevel, l);
      int[] start = new int[maxLevel + 1]; // first output line of each level
      for (int i = 0; i < n; i++) {
        for (int k = 0; k < lv[i]; k++) start[k + 1]++;
      }
      for (int k = 0; k < maxLevel; k++) start[k + 1] += start[k];
      int count = start[maxLevel];
      int[] owner = new int[count];
      int[] exponent = new int[count];
      int[] shift = new int[count];
      int[] mask = new int[count];
      int[] next = Arrays.copyOf(start, maxLevel);
      int low = (1 << (bits - 1)) - 1;
      for (int i = 0; i < n; i++) {
        for (int k = 0; k < lv[i]; k++) {
          int r = next[k]++;
          owner[r] = i;
          exponent[r] = t0[i] + k;
          shift[r] = (bits - 1) * k; // at most 31: after 31 bits of shift nothing is heavy
          mask[r] = k == lv[i] - 1 ? -1 : low;
        }
      }
      return new Lines(count, owner, exponent, shift, mask);
    }

    /** The same lines stably sorted by exponent. */
    Lines sortedByExponent() {
      int[] order = UnpackedGemm.byExponent(exponent);
      int[] o = new int[count];
      int[] e = new int[count];
      int[] s = new int[count];
      int[] mk = new int[count];
      for (int q = 0; q < count; q++) {
        int r = order[q];
        o[q] = owner[r];
        e[q] = exponent[r];
        s[q] = shift[r];
        mk[q] = mask[r];
      }
      return new Lines(count, o, e, s, mk);
    }

    /** The split of a's rows: count×d, row-major. */
    byte[] splitRows(IntMatrix a) {
      int d = a.cols();
      int[] x = a.data();
      byte[] out = new byte[Math.multiplyExact(count, d)];
      parallel(count, (long) count * d, r -> {
        int from = owner[r] * d;
        int to = r * d;
        Digits.extract(x, from, out, to, d, shift[r], mask[r]);
      });
      return out;
    }

    /** The split of a's columns: n×count, row-major, written row by row in memory order. */
    byte[] splitColumns(IntMatrix a) {
      int n = a.rows();
      int d = a.cols();
      int[] x = a.data();
      byte[] out = new byte[Math.multiplyExact(n, count)];
      parallel(n, (long) n * count, i -> {
        int from = i * d;
        int to = i * count;
        Digits.extractMasked(x, from, mask, out, to, d); // level 0: line j is column j
        for (int r = d; r < count; r++) out[to + r] = (byte) ((x[from + owner[r]] >> shift[r]) & mask[r]);
      });
      return out;
    }
  }
}
