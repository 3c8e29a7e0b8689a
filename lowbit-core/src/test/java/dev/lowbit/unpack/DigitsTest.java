package dev.lowbit.unpack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Unpacking's vectorized digit extraction against the scalar formula, every length, offset, shift and mask. */
class DigitsTest {

  @Test
  void digitsEqualTheScalarShiftAndMask() {
    Random r = new Random(9);
    int[] pool = {Integer.MIN_VALUE, Integer.MAX_VALUE, -Integer.MAX_VALUE, -1, 0, 1, 127, -128, 1 << 30};
    for (int len = 0; len <= 70; len++) {
      int from = r.nextInt(5), to = r.nextInt(5);
      int[] x = new int[from + len + r.nextInt(3)];
      for (int i = 0; i < x.length; i++) x[i] = r.nextBoolean() ? pool[r.nextInt(pool.length)] : r.nextInt();
      for (int s = 0; s <= 31; s++) {
        for (int mask : new int[] {-1, 0, 1, 7, 127}) {
          byte[] want = new byte[to + len + 2];
          byte[] got = want.clone();
          for (int k = 0; k < len; k++) want[to + k] = (byte) ((x[from + k] >> s) & mask);
          Digits.extract(x, from, got, to, len, s, mask);
          assertArrayEquals(want, got, "len " + len + " shift " + s + " mask " + mask);
        }
      }
      int[] masks = new int[len];
      for (int k = 0; k < len; k++) masks[k] = r.nextBoolean() ? -1 : (1 << (1 + r.nextInt(7))) - 1;
      byte[] want = new byte[to + len + 2];
      byte[] got = want.clone();
      for (int k = 0; k < len; k++) want[to + k] = (byte) (x[from + k] & masks[k]);
      Digits.extractMasked(x, from, masks, got, to, len);
      assertArrayEquals(want, got, "masked len " + len);
      for (int max : new int[] {0, 1, 7, 127, Integer.MAX_VALUE}) {
        int[] y = x.clone();
        for (int i = 0; i < y.length; i++) if (r.nextInt(8) != 0) y[i] = r.nextInt(2 * max / 3 + 1) - max / 3;
        int at = from;
        for (int k = from; k <= from + len; k++) {
          boolean heavy = k < from + len && (y[k] > max || y[k] < -max);
          if (k == from + len || heavy) {
            org.junit.jupiter.api.Assertions.assertEquals(k, Digits.nextHeavy(y, at, from + len, max), "len " + len + " max " + max);
            at = k + 1;
          }
        }
      }
    }
  }
}
