package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.numerics.Policy;
import dev.lowbit.tensor.Tensor;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The loss scaler's state machine: growth, backoff, skips, static and none; its checkpoint state. */
class LossScalerTest {

  static LossScaler dynamic(Var... params) {
    return LossScaler.of(Policy.parse("option loss-scale dynamic\n", "p"), List.of(params));
  }

  @Test
  void dynamicScaleGrowsAfterTwoThousandFiniteStepsAndHalvesOnOverflow() {
    LossScaler s = dynamic();
    assertEquals(LossScaler.Mode.DYNAMIC, s.mode());
    assertEquals(65536f, s.scale());
    for (int i = 0; i < 1999; i++) s.update(true);
    assertEquals(65536f, s.scale(), "no growth before 2000 good steps");
    assertEquals(1999, s.goodSteps());
    s.update(true);
    assertEquals(131072f, s.scale());
    assertEquals(0, s.goodSteps());
    for (int i = 0; i < 1500; i++) s.update(true);
    s.update(false);
    assertEquals(65536f, s.scale(), "backoff halves");
    assertEquals(0, s.goodSteps(), "an overflow restarts the run of good steps");
    assertEquals(1, s.skippedSteps());
    assertTrue(s.lastSkipped());
    for (int i = 0; i < 1999; i++) s.update(true);
    assertEquals(65536f, s.scale(), "the 1500 steps before the overflow do not count");
    s.update(true);
    assertEquals(131072f, s.scale());
    assertFalse(s.lastSkipped());
    for (int i = 0; i < 20; i++) s.update(false);
    assertEquals(131072f / (1 << 20), s.scale());
    assertEquals(21, s.skippedSteps());
  }

  @Test
  void growthStopsAtTheFloatRange() throws Exception {
    LossScaler s = dynamic();
    Map<String, String> meta = new HashMap<>(Map.of("loss_scale", Float.toString(0x1p127f),
        "loss_scale_good_steps", "1999", "loss_scale_skipped", "0"));
    s.load(meta, "m");
    s.update(true);
    assertEquals(0x1p127f, s.scale());
  }

  @Test
  void unscalingDividesGradientsAndSkipsOnInfinityOrNaN() {
    Var w = Var.parameter(new Tensor(new float[] {1f, -2f, 3f}, 3));
    Var unused = Var.parameter(new Tensor(new float[] {5f}, 1));
    Tensor target = new Tensor(new float[] {0.5f, 0.25f, -1f}, 3);
    Ops.mse(w, target).backward();
    float[] plain = w.grad().clone();
    w.zeroGrad();
    LossScaler s = dynamic(w, unused);
    s.backward(Ops.mse(w, target));
    for (int i = 0; i < 3; i++) assertEquals(plain[i] * 65536f, w.grad()[i], "backward starts from S");
    assertTrue(s.unscaleAndUpdate());
    assertArrayEquals(plain, w.grad(), "power-of-two scale: unscaling is exact");
    assertEquals(1, s.goodSteps());
    for (float bad : new float[] {Float.POSITIVE_INFINITY, Float.NaN, Float.NEGATIVE_INFINITY}) {
      w.grad()[1] = bad;
      float before = s.scale();
      assertFalse(s.unscaleAndUpdate(), "gradient " + bad);
      assertEquals(before / 2, s.scale());
    }
    assertEquals(3, s.skippedSteps());
  }

  @Test
  void unscaleDividesEveryElementAndFindsEveryNonFiniteOne() {
    java.util.Random r = new java.util.Random(3);
    for (int n : new int[] {1, 15, 16, 17, 100, 1000}) {
      float[] g = new float[n];
      for (int i = 0; i < n; i++) g[i] = (float) r.nextGaussian() * 1e3f;
      float[] want = new float[n];
      for (int i = 0; i < n; i++) want[i] = g[i] / 3f;
      float[] got = g.clone();
      assertTrue(LossScaler.unscale(got, 3f), n + " finite");
      assertArrayEquals(want, got, n + ": g / scale, element by element");
      for (int at : new int[] {0, n / 2, n - 1}) {
        for (float bad : new float[] {Float.POSITIVE_INFINITY, Float.NaN, Float.NEGATIVE_INFINITY, 3e38f}) {
          float[] h = g.clone();
          h[at] = bad;
          // 3e38 / 0.5 overflows to infinity: found as well
          assertFalse(LossScaler.unscale(h, 0.5f), n + ": " + bad + " at " + at);
        }
      }
    }
  }

  @Test
  void staticScaleNeverChangesButStillSkips() {
    Var w = Var.parameter(new Tensor(new float[] {1f, 2f}, 2));
    LossScaler s = LossScaler.of(Policy.parse("option loss-scale 1000\n", "p"), List.of(w));
    assertEquals(LossScaler.Mode.STATIC, s.mode());
    assertEquals(1000f, s.scale());
    s.backward(Ops.mse(w, new Tensor(new float[] {0f, 0f}, 2)));
    assertEquals(1000f, w.grad()[0], 1e-3f, "d/dw mean(w^2) = w, times 1000");
    assertTrue(s.unscaleAndUpdate());
    assertEquals(1f, w.grad()[0], 1e-6f);
    for (int i = 0; i < 5000; i++) s.update(true);
    w.grad()[0] = Float.NaN;
    assertFalse(s.unscaleAndUpdate());
    assertEquals(1000f, s.scale());
    assertEquals(1, s.skippedSteps());
  }

  @Test
  void noneDoesNothing() {
    Var w = Var.parameter(new Tensor(new float[] {1f, 2f}, 2));
    LossScaler s = LossScaler.of(Policy.parse("policy p\n", "p"), List.of(w));
    assertFalse(s.active());
    s.backward(Ops.mse(w, new Tensor(new float[] {0f, 0f}, 2)));
    assertEquals(1f, w.grad()[0], 1e-6f);
    w.grad()[1] = Float.NaN;
    assertTrue(s.unscaleAndUpdate(), "no checks without loss scaling");
    assertTrue(Float.isNaN(w.grad()[1]));
    LinkedHashMap<String, Object> m = new LinkedHashMap<>();
    s.log(m);
    HashMap<String, String> meta = new HashMap<>();
    s.save(meta);
    assertTrue(m.isEmpty() && meta.isEmpty(), "an unscaled run logs and saves nothing: " + m + meta);
  }

  @Test
  void stateRoundTripsThroughCheckpointMetadataAndBadStateIsRejected() {
    LossScaler s = dynamic();
    for (int i = 0; i < 700; i++) s.update(i % 300 != 7);
    HashMap<String, String> meta = new HashMap<>();
    s.save(meta);
    LossScaler t = dynamic();
    t.load(meta, "ck");
    assertEquals(s.scale(), t.scale());
    assertEquals(s.goodSteps(), t.goodSteps());
    assertEquals(s.skippedSteps(), t.skippedSteps());
    LinkedHashMap<String, Object> m = new LinkedHashMap<>();
    t.log(m);
    assertEquals(Map.of("loss_scale", (double) s.scale(), "skipped_steps", 3L), m);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dynamic().load(Map.of(), "ck"));
    assertTrue(e.getMessage().contains("ck") && e.getMessage().contains("loss_scale"), e.getMessage());
    meta.put("loss_scale", "-4");
    e = assertThrows(IllegalArgumentException.class, () -> dynamic().load(meta, "ck"));
    assertTrue(e.getMessage().contains("-4"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> LossScaler.of(Policy.parse("option loss-scale 1e300\n", "p"), List.of()));
    assertTrue(e.getMessage().contains("1.0E300"), e.getMessage());
  }
}
