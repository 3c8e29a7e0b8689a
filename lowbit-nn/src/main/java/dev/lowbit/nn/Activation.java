package dev.lowbit.nn;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.numerics.Role;
import dev.lowbit.numerics.Policy;
import java.util.List;
import java.util.Set;

/**
 * Parameter-free elementwise or row-wise layers: ReLU, GELU (erf or tanh form), Tanh, Softmax.
 * Each is a function role of the layer (relu, gelu, tanh, softmax and exp): the policy says how it
 * is evaluated.
 */
public final class Activation extends Module implements FunctionRoles.Layer {

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
  public List<Policy.Site> functionSites() {
    return FunctionRoles.sites(name(), switch (kind) {
      case RELU -> Set.of(Role.RELU);
      case GELU, GELU_TANH -> Set.of(Role.GELU);
      case TANH -> Set.of(Role.TANH);
      case SOFTMAX -> FunctionRoles.SOFTMAX_ROLES;
    });
  }

  @Override
  public Var forward(Var x) {
    return switch (kind) {
      case RELU -> Ops.relu(x, FunctionRoles.eval(name(), Role.RELU));
      case GELU -> Ops.gelu(x, false, FunctionRoles.eval(name(), Role.GELU));
      case GELU_TANH -> Ops.gelu(x, true, FunctionRoles.eval(name(), Role.GELU));
      case TANH -> Ops.tanh(x, FunctionRoles.eval(name(), Role.TANH));
      case SOFTMAX -> Ops.softmax(x, FunctionRoles.softmax(name()));
    };
  }
}
