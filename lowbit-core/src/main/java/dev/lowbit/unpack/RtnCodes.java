package dev.lowbit.unpack;

/**
 * A tensor quantized by {@link Rtn}: int32 {@code codes} (one per entry, in the tensor's order;
 * not clipped, so entries above {@code alpha} exceed the grid), the {@code scale} s with {@code
 * value ≈ code / s}, and the percentile {@code alpha} the scale came from. The array is held, not
 * copied.
 */
public record RtnCodes(int[] codes, double scale, double alpha) {

  /** {@code code / scale} for every entry, rounded to float32. */
  public float[] dequantize() {
    float[] v = new float[codes.length];
    for (int i = 0; i < v.length; i++) v[i] = (float) (codes[i] / scale);
    return v;
  }

  /** The codes as a {@code rows × cols} row-major matrix. */
  public IntMatrix matrix(int rows, int cols) {
    return new IntMatrix(rows, cols, codes);
  }
}
