package dev.lowbit.intonly;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.FashionMnist;
import dev.lowbit.models.Models;
import dev.lowbit.nn.BatchNorm;
import dev.lowbit.nn.Module;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The lowered float graph computes the model's eval-mode forward pass, batch norms folded. */
class FloatGraphTest {

  private static void assertSameLogits(String what, Module model, float[] images, int n) {
    float[] want = Training.forward(model, images, n, 784);
    float[] got = Lowering.of(model).logits(images, n);
    double scale = 1, worst = 0;
    for (float v : want) scale = Math.max(scale, Math.abs(v));
    for (int i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    assertTrue(worst <= 2e-5 * scale, what + ": logits differ by " + worst + " (largest |logit| " + scale + ")");
  }

  @ParameterizedTest
  @ValueSource(strings = {"mlp", "cnn", "resnet", "vit"})
  void randomInitialisation(String name) throws Exception {
    var s = FashionMnist.embedded();
    assertSameLogits(name, Models.create(name, 5).eval(), Training.images(s.test(), 40), 40);
  }

  @ParameterizedTest
  @ValueSource(strings = {"mlp", "cnn", "resnet", "vit"})
  void brieflyTrained(String name) throws Exception {
    var s = FashionMnist.embedded();
    Module m = Training.train(Models.create(name, 6), s.train().head(256), 1, 2e-3, 1);
    assertSameLogits(name + " trained", m, Training.images(s.test(), 40), 40);
  }

  /** Batch norms with running statistics and affine parameters far from their initial values fold exactly. */
  @org.junit.jupiter.api.Test
  void batchNormsFoldIntoTheirConvolutions() throws Exception {
    Module m = Models.create("resnet", 7);
    SplittableRandom rng = new SplittableRandom(11);
    int touched = 0;
    for (Module bn : all(m)) {
      if (!(bn instanceof BatchNorm b)) continue;
      float[] mean = b.runningMean(), var = b.runningVar(), g = b.weight.data(), be = b.bias.data();
      for (int c = 0; c < mean.length; c++) {
        mean[c] = (float) rng.nextDouble(-0.5, 0.5);
        var[c] = (float) rng.nextDouble(0.05, 3);
        g[c] = (float) rng.nextDouble(-1.5, 1.5);
        be[c] = (float) rng.nextDouble(-0.5, 0.5);
      }
      touched++;
    }
    assertTrue(touched == 9, "batch norms found: " + touched);
    var s = FashionMnist.embedded();
    assertSameLogits("resnet with batch norm statistics", m.eval(), Training.images(s.test(), 40), 40);
  }

  static java.util.List<Module> all(Module m) {
    java.util.List<Module> out = new java.util.ArrayList<>();
    out.add(m);
    for (Module c : m.children().values()) out.addAll(all(c));
    return out;
  }
}
