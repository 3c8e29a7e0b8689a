package dev.lowbit.cli;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.data.DataLoader;
import dev.lowbit.nn.Compute;
import dev.lowbit.nn.Module;
import dev.lowbit.nn.ProductObserver;
import dev.lowbit.numerics.GemmCall;
import dev.lowbit.numerics.ProductPlan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The operands of every matrix product of one training step (forward, backward-data and
 * backward-weight of every linear, im2col convolution and attention product), copied out as the
 * product sees them: op(A) (m×k) and op(B) (k×n), row-major floats.
 */
final class ProductCapture {

  private ProductCapture() {}

  /**
   * All calls of one (layer, product) in the step: attention's batched products and grouped
   * convolutions make one call per slice, all of one shape; the product as a whole is quantized
   * per tensor over all slices.
   */
  record Captured(String layer, String product, int m, int k, int n, List<float[]> a, List<float[]> b) {

    /** The number of GEMM calls (slices). */
    int calls() {
      return a.size();
    }

    /** Multiply-accumulates of all slices. */
    long macs() {
      return (long) m * k * n * calls();
    }

    /** The slices of A (or B) back to back, the tensor that is quantized. */
    float[] joined(boolean left) {
      List<float[]> parts = left ? a : b;
      int size = left ? m * k : k * n;
      float[] all = new float[size * parts.size()];
      for (int i = 0; i < parts.size(); i++) System.arraycopy(parts.get(i), 0, all, i * size, size);
      return all;
    }
  }

  /**
   * One forward and backward pass of {@code model} in training mode on {@code batch} with the
   * cross-entropy loss and no numerics installed (fp32), every product's operands recorded; the
   * model's gradients are left as the pass made them. Products come in the order they first ran.
   */
  static List<Captured> step(Module model, DataLoader.Batch batch) {
    Map<String, Captured> byKey = new LinkedHashMap<>();
    ProductObserver record = (site, call) -> {
      String key = site.layer() + "\u0000" + site.product().label();
      Captured c = byKey.computeIfAbsent(key, x -> new Captured(site.layer(), site.product().label(), call.m(),
          call.k(), call.n(), new ArrayList<>(), new ArrayList<>()));
      if (c.m() != call.m() || c.k() != call.k() || c.n() != call.n()) {
        throw new IllegalStateException(site.layer() + " " + site.product().label() + ": calls of different shapes");
      }
      c.a().add(copy(call.a(), call.m(), call.k(), site.transA()));
      c.b().add(copy(call.b(), call.k(), call.n(), site.transB()));
    };
    dev.lowbit.nn.Numerics before = Compute.numerics();
    Compute.setNumerics(null);
    Compute.observeProducts(record);
    try {
      model.train();
      model.zeroGrad();
      Var logits = model.forward(Var.constant(batch.x()));
      Ops.crossEntropy(logits, batch.labels(), 0f).backward();
    } finally {
      Compute.observeProducts(null);
      Compute.setNumerics(before);
    }
    return List.copyOf(byKey.values());
  }

  /** op(M) as a rows×cols row-major copy: M stored with offset and leading dimension, transposed when {@code trans}. */
  static float[] copy(GemmCall.Matrix mat, int rows, int cols, boolean trans) {
    float[] x = mat.x();
    float[] out = new float[rows * cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        out[i * cols + j] = x[mat.off() + (trans ? j * mat.ld() + i : i * mat.ld() + j)];
      }
    }
    return out;
  }
}
