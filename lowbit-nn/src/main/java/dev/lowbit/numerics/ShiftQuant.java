package dev.lowbit.numerics;

import dev.lowbit.format.CounterRng;
import dev.lowbit.format.Rounding;
import dev.lowbit.kernel.Parallel;

/**
 * ShiftQuant gradient quantization (Guo et al., arXiv 2411.10948, 2024: sub-8-bit integer
 * training). The paper body could not be read; this is the
 * <b>reconstructed</b> rule of spec training-numerics §2.4, implemented as written there.
 *
 * <p>For a matrix G (rows × cols, row-major) with channels along {@code axis} (1: one channel per
 * column, 0: one per row), b bits and a largest shift K:
 *
 * <pre>
 *   L   = 2^(b-1) - 1          M = max|G|          s0 = M / L
 *   r_c = max |G[., c]|         k_c = largest k in [0, K] with r_c·2^k <= M   (r_c = 0 -> K)
 *   q   = round(G[n,c] · 2^k_c / s0)   in [-L, L]
 *   q'  = q << (K - k_c)               the pre-shifted code, |q'| <= L·2^K
 * </pre>
 *
 * Every channel's step is s0·2^-k_c, a power-of-two fraction of one per-tensor step, so
 * G ≈ q'·(s0·2^-K) with a single scalar: one plain integer GEMM on q' computes the
 * group-quantized product exactly, whichever axis the GEMM reduces over. Codes come in int8 when
 * L·2^K ≤ 127 (b=4, K=4: 112), else in int16.
 *
 * <p>Stochastic rounding draws element i's number from (seed, stream, flat index i) with {@link
 * CounterRng}, so the codes do not depend on thread count. {@link #quantizeReference} is the plain
 * scalar definition; {@link #quantize} (multithreaded, layout-specialised) is held to it bit for
 * bit. Scaling uses the exact multiplier m_c = scalb(L / M, k_c) in double.
 */
public final class ShiftQuant {

  private ShiftQuant() {}

  /**
   * The matrix being quantized: row-major, rows × cols, with its channels along {@code axis} (1:
   * one channel per column, 0: one per row).
   *
   * @throws IllegalArgumentException for a negative size or an axis other than 0 and 1
   */
  public record Layout(int rows, int cols, int axis) {

    public Layout {
      if (rows < 0 || cols < 0) throw new IllegalArgumentException("shape " + rows + "×" + cols + " has a negative size");
      if (axis != 0 && axis != 1) throw new IllegalArgumentException("channel axis " + axis + " must be 0 (rows) or 1 (columns)");
    }

    /** How many channels (shifts) the matrix has. */
    public int channels() {
      return axis == 1 ? cols : rows;
    }

    /** The channel of element i (row-major). */
    public int channel(int i) {
      return axis == 1 ? i % cols : i / cols;
    }
  }

  /**
   * A ShiftQuant-ed matrix: pre-shifted codes (exactly one of {@code codes8} / {@code codes16} is
   * set), the scalar step s0·2^-K and the per-channel shifts k_c (the shift code travels with
   * the tensor: it is part of the format).
   */
  public record Result(Layout layout, int bits, int maxShift, double s0, int[] shifts, byte[] codes8,
      short[] codes16) implements dev.lowbit.tensor.QuantizedTensor.MethodCodes {

    /** The single scale of the pre-shifted codes: s0·2^-K. */
    public double step() {
      return Math.scalb(s0, -maxShift);
    }

    /** The pre-shifted code of element i (row-major). */
    public int code(int i) {
      return codes8 != null ? codes8[i] : codes16[i];
    }

    /** The b-bit code q of element i (q' shifted back by K - k_c; exact). */
    public int baseCode(int i) {
      int c = layout.channel(i);
      return code(i) >> (maxShift - shifts[c]);
    }

    /** The dequantized matrix q'·step (what the integer GEMM multiplies), rounded to float. */
    public float[] dequantize() {
      float[] out = new float[layout.rows() * layout.cols()];
      double st = step();
      for (int i = 0; i < out.length; i++) out[i] = (float) (code(i) * st);
      return out;
    }

    /** True when the codes are int8 (L·2^K ≤ 127). */
    public boolean isInt8() {
      return codes8 != null;
    }
  }

  /** The default largest shift for b bits: 8 - b, so that the pre-shifted codes fit int8. */
  public static int defaultMaxShift(int bits) {
    return Math.max(0, 8 - bits);
  }

  /** floor(log2 a) for a finite a > 0, subnormal doubles included (spec §0.2). */
  public static int floorLog2(double a) {
    if (!(a > 0) || !Double.isFinite(a)) {
      throw new IllegalArgumentException("floorLog2 needs a finite positive value, got " + a);
    }
    if (a < Double.MIN_NORMAL) return Math.getExponent(Math.scalb(a, 64)) - 64;
    return Math.getExponent(a);
  }

  /** k_c of spec §2.4: the largest k in [0, K] with r·2^k ≤ M; r = 0 gives K. */
  public static int shiftFor(double r, double m, int maxShift) {
    if (r == 0) return maxShift;
    int k = floorLog2(m) - floorLog2(r);
    if (Math.scalb(r, k) > m) k--;
    return Math.max(0, Math.min(maxShift, k));
  }

  private static void check(Layout layout, int bits, int maxShift, int length) {
    if ((long) layout.rows() * layout.cols() != length) {
      throw new IllegalArgumentException("shape " + layout.rows() + "×" + layout.cols() + " does not hold " + length + " elements");
    }
    checkParameters(bits, maxShift);
  }

  /**
   * Checks bits (2..8) and the largest shift (0..16, with L·2^K within an int16 container).
   *
   * @throws IllegalArgumentException naming the bad value and what is valid
   */
  public static void checkParameters(int bits, int maxShift) {
    if (bits < 2 || bits > 8) throw new IllegalArgumentException("ShiftQuant bits " + bits + " must be in 2..8");
    if (maxShift < 0 || maxShift > 16) throw new IllegalArgumentException("ShiftQuant max shift " + maxShift + " must be in 0..16");
    long top = ((1L << (bits - 1)) - 1) << maxShift;
    if (top > Short.MAX_VALUE) {
      throw new IllegalArgumentException("ShiftQuant with " + bits + " bits and max shift " + maxShift
          + " needs codes up to " + top + ", more than an int16 container holds; use max shift <= "
          + (15 - (64 - Long.numberOfLeadingZeros((1L << (bits - 1)) - 1))));
    }
  }

  private static void checkFinite(float m) {
    if (!Float.isFinite(m)) {
      throw new IllegalArgumentException("cannot ShiftQuant a matrix holding NaN or infinity (max |G| = " + m + ")");
    }
  }

  /**
   * The plain scalar definition.
   *
   * @throws IllegalArgumentException for a bad shape, axis, bit width or shift, or non-finite input
   */
  public static Result quantizeReference(float[] g, Layout layout, int bits, int maxShift, Rounding rounding,
      long seed, long stream) {
    check(layout, bits, maxShift, g.length);
    int channels = layout.channels();
    float m = 0;
    float[] r = new float[channels];
    boolean nan = false;
    for (int i = 0; i < g.length; i++) {
      float a = Math.abs(g[i]);
      if (a != a) nan = true;
      int c = layout.channel(i);
      if (a > r[c]) r[c] = a;
      if (a > m) m = a;
    }
    if (nan) m = Float.NaN;
    checkFinite(m);
    int lv = (1 << (bits - 1)) - 1;
    int[] k = new int[channels];
    for (int c = 0; c < channels; c++) k[c] = shiftFor(r[c], m, maxShift);
    double inv = m == 0 ? 0 : lv / (double) m;
    long key = CounterRng.key(seed, stream);
    boolean int8 = (lv << maxShift) <= Byte.MAX_VALUE;
    byte[] c8 = int8 ? new byte[g.length] : null;
    short[] c16 = int8 ? null : new short[g.length];
    for (int i = 0; i < g.length; i++) {
      int c = layout.channel(i);
      double y = g[i] * Math.scalb(inv, k[c]);
      double u = rounding.isStochastic() ? CounterRng.uniform(key, i) : 0;
      double q = Math.max(-lv, Math.min(lv, rounding.roundSigned(y, u)));
      int shifted = (int) q << (maxShift - k[c]);
      if (int8) c8[i] = (byte) shifted;
      else c16[i] = (short) shifted;
    }
    return new Result(layout, bits, maxShift, m == 0 ? 1.0 / lv : m / (double) lv, k, c8, c16);
  }

  /** {@link #quantizeReference}, bit for bit, split over row ranges on {@link Parallel}. */
  public static Result quantize(float[] g, Layout layout, int bits, int maxShift, Rounding rounding,
      long seed, long stream) {
    check(layout, bits, maxShift, g.length);
    int rows = layout.rows(), cols = layout.cols(), axis = layout.axis();
    int channels = layout.channels();
    float[] r = new float[channels];
    if (axis == 1) {
      // per-part column maxima, merged afterwards: max is order-free, so the merge is exact
      int parts = (long) rows * cols < Parallel.MIN_WORK ? 1 : Math.max(1, Math.min(Parallel.threads(), rows));
      float[][] pr = new float[parts][cols];
      boolean[] nan = new boolean[parts];
      int per = (rows + parts - 1) / Math.max(1, parts);
      Parallel.forParts(parts, Math.max(parts, 1), (p0, p1) -> {
        for (int p = p0; p < p1; p++) {
          float[] rp = pr[p];
          for (int row = p * per, end = Math.min(rows, (p + 1) * per); row < end; row++) {
            int o = row * cols;
            for (int c = 0; c < cols; c++) {
              float a = Math.abs(g[o + c]);
              rp[c] = Math.max(rp[c], a); // Math.max propagates NaN
            }
          }
          for (float v : rp) if (v != v) nan[p] = true;
        }
      });
      for (int p = 0; p < parts; p++) {
        if (nan[p]) checkFinite(Float.NaN);
        for (int c = 0; c < cols; c++) r[c] = Math.max(r[c], pr[p][c]);
      }
    } else {
      boolean[] nan = new boolean[1];
      Parallel.forRange(rows, cols, (r0, r1) -> {
        for (int row = r0; row < r1; row++) {
          float mx = 0;
          for (int j = row * cols, e = j + cols; j < e; j++) mx = Math.max(mx, Math.abs(g[j]));
          r[row] = mx;
          if (mx != mx) nan[0] = true;
        }
      });
      if (nan[0]) checkFinite(Float.NaN);
    }
    float m = 0;
    for (float v : r) m = Math.max(m, v);
    checkFinite(m);
    int lv = (1 << (bits - 1)) - 1;
    int[] k = new int[channels];
    double inv = m == 0 ? 0 : lv / (double) m;
    double[] mul = new double[channels];
    for (int c = 0; c < channels; c++) {
      k[c] = shiftFor(r[c], m, maxShift);
      mul[c] = Math.scalb(inv, k[c]);
    }
    long key = CounterRng.key(seed, stream);
    boolean sr = rounding.isStochastic();
    boolean int8 = (lv << maxShift) <= Byte.MAX_VALUE;
    byte[] c8 = int8 ? new byte[g.length] : null;
    short[] c16 = int8 ? null : new short[g.length];
    Parallel.forRange(rows, cols, (r0, r1) -> {
      for (int row = r0; row < r1; row++) {
        int o = row * cols;
        for (int j = 0; j < cols; j++) {
          int c = axis == 1 ? j : row;
          int i = o + j;
          double y = g[i] * mul[c];
          double q = sr ? Math.floor(y + CounterRng.uniform(key, i)) : rounding.roundSigned(y, 0);
          q = Math.max(-lv, Math.min(lv, q));
          int shifted = (int) q << (maxShift - k[c]);
          if (int8) c8[i] = (byte) shifted;
          else c16[i] = (short) shifted;
        }
      }
    });
    return new Result(layout, bits, maxShift, m == 0 ? 1.0 / lv : m / (double) lv, k, c8, c16);
  }

  /** Relative mean-squared error Σ(G − Ĝ)² / ΣG² of a dequantized approximation (the spec's error metric). */
  public static double relativeMse(float[] g, float[] approx) {
    if (g.length != approx.length) throw new IllegalArgumentException("lengths differ: " + g.length + " vs " + approx.length);
    double num = 0, den = 0;
    for (int i = 0; i < g.length; i++) {
      double d = (double) g[i] - approx[i];
      num += d * d;
      den += (double) g[i] * g[i];
    }
    return den == 0 ? 0 : num / den;
  }
}
