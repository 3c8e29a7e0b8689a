package dev.lowbit.nn;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;

/** Layer normalization over the last dimension, with learned scale and shift. */
public final class LayerNorm extends Module {

  public final Var weight;
  public final Var bias;
  private final float eps;

  public LayerNorm(int dim) {
    this(dim, 1e-5f);
  }

  public LayerNorm(int dim, float eps) {
    weight = param("weight", Init.filled(1f, dim));
    bias = param("bias", Init.filled(0f, dim));
    this.eps = eps;
  }

  @Override
  public Var forward(Var x) {
    return Ops.layerNorm(x, weight, bias, eps);
  }
}
