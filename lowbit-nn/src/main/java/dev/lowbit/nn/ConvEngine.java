package dev.lowbit.nn;

import dev.lowbit.autograd.Var;
import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.numerics.Engine.Verdict;
import dev.lowbit.numerics.Product;

/**
 * One way of executing a convolution layer's forward pass and recording its backward passes: a
 * backend's native convolution ({@link NativeConvEngines}, registered by the backend's {@link
 * EngineProvider}) or im2col with each product planned as a GEMM (lowbit's own, always last). The
 * planner asks every engine, in order, once per run and geometry; each call runs the first
 * accepting engine whose {@link #run} gives an output.
 */
public interface ConvEngine {

  /** A short name for plans and logs, e.g. {@code native conv (onednn-3.11.0)}. */
  String name();

  /** Whether this engine runs {@code layer}'s convolution of geometry {@code s} under {@code q} (null: plain fp32), and why. */
  Verdict accepts(Numerics q, String layer, ConvSpec s);

  /** The layer's output, its backward recorded on the tape; null when this call must go to the next engine. */
  Var run(Numerics q, String layer, Var x, Var w, Var b, ConvSpec s);

  /** True when the engine plans each of its products as a GEMM of its own (whose plans then record themselves). */
  default boolean plansProductsAsGemms() {
    return false;
  }

  /** The engine named in the plan's row for {@code product}: by default this engine. */
  default String engineOf(Product product) {
    return name();
  }

  /** The reason in the plan's row for {@code product}, given the reason of the accepting verdict. */
  default String reasonOf(Product product, String accepted) {
    return accepted;
  }
}
