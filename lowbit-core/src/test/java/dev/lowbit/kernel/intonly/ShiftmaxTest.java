package dev.lowbit.kernel.intonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Shiftmax (spec §2.4): the worked example of §2.8 with every intermediate, and the error against softmax. */
class ShiftmaxTest {

  static final int[] X = {25, 10, 0, -12, -40, -100};

  /** S = 0.08, n = 15: x0 = −13, E for Δ = [0,−15,−25,−37,−65,−125], T = 659486, F = 3256. */
  @Test
  void theWorkedExamplesIntermediates() {
    assertEquals(-13, (int) Math.floor(-1 / 0.08));
    long[] e = new long[X.length];
    for (int i = 0; i < X.length; i++) e[i] = Shiftmax.exp(X[i] - 25, -13, 15);
    assertArrayEquals(new long[] {425984, 139264, 65536, 25600, 3072, 30}, e);
    assertEquals(659486, Shiftmax.total(e, 0, e.length));
    assertEquals(3256, Shiftmax.reciprocal(659486));
  }

  @Test
  void theWorkedExampleAtEightAndSixteenOutputBits() {
    int[] y = new int[X.length];
    Shiftmax.row(X, 0, X.length, -13, 15, 8, y, 0);
    assertArrayEquals(new int[] {82, 27, 12, 4, 0, 0}, y);
    Shiftmax.row(X, 0, X.length, -13, 15, 16, y, 0);
    assertArrayEquals(new int[] {21164, 6919, 3256, 1271, 152, 1}, y);
    Shiftmax.row(X, 0, X.length, -13, 16, 8, y, 0);
    assertArrayEquals(new int[] {82, 27, 12, 4, 0, 0}, y, "n = 16 gives the same 8-bit output");
  }

  /**
   * r/2 is kept exact: Δ = −15 at x0 = −13 has r = −9, E = (−9 + 26)·2^13 = 139264 (floor first,
   * as TVM's r >> 1, would give 131072). At the last shift q = n the clamp makes p = n·x0, so r = 0
   * and E = floorDiv(−2·x0, 2) = −x0; below it nothing is flushed further.
   */
  @Test
  void theHalfIntegerIsExactAndTheLastShiftFlushesToMinusX0() {
    assertEquals(139264, Shiftmax.exp(-15, -13, 15));
    assertEquals(13, Shiftmax.exp(-10, -13, 1)); // p = −14 clamped to −13: q = 1 = n
    assertEquals(13, Shiftmax.exp(-1000, -13, 1));
    assertEquals(15, Shiftmax.exp(-8, -13, 1)); // p = −11, q = 0, r = −11, E = 15·2^0
    assertEquals(13, Shiftmax.exp(-100, -13, 0)); // n = 0: every p clamped to 0
    assertEquals(10, Shiftmax.exp(-1, -3, 2)); // p = −1, q = 0, r = −1, E = 5·2^1
  }

  /**
   * Against float softmax for random rows of int8 scores, S in [0.01, 0.1] (x0 ≤ −10, so x0·S is
   * within 10% of −1), n = 15, kOut = 16: every output within 0.08 of softmax and the mean error
   * below 0.002 (the linear 2^f, 1.4375·Δ and x0 approximations; measured 0.061 and 0.0011), and
   * the outputs sum to at most 1 and no less than 1 − len/2^15 − 0.1.
   */
  @Test
  void staysNearFloatSoftmax() {
    Random rnd = new Random(11);
    double worst = 0, total = 0;
    long outputs = 0;
    for (int trial = 0; trial < 2000; trial++) {
      int len = 1 + rnd.nextInt(64);
      double s = 0.01 + 0.09 * rnd.nextDouble();
      int x0 = (int) Math.floor(-1 / s);
      int[] x = new int[len];
      for (int i = 0; i < len; i++) x[i] = rnd.nextInt(256) - 128;
      int[] y = new int[len];
      Shiftmax.row(x, 0, len, x0, 15, 16, y, 0);
      double max = Double.NEGATIVE_INFINITY, z = 0, sum = 0;
      for (int v : x) max = Math.max(max, v * s);
      for (int v : x) z += Math.exp(v * s - max);
      for (int i = 0; i < len; i++) {
        double want = Math.exp(x[i] * s - max) / z, got = y[i] / 32768.0;
        worst = Math.max(worst, Math.abs(want - got));
        total += Math.abs(want - got);
        outputs++;
        sum += got;
      }
      assertTrue(sum <= 1 && sum >= 1 - len / 32768.0 - 0.1, "sum " + sum);
    }
    assertTrue(worst < 0.08, "largest error " + worst);
    assertTrue(total / outputs < 0.002, "mean error " + total / outputs);
  }

  @Test
  void badRowsAndConstantsAreRejected() {
    int[] y = new int[1];
    assertThrows(IllegalArgumentException.class, () -> Shiftmax.row(new int[0], 0, 0, -13, 15, 8, y, 0));
    assertThrows(IllegalArgumentException.class, () -> Shiftmax.row(new int[1], 0, 1, 0, 15, 8, y, 0));
    assertThrows(IllegalArgumentException.class, () -> Shiftmax.row(new int[1], 0, 1, -13, 31, 8, y, 0));
    assertThrows(IllegalArgumentException.class, () -> Shiftmax.row(new int[1], 0, 1, -13, 15, 32, y, 0));
    assertThrows(IllegalArgumentException.class, () -> Shiftmax.exp(1, -13, 15));
  }

  /**
   * A saturated T: 1000 equal scores with E = 2^30 each sum past 2^31 − 1, F = 1 and y = 2^30 >> 24
   * = 64; a single E = 2^31 above the clamped T would give 128 and is held to 127.
   */
  @Test
  void aSaturatedSumStaysInRange() {
    int[] x = new int[1000];
    int[] y = new int[x.length];
    Shiftmax.row(x, 0, x.length, -1 << 20, 10, 8, y, 0);
    for (int v : y) assertEquals(64, v);
    Shiftmax.row(x, 0, 1, -1 << 20, 11, 8, y, 0);
    assertEquals(127, y[0]);
  }
}
