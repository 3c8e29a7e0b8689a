package dev.lowbit.train;

import dev.lowbit.autograd.Var;
import dev.lowbit.format.Quantizer;
import dev.lowbit.nn.Numerics;
import dev.lowbit.numerics.Role;
import dev.lowbit.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** An optimizer over named parameters, with PyTorch's surface: zeroGrad, step, state dict. */
public abstract class Optimizer {

  protected final LinkedHashMap<String, Var> params;
  protected double lr;
  protected long steps;
  private Numerics numerics;

  protected Optimizer(Map<String, Var> params, double lr) {
    if (!(lr >= 0)) throw new IllegalArgumentException("learning rate must be >= 0, got " + lr);
    this.params = new LinkedHashMap<>(params);
    this.lr = lr;
  }

  public final void zeroGrad() {
    for (Var v : params.values()) v.zeroGrad();
  }

  /** Applies one update from the accumulated gradients. */
  public final void step() {
    steps++;
    for (var e : params.entrySet()) {
      Var p = e.getValue();
      if (p.grad() == null) continue;
      update(e.getKey(), p.data(), p.grad());
    }
    if (numerics != null) applyPolicy();
  }

  /**
   * Under a numerics policy, the optimizer quantizes after each update: the stored weights where
   * the policy has a {@link Role#MASTER_WEIGHT} rule for the layer (none: the master stays fp32)
   * and its state tensors (momentum, Adam moments) where it has an {@link Role#OPTIMIZER_STATE}
   * rule. Null turns this off.
   */
  public final void setNumerics(Numerics n) {
    this.numerics = n;
  }

  private void applyPolicy() {
    for (var e : params.entrySet()) {
      Optional<Quantizer> q = numerics.policy().lookup(layerOf(e.getKey()), Role.MASTER_WEIGHT);
      if (q.isPresent()) quantizeInPlace(q.get(), e.getKey(), Role.MASTER_WEIGHT, e.getValue().value());
    }
    for (var e : stateDict().entrySet()) {
      String key = e.getKey();
      int slash = key.indexOf('/');
      String param = slash < 0 ? key : key.substring(0, slash);
      Optional<Quantizer> q = numerics.policy().lookup(layerOf(param), Role.OPTIMIZER_STATE);
      if (q.isPresent()) quantizeInPlace(q.get(), key, Role.OPTIMIZER_STATE, e.getValue());
    }
  }

  private void quantizeInPlace(Quantizer q, String key, Role role, Tensor t) {
    q.quantize(t.data(), t.shape(), t.data(), numerics.seed(), numerics.stream(key, role, 0));
  }

  /** The layer of a parameter name: "layer1.conv1.weight" → "layer1.conv1". */
  static String layerOf(String param) {
    int dot = param.lastIndexOf('.');
    return dot < 0 ? param : param.substring(0, dot);
  }

  protected abstract void update(String name, float[] w, float[] g);

  public final double lr() {
    return lr;
  }

  public final void setLr(double lr) {
    this.lr = lr;
  }

  public final long steps() {
    return steps;
  }

  /** Optimizer state tensors by name ("param.name/momentum"), shared, plus the step count. */
  public abstract LinkedHashMap<String, Tensor> stateDict();

  /** Restores the state written by {@link #stateDict()}. */
  public void loadStateDict(Map<String, Tensor> state, long steps, String source) {
    LinkedHashMap<String, Tensor> mine = stateDict();
    for (var e : mine.entrySet()) {
      Tensor t = state.get(e.getKey());
      if (t == null) throw new IllegalArgumentException(source + ": missing optimizer tensor '" + e.getKey() + "'");
      if (!t.sameShape(e.getValue())) {
        throw new IllegalArgumentException(source + ": optimizer tensor '" + e.getKey() + "' has shape "
            + t.shapeString() + ", expected " + e.getValue().shapeString());
      }
      System.arraycopy(t.data(), 0, e.getValue().data(), 0, t.size());
    }
    this.steps = steps;
  }

  public abstract String describe();
}
