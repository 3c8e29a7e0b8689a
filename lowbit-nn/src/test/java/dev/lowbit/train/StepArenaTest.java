package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.StepArena;
import dev.lowbit.autograd.Tape;
import dev.lowbit.autograd.Var;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Module;
import dev.lowbit.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StepArenaTest {

  @AfterEach
  void close() {
    StepArena.endSteps();
  }

  @Test
  void arraysComeBackOnlyAfterTheNextStepBegins() {
    float[] outside = StepArena.floats(16);
    assertNotSame(outside, StepArena.floats(16));
    StepArena.beginStep();
    float[] a = StepArena.floats(1000), b = StepArena.floats(1000);
    assertNotSame(a, b); // both live in the same step
    StepArena.beginStep();
    float[] c = StepArena.floats(1000), d = StepArena.floats(1000);
    assertSame(b, c); // last handed back, first reused
    assertSame(a, d);
    int[] i1 = StepArena.ints(7);
    StepArena.beginStep();
    assertSame(i1, StepArena.ints(7));
    // evaluation (no gradient recording) never takes pooled arrays, and gets zeros
    float[] e = Tape.noGrad(() -> StepArena.floats(1000));
    assertNotSame(c, e);
    assertNotSame(d, e);
    assertEquals(0f, e[0]);
    StepArena.endSteps();
    float[] f = StepArena.floats(1000);
    assertNotSame(c, f);
    assertNotSame(d, f);
  }

  @Test
  void parametersGradientsNeverComeFromThePool() {
    StepArena.beginStep();
    Var p = Var.parameter(new Tensor(new float[8], 8));
    Var q = new Var(new Tensor(new float[8], 8), true);
    float[] gp = StepArena.gradFor(p);
    StepArena.gradFor(q);
    StepArena.beginStep();
    float[] r1 = StepArena.floats(8);
    assertNotSame(gp, r1);
  }

  @Test
  void zerosClearsAReusedArray() {
    StepArena.beginStep();
    float[] a = StepArena.floats(300);
    java.util.Arrays.fill(a, 7f);
    StepArena.beginStep();
    float[] b = StepArena.zeros(300);
    assertSame(a, b);
    assertArrayEquals(new float[300], b);
    // an intermediate's first gradient for accumulation comes from the pool, cleared
    StepArena.beginStep();
    java.util.Arrays.fill(b, 3f);
    StepArena.beginStep();
    Var v = new Var(new Tensor(new float[300], 300), true);
    float[] g = v.gradForAccumulation();
    assertSame(b, g);
    assertArrayEquals(new float[300], g);
  }

  /**
   * Five SGD steps, the step arena on and off: bit-identical weights and losses — the CNN
   * (convolution, pooling, ReLU), the ResNet (batch norm, residual adds, average pooling) and the
   * ViT (layer norm, softmax, GELU, permutes).
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"cnn", "resnet", "vit"})
  void trainingWithTheArenaIsBitIdentical(String model) {
    float[][] with = train(model, true), without = train(model, false);
    assertEquals(with.length, without.length);
    for (int i = 0; i < with.length; i++) assertArrayEquals(without[i], with[i], model + " tensor " + i);
  }

  private static float[][] train(String model, boolean arena) {
    Module m = Models.create(model, 5);
    Sgd opt = new Sgd(m.namedParameters(), 0.05, 0.9);
    SplittableRandom r = new SplittableRandom(11);
    List<float[]> out = new ArrayList<>();
    int batch = 6;
    float[] losses = new float[5];
    for (int step = 0; step < 5; step++) {
      float[] x = new float[batch * 28 * 28];
      for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
      int[] y = new int[batch];
      for (int i = 0; i < batch; i++) y[i] = r.nextInt(10);
      if (arena) StepArena.beginStep();
      opt.zeroGrad();
      Var loss = Ops.crossEntropy(m.forward(Var.constant(new Tensor(x, batch, 1, 28, 28))), y, 0f);
      loss.backward();
      opt.step();
      losses[step] = loss.item();
    }
    StepArena.endSteps();
    out.add(losses);
    for (Var p : m.parameters()) out.add(p.data().clone());
    return out.toArray(float[][]::new);
  }
}
