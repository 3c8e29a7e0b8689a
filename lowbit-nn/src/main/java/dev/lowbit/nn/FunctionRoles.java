package dev.lowbit.nn;

import dev.lowbit.numerics.FunctionEval;
import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.numerics.Approximation;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Role;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * How a layer asks the installed policy ({@link Compute#numerics()}) for the approximation of one
 * of its non-linear functions: once per forward call, handing the result to the op. Without
 * numerics, or without a rule for the (layer, role), the answer is exact: the op's own code.
 */
public final class FunctionRoles {

  private FunctionRoles() {}

  /**
   * A module that computes non-linear functions: {@link Numerics#sites} lists its function sites.
   * A module names a function by itself (an activation layer, a norm, an attention's softmax) or,
   * for an activation applied to a child layer's output inside a model, by that child (the ReLU
   * after {@code fc1} is {@code fc1 relu}).
   */
  public interface Layer {
    /** The (layer, function role) pairs this module asks the policy about (rank 0). */
    List<Policy.Site> functionSites();
  }

  /** Sites of {@code roles} for layer {@code layer}. */
  public static List<Policy.Site> sites(String layer, Collection<Role> roles) {
    List<Policy.Site> out = new ArrayList<>();
    for (Role r : roles) out.add(new Policy.Site(layer, r, 0));
    return out;
  }

  /** ReLU of {@code x}, the output of layer {@code layer}, as the policy's relu role for it says. */
  public static Var relu(String layer, Var x) {
    return Ops.relu(x, eval(layer, Role.RELU));
  }

  /** The policy's approximation of (layer, role); exact without numerics. */
  public static Approximation approximation(String layer, Role role) {
    Numerics n = Compute.numerics();
    return n == null ? Approximation.EXACT : n.policy().approximation(layer, role);
  }

  /** The evaluation of function role {@code role} (not {@link Role#EXP}) for an op of {@code layer}. */
  public static FunctionEval eval(String layer, Role role) {
    return approximation(layer, role).eval(role);
  }

  /**
   * The evaluation of a softmax of {@code layer}: its {@link Role#EXP} approximation computes the
   * exponentials, its {@link Role#SOFTMAX} approximation the function around them.
   */
  public static FunctionEval softmax(String layer) {
    Approximation whole = approximation(layer, Role.SOFTMAX), exp = approximation(layer, Role.EXP);
    return exact -> whole.of(Role.SOFTMAX, exp.softmax(exact));
  }

  /** The roles of a softmax: the function and its exponentials. */
  public static final Set<Role> SOFTMAX_ROLES = Collections.unmodifiableSet(EnumSet.of(Role.SOFTMAX, Role.EXP));
}
