package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ReduceTest {

  @Test
  void softmaxAndLogSoftmaxAgreeWithDefinition() {
    SplittableRandom r = new SplittableRandom(1);
    int rows = 4, cols = 7;
    float[] x = ConvTest.rand(r, rows * cols);
    x[3] = 80f; // large value: the max shift must prevent overflow
    float[] sm = new float[x.length], lsm = new float[x.length];
    Reduce.softmaxRows(x, sm, rows, cols);
    Reduce.logSoftmaxRows(x, lsm, rows, cols);
    for (int i = 0; i < rows; i++) {
      double max = Double.NEGATIVE_INFINITY, s = 0;
      for (int j = 0; j < cols; j++) max = Math.max(max, x[i * cols + j]);
      for (int j = 0; j < cols; j++) s += Math.exp(x[i * cols + j] - max);
      double rowSum = 0;
      for (int j = 0; j < cols; j++) {
        double want = Math.exp(x[i * cols + j] - max) / s;
        assertEquals(want, sm[i * cols + j], 1e-6);
        assertEquals(Math.log(want), lsm[i * cols + j], 1e-5);
        rowSum += sm[i * cols + j];
      }
      assertEquals(1.0, rowSum, 1e-6);
    }
  }

  /** The interleaved sum against an exact (BigDecimal) sum rounded to float, offsets and tails included. */
  @Test
  void sumIsTheFloatOfTheExactSum() {
    SplittableRandom r = new SplittableRandom(3);
    for (int len : new int[] {0, 1, 7, 8, 9, 100, 100_352}) {
      float[] a = new float[len + 5];
      for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 6));
      java.math.BigDecimal exact = java.math.BigDecimal.ZERO;
      for (int i = 3; i < 3 + len; i++) exact = exact.add(new java.math.BigDecimal(a[i]));
      assertEquals(exact.floatValue(), Reduce.sum(a, 3, len), "length " + len);
    }
    assertEquals(Float.NaN, Reduce.sum(new float[] {1, Float.NaN, 2, 3, 4, 5, 6, 7, 8}, 0, 9));
  }

  @Test
  void statisticsMatchTwoPassDouble() {
    SplittableRandom r = new SplittableRandom(2);
    int n = 3, c = 4, l = 5;
    float[] x = ConvTest.rand(r, n * c * l);
    float[] mean = new float[c], var = new float[c];
    Reduce.channelMeanVar(x, n, c, l, mean, var);
    for (int ch = 0; ch < c; ch++) {
      double s = 0, s2 = 0;
      for (int i = 0; i < n; i++) for (int j = 0; j < l; j++) s += x[(i * c + ch) * l + j];
      double m = s / (n * l);
      for (int i = 0; i < n; i++) for (int j = 0; j < l; j++) s2 += Math.pow(x[(i * c + ch) * l + j] - m, 2);
      assertEquals(m, mean[ch], 1e-6);
      assertEquals(s2 / (n * l), var[ch], 1e-6);
    }
    float[] rm = new float[n * c], rs = new float[n * c];
    Reduce.rowMeanRstd(x, n * c, l, 1e-5f, rm, rs);
    for (int row = 0; row < n * c; row++) {
      double s = 0, s2 = 0;
      for (int j = 0; j < l; j++) s += x[row * l + j];
      double m = s / l;
      for (int j = 0; j < l; j++) s2 += Math.pow(x[row * l + j] - m, 2);
      assertEquals(m, rm[row], 1e-6);
      assertEquals(1 / Math.sqrt(s2 / l + 1e-5), rs[row], 1e-4);
    }
    float[] cs = new float[l];
    Reduce.columnSums(x, 0, n * c, l, cs);
    for (int j = 0; j < l; j++) {
      double s = 0;
      for (int row = 0; row < n * c; row++) s += x[row * l + j];
      assertEquals(s, cs[j], 1e-6);
    }
    assertEquals(1, Reduce.argmax(new float[] {1, 3, 5, 5}, 1, 3)); // relative index, first of the tie
  }
}
