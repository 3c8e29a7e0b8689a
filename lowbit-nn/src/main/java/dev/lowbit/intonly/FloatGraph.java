package dev.lowbit.intonly;

import dev.lowbit.autograd.Ops;
import dev.lowbit.intonly.exec.Program.ConvShape;
import dev.lowbit.kernel.Reduce;
import java.util.ArrayList;
import java.util.List;

/**
 * A model's eval-mode forward pass as a list of float nodes, one per op of the integer program to
 * be (batch norms already folded into their convolutions), with a plain-loop evaluation. The
 * compiler calibrates on it: every node's output range over a few batches sets the scale its
 * integer value gets. Its logits equal the model's {@code forward} in evaluation mode within float
 * rounding. Built by {@link Lowering}; shapes are per sample, row-major, the batch implied.
 */
public final class FloatGraph {

  /** One node; its inputs are earlier nodes' indices. */
  public sealed interface Node {}

  /** The input image, C×H×W, pixel/255. */
  public record Input(int c, int h, int w) implements Node {}

  /** A convolution (a following batch norm folded in); w is outC×(inC·k·k), b has outC entries. */
  public record Conv(String name, int in, ConvShape shape, float[] w, float[] b) implements Node {}

  /** out[r, o] = Σ_i w[o, i]·x[r, i] + b[o] over {@code rows} rows. */
  public record Linear(String name, int in, int rows, int inF, int outF, float[] w, float[] b) implements Node {}

  /** max(x, 0). */
  public record Relu(int in) implements Node {}

  /** Max pooling of c×h×w, k×k windows, no padding. */
  public record MaxPool(int in, int c, int h, int w, int k, int stride) implements Node {}

  /**
   * a + b (then ReLU when {@code relu}); the integer program stores the sum in {@code bits} (8 for
   * a value a GEMM reads next, 16 for a transformer's residual stream).
   */
  public record Add(int a, int b, int bits, boolean relu) implements Node {}

  /** out[o, j] = mean over t of in[o, t, j]. */
  public record Mean(int in, int outer, int count, int inner) implements Node {}

  /** rows×cols to cols×rows. */
  public record Transpose(int in, int rows, int cols) implements Node {}

  /** A constant per sample (a position embedding). */
  public record Const(String name, float[] values) implements Node {}

  /** Layer norm over rows of {@code dim}: (x − mean)/√(var + eps)·γ + β, biased variance. */
  public record LayerNorm(String name, int in, int rows, int dim, float[] gamma, float[] beta, float eps)
      implements Node {}

  /** Scaled attention scores per head: q·kᵀ/√headDim, heads×tokens×tokens from two tokens×D values. */
  public record Scores(int q, int k, int tokens, int heads, int headDim) implements Node {}

  /** Softmax over rows of {@code cols}. */
  public record Softmax(int in, int rows, int cols) implements Node {}

  /** Attention context, heads merged: tokens×(heads·headDim). */
  public record Context(int p, int v, int tokens, int heads, int headDim) implements Node {}

  /** GELU, erf form. */
  public record Gelu(int in) implements Node {}

  private final List<Node> nodes;
  private final int[] sizes;
  private final int output;

  FloatGraph(List<Node> nodes, int[] sizes, int output) {
    this.nodes = List.copyOf(nodes);
    this.sizes = sizes.clone();
    this.output = output;
  }

  public List<Node> nodes() {
    return nodes;
  }

  /** Values per sample of node {@code i}. */
  public int size(int i) {
    return sizes[i];
  }

  /** The node whose values are the logits. */
  public int output() {
    return output;
  }

  /** The logits of {@code n} images (n×C×H×W values pixel/255): n × classes. */
  public float[] logits(float[] images, int n) {
    return run(images, n)[output];
  }

  /** The values of every node for {@code n} images, each n × size(i). */
  public float[][] run(float[] images, int n) {
    float[][] v = new float[nodes.size()][];
    for (int i = 0; i < nodes.size(); i++) {
      float[] o = new float[n * sizes[i]];
      switch (nodes.get(i)) {
        case Input in -> System.arraycopy(images, 0, o, 0, o.length);
        case Conv c -> conv(c, v[c.in()], o, n);
        case Linear l -> linear(l, v[l.in()], o, n);
        case Relu r -> {
          float[] x = v[r.in()];
          for (int j = 0; j < o.length; j++) o[j] = Math.max(x[j], 0f);
        }
        case MaxPool p -> maxPool(p, v[p.in()], o, n);
        case Add a -> {
          float[] x = v[a.a()], y = v[a.b()];
          for (int j = 0; j < o.length; j++) {
            float s = x[j] + y[j];
            o[j] = a.relu() ? Math.max(s, 0f) : s;
          }
        }
        case Mean m -> mean(m, v[m.in()], o, n);
        case Transpose t -> {
          float[] x = v[t.in()];
          int sz = t.rows() * t.cols();
          for (int s = 0; s < n; s++)
            for (int r = 0; r < t.rows(); r++)
              for (int c = 0; c < t.cols(); c++) o[s * sz + c * t.rows() + r] = x[s * sz + r * t.cols() + c];
        }
        case Const c -> {
          for (int s = 0; s < n; s++) System.arraycopy(c.values(), 0, o, s * c.values().length, c.values().length);
        }
        case LayerNorm l -> layerNorm(l, v[l.in()], o, n);
        case Scores s -> scores(s, v[s.q()], v[s.k()], o, n);
        case Softmax s -> Reduce.softmaxRows(v[s.in()], o, n * s.rows(), s.cols());
        case Context c -> context(c, v[c.p()], v[c.v()], o, n);
        case Gelu g -> {
          float[] x = v[g.in()];
          for (int j = 0; j < o.length; j++) o[j] = (float) (0.5 * x[j] * (1 + Ops.erf(x[j] / Math.sqrt(2))));
        }
      }
      v[i] = o;
    }
    return v;
  }

  private static void conv(Conv c, float[] x, float[] o, int n) {
    ConvShape s = c.shape();
    int oh = s.outH(), ow = s.outW(), k = s.k(), st = s.stride(), pad = s.pad();
    int inSize = s.inC() * s.inH() * s.inW(), outSize = s.outC() * oh * ow;
    for (int b = 0; b < n; b++) {
      for (int oc = 0; oc < s.outC(); oc++) {
        int ob = b * outSize + oc * oh * ow;
        java.util.Arrays.fill(o, ob, ob + oh * ow, c.b()[oc]);
        for (int ic = 0; ic < s.inC(); ic++) {
          int ib = b * inSize + ic * s.inH() * s.inW();
          for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
              float wv = c.w()[((oc * s.inC() + ic) * k + ky) * k + kx];
              // the output columns whose input column ox·st − pad + kx lies inside the image
              int x0 = Math.max(0, Math.ceilDiv(pad - kx, st)), x1 = Math.min(ow, Math.ceilDiv(s.inW() + pad - kx, st));
              for (int oy = 0; oy < oh; oy++) {
                int iy = oy * st - pad + ky;
                if (iy < 0 || iy >= s.inH()) continue;
                int orow = ob + oy * ow, irow = ib + iy * s.inW() - pad + kx;
                for (int ox = x0; ox < x1; ox++) o[orow + ox] += wv * x[irow + ox * st];
              }
            }
          }
        }
      }
    }
  }

  private static void linear(Linear l, float[] x, float[] o, int n) {
    int rows = n * l.rows(), in = l.inF(), out = l.outF();
    float[] w = l.w();
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < out; j++) {
        float s = 0;
        for (int i = 0; i < in; i++) s += w[j * in + i] * x[r * in + i];
        o[r * out + j] = s + l.b()[j];
      }
    }
  }

  private static void maxPool(MaxPool p, float[] x, float[] o, int n) {
    int oh = (p.h() - p.k()) / p.stride() + 1, ow = (p.w() - p.k()) / p.stride() + 1;
    for (int pl = 0; pl < n * p.c(); pl++) {
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          float m = Float.NEGATIVE_INFINITY;
          for (int ky = 0; ky < p.k(); ky++)
            for (int kx = 0; kx < p.k(); kx++) {
              m = Math.max(m, x[(pl * p.h() + oy * p.stride() + ky) * p.w() + ox * p.stride() + kx]);
            }
          o[(pl * oh + oy) * ow + ox] = m;
        }
    }
  }

  private static void mean(Mean m, float[] x, float[] o, int n) {
    for (int b = 0; b < n * m.outer(); b++)
      for (int j = 0; j < m.inner(); j++) {
        double s = 0;
        for (int t = 0; t < m.count(); t++) s += x[(b * m.count() + t) * m.inner() + j];
        o[b * m.inner() + j] = (float) (s / m.count());
      }
  }

  private static void layerNorm(LayerNorm l, float[] x, float[] o, int n) {
    int d = l.dim();
    for (int r = 0; r < n * l.rows(); r++) {
      int b = r * d;
      double s = 0, v = 0;
      for (int j = 0; j < d; j++) s += x[b + j];
      double mu = s / d;
      for (int j = 0; j < d; j++) v += (x[b + j] - mu) * (x[b + j] - mu);
      float mean = (float) mu, rstd = (float) (1 / Math.sqrt(v / d + l.eps()));
      for (int j = 0; j < d; j++) o[b + j] = (x[b + j] - mean) * rstd * l.gamma()[j] + l.beta()[j];
    }
  }

  private static void scores(Scores s, float[] q, float[] k, float[] o, int n) {
    int t = s.tokens(), dh = s.headDim(), dim = s.heads() * dh;
    float scale = (float) (1 / Math.sqrt(dh));
    for (int b = 0; b < n; b++)
      for (int h = 0; h < s.heads(); h++)
        for (int i = 0; i < t; i++)
          for (int j = 0; j < t; j++) {
            float acc = 0;
            for (int d = 0; d < dh; d++) acc += q[(b * t + i) * dim + h * dh + d] * k[(b * t + j) * dim + h * dh + d];
            o[((b * s.heads() + h) * t + i) * t + j] = acc * scale;
          }
  }

  private static void context(Context c, float[] p, float[] v, float[] o, int n) {
    int t = c.tokens(), dh = c.headDim(), dim = c.heads() * dh;
    for (int b = 0; b < n; b++)
      for (int h = 0; h < c.heads(); h++)
        for (int i = 0; i < t; i++)
          for (int d = 0; d < dh; d++) {
            float acc = 0;
            for (int j = 0; j < t; j++) acc += p[((b * c.heads() + h) * t + i) * t + j] * v[(b * t + j) * dim + h * dh + d];
            o[(b * t + i) * dim + h * dh + d] = acc;
          }
  }

  /** Appends nodes, tracking each one's size; {@link Lowering} is its only user. */
  static final class Builder {
    final List<Node> nodes = new ArrayList<>();
    final List<Integer> sizes = new ArrayList<>();

    int add(Node node, int size) {
      nodes.add(node);
      sizes.add(size);
      return nodes.size() - 1;
    }

    FloatGraph build(int output) {
      int[] s = new int[sizes.size()];
      for (int i = 0; i < s.length; i++) s[i] = sizes.get(i);
      return new FloatGraph(nodes, s, output);
    }
  }
}
