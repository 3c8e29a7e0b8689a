package dev.lowbit.intonly.exec;

import dev.lowbit.intonly.exec.Plan.Kind;
import dev.lowbit.kernel.intonly.Dyadic;
import dev.lowbit.kernel.intonly.IntLayerNorm;
import dev.lowbit.kernel.intonly.IntLayout;
import dev.lowbit.kernel.intonly.IntPool;
import dev.lowbit.kernel.intonly.IntReduce;
import dev.lowbit.kernel.intonly.ShiftGelu;
import dev.lowbit.kernel.intonly.Shiftmax;
import dev.lowbit.kernel.intonly.Window;
import java.util.List;

/**
 * One run of samples [from, to) through a checked program, op by op (I-ViT, Li &amp; Gu, ICCV
 * 2023): products in int8 with int32 sums, dyadic requantization between them, and the integer
 * Shiftmax, ShiftGELU and I-LayerNorm. Each value holds the run's samples back to back, as bytes
 * when its op's range fits 8 bits, else as ints; a value nobody reads any more is dropped. An op's
 * products over the whole run are one call; its per-sample work goes through {@link Split}, which
 * may spread ranges of samples over threads (each range writes only its own samples).
 */
final class Run {

  /** Work on the samples [from, to) of the run. */
  interface Part {
    void run(int from, int to);
  }

  /**
   * Runs a {@link Part} over the samples [0, n), in ranges that may run at once on several threads;
   * {@code elements} (the op's output size) tells whether the work is worth the split.
   */
  interface Split {
    void run(int n, int elements, Part part);
  }

  private final Plan plan;
  private final IntMatmul matmul;
  private final IntLayers layers;
  private final int from;
  /** Samples in this run. */
  private final int n;
  /** Per slot: byte[] or int[] of n × size. */
  private final Object[] values;
  /** Per slot: the int[] of a byte value, made when an op reads it as ints. */
  private final int[][] widened;
  /** Per slot: the bias a native convolution left for its requantization to add (null: none). */
  private final int[][] bias;
  /** Per slot with a bias left: the elements of one channel of one sample. */
  private final int[] biasInner;
  /** Where values' arrays come from and go back to. */
  private final Scratch scratch;
  private final Split split;
  /** The elements of the op being run's output, over the run. */
  private int elements;

  Run(Plan plan, IntMatmul matmul, IntLayers layers, Scratch scratch, Split split, byte[] pixels, int off, int from,
      int to) {
    this.plan = plan;
    this.scratch = scratch;
    this.split = split;
    this.matmul = matmul;
    this.layers = layers;
    this.from = from;
    this.n = to - from;
    values = new Object[plan.size.length];
    widened = new int[plan.size.length][];
    bias = new int[plan.size.length][];
    biasInner = new int[plan.size.length];
    int size = plan.size[0];
    byte[] input = scratch.bytes(n * size);
    System.arraycopy(pixels, off + from * size, input, 0, n * size);
    values[0] = input;
  }

  /**
   * Runs every op, then writes the class of each sample (or, with {@code logits}, its logits) into
   * {@code result}; the arrays go back to the scratch as their values are dropped, the rest at the end.
   */
  void into(int[] result, boolean logits) {
    List<Program.Op> ops = plan.program.ops();
    for (int i = 0; i < ops.size(); i++) {
      if (!plan.pooled[i]) {
        int pool = plan.poolAfter[i], slot = pool < 0 ? i + 1 : pool + 1;
        elements = n * plan.size[slot];
        values[slot] = plan.kind[slot].isByte() ? scratch.bytes(n * plan.size[slot]) : scratch.ints(n * plan.size[slot]);
        if (pool < 0) step(ops.get(i), plan.reads[i], slot);
        else requant((Program.Requant) ops.get(i), plan.reads[i][0], slot, (Program.MaxPool) ops.get(pool));
      }
      for (int s : plan.reads[i]) {
        if (plan.lastRead[s] == i && s != plan.logits) drop(s);
      }
    }
    int last = logits ? plan.logits : ops.size();
    System.arraycopy(ints(last), 0, result, from * plan.size[last], n * plan.size[last]);
    for (int s = 0; s < values.length; s++) drop(s);
  }

  /** Hands the arrays of {@code slot} back to the scratch. */
  private void drop(int slot) {
    scratch.give(values[slot]);
    scratch.give(widened[slot]);
    bias[slot] = null;
    values[slot] = null;
    widened[slot] = null;
  }

  private void step(Program.Op op, int[] in, int slot) {
    switch (op) {
      case Program.Conv c -> conv(c, in[0], slot);
      case Program.Linear l -> linear(l, in[0], slot);
      case Program.Requant r -> requant(r, in[0], slot, null);
      case Program.Add a -> add(a, in, slot);
      case Program.Const c -> constant(c, slot);
      case Program.MaxPool m -> maxPool(m, in[0], slot);
      case Program.Sum s -> sum(s, in[0], slot);
      case Program.Transpose t -> transpose(t, in[0], slot);
      case Program.LayerNorm l -> layerNorm(l, in[0], slot);
      case Program.Scores s -> scores(s, in, slot);
      case Program.Context c -> context(c, in, slot);
      case Program.Shiftmax s -> shiftmax(s, in[0], slot);
      case Program.ShiftGelu g -> shiftGelu(g, in[0], slot);
      case Program.Argmax a -> argmax(a, in[0], slot);
    }
  }

  /**
   * out[o, y, x] = Σ w[o, ·]·patch(y, x) + bias[o]: the sums on the {@link IntLayers} when it
   * takes the layer (bytes in), else by im2col ({@link #im2colSums}); then the bias, left to the
   * requantization that alone reads the sums where it can add it ({@link #biasGoesToRequant}),
   * else added here, exactly.
   */
  private void conv(Program.Conv c, int in, int slot) {
    Program.ConvShape s = c.shape();
    int positions = s.outH() * s.outW(), size = plan.size[slot], outC = s.outC();
    int[] out = output(slot);
    if (!plan.kind[in].isByte() || !layers.conv(c, n, (byte[]) values[in], plan.kind[in] == Kind.U8, out)) {
      im2colSums(c, in, out);
    }
    if (biasGoesToRequant(c, plan.kind[in], slot, outC, positions)) {
      bias[slot] = c.bias();
      biasInner[slot] = positions;
      return;
    }
    samples((lo, hi) -> {
      for (int b = lo; b < hi; b++) {
        for (int o = 0; o < outC; o++) {
          int at = b * size + o * positions;
          IntLayout.addExact(out, at, 0, c.bias()[o], out, at, positions);
        }
      }
    });
  }

  /**
   * out = Σ w[o, ·]·patch(y, x), without the bias: the patches of all the run's samples as columns
   * (patch × n·positions), W times them in one product (outC × n·positions), then each sample's
   * C×H×W. An unsigned input is read as the int8 x − 128, and 128·Σ w[o, ·] is added back
   * (wrapping as the product's sums do, so the bits are those of the unsigned product).
   */
  private void im2colSums(Program.Conv c, int in, int[] out) {
    Program.ConvShape s = c.shape();
    Window g = new Window(s.inC(), s.inH(), s.inW(), s.k(), s.stride(), s.pad());
    int positions = g.outH() * g.outW(), patch = g.patch(), outC = s.outC(), ld = n * positions, size = outC * positions;
    boolean fast = plan.kind[in].isByte(), unsigned = plan.kind[in] == Kind.U8;
    Object cols = fast ? new byte[patch * ld] : new int[patch * ld];
    Object x = fast ? values[in] : ints(in);
    samples((lo, hi) -> {
      for (int b = lo; b < hi; b++) {
        int at = b * plan.size[in];
        if (fast) IntLayout.im2colRows((byte[]) x, at, g, unsigned ? 0x80 : 0, (byte[]) cols, b * positions, ld);
        else IntLayout.im2colRows((int[]) x, at, g, (int[]) cols, b * positions, ld);
      }
    });
    Mat w = fast ? new Mat(c.weight(), false, 0, patch) : new Mat(wide(c.weight(), false), false, 0, patch);
    int[] acc = new int[outC * ld], add = new int[outC];
    product(outC, ld, patch, w, new Mat(cols, false, 0, ld), false, new Mat(acc, false, 0, ld));
    for (int o = 0; o < outC && unsigned; o++) {
      for (int i = 0; i < patch; i++) add[o] += 128 * c.weight()[o * patch + i];
    }
    samples((lo, hi) -> {
      for (int b = lo; b < hi; b++) {
        for (int o = 0; o < outC; o++) {
          int from = o * ld + b * positions, to = b * size + o * positions;
          for (int i = 0; i < positions; i++) out[to + i] = acc[from + i] + add[o];
        }
      }
    });
  }

  /**
   * Whether the requantization that reads {@code slot} (a convolution's sums) may add the bias
   * itself: it is the slot's only reader, and its scale is per tensor or per output channel; when
   * it runs after a max pool ({@link Plan#poolAfter}), the pool's channels are the convolution's
   * and the biased sums provably fit int32.
   */
  private boolean biasGoesToRequant(Program.Conv c, Kind input, int slot, int channels, int positions) {
    if (plan.readers[slot] != 1 || slot == plan.logits) return false;
    int reader = plan.lastRead[slot];
    if (!(plan.program.ops().get(reader) instanceof Program.Requant r)
        || !Dyadic.takesBias(Plan.scale(r.rescale()), channels, positions)) {
      return false;
    }
    int pool = plan.poolAfter[reader];
    return pool < 0 || ((Program.MaxPool) plan.program.ops().get(pool)).c() == channels && biasCannotOverflow(c, input);
  }

  /**
   * Whether Σ w·x + bias fits int32 for every input of a byte range (0..255 unsigned, −128..127
   * signed; an int input has no such bound): then a requantization that adds the bias to pooled
   * maxima alone misses no overflow that adding it to every sum would have thrown.
   */
  private static boolean biasCannotOverflow(Program.Conv c, Kind input) {
    if (!input.isByte()) return false;
    int outC = c.shape().outC(), patch = c.weight().length / outC;
    long most = input == Kind.U8 ? 255 : 128;
    for (int o = 0; o < outC; o++) {
      long bound = Math.abs((long) c.bias()[o]);
      for (int i = 0; i < patch; i++) bound += Math.abs(c.weight()[o * patch + i]) * most;
      if (bound > Integer.MAX_VALUE) return false;
    }
    return true;
  }

  /** out[r, o] = Σ_i w[o, i]·x[r, i] + bias[o]: the run's rows of every sample in one product with Wᵀ (on the {@link IntLayers} when it takes the layer). */
  private void linear(Program.Linear l, int in, int slot) {
    int rows = n * l.rows();
    int[] out = output(slot);
    if (!plan.kind[in].isByte() || !layers.linear(l, rows, (byte[]) values[in], plan.kind[in] == Kind.U8, out)) {
      Mat[] ab = operands(in, l.weight());
      product(rows, l.outF(), l.inF(), ab[0].at(0, l.inF()), ab[1].at(0, l.inF()), true, new Mat(out, false, 0, l.outF()));
    }
    int outF = l.outF();
    samples((lo, hi) -> {
      for (int r = lo * l.rows(); r < hi * l.rows(); r++) {
        for (int o = 0; o < outF; o++) out[r * outF + o] = Math.addExact(out[r * outF + o], l.bias()[o]);
      }
    });
  }

  /**
   * out = clamp(round(x·m/2^k), lo, hi), per channel; x with the bias its convolution left (if any)
   * added first. With {@code pool} (see {@link Plan#poolAfter}), out is that pool's output: each
   * sample's x max-pooled first, then requantized.
   */
  private void requant(Program.Requant r, int in, int slot, Program.MaxPool pool) {
    Window g = pool == null ? null : new Window(pool.c(), pool.h(), pool.w(), pool.k(), pool.stride(), 0);
    int inner = g == null ? biasInner[in] : g.outH() * g.outW();
    Program.Rescale q = r.rescale();
    Dyadic.Scale scale = g == null || q.m().length == 1 ? Plan.scale(q) : new Dyadic.Scale(q.m(), q.k(), q.channels(), inner);
    int size = plan.size[slot], inSize = plan.size[in];
    int[] add = bias[in], z = ints(in);
    boolean toBytes = plan.kind[slot].isByte();
    Object out = values[slot];
    samples((lo, hi) -> {
      int[] pooled = g == null ? null : new int[size];
      for (int b = lo; b < hi; b++) {
        Dyadic.Term x = new Dyadic.Term(z, b * inSize, scale);
        if (g != null) {
          IntPool.max(z, b * inSize, g, pooled, 0);
          x = new Dyadic.Term(pooled, 0, scale);
        }
        if (add != null) {
          if (toBytes) Dyadic.biasedToBytes(x, add, inner, r.lo(), r.hi(), (byte[]) out, b * size, size);
          else Dyadic.biasedToInts(x, add, inner, r.lo(), r.hi(), (int[]) out, b * size, size);
        } else if (toBytes) Dyadic.toBytes(x, r.lo(), r.hi(), (byte[]) out, b * size, size);
        else Dyadic.toInts(x, r.lo(), r.hi(), (int[]) out, b * size, size);
      }
    });
  }

  /** The residual: out = clamp(rescale_a(a) + rescale_b(b), lo, hi). */
  private void add(Program.Add a, int[] in, int slot) {
    Dyadic.Scale sa = Plan.scale(a.ra()), sb = Plan.scale(a.rb());
    int size = plan.size[slot];
    int[] u = ints(in[0]), v = ints(in[1]);
    boolean toBytes = plan.kind[slot].isByte();
    Object out = values[slot];
    samples((lo, hi) -> {
      for (int b = lo; b < hi; b++) {
        Dyadic.Term x = new Dyadic.Term(u, b * size, sa), y = new Dyadic.Term(v, b * size, sb);
        if (toBytes) Dyadic.addToBytes(x, y, a.lo(), a.hi(), (byte[]) out, b * size, size);
        else Dyadic.add(x, y, a.lo(), a.hi(), (int[]) out, b * size, size);
      }
    });
  }

  private void constant(Program.Const c, int slot) {
    int[] out = output(slot);
    for (int b = 0; b < n; b++) System.arraycopy(c.values(), 0, out, b * c.values().length, c.values().length);
  }

  private void maxPool(Program.MaxPool m, int in, int slot) {
    Window g = new Window(m.c(), m.h(), m.w(), m.k(), m.stride(), 0);
    boolean isByte = plan.kind[in].isByte(), unsigned = plan.kind[in] == Kind.U8;
    Object x = values[in], out = values[slot];
    samples((lo, hi) -> {
      for (int b = lo; b < hi; b++) {
        int at = b * plan.size[in], to = b * plan.size[slot];
        if (isByte) IntPool.max((byte[]) x, at, g, unsigned, (byte[]) out, to);
        else IntPool.max((int[]) x, at, g, (int[]) out, to);
      }
    });
  }

  /** The numerator of an average pool: out[o, j] = Σ_t x[o, t, j]. */
  private void sum(Program.Sum s, int in, int slot) {
    int[] x = ints(in), out = output(slot);
    samples((lo, hi) -> {
      for (int b = lo; b < hi; b++) {
        IntReduce.sum(x, b * plan.size[in], s.outer(), s.count(), s.inner(), out, b * plan.size[slot]);
      }
    });
  }

  private void transpose(Program.Transpose t, int in, int slot) {
    int size = plan.size[slot];
    boolean isByte = plan.kind[in].isByte();
    Object x = values[in], out = values[slot];
    samples((lo, hi) -> {
      for (int b = lo; b < hi; b++) {
        if (isByte) IntLayout.transpose((byte[]) x, b * size, t.rows(), t.cols(), (byte[]) out, b * size);
        else IntLayout.transpose((int[]) x, b * size, t.rows(), t.cols(), (int[]) out, b * size);
      }
    });
  }

  /** I-LayerNorm of each row: z = (x − μ)·floor((2^31 − 1)/isqrt(Σ(x − μ)²))/2 + bias. */
  private void layerNorm(Program.LayerNorm l, int in, int slot) {
    int[] x = ints(in), out = output(slot);
    samples((lo, hi) -> {
      for (int r = lo * l.rows(); r < hi * l.rows(); r++) IntLayerNorm.row(x, r * l.dim(), l.dim(), l.bias(), out, r * l.dim());
    });
  }

  /** scores[h, i, j] = Σ_d q[i, h·dh + d]·k[j, h·dh + d]: per head, Q_h·K_hᵀ. */
  private void scores(Program.Scores s, int[] in, int slot) {
    int t = s.tokens(), dh = s.headDim(), width = s.heads() * dh;
    Mat[] qk = operands(in[0], in[1]);
    int[] out = output(slot);
    eachHead(s.heads(), (b, h) -> product(t, t, dh, qk[0].at(b * t * width + h * dh, width),
        qk[1].at(b * t * width + h * dh, width), true, new Mat(out, false, (b * s.heads() + h) * t * t, t)));
  }

  /** context[i, h·dh + d] = Σ_j p[h, i, j]·v[j, h·dh + d]: per head, P_h·V_h, heads side by side. */
  private void context(Program.Context c, int[] in, int slot) {
    int t = c.tokens(), dh = c.headDim(), width = c.heads() * dh;
    Mat[] pv = operands(in[0], in[1]);
    Mat out = new Mat(output(slot), false, 0, width);
    eachHead(c.heads(), (b, h) -> {
      int at = b * t * width + h * dh;
      product(t, dh, t, pv[0].at((b * c.heads() + h) * t * t, t), pv[1].at(at, width), false, out.at(at, width));
    });
  }

  /** One head of one sample. */
  private interface HeadStep {
    void run(int sample, int head);
  }

  private void eachHead(int heads, HeadStep step) {
    samples((lo, hi) -> {
      for (int b = lo; b < hi; b++) {
        for (int h = 0; h < heads; h++) step.run(b, h);
      }
    });
  }

  /** Shiftmax of each row; an output of at most 8 bits (0..127) is kept in bytes. */
  private void shiftmax(Program.Shiftmax s, int in, int slot) {
    int[] x = ints(in);
    boolean toBytes = plan.kind[slot].isByte();
    Object out = values[slot];
    samples((lo, hi) -> {
      int[] y = new int[s.cols()];
      for (int r = lo * s.rows(); r < hi * s.rows(); r++) {
        Shiftmax.row(x, r * s.cols(), s.cols(), s.x0(), s.n(), s.kOut(), y, 0);
        if (toBytes) {
          for (int j = 0; j < s.cols(); j++) ((byte[]) out)[r * s.cols() + j] = (byte) y[j];
        } else {
          System.arraycopy(y, 0, (int[]) out, r * s.cols(), s.cols());
        }
      }
    });
  }

  /** ShiftGELU of each row: x·σ(1.702x) with σ from two shift exponentials. */
  private void shiftGelu(Program.ShiftGelu g, int in, int slot) {
    ShiftGelu.Params p = new ShiftGelu.Params(g.x0(), g.n(), g.kOut(), g.precise());
    int[] x = ints(in), out = output(slot);
    samples((lo, hi) -> {
      for (int r = lo * g.rows(); r < hi * g.rows(); r++) ShiftGelu.row(x, r * g.cols(), g.cols(), p, out, r * g.cols());
    });
  }

  private void argmax(Program.Argmax a, int in, int slot) {
    int[] x = ints(in), out = output(slot);
    samples((lo, hi) -> {
      for (int b = lo; b < hi; b++) out[b] = IntReduce.argmax(x, b * plan.size[in], a.classes());
    });
  }

  /** Runs {@code part} over the run's samples, split by {@link #split}. */
  private void samples(Part part) {
    split.run(n, elements, part);
  }

  // ---- storage and products ----

  /** A matrix view for a product: byte[] (signed, or unsigned) or int[] data, an offset and a leading dimension. */
  private record Mat(Object data, boolean unsigned, int off, int ld) {
    Mat at(int offset, int leading) {
      return new Mat(data, unsigned, offset, leading);
    }
  }

  /**
   * C = A·op(B), exact: on the matmul when A is bytes and B signed bytes, else (a value wider than
   * 8 bits, or an unsigned B) in long sums, which must fit int32.
   */
  private void product(int m, int nCols, int k, Mat a, Mat b, boolean transB, Mat c) {
    int[] out = (int[]) c.data();
    if (a.data() instanceof byte[] x && b.data() instanceof byte[] y && !b.unsigned()) {
      matmul.multiply(new IntMatmul.Operands(m, nCols, k, a.unsigned(), x, a.off(), a.ld(), y, b.off(), b.ld(), transB),
          out, c.off(), c.ld());
      return;
    }
    int[] x = (int[]) a.data(), y = (int[]) b.data();
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < nCols; j++) {
        long s = 0;
        for (int p = 0; p < k; p++) {
          s += (long) x[a.off() + i * a.ld() + p] * (transB ? y[b.off() + j * b.ld() + p] : y[b.off() + p * b.ld() + j]);
        }
        out[c.off() + i * c.ld() + j] = Math.toIntExact(s);
      }
    }
  }

  /** The two operands of a product of values: both as stored when the fast path takes them, else both as ints. */
  private Mat[] operands(int a, int b) {
    if (plan.kind[a].isByte() && plan.kind[b] == Kind.S8) {
      return new Mat[] {new Mat(values[a], plan.kind[a] == Kind.U8, 0, 0), new Mat(values[b], false, 0, 0)};
    }
    return new Mat[] {new Mat(ints(a), false, 0, 0), new Mat(ints(b), false, 0, 0)};
  }

  /** A value times int8 weights. */
  private Mat[] operands(int a, byte[] weight) {
    if (plan.kind[a].isByte()) return new Mat[] {new Mat(values[a], plan.kind[a] == Kind.U8, 0, 0), new Mat(weight, false, 0, 0)};
    return new Mat[] {new Mat(ints(a), false, 0, 0), new Mat(wide(weight, false), false, 0, 0)};
  }

  /** The value of {@code slot} as ints (a byte value widened once, by its reading). */
  private int[] ints(int slot) {
    if (values[slot] instanceof int[] v) return v;
    if (widened[slot] == null) widened[slot] = wide((byte[]) values[slot], plan.kind[slot] == Kind.U8, scratch.ints(n * plan.size[slot]));
    return widened[slot];
  }

  private static int[] wide(byte[] v, boolean unsigned) {
    return wide(v, unsigned, new int[v.length]);
  }

  /** {@code w} (of v's length) = v, read as unsigned or signed. */
  private static int[] wide(byte[] v, boolean unsigned, int[] w) {
    int mask = unsigned ? 0xFF : -1;
    for (int i = 0; i < v.length; i++) w[i] = v[i] & mask;
    return w;
  }

  /** The int storage of the value {@code slot} writes. */
  private int[] output(int slot) {
    return (int[]) values[slot];
  }

  /** The byte storage of the value {@code slot} writes. */
  private byte[] bytes(int slot) {
    return (byte[]) values[slot];
  }
}
