package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class WorkersTest {

  static final int CORES = Runtime.getRuntime().availableProcessors();

  @Test
  void everyPartRunsOnceOnItsOwnThreadAndResultsAreSummed() {
    org.junit.jupiter.api.Assumptions.assumeTrue(CORES >= 2, "one processor: no team");
    int parts = Math.min(3, CORES);
    for (int round = 0; round < 200; round++) { // back to back: workers polling, and after parking
      if (round % 50 == 49) sleep(1);
      ConcurrentHashMap<Integer, String> ran = new ConcurrentHashMap<>();
      long[] total = {5};
      assertTrue(Workers.tryInvoke(parts, p -> {
        assertEquals(null, ran.put(p, Thread.currentThread().getName()));
        return 10L * (p + 1);
      }, total));
      assertEquals(5 + 10L * parts * (parts + 1) / 2, total[0]);
      assertEquals(parts, ran.size());
      assertEquals(Thread.currentThread().getName(), ran.get(0));
      assertEquals(parts, ran.values().stream().distinct().count());
    }
  }

  @Test
  void workersParkedForANativeCallStillTakeEveryPart() {
    org.junit.jupiter.api.Assumptions.assumeTrue(CORES >= 2, "one processor: no team");
    int parts = Math.min(2, CORES);
    try {
      for (int round = 0; round < 100; round++) {
        // a native call runs between the loops: idle workers park at once instead of polling
        Parallel.nativeRunning(round % 2 == 0);
        long[] total = {0};
        assertTrue(Workers.tryInvoke(parts, p -> p + 1L, total));
        assertEquals((long) parts * (parts + 1) / 2, total[0]);
        if (round % 10 == 9) sleep(1);
      }
    } finally {
      Parallel.nativeRunning(false);
    }
  }

  @Test
  void morePartsThanProcessorsAreRefused() {
    AtomicInteger ran = new AtomicInteger();
    assertFalse(Workers.tryInvoke(CORES + 1, p -> ran.incrementAndGet(), new long[1]));
    assertEquals(0, ran.get(), "nothing ran");
    int[] hits = new int[1000];
    Parallel.forParts(CORES + 1, hits.length, (lo, hi) -> { // the executor takes such calls
      for (int i = lo; i < hi; i++) hits[i]++;
    });
    for (int h : hits) assertEquals(1, h);
  }

  @Test
  void aFailingPartIsRethrownAfterTheOthersFinished() {
    org.junit.jupiter.api.Assumptions.assumeTrue(CORES >= 2, "one processor: no team");
    AtomicInteger finished = new AtomicInteger();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> Workers.tryInvoke(2, p -> {
      if (p == 1) throw new IllegalStateException("part 1 failed");
      sleep(20);
      finished.incrementAndGet();
      return 0;
    }, new long[1]));
    assertEquals("part 1 failed", e.getMessage());
    assertEquals(1, finished.get());
    long[] total = {0};
    assertTrue(Workers.tryInvoke(2, p -> p, total), "the team is free again after a failure");
    assertEquals(1, total[0]);
  }

  @Test
  void aPartCannotUseTheTeamAgainAndNeitherCanASecondCaller() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(CORES >= 2, "one processor: no team");
    AtomicBoolean nested = new AtomicBoolean(true), concurrent = new AtomicBoolean(true);
    CountDownLatch inside = new CountDownLatch(1), checked = new CountDownLatch(1);
    Thread other = new Thread(() -> {
      try {
        inside.await();
        concurrent.set(Workers.tryInvoke(2, p -> 0, new long[1]));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        checked.countDown();
      }
    });
    other.start();
    assertTrue(Workers.tryInvoke(2, p -> {
      if (p == 1) {
        nested.set(Workers.tryInvoke(2, q -> 0, new long[1]));
        inside.countDown();
        try {
          checked.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return 0;
    }, new long[1]));
    other.join();
    assertFalse(nested.get(), "a part ran the team again");
    assertFalse(concurrent.get(), "a second caller got the busy team");
  }

  @Test
  void parallelLoopsStillCoverEveryIndexOnceThroughTheTeam() {
    int n = 1 << 18;
    int[] hits = new int[n];
    Parallel.forParts(2, n, (lo, hi) -> {
      for (int i = lo; i < hi; i++) hits[i]++;
    });
    for (int i = 0; i < n; i++) assertEquals(1, hits[i], "index " + i);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
