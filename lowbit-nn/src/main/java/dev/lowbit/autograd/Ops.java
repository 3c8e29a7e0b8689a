package dev.lowbit.autograd;

import dev.lowbit.numerics.FunctionEval;
import dev.lowbit.kernel.Parallel;
import dev.lowbit.kernel.Pool;
import dev.lowbit.kernel.PoolSpec;
import dev.lowbit.kernel.Reduce;
import dev.lowbit.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Differentiable operations other than matrix products (those live in {@code dev.lowbit.nn.Compute}
 * so that every GEMM goes through one place). Each op computes its output and, when a gradient is
 * needed, records its backward step right beside the forward code.
 */
public final class Ops {

  private Ops() {}

  static Var out(Tensor t, Var... inputs) {
    return new Var(t, Tape.needsGrad(inputs));
  }

  static void checkSame(Var a, Var b, String op) {
    if (!a.value().sameShape(b.value())) {
      throw new IllegalArgumentException(
          op + ": shapes differ: " + a.value().shapeString() + " vs " + b.value().shapeString());
    }
  }

  /** a + b, same shapes. */
  public static Var add(Var a, Var b) {
    checkSame(a, b, "add");
    float[] x = a.data(), y = b.data(), z = StepArena.floats(x.length);
    for (int i = 0; i < z.length; i++) z[i] = x[i] + y[i];
    Var o = out(new Tensor(z, a.shape()), a, b);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad();
        if (a.requiresGrad()) addInto(a.gradForAccumulation(), g);
        if (b.requiresGrad()) addInto(b.gradForAccumulation(), g);
      });
    }
    return o;
  }

  /**
   * a + b where b's shape equals a's trailing dimensions (bias, position embeddings); b's gradient
   * sums over the leading repeats in order.
   */
  public static Var addTrailing(Var a, Var b) {
    int[] as = a.shape(), bs = b.shape();
    if (bs.length > as.length
        || !Arrays.equals(bs, Arrays.copyOfRange(as, as.length - bs.length, as.length))) {
      throw new IllegalArgumentException(
          "addTrailing: " + Arrays.toString(bs) + " is not a trailing shape of " + Arrays.toString(as));
    }
    float[] x = a.data(), y = b.data(), z = StepArena.floats(x.length);
    int inner = y.length, outer = inner == 0 ? 0 : x.length / inner;
    for (int r = 0; r < outer; r++) {
      int base = r * inner;
      for (int j = 0; j < inner; j++) z[base + j] = x[base + j] + y[j];
    }
    Var o = out(new Tensor(z, as), a, b);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad();
        if (a.requiresGrad()) addInto(a.gradForAccumulation(), g);
        if (b.requiresGrad()) {
          float[] s = new float[inner];
          Reduce.columnSums(g, 0, outer, inner, s);
          addInto(b.gradForAccumulation(), s);
        }
      });
    }
    return o;
  }

  /** Elementwise a · b, same shapes. */
  public static Var mul(Var a, Var b) {
    checkSame(a, b, "mul");
    float[] x = a.data(), y = b.data(), z = StepArena.floats(x.length);
    for (int i = 0; i < z.length; i++) z[i] = x[i] * y[i];
    Var o = out(new Tensor(z, a.shape()), a, b);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad();
        if (a.requiresGrad()) {
          float[] ga = a.gradForAccumulation();
          for (int i = 0; i < g.length; i++) ga[i] += g[i] * y[i];
        }
        if (b.requiresGrad()) {
          float[] gb = b.gradForAccumulation();
          for (int i = 0; i < g.length; i++) gb[i] += g[i] * x[i];
        }
      });
    }
    return o;
  }

  /** s · a. */
  public static Var scale(Var a, float s) {
    float[] x = a.data(), z = StepArena.floats(x.length);
    for (int i = 0; i < z.length; i++) z[i] = x[i] * s;
    Var o = out(new Tensor(z, a.shape()), a);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad(), ga = a.gradForAccumulation();
        for (int i = 0; i < g.length; i++) ga[i] += g[i] * s;
      });
    }
    return o;
  }

  /** Same data, new shape (one -1 allowed). */
  public static Var reshape(Var a, int... shape) {
    Tensor t = a.value().reshape(shape);
    Var o = out(t, a);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        // Same values in the same order: the output's gradient array becomes the input's (the
        // output drops its reference right after this step), saving a copy.
        if (a.grad() == null && !a.isParameter()) a.setGrad(o.grad());
        else addInto(a.gradForAccumulation(), o.grad());
      });
    }
    return o;
  }

  /** Keeps dimension 0 and flattens the rest. */
  public static Var flatten(Var a) {
    return reshape(a, a.dim(0), -1);
  }

  /** Permutes dimensions: output dim i is input dim perm[i]. */
  public static Var permute(Var a, int... perm) {
    int[] s = a.shape();
    int r = s.length;
    if (perm.length != r) throw new IllegalArgumentException("permute: " + Arrays.toString(perm) + " for rank " + r);
    int[] os = new int[r];
    boolean[] seen = new boolean[r];
    for (int i = 0; i < r; i++) {
      if (perm[i] < 0 || perm[i] >= r || seen[perm[i]]) {
        throw new IllegalArgumentException("permute: not a permutation: " + Arrays.toString(perm));
      }
      seen[perm[i]] = true;
      os[i] = s[perm[i]];
    }
    int[] inStride = new int[r];
    for (int i = r - 1, st = 1; i >= 0; i--) {
      inStride[i] = st;
      st *= s[i];
    }
    int[] srcStride = new int[r]; // stride in the input for each output dim
    for (int i = 0; i < r; i++) srcStride[i] = inStride[perm[i]];
    float[] x = a.data(), z = StepArena.floats(x.length);
    gather(x, z, os, srcStride, false);
    Var o = out(new Tensor(z, os), a);
    if (o.requiresGrad()) {
      Tape.record(o, () -> gather(a.gradForAccumulation(), o.grad(), os, srcStride, true));
    }
    return o;
  }

  /** z[out index] = x[src] (or x[src] += z[...] when scatterAdd), walking the output in order. */
  private static void gather(float[] x, float[] z, int[] os, int[] srcStride, boolean scatterAdd) {
    int r = os.length;
    int[] idx = new int[r];
    int src = 0;
    for (int o = 0; o < z.length; o++) {
      if (scatterAdd) x[src] += z[o];
      else z[o] = x[src];
      for (int d = r - 1; d >= 0; d--) {
        idx[d]++;
        src += srcStride[d];
        if (idx[d] < os[d]) break;
        src -= srcStride[d] * os[d];
        idx[d] = 0;
      }
    }
  }

  public static Var relu(Var a) {
    return relu(a, FunctionEval.EXACT);
  }

  /** ReLU whose forward values {@code f} computes; the backward passes the gradient where x > 0. */
  public static Var relu(Var a, FunctionEval f) {
    float[] x = a.data(), z = StepArena.floats(x.length);
    f.of(Ops::reluValues).apply(x, z, rows(a), cols(a));
    Var o = out(new Tensor(z, a.shape()), a);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad();
        if (a.grad() == null) {
          // First gradient to reach a: write it instead of adding to a zeroed array.
          float[] ga = StepArena.gradFor(a);
          Parallel.forRange(g.length, 1, (lo, hi) -> where(x, g, null, ga, lo, hi));
          a.setGrad(ga);
        } else {
          float[] ga = a.gradForAccumulation();
          Parallel.forRange(g.length, 1, (lo, hi) -> where(x, g, ga, ga, lo, hi));
        }
      });
    }
    return o;
  }

  private static void reluValues(float[] x, float[] z, int rows, int cols) {
    Parallel.forRange(z.length, 1, (lo, hi) -> where(x, x, null, z, lo, hi));
  }

  /** The length of {@code a}'s last dimension (1 for a scalar). */
  private static int cols(Var a) {
    return a.value().rank() == 0 ? 1 : a.dim(-1);
  }

  /** The rows of {@code a} over its last dimension. */
  private static int rows(Var a) {
    return a.size() / Math.max(cols(a), 1);
  }

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  /**
   * out[i] = x[i] > 0 ? v[i] : 0, or with {@code add}: out[i] = x[i] > 0 ? add[i] + v[i] : add[i],
   * over [lo, hi): ReLU forward (v = x) and backward. With explicit masks: the scalar form compiled to a branch per element,
   * mispredicted on activations of random sign. NaN in x counts as not positive, as before.
   */
  private static void where(float[] x, float[] v, float[] add, float[] out, int lo, int hi) {
    int i = lo;
    for (int bound = lo + F.loopBound(hi - lo); i < bound; i += F.length()) {
      VectorMask<Float> pos = FloatVector.fromArray(F, x, i).compare(VectorOperators.GT, 0f);
      FloatVector vv = FloatVector.fromArray(F, v, i);
      if (add == null) {
        FloatVector.zero(F).blend(vv, pos).intoArray(out, i);
      } else {
        FloatVector av = FloatVector.fromArray(F, add, i);
        av.blend(av.add(vv), pos).intoArray(out, i);
      }
    }
    for (; i < hi; i++) {
      if (add == null) out[i] = x[i] > 0f ? v[i] : 0f;
      else if (x[i] > 0f) out[i] = add[i] + v[i];
    }
  }

  private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
  private static final double INV_SQRT_2 = 1 / Math.sqrt(2);
  private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

  /** GELU, exact (x·Φ(x), erf form) or the tanh approximation (Hendrycks & Gimpel, 2016). */
  public static Var gelu(Var a, boolean tanhForm) {
    return gelu(a, tanhForm, FunctionEval.EXACT);
  }

  /** GELU whose forward values {@code f} computes; the backward is the exact derivative at x. */
  public static Var gelu(Var a, boolean tanhForm, FunctionEval f) {
    float[] x = a.data(), z = StepArena.floats(x.length);
    f.of((in, out, r, c) -> geluValues(in, out, tanhForm)).apply(x, z, rows(a), cols(a));
    Var o = out(new Tensor(z, a.shape()), a);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad(), ga = a.gradForAccumulation();
        for (int i = 0; i < g.length; i++) {
          double v = x[i], d;
          if (tanhForm) {
            double u = SQRT_2_OVER_PI * (v + 0.044715 * v * v * v);
            double t = Math.tanh(u);
            d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v);
          } else {
            d = 0.5 * (1 + erf(v * INV_SQRT_2)) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v);
          }
          ga[i] += (float) (g[i] * d);
        }
      });
    }
    return o;
  }

  private static void geluValues(float[] x, float[] z, boolean tanhForm) {
    for (int i = 0; i < z.length; i++) {
      double v = x[i];
      z[i] = (float) (tanhForm
          ? 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)))
          : 0.5 * v * (1 + erf(v * INV_SQRT_2)));
    }
  }

  /**
   * erf(x) to about 1e-15 relative: Maclaurin series for |x| < 2.5, continued fraction for the
   * complement beyond (Numerical Recipes' erfc forms, written from the definitions).
   */
  public static double erf(double x) {
    double ax = Math.abs(x);
    if (ax < 2.5) {
      // erf(x) = 2/sqrt(pi) · Σ (-1)^n x^(2n+1) / (n! (2n+1))
      double term = ax, sum = ax, x2 = ax * ax;
      for (int n = 1; n < 200; n++) {
        term *= -x2 / n;
        double add = term / (2 * n + 1);
        sum += add;
        if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
      }
      double r = 2 / Math.sqrt(Math.PI) * sum;
      return x < 0 ? -r : r;
    }
    if (ax > 6) return x < 0 ? -1 : 1;
    // erfc(x) = exp(-x^2)/sqrt(pi) · 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + ...))))), evaluated bottom-up.
    double f = ax;
    for (int k = 60; k >= 1; k--) f = ax + (k / 2.0) / f;
    double erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
    return x < 0 ? erfc - 1 : 1 - erfc;
  }

  public static Var tanh(Var a) {
    return tanh(a, FunctionEval.EXACT);
  }

  /** Tanh whose forward values {@code f} computes; the backward is 1 − z² of those values. */
  public static Var tanh(Var a, FunctionEval f) {
    float[] x = a.data(), z = StepArena.floats(x.length);
    f.of(Ops::tanhValues).apply(x, z, rows(a), cols(a));
    Var o = out(new Tensor(z, a.shape()), a);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad(), ga = a.gradForAccumulation();
        for (int i = 0; i < g.length; i++) ga[i] += g[i] * (1 - z[i] * z[i]);
      });
    }
    return o;
  }

  private static void tanhValues(float[] x, float[] z, int rows, int cols) {
    for (int i = 0; i < z.length; i++) z[i] = (float) Math.tanh(x[i]);
  }

  /** Softmax over the last dimension. */
  public static Var softmax(Var a) {
    return softmax(a, FunctionEval.EXACT);
  }

  /**
   * Softmax over the last dimension whose forward values {@code f} computes; the backward is the
   * exact softmax derivative at those values, z·(g − Σ g·z).
   */
  public static Var softmax(Var a, FunctionEval f) {
    int cols = a.dim(-1), rows = a.size() / Math.max(cols, 1);
    float[] z = StepArena.floats(a.size());
    f.of(Reduce::softmaxRows).apply(a.data(), z, rows, cols);
    Var o = out(new Tensor(z, a.shape()), a);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad(), ga = a.gradForAccumulation();
        for (int r = 0; r < rows; r++) {
          int b = r * cols;
          double dot = 0;
          for (int j = 0; j < cols; j++) dot += (double) g[b + j] * z[b + j];
          float d = (float) dot;
          for (int j = 0; j < cols; j++) ga[b + j] += z[b + j] * (g[b + j] - d);
        }
      });
    }
    return o;
  }

  /**
   * Mean cross-entropy of logits (B×C) against class labels, with label smoothing ε: the target is
   * (1−ε)·onehot + ε/C, as in PyTorch.
   */
  public static Var crossEntropy(Var logits, int[] labels, float smoothing) {
    if (logits.value().rank() != 2) {
      throw new IllegalArgumentException("crossEntropy: logits must be B×C, got " + logits.value().shapeString());
    }
    int b = logits.dim(0), c = logits.dim(1);
    if (labels.length < b) throw new IllegalArgumentException("crossEntropy: " + labels.length + " labels for batch " + b);
    if (smoothing < 0 || smoothing > 1) throw new IllegalArgumentException("label smoothing must be in [0, 1], got " + smoothing);
    float[] lsm = new float[logits.size()];
    Reduce.logSoftmaxRows(logits.data(), lsm, b, c);
    double total = 0;
    for (int i = 0; i < b; i++) {
      int y = labels[i];
      if (y < 0 || y >= c) throw new IllegalArgumentException("label " + y + " outside 0.." + (c - 1));
      double nll = -lsm[i * c + y];
      if (smoothing > 0) {
        double all = 0;
        for (int j = 0; j < c; j++) all -= lsm[i * c + j];
        nll = (1 - smoothing) * nll + smoothing * all / c;
      }
      total += nll;
    }
    Var o = out(new Tensor(new float[] {(float) (total / b)}), logits);
    if (o.requiresGrad()) {
      int[] lab = labels.clone();
      Tape.record(o, () -> {
        float scale = o.grad()[0] / b;
        // the first gradient to reach the logits goes into a step-arena array (written, not added
        // to a fresh zeroed one; 0 + v keeps the bits of the accumulating form)
        boolean fresh = logits.grad() == null && !logits.isParameter();
        float[] ga = fresh ? StepArena.gradFor(logits) : logits.gradForAccumulation();
        float off = smoothing / c;
        for (int i = 0; i < b; i++) {
          for (int j = 0; j < c; j++) {
            float p = (float) Math.exp(lsm[i * c + j]);
            float t = (j == lab[i] ? 1 - smoothing : 0f) + off;
            ga[i * c + j] = (fresh ? 0f : ga[i * c + j]) + (p - t) * scale;
          }
        }
        if (fresh) logits.setGrad(ga);
      });
    }
    return o;
  }

  /** Mean squared error against a constant target of the same shape. */
  public static Var mse(Var a, Tensor target) {
    if (!a.value().sameShape(target)) {
      throw new IllegalArgumentException("mse: shapes differ: " + a.value().shapeString() + " vs " + target.shapeString());
    }
    float[] x = a.data(), t = target.data();
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      double d = x[i] - t[i];
      s += d * d;
    }
    int n = x.length;
    Var o = out(new Tensor(new float[] {(float) (s / n)}), a);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float k = 2f * o.grad()[0] / n;
        float[] ga = a.gradForAccumulation();
        for (int i = 0; i < n; i++) ga[i] += k * (x[i] - t[i]);
      });
    }
    return o;
  }

  /** Mean of all elements. */
  public static Var mean(Var a) {
    int n = a.size();
    Var o = out(new Tensor(new float[] {Reduce.sum(a.data(), 0, n) / n}), a);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float g = o.grad()[0] / n;
        float[] ga = a.gradForAccumulation();
        for (int i = 0; i < n; i++) ga[i] += g;
      });
    }
    return o;
  }

  /** Mean over dimension {@code dim}, which is removed from the shape. */
  public static Var meanDim(Var a, int dim) {
    int[] s = a.shape();
    int d = dim < 0 ? s.length + dim : dim;
    int n = s[d];
    int outer = Tensor.numel(Arrays.copyOfRange(s, 0, d));
    int inner = Tensor.numel(Arrays.copyOfRange(s, d + 1, s.length));
    int[] os = new int[s.length - 1];
    for (int i = 0, j = 0; i < s.length; i++) if (i != d) os[j++] = s[i];
    float[] x = a.data(), z = StepArena.floats(outer * inner);
    double[] acc = new double[inner];
    for (int o = 0; o < outer; o++) {
      Arrays.fill(acc, 0);
      for (int k = 0; k < n; k++) {
        int b = (o * n + k) * inner;
        for (int j = 0; j < inner; j++) acc[j] += x[b + j];
      }
      for (int j = 0; j < inner; j++) z[o * inner + j] = (float) (acc[j] / n);
    }
    Var out = out(new Tensor(z, os), a);
    if (out.requiresGrad()) {
      Tape.record(out, () -> {
        float[] g = out.grad(), ga = a.gradForAccumulation();
        float inv = 1f / n;
        for (int o = 0; o < outer; o++)
          for (int k = 0; k < n; k++) {
            int b = (o * n + k) * inner;
            for (int j = 0; j < inner; j++) ga[b + j] += g[o * inner + j] * inv;
          }
      });
    }
    return out;
  }

  /** Inverted dropout: zeroes with probability p and scales the rest by 1/(1−p); rng is seeded. */
  public static Var dropout(Var a, float p, SplittableRandom rng) {
    if (p < 0 || p >= 1) throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
    if (p == 0) return a;
    float keep = 1f / (1 - p);
    float[] x = a.data(), z = StepArena.floats(x.length), m = StepArena.floats(x.length);
    for (int i = 0; i < x.length; i++) {
      m[i] = rng.nextDouble() >= p ? keep : 0f;
      z[i] = x[i] * m[i];
    }
    Var o = out(new Tensor(z, a.shape()), a);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad(), ga = a.gradForAccumulation();
        for (int i = 0; i < g.length; i++) ga[i] += g[i] * m[i];
      });
    }
    return o;
  }

  /** Rows of {@code weight} (V×D) picked by indices → (indices.length)×D, reshaped to {@code shape}×D. */
  public static Var embedding(Var weight, int[] indices, int... leadShape) {
    int v = weight.dim(0), d = weight.dim(1);
    float[] w = weight.data(), z = StepArena.floats(indices.length * d);
    for (int i = 0; i < indices.length; i++) {
      int id = indices[i];
      if (id < 0 || id >= v) throw new IllegalArgumentException("embedding index " + id + " outside 0.." + (v - 1));
      System.arraycopy(w, id * d, z, i * d, d);
    }
    int[] os = Arrays.copyOf(leadShape, leadShape.length + 1);
    os[leadShape.length] = d;
    if (Tensor.numel(leadShape) != indices.length) {
      throw new IllegalArgumentException("embedding: shape " + Arrays.toString(leadShape) + " for " + indices.length + " indices");
    }
    Var o = out(new Tensor(z, os), weight);
    if (o.requiresGrad()) {
      int[] ids = indices.clone();
      Tape.record(o, () -> {
        float[] g = o.grad(), gw = weight.gradForAccumulation();
        for (int i = 0; i < ids.length; i++) {
          int b = ids[i] * d;
          for (int j = 0; j < d; j++) gw[b + j] += g[i * d + j];
        }
      });
    }
    return o;
  }

  /** Layer norm over the last dimension with affine γ, β (length D). */
  public static Var layerNorm(Var a, Var gamma, Var beta, float eps) {
    return layerNorm(a, gamma, beta, eps, FunctionEval.EXACT);
  }

  /**
   * Layer norm whose forward values {@code f} computes (affine included); the backward is the
   * exact derivative at the input the exact code was given (straight-through).
   */
  public static Var layerNorm(Var a, Var gamma, Var beta, float eps, FunctionEval f) {
    int d = a.dim(-1), rows = a.size() / d;
    if (gamma.size() != d || beta.size() != d) throw new IllegalArgumentException("layerNorm: γ/β must have " + d + " values");
    float[] z = StepArena.floats(a.size()), xhat = StepArena.floats(a.size());
    float[] mean = new float[rows], rstd = new float[rows];
    float[] gm = gamma.data(), bt = beta.data();
    f.of(FunctionEval.AffineRows.of(gm, bt, (x, y, rs, cs) -> {
      Reduce.rowMeanRstd(x, rows, d, eps, mean, rstd);
      for (int r = 0; r < rows; r++) {
        for (int j = 0; j < d; j++) {
          int i = r * d + j;
          xhat[i] = (x[i] - mean[r]) * rstd[r];
          y[i] = xhat[i] * gm[j] + bt[j];
        }
      }
    })).apply(a.data(), z, rows, d);
    Var o = out(new Tensor(z, a.shape()), a, gamma, beta);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad();
        if (gamma.requiresGrad() || beta.requiresGrad()) {
          double[] sg = new double[d], sb = new double[d];
          for (int r = 0; r < rows; r++)
            for (int j = 0; j < d; j++) {
              sg[j] += (double) g[r * d + j] * xhat[r * d + j];
              sb[j] += g[r * d + j];
            }
          if (gamma.requiresGrad()) addInto(gamma.gradForAccumulation(), sg);
          if (beta.requiresGrad()) addInto(beta.gradForAccumulation(), sb);
        }
        if (a.requiresGrad()) {
          float[] ga = a.gradForAccumulation();
          for (int r = 0; r < rows; r++) {
            double s1 = 0, s2 = 0;
            for (int j = 0; j < d; j++) {
              double dxh = (double) g[r * d + j] * gm[j];
              s1 += dxh;
              s2 += dxh * xhat[r * d + j];
            }
            double m1 = s1 / d, m2 = s2 / d;
            for (int j = 0; j < d; j++) {
              int i = r * d + j;
              double dxh = (double) g[i] * gm[j];
              ga[i] += (float) (rstd[r] * (dxh - m1 - xhat[i] * m2));
            }
          }
        }
      });
    }
    return o;
  }

  /**
   * Batch norm over an N×C×L view (L = H·W, or 1 for 1-d): in training, normalizes with the batch
   * statistics and updates the running ones (momentum, unbiased variance, as PyTorch); in
   * evaluation, uses the running statistics.
   */
  public static Var batchNorm(
      Var a, Var gamma, Var beta, float[] runMean, float[] runVar,
      boolean training, float momentum, float eps) {
    return batchNorm(a, new BatchNormState(gamma, beta, runMean, runVar, training, momentum, eps),
        FunctionEval.EXACT);
  }

  /** A batch norm's parameters, running statistics and settings, as {@link #batchNorm} takes them. */
  public record BatchNormState(Var gamma, Var beta, float[] runMean, float[] runVar,
      boolean training, float momentum, float eps) {}

  /**
   * Batch norm whose forward values {@code f} computes (running-statistics update and affine
   * included); the backward is the exact derivative at the input the exact code was given.
   */
  public static Var batchNorm(Var a, BatchNormState s, FunctionEval f) {
    Var gamma = s.gamma(), beta = s.beta();
    float[] runMean = s.runMean(), runVar = s.runVar();
    boolean training = s.training();
    float momentum = s.momentum(), eps = s.eps();
    int n = a.dim(0), c = a.dim(1), l = a.size() / Math.max(1, n * c);
    if (gamma.size() != c) throw new IllegalArgumentException("batchNorm: γ must have " + c + " values, has " + gamma.size());
    float[] z = StepArena.floats(a.size()), xhat = StepArena.floats(a.size());
    float[] mean = new float[c], var = new float[c], rstd = new float[c];
    float[] gm = gamma.data(), bt = beta.data();
    f.of((x, y, rs, cs) -> {
      if (training) {
        Reduce.channelMeanVar(x, n, c, l, mean, var);
        long cnt = (long) n * l;
        for (int ch = 0; ch < c; ch++) {
          float unbiased = cnt > 1 ? (float) (var[ch] * (double) cnt / (cnt - 1)) : var[ch];
          runMean[ch] = (1 - momentum) * runMean[ch] + momentum * mean[ch];
          runVar[ch] = (1 - momentum) * runVar[ch] + momentum * unbiased;
        }
      } else {
        System.arraycopy(runMean, 0, mean, 0, c);
        System.arraycopy(runVar, 0, var, 0, c);
      }
      for (int ch = 0; ch < c; ch++) rstd[ch] = (float) (1 / Math.sqrt(var[ch] + eps));
      for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++) {
          int b = (i * c + ch) * l;
          for (int j = 0; j < l; j++) {
            xhat[b + j] = (x[b + j] - mean[ch]) * rstd[ch];
            y[b + j] = xhat[b + j] * gm[ch] + bt[ch];
          }
        }
    }).apply(a.data(), z, n * c, l);
    Var o = out(new Tensor(z, a.shape()), a, gamma, beta);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad();
        double[] sg = new double[c], sb = new double[c];
        for (int i = 0; i < n; i++)
          for (int ch = 0; ch < c; ch++) {
            int b = (i * c + ch) * l;
            for (int j = 0; j < l; j++) {
              sg[ch] += (double) g[b + j] * xhat[b + j];
              sb[ch] += g[b + j];
            }
          }
        if (gamma.requiresGrad()) addInto(gamma.gradForAccumulation(), sg);
        if (beta.requiresGrad()) addInto(beta.gradForAccumulation(), sb);
        if (a.requiresGrad()) {
          float[] ga = a.gradForAccumulation();
          double m = (double) n * l;
          for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++) {
              int b = (i * c + ch) * l;
              double k = gm[ch] * rstd[ch];
              for (int j = 0; j < l; j++) {
                ga[b + j] += (float) (training
                    ? k * (g[b + j] - sb[ch] / m - xhat[b + j] * sg[ch] / m)
                    : k * g[b + j]);
              }
            }
        }
      });
    }
    return o;
  }

  public static Var maxPool2d(Var a, PoolSpec spec) {
    PoolSpec s = spec.withBatch(a.dim(0));
    checkPoolInput(a, s);
    float[] z = StepArena.floats(s.outputSize());
    int[] arg = StepArena.ints(z.length);
    Pool.maxForward(s, a.data(), z, arg);
    Var o = out(new Tensor(z, s.batch(), s.channels(), s.outH(), s.outW()), a);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        boolean fresh = a.grad() == null; // maxBackward overwrites: no temporary needed
        float[] dx = fresh ? StepArena.gradFor(a) : StepArena.floats(s.inputSize());
        Pool.maxBackward(s, o.grad(), arg, dx);
        if (fresh) a.setGrad(dx);
        else addInto(a.gradForAccumulation(), dx);
      });
    }
    return o;
  }

  public static Var avgPool2d(Var a, PoolSpec spec) {
    PoolSpec s = spec.withBatch(a.dim(0));
    checkPoolInput(a, s);
    float[] z = StepArena.floats(s.outputSize());
    Pool.avgForward(s, a.data(), z);
    Var o = out(new Tensor(z, s.batch(), s.channels(), s.outH(), s.outW()), a);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] dx = StepArena.floats(s.inputSize()); // avgBackward clears it first
        Pool.avgBackward(s, o.grad(), dx);
        addInto(a.gradForAccumulation(), dx);
      });
    }
    return o;
  }

  private static void checkPoolInput(Var a, PoolSpec s) {
    if (a.value().rank() != 4 || a.dim(1) != s.channels() || a.dim(2) != s.inH() || a.dim(3) != s.inW()) {
      throw new IllegalArgumentException("pooling expects N×" + s.channels() + "×" + s.inH() + "×" + s.inW()
          + ", got " + a.value().shapeString());
    }
  }

  /** acc += g. */
  public static void addInto(float[] acc, float[] g) {
    Parallel.forRange(g.length, 1, (lo, hi) -> {
      for (int i = lo; i < hi; i++) acc[i] += g[i];
    });
  }

  static void addInto(float[] acc, double[] g) {
    for (int i = 0; i < g.length; i++) acc[i] += (float) g[i];
  }
}
