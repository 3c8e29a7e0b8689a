package dev.lowbit.unpack;

import java.util.Locale;

/**
 * Which lines IM-Unpack splits (Zeng et al., ICML 2024). The declaration order is the order
 * {@link UnpackedGemm#choose} prefers on equal unpack ratios: COLUMN first (no output fix-up),
 * then ROW, then the greedy BOTH.
 */
public enum Strategy {
  /** UnpackColumn on A, then on Bᵀ: the inner dimension grows, exponents carried. */
  COLUMN,
  /** UnpackRow on A and on Bᵀ (B's columns): the output's rows and columns are recombined. */
  ROW,
  /** Greedy UnpackBoth on A (with B as partner), then on B'ᵀ (with A' as partner). */
  BOTH;

  /** The name in lower case: "column", "row", "both". */
  public String spec() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@link #spec()} (any case). */
  public static Strategy parse(String s) {
    for (Strategy v : values()) {
      if (v.spec().equalsIgnoreCase(s == null ? "" : s.strip())) return v;
    }
    throw new IllegalArgumentException("unknown unpack strategy '" + s + "'; valid: column, row, both");
  }
}
