package dev.lowbit.kernel;

/**
 * Integer GEMM with bounded int32 accumulation chains spilled into an fp32 output, after the
 * INT16 kernels of Das et al., "Mixed Precision Training of Convolutional Neural Networks using
 * Integer Operations", ICLR 2018 (spec training-numerics §1.3–1.4): for every output, the products
 * of op(A)·op(B) along k are summed in an int32 register over chains of at most {@code chain}
 * consecutive k (k ascending within a chain); each chain's result is spilled as {@code v =
 * (float) (acc · s_ij)} (one rounding from the exact double product; {@code s_ij = scale ·
 * rowScale[i] · colScale[j]} in double, a power of two for DFP) and added into the fp32 output,
 * chains ascending. The output starts from C when {@code accumulate}, otherwise from the first
 * spill (k = 0 gives +0).
 *
 * <p>The int32 register wraps ({@link Accumulator.OverflowMode#WRAP}: two's complement, so only
 * the chain's exact sum matters) or saturates after every addition ({@link
 * Accumulator.OverflowMode#SATURATE}, k ascending). One overflow event is counted per chain whose
 * exact sum leaves int32 (wrap) or in which some addition was clamped (saturate).
 *
 * <p>{@link #reference} is the plain definition; {@link #gemmS16} and {@link #gemmS8} run each
 * chain on {@link Kernels#gemm()} and are held to it bit for bit by tests.
 */
public final class ChainedIntGemm {

  private ChainedIntGemm() {}

  /** A chain limit meaning "one chain over all of k". */
  public static final int UNBOUNDED = Integer.MAX_VALUE;

  /** Per-thread int32 chain results and saturation-check buffers, reused across calls. */
  private static final class Scratch {
    int[] acc = new int[0];
    short[] absA = new short[0];
    short[] absB = new short[0];
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private static void check(int chain, int m, int n, int k, float[] rowScale, float[] colScale) {
    ScalarGemm.checkShape(m, n, k);
    if (chain < 1) throw new IllegalArgumentException("chain length " + chain + " is invalid; use >= 1");
    if (rowScale != null && rowScale.length < m) {
      throw new IllegalArgumentException("rowScale has " + rowScale.length + " entries; need m=" + m);
    }
    if (colScale != null && colScale.length < n) {
      throw new IllegalArgumentException("colScale has " + colScale.length + " entries; need n=" + n);
    }
  }

  /** The plain scalar definition (int16 codes; int8 codes widen exactly). Returns the overflow events. */
  public static long reference(Accumulator.OverflowMode mode, int chain, boolean transA, boolean transB,
      int m, int n, int k, short[] a, int aOff, int lda, short[] b, int bOff, int ldb,
      double scale, float[] rowScale, float[] colScale, boolean accumulate, float[] c, int cOff, int ldc) {
    check(chain, m, n, k, rowScale, colScale);
    long events = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double s = rowScale == null ? scale : scale * rowScale[i];
        if (colScale != null) s *= colScale[j];
        float out = accumulate ? c[cOff + i * ldc + j] : 0f;
        boolean first = !accumulate;
        for (int k0 = 0; k0 < k; k0 += Math.min(chain, k - k0)) {
          int k1 = k0 + Math.min(chain, k - k0);
          long exact = 0;
          int acc = 0;
          boolean clamped = false;
          for (int p = k0; p < k1; p++) {
            int av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
            int bv = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
            int prod = av * bv; // |prod| <= 2^30: exact in int
            exact += prod;
            if (mode == Accumulator.OverflowMode.WRAP) {
              acc += prod;
            } else {
              long t = (long) acc + prod;
              if (t > Integer.MAX_VALUE || t < Integer.MIN_VALUE) {
                clamped = true;
                t = t > 0 ? Integer.MAX_VALUE : Integer.MIN_VALUE;
              }
              acc = (int) t;
            }
          }
          if (mode == Accumulator.OverflowMode.WRAP ? exact != (int) exact : clamped) events++;
          float v = (float) (acc * s);
          out = first ? v : out + v;
          first = false;
        }
        c[cOff + i * ldc + j] = k == 0 && !accumulate ? 0f : out;
      }
    }
    return events;
  }

  /**
   * Checks the arguments and handles a product with nothing to sum (m, n or k of 0: C is left, or
   * zeroed when not accumulating); true when that was all there was to do.
   */
  private static boolean trivial(int chain, int m, int n, int k, float[] rowScale, float[] colScale,
      boolean accumulate, float[] c, int cOff, int ldc) {
    check(chain, m, n, k, rowScale, colScale);
    if (m == 0 || n == 0) return true;
    if (k > 0) return false;
    if (!accumulate) for (int i = 0; i < m; i++) java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
    return true;
  }

  /** The fast path for int16 codes; same contract and bits as {@link #reference}. */
  public static long gemmS16(Accumulator.OverflowMode mode, int chain, boolean transA, boolean transB,
      int m, int n, int k, short[] a, int aOff, int lda, short[] b, int bOff, int ldb,
      double scale, float[] rowScale, float[] colScale, boolean accumulate, float[] c, int cOff, int ldc) {
    if (trivial(chain, m, n, k, rowScale, colScale, accumulate, c, cOff, ldc)) return 0;
    Scratch s = SCRATCH.get();
    if (s.acc.length < m * n) s.acc = new int[m * n];
    int[] acc = s.acc;
    Gemm g = Kernels.gemm();
    if (g.copiesOperands()) {
      // chain by chain: a native call (and operand copy) per chain costs more than the Java int16
      // kernel saves (98 chains of 64×288 in the CNN's backward-weight product)
      g = Kernels.javaGemm();
    }
    long events = 0;
    for (int k0 = 0; k0 < k; k0 += Math.min(chain, k - k0)) {
      int len = Math.min(chain, k - k0);
      int ao = aOff + (transA ? k0 * lda : k0), bo = bOff + (transB ? k0 : k0 * ldb);
      long over = g.gemmS16(transA, transB, m, n, len, a, ao, lda, b, bo, ldb, acc, 0, n, true);
      if (mode == Accumulator.OverflowMode.WRAP) {
        events += over;
      } else if (mayClamp(s, transA, transB, m, n, len, a, ao, lda, b, bo, ldb)) {
        // some output's running sum may leave int32: this chain by the definition
        events += saturatedChain(transA, transB, m, n, len, a, ao, lda, b, bo, ldb, acc);
      }
      spill(m, n, acc, scale, rowScale, colScale, accumulate || k0 > 0, c, cOff, ldc);
    }
    return events;
  }

  /** The fast path for int8 codes; same bits as {@link #reference} on the widened codes. */
  public static long gemmS8(Accumulator.OverflowMode mode, int chain, boolean transA, boolean transB,
      int m, int n, int k, byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb,
      double scale, float[] rowScale, float[] colScale, boolean accumulate, float[] c, int cOff, int ldc) {
    if (trivial(chain, m, n, k, rowScale, colScale, accumulate, c, cOff, ldc)) return 0;
    // |a·b| <= 2^14, so a chain of at most 2^17 - 1 products can neither wrap nor clamp
    if (Math.min(chain, k) >= (1 << 17) - 1) {
      short[] wa = widen(a), wb = widen(b);
      return gemmS16(mode, chain, transA, transB, m, n, k, wa, aOff, lda, wb, bOff, ldb, scale, rowScale,
          colScale, accumulate, c, cOff, ldc);
    }
    Scratch s = SCRATCH.get();
    if (s.acc.length < m * n) s.acc = new int[m * n];
    int[] acc = s.acc;
    for (int k0 = 0; k0 < k; k0 += Math.min(chain, k - k0)) {
      int len = Math.min(chain, k - k0);
      int ao = aOff + (transA ? k0 * lda : k0), bo = bOff + (transB ? k0 : k0 * ldb);
      // small products stay on the Java int8 kernel under a native backend (lowbit.int8.minNativeMacs):
      // training's int8 products get new operands every call, and a native call's copies, weight
      // reorder and thread wake-up cost more than the product; the sums are exact either way
      Gemm g = (long) m * n * len < Kernels.int8MinNativeMacs() ? Kernels.javaGemm() : Kernels.gemm();
      g.gemmS8S8(transA, transB, m, n, len, a, ao, lda, b, bo, ldb, acc, 0, n);
      spill(m, n, acc, scale, rowScale, colScale, accumulate || k0 > 0, c, cOff, ldc);
    }
    return 0;
  }

  private static short[] widen(byte[] x) {
    short[] w = new short[x.length];
    for (int i = 0; i < x.length; i++) w[i] = x[i];
    return w;
  }

  /** c (+)= (float) (acc · s_ij); auto-vectorized by C2 for one scale. */
  private static void spill(int m, int n, int[] acc, double scale, float[] rowScale, float[] colScale,
      boolean add, float[] c, int cOff, int ldc) {
    Parallel.forRange(m, n, (i0, i1) -> spillRows(i0, i1, n, acc, scale, rowScale, colScale, add, c, cOff, ldc));
  }

  private static void spillRows(int i0, int i1, int n, int[] acc, double scale, float[] rowScale, float[] colScale,
      boolean add, float[] c, int cOff, int ldc) {
    for (int i = i0; i < i1; i++) {
      double rs = rowScale == null ? scale : scale * rowScale[i];
      int ci = cOff + i * ldc, ai = i * n;
      if (colScale == null) {
        if (add) {
          for (int j = 0; j < n; j++) c[ci + j] += (float) (acc[ai + j] * rs);
        } else {
          for (int j = 0; j < n; j++) c[ci + j] = (float) (acc[ai + j] * rs);
        }
      } else {
        for (int j = 0; j < n; j++) {
          float v = (float) (acc[ai + j] * (rs * colScale[j]));
          c[ci + j] = add ? c[ci + j] + v : v;
        }
      }
    }
  }

  /**
   * False when no running sum of this chain can leave int32 for any output: the GEMM of |A|·|B|
   * (|code| <= 32767 fits int16) has no result outside int32, and every partial sum is bounded by
   * its output's Σ|a||b|. True when that cannot be shown.
   */
  private static boolean mayClamp(Scratch s, boolean transA, boolean transB, int m, int n, int len,
      short[] a, int ao, int lda, short[] b, int bo, int ldb) {
    int aRows = transA ? len : m, aCols = transA ? m : len, bRows = transB ? n : len, bCols = transB ? len : n;
    if (s.absA.length < aRows * aCols) s.absA = new short[aRows * aCols];
    if (s.absB.length < bRows * bCols) s.absB = new short[bRows * bCols];
    if (!abs(a, ao, lda, aRows, aCols, s.absA) || !abs(b, bo, ldb, bRows, bCols, s.absB)) return true;
    int[] t = new int[m * n];
    return Kernels.gemm().gemmS16(transA, transB, m, n, len, s.absA, 0, aCols, s.absB, 0, bCols, t, 0, n, true) > 0;
  }

  private static boolean abs(short[] x, int off, int ld, int rows, int cols, short[] dst) {
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        short v = x[off + r * ld + c];
        if (v == Short.MIN_VALUE) return false;
        dst[r * cols + c] = (short) Math.abs(v);
      }
    }
    return true;
  }

  /** One chain with per-addition saturation, k ascending, into acc; returns the chains that clamped. */
  private static long saturatedChain(boolean transA, boolean transB, int m, int n, int len,
      short[] a, int ao, int lda, short[] b, int bo, int ldb, int[] acc) {
    long events = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        int sum = 0;
        boolean clamped = false;
        for (int p = 0; p < len; p++) {
          int av = transA ? a[ao + p * lda + i] : a[ao + i * lda + p];
          int bv = transB ? b[bo + j * ldb + p] : b[bo + p * ldb + j];
          long t = (long) sum + av * bv;
          if (t > Integer.MAX_VALUE || t < Integer.MIN_VALUE) {
            clamped = true;
            t = t > 0 ? Integer.MAX_VALUE : Integer.MIN_VALUE;
          }
          sum = (int) t;
        }
        if (clamped) events++;
        acc[i * n + j] = sum;
      }
    }
    return events;
  }
}
