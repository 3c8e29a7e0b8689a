package dev.lowbit.kernel;

/**
 * L-Mul (Luo and Sun, "Addition is All You Need for Energy-efficient Language Models",
 * arXiv 2410.00907) on fp32 bit patterns: with both operands on the m-bit mantissa grid,
 *
 * <pre>
 *   |result| bits = U(x) + U(y) − OFFSET(m),   OFFSET(m) = (127 &lt;&lt; 23) − 2^(23 − l(m)),
 *   l(m) = m for m ≤ 3, 3 for m = 4, 4 for m > 4;   sign = sign(x) xor sign(y)
 * </pre>
 *
 * where U is the 31-bit magnitude field. A fraction carry steps the exponent (Mitchell's log
 * multiply with an offset), which is the bit-level function, not the paper's literal formula.
 * Guards: NaN operand → NaN; inf × 0 → NaN, inf × other → signed inf; zero or subnormal operand
 * (flushed) → signed zero; a magnitude below the smallest normal → signed zero; at or above the inf
 * pattern → signed inf. NaN results are the canonical {@link Float#NaN}.
 */
public final class LMul {

  private LMul() {}

  /** l(m): the exponent of the correction constant 2^−l. */
  public static int l(int m) {
    return m <= 3 ? m : m == 4 ? 3 : 4;
  }

  /** OFFSET(m) = (127 &lt;&lt; 23) − 2^(23 − l(m)); e.g. 0x3F700000 for m = 3, 0x3F780000 for m ≥ 5. */
  public static int offset(int m) {
    checkM(m);
    return (127 << 23) - (1 << (23 - l(m)));
  }

  private static void checkM(int m) {
    if (m < 1 || m > 23) throw new IllegalArgumentException("L-Mul mantissa bits must be 1..23, got " + m);
  }

  /** The fp32 bit pattern of x with its fraction rounded to m bits; NaN stays a NaN. */
  public static int roundOperandBits(int bits, int m, Multiplier.OperandRounding rounding) {
    int d = 23 - m;
    if (d == 0 || (bits & 0x7FFFFFFF) > 0x7F800000) return bits;
    if (rounding == Multiplier.OperandRounding.RNE) {
      int sign = bits & 0x80000000;
      int mag = bits & 0x7FFFFFFF;
      mag += ((1 << (d - 1)) - 1) + ((mag >>> d) & 1);
      return sign | (mag & ~((1 << d) - 1));
    }
    return bits & ~((1 << d) - 1);
  }

  /** x with its fraction rounded to m bits. */
  public static float roundOperand(float x, int m, Multiplier.OperandRounding rounding) {
    checkM(m);
    return Float.intBitsToFloat(roundOperandBits(Float.floatToRawIntBits(x), m, rounding));
  }

  /**
   * The guarded bit-level L-Mul of operands already on the m-bit grid (see the class comment); the
   * add runs in long so two large magnitudes cannot wrap.
   */
  public static float lmulRaw(float x, float y, int m) {
    return Float.intBitsToFloat(lmulBits(Float.floatToRawIntBits(x), Float.floatToRawIntBits(y), offset(m)));
  }

  static int lmulBits(int bx, int by, int offset) {
    int sign = (bx ^ by) & 0x80000000;
    int ax = bx & 0x7FFFFFFF;
    int ay = by & 0x7FFFFFFF;
    if (ax > 0x7F800000 || ay > 0x7F800000) return 0x7FC00000;
    if (ax == 0x7F800000 || ay == 0x7F800000) {
      return (ax == 0 || ay == 0) ? 0x7FC00000 : sign | 0x7F800000;
    }
    if (ax < 0x00800000 || ay < 0x00800000) return sign;
    long mag = (long) ax + ay - offset;
    if (mag < 0x00800000L) return sign;
    if (mag >= 0x7F800000L) return sign | 0x7F800000;
    return sign | (int) mag;
  }

  /** L-Mul of two fp32 values: each operand is first rounded to m fraction bits. */
  public static float multiply(float x, float y, Multiplier.LMul mul) {
    int m = mul.mantissaBits();
    return Float.intBitsToFloat(lmulBits(
        roundOperandBits(Float.floatToRawIntBits(x), m, mul.rounding()),
        roundOperandBits(Float.floatToRawIntBits(y), m, mul.rounding()),
        offset(m)));
  }

  /** Elementwise out[i] = L-Mul(x[i], y[i]) for i in [0, n) (scalar reference). */
  public static void multiply(float[] x, int xOff, float[] y, int yOff, float[] out, int outOff, int n,
      Multiplier.LMul mul) {
    if (n < 0) throw new IllegalArgumentException("length must be >= 0, got " + n);
    for (int i = 0; i < n; i++) {
      out[outOff + i] = multiply(x[xOff + i], y[yOff + i], mul);
    }
  }
}
