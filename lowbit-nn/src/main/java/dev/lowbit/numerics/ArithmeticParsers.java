package dev.lowbit.numerics;

import dev.lowbit.kernel.Accumulator;
import dev.lowbit.kernel.Multiplier;
import java.util.function.Function;

/**
 * Parses the strings of accumulator and multiplier rules into the kernel layer's values, once, when
 * a policy is read ({@link Accumulator#parse}, {@link Multiplier#parse} by default); nothing parses
 * them again after that.
 */
public record ArithmeticParsers(Function<String, Accumulator> accumulator, Function<String, Multiplier> multiplier) {

  /** The kernel layer's own parsers: every policy uses them unless told otherwise. */
  public static final ArithmeticParsers DEFAULT = new ArithmeticParsers(Accumulator::parse, Multiplier::parse);

  public ArithmeticParsers {
    if (accumulator == null || multiplier == null) {
      throw new IllegalArgumentException("both an accumulator and a multiplier parser are needed");
    }
  }

  /** The rule for a role's spec string, for the given products. */
  public Spec.Arithmetic parse(Role role, String text, java.util.Set<Product> products) {
    return switch (role) {
      case ACCUMULATOR -> new Spec.Arithmetic(null, accumulator.apply(text), products);
      case MULTIPLIER -> new Spec.Arithmetic(multiplier.apply(text), null, products);
      default -> throw new IllegalArgumentException(role + " is a tensor role, not an arithmetic one");
    };
  }
}
