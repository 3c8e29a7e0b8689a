package dev.lowbit.intonly;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.StepArena;
import dev.lowbit.autograd.Tape;
import dev.lowbit.autograd.Var;
import dev.lowbit.data.DataLoader;
import dev.lowbit.data.Dataset;
import dev.lowbit.nn.Module;
import dev.lowbit.tensor.Tensor;
import dev.lowbit.train.AdamW;

/** Brief training and float evaluation for the integer compiler's tests. */
final class Training {

  private Training() {}

  /** {@code epochs} passes of AdamW (lr, batch 64, seeded shuffle) over {@code data}; returns the model in eval mode. */
  static Module train(Module model, Dataset data, int epochs, double lr, long seed) {
    AdamW opt = new AdamW(model.namedParameters(), lr, 0.01);
    DataLoader dl = new DataLoader(data, 64, true, seed);
    model.train();
    for (int e = 0; e < epochs; e++) {
      for (int bi = 0; bi < dl.batchesPerEpoch(); bi++) {
        DataLoader.Batch b = dl.batch(e, bi);
        StepArena.beginStep();
        opt.zeroGrad();
        Var loss = Ops.crossEntropy(model.forward(Var.constant(b.x())), b.labels(), 0f);
        loss.backward();
        opt.step();
      }
    }
    StepArena.endSteps();
    model.eval();
    return model;
  }

  /** The first {@code n} images of {@code data} (pixel/255 values). */
  static float[] images(Dataset data, int n) {
    return java.util.Arrays.copyOf(data.images(), n * data.sampleSize());
  }

  /** The model's eval-mode logits of {@code n} images, in batches of 100. */
  static float[] forward(Module model, float[] images, int n, int sample) {
    model.eval();
    float[] out = null;
    for (int s = 0; s < n; s += 100) {
      int m = Math.min(100, n - s);
      float[] x = java.util.Arrays.copyOfRange(images, s * sample, (s + m) * sample);
      float[] l = Tape.noGrad(() -> model.forward(Var.constant(new Tensor(x, m, 1, 28, 28))).value().data().clone());
      if (out == null) out = new float[n * (l.length / m)];
      System.arraycopy(l, 0, out, s * (l.length / m), l.length);
    }
    return out;
  }

  /** Raw pixels 0..255 of the first {@code n} images (the stored bytes: x·255 rounded). */
  static byte[] pixels(Dataset data, int n) {
    float[] x = data.images();
    byte[] out = new byte[n * data.sampleSize()];
    for (int i = 0; i < out.length; i++) out[i] = (byte) Math.rint(x[i] * 255);
    return out;
  }

  /** The fraction of {@code a} equal to {@code b}, element by element. */
  static double agreement(int[] a, int[] b) {
    int same = 0;
    for (int i = 0; i < a.length; i++) if (a[i] == b[i]) same++;
    return (double) same / a.length;
  }

  /** Index of the first largest of each row of {@code classes}. */
  static int[] argmax(float[] logits, int classes) {
    int[] out = new int[logits.length / classes];
    for (int i = 0; i < out.length; i++) {
      for (int j = 1; j < classes; j++) if (logits[i * classes + j] > logits[i * classes + out[i]]) out[i] = j;
    }
    return out;
  }
}
