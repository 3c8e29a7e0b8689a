package dev.lowbit.nn;

import dev.lowbit.autograd.Var;

/** Applies its children in order; they are named "0", "1", … unless given names. */
public class Sequential extends Module {

  public Sequential(Module... layers) {
    for (int i = 0; i < layers.length; i++) register(Integer.toString(i), layers[i]);
  }

  /** Adds a named layer at the end. */
  public final Sequential add(String local, Module m) {
    register(local, m);
    return this;
  }

  @Override
  public Var forward(Var x) {
    for (Module m : children().values()) x = m.forward(x);
    return x;
  }
}
