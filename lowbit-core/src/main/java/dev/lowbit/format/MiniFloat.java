package dev.lowbit.format;

/**
 * A binary floating-point format eXmY: a sign bit, {@code exponentBits} (1..8) of biased exponent
 * and {@code mantissaBits} (0..23) of fraction. Covers FP32, TF32, BF16, FP16, OCP FP8/FP6/FP4 and
 * any learned width in between.
 *
 * <ul>
 *   <li>{@link Specials#IEEE}: the all-ones exponent holds infinities (fraction 0) and NaNs;
 *   <li>{@link Specials#FN}: no infinities; only the all-ones code (per sign) is NaN (OCP E4M3);
 *   <li>{@link Specials#FINITE}: every code is a number (OCP FP6, FP4); overflow must saturate.
 * </ul>
 *
 * <p>Overflow: {@link Overflow#SATURATE} clamps finite values beyond the largest finite value to it
 * (infinite inputs stay infinite in IEEE formats, which can represent them, and become the largest
 * finite value otherwise); {@link Overflow#NON_SATURATING} rounds as if the exponent range were
 * unbounded and turns a result beyond the largest finite value into infinity (IEEE) or NaN (FN),
 * except that toward-zero and floor of a positive value stop at the largest finite value, as in
 * IEEE 754. Without subnormals, values below the smallest normal round on the grid {0, min normal}
 * and codes with a zero exponent field decode as zero. NaN stays NaN. Nearest-even picks the
 * neighbour whose code is even (for mantissa width 0 that is the even exponent field).
 */
public record MiniFloat(int exponentBits, int mantissaBits, int bias, boolean subnormals,
    Specials specials, Overflow overflow) implements ElementFormat {

  /** Which codes are infinities and NaNs. */
  public enum Specials { IEEE, FN, FINITE }

  /** What happens to values beyond the largest finite value. */
  public enum Overflow { SATURATE, NON_SATURATING }

  public MiniFloat {
    if (exponentBits < 1 || exponentBits > 8 || mantissaBits < 0 || mantissaBits > 23) {
      throw new IllegalArgumentException("e" + exponentBits + "m" + mantissaBits
          + " is impossible; valid: exponent bits 1..8, mantissa bits 0..23");
    }
    if (specials == null || overflow == null) {
      throw new IllegalArgumentException("specials and overflow policy must be given");
    }
    String n = "e" + exponentBits + "m" + mantissaBits;
    if (specials == Specials.FINITE && overflow != Overflow.SATURATE) {
      throw new IllegalArgumentException(n + " without infinity or NaN cannot overflow to them: "
          + "use the saturating policy");
    }
    if (topExponentField(exponentBits, mantissaBits, specials) < 1) {
      throw new IllegalArgumentException(n + " with " + specials
          + " specials has no finite normal values; IEEE needs at least 2 exponent bits");
    }
    if (1 - bias - mantissaBits < -149) {
      throw new IllegalArgumentException(n + " with bias " + bias
          + " has values below float32's smallest subnormal 2^-149; bias must be <= "
          + (150 - mantissaBits));
    }
    double max = maxFinite(exponentBits, mantissaBits, bias, specials);
    if (max > Float.MAX_VALUE) {
      throw new IllegalArgumentException(n + " with bias " + bias
          + " has values above float32's largest (" + max + ")");
    }
  }

  /** eXmY with the IEEE-style default bias 2^(e-1) - 1, subnormals, infinities and NaNs. */
  public static MiniFloat ieee(int e, int m) {
    return new MiniFloat(e, m, defaultBias(e), true, Specials.IEEE, Overflow.NON_SATURATING);
  }

  /** 2^(e-1) - 1. */
  public static int defaultBias(int exponentBits) {
    return (1 << (exponentBits - 1)) - 1;
  }

  private static int topExponentField(int e, int m, Specials sp) {
    int allOnes = (1 << e) - 1;
    return sp == Specials.IEEE || (sp == Specials.FN && m == 0) ? allOnes - 1 : allOnes;
  }

  private static double maxFinite(int e, int m, int bias, Specials sp) {
    int top = topExponentField(e, m, sp);
    long topMant = sp == Specials.FN && m > 0 && top == (1 << e) - 1 ? (1L << m) - 2 : (1L << m) - 1;
    return Math.scalb((double) ((1L << m) + topMant), top - bias - m);
  }

  /** Same format with another overflow policy. */
  public MiniFloat withOverflow(Overflow o) {
    return new MiniFloat(exponentBits, mantissaBits, bias, subnormals, specials, o);
  }

  /** Exponent of the smallest normal value, 1 - bias. */
  public int minExponent() {
    return 1 - bias;
  }

  /** floor(log2(maxFinite)): the "emax" of the OCP MX specification. */
  public int maxExponent() {
    return Math.getExponent(maxFinite());
  }

  @Override
  public String name() {
    return Formats.nameOf(this);
  }

  @Override
  public int bits() {
    return 1 + exponentBits + mantissaBits;
  }

  @Override
  public double maxFinite() {
    return maxFinite(exponentBits, mantissaBits, bias, specials);
  }

  @Override
  public double minNormal() {
    return Math.scalb(1.0, minExponent());
  }

  @Override
  public double minSubnormal() {
    return Math.scalb(1.0, subnormals ? minExponent() - mantissaBits : minExponent());
  }

  @Override
  public double epsilon() {
    return Math.scalb(1.0, -mantissaBits);
  }

  @Override
  public int precisionBits() {
    return mantissaBits + 1;
  }

  /** True when the format has a NaN code. */
  public boolean hasNaN() {
    return specials == Specials.FN || (specials == Specials.IEEE && mantissaBits > 0);
  }

  @Override
  public double roundValue(double v, Rounding r, double u) {
    if (v != v) return v;
    double max = maxFinite();
    if (Double.isInfinite(v)) {
      if (specials == Specials.IEEE) return v;
      return overflow == Overflow.SATURATE ? Math.copySign(max, v) : Double.NaN;
    }
    double a = Math.abs(v);
    if (a == 0) return v;
    int e = Math.getExponent(a);
    int emin = 1 - bias;
    // quantum exponent: the spacing of the grid around a
    int q = e >= emin ? e - mantissaBits : (subnormals ? emin - mantissaBits : emin);
    double y = Math.scalb(a, -q);
    double k = r.round(y, v < 0, u);
    if (mantissaBits == 0 && e >= emin && y == 1.5 && r == Rounding.NEAREST_EVEN) {
      // no fraction bits: "even" is the code's last bit, which is the exponent field's
      k = ((e + bias) & 1) == 0 ? 1 : 2;
    }
    double res = Math.scalb(k, q);
    if (res > max) {
      if (overflow == Overflow.SATURATE || r == Rounding.TOWARD_ZERO
          || (r == Rounding.FLOOR && v > 0)) {
        res = max;
      } else {
        return specials == Specials.IEEE ? Math.copySign(Double.POSITIVE_INFINITY, v) : Double.NaN;
      }
    }
    return Math.copySign(res, v);
  }

  @Override
  public float decode(int code) {
    int n = exponentBits + mantissaBits;
    if (n < 31 && (code < 0 || code >= (1 << (n + 1)))) {
      throw new IllegalArgumentException("code " + code + " is outside " + name() + "'s range 0.."
          + ((1L << (n + 1)) - 1));
    }
    boolean neg = ((code >>> n) & 1) != 0;
    int allOnes = (1 << exponentBits) - 1;
    int ef = (code >>> mantissaBits) & allOnes;
    int mf = code & ((1 << mantissaBits) - 1);
    double mag;
    if (specials == Specials.IEEE && ef == allOnes) {
      mag = mf == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
    } else if (specials == Specials.FN && ef == allOnes && mf == (1 << mantissaBits) - 1) {
      mag = Double.NaN;
    } else if (ef == 0) {
      mag = subnormals ? Math.scalb((double) mf, minExponent() - mantissaBits) : 0.0;
    } else {
      mag = Math.scalb((double) ((1L << mantissaBits) + mf), ef - bias - mantissaBits);
    }
    return (float) (neg ? -mag : mag);
  }

  /** The code every NaN encodes to, or -1 when the format has none. */
  public int nanCode() {
    int allOnes = (1 << exponentBits) - 1;
    if (specials == Specials.FN) return (allOnes << mantissaBits) | ((1 << mantissaBits) - 1);
    if (specials == Specials.IEEE && mantissaBits > 0) {
      return (allOnes << mantissaBits) | (1 << (mantissaBits - 1));
    }
    return -1;
  }

  @Override
  public int encodeValue(float value) {
    int n = exponentBits + mantissaBits;
    int sign = (Float.floatToRawIntBits(value) >>> 31) << n;
    if (value != value) {
      int c = nanCode();
      if (c < 0) {
        throw new IllegalArgumentException("cannot encode NaN in " + name() + ": it has no NaN code");
      }
      return c;
    }
    int allOnes = (1 << exponentBits) - 1;
    if (Float.isInfinite(value)) {
      if (specials != Specials.IEEE) {
        throw new IllegalArgumentException("cannot encode " + value + " in " + name()
            + ": it has no infinity");
      }
      return sign | (allOnes << mantissaBits);
    }
    double a = Math.abs((double) value);
    if (a == 0) return sign;
    int e = Math.getExponent(a);
    int emin = minExponent();
    int code = 0;
    boolean ok;
    if (e < emin) {
      double mf = Math.scalb(a, mantissaBits - emin);
      ok = mf == Math.rint(mf) && mf < (1L << mantissaBits);
      if (ok) code = sign | (int) mf;
    } else {
      double mf = Math.scalb(a, mantissaBits - e) - (1L << mantissaBits);
      long ef = (long) e + bias;
      ok = mf == Math.rint(mf) && ef <= allOnes;
      if (ok) code = sign | (int) (ef << mantissaBits) | (int) mf;
    }
    if (!ok || Float.floatToRawIntBits(decode(code)) != Float.floatToRawIntBits(value)) {
      throw new IllegalArgumentException("value " + value + " is not representable in " + name());
    }
    return code;
  }

  @Override
  public int codeAt(long i) {
    return (int) i;
  }
}
