package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.lowbit.format.LoopRunner;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** format's loops find the kernel layer's loop threads through the service registration. */
class ParallelLoopsTest {

  @Test
  void formatRunsItsLoopsOnTheKernelThreads() {
    assertInstanceOf(ParallelLoops.class, LoopRunner.get());
  }

  @Test
  void everyIndexIsVisitedOnceOnSeveralThreads() {
    int n = 1 << 20;
    for (LoopRunner r : new LoopRunner[] {LoopRunner.get(), LoopRunner.SERIAL}) {
      int[] hits = new int[n];
      Set<Thread> threads = ConcurrentHashMap.newKeySet();
      r.forParts(4, n, (lo, hi) -> {
        threads.add(Thread.currentThread());
        for (int i = lo; i < hi; i++) hits[i]++;
      });
      r.forRange(n, 8, (lo, hi) -> {
        for (int i = lo; i < hi; i++) hits[i]++;
      });
      int[] two = new int[n];
      java.util.Arrays.fill(two, 2);
      assertArrayEquals(two, hits);
      if (r == LoopRunner.SERIAL && threads.size() != 1) throw new AssertionError("serial ran on " + threads);
      if (r != LoopRunner.SERIAL && Parallel.threads() > 1 && threads.size() < 2) {
        throw new AssertionError("kernel runner stayed on one thread with " + Parallel.threads() + " threads");
      }
    }
  }
}
