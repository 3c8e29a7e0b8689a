package dev.lowbit.nn;

import dev.lowbit.autograd.Var;
import java.util.SplittableRandom;

/** y = x·Wᵀ + b over the last dimension; W is (out, in) as in PyTorch. */
public final class Linear extends Module {

  public final int in;
  public final int out;
  public final Var weight;
  public final Var bias;

  public Linear(int in, int out, boolean bias, SplittableRandom rng) {
    if (in <= 0 || out <= 0) throw new IllegalArgumentException("Linear sizes must be positive: " + in + "→" + out);
    this.in = in;
    this.out = out;
    this.weight = param("weight", Init.torchDefault(rng, in, out, in));
    this.bias = bias ? param("bias", Init.torchDefault(rng, in, out)) : null;
  }

  public Linear(int in, int out, SplittableRandom rng) {
    this(in, out, true, rng);
  }

  @Override
  public Var forward(Var x) {
    return Compute.linear(name(), x, weight, bias);
  }
}
