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

  /** The backend's name, for plans and logs. */
  default String name() {
    return "native";
  }

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
   * A transformation applied to an operand on its way into a native call (a quantization, fused
   * with the copy into native memory): {@code dst[dstOff, dstOff + len)} from {@code src[from,
   * from + len)}. A call that takes the tensor transforms every plane of it at least once (even
   * when no product needs it: callers may gather per-plane statistics in the transform), on runs
   * of whole planes (from and len multiples of the tensor's H·W), in any order and split, perhaps
   * on several threads and more than once per plane; the transform must give the same values
   * however it is called.
   */
  @FunctionalInterface
  interface Transform {
    void apply(float[] src, int from, int len, float[] dst, int dstOff);
  }

  /**
   * {@link #convForward} (or, with {@code bf16}, {@link #convForwardBf16}) on x transformed by
   * {@code xT} (null: x as it is). This default makes the transformed copy first; a backend may
   * transform while it copies x into native memory.
   */
  default boolean convForward(ConvSpec s, float[] x, Transform xT, float[] w, float[] bias, float[] y, boolean bf16) {
    float[] xx = transformed(x, s.inputSize(), xT);
    return bf16 ? convForwardBf16(s, xx, w, bias, y) : convForward(s, xx, w, bias, y);
  }

  /** {@link #convBackward} (or {@link #convBackwardBf16}) on x and dy transformed by xT and dyT (null: as they are). */
  default boolean convBackward(ConvSpec s, float[] x, Transform xT, float[] w, float[] dy, Transform dyT,
      float[] dx, float[] dw, float[] db, boolean bf16) {
    float[] xx = dw == null && db == null ? x : transformed(x, s.inputSize(), xT);
    float[] dd = transformed(dy, s.outputSize(), dyT);
    return bf16 ? convBackwardBf16(s, xx, w, dd, dx, dw, db) : convBackward(s, xx, w, dd, dx, dw, db);
  }

  private static float[] transformed(float[] a, int count, Transform t) {
    if (t == null) return a;
    float[] out = new float[count];
    t.apply(a, 0, count, out, 0);
    return out;
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
