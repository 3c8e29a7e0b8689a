package dev.lowbit.kernel.intonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The vectorized Shiftmax equals the scalar {@link Shiftmax#row} bit for bit, at every long width. */
class VectorShiftmaxTest {

  @Test
  void theWorkedExample() {
    int[] x = {25, 10, 0, -12, -40, -100};
    for (VectorSpecies<Long> species : VectorDyadicTest.WIDTHS) {
      int[] y = new int[x.length];
      new VectorShiftmax(species).row(x, 0, x.length, -13, 15, 16, y, 0);
      assertArrayEquals(new int[] {21164, 6919, 3256, 1271, 152, 1}, y, species.toString());
    }
  }

  /** Random rows (int8 scores, and any int), constants across their whole range (bitlen(|x0|) + n ≤ 32), any kOut. */
  @Test
  void equalsTheScalarShiftmax() {
    Random rnd = new Random(23);
    for (VectorSpecies<Long> species : VectorDyadicTest.WIDTHS) {
      VectorShiftmax vs = new VectorShiftmax(species);
      for (int trial = 0; trial < 500; trial++) {
        int len = 1 + rnd.nextInt(trial < 400 ? 40 : 600), off = rnd.nextInt(3);
        int n = rnd.nextInt(4) == 0 ? rnd.nextInt(31) : 15 + rnd.nextInt(3);
        int bits = 1 + rnd.nextInt(Math.min(31, 32 - n));
        int x0 = -(1 + rnd.nextInt(bits == 31 ? Integer.MAX_VALUE : (1 << bits) - 1));
        int kOut = 1 + rnd.nextInt(31);
        boolean wide = rnd.nextInt(5) == 0;
        int[] x = new int[off + len];
        for (int i = 0; i < x.length; i++) x[i] = wide ? rnd.nextInt() : rnd.nextInt(256) - 128;
        int[] want = new int[len + 1], got = new int[len + 1];
        Shiftmax.row(x, off, len, x0, n, kOut, want, 1);
        vs.row(x, off, len, x0, n, kOut, got, 1);
        assertArrayEquals(want, got, species + " trial " + trial + ": x0 " + x0 + " n " + n + " kOut " + kOut);
      }
    }
  }
}
