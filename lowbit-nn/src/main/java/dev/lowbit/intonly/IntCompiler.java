package dev.lowbit.intonly;

import dev.lowbit.intonly.exec.Program;
import dev.lowbit.kernel.IntOnlyConstants;
import dev.lowbit.nn.Module;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Compiles a trained float model into an integer-only {@link Program} (I-ViT, Li &amp; Gu, ICCV
 * 2023): calibrates activation ranges on a few batches, folds batch norms into the preceding
 * convolutions, quantizes weights per output channel and biases to int32, and derives every
 * requantization's dyadic constants.
 *
 * <p>The model describes itself ({@link Lowerable}) as a {@link FloatGraph}; calibration runs the
 * first {@code batches × batchSize} images through it and records, per node, the largest |x| of
 * each batch (and each batch's min and max). <b>Calibration rule</b> (docs/intonly.md): per tensor,
 * symmetric, qmax 127 for int8 values and 32767 for the int16 residual stream; by default ({@link
 * RangeRule#EMA}) the I-ViT code's running min/max with momentum 0.95, S = max(|min|, |max|)/qmax,
 * which an outlier in one batch moves less than {@link RangeRule#MAX} (S = max|x| over all batches
 * / qmax; docs/intonly.md has the comparison).
 * Weights are per output channel, S_w[c] = max|w_c|/127 (at least float eps), biases int32 at
 * S_w[c]·S_x.
 *
 * <p>Dataflow (spec table 2.7): every GEMM reads int8 (the first layer reads the raw pixels, scale
 * exactly 1/255) and writes an int32 accumulator, per-channel scale S_w[c]·S_x; a ReLU is the
 * clamp of the requantization that follows; max pools run on the requantized int8 values; a mean
 * is a {@code Sum} whose 1/count the next rescale carries; a residual sum is an {@code Add} that
 * rescales both of its operands onto the sum's scale (int8 with its ReLU in a ResNet block, int16
 * in a transformer's residual stream); I-LayerNorm reads the int16 stream and its int32 output
 * carries γ_c (sign included) in a per-channel rescale to int8; attention's scores carry 1/√dh in
 * their scale and requantize to int8 for Shiftmax (k_out 8: probabilities 0..127, so P·V is an
 * int8 GEMM); ShiftGELU reads fc1's int8 output. The logits requantize onto one common scale (their
 * per-class scales differ) before the argmax.
 */
public final class IntCompiler {

  private IntCompiler() {}

  /** How many training images calibrate the activation ranges. */
  public record Calibration(int batches, int batchSize) {
    public static final Calibration DEFAULT = new Calibration(8, 64);

    public Calibration {
      if (batches < 1 || batchSize < 1) {
        throw new IllegalArgumentException("calibration needs at least 1 batch of 1 image, got " + batches + " × " + batchSize);
      }
    }
  }

  /** How a node's calibrated range is taken from its per-batch statistics. */
  public enum RangeRule {
    /** max|x| over all calibration batches. */
    MAX,
    /** The I-ViT code's EMA (momentum 0.95, the first batch initialises) of per-batch min and max. */
    EMA
  }

  /**
   * The compiler's choices: the range rule, Shiftmax's shift budget n and output bits (at most 8,
   * so the probabilities stay an int8 GEMM operand), ShiftGELU's n and whether it divides in long
   * (the spec's precise mode, which {@link #DEFAULT} uses: its reciprocal form loses up to 1/F).
   */
  public record Options(RangeRule rule, int softmaxN, int softmaxBits, int geluN, boolean preciseGelu) {
    public static final Options DEFAULT = new Options(RangeRule.EMA, 15, 8, 23, true);

    public Options {
      if (rule == null) throw new IllegalArgumentException("range rule must be given");
      if (softmaxN < 1 || softmaxN > 30 || geluN < 1 || geluN > 30) {
        throw new IllegalArgumentException("shift budgets must be 1..30, got softmax " + softmaxN + ", gelu " + geluN);
      }
      if (softmaxBits < 2 || softmaxBits > 8) {
        throw new IllegalArgumentException("softmax output bits must be 2..8 (an int8 GEMM operand), got " + softmaxBits);
      }
    }
  }

  private static final Set<String> MODELS = Set.of("mlp", "cnn", "resnet", "vit");

  /**
   * The integer program of {@code model} (named {@code modelName}, e.g. "cnn"), calibrated on the
   * first {@code cal.batches() × cal.batchSize()} of the {@code count} images in {@code images}
   * (count×C×H×W values pixel/255, as the model was trained on, from the start of the array, which
   * holds whole images; fewer when there are fewer).
   *
   * @throws IllegalArgumentException naming the layer and its type when a layer is not supported
   */
  public static Program compile(String modelName, Module model, float[] images, int count, Calibration cal) {
    return compile(modelName, model, images, count, cal, Options.DEFAULT);
  }

  /** As {@link #compile(String, Module, float[], int, Calibration)}, with the compiler's choices. */
  public static Program compile(String modelName, Module model, float[] images, int count, Calibration cal,
      Options opts) {
    if (!MODELS.contains(modelName)) {
      throw new IllegalArgumentException("model '" + modelName + "' cannot be compiled to an integer program; the"
          + " integer compiler supports mlp, cnn, resnet, vit");
    }
    FloatGraph g = Lowering.of(model);
    double[] range = calibrate(g, images, count, cal, opts.rule());
    return new Emitter(g, range, opts).emit(modelName);
  }

  /**
   * Each node's calibrated range (the largest |x| the scale must cover) over the first {@code
   * cal.batches() × cal.batchSize()} images under {@code rule}.
   */
  static double[] calibrate(FloatGraph g, float[] images, int count, Calibration cal, RangeRule rule) {
    FloatGraph.Input in = (FloatGraph.Input) g.nodes().get(0);
    int sample = in.c() * in.h() * in.w();
    if (count < 1) throw new IllegalArgumentException("calibration needs at least one image, got " + count);
    if (images.length < (long) count * sample || images.length % sample != 0) {
      throw new IllegalArgumentException("calibration images: " + images.length + " values for " + count + " images of "
          + in.c() + "×" + in.h() + "×" + in.w() + " (the model's input), expected at least " + (long) count * sample + ", a multiple of " + sample);
    }
    int nodes = g.nodes().size();
    double[] maxAbs = new double[nodes], lo = new double[nodes], hi = new double[nodes];
    for (int b = 0; b < cal.batches() && b * cal.batchSize() < count; b++) {
      int start = b * cal.batchSize(), n = Math.min(cal.batchSize(), count - start);
      float[] x = java.util.Arrays.copyOfRange(images, start * sample, (start + n) * sample);
      float[][] v = g.run(x, n);
      for (int i = 0; i < nodes; i++) {
        float mn = Float.POSITIVE_INFINITY, mx = Float.NEGATIVE_INFINITY;
        for (float f : v[i]) {
          mn = Math.min(mn, f);
          mx = Math.max(mx, f);
        }
        if (!Float.isFinite(mn) || !Float.isFinite(mx)) {
          throw new IllegalArgumentException("calibration: node " + i + " (" + g.nodes().get(i).getClass().getSimpleName()
              + ") has a non-finite value on calibration batch " + b);
        }
        maxAbs[i] = Math.max(maxAbs[i], Math.max(-mn, mx));
        lo[i] = b == 0 ? mn : 0.95 * lo[i] + 0.05 * mn;
        hi[i] = b == 0 ? mx : 0.95 * hi[i] + 0.05 * mx;
      }
    }
    double[] range = new double[nodes];
    for (int i = 0; i < nodes; i++) {
      double r = rule == RangeRule.MAX ? maxAbs[i] : Math.max(-lo[i], hi[i]);
      range[i] = Math.max(r, 1e-6); // a value that is 0 on every calibration image still needs a scale
    }
    return range;
  }

  /** An integer value of the program: its number, real value per unit (per channel or one), bounds. */
  private record IntVal(int id, double[] scale, int channels, int inner, long lo, long hi) {
    IntVal(int id, double scale, long lo, long hi) {
      this(id, new double[] {scale}, 1, 1, lo, hi);
    }

    boolean perTensor() {
      return scale.length == 1;
    }

    boolean fits(int bits) {
      return lo >= -(1L << (bits - 1)) && hi <= (1L << (bits - 1)) - 1;
    }

    long maxAbs() {
      return Math.max(-lo, hi);
    }
  }

  /** Walks the graph once, emitting each node's ops. */
  private static final class Emitter {
    private final FloatGraph g;
    private final double[] range;
    private final Options opts;
    private final List<Program.Op> ops = new ArrayList<>();
    private final IntVal[] val, int8, int16;
    private int next = Program.INPUT + 1;

    Emitter(FloatGraph g, double[] range, Options opts) {
      this.g = g;
      this.range = range;
      this.opts = opts;
      int n = g.nodes().size();
      val = new IntVal[n];
      int8 = new IntVal[n];
      int16 = new IntVal[n];
    }

    Program emit(String model) {
      FloatGraph.Input in = (FloatGraph.Input) g.nodes().get(0);
      for (int i = 0; i < g.nodes().size(); i++) val[i] = node(i, g.nodes().get(i));
      int out = g.output(), classes = g.size(out);
      // the logits' per-class scales differ: onto one scale before comparing them
      IntVal logits = requant(val[out], range[out] / 32767, Integer.MIN_VALUE, Integer.MAX_VALUE);
      ops.add(new Program.Argmax(next++, logits.id(), classes));
      return new Program(model, in.c(), in.h(), in.w(), classes, ops);
    }

    private IntVal node(int i, FloatGraph.Node n) {
      return switch (n) {
        case FloatGraph.Input in -> new IntVal(Program.INPUT, 1.0 / 255, 0, 255);
        case FloatGraph.Conv c -> gemm(c.name(), gemmInput(c.in()), c.shape().outC(), c.w(), c.b(),
            c.shape().outH() * c.shape().outW(), (x, w, b) -> new Program.Conv(next, x.id(), c.shape(), w, b));
        case FloatGraph.Linear l -> gemm(l.name(), gemmInput(l.in()), l.outF(), l.w(), l.b(), 1,
            (x, w, b) -> new Program.Linear(next, x.id(), l.rows(), l.inF(), l.outF(), w, b));
        case FloatGraph.Relu r -> requant(val[r.in()], range[i] / 127, 0, 127);
        case FloatGraph.MaxPool p -> {
          IntVal x = small(p.in(), 8);
          ops.add(new Program.MaxPool(next, x.id(), p.c(), p.h(), p.w(), p.k(), p.stride()));
          yield new IntVal(next++, x.scale(), x.channels(), x.inner(), x.lo(), x.hi());
        }
        case FloatGraph.Add a -> add(i, a);
        case FloatGraph.Mean m -> {
          IntVal x = small(m.in(), 16);
          ops.add(new Program.Sum(next, x.id(), m.outer(), m.count(), m.inner()));
          yield new IntVal(next++, x.scale()[0] / m.count(), x.lo() * m.count(), x.hi() * m.count());
        }
        case FloatGraph.Transpose t -> {
          IntVal x = val[t.in()];
          if (!x.perTensor() && (x.channels() != t.rows() || x.inner() != t.cols())) x = small(t.in(), 16);
          ops.add(new Program.Transpose(next, x.id(), t.rows(), t.cols()));
          // channel r of rows×cols (inner cols) is column r of the transpose (inner 1)
          yield new IntVal(next++, x.scale(), x.perTensor() ? 1 : t.rows(), 1, x.lo(), x.hi());
        }
        case FloatGraph.Const c -> null; // emitted by the Add that reads it, in the sum's scale
        case FloatGraph.LayerNorm l -> layerNorm(l);
        case FloatGraph.Scores s -> {
          IntVal q = small(s.q(), 8), k = small(s.k(), 8);
          ops.add(new Program.Scores(next, q.id(), k.id(), s.tokens(), s.heads(), s.headDim()));
          long bound = (long) s.headDim() * q.maxAbs() * k.maxAbs();
          yield new IntVal(next++, q.scale()[0] * k.scale()[0] / Math.sqrt(s.headDim()), -bound, bound);
        }
        case FloatGraph.Softmax s -> {
          IntVal x = small(s.in(), 8);
          int x0 = IntOnlyConstants.shiftX0(x.scale()[0]);
          int bits = opts.softmaxBits();
          ops.add(new Program.Shiftmax(next, x.id(), s.rows(), s.cols(), x0, budget(opts.softmaxN(), x0), bits));
          yield new IntVal(next++, Math.scalb(1.0, -(bits - 1)), 0, (1L << (bits - 1)) - 1);
        }
        case FloatGraph.Context c -> {
          IntVal p = small(c.p(), 8), v = small(c.v(), 8);
          ops.add(new Program.Context(next, p.id(), v.id(), c.tokens(), c.heads(), c.headDim()));
          long bound = (long) c.tokens() * p.maxAbs() * v.maxAbs();
          yield new IntVal(next++, p.scale()[0] * v.scale()[0], -bound, bound);
        }
        case FloatGraph.Gelu ge -> {
          IntVal x = small(ge.in(), 8);
          int cols = g.size(ge.in()), rows = 1;
          if (g.nodes().get(ge.in()) instanceof FloatGraph.Linear l) {
            rows = l.rows();
            cols = l.outF();
          }
          int x0 = IntOnlyConstants.geluX0(x.scale()[0]);
          ops.add(new Program.ShiftGelu(next, x.id(), rows, cols, x0, budget(opts.geluN(), x0), 8, opts.preciseGelu()));
          yield new IntVal(next++, x.scale()[0] / 128, -128 * 128, 127 * 127);
        }
      };
    }

    /** The largest n ≤ {@code n} whose exponentials |x0|·2^n still fit an int. */
    private static int budget(int n, int x0) {
      long a = -(long) x0;
      while (n > 0 && (a << n) > Integer.MAX_VALUE) n--;
      if (n == 0) throw new IllegalArgumentException("shift exponent x0 " + x0 + " leaves no bits of headroom");
      return n;
    }

    private interface GemmOp {
      Program.Op make(IntVal x, byte[] w, int[] b);
    }

    /** Per-output-channel int8 weights, int32 biases at S_w·S_x; the accumulator's value. */
    private IntVal gemm(String name, IntVal x, int outC, float[] w, float[] b, int inner, GemmOp op) {
      int per = w.length / outC;
      byte[] qw = new byte[w.length];
      int[] qb = new int[outC];
      double[] scale = new double[outC];
      long bound = 0;
      for (int c = 0; c < outC; c++) {
        double m = 0;
        for (int i = 0; i < per; i++) m = Math.max(m, Math.abs(w[c * per + i]));
        double sw = Math.max(m / 127, Math.ulp(1f));
        long sum = 0;
        for (int i = 0; i < per; i++) {
          int q = (int) Math.max(-127, Math.min(127, Math.rint(w[c * per + i] / sw)));
          qw[c * per + i] = (byte) q;
          sum += Math.abs(q);
        }
        scale[c] = sw * x.scale()[0];
        qb[c] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, Math.rint(b[c] / scale[c])));
        bound = Math.max(bound, sum * x.maxAbs() + Math.abs((long) qb[c]));
      }
      if (bound > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(name + ": its int32 accumulator could reach " + bound);
      }
      ops.add(op.make(x, qw, qb));
      return new IntVal(next++, scale, outC, inner, -bound, bound);
    }

    private IntVal add(int i, FloatGraph.Add a) {
      int qmax = (1 << (a.bits() - 1)) - 1;
      double s = range[i] / qmax;
      IntVal x = val[a.a()], y;
      if (g.nodes().get(a.b()) instanceof FloatGraph.Const c) {
        int[] q = new int[c.values().length];
        for (int j = 0; j < q.length; j++) q[j] = (int) Math.max(-qmax, Math.min(qmax, Math.rint(c.values()[j] / s)));
        ops.add(new Program.Const(next, q));
        y = new IntVal(next++, s, -qmax, qmax);
      } else {
        y = val[a.b()];
      }
      int lo = a.relu() ? 0 : -qmax - 1;
      ops.add(new Program.Add(next, x.id(), y.id(), rescale(x, s), rescale(y, s), lo, qmax));
      return new IntVal(next++, s, lo, qmax);
    }

    private IntVal layerNorm(FloatGraph.LayerNorm l) {
      IntVal x = small(l.in(), 16);
      int[] bias = new int[l.dim()];
      double[] scale = new double[l.dim()];
      double sln = IntOnlyConstants.layerNormScale(l.dim());
      for (int c = 0; c < l.dim(); c++) {
        bias[c] = IntOnlyConstants.layerNormBias(l.beta()[c], l.gamma()[c], l.dim());
        scale[c] = sln * l.gamma()[c];
      }
      ops.add(new Program.LayerNorm(next, x.id(), l.rows(), l.dim(), bias));
      long bound = (1L << 31) - 1;
      return new IntVal(next++, scale, l.dim(), 1, -bound, bound);
    }

    /** A GEMM operand: the raw pixels as they are, anything else int8 per tensor. */
    private IntVal gemmInput(int node) {
      return g.nodes().get(node) instanceof FloatGraph.Input ? val[node] : small(node, 8);
    }

    /**
     * Node {@code node}'s value with one scale in {@code bits} (8 or 16): itself when it already is,
     * else requantized (once) onto its calibrated range.
     */
    private IntVal small(int node, int bits) {
      IntVal v = val[node];
      if (v.perTensor() && v.fits(bits)) return v;
      IntVal[] cache = bits == 8 ? int8 : int16;
      if (cache[node] == null) {
        int qmax = (1 << (bits - 1)) - 1;
        cache[node] = requant(v, range[node] / qmax, -qmax - 1, qmax);
      }
      return cache[node];
    }

    private IntVal requant(IntVal v, double s, int lo, int hi) {
      ops.add(new Program.Requant(next, v.id(), rescale(v, s), lo, hi));
      return new IntVal(next++, s, lo, hi);
    }

    /** The dyadic multipliers taking {@code v}'s scale(s) to {@code s}; a negative scale gives a negative m. */
    private static Program.Rescale rescale(IntVal v, double s) {
      int n = v.scale().length;
      int[] m = new int[n], k = new int[n];
      for (int c = 0; c < n; c++) {
        double r = v.scale()[c] / s;
        if (Math.abs(r) < 0x1p-32) continue; // below one half of a unit for any int32: m = 0, k = 0
        IntOnlyConstants.Dyadic d = IntOnlyConstants.dyadic(Math.abs(r));
        m[c] = r < 0 ? -d.m() : d.m();
        k[c] = d.k();
      }
      return n == 1 ? new Program.Rescale(m, k, 1, 1) : new Program.Rescale(m, k, v.channels(), v.inner());
    }
  }
}
