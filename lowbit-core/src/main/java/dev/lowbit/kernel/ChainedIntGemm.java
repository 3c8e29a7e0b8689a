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

  /**
   * Whether int16 chains run as four int8 GEMMs on a native int8 backend ({@code
   * -Dlowbit.dfp.split=true}); off by default: on the MLP's shapes the sixteen native calls per
   * product cost more than the Java int16 kernel saves (BENCHMARKS.md, training section).
   */
  static final boolean SPLIT = Boolean.getBoolean("lowbit.dfp.split");

  /**
   * Whether wrapping chains of codes within [-16448, 16319] (DFP16 with headroom) run as one
   * native int8 GEMM per chain on stacked 7-bit digits ({@link DigitChains}) when the product has
   * at most two chains ({@code -Dlowbit.dfp.digits=true}). Off by default, and without it every
   * int16 chain runs on the Java kernel even under a native backend: since the Java packing and
   * pooling got faster, dfp16 trains faster on Java than with native calls per chain, digits or
   * not (dfp16 training, CNN 1,214 vs 858 samples/s, MLP 33.8k vs 21.6k in the second epoch;
   * BENCHMARKS.md).
   */
  static final boolean DIGITS = Boolean.getBoolean("lowbit.dfp.digits");

  /** Products (m·n·k) below this stay on the int16 kernel: the native call would be declined. */
  static final long DIGITS_MIN_MACS = 1L << 16;

  /**
   * Reductions this short (a first convolution's 3×3×1 window) run on the Java int16 kernel even
   * when a native backend is installed: measured 2× faster for m=32, n=100352, k=9 (BENCHMARKS.md).
   */
  static final int SHORT_K = 16;

  /**
   * Products (multiply-adds per call) below which {@link #gemmS8} runs on the Java int8 kernel even
   * under a native backend ({@code -Dlowbit.int8.minNativeMacs=N}; default 2^26): a training
   * step's int8 products get new operands every call, and a oneDNN call's copies, weight reorder
   * and thread wake-up cost more than the product at the MLP's sizes (128×256×784: int8 1.09–1.20×
   * fp32 per epoch on the Java kernel against 1.18–1.69× native, five paired sweeps; BENCHMARKS.md).
   * The sums are exact either way.
   */
  static final long MIN_NATIVE_MACS_S8 = Long.getLong("lowbit.int8.minNativeMacs", 1L << 26);

  /** A chain limit meaning "one chain over all of k". */
  public static final int UNBOUNDED = Integer.MAX_VALUE;

  /** Per-thread int32 chain results and saturation-check buffers, reused across calls. */
  private static final class Scratch {
    int[] acc = new int[0];
    short[] absA = new short[0];
    short[] absB = new short[0];
    byte[] aH = new byte[0], aL = new byte[0], bH = new byte[0], bL = new byte[0];
    int[] hh = new int[0], hl = new int[0], lh = new int[0];
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
    boolean nativeInt8 = g.name().startsWith("onednn");
    if (DIGITS && nativeInt8 && k > SHORT_K && mode == Accumulator.OverflowMode.WRAP && (long) k <= 2L * chain
        && Math.min(chain, k) < (1 << 16) && (long) m * n * k >= DIGITS_MIN_MACS) { // few chains: a native call per chain
      long ev = DigitChains.gemm(g, chain, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, scale, rowScale,
          colScale, accumulate, c, cOff, ldc);
      if (ev >= 0) return ev;
    }
    if (SPLIT && mode == Accumulator.OverflowMode.WRAP && Math.min(chain, k) < (1 << 16) && g.name().startsWith("onednn")) {
      long ev = split(s, g, chain, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, scale, rowScale, colScale,
          accumulate, c, cOff, ldc);
      if (ev >= 0) return ev;
    }
    if (nativeInt8) {
      // chain by chain: a native call (and operand copy) per chain costs more than the Java int16
      // kernel saves (see DIGITS; 98 chains of 64×288 in the CNN's backward-weight product)
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

  /** {@link DigitChains} on a given int8 kernel (tests hold it to the reference on the Java kernels). */
  static long gemmS16Digits(Gemm g, int tileInts, int chain, boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb,
      double scale, float[] rowScale, float[] colScale, boolean accumulate, float[] c, int cOff, int ldc) {
    check(chain, m, n, k, rowScale, colScale);
    return DigitChains.gemm(g, tileInts, chain, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, scale, rowScale,
        colScale, accumulate, c, cOff, ldc);
  }

  /** {@link #split} on a given int8 kernel (tests hold it to the reference on the Java kernels). */
  static long gemmS16Split(Gemm g, int chain, boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb,
      double scale, float[] rowScale, float[] colScale, boolean accumulate, float[] c, int cOff, int ldc) {
    check(chain, m, n, k, rowScale, colScale);
    Scratch s = SCRATCH.get();
    if (s.acc.length < m * n) s.acc = new int[m * n];
    return split(s, g, chain, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, scale, rowScale, colScale,
        accumulate, c, cOff, ldc);
  }

  /**
   * Wrapping chains as four exact int8 GEMMs on a native int8 kernel: a = aH·256 + aL (aH signed,
   * aL unsigned byte), b = bH·256 + bL (both signed bytes, needs |b| <= 32639), so a·b = aH·bH·2^16
   * + (aH·bL + aL·bH)·2^8 + aL·bL; every partial chain sum stays inside int32 for chains below
   * 2^16 products, and the exact chain sum is recombined in long. Returns -1 (nothing written)
   * when B holds a code the split cannot take.
   */
  private static long split(Scratch s, Gemm g, int chain, boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb,
      double scale, float[] rowScale, float[] colScale, boolean accumulate, float[] c, int cOff, int ldc) {
    int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
    if (s.bH.length < bRows * bCols) {
      s.bH = new byte[bRows * bCols];
      s.bL = new byte[bRows * bCols];
    }
    for (int r = 0; r < bRows; r++) {
      int src = bOff + r * ldb, d = r * bCols;
      for (int j = 0; j < bCols; j++) {
        int v = b[src + j];
        if (v > 32639 || v < -32767) return -1;
        byte lo = (byte) v;
        s.bL[d + j] = lo;
        s.bH[d + j] = (byte) ((v - lo) >> 8);
      }
    }
    if (s.aH.length < aRows * aCols) {
      s.aH = new byte[aRows * aCols];
      s.aL = new byte[aRows * aCols];
    }
    for (int r = 0; r < aRows; r++) {
      int src = aOff + r * lda, d = r * aCols;
      for (int j = 0; j < aCols; j++) {
        int v = a[src + j];
        s.aH[d + j] = (byte) (v >> 8);
        s.aL[d + j] = (byte) v;
      }
    }
    if (s.hh.length < m * n) {
      s.hh = new int[m * n];
      s.hl = new int[m * n];
      s.lh = new int[m * n];
    }
    int[] acc = s.acc, hh = s.hh, hl = s.hl, lh = s.lh;
    long events = 0;
    for (int k0 = 0; k0 < k; k0 += Math.min(chain, k - k0)) {
      int len = Math.min(chain, k - k0);
      int ao = transA ? k0 * aCols : k0, bo = transB ? k0 : k0 * bCols;
      g.gemmS8S8(transA, transB, m, n, len, s.aH, ao, aCols, s.bH, bo, bCols, hh, 0, n);
      g.gemmS8S8(transA, transB, m, n, len, s.aH, ao, aCols, s.bL, bo, bCols, hl, 0, n);
      g.gemmU8S8(transA, transB, m, n, len, s.aL, ao, aCols, s.bH, bo, bCols, lh, 0, n);
      g.gemmU8S8(transA, transB, m, n, len, s.aL, ao, aCols, s.bL, bo, bCols, acc, 0, n);
      for (int i = 0; i < m * n; i++) {
        long sum = ((long) hh[i] << 16) + ((long) hl[i] + lh[i]) * 256 + acc[i];
        if (sum != (int) sum) events++;
        acc[i] = (int) sum;
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
      Gemm g = (long) m * n * len < MIN_NATIVE_MACS_S8 ? Kernels.javaGemm() : Kernels.gemm();
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
