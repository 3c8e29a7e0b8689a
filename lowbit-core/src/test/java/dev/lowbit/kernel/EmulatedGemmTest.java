package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fast emulated GEMM against the scalar reference, bit for bit, for every accumulator and
 * multiplier family, at vector widths 128/256/512 and 1 and 2 threads, on odd shapes and
 * transposes with extreme values.
 */
class EmulatedGemmTest {

  private static final int[][] SHAPES = {
    {1, 1, 1}, {7, 33, 1}, {1, 257, 7}, {33, 7, 257}, {257, 1, 33}, {7, 7, 33}, {5, 19, 64},
  };

  private static final List<EmulatedGemm> FAST = List.of(
      new VectorEmulatedGemm(128, 1), new VectorEmulatedGemm(256, 2),
      new VectorEmulatedGemm(512, 1), new VectorEmulatedGemm(512, 2));

  private static final String[] FLOAT_ACCS = {
    "fp32", "e5m6:rne", "e4m7", "e4m3:sr", "m10e5:rne", "e5m2:rne:p=e4m3:pb=9", "e4m7:rne:nouf",
    "e5m6/c16", "e4m7:rne/c8/e6m9:sr", "e8m23:rne", "e3m4:rtz:b=1", "fp32/c5/e5m6:rne",
    "e4m3:sr:p=e5m4/c3/fp32",
  };

  private static final String[] MULS = {"exact", "lmul3", "lmul4:trunc", "lmul23", "lmul1:trunc"};

  private static final String[] INT_ACCS = {
    "int32", "int32:wrap", "int32:sat", "int16:wrap", "int12:sat", "int8:sat", "int20:wrap",
    "int12:wrap/c16", "int16:sat/c4/int20:sat", "int32/c7/int24:wrap", "int31:sat/c3/int32:sat",
    "int9:wrap/c2/int32:wrap",
  };

  @Test
  void floatGemmIsBitExactToReference() {
    Random r = new Random(11);
    int configs = 0;
    for (int[] shape : SHAPES) {
      for (boolean ta : new boolean[] {false, true}) {
        boolean tb = r.nextBoolean();
        int m = shape[0], n = shape[1], k = shape[2];
        boolean extreme = r.nextInt(3) == 0;
        float[] a = GemmData.floats(r, m * k + 3, extreme, 1.0);
        float[] b = GemmData.floats(r, k * n + 5, extreme, 0.5);
        for (String accSpec : FLOAT_ACCS) {
          String mulSpec = MULS[configs++ % MULS.length];
          Accumulator acc = Accumulator.parse(accSpec);
          Multiplier mul = Multiplier.parse(mulSpec);
          long seed = r.nextLong();
          int lda = ta ? m : k;
          int ldb = tb ? k : n;
          float[] ref = new float[m * n + 2];
          GemmStats rs = EmulatedGemm.scalar().gemm(mul, acc, ta, tb, m, n, k, a, 3, lda, b, 5, ldb, ref, 2, n, seed);
          for (EmulatedGemm fast : FAST) {
            float[] got = new float[m * n + 2];
            GemmStats fs = fast.gemm(mul, acc, ta, tb, m, n, k, a, 3, lda, b, 5, ldb, got, 2, n, seed);
            String what = fast.name() + " " + mulSpec + " " + accSpec + " " + m + "x" + n + "x" + k
                + " tA=" + ta + " tB=" + tb + " extreme=" + extreme;
            assertFloatBits(ref, got, what);
            assertEquals(rs, fs, what);
          }
        }
      }
    }
  }

  @Test
  void intGemmIsBitExactToReference() {
    Random r = new Random(12);
    for (int[] shape : SHAPES) {
      for (boolean ta : new boolean[] {false, true}) {
        boolean tb = r.nextBoolean();
        int m = shape[0], n = shape[1], k = shape[2];
        byte[] a8 = GemmData.bytes(r, m * k + 1);
        byte[] b8 = GemmData.bytes(r, k * n + 2);
        short[] a16 = GemmData.shorts(r, m * k + 1);
        short[] b16 = GemmData.shorts(r, k * n + 2);
        int lda = ta ? m : k;
        int ldb = tb ? k : n;
        for (String accSpec : INT_ACCS) {
          Accumulator acc = Accumulator.parse(accSpec);
          int[] ref8 = new int[m * n];
          int[] ref16 = new int[m * n];
          GemmStats s8 = EmulatedGemm.scalar().gemmS8(acc, ta, tb, m, n, k, a8, 1, lda, b8, 2, ldb, ref8, 0, n);
          GemmStats s16 = EmulatedGemm.scalar().gemmS16(acc, ta, tb, m, n, k, a16, 1, lda, b16, 2, ldb, ref16, 0, n);
          for (EmulatedGemm fast : FAST) {
            String what = fast.name() + " " + accSpec + " " + m + "x" + n + "x" + k + " tA=" + ta + " tB=" + tb;
            int[] got = new int[m * n];
            assertEquals(s8, fast.gemmS8(acc, ta, tb, m, n, k, a8, 1, lda, b8, 2, ldb, got, 0, n), "s8 " + what);
            assertArrayEquals(ref8, got, "s8 " + what);
            assertEquals(s16, fast.gemmS16(acc, ta, tb, m, n, k, a16, 1, lda, b16, 2, ldb, got, 0, n), "s16 " + what);
            assertArrayEquals(ref16, got, "s16 " + what);
          }
        }
      }
    }
  }

  @Test
  void exactAccumulatorsAgreeWithPlainGemm() {
    Random r = new Random(13);
    int m = 9, n = 37, k = 70;
    float[] a = GemmData.floats(r, m * k, false, 1);
    float[] b = GemmData.floats(r, k * n, false, 1);
    float[] want = new float[m * n];
    ScalarGemm.INSTANCE.sgemm(false, true, m, n, k, 1f, a, 0, k, b, 0, k, 0f, want, 0, n);
    float[] got = new float[m * n];
    new VectorEmulatedGemm(256, 2).gemm(new Multiplier.Exact(), new Accumulator.Fp32Exact(),
        false, true, m, n, k, a, 0, k, b, 0, k, got, 0, n, 0);
    assertFloatBits(want, got, "fp32 exact vs ScalarGemm.sgemm");

    short[] a16 = GemmData.shorts(r, m * k);
    short[] b16 = GemmData.shorts(r, k * n);
    int[] wantI = new int[m * n];
    long over = ScalarGemm.INSTANCE.gemmS16(true, false, m, n, k, a16, 0, m, b16, 0, n, wantI, 0, n, true);
    int[] gotI = new int[m * n];
    GemmStats st = new VectorEmulatedGemm(512, 2).gemmS16(new Accumulator.Int32Exact(),
        true, false, m, n, k, a16, 0, m, b16, 0, n, gotI, 0, n);
    assertArrayEquals(wantI, gotI);
    assertEquals(over, st.overflows());
    assertEquals(true, over > 0, "the constructed data must overflow int32 somewhere");
  }

  @Test
  void lmulTileWithNormalRowsIsBitExact() {
    // op(A) all normal numbers (the register-tiled L-Mul path), B with every special value
    Random r = new Random(15);
    int m = 9, n = 165, k = 33;
    float[] a = new float[m * k];
    for (int i = 0; i < a.length; i++) {
      float v = GemmData.finiteFloat(r, 1);
      a[i] = v == 0 ? 0.5f : v;
    }
    a[5] = 1e30f; // large: products overflow to inf
    a[7] = 1e-30f; // tiny: products underflow
    // even rows of op(B) hold normal numbers only (the guard-free lane path), odd rows any value
    float[] b = GemmData.floats(r, k * n, true, 1);
    float[] bt = new float[k * n];
    for (int p = 0; p < k; p++) {
      for (int j = 0; j < n; j++) {
        if (p % 2 == 0) {
          float v = (float) r.nextGaussian();
          b[p * n + j] = v == 0 ? 1 : v;
        }
      }
    }
    for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bt[j * k + p] = b[p * n + j];
    for (String mulSpec : new String[] {"lmul3", "lmul4:trunc", "lmul23", "lmul1"}) {
      Multiplier mul = Multiplier.parse(mulSpec);
      for (boolean tb : new boolean[] {false, true}) {
        int ldb = tb ? k : n;
        float[] ref = new float[m * n];
        float[] bb = tb ? bt : b;
        EmulatedGemm.scalar().gemm(mul, new Accumulator.Fp32Exact(), false, tb, m, n, k, a, 0, k, bb, 0, ldb, ref, 0, n, 0);
        for (EmulatedGemm fast : FAST) {
          float[] got = new float[m * n];
          fast.gemm(mul, new Accumulator.Fp32Exact(), false, tb, m, n, k, a, 0, k, bb, 0, ldb, got, 0, n, 0);
          assertFloatBits(ref, got, fast.name() + " " + mulSpec + " tB=" + tb);
        }
      }
    }
  }

  @Test
  void stochasticRoundingDependsOnSeedOnly() {
    Random r = new Random(14);
    int m = 6, n = 40, k = 50;
    float[] a = GemmData.floats(r, m * k, false, 1);
    float[] b = GemmData.floats(r, k * n, false, 1);
    Accumulator acc = Accumulator.parse("e4m3:sr");
    float[] c1 = new float[m * n];
    float[] c2 = new float[m * n];
    float[] c3 = new float[m * n];
    new VectorEmulatedGemm(256, 1).gemm(new Multiplier.Exact(), acc, false, false, m, n, k, a, 0, k, b, 0, n, c1, 0, n, 42);
    new VectorEmulatedGemm(512, 2).gemm(new Multiplier.Exact(), acc, false, false, m, n, k, a, 0, k, b, 0, n, c2, 0, n, 42);
    new VectorEmulatedGemm(256, 1).gemm(new Multiplier.Exact(), acc, false, false, m, n, k, a, 0, k, b, 0, n, c3, 0, n, 43);
    assertFloatBits(c1, c2, "same seed");
    int differ = 0;
    for (int i = 0; i < c1.length; i++) if (c1[i] != c3[i]) differ++;
    assertEquals(true, differ > c1.length / 4, "another seed must change many results, changed " + differ);
  }

  static void assertFloatBits(float[] want, float[] got, String what) {
    for (int i = 0; i < want.length; i++) {
      if (Float.floatToIntBits(want[i]) != Float.floatToIntBits(got[i])) {
        fail(what + ": element " + i + " expected " + want[i] + " got " + got[i]);
      }
    }
  }
}
