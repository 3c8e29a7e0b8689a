package dev.lowbit.train;

import dev.lowbit.autograd.Var;
import dev.lowbit.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam with decoupled weight decay (Loshchilov &amp; Hutter, "Decoupled Weight Decay
 * Regularization", 2019), PyTorch's formulation: w ← w·(1 − lr·wd), then the bias-corrected Adam
 * step.
 */
public final class AdamW extends Optimizer {

  private final double beta1, beta2, eps, weightDecay;
  private final LinkedHashMap<String, Tensor> state = new LinkedHashMap<>();

  public AdamW(Map<String, Var> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
    super(params, lr);
    if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1 || eps <= 0 || weightDecay < 0) {
      throw new IllegalArgumentException("AdamW needs 0 <= beta < 1, eps > 0, weight decay >= 0");
    }
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    for (var e : this.params.entrySet()) {
      state.put(e.getKey() + "/exp_avg", Tensor.zeros(e.getValue().shape()));
      state.put(e.getKey() + "/exp_avg_sq", Tensor.zeros(e.getValue().shape()));
    }
  }

  public AdamW(Map<String, Var> params, double lr, double weightDecay) {
    this(params, lr, 0.9, 0.999, 1e-8, weightDecay);
  }

  @Override
  protected void update(String name, float[] w, float[] g) {
    float[] m = state.get(name + "/exp_avg").data(), v = state.get(name + "/exp_avg_sq").data();
    float b1 = (float) beta1, b2 = (float) beta2;
    double bc1 = 1 - Math.pow(beta1, steps), bc2 = 1 - Math.pow(beta2, steps);
    float stepSize = (float) (lr / bc1);
    float sqrtBc2 = (float) Math.sqrt(bc2);
    float decay = (float) (1 - lr * weightDecay), epsf = (float) eps;
    for (int i = 0; i < w.length; i++) {
      w[i] *= decay;
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      w[i] -= stepSize * m[i] / ((float) Math.sqrt(v[i]) / sqrtBc2 + epsf);
    }
  }

  @Override
  public LinkedHashMap<String, Tensor> stateDict() {
    return new LinkedHashMap<>(state);
  }

  @Override
  public String describe() {
    return "adamw(lr=" + lr + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps + ", weight_decay=" + weightDecay + ")";
  }
}
