package dev.lowbit.nn;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Role;
import dev.lowbit.tensor.Tensor;
import java.util.List;
import java.util.Set;

/**
 * Batch normalization over channel dimension 1 of N×C (1-d) or N×C×H×W (2-d) inputs (function
 * role batchnorm).
 */
public final class BatchNorm extends Module implements FunctionRoles.Layer {

  public final Var weight;
  public final Var bias;
  private final Tensor runningMean;
  private final Tensor runningVar;
  private final float momentum;
  private final float eps;

  public BatchNorm(int channels) {
    this(channels, 0.1f, 1e-5f);
  }

  public BatchNorm(int channels, float momentum, float eps) {
    weight = param("weight", Init.filled(1f, channels));
    bias = param("bias", Init.filled(0f, channels));
    runningMean = buffer("running_mean", Tensor.zeros(channels));
    runningVar = buffer("running_var", Init.filled(1f, channels));
    this.momentum = momentum;
    this.eps = eps;
  }

  /** The running mean evaluation normalizes with (shared, not a copy). */
  public float[] runningMean() {
    return runningMean.data();
  }

  /** The running (unbiased) variance evaluation normalizes with (shared, not a copy). */
  public float[] runningVar() {
    return runningVar.data();
  }

  public float eps() {
    return eps;
  }

  @Override
  public Var forward(Var x) {
    var state = new Ops.BatchNormState(weight, bias, runningMean.data(), runningVar.data(), isTraining(), momentum, eps);
    return Ops.batchNorm(x, state, FunctionRoles.eval(name(), Role.BATCHNORM));
  }

  @Override
  public List<Policy.Site> functionSites() {
    return FunctionRoles.sites(name(), Set.of(Role.BATCHNORM));
  }
}
