package dev.lowbit.kernel;

/**
 * Integer layers with constant int8 weights on a native backend (oneDNN's VNNI/AMX kernels): int8
 * or uint8 input, the exact int32 sums Σ w·x out, with no bias, scale or post-op. A layer's
 * weights are prepared once ({@link #prepareConv}, {@link #prepareLinear}: copied into native
 * memory and reordered into the kernels' layout when first used) and reused by every call, so a
 * call copies only its input and its sums. Results equal the Java integer kernels' (im2col and an
 * int8 GEMM) bit for bit; a convolution is only taken where every sum is bounded by 2^24 in
 * magnitude ({@link #exactlyBounded}), so it is exact in any order and even through an fp32
 * epilogue, and a linear layer has {@link Gemm#gemmS8S8}'s contract.
 */
public interface Int8Layers {

  /** The backend's name for logs, e.g. "onednn int8 conv + packed linear". */
  String int8LayersName();

  /**
   * The weights (OIHW, {@code perSample.weightSize()} bytes from offset 0) of a convolution of
   * geometry {@code perSample} (its batch is ignored), prepared for {@link #int8Conv}; null when
   * this backend declines the geometry. The array is copied: later changes do not show.
   */
  Prepared prepareConv(ConvSpec perSample, boolean unsignedX, byte[] weight);

  /**
   * y (NCHW int32, from {@code yOff}) = the exact convolution sums of {@code batch} samples of x
   * (NCHW bytes from {@code xOff}, read as unsigned when the weights were prepared so); false when
   * declined (y untouched).
   */
  boolean int8Conv(Prepared w, int batch, byte[] x, int xOff, int[] y, int yOff);

  /**
   * The weights of a linear layer, {@code outF}×{@code inF} row-major (y = x·Wᵀ), prepared for
   * {@link #int8Linear}; null when declined. The array is copied.
   */
  Prepared prepareLinear(int inF, int outF, byte[] weight);

  /**
   * y[r, o] = Σ_i w[o, i]·x[r, i] for {@code rows} rows of x (row-major bytes from 0, unsigned
   * when {@code unsignedX}) into y (from 0, row length outF), exact int32 with {@link
   * Gemm#gemmS8S8}'s wrap-around; false when declined (y untouched).
   */
  boolean int8Linear(Prepared w, int rows, boolean unsignedX, byte[] x, int[] y);

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
