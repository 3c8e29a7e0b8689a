package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.lowbit.autograd.Var;
import dev.lowbit.tensor.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * AdamW and SGD against PyTorch 1.13's {@code torch.optim.AdamW} / {@code torch.optim.SGD}
 * (single-tensor path, vectorized CPU kernels): the steps in {@code optimizer-references.txt},
 * written by {@code scripts/optimizer-references.py}, are replayed gradient by gradient, and after
 * every step each parameter and each state tensor must equal PyTorch's <b>bit for bit</b>. Exact,
 * not within an ulp: both sides do the same float32 operations in the same order with the same
 * coefficients (doubles rounded to float once) and the same fused multiply-adds, so any difference
 * is a difference of arithmetic, not of rounding luck. The parameters mix magnitudes from 1e-20 to
 * 1e19 with zeros and subnormals, so squares that round, underflow or come near float's largest
 * value are in the comparison.
 */
class OptimizerPyTorchReferenceTest {

  private static final String RESOURCE = "optimizer-references.txt";

  /** One reference case: hyper-parameters, initial parameters, and per step the grads and results. */
  private record Case(String name, String kind, Map<String, String> hp, LinkedHashMap<String, float[]> init,
      List<Step> steps) {}

  private record Step(int index, LinkedHashMap<String, float[]> grads, LinkedHashMap<String, float[]> values,
      LinkedHashMap<String, float[]> state) {}

  private static List<Case> load() throws IOException {
    List<Case> cases = new ArrayList<>();
    try (InputStream in = OptimizerPyTorchReferenceTest.class.getResourceAsStream(RESOURCE)) {
      assertNotNull(in, RESOURCE + " is missing: run scripts/optimizer-references.py");
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
      Case c = null;
      Step s = null;
      for (String line; (line = r.readLine()) != null; ) {
        if (line.isEmpty() || line.startsWith("#")) continue;
        String[] f = line.split(" ");
        switch (f[0]) {
          case "case" -> {
            Map<String, String> hp = new LinkedHashMap<>();
            for (int i = 3; i < f.length; i++) {
              int eq = f[i].indexOf('=');
              hp.put(f[i].substring(0, eq), f[i].substring(eq + 1));
            }
            c = new Case(f[1], f[2], hp, new LinkedHashMap<>(), new ArrayList<>());
            cases.add(c);
            s = null;
          }
          case "param" -> c.init().put(f[1], floats(f));
          case "step" -> {
            s = new Step(Integer.parseInt(f[1]), new LinkedHashMap<>(), new LinkedHashMap<>(), new LinkedHashMap<>());
            c.steps().add(s);
          }
          case "grad" -> s.grads().put(f[1], floats(f));
          case "value" -> s.values().put(f[1], floats(f));
          case "state" -> s.state().put(f[1], floats(f));
          default -> fail(RESOURCE + ": unknown record '" + f[0] + "'");
        }
      }
    }
    return cases;
  }

  private static float[] floats(String[] f) {
    float[] v = new float[f.length - 2];
    for (int i = 0; i < v.length; i++) v[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(f[i + 2], 16));
    return v;
  }

  private static Optimizer optimizer(Case c, Map<String, Var> params) {
    Map<String, String> hp = c.hp();
    double lr = Double.parseDouble(hp.get("lr")), wd = Double.parseDouble(hp.get("weight_decay"));
    return switch (c.kind()) {
      case "adamw" -> new AdamW(params, lr, Double.parseDouble(hp.get("beta1")), Double.parseDouble(hp.get("beta2")),
          Double.parseDouble(hp.get("eps")), wd);
      case "sgd" -> new Sgd(params, lr, Double.parseDouble(hp.get("momentum")), Double.parseDouble(hp.get("dampening")),
          wd, Boolean.parseBoolean(hp.get("nesterov")));
      default -> throw new AssertionError("unknown optimizer " + c.kind());
    };
  }

  @TestFactory
  Stream<DynamicTest> replaysPyTorchStepsBitForBit() throws IOException {
    List<Case> cases = load();
    // the generator writes 5 AdamW and 5 SGD cases of 8 steps: a truncated file must not pass
    assertEquals(10, cases.size(), "cases in " + RESOURCE);
    return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> replay(c)));
  }

  private static void replay(Case c) {
    assertEquals(Integer.parseInt(c.hp().get("steps")), c.steps().size(), c.name() + ": steps");
    LinkedHashMap<String, Var> params = new LinkedHashMap<>();
    for (var e : c.init().entrySet()) {
      float[] w = e.getValue().clone();
      params.put(e.getKey(), Var.parameter(new Tensor(w, w.length)));
    }
    Optimizer opt = optimizer(c, params);
    int compared = 0;
    for (Step s : c.steps()) {
      opt.zeroGrad();
      for (var e : s.grads().entrySet()) {
        float[] g = params.get(e.getKey()).gradForAccumulation();
        System.arraycopy(e.getValue(), 0, g, 0, g.length);
      }
      opt.step();
      String where = c.name() + " step " + s.index();
      for (var e : s.values().entrySet()) compared += sameBits(where + " " + e.getKey(), e.getValue(), params.get(e.getKey()).data());
      Map<String, Tensor> state = opt.stateDict();
      assertEquals(s.state().keySet(), state.keySet(), where + ": state tensors");
      for (var e : s.state().entrySet()) compared += sameBits(where + " " + e.getKey(), e.getValue(), state.get(e.getKey()).data());
    }
    assertTrue(compared > 0, c.name() + ": nothing compared");
  }

  private static int sameBits(String what, float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length, what + ": length");
    for (int i = 0; i < expected.length; i++) {
      if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
        fail(what + "[" + i + "]: PyTorch " + expected[i] + " (" + Integer.toHexString(Float.floatToRawIntBits(expected[i]))
            + "), lowbit " + actual[i] + " (" + Integer.toHexString(Float.floatToRawIntBits(actual[i])) + "), "
            + (Float.floatToRawIntBits(actual[i]) - Float.floatToRawIntBits(expected[i])) + " ulps");
      }
    }
    return expected.length;
  }

  /**
   * The references tell the coefficient PyTorch uses from the one the old code used: after the
   * first AdamW step the second moment is (float)(1 − β₂)·g·g, which (1 − (float) β₂)·g·g misses by
   * 1.29e-5 relative for β₂ = 0.999, hundreds of ulps.
   */
  @Test
  void referencesSeparateDoubleFromFloatCoefficients() throws IOException {
    Case c = load().getFirst();
    assertEquals("adamw", c.kind());
    double beta2 = Double.parseDouble(c.hp().get("beta2"));
    Step first = c.steps().getFirst();
    float[] g = first.grads().get("b"), v = first.state().get("b/exp_avg_sq");
    float pytorch = (float) (1 - beta2), old = 1 - (float) beta2;
    int differ = 0;
    for (int i = 0; i < g.length; i++) {
      assertEquals(Math.fma(pytorch * g[i], g[i], 0f), v[i], "exp_avg_sq[" + i + "]");
      if (old * g[i] * g[i] != v[i]) differ++;
    }
    assertEquals(g.length, differ, "elements where float coefficients give other bits");
    assertNotEquals(pytorch, old);
  }
}
