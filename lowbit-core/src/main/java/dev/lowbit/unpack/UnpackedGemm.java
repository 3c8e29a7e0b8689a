package dev.lowbit.unpack;

import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * Exact int32 GEMM {@code C = A·B} on b-bit GEMMs only, after IM-Unpack (Zeng, Sankaralingam,
 * Singh, ICML 2024): unpack the operands ({@link #unpack}), run one signed int8-container GEMM
 * ({@link Gemm#gemmS8S8}) per inner exponent, the inner dimension cut into chunks short enough that
 * no int32 sum can overflow, and add each group's result, shifted by its row, column and inner
 * exponents, into the int64 output ({@link #multiply}); a group of at most {@link #SMALL_GROUP}
 * inner indices is summed into the output directly, without a GEMM. The result equals {@link #referenceGemm}
 * bit for bit: the true product where it fits int64, the same two's-complement wrap where not.
 *
 * <p>{@link #ratio} and {@link #choose} size the unpacked GEMMs without running them.
 */
public final class UnpackedGemm {

  private UnpackedGemm() {}

  /** C = A·B in int64 by the triple loop, wrapping like Java's long; the reference for every test. */
  public static long[] referenceGemm(IntMatrix a, IntMatrix b) {
    checkShapes(a, b);
    int n = a.rows();
    int d = a.cols();
    int m = b.cols();
    long[] c = new long[n * m];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < m; k++) {
        long s = 0;
        for (int j = 0; j < d; j++) s += (long) a.data()[i * d + j] * b.data()[j * m + k];
        c[i * m + k] = s;
      }
    }
    return c;
  }

  /** Unpacks A and B with {@code strategy} and multiplies on {@link Kernels#gemm()}: C (n×m, row-major). */
  public static long[] gemm(IntMatrix a, IntMatrix b, Strategy strategy, int bits) {
    return multiply(unpack(a, b, strategy, bits), Kernels.gemm());
  }

  /**
   * Unpacks the product A·B for b-bit GEMMs (b = 2..8).
   *
   * <ul>
   *   <li>ROW: UnpackRow on A and on Bᵀ; the inner dimension stays d.
   *   <li>COLUMN: UnpackColumn on A (B's rows duplicated alongside), then on B'ᵀ with the inner
   *       exponents carried (A's columns duplicated alongside); rows and columns stay n and m. The
   *       inner indices are stably sorted by exponent (the spec appends them level by level), so
   *       that each exponent's GEMM reads one contiguous block of A'' and B''.
   *   <li>BOTH: UnpackBoth on A, then on B'ᵀ, inner exponents carried.
   * </ul>
   */
  public static UnpackedProduct unpack(IntMatrix a, IntMatrix b, Strategy strategy, int bits) {
    checkShapes(a, b);
    Unpack.checkBits(bits);
    Unpacked left;
    Unpacked right;
    if (strategy == Strategy.ROW) {
      left = Unpack.rows(a, bits);
      right = Unpack.columns(b, new int[b.cols()], bits); // UnpackRow on Bᵀ, as B'' rather than B''ᵀ
    } else {
      boolean both = strategy == Strategy.BOTH;
      Unpacked first = both ? Unpack.both(a, new int[a.cols()], bits) : Unpack.columns(a, new int[a.cols()], bits);
      if (both) {
        right = Unpack.both(b.transposeRows(first.columnSource()), first.columnExponent(), bits).transpose(); // of B'ᵀ
      } else {
        right = Unpack.columnsOfRows(b, first.columnSource(), first.columnExponent(), bits, true);
      }
      int[] second = right.rowOwner(); // indices into the first pass's inner dimension
      int[] source = new int[second.length];
      for (int q = 0; q < second.length; q++) source[q] = first.columnSource()[second[q]];
      Int8Matrix a1 = first.matrix();
      byte[] a2 = Layout.gatherColumns(a1.data(), a1.rows(), a1.cols(), second, 0, second.length); // A'': A's columns duplicated like B's inner rows
      left = new Unpacked(bits, new Int8Matrix(a1.rows(), second.length, a2), first.rowOwner(), first.rowExponent(),
          source, right.rowExponent());
      right = new Unpacked(bits, right.matrix(), source, right.rowExponent(), right.columnSource(),
          right.columnExponent());
    }
    return new UnpackedProduct(strategy, bits, a.rows(), a.cols(), b.cols(), left, right);
  }

  /**
   * The most inner indices one b-bit GEMM may sum in int32: {@code k·(2^(b-1)-1)^2 <= 2^31-1}.
   */
  static int maxInner(int bits) {
    long p = (1L << (bits - 1)) - 1;
    return (int) (Integer.MAX_VALUE / (p * p));
  }

  /** Evaluates the unpacked product on {@link Kernels#gemm()}. */
  public static long[] multiply(UnpackedProduct p) {
    return multiply(p, Kernels.gemm());
  }

  /**
   * Evaluates the unpacked product with {@code gemm}'s int8 kernel: inner indices grouped by
   * exponent (a group's columns of A'' and rows of B'' read in place where they are contiguous, as
   * every group of a COLUMN or ROW product is, else gathered), each group cut into chunks of at
   * most {@link #maxInner} indices, each chunk's int32 result shifted and added into the row and
   * column of C its owners name. Groups of at most {@link #SMALL_GROUP} indices are summed
   * straight into C without a GEMM. Returns C (n×m, row-major).
   *
   * @throws IllegalArgumentException for a negative exponent
   */
  public static long[] multiply(UnpackedProduct p, Gemm gemm) {
    int bits = p.bits();
    int sh = bits - 1;
    Unpacked l = p.left();
    Unpacked r = p.right();
    int np = p.unpackedN();
    int dp = p.unpackedD();
    int mp = p.unpackedM();
    int[] rowShift = shifts(l.rowExponent(), sh, "row");
    int[] colShift = shifts(r.columnExponent(), sh, "column");
    int[] innerShift = shifts(p.innerExponent(), sh, "inner");
    long[] c = new long[p.n() * p.m()];
    if (np == 0 || mp == 0 || dp == 0) return c;
    int[] order = byExponent(p.innerExponent());
    byte[] la = l.matrix().data();
    byte[] rb = r.matrix().data(); // B'' (d''×m'): row-major B, the layout int8 kernels run fastest
    int chunk = maxInner(bits);
    Recombine rc = new Recombine(p, rowShift, colShift, innerShift, c);
    boolean addShifted = rc.identity && gemm.copiesOperands();
    for (int start = 0; start < dp; ) {
      int end = start;
      int t = p.innerExponent()[order[start]];
      while (end < dp && p.innerExponent()[order[end]] == t) end++;
      int g = end - start;
      // order is ascending within a group: its indices are contiguous iff they span g, and then
      // the GEMM reads them in place (a native kernel copies just the group's k columns of A)
      boolean contiguous = order[end - 1] - order[start] == g - 1;
      byte[] lg = contiguous ? la : Layout.gatherColumns(la, np, dp, order, start, g);
      int lOff = contiguous ? order[start] : 0;
      int lLd = contiguous ? dp : g;
      byte[] rg = contiguous ? rb : Layout.gatherRows(rb, mp, order, start, g);
      int rOff = contiguous ? order[start] * mp : 0;
      if (g <= SMALL_GROUP) {
        rc.addProduct(lg, lOff, lLd, rg, rOff, g, innerShift[order[start]]);
        start = end;
        continue;
      }
      for (int q = 0; q < g; q += chunk) {
        int k = Math.min(chunk, g - q);
        int shift = innerShift[order[start]];
        int[] direct = rc.direct(shift);
        if (direct != null) {
          gemm.gemmS8S8(false, false, np, mp, k, lg, lOff + q, lLd, rg, rOff + q * mp, mp, direct, 0, mp);
        } else if (addShifted) { // a native kernel adds into the int32 sums as it copies its result out
          gemm.gemmS8S8AddShifted(false, false, np, mp, k, lg, lOff + q, lLd, rg, rOff + q * mp, mp, shift, rc.acc, 0, mp);
        } else {
          gemm.gemmS8S8(false, false, np, mp, k, lg, lOff + q, lLd, rg, rOff + q * mp, mp, rc.cu(), 0, mp);
          rc.add(shift);
        }
      }
      start = end;
    }
    return rc.result();
  }

  /**
   * Groups of at most this many inner indices skip the GEMM: their product is summed row by row
   * straight into C ({@link Recombine#addProduct}), one pass over C instead of a GEMM's full
   * n'×m' int32 result written, copied out and added.
   */
  static final int SMALL_GROUP = 8;

  private static int[] shifts(int[] exponent, int sh, String what) {
    int[] s = new int[exponent.length];
    for (int i = 0; i < s.length; i++) {
      if (exponent[i] < 0) {
        throw new IllegalArgumentException(what + " exponent " + i + " is " + exponent[i] + "; valid: >= 0");
      }
      s[i] = (int) Math.min(64, (long) exponent[i] * sh);
    }
    return s;
  }

  /** Inner indices sorted by exponent, each exponent's indices in their order. */
  static int[] byExponent(int[] t) {
    long[] key = new long[t.length];
    for (int q = 0; q < t.length; q++) key[q] = ((long) t[q] << 32) | q;
    Arrays.sort(key);
    int[] order = new int[t.length];
    for (int q = 0; q < t.length; q++) order[q] = (int) key[q];
    return order;
  }

  /**
   * Adds each chunk's n'×m' int32 result {@code cu} into C: {@code C[owner r][owner k] += cu[r][k]
   * · 2^shift}, a shift of 64 or more adding 0 modulo 2^64. Where a bound on every entry of C
   * (from the digit range, the group sizes and the shifts) stays below 2^31, the sums are kept in
   * int32, exact, and widened once at the end; else in int64. The rows of A'' are taken in order of
   * their owners, in bands of owners across threads (a band writes only its own rows of C); in a
   * row, the leading columns of B'' that are B's own columns with exponent 0 (owner k = k, no
   * shift) go by a loop the JIT vectorizes, the others are scattered to their owners. Where A''
   * and B'' are A's and B's own lines ({@code identity}, every COLUMN product whose sums fit
   * int32) and the kernel is native, it adds its result into the int32 sums itself ({@link
   * Gemm#gemmS8S8AddShifted}) and {@code cu} is never made.
   */
  private static final class Recombine {
    private static final int BANDS = 16;
    private final int mp, m, plain;
    private final int[] rowOwner, colOwner, rowShift, colShift;
    /** A GEMM's n'×m' int32 result, made on first use. */
    private int[] cu;
    /** The rows of A'' by owner, and where each band of owners starts in that order. */
    private final int[] byOwner, bandStart;
    private final long[] c;
    /** The int32 sums, or null when C may not fit them. */
    final int[] acc;
    /** Whether the int32 sums are kept and A'' and B'' hold A's rows and B's columns unshifted, in order. */
    final boolean identity;
    private boolean untouched = true;

    Recombine(UnpackedProduct p, int[] rowShift, int[] colShift, int[] innerShift, long[] c) {
      int np = p.unpackedN();
      mp = p.unpackedM();
      m = p.m();
      rowOwner = p.left().rowOwner();
      colOwner = p.right().columnSource();
      this.rowShift = rowShift;
      this.colShift = colShift;
      this.c = c;
      int k = 0;
      while (k < mp && k < m && colOwner[k] == k && colShift[k] == 0) k++;
      plain = k;
      int n = p.n();
      int[] first = new int[n + 1]; // counting sort of the rows by owner
      for (int r = 0; r < np; r++) first[rowOwner[r] + 1]++;
      for (int i = 0; i < n; i++) first[i + 1] += first[i];
      bandStart = new int[BANDS + 1];
      for (int b = 0; b <= BANDS; b++) bandStart[b] = first[(int) ((long) n * b / BANDS)];
      byOwner = new int[np];
      int[] next = Arrays.copyOf(first, n);
      for (int r = 0; r < np; r++) byOwner[next[rowOwner[r]]++] = r;
      long digit = (1L << (p.bits() - 1)) - 1;
      double bound = digit * digit * weight(rowOwner, rowShift, n) * weight(colOwner, colShift, m);
      double inner = 0;
      for (int s : innerShift) inner += Math.scalb(1.0, s);
      acc = bound * inner < Integer.MAX_VALUE ? new int[c.length] : null;
      boolean same = acc != null && np == n && plain == mp;
      for (int r = 0; same && r < np; r++) same = rowOwner[r] == r && rowShift[r] == 0;
      identity = same;
    }

    /** The largest over owners of Σ 2^shift over the owner's lines. */
    private static double weight(int[] owner, int[] shift, int owners) {
      double[] w = new double[owners];
      for (int r = 0; r < owner.length; r++) w[owner[r]] += Math.scalb(1.0, shift[r]);
      double max = 0;
      for (double v : w) max = Math.max(max, v);
      return max;
    }

    /**
     * The int32 sums themselves as the next chunk's output, when that chunk's result is C's
     * entries as they stand (A'' and B'' are A's and B's own lines without shifts, the chunk's
     * inner shift is 0) and nothing was added yet; else null.
     */
    int[] direct(int inner) {
      boolean first = untouched;
      untouched = false;
      return first && identity && inner == 0 ? acc : null;
    }

    int[] cu() {
      if (cu == null) cu = new int[byOwner.length * mp];
      return cu;
    }

    /** Adds {@link #cu}, shifted by the rows', the columns' and {@code inner}'s exponents. */
    void add(int inner) {
      untouched = false;
      Unpack.parallel(BANDS, (long) byOwner.length * mp, b -> {
        for (int u = bandStart[b]; u < bandStart[b + 1]; u++) {
          int r = byOwner[u];
          addRow(cu, r * mp, r, rowShift[r] + inner);
        }
      });
    }

    /**
     * Adds the product of k inner indices, columns lOff.. of A'' (row stride lLd) times rows of
     * B'' from rOff, shifted by {@code inner}, into C: row r of the product is summed in int32
     * (exact: |Σ| <= k·(2^(b-1)-1)^2, k small) and added like a GEMM's row.
     */
    void addProduct(byte[] la, int lOff, int lLd, byte[] rb, int rOff, int k, int inner) {
      untouched = false;
      Unpack.parallel(BANDS, (long) byOwner.length * mp * k, b -> {
        int[] row = new int[mp];
        for (int u = bandStart[b]; u < bandStart[b + 1]; u++) {
          int r = byOwner[u];
          Arrays.fill(row, 0);
          boolean zero = true;
          for (int q = 0; q < k; q++) {
            int x = la[lOff + r * lLd + q];
            if (x == 0) continue;
            zero = false;
            int from = rOff + q * mp;
            for (int e = 0; e < mp; e++) row[e] += x * rb[from + e];
          }
          if (!zero) addRow(row, 0, r, rowShift[r] + inner);
        }
      });
    }

    /** Row r of a product (m' sums in src from {@code from}), shifted by s, into its owner's row of C. */
    private void addRow(int[] src, int from, int r, int s) {
      if (acc != null) {
        addInt(src, from, r, s);
      } else {
        addLong(src, from, r, s);
      }
    }

    /** Into the owner's row of the int32 sums; every shift is below 31 by the bound. */
    private void addInt(int[] src, int from, int r, int s) {
      int to = rowOwner[r] * m;
      for (int k = 0; k < plain; k++) acc[to + k] += src[from + k] << s;
      for (int k = plain; k < mp; k++) acc[to + colOwner[k]] += src[from + k] << (s + colShift[k]);
    }

    private void addLong(int[] src, int from, int r, int s) {
      int to = rowOwner[r] * m;
      if (s < 64) {
        for (int k = 0; k < plain; k++) c[to + k] += (long) src[from + k] << s;
      }
      for (int k = plain; k < mp; k++) {
        int t = s + colShift[k];
        if (t < 64) c[to + colOwner[k]] += (long) src[from + k] << t;
      }
    }

    /** C, widened from the int32 sums where they were kept. */
    long[] result() {
      if (acc != null) {
        int band = (c.length + BANDS - 1) / BANDS;
        Unpack.parallel(BANDS, c.length, b -> {
          for (int i = b * band; i < Math.min(c.length, (b + 1) * band); i++) c[i] = acc[i];
        });
      }
      return c;
    }
  }

  /**
   * The unpack ratio {@code n'·d''·m' / (n·d·m)} of {@code strategy}, without running a GEMM: for
   * ROW and COLUMN from the digit counts of each line alone, for BOTH by running the greedy
   * unpacking. 1 for an empty product.
   */
  public static double ratio(IntMatrix a, IntMatrix b, Strategy strategy, int bits) {
    checkShapes(a, b);
    Unpack.checkBits(bits);
    double orig = (double) a.rows() * a.cols() * b.cols();
    if (orig == 0) return 1;
    return switch (strategy) {
      case ROW -> (double) sum(Unpack.lineLevels(a, bits, true)) * a.cols() * sum(Unpack.lineLevels(b, bits, false)) / orig;
      case COLUMN -> {
        int[] la = Unpack.lineLevels(a, bits, false);
        int[] lb = Unpack.lineLevels(b, bits, true);
        long inner = 0;
        for (int j = 0; j < la.length; j++) inner += (long) la[j] * lb[j];
        yield (double) a.rows() * inner * b.cols() / orig;
      }
      case BOTH -> unpack(a, b, Strategy.BOTH, bits).ratio();
    };
  }

  /** The unpack ratio of every strategy, in {@link Strategy}'s order. */
  public static Map<Strategy, Double> ratios(IntMatrix a, IntMatrix b, int bits) {
    Map<Strategy, Double> r = new EnumMap<>(Strategy.class);
    for (Strategy s : Strategy.values()) r.put(s, ratio(a, b, s, bits));
    return r;
  }

  /**
   * The strategy with the smallest unpack ratio; on equal ratios the first in {@link Strategy}'s
   * order (COLUMN, ROW, BOTH).
   */
  public static Strategy choose(IntMatrix a, IntMatrix b, int bits) {
    return cheapest(ratios(a, b, bits));
  }

  /**
   * The strategy of the smallest ratio in {@code ratios}, the first in {@link Strategy}'s order on
   * equal ones; strategies missing or NaN (not measured) are passed over. Null when none is left.
   */
  public static Strategy cheapest(Map<Strategy, Double> ratios) {
    Strategy best = null;
    for (Strategy s : Strategy.values()) {
      Double r = ratios.get(s);
      if (r != null && !r.isNaN() && (best == null || r < ratios.get(best))) best = s;
    }
    return best;
  }

  /**
   * The product unpacked with {@link #choose}'s strategy, BOTH's greedy unpacking run once: its
   * ratio is that of the product it makes, which is returned when it is the cheapest.
   */
  public static UnpackedProduct unpackCheapest(IntMatrix a, IntMatrix b, int bits) {
    UnpackedProduct both = unpack(a, b, Strategy.BOTH, bits);
    Map<Strategy, Double> r = new EnumMap<>(Strategy.class);
    r.put(Strategy.COLUMN, ratio(a, b, Strategy.COLUMN, bits));
    r.put(Strategy.ROW, ratio(a, b, Strategy.ROW, bits));
    r.put(Strategy.BOTH, both.ratio());
    Strategy s = cheapest(r);
    return s == Strategy.BOTH ? both : unpack(a, b, s, bits);
  }

  private static long sum(int[] x) {
    long s = 0;
    for (int v : x) s += v;
    return s;
  }

  private static void checkShapes(IntMatrix a, IntMatrix b) {
    if (a.cols() != b.rows()) {
      throw new IllegalArgumentException("A is " + a.rows() + "x" + a.cols() + " and B is " + b.rows() + "x"
          + b.cols() + "; A's columns must equal B's rows");
    }
  }
}
