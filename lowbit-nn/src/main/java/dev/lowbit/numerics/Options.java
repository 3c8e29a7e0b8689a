package dev.lowbit.numerics;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The policy-wide settings a policy file may carry ({@code option KEY VALUE}). They record what a
 * method needs beyond per-tensor formats; the trainer reads them.
 *
 * <ul>
 *   <li>{@code loss-scale}: {@code none}, {@code dynamic} or a positive number (static scale)
 *       — Micikevicius et al., "Mixed Precision Training", ICLR 2018.
 *   <li>{@code error-quantizer}: {@code plain} or {@code shiftquant} (per-channel scales restricted
 *       to s0·2^-k, spec training-numerics §2.4).
 *   <li>{@code shift-max}: ShiftQuant's largest shift K, 0..16.
 *   <li>{@code normalization}: {@code l2} or {@code l1} (mean-absolute-deviation norm, §2.5).
 *   <li>{@code accumulator-stages}: {@code one} or {@code underflow-off-then-on} (the two-stage
 *       fine-tune of narrow accumulators, §3.4).
 *   <li>{@code accumulator-gradient}: {@code identity} (straight-through, default), {@code overflow},
 *       {@code underflow}, {@code swamp} or {@code all}: which accumulation events cut a product's
 *       gradient (§3.5, reconstructed).
 *   <li>{@code accumulator-bias}: {@code calibrated} (default: product and accumulator exponent
 *       biases from the largest product and the chunk size, §3.3) or {@code fixed} (as written).
 *   <li>{@code unpack-bits}: 2..8 — every product whose operands have integer codes scaled per
 *       tensor by a percentile ({@code per-tensor(quantile=B,distinct=D)}) runs through IM-Unpack on
 *       b-bit GEMMs (Zeng, Sankaralingam, Singh, ICML 2024); the result is the same exact integer
 *       product as without the option.
 * </ul>
 */
public final class Options {

  private Options() {}

  private static final Map<String, String> VALID = new LinkedHashMap<>();

  static {
    VALID.put("loss-scale", "none, dynamic or a positive number");
    VALID.put("error-quantizer", "plain, shiftquant");
    VALID.put("shift-max", "an integer 0..16");
    VALID.put("normalization", "l2, l1");
    VALID.put("accumulator-stages", "one, underflow-off-then-on");
    VALID.put("accumulator-gradient", "identity, overflow, underflow, swamp, all");
    VALID.put("accumulator-bias", "calibrated, fixed");
    VALID.put("unpack-bits", "an integer 2..8");
  }

  /** The known keys and, for each, what is valid. */
  public static Map<String, String> valid() {
    return java.util.Collections.unmodifiableMap(VALID);
  }

  /**
   * Checks one option and returns its canonical value.
   *
   * @throws IllegalArgumentException naming the bad key or value and what is valid
   */
  public static String check(String key, String value) {
    if (!VALID.containsKey(key)) {
      throw new IllegalArgumentException("unknown option '" + key + "'; valid: " + String.join(", ", VALID.keySet()));
    }
    String v = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
    boolean ok = switch (key) {
      case "loss-scale" -> v.equals("none") || v.equals("dynamic") || positive(v);
      case "error-quantizer" -> v.equals("plain") || v.equals("shiftquant");
      case "shift-max" -> v.matches("\\d{1,2}") && Integer.parseInt(v) <= 16;
      case "normalization" -> v.equals("l2") || v.equals("l1");
      case "accumulator-stages" -> v.equals("one") || v.equals("underflow-off-then-on");
      case "accumulator-gradient" -> v.matches("identity|overflow|underflow|swamp|all");
      case "accumulator-bias" -> v.equals("calibrated") || v.equals("fixed");
      case "unpack-bits" -> v.matches("[2-8]");
      default -> false;
    };
    if (!ok) {
      throw new IllegalArgumentException("option " + key + ": bad value '" + value + "'; valid: " + VALID.get(key));
    }
    if (key.equals("loss-scale") && positive(v)) v = Double.toString(Double.parseDouble(v));
    return v;
  }

  private static boolean positive(String v) {
    try {
      double d = Double.parseDouble(v);
      return d > 0 && Double.isFinite(d) && !v.endsWith("d") && !v.endsWith("f");
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
