package dev.lowbit.train;

import dev.lowbit.autograd.Var;
import dev.lowbit.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/** An optimizer over named parameters, with PyTorch's surface: zeroGrad, step, state dict. */
public abstract class Optimizer {

  protected final LinkedHashMap<String, Var> params;
  protected double lr;
  protected long steps;

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
