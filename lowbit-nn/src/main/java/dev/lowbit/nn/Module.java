package dev.lowbit.nn;

import dev.lowbit.autograd.Var;
import dev.lowbit.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A layer or a model, with PyTorch's surface: {@link #parameters()}, {@link #zeroGrad()}, {@link
 * #train()}/{@link #eval()}, {@link #stateDict()}. Every module has a hierarchical name
 * ("features.0", "fc1") given by where its parent registered it; numerics policies key on it.
 */
public abstract class Module {

  private String name = "";
  private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
  private final LinkedHashMap<String, Var> params = new LinkedHashMap<>();
  private final LinkedHashMap<String, Tensor> buffers = new LinkedHashMap<>();
  private boolean training = true;
  private long step;

  /** Applies the module. */
  public abstract Var forward(Var x);

  /** The hierarchical name ("" for the root). */
  public final String name() {
    return name;
  }

  protected final <M extends Module> M register(String local, M child) {
    if (children.containsKey(local) || params.containsKey(local)) {
      throw new IllegalArgumentException("duplicate module name '" + local + "' in " + getClass().getSimpleName());
    }
    children.put(local, child);
    child.rename(join(name, local));
    return child;
  }

  protected final Var param(String local, Tensor t) {
    Var v = Var.parameter(t);
    params.put(local, v);
    return v;
  }

  protected final Tensor buffer(String local, Tensor t) {
    buffers.put(local, t);
    return t;
  }

  void rename(String prefix) {
    name = prefix;
    for (var e : children.entrySet()) e.getValue().rename(join(prefix, e.getKey()));
  }

  static String join(String a, String b) {
    return a.isEmpty() ? b : a + "." + b;
  }

  /** Direct children in registration order. */
  public final Map<String, Module> children() {
    return java.util.Collections.unmodifiableMap(children);
  }

  /** All trainable parameters with their full names, in registration order (depth first). */
  public final LinkedHashMap<String, Var> namedParameters() {
    LinkedHashMap<String, Var> out = new LinkedHashMap<>();
    collectParams("", out);
    return out;
  }

  private void collectParams(String prefix, Map<String, Var> out) {
    for (var e : params.entrySet()) out.put(join(prefix, e.getKey()), e.getValue());
    for (var e : children.entrySet()) e.getValue().collectParams(join(prefix, e.getKey()), out);
  }

  public final List<Var> parameters() {
    return new ArrayList<>(namedParameters().values());
  }

  /** Number of trainable scalars. */
  public final long parameterCount() {
    long n = 0;
    for (Var v : parameters()) n += v.size();
    return n;
  }

  public final void zeroGrad() {
    for (Var v : parameters()) v.zeroGrad();
  }

  /** Parameters and buffers (e.g. batch-norm running statistics) by full name; tensors are shared. */
  public final LinkedHashMap<String, Tensor> stateDict() {
    LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
    collectState("", out);
    return out;
  }

  private void collectState(String prefix, Map<String, Tensor> out) {
    for (var e : params.entrySet()) out.put(join(prefix, e.getKey()), e.getValue().value());
    for (var e : buffers.entrySet()) out.put(join(prefix, e.getKey()), e.getValue());
    for (var e : children.entrySet()) e.getValue().collectState(join(prefix, e.getKey()), out);
  }

  /**
   * Copies values into this module's parameters and buffers. Every entry of the state dict must be
   * present with the same shape (a missing, extra or mis-shaped tensor is an error naming it).
   */
  public final void loadStateDict(Map<String, Tensor> state, String source) {
    LinkedHashMap<String, Tensor> mine = stateDict();
    for (var e : mine.entrySet()) {
      Tensor src = state.get(e.getKey());
      if (src == null) {
        throw new IllegalArgumentException(source + ": missing tensor '" + e.getKey() + "'");
      }
      if (!src.sameShape(e.getValue())) {
        throw new IllegalArgumentException(source + ": tensor '" + e.getKey() + "' has shape "
            + src.shapeString() + ", the model needs " + e.getValue().shapeString());
      }
    }
    for (String k : state.keySet()) {
      if (!mine.containsKey(k)) {
        throw new IllegalArgumentException(source + ": unexpected tensor '" + k + "' (not in the model)");
      }
    }
    for (var e : mine.entrySet()) {
      float[] d = e.getValue().data();
      System.arraycopy(state.get(e.getKey()).data(), 0, d, 0, d.length);
    }
  }

  public final Module train() {
    setTraining(true);
    return this;
  }

  public final Module eval() {
    setTraining(false);
    return this;
  }

  private void setTraining(boolean on) {
    training = on;
    for (Module m : children.values()) m.setTraining(on);
  }

  public final boolean isTraining() {
    return training;
  }

  /** Tells stochastic layers (dropout) which optimizer step this is, so their masks are reproducible. */
  public final void setStep(long s) {
    step = s;
    for (Module m : children.values()) m.setStep(s);
  }

  protected final long step() {
    return step;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    describe(sb, "", "");
    return sb.toString();
  }

  private void describe(StringBuilder sb, String indent, String local) {
    sb.append(indent).append(local.isEmpty() ? "" : local + ": ").append(getClass().getSimpleName());
    for (var e : params.entrySet()) sb.append(' ').append(e.getKey()).append(Arrays.toString(e.getValue().shape()));
    sb.append('\n');
    for (var e : children.entrySet()) e.getValue().describe(sb, indent + "  ", e.getKey());
  }
}
