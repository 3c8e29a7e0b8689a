package dev.lowbit.intonly;

import dev.lowbit.autograd.Var;
import dev.lowbit.intonly.exec.Program.ConvShape;
import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.nn.BatchNorm;
import dev.lowbit.nn.Conv2d;
import dev.lowbit.nn.LayerNorm;
import dev.lowbit.nn.Linear;
import dev.lowbit.nn.Module;
import dev.lowbit.nn.MultiHeadSelfAttention;
import dev.lowbit.nn.Pool2d;
import dev.lowbit.nn.ResidualBlock;
import java.util.Arrays;

/**
 * What a {@link Lowerable} model calls to describe its evaluation-mode forward pass: one method
 * per building block the integer compiler supports, each taking the {@code dev.lowbit.nn} layer it
 * lowers. It builds a {@link FloatGraph} (batch norms folded into their convolutions) and
 * refuses, naming the layer path and type, a layer it cannot compile or a non-finite parameter.
 */
public final class Lowering {

  /** A value of the graph being built: its node and its shape per sample. */
  public record Value(int node, int[] shape) {
    int size() {
      int s = 1;
      for (int d : shape) s *= d;
      return s;
    }
  }

  private final FloatGraph.Builder g = new FloatGraph.Builder();

  Lowering() {}

  /** The graph of {@code model}, lowered from its input. */
  static FloatGraph of(Module model) {
    if (!(model instanceof Lowerable.Model lm)) {
      throw new IllegalArgumentException(describe(model) + " cannot be lowered: the integer compiler compiles the"
          + " models mlp, cnn, resnet and vit");
    }
    int[] s = lm.inputShape();
    Lowering b = new Lowering();
    Value in = new Value(b.g.add(new FloatGraph.Input(s[0], s[1], s[2]), s[0] * s[1] * s[2]), s.clone());
    Value out = lm.lower(b, in);
    if (out.shape().length != 1) {
      throw new IllegalArgumentException(describe(model) + " lowers to a " + Arrays.toString(out.shape())
          + " output, not one logit per class");
    }
    return b.g.build(out.node());
  }

  /** Applies {@code m}, a lowerable module (a transformer block, say). */
  public Value apply(Module m, Value x) {
    if (m instanceof Lowerable l) return l.lower(this, x);
    throw unsupported(m);
  }

  /** A convolution with its bias, if any (PyTorch's weight order; one group, no dilation). */
  public Value conv(Value x, Conv2d conv) {
    return conv(x, conv, null);
  }

  /**
   * A convolution followed by the evaluation-mode batch norm {@code bn} (running statistics),
   * folded: w' = w·γ/√(var + eps), b' = (b − mean)·γ/√(var + eps) + β.
   */
  public Value conv(Value x, Conv2d conv, Module bn) {
    ConvSpec s = conv.spec;
    if (s.groups() != 1 || s.dilH() != 1 || s.dilW() != 1 || s.kH() != s.kW() || s.strideH() != s.strideW()
        || s.padH() != s.padW()) {
      throw new IllegalArgumentException(conv.name() + " (Conv2d " + s + ") is not supported by the integer compiler;"
          + " it compiles square kernels with one group, equal strides and paddings, no dilation");
    }
    expect(x, conv.name(), s.inC(), s.inH(), s.inW());
    ConvShape cs = new ConvShape(s.inC(), s.inH(), s.inW(), s.outC(), s.kH(), s.strideH(), s.padH());
    float[] w = finite(conv.name() + ".weight", conv.weight.data()).clone();
    float[] b = conv.bias == null ? new float[s.outC()] : finite(conv.name() + ".bias", conv.bias.data()).clone();
    String name = conv.name();
    if (bn != null) {
      if (!(bn instanceof BatchNorm n)) throw unsupported(bn);
      name += "+" + bn.name();
      float[] gamma = finite(bn.name() + ".weight", n.weight.data()), beta = finite(bn.name() + ".bias", n.bias.data());
      float[] mean = finite(bn.name() + ".running_mean", n.runningMean());
      float[] var = finite(bn.name() + ".running_var", n.runningVar());
      int per = w.length / s.outC();
      for (int c = 0; c < s.outC(); c++) {
        double f = gamma[c] / Math.sqrt((double) var[c] + n.eps());
        for (int i = 0; i < per; i++) w[c * per + i] = (float) (w[c * per + i] * f);
        b[c] = (float) ((b[c] - mean[c]) * f + beta[c]);
      }
    }
    int[] shape = {s.outC(), cs.outH(), cs.outW()};
    return node(new FloatGraph.Conv(name, x.node(), cs, w, b), shape);
  }

  /**
   * A linear layer: over the last dimension of a tokens×features value, or over the whole value
   * flattened (a C×H×W image, say) otherwise.
   */
  public Value linear(Value x, Linear l) {
    boolean tokens = x.shape().length == 2 && x.shape()[1] == l.in;
    int rows = tokens ? x.shape()[0] : 1;
    if (!tokens && x.size() != l.in) {
      throw new IllegalArgumentException(l.name() + " (Linear " + l.in + "→" + l.out + ") gets a "
          + shape(x) + " input");
    }
    float[] w = finite(l.name() + ".weight", l.weight.data()).clone();
    float[] b = l.bias == null ? new float[l.out] : finite(l.name() + ".bias", l.bias.data()).clone();
    int[] shape = tokens ? new int[] {rows, l.out} : new int[] {l.out};
    return node(new FloatGraph.Linear(l.name(), x.node(), rows, l.in, l.out, w, b), shape);
  }

  /** max(x, 0); the integer program fuses it into the requantization before it. */
  public Value relu(Value x) {
    return node(new FloatGraph.Relu(x.node()), x.shape());
  }

  /** Max pooling (no padding) of a C×H×W value. */
  public Value maxPool(Value x, Module pool) {
    if (!(pool instanceof Pool2d p) || p.kind() != Pool2d.Kind.MAX || p.pad() != 0 || x.shape().length != 3) {
      throw unsupported(pool);
    }
    int[] s = x.shape();
    int k = p.window(), st = p.stride();
    int[] shape = {s[0], (s[1] - k) / st + 1, (s[2] - k) / st + 1};
    return node(new FloatGraph.MaxPool(x.node(), s[0], s[1], s[2], k, st), shape);
  }

  /**
   * ResNet's basic block: relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut x), the sum and its ReLU
   * stored in int8 (the next convolution's input).
   */
  public Value residualBlock(Value x, Module block) {
    if (!(block instanceof ResidualBlock rb)) throw unsupported(block);
    Value y = conv(relu(conv(x, rb.conv1(), rb.bn1())), rb.conv2(), rb.bn2());
    Value s = rb.downConv() == null ? x : conv(x, rb.downConv(), rb.downBn());
    return node(new FloatGraph.Add(y.node(), s.node(), 8, true), y.shape());
  }

  /** The mean over H·W of a C×H×W value: C values. */
  public Value globalMeanPool(Value x) {
    int[] s = x.shape();
    if (s.length != 3) throw new IllegalArgumentException("global mean pool needs C×H×W, got " + shape(x));
    return node(new FloatGraph.Mean(x.node(), s[0], s[1] * s[2], 1), new int[] {s[0]});
  }

  /** A patch embedding's D×H×W output as (H·W)×D tokens. */
  public Value patchTokens(Value x) {
    int[] s = x.shape();
    if (s.length != 3) throw new IllegalArgumentException("patch tokens need D×H×W, got " + shape(x));
    int t = s[1] * s[2];
    return node(new FloatGraph.Transpose(x.node(), s[0], t), new int[] {t, s[0]});
  }

  /** x + pos (a learned position embedding, tokens×D), in the residual stream's int16. */
  public Value addPosition(Value x, String name, Var pos) {
    if (pos.size() != x.size()) {
      throw new IllegalArgumentException(name + " has " + pos.size() + " values, the tokens " + shape(x));
    }
    int c = node(new FloatGraph.Const(name, finite(name, pos.data()).clone()), x.shape()).node();
    return node(new FloatGraph.Add(x.node(), c, 16, false), x.shape());
  }

  /** The residual stream x + branch, stored in int16. */
  public Value residual(Value x, Value branch) {
    if (!Arrays.equals(x.shape(), branch.shape())) {
      throw new IllegalArgumentException("residual of " + shape(x) + " and " + shape(branch));
    }
    return node(new FloatGraph.Add(x.node(), branch.node(), 16, false), x.shape());
  }

  /** Layer norm over the last dimension of tokens×D (integer: I-LayerNorm). */
  public Value layerNorm(Value x, Module ln) {
    if (!(ln instanceof LayerNorm n)) throw unsupported(ln);
    int[] s = x.shape();
    int d = n.weight.size();
    if (s.length != 2 || s[1] != d) throw new IllegalArgumentException(ln.name() + " (LayerNorm " + d + ") gets " + shape(x));
    float[] gamma = finite(ln.name() + ".weight", n.weight.data()).clone();
    for (int c = 0; c < d; c++) {
      if (gamma[c] == 0) {
        throw new IllegalArgumentException(ln.name() + ".weight[" + c + "] is 0: I-LayerNorm carries γ in its output"
            + " scale, which cannot be 0");
      }
    }
    float[] beta = finite(ln.name() + ".bias", n.bias.data()).clone();
    return node(new FloatGraph.LayerNorm(ln.name(), x.node(), s[0], d, gamma, beta, n.eps()), s);
  }

  /**
   * Multi-head self-attention over tokens×D: q, k, v projections, softmax(q·kᵀ/√dh) per head, the
   * context, the output projection.
   */
  public Value attention(Value x, Module attn) {
    if (!(attn instanceof MultiHeadSelfAttention a)) throw unsupported(attn);
    int t = x.shape()[0];
    Value q = linear(x, a.q()), k = linear(x, a.k()), v = linear(x, a.v());
    int h = a.heads(), dh = a.headDim();
    Value s = node(new FloatGraph.Scores(q.node(), k.node(), t, h, dh), new int[] {h, t, t});
    Value p = node(new FloatGraph.Softmax(s.node(), h * t, t), s.shape());
    Value c = node(new FloatGraph.Context(p.node(), v.node(), t, h, dh), new int[] {t, h * dh});
    return linear(c, a.proj());
  }

  /** GELU (erf form); the integer program uses ShiftGELU. */
  public Value gelu(Value x) {
    return node(new FloatGraph.Gelu(x.node()), x.shape());
  }

  /** The mean over tokens of tokens×D: D values. */
  public Value tokenMean(Value x) {
    int[] s = x.shape();
    if (s.length != 2) throw new IllegalArgumentException("token mean needs tokens×D, got " + shape(x));
    return node(new FloatGraph.Mean(x.node(), 1, s[0], s[1]), new int[] {s[1]});
  }

  private Value node(FloatGraph.Node n, int[] shape) {
    int size = 1;
    for (int d : shape) size *= d;
    return new Value(g.add(n, size), shape.clone());
  }

  private static void expect(Value x, String layer, int c, int h, int w) {
    if (!Arrays.equals(x.shape(), new int[] {c, h, w})) {
      throw new IllegalArgumentException(layer + " expects " + c + "×" + h + "×" + w + ", gets " + shape(x));
    }
  }

  private static String shape(Value x) {
    StringBuilder sb = new StringBuilder();
    for (int d : x.shape()) sb.append(sb.isEmpty() ? "" : "×").append(d);
    return sb.toString();
  }

  private static float[] finite(String name, float[] v) {
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        throw new IllegalArgumentException(name + "[" + i + "] is " + v[i] + ": the integer compiler needs finite"
            + " parameters");
      }
    }
    return v;
  }

  static String describe(Module m) {
    return (m.name().isEmpty() ? "model" : m.name()) + " (" + m.getClass().getSimpleName() + ")";
  }

  static IllegalArgumentException unsupported(Module m) {
    return new IllegalArgumentException(describe(m) + " is not supported by the integer compiler; it compiles"
        + " Linear, Conv2d, BatchNorm (folded into its convolution), LayerNorm, max pooling, ReLU, GELU,"
        + " MultiHeadSelfAttention and ResidualBlock");
  }
}
