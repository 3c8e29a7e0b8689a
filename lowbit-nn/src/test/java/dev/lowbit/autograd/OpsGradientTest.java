package dev.lowbit.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lowbit.kernel.PoolSpec;
import dev.lowbit.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class OpsGradientTest {

  final SplittableRandom r = new SplittableRandom(42);

  @Test
  void elementwise() {
    Var a = GradCheck.input(r, 3, 4), b = GradCheck.input(r, 3, 4), c = GradCheck.input(r, 4);
    GradCheck.check("add", () -> Ops.add(a, b), List.of(a, b));
    GradCheck.check("addTrailing", () -> Ops.addTrailing(a, c), List.of(a, c));
    GradCheck.check("mul", () -> Ops.mul(a, b), List.of(a, b));
    GradCheck.check("scale", () -> Ops.scale(a, -1.5f), List.of(a));
    GradCheck.check("relu", () -> Ops.relu(a), List.of(a));
    GradCheck.check("gelu-erf", () -> Ops.gelu(Ops.scale(a, 3f), false), List.of(a));
    GradCheck.check("gelu-tanh", () -> Ops.gelu(Ops.scale(a, 3f), true), List.of(a));
    GradCheck.check("tanh", () -> Ops.tanh(a), List.of(a));
  }

  @Test
  void shapes() {
    Var a = GradCheck.input(r, 2, 3, 4, 5);
    GradCheck.check("reshape", () -> Ops.reshape(a, 6, -1), List.of(a));
    GradCheck.check("permute", () -> Ops.permute(a, 2, 0, 3, 1), List.of(a));
    GradCheck.check("meanDim1", () -> Ops.meanDim(a, 1), List.of(a));
    GradCheck.check("meanDimLast", () -> Ops.meanDim(a, -1), List.of(a));
    GradCheck.check("mean", () -> Ops.reshape(Ops.mean(a), 1), List.of(a));
    Var p = Ops.permute(Var.constant(new Tensor(new float[] {0, 1, 2, 3, 4, 5}, 2, 3)), 1, 0);
    assertEquals(List.of(0f, 3f, 1f, 4f, 2f, 5f), boxed(p.data()));
  }

  @Test
  void softmaxAndLosses() {
    Var a = GradCheck.input(r, 4, 6);
    GradCheck.check("softmax", () -> Ops.softmax(Ops.scale(a, 3f)), List.of(a));
    int[] labels = {1, 5, 0, 3};
    GradCheck.check("crossEntropy", () -> Ops.reshape(Ops.crossEntropy(a, labels, 0f), 1), List.of(a));
    GradCheck.check("crossEntropy-smooth", () -> Ops.reshape(Ops.crossEntropy(a, labels, 0.1f), 1), List.of(a));
    Tensor target = GradCheck.input(r, 4, 6).value();
    GradCheck.check("mse", () -> Ops.reshape(Ops.mse(a, target), 1), List.of(a));
    // Known value: uniform logits over C classes give loss log C.
    Var z = Var.constant(Tensor.zeros(2, 10));
    assertEquals(Math.log(10), Ops.crossEntropy(z, new int[] {3, 7}, 0f).item(), 1e-6);
    assertThrows(IllegalArgumentException.class, () -> Ops.crossEntropy(z, new int[] {3, 10}, 0f));
  }

  @Test
  void normalization() {
    Var x = GradCheck.input(r, 3, 2, 5), g = GradCheck.input(r, 5), b = GradCheck.input(r, 5);
    GradCheck.check("layerNorm", () -> Ops.layerNorm(x, g, b, 1e-5f), List.of(x, g, b));
    Var x4 = GradCheck.input(r, 3, 4, 2, 3), g4 = GradCheck.input(r, 4), b4 = GradCheck.input(r, 4);
    float[] rm = new float[4], rv = {1, 1, 1, 1};
    GradCheck.check("batchNorm-train", () -> Ops.batchNorm(x4, g4, b4, rm, rv, true, 0.1f, 1e-5f), List.of(x4, g4, b4));
    float[] rm2 = {0.1f, -0.2f, 0.3f, 0f}, rv2 = {0.5f, 2f, 1f, 1.5f};
    GradCheck.check("batchNorm-eval", () -> Ops.batchNorm(x4, g4, b4, rm2, rv2, false, 0.1f, 1e-5f), List.of(x4, g4, b4));
  }

  @Test
  void poolingDropoutEmbedding() {
    Var x = GradCheck.input(r, 2, 3, 6, 5);
    PoolSpec s = new PoolSpec(2, 3, 6, 5, 3, 3, 2, 2, 1, 1);
    GradCheck.check("maxPool2d", () -> Ops.maxPool2d(x, s), List.of(x));
    GradCheck.check("avgPool2d", () -> Ops.avgPool2d(x, s), List.of(x));
    PoolSpec ex = new PoolSpec(2, 3, 6, 5, 3, 3, 2, 2, 1, 1, false);
    GradCheck.check("avgPool2d count_include_pad=False", () -> Ops.avgPool2d(x, ex), List.of(x));
    GradCheck.check("dropout", () -> Ops.dropout(x, 0.3f, new SplittableRandom(9)), List.of(x));
    Var w = GradCheck.input(r, 7, 4);
    int[] ids = {1, 6, 1, 0, 3, 6};
    GradCheck.check("embedding", () -> Ops.embedding(w, ids, 2, 3), List.of(w));
  }

  @Test
  void erfMatchesKnownValues() {
    // Values of erf from tables (Abramowitz & Stegun 7.1).
    assertEquals(0.0, Ops.erf(0), 1e-16);
    assertEquals(0.5204998778130465, Ops.erf(0.5), 1e-14);
    assertEquals(0.8427007929497149, Ops.erf(1), 1e-14);
    assertEquals(0.9953222650189527, Ops.erf(2), 1e-14);
    assertEquals(-0.9999779095030014, Ops.erf(-3), 1e-14);
    assertEquals(0.9999999845827421, Ops.erf(4), 1e-15);
  }

  static List<Float> boxed(float[] a) {
    java.util.ArrayList<Float> l = new java.util.ArrayList<>();
    for (float v : a) l.add(v);
    return l;
  }

  /** ReLU's masked loops (vector body, scalar tail) against the definition, bit for bit: NaN, ±0, both gradient paths. */
  @Test
  void reluMatchesItsDefinitionBitForBit() {
    for (int n : new int[] {5, 37, 70_001}) { // the last one splits over threads
      float[] x = new float[n], g = new float[n];
      for (int i = 0; i < n; i++) {
        x[i] = switch (r.nextInt(6)) {
          case 0 -> Float.NaN;
          case 1 -> r.nextBoolean() ? 0f : -0f;
          default -> (float) r.nextGaussian();
        };
        g[i] = r.nextInt(5) == 0 ? -0f : (float) r.nextGaussian();
      }
      for (boolean accumulate : new boolean[] {false, true}) {
        Var a = new Var(new Tensor(x.clone(), n), true);
        Var y = Ops.relu(a);
        for (int i = 0; i < n; i++) {
          assertEquals(Float.floatToRawIntBits(x[i] > 0f ? x[i] : 0f), Float.floatToRawIntBits(y.data()[i]), "relu " + i);
        }
        // y·g summed: dL/dy = g; with accumulate, a also feeds the loss directly (dL/da gets -0 first)
        Var loss = Ops.mean(Ops.mul(y, Var.constant(new Tensor(g.clone(), n))));
        if (accumulate) {
          float[] minusZero = new float[n];
          java.util.Arrays.fill(minusZero, -0f);
          a.setGrad(minusZero);
        }
        loss.backward();
        float[] ga = a.grad();
        // dL/dy from the same loss on a leaf standing in for y
        Var leaf = new Var(new Tensor(y.data().clone(), n), true);
        Ops.mean(Ops.mul(leaf, Var.constant(new Tensor(g.clone(), n)))).backward();
        float[] dy = leaf.grad();
        for (int i = 0; i < n; i++) {
          float want = accumulate ? (x[i] > 0f ? -0f + dy[i] : -0f) : (x[i] > 0f ? dy[i] : 0f);
          assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(ga[i]), "gradient " + i + " accumulate " + accumulate);
        }
      }
    }
  }
}
