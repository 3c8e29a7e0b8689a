package dev.lowbit.unpack;

import dev.lowbit.format.Percentile;

/**
 * Round-to-nearest quantization with a percentile scale and no clipping, as IM-Unpack quantizes
 * every GEMM operand (Zeng, Sankaralingam, Singh, ICML 2024). Per tensor: {@code alpha} is the
 * β-quantile of |x|, taken as the k-th largest |x| with {@code k = max(floor(numel·(1-β)), 1)};
 * when that is below 1e-20 (mostly zeros) it is taken over the non-zero entries instead, and it is
 * at least 1e-20. The scale is {@code s = (D/2) / alpha} for D distinct values ({@code 2^b - 1}
 * matches a signed b-bit grid) and {@code code = rint(x·s)}, half to even, so at β = 1 the largest
 * entry lands exactly on the tie {@code D/2} and rounds to {@code 2^(b-1)}, a heavy hitter.
 */
public final class Rtn {

  /** The most distinct values: x·D/2 is exact in double for float x up to here. */
  static final int MAX_DISTINCT = 1 << 24;

  private Rtn() {}

  /**
   * Quantizes {@code x} with percentile {@code beta} in (0, 1] and {@code distinct} values
   * (1..2^24).
   *
   * @throws IllegalArgumentException for a NaN or infinite entry (naming its index and value), a
   *     bad β or D, or a code beyond int32
   */
  public static RtnCodes quantize(float[] x, double beta, int distinct) {
    if (distinct < 1 || distinct > MAX_DISTINCT) {
      throw new IllegalArgumentException("distinct values D = " + distinct + "; valid: 1.." + MAX_DISTINCT);
    }
    double alpha = alpha(x, beta);
    double half = distinct / 2.0;
    int[] q = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      // x·D/2 is exact and the quotient rounds once: the real x·s rounded to double, ties kept exact.
      double c = Math.rint(x[i] * half / alpha);
      if (c > Integer.MAX_VALUE || c < Integer.MIN_VALUE) {
        throw new IllegalArgumentException("entry " + i + " = " + x[i] + " quantizes to " + c
            + " with alpha " + alpha + ", beyond int32");
      }
      q[i] = (int) c;
    }
    return new RtnCodes(q, half / alpha, alpha);
  }

  /**
   * The percentile alpha of {@link #quantize} ({@link Percentile#alpha}): the k-th largest |x| with
   * the non-zero fallback and the 1e-20 floor.
   *
   * @throws IllegalArgumentException for a NaN or infinite entry or a β outside (0, 1]
   */
  public static double alpha(float[] x, double beta) {
    return Percentile.alpha(x, beta);
  }
}
