package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class WarmupTest {

  @Test
  void warmUpRunsAllFourTransposeCasesWithinItsBudget() {
    AtomicInteger calls = new AtomicInteger();
    boolean[] seen = new boolean[4];
    Gemm counting = (Gemm) java.lang.reflect.Proxy.newProxyInstance(Gemm.class.getClassLoader(),
        new Class<?>[] {Gemm.class}, (proxy, method, args) -> {
          if (!method.getName().equals("sgemm")) return method.getName().equals("name") ? "counting" : null;
          calls.incrementAndGet();
          seen[((Boolean) args[0] ? 1 : 0) + ((Boolean) args[1] ? 2 : 0)] = true;
          return method.invoke(ScalarGemm.INSTANCE, args);
        });
    long t0 = System.nanoTime();
    int rounds = Warmup.run(counting, 200);
    assertTrue((System.nanoTime() - t0) / 1e6 < 2000, "ran past its budget");
    assertEquals(calls.get(), rounds);
    assertTrue(rounds >= 4, "only " + rounds + " products");
    for (boolean s : seen) assertTrue(s);
  }

  @Test
  void runsTheExtraRoundWithEveryProduct() {
    AtomicInteger extra = new AtomicInteger();
    int rounds = Warmup.run(ScalarGemm.INSTANCE, 100, extra::incrementAndGet);
    assertEquals(rounds, extra.get());
    assertTrue(rounds >= 1);
  }
}
