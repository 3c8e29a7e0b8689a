package dev.lowbit.nn;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;

/** Keeps dimension 0 and flattens the rest. */
public final class Flatten extends Module {
  @Override
  public Var forward(Var x) {
    return Ops.flatten(x);
  }
}
