package dev.lowbit.kernel;

/**
 * Reductions and row-wise helpers with a fixed summation order, so results do not depend on
 * thread count or scheduling. Sums accumulate in double, front to back, and round once to float.
 */
public final class Reduce {

  private Reduce() {}

  /** Σ a[off .. off+len), accumulated in double in index order. */
  public static float sum(float[] a, int off, int len) {
    // Eight interleaved double sums, combined pairwise: one chain of dependent additions was bound
    // by their latency (a convolution's bias gradient, 100,352 terms per channel, took 5% of a
    // CNN step). Float terms in double sums, so the order rarely shows in the float result; the
    // order is fixed, so results are deterministic.
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    int i = off, e = off + len;
    for (; i + 8 <= e; i += 8) {
      s0 += a[i];
      s1 += a[i + 1];
      s2 += a[i + 2];
      s3 += a[i + 3];
      s4 += a[i + 4];
      s5 += a[i + 5];
      s6 += a[i + 6];
      s7 += a[i + 7];
    }
    double s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    for (; i < e; i++) s += a[i];
    return (float) s;
  }

  /** out[j] = Σ_i a[off + i·cols + j] over rows i in order (e.g. a bias gradient). */
  public static void columnSums(float[] a, int off, int rows, int cols, float[] out) {
    double[] acc = new double[cols];
    for (int i = 0; i < rows; i++) {
      int b = off + i * cols;
      for (int j = 0; j < cols; j++) acc[j] += a[b + j];
    }
    for (int j = 0; j < cols; j++) out[j] = (float) acc[j];
  }

  /** Row-wise softmax of a rows×cols matrix: max-shifted exp, normalized. y may alias x. */
  public static void softmaxRows(float[] x, float[] y, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
      int b = r * cols;
      float max = Float.NEGATIVE_INFINITY;
      for (int j = 0; j < cols; j++) max = Math.max(max, x[b + j]);
      double s = 0;
      for (int j = 0; j < cols; j++) {
        float e = (float) Math.exp(x[b + j] - max);
        y[b + j] = e;
        s += e;
      }
      float inv = (float) (1.0 / s);
      for (int j = 0; j < cols; j++) y[b + j] *= inv;
    }
  }

  /** Row-wise log-softmax: x − max − log Σ exp(x − max). y may alias x. */
  public static void logSoftmaxRows(float[] x, float[] y, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
      int b = r * cols;
      float max = Float.NEGATIVE_INFINITY;
      for (int j = 0; j < cols; j++) max = Math.max(max, x[b + j]);
      double s = 0;
      for (int j = 0; j < cols; j++) s += Math.exp(x[b + j] - max);
      float lse = (float) (max + Math.log(s));
      for (int j = 0; j < cols; j++) y[b + j] = x[b + j] - lse;
    }
  }

  /**
   * Per-row mean and reciprocal standard deviation 1/sqrt(var + eps) (biased variance, as layer
   * norm uses), two passes in double.
   */
  public static void rowMeanRstd(float[] x, int rows, int cols, float eps, float[] mean, float[] rstd) {
    for (int r = 0; r < rows; r++) {
      int b = r * cols;
      double s = 0;
      for (int j = 0; j < cols; j++) s += x[b + j];
      double m = s / cols;
      double v = 0;
      for (int j = 0; j < cols; j++) {
        double d = x[b + j] - m;
        v += d * d;
      }
      mean[r] = (float) m;
      rstd[r] = (float) (1.0 / Math.sqrt(v / cols + eps));
    }
  }

  /**
   * Per-channel mean and biased variance over an N×C×L tensor (batch norm statistics), in double,
   * batch-major order.
   */
  public static void channelMeanVar(float[] x, int n, int c, int l, float[] mean, float[] var) {
    double cnt = (double) n * l;
    for (int ch = 0; ch < c; ch++) {
      double s = 0;
      for (int i = 0; i < n; i++) {
        int b = (i * c + ch) * l;
        for (int j = 0; j < l; j++) s += x[b + j];
      }
      double m = s / cnt, v = 0;
      for (int i = 0; i < n; i++) {
        int b = (i * c + ch) * l;
        for (int j = 0; j < l; j++) {
          double d = x[b + j] - m;
          v += d * d;
        }
      }
      mean[ch] = (float) m;
      var[ch] = (float) (v / cnt);
    }
  }

  /** Index of the largest value in a[off .. off+len) (first on ties). */
  public static int argmax(float[] a, int off, int len) {
    int best = 0;
    for (int i = 1; i < len; i++) if (a[off + i] > a[off + best]) best = i;
    return best;
  }
}
