package dev.lowbit.format;

import java.util.ServiceLoader;

/**
 * Runs format's bulk loops (amax, encoding) over index ranges, possibly on several threads.
 * {@code format} uses nothing of lowbit above it, so the runner is found once through {@link
 * ServiceLoader}: the kernel layer registers its shared loop threads; without one, loops run on
 * the calling thread. Callers write every output element from exactly one range, so results do not
 * depend on how a loop is split.
 */
public interface LoopRunner {

  /** A loop body over the index range [lo, hi). */
  @FunctionalInterface
  interface Range {
    void run(int lo, int hi);
  }

  /** Runs body over [0, n); {@code costPerItem} (elements touched per index) decides whether splitting pays. */
  void forRange(int n, long costPerItem, Range body);

  /** Runs body over [0, n) in at most {@code parts} contiguous ranges and waits for all of them. */
  void forParts(int parts, int n, Range body);

  /** The calling thread alone. */
  LoopRunner SERIAL = new LoopRunner() {
    @Override
    public void forRange(int n, long costPerItem, Range body) {
      body.run(0, n);
    }

    @Override
    public void forParts(int parts, int n, Range body) {
      body.run(0, n);
    }
  };

  /** The registered runner, else {@link #SERIAL}; looked up once. */
  static LoopRunner get() {
    return Holder.RUNNER;
  }

  /** Lazy holder of the lookup. */
  final class Holder {
    private Holder() {}

    static final LoopRunner RUNNER = ServiceLoader.load(LoopRunner.class, LoopRunner.class.getClassLoader())
        .findFirst().orElse(SERIAL);
  }
}
