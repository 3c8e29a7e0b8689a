package dev.lowbit.kernel;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Static-split parallel loops for the non-GEMM kernels (im2col, pooling, layout changes,
 * elementwise ops). {@code [0, n)} is cut into at most {@link #threads()} contiguous ranges that
 * depend only on n and the thread count, and callers only use it where every output element is
 * written by exactly one range with the same operations as a serial loop: results are identical
 * for any thread count.
 */
public final class Parallel {

  /**
   * Below this many elements (of roughly unit cost) a loop runs on the calling thread: handing a
   * range to a parked pool thread costs tens of microseconds (more on a loaded machine), as much
   * as an elementwise pass over ~100k floats; the MLP's 32k-element ReLUs ran slower split.
   */
  public static final long MIN_WORK = 1L << 17;

  private static volatile int threads = Kernels.defaultThreads();

  private Parallel() {}

  /** A loop body over the index range [lo, hi). */
  @FunctionalInterface
  public interface Range {
    void run(int lo, int hi);
  }

  private static final class Pool {
    static final ExecutorService EXEC =
        Executors.newFixedThreadPool(
            Math.max(1, Runtime.getRuntime().availableProcessors()),
            r -> {
              Thread t = new LoopThread(r);
              t.setDaemon(true);
              return t;
            });
  }

  /** A pool thread: a loop started on one runs serially, so nested loops cannot starve the pool. */
  private static final class LoopThread extends Thread {
    LoopThread(Runnable r) {
      super(r, "lowbit-loop");
    }
  }

  /**
   * Tells the polling workers that a native call with its own threads runs from now until {@code
   * false}: idle workers park instead of polling (see {@link Workers#SPIN_NANOS}).
   */
  public static void nativeRunning(boolean running) {
    Workers.nativeRunning = running;
  }

  /** Threads a loop uses at most (set with the GEMM's by {@link Kernels#setThreads}). */
  public static int threads() {
    return threads;
  }

  static void setThreads(int t) {
    if (t < 1) throw new IllegalArgumentException("threads must be >= 1, got " + t);
    threads = t;
  }

  /**
   * Runs body over [0, n) split into contiguous ranges, the first on the calling thread;
   * {@code costPerItem} (elements touched per index) decides whether splitting pays.
   */
  public static void forRange(int n, long costPerItem, Range body) {
    int parts = (int) Math.min(threads, n);
    if (parts <= 1 || (long) n * Math.max(1, costPerItem) < MIN_WORK) {
      body.run(0, n);
      return;
    }
    forParts(parts, n, body);
  }

  /**
   * Runs body over [0, n) in exactly {@code parts} contiguous ranges (fewer when n is smaller),
   * the first on the calling thread, and waits for all of them before returning or rethrowing the
   * first failure: workers never outlive the call that owns their output arrays.
   */
  public static void forParts(int parts, int n, Range body) {
    parts = Math.min(parts, n);
    if (parts <= 1 || Thread.currentThread() instanceof LoopThread || Workers.inWorker()) {
      body.run(0, n);
      return;
    }
    int per = (n + parts - 1) / parts;
    if (Workers.tryInvoke(parts, p -> {
      int lo = Math.min(n, p * per), hi = Math.min(n, (p + 1) * per);
      if (lo < hi) body.run(lo, hi);
      return 0;
    }, new long[1])) {
      return;
    }
    // the team is busy (another caller): the executor's threads
    @SuppressWarnings("unchecked")
    Future<?>[] fs = new Future<?>[parts - 1];
    for (int p = 1; p < parts; p++) {
      int lo = Math.min(n, p * per), hi = Math.min(n, (p + 1) * per);
      fs[p - 1] = lo < hi ? Pool.EXEC.submit(() -> body.run(lo, hi)) : null;
    }
    RuntimeException failure = null;
    try {
      body.run(0, Math.min(n, per));
    } catch (RuntimeException e) {
      failure = e;
    }
    boolean interrupted = false;
    for (Future<?> f : fs) {
      if (f == null) continue;
      while (true) {
        try {
          f.get();
          break;
        } catch (InterruptedException e) {
          interrupted = true; // keep waiting: the workers write into the caller's arrays
        } catch (java.util.concurrent.ExecutionException e) {
          if (failure == null) {
            failure = e.getCause() instanceof RuntimeException re ? re
                : new IllegalStateException("parallel loop failed", e.getCause());
          }
          break;
        }
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
    if (failure != null) throw failure;
  }
}
