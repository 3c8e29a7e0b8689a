package dev.lowbit.nn;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.numerics.Policy;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Multi-head self-attention over B×T×D tokens (Vaswani et al., "Attention Is All You Need", 2017):
 * per head softmax(Q·Kᵀ/√d)·V, heads concatenated and projected. Q, K, V are separate projections
 * (q, k, v) so every product is an ordinary Linear or a {@link Compute#bmm}. The softmax is the
 * layer's softmax and exp function roles.
 */
public final class MultiHeadSelfAttention extends Module implements FunctionRoles.Layer {

  private final int dim, heads, headDim;
  private final Linear q, k, v, proj;

  public MultiHeadSelfAttention(int dim, int heads, SplittableRandom rng) {
    if (heads <= 0 || dim % heads != 0) throw new IllegalArgumentException("heads=" + heads + " must divide dim=" + dim);
    this.dim = dim;
    this.heads = heads;
    this.headDim = dim / heads;
    q = register("q", new Linear(dim, dim, rng));
    k = register("k", new Linear(dim, dim, rng));
    v = register("v", new Linear(dim, dim, rng));
    proj = register("proj", new Linear(dim, dim, rng));
  }

  public int heads() {
    return heads;
  }

  public int headDim() {
    return headDim;
  }

  public Linear q() {
    return q;
  }

  public Linear k() {
    return k;
  }

  public Linear v() {
    return v;
  }

  public Linear proj() {
    return proj;
  }

  @Override
  public Var forward(Var x) {
    if (x.value().rank() != 3 || x.dim(2) != dim) {
      throw new IllegalArgumentException(name() + ": expects B×T×" + dim + ", got " + x.value().shapeString());
    }
    int b = x.dim(0), t = x.dim(1);
    Var qh = split(q.forward(x), b, t);
    Var kh = split(k.forward(x), b, t);
    Var vh = split(v.forward(x), b, t);
    Var scores = Ops.scale(Compute.bmm(name() + ".scores", qh, kh, true), (float) (1 / Math.sqrt(headDim)));
    Var attn = Ops.softmax(scores, FunctionRoles.softmax(name()));
    Var ctx = Compute.bmm(name() + ".context", attn, vh, false); // B×H×T×dh
    Var merged = Ops.reshape(Ops.permute(ctx, 0, 2, 1, 3), b, t, dim);
    return proj.forward(merged);
  }

  @Override
  public List<Policy.Site> functionSites() {
    return FunctionRoles.sites(name(), FunctionRoles.SOFTMAX_ROLES);
  }

  private Var split(Var y, int b, int t) {
    return Ops.permute(Ops.reshape(y, b, t, heads, headDim), 0, 2, 1, 3);
  }
}
