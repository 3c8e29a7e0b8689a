package dev.lowbit.kernel;

/**
 * Reference requantizing int8 linear layer, the operation of a static quantized linear
 * (PyTorch's {@code quantized.linear}, oneDNN's int8 matmul with scales and zero points): u8
 * activations with a zero point times s8 weights, requantized to u8 or s8. For each C[i, j]:
 *
 * <ol>
 *   <li>{@code acc = Σ_p (A[i, p] − aZeroPoint) · B[p, j]}, exact in int32 (wraps, like
 *       {@link ScalarGemm}, only beyond k = 2³¹⁻¹ / (255·128));
 *   <li>{@code y = (float) acc * scale[j]} — int to float rounds to nearest even (exact below 2²⁴),
 *       then one fp32 multiply, nearest even; {@code scale} has one entry (per tensor) or n (per
 *       column). It is the whole output multiplier, i.e. s_A · s_B[j] / s_C;
 *   <li>{@code y = y + (float) outZeroPoint}, one fp32 add, nearest even;
 *   <li>clamp y to [0, 255] (u8) or [−128, 127] (s8) and round to the nearest integer, ties to
 *       even (the order of clamp and round does not matter: the bounds are integers).
 * </ol>
 *
 * This is the order oneDNN's int8 matmul epilogue uses when the multiplier is given as the weight
 * scale (s32 accumulator with zero-point compensation, cvtdq2ps, multiply, add the destination
 * zero point in fp32, saturate, cvtps2dq); the oneDNN backend is tested bit for bit against it.
 */
public final class QuantizedLinear {

  private QuantizedLinear() {}

  /**
   * C = requantize(op(A) − aZeroPoint) · B) as above; A is m×k u8 (row stride lda), B is k×n s8
   * (row stride ldb, or n×k when {@code transB}), C is m×n u8 or s8 ({@code signedOut}) bytes.
   *
   * @throws IllegalArgumentException for a bad shape, zero point or scale (named in the message)
   */
  public static void linearU8S8(
      int m, int n, int k, byte[] a, int aOff, int lda, int aZeroPoint,
      boolean transB, byte[] b, int bOff, int ldb,
      float[] scale, int outZeroPoint, boolean signedOut, byte[] c, int cOff, int ldc) {
    check(m, n, k, aZeroPoint, scale, outZeroPoint, signedOut);
    int lo = signedOut ? -128 : 0;
    int hi = signedOut ? 127 : 255;
    float zp = outZeroPoint;
    int[] acc = new int[n];
    for (int i = 0; i < m; i++) {
      java.util.Arrays.fill(acc, 0);
      for (int p = 0; p < k; p++) {
        int av = (a[aOff + i * lda + p] & 0xFF) - aZeroPoint;
        if (av == 0) continue;
        for (int j = 0; j < n; j++) {
          acc[j] += av * (transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j]);
        }
      }
      for (int j = 0; j < n; j++) {
        float y = (float) acc[j] * scale[scale.length == 1 ? 0 : j];
        y = y + zp;
        c[cOff + i * ldc + j] = (byte) requantize(y, lo, hi);
      }
    }
  }

  /** Clamp to [lo, hi], then round half to even. */
  static int requantize(float y, int lo, int hi) {
    float clamped = Math.min(Math.max(y, lo), hi);
    return (int) Math.rint(clamped);
  }

  /** The argument checks shared with native implementations of this contract. */
  public static void check(int m, int n, int k, int aZeroPoint, float[] scale, int outZeroPoint,
      boolean signedOut) {
    if (m < 0 || n < 0 || k < 0) {
      throw new IllegalArgumentException(
          "dimensions must be non-negative, got m=" + m + " n=" + n + " k=" + k);
    }
    if (aZeroPoint < 0 || aZeroPoint > 255) {
      throw new IllegalArgumentException("u8 input zero point must be in [0, 255], got " + aZeroPoint);
    }
    int lo = signedOut ? -128 : 0;
    int hi = signedOut ? 127 : 255;
    if (outZeroPoint < lo || outZeroPoint > hi) {
      throw new IllegalArgumentException((signedOut ? "s8" : "u8") + " output zero point must be in ["
          + lo + ", " + hi + "], got " + outZeroPoint);
    }
    if (scale == null || (scale.length != 1 && scale.length != n)) {
      throw new IllegalArgumentException("scale needs 1 entry (per tensor) or n=" + n
          + " (per column), got " + (scale == null ? "null" : scale.length));
    }
    for (int j = 0; j < scale.length; j++) {
      if (!Float.isFinite(scale[j])) {
        throw new IllegalArgumentException("scale[" + j + "] must be finite, got " + scale[j]);
      }
    }
  }
}
