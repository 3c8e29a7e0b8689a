package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The parallel loops in {@link Conv} and {@link Pool} give bit-identical results for any thread
 * count (shapes are large enough that the loops really split).
 */
class ParallelTest {

  private final int saved = Parallel.threads();

  @AfterEach
  void restore() {
    Parallel.setThreads(saved);
  }

  static float[] random(int n, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
    return x;
  }

  /** Runs body with 1 thread and with 3, and returns both results. */
  static <T> T[] both(Supplier<T> body, T[] out) {
    Parallel.setThreads(1);
    out[0] = body.get();
    Parallel.setThreads(3);
    out[1] = body.get();
    return out;
  }

  @Test
  void convLoopsMatchSerial() {
    ConvSpec[] specs = {ConvSpec.of(8, 5, 20, 18, 7, 3, 1, 1), ConvSpec.of(6, 4, 21, 17, 3, 5, 2, 2)};
    for (ConvSpec s : specs) {
      float[] x = random(s.inputSize(), 1);
      float[] dcol = random(s.colSize(), 2);
      float[] t = random(s.outputSize(), 3);
      float[] bias = random(s.outC(), 4);
      float[][] col = both(() -> { float[] c = new float[s.colSize()]; Conv.im2col(s, x, c); return c; }, new float[2][]);
      assertArrayEquals(col[0], col[1]);
      float[][] dx = both(() -> { float[] d = random(s.inputSize(), 9); Conv.col2im(s, dcol, d); return d; }, new float[2][]);
      assertArrayEquals(dx[0], dx[1]);
      float[][] y = both(() -> { float[] o = new float[s.outputSize()]; Conv.channelsFirstToNchw(s, t, bias, o); return o; }, new float[2][]);
      assertArrayEquals(y[0], y[1]);
      float[][] back = both(() -> { float[] o = new float[s.outputSize()]; Conv.nchwToChannelsFirst(s, y[0], o); return o; }, new float[2][]);
      assertArrayEquals(back[0], back[1]);
    }
  }

  @Test
  void maxPoolMatchesSerial() {
    PoolSpec[] specs = {PoolSpec.of(16, 9, 28, 26, 2), new PoolSpec(12, 7, 15, 13, 3, 3, 2, 2, 1, 1)};
    for (PoolSpec s : specs) {
      float[] x = random(s.inputSize(), 5);
      x[17] = Float.NaN;
      float[] dy = random(s.outputSize(), 6);
      int[][] arg = new int[2][];
      float[][] y = new float[2][];
      float[][] dx = new float[2][];
      for (int t = 0; t < 2; t++) {
        Parallel.setThreads(t == 0 ? 1 : 3);
        y[t] = new float[s.outputSize()];
        arg[t] = new int[s.outputSize()];
        Pool.maxForward(s, x, y[t], arg[t]);
        dx[t] = random(s.inputSize(), 8); // overwritten
        Pool.maxBackward(s, dy, arg[t], dx[t]);
      }
      assertArrayEquals(y[0], y[1]);
      assertArrayEquals(arg[0], arg[1]);
      assertArrayEquals(dx[0], dx[1]);
    }
  }
}
