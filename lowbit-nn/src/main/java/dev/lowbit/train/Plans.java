package dev.lowbit.train;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.StepArena;
import dev.lowbit.autograd.Var;
import dev.lowbit.nn.Compute;
import dev.lowbit.nn.Module;
import dev.lowbit.nn.Numerics;
import dev.lowbit.numerics.Policy;
import dev.lowbit.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * The plans a training run of a model under a policy makes, without training: one forward and
 * backward pass on a batch of zeros (the weights are not changed) with a fresh {@link Numerics},
 * whose plans are then those of the run (each product's plan depends on its site and the policy,
 * not on the values).
 */
public final class Plans {

  private Plans() {}

  /**
   * The plan rows ({@link Numerics#plans}) of {@code model} under {@code policy} for batches of
   * {@code batch} images of shape {@code input} (C, H, W).
   */
  public static List<Map<String, Object>> of(Module model, Policy policy, int batch, int[] input, long seed) {
    Numerics n = new Numerics(policy, seed);
    Numerics before = Compute.numerics();
    Compute.setNumerics(n);
    try {
      int size = batch;
      for (int d : input) size *= d;
      int[] shape = new int[input.length + 1];
      shape[0] = batch;
      System.arraycopy(input, 0, shape, 1, input.length);
      StepArena.beginStep();
      Var logits = model.forward(Var.constant(new Tensor(new float[size], shape)));
      Ops.crossEntropy(logits, new int[batch], 0f).backward();
      for (Var p : model.parameters()) p.zeroGrad();
    } finally {
      StepArena.endSteps();
      Compute.setNumerics(before);
    }
    return n.plans();
  }
}
