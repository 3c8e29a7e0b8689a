package dev.lowbit.format;

import java.util.Locale;

/**
 * Which elements share a scale or exponent: the whole tensor, each index along an axis (channel),
 * or runs of {@code size} consecutive indices along an axis (block). Negative axes count from the
 * end (-1 is the last axis).
 */
public sealed interface Granularity {

  /**
   * How a fixed-grid minifloat is scaled: {@link #NONE} uses its grid as it is; {@link #AMAX}
   * divides the tensor by one fp32 scale {@code s = amax / maxFinite} first, so that the tensor's
   * largest magnitude lands on the format's largest finite value (the per-tensor scaling of FP8
   * training, Micikevicius et al., "FP8 Formats for Deep Learning", arXiv 2209.05433, 2022).
   */
  enum Scaling { NONE, AMAX }

  /** One scale for the whole tensor; {@code scaling} says how a minifloat's scale is chosen. */
  record PerTensor(Scaling scaling) implements Granularity {
    public PerTensor {
      java.util.Objects.requireNonNull(scaling, "scaling");
    }

    /** Per tensor without a minifloat scale (the grid as it is, or an integer's dynamic scale). */
    public PerTensor() {
      this(Scaling.NONE);
    }

    @Override
    public String toString() {
      return scaling == Scaling.NONE ? "PerTensor[]" : "PerTensor[" + scaling.name().toLowerCase(Locale.ROOT) + "]";
    }
  }

  /**
   * One scale for the whole tensor from the β-quantile α of |x| ({@link Percentile#alpha}), for a
   * dynamic signed integer: the code of x is {@code rint(x·(D/2)/α)} (half to even, in double, so
   * that at β = 1 the largest entry lands on the tie D/2), limited only by the integer's range, and
   * its value is the code times the fp32 scale {@code 2α/D}. IM-Unpack's round-to-nearest without
   * clipping (Zeng, Sankaralingam, Singh, ICML 2024): entries above α get codes above the grid of D
   * values, which the unpacked GEMM handles exactly.
   *
   * @param beta the percentile, in (0, 1]
   * @param distinct D, the number of distinct values the grid holds up to α (1..2^24; 2^b − 1 fits
   *     a signed b-bit integer)
   */
  record Quantile(double beta, int distinct) implements Granularity {
    /** The most distinct values: x·D/2 is exact in double for any float x. */
    public static final int MAX_DISTINCT = 1 << 24;

    public Quantile {
      Percentile.checkBeta(beta);
      if (distinct < 1 || distinct > MAX_DISTINCT) {
        throw new IllegalArgumentException("distinct values D = " + distinct + "; valid: 1.." + MAX_DISTINCT);
      }
    }
  }

  /** One scale per index along {@code axis}. */
  record PerChannel(int axis) implements Granularity {}

  /** One scale per {@code size} consecutive elements along {@code axis}. */
  record PerBlock(int size, int axis) implements Granularity {
    public PerBlock {
      if (size < 1) throw new IllegalArgumentException("block size " + size + " must be >= 1");
      if (size > BlockFormat.MAX_BLOCK) {
        throw new IllegalArgumentException("block size " + size + " must be <= " + BlockFormat.MAX_BLOCK);
      }
    }
  }

  static Granularity perTensor() {
    return new PerTensor();
  }

  /** Per tensor with a minifloat scale from the tensor's largest magnitude. */
  static Granularity perTensorAmax() {
    return new PerTensor(Scaling.AMAX);
  }

  static Granularity perChannel(int axis) {
    return new PerChannel(axis);
  }

  static Granularity perBlock(int size, int axis) {
    return new PerBlock(size, axis);
  }

  /**
   * Parses {@code tensor}, {@code tensor:amax} (minifloats scaled by the tensor's largest
   * magnitude), {@code channel[:AXIS]} (default axis 0) or {@code block:SIZE[:AXIS]} (default axis
   * -1).
   */
  static Granularity parse(String s) {
    String[] p = s == null ? new String[] {""} : s.trim().toLowerCase(Locale.ROOT).split(":", -1);
    try {
      switch (p[0]) {
        case "tensor" -> {
          if (p.length == 1) return perTensor();
          if (p.length == 2 && p[1].equals("amax")) return perTensorAmax();
          if (p.length == 2) {
            throw new IllegalArgumentException("unknown per-tensor scaling '" + p[1] + "' in '" + s
                + "'; valid: tensor, tensor:amax");
          }
        }
        case "channel" -> {
          if (p.length <= 2) return perChannel(p.length == 2 ? number(p[1]) : 0);
        }
        case "block" -> {
          if (p.length == 2 || p.length == 3) {
            return perBlock(number(p[1]), p.length == 3 ? number(p[2]) : -1);
          }
        }
        default -> {}
      }
    } catch (NumberFormatException e) {
      // falls through to the error below
    }
    throw new IllegalArgumentException("unknown granularity '" + s
        + "'; valid: tensor, tensor:amax, channel[:AXIS], block:SIZE[:AXIS]");
  }

  /** An ASCII decimal integer (Integer.parseInt alone would take other scripts' digits and a '+'). */
  private static int number(String s) {
    if (!s.matches("-?[0-9]{1,10}")) throw new NumberFormatException(s);
    return Integer.parseInt(s);
  }

  /** Resolves a possibly negative axis against a rank. */
  static int resolveAxis(int axis, int rank) {
    int a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= rank) {
      throw new IllegalArgumentException("axis " + axis + " is outside a tensor of rank " + rank);
    }
    return a;
  }
}
