package dev.lowbit.nn;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.kernel.PoolSpec;

/** Max or average 2-D pooling (window k, stride, padding) over NCHW. */
public final class Pool2d extends Module {

  public enum Kind { MAX, AVG }

  private final Kind kind;
  private final int k, stride, pad;

  public Pool2d(Kind kind, int k, int stride, int pad) {
    this.kind = kind;
    this.k = k;
    this.stride = stride;
    this.pad = pad;
  }

  public static Pool2d max(int k) {
    return new Pool2d(Kind.MAX, k, k, 0);
  }

  public static Pool2d avg(int k) {
    return new Pool2d(Kind.AVG, k, k, 0);
  }

  @Override
  public Var forward(Var x) {
    if (x.value().rank() != 4) throw new IllegalArgumentException(name() + ": pooling needs NCHW, got " + x.value().shapeString());
    PoolSpec s = new PoolSpec(x.dim(0), x.dim(1), x.dim(2), x.dim(3), k, k, stride, stride, pad, pad);
    return kind == Kind.MAX ? Ops.maxPool2d(x, s) : Ops.avgPool2d(x, s);
  }
}
