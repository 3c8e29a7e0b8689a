package dev.lowbit.nn;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Role;
import java.util.List;
import java.util.Set;

/** Layer normalization over the last dimension, with learned scale and shift (function role layernorm). */
public final class LayerNorm extends Module implements FunctionRoles.Layer {

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

  public float eps() {
    return eps;
  }

  @Override
  public Var forward(Var x) {
    return Ops.layerNorm(x, weight, bias, eps, FunctionRoles.eval(name(), Role.LAYERNORM));
  }

  @Override
  public List<Policy.Site> functionSites() {
    return FunctionRoles.sites(name(), Set.of(Role.LAYERNORM));
  }
}
