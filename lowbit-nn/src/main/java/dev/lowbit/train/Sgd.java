package dev.lowbit.train;

import dev.lowbit.autograd.Var;
import dev.lowbit.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SGD with momentum, Nesterov momentum and (coupled, L2) weight decay, with PyTorch's update rule:
 * g ← g + wd·w; b ← g on the first step, else μ·b + (1−dampening)·g; w ← w − lr·(g + μ·b if
 * Nesterov else b). Parameters and momentum buffers equal PyTorch 1.13's {@code torch.optim.SGD}
 * on CPU bit for bit (its AVX2/AVX-512 kernels), as {@code OptimizerPyTorchReferenceTest} checks.
 */
public final class Sgd extends Optimizer {

  private final double momentum, dampening, weightDecay;
  private final boolean nesterov;
  private final LinkedHashMap<String, Tensor> buffers = new LinkedHashMap<>();

  public Sgd(Map<String, Var> params, double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
    super(params, lr);
    if (momentum < 0 || weightDecay < 0) {
      throw new IllegalArgumentException("momentum and weight decay must be >= 0, got " + momentum + ", " + weightDecay);
    }
    if (nesterov && (momentum <= 0 || dampening != 0)) {
      throw new IllegalArgumentException("Nesterov momentum needs momentum > 0 and dampening 0");
    }
    this.momentum = momentum;
    this.dampening = dampening;
    this.weightDecay = weightDecay;
    this.nesterov = nesterov;
    if (momentum != 0) {
      for (var e : this.params.entrySet()) buffers.put(e.getKey() + "/momentum", Tensor.zeros(e.getValue().shape()));
    }
  }

  public Sgd(Map<String, Var> params, double lr, double momentum) {
    this(params, lr, momentum, 0, 0, false);
  }

  /**
   * One step, with PyTorch 1.13's arithmetic ({@code torch.optim.SGD}, single-tensor path, on its
   * vectorized CPU kernels): the coefficients are doubles rounded to float once, and each {@code
   * add(x, alpha)} is a fused multiply-add (one rounding), as {@link Math#fma} is:
   * <pre>
   * d ← fma(w, (float) wd, g)                       g.add(param, alpha=wd), when wd ≠ 0
   * b ← d on the first step, else fma(d, (float)(1 − dampening), b·(float) μ)
   * d ← fma(b, (float) μ, d) if Nesterov, else b
   * w ← fma(d, (float) −lr, w)                      param.add_(d, alpha=−lr)
   * </pre>
   */
  @Override
  protected void update(String name, float[] w, float[] g) {
    float negLr = (float) -lr, mu = (float) momentum, wd = (float) weightDecay, damp = (float) (1 - dampening);
    float[] buf = momentum != 0 ? buffers.get(name + "/momentum").data() : null;
    boolean first = steps == 1; // PyTorch starts the buffer at the first gradient, not at zero
    boolean nest = nesterov, decays = weightDecay != 0;
    // elementwise: any split over threads gives the serial loop's values
    dev.lowbit.kernel.Parallel.forRange(w.length, 4, (lo, hi) -> {
      for (int i = lo; i < hi; i++) {
        float d = g[i];
        if (decays) d = Math.fma(w[i], wd, d);
        if (buf != null) {
          buf[i] = first ? d : Math.fma(d, damp, buf[i] * mu);
          d = nest ? Math.fma(buf[i], mu, d) : buf[i];
        }
        w[i] = Math.fma(d, negLr, w[i]);
      }
    });
  }

  @Override
  public LinkedHashMap<String, Tensor> stateDict() {
    return new LinkedHashMap<>(buffers);
  }

  @Override
  public String describe() {
    return "sgd(lr=" + lr + ", momentum=" + momentum + (nesterov ? ", nesterov" : "") + ", weight_decay=" + weightDecay + ")";
  }
}
