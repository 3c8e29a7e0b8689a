package dev.lowbit.numerics;

import dev.lowbit.numerics.FunctionEval.Rows;
import dev.lowbit.format.MiniFloat;
import dev.lowbit.format.NumberFormat;
import java.util.Locale;

/**
 * How a layer evaluates one of its non-linear functions: the spec of a function role ({@link
 * Role#isFunction()}). {@link Exact} (the default) is the fp32 code the ops always ran. A value
 * supplies the function itself ({@link #of}, {@link #exp}), so an op never asks which value it
 * has: a new approximation (Shiftmax, ShiftGELU, integer LayerNorm) is a new record here.
 * Backward passes keep the exact derivative (straight-through). See docs/function-roles.md.
 */
public sealed interface Approximation permits Approximation.Exact, Approximation.PolyExp,
    Approximation.Rounded, IntegerFunction {

  /** Today's fp32 computation. */
  Approximation EXACT = new Exact();

  /** The spec as written in a policy rule; {@link #parse} of it gives back an equal value. */
  String text();

  /** True when this value can be the spec of function role {@code role}. */
  boolean fits(Role role);

  /** e^x as this value computes it (the {@link Role#EXP} role: a softmax's exponentials). */
  float exp(float x);

  /**
   * Function role {@code role}'s values as this value computes them, given the op's exact fp32
   * code (for roles other than {@link Role#EXP}, which {@link #softmax} uses instead).
   */
  Rows of(Role role, Rows exact);

  /** {@link #of} as an op takes it. */
  default FunctionEval eval(Role role) {
    return exact -> of(role, exact);
  }

  /**
   * A softmax over rows whose exponentials are {@link #exp}: the exp role's part of a softmax. The
   * row max is subtracted first, the sum is taken in double. {@link Exact} returns the softmax's
   * exact code {@code exact} itself; other values ignore it.
   */
  default Rows softmax(Rows exact) {
    return (x, y, rows, cols) -> {
      for (int b = 0; b < rows * cols; b += cols) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = b; j < b + cols; j++) max = Math.max(max, x[j]);
        double sum = 0;
        for (int j = b; j < b + cols; j++) sum += y[j] = exp(x[j] - max);
        float inv = (float) (1 / sum);
        for (int j = b; j < b + cols; j++) y[j] *= inv;
      }
    };
  }

  /** The valid spellings, for messages. */
  String VALID = "exact, poly:N (exp role only, N 1..8), or a minifloat such as fp16, bf16, e4m3, e5m2;"
      + " I-ViT's integer functions: shiftmax (softmax), shiftgelu or shiftgelu:precise (gelu), ilayernorm (layernorm)";

  /** The values that fit function role {@code role}, for messages. */
  static String validFor(Role role) {
    String own = switch (role) {
      case SOFTMAX -> "; or shiftmax";
      case GELU -> "; or shiftgelu, shiftgelu:precise";
      case LAYERNORM -> "; or ilayernorm";
      default -> "";
    };
    return (role == Role.EXP ? "exact, poly:N (N 1..8), or a minifloat such as fp16, bf16, e4m3, e5m2"
        : "exact or a minifloat such as fp16, bf16, e4m3, e5m2 (poly:N is for role exp)") + own;
  }

  /**
   * Parses {@code exact}, {@code poly:N} or a minifloat format name.
   *
   * @throws IllegalArgumentException naming the bad value and the valid ones
   */
  static Approximation parse(String s) {
    String t = s == null ? "" : s.strip().toLowerCase(Locale.ROOT);
    if (t.equals("exact")) return EXACT;
    switch (t) {
      case "shiftmax" -> {
        return IntegerFunction.SHIFTMAX;
      }
      case "shiftgelu" -> {
        return IntegerFunction.SHIFTGELU;
      }
      case "shiftgelu:precise" -> {
        return IntegerFunction.SHIFTGELU_PRECISE;
      }
      case "ilayernorm" -> {
        return IntegerFunction.ILAYERNORM;
      }
      default -> {}
    }
    if (t.startsWith("poly:")) {
      String n = t.substring("poly:".length());
      if (!n.matches("\\d{1,3}")) {
        throw new IllegalArgumentException("approximation '" + s + "': poly:N needs a degree N in 1.."
            + PolyExp.MAX_DEGREE);
      }
      return new PolyExp(Integer.parseInt(n));
    }
    NumberFormat f;
    try {
      f = NumberFormat.parse(t);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown approximation '" + s + "'; valid: " + VALID, e);
    }
    if (!(f instanceof MiniFloat m)) {
      throw new IllegalArgumentException("approximation '" + s + "': " + f.name()
          + " is not a minifloat; valid: " + VALID);
    }
    return new Rounded(m);
  }

  /** The exact fp32 code: the op's own, unchanged. */
  record Exact() implements Approximation {
    @Override
    public String text() {
      return "exact";
    }

    @Override
    public boolean fits(Role role) {
      return role.isFunction();
    }

    @Override
    public float exp(float x) {
      return (float) Math.exp(x);
    }

    @Override
    public Rows of(Role role, Rows exact) {
      return exact;
    }

    @Override
    public FunctionEval eval(Role role) {
      return FunctionEval.EXACT;
    }

    @Override
    public Rows softmax(Rows exact) {
      return exact;
    }
  }

  /**
   * e^x by range reduction and a degree-N Taylor polynomial (the shape of I-BERT's i-exp, Kim et
   * al., ICML 2021, in floating point and with Taylor coefficients instead of its fitted integer
   * polynomial): x = k·ln2 + r with k = rint(x/ln2) and |r| ≤ ln2/2, e^r ≈ p(r) = Σ_{i≤N} r^i/i!,
   * e^x ≈ 2^k·p(r). Evaluated in double and rounded to float once; results above float's range are
   * +inf, below e^-104 zero, NaN stays NaN. The relative error of p(r) is at most {@link
   * #errorBound()}, plus float's rounding of the result.
   */
  record PolyExp(int degree) implements Approximation {
    /** Highest degree: at 8 the polynomial is already below float's rounding error. */
    public static final int MAX_DEGREE = 8;

    private static final double LN2 = Math.log(2);
    private static final double LOG2E = 1 / LN2;

    public PolyExp {
      if (degree < 1 || degree > MAX_DEGREE) {
        throw new IllegalArgumentException("poly:" + degree + ": degree must be 1.." + MAX_DEGREE);
      }
    }

    @Override
    public String text() {
      return "poly:" + degree;
    }

    /**
     * The Taylor remainder's bound on |p(r) − e^r| / e^r over |r| ≤ ln2/2: ρ^(N+1)/(N+1)! · e^ρ
     * with ρ = ln2/2 (the remainder is e^ξ·r^(N+1)/(N+1)! for some ξ between 0 and r).
     */
    public double errorBound() {
      double rho = LN2 / 2, t = Math.exp(rho);
      for (int i = 1; i <= degree + 1; i++) t *= rho / i;
      return t;
    }

    @Override
    public boolean fits(Role role) {
      return role == Role.EXP;
    }

    @Override
    public float exp(float x) {
      if (x != x) return x;
      if (x > 89f) return Float.POSITIVE_INFINITY; // e^88.73 is past float's largest value
      if (x < -104f) return 0f; // e^-103.98 is half float's smallest subnormal
      double k = Math.rint(x * LOG2E);
      return (float) Math.scalb(taylor(x - k * LN2), (int) k);
    }

    /** Σ_{i≤N} r^i/i! by Horner's rule: 1 + r(1 + r/2(1 + r/3(…(1 + r/N)))). */
    double taylor(double r) {
      double p = 1;
      for (int i = degree; i >= 1; i--) p = 1 + r / i * p;
      return p;
    }

    @Override
    public Rows of(Role role, Rows exact) {
      throw new IllegalStateException("poly:" + degree + " approximates exp only, not " + role);
    }
  }

  /**
   * The function evaluated with its input and output rounded to {@code format} (nearest-even):
   * y = round(f(round(x))), f the exact fp32 code; for exp, round(e^round(x)).
   */
  record Rounded(MiniFloat format) implements Approximation {
    public Rounded {
      java.util.Objects.requireNonNull(format, "format");
    }

    @Override
    public String text() {
      return format.name();
    }

    @Override
    public boolean fits(Role role) {
      return role.isFunction();
    }

    @Override
    public float exp(float x) {
      return format.quantize((float) Math.exp(format.quantize(x)));
    }

    @Override
    public Rows of(Role role, Rows exact) {
      return (x, y, rows, cols) -> {
        float[] in = new float[x.length];
        for (int i = 0; i < in.length; i++) in[i] = format.quantize(x[i]);
        exact.apply(in, y, rows, cols);
        for (int i = 0; i < y.length; i++) y[i] = format.quantize(y[i]);
      };
    }
  }
}
