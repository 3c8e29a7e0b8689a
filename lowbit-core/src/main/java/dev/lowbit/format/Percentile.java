package dev.lowbit.format;

/**
 * The β-quantile of |x| that IM-Unpack's round-to-nearest quantization scales by (Zeng,
 * Sankaralingam, Singh, ICML 2024): the k-th largest |x| with {@code k = max(floor(numel·(1-β)),
 * 1)}; when that is below 1e-20 (mostly zeros) it is taken over the non-zero entries instead, and
 * it is at least 1e-20. Linear time and constant extra memory: a radix select on the float bits.
 */
public final class Percentile {

  /** Below this the quantile counts as zero. */
  public static final double TINY = 1e-20;

  private Percentile() {}

  /**
   * The percentile alpha of x with the non-zero fallback and the 1e-20 floor.
   *
   * @throws IllegalArgumentException for a NaN or infinite entry (naming its index and value) or a
   *     β outside (0, 1]
   */
  public static double alpha(float[] x, double beta) {
    checkBeta(beta);
    int nonZero = 0;
    for (int i = 0; i < x.length; i++) {
      if (!Float.isFinite(x[i])) {
        throw new IllegalArgumentException("entry " + i + " is " + x[i] + "; RTN quantization needs finite values");
      }
      if (x[i] != 0) nonZero++;
    }
    double a = x.length == 0 ? 0 : kthLargestAbs(x, rank(x.length, beta), false);
    if (a < TINY && nonZero > 0) a = kthLargestAbs(x, rank(nonZero, beta), true);
    return Math.max(a, TINY);
  }

  /** @throws IllegalArgumentException for a β outside (0, 1] */
  public static void checkBeta(double beta) {
    if (!(beta > 0 && beta <= 1)) {
      throw new IllegalArgumentException("percentile beta = " + beta + "; valid: (0, 1]");
    }
  }

  /** {@code max(floor(count·(1-β)), 1)}: which largest |x| is the quantile. */
  public static int rank(int count, double beta) {
    return (int) Math.max(Math.floor(count * (1 - beta)), 1);
  }

  /**
   * The k-th largest |x| (1-based), optionally among non-zero entries only. The bits of a
   * non-negative float order like the float, so the answer is found digit by digit: three passes
   * histogram 11, 10 and 10 bits of the entries that match the digits found so far.
   */
  public static float kthLargestAbs(float[] x, int k, boolean skipZeros) {
    int[] hist = new int[1 << 11];
    int prefix = 0;
    int prefixMask = 0;
    int remaining = k;
    for (int shift : new int[] {20, 10, 0}) {
      int width = shift == 20 ? 11 : 10;
      int digitMask = (1 << width) - 1;
      java.util.Arrays.fill(hist, 0);
      for (float v : x) {
        int b = Float.floatToRawIntBits(v) & 0x7fffffff;
        if ((b & prefixMask) != prefix || (skipZeros && b == 0)) continue;
        hist[(b >>> shift) & digitMask]++;
      }
      int digit = digitMask;
      while (digit > 0 && hist[digit] < remaining) remaining -= hist[digit--];
      prefix |= digit << shift;
      prefixMask |= digitMask << shift;
    }
    return Float.intBitsToFloat(prefix);
  }
}
