package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ScalarGemmTest {

  @Test
  void smallWorkedProducts() {
    // [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50]
    float[] c = new float[4];
    ScalarGemm.INSTANCE.sgemm(false, false, 2, 2, 2, 1f,
        new float[] {1, 2, 3, 4}, 0, 2, new float[] {5, 6, 7, 8}, 0, 2, 0f, c, 0, 2);
    assertArrayEquals(new float[] {19, 22, 43, 50}, c);
    int[] ci = new int[4];
    ScalarGemm.INSTANCE.gemmS8S8(false, true, 2, 2, 2,
        new byte[] {1, 2, 3, 4}, 0, 2, new byte[] {5, 7, 6, 8}, 0, 2, ci, 0, 2);
    assertArrayEquals(new int[] {19, 22, 43, 50}, ci);
    ScalarGemm.INSTANCE.gemmU8S8(false, false, 1, 1, 1,
        new byte[] {(byte) 0xFF}, 0, 1, new byte[] {-2}, 0, 1, ci, 0, 1);
    assertEquals(-510, ci[0]);
  }

  @Test
  void int16OverflowIsCountedAndWraps() {
    // 3 products of (-32768)^2 = 3·2^30 > 2^31 − 1: wraps to −2^30 and counts one overflow.
    short[] a = {-32768, -32768, -32768};
    int[] c = new int[1];
    long over = ScalarGemm.INSTANCE.gemmS16(false, false, 1, 1, 3, a, 0, 3, a, 0, 1, c, 0, 1, true);
    assertEquals(1, over);
    assertEquals((int) (3L << 30), c[0]);
  }
}
