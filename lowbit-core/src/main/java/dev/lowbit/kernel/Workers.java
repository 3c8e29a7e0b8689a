package dev.lowbit.kernel;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * The worker threads of the parallel GEMM and loops: a team that waits for work by polling for a
 * short while ({@link #SPIN_NANOS}) before parking. Handing work to a parked thread costs tens of
 * microseconds here (a futex wake-up, on a virtual machine an interrupt to a halted virtual CPU,
 * and the same again to wake the caller), as long as one of the MLP's 128 × 256 × 256 products
 * takes on one core: through an executor's queue, two threads ran the MLP's products no faster
 * than one. A training step's products and loops follow each other within microseconds, so a
 * polling worker takes each one at once; a worker that found nothing to do for {@link
 * #SPIN_NANOS} parks and costs nothing.
 *
 * <p>One caller uses the team at a time. {@link #tryInvoke} returns false, running nothing, when
 * another caller holds it, when called from inside a part, or for more parts than processors;
 * callers then fall back to their executor or run serially. A failure in any part is rethrown after every part has finished, so
 * no worker outlives the call that owns its output arrays.
 */
final class Workers {

  /** One part of a split computation; the results of all parts are summed. */
  @FunctionalInterface
  interface Part {
    long run(int part);
  }

  /** How long an idle worker polls for its next part before it parks. */
  static final long SPIN_NANOS = 200_000;

  /**
   * Set while a native call (oneDNN, with threads of its own) runs: idle workers then park at
   * once instead of polling out their {@link #SPIN_NANOS}, which on a machine with as many cores
   * as threads took a core from the native library's threads.
   */
  static volatile boolean nativeRunning;

  private static final AtomicBoolean BUSY = new AtomicBoolean();
  private static final int CORES = Runtime.getRuntime().availableProcessors();
  private static Worker[] team = new Worker[0]; // grown only by the holder of BUSY

  private Workers() {}

  /** Whether the current thread is one of the team's (a part must not split itself again here). */
  static boolean inWorker() {
    return Thread.currentThread() instanceof Worker;
  }

  /**
   * Runs {@code body} for parts 0..parts-1, part 0 on the calling thread and the others on the
   * team, and adds their results into {@code total[0]}; returns false without running anything
   * when the team is in use or the caller is one of its workers.
   */
  static boolean tryInvoke(int parts, Part body, long[] total) {
    // more parts than cores (--threads above the processor count): polling threads would take
    // turns on the cores they spin on, so those calls keep the parking executor
    if (parts < 2 || parts > CORES || inWorker() || !BUSY.compareAndSet(false, true)) return false;
    try {
      Worker[] w = team(parts - 1);
      for (int p = 1; p < parts; p++) w[p - 1].start(p, body);
      Throwable failure = null;
      long sum = 0;
      try {
        sum += body.run(0);
      } catch (RuntimeException | Error e) {
        failure = e;
      }
      for (int p = 1; p < parts; p++) {
        Worker x = w[p - 1];
        x.await();
        if (x.failure != null) {
          if (failure == null) failure = x.failure;
        } else {
          sum += x.result;
        }
      }
      if (failure instanceof RuntimeException re) throw re;
      if (failure instanceof Error er) throw er;
      if (failure != null) throw new IllegalStateException("parallel part failed", failure);
      total[0] += sum;
      return true;
    } finally {
      BUSY.set(false);
    }
  }

  private static Worker[] team(int n) {
    Worker[] t = team;
    if (t.length >= n) return t;
    Worker[] g = java.util.Arrays.copyOf(t, n);
    for (int i = t.length; i < n; i++) {
      g[i] = new Worker(i + 1);
      g[i].start();
    }
    team = g;
    return g;
  }

  private static final class Worker extends Thread {
    private volatile Part task;
    private volatile boolean idle; // parked, or about to park: the caller must unpark it
    private volatile boolean done = true;
    private volatile Thread waiter; // the caller, when it parked waiting for this part
    private int index;
    private long result;
    private Throwable failure;

    Worker(int id) {
      super("lowbit-worker-" + id);
      setDaemon(true);
    }

    /** Hands over a part (called by the holder of BUSY while this worker is done). */
    void start(int part, Part body) {
      index = part;
      done = false;
      task = body; // the volatile write publishes index
      if (idle) LockSupport.unpark(this);
    }

    /** Waits for the current part: polls first, then parks until the worker unparks the caller. */
    void await() {
      long until = System.nanoTime() + SPIN_NANOS;
      for (int i = 0; !done; i++) {
        if ((i & 63) != 0 || System.nanoTime() < until) {
          Thread.onSpinWait();
          continue;
        }
        waiter = Thread.currentThread();
        while (!done) LockSupport.park(this); // an interrupt leaves this loop polling: the part must finish
        waiter = null;
      }
    }

    @Override
    public void run() {
      while (true) {
        Part t = next();
        try {
          result = t.run(index);
          failure = null;
        } catch (Throwable e) {
          result = 0;
          failure = e;
        }
        task = null;
        done = true; // publishes result and failure
        Thread w = waiter;
        if (w != null) LockSupport.unpark(w);
      }
    }

    private Part next() {
      long until = System.nanoTime() + SPIN_NANOS;
      for (int i = 0; ; i++) {
        Part t = task;
        if (t != null) return t;
        if ((i & 63) != 0 || System.nanoTime() < until && !nativeRunning) {
          Thread.onSpinWait();
          continue;
        }
        idle = true;
        if (task == null) LockSupport.park(this);
        idle = false;
        until = System.nanoTime() + SPIN_NANOS;
      }
    }
  }
}
