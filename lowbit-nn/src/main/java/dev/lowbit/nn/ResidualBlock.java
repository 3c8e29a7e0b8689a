package dev.lowbit.nn;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * ResNet's basic block (He et al., "Deep Residual Learning for Image Recognition", 2016):
 * relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut x), the shortcut a strided 1×1 conv + BN when the
 * shape changes. Function sites: {@code bn1 relu} (the inner ReLU) and the block's own relu (the
 * outer one).
 */
public final class ResidualBlock extends Module implements FunctionRoles.Layer {

  private final Conv2d conv1, conv2;
  private final Module bn1, bn2;
  private final Conv2d downConv;
  private final Module downBn;

  public ResidualBlock(int inC, int outC, int stride, int h, int w, SplittableRandom rng) {
    this(inC, outC, stride, h, w, rng, Normalization.L2);
  }

  /** With the norm layers {@code norm} builds (L1 norms for ShiftQuant-style training). */
  public ResidualBlock(int inC, int outC, int stride, int h, int w, SplittableRandom rng, Normalization norm) {
    conv1 = register("conv1", new Conv2d(ConvSpec.of(1, inC, h, w, outC, 3, stride, 1), false, rng));
    bn1 = register("bn1", norm.batchNorm(outC));
    int oh = conv1.spec.outH(), ow = conv1.spec.outW();
    conv2 = register("conv2", new Conv2d(ConvSpec.of(1, outC, oh, ow, outC, 3, 1, 1), false, rng));
    bn2 = register("bn2", norm.batchNorm(outC));
    if (stride != 1 || inC != outC) {
      downConv = register("down_conv", new Conv2d(ConvSpec.of(1, inC, h, w, outC, 1, stride, 0), false, rng));
      downBn = register("down_bn", norm.batchNorm(outC));
    } else {
      downConv = null;
      downBn = null;
    }
  }

  public Conv2d conv1() {
    return conv1;
  }

  public Module bn1() {
    return bn1;
  }

  public Conv2d conv2() {
    return conv2;
  }

  public Module bn2() {
    return bn2;
  }

  /** The shortcut's 1×1 convolution, or null when the shortcut is the identity. */
  public Conv2d downConv() {
    return downConv;
  }

  /** The shortcut's norm, or null when the shortcut is the identity. */
  public Module downBn() {
    return downBn;
  }

  @Override
  public Var forward(Var x) {
    Var y = FunctionRoles.relu(bn1.name(), bn1.forward(conv1.forward(x)));
    y = bn2.forward(conv2.forward(y));
    Var s = downConv == null ? x : downBn.forward(downConv.forward(x));
    return FunctionRoles.relu(name(), Ops.add(y, s));
  }

  @Override
  public List<Policy.Site> functionSites() {
    List<Policy.Site> out = new ArrayList<>(FunctionRoles.sites(bn1.name(), Set.of(Role.RELU)));
    out.addAll(FunctionRoles.sites(name(), Set.of(Role.RELU)));
    return out;
  }
}
