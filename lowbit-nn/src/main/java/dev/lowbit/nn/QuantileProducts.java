package dev.lowbit.nn;

import dev.lowbit.format.EncodedTensor;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.numerics.GemmCall;
import dev.lowbit.numerics.ProductPlan;
import dev.lowbit.numerics.ProductPlan.Site;
import dev.lowbit.unpack.IntMatrix;
import dev.lowbit.unpack.UnpackedGemm;
import dev.lowbit.unpack.UnpackedProduct;

/**
 * Products of two operands quantized per tensor with a percentile scale (IM-Unpack's
 * round-to-nearest, {@link dev.lowbit.format.Granularity.Quantile}; Zeng, Sankaralingam, Singh, ICML
 * 2024): both operands are encoded to int32 codes, their product is computed exactly in int64 and
 * scaled once into the fp32 result. The plain route ({@link #exact}) sums on the int16 kernel where
 * the codes and sums fit, else in scalar int64; the unpack route ({@link #unpacked}) rewrites the
 * codes into b-bit digits and runs only b-bit GEMMs ({@link UnpackedGemm}, the chooser's strategy
 * for each call). Both give the same int64 sums, so the same fp32 results, bit for bit.
 */
final class QuantileProducts {

  private QuantileProducts() {}

  /** The two operands' codes as op(A) (m×k) and op(B) (k×n), with their scales; null for NaN or infinity. */
  record Codes(IntMatrix a, float scaleA, IntMatrix b, float scaleB) {}

  /** Encodes both operands of the call as the plan's quantizers do; null when one holds NaN or infinity. */
  static Codes codes(ProductPlan p, GemmCall c) {
    Site s = p.site();
    float[] a = gather(c.a(), s.transA(), c.m(), c.k());
    float[] b = gather(c.b(), s.transB(), c.k(), c.n());
    EncodedTensor ea, eb;
    try { // encoding refuses a tensor holding NaN or infinity
      ea = p.a().orElseThrow().encode(a, new int[] {c.m(), c.k()}, 0, 0);
      eb = p.b().orElseThrow().encode(b, new int[] {c.k(), c.n()}, 0, 0);
    } catch (IllegalArgumentException nonFinite) {
      return null;
    }
    return new Codes(new IntMatrix(c.m(), c.k(), ea.codes()), ea.scales()[0],
        new IntMatrix(c.k(), c.n(), eb.codes()), eb.scales()[0]);
  }

  /** Whether both operands' quantizers scale per tensor by a percentile. */
  static boolean bothQuantile(ProductPlan p) {
    return p.a().map(PlanRules::quantile).orElse(false) && p.b().map(PlanRules::quantile).orElse(false);
  }

  /** The plain route: exact int64 sums, written into the call's result. False (nothing done) for NaN or infinity. */
  static boolean exact(Numerics q, ProductPlan p, GemmCall c) {
    Codes k = codes(p, c);
    if (k == null) return false;
    store(c, exactSums(k.a(), k.b()), (double) k.scaleA() * k.scaleB());
    q.countIntegerGemm(0);
    return true;
  }

  /**
   * The unpack route on {@code bits}-bit GEMMs: the chooser's strategy for these operands, the
   * unpacked product recorded for the run's unpack ratios. False (nothing done) for NaN or infinity.
   */
  static boolean unpacked(Numerics q, ProductPlan p, GemmCall c, int bits) {
    Codes k = codes(p, c);
    if (k == null) return false;
    UnpackedProduct u = UnpackedGemm.unpackCheapest(k.a(), k.b(), bits);
    store(c, UnpackedGemm.multiply(u, Kernels.gemm()), (double) k.scaleA() * k.scaleB());
    q.countIntegerGemm(0);
    q.unpackStats().record(p.site(), u);
    return true;
  }

  /**
   * A·B exactly in int64: on the int16 kernel when every code fits int16 and no int32 sum can
   * overflow (k·max|a|·max|b| below 2^31), else by the scalar int64 loop.
   */
  static long[] exactSums(IntMatrix a, IntMatrix b) {
    long ma = maxAbs(a.data()), mb = maxAbs(b.data());
    int m = a.rows(), k = a.cols(), n = b.cols();
    if (ma <= Short.MAX_VALUE && mb <= Short.MAX_VALUE && (long) k * ma * mb <= Integer.MAX_VALUE) {
      int[] c32 = new int[m * n];
      Kernels.gemm().gemmS16(false, false, m, n, k, shorts(a.data()), 0, k, shorts(b.data()), 0, n, c32, 0, n, false);
      long[] c = new long[c32.length];
      for (int i = 0; i < c.length; i++) c[i] = c32[i];
      return c;
    }
    return UnpackedGemm.referenceGemm(a, b);
  }

  private static long maxAbs(int[] x) {
    long m = 0;
    for (int v : x) m = Math.max(m, Math.abs((long) v));
    return m;
  }

  private static short[] shorts(int[] x) {
    short[] s = new short[x.length];
    for (int i = 0; i < x.length; i++) s[i] = (short) x[i];
    return s;
  }

  /** C (m×n, strided) = or += sums · scale, each rounded once to fp32. */
  private static void store(GemmCall c, long[] sums, double scale) {
    GemmCall.Matrix out = c.c();
    float[] y = out.x();
    for (int i = 0; i < c.m(); i++) {
      int row = out.off() + i * out.ld();
      for (int j = 0; j < c.n(); j++) {
        float v = (float) (sums[i * c.n() + j] * scale);
        y[row + j] = c.accumulate() ? y[row + j] + v : v;
      }
    }
  }

  /** op(X) of a stored matrix as a contiguous rows×cols array. */
  private static float[] gather(GemmCall.Matrix x, boolean trans, int rows, int cols) {
    float[] out = new float[rows * cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        out[i * cols + j] = trans ? x.x()[x.off() + j * x.ld() + i] : x.x()[x.off() + i * x.ld() + j];
      }
    }
    return out;
  }
}
