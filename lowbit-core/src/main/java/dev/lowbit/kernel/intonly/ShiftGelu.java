package dev.lowbit.kernel.intonly;

/**
 * ShiftGELU, the integer GELU of I-ViT (Li &amp; Gu, ICCV 2023): GELU(x) ≈ x·σ(1.702x) with σ(z) =
 * e^(z−c)/(e^(z−c) + e^(−c)), both exponentials from {@link Shiftmax#exp}. The factor 1.702 lives
 * in x0 = floor(−1/(1.702·S)) alone, as in the released code. The output x·σ has scale S/2^(kOut−1).
 *
 * <p>The anchor is c = max(max x, 0), not max x: identical when the row's max is ≥ 0, and for an
 * all-negative row it keeps both exponents ≤ 0 (with c = max x, e^(−c) would be evaluated at a
 * positive argument, where the shift n − q exceeds n and the values explode).
 */
public final class ShiftGelu {

  private ShiftGelu() {}

  /**
   * σ of each x in the row x[off .. off+len), in 0..2^(kOut−1) − 1 (scale 1/2^(kOut−1)), written
   * to sigma[sOff ..). Reference mode, as the released integer code: T = min(E + Em, 2^31 − 1), σ
   * = (E·floorDiv(2^31 − 1, T)) >> (31 − kOut + 1). Precise mode divides exactly in long: σ =
   * floorDiv(E·2^(kOut−1), E + Em), removing the reciprocal's truncation error.
   */
  public static void sigma(int[] x, int off, int len, Params p, int[] sigma, int sOff) {
    Shiftmax.checkRow(len, p.kOut());
    long c = 0;
    for (int i = 0; i < len; i++) c = Math.max(c, x[off + i]);
    long em = Shiftmax.exp(-c, p.x0(), p.n());
    for (int i = 0; i < len; i++) {
      long e = Shiftmax.exp(x[off + i] - c, p.x0(), p.n());
      long s;
      if (p.precise()) {
        s = Math.floorDiv(e << (p.kOut() - 1), e + em);
      } else {
        s = Shiftmax.normalise(e, Shiftmax.reciprocal(Math.min(e + em, Shiftmax.INT32_MAX)), p.kOut());
      }
      sigma[sOff + i] = (int) s;
    }
  }

  /** out = x·σ over the row x[off .. off+len), into out[outOff ..): scale S/2^(kOut−1). */
  public static void row(int[] x, int off, int len, Params p, int[] out, int outOff) {
    sigma(x, off, len, p, out, outOff);
    for (int i = 0; i < len; i++) out[outOff + i] = Math.multiplyExact(x[off + i], out[outOff + i]);
  }

  /**
   * ShiftGELU's constants: x0 = floor(−1/(1.702·S)), shift budget n (23 in the released code),
   * output bits kOut (8: σ in 0..127), and the division mode.
   */
  public record Params(int x0, int n, int kOut, boolean precise) {
    public Params {
      Shiftmax.checkParameters(x0, n);
      if (kOut < 1 || kOut > Shiftmax.M) {
        throw new IllegalArgumentException("kOut must be in 1.." + Shiftmax.M + ", got " + kOut);
      }
    }
  }
}
