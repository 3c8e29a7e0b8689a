package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.kernel.Accumulator;
import dev.lowbit.kernel.Conv;
import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.kernel.Multiplier;
import dev.lowbit.kernel.ScalarEmulatedGemm;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Product;
import dev.lowbit.numerics.Role;
import dev.lowbit.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Narrow accumulators and multipliers in {@link Compute}: held to the scalar reference chain. */
class EmulatedProductsTest {

  @AfterEach
  void clear() {
    Compute.setNumerics(null);
  }

  static Numerics install(String policyText) {
    Numerics n = new Numerics(Policy.parse(policyText, "t"), 11);
    Compute.setNumerics(n);
    return n;
  }

  static float[] randn(SplittableRandom r, int n, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * scale);
    return v;
  }

  /** Brute-force max |a·w| over every product of a row-major x (m×k) and w (n×k). */
  static double bruteMaxProduct(float[] x, float[] w, int m, int n, int k) {
    double mx = 0;
    for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) for (int p = 0; p < k; p++) {
      mx = Math.max(mx, Math.abs((double) x[i * k + p] * w[j * k + p]));
    }
    return mx;
  }

  @Test
  void lmulWithAnFp32SumRunsUnderTheDefaultCalibratedBiasesBitForBit() {
    // an fp32 sum has no bias to calibrate (this rule once failed with a ClassCastException)
    Numerics num = install("policy t\n*  multiplier  lmul3:trunc  forward\n");
    SplittableRandom r = new SplittableRandom(4);
    int m = 11, k = 45, n = 37;
    float[] x = randn(r, m * k, 1.0), w = randn(r, n * k, 0.3);
    Var y = Compute.linear("fc", Var.constant(new Tensor(x, m, k)), Var.constant(new Tensor(w, n, k)), null);
    Multiplier.LMul mul = (Multiplier.LMul) Multiplier.parse("lmul3:trunc");
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float s = 0f;
        for (int p = 0; p < k; p++) s = s + dev.lowbit.kernel.LMul.multiply(x[i * k + p], w[j * k + p], mul);
        assertEquals(Float.floatToRawIntBits(s), Float.floatToRawIntBits(y.data()[i * n + j]), "output " + i + "," + j);
      }
    }
    assertEquals(java.util.Optional.of(new Accumulator.Fp32Exact()), num.emulated().accumulator("fc", Product.FORWARD));
    assertEquals(1, num.emulated().gemms());
  }

  @Test
  void linearForwardEqualsScalarChainBitForBitAndCountsEvents() {
    Numerics num = install("policy t\n*  accumulator  e4m7:sr/c16  forward\n*  multiplier  lmul5  forward\n");
    SplittableRandom r = new SplittableRandom(3);
    int m = 7, k = 40, n = 9;
    float[] x = randn(r, m * k, 1.5), w = randn(r, n * k, 0.2);
    Var y = Compute.linear("fc", Var.constant(new Tensor(x, m, k)), Var.constant(new Tensor(w, n, k)), null);
    Accumulator acc = num.emulated().accumulator("fc", Product.FORWARD).orElseThrow();
    // biases: b_prod = (2^4 - 1) - ceil(log2 max|a·w|), b_acc = b_prod - round(½·log2 16) = b_prod - 2
    var inner = (Accumulator.FloatAcc) ((Accumulator.Chunked) acc).inner();
    int top = (int) Math.ceil(Math.log(bruteMaxProduct(x, w, m, n, k)) / Math.log(2));
    assertEquals(15 - top, inner.product().bias());
    assertEquals(15 - top - 2, inner.format().bias());
    long seed = num.seed() ^ num.stream("fc", Role.ACCUMULATOR, 0);
    byte[] flags = new byte[k];
    long swamps = 0, others = 0;
    Multiplier mul = Multiplier.parse("lmul5");
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float ref = ScalarEmulatedGemm.chain(mul, acc, java.util.Arrays.copyOfRange(x, i * k, i * k + k),
            java.util.Arrays.copyOfRange(w, j * k, j * k + k), k, seed, (long) i * n + j, flags);
        assertEquals(Float.floatToRawIntBits(ref), Float.floatToRawIntBits(y.data()[i * n + j]), "output " + i + "," + j);
        for (byte f : flags) {
          if ((f & ScalarEmulatedGemm.SWAMP) != 0) swamps++;
          others += Integer.bitCount(f & (ScalarEmulatedGemm.PRODUCT_EVENT | ScalarEmulatedGemm.SATURATE | ScalarEmulatedGemm.UNDERFLOW));
        }
      }
    }
    EmulatedProducts.Events ev = num.emulated().events();
    assertTrue(swamps > 0, "the test data must swamp");
    assertEquals(swamps, ev.swamps());
    assertEquals(others, ev.overflows() + ev.underflows());
    assertEquals(1, num.emulated().gemms());
  }

  @Test
  void conv2dForwardEqualsScalarChainBitForBit() {
    Numerics num = install("policy t\n*  accumulator  e4m7/c16  forward\n");
    SplittableRandom r = new SplittableRandom(5);
    ConvSpec s = new ConvSpec(2, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    float[] xi = randn(r, 2 * 3 * 36, 1.0), cw = randn(r, 4 * 27, 0.3), cb = randn(r, 4, 0.1);
    Var z = Compute.conv2d("conv", Var.constant(new Tensor(xi, 2, 3, 6, 6)), Var.constant(new Tensor(cw, 4, 3, 3, 3)),
        Var.constant(new Tensor(cb, 4)), s);
    Accumulator acc = num.emulated().accumulator("conv", Product.FORWARD).orElseThrow();
    int k = 27, cols = s.colCols();
    float[] col = new float[s.colSize()];
    Conv.im2col(s, xi, col);
    float[] t = new float[s.outputSize()], y = new float[s.outputSize()];
    byte[] flags = new byte[k];
    long seed = num.seed() ^ num.stream("conv", Role.ACCUMULATOR, 0);
    for (int oc = 0; oc < 4; oc++) {
      for (int c = 0; c < cols; c++) {
        float[] colc = new float[k];
        for (int p = 0; p < k; p++) colc[p] = col[p * cols + c];
        t[oc * cols + c] = ScalarEmulatedGemm.chain(new Multiplier.Exact(), acc,
            java.util.Arrays.copyOfRange(cw, oc * k, oc * k + k), colc, k, seed, (long) oc * cols + c, flags);
      }
    }
    Conv.channelsFirstToNchw(s, t, cb, y);
    for (int i = 0; i < y.length; i++) assertEquals(Float.floatToRawIntBits(y[i]), Float.floatToRawIntBits(z.data()[i]), "y[" + i + "]");
    assertTrue(num.emulated().eventsByLayer().containsKey("conv/forward"));
  }

  @Test
  void exactRulesStayOnTheOrdinaryPathAndBackwardIsStraightThrough() {
    SplittableRandom r = new SplittableRandom(9);
    float[] x = randn(r, 4 * 20, 1), w = randn(r, 3 * 20, 1);
    Var w0 = Var.parameter(new Tensor(x.clone(), 4, 20));
    Numerics num = install("policy t\n*  accumulator  fp32\n*  multiplier exact\n");
    Compute.linear("fc", Var.constant(new Tensor(x, 4, 20)), Var.constant(new Tensor(w, 3, 20)), null);
    assertEquals(0, num.emulated().gemms());
    assertTrue(w0.requiresGrad());
    // narrow forward accumulator, identity gradient: backward products are the plain fp32 ones
    float[] plain = gradsOfLinear(null, x, w);
    float[] emu = gradsOfLinear("policy t\n*  accumulator  e4m3/c8  forward\n", x, w);
    for (int i = 0; i < plain.length; i++) assertEquals(plain[i], emu[i], 0f, "grad " + i);
  }

  /** dX then dW of loss = mean(y ⊙ R) for y = x·Wᵀ (4×8: the mean's 1/32 is exact). */
  static float[] gradsOfLinear(String policy, float[] x, float[] w) {
    if (policy != null) install(policy); else Compute.setNumerics(null);
    int m = 4, k = x.length / 4, n = w.length / k;
    Var xv = new Var(new Tensor(x.clone(), m, k), true), wv = Var.parameter(new Tensor(w.clone(), n, k));
    Var y = Compute.linear("fc", xv, wv, null);
    float[] rr = new float[m * n];
    for (int i = 0; i < rr.length; i++) rr[i] = (i % 5) - 2f;
    Ops.mean(Ops.mul(y, Var.constant(new Tensor(rr, m, n)))).backward();
    float[] out = new float[m * k + n * k];
    System.arraycopy(xv.grad(), 0, out, 0, m * k);
    System.arraycopy(wv.grad(), 0, out, m * k, n * k);
    return out;
  }

  @Test
  void gradientVariantsFollowTheEventFlagsAndDiffer() {
    SplittableRandom r = new SplittableRandom(21);
    int m = 4, k = 48, n = 8;
    float[] x = randn(r, m * k, 1), w = randn(r, n * k, 1);
    for (int i = 0; i < k; i++) x[i] = Math.abs(x[i]) * 4; // one row of large same-sign products: saturation
    for (int j = 0; j < n * k; j += 7) w[j] = Math.abs(w[j]);
    String acc = "e3m3/c12";
    float[] identity = gradsOfLinear("policy t\noption accumulator-gradient identity\n*  accumulator  " + acc + "  forward\n", x, w);
    java.util.Map<String, float[]> byMode = new java.util.LinkedHashMap<>();
    for (String mode : new String[] {"overflow", "underflow", "swamp", "all"}) {
      String pol = "policy t\noption accumulator-gradient " + mode + "\n*  accumulator  " + acc + "  forward\n";
      float[] g = gradsOfLinear(pol, x, w);
      Numerics num = Compute.numerics();
      float[] ref = referenceGrads(num, EmulatedProducts.GradientMode.valueOf(mode.toUpperCase()), x, w, m, n, k);
      for (int i = 0; i < g.length; i++) {
        assertTrue(Float.isFinite(g[i]), mode + " grad " + i);
        assertEquals(ref[i], g[i], 1e-6f * Math.max(1f, Math.abs(ref[i])), mode + " grad " + i);
      }
      assertNotEquals(java.util.Arrays.toString(identity), java.util.Arrays.toString(g), mode + " must differ from identity here");
      byMode.put(mode, g);
    }
    assertNotEquals(java.util.Arrays.toString(byMode.get("overflow")), java.util.Arrays.toString(byMode.get("swamp")));
    assertNotEquals(java.util.Arrays.toString(byMode.get("underflow")), java.util.Arrays.toString(byMode.get("all")));
  }

  /** dX and dW with each product's gradient scaled by δq·δp·Π δs from the reference chain's flags (spec §3.5). */
  static float[] referenceGrads(Numerics num, EmulatedProducts.GradientMode mode, float[] x, float[] w, int m, int n, int k) {
    Accumulator acc = num.emulated().accumulator("fc", Product.FORWARD).orElseThrow();
    int chunk = ((Accumulator.Chunked) acc).chunkSize();
    long seed = num.seed() ^ num.stream("fc", Role.ACCUMULATOR, 0);
    double[] dx = new double[m * k], dw = new double[n * k];
    byte[] flags = new byte[k];
    boolean q = mode == EmulatedProducts.GradientMode.UNDERFLOW || mode == EmulatedProducts.GradientMode.ALL;
    boolean sat = mode == EmulatedProducts.GradientMode.OVERFLOW || mode == EmulatedProducts.GradientMode.ALL;
    boolean sw = mode == EmulatedProducts.GradientMode.SWAMP || mode == EmulatedProducts.GradientMode.ALL;
    float[][] pass = new float[m * n][k];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        ScalarEmulatedGemm.chain(new Multiplier.Exact(), acc, java.util.Arrays.copyOfRange(x, i * k, i * k + k),
            java.util.Arrays.copyOfRange(w, j * k, j * k + k), k, seed, (long) i * n + j, flags);
        for (int p = 0; p < k; p++) {
          double f = 1;
          if (q && (flags[p] & ScalarEmulatedGemm.PRODUCT_EVENT) != 0) f = 0;
          if (sw && (flags[p] & ScalarEmulatedGemm.SWAMP) != 0) f = 0;
          if (sat && (flags[p] & ScalarEmulatedGemm.SATURATE) != 0) f = 0;
          for (int later = p + 1; later < (p / chunk + 1) * chunk && later < k; later++) {
            if (sat && (flags[later] & ScalarEmulatedGemm.SATURATE) != 0) f = 0;
          }
          pass[i * n + j][p] = (float) f;
        }
      }
    }
    for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) {
      double s = 0;
      for (int j = 0; j < n; j++) s += (double) g(i, j, n) * w[j * k + p] * pass[i * n + j][p];
      dx[i * k + p] = s;
    }
    for (int j = 0; j < n; j++) for (int p = 0; p < k; p++) {
      double s = 0;
      for (int i = 0; i < m; i++) s += (double) g(i, j, n) * x[i * k + p] * pass[i * n + j][p];
      dw[j * k + p] = s;
    }
    float[] out = new float[m * k + n * k];
    for (int i = 0; i < dx.length; i++) out[i] = (float) dx[i];
    for (int i = 0; i < dw.length; i++) out[m * k + i] = (float) dw[i];
    return out;
  }

  /** The output gradient of gradsOfLinear: R / 32. */
  static float g(int i, int j, int n) {
    return (((i * n + j) % 5) - 2f) / 32f;
  }

  @Test
  void calibrationRulesAndBadOptions() {
    assertEquals(3, EmulatedProducts.ceilLog2(8.0));
    assertEquals(4, EmulatedProducts.ceilLog2(8.5));
    assertEquals(-1074, EmulatedProducts.ceilLog2(Double.MIN_VALUE));
    Accumulator c = EmulatedProducts.calibrate(Accumulator.parse("e4m7/c64"), 0.3, 784);
    var in = (Accumulator.FloatAcc) ((Accumulator.Chunked) c).inner();
    assertEquals(15 - (-1), in.product().bias()); // ceil(log2 0.3) = -1
    assertEquals(16 - 3, in.format().bias()); // ½·log2 64 = 3
    var whole = (Accumulator.FloatAcc) EmulatedProducts.calibrate(Accumulator.parse("e4m7"), 0.3, 784);
    assertEquals(16 - 5, whole.format().bias()); // unchunked: C = K = 784, round(4.81) = 5
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Policy.parse("policy t\noption accumulator-gradient maybe\n", "t"));
    assertTrue(e.getMessage().contains("identity, overflow, underflow, swamp, all"), e.getMessage());
    install("policy t\n*  accumulator  int12:sat  forward\n");
    IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () ->
        Compute.linear("fc", Var.constant(new Tensor(new float[8], 2, 4)), Var.constant(new Tensor(new float[8], 2, 4)), null));
    assertTrue(e2.getMessage().contains("int12:sat"), e2.getMessage());
  }

  @Test
  void narrowIntegerAccumulatorOnIntegerOperandsCountsOverflows() {
    Numerics num = install("policy t\n*  weight,activation  int8  rne  per-tensor\n*  accumulator  int12:sat  forward\n");
    SplittableRandom r = new SplittableRandom(2);
    int m = 3, k = 64, n = 5;
    float[] x = randn(r, m * k, 1), w = randn(r, n * k, 1);
    for (int i = 0; i < x.length; i++) x[i] = Math.abs(x[i]);
    for (int i = 0; i < w.length; i++) w[i] = Math.abs(w[i]);
    Var y = Compute.linear("fc", Var.constant(new Tensor(x, m, k)), Var.constant(new Tensor(w, n, k)), null);
    assertTrue(num.emulated().events().overflows() > 0);
    float max = 0;
    for (float v : y.data()) max = Math.max(max, v);
    // saturated at 2047 codes times the two scales: far below the true sums
    Numerics exact = install("policy t\n*  weight,activation  int8  rne  per-tensor\n");
    Var ye = Compute.linear("fc", Var.constant(new Tensor(x, m, k)), Var.constant(new Tensor(w, n, k)), null);
    float maxE = 0;
    for (float v : ye.data()) maxE = Math.max(maxE, v);
    assertTrue(max < maxE / 2, max + " vs " + maxE);
    assertEquals(0, exact.emulated().gemms());
  }
}
