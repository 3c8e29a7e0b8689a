package dev.lowbit.cli;

import dev.lowbit.format.MiniFloat;
import dev.lowbit.format.Rounding;
import dev.lowbit.kernel.LMul;
import dev.lowbit.kernel.Multiplier;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The error of L-Mul (Luo and Sun 2024, arXiv 2410.00907) against exact products, next to the error
 * of rounding both operands to a minifloat and multiplying exactly: on single products of N(0,1)
 * float32 pairs (relative error |approx − exact| / |exact|, exact = the double product of the fp32
 * inputs) and on dot products (|approx − exact| / sqrt(Σ x²y²), the approximate dot summed in fp32
 * from +0 along k as the GEMM does, the exact one in double).
 */
final class LMulAnalysis {

  private LMulAnalysis() {}

  /** The widths analysed. */
  static final int MIN_M = 1, MAX_M = 7;

  /** One way of forming a product: L-Mul (mul non-null) or a minifloat's exact product of rounded operands. */
  record Method(String name, Multiplier.LMul mul, MiniFloat format) {
    static Method lmul(int m, Multiplier.OperandRounding r) {
      Multiplier.LMul mul = new Multiplier.LMul(m, r);
      return new Method(mul.spec(), mul, null);
    }

    /** Named as given ("e4m3"); rounds to nearest even with subnormals, saturating (as the spec's fp8 figures). */
    static Method minifloat(MiniFloat f) {
      return new Method(f.name(), null, f.withOverflow(MiniFloat.Overflow.SATURATE));
    }

    /** The product of x and y (a minifloat's rounded operands multiplied exactly, in double). */
    double multiply(float x, float y) {
      if (mul != null) return LMul.multiply(x, y, mul);
      return format.roundValue(x, Rounding.NEAREST_EVEN, 0) * format.roundValue(y, Rounding.NEAREST_EVEN, 0);
    }
  }

  /** Every L-Mul width with both operand roundings, then the formats. */
  static List<Method> methods(List<MiniFloat> formats) {
    List<Method> out = new ArrayList<>();
    for (int m = MIN_M; m <= MAX_M; m++) {
      out.add(Method.lmul(m, Multiplier.OperandRounding.RNE));
      out.add(Method.lmul(m, Multiplier.OperandRounding.TRUNCATE));
    }
    for (MiniFloat f : formats) out.add(Method.minifloat(f));
    return out;
  }

  /**
   * Error statistics of one method over {@code count} samples: mean and max of the error's
   * magnitude, and its mean signed value (bias): for single products δ = approx / exact − 1 (> 0:
   * the magnitude comes out too large), for dot products (dot − exact) / sqrt(Σ x²y²).
   */
  record Stats(Method method, int length, long count, double mean, double max, double bias) {}

  /**
   * Single products: {@code samples} pairs of N(0,1) float32 values (pairs whose exact product is 0
   * are drawn again), the same pairs for every method.
   */
  static List<Stats> products(List<Method> methods, long samples, long seed) {
    int n = methods.size();
    double[] sum = new double[n], max = new double[n], signed = new double[n];
    SplittableRandom r = new SplittableRandom(seed);
    for (long s = 0; s < samples; s++) {
      float x, y;
      do {
        x = (float) r.nextGaussian();
        y = (float) r.nextGaussian();
      } while (x == 0 || y == 0);
      double exact = (double) x * y;
      for (int i = 0; i < n; i++) {
        double e = methods.get(i).multiply(x, y) / exact - 1; // δ: signed relative to the magnitude
        sum[i] += Math.abs(e);
        signed[i] += e;
        max[i] = Math.max(max[i], Math.abs(e));
      }
    }
    List<Stats> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new Stats(methods.get(i), 1, samples, sum[i] / samples, max[i], signed[i] / samples));
    }
    return out;
  }

  /**
   * Dot products of each length: max(1, samples / length) pairs of N(0,1) vectors per length (the
   * same for every method); error |dot − exact| / sqrt(Σ x²y²), bias the signed one.
   */
  static List<Stats> dots(List<Method> methods, int[] lengths, long samples, long seed) {
    List<Stats> out = new ArrayList<>();
    int n = methods.size();
    for (int len : lengths) {
      long count = Math.max(1, samples / len);
      double[] sum = new double[n], max = new double[n], signed = new double[n];
      SplittableRandom r = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * len));
      float[] x = new float[len], y = new float[len];
      for (long t = 0; t < count; t++) {
        double exact = 0, norm = 0;
        for (int p = 0; p < len; p++) {
          x[p] = (float) r.nextGaussian();
          y[p] = (float) r.nextGaussian();
          double q = (double) x[p] * y[p];
          exact += q;
          norm += q * q;
        }
        double scale = Math.sqrt(norm);
        if (scale == 0) continue;
        for (int i = 0; i < n; i++) {
          Method m = methods.get(i);
          float s = 0f;
          for (int p = 0; p < len; p++) s = s + (float) m.multiply(x[p], y[p]);
          double e = (s - exact) / scale;
          sum[i] += Math.abs(e);
          signed[i] += e;
          max[i] = Math.max(max[i], Math.abs(e));
        }
      }
      for (int i = 0; i < n; i++) {
        out.add(new Stats(methods.get(i), len, count, sum[i] / count, max[i], signed[i] / count));
      }
    }
    return out;
  }

  /** The statistics of the method called {@code name} (and of the given length), or null. */
  static Stats find(List<Stats> stats, String name, int length) {
    for (Stats s : stats) if (s.method().name().equals(name) && s.length() == length) return s;
    return null;
  }
}
