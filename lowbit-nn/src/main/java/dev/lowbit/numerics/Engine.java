package dev.lowbit.numerics;

/**
 * One way of executing a matrix product: fp32, fake-quantized fp32, exact integer codes, int32
 * chains, emulated multiplier / accumulator, ShiftQuant, or a backend's own kernels. The planner
 * asks every engine, in order, whether it {@link #accepts} a product's {@link ProductPlan}, once per
 * run; the plan keeps the accepting engines, and each call runs the first whose {@link #run}
 * succeeds. An engine declines a call at run time only for what a plan cannot know (an operand
 * holding NaN or infinity, which the integer engines leave to fake quantization so that it reaches
 * the loss).
 */
public interface Engine {

  /** A short name for plans and logs, e.g. {@code fake-quantized fp32}. */
  String name();

  /** Whether this engine executes {@code plan}, and why (or why not), in one line. */
  Verdict accepts(ProductPlan plan);

  /** Executes one call of the plan's product; false when this call must go to the next engine. */
  boolean run(ProductPlan plan, GemmCall call);

  /**
   * What this engine uses of an operand that the layer quantized once for all its products
   * ({@link GemmCall.Matrix#quantized}): nothing (it reads the raw operand, e.g. to encode it
   * itself), the quantized values, or also the integer codes. A layer quantizes an operand on the
   * tape only when some product that uses it takes something.
   */
  default Takes takes(ProductPlan plan) {
    return Takes.NOTHING;
  }

  /** See {@link #takes}. */
  enum Takes {
    NOTHING,
    VALUES,
    CODES
  }

  /** An engine's answer to a plan: accepted or not, and the one-line reason. */
  record Verdict(boolean accepted, String reason) {
    public static Verdict yes(String reason) {
      return new Verdict(true, reason);
    }

    public static Verdict no(String reason) {
      return new Verdict(false, reason);
    }
  }
}
