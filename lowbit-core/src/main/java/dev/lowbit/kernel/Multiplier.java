package dev.lowbit.kernel;

import java.util.Locale;

/**
 * How the products inside an {@link EmulatedGemm} are formed: {@link Exact} or {@link LMul}
 * (Luo and Sun, "Addition is All You Need for Energy-efficient Language Models", arXiv 2410.00907).
 */
public sealed interface Multiplier {

  /** The canonical string form; {@code parse(spec())} gives back an equal value. */
  String spec();

  /** The exact product (fp32 × fp32 is exact in double; integer products are exact in int32). */
  record Exact() implements Multiplier {
    @Override
    public String spec() {
      return "exact";
    }
  }

  /** How an fp32 operand is brought to m fraction bits before an L-Mul. */
  enum OperandRounding {
    /** Round to nearest, ties to even (a carry may step the exponent; the largest values go to inf). */
    RNE,
    /** Clear the low 23 − m fraction bits. */
    TRUNCATE
  }

  /**
   * L-Mul with {@code mantissaBits} (1..23) fraction bits: both operands are rounded to m bits, then
   * multiplied by one integer addition of their bit patterns (see {@link LMul}).
   */
  record LMul(int mantissaBits, OperandRounding rounding) implements Multiplier {
    public LMul {
      if (mantissaBits < 1 || mantissaBits > 23) {
        throw new IllegalArgumentException(
            "L-Mul mantissa bits must be 1..23, got " + mantissaBits);
      }
      if (rounding == null) throw new IllegalArgumentException("operand rounding must be rne or trunc");
    }

    @Override
    public String spec() {
      return "lmul" + mantissaBits + (rounding == OperandRounding.RNE ? ":rne" : ":trunc");
    }
  }

  /**
   * Parses {@code exact}, or {@code lmulM[:rne|:trunc]} with M = 1..23 (operands round to nearest
   * even by default).
   *
   * @throws IllegalArgumentException naming the bad value and what is valid
   */
  static Multiplier parse(String text) {
    if (text == null) throw new IllegalArgumentException("missing multiplier; expected exact or lmulM");
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("exact")) return new Exact();
    String[] p = t.split(":", -1);
    if (p[0].startsWith("lmul") && p.length <= 2) {
      int m;
      try {
        m = Integer.parseInt(p[0].substring(4));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "bad L-Mul width in '" + text + "'; expected lmulM with M = 1..23, e.g. lmul3");
      }
      if (m < 1 || m > 23) {
        throw new IllegalArgumentException(
            "bad L-Mul width " + m + " in '" + text + "'; expected lmulM with M = 1..23");
      }
      OperandRounding r = OperandRounding.RNE;
      if (p.length == 2) {
        r = switch (p[1]) {
          case "rne" -> OperandRounding.RNE;
          case "trunc", "truncate", "rtz" -> OperandRounding.TRUNCATE;
          default -> throw new IllegalArgumentException(
              "bad L-Mul operand rounding '" + p[1] + "' in '" + text + "'; expected rne or trunc");
        };
      }
      return new LMul(m, r);
    }
    throw new IllegalArgumentException(
        "unknown multiplier '" + text + "'; expected exact or lmulM[:rne|:trunc] (M = 1..23)");
  }
}
