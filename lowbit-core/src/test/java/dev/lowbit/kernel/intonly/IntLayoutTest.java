package dev.lowbit.kernel.intonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Pooling, sums, argmax, transposes and im2col: small cases by hand and im2col against a direct convolution. */
class IntLayoutTest {

  @Test
  void maxPoolTakesEachWindowsLargest() {
    // 2 channels of 3×4, k = 2, stride 2 → 2×1×2
    int[] in = {1, 5, -3, 2, /**/ 4, 0, 9, -1, /**/ 7, 7, 7, 7, /**/ -8, -6, -4, -2, /**/ -9, -5, -3, -7, /**/ 0, 0, 0, 0};
    int[] out = new int[4];
    IntPool.max(in, 0, new Window(2, 3, 4, 2, 2, 0), out, 0);
    assertArrayEquals(new int[] {5, 9, -5, -2}, out);
    byte[] u = {(byte) 200, 100, 3, (byte) 255};
    byte[] one = new byte[1];
    IntPool.max(u, 0, new Window(1, 2, 2, 2, 1, 0), true, one, 0);
    assertEquals(255, one[0] & 0xFF);
    IntPool.max(u, 0, new Window(1, 2, 2, 2, 1, 0), false, one, 0);
    assertEquals(100, one[0]);
    assertThrows(IllegalArgumentException.class, () -> IntPool.max(in, 0, new Window(2, 3, 4, 2, 2, 1), out, 0));
  }

  @Test
  void sumAddsOverTheMiddleAxisExactly() {
    int[] in = {1, 2, 3, 4, 5, 6, /**/ 10, 20, 30, 40, 50, 60}; // outer 2, count 3, inner 2
    int[] out = new int[4];
    IntReduce.sum(in, 0, 2, 3, 2, out, 0);
    assertArrayEquals(new int[] {9, 12, 90, 120}, out);
    assertThrows(ArithmeticException.class,
        () -> IntReduce.sum(new int[] {Integer.MAX_VALUE, 1}, 0, 1, 2, 1, new int[1], 0));
  }

  @Test
  void argmaxTakesTheFirstLargest() {
    assertEquals(1, IntReduce.argmax(new int[] {-5, 7, 3, 7}, 0, 4));
    assertEquals(0, IntReduce.argmax(new int[] {9, 7, 3, 7}, 1, 3));
    assertThrows(IllegalArgumentException.class, () -> IntReduce.argmax(new int[0], 0, 0));
  }

  @Test
  void transposeSwapsRowsAndColumns() {
    int[] out = new int[6];
    IntLayout.transpose(new int[] {1, 2, 3, 4, 5, 6}, 0, 2, 3, out, 0);
    assertArrayEquals(new int[] {1, 4, 2, 5, 3, 6}, out);
    byte[] b = new byte[6];
    IntLayout.transpose(new byte[] {1, 2, 3, 4, 5, 6}, 0, 3, 2, b, 0);
    assertArrayEquals(new byte[] {1, 3, 5, 2, 4, 6}, b);
  }

  /** im2col rows times the weights equal a direct zero-padded convolution, for unsigned and signed inputs. */
  @Test
  void im2colRowsTimesWeightsAreTheConvolution() {
    Random rnd = new Random(9);
    for (int trial = 0; trial < 50; trial++) {
      Window g = new Window(1 + rnd.nextInt(3), 3 + rnd.nextInt(6), 3 + rnd.nextInt(6), 1 + rnd.nextInt(3), 1 + rnd.nextInt(2),
          rnd.nextInt(2));
      boolean unsigned = rnd.nextBoolean();
      int outC = 1 + rnd.nextInt(4);
      byte[] in = new byte[g.c() * g.h() * g.w()];
      byte[] w = new byte[outC * g.patch()];
      rnd.nextBytes(in);
      rnd.nextBytes(w);
      int positions = g.outH() * g.outW();
      byte[] cols = new byte[positions * g.patch()];
      IntLayout.im2col(in, 0, g, cols, 0);
      int[] wide = new int[in.length], wideCols = new int[cols.length];
      for (int i = 0; i < in.length; i++) wide[i] = in[i];
      IntLayout.im2col(wide, 0, IntLayout.patchIndex(g), wideCols, 0);
      for (int i = 0; i < cols.length; i++) assertEquals(cols[i], wideCols[i], "int im2col at " + i);
      for (int o = 0; o < outC; o++) {
        for (int oy = 0; oy < g.outH(); oy++) {
          for (int ox = 0; ox < g.outW(); ox++) {
            long direct = 0, viaCols = 0;
            for (int c = 0; c < g.c(); c++) {
              for (int ky = 0; ky < g.k(); ky++) {
                for (int kx = 0; kx < g.k(); kx++) {
                  int y = oy * g.stride() + ky - g.pad(), x = ox * g.stride() + kx - g.pad();
                  if (y < 0 || y >= g.h() || x < 0 || x >= g.w()) continue;
                  byte v = in[(c * g.h() + y) * g.w() + x];
                  direct += (unsigned ? v & 0xFF : v) * w[o * g.patch() + (c * g.k() + ky) * g.k() + kx];
                }
              }
            }
            int row = oy * g.outW() + ox;
            for (int p = 0; p < g.patch(); p++) {
              byte v = cols[row * g.patch() + p];
              viaCols += (unsigned ? v & 0xFF : v) * w[o * g.patch() + p];
            }
            assertEquals(direct, viaCols, "trial " + trial + " at " + o + "," + oy + "," + ox);
          }
        }
      }
    }
  }

  @Test
  void im2colRowsIsTheTransposedIm2colAndBytePoolingEqualsIntPooling() {
    Random rnd = new Random(5);
    for (int trial = 0; trial < 300; trial++) {
      int c = 1 + rnd.nextInt(3), h = 1 + rnd.nextInt(9), w = 1 + rnd.nextInt(9), k = 1 + rnd.nextInt(4);
      int stride = 1 + rnd.nextInt(3), pad = rnd.nextInt(3);
      if (h + 2 * pad < k || w + 2 * pad < k) continue;
      Window g = new Window(c, h, w, k, stride, pad);
      byte[] in = new byte[c * h * w + 3];
      rnd.nextBytes(in);
      int off = rnd.nextInt(3), positions = g.outH() * g.outW(), patch = g.patch(), ld = positions + rnd.nextInt(3);
      byte[] rowMajor = new byte[positions * patch];
      IntLayout.im2col(in, off, g, rowMajor, 0);
      int[] ints = new int[in.length], intCols = new int[patch * ld];
      for (int i = 0; i < in.length; i++) ints[i] = in[i];
      IntLayout.im2colRows(ints, off, g, intCols, 0, ld);
      for (int flip : new int[] {0, 0x80}) {
        byte[] cols = new byte[patch * ld];
        IntLayout.im2colRows(in, off, g, flip, cols, 0, ld);
        for (int p = 0; p < positions; p++) {
          for (int i = 0; i < patch; i++) {
            assertEquals((byte) (rowMajor[p * patch + i] ^ flip), cols[i * ld + p], "trial " + trial + " flip " + flip);
            assertEquals(rowMajor[p * patch + i], intCols[i * ld + p], "ints, trial " + trial);
          }
        }
      }
      if (pad == 0) {
        for (boolean unsigned : new boolean[] {false, true}) {
          int[] wide = new int[in.length], want = new int[c * g.outH() * g.outW()];
          for (int i = 0; i < in.length; i++) wide[i] = unsigned ? in[i] & 0xFF : in[i];
          IntPool.max(wide, off, g, want, 0);
          byte[] got = new byte[want.length];
          IntPool.max(in, off, g, unsigned, got, 0);
          for (int i = 0; i < want.length; i++) assertEquals(want[i], unsigned ? got[i] & 0xFF : got[i], "pool, trial " + trial);
        }
      }
    }
  }

  @Test
  void addExactWrapsTheFirstSumAndRejectsAnOverflowOfTheSecond() {
    int[] out = new int[3];
    IntLayout.addExact(new int[] {0, Integer.MAX_VALUE, 5, -7}, 1, 1, 3, out, 0, 3);
    assertArrayEquals(new int[] {Integer.MIN_VALUE + 3, 9, -3}, out);
    assertThrows(ArithmeticException.class, () -> IntLayout.addExact(new int[] {Integer.MAX_VALUE - 1}, 0, 0, 2, new int[1], 0, 1));
    assertThrows(ArithmeticException.class, () -> IntLayout.addExact(new int[] {Integer.MIN_VALUE}, 0, 0, -1, new int[1], 0, 1));
  }
}
