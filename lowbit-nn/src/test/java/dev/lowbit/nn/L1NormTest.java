package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.autograd.GradCheck;
import dev.lowbit.autograd.L1NormOps;
import dev.lowbit.autograd.Var;
import dev.lowbit.models.Models;
import dev.lowbit.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** L1 (mean-absolute-deviation) norms: forward formula, finite-difference gradients, models. */
class L1NormTest {

  final SplittableRandom r = new SplittableRandom(4);

  @Test
  void gradientsMatchFiniteDifferences() {
    for (float c : new float[] {1f, L1NormOps.GAUSSIAN_C}) {
      Var x = GradCheck.input(r, 3, 7), g = GradCheck.input(r, 7), b = GradCheck.input(r, 7);
      GradCheck.check("l1LayerNorm c=" + c, () -> L1NormOps.layerNorm(x, g, b, 1e-5f, c), List.of(x, g, b), 40, 1e-4, 2e-2);
      Var x4 = GradCheck.input(r, 3, 4, 2, 3), g4 = GradCheck.input(r, 4), b4 = GradCheck.input(r, 4);
      float[] rm = new float[4], rs = {1, 1, 1, 1};
      GradCheck.check("l1BatchNorm-train c=" + c, () -> L1NormOps.batchNorm(x4, g4, b4, rm, rs, true, 0.1f, 1e-5f, c),
          List.of(x4, g4, b4), 40, 1e-4, 2e-2);
      float[] rm2 = {0.1f, -0.2f, 0.3f, 0f}, rs2 = {0.5f, 2f, 1f, 1.5f};
      GradCheck.check("l1BatchNorm-eval c=" + c, () -> L1NormOps.batchNorm(x4, g4, b4, rm2, rs2, false, 0.1f, 1e-5f, c),
          List.of(x4, g4, b4));
      Var x2 = awayFromKinks(GradCheck.input(r, 6, 3), 6, 3), g3 = GradCheck.input(r, 3), b3 = GradCheck.input(r, 3);
      GradCheck.check("l1BatchNorm1d c=" + c, () -> L1NormOps.batchNorm(x2, g3, b3, new float[3], new float[] {1, 1, 1},
          true, 0.1f, 1e-5f, c), List.of(x2, g3, b3), 40, 1e-4, 2e-2);
    }
    Var x = GradCheck.input(r, 2, 5, 8);
    L1LayerNorm ln = new L1LayerNorm(8);
    GradCheck.check("l1LayerNormModule", () -> ln.forward(x), LayerGradientTest.with(x, ln), 40, 1e-4, 2e-2);
  }

  /**
   * |d| has a kink at d = 0: a central difference with step h across it is wrong by design, so
   * move any element within 1e-2 of its channel mean (N×C layout) away from it.
   */
  static Var awayFromKinks(Var x, int n, int c) {
    float[] v = x.data();
    for (int k = 0; k < c; k++) {
      for (int pass = 0; pass < 3; pass++) {
        double mu = 0;
        for (int i = 0; i < n; i++) mu += v[i * c + k];
        mu /= n;
        for (int i = 0; i < n; i++) if (Math.abs(v[i * c + k] - mu) < 1e-2) v[i * c + k] += 0.05f;
      }
    }
    return x;
  }

  /**
   * A residual block with L1 batch norms, every input coordinate: L1 norm has a kink wherever an
   * element meets its set's mean, far denser than ReLU's, so a central difference that straddles
   * one is wrong by design. A correct backward matches almost everywhere; a wrong one almost
   * nowhere.
   */
  @Test
  void l1ResidualBlockGradientMatchesAlmostEverywhere() {
    SplittableRandom rr = new SplittableRandom(4);
    Var xi = GradCheck.input(rr, 3, 2, 6, 6);
    ResidualBlock block = new ResidualBlock(2, 4, 2, 6, 6, rr, Normalization.L1);
    dev.lowbit.autograd.Tape.current().clear();
    Var out = block.forward(xi);
    float[] proj = new float[out.size()];
    for (int i = 0; i < proj.length; i++) proj[i] = (float) (rr.nextDouble() * 2 - 1);
    dev.lowbit.autograd.Ops.mean(dev.lowbit.autograd.Ops.mul(out, Var.constant(new Tensor(proj, out.shape())))).backward();
    float[] g = xi.grad().clone(), x = xi.data();
    int bad = 0;
    double h = 1e-4;
    for (int i = 0; i < x.length; i++) {
      float keep = x[i];
      x[i] = (float) (keep + h);
      double p = lossOf(block, xi, proj);
      x[i] = (float) (keep - h);
      double m = lossOf(block, xi, proj);
      x[i] = keep;
      double fd = (p - m) / (2 * h);
      if (Math.abs(fd - g[i]) > 0.05 * Math.abs(g[i]) + 1e-4) bad++;
    }
    assertTrue(bad <= x.length / 30, bad + " of " + x.length + " coordinates disagree with central differences");
  }

  static double lossOf(Module b, Var x, float[] proj) {
    Var o = dev.lowbit.autograd.Tape.noGrad(() -> b.forward(x));
    double s = 0;
    for (int i = 0; i < proj.length; i++) s += (double) o.data()[i] * proj[i];
    return s / proj.length;
  }

  @Test
  void forwardIsMeanAbsoluteDeviationNormalization() {
    float[] v = {1, 2, 3, 10};
    Var x = Var.constant(new Tensor(v.clone(), 1, 4));
    Var one = Var.constant(new Tensor(new float[] {1, 1, 1, 1}, 4)), zero = Var.constant(new Tensor(new float[4], 4));
    float[] y = L1NormOps.layerNorm(x, one, zero, 0f, 1f).data();
    // mean 4, |d| = 3,2,1,6 -> σ1 = 3
    float[] expect = {-1f, -2f / 3, -1f / 3, 2f};
    for (int i = 0; i < 4; i++) assertEquals(expect[i], y[i], 1e-6);
    float[] yc = L1NormOps.layerNorm(x, one, zero, 0f, L1NormOps.GAUSSIAN_C).data();
    for (int i = 0; i < 4; i++) assertEquals(expect[i] * L1NormOps.GAUSSIAN_C, yc[i], 1e-6);
    // batch norm: running statistics move towards (mean, σ1) and are used in eval
    L1BatchNorm bn = new L1BatchNorm(1, 1f, 0f, 1f);
    Var xb = Var.constant(new Tensor(v.clone(), 4, 1));
    float[] t = bn.forward(xb).data();
    for (int i = 0; i < 4; i++) assertEquals(expect[i], t[i], 1e-6);
    bn.eval();
    float[] e = bn.forward(Var.constant(new Tensor(new float[] {7}, 1, 1))).data();
    assertEquals(1f, e[0], 1e-6, "(7 - 4) / 3 with the running statistics");
    assertEquals(4f, bn.stateDict().get("running_mean").data()[0]);
    assertEquals(3f, bn.stateDict().get("running_sigma1").data()[0]);
    assertThrows(IllegalArgumentException.class, () -> new L1LayerNorm(4, 1e-5f, 0f));
  }

  @Test
  void modelsBuildL1NormsOnRequest() {
    for (String name : List.of("resnet", "vit")) {
      Module l2 = Models.create(name, 3), l1 = Models.create(name, 3, Normalization.L1);
      assertTrue(l1.stateDict().keySet().stream().anyMatch(k -> k.endsWith("running_sigma1")) == name.equals("resnet"));
      assertTrue(countL1(l1) > 0 && countL1(l2) == 0, name);
      assertEquals(l2.parameterCount(), l1.parameterCount(), name + ": same parameters, other norm");
      Var x = GradCheck.input(r, 2, 1, 28, 28);
      GradCheck.check(name + "-l1", () -> l1.forward(x), LayerGradientTest.with(x, l1), 6, 1e-4, 5e-2);
    }
    assertEquals(Models.create("mlp", 1).stateDict().keySet(), Models.create("mlp", 1, Normalization.L1).stateDict().keySet());
    assertEquals(Normalization.L1, Normalization.parse(" L1 "));
    assertThrows(IllegalArgumentException.class, () -> Normalization.parse("l3"));
  }

  static int countL1(Module m) {
    int c = m instanceof L1BatchNorm || m instanceof L1LayerNorm ? 1 : 0;
    for (Module ch : m.children().values()) c += countL1(ch);
    return c;
  }
}
