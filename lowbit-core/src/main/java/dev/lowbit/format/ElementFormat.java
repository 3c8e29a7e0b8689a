package dev.lowbit.format;

/**
 * A format with one fixed grid of values: every element is rounded and encoded on its own.
 * Codes are the integer value for {@link IntFormat} and {@link FixedPoint} (negative for negative
 * values of signed formats) and the bit pattern for {@link MiniFloat}.
 */
public sealed interface ElementFormat extends NumberFormat permits IntFormat, FixedPoint, MiniFloat {

  /**
   * Rounds {@code v} (a float32 value, possibly scaled by a power of two, held exactly in a double)
   * to this format's grid under rounding {@code r}; {@code u} in [0, 1) is the uniform draw for
   * stochastic rounding. Returns the representable value, or NaN / infinity as the format's
   * policy says.
   */
  double roundValue(double v, Rounding r, double u);

  /** Nearest-even rounding of one value. */
  default float quantize(float x) {
    return (float) roundValue(x, Rounding.NEAREST_EVEN, 0);
  }

  /** Rounds one value; stochastic rounding draws from {@code key} (see {@link CounterRng}) and index. */
  default float quantize(float x, Rounding r, long key, long index) {
    return (float) roundValue(x, r, r.isStochastic() ? CounterRng.uniform(key, index) : 0);
  }

  /** The value of a code. */
  float decode(int code);

  /**
   * The code of a representable value.
   *
   * @throws IllegalArgumentException when {@code value} is not representable (not on the grid,
   *     out of range, or NaN/infinity in a format without such codes)
   */
  int encodeValue(float value);

  /** Rounds with nearest-even and encodes. */
  default int encode(float x) {
    return encodeValue(quantize(x));
  }

  /** Rounds and encodes; {@code u} is the uniform draw for stochastic rounding. */
  default int encode(float x, Rounding r, double u) {
    return encodeValue((float) roundValue(x, r, u));
  }

  /** Number of distinct codes, {@code 2^bits}. */
  default long codeCount() {
    return 1L << bits();
  }

  /**
   * The i-th code, i in [0, codeCount()): every code exactly once (ascending bit patterns for
   * floats and fixed point, ascending values for integers).
   */
  int codeAt(long i);

  @Override
  default double bitsPerValue() {
    return bits();
  }

  @Override
  default void quantize(float[] src, int srcOff, int len, float[] dst, int dstOff, Rounding r,
      long seed, long stream) {
    java.util.Objects.checkFromIndexSize(srcOff, len, src.length);
    java.util.Objects.checkFromIndexSize(dstOff, len, dst.length);
    if (r.isStochastic()) {
      // element i draws from index srcOff + i: the vector path, with the reference for what it skips
      FastStochastic.element(this, src, srcOff, len, dst, dstOff, CounterRng.key(seed, stream), srcOff);
    } else {
      for (int i = 0; i < len; i++) dst[dstOff + i] = (float) roundValue(src[srcOff + i], r, 0);
    }
  }
}
