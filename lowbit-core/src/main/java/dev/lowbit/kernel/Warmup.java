package dev.lowbit.kernel;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gets the Vector API GEMM (and the pooling and im2col loops) compiled before a command's timed
 * work starts. Until C2 compiles the micro-kernel and the packing loops, Vector API code runs
 * interpreted or in C1 with every vector boxed, 10–100× slower: without a warm-up the MLP's first
 * 50 training steps took 1.7 s against 0.13 s once compiled, and a warm-up that still ran when
 * training began left 0.9 s of it. A daemon thread runs small products on private arrays through
 * a one-thread {@link VectorGemm} of the same width (compiled code is shared by all instances),
 * so nothing the caller computes is touched and the GEMM's worker pool is left alone. It stops
 * when its rounds have run at compiled speed for a while (or at its time budget); {@link
 * #await} lets the caller start its clock after that, so the compile time shows in the command's
 * start-up (as PyTorch's import does in its) rather than in its first epoch.
 */
public final class Warmup {

  private static final Logger LOG = LoggerFactory.getLogger(Warmup.class);
  private static volatile Thread running;

  private Warmup() {}

  /**
   * Starts warming the Java GEMM in the background for at most {@code millis} milliseconds;
   * returns the thread (already started), or null when the Java GEMM is not the vector one.
   */
  public static Thread startInBackground(long millis) {
    return startInBackground(millis, () -> {});
  }

  /**
   * As {@link #startInBackground(long)}, also running {@code extra} once per round: the vector
   * loops of higher layers (lowbit-nn's ReLU, loss and image decoding), which must not touch
   * anything the caller computes with.
   */
  public static Thread startInBackground(long millis, Runnable extra) {
    if (!(Kernels.javaGemm() instanceof VectorGemm v)) return null;
    VectorGemm g = VectorGemm.ofBits(v.vectorBits(), 1);
    Thread t = new Thread(() -> run(g, millis, extra), "lowbit-warmup");
    t.setDaemon(true);
    t.setPriority(Thread.MIN_PRIORITY);
    running = t;
    t.start();
    return t;
  }

  /**
   * Waits until a warm-up started by {@link #startInBackground} has finished; returns the
   * milliseconds waited (0 when none runs).
   */
  public static long await() {
    Thread t = running;
    if (t == null) return 0;
    long t0 = System.nanoTime();
    try {
      t.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    running = null;
    return (System.nanoTime() - t0) / 1_000_000;
  }

  /**
   * The code counts as compiled once {@value #SETTLED_ROUNDS} consecutive rounds took at most
   * {@value #SETTLED_RATIO}× as long in all as the fastest round times their number (a total, so
   * that one preempted round does not start the count again).
   */
  static final int SETTLED_ROUNDS = 300;
  static final double SETTLED_RATIO = 1.3;
  static final long IDLE_MS = 200;

  /**
   * The shapes cover both transposes of each operand, a second depth block and partial tiles.
   * Runs until the last {@value #SETTLED_ROUNDS} rounds ran at the fastest round's speed (within
   * {@value #SETTLED_RATIO}× in total) while the JIT compilers have been idle for {@value
   * #IDLE_MS} ms (a fast round alone is not enough: C2 finishes the packing loops after the
   * micro-kernel), or {@code millis} passed.
   */
  static int run(Gemm g, long millis) {
    return run(g, millis, () -> {});
  }

  static int run(Gemm g, long millis, Runnable extra) {
    long start = System.nanoTime(), end = start + millis * 1_000_000L;
    int m = 40, n = 72, k = 300; // k > KC: the depth-block epilogue; 40, 72: full and partial tiles
    float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
    for (int i = 0; i < a.length; i++) a[i] = (i % 7) * 0.25f - 0.75f;
    for (int i = 0; i < b.length; i++) b[i] = (i % 5) * 0.5f - 1f;
    // the vector loops of a CNN step besides the GEMM: 2×2 max pooling and same-size im2col/col2im
    PoolSpec pool = PoolSpec.of(1, 2, 14, 14, 2);
    ConvSpec conv = ConvSpec.of(1, 2, 14, 14, 2, 3, 1, 1);
    float[] px = new float[pool.inputSize()], py = new float[pool.outputSize()];
    float[] cx = new float[conv.inputSize()], col = new float[conv.colSize()];
    int[] arg = new int[pool.outputSize()];
    for (int i = 0; i < px.length; i++) px[i] = (i % 11) - 5f;
    int rounds = 0;
    long best = Long.MAX_VALUE;
    long[] last = new long[SETTLED_ROUNDS]; // a ring of the latest round times
    long lastSum = 0;
    boolean settled = false;
    java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
    long compiled = -1, idleSince = start;
    while (!settled) {
      long t0 = System.nanoTime();
      if (t0 >= end) break;
      boolean ta = (rounds & 1) != 0, tb = (rounds & 2) != 0;
      g.sgemm(ta, tb, m, n, k, 1f, a, 0, ta ? m : k, b, 0, tb ? k : n, (rounds & 4) != 0 ? 1f : 0f, c, 0, n);
      Pool.maxForward(pool, px, py, arg);
      Conv.im2col(conv, cx, col);
      Conv.col2im(conv, col, cx);
      extra.run();
      long t = System.nanoTime() - t0;
      if (t < best) best = t;
      int slot = rounds % SETTLED_ROUNDS;
      lastSum += t - last[slot];
      last[slot] = t;
      rounds++;
      long now = System.nanoTime();
      if (timed) {
        long ms = jit.getTotalCompilationTime();
        if (ms != compiled) {
          compiled = ms;
          idleSince = now;
        }
      }
      settled = rounds >= SETTLED_ROUNDS && lastSum <= SETTLED_RATIO * SETTLED_ROUNDS * best
          && (!timed || now - idleSince >= IDLE_MS * 1_000_000L);
    }
    LOG.debug("GEMM warm-up: {} products in {} ms{}", rounds, (System.nanoTime() - start) / 1_000_000,
        settled ? ", settled" : ", stopped by its budget");
    return rounds;
  }
}
