package dev.lowbit.kernel.intonly;

/** Integer reductions: sums over an axis (an average pool's numerator) and the argmax of a row. */
public final class IntReduce {

  private IntReduce() {}

  /**
   * out[o, j] = Σ_t in[o, t, j] for o &lt; outer, t &lt; count, j &lt; inner (one sample), exact:
   * a sum outside int32 throws ArithmeticException.
   */
  public static void sum(int[] in, int off, int outer, int count, int inner, int[] out, int outOff) {
    for (int o = 0; o < outer; o++) {
      for (int j = 0; j < inner; j++) {
        long s = 0;
        for (int t = 0; t < count; t++) s += in[off + (o * count + t) * inner + j];
        out[outOff + o * inner + j] = Math.toIntExact(s);
      }
    }
  }

  /** The index of the first largest of x[off .. off+len). */
  public static int argmax(int[] x, int off, int len) {
    if (len < 1) throw new IllegalArgumentException("argmax of an empty row");
    int best = 0;
    for (int i = 1; i < len; i++) {
      if (x[off + i] > x[off + best]) best = i;
    }
    return best;
  }
}
