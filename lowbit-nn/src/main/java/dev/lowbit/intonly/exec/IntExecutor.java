package dev.lowbit.intonly.exec;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs a {@link Program} with integer arithmetic alone: no float or double anywhere in this
 * package (a test reads its class files). Thread-safe; one call runs one batch.
 *
 * <p>The batch is split into runs of at most {@link #RUN} consecutive samples, shared out among
 * the threads; each run goes through the whole program ({@link Run}), holding only its own
 * samples' values, and every op works on each sample on its own, so the results do not depend on
 * the thread count.
 */
public final class IntExecutor {

  /** The most samples one run holds: bounds the memory of the values alive at once. */
  static final int RUN = 32;

  private final IntMatmul matmul;
  private final int threads;

  /** An executor whose products run on {@code matmul}, over up to {@code threads} threads. */
  public IntExecutor(IntMatmul matmul, int threads) {
    if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    this.matmul = Objects.requireNonNull(matmul, "matmul");
    this.threads = threads;
  }

  /** The products' implementation, for logs. */
  public IntMatmul matmul() {
    return matmul;
  }

  /**
   * The class index of each of {@code count} images: {@code pixels} holds count×C×H×W raw pixel
   * bytes (read as 0..255) from offset {@code off}.
   */
  public int[] classify(Program program, byte[] pixels, int off, int count) {
    return run(program, pixels, off, count, false);
  }

  /** The logits (the input of the program's final argmax) of each image, count × classes. */
  public int[] logits(Program program, byte[] pixels, int off, int count) {
    return run(program, pixels, off, count, true);
  }

  private int[] run(Program program, byte[] pixels, int off, int count, boolean logits) {
    Plan plan = new Plan(program);
    int size = plan.size[0];
    if (count < 0 || off < 0 || (long) off + (long) count * size > pixels.length) {
      throw new IllegalArgumentException("pixels: " + count + " images of " + size + " bytes from offset " + off
          + " do not fit " + pixels.length + " bytes");
    }
    int width = logits ? program.classes() : 1;
    int[] result = new int[count * width];
    int runs = (count + RUN - 1) / RUN;
    if (threads == 1 || runs <= 1) {
      for (int from = 0; from < count; from += RUN) {
        new Run(plan, matmul, pixels, off, from, Math.min(count, from + RUN)).into(result, logits);
      }
      return result;
    }
    List<Future<?>> done = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(Math.min(threads, runs))) {
      for (int from = 0; from < count; from += RUN) {
        int start = from, end = Math.min(count, from + RUN);
        done.add(pool.submit(() -> new Run(plan, matmul, pixels, off, start, end).into(result, logits)));
      }
      for (Future<?> f : done) f.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    return result;
  }
}
