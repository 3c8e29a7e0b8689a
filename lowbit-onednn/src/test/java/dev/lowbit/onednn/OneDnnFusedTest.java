package dev.lowbit.onednn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.LowPrecisionGemm;
import dev.lowbit.kernel.QuantizedLinear;
import dev.lowbit.kernel.ScalarGemm;
import dev.lowbit.kernel.ScalarLowPrecisionGemm;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The fused kernels (requantizing int8 linear, bf16 GEMM with bf16 output) against their Java references. */
class OneDnnFusedTest {

  static OneDnnGemm gemm;

  @BeforeAll
  static void load() {
    gemm = Natives.loadOrSkip(ScalarGemm.INSTANCE);
    gemm.setMinNativeMacs(0);
  }

  private static byte[] bytes(Random r, int len, boolean extreme, boolean unsigned) {
    byte[] x = new byte[len];
    int[] ext = unsigned ? new int[] {0, 255, 254, 128, 127, 1} : new int[] {-128, 127, -127, 0, 1, -1};
    for (int i = 0; i < len; i++) x[i] = (byte) (extreme ? ext[r.nextInt(ext.length)] : r.nextInt(256));
    return x;
  }

  /** One case: native vs {@link QuantizedLinear}, every output byte. */
  private static void check(Random r, int m, int n, int k, boolean extreme, boolean tB, int aZp,
      float[] scale, int outZp, boolean signedOut) {
    int lda = k + r.nextInt(3);
    int ldb = (tB ? k : n) + r.nextInt(3);
    int ldc = n + r.nextInt(3);
    byte[] a = bytes(r, 2 + m * lda, extreme, true);
    byte[] b = bytes(r, (tB ? n : k) * ldb, extreme, false);
    byte[] want = new byte[1 + m * ldc];
    byte[] got = want.clone();
    QuantizedLinear.linearU8S8(m, n, k, a, 2, lda, aZp, tB, b, 0, ldb, scale, outZp, signedOut, want, 1, ldc);
    long before = gemm.nativeCalls();
    try (PackedWeights w = gemm.packInt8Weights(tB, k, n, b, 0, ldb)) {
      gemm.linearU8S8Packed(m, a, 2, lda, aZp, w, scale, outZp, signedOut, got, 1, ldc);
    }
    assertEquals(before + 1, gemm.nativeCalls(), "ran natively");
    assertArrayEquals(want, got, () -> m + "x" + n + "x" + k + " tB=" + tB + " aZp=" + aZp + " outZp=" + outZp
        + " signed=" + signedOut + " scale[0]=" + scale[0] + " extreme=" + extreme);
  }

  private static float[] scales(Random r, int n, boolean perColumn, float typical) {
    float[] s = new float[perColumn ? n : 1];
    for (int j = 0; j < s.length; j++) s[j] = (float) (typical * Math.exp(r.nextGaussian() * 0.7));
    return s;
  }

  /**
   * With room for two matmuls, every new shape empties the cache and destroys the primitives
   * before it; packed weights keep their own copy of each layout, so a later shape that packs them
   * again (or finds the layout) and the Java reference still agree byte for byte.
   */
  @Test
  void evictingMatmulsDestroysThemAndPackedWeightsSurvive() {
    OneDnn rt = gemm.runtime();
    int before = rt.maxCached;
    rt.maxCached = 2;
    try {
      Random r = new Random(5);
      int n = 24, k = 40;
      byte[] b = bytes(r, k * n, false, false);
      float[] scale = {0.002f};
      try (PackedWeights w = gemm.packInt8Weights(false, k, n, b, 0, n)) {
        for (int round = 0; round < 2; round++) {
          for (int m = 1; m <= 5; m++) {
            byte[] a = bytes(r, m * k, round == 1, true);
            byte[] want = new byte[m * n], got = new byte[m * n];
            QuantizedLinear.linearU8S8(m, n, k, a, 0, k, 128, false, b, 0, n, scale, 128, false, want, 0, n);
            gemm.linearU8S8Packed(m, a, 0, k, 128, w, scale, 128, false, got, 0, n);
            int mm = m;
            assertArrayEquals(want, got, () -> "m=" + mm);
            assertTrue(rt.cachedPrimitives() <= 2, "cache bounded: " + rt.cachedPrimitives());
          }
        }
      }
    } finally {
      rt.maxCached = before;
    }
  }

  @Test
  void requantizedLinearIsBitIdenticalToJava() {
    Random r = new Random(11);
    int[][] shapes = {{1, 1, 1}, {3, 5, 2}, {17, 33, 65}, {31, 29, 127}, {64, 64, 64}, {67, 131, 259}, {33, 65, 68}};
    int[] zps = {0, 1, 127, 128, 255};
    for (int[] s : shapes) {
      int m = s[0], n = s[1], k = s[2];
      for (boolean signedOut : new boolean[] {false, true}) {
        for (boolean perColumn : new boolean[] {false, true}) {
          boolean extreme = r.nextBoolean();
          // typical |acc| ~ 100·sqrt(k)·70: scale so the outputs spread over the whole byte range
          float[] scale = scales(r, n, perColumn, (float) (60 / (100 * 70 * Math.sqrt(k))));
          int aZp = zps[r.nextInt(zps.length)];
          int outZp = signedOut ? zps[r.nextInt(zps.length)] - 128 : zps[r.nextInt(zps.length)];
          check(r, m, n, k, extreme, r.nextBoolean(), aZp, scale, outZp, signedOut);
        }
      }
    }
  }

  @Test
  void tiesRoundToEvenAfterTheZeroPointIsAdded() {
    // scale 0.5 (and 0.25) makes every odd accumulator an exact tie: the order of the zero-point
    // add and the rounding shows with an odd zero point
    Random r = new Random(12);
    for (float sc : new float[] {0.5f, 0.25f, 1f, 0.125f}) {
      for (int outZp : new int[] {0, 1, 3, 127, 128}) {
        check(r, 9, 37, 3, false, false, 128, new float[] {sc}, outZp, false);
        check(r, 9, 37, 3, false, true, 0, new float[] {sc}, outZp - 128, true);
      }
    }
  }

  @Test
  void saturationAndLargeAccumulatorsMatchJava() {
    Random r = new Random(13);
    // huge scales saturate nearly everything; k large with extreme operands gives |acc| > 2^24,
    // where int -> float itself rounds
    check(r, 7, 19, 300, true, false, 0, new float[] {1000f}, 128, false);
    check(r, 7, 19, 300, true, true, 255, new float[] {-3f}, 5, true);
    check(r, 5, 40, 4099, true, false, 0, new float[] {1e-6f}, 128, false);
    check(r, 5, 40, 4099, true, false, 7, scales(r, 40, true, 2e-6f), 0, false);
    check(r, 3, 17, OneDnnGemm.MAX_K_U8S8 / 64, true, true, 0, new float[] {3e-7f}, 100, false);
  }

  @Test
  void accumulatorsAbove2To24RoundToFloatBeforeTheMultiply() {
    // Rows whose exact sum T (> 2^24) lands where fp32 rounding of T, then of T·s, gives another
    // byte than one rounding of the exact product: pins "int32 → fp32, then an fp32 multiply".
    Random r = new Random(15);
    float s = 0x1p-18f * 1.2345679f;
    int rows = 0;
    int[] targets = new int[8];
    for (int t = 1 << 25; rows < targets.length && t < (1 << 26); t += 1 + r.nextInt(7)) {
      float y = (float) t * s;
      double exact = (double) t * s;
      if (y >= 0 && y <= 255 && Math.rint(y) != Math.rint(exact)) targets[rows++] = t;
    }
    assertEquals(targets.length, rows, "found rows where the orders differ");
    int k = (1 << 26) / (255 * 127) + 3;
    int n = 3;
    // one GEMM per row: column 0 is the crafted sum (255·127 per term, then the remainder), the rest random
    for (int i = 0; i < rows; i++) {
      int t = targets[i];
      byte[] ai = new byte[k];
      byte[] bi = new byte[k * n];
      int rest = t;
      for (int p = 0; p < k - 2; p++) {
        int take = Math.min(rest / 255, 127);
        ai[p] = (byte) 255;
        bi[p * n] = (byte) take;
        rest -= 255 * take;
      }
      ai[k - 2] = (byte) 255;
      bi[(k - 2) * n] = (byte) (rest / 255);
      ai[k - 1] = (byte) (rest % 255);
      bi[(k - 1) * n] = 1;
      for (int p = 0; p < k; p++) {
        bi[p * n + 1] = (byte) r.nextInt(256);
        bi[p * n + 2] = (byte) r.nextInt(256);
      }
      int[] acc = new int[n];
      ScalarGemm.INSTANCE.gemmU8S8(false, false, 1, n, k, ai, 0, k, bi, 0, n, acc, 0, n);
      assertEquals(t, acc[0], "crafted sum");
      byte[] want = new byte[n];
      byte[] got = new byte[n];
      float[] scale = {s};
      QuantizedLinear.linearU8S8(1, n, k, ai, 0, k, 0, false, bi, 0, n, scale, 0, false, want, 0, n);
      assertEquals((int) Math.rint((float) t * s), want[0] & 0xFF, "reference rounds twice");
      try (PackedWeights w = gemm.packInt8Weights(false, k, n, bi, 0, n)) {
        gemm.linearU8S8Packed(1, ai, 0, k, 0, w, scale, 0, false, got, 0, n);
      }
      assertArrayEquals(want, got, "sum " + t);
    }
  }

  @Test
  void badRequantizationArgumentsAreRejected() {
    byte[] b = new byte[6];
    try (PackedWeights w = gemm.packInt8Weights(false, 2, 3, b, 0, 3)) {
      byte[] a = new byte[4];
      byte[] c = new byte[6];
      assertThrows(IllegalArgumentException.class,
          () -> gemm.linearU8S8Packed(2, a, 0, 2, 256, w, new float[] {1}, 0, false, c, 0, 3));
      assertThrows(IllegalArgumentException.class,
          () -> gemm.linearU8S8Packed(2, a, 0, 2, 0, w, new float[] {1, 2}, 0, false, c, 0, 3));
      assertThrows(IllegalArgumentException.class,
          () -> gemm.linearU8S8Packed(2, a, 0, 2, 0, w, new float[] {Float.NaN}, 0, false, c, 0, 3));
      assertThrows(IllegalArgumentException.class,
          () -> gemm.linearU8S8Packed(2, a, 0, 2, 0, w, new float[] {1}, 128, true, c, 0, 3));
    }
    try (PackedWeights w = gemm.packBf16Weights(false, 2, 3, new short[6], 0, 3)) {
      assertThrows(IllegalArgumentException.class,
          () -> gemm.linearU8S8Packed(2, new byte[4], 0, 2, 0, w, new float[] {1}, 0, false, new byte[6], 0, 3));
    }
  }

  @Test
  void bf16OutputIsTheBf16RoundingOfTheFp32ResultAndWithinTheBound() {
    Random r = new Random(14);
    for (int[] s : new int[][] {{1, 1, 1}, {17, 33, 65}, {67, 131, 259}, {64, 64, 64}, {300, 260, 70}}) {
      int m = s[0], n = s[1], k = s[2];
      for (boolean tB : new boolean[] {false, true}) {
        boolean tA = r.nextBoolean();
        int lda = (tA ? m : k) + r.nextInt(2);
        int ldb = (tB ? k : n) + r.nextInt(2);
        short[] a = new short[(tA ? k : m) * lda];
        short[] b = new short[(tB ? n : k) * ldb];
        for (int i = 0; i < a.length; i++) a[i] = ScalarLowPrecisionGemm.floatToBf16((float) r.nextGaussian());
        for (int i = 0; i < b.length; i++) b[i] = ScalarLowPrecisionGemm.floatToBf16((float) r.nextGaussian());
        int ldc = n + r.nextInt(2);
        float[] f32 = new float[m * ldc];
        float[] ref = new float[m * ldc];
        short[] got = new short[1 + m * ldc];
        try (PackedWeights w = gemm.packBf16Weights(tB, k, n, b, 0, ldb)) {
          long before = gemm.nativeCalls(), declined = gemm.declinedCalls();
          gemm.gemmBf16Packed(tA, m, a, 0, lda, w, f32, 0, ldc);
          gemm.gemmBf16PackedBf16Out(tA, m, a, 0, lda, w, got, 1, ldc);
          // native where this CPU computes bf16 natively, else both on the Java fallback
          boolean nat = gemm.runsNatively(OneDnnGemm.NarrowKind.BF16);
          assertEquals(before + (nat ? 2 : 0), gemm.nativeCalls(), "native calls (bf16 native here: " + nat + ")");
          assertEquals(declined + (nat ? 0 : 2), gemm.declinedCalls(), "declined calls (bf16 native here: " + nat + ")");
        }
        ScalarLowPrecisionGemm.INSTANCE.gemmBf16(tA, tB, m, n, k, a, 0, lda, b, 0, ldb, ref, 0, ldc);
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < n; j++) {
            float z = f32[i * ldc + j];
            short bits = got[1 + i * ldc + j];
            int at = i, col = j;
            assertEquals(ScalarLowPrecisionGemm.floatToBf16(z), bits,
                () -> "bf16 out at " + at + "," + col + " of " + m + "x" + n + "x" + k + ": fp32 " + z);
            double sumAbs = 0;
            for (int p = 0; p < k; p++) {
              float av = ScalarLowPrecisionGemm.bf16ToFloat(a[tA ? p * lda + i : i * lda + p]);
              float bv = ScalarLowPrecisionGemm.bf16ToFloat(b[tB ? j * ldb + p : p * ldb + j]);
              sumAbs += Math.abs((double) av * bv);
            }
            double bound = LowPrecisionGemm.reassociationBound(k, sumAbs);
            assertTrue(Math.abs(z - ref[i * ldc + j]) <= bound, "fp32 within the reassociation bound");
          }
        }
      }
    }
  }
}
