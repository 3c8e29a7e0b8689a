package dev.lowbit.nn;

import java.util.Locale;

/**
 * Which normalization layers a model builds: {@code L2} (BatchNorm, LayerNorm) or {@code L1}
 * (mean-absolute-deviation norms, {@link L1BatchNorm}, {@link L1LayerNorm}; policy option
 * {@code normalization l1}).
 */
public enum Normalization {
  L2,
  L1;

  /** A batch norm over {@code channels}. */
  public Module batchNorm(int channels) {
    return this == L1 ? new L1BatchNorm(channels) : new BatchNorm(channels);
  }

  /** A layer norm over the last {@code dim} features. */
  public Module layerNorm(int dim) {
    return this == L1 ? new L1LayerNorm(dim) : new LayerNorm(dim);
  }

  /**
   * Parses {@code l2} or {@code l1} (the policy option's values).
   *
   * @throws IllegalArgumentException naming the bad value and the valid ones
   */
  public static Normalization parse(String s) {
    String v = s == null ? "" : s.strip().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "l2" -> L2;
      case "l1" -> L1;
      default -> throw new IllegalArgumentException("normalization '" + s + "': valid are l2, l1");
    };
  }
}
