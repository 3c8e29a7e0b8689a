package dev.lowbit.kernel;

/**
 * The float-side arithmetic of integer-only inference (I-ViT, Li &amp; Gu, ICCV 2023): turning real
 * scales into the integer constants an integer program carries. The integer kernels ({@code
 * dev.lowbit.kernel.intonly}) stay free of floats; this class is where the compiler does its
 * float work once, ahead of time.
 */
public final class IntOnlyConstants {

  private IntOnlyConstants() {}

  /** A dyadic number m/2^k: the multiplier m and the right shift k of a requantization. */
  public record Dyadic(int m, int k) {
    /** The real value m/2^k. */
    public double value() {
      return m * Math.scalb(1.0, -k);
    }
  }

  /**
   * The dyadic approximation of a positive ratio r = S_in/S_out: (f, e) = frexp(r) with f in
   * [0.5, 1), m = round-half-up(f·2^31), k = 31 − e; an m that rounds up to 2^31 becomes 2^30 with
   * k − 1, so m fits an int.
   *
   * @throws IllegalArgumentException for r ≤ 0, NaN or infinite, or an r whose k is outside 0..62
   */
  public static Dyadic dyadic(double r) {
    if (!(r > 0) || Double.isInfinite(r)) {
      throw new IllegalArgumentException("dyadic ratio must be positive and finite, got " + r);
    }
    int e = Math.getExponent(r) + 1; // r = f·2^e, f in [0.5, 1); subnormals are far outside the k range
    double f = Math.scalb(r, -e);
    long m = (long) Math.floor(f * (1L << 31) + 0.5);
    int k = 31 - e;
    if (m == 1L << 31) {
      m = 1L << 30;
      k--;
    }
    if (k < 0 || k > 62) {
      throw new IllegalArgumentException("dyadic ratio " + r + " needs a shift of " + k + ", outside 0..62");
    }
    return new Dyadic((int) m, k);
  }

  /**
   * Shiftmax's and ShiftGELU's x0 = floor(−1/S) for the input scale S: the integer whose value is
   * about −1 (for ShiftGELU pass S' = 1.702·S).
   *
   * @throws IllegalArgumentException for S ≤ 0, NaN, infinite, or so small that x0 is not an int
   */
  public static int shiftX0(double scale) {
    if (!(scale > 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("shift exponent scale must be positive and finite, got " + scale);
    }
    double x0 = Math.floor(-1 / scale);
    if (x0 < Integer.MIN_VALUE) throw new IllegalArgumentException("scale " + scale + " gives x0 " + x0 + ", not an int");
    return (int) x0;
  }

  /** ShiftGELU's x0 = floor(−1/(1.702·S)) for its input scale S (σ(1.702x) approximates GELU). */
  public static int geluX0(double scale) {
    return shiftX0(1.702 * scale);
  }

  /** The scale of I-LayerNorm's normalized output z: √C/2^30 (z·S_ln ≈ (x − mean)/std). */
  public static double layerNormScale(int dim) {
    if (dim <= 0) throw new IllegalArgumentException("layer norm width must be positive, got " + dim);
    return Math.sqrt(dim) / (1 << 30);
  }

  /**
   * I-LayerNorm's integer bias for one channel, floor((β/γ)/S_ln) with S_ln = √C/2^30, clamped to
   * ±2^30 so that z + b (|z| ≤ 2^30) stays an int.
   *
   * @throws IllegalArgumentException for γ = 0 or a non-finite γ or β
   */
  public static int layerNormBias(double beta, double gamma, int dim) {
    if (gamma == 0 || !Double.isFinite(gamma) || !Double.isFinite(beta)) {
      throw new IllegalArgumentException("layer norm bias needs a finite non-zero γ and a finite β, got γ = " + gamma
          + ", β = " + beta);
    }
    double b = Math.floor(beta / gamma / layerNormScale(dim));
    return (int) Math.max(-(double) (1 << 30), Math.min(1 << 30, b));
  }
}
