package dev.lowbit.autograd;

import dev.lowbit.tensor.Tensor;
import java.util.Arrays;

/**
 * A value in the autograd graph: a tensor, and (when it requires a gradient) a gradient tensor of
 * the same shape that backward passes accumulate into. Parameters keep their gradient array
 * between steps (zeroed, not reallocated), so memory does not grow with training length.
 */
public final class Var {

  private final Tensor value;
  private final boolean requiresGrad;
  private final boolean parameter;
  private float[] grad;
  private boolean zeroPending; // zeroGrad() was called: grad's contents are stale, logically all zero

  public Var(Tensor value, boolean requiresGrad) {
    this(value, requiresGrad, false);
  }

  private Var(Tensor value, boolean requiresGrad, boolean parameter) {
    this.value = value;
    this.requiresGrad = requiresGrad;
    this.parameter = parameter;
  }

  /** A leaf that needs no gradient (inputs, labels). */
  public static Var constant(Tensor t) {
    return new Var(t, false);
  }

  /** A trainable leaf. */
  public static Var parameter(Tensor t) {
    return new Var(t, true, true);
  }

  /** True for trainable leaves made by {@link #parameter}: their gradient persists across steps. */
  public boolean isParameter() {
    return parameter;
  }

  public Tensor value() {
    return value;
  }

  public float[] data() {
    return value.data();
  }

  public int[] shape() {
    return value.shape();
  }

  public int dim(int i) {
    return value.dim(i);
  }

  public int size() {
    return value.size();
  }

  public boolean requiresGrad() {
    return requiresGrad;
  }

  /** The gradient, or null when none has flowed here yet. */
  public float[] grad() {
    settleZero();
    return grad;
  }

  /** The gradient as a tensor of the value's shape, or null. */
  public Tensor gradTensor() {
    float[] g = grad();
    return g == null ? null : new Tensor(g, value.shape());
  }

  /**
   * The gradient array, allocated as zeros on first use (for accumulation): a fresh array for a
   * parameter (it persists), one from the {@link StepArena} for anything else (valid for the step).
   */
  public float[] gradForAccumulation() {
    if (grad == null) grad = parameter ? new float[value.size()] : StepArena.zeros(value.size());
    settleZero();
    return grad;
  }

  /**
   * The gradient array for a backward step whose contribution will overwrite every element, when
   * this is the first contribution since {@link #zeroGrad} (or ever): saves zeroing an array only
   * to add one product to it. Returns null when contributions are already there; add them to
   * {@link #gradForAccumulation()} then. The returned array's contents are arbitrary.
   */
  public float[] gradForOverwrite() {
    if (grad == null) {
      grad = StepArena.gradFor(this);
      return grad;
    }
    if (!zeroPending) return null;
    zeroPending = false;
    return grad;
  }

  private void settleZero() {
    if (zeroPending) {
      Arrays.fill(grad, 0f);
      zeroPending = false;
    }
  }

  /**
   * Installs {@code g} as the gradient when none has flowed here yet (a backward step that would
   * otherwise add its first contribution to a fresh zero array).
   *
   * @throws IllegalStateException when a gradient is already present
   */
  public void setGrad(float[] g) {
    if (grad != null) throw new IllegalStateException("gradient already present");
    if (g.length != value.size()) {
      throw new IllegalArgumentException("gradient has " + g.length + " values, expected " + value.size());
    }
    grad = g;
  }

  /**
   * Sets every gradient entry to zero, keeping the array. The zeros are written lazily: by the
   * next reader, unless the next backward step overwrites the array ({@link #gradForOverwrite}).
   */
  public void zeroGrad() {
    if (grad != null) zeroPending = true;
  }

  /** Forgets the gradient array (for intermediates after backward). */
  public void dropGrad() {
    grad = null;
    zeroPending = false;
  }

  /** The scalar value of a one-element tensor. */
  public float item() {
    if (value.size() != 1) {
      throw new IllegalArgumentException("item() needs a one-element tensor, got " + value.shapeString());
    }
    return value.data()[0];
  }

  /** Runs the recorded backward passes from this scalar (d this / d this = 1). */
  public void backward() {
    Tape.current().backward(this);
  }

  /**
   * Runs the recorded backward passes from {@code seed} instead of 1: every gradient comes out
   * multiplied by {@code seed} (loss scaling, Micikevicius et al., ICLR 2018).
   */
  public void backward(float seed) {
    Tape.current().backward(this, seed);
  }

  @Override
  public String toString() {
    return "Var" + value.shapeString() + (requiresGrad ? " (grad)" : "");
  }
}
