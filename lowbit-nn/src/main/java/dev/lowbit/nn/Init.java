package dev.lowbit.nn;

import dev.lowbit.tensor.Tensor;
import java.util.SplittableRandom;

/** Parameter initialisation, seeded. */
public final class Init {

  private Init() {}

  /** U(−bound, bound). */
  public static Tensor uniform(SplittableRandom rng, float bound, int... shape) {
    Tensor t = Tensor.zeros(shape);
    float[] d = t.data();
    for (int i = 0; i < d.length; i++) d[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
    return t;
  }

  /**
   * PyTorch's default for Linear and Conv weights and biases (kaiming-uniform with a = √5 gives
   * bound 1/√fan_in for both).
   */
  public static Tensor torchDefault(SplittableRandom rng, int fanIn, int... shape) {
    return uniform(rng, (float) (1 / Math.sqrt(fanIn)), shape);
  }

  /** N(0, std²) truncated to ±2 std (ViT embeddings). */
  public static Tensor truncNormal(SplittableRandom rng, float std, int... shape) {
    Tensor t = Tensor.zeros(shape);
    float[] d = t.data();
    for (int i = 0; i < d.length; i++) {
      double v;
      do {
        v = gaussian(rng);
      } while (Math.abs(v) > 2);
      d[i] = (float) (v * std);
    }
    return t;
  }

  static double gaussian(SplittableRandom rng) {
    double u1 = rng.nextDouble(), u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }

  public static Tensor filled(float v, int... shape) {
    Tensor t = Tensor.zeros(shape);
    java.util.Arrays.fill(t.data(), v);
    return t;
  }
}
