package dev.lowbit.kernel;

/**
 * Training kernels a native backend offers next to its {@link Gemm}: fp32 convolutions (and an
 * int8 forward pass) in one call per pass without a Java im2col (oneDNN's direct convolutions, what PyTorch trains with on the
 * CPU). lowbit-nn's Conv2d uses them for its fp32 arithmetic when the backend in use has them
 * ({@link Kernels#floatKernels()}); {@link Gemm#sgemm} keeps the Java kernels' semantics. (Plain
 * products stay on the Java GEMM: oneDNN's fp32 matmul, with the copies in and out, trained the
 * MLP at 0.6× its speed.)
 *
 * <p>Convolution tensors are plain row-major: x and dx N×C×H×W, w and dw OC×(C/groups)×KH×KW, y
 * and dy N×OC×OH×OW, bias OC. Every method returns false when it declines; the caller then runs
 * im2col + GEMM.
 *
 * <p>Results equal the Java path's up to the order of summation (the backend's, fixed for a given
 * machine, shape and thread count), so runs stay bit-reproducible on one machine but differ in the
 * last bits from {@code --backend java}.
 */
public interface FloatKernels {

  /** Whether this backend runs the convolution geometry natively (decided once per geometry). */
  boolean supports(ConvSpec s);

  /** y = conv(x, w) + bias (bias may be null); y is overwritten. */
  boolean convForward(ConvSpec s, float[] x, float[] w, float[] bias, float[] y);

  /**
   * The convolution's backward passes from dy in one call: dx = conv-transpose(dy, w) overwrites
   * {@code dx} (skipped when null); dw and db are added into {@code dw} and {@code db} (each
   * skipped when null). x is the forward input (needed for dw only).
   */
  boolean convBackward(ConvSpec s, float[] x, float[] w, float[] dy, float[] dx, float[] dw, float[] db);

  /**
   * Whether {@link #convForwardBf16} and {@link #convBackwardBf16} run the geometry on bf16 kernels
   * (decided once per geometry). Backends without them keep this default.
   */
  default boolean supportsBf16(ConvSpec s) {
    return false;
  }

  /**
   * {@link #convForward} for operands that hold bf16 values (the caller guarantees it: every x and
   * w is a bf16 number, as after bf16 or MX quantization): the backend may run it on bf16 kernels,
   * whose products of bf16 values are exact in fp32 and whose sums are fp32, so the result is
   * {@link #convForward}'s up to the order of summation — except that such kernels (AMX, AVX-512
   * BF16) read operands below 2^-126 in magnitude (fp32 subnormals) as zero.
   */
  default boolean convForwardBf16(ConvSpec s, float[] x, float[] w, float[] bias, float[] y) {
    return false;
  }

  /** {@link #convBackward} for x, w and dy that hold bf16 values, as {@link #convForwardBf16}. */
  default boolean convBackwardBf16(ConvSpec s, float[] x, float[] w, float[] dy, float[] dx, float[] dw,
      float[] db) {
    return false;
  }

  /**
   * Whether {@link #convForwardS8} runs the geometry natively (int8 codes, exact int32 sums:
   * C/groups·KH·KW products of at most 128·128 each must fit int32).
   */
  boolean supportsS8(ConvSpec s);

  /**
   * The forward pass on int8 codes: y = xScale · wScales[oc] · Σ x·w + bias[oc], the sums exact in
   * int32 (Jacob et al. 2018's integer convolution with per-tensor activation and per-channel or
   * per-tensor weight scales). {@code wScales} has 1 or OC entries; bias may be null.
   */
  boolean convForwardS8(ConvSpec s, byte[] x, float xScale, byte[] w, float[] wScales, float[] bias, float[] y);
}
