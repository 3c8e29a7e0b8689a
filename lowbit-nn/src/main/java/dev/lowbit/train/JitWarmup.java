package dev.lowbit.train;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.data.Dataset;
import dev.lowbit.data.Idx;
import dev.lowbit.tensor.Tensor;

/**
 * One round of lowbit-nn's own vector loops for {@link dev.lowbit.kernel.Warmup}: ReLU forward and
 * backward, the cross-entropy loss and its gradient, and the decoding of 8-bit images, on private
 * arrays (the tape and the step arena are per thread, and no numerics policy is involved), so
 * that C2 has compiled them before the first training step instead of running them boxed through
 * the first epoch.
 */
public final class JitWarmup {

  private JitWarmup() {}

  private static final Dataset IMAGES;
  private static final float[] DECODED = new float[28 * 28];

  static {
    byte[] px = new byte[2 * 28 * 28];
    for (int i = 0; i < px.length; i++) px[i] = (byte) (i * 31);
    IMAGES = Dataset.fromIdx(new Idx.Array(new int[] {2, 28, 28}, px), new Idx.Array(new int[] {2}, new byte[2]), 10,
        "warm-up");
  }

  private static final Dataset NORMALIZED = IMAGES.normalized(0.2860f, 0.3530f);

  /** Runs each loop once on small arrays. */
  public static void round() {
    float[] v = new float[4096], logits = new float[16 * 10];
    for (int i = 0; i < v.length; i++) v[i] = (i % 7) - 3f;
    for (int i = 0; i < logits.length; i++) logits[i] = (i % 5) * 0.5f;
    Var x = new Var(new Tensor(v, 16, 256), true);
    Var h = Ops.relu(x);
    Var l = new Var(new Tensor(logits, 16, 10), true);
    Var loss = Ops.add(Ops.crossEntropy(l, new int[16], 0f), Ops.mse(h, new Tensor(new float[v.length], 16, 256)));
    loss.backward();
    IMAGES.copySample(1, DECODED, 0);
    NORMALIZED.copySample(0, DECODED, 0);
  }
}
