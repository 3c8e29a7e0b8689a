package dev.lowbit.models;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.intonly.Lowerable;
import dev.lowbit.intonly.Lowering;
import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.nn.Activation;
import dev.lowbit.nn.BatchNorm;
import dev.lowbit.nn.Conv2d;
import dev.lowbit.nn.Dropout;
import dev.lowbit.nn.FunctionRoles;
import dev.lowbit.nn.Init;
import dev.lowbit.nn.LayerNorm;
import dev.lowbit.nn.Linear;
import dev.lowbit.nn.Module;
import dev.lowbit.nn.MultiHeadSelfAttention;
import dev.lowbit.nn.Normalization;
import dev.lowbit.nn.Pool2d;
import dev.lowbit.nn.ResidualBlock;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Role;
import java.util.List;
import java.util.SplittableRandom;

/** The model zoo for 1×28×28 images and 10 classes (Fashion-MNIST). */
public final class Models {

  public static final List<String> NAMES = List.of("mlp", "cnn", "resnet", "vit");

  private Models() {}

  /** The input every model of the zoo is built for: 1 channel of 28×28 pixels (C, H, W). */
  public static int[] inputShape(String name) {
    if (!NAMES.contains(name)) {
      throw new IllegalArgumentException("unknown model '" + name + "'; known: " + String.join(", ", NAMES));
    }
    return new int[] {1, 28, 28};
  }

  /**
   * Refuses data whose images are not the model's input geometry, naming the data's file (checked
   * before training: the MLP would otherwise train on any 784 pixels, e.g. 56×14, without a word).
   */
  public static void checkInputs(String name, Dataset... sets) {
    int[] s = inputShape(name);
    for (Dataset d : sets) {
      if (d.channels() != s[0] || d.height() != s[1] || d.width() != s[2]) {
        throw new IllegalArgumentException(d.source() + ": images are " + FashionMnist.geometry(d) + ", model "
            + name + " expects " + (s[0] == 1 ? "" : s[0] + "×") + s[1] + "×" + s[2] + " inputs");
      }
    }
  }

  /** Builds a model by name with seeded initialisation. */
  public static Module create(String name, long seed) {
    return create(name, seed, Normalization.L2);
  }

  /**
   * Builds a model by name with seeded initialisation and the norm layers {@code norm} builds
   * (resnet's batch norms, vit's layer norms; mlp and cnn have no norm layers, so it changes
   * nothing there).
   */
  public static Module create(String name, long seed, Normalization norm) {
    SplittableRandom rng = new SplittableRandom(seed);
    return switch (name) {
      case "mlp" -> new Mlp(rng);
      case "cnn" -> new Cnn(rng);
      case "resnet" -> new ResNet(rng, norm);
      case "vit" -> new Vit(rng, 7, 64, 4, 4, 2, seed, norm);
      default -> throw new IllegalArgumentException("unknown model '" + name + "'; known: " + String.join(", ", NAMES));
    };
  }

  /** 784-256-256-10 with ReLU (names fc1..fc3 as in the PyTorch peer). */
  public static final class Mlp extends Module implements FunctionRoles.Layer, Lowerable.Model {
    private final Linear fc1, fc2, fc3;

    public Mlp(SplittableRandom rng) {
      fc1 = register("fc1", new Linear(784, 256, rng));
      fc2 = register("fc2", new Linear(256, 256, rng));
      fc3 = register("fc3", new Linear(256, 10, rng));
    }

    @Override
    public Var forward(Var x) {
      Var h = Ops.reshape(x, x.dim(0), -1);
      return fc3.forward(FunctionRoles.relu(fc2.name(), fc2.forward(FunctionRoles.relu(fc1.name(), fc1.forward(h)))));
    }

    @Override
    public List<Policy.Site> functionSites() {
      return reluSites(fc1, fc2);
    }

    @Override
    public int[] inputShape() {
      return Models.inputShape("mlp");
    }

    @Override
    public Lowering.Value lower(Lowering b, Lowering.Value x) {
      return b.linear(b.relu(b.linear(b.relu(b.linear(x, fc1)), fc2)), fc3);
    }
  }

  /** conv3×3(1→32)-ReLU-maxpool2, conv3×3(32→64)-ReLU-maxpool2, fc(3136→128)-ReLU, fc(128→10). */
  public static final class Cnn extends Module implements FunctionRoles.Layer, Lowerable.Model {
    private final Conv2d c1, c2;
    private final Linear f1, f2;
    private final Pool2d pool = Pool2d.max(2);

    public Cnn(SplittableRandom rng) {
      c1 = register("c1", new Conv2d(ConvSpec.of(1, 1, 28, 28, 32, 3, 1, 1), true, rng));
      c2 = register("c2", new Conv2d(ConvSpec.of(1, 32, 14, 14, 64, 3, 1, 1), true, rng));
      f1 = register("f1", new Linear(64 * 7 * 7, 128, rng));
      f2 = register("f2", new Linear(128, 10, rng));
      register("pool", pool);
    }

    @Override
    public Var forward(Var x) {
      // relu(maxpool(·)) = maxpool(relu(·)), same gradients (both route to the window's first
      // maximum, which gets zero when it is not positive), on a quarter of the values.
      Var h = FunctionRoles.relu(c1.name(), pool.forward(c1.forward(x)));
      h = FunctionRoles.relu(c2.name(), pool.forward(c2.forward(h)));
      return f2.forward(FunctionRoles.relu(f1.name(), f1.forward(Ops.flatten(h))));
    }

    @Override
    public List<Policy.Site> functionSites() {
      return reluSites(c1, c2, f1);
    }

    @Override
    public int[] inputShape() {
      return Models.inputShape("cnn");
    }

    @Override
    public Lowering.Value lower(Lowering b, Lowering.Value x) {
      // relu before the pool, the order the integer program needs (a requantization with a fused
      // ReLU, then the pool): the same values, relu and max pooling commute
      Lowering.Value h = b.maxPool(b.relu(b.conv(x, c1)), pool);
      h = b.maxPool(b.relu(b.conv(h, c2)), pool);
      return b.linear(b.relu(b.linear(h, f1)), f2);
    }
  }

  /** A small ResNet: 3×3 stem (16), three basic blocks (16, 32/2, 64/2), global average pool, fc. */
  public static final class ResNet extends Module implements FunctionRoles.Layer, Lowerable.Model {
    private final Conv2d stem;
    private final Module bn;
    private final ResidualBlock b1, b2, b3;
    private final Linear fc;

    public ResNet(SplittableRandom rng) {
      this(rng, Normalization.L2);
    }

    public ResNet(SplittableRandom rng, Normalization norm) {
      stem = register("stem", new Conv2d(ConvSpec.of(1, 1, 28, 28, 16, 3, 1, 1), false, rng));
      bn = register("bn", norm.batchNorm(16));
      b1 = register("layer1", new ResidualBlock(16, 16, 1, 28, 28, rng, norm));
      b2 = register("layer2", new ResidualBlock(16, 32, 2, 28, 28, rng, norm));
      b3 = register("layer3", new ResidualBlock(32, 64, 2, 14, 14, rng, norm));
      fc = register("fc", new Linear(64, 10, rng));
    }

    @Override
    public Var forward(Var x) {
      Var h = FunctionRoles.relu(bn.name(), bn.forward(stem.forward(x)));
      h = b3.forward(b2.forward(b1.forward(h)));
      h = Ops.meanDim(Ops.reshape(h, h.dim(0), h.dim(1), -1), 2);
      return fc.forward(h);
    }

    @Override
    public List<Policy.Site> functionSites() {
      return reluSites(bn);
    }

    @Override
    public int[] inputShape() {
      return Models.inputShape("resnet");
    }

    @Override
    public Lowering.Value lower(Lowering b, Lowering.Value x) {
      Lowering.Value h = b.relu(b.conv(x, stem, bn));
      h = b.residualBlock(b.residualBlock(b.residualBlock(h, b1), b2), b3);
      return b.linear(b.globalMeanPool(h), fc);
    }
  }

  /** The relu sites of layers whose outputs a model passes through a ReLU. */
  private static List<Policy.Site> reluSites(Module... layers) {
    List<Policy.Site> out = new java.util.ArrayList<>();
    for (Module m : layers) out.addAll(FunctionRoles.sites(m.name(), java.util.Set.of(Role.RELU)));
    return out;
  }

  /**
   * A tiny Vision Transformer (Dosovitskiy et al., "An Image is Worth 16x16 Words", 2021): patch
   * embedding by a strided conv, learned position embeddings, pre-norm encoder blocks, mean-pooled
   * tokens (no class token), LayerNorm, linear head.
   */
  public static final class Vit extends Module implements Lowerable.Model {
    private final Conv2d patch;
    private final Var pos;
    private final List<Block> blocks;
    private final Module norm;
    private final Linear head;
    private final int tokens, dim;

    public Vit(SplittableRandom rng, int patchSize, int dim, int depth, int heads, int mlpRatio, long seed) {
      this(rng, patchSize, dim, depth, heads, mlpRatio, seed, Normalization.L2);
    }

    public Vit(SplittableRandom rng, int patchSize, int dim, int depth, int heads, int mlpRatio, long seed,
        Normalization normKind) {
      if (28 % patchSize != 0) throw new IllegalArgumentException("patch size " + patchSize + " must divide 28");
      this.dim = dim;
      int g = 28 / patchSize;
      tokens = g * g;
      patch = register("patch", new Conv2d(ConvSpec.of(1, 1, 28, 28, dim, patchSize, patchSize, 0), true, rng));
      pos = param("pos", Init.truncNormal(rng, 0.02f, tokens, dim));
      Block[] bs = new Block[depth];
      for (int i = 0; i < depth; i++) bs[i] = register("blocks." + i, new Block(dim, heads, mlpRatio, rng, seed, normKind));
      blocks = List.of(bs);
      norm = register("norm", normKind.layerNorm(dim));
      head = register("head", new Linear(dim, 10, rng));
    }

    @Override
    public Var forward(Var x) {
      int b = x.dim(0);
      Var h = patch.forward(x); // B×D×g×g
      h = Ops.permute(Ops.reshape(h, b, dim, tokens), 0, 2, 1); // B×T×D
      h = Ops.addTrailing(h, pos);
      for (Block blk : blocks) h = blk.forward(h);
      return head.forward(Ops.meanDim(norm.forward(h), 1));
    }

    @Override
    public int[] inputShape() {
      return Models.inputShape("vit");
    }

    @Override
    public Lowering.Value lower(Lowering b, Lowering.Value x) {
      Lowering.Value h = b.addPosition(b.patchTokens(b.conv(x, patch)), "pos", pos);
      for (Block blk : blocks) h = b.apply(blk, h);
      return b.linear(b.tokenMean(b.layerNorm(h, norm)), head);
    }
  }

  /**
   * Pre-norm transformer encoder block: x + attn(ln1 x), then x + mlp(ln2 x) with GELU (function
   * site {@code fc1 gelu}: the GELU of fc1's output).
   */
  public static final class Block extends Module implements FunctionRoles.Layer, Lowerable {
    private final Module ln1, ln2;
    private final MultiHeadSelfAttention attn;
    private final Linear fc1, fc2;
    private final Dropout drop;

    public Block(int dim, int heads, int mlpRatio, SplittableRandom rng, long seed) {
      this(dim, heads, mlpRatio, rng, seed, Normalization.L2);
    }

    public Block(int dim, int heads, int mlpRatio, SplittableRandom rng, long seed, Normalization norm) {
      ln1 = register("ln1", norm.layerNorm(dim));
      attn = register("attn", new MultiHeadSelfAttention(dim, heads, rng));
      ln2 = register("ln2", norm.layerNorm(dim));
      fc1 = register("fc1", new Linear(dim, dim * mlpRatio, rng));
      fc2 = register("fc2", new Linear(dim * mlpRatio, dim, rng));
      drop = register("drop", new Dropout(0f, seed));
    }

    @Override
    public Var forward(Var x) {
      x = Ops.add(x, attn.forward(ln1.forward(x)));
      Var m = fc2.forward(Ops.gelu(fc1.forward(ln2.forward(x)), false, FunctionRoles.eval(fc1.name(), Role.GELU)));
      return Ops.add(x, drop.forward(m));
    }

    @Override
    public List<Policy.Site> functionSites() {
      return FunctionRoles.sites(fc1.name(), java.util.Set.of(Role.GELU));
    }

    @Override
    public Lowering.Value lower(Lowering b, Lowering.Value x) {
      // dropout is the identity in evaluation
      x = b.residual(x, b.attention(b.layerNorm(x, ln1), attn));
      return b.residual(x, b.linear(b.gelu(b.linear(b.layerNorm(x, ln2), fc1)), fc2));
    }
  }
}
