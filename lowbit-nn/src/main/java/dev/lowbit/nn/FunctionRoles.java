package dev.lowbit.nn;

import dev.lowbit.autograd.FunctionEval;
import dev.lowbit.numerics.Approximation;
import dev.lowbit.numerics.Role;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * How a layer asks the installed policy ({@link Compute#numerics()}) for the approximation of one
 * of its non-linear functions: once per forward call, handing the result to the op. Without
 * numerics, or without a rule for the (layer, role), the answer is exact: the op's own code.
 */
public final class FunctionRoles {

  private FunctionRoles() {}

  /** A module that computes non-linear functions under its own name: {@link Numerics#sites} lists them. */
  public interface Layer {
    /** The function roles this module asks the policy about. */
    Set<Role> functionRoles();
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
