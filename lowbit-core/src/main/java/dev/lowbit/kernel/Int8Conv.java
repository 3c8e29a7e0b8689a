package dev.lowbit.kernel;

/**
 * Integer convolutions on a native backend (oneDNN's VNNI/AMX direct kernels): int8 or uint8
 * input, int8 weights, the exact int32 sums Σ w·x out, with no bias, scale or post-op. A layer's
 * weights are prepared once ({@link #prepare}: copied into native memory and reordered into the
 * kernels' layout when first used) and then reused by every call. Results equal the Java integer
 * kernels' (im2col and an int8 GEMM) bit for bit: a geometry is only taken where every sum is
 * bounded by 2^24 in magnitude, so it is exact in any order and even through an fp32 epilogue.
 */
public interface Int8Conv {

  /** The backend's name for logs, e.g. "onednn int8 conv". */
  String int8ConvName();

  /**
   * The weights (OIHW, {@code perSample.weightSize()} bytes from offset 0) of a layer of geometry
   * {@code perSample} (its batch is ignored), prepared for {@link #int8Conv}; null when this
   * backend declines the geometry. The array is copied: later changes do not show.
   */
  Prepared prepare(ConvSpec perSample, boolean unsignedX, byte[] weight);

  /**
   * y (NCHW int32, from {@code yOff}) = the exact convolution sums of {@code batch} samples of x
   * (NCHW bytes from {@code xOff}, read as unsigned when the weights were prepared so); false when
   * declined (y untouched).
   */
  boolean int8Conv(Prepared w, int batch, byte[] x, int xOff, int[] y, int yOff);

  /** A layer's prepared weights; {@link #impl()} names the kernel that runs them. */
  interface Prepared {
    String impl();
  }

  /** Whether every sum of a geometry lies within ±2^24: K·128·128 (int8 x) or K·255·128 (uint8 x) ≤ 2^24. */
  static boolean exactlyBounded(ConvSpec s, boolean unsignedX) {
    long k = (long) s.inC() / s.groups() * s.kH() * s.kW();
    return k * (unsignedX ? 255 : 128) * 128 <= 1L << 24;
  }
}
