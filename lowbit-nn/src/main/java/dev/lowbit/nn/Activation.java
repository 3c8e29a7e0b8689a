package dev.lowbit.nn;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;

/** Parameter-free elementwise or row-wise layers: ReLU, GELU (erf or tanh form), Tanh, Softmax. */
public final class Activation extends Module {

  public enum Kind { RELU, GELU, GELU_TANH, TANH, SOFTMAX }

  private final Kind kind;

  public Activation(Kind kind) {
    this.kind = kind;
  }

  public static Activation relu() {
    return new Activation(Kind.RELU);
  }

  public static Activation gelu() {
    return new Activation(Kind.GELU);
  }

  public Kind kind() {
    return kind;
  }

  @Override
  public Var forward(Var x) {
    return switch (kind) {
      case RELU -> Ops.relu(x);
      case GELU -> Ops.gelu(x, false);
      case GELU_TANH -> Ops.gelu(x, true);
      case TANH -> Ops.tanh(x);
      case SOFTMAX -> Ops.softmax(x);
    };
  }
}
