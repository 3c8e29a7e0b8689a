package dev.lowbit.train;

import dev.lowbit.autograd.Var;
import dev.lowbit.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam with decoupled weight decay (Loshchilov &amp; Hutter, "Decoupled Weight Decay
 * Regularization", 2019), PyTorch's formulation: w ← w·(1 − lr·wd), then the bias-corrected Adam
 * step. Parameters and moments equal PyTorch 1.13's {@code torch.optim.AdamW} on CPU bit for bit
 * (its AVX2/AVX-512 kernels; a PyTorch without them does not fuse multiply-adds), as {@code
 * OptimizerPyTorchReferenceTest} checks.
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

  /**
   * One step, with PyTorch 1.13's arithmetic ({@code torch.optim.AdamW}, single-tensor path, on its
   * vectorized CPU kernels): every coefficient is computed in double, as PyTorch's Python floats
   * are, and rounded to float once; the tensor operations are float32, and its {@code add_(x,
   * alpha)} and {@code addcmul_} fuse their multiply-add (one rounding), which {@link Math#fma}
   * reproduces. Per element, with {@code c1 = (float) (1 − β₁)} and {@code c2 = (float) (1 − β₂)}:
   * <pre>
   * w ← w·(float)(1 − lr·wd)
   * m ← fma(g, c1, m·(float) β₁)                     exp_avg.mul_(β₁).add_(g, alpha=1−β₁)
   * v ← fma(c2·g, g, v·(float) β₂)                   exp_avg_sq.mul_(β₂).addcmul_(g, g, value=1−β₂)
   * w ← w + ((float)(−lr/bc₁)·m) / (√v / (float) √bc₂ + (float) ε)   param.addcdiv_(m, denom, value=−step_size)
   * </pre>
   * with the bias corrections {@code bc = 1 − β^step} in double. Computing {@code 1 − β₂} in float
   * instead gives 1 − 0.999f = 0.000999987125, 1.29e-5 relative below PyTorch's (float) 0.001, in
   * every second moment.
   */
  @Override
  protected void update(String name, float[] w, float[] g) {
    float[] m = state.get(name + "/exp_avg").data(), v = state.get(name + "/exp_avg_sq").data();
    float b1 = (float) beta1, b2 = (float) beta2, c1 = (float) (1 - beta1), c2 = (float) (1 - beta2);
    // PyTorch raises to a Python float step with C's pow; StrictMath gives the same bits on every JVM
    double bc1 = 1 - StrictMath.pow(beta1, steps), bc2 = 1 - StrictMath.pow(beta2, steps);
    float negStepSize = (float) -(lr / bc1);
    float sqrtBc2 = (float) Math.sqrt(bc2);
    float decay = (float) (1 - lr * weightDecay), epsf = (float) eps;
    // elementwise: any split over threads gives the serial loop's values
    dev.lowbit.kernel.Parallel.forRange(w.length, 8, (lo, hi) -> {
      for (int i = lo; i < hi; i++) {
        float gi = g[i];
        float mi = Math.fma(gi, c1, m[i] * b1);
        float vi = Math.fma(c2 * gi, gi, v[i] * b2);
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * decay + (negStepSize * mi) / ((float) Math.sqrt(vi) / sqrtBc2 + epsf);
      }
    });
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
