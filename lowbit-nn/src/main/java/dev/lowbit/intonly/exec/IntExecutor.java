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
 * <p>The batch is split into runs of at most {@link #RUN} consecutive samples ({@link Run}), each
 * going op by op through the whole program; every op works on each sample on its own, so the
 * results depend neither on the thread count nor on the run length. How the threads share the work
 * depends on the program ({@link #layerwise}):
 *
 * <ul>
 *   <li>Layer-wise, for programs without attention (the CNN, the ResNet, the MLP): the runs go one after the other; an op on the {@link IntLayers} (oneDNN's int8
 *       convolution or linear) or a product of all the run's rows is one call, which spreads over
 *       the backend's own threads, and the per-sample work of every op (requantization, pooling,
 *       residuals, argmax) is split over up to {@code threads} threads in contiguous ranges of
 *       samples. Memory alive at once: one run's values.
 *   <li>Run-parallel, for programs with attention (the ViT, whose layer norms, attention heads and
 *       Shiftmax are many small per-sample ops): each thread takes whole runs of ceil(count / threads)
 *       (at most RUN) samples and goes through the program alone. Memory alive at once: threads
 *       runs' values.
 * </ul>
 *
 * The calling thread takes a share itself; the others go to this executor's worker pool (daemon
 * threads, kept between calls). The checked {@link Plan} of the last program is kept, keyed by
 * identity.
 */
public final class IntExecutor {

  /** The most samples one run holds: bounds the memory of the values alive at once. */
  static final int RUN = 64;

  /**
   * The fewest output elements of an op whose per-sample work is split over the threads: below it
   * the hand-off to the worker threads costs more than it saves.
   */
  static final int SPLIT = 1 << 16;

  private final IntMatmul matmul;
  private final IntLayers layers;
  private final int threads;
  private final int splitElements;
  /** 1: layer-wise, 0: run-parallel, -1: as {@link #layerwise} decides for the program (tests force each way). */
  private final int way;
  /** Worker threads for the runs beyond the caller's; made on first use. */
  private volatile ExecutorService pool;
  /** The last program run and its plan. */
  private volatile Prepared last;

  /**
   * A program with its checked plan, and the scratch of runs that ended, for the next runs of the
   * same program (at most one per call that ran it at once; dropped with the program).
   */
  private record Prepared(Program program, Plan plan, boolean layerwise, List<Scratch> spare) {
    Scratch take() {
      synchronized (spare) {
        return spare.isEmpty() ? new Scratch() : spare.remove(spare.size() - 1);
      }
    }

    void give(Scratch s) {
      synchronized (spare) {
        spare.add(s);
      }
    }
  }

  /**
   * An executor whose products run on {@code matmul}, over up to {@code threads} threads; when
   * {@code matmul} is also an {@link IntLayers}, the layers it takes run on it.
   */
  public IntExecutor(IntMatmul matmul, int threads) {
    this(matmul, matmul instanceof IntLayers l ? l : IntLayers.NONE, threads);
  }

  /** An executor whose products run on {@code matmul}, and the layers {@code layers} takes on it. */
  public IntExecutor(IntMatmul matmul, IntLayers layers, int threads) {
    this(matmul, layers, threads, SPLIT);
  }

  /** As {@link #IntExecutor(IntMatmul, IntLayers, int)}, splitting ops of at least {@code splitElements} outputs (tests: 0). */
  IntExecutor(IntMatmul matmul, IntLayers layers, int threads, int splitElements) {
    this(matmul, layers, threads, splitElements, -1);
  }

  /** As above, running layer-wise ({@code way} 1) or run-parallel (0), or as the program decides (-1). */
  IntExecutor(IntMatmul matmul, IntLayers layers, int threads, int splitElements, int way) {
    if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    this.matmul = Objects.requireNonNull(matmul, "matmul");
    this.layers = Objects.requireNonNull(layers, "layers");
    this.threads = threads;
    this.splitElements = splitElements;
    this.way = way;
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

  private Prepared prepared(Program program) {
    Prepared p = last;
    if (p == null || p.program() != program) {
      p = new Prepared(program, new Plan(program),
          way < 0 ? layerwise(program) : way == 1, new ArrayList<>());
      last = p;
    }
    return p;
  }

  private ExecutorService pool() {
    ExecutorService p = pool;
    if (p == null) {
      synchronized (this) {
        if (pool == null) pool = Executors.newWorkStealingPool(threads - 1);
        p = pool;
      }
    }
    return p;
  }

  private int[] run(Program program, byte[] pixels, int off, int count, boolean logits) {
    Prepared prepared = prepared(program);
    int size = prepared.plan().size[0];
    if (count < 0 || off < 0 || (long) off + (long) count * size > pixels.length) {
      throw new IllegalArgumentException("pixels: " + count + " images of " + size + " bytes from offset " + off
          + " do not fit " + pixels.length + " bytes");
    }
    int width = logits ? program.classes() : 1;
    int[] result = new int[count * width];
    if (prepared.layerwise() || threads == 1) {
      Scratch scratch = prepared.take();
      for (int from = 0; from < count; from += RUN) {
        new Run(prepared.plan(), matmul, layers, scratch, this::split, pixels, off, from, Math.min(count, from + RUN))
            .into(result, logits);
      }
      prepared.give(scratch);
      return result;
    }
    int length = Math.max(1, Math.min(RUN, (count + threads - 1) / threads));
    int runs = (count + length - 1) / length;
    int parts = Math.min(threads, runs);
    // Thread t takes runs t, t + parts, t + 2·parts, ...; the caller is thread 0.
    List<Future<?>> done = new ArrayList<>();
    for (int t = 1; t < parts; t++) {
      int first = t;
      done.add(pool().submit(() -> runs(prepared, pixels, off, count, length, first, parts, result, logits)));
    }
    Throwable failed = null;
    try {
      runs(prepared, pixels, off, count, length, 0, parts, result, logits);
    } catch (RuntimeException | Error e) {
      failed = e;
    }
    join(done, failed);
    return result;
  }

  /** The runs first, first + parts, ... of the batch on this thread, each op on all its samples here. */
  private void runs(Prepared prepared, byte[] pixels, int off, int count, int length, int first, int parts, int[] result,
      boolean logits) {
    Scratch scratch = prepared.take();
    for (int from = first * length; from < count; from += parts * length) {
      new Run(prepared.plan(), matmul, layers, scratch, IntExecutor::alone, pixels, off, from,
          Math.min(count, from + length)).into(result, logits);
    }
    prepared.give(scratch);
  }

  private static void alone(int n, int elements, Run.Part part) {
    part.run(0, n);
  }

  /**
   * Whether the program runs layer-wise: all but those with attention, whose many small per-sample
   * ops (layer norms, the heads' products, Shiftmax) go fastest with each thread on its own runs.
   */
  static boolean layerwise(Program program) {
    for (Program.Op op : program.ops()) {
      if (op instanceof Program.Scores) return false;
    }
    return true;
  }

  /**
   * Runs {@code part} over [0, n) in up to {@link #threads} contiguous ranges, the first on the
   * calling thread; in one range when the op has fewer than {@link #splitElements} outputs.
   */
  private void split(int n, int elements, Run.Part part) {
    int parts = elements < splitElements ? 1 : Math.min(threads, n);
    if (parts <= 1) {
      part.run(0, n);
      return;
    }
    List<Future<?>> done = new ArrayList<>();
    for (int t = 1; t < parts; t++) {
      int from = (int) ((long) n * t / parts), to = (int) ((long) n * (t + 1) / parts);
      done.add(pool().submit(() -> part.run(from, to)));
    }
    Throwable failed = null;
    try {
      part.run(0, n / parts);
    } catch (RuntimeException | Error e) {
      failed = e;
    }
    join(done, failed);
  }

  /**
   * Waits for every task (they write the caller's arrays, so none may outlive the call), then
   * rethrows {@code failed} or the first task's failure.
   */
  private static void join(List<Future<?>> done, Throwable failed) {
    for (Future<?> f : done) {
      try {
        f.get();
      } catch (ExecutionException e) {
        if (failed == null) failed = e.getCause();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        if (failed == null) failed = new IllegalStateException("interrupted", e);
      }
    }
    if (failed instanceof RuntimeException r) throw r;
    if (failed instanceof Error r) throw r;
    if (failed != null) throw new IllegalStateException(failed);
  }
}
