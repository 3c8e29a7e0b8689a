package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.numerics.Presets;
import dev.lowbit.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Engines come from {@link EngineProvider}s as well as from lowbit: a provided GEMM engine is
 * planned before lowbit's own and runs the products it accepts (the test resources register {@link
 * ProbeEngines}); a backend's convolution engines are offered only while its kernels are in force
 * ({@link ImColEngines} for the test backend, as lowbit-onednn's provider does for oneDNN).
 */
class EngineProviderTest {

  @AfterEach
  void reset() {
    Kernels.useBackend("java");
    Compute.setNumerics(null);
  }

  private static Var param(int seed, int... shape) {
    Tensor t = Tensor.zeros(shape);
    float[] d = t.data();
    for (int i = 0; i < d.length; i++) d[i] = ((i * 7 + seed * 3) % 9) - 4; // small integers: every order of sums is exact
    return Var.parameter(t);
  }

  private static Map<String, String> engines(Numerics n, String layer) {
    return n.plans().stream().filter(r -> r.get("layer").equals(layer))
        .collect(Collectors.toMap(r -> (String) r.get("product"), r -> (String) r.get("engine")));
  }

  /** A probe layer's three products run on the provided engine and give fp32's bits; other layers keep lowbit's engines. */
  @Test
  void aProvidedGemmEngineRunsTheProductsItAccepts() {
    float[][] grads = new float[2][];
    float[][] outs = new float[2][];
    String[] layers = {"probe.fc", "fc"};
    for (int i = 0; i < 2; i++) {
      Numerics n = new Numerics(Presets.get("fp32"), 1);
      Compute.setNumerics(n);
      Var x = param(1, 4, 5), w = param(2, 4, 5), b = param(3, 4);
      int before = ProbeEngines.CALLS.get();
      Var y = Compute.linear(layers[i], x, w, b);
      Ops.mean(Ops.mul(y, y)).backward(); // 16 outputs: a gradient of y/8, still exact
      int calls = ProbeEngines.CALLS.get() - before;
      Map<String, String> e = engines(n, layers[i]);
      assertEquals(3, e.size(), layers[i] + ": " + e);
      for (String engine : e.values()) assertEquals(i == 0 ? "probe (test)" : "fp32", engine, layers[i] + ": " + e);
      assertEquals(i == 0 ? 3 : 0, calls, layers[i] + ": calls of the provided engine");
      outs[i] = y.data().clone();
      grads[i] = concat(x.grad(), w.grad());
    }
    assertArrayEquals(outs[1], outs[0]);
    assertArrayEquals(grads[1], grads[0]);
  }

  private static float[] concat(float[] a, float[] b) {
    float[] out = new float[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** The native convolution engines exist only while the kernels of the provider that registers them are in force. */
  @Test
  void convolutionEnginesFollowTheKernelsInForce() {
    ConvSpec s = ConvSpec.of(1, 2, 6, 6, 3, 3, 1, 1);
    Kernels.useBackend("java");
    List<ConvEngine> java = ConvEngines.plan(null, "conv", s).engines();
    assertEquals(List.of("im2col"), java.stream().map(ConvEngine::name).toList());
    Kernels.useBackend("imcol-float");
    List<String> test = ConvEngines.plan(null, "conv", s).engines().stream().map(ConvEngine::name).toList();
    assertEquals(2, test.size(), test.toString());
    assertTrue(test.get(0).startsWith("native conv (imcol-float"), test.toString());
    assertEquals("im2col", test.get(1));
    Kernels.useBackend("java");
    assertEquals(List.of("im2col"), ConvEngines.plan(null, "conv", s).engines().stream().map(ConvEngine::name).toList());
  }
}
