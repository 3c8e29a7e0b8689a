package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The requantizing linear reference against its definition, written out independently. */
class QuantizedLinearTest {

  @Test
  void smallCaseByHand() {
    // A = [[130, 126]] (zp 128 → [2, −2]), B = [[3, −1], [1, 5]]: acc = [4, −12]
    byte[] a = {(byte) 130, (byte) 126};
    byte[] b = {3, -1, 1, 5};
    byte[] c = new byte[2];
    QuantizedLinear.linearU8S8(1, 2, 2, a, 0, 2, 128, false, b, 0, 2, new float[] {0.5f}, 10, false, c, 0, 2);
    assertArrayEquals(new byte[] {12, 4}, c); // 4·0.5+10 = 12, −12·0.5+10 = 4
    QuantizedLinear.linearU8S8(1, 2, 2, a, 0, 2, 128, false, b, 0, 2, new float[] {0.5f, 2f}, -5, true, c, 0, 2);
    assertArrayEquals(new byte[] {-3, -29}, c);
  }

  @Test
  void tiesGoToEvenAfterTheZeroPointAndOutputsSaturate() {
    byte[] b = {1};
    byte[] c = new byte[1];
    int[][] cases = { // acc (a − zp with zp 0), scale·acc, out zp, expected u8
      {5, 1, 0, 2}, {5, 1, 1, 4}, {7, 1, 0, 4}, {3, 1, 2, 4}, {255, 4, 0, 255}, {0, 1, 255, 255},
    };
    for (int[] t : cases) {
      float scale = t[1] == 1 ? 0.5f : 4f; // 5·0.5 = 2.5 → 2; 2.5 + 1 = 3.5 → 4; 3.5 → 4; 1.5 + 2 = 3.5 → 4
      QuantizedLinear.linearU8S8(1, 1, 1, new byte[] {(byte) t[0]}, 0, 1, 0, false, b, 0, 1,
          new float[] {scale}, t[2], false, c, 0, 1);
      assertEquals(t[3], c[0] & 0xFF, () -> java.util.Arrays.toString(t));
    }
    QuantizedLinear.linearU8S8(1, 1, 1, new byte[] {0}, 0, 1, 255, false, new byte[] {127}, 0, 1,
        new float[] {1f}, 0, true, c, 0, 1);
    assertEquals(-128, c[0]);
  }

  @Test
  void matchesTheDefinitionOnRandomInputs() {
    Random r = new Random(3);
    for (int trial = 0; trial < 20; trial++) {
      int m = 1 + r.nextInt(6), n = 1 + r.nextInt(7), k = 1 + r.nextInt(40);
      boolean tB = r.nextBoolean(), signed = r.nextBoolean();
      byte[] a = new byte[m * k];
      byte[] b = new byte[k * n];
      r.nextBytes(a);
      r.nextBytes(b);
      int aZp = r.nextInt(256);
      int outZp = signed ? r.nextInt(256) - 128 : r.nextInt(256);
      float[] scale = new float[r.nextBoolean() ? 1 : n];
      for (int j = 0; j < scale.length; j++) scale[j] = (float) (r.nextGaussian() * 0.01);
      byte[] c = new byte[m * n];
      QuantizedLinear.linearU8S8(m, n, k, a, 0, k, aZp, tB, b, 0, tB ? k : n, scale, outZp, signed, c, 0, n);
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          long acc = 0;
          for (int p = 0; p < k; p++) acc += ((a[i * k + p] & 0xFF) - aZp) * (long) (tB ? b[j * k + p] : b[p * n + j]);
          float y = (float) acc * scale[scale.length == 1 ? 0 : j] + (float) outZp;
          long q = Math.round(Math.rint(y));
          q = Math.max(signed ? -128 : 0, Math.min(signed ? 127 : 255, q));
          assertEquals(q, signed ? c[i * n + j] : c[i * n + j] & 0xFF);
        }
      }
    }
  }

  @Test
  void badArgumentsNameTheValue() {
    byte[] x = new byte[4];
    var e = assertThrows(IllegalArgumentException.class, () -> QuantizedLinear.linearU8S8(
        1, 1, 1, x, 0, 1, -1, false, x, 0, 1, new float[] {1}, 0, false, x, 0, 1));
    assertEquals("u8 input zero point must be in [0, 255], got -1", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> QuantizedLinear.linearU8S8(
        1, 2, 1, x, 0, 1, 0, false, x, 0, 2, new float[3], 0, false, x, 0, 2));
    assertThrows(IllegalArgumentException.class, () -> QuantizedLinear.linearU8S8(
        1, 1, 1, x, 0, 1, 0, false, x, 0, 1, new float[] {Float.POSITIVE_INFINITY}, 0, false, x, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> QuantizedLinear.linearU8S8(
        1, 1, 1, x, 0, 1, 0, false, x, 0, 1, new float[] {1}, 200, true, x, 0, 1));
  }
}
