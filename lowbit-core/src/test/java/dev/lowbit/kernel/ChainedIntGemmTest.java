package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.format.BlockFormat;
import dev.lowbit.format.IntCodes;
import dev.lowbit.kernel.Accumulator.OverflowMode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link ChainedIntGemm}: the fast path equals the scalar reference bit for bit; the reference does what the spec says. */
class ChainedIntGemmTest {

  static short[] codes(SplittableRandom r, int n, int max) {
    short[] x = new short[n];
    for (int i = 0; i < n; i++) x[i] = (short) (r.nextInt(2 * max + 1) - max);
    return x;
  }

  static float[] floats(SplittableRandom r, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
    return x;
  }

  @Test
  void fastEqualsReferenceBitForBit() {
    SplittableRandom r = new SplittableRandom(7);
    int[] chains = {1, 3, 7, 64, 100, ChainedIntGemm.UNBOUNDED};
    int cases = 0;
    long eventsSeen = 0;
    for (int trial = 0; trial < 48; trial++) {
      int m = 1 + r.nextInt(20), n = 1 + r.nextInt(20), k = r.nextInt(300);
      boolean ta = r.nextBoolean(), tb = r.nextBoolean(), acc = r.nextBoolean();
      OverflowMode mode = trial % 2 == 0 ? OverflowMode.WRAP : OverflowMode.SATURATE;
      int chain = chains[trial % chains.length];
      // full-range codes make overflows (and, saturating, clamps) common; small ones rare
      int max = trial % 3 == 0 ? 32767 : trial % 3 == 1 ? 8191 : 300;
      int lda = (ta ? m : k) + r.nextInt(3), ldb = (tb ? k : n) + r.nextInt(3), ldc = n + r.nextInt(3);
      int aOff = r.nextInt(4), bOff = r.nextInt(4), cOff = r.nextInt(4);
      short[] a = codes(r, aOff + (ta ? k : m) * lda, max), b = codes(r, bOff + (tb ? n : k) * ldb, max);
      float[] rowScale = r.nextBoolean() ? floats(r, m) : null, colScale = r.nextBoolean() ? floats(r, n) : null;
      double scale = Math.scalb(1.0, r.nextInt(60) - 40);
      float[] c0 = floats(r, cOff + m * ldc);
      float[] want = c0.clone(), got = c0.clone();
      long we = ChainedIntGemm.reference(mode, chain, ta, tb, m, n, k, a, aOff, lda, b, bOff, ldb, scale,
          rowScale, colScale, acc, want, cOff, ldc);
      long ge = ChainedIntGemm.gemmS16(mode, chain, ta, tb, m, n, k, a, aOff, lda, b, bOff, ldb, scale,
          rowScale, colScale, acc, got, cOff, ldc);
      String what = "trial " + trial + " m=" + m + " n=" + n + " k=" + k + " chain=" + chain + " " + mode;
      assertArrayEquals(want, got, what);
      assertEquals(we, ge, what + " events");
      eventsSeen += we;
      if (max <= 127) continue;
      cases++;
    }
    assertTrue(cases > 20);
    assertTrue(eventsSeen > 0, "no trial overflowed: the event comparison tested nothing");
  }

  @Test
  void int8FastEqualsReferenceOnWidenedCodes() {
    SplittableRandom r = new SplittableRandom(8);
    for (int trial = 0; trial < 24; trial++) {
      int m = 1 + r.nextInt(17), n = 1 + r.nextInt(17), k = r.nextInt(700);
      boolean ta = r.nextBoolean(), tb = r.nextBoolean(), acc = r.nextBoolean();
      int chain = new int[] {5, 256, ChainedIntGemm.UNBOUNDED}[trial % 3];
      short[] a = codes(r, m * k, 127), b = codes(r, k * n, 127);
      byte[] a8 = new byte[a.length], b8 = new byte[b.length];
      IntCodes.narrow(a, a.length, a8);
      IntCodes.narrow(b, b.length, b8);
      float[] rowScale = floats(r, m);
      float[] want = floats(r, m * n), got = want.clone();
      int lda = ta ? m : k, ldb = tb ? k : n;
      ChainedIntGemm.reference(OverflowMode.WRAP, chain, ta, tb, m, n, k, a, 0, lda, b, 0, ldb, 0.001, rowScale, null,
          acc, want, 0, n);
      assertEquals(0, ChainedIntGemm.gemmS8(OverflowMode.WRAP, chain, ta, tb, m, n, k, a8, 0, lda, b8, 0, ldb, 0.001,
          rowScale, null, acc, got, 0, n));
      assertArrayEquals(want, got, "trial " + trial);
    }
  }

  @Test
  void referenceSpillsChainsInOrderAndWrapsOrSaturates() {
    // one output, k = 7, chain 3: chains {0,1,2}, {3,4,5}, {6}; products just below 2^30
    short[] a = {32767, 32767, 32767, 32767, 32767, 32767, 1};
    short[] b = {32767, 32767, 32767, 32767, 32767, 32767, 3};
    long p = 32767L * 32767;
    float[] c = {10f};
    long ev = ChainedIntGemm.reference(OverflowMode.WRAP, 3, false, false, 1, 1, 7, a, 0, 7, b, 0, 1, 0.5, null, null,
        true, c, 0, 1);
    float chainV = (float) ((int) (3 * p) * 0.5); // 3·p > 2^31 - 1: wraps
    assertTrue(chainV < 0);
    assertEquals(2, ev);
    assertEquals(((10f + chainV) + chainV) + 1.5f, c[0]);
    ev = ChainedIntGemm.reference(OverflowMode.SATURATE, 3, false, false, 1, 1, 7, a, 0, 7, b, 0, 1, 0.5, null, null,
        false, c, 0, 1);
    float sat = (float) (Integer.MAX_VALUE * 0.5);
    assertEquals(2, ev);
    assertEquals((sat + sat) + 1.5f, c[0]);
    // chains of 2 stay inside int32 (2p < 2^31): no event, the exact chain sums
    ev = ChainedIntGemm.reference(OverflowMode.WRAP, 2, false, false, 1, 1, 7, a, 0, 7, b, 0, 1, 1.0, null, null,
        false, c, 0, 1);
    assertEquals(0, ev);
    assertEquals((((float) (2 * p) + (float) (2 * p)) + (float) (2 * p)) + 3f, c[0]);
    // one chain over all of k: the exact sum 6p + 3 wraps, one event
    ev = ChainedIntGemm.reference(OverflowMode.WRAP, ChainedIntGemm.UNBOUNDED, false, false, 1, 1, 7, a, 0, 7, b, 0,
        1, 1.0, null, null, false, c, 0, 1);
    assertEquals(1, ev);
    assertEquals((float) (int) (6 * p + 3), c[0]);
  }

  /**
   * Spec §1.4 overflow demo (our data): post-ReLU Gaussian activations × Gaussian weights with a
   * small positive mean, DFP16, dot products of 4608 (3×3×512). Without headroom and without a
   * chain limit the int32 sums overflow; with one headroom bit, or chains of 256, none does.
   */
  @Test
  void overflowDemoHeadroomOrChainLimitPreventsEvents() {
    SplittableRandom r = new SplittableRandom(3);
    int m = 32, k = 4608, n = 16;
    float[] x = new float[m * k], w = new float[k * n];
    for (int i = 0; i < x.length; i++) x[i] = (float) Math.max(0, r.nextGaussian());
    for (int i = 0; i < w.length; i++) w[i] = (float) (0.1 + r.nextGaussian());
    x[1] = 7.5f; // both shared exponents from the binade [4, 8), whatever the draw
    w[1] = 7.5f;
    long[][] events = new long[3][2];
    for (int h = 0; h <= 2; h++) {
      BlockFormat f = BlockFormat.dfp(16, 0, h);
      short[] xi = new short[x.length], wi = new short[w.length];
      int ex = IntCodes.encodeDfp(f, x, 0, k, m, k, xi), ew = IntCodes.encodeDfp(f, w, 0, n, k, n, wi);
      int[] chains = {ChainedIntGemm.UNBOUNDED, 256};
      for (int ci = 0; ci < 2; ci++) {
        float[] y = new float[m * n];
        events[h][ci] = ChainedIntGemm.gemmS16(OverflowMode.WRAP, chains[ci], false, false, m, n, k, xi, 0, k, wi, 0, n,
            Math.scalb(1.0, ex + ew), null, null, false, y, 0, n);
      }
    }
    assertTrue(events[0][0] > 0, "h=0 without a chain limit should overflow; got " + events[0][0]);
    assertEquals(0, events[0][1], "h=0 with 256-product chains");
    assertEquals(0, events[1][0], "h=1");
    assertEquals(0, events[2][0], "h=2");
  }
}
