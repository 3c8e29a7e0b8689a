package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class IntGemmEpilogueTest {

  @Test
  void rowAndColumnScalesMultiply() {
    int[] c = {1, 2, 3, 4, 5, 6};
    float[] out = new float[6];
    IntGemmEpilogue.dequantize(2, 3, c, 0, 3, 0.5f, new float[] {1f, 4f},
        new float[] {1f, 0.25f, 2f}, out, 0, 3);
    assertArrayEquals(new float[] {0.5f, 0.25f, 3f, 8f, 2.5f, 24f}, out);
    IntGemmEpilogue.dequantize(2, 3, c, 0, 3, 2f, null, null, out, 0, 3);
    assertArrayEquals(new float[] {2, 4, 6, 8, 10, 12}, out);
  }

  @Test
  void matchesDoubleArithmeticOnRandomInts() {
    SplittableRandom r = new SplittableRandom(7);
    int m = 5, n = 9;
    int[] c = new int[m * n];
    for (int i = 0; i < c.length; i++) c[i] = r.nextInt();
    float[] rs = new float[m];
    float[] cs = new float[n];
    for (int i = 0; i < m; i++) rs[i] = (float) Math.scalb(r.nextDouble() + 0.5, -r.nextInt(20));
    for (int j = 0; j < n; j++) cs[j] = (float) (r.nextDouble() + 0.5);
    float[] out = new float[m * n];
    IntGemmEpilogue.dequantize(m, n, c, 0, n, 3f, rs, cs, out, 0, n);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float want = (float) (c[i * n + j] * ((3.0 * rs[i]) * cs[j]));
        assertEquals(want, out[i * n + j]);
      }
    }
  }

  @Test
  void blockScalesCoverRaggedTiles() {
    // 3x5 C in 2x2 blocks: tiles [rows 0-1 | row 2] x [cols 0-1 | 2-3 | 4]
    int[] c = new int[15];
    java.util.Arrays.fill(c, 1);
    float[] scales = {1, 2, 3, 4, 5, 6};
    float[] out = new float[15];
    IntGemmEpilogue.dequantizeBlocks(3, 5, c, 0, 5, scales, 2, 2, out, 0, 5);
    assertArrayEquals(new float[] {1, 1, 2, 2, 3, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6}, out);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> IntGemmEpilogue.dequantizeBlocks(3, 5, c, 0, 5, new float[5], 2, 2, out, 0, 5));
    assertTrue(e.getMessage().contains("needs 6"), e.getMessage());
  }

  @Test
  void shortScaleArraysAreRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> IntGemmEpilogue.dequantize(2, 2, new int[4], 0, 2, 1f, new float[1], null,
            new float[4], 0, 2));
    assertTrue(e.getMessage().contains("rowScale"), e.getMessage());
  }

  @Test
  void int16GemmThenScalesIsDynamicFixedPoint() {
    // DFP: x = q · 2^-e. [0.5 0.25] · [2; 4] = 2 with A in Q.14 and B in Q.8 (scales 2^-14, 2^-8).
    short[] a = {(short) 8192, (short) 4096};
    short[] b = {(short) 512, (short) 1024};
    int[] c = new int[1];
    Kernels.javaGemm().gemmS16(false, false, 1, 1, 2, a, 0, 2, b, 0, 1, c, 0, 1, false);
    float[] out = new float[1];
    IntGemmEpilogue.dequantize(1, 1, c, 0, 1, 1f, new float[] {0x1p-14f}, new float[] {0x1p-8f},
        out, 0, 1);
    assertEquals(2f, out[0]);
  }
}
