package dev.lowbit.kernel;

/**
 * Geometry of 2-D pooling over an NCHW batch (PyTorch's output size rule, floor mode). {@code
 * countIncludePad} is PyTorch's {@code count_include_pad} for average pooling: true (the default)
 * divides every window by kH·kW, padding included; false divides by the number of the window's
 * elements that lie inside the input. Max pooling ignores it.
 */
public record PoolSpec(
    int batch, int channels, int inH, int inW, int kH, int kW,
    int strideH, int strideW, int padH, int padW, boolean countIncludePad) {

  /** Pooling that counts the padding in an average's divisor (PyTorch's default). */
  public PoolSpec(int batch, int channels, int inH, int inW, int kH, int kW, int strideH, int strideW,
      int padH, int padW) {
    this(batch, channels, inH, inW, kH, kW, strideH, strideW, padH, padW, true);
  }

  public PoolSpec {
    if (batch < 0 || channels <= 0 || inH <= 0 || inW <= 0 || kH <= 0 || kW <= 0
        || strideH <= 0 || strideW <= 0 || padH < 0 || padW < 0) {
      throw new IllegalArgumentException("pooling sizes must be positive (padding >= 0): " + describe(batch, channels, inH, inW, kH, kW, strideH, strideW, padH, padW));
    }
    if (padH * 2 > kH || padW * 2 > kW) {
      throw new IllegalArgumentException("pooling padding must be at most half the kernel: " + describe(batch, channels, inH, inW, kH, kW, strideH, strideW, padH, padW));
    }
    if (inH + 2 * padH < kH || inW + 2 * padW < kW) {
      throw new IllegalArgumentException("pooling kernel larger than padded input: " + describe(batch, channels, inH, inW, kH, kW, strideH, strideW, padH, padW));
    }
  }

  // the fields are not assigned yet inside the compact constructor, so messages use the parameters
  private static String describe(int batch, int channels, int inH, int inW, int kH, int kW,
      int strideH, int strideW, int padH, int padW) {
    return "batch=" + batch + " channels=" + channels + " input=" + inH + "x" + inW + " kernel=" + kH + "x" + kW
        + " stride=" + strideH + "x" + strideW + " padding=" + padH + "x" + padW;
  }

  /** Square window k, stride k, no padding. */
  public static PoolSpec of(int batch, int channels, int inH, int inW, int k) {
    return new PoolSpec(batch, channels, inH, inW, k, k, k, k, 0, 0);
  }

  public PoolSpec withBatch(int n) {
    return new PoolSpec(n, channels, inH, inW, kH, kW, strideH, strideW, padH, padW, countIncludePad);
  }

  public int outH() {
    return (inH + 2 * padH - kH) / strideH + 1;
  }

  public int outW() {
    return (inW + 2 * padW - kW) / strideW + 1;
  }

  public int inputSize() {
    return batch * channels * inH * inW;
  }

  public int outputSize() {
    return batch * channels * outH() * outW();
  }
}
