package dev.lowbit.intonly;

/**
 * A module that can describe its evaluation-mode forward pass to the integer compiler, as calls
 * on a {@link Lowering}. Models implement it, so the model classes stay the only place that knows
 * their structure; the compiler knows the layer types ({@code dev.lowbit.nn}) they are made of.
 */
public interface Lowerable {

  /** Lowers this module applied to {@code x}, returning its output. */
  Lowering.Value lower(Lowering b, Lowering.Value x);

  /** A whole model: a lowerable module with a fixed input geometry. */
  interface Model extends Lowerable {
    /** The input per sample: channels, height, width. */
    int[] inputShape();
  }
}
