package dev.lowbit.format;

import java.util.Locale;

/**
 * How a value between two representable neighbours is resolved. Every mode is applied to a value
 * already scaled so that the neighbours are consecutive integers; {@link #round(double, boolean,
 * double)} does that last step for sign-magnitude formats and {@link #roundSigned} for two's
 * complement ones.
 */
public enum Rounding {
  /** Round to nearest, ties to the even neighbour (IEEE 754 default). */
  NEAREST_EVEN("nearest-even", "rne"),
  /** Round to nearest, ties away from zero (C {@code round}, several peers and some hardware). */
  NEAREST_AWAY("nearest-away", "rna"),
  /** Round up with probability equal to the distance from the lower neighbour (seeded, reproducible). */
  STOCHASTIC("stochastic", "sr"),
  /** Truncate toward zero. */
  TOWARD_ZERO("toward-zero", "rtz"),
  /** Round toward negative infinity. */
  FLOOR("floor", "rd");

  private final String label;
  private final String alias;

  Rounding(String label, String alias) {
    this.label = label;
    this.alias = alias;
  }

  /** The name used on the command line and in configs. */
  public String label() {
    return label;
  }

  /** True when this mode draws random bits. */
  public boolean isStochastic() {
    return this == STOCHASTIC;
  }

  /**
   * Rounds a non-negative magnitude {@code y} to an integer. {@code negative} says whether the value
   * it came from was negative (matters for {@link #FLOOR}); {@code u} is a uniform draw in [0, 1),
   * used only by {@link #STOCHASTIC}.
   */
  public double round(double y, boolean negative, double u) {
    return switch (this) {
      case NEAREST_EVEN -> Math.rint(y);
      case NEAREST_AWAY -> Math.floor(y + 0.5);
      case STOCHASTIC -> Math.floor(y + u);
      case TOWARD_ZERO -> Math.floor(y);
      case FLOOR -> negative ? Math.ceil(y) : Math.floor(y);
    };
  }

  /** Rounds a signed value {@code y} to an integer; {@code u} as in {@link #round}. */
  public double roundSigned(double y, double u) {
    return switch (this) {
      case NEAREST_EVEN -> Math.rint(y);
      case NEAREST_AWAY -> Math.copySign(Math.floor(Math.abs(y) + 0.5), y);
      case STOCHASTIC -> Math.floor(y + u);
      case TOWARD_ZERO -> y < 0 ? Math.ceil(y) : Math.floor(y);
      case FLOOR -> Math.floor(y);
    };
  }

  /**
   * Parses a rounding name: {@code nearest-even|rne}, {@code nearest-away|rna}, {@code
   * stochastic|sr}, {@code toward-zero|rtz}, {@code floor|rd} (case-insensitive).
   *
   * @throws IllegalArgumentException naming the bad value and the valid ones
   */
  public static Rounding parse(String s) {
    if (s != null) {
      String k = s.trim().toLowerCase(Locale.ROOT).replace('_', '-');
      for (Rounding r : values()) {
        if (r.label.equals(k) || r.alias.equals(k)) return r;
      }
    }
    StringBuilder valid = new StringBuilder();
    for (Rounding r : values()) {
      if (!valid.isEmpty()) valid.append(", ");
      valid.append(r.label).append(" (").append(r.alias).append(')');
    }
    throw new IllegalArgumentException("unknown rounding '" + s + "'; valid: " + valid);
  }

  @Override
  public String toString() {
    return label;
  }
}
