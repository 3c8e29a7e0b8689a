package dev.lowbit.intonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.intonly.exec.Program;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Linear;
import dev.lowbit.nn.Module;
import dev.lowbit.nn.Normalization;
import dev.lowbit.nn.Sequential;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** What the compiler refuses, with the layer or input named, and how it explains a program. */
class IntCompilerErrorsTest {

  private static final IntCompiler.Calibration CAL = new IntCompiler.Calibration(1, 4);

  private static float[] images(int n) {
    float[] x = new float[n * 784];
    SplittableRandom rng = new SplittableRandom(1);
    for (int i = 0; i < x.length; i++) x[i] = rng.nextInt(256) / 255f;
    return x;
  }

  private static String refusal(String name, Module m, float[] images, int count) {
    return assertThrows(IllegalArgumentException.class, () -> IntCompiler.compile(name, m, images, count, CAL))
        .getMessage();
  }

  @Test
  void anL1LayerNormIsNamedWithItsPathAndType() {
    String msg = refusal("vit", Models.create("vit", 1, Normalization.L1), images(4), 4);
    assertTrue(msg.startsWith("blocks.0.ln1 (L1LayerNorm) is not supported by the integer compiler"), msg);
  }

  @Test
  void anL1BatchNormIsNamedWithItsPathAndType() {
    String msg = refusal("resnet", Models.create("resnet", 1, Normalization.L1), images(4), 4);
    assertTrue(msg.startsWith("bn (L1BatchNorm) is not supported by the integer compiler"), msg);
  }

  @Test
  void aModelOutsideTheFourIsRefused() {
    assertTrue(refusal("transformer", Models.create("mlp", 1), images(4), 4).contains("'transformer'"));
    Module seq = new Sequential(new Linear(784, 10, new SplittableRandom(1)));
    String msg = refusal("mlp", seq, images(4), 4);
    assertTrue(msg.contains("(Sequential) cannot be lowered"), msg);
  }

  @Test
  void imagesOfTheWrongSizeAreRefused() {
    String msg = refusal("cnn", Models.create("cnn", 1), new float[3 * 700], 3);
    assertTrue(msg.contains("2100 values for 3 images of 1×28×28"), msg);
    assertTrue(refusal("cnn", Models.create("cnn", 1), new float[0], 0).contains("at least one image"));
    msg = refusal("cnn", Models.create("cnn", 1), new float[3 * 784 + 5], 3);
    assertTrue(msg.contains("a multiple of 784"), msg);
  }

  @Test
  void aNonFiniteWeightIsNamed() {
    Module m = Models.create("mlp", 1);
    ((Linear) m.children().get("fc2")).weight.data()[3] = Float.NaN;
    String msg = refusal("mlp", m, images(4), 4);
    assertTrue(msg.startsWith("fc2.weight[3] is NaN"), msg);
  }

  @Test
  void explainWritesOneLinePerOpWithShapesRangesAndScales() {
    Program p = IntCompiler.compile("vit", Models.create("vit", 3), images(8), 8, CAL);
    String text = ProgramText.explain(p);
    String[] lines = text.split("\n");
    assertEquals(p.ops().size() + 1, lines.length, text);
    assertTrue(lines[0].startsWith("program vit: input 1×28×28"), lines[0]);
    assertTrue(lines[1].startsWith("v1   = Conv      (v0) 64×4×4  int32, 7×7 kernel, stride 7"), lines[1]);
    assertTrue(text.contains("Shiftmax  (v"), text);
    assertTrue(text.contains(") 4×16×16  [0,127] (×2^-7), x0 "), text);
    assertTrue(text.contains("int16 [-32768,32767], a ×"), text);
    assertTrue(text.contains("m/2^k per channel (64)"), text);
    assertTrue(lines[lines.length - 1].contains("Argmax") && lines[lines.length - 1].contains("class index of 10"));
  }
}
