package dev.lowbit.nn;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.kernel.PoolSpec;

/**
 * Max or average 2-D pooling (window k, stride, padding) over NCHW. Average pooling counts the
 * padding in its divisor unless made with {@code countIncludePad} false (PyTorch's {@code
 * AvgPool2d(..., count_include_pad=False)}): then each window is divided by the number of its
 * elements inside the input.
 */
public final class Pool2d extends Module {

  public enum Kind { MAX, AVG }

  private final Kind kind;
  private final int k, stride, pad;
  private final boolean countIncludePad;

  public Pool2d(Kind kind, int k, int stride, int pad) {
    this(kind, k, stride, pad, true);
  }

  public Pool2d(Kind kind, int k, int stride, int pad, boolean countIncludePad) {
    if (kind == Kind.MAX && !countIncludePad) {
      throw new IllegalArgumentException("count_include_pad applies to average pooling, not max pooling");
    }
    this.kind = kind;
    this.k = k;
    this.stride = stride;
    this.pad = pad;
    this.countIncludePad = countIncludePad;
  }

  public static Pool2d max(int k) {
    return new Pool2d(Kind.MAX, k, k, 0);
  }

  public static Pool2d avg(int k) {
    return new Pool2d(Kind.AVG, k, k, 0);
  }

  /** Average pooling as PyTorch's {@code AvgPool2d(k, stride, pad, count_include_pad=...)}. */
  public static Pool2d avg(int k, int stride, int pad, boolean countIncludePad) {
    return new Pool2d(Kind.AVG, k, stride, pad, countIncludePad);
  }

  public Kind kind() {
    return kind;
  }

  /** Window size (square). */
  public int window() {
    return k;
  }

  public int stride() {
    return stride;
  }

  public int pad() {
    return pad;
  }

  @Override
  public Var forward(Var x) {
    if (x.value().rank() != 4) throw new IllegalArgumentException(name() + ": pooling needs NCHW, got " + x.value().shapeString());
    PoolSpec s = new PoolSpec(x.dim(0), x.dim(1), x.dim(2), x.dim(3), k, k, stride, stride, pad, pad, countIncludePad);
    return kind == Kind.MAX ? Ops.maxPool2d(x, s) : Ops.avgPool2d(x, s);
  }
}
