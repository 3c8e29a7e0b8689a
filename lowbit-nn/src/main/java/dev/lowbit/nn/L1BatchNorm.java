package dev.lowbit.nn;

import dev.lowbit.autograd.L1NormOps;
import dev.lowbit.autograd.Var;
import dev.lowbit.autograd.Ops;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Role;
import dev.lowbit.tensor.Tensor;
import java.util.List;
import java.util.Set;

/**
 * Batch normalization by the mean absolute deviation over channel dimension 1 of N×C or N×C×H×W
 * inputs (Guo et al., arXiv 2411.10948; reconstructed, spec training-numerics §2.5): see {@link
 * L1NormOps#batchNorm}. Evaluation uses the running mean and running σ1. Function role batchnorm,
 * as for {@link BatchNorm}.
 */
public final class L1BatchNorm extends Module implements FunctionRoles.Layer {

  public final Var weight;
  public final Var bias;
  private final Tensor runningMean;
  private final Tensor runningSigma1;
  private final float momentum;
  private final float eps;
  private final float c;

  /** Momentum 0.1, ε 1e-5, c = sqrt(π/2) (matches BN on Gaussian data). */
  public L1BatchNorm(int channels) {
    this(channels, 0.1f, 1e-5f, L1NormOps.GAUSSIAN_C);
  }

  public L1BatchNorm(int channels, float momentum, float eps, float c) {
    if (!(c > 0) || !Float.isFinite(c)) throw new IllegalArgumentException("L1 norm scale c " + c + " must be finite and > 0 (1 or sqrt(π/2))");
    weight = param("weight", Init.filled(1f, channels));
    bias = param("bias", Init.filled(0f, channels));
    runningMean = buffer("running_mean", Tensor.zeros(channels));
    // σ1 of a unit Gaussian is sqrt(2/π): the neutral start that matches BN's running_var = 1
    runningSigma1 = buffer("running_sigma1", Init.filled((float) Math.sqrt(2 / Math.PI), channels));
    this.momentum = momentum;
    this.eps = eps;
    this.c = c;
  }

  @Override
  public Var forward(Var x) {
    var state = new Ops.BatchNormState(weight, bias, runningMean.data(), runningSigma1.data(), isTraining(), momentum, eps);
    return L1NormOps.batchNorm(x, state, c, FunctionRoles.eval(name(), Role.BATCHNORM));
  }

  @Override
  public List<Policy.Site> functionSites() {
    return FunctionRoles.sites(name(), Set.of(Role.BATCHNORM));
  }
}
