package dev.lowbit.cli;

import dev.lowbit.autograd.Tape;
import dev.lowbit.autograd.Var;
import dev.lowbit.data.DataLoader;
import dev.lowbit.data.Dataset;
import dev.lowbit.intonly.GemmIntMatmul;
import dev.lowbit.intonly.exec.IntExecutor;
import dev.lowbit.intonly.exec.IntMatmul;
import dev.lowbit.intonly.exec.Program;
import dev.lowbit.kernel.Reduce;
import dev.lowbit.nn.Module;
import java.io.PrintWriter;

/**
 * What {@code export}, {@code infer} and {@code bench infer} share about integer-only programs:
 * the matrix product the executor runs on, a program's parameter bytes, and classifying a test
 * set in batches (integer program or float model) with a progress line.
 */
final class IntPrograms {

  private IntPrograms() {}

  /** The executor's product on the current GEMM backend (its name says which kernels run). */
  static IntMatmul matmul() {
    return GemmIntMatmul.inUse();
  }

  /** Bytes of a program's weights and constants: int8 weights 1 byte each, int32 biases and constants 4. */
  static long parameterBytes(Program p) {
    long n = 0;
    for (Program.Op op : p.ops()) {
      n += switch (op) {
        case Program.Conv c -> c.weight().length + 4L * c.bias().length;
        case Program.Linear l -> l.weight().length + 4L * l.bias().length;
        case Program.Const c -> 4L * c.values().length;
        case Program.LayerNorm l -> 4L * l.bias().length;
        default -> 0;
      };
    }
    return n;
  }

  /** A bar redrawn in place on a terminal; elsewhere a line at every quarter. */
  record Progress(PrintWriter err, boolean tty, String what) {
    static Progress of(PrintWriter err, String what) {
      return new Progress(err, System.console() != null && System.console().isTerminal(), what);
    }

    void step(int done, int total) {
      if (tty) {
        int width = 30, fill = (int) ((long) done * width / total);
        err.print("\r\033[K" + what + " [" + "=".repeat(fill) + " ".repeat(width - fill) + "] " + done + "/" + total);
      } else if (done == total || (long) done * 4 / total != (long) (done - 1) * 4 / total) { // each quarter
        err.println(what + ": " + done + "/" + total);
      }
      err.flush();
    }

    void done() {
      if (tty) err.print("\r\033[K");
      err.flush();
    }
  }

  /** Predicted classes of a test pass and the seconds its batches took (data preparation excluded). */
  record Predictions(int[] predicted, double seconds) {
    double imagesPerSecond() {
      return predicted.length / seconds;
    }
  }

  /** The integer program's class of each of the first {@code n} images of {@code test}, in batches. */
  static Predictions classify(IntExecutor ex, Program p, Dataset test, int n, int batch, Progress progress) {
    int ss = test.sampleSize(), batches = (n + batch - 1) / batch;
    byte[] pixels = new byte[Math.min(batch, n) * ss];
    int[] out = new int[n];
    long nanos = 0;
    for (int bi = 0; bi < batches; bi++) {
      int start = bi * batch, b = Math.min(batch, n - start);
      for (int i = 0; i < b; i++) test.copyPixels(start + i, pixels, i * ss);
      long t0 = System.nanoTime();
      int[] c = ex.classify(p, pixels, 0, b);
      nanos += System.nanoTime() - t0;
      System.arraycopy(c, 0, out, start, b);
      progress.step(bi + 1, batches);
    }
    progress.done();
    return new Predictions(out, nanos * 1e-9);
  }

  /** The float model's class of each of the first {@code n} images of {@code test}, in evaluation mode. */
  static Predictions classify(Module model, Dataset test, int n, int batch, Progress progress) {
    model.eval();
    DataLoader dl = new DataLoader(test.head(n), batch, false, 0);
    int batches = dl.batchesPerEpoch();
    int[] out = new int[n];
    long nanos = 0;
    for (int bi = 0; bi < batches; bi++) {
      DataLoader.Batch b = dl.batch(0, bi);
      long t0 = System.nanoTime();
      float[] logits = Tape.noGrad(() -> model.forward(Var.constant(b.x())).data());
      nanos += System.nanoTime() - t0;
      int classes = logits.length / b.size();
      for (int i = 0; i < b.size(); i++) out[bi * batch + i] = Reduce.argmax(logits, i * classes, classes);
      progress.step(bi + 1, batches);
    }
    progress.done();
    return new Predictions(out, nanos * 1e-9);
  }
}
