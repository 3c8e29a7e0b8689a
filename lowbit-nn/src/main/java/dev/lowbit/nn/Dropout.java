package dev.lowbit.nn;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import java.util.SplittableRandom;

/**
 * Inverted dropout in training, identity in evaluation. The mask is drawn from a generator keyed by
 * (seed, module name, step), so a resumed run draws the same masks as an uninterrupted one.
 */
public final class Dropout extends Module {

  private final float p;
  private final long seed;
  private long calls;
  private long lastStep = -1;

  public Dropout(float p, long seed) {
    if (p < 0 || p >= 1) throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
    this.p = p;
    this.seed = seed;
  }

  @Override
  public Var forward(Var x) {
    if (!isTraining() || p == 0) return x;
    if (step() != lastStep) {
      lastStep = step();
      calls = 0;
    }
    long key = seed * 0x9E3779B97F4A7C15L ^ name().hashCode() * 0xBF58476D1CE4E5B9L ^ step() * 0x94D049BB133111EBL ^ calls++;
    return Ops.dropout(x, p, new SplittableRandom(key));
  }
}
