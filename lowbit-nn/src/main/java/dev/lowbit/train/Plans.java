package dev.lowbit.train;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.StepArena;
import dev.lowbit.autograd.Var;
import dev.lowbit.nn.Compute;
import dev.lowbit.nn.Module;
import dev.lowbit.nn.Numerics;
import dev.lowbit.nn.ProductObserver;
import dev.lowbit.numerics.Energy;
import dev.lowbit.numerics.Product;
import dev.lowbit.numerics.ProductPlan;
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
    pass(model, n, batch, input);
    return n.plans();
  }

  /**
   * The estimated arithmetic energy ({@link Energy}) of {@code model} under {@code policy}: one
   * such pass with every product observed (convolutions then run as im2col GEMMs, so they are seen
   * too), its multiply-accumulates (m·n·k per call) counted per product; per inference the forward
   * products divided by {@code batch}, per training step all products of the batch.
   */
  public static Energy.Estimate energy(Module model, Policy policy, int batch, int[] input, long seed) {
    Map<ProductPlan.Site, Long> macs = new java.util.concurrent.ConcurrentHashMap<>();
    ProductObserver before = Compute.productObserver();
    Compute.observeProducts((site, call) -> macs.merge(site, (long) call.m() * call.n() * call.k(), Long::sum));
    try {
      pass(model, new Numerics(policy, seed), batch, input);
    } finally {
      Compute.observeProducts(before);
    }
    Energy.Counts forward = Energy.Counts.none(), step = Energy.Counts.none();
    for (var e : macs.entrySet()) {
      ProductPlan.Site s = e.getKey();
      long n = e.getValue();
      step = step.plus(Energy.of(policy, s.layer(), s.product(), s.roleA(), s.roleB(), n));
      if (s.product() == Product.FORWARD) {
        forward = forward.plus(Energy.of(policy, s.layer(), s.product(), s.roleA(), s.roleB(), n / batch));
      }
    }
    return new Energy.Estimate(Energy.Table.HOROWITZ_45NM, batch, forward, step);
  }

  /** One forward and backward pass of {@code model} on a batch of zeros under {@code n}. */
  private static void pass(Module model, Numerics n, int batch, int[] input) {
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
  }
}
