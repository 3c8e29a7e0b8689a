package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The vector GEMM against the scalar reference at every vector width and 1 or 2 threads. */
class VectorGemmTest {

  static Stream<VectorGemm> gemms() {
    List<VectorGemm> g = new ArrayList<>();
    for (int bits : new int[] {128, 256, 512}) {
      for (int t : new int[] {1, 2}) g.add(VectorGemm.ofBits(bits, t));
    }
    return g.stream();
  }

  /**
   * Shapes with odd sizes around the tile edges; the last four are big enough to go parallel (the
   * very last split by columns), and the last two span two int16 column blocks and depth blocks.
   */
  static final int[][] SHAPES = {
    {1, 1, 1}, {7, 33, 1}, {1, 257, 7}, {33, 7, 257}, {8, 32, 16}, {17, 65, 300},
    {257, 129, 33}, {130, 257, 40}, {9, 600, 300}, {5, 700, 400},
  };

  private static final SplittableRandom SEEDS = new SplittableRandom(20250101);

  private static byte[] bytes(SplittableRandom r, int len, boolean extreme) {
    byte[] x = new byte[len];
    for (int i = 0; i < len; i++) {
      x[i] = extreme ? (r.nextBoolean() ? (byte) -128 : (byte) 127) : (byte) r.nextInt(256);
    }
    return x;
  }

  private static short[] shorts(SplittableRandom r, int len, boolean extreme) {
    short[] x = new short[len];
    for (int i = 0; i < len; i++) {
      x[i] = extreme ? (short) (r.nextBoolean() ? -32768 : 32767) : (short) r.nextInt(65536);
    }
    return x;
  }

  /** Pads each operand with an offset and a leading dimension 3 larger than needed. */
  private record Layout(int m, int n, int k, boolean ta, boolean tb) {
    int lda() { return (ta ? m : k) + 3; }
    int ldb() { return (tb ? k : n) + 3; }
    int ldc() { return n + 3; }
    int aLen() { return 5 + (ta ? k : m) * lda(); }
    int bLen() { return 2 + (tb ? n : k) * ldb(); }
    int cLen() { return 1 + m * ldc(); }
  }

  @ParameterizedTest
  @MethodSource("gemms")
  void int8KernelsMatchReferenceExactly(VectorGemm g) {
    SplittableRandom r = SEEDS.split();
    for (int[] s : SHAPES) {
      for (int t = 0; t < 4; t++) {
        Layout l = new Layout(s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0);
        boolean extreme = t == 3;
        byte[] a = bytes(r, l.aLen(), extreme);
        byte[] b = bytes(r, l.bLen(), extreme);
        int[] want = new int[l.cLen()];
        int[] got = new int[l.cLen()];
        java.util.Arrays.fill(got, 12345); // overwritten, never read
        System.arraycopy(got, 0, want, 0, want.length);
        ScalarGemm.INSTANCE.gemmS8S8(l.ta, l.tb, l.m, l.n, l.k, a, 5, l.lda(), b, 2, l.ldb(),
            want, 1, l.ldc());
        g.gemmS8S8(l.ta, l.tb, l.m, l.n, l.k, a, 5, l.lda(), b, 2, l.ldb(), got, 1, l.ldc());
        assertArrayEquals(want, got, () -> g.name() + " s8s8 " + l);
        ScalarGemm.INSTANCE.gemmU8S8(l.ta, l.tb, l.m, l.n, l.k, a, 5, l.lda(), b, 2, l.ldb(),
            want, 1, l.ldc());
        g.gemmU8S8(l.ta, l.tb, l.m, l.n, l.k, a, 5, l.lda(), b, 2, l.ldb(), got, 1, l.ldc());
        assertArrayEquals(want, got, () -> g.name() + " u8s8 " + l);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("gemms")
  void int16KernelMatchesReferenceExactlyWithOverflowCounts(VectorGemm g) {
    SplittableRandom r = SEEDS.split();
    for (int[] s : SHAPES) {
      for (int t = 0; t < 4; t++) {
        Layout l = new Layout(s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0);
        boolean extreme = t >= 2; // extreme values overflow int32 from k = 3 on
        short[] a = shorts(r, l.aLen(), extreme);
        short[] b = shorts(r, l.bLen(), extreme);
        int[] want = new int[l.cLen()];
        int[] got = new int[l.cLen()];
        long wantOver = ScalarGemm.INSTANCE.gemmS16(l.ta, l.tb, l.m, l.n, l.k,
            a, 5, l.lda(), b, 2, l.ldb(), want, 1, l.ldc(), true);
        long gotOver = g.gemmS16(l.ta, l.tb, l.m, l.n, l.k,
            a, 5, l.lda(), b, 2, l.ldb(), got, 1, l.ldc(), true);
        assertArrayEquals(want, got, () -> g.name() + " s16 " + l);
        assertEquals(wantOver, gotOver, () -> g.name() + " s16 overflow count " + l);
        assertEquals(0, g.gemmS16(l.ta, l.tb, l.m, l.n, l.k,
            a, 5, l.lda(), b, 2, l.ldb(), got, 1, l.ldc(), false));
        assertArrayEquals(want, got, () -> g.name() + " s16 without counting " + l);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("gemms")
  void overflowCountIsExactOnConstructedCase(VectorGemm g) {
    // Row i of A holds i copies of -32768 then zeros; B is all -32768 (k x n). C[i, j] = i·2^30:
    // rows 0 and 1 fit in int32, rows 2.. overflow (2·2^30 = 2^31 is one past the largest int).
    int m = 21, n = 37, k = 20;
    short[] a = new short[m * k];
    for (int i = 0; i < m; i++) for (int p = 0; p < Math.min(i, k); p++) a[i * k + p] = -32768;
    short[] b = new short[k * n];
    java.util.Arrays.fill(b, (short) -32768);
    int[] c = new int[m * n];
    long over = g.gemmS16(false, false, m, n, k, a, 0, k, b, 0, n, c, 0, n, true);
    assertEquals((long) (m - 2) * n, over);
    for (int i = 0; i < m; i++) {
      assertEquals((int) ((long) Math.min(i, k) << 30), c[i * n + n - 1], "row " + i);
    }
  }

  @ParameterizedTest
  @MethodSource("gemms")
  void int8SumsWrapLikeInt32(VectorGemm g) {
    // 140,000 products of (-128)(-128) = 2^14 sum to 2,293,760,000 > 2^31 - 1: wraps.
    int k = 140_000;
    byte[] a = new byte[2 * k];
    java.util.Arrays.fill(a, (byte) -128);
    int[] c = new int[4];
    g.gemmS8S8(false, true, 2, 2, k, a, 0, k, a, 0, k, c, 0, 2);
    int want = (int) ((long) k << 14);
    assertArrayEquals(new int[] {want, want, want, want}, c);
  }

  @ParameterizedTest
  @MethodSource("gemms")
  void veryDeepInt16ProductsRepackBAndStayExact(VectorGemm g) {
    // k = 300,000: B for all depths would exceed the pack-once limit, so it is packed per block
    int m = 3, n = 17, k = 300_000;
    SplittableRandom r = new SplittableRandom(3);
    short[] a = shorts(r, m * k, false);
    short[] b = shorts(r, k * n, false);
    int[] want = new int[m * n];
    int[] got = new int[m * n];
    long wantOver = ScalarGemm.INSTANCE.gemmS16(false, true, m, n, k, a, 0, k, b, 0, k, want, 0,
        n, true);
    assertEquals(wantOver, g.gemmS16(false, true, m, n, k, a, 0, k, b, 0, k, got, 0, n, true));
    assertArrayEquals(want, got);
  }

  @Test
  void fp32IsIdenticalAcrossWidthsAndThreadsAndMatchesReferenceWithinRounding() {
    SplittableRandom r = SEEDS.split();
    float[][] alphaBeta = {{1f, 0f}, {-2f, 0.5f}, {0.25f, 1f}};
    for (int[] s : SHAPES) {
      for (int t = 0; t < 4; t++) {
        Layout l = new Layout(s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0);
        float[] a = new float[l.aLen()];
        float[] b = new float[l.bLen()];
        float[] c0 = new float[l.cLen()];
        for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) (r.nextDouble() * 2 - 1);
        for (int i = 0; i < c0.length; i++) c0[i] = (float) (r.nextDouble() * 2 - 1);
        float[] ab = alphaBeta[t % alphaBeta.length];
        float[] want = c0.clone();
        ScalarGemm.INSTANCE.sgemm(l.ta, l.tb, l.m, l.n, l.k, ab[0], a, 5, l.lda(), b, 2, l.ldb(),
            ab[1], want, 1, l.ldc());
        float[] first = null;
        for (VectorGemm g : gemms().toList()) {
          float[] got = c0.clone();
          g.sgemm(l.ta, l.tb, l.m, l.n, l.k, ab[0], a, 5, l.lda(), b, 2, l.ldb(),
              ab[1], got, 1, l.ldc());
          if (first == null) {
            first = got;
            if (l.k <= VectorGemm.KC) {
              // one depth block: the same fma chain and epilogue as the reference, bit for bit
              assertArrayEquals(want, got, () -> g.name() + " sgemm " + l);
            } else {
              for (int i = 0; i < want.length; i++) {
                // |error| <= k·eps·Σ|a·b| with |a|,|b| <= 1 (plus C's own term)
                float tol = 4f * l.k * l.k * Math.ulp(1f) + 4 * Math.ulp(1f);
                assertEquals(want[i], got[i], tol, g.name() + " sgemm " + l + " at " + i);
              }
            }
          } else {
            assertArrayEquals(first, got, () -> g.name() + " differs from 128x1 on " + l);
          }
        }
      }
    }
  }

  /**
   * Packing is pure data movement, so with small integer operands (every partial sum exact in
   * fp32, whatever the order) every width must match the reference bit for bit at any depth:
   * shapes around the panel widths (8, 16, 32) and the transpose blocks (4, 8, 16), partial
   * panels, several depth blocks, odd offsets and leading dimensions wider than the operands.
   */
  @Test
  void fp32PackingIsExactOnIntegerOperandsAtEveryWidth() {
    SplittableRandom r = SEEDS.split();
    int[][] shapes = {
      {8, 32, 16}, {16, 16, 17}, {9, 33, 31}, {7, 9, 300}, {24, 65, 257},
      {33, 31, 513}, {40, 64, 15}, {17, 48, 3}, {1, 100, 260},
    };
    for (int[] s : shapes) {
      for (int t = 0; t < 4; t++) {
        boolean ta = (t & 1) != 0;
        boolean tb = (t & 2) != 0;
        int m = s[0];
        int n = s[1];
        int k = s[2];
        int aOff = 1 + r.nextInt(17);
        int bOff = 1 + r.nextInt(17);
        int lda = (ta ? m : k) + r.nextInt(9);
        int ldb = (tb ? k : n) + r.nextInt(9);
        int ldc = n + 1;
        float[] a = new float[aOff + (ta ? k : m) * lda + 5];
        float[] b = new float[bOff + (tb ? n : k) * ldb + 5];
        // |a·b| <= 16 and k <= 513: every sum stays far below 2^24
        for (int i = 0; i < a.length; i++) a[i] = r.nextInt(9) - 4;
        for (int i = 0; i < b.length; i++) b[i] = r.nextInt(9) - 4;
        float[] c0 = new float[1 + m * ldc];
        for (int i = 0; i < c0.length; i++) c0[i] = r.nextInt(5) - 2;
        float[] want = c0.clone();
        ScalarGemm.INSTANCE.sgemm(ta, tb, m, n, k, 1f, a, aOff, lda, b, bOff, ldb,
            2f, want, 1, ldc);
        String shape = m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb
            + " lda=" + lda + " ldb=" + ldb + " aOff=" + aOff + " bOff=" + bOff;
        for (VectorGemm g : gemms().toList()) {
          float[] got = c0.clone();
          g.sgemm(ta, tb, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, 2f, got, 1, ldc);
          assertArrayEquals(want, got, () -> g.name() + " sgemm " + shape);
        }
      }
    }
  }

  @Test
  void fp32BetaZeroIgnoresNaNInC() {
    VectorGemm g = VectorGemm.ofBits(256, 1);
    int m = 9, n = 17, k = 3;
    float[] a = new float[m * k];
    float[] b = new float[k * n];
    java.util.Arrays.fill(a, 1f);
    java.util.Arrays.fill(b, 2f);
    float[] c = new float[m * n];
    java.util.Arrays.fill(c, Float.NaN);
    g.sgemm(false, false, m, n, k, 0.5f, a, 0, k, b, 0, n, 0f, c, 0, n);
    for (float x : c) assertEquals(3f, x);
  }

  @Test
  void emptyShapesFollowTheReference() {
    VectorGemm g = VectorGemm.ofBits(512, 2);
    float[] c = {1f, 2f};
    g.sgemm(false, false, 1, 2, 0, 1f, new float[0], 0, 1, new float[0], 0, 2, 3f, c, 0, 2);
    assertArrayEquals(new float[] {3f, 6f}, c);
    int[] ci = {7, 7};
    g.gemmS8S8(false, false, 1, 2, 0, new byte[0], 0, 1, new byte[0], 0, 2, ci, 0, 2);
    assertArrayEquals(new int[] {0, 0}, ci);
    g.gemmS8S8(false, false, 0, 2, 5, new byte[0], 0, 5, new byte[10], 0, 2, ci, 0, 2);
  }

  @Test
  void badArgumentsAreNamed() {
    VectorGemm g = VectorGemm.ofBits(128, 1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> g.sgemm(false, false, -1, 2, 2, 1f, new float[4], 0, 2, new float[4], 0, 2, 0f,
            new float[4], 0, 2));
    assertTrue(e.getMessage().contains("m=-1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> g.gemmS8S8(false, false, 2, 2, 3, new byte[6], 0, 2, new byte[6], 0, 2,
            new int[4], 0, 2));
    assertTrue(e.getMessage().contains("lda=2"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> VectorGemm.ofBits(64, 1));
    assertTrue(e.getMessage().contains("64"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> VectorGemm.ofBits(256, 0));
    assertTrue(e.getMessage().contains("threads"), e.getMessage());
  }

  @Test
  void providerPicksTheVectorKernelAndHonoursThreads() {
    Gemm g = Kernels.javaGemm();
    assertTrue(g.name().startsWith("vector-"), g.name());
    try {
      Gemm one = Kernels.setThreads(1);
      assertTrue(one.name().endsWith("x1"), one.name());
      assertEquals(one, Kernels.javaGemm());
    } finally {
      Kernels.setThreads(Kernels.defaultThreads());
    }
    assertThrows(IllegalArgumentException.class, () -> Kernels.setThreads(0));
  }
}
