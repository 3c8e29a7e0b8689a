package dev.lowbit.kernel;

import dev.lowbit.format.LoopRunner;

/** {@link Parallel}'s loop threads for {@code format}'s loops (registered in META-INF/services). */
public final class ParallelLoops implements LoopRunner {

  @Override
  public void forRange(int n, long costPerItem, Range body) {
    Parallel.forRange(n, costPerItem, body::run);
  }

  @Override
  public void forParts(int parts, int n, Range body) {
    Parallel.forParts(parts, n, body::run);
  }
}
