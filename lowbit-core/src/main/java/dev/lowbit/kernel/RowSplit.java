package dev.lowbit.kernel;

/**
 * Runs a row range in contiguous parts on {@link Parallel}'s shared pool. The split depends only on
 * the row count and thread count, and each part's counts are summed in part order, so results
 * never depend on scheduling.
 */
final class RowSplit {

  /** Work on rows [from, to); returns the part's event counts {overflows, underflows, swamps}. */
  interface Part {
    long[] run(int from, int to);
  }

  private RowSplit() {}

  static GemmStats run(int threads, int rows, long work, Part part) {
    int parts = (int) Math.max(1, Math.min(Math.min(threads, rows), work / 32768 + 1));
    long[][] counts = new long[parts][];
    Parallel.forParts(parts, parts, (lo, hi) -> {
      for (int t = lo; t < hi; t++) {
        counts[t] = part.run((int) ((long) rows * t / parts), (int) ((long) rows * (t + 1) / parts));
      }
    });
    long[] total = new long[3];
    for (long[] c : counts) {
      for (int i = 0; i < 3; i++) total[i] += c[i];
    }
    return new GemmStats(total[0], total[1], total[2]);
  }
}
