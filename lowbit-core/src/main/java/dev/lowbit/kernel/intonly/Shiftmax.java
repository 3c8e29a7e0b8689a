package dev.lowbit.kernel.intonly;

/**
 * Shiftmax, the integer softmax of I-ViT (Li &amp; Gu, ICCV 2023), as in the released code: e^x is
 * 2^(x·log2 e) with log2 e ≈ 1 + 1/2 − 1/16, split into an integer power (a shift) and a fraction
 * approximated linearly, then normalised by one integer reciprocal. Input x has scale S, encoded
 * only in x0 = floor(−1/S) (a negative integer); the output has scale 2^−(kOut−1).
 */
public final class Shiftmax {

  private Shiftmax() {}

  /** The reciprocal's width M: F = floorDiv(2^M − 1, T). */
  public static final int M = 31;

  /** 2^31 − 1, the largest int32: the clamp of the sum T and the numerator of F. */
  public static final long INT32_MAX = Integer.MAX_VALUE;

  /**
   * E for one Δ = x − max ≤ 0 (the shared exponential of Shiftmax and ShiftGELU): with p = Δ +
   * (Δ>>1) − (Δ>>4) clamped to ≥ n·x0, q = floorDiv(p, x0) and r = p − x0·q in (x0, 0], E =
   * floor((r/2 − x0)·2^(n−q)), clamped to ≥ 0. Its value is E·S/2^n ≈ e^(Δ·S). The half-integer r/2
   * is exact: (r − 2·x0)·2^(n−q−1) when q &lt; n, floorDiv(r − 2·x0, 2) when q = n.
   */
  public static long exp(long delta, int x0, int n) {
    checkParameters(x0, n);
    if (delta > 0) throw new IllegalArgumentException("Δ must be ≤ 0 (x minus the row's max), got " + delta);
    long p = delta + (delta >> 1) - (delta >> 4);
    p = Math.max(p, (long) n * x0);
    long q = Math.floorDiv(p, (long) x0);
    long r = p - x0 * q;
    long twice = r - 2L * x0; // 2·(r/2 − x0), positive
    long e = q < n ? twice << (n - q - 1) : Math.floorDiv(twice, 2);
    return Math.max(e, 0);
  }

  /** T = min(Σ E, 2^31 − 1), summed so that no partial sum can overflow. */
  public static long total(long[] e, int off, int len) {
    long t = 0;
    for (int i = 0; i < len; i++) t = Math.min(t + e[off + i], INT32_MAX);
    return t;
  }

  /** The reciprocal F = floorDiv(2^31 − 1, T) for T ≥ 1. */
  public static long reciprocal(long t) {
    if (t < 1) throw new IllegalArgumentException("the sum T must be at least 1, got " + t);
    return Math.floorDiv(INT32_MAX, t);
  }

  /**
   * y = (E·F) >> (M − kOut + 1), in 0..2^(kOut−1) − 1. The bound holds by construction when E ≤ T;
   * a row whose sum T saturated can have one E above it, and its y is clamped to the bound.
   */
  public static int normalise(long e, long f, int kOut) {
    return (int) Math.min((e * f) >> (M - kOut + 1), (1L << (kOut - 1)) - 1);
  }

  /**
   * Shiftmax of the row x[off .. off+len) into y[yOff ..), with output scale 2^−(kOut−1).
   *
   * @throws IllegalArgumentException for an empty row or constants out of range (x0 ≥ 0, n outside
   *     0..30, kOut outside 1..31, or x0 and n so large that E overflows a long)
   */
  public static void row(int[] x, int off, int len, int x0, int n, int kOut, int[] y, int yOff) {
    checkRow(len, kOut);
    checkParameters(x0, n);
    int max = Integer.MIN_VALUE;
    for (int i = 0; i < len; i++) max = Math.max(max, x[off + i]);
    long[] e = new long[len];
    for (int i = 0; i < len; i++) e[i] = exp((long) x[off + i] - max, x0, n);
    long f = reciprocal(total(e, 0, len));
    for (int i = 0; i < len; i++) y[yOff + i] = normalise(e[i], f, kOut);
  }

  /** Checks the constants of a Shiftmax (or ShiftGELU) row, as {@link #row} does. */
  public static void check(int x0, int n, int kOut) {
    checkParameters(x0, n);
    checkRow(1, kOut);
  }

  static void checkRow(int len, int kOut) {
    if (len < 1) throw new IllegalArgumentException("a row must not be empty, got length " + len);
    if (kOut < 1 || kOut > M) throw new IllegalArgumentException("kOut must be in 1.." + M + ", got " + kOut);
  }

  /**
   * x0 negative, 0 ≤ n ≤ 30, and E &lt; |x0|·2^n small enough that E shifted left by up to 30 bits
   * (ShiftGELU's precise σ) stays inside a long: bitlen(|x0|) + n ≤ 32. E·F needs no more: F = 1
   * whenever E can exceed T.
   */
  static void checkParameters(int x0, int n) {
    if (x0 >= 0) throw new IllegalArgumentException("x0 = floor(−1/S) must be negative, got " + x0);
    if (n < 0 || n > 30) throw new IllegalArgumentException("the shift budget n must be in 0..30, got " + n);
    int bits = 64 - Long.numberOfLeadingZeros(-(long) x0);
    if (bits + n + (M - 1) > 62) {
      throw new IllegalArgumentException("x0 = " + x0 + " with n = " + n + " makes E too wide for exact arithmetic");
    }
  }
}
