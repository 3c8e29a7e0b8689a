package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Tape;
import dev.lowbit.autograd.Var;
import dev.lowbit.format.Formats;
import dev.lowbit.models.Models;
import dev.lowbit.numerics.Approximation;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Presets;
import dev.lowbit.numerics.Role;
import dev.lowbit.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The function-role hook: layers evaluate softmax, GELU, ReLU, norms as the installed policy says. */
class FunctionRolesTest {

  @AfterEach
  void uninstall() {
    Compute.setNumerics(null);
    Tape.current().clear();
  }

  private static Tensor images(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n * 28 * 28];
    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
    return new Tensor(x, n, 1, 28, 28);
  }

  /** The model's output and its input-gradient-free weight gradients after one backward pass. */
  private static List<float[]> run(String model, Policy policy) {
    return run(model, Normalization.L2, policy);
  }

  private static List<float[]> run(String model, Normalization norm, Policy policy) {
    Compute.setNumerics(policy == null ? null : new Numerics(policy, 1));
    try {
      Module m = Models.create(model, 3, norm);
      Var out = m.forward(Var.constant(images(5, 4)));
      Ops.mean(Ops.mul(out, out)).backward();
      List<float[]> r = new ArrayList<>();
      r.add(out.data().clone());
      for (Var p : m.parameters()) r.add(p.grad() == null ? new float[0] : p.grad().clone());
      return r;
    } finally {
      Compute.setNumerics(null);
      Tape.current().clear();
    }
  }

  private static void assertSameBits(List<float[]> a, List<float[]> b, String what) {
    assertEquals(a.size(), b.size(), what);
    for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i), b.get(i), what + " tensor " + i);
  }

  private static final String ALL_EXACT = "* softmax,gelu,tanh,relu,layernorm,batchnorm,exp exact\n";

  /** No function rule, or rules that say exact, give the bits of no policy at all. */
  @Test
  void theDefaultChangesNothing() {
    for (String model : Models.NAMES) {
      List<float[]> none = run(model, null);
      assertSameBits(none, run(model, Presets.get("fp32")), model + " fp32 preset");
      assertSameBits(none, run(model, Policy.parse(ALL_EXACT, "exact")), model + " exact rules");
    }
    for (String model : List.of("resnet", "vit")) {
      List<float[]> none = run(model, Normalization.L1, null);
      assertSameBits(none, run(model, Normalization.L1, Policy.parse(ALL_EXACT, "exact")), model + " l1 exact rules");
      String rule = model.equals("vit") ? "* layernorm fp16\n" : "* batchnorm fp16\n";
      assertFalse(Arrays.equals(none.get(0), run(model, Normalization.L1, Policy.parse(rule, "p")).get(0)), model + " l1");
    }
  }

  /** A non-exact approximation of a ViT's functions changes its output a little, its gradients too. */
  @Test
  void approximationsChangeTheVit() {
    List<float[]> exact = run("vit", null);
    for (String rule : List.of("* exp poly:2", "blocks.*.fc1 gelu fp16", "* layernorm bf16", "* softmax e4m3")) {
      List<float[]> approx = run("vit", Policy.parse(rule + "\n", "p"));
      float[] e = exact.get(0), a = approx.get(0);
      assertFalse(Arrays.equals(e, a), rule);
      double worst = 0;
      for (int i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]));
      assertTrue(worst < 0.5, rule + ": output moved by " + worst);
      for (float[] g : approx) for (float v : g) assertTrue(Float.isFinite(v), rule);
    }
  }

  /** ReLU, batch-norm and MLP/CNN sites take their rules as well. */
  @Test
  void approximationsChangeTheConvNets() {
    for (String model : List.of("mlp", "cnn", "resnet")) {
      List<float[]> exact = run(model, null);
      assertFalse(Arrays.equals(exact.get(0), run(model, Policy.parse("* relu e4m3\n", "p")).get(0)), model);
    }
    assertFalse(Arrays.equals(run("resnet", null).get(0), run("resnet", Policy.parse("* batchnorm e5m2\n", "p")).get(0)));
  }

  private static Var input(long seed, int... shape) {
    Tensor t = Tensor.zeros(shape);
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < t.size(); i++) t.data()[i] = (float) (r.nextGaussian() * 3);
    return Var.parameter(t);
  }

  private static Var withPolicy(String text, Supplier<Var> f) {
    Compute.setNumerics(text == null ? null : new Numerics(Policy.parse(text, "p"), 1));
    try {
      return f.get();
    } finally {
      Compute.setNumerics(null);
    }
  }

  /**
   * A softmax layer under {@code exp poly:N}: every probability within 2δ/(1−δ) (plus float
   * rounding) of the exact one, δ the exp's relative error bound, and not identical.
   */
  @Test
  void softmaxLayerWithPolynomialExpIsWithinTheDocumentedBound() {
    Sequential net = new Sequential().add("sm", new Activation(Activation.Kind.SOFTMAX));
    Var x = input(2, 8, 3, 40);
    float[] exact = withPolicy(null, () -> net.forward(x)).data();
    for (int n = 1; n <= 4; n++) {
      float[] y = withPolicy("sm exp poly:" + n, () -> net.forward(x)).data();
      double d = new Approximation.PolyExp(n).errorBound() + 0x1p-24, bound = 2 * d / (1 - d) + 4 * 0x1p-24;
      double worst = 0;
      for (int i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - exact[i]) / exact[i]);
      assertTrue(worst <= bound && worst > 0, "poly:" + n + ": " + worst + " vs bound " + bound);
    }
    float[] other = withPolicy("other exp poly:1", () -> net.forward(x)).data(); // a rule for another layer
    assertArrayEquals(exact, other);
  }

  /** gelu fp16 computes fp16(gelu(fp16(x))) with the exact GELU code; its backward is the exact derivative at x. */
  @Test
  void geluInFp16RoundsInputAndOutput() {
    Sequential net = new Sequential().add("act", Activation.gelu());
    Var x = input(4, 6, 50);
    Var y = withPolicy("act gelu fp16", () -> net.forward(x));
    float[] rounded = x.data().clone();
    for (int i = 0; i < rounded.length; i++) rounded[i] = Formats.FP16.quantize(rounded[i]);
    float[] expected = Ops.gelu(Var.constant(new Tensor(rounded, x.shape())), false).data();
    for (int i = 0; i < expected.length; i++) assertEquals(Formats.FP16.quantize(expected[i]), y.data()[i], "at " + i);
    Ops.mean(y).backward();
    float[] approxGrad = x.grad().clone();
    x.zeroGrad();
    Tape.current().clear();
    Ops.mean(Ops.gelu(x, false)).backward();
    assertArrayEquals(x.grad(), approxGrad); // straight-through: the exact derivative at x
  }

  /** A layer norm under bf16 normalizes the rounded input; its gradient is the exact one there. */
  @Test
  void layerNormInBf16IsTheExactNormOfTheRoundedInput() {
    Sequential net = new Sequential().add("ln", new LayerNorm(20));
    Var x = input(6, 5, 20);
    Var y = withPolicy("ln layernorm bf16", () -> net.forward(x));
    Ops.mean(Ops.mul(y, y)).backward();
    float[] approxGrad = x.grad().clone();
    Tape.current().clear();
    float[] rounded = x.data().clone();
    for (int i = 0; i < rounded.length; i++) rounded[i] = Formats.BF16.quantize(rounded[i]);
    Var xr = Var.parameter(new Tensor(rounded, x.shape()));
    LayerNorm plain = new LayerNorm(20);
    Var z = Ops.layerNorm(xr, plain.weight, plain.bias, 1e-5f);
    float[] expected = z.data().clone();
    for (int i = 0; i < expected.length; i++) assertEquals(Formats.BF16.quantize(expected[i]), y.data()[i], "at " + i);
    Var zr = Var.constant(new Tensor(y.data().clone(), y.shape())); // d mean(y²)/dy = 2y/n, y as approximated
    Ops.mean(Ops.mul(z, Ops.scale(zr, 1f))).backward();
    float[] g = xr.grad();
    for (int i = 0; i < g.length; i++) assertEquals(2 * g[i], approxGrad[i], 1e-6f * (1 + Math.abs(approxGrad[i])), "at " + i);
  }

  /** Numerics.sites lists every function a model computes, under the names the layers ask with. */
  @Test
  void sitesNameEveryFunctionOfEveryModel() {
    assertEquals(List.of("fc1 relu", "fc2 relu"), functionSites("mlp"));
    assertEquals(List.of("c1 relu", "c2 relu", "f1 relu"), functionSites("cnn"));
    List<String> resnet = functionSites("resnet");
    assertTrue(resnet.containsAll(List.of("bn relu", "bn batchnorm", "layer1.bn1 relu", "layer1 relu",
        "layer2.down_bn batchnorm")), resnet.toString());
    List<String> vit = functionSites("vit");
    assertTrue(vit.containsAll(List.of("blocks.0.ln1 layernorm", "blocks.0.attn softmax", "blocks.0.attn exp",
        "blocks.3.fc1 gelu", "norm layernorm")), vit.toString());
    assertEquals(4 * 5 + 1, vit.size(), vit.toString()); // per block: 2 norms, softmax, exp, gelu; the final norm
  }

  private static List<String> functionSites(String model) {
    List<String> out = new ArrayList<>();
    for (Policy.Site s : Numerics.sites(Models.create(model, 1))) {
      if (s.role().isFunction()) {
        assertEquals(0, s.rank());
        out.add(s.layer() + " " + s.role());
      }
    }
    return out;
  }

  /** A function rule that matches no site of the model is reported by Policy.check. */
  @Test
  void checkKnowsWhichLayersHaveWhichFunctions() {
    List<Policy.Site> sites = Numerics.sites(Models.create("mlp", 1));
    assertEquals(List.of(), Policy.parse("fc* relu fp16\n", "p").check(sites, "mlp", false));
    List<String> w = Policy.parse("* softmax fp16\n", "p").check(sites, "mlp", false);
    assertEquals(List.of("policy line 1: rule '* softmax fp16' matches no layer of model mlp (no layer has softmax)"), w);
    assertEquals(List.of(), Policy.parse("blocks.*.attn exp poly:3\n", "p")
        .check(Numerics.sites(Models.create("vit", 1)), "vit", true));
    assertEquals(Role.EXP, Role.parse("exp"));
  }
}
