package dev.lowbit.kernel;

/**
 * The fully-quantized L1 normalization of Guo et al. (arXiv 2411.10948), in the integer form
 * <b>reconstructed</b> in spec training-numerics §2.5: for a set of N integer codes q (one common
 * scale, which cancels),
 *
 * <pre>
 *   S = Σ q        D_i = N·q_i − S        A = Σ |D_i|
 *   y_i = round( (N·D_i · 2^f) / A )      (Q.f fixed point; A = 0 gives 0)
 * </pre>
 *
 * which is (q_i − mean)/mean|q − mean| with no square, no square root and one integer division
 * per element; rounding is to nearest, ties away from zero. ε, the optional c = sqrt(π/2) and the
 * affine γ, β are applied afterwards as fixed-point multipliers (not here). Everything is exact
 * in {@code long} while 2·N²·max|q|·2^f &lt; 2^62 (e.g. N ≤ 4096 with int16 codes and f ≤ 16);
 * larger sets are refused.
 */
public final class IntL1Norm {

  private IntL1Norm() {}

  /**
   * Normalizes each of {@code rows} contiguous sets of {@code n} codes in {@code q} into Q.f
   * outputs {@code out} (same layout).
   *
   * @throws IllegalArgumentException for sizes or f out of range
   */
  public static void normalizeRows(int[] q, int rows, int n, int f, int[] out) {
    if (rows < 0 || n < 1 || (long) rows * n > q.length || out.length < (long) rows * n) {
      throw new IllegalArgumentException("IntL1Norm: " + rows + " sets of " + n + " codes do not fit arrays of "
          + q.length + " / " + out.length);
    }
    if (f < 0 || f > 16) throw new IllegalArgumentException("IntL1Norm: fraction bits " + f + " must be in 0..16");
    for (int r = 0; r < rows; r++) {
      int o = r * n;
      long s = 0, mx = 0;
      for (int j = 0; j < n; j++) {
        s += q[o + j];
        mx = Math.max(mx, Math.abs((long) q[o + j]));
      }
      if (63 - Long.numberOfLeadingZeros(Math.max(1, mx)) + 1 + 2 * (64 - Long.numberOfLeadingZeros(n)) + 1 + f >= 62) {
        throw new IllegalArgumentException("IntL1Norm: a set of " + n + " codes up to " + mx + " with " + f
            + " fraction bits could overflow 64-bit sums; use smaller sets or fewer fraction bits");
      }
      long a = 0;
      for (int j = 0; j < n; j++) a += Math.abs(n * (long) q[o + j] - s);
      for (int j = 0; j < n; j++) {
        long d = n * (long) q[o + j] - s;
        out[o + j] = a == 0 ? 0 : (int) roundDiv((n * d) << f, a);
      }
    }
  }

  /** p / a rounded to nearest, ties away from zero, for a > 0. */
  static long roundDiv(long p, long a) {
    long m = Math.abs(p);
    long r = (2 * m + a) / (2 * a);
    return p < 0 ? -r : r;
  }
}
