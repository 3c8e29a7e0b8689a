package dev.lowbit.format;

import dev.lowbit.format.Granularity.PerBlock;
import dev.lowbit.format.Granularity.PerChannel;
import dev.lowbit.format.Granularity.PerTensor;
import dev.lowbit.format.Granularity.Quantile;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * Quantizes whole row-major tensors: a format, a rounding and a granularity (which elements share
 * a scale or exponent). Element formats with a fixed grid (minifloats, fixed point, integers with
 * a fixed scale) are per tensor; integers with a {@link IntFormat#DYNAMIC} scale take their scale
 * from the largest magnitude of each slice; block formats share one exponent per slice. A
 * minifloat with {@link Granularity.Scaling#AMAX} per-tensor scaling is quantized as {@code
 * s·Q(x/s)} with one fp32 scale {@code s = amax / maxFinite} (see {@link #amaxScale}).
 *
 * <p>Stochastic rounding draws element {@code i}'s number from (seed, stream, flat index i), so the
 * result is the same for any thread count. {@link #quantizeReference} is the plain scalar
 * definition; {@link #quantize} uses the vector kernels where they apply ({@link FastQuantize} for
 * nearest-even, {@link FastStochastic} for stochastic rounding) and is held to the reference bit
 * for bit.
 */
public record Quantizer(NumberFormat format, Rounding rounding, Granularity granularity) {

  private static final int CHUNK = 1 << 14;

  public Quantizer {
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(rounding, "rounding");
    Objects.requireNonNull(granularity, "granularity");
    boolean scaled = format instanceof IntFormat i && i.isDynamic();
    if (granularity instanceof PerTensor t && t.scaling() != Granularity.Scaling.NONE
        && !(format instanceof MiniFloat)) {
      throw new IllegalArgumentException("per-tensor amax scaling applies to minifloats (e4m3, e5m2, "
          + "eXmY), not " + format.name() + (format instanceof IntFormat i && i.isDynamic()
              ? ", which already takes its scale from amax: write it per-tensor" : ""));
    }
    if (granularity instanceof Quantile
        && !(scaled && ((IntFormat) format).signed() && rounding == Rounding.NEAREST_EVEN)) {
      throw new IllegalArgumentException("a percentile scale (per-tensor(quantile=B,distinct=D)) applies to dynamic"
          + " signed integers with nearest-even rounding (e.g. int32 rne), not " + format.name() + " " + rounding);
    }
    if (format instanceof BlockFormat b) {
      int bs = b.blockSize();
      boolean ok = switch (granularity) {
        case PerTensor t -> bs == 0;
        case Quantile t -> false;
        case PerChannel c -> bs == 0;
        case PerBlock pb -> pb.size() == bs;
      };
      if (!ok) {
        throw new IllegalArgumentException("granularity " + granularity + " does not match "
            + b.name() + (bs == 0 ? " (one exponent per tensor or channel; write e.g. "
                + b.name() + "/b32 for blocks)" : " (blocks of " + bs + ")"));
      }
    } else if (!scaled && !(granularity instanceof PerTensor)) {
      throw new IllegalArgumentException(format.name() + " has a fixed grid, so granularity "
          + granularity + " does not apply; use per tensor, a dynamic integer (int8) or a block "
          + "format (mxfp8, dfp16/b64)");
    }
  }

  /** The natural granularity: per block of the format's block size along the last axis, else per tensor. */
  public static Quantizer of(NumberFormat format, Rounding rounding) {
    Granularity g = format instanceof BlockFormat b && b.blockSize() > 0
        ? new PerBlock(b.blockSize(), -1) : new PerTensor();
    return new Quantizer(format, rounding, g);
  }

  private boolean sharesScale() {
    return format instanceof BlockFormat || (format instanceof IntFormat i && i.isDynamic())
        || amaxScaled();
  }

  /** Whether every element quantizes on its own on the vector kernels (no shared scale, nearest-even). */
  private boolean elementwiseFast() {
    return !sharesScale() && format instanceof ElementFormat f && FastQuantize.supports(f, rounding);
  }

  /** True for an integer scaled per tensor by a percentile of its magnitudes ({@link Quantile}). */
  public boolean quantileScaled() {
    return granularity instanceof Quantile;
  }

  /**
   * The codes and the fp32 scale of a {@link Quantile}-scaled tensor: {@code code = rint(x·(D/2)/α)}
   * in double, limited to the integer's range, and {@code scale = (float) (2α/D)}; null when x holds
   * NaN or infinity.
   */
  private QuantileCodes quantileCodes(float[] x) {
    for (float v : x) if (!Float.isFinite(v)) return null;
    Quantile g = (Quantile) granularity;
    IntFormat f = (IntFormat) format;
    double alpha = Percentile.alpha(x, g.beta()), half = g.distinct() / 2.0;
    double lo = f.minCode(), hi = f.maxCode();
    int[] codes = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      double c = Math.rint(x[i] * half / alpha); // x·D/2 is exact: the quotient rounds once
      codes[i] = (int) Math.min(hi, Math.max(lo, c));
    }
    return new QuantileCodes(codes, (float) (alpha / half));
  }

  private record QuantileCodes(int[] codes, float scale) {}

  /** True for a minifloat scaled per tensor by its largest magnitude. */
  public boolean amaxScaled() {
    return granularity instanceof PerTensor t && t.scaling() == Granularity.Scaling.AMAX;
  }

  // ---- slices ---------------------------------------------------------------------------------

  /** Row-major decomposition around the granularity's axis: (outer, n along axis, inner). */
  private record Layout(int outer, int n, int inner, int block, int total) {
    int blocksPerRow() {
      return (n + block - 1) / block;
    }
  }

  private Layout layout(int[] shape, int length) {
    long total = 1;
    for (int d : shape) {
      if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      total *= d;
    }
    if (total != length) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + total
          + " elements but the array has " + length);
    }
    int t = (int) total;
    return switch (granularity) {
      case PerTensor p -> new Layout(1, t, 1, Math.max(t, 1), t);
      case Quantile p -> new Layout(1, t, 1, Math.max(t, 1), t);
      case PerChannel c -> axisLayout(shape, c.axis(), 0, t);
      case PerBlock b -> axisLayout(shape, b.axis(), b.size(), t);
    };
  }

  private static Layout axisLayout(int[] shape, int axis, int block, int total) {
    int a = Granularity.resolveAxis(axis, shape.length);
    int outer = 1, inner = 1;
    for (int k = 0; k < a; k++) outer *= shape[k];
    for (int k = a + 1; k < shape.length; k++) inner *= shape[k];
    return new Layout(outer, shape[a], inner, block, total);
  }

  /** Number of slices (scales or shared exponents) for a tensor of this shape. */
  public int sliceCount(int[] shape) {
    Layout l = layout(shape, sizeOf(shape));
    return switch (granularity) {
      case PerTensor p -> 1;
      case Quantile p -> 1;
      case PerChannel c -> l.n();
      case PerBlock b -> l.outer() * l.blocksPerRow() * l.inner();
    };
  }

  /** The slice of the element at flat index {@code idx}. */
  public int sliceOf(int[] shape, int idx) {
    return sliceOf(layout(shape, sizeOf(shape)), idx);
  }

  private int sliceOf(Layout l, int idx) {
    return switch (granularity) {
      case PerTensor p -> 0;
      case Quantile p -> 0;
      case PerChannel c -> (idx / l.inner()) % l.n();
      case PerBlock b -> {
        int j = idx % l.inner();
        int i = (idx / l.inner()) % l.n();
        int o = idx / (l.inner() * l.n());
        yield (o * l.blocksPerRow() + i / l.block()) * l.inner() + j;
      }
    };
  }

  private static int sizeOf(int[] shape) {
    long t = 1;
    for (int d : shape) t *= d;
    if (t > Integer.MAX_VALUE) throw new IllegalArgumentException("tensor too large: " + Arrays.toString(shape));
    return (int) t;
  }

  /** Per-slice largest magnitudes (NaN if the slice holds a NaN). */
  private float[] sliceAmax(float[] x, Layout l, int slices) {
    float[] amax = new float[slices];
    boolean[] nan = new boolean[slices];
    for (int idx = 0; idx < l.total(); idx++) {
      int s = sliceOf(l, idx);
      float a = Math.abs(x[idx]);
      if (a != a) nan[s] = true;
      else if (a > amax[s]) amax[s] = a;
    }
    for (int s = 0; s < slices; s++) if (nan[s]) amax[s] = Float.NaN;
    return amax;
  }

  /** The dynamic scale for a slice whose largest magnitude is {@code amax}. */
  public static float dynamicScale(IntFormat f, float amax) {
    if (!Float.isFinite(amax)) return Float.NaN;
    if (amax == 0) return 1f;
    return Math.max(amax / f.dynamicDivisor(), Float.MIN_VALUE);
  }

  /**
   * The fp32 scale of an amax-scaled minifloat tensor whose largest magnitude is {@code amax}:
   * {@code amax / maxFinite}, so that amax lands on the largest finite value; 1 for an all-zero
   * tensor; at least 2^-126 so that its reciprocal is finite; NaN when amax is NaN or infinite (the
   * tensor holds NaN or infinity: every element quantizes to NaN and encoding fails).
   */
  public static float amaxScale(MiniFloat f, float amax) {
    if (!Float.isFinite(amax)) return Float.NaN;
    if (amax == 0) return 1f;
    return Math.max(amax / (float) f.maxFinite(), Float.MIN_NORMAL);
  }

  /**
   * One element of an amax-scaled minifloat tensor: {@code x·(1/s)} in fp32, rounded by the
   * saturating variant of the format ({@code sat}; no finite input overflows to infinity or NaN),
   * times {@code s} in fp32. The value before the final product is the element's code value.
   */
  static float amaxScaledValue(MiniFloat sat, float x, float scale, Rounding r, double u) {
    if (scale != scale) return Float.NaN;
    return (float) sat.roundValue(x * (1f / scale), r, u) * scale;
  }

  // ---- scalar reference -------------------------------------------------------------------------

  /** The plain scalar definition of {@link #quantize}. */
  public void quantizeReference(float[] x, int[] shape, float[] out, long seed, long stream) {
    Layout l = layout(shape, x.length);
    if (out.length < x.length) throw new IllegalArgumentException("output shorter than input");
    long key = CounterRng.key(seed, stream);
    if (!sharesScale()) {
      ElementFormat f = (ElementFormat) format;
      for (int i = 0; i < x.length; i++) out[i] = f.quantize(x[i], rounding, key, i);
      return;
    }
    if (quantileScaled()) {
      QuantileCodes q = quantileCodes(x);
      for (int i = 0; i < x.length; i++) out[i] = q == null ? Float.NaN : (float) (q.codes()[i] * (double) q.scale());
      return;
    }
    int slices = sliceCount(shape);
    float[] amax = sliceAmax(x, l, slices);
    if (amaxScaled()) {
      MiniFloat sat = ((MiniFloat) format).withOverflow(MiniFloat.Overflow.SATURATE);
      float scale = amaxScale((MiniFloat) format, amax[0]);
      for (int idx = 0; idx < x.length; idx++) {
        double u = rounding.isStochastic() ? CounterRng.uniform(key, idx) : 0;
        out[idx] = amaxScaledValue(sat, x[idx], scale, rounding, u);
      }
      return;
    }
    for (int idx = 0; idx < x.length; idx++) {
      int s = sliceOf(l, idx);
      double u = rounding.isStochastic() ? CounterRng.uniform(key, idx) : 0;
      out[idx] = format instanceof BlockFormat b
          ? b.quantizeWithExponent(x[idx], b.sharedExponent(amax[s]), rounding, u)
          : ((IntFormat) format).quantizeWithScale(x[idx], dynamicScale((IntFormat) format, amax[s]), rounding, u);
    }
  }

  // ---- fast path --------------------------------------------------------------------------------

  /** Quantizes {@code x} (row-major, {@code shape}) into {@code out} on one thread. */
  public void quantize(float[] x, int[] shape, float[] out, long seed, long stream) {
    quantize(x, shape, out, seed, stream, 1);
  }

  /** Quantizes with up to {@code threads} threads; the bits do not depend on the thread count. */
  public void quantize(float[] x, int[] shape, float[] out, long seed, long stream, int threads) {
    if (threads < 1) throw new IllegalArgumentException("threads " + threads + " must be >= 1");
    Layout l = layout(shape, x.length);
    if (out.length < x.length) throw new IllegalArgumentException("output shorter than input");
    long key = CounterRng.key(seed, stream);
    int total = x.length;
    if (!sharesScale()) {
      ElementFormat f = (ElementFormat) format;
      boolean fast = FastQuantize.supports(f, rounding);
      parallel(threads, (total + CHUNK - 1) / CHUNK, c -> {
        int from = c * CHUNK, to = Math.min(total, from + CHUNK);
        if (fast) {
          FastQuantize.quantize(f, x, from, to - from, out, from);
        } else if (rounding.isStochastic()) {
          FastStochastic.element(f, x, from, to - from, out, from, key, from);
        } else {
          for (int i = from; i < to; i++) out[i] = f.quantize(x[i], rounding, key, i);
        }
      });
      return;
    }
    if (quantileScaled()) { // a selection over the whole tensor, then one pass: the reference is the fast path
      quantizeReference(x, shape, out, seed, stream);
      return;
    }
    boolean contiguous = granularity instanceof PerTensor
        || (granularity instanceof PerBlock && l.inner() == 1);
    if (granularity instanceof PerChannel && l.outer() == 1 && !amaxScaled()) {
      // every channel is one contiguous run of `inner` elements (per-channel(0) of a matrix):
      // the reference's per-slice amax and formula, one run at a time
      int runs = l.n(), len = l.inner();
      parallel(threads, runs, ch -> {
        int from = ch * len;
        quantizeRange(x, from, from + len, out, FastQuantize.amax(FastQuantize.PREFERRED, x, from, len), key);
      });
      return;
    }
    if (!contiguous && granularity instanceof PerBlock && format instanceof BlockFormat bf
        && FastQuantize.supportsColumnBlocks(bf, rounding)) {
      // blocks along a middle axis: each block is rows of `inner` columns, every column its own block
      int bpr = l.blocksPerRow(), inner = l.inner(), chunks = (inner + COLUMN_CHUNK - 1) / COLUMN_CHUNK;
      parallel(threads, l.outer() * bpr * chunks, t -> {
        int c = t % chunks, ob = t / chunks, o = ob / bpr, b = ob % bpr;
        int j0 = c * COLUMN_CHUNK;
        FastQuantize.mxColumnBlocks(bf, x, o * l.n() * inner, b * l.block(), Math.min(l.n(), (b + 1) * l.block()),
            inner, j0, Math.min(inner, j0 + COLUMN_CHUNK), out);
      });
      return;
    }
    if (!contiguous && granularity instanceof PerBlock && format instanceof BlockFormat bf
        && rounding.isStochastic() && FastStochastic.supportsColumnBlocks(bf)) {
      // the same split as nearest-even's column blocks; every element draws from its flat index
      int bpr = l.blocksPerRow(), inner = l.inner(), chunks = (inner + COLUMN_CHUNK - 1) / COLUMN_CHUNK;
      parallel(threads, l.outer() * bpr * chunks, t -> {
        int c = t % chunks, ob = t / chunks, o = ob / bpr, b = ob % bpr;
        int j0 = c * COLUMN_CHUNK;
        FastStochastic.columnBlocks(bf, x, o * l.n() * inner, b * l.block(), Math.min(l.n(), (b + 1) * l.block()),
            inner, j0, Math.min(inner, j0 + COLUMN_CHUNK), out, key);
      });
      return;
    }
    if (!contiguous) {
      quantizeReference(x, shape, out, seed, stream);
      return;
    }
    if (granularity instanceof PerTensor) {
      // one slice: amax over chunks in parallel, then quantize chunks in parallel
      int chunks = (total + CHUNK - 1) / CHUNK;
      float a = tensorAmax(x, total, threads);
      parallel(threads, chunks, c -> {
        int from = c * CHUNK, to = Math.min(total, from + CHUNK);
        quantizeRange(x, from, to, out, a, key);
      });
      return;
    }
    int bpr = l.blocksPerRow();
    int blocks = l.outer() * bpr;
    int perTask = Math.max(1, CHUNK / l.block());
    boolean fastBlocks = format instanceof BlockFormat bf && FastQuantize.supports(bf, rounding);
    boolean srBlocks = format instanceof BlockFormat && rounding.isStochastic();
    parallel(threads, (blocks + perTask - 1) / perTask, t -> {
      int end = Math.min(blocks, (t + 1) * perTask);
      int blk = t * perTask;
      while (blk < end) {
        int o = blk / bpr, b = blk % bpr;
        if (fastBlocks || srBlocks) {
          // whole blocks up to the end of this row or task in one call: constants are set up once
          int last = Math.min(end, (o + 1) * bpr);
          int from = o * l.n() + b * l.block();
          int to = o * l.n() + Math.min(l.n(), (last - o * bpr) * l.block());
          if (fastBlocks) {
            FastQuantize.quantizeBlocks(FastQuantize.PREFERRED, (BlockFormat) format, l.block(), x,
                from, to - from, out, from);
          } else {
            FastStochastic.blocks((BlockFormat) format, l.block(), x, from, to - from, out, from, key, from);
          }
          blk = last;
          continue;
        }
        int from = o * l.n() + b * l.block();
        int to = o * l.n() + Math.min(l.n(), (b + 1) * l.block());
        quantizeRange(x, from, to, out, FastQuantize.amax(FastQuantize.PREFERRED, x, from, to - from), key);
        blk++;
      }
    });
  }

  /** Quantizes x[from, to) that shares one scale or exponent derived from {@code amax}. */
  private void quantizeRange(float[] x, int from, int to, float[] out, float amax, long key) {
    quantizeRange(x, from, to, out, from, amax, key);
  }

  /** x[from, to) with the slice's largest magnitude {@code amax} into out[outOff…]. */
  private void quantizeRange(float[] x, int from, int to, float[] out, int outOff, float amax, long key) {
    int n = to - from, shift = outOff - from;
    if (format instanceof BlockFormat b) {
      int e = b.sharedExponent(amax);
      if (FastQuantize.supports(b, rounding)) {
        FastQuantize.quantizeBlock(FastQuantize.PREFERRED, b, e, x, from, n, out, outOff);
      } else if (rounding.isStochastic()) {
        FastStochastic.block(b, e, x, from, n, out, outOff, key, from);
      } else {
        for (int i = from; i < to; i++) {
          double u = rounding.isStochastic() ? CounterRng.uniform(key, i) : 0;
          out[i + shift] = b.quantizeWithExponent(x[i], e, rounding, u);
        }
      }
    } else if (format instanceof MiniFloat m) {
      MiniFloat sat = m.withOverflow(MiniFloat.Overflow.SATURATE);
      float scale = amaxScale(m, amax);
      if (scale != scale) {
        Arrays.fill(out, outOff, outOff + n, Float.NaN);
      } else if (FastQuantize.supportsScaled(sat, rounding)) {
        FastQuantize.quantizeScaled(FastQuantize.PREFERRED, sat, scale, x, from, n, out, outOff);
      } else if (rounding.isStochastic()) {
        FastStochastic.scaled(sat, scale, x, from, n, out, outOff, key, from);
      } else {
        for (int i = from; i < to; i++) {
          double u = rounding.isStochastic() ? CounterRng.uniform(key, i) : 0;
          out[i + shift] = amaxScaledValue(sat, x[i], scale, rounding, u);
        }
      }
    } else {
      IntFormat f = (IntFormat) format;
      float scale = dynamicScale(f, amax);
      if (rounding == Rounding.NEAREST_EVEN && f.maxCode() <= (1 << 22)) {
        FastQuantize.quantizeInt(FastQuantize.PREFERRED, f, scale, x, from, n, out, outOff);
      } else if (rounding.isStochastic()) {
        FastStochastic.dynamicInt(f, scale, x, from, n, out, outOff, key, from);
      } else {
        for (int i = from; i < to; i++) {
          double u = rounding.isStochastic() ? CounterRng.uniform(key, i) : 0;
          out[i + shift] = f.quantizeWithScale(x[i], scale, rounding, u);
        }
      }
    }
  }

  /** Quantizes runs of one tensor: x[from, from + len) into out[outOff…], see {@link #runs}. */
  @FunctionalInterface
  public interface Runs {
    void apply(float[] x, int from, int len, float[] out, int outOff);
  }

  /**
   * A way to quantize the tensor x[0, n) run by run, in any split and order, with the bits of
   * {@link #quantize}{@code (x, {n}, …)} — so that a caller can fuse the quantization into a pass of
   * its own (a copy into native memory) — for nearest-even quantizers with one scale per tensor
   * or none: element formats, amax-scaled minifloats, dynamic integers and DFP. Their scale comes
   * from x's largest magnitude, found here ({@code threads} as in quantize); x must not change
   * while the runs are used. Null for any other quantizer.
   */
  public Runs runs(float[] x, int n, int threads) {
    if (rounding != Rounding.NEAREST_EVEN) return null;
    if (elementwiseFast()) {
      ElementFormat f = (ElementFormat) format;
      return (src, from, len, out, outOff) -> FastQuantize.quantize(f, src, from, len, out, outOff);
    }
    if (!(granularity instanceof PerTensor) || (format instanceof BlockFormat b && b.blockSize() != 0)) return null;
    if (!sharesScale()) return null;
    float a = tensorAmax(x, n, threads);
    return (src, from, len, out, outOff) -> quantizeRange(src, from, from + len, out, outOff, a, 0);
  }

  /** Largest magnitude of x[0, n) over chunks in parallel (NaN if any element is NaN). */
  private float tensorAmax(float[] x, int n, int threads) {
    int chunks = (n + CHUNK - 1) / CHUNK;
    float[] part = new float[chunks];
    parallel(threads, chunks, c -> {
      int from = c * CHUNK, to = Math.min(n, from + CHUNK);
      part[c] = FastQuantize.amax(FastQuantize.PREFERRED, x, from, to - from);
    });
    float amax = 0;
    for (float p : part) amax = p != p || amax != amax ? Float.NaN : Math.max(amax, p);
    return amax;
  }

  /** Columns per task of MX blocks along a middle axis (a block's rows are read twice, from L1/L2). */
  private static final int COLUMN_CHUNK = 1024;

  private static void parallel(int threads, int tasks, IntConsumer body) {
    if (threads == 1 || tasks <= 1) {
      for (int t = 0; t < tasks; t++) body.accept(t);
      return;
    }
    // on the shared loop threads, the caller taking the first part: a separate ForkJoinPool left the
    // caller idle while its workers competed with the GEMM threads for the cores (bf16 CNN training
    // ran 1.7x slower with it than with serial quantization)
    LoopRunner.get().forParts(Math.min(threads, tasks), tasks, (lo, hi) -> {
      for (int t = lo; t < hi; t++) body.accept(t);
    });
  }

  // ---- storage ----------------------------------------------------------------------------------

  /**
   * Encodes to integer codes plus per-slice exponents or scales.
   *
   * @throws IllegalArgumentException when a value cannot be encoded (NaN or infinity where the
   *     format has no such code, or a slice holding one)
   */
  public EncodedTensor encode(float[] x, int[] shape, long seed, long stream) {
    Layout l = layout(shape, x.length);
    long key = CounterRng.key(seed, stream);
    int[] codes = new int[x.length];
    if (!sharesScale()) {
      ElementFormat f = (ElementFormat) format;
      for (int i = 0; i < x.length; i++) {
        try {
          codes[i] = f.encodeValue(f.quantize(x[i], rounding, key, i));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("element " + i + ": " + e.getMessage(), e);
        }
      }
      return new EncodedTensor(format, shape.clone(), granularity, codes, new int[0], new float[0]);
    }
    if (quantileScaled()) {
      QuantileCodes q = quantileCodes(x);
      if (q == null) {
        throw new IllegalArgumentException("cannot encode in " + format.name() + " with a percentile scale: "
            + "the tensor holds NaN or infinity");
      }
      return new EncodedTensor(format, shape.clone(), granularity, q.codes(), new int[0], new float[] {q.scale()});
    }
    int slices = sliceCount(shape);
    float[] amax = sliceAmax(x, l, slices);
    if (amaxScaled()) {
      MiniFloat m = (MiniFloat) format, sat = m.withOverflow(MiniFloat.Overflow.SATURATE);
      float scale = amaxScale(m, amax[0]);
      if (scale != scale) {
        throw new IllegalArgumentException("cannot encode in " + format.name() + " scaled per tensor: "
            + "the tensor holds NaN or infinity (largest magnitude " + amax[0] + ")");
      }
      float inv = 1f / scale;
      for (int idx = 0; idx < x.length; idx++) {
        double u = rounding.isStochastic() ? CounterRng.uniform(key, idx) : 0;
        codes[idx] = m.encodeValue((float) sat.roundValue(x[idx] * inv, rounding, u));
      }
      return new EncodedTensor(format, shape.clone(), granularity, codes, new int[0], new float[] {scale});
    }
    int[] exps = new int[format instanceof BlockFormat ? slices : 0];
    float[] scales = new float[format instanceof BlockFormat ? 0 : slices];
    for (int s = 0; s < slices; s++) {
      if (format instanceof BlockFormat b) exps[s] = b.sharedExponent(amax[s]);
      else scales[s] = dynamicScale((IntFormat) format, amax[s]);
    }
    for (int idx = 0; idx < x.length; idx++) {
      int s = sliceOf(l, idx);
      double u = rounding.isStochastic() ? CounterRng.uniform(key, idx) : 0;
      if (format instanceof BlockFormat b) {
        codes[idx] = b.encodeWithExponent(x[idx], exps[s], rounding, u);
      } else {
        if (!Float.isFinite(scales[s])) {
          throw new IllegalArgumentException("element " + idx + ": cannot encode in " + format.name()
              + ": its slice holds NaN or infinity (element value " + x[idx] + ")");
        }
        IntFormat f = (IntFormat) format;
        codes[idx] = (int) f.roundToCode(x[idx] / scales[s], rounding, u);
      }
    }
    return new EncodedTensor(format, shape.clone(), granularity, codes, exps, scales);
  }

  /** The float values of an encoded tensor (equal to {@link #quantize} of the original). */
  public float[] decode(EncodedTensor t) {
    if (!t.format().equals(format) || !t.granularity().equals(granularity)) {
      throw new IllegalArgumentException("tensor encoded as " + t.format().name() + " / "
          + t.granularity() + " cannot be decoded as " + format.name() + " / " + granularity);
    }
    Layout l = layout(t.shape(), t.codes().length);
    float[] out = new float[t.codes().length];
    for (int idx = 0; idx < out.length; idx++) {
      int c = t.codes()[idx];
      if (!sharesScale()) {
        out[idx] = ((ElementFormat) format).decode(c);
      } else if (amaxScaled()) {
        out[idx] = ((MiniFloat) format).decode(c) * t.scales()[0];
      } else {
        int s = sliceOf(l, idx);
        out[idx] = format instanceof BlockFormat b ? b.decodeWithExponent(c, t.exponents()[s])
            : (float) (c * (double) t.scales()[s]);
      }
    }
    return out;
  }
}
