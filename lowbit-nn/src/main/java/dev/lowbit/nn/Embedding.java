package dev.lowbit.nn;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import java.util.SplittableRandom;

/** A lookup table of V vectors of size D; {@link #lookup} maps integer ids to rows. */
public final class Embedding extends Module {

  public final Var weight;

  public Embedding(int vocab, int dim, SplittableRandom rng) {
    weight = param("weight", Init.truncNormal(rng, 1f, vocab, dim));
  }

  /** Rows for {@code ids}, shaped leadShape × D. */
  public Var lookup(int[] ids, int... leadShape) {
    return Ops.embedding(weight, ids, leadShape);
  }

  /** Reads x's values as integer ids. */
  @Override
  public Var forward(Var x) {
    float[] d = x.data();
    int[] ids = new int[d.length];
    for (int i = 0; i < d.length; i++) ids[i] = (int) d[i];
    return lookup(ids, x.shape());
  }
}
