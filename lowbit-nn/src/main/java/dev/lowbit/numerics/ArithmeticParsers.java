package dev.lowbit.numerics;

import java.util.Locale;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

/**
 * Checks the strings of accumulator and multiplier rules and returns their canonical form. The
 * policy stores the canonical strings; the GEMM layer parses them into its own values.
 *
 * <p>{@link #DEFAULT} checks the grammar of {@code kernel.Accumulator.parse} and {@code
 * kernel.Multiplier.parse} syntactically; once those classes are on the same branch it becomes
 * {@code new ArithmeticParsers(s -> Accumulator.parse(s).spec(), s -> Multiplier.parse(s).spec())}.
 */
public record ArithmeticParsers(UnaryOperator<String> accumulator, UnaryOperator<String> multiplier) {

  /** The parsers every policy uses unless told otherwise. */
  public static final ArithmeticParsers DEFAULT =
      new ArithmeticParsers(ArithmeticParsers::accumulatorSyntax, ArithmeticParsers::multiplierSyntax);

  private static final String SIMPLE_ACC = "(?:fp32|int\\d+(?::wrap|:sat|:saturate)?"
      + "|(?:e\\d+m\\d+|m\\d+e\\d+)(?::(?:rtz|rne|sr|stochastic|nouf|uf|b=-?\\d+|pb=-?\\d+"
      + "|p=(?:e\\d+m\\d+|m\\d+e\\d+)))*)";
  private static final Pattern ACC =
      Pattern.compile(SIMPLE_ACC + "(?:/c[1-9]\\d*(?:/" + SIMPLE_ACC + ")?)?");
  private static final Pattern MUL = Pattern.compile("exact|lmul\\d+(?::rne|:trunc)?");

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

  /** Syntax check of an accumulator string; returns it trimmed and in lower case. */
  static String accumulatorSyntax(String s) {
    String t = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
    if (!ACC.matcher(t).matches()) {
      throw new IllegalArgumentException("unknown accumulator '" + s + "'; valid: fp32, int32, "
          + "intN[:wrap|:sat], eXmY or mYeX with options :rtz|:rne|:sr :b=BIAS :nouf :p=eXmY "
          + ":pb=BIAS, optionally chunked as INNER/cC[/OUTER] (e.g. e4m7/c16)");
    }
    return t;
  }

  /** Syntax check of a multiplier string; returns it trimmed and in lower case. */
  static String multiplierSyntax(String s) {
    String t = s == null ? "" : s.trim().toLowerCase(Locale.ROOT);
    if (!MUL.matcher(t).matches()) {
      throw new IllegalArgumentException(
          "unknown multiplier '" + s + "'; valid: exact, lmulM[:rne|:trunc] (M = 1..23)");
    }
    return t;
  }
}
