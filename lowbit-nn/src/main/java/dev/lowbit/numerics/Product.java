package dev.lowbit.numerics;

import java.util.Locale;

/**
 * Which of a layer's three training GEMMs an arithmetic rule (multiplier, accumulator) applies to.
 * Recipes differ here: narrow accumulators are often fine-tuned for the forward product only, DFP16
 * runs all three in integers.
 */
public enum Product {
  /** activation × weight → output. */
  FORWARD("forward"),
  /** output gradient × weight → input gradient. */
  BACKWARD_DATA("backward-data"),
  /** output gradient × activation → weight gradient. */
  BACKWARD_WEIGHT("backward-weight");

  private final String label;

  Product(String label) {
    this.label = label;
  }

  /** The name used in policy files and JSON. */
  public String label() {
    return label;
  }

  /**
   * Parses a product name (case-insensitive, {@code _} for {@code -}).
   *
   * @throws IllegalArgumentException naming the bad value and the valid ones
   */
  public static Product parse(String s) {
    if (s != null) {
      String k = s.trim().toLowerCase(Locale.ROOT).replace('_', '-');
      for (Product p : values()) {
        if (p.label.equals(k)) return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown product '" + s + "'; valid: forward, backward-data, backward-weight");
  }

  @Override
  public String toString() {
    return label;
  }
}
