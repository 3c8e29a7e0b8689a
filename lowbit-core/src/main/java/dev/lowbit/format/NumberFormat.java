package dev.lowbit.format;

/**
 * A number format as an immutable value: it knows its range and precision, rounds float32 values
 * to its nearest representable value (emulation, "fake quantization") and encodes to / decodes from
 * integer codes (real storage). Element formats ({@link ElementFormat}) have one fixed grid; block
 * formats ({@link BlockFormat}) share an exponent per block of elements.
 *
 * <p>Range figures are in float32 terms because emulation happens in float32: a format's every
 * value must be a float32 value.
 */
public sealed interface NumberFormat permits ElementFormat, BlockFormat {

  /** Canonical name; {@link #parse(String)} of it gives back an equal format. */
  String name();

  /** Bits of one element code (excluding shared exponents). */
  int bits();

  /** Storage per value including shared exponents or scales, amortized over a block. */
  double bitsPerValue();

  /** Largest finite value. */
  double maxFinite();

  /** Smallest positive normal value (for integers: the step). */
  double minNormal();

  /** Smallest positive value. */
  double minSubnormal();

  /** Relative step at 1 for floats (2^-m); the absolute step for integers and fixed point. */
  double epsilon();

  /** Significant bits of one value (mantissa bits + 1 for floats, magnitude bits for integers). */
  int precisionBits();

  /** Decimal digits of precision: {@code precisionBits · log10(2)}. */
  default double decimalDigits() {
    return precisionBits() * Math.log10(2);
  }

  /**
   * Rounds {@code src[srcOff .. srcOff+len)} into {@code dst[dstOff ..)}. Stochastic rounding draws
   * element {@code i}'s random number from (seed, stream, i) with {@code i} the index into {@code
   * src}, so splitting a range into chunks gives the same bits. Block formats form blocks of their
   * block size starting at {@code srcOff} (one block for the whole range when the size is 0).
   */
  void quantize(float[] src, int srcOff, int len, float[] dst, int dstOff, Rounding rounding,
      long seed, long stream);

  /** {@link #quantize(float[], int, int, float[], int, Rounding, long, long)} of a whole array. */
  default float[] quantize(float[] src, Rounding rounding, long seed, long stream) {
    float[] out = new float[src.length];
    quantize(src, 0, src.length, out, 0, rounding, seed, stream);
    return out;
  }

  /**
   * Parses a format string such as {@code int8}, {@code uint4}, {@code fixed<16,8>}, {@code e4m3},
   * {@code e3m4:fn:sat}, {@code bf16}, {@code dfp16/b64}, {@code bfp8/b16}, {@code mxfp4}.
   *
   * @throws IllegalArgumentException naming the bad string and what is valid
   */
  static NumberFormat parse(String s) {
    return Formats.parse(s);
  }

  /** floor(log2(a)) for a finite a > 0, subnormal float32 values included. */
  static int floorLog2(double a) {
    return Math.getExponent(a);
  }
}
