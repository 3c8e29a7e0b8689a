package dev.lowbit.numerics;

import java.util.Locale;
import java.util.Map;

/**
 * A policy's {@code option} lines as values, parsed once when the policy is made (see {@link
 * Options} for the keys and their meaning). Whatever reads an option reads it here; no option
 * string is parsed after the policy.
 *
 * @param lossScale {@code loss-scale}: none, dynamic or a static scale
 * @param errorQuantizer {@code error-quantizer}: not set, plain or ShiftQuant
 * @param shiftMax {@code shift-max}: ShiftQuant's largest shift, or -1 for the default of the bits
 * @param l1Normalization {@code normalization l1}: the model builds L1 norm layers
 * @param stages {@code accumulator-stages}: not set, one, or underflow-off-then-on
 * @param accumulatorGradient {@code accumulator-gradient}: which events cut a product's gradient
 * @param calibratedBias {@code accumulator-bias}: calibrated (true, the default) or fixed
 * @param unpackBits {@code unpack-bits}: the width of IM-Unpack's GEMMs, or 0 (not set)
 */
public record MethodOptions(
    LossScale lossScale,
    ErrorQuantizer errorQuantizer,
    int shiftMax,
    boolean l1Normalization,
    Stages stages,
    AccumulatorGradient accumulatorGradient,
    boolean calibratedBias,
    int unpackBits) {

  /** How the loss is scaled before the backward pass (static scale in {@code value}). */
  public record LossScale(Kind kind, double value) {
    public enum Kind { NONE, DYNAMIC, STATIC }
  }

  /** Which quantizer the errors get: the policy's own rule (unset or plain) or ShiftQuant's. */
  public enum ErrorQuantizer { UNSET, PLAIN, SHIFTQUANT }

  /** The narrow-accumulator fine-tune's stages. */
  public enum Stages { UNSET, ONE, UNDERFLOW_OFF_THEN_ON }

  /** Which accumulation events cut a product's gradient (spec training-numerics §3.5). */
  public enum AccumulatorGradient { IDENTITY, OVERFLOW, UNDERFLOW, SWAMP, ALL }

  /** The options of a policy with none set. */
  public static final MethodOptions DEFAULTS = of(Map.of());

  /** The options from canonical values (as {@link Options#check} returns them). */
  static MethodOptions of(Map<String, String> options) {
    String ls = options.getOrDefault("loss-scale", "none");
    LossScale lossScale = switch (ls) {
      case "none" -> new LossScale(LossScale.Kind.NONE, 1);
      case "dynamic" -> new LossScale(LossScale.Kind.DYNAMIC, 0);
      default -> new LossScale(LossScale.Kind.STATIC, Double.parseDouble(ls));
    };
    String eq = options.get("error-quantizer");
    ErrorQuantizer errors = eq == null ? ErrorQuantizer.UNSET : ErrorQuantizer.valueOf(eq.toUpperCase(Locale.ROOT));
    String st = options.get("accumulator-stages");
    Stages stages = st == null ? Stages.UNSET : Stages.valueOf(st.toUpperCase(Locale.ROOT).replace('-', '_'));
    return new MethodOptions(lossScale, errors,
        Integer.parseInt(options.getOrDefault("shift-max", "-1")),
        "l1".equals(options.get("normalization")),
        stages,
        AccumulatorGradient.valueOf(options.getOrDefault("accumulator-gradient", "identity").toUpperCase(Locale.ROOT)),
        !"fixed".equals(options.get("accumulator-bias")),
        Integer.parseInt(options.getOrDefault("unpack-bits", "0")));
  }
}
