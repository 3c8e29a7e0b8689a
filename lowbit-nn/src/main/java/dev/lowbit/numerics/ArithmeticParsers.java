package dev.lowbit.numerics;

import dev.lowbit.kernel.Accumulator;
import dev.lowbit.kernel.Multiplier;
import java.util.function.UnaryOperator;

/**
 * Checks the strings of accumulator and multiplier rules and returns their canonical form. The
 * policy stores the canonical strings; the GEMM layer parses them into its own values
 * ({@link Accumulator#parse}, {@link Multiplier#parse}).
 */
public record ArithmeticParsers(UnaryOperator<String> accumulator, UnaryOperator<String> multiplier) {

  /** The kernel layer's own parsers: every policy uses them unless told otherwise. */
  public static final ArithmeticParsers DEFAULT =
      new ArithmeticParsers(s -> Accumulator.parse(s).spec(), s -> Multiplier.parse(s).spec());

  public ArithmeticParsers {
    if (accumulator == null || multiplier == null) {
      throw new IllegalArgumentException("both an accumulator and a multiplier parser are needed");
    }
  }

  /** The parser for a role's spec strings. */
  public UnaryOperator<String> forRole(Role role) {
    return switch (role) {
      case ACCUMULATOR -> accumulator;
      case MULTIPLIER -> multiplier;
      default -> throw new IllegalArgumentException(role + " is a tensor role, not an arithmetic one");
    };
  }
}
