package dev.lowbit.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs a row range in contiguous parts on a small shared pool. The split depends only on the row
 * count and thread count, and each part's counts are summed, so results never depend on
 * scheduling. (Kept in one place so it can move to a shared pool in {@link Kernels}.)
 */
final class RowSplit {

  /** Work on rows [from, to); returns the part's event counts {overflows, underflows, swamps}. */
  interface Part {
    long[] run(int from, int to);
  }

  private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "lowbit-emulated-gemm");
    t.setDaemon(true);
    return t;
  });

  private RowSplit() {}

  static GemmStats run(int threads, int rows, long work, Part part) {
    int parts = (int) Math.max(1, Math.min(Math.min(threads, rows), work / 32768 + 1));
    long[] total = new long[3];
    if (parts == 1) {
      add(total, part.run(0, rows));
    } else {
      List<Future<long[]>> fs = new ArrayList<>();
      for (int t = 1; t < parts; t++) {
        int from = (int) ((long) rows * t / parts);
        int to = (int) ((long) rows * (t + 1) / parts);
        fs.add(POOL.submit(() -> part.run(from, to)));
      }
      add(total, part.run(0, (int) ((long) rows / parts)));
      for (Future<long[]> f : fs) {
        try {
          add(total, f.get());
        } catch (java.util.concurrent.ExecutionException e) {
          if (e.getCause() instanceof RuntimeException re) throw re;
          if (e.getCause() instanceof Error er) throw er;
          throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        }
      }
    }
    return new GemmStats(total[0], total[1], total[2]);
  }

  private static void add(long[] total, long[] p) {
    for (int i = 0; i < 3; i++) total[i] += p[i];
  }
}
