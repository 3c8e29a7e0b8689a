package dev.lowbit.numerics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.format.Granularity;
import dev.lowbit.format.IntFormat;
import dev.lowbit.format.Quantizer;
import dev.lowbit.format.Rounding;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.numerics.ShiftQuant.Layout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** ShiftQuant (spec training-numerics §2.4, reconstructed): bit-exactness, bounds, the GEMM identity, the error table. */
class ShiftQuantTest {

  /** rows × cols Gaussian values, each channel (along axis) scaled by exp(σ·N(0,1)); some channels zero. */
  static float[] channelScaled(SplittableRandom r, int rows, int cols, int axis, double sigma, boolean zeros) {
    int ch = axis == 1 ? cols : rows;
    double[] s = new double[ch];
    for (int c = 0; c < ch; c++) s[c] = Math.exp(sigma * r.nextGaussian());
    if (zeros) s[ch / 3] = 0;
    float[] g = new float[rows * cols];
    for (int i = 0; i < g.length; i++) {
      int c = axis == 1 ? i % cols : i / cols;
      g[i] = (float) (s[c] * r.nextGaussian());
    }
    return g;
  }

  static void assertSame(ShiftQuant.Result a, ShiftQuant.Result b) {
    assertEquals(a.s0(), b.s0());
    assertArrayEquals(a.shifts(), b.shifts());
    if (a.codes8() != null) assertArrayEquals(a.codes8(), b.codes8());
    else assertArrayEquals(a.codes16(), b.codes16());
    assertEquals(a.isInt8(), b.isInt8());
  }

  @Test
  void fastPathMatchesTheScalarReferenceBitForBit() {
    SplittableRandom r = new SplittableRandom(1);
    int[][] shapes = {{300, 200}, {7, 5}, {1, 33}, {0, 4}};
    int[][] bk = {{4, 4}, {8, 0}, {4, 6}, {6, 2}, {2, 3}};
    for (int[] sh : shapes) {
      for (int axis = 0; axis <= 1; axis++) {
        float[] g = channelScaled(r, sh[0], sh[1], axis, 1.5, sh[0] > 3 && sh[1] > 3);
        if (g.length > 10) g[3] = 1e-42f; // subnormal
        for (int[] p : bk) {
          for (Rounding rd : new Rounding[] {Rounding.STOCHASTIC, Rounding.NEAREST_EVEN, Rounding.TOWARD_ZERO}) {
            ShiftQuant.Result ref = ShiftQuant.quantizeReference(g, new Layout(sh[0], sh[1], axis), p[0], p[1], rd, 5, 77);
            ShiftQuant.Result fast = ShiftQuant.quantize(g, new Layout(sh[0], sh[1], axis), p[0], p[1], rd, 5, 77);
            assertSame(ref, fast);
          }
        }
      }
    }
  }

  @Test
  void codesRespectTheBoundsAndTheShiftRule() {
    SplittableRandom r = new SplittableRandom(2);
    for (int axis = 0; axis <= 1; axis++) {
      int rows = 64, cols = 48;
      float[] g = channelScaled(r, rows, cols, axis, 2.0, true);
      for (int[] p : new int[][] {{4, 4}, {8, 0}, {4, 2}, {3, 5}}) {
        int b = p[0], kk = p[1], lv = (1 << (b - 1)) - 1;
        ShiftQuant.Result q = ShiftQuant.quantize(g, new Layout(rows, cols, axis), b, kk, Rounding.STOCHASTIC, 3, 4);
        assertTrue(q.isInt8(), "L·2^K <= 127 fits int8");
        float m = 0;
        float[] rc = new float[axis == 1 ? cols : rows];
        for (int i = 0; i < g.length; i++) {
          int c = axis == 1 ? i % cols : i / cols;
          rc[c] = Math.max(rc[c], Math.abs(g[i]));
          m = Math.max(m, Math.abs(g[i]));
        }
        assertEquals(m / (double) lv, q.s0());
        for (int c = 0; c < rc.length; c++) {
          int k = q.shifts()[c];
          assertTrue(k >= 0 && k <= kk);
          if (rc[c] == 0) {
            assertEquals(kk, k, "a zero channel takes K");
          } else {
            assertTrue(Math.scalb((double) rc[c], k) <= m, "r_c·2^k <= M");
            assertTrue(k == kk || Math.scalb((double) rc[c], k + 1) > m, "k is the largest such shift");
          }
        }
        for (int i = 0; i < g.length; i++) {
          int c = axis == 1 ? i % cols : i / cols;
          int base = q.baseCode(i);
          assertTrue(Math.abs(base) <= lv, "|q| <= L at " + i);
          assertEquals(base << (kk - q.shifts()[c]), q.code(i), "q' = q << (K - k_c)");
          assertTrue(Math.abs(q.code(i)) <= lv << kk);
          // the dequantized value is within one channel step of G (stochastic rounding)
          double step = Math.scalb(q.s0(), -q.shifts()[c]);
          assertTrue(Math.abs(base * step - g[i]) < step * (1 + 1e-9), "element " + i);
        }
      }
    }
    ShiftQuant.Result wide = ShiftQuant.quantize(g(3), new Layout(3, 1, 0), 4, 6, Rounding.NEAREST_EVEN, 0, 0);
    assertTrue(!wide.isInt8() && wide.codes16() != null, "L·2^K = 448 needs int16");
  }

  static float[] g(int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = i + 1;
    return x;
  }

  @Test
  void roundsStochasticallyWithoutBiasAndReproducibly() {
    float[] g = {0.3f, -0.7f, 1.0f, 0.05f};
    ShiftQuant.Result a = ShiftQuant.quantize(g, new Layout(1, 4, 1), 4, 4, Rounding.STOCHASTIC, 9, 1);
    assertSame(a, ShiftQuant.quantize(g, new Layout(1, 4, 1), 4, 4, Rounding.STOCHASTIC, 9, 1));
    double[] mean = new double[4];
    int trials = 4000;
    boolean differs = false;
    for (int t = 0; t < trials; t++) {
      ShiftQuant.Result q = ShiftQuant.quantize(g, new Layout(1, 4, 1), 4, 4, Rounding.STOCHASTIC, 9, 100 + t);
      float[] d = q.dequantize();
      for (int i = 0; i < 4; i++) mean[i] += d[i] / trials;
      differs |= !java.util.Arrays.equals(q.codes8(), a.codes8());
    }
    assertTrue(differs, "another stream drew the same numbers");
    double step = 1.0 / 7; // M = 1, L = 7; every column is its own channel with k = 0
    for (int i = 0; i < 4; i++) assertEquals(g[i], mean[i], 4 * step / Math.sqrt(trials) + 1e-6, "mean of element " + i);
  }

  @Test
  void badInputIsRefused() {
    float[] g = {1, 2, 3, 4};
    assertThrows(IllegalArgumentException.class, () -> ShiftQuant.quantize(g, new Layout(2, 2, 2), 4, 4, Rounding.NEAREST_EVEN, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> ShiftQuant.quantize(g, new Layout(2, 2, 1), 1, 4, Rounding.NEAREST_EVEN, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> ShiftQuant.quantize(g, new Layout(2, 2, 1), 2, 16, Rounding.NEAREST_EVEN, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> ShiftQuant.quantize(g, new Layout(3, 2, 1), 4, 4, Rounding.NEAREST_EVEN, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new Layout(-1, 2, 0));
    float[] bad = {1, Float.NaN, 3, 4};
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ShiftQuant.quantize(bad, new Layout(2, 2, 0), 4, 4, Rounding.NEAREST_EVEN, 0, 0));
    assertTrue(e.getMessage().contains("NaN"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> ShiftQuant.quantizeReference(new float[] {Float.POSITIVE_INFINITY}, new Layout(1, 1, 0), 4, 4, Rounding.NEAREST_EVEN, 0, 0));
    assertEquals(-1074, ShiftQuant.floorLog2(Double.MIN_VALUE));
    assertEquals(-1, ShiftQuant.floorLog2(0.75));
  }

  /** The key identity: one int8 GEMM on pre-shifted codes × one scalar = the group-quantized product. */
  @Test
  void preShiftedInt8GemmEqualsTheDequantizedProduct() {
    SplittableRandom r = new SplittableRandom(3);
    int n = 40, ch = 24, in = 18;
    float[] g = channelScaled(r, n, ch, 1, 1.5, true); // Linear's error: n × out, channels = columns
    float[] w = new float[ch * in];
    for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
    ShiftQuant.Result q = ShiftQuant.quantize(g, new Layout(n, ch, 1), 4, 4, Rounding.STOCHASTIC, 1, 2);
    Quantizer qw = new Quantizer(IntFormat.signed(4), Rounding.NEAREST_EVEN, new Granularity.PerTensor());
    var ew = qw.encode(w, new int[] {ch, in}, 0, 0);
    byte[] wc = ew.codesAsBytes();
    double sw = ew.scales()[0];
    // dX = G·W (reduction over the channels: the per-channel steps sit inside the sum)
    int[] acc = new int[n * in];
    Kernels.gemm().gemmS8S8(false, false, n, in, ch, q.codes8(), 0, ch, wc, 0, in, acc, 0, in);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < in; j++) {
        double ref = 0, mag = 0;
        for (int c = 0; c < ch; c++) {
          double t = q.baseCode(i * ch + c) * Math.scalb(q.s0(), -q.shifts()[c]) * (wc[c * in + j] * sw);
          ref += t;
          mag += Math.abs(t);
        }
        assertEquals(ref, acc[i * in + j] * q.step() * sw, 1e-13 * mag + 1e-300); // fp rounding of the sum only
      }
    }
    // dW = Gᵀ·X (channel scale outside the sum), same codes
    float[] x = new float[n * in];
    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
    var ex = qw.encode(x, new int[] {n, in}, 0, 0);
    int[] acc2 = new int[ch * in];
    Kernels.gemm().gemmS8S8(true, false, ch, in, n, q.codes8(), 0, ch, ex.codesAsBytes(), 0, in, acc2, 0, in);
    double sx = ex.scales()[0];
    for (int c = 0; c < ch; c++) {
      for (int j = 0; j < in; j++) {
        double ref = 0, mag = 0;
        for (int i = 0; i < n; i++) {
          double t = q.baseCode(i * ch + c) * Math.scalb(q.s0(), -q.shifts()[c]) * (ex.codes()[i * in + j] * sx);
          ref += t;
          mag += Math.abs(t);
        }
        assertEquals(ref, acc2[c * in + j] * q.step() * sx, 1e-13 * mag + 1e-300);
      }
    }
  }

  /** Spec §2.4's table shape: ShiftQuant(K=4) within 3× of per-channel and ≥ 3× better than per-tensor. */
  @Test
  void errorTableOnLogNormalChannels() {
    SplittableRandom r = new SplittableRandom(2024);
    int n = 512, c = 256;
    float[] g = channelScaled(r, n, c, 1, 1.5, false);
    IntFormat int4 = IntFormat.signed(4);
    float[] pt = new float[g.length], pc = new float[g.length];
    new Quantizer(int4, Rounding.NEAREST_EVEN, new Granularity.PerTensor()).quantize(g, new int[] {n, c}, pt, 0, 0);
    new Quantizer(int4, Rounding.NEAREST_EVEN, new Granularity.PerChannel(1)).quantize(g, new int[] {n, c}, pc, 0, 0);
    double ePt = ShiftQuant.relativeMse(g, pt), ePc = ShiftQuant.relativeMse(g, pc);
    double[] eSq = new double[8];
    for (int k = 0; k <= 7; k++) {
      eSq[k] = ShiftQuant.relativeMse(g, ShiftQuant.quantize(g, new Layout(n, c, 1), 4, k, Rounding.NEAREST_EVEN, 0, 0).dequantize());
    }
    String table = String.format("per-tensor %.3f, ShiftQuant K=1..4,7: %.3f %.3f %.3f %.3f %.3f, per-channel %.3f",
        ePt, eSq[1], eSq[2], eSq[3], eSq[4], eSq[7], ePc);
    assertEquals(ePt, eSq[0], 1e-3 * ePt, "K = 0 is per-tensor: " + table);
    assertTrue(eSq[4] <= 3 * ePc, table);
    assertTrue(ePt >= 3 * eSq[4], table);
    for (int k = 1; k <= 7; k++) assertTrue(eSq[k] <= eSq[k - 1] * 1.0001, "more shifts never hurt much: " + table);
    assertNotEquals(eSq[4], ePc);
    System.out.println("ShiftQuant error table (N=512, C=256, sigma=1.5, b=4, RNE): " + table);
  }
}
