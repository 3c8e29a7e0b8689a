package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The register-tiled L-Mul GEMM with an fp32 sum against the definition: LMul.multiply in a plain
 * triple loop summing in fp32 along k, and ScalarEmulatedGemm, bit for bit (NaNs compared as NaN),
 * on odd shapes, transposes, special values, both operand roundings, widths and thread counts.
 */
class LMulGemmTest {

  private static final List<LMulGemm> KERNELS = List.of(
      new LMulGemm(512, 1), new LMulGemm(512, 2), new LMulGemm(256, 3), new LMulGemm(128, 2));

  private static final String[] MULS = {
    "lmul1", "lmul2:trunc", "lmul3", "lmul3:trunc", "lmul4", "lmul4:trunc", "lmul5", "lmul7:trunc", "lmul23",
  };

  /** The definition, written as it reads: s = 0; s = s + L-Mul(a, b) for p ascending. */
  static float[] reference(Multiplier.LMul mul, boolean ta, boolean tb, int m, int n, int k,
      float[] a, int aOff, int lda, float[] b, int bOff, int ldb) {
    float[] c = new float[m * n];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float s = 0f;
        for (int p = 0; p < k; p++) {
          float x = ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
          float y = tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
          s = s + LMul.multiply(x, y, mul);
        }
        c[i * n + j] = s;
      }
    }
    return c;
  }

  private static void check(LMulGemm g, Multiplier.LMul mul, boolean ta, boolean tb, int m, int n, int k,
      float[] a, float[] b, String what) {
    int lda = ta ? m + 1 : k + 2; // leading dimensions wider than the operand
    int ldb = tb ? k + 3 : n + 1;
    float[] aa = new float[2 + (ta ? k : m) * lda];
    float[] bb = new float[1 + (tb ? n : k) * ldb];
    java.util.Arrays.fill(aa, Float.NaN); // padding that must never be read
    java.util.Arrays.fill(bb, Float.NaN);
    for (int i = 0; i < m; i++) {
      for (int p = 0; p < k; p++) aa[2 + (ta ? p * lda + i : i * lda + p)] = a[i * k + p];
    }
    for (int p = 0; p < k; p++) {
      for (int j = 0; j < n; j++) bb[1 + (tb ? j * ldb + p : p * ldb + j)] = b[p * n + j];
    }
    float[] want = reference(mul, ta, tb, m, n, k, aa, 2, lda, bb, 1, ldb);
    int ldc = n + 2;
    float[] got = new float[m * ldc + 1];
    java.util.Arrays.fill(got, 42f);
    g.gemm(mul, ta, tb, m, n, k, aa, 2, lda, bb, 1, ldb, got, 1, ldc);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float w = want[i * n + j], x = got[1 + i * ldc + j];
        if (Float.floatToIntBits(w) != Float.floatToIntBits(x)) {
          throw new AssertionError(g.name() + " " + mul.spec() + " " + what + " " + m + "x" + n + "x" + k
              + " tA=" + ta + " tB=" + tb + ": C[" + i + "][" + j + "] expected " + w + " ("
              + Integer.toHexString(Float.floatToRawIntBits(w)) + ") got " + x + " ("
              + Integer.toHexString(Float.floatToRawIntBits(x)) + ")");
        }
      }
      assertEquals(42f, got[1 + i * ldc + n], "column past n written");
    }
    assertEquals(42f, got[0], "element before C written");
  }

  @Test
  void randomShapesAreBitExact() {
    Random r = new Random(21);
    int[][] shapes = {
      {1, 1, 1}, {8, 32, 5}, {9, 33, 17}, {17, 65, 300}, {3, 100, 7}, {40, 5, 9}, {31, 47, 513}, {64, 64, 64},
    };
    int c = 0;
    for (int[] s : shapes) {
      int m = s[0], n = s[1], k = s[2];
      float[] a = GemmData.floats(r, m * k, false, 1.0);
      float[] b = GemmData.floats(r, k * n, false, 0.5);
      for (boolean ta : new boolean[] {false, true}) {
        for (boolean tb : new boolean[] {false, true}) {
          Multiplier.LMul mul = (Multiplier.LMul) Multiplier.parse(MULS[c % MULS.length]);
          check(KERNELS.get(c % KERNELS.size()), mul, ta, tb, m, n, k, a, b, "random");
          c++;
        }
      }
    }
  }

  @Test
  void specialValuesAreBitExact() {
    // zeros, -0, subnormals, inf, NaN, huge and tiny values (products that overflow the magnitude
    // field or fall below the smallest normal), mixed with N(0,1)
    Random r = new Random(22);
    int[][] shapes = {{9, 33, 20}, {16, 64, 40}, {5, 17, 3}, {33, 40, 270}};
    for (int[] s : shapes) {
      int m = s[0], n = s[1], k = s[2];
      float[] a = GemmData.floats(r, m * k, true, 1.0);
      float[] b = GemmData.floats(r, k * n, true, 1.0);
      for (String spec : MULS) {
        Multiplier.LMul mul = (Multiplier.LMul) Multiplier.parse(spec);
        for (LMulGemm g : KERNELS) {
          check(g, mul, r.nextBoolean(), r.nextBoolean(), m, n, k, a, b, "extreme");
        }
      }
    }
  }

  @Test
  void everyGuardOnItsOwn() {
    // one special value per operand matrix, at a position that falls in a full tile, and values
    // whose products sit right at the normal range's edges
    float[] specials = {
      0f, -0f, Float.MIN_VALUE, -Float.MIN_NORMAL / 2, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
      Float.NaN, Float.MAX_VALUE, 1e30f, -1e-30f, 0x1p-63f, 0x1p64f, 0x1.8p-63f, -0x1.fp63f, Float.MIN_NORMAL,
    };
    int m = 16, n = 64, k = 12;
    Random r = new Random(23);
    for (float sv : specials) {
      for (boolean inA : new boolean[] {true, false}) {
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
        if (inA) a[3 * k + 5] = sv; else b[5 * n + 20] = sv;
        // a second value with the opposite scale in the other operand (overflow / underflow pairs)
        if (inA) b[5 * n + 7] = 1 / sv; else a[9 * k + 5] = 1 / sv;
        for (String spec : new String[] {"lmul3", "lmul4:trunc", "lmul23"}) {
          Multiplier.LMul mul = (Multiplier.LMul) Multiplier.parse(spec);
          check(new LMulGemm(512, 1), mul, false, false, m, n, k, a, b, "special " + sv + (inA ? " in A" : " in B"));
          check(new LMulGemm(256, 2), mul, true, true, m, n, k, a, b, "special " + sv + (inA ? " in A" : " in B"));
        }
      }
    }
  }

  @Test
  void oneOddStepInAnOtherwiseLeanBlockTakesTheGuards() {
    // N(0,1) operands (no zeros) make every depth block lean as a whole; one pair of values at one step, at a
    // block's first or last step, at a vector boundary of the row packing or in the depth tail,
    // must still reach that step's guards: a zero (or subnormal) against a huge value, whose lean
    // add would give a visible nonzero, and pairs whose product overflows or underflows
    int m = 10, n = 53, k = 300; // a full depth block and a tail of 44; edge tiles in both directions
    float[][] pairs = {{0f, 0x1p120f}, {0x1p120f, -Float.MIN_VALUE}, {0x1p-70f, -0x1p-70f}, {-0x1p70f, 0x1p70f}};
    int[] steps = {0, 15, 16, 255, 256, 287, 299};
    Random r = new Random(26);
    Multiplier.LMul mul = (Multiplier.LMul) Multiplier.parse("lmul3");
    int c = 0;
    for (float[] pair : pairs) {
      for (int p : steps) {
        float[] a = gaussian(r, m * k);
        float[] b = gaussian(r, k * n);
        a[(c % m) * k + p] = pair[0];
        b[p * n + (c * 7) % n] = pair[1];
        String what = "lean block with " + pair[0] + " x " + pair[1] + " at step " + p;
        check(KERNELS.get(c % KERNELS.size()), mul, c % 3 == 1, c % 5 == 2, m, n, k, a, b, what);
        c++;
      }
    }
  }

  @Test
  void wholeLeanBlocksAtEveryTileEdgeAreBitExact() {
    // zero-free operands: every tile runs each depth block in one lean call, full tiles and edge
    // tiles of the 8 x 3-vector (512-bit) and 8 x 2-vector tiles, with and without a depth tail
    Random r = new Random(27);
    int c = 0;
    for (int m : new int[] {1, 7, 8, 9, 23}) {
      for (int n : new int[] {5, 16, 47, 48, 49, 97}) {
        for (int k : new int[] {16, 33, 270}) {
          Multiplier.LMul mul = (Multiplier.LMul) Multiplier.parse(MULS[c % MULS.length]);
          check(KERNELS.get(c % KERNELS.size()), mul, c % 3 == 0, c % 4 == 1, m, n, k,
              gaussian(r, m * k), gaussian(r, k * n), "lean");
          c++;
        }
      }
    }
  }

  private static float[] gaussian(Random r, int len) {
    float[] v = new float[len];
    for (int i = 0; i < len; i++) v[i] = (float) r.nextGaussian();
    return v;
  }

  @Test
  void reluZerosAndOnlyZerosAreBitExact() {
    // many exact zeros in A (the skipped products), and B holding an inf where A is zero (NaN)
    Random r = new Random(24);
    int m = 24, n = 48, k = 37;
    float[] a = new float[m * k];
    for (int i = 0; i < a.length; i++) a[i] = Math.max(0f, (float) r.nextGaussian());
    float[] b = GemmData.floats(r, k * n, false, 1.0);
    Multiplier.LMul mul = new Multiplier.LMul(3, Multiplier.OperandRounding.RNE);
    check(new LMulGemm(512, 2), mul, false, false, m, n, k, a, b, "relu");
    b[4 * n + 3] = Float.POSITIVE_INFINITY;
    check(new LMulGemm(512, 2), mul, false, false, m, n, k, a, b, "relu with inf");
    check(new LMulGemm(512, 1), mul, false, false, m, n, k, new float[m * k], b, "all zero A with inf");
  }

  @Test
  void agreesWithTheEmulatedGemmsAndDoesNotDependOnThreads() {
    Random r = new Random(25);
    int m = 70, n = 90, k = 600; // several depth blocks, enough work to split
    float[] a = GemmData.floats(r, m * k, false, 1.0);
    float[] b = GemmData.floats(r, k * n, false, 1.0);
    a[17] = Float.NaN; // one guarded tile
    Multiplier mul = Multiplier.parse("lmul4:trunc");
    float[] ref = new float[m * n];
    EmulatedGemm.scalar().gemm(mul, new Accumulator.Fp32Exact(), false, true, m, n, k, a, 0, k, b, 0, k, ref, 0, n, 0);
    for (int t = 1; t <= 4; t++) {
      float[] got = new float[m * n];
      GemmStats st = new VectorEmulatedGemm(512, t).gemm(mul, new Accumulator.Fp32Exact(), false, true, m, n, k,
          a, 0, k, b, 0, k, got, 0, n, 0);
      EmulatedGemmTest.assertFloatBits(ref, got, "vector emulated, " + t + " threads");
      assertEquals(GemmStats.ZERO, st);
    }
    int nan = 0;
    for (float v : ref) if (Float.isNaN(v)) nan++;
    assertEquals(n, nan, "the NaN in A row 0 reaches exactly that row's outputs");
  }

  @Test
  void emptyDepthGivesZerosAndBadArgumentsAreNamed() {
    float[] c = {5f, 5f, 5f, 5f};
    new LMulGemm(256, 1).gemm(new Multiplier.LMul(3, Multiplier.OperandRounding.RNE), false, false, 2, 2, 0,
        new float[0], 0, 1, new float[0], 0, 2, c, 0, 2);
    for (float v : c) assertEquals(0f, v);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LMulGemm(64, 1));
    assertTrue(e.getMessage().contains("64"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new LMulGemm(512, 0));
  }
}
