package dev.lowbit.kernel;

/**
 * fp32 training kernels a native backend offers next to its {@link Gemm}: convolutions in one call
 * per pass without a Java im2col (oneDNN's direct convolutions, what PyTorch trains with on the
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
}
