package dev.lowbit.intonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.autograd.Var;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.intonly.exec.IntExecutor;
import dev.lowbit.intonly.exec.IntMatmul;
import dev.lowbit.intonly.exec.Program;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Module;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A layer norm's negative γ is carried by a negative dyadic multiplier. Negating γ_c, β_c and
 * input column c of the layers that read the norm leaves the float function unchanged; the integer
 * program must then classify as before (a sign lost on the way would flip half of the channels).
 */
class NegativeGammaTest {

  private static final Map<String, List<String>> READERS = Map.of(
      "ln1", List.of("attn.q", "attn.k", "attn.v"), "ln2", List.of("fc1"));

  private static void flip(Map<String, Var> p, String norm, List<String> readers) {
    float[] g = p.get(norm + ".weight").data(), b = p.get(norm + ".bias").data();
    for (int c = 0; c < g.length; c += 2) {
      g[c] = -g[c];
      b[c] = -b[c];
      for (String r : readers) {
        float[] w = p.get(r + ".weight").data();
        for (int o = 0; o < w.length / g.length; o++) w[o * g.length + c] = -w[o * g.length + c];
      }
    }
  }

  @Test
  void negatedNormChannelsClassifyAsBefore() throws Exception {
    var s = FashionMnist.embedded();
    Module m = Training.train(Models.create("vit", 4), s.train(), 2, 1e-3, 1);
    int n = 512, t = s.test().size();
    float[] calib = Training.images(s.train(), n);
    byte[] pixels = Training.pixels(s.test(), t);
    IntExecutor ex = new IntExecutor(IntMatmul.SCALAR, 2);
    int[] before = ex.classify(IntCompiler.compile("vit", m, calib, n, IntCompiler.Calibration.DEFAULT), pixels, 0, t);
    float[] floatBefore = Training.forward(m, s.test().images(), t, 784);

    Map<String, Var> p = m.namedParameters();
    for (int i = 0; i < 4; i++) {
      String block = "blocks." + i + ".";
      for (var e : READERS.entrySet()) {
        flip(p, block + e.getKey(), e.getValue().stream().map(r -> block + r).toList());
      }
    }
    flip(p, "norm", List.of("head"));
    assertArrayEquals(floatBefore, Training.forward(m, s.test().images(), t, 784), "the float function is unchanged");

    Program flipped = IntCompiler.compile("vit", m, calib, n, IntCompiler.Calibration.DEFAULT);
    assertTrue(ProgramText.explain(flipped).contains("(64): -"), "negative multipliers");
    int[] after = ex.classify(flipped, pixels, 0, t);
    double same = Training.agreement(after, before);
    double withFloat = Training.agreement(after, Training.argmax(floatBefore, 10));
    System.out.printf("negated γ: %.4f of the labels as before, %.4f agree with float%n", same, withFloat);
    assertTrue(same >= 0.99, "labels kept: " + same);
    assertTrue(withFloat >= 0.95, "agreement with float: " + withFloat);
  }
}
