package dev.lowbit.format;

/**
 * Signed (two's complement) or unsigned n-bit integers, n = 1..32, times a scale: the values are
 * {@code code · scale}. A {@link #DYNAMIC} scale (0) means the integer grid for element operations,
 * while a {@link Quantizer} picks the scale per tensor, channel or block from the largest
 * magnitude ({@code amax / (2^(n-1) - 1)} for signed, {@code amax / (2^n - 1)} for unsigned).
 *
 * <p>Codes are the integer values themselves (an unsigned 32-bit code above 2^31 - 1 is held as
 * the negative int with the same bits). Rounding divides by the scale in float32 ({@code x /
 * scale}), rounds, clamps to the code range and multiplies back; infinities saturate, NaN stays NaN
 * (and cannot be encoded). Values are never -0. For n &gt; 24 a decoded value is the float32
 * nearest to {@code code · scale}.
 */
public record IntFormat(int bits, boolean signed, float scale) implements ElementFormat {

  /** The scale value that asks a {@link Quantizer} to choose the scale from the data. */
  public static final float DYNAMIC = 0f;

  public IntFormat {
    if (bits < 1 || bits > 32) {
      throw new IllegalArgumentException(
          "integer width " + bits + " is impossible; valid widths are 1..32");
    }
    if (!(scale >= 0) || Float.isInfinite(scale)) {
      throw new IllegalArgumentException(
          "integer scale " + scale + " is invalid; use a finite positive scale or 0 (dynamic)");
    }
    if (scale != 0 && !Float.isFinite((float) (maxCode(bits, signed) * (double) scale))) {
      throw new IllegalArgumentException("integer scale " + scale + " makes the largest value of a "
          + bits + "-bit integer overflow float32");
    }
  }

  /** Signed n-bit integers on the integer grid with a dynamic scale. */
  public static IntFormat signed(int bits) {
    return new IntFormat(bits, true, DYNAMIC);
  }

  /** Unsigned n-bit integers on the integer grid with a dynamic scale. */
  public static IntFormat unsigned(int bits) {
    return new IntFormat(bits, false, DYNAMIC);
  }

  private static long maxCode(int bits, boolean signed) {
    return signed ? (1L << (bits - 1)) - 1 : (1L << bits) - 1;
  }

  /** Largest code value. */
  public long maxCode() {
    return maxCode(bits, signed);
  }

  /** Smallest code value. */
  public long minCode() {
    return signed ? -(1L << (bits - 1)) : 0;
  }

  /** True when the scale is chosen from the data by a {@link Quantizer}. */
  public boolean isDynamic() {
    return scale == DYNAMIC;
  }

  /** The scale element operations use: the fixed scale, or 1 when dynamic. */
  public float effectiveScale() {
    return scale == DYNAMIC ? 1f : scale;
  }

  /** The divisor that maps a slice's largest magnitude to the largest code (for dynamic scales). */
  public long dynamicDivisor() {
    return Math.max(1, signed ? (1L << (bits - 1)) - 1 : (1L << bits) - 1);
  }

  /** Whether the scale is a power of two (then division by it is exact). */
  static boolean isPowerOfTwo(float s) {
    return s > 0 && Float.isFinite(s) && (Float.floatToRawIntBits(s) & 0x7FFFFF) == 0
        && s >= Float.MIN_NORMAL;
  }

  @Override
  public String name() {
    String base = (signed ? "int" : "uint") + bits;
    return scale == DYNAMIC ? base : base + "*" + scale;
  }

  @Override
  public double maxFinite() {
    return (float) (maxCode() * (double) effectiveScale());
  }

  @Override
  public double minNormal() {
    return effectiveScale();
  }

  @Override
  public double minSubnormal() {
    return effectiveScale();
  }

  @Override
  public double epsilon() {
    return effectiveScale();
  }

  @Override
  public int precisionBits() {
    return signed ? bits - 1 : bits;
  }

  /**
   * Rounds {@code y} (already divided by the scale) to a code and clamps it to the range; NaN
   * stays NaN. The result is an integer-valued double, never -0.
   */
  public double roundToCode(double y, Rounding r, double u) {
    if (y != y) return y;
    double c = r.roundSigned(y, u);
    double lo = minCode(), hi = maxCode();
    if (c < lo) c = lo;
    if (c > hi) c = hi;
    return c + 0.0; // turns -0 into +0: integers have one zero
  }

  /** Rounds {@code x} on the grid {@code code · scale} for an explicit scale (dynamic slices). */
  public float quantizeWithScale(float x, float scale, Rounding r, double u) {
    double c = roundToCode(x / scale, r, u);
    return (float) (c * scale);
  }

  @Override
  public double roundValue(double v, Rounding r, double u) {
    float s = effectiveScale();
    // float32 division, as a tensor path computes it; exact in double when s is a power of two
    double y = isPowerOfTwo(s) ? v / s : (double) ((float) v / s);
    return (float) (roundToCode(y, r, u) * s);
  }

  @Override
  public float decode(int code) {
    long c = signed ? code : (bits == 32 ? Integer.toUnsignedLong(code) : code);
    if (c < minCode() || c > maxCode()) {
      throw new IllegalArgumentException("code " + code + " is outside " + name() + "'s range "
          + minCode() + ".." + maxCode());
    }
    return (float) (c * (double) effectiveScale());
  }

  @Override
  public int encodeValue(float value) {
    if (!Float.isFinite(value)) {
      throw new IllegalArgumentException("cannot encode " + value + " in " + name()
          + ": integers have no infinity or NaN");
    }
    float s = effectiveScale();
    double y = isPowerOfTwo(s) ? value / (double) s : (double) (value / s);
    double c = Math.rint(y);
    if (c < minCode() || c > maxCode() || (float) (c * s) != value) {
      throw new IllegalArgumentException(
          "value " + value + " is not representable in " + name());
    }
    return (int) (long) c;
  }

  @Override
  public int codeAt(long i) {
    return (int) (minCode() + i);
  }
}
