package dev.lowbit.nn;

import dev.lowbit.autograd.L1NormOps;
import dev.lowbit.autograd.Var;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Role;
import java.util.List;
import java.util.Set;

/**
 * Layer normalization by the mean absolute deviation over the last dimension (Guo et al., arXiv
 * 2411.10948; reconstructed, spec training-numerics §2.5): see {@link L1NormOps#layerNorm}.
 * Function role layernorm, as for {@link LayerNorm}.
 */
public final class L1LayerNorm extends Module implements FunctionRoles.Layer {

  public final Var weight;
  public final Var bias;
  private final float eps;
  private final float c;

  /** ε 1e-5, c = sqrt(π/2) (matches LayerNorm on Gaussian data). */
  public L1LayerNorm(int dim) {
    this(dim, 1e-5f, L1NormOps.GAUSSIAN_C);
  }

  public L1LayerNorm(int dim, float eps, float c) {
    if (!(c > 0) || !Float.isFinite(c)) throw new IllegalArgumentException("L1 norm scale c " + c + " must be finite and > 0 (1 or sqrt(π/2))");
    weight = param("weight", Init.filled(1f, dim));
    bias = param("bias", Init.filled(0f, dim));
    this.eps = eps;
    this.c = c;
  }

  @Override
  public Var forward(Var x) {
    return L1NormOps.layerNorm(x, weight, bias, eps, c, FunctionRoles.eval(name(), Role.LAYERNORM));
  }

  @Override
  public List<Policy.Site> functionSites() {
    return FunctionRoles.sites(name(), Set.of(Role.LAYERNORM));
  }
}
