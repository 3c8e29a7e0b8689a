package dev.lowbit.unpack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.kernel.ScalarGemm;
import dev.lowbit.kernel.VectorGemm;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The unpacked GEMM against the int64 reference, bit for bit, with the spec's examples (§1.11, §1.12). */
class UnpackedGemmTest {

  static final IntMatrix A = UnpackTest.A;
  static final IntMatrix B = UnpackTest.B;
  static final long[] C = {96, -122, -46, 72};

  /** The spec's regression matrices (§1.12). */
  static IntMatrix regressionA() {
    int[][] a = new int[8][6];
    for (int i = 0; i < 8; i++) {
      for (int j = 0; j < 6; j++) a[i][j] = ((7 * i + 13 * j) % 15) - 7;
    }
    a[2][4] = 300;
    a[5][1] = -77;
    a[7][4] = 41;
    return IntMatrix.of(a);
  }

  static IntMatrix regressionB() {
    int[][] b = new int[6][5];
    for (int i = 0; i < 6; i++) {
      for (int j = 0; j < 5; j++) b[i][j] = ((5 * i + 3 * j) % 15) - 7;
    }
    b[3][0] = -200;
    b[0][2] = 19;
    return IntMatrix.of(b);
  }

  @Test
  void theWorkedExampleIsExactUnderEveryStrategy() {
    assertArrayEquals(C, UnpackedGemm.referenceGemm(A, B));
    for (Strategy s : Strategy.values()) {
      assertArrayEquals(C, UnpackedGemm.gemm(A, B, s, 4), s.spec());
      assertArrayEquals(C, UnpackedGemm.multiply(UnpackedGemm.unpack(A, B, s, 4), ScalarGemm.INSTANCE), s.spec());
    }
  }

  @Test
  void theWorkedExampleRowStrategyMatchesTheSpec() {
    UnpackedProduct p = UnpackedGemm.unpack(A, B, Strategy.ROW, 4);
    assertArrayEquals(new int[][] {{3, 4, 5}, {1, 2, -7}, {0, -3, 0}}, p.left().matrix().toArray());
    assertArrayEquals(new int[][] {{2, 1, 0}, {-3, 4, 0}, {6, 7, -2}}, p.rightT().matrix().toIntMatrix().transpose().toArray());
    assertArrayEquals(new long[] {24, 54, -10, -46, -40, 14, 9, -12, 0},
        UnpackedGemm.referenceGemm(p.left().matrix().toIntMatrix(), p.rightT().matrix().toIntMatrix().transpose()));
    assertEquals(2.25, p.ratio(), 0);
    assertEquals(2.25, UnpackedGemm.ratio(A, B, Strategy.ROW, 4), 0);
  }

  @Test
  void theWorkedExampleColumnStrategyMatchesTheSpec() {
    UnpackedProduct p = UnpackedGemm.unpack(A, B, Strategy.COLUMN, 4);
    assertArrayEquals(new int[][] {{3, 4, 5, -3, 5}, {1, 2, -7, 0, -7}}, p.left().matrix().toArray());
    assertArrayEquals(new int[][] {{2, 1}, {-3, 4}, {6, 7}, {-3, 4}, {0, -2}}, p.rightT().matrix().toIntMatrix().transpose().toArray());
    assertArrayEquals(new int[] {0, 0, 0, 1, 1}, p.innerExponent());
    assertArrayEquals(new int[] {0, 1, 2, 1, 2}, p.left().columnSource());
    // ScalarGemm's groups: t=0 over inner 0..2, t=1 over inner 3..4.
    IntMatrix l = p.left().matrix().toIntMatrix();
    IntMatrix r = p.rightT().matrix().toIntMatrix();
    assertArrayEquals(new long[] {24, 54, -46, -40},
        UnpackedGemm.referenceGemm(l.gatherColumns(new int[] {0, 1, 2}), r.gatherColumns(new int[] {0, 1, 2}).transpose()));
    assertArrayEquals(new long[] {9, -22, 0, 14},
        UnpackedGemm.referenceGemm(l.gatherColumns(new int[] {3, 4}), r.gatherColumns(new int[] {3, 4}).transpose()));
    assertEquals(20.0 / 12, p.ratio(), 0);
    assertEquals(1.667, p.ratio(), 5e-4);
    assertEquals(20.0 / 12, UnpackedGemm.ratio(A, B, Strategy.COLUMN, 4), 0);
    assertEquals(Strategy.COLUMN, UnpackedGemm.choose(A, B, 4));
  }

  @Test
  void theWorkedExampleBothStrategyIsTheRowOne() {
    UnpackedProduct both = UnpackedGemm.unpack(A, B, Strategy.BOTH, 4);
    UnpackedProduct row = UnpackedGemm.unpack(A, B, Strategy.ROW, 4);
    assertArrayEquals(row.left().matrix().data(), both.left().matrix().data());
    assertArrayEquals(row.rightT().matrix().data(), both.rightT().matrix().data());
    assertArrayEquals(row.rightT().rowOwner(), both.rightT().rowOwner());
    assertEquals(2.25, both.ratio(), 0);
  }

  @Test
  void theRegressionVectorsGiveTheSpecsProductAndShapes() {
    IntMatrix a = regressionA();
    IntMatrix b = regressionB();
    long[] c = UnpackedGemm.referenceGemm(a, b);
    assertArrayEquals(new long[] {-357, 38, -123, 26, -55}, java.util.Arrays.copyOfRange(c, 0, 5));
    assertArrayEquals(new long[] {-859, 273, 1352, 2151, -1485}, java.util.Arrays.copyOfRange(c, 10, 15));
    // b: {n' of R, m' of R, d' of C, Both n', d', m'}, then the ratios R, C, Both as printed.
    int[][] shapes = {{3, 22, 14, 42, 12, 13, 14}, {4, 13, 8, 13, 11, 7, 8}, {5, 12, 7, 11, 10, 7, 7}, {8, 9, 6, 8, 9, 6, 6}};
    double[][] printed = {{7.700, 7.000, 9.100}, {2.600, 2.167, 2.567}, {2.100, 1.833, 2.042}, {1.350, 1.333, 1.350}};
    for (int t = 0; t < shapes.length; t++) {
      int[] s = shapes[t];
      int bits = s[0];
      UnpackedProduct row = UnpackedGemm.unpack(a, b, Strategy.ROW, bits);
      UnpackedProduct col = UnpackedGemm.unpack(a, b, Strategy.COLUMN, bits);
      UnpackedProduct both = UnpackedGemm.unpack(a, b, Strategy.BOTH, bits);
      String at = "b=" + bits;
      assertArrayEquals(new int[] {s[1], 6, s[2]}, new int[] {row.unpackedN(), row.unpackedD(), row.unpackedM()}, at);
      assertArrayEquals(new int[] {8, s[3], 5}, new int[] {col.unpackedN(), col.unpackedD(), col.unpackedM()}, at);
      assertArrayEquals(new int[] {s[4], s[5], s[6]}, new int[] {both.unpackedN(), both.unpackedD(), both.unpackedM()}, at);
      assertEquals((double) s[1] * 6 * s[2] / 240, row.ratio(), 0, at);
      assertEquals((double) 8 * s[3] * 5 / 240, col.ratio(), 0, at);
      assertEquals((double) s[4] * s[5] * s[6] / 240, both.ratio(), 0, at);
      assertEquals(printed[t][0], row.ratio(), 5e-4, at);
      assertEquals(printed[t][1], col.ratio(), 5e-4, at);
      assertEquals(printed[t][2], both.ratio(), 5e-4, at);
      for (UnpackedProduct p : new UnpackedProduct[] {row, col, both}) {
        assertArrayEquals(c, UnpackedGemm.multiply(p, ScalarGemm.INSTANCE), at + " " + p.strategy().spec());
        assertArrayEquals(c, UnpackedGemm.multiply(p), at + " " + p.strategy().spec());
        assertEquals(p.ratio(), UnpackedGemm.ratio(a, b, p.strategy(), bits), 0, at + " " + p.strategy().spec());
      }
    }
    // Greedy BOTH loses to both single strategies at b=3.
    assertEquals(Strategy.COLUMN, UnpackedGemm.choose(a, b, 3));
    assertEquals(Strategy.COLUMN, UnpackedGemm.choose(a, b, 8));
  }

  @Test
  void chooseTakesTheSmallestRatioAndBreaksTiesInDeclarationOrder() {
    // One dense heavy row: ROW doubles n, COLUMN triples d, BOTH splits the row like ROW (a tie, ROW first).
    IntMatrix a = IntMatrix.of(new int[][] {{100, 100, -100, 100}, {1, 2, 3, 4}});
    IntMatrix b = new IntMatrix(4, 3, new int[12]);
    assertEquals(java.util.Map.of(Strategy.ROW, 2.0, Strategy.COLUMN, 3.0, Strategy.BOTH, 2.0),
        UnpackedGemm.ratios(a, b, 4));
    assertEquals(Strategy.ROW, UnpackedGemm.choose(a, b, 4));
    assertEquals(Strategy.COLUMN, UnpackedGemm.cheapest(java.util.Map.of(Strategy.ROW, 2.0, Strategy.COLUMN, 2.0,
        Strategy.BOTH, Double.NaN)), "ties to the first in declaration order; NaN (not measured) passed over");
    // Nothing heavy: every ratio is 1 and COLUMN comes first.
    assertEquals(Strategy.COLUMN, UnpackedGemm.choose(b.transpose(), a.transpose(), 8));
  }

  /** Random shapes up to 11, heavy-tailed entries, any width: every strategy is exact and fits. */
  @Property(tries = 200)
  void everyStrategyIsExact(@ForAll long seed, @ForAll @IntRange(min = 2, max = 8) int bits) {
    Random r = new Random(seed);
    IntMatrix a = Fixtures.heavyTailed(r, 1 + r.nextInt(11), 1 + r.nextInt(11));
    IntMatrix b = Fixtures.heavyTailed(r, a.cols(), 1 + r.nextInt(11));
    long[] want = UnpackedGemm.referenceGemm(a, b);
    for (Strategy s : Strategy.values()) {
      UnpackedProduct p = UnpackedGemm.unpack(a, b, s, bits);
      Fixtures.assertFits(p.left());
      Fixtures.assertFits(p.rightT());
      assertArrayEquals(want, UnpackedGemm.multiply(p, ScalarGemm.INSTANCE), s.spec());
      assertArrayEquals(want, UnpackedGemm.multiply(p, Kernels.javaGemm()), s.spec());
      assertEquals(p.ratio(), UnpackedGemm.ratio(a, b, s, bits), 0, s.spec());
    }
    UnpackedProduct cheapest = UnpackedGemm.unpackCheapest(a, b, bits); // the engine's one-pass chooser
    assertEquals(UnpackedGemm.choose(a, b, bits), cheapest.strategy());
    assertArrayEquals(want, UnpackedGemm.multiply(cheapest, ScalarGemm.INSTANCE), "cheapest");
  }

  @Test
  void adversarialMatricesAreExact() {
    Random r = new Random(3);
    int[] heavy = new int[6 * 5];
    for (int i = 0; i < heavy.length; i++) heavy[i] = (r.nextBoolean() ? 1 : -1) * (1 << 20 | r.nextInt(1 << 20));
    int[] oneHuge = new int[7 * 6];
    oneHuge[17] = Integer.MAX_VALUE;
    int[] extremes = {Integer.MIN_VALUE, Integer.MAX_VALUE, -Integer.MAX_VALUE, Integer.MIN_VALUE, 0, 1};
    IntMatrix[][] cases = {
      {new IntMatrix(6, 5, heavy), new IntMatrix(5, 6, heavy)},
      {new IntMatrix(7, 6, oneHuge), Fixtures.heavyTailed(r, 6, 3)},
      {new IntMatrix(4, 3, new int[12]), new IntMatrix(3, 2, new int[6])},
      {new IntMatrix(2, 3, extremes), new IntMatrix(3, 2, extremes)},
      {new IntMatrix(1, 6, extremes), new IntMatrix(6, 1, extremes)},
      {new IntMatrix(6, 1, extremes), new IntMatrix(1, 6, extremes)},
      {IntMatrix.of(new int[][] {{Integer.MIN_VALUE}}), IntMatrix.of(new int[][] {{Integer.MIN_VALUE}})},
      {IntMatrix.of(new int[][] {{-9}}), IntMatrix.of(new int[][] {{9}})},
      {new IntMatrix(0, 3, new int[0]), new IntMatrix(3, 2, new int[6])},
      {new IntMatrix(2, 0, new int[0]), new IntMatrix(0, 2, new int[0])},
    };
    for (IntMatrix[] ab : cases) {
      long[] want = UnpackedGemm.referenceGemm(ab[0], ab[1]);
      for (int bits = 2; bits <= 8; bits++) {
        for (Strategy s : Strategy.values()) {
          UnpackedProduct p = UnpackedGemm.unpack(ab[0], ab[1], s, bits);
          Fixtures.assertFits(p.left());
          Fixtures.assertFits(p.rightT());
          assertArrayEquals(want, UnpackedGemm.multiply(p, ScalarGemm.INSTANCE), s.spec() + " b=" + bits);
        }
      }
    }
    // The reference wraps like Java's long: (-2^31)^2 · 2 = 2^63.
    IntMatrix min = IntMatrix.of(new int[][] {{Integer.MIN_VALUE, Integer.MIN_VALUE}});
    assertArrayEquals(new long[] {Long.MIN_VALUE}, UnpackedGemm.referenceGemm(min, min.transpose()));
    assertArrayEquals(new long[] {Long.MIN_VALUE}, UnpackedGemm.gemm(min, min.transpose(), Strategy.BOTH, 2));
    assertEquals(1.0, UnpackedGemm.unpack(new IntMatrix(4, 3, new int[12]), new IntMatrix(3, 2, new int[6]),
        Strategy.BOTH, 2).ratio(), 0);
  }

  @Test
  void largeProductsAreExact() {
    Random r = new Random(300);
    for (int bits : new int[] {2, 8}) {
      int bound = bits == 2 ? 8 : 1 << 12; // outliers of a few digits: every strategy splits some lines
      int[] a = new int[300 * 257];
      int[] b = new int[257 * 300];
      for (int i = 0; i < a.length; i++) a[i] = r.nextInt(bits == 2 ? 3 : 255) - (bits == 2 ? 1 : 127);
      for (int i = 0; i < b.length; i++) b[i] = r.nextInt(bits == 2 ? 3 : 255) - (bits == 2 ? 1 : 127);
      for (int t = 0; t < 40; t++) a[r.nextInt(a.length)] = r.nextInt(2 * bound) - bound; // outliers
      for (int col = 0; col < 257; col += 64) b[col * 300 + r.nextInt(300)] = bound - 1; // a few dirty inner rows
      IntMatrix am = new IntMatrix(300, 257, a);
      IntMatrix bm = new IntMatrix(257, 300, b);
      long[] want = UnpackedGemm.referenceGemm(am, bm);
      for (Strategy s : Strategy.values()) {
        assertArrayEquals(want, UnpackedGemm.gemm(am, bm, s, bits), s.spec() + " b=" + bits);
      }
    }
  }

  @Test
  void longInnerDimensionsAreChunkedBelowInt32Overflow() {
    assertEquals(Integer.MAX_VALUE, UnpackedGemm.maxInner(2));
    assertEquals(Integer.MAX_VALUE / (127 * 127), UnpackedGemm.maxInner(8));
    int d = UnpackedGemm.maxInner(8) + 1000;
    int[] ones = new int[d];
    java.util.Arrays.fill(ones, 127);
    IntMatrix a = new IntMatrix(1, d, ones);
    IntMatrix b = new IntMatrix(d, 1, ones);
    CountingGemm g = new CountingGemm();
    long[] c = UnpackedGemm.multiply(UnpackedGemm.unpack(a, b, Strategy.COLUMN, 8), g);
    assertEquals((long) d * 127 * 127, c[0]);
    assertTrue((long) d * 127 * 127 > Integer.MAX_VALUE);
    assertEquals(2, g.calls);
    assertEquals(UnpackedGemm.maxInner(8), g.largestK);
  }

  /**
   * The int8 kernel runs one GEMM per inner exponent whose group is longer than {@link
   * UnpackedGemm#SMALL_GROUP}, exactly n'·g·m' multiply-adds each; the shorter groups need none.
   */
  @Test
  void theInt8KernelRunsEveryGroupButTheSmallOnes() {
    IntMatrix a = regressionA();
    IntMatrix b = regressionB();
    Random r = new Random(5);
    IntMatrix[][] cases = {{a, b}, {Fixtures.heavyTailed(r, 40, 60), Fixtures.heavyTailed(r, 60, 30)}};
    for (IntMatrix[] ab : cases) {
      for (int bits = 2; bits <= 8; bits++) {
        for (Strategy s : Strategy.values()) {
          UnpackedProduct p = UnpackedGemm.unpack(ab[0], ab[1], s, bits);
          java.util.Map<Integer, Long> groups = java.util.Arrays.stream(p.innerExponent()).boxed()
              .collect(java.util.stream.Collectors.groupingBy(t -> t, java.util.stream.Collectors.counting()));
          long calls = groups.values().stream().filter(g -> g > UnpackedGemm.SMALL_GROUP).count();
          long inner = groups.values().stream().filter(g -> g > UnpackedGemm.SMALL_GROUP).mapToLong(g -> g).sum();
          CountingGemm g = new CountingGemm();
          assertArrayEquals(UnpackedGemm.referenceGemm(ab[0], ab[1]), UnpackedGemm.multiply(p, g));
          assertEquals((long) p.unpackedN() * inner * p.unpackedM(), g.macs, s.spec() + " b=" + bits);
          assertEquals(calls, g.calls, s.spec() + " b=" + bits);
        }
      }
    }
  }

  /** The scalar int8 kernel and the Vector API one at every width give the same unpacked product. */
  @Test
  void scalarAndVectorKernelsAgree() {
    Assumptions.assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
        "jdk.incubator.vector is not loaded");
    Random r = new Random(21);
    IntMatrix a = Fixtures.heavyTailed(r, 23, 40);
    IntMatrix b = Fixtures.heavyTailed(r, 40, 17);
    long[] want = UnpackedGemm.referenceGemm(a, b);
    Gemm[] kernels = {ScalarGemm.INSTANCE, VectorGemm.ofBits(128, 1), VectorGemm.ofBits(256, 2),
        VectorGemm.ofBits(512, 2)};
    for (int bits : new int[] {5, 8}) {
      for (Strategy s : Strategy.values()) {
        UnpackedProduct p = UnpackedGemm.unpack(a, b, s, bits);
        for (Gemm g : kernels) assertArrayEquals(want, UnpackedGemm.multiply(p, g), g.name() + " " + s.spec() + " b=" + bits);
      }
    }
  }

  @Test
  void badShapesAndStrategiesAreNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UnpackedGemm.unpack(A, A, Strategy.ROW, 4));
    assertTrue(e.getMessage().contains("2x3"), e.getMessage());
    assertEquals(Strategy.BOTH, Strategy.parse("Both"));
    e = assertThrows(IllegalArgumentException.class, () -> Strategy.parse("diagonal"));
    assertTrue(e.getMessage().contains("diagonal") && e.getMessage().contains("column, row, both"), e.getMessage());
  }

  /** Delegates gemmS8S8 to the scalar kernel, counting calls and multiply-adds; refuses everything else. */
  static final class CountingGemm implements Gemm {
    long macs;
    int calls;
    int largestK;

    @Override
    public String name() {
      return "counting";
    }

    @Override
    public void gemmS8S8(boolean transA, boolean transB, int m, int n, int k,
        byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
      calls++;
      macs += (long) m * n * k;
      largestK = Math.max(largestK, k);
      ScalarGemm.INSTANCE.gemmS8S8(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
        float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
      throw new AssertionError("sgemm called");
    }

    @Override
    public void gemmU8S8(boolean transA, boolean transB, int m, int n, int k,
        byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
      throw new AssertionError("gemmU8S8 called");
    }

    @Override
    public long gemmS16(boolean transA, boolean transB, int m, int n, int k, short[] a, int aOff, int lda,
        short[] b, int bOff, int ldb, int[] c, int cOff, int ldc, boolean countOverflow) {
      throw new AssertionError("gemmS16 called");
    }
  }
}
