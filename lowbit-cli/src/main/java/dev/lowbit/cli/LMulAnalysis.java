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

  /** Sources of the inputs: random normal pairs, pairs captured from a model's forward products. */
  static final String NORMAL = "normal", CAPTURED = "captured";

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
   * the magnitude comes out too large), for dot products (dot − exact) / sqrt(Σ x²y²). {@code
   * source}: {@link #NORMAL}, {@link #CAPTURED}, or "captured LAYER" for one product's dots.
   */
  record Stats(String source, Method method, int length, long count, double mean, double max, double bias) {}

  /**
   * Single products: {@code samples} pairs of N(0,1) float32 values (pairs whose exact product is 0
   * are drawn again), the same pairs for every method.
   */
  static List<Stats> products(List<Method> methods, long samples, long seed) {
    Sums sums = new Sums(methods.size());
    SplittableRandom r = new SplittableRandom(seed);
    for (long s = 0; s < samples; s++) {
      float x, y;
      do {
        x = (float) r.nextGaussian();
        y = (float) r.nextGaussian();
      } while (x == 0 || y == 0);
      pair(methods, x, y, sums);
    }
    List<Stats> out = new ArrayList<>();
    sums.stats(methods, NORMAL, 1, out);
    return out;
  }

  /** Adds every method's δ = approx / exact − 1 of one pair with a nonzero exact product. */
  private static void pair(List<Method> methods, float x, float y, Sums sums) {
    double exact = (double) x * y;
    for (int i = 0; i < methods.size(); i++) sums.add(i, methods.get(i).multiply(x, y) / exact - 1);
    sums.count++;
  }

  /**
   * Dot products of each length: max(1, samples / length) pairs of N(0,1) vectors per length (the
   * same for every method); error |dot − exact| / sqrt(Σ x²y²), bias the signed one.
   */
  static List<Stats> dots(List<Method> methods, int[] lengths, long samples, long seed) {
    List<Stats> out = new ArrayList<>();
    for (int len : lengths) {
      long count = Math.max(1, samples / len);
      Sums sums = new Sums(methods.size());
      SplittableRandom r = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * len));
      float[] x = new float[len], y = new float[len];
      for (long t = 0; t < count; t++) {
        for (int p = 0; p < len; p++) {
          x[p] = (float) r.nextGaussian();
          y[p] = (float) r.nextGaussian();
        }
        dot(methods, x, 0, y, 0, 1, len, sums);
      }
      sums.stats(methods, NORMAL, len, out);
    }
    return out;
  }

  /**
   * Adds every method's error of the dot of x[xOff..xOff+len) with y[yOff + p·yStride]: the
   * products summed in fp32 from +0 in p order against the exact dot in double, over sqrt(Σ x²y²);
   * nothing when that is 0 or not finite.
   */
  private static void dot(List<Method> methods, float[] x, int xOff, float[] y, int yOff, int yStride, int len,
      Sums sums) {
    double exact = 0, norm = 0;
    for (int p = 0; p < len; p++) {
      double q = (double) x[xOff + p] * y[yOff + p * yStride];
      exact += q;
      norm += q * q;
    }
    if (norm == 0 || !Double.isFinite(norm)) return;
    double scale = Math.sqrt(norm);
    for (int i = 0; i < methods.size(); i++) {
      Method m = methods.get(i);
      float s = 0f;
      for (int p = 0; p < len; p++) s = s + (float) m.multiply(x[xOff + p], y[yOff + p * yStride]);
      sums.add(i, (s - exact) / scale);
    }
    sums.count++;
  }

  /** The statistics of the random-normal method called {@code name} (and of the given length), or null. */
  static Stats find(List<Stats> stats, String name, int length) {
    return find(stats, NORMAL, name, length);
  }

  static Stats find(List<Stats> stats, String source, String name, int length) {
    for (Stats s : stats) {
      if (s.source().equals(source) && s.method().name().equals(name) && s.length() == length) return s;
    }
    return null;
  }

  /** Running error sums of every method. */
  private static final class Sums {
    final double[] sum, max, signed;
    long count;

    Sums(int n) {
      sum = new double[n];
      max = new double[n];
      signed = new double[n];
    }

    void add(int i, double e) {
      sum[i] += Math.abs(e);
      signed[i] += e;
      max[i] = Math.max(max[i], Math.abs(e));
    }

    void stats(List<Method> methods, String source, int length, List<Stats> out) {
      for (int i = 0; i < methods.size(); i++) {
        out.add(new Stats(source, methods.get(i), length, count, sum[i] / count, max[i], signed[i] / count));
      }
    }
  }

  /**
   * Pairs captured from a model's forward products (op(A)[i][p], op(B)[p][j], activation × weight
   * or attention's activation × activation): {@code samples} triples (product by its share of the
   * multiply-adds, then slice, i, p, j uniformly; pairs whose exact product is 0 are drawn again, up
   * to 20 tries per sample) as {@link #CAPTURED} single products; and per product, outputs (i, j)
   * drawn uniformly, about samples / (k · products) of them, as "captured LAYER" dots of length k.
   */
  static List<Stats> captured(List<Method> methods, List<ProductCapture.Captured> fwd, long samples, long seed) {
    int n = methods.size();
    List<Stats> out = new ArrayList<>();
    double[] cum = new double[fwd.size()];
    double total = 0;
    for (int q = 0; q < fwd.size(); q++) cum[q] = total += fwd.get(q).macs();
    SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
    Sums single = new Sums(n);
    for (long tries = 0; single.count < samples && tries < 20 * samples; tries++) {
      int q = java.util.Arrays.binarySearch(cum, r.nextDouble() * total);
      ProductCapture.Captured c = fwd.get(Math.min(fwd.size() - 1, q < 0 ? -q - 1 : q));
      int slice = r.nextInt(c.calls()), i0 = r.nextInt(c.m()), p = r.nextInt(c.k()), j0 = r.nextInt(c.n());
      float x = c.a().get(slice)[i0 * c.k() + p];
      float y = c.b().get(slice)[p * c.n() + j0];
      double exact = (double) x * y;
      if (exact != 0 && Double.isFinite(exact)) pair(methods, x, y, single);
    }
    if (single.count > 0) single.stats(methods, CAPTURED, 1, out);
    for (ProductCapture.Captured c : fwd) {
      long want = Math.max(1, samples / ((long) c.k() * fwd.size()));
      Sums dots = new Sums(n);
      for (long t = 0; t < want; t++) {
        int slice = r.nextInt(c.calls()), i0 = r.nextInt(c.m()), j0 = r.nextInt(c.n());
        dot(methods, c.a().get(slice), i0 * c.k(), c.b().get(slice), j0, c.n(), c.k(), dots);
      }
      if (dots.count > 0) dots.stats(methods, CAPTURED + " " + c.layer(), c.k(), out);
    }
    return out;
  }
}
