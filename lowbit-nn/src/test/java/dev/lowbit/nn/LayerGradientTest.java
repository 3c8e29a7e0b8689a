package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lowbit.autograd.GradCheck;
import dev.lowbit.autograd.Var;
import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.models.Models;
import dev.lowbit.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LayerGradientTest {

  final SplittableRandom r = new SplittableRandom(1);

  static List<Var> with(Var x, Module m) {
    List<Var> l = new ArrayList<>();
    l.add(x);
    l.addAll(m.parameters());
    return l;
  }

  @Test
  void linearConvAndBmm() {
    Var x = GradCheck.input(r, 3, 2, 5);
    Linear lin = new Linear(5, 4, r);
    GradCheck.check("linear", () -> lin.forward(x), with(x, lin));
    Var xi = GradCheck.input(r, 2, 4, 6, 5);
    Conv2d conv = new Conv2d(new ConvSpec(1, 4, 6, 5, 6, 3, 2, 2, 1, 1, 1, 2, 1, 2), true, r);
    GradCheck.check("conv2d", () -> conv.forward(xi), with(xi, conv));
    Var a = GradCheck.input(r, 2, 3, 4, 5), b = GradCheck.input(r, 2, 3, 5, 6), bt = GradCheck.input(r, 2, 3, 6, 5);
    GradCheck.check("bmm", () -> Compute.bmm("t", a, b, false), List.of(a, b));
    GradCheck.check("bmmT", () -> Compute.bmm("t", a, bt, true), List.of(a, bt));
  }

  /**
   * Linear's weight and bias gradients overwrite the (lazily zeroed) gradient with the step's
   * first contribution and add the later ones: a layer applied twice must get the sum, and a
   * second check (zeroGrad over the first one's gradients) must not see the first's.
   */
  @Test
  void sharedLinearAddsItsContributionsAndZeroGradStartsAfresh() {
    Var x = GradCheck.input(r, 3, 4);
    Linear lin = new Linear(4, 4, r);
    for (int round = 0; round < 2; round++) {
      GradCheck.check("linear applied twice, round " + round,
          () -> lin.forward(dev.lowbit.autograd.Ops.relu(lin.forward(x))), with(x, lin));
    }
    lin.zeroGrad();
    for (float g : lin.weight.grad()) assertEquals(0f, g, "zeroGrad reads as zeros");
  }

  @Test
  void attentionResidualAndNorms() {
    Var x = GradCheck.input(r, 2, 5, 8);
    MultiHeadSelfAttention attn = new MultiHeadSelfAttention(8, 2, r);
    GradCheck.check("attention", () -> attn.forward(x), with(x, attn));
    Var xi = GradCheck.input(r, 3, 2, 6, 6);
    ResidualBlock block = new ResidualBlock(2, 4, 2, 6, 6, r);
    GradCheck.check("residual", () -> block.forward(xi), with(xi, block), 30, 1e-4, 2e-2); // small h: BN+ReLU kinks
    LayerNorm ln = new LayerNorm(8);
    GradCheck.check("layerNormModule", () -> ln.forward(x), with(x, ln));
  }

  @Test
  void wholeModelsBackpropagate() {
    for (String name : Models.NAMES) {
      Module m = Models.create(name, 3);
      Var x = GradCheck.input(r, 2, 1, 28, 28);
      GradCheck.check(name, () -> m.forward(x), with(x, m), 6, 1e-4, 5e-2);
    }
  }

  @Test
  void namesStateDictAndTrainEval() {
    Module cnn = Models.create("cnn", 0);
    assertEquals(List.of("c1.weight", "c1.bias", "c2.weight", "c2.bias", "f1.weight", "f1.bias", "f2.weight", "f2.bias"),
        new ArrayList<>(cnn.stateDict().keySet()));
    Module vit = Models.create("vit", 0);
    assertEquals(true, vit.namedParameters().containsKey("blocks.0.attn.q.weight"));
    Module res = Models.create("resnet", 0);
    assertEquals(true, res.stateDict().containsKey("layer2.down_bn.running_var"));
    res.eval();
    assertEquals(false, res.children().get("layer1").isTraining());
    // Same seed, same weights; shapes checked on load.
    Module a = Models.create("mlp", 5), b = Models.create("mlp", 6);
    b.loadStateDict(a.stateDict(), "test");
    assertEquals(a.stateDict().get("fc2.weight").data()[7], b.stateDict().get("fc2.weight").data()[7]);
    var bad = new java.util.LinkedHashMap<>(a.stateDict());
    bad.put("fc1.weight", Tensor.zeros(3, 3));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(bad, "ckpt"));
    assertEquals(true, e.getMessage().contains("fc1.weight"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Models.create("lenet", 0));
  }
}
