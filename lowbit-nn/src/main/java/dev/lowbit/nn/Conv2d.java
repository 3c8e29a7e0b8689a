package dev.lowbit.nn;

import dev.lowbit.autograd.Var;
import dev.lowbit.kernel.ConvSpec;
import java.util.SplittableRandom;

/** 2-D convolution over NCHW (stride, padding, dilation, groups) for a fixed input size. */
public final class Conv2d extends Module {

  public final ConvSpec spec;
  public final Var weight;
  public final Var bias;

  /** {@code spec}'s batch size is ignored (taken from each input). */
  public Conv2d(ConvSpec spec, boolean bias, SplittableRandom rng) {
    this.spec = spec;
    int fanIn = spec.inC() / spec.groups() * spec.kH() * spec.kW();
    this.weight = param("weight",
        Init.torchDefault(rng, fanIn, spec.outC(), spec.inC() / spec.groups(), spec.kH(), spec.kW()));
    this.bias = bias ? param("bias", Init.torchDefault(rng, fanIn, spec.outC())) : null;
  }

  @Override
  public Var forward(Var x) {
    return Compute.conv2d(name(), x, weight, bias, spec);
  }
}
