package dev.lowbit.kernel;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gets the Vector API GEMM (and the pooling and im2col loops) compiled while a command is still
 * loading its data. Until C2 compiles the micro-kernel and the packing loops, Vector API code runs
 * interpreted or in C1 with every vector boxed, 10–100× slower: the MLP's first 50 training steps took 1.7 s against 0.13 s once
 * compiled. A daemon thread runs small products on private arrays through a one-thread
 * {@link VectorGemm} of the same width (compiled code is shared by all instances), so nothing the
 * caller computes is touched and the GEMM's worker pool is left alone.
 */
public final class Warmup {

  private static final Logger LOG = LoggerFactory.getLogger(Warmup.class);

  private Warmup() {}

  /**
   * Starts warming the Java GEMM in the background for at most {@code millis} milliseconds;
   * returns the thread (already started), or null when the Java GEMM is not the vector one.
   */
  public static Thread startInBackground(long millis) {
    if (!(Kernels.javaGemm() instanceof VectorGemm v)) return null;
    VectorGemm g = VectorGemm.ofBits(v.vectorBits(), 1);
    Thread t = new Thread(() -> run(g, millis), "lowbit-warmup");
    t.setDaemon(true);
    t.setPriority(Thread.MIN_PRIORITY);
    t.start();
    return t;
  }

  /** The shapes cover both transposes of each operand, a second depth block and partial tiles. */
  static int run(Gemm g, long millis) {
    long end = System.nanoTime() + millis * 1_000_000L;
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
    while (System.nanoTime() < end && rounds < 4000) {
      boolean ta = (rounds & 1) != 0, tb = (rounds & 2) != 0;
      g.sgemm(ta, tb, m, n, k, 1f, a, 0, ta ? m : k, b, 0, tb ? k : n, (rounds & 4) != 0 ? 1f : 0f, c, 0, n);
      Pool.maxForward(pool, px, py, arg);
      Conv.im2col(conv, cx, col);
      Conv.col2im(conv, col, cx);
      rounds++;
    }
    LOG.debug("GEMM warm-up: {} products", rounds);
    return rounds;
  }
}
