package dev.lowbit.kernel.intonly;

/**
 * I-LayerNorm of I-ViT (Li &amp; Gu, ICCV 2023): the row's standard deviation from an integer square
 * root of the sum of squares, the division by it through one integer reciprocal. The output z + b
 * approximates (x − mean)/std·2^30/√dim + β/γ; its per-channel real scale √dim/2^30·γ_c is the
 * next rescale's business.
 */
public final class IntLayerNorm {

  private IntLayerNorm() {}

  /**
   * The mean of x[off .. off+len) rounded to the nearest integer, halves up: floorDiv(2Σx + len,
   * 2·len) (the released code rounds a float mean half-even; this differs only on exact halves).
   */
  public static long mean(int[] x, int off, int len) {
    if (len < 1) throw new IllegalArgumentException("a row must not be empty, got length " + len);
    long sum = 0;
    for (int i = 0; i < len; i++) sum += x[off + i];
    return Math.floorDiv(2 * sum + len, 2L * len);
  }

  /**
   * floor(√v), exact, by Newton's iteration σ' = floorDiv(σ + floorDiv(v, σ), 2) started at σ0 =
   * 2^ceil(bitlen(v)/2) ≥ √v and stopped when an iterate no longer decreases (the paper's start
   * from the bit length; from above, the iterates fall monotonically to the root).
   */
  public static long isqrt(long v) {
    if (v < 0) throw new IllegalArgumentException("isqrt of a negative number: " + v);
    if (v == 0) return 0;
    int bits = 64 - Long.numberOfLeadingZeros(v);
    long s = 1L << ((bits + 1) / 2);
    while (true) {
      long next = (s + v / s) / 2;
      if (next >= s) return s;
      s = next;
    }
  }

  /**
   * The released code's square root: start at 2^16, exactly 10 Newton iterations, no convergence
   * test. Wrong for small v (11300 gives 113, not 106); kept to test that schedule.
   */
  public static long referenceIsqrt(long v) {
    if (v < 0) throw new IllegalArgumentException("isqrt of a negative number: " + v);
    long s = 1L << 16;
    for (int i = 0; i < 10; i++) s = Math.floorDiv(s + Math.floorDiv(v, s), 2);
    return s;
  }

  /**
   * I-LayerNorm of the row x[off .. off+dim) into out[outOff ..): μ = {@link #mean}, y = x − μ, V
   * = Σy² (long, exact or an ArithmeticException), σ = max(isqrt(V), 1) (a constant row has V = 0), F = floorDiv(2^31 − 1, σ), z =
   * floorDiv(y·F, 2), out = z + bias[c]. Since |y| ≤ σ, |z| &lt; 2^30; the sum with the bias is
   * clamped to int32.
   */
  public static void row(int[] x, int off, int dim, int[] bias, int[] out, int outOff) {
    if (bias.length != dim) throw new IllegalArgumentException("layer norm: " + bias.length + " biases for dim " + dim);
    long mu = mean(x, off, dim);
    long v = 0;
    for (int i = 0; i < dim; i++) {
      long y = x[off + i] - mu;
      v = Math.addExact(v, Math.multiplyExact(y, y));
    }
    long f = Math.floorDiv((long) Integer.MAX_VALUE, Math.max(isqrt(v), 1));
    for (int i = 0; i < dim; i++) {
      long z = Math.floorDiv((x[off + i] - mu) * f, 2);
      out[outOff + i] = Dyadic.clamp(z + bias[i], Integer.MIN_VALUE, Integer.MAX_VALUE);
    }
  }
}
