package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The integer L1 norm (spec §2.5) against the float formula (x − mean) / mean|x − mean|. */
class IntL1NormTest {

  @Test
  void withinHalfAnOutputStepOfTheFloatFormula() {
    SplittableRandom r = new SplittableRandom(11);
    for (int[] nf : new int[][] {{64, 4}, {64, 8}, {7, 0}, {300, 12}, {1, 4}}) {
      int n = nf[0], f = nf[1], rows = 20;
      int[] q = new int[rows * n], out = new int[rows * n];
      for (int i = 0; i < q.length; i++) q[i] = (int) Math.round(r.nextGaussian() * 30 + 5);
      for (int j = 0; j < n; j++) q[3 * n + j] = 17; // a constant set: A = 0 gives 0
      IntL1Norm.normalizeRows(q, rows, n, f, out);
      double worst = 0;
      for (int row = 0; row < rows; row++) {
        double mu = 0, mad = 0;
        for (int j = 0; j < n; j++) mu += q[row * n + j];
        mu /= n;
        for (int j = 0; j < n; j++) mad += Math.abs(q[row * n + j] - mu);
        mad /= n;
        for (int j = 0; j < n; j++) {
          double y = mad == 0 ? 0 : (q[row * n + j] - mu) / mad;
          double err = Math.abs(out[row * n + j] * Math.scalb(1.0, -f) - y);
          worst = Math.max(worst, err);
          assertTrue(err <= 0.5 * Math.scalb(1.0, -f) + 1e-9, "n " + n + " f " + f + " row " + row + " col " + j + ": error " + err);
        }
      }
      assertTrue(n == 1 || worst > 0.01 * Math.scalb(1.0, -f), "the rounding is really exercised");
    }
  }

  @Test
  void scaleFreeAndRefusesBadInput() {
    int[] q = {3, -1, 4, 1, -5, 9, 2, -6}, q2 = new int[8], a = new int[8], b = new int[8];
    for (int i = 0; i < 8; i++) q2[i] = 7 * q[i];
    IntL1Norm.normalizeRows(q, 1, 8, 6, a);
    IntL1Norm.normalizeRows(q2, 1, 8, 6, b);
    for (int i = 0; i < 8; i++) assertEquals(a[i], b[i], "the common scale cancels");
    assertEquals(3, IntL1Norm.roundDiv(5, 2));
    assertEquals(-3, IntL1Norm.roundDiv(-5, 2));
    assertThrows(IllegalArgumentException.class, () -> IntL1Norm.normalizeRows(q, 2, 8, 4, a));
    assertThrows(IllegalArgumentException.class, () -> IntL1Norm.normalizeRows(q, 1, 8, 17, a));
    int[] big = new int[4096];
    big[0] = Integer.MAX_VALUE; // 2·N²·max|q|·2^f = 2^72: refused, not wrapped
    assertThrows(IllegalArgumentException.class, () -> IntL1Norm.normalizeRows(big, 1, 4096, 16, new int[4096]));
  }
}
