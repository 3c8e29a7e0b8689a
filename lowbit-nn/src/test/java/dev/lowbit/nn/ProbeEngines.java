package dev.lowbit.nn;

import dev.lowbit.kernel.ScalarGemm;
import dev.lowbit.numerics.Engine;
import dev.lowbit.numerics.GemmCall;
import dev.lowbit.numerics.ProductPlan;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test module's GEMM engine, registered as an {@link EngineProvider} in the test resources: it
 * takes the products of layers whose name starts with {@code probe} and runs them on the scalar
 * reference kernel, counting its calls.
 */
public final class ProbeEngines implements EngineProvider {

  static final AtomicInteger CALLS = new AtomicInteger();

  @Override
  public List<Engine> gemmEngines(Numerics q) {
    return List.of(new Engine() {
      @Override
      public String name() {
        return "probe (test)";
      }

      @Override
      public Verdict accepts(ProductPlan p) {
        return p.site().layer().startsWith("probe") ? Verdict.yes("a probe layer") : Verdict.no("not a probe layer");
      }

      @Override
      public boolean run(ProductPlan p, GemmCall c) {
        CALLS.incrementAndGet();
        GemmCall.Matrix a = c.a(), b = c.b(), out = c.c();
        ScalarGemm.INSTANCE.sgemm(p.site().transA(), p.site().transB(), c.m(), c.n(), c.k(), 1f, a.x(), a.off(), a.ld(),
            b.x(), b.off(), b.ld(), c.accumulate() ? 1f : 0f, out.x(), out.off(), out.ld());
        return true;
      }
    });
  }
}
