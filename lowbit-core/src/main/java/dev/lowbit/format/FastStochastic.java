package dev.lowbit.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API paths for stochastic rounding, held bit for bit to the scalar reference ({@link
 * ElementFormat#quantize(float, Rounding, long, long)}, {@link BlockFormat#quantizeWithExponent},
 * {@link IntFormat#quantizeWithScale}, {@link Quantizer#amaxScaledValue}) by {@code
 * StochasticStreamTest}.
 *
 * <p>The random bits are {@link CounterRng#bits24}, evaluated in lanes: SplitMix64's finalizer on
 * {@code key + golden·(index + 1)} in 64-bit lanes (two long vectors per float vector, the even
 * elements in one and the odd in the other, whose 24-bit results interleave into the int lanes
 * by reinterpretation). Its last xor-shift does not reach the top 24 bits and is left out.
 *
 * <p>The rounding is exact integer or float arithmetic equal to the reference's {@code floor(y +
 * u)} in double, with {@code u = k·2^-24}: for a magnitude {@code a} with integer part {@code t}
 * and fraction {@code f} (both exact in float), a non-negative value rounds up to {@code t + 1}
 * iff {@code f·2^24 >= 2^24 - k} and a negative one down to {@code -(t + 1)} iff {@code f·2^24 >
 * k}. Minifloats with a normal result do this on the float32 bits (the dropped mantissa bits are
 * the fraction). The kernels do whole vectors only and return how many elements they did; callers
 * finish with the scalar reference. The species is the preferred one, as a constant (see {@link
 * FastQuantize} on why C2 needs that).
 */
final class FastStochastic {

  private static final VectorSpecies<Float> P = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Long> LP = VectorSpecies.of(long.class, P.vectorShape());
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  private static final long M1 = 0xBF58476D1CE4E5B9L, M2 = 0x94D049BB133111EBL;
  private static final float TWO24 = 0x1p24f, TWO23 = 0x1p23f;

  private FastStochastic() {}

  /** The vector length of these kernels (elements per step). */
  static int length() {
    return P.length();
  }

  /** golden·2j in lane j: added to key + golden·(index + 1) it gives element index + 2j's counter. */
  private static final LongVector EVEN_STEPS = LongVector.zero(LP).addIndex(2).mul(GOLDEN);

  /** {@link #EVEN_STEPS} (a constant: kernels called once per MX block do not rebuild it). */
  private static LongVector evenSteps() {
    return EVEN_STEPS;
  }

  /**
   * {@link CounterRng#bits24}(key, idx + j) in int lane j, for the P.length() elements from idx;
   * {@code even} is {@link #evenSteps()}.
   */
  private static IntVector bits24(long key, long idx, LongVector even) {
    LongVector za = LongVector.broadcast(LP, key + GOLDEN * (idx + 1)).add(even);
    LongVector zb = za.add(GOLDEN);
    za = za.lanewise(VectorOperators.LSHR, 30).lanewise(VectorOperators.XOR, za).mul(M1);
    zb = zb.lanewise(VectorOperators.LSHR, 30).lanewise(VectorOperators.XOR, zb).mul(M1);
    za = za.lanewise(VectorOperators.LSHR, 27).lanewise(VectorOperators.XOR, za).mul(M2);
    zb = zb.lanewise(VectorOperators.LSHR, 27).lanewise(VectorOperators.XOR, zb).mul(M2);
    // even element in the low half of each long (int lane 2j), odd one in the high half (2j + 1)
    LongVector both = za.lanewise(VectorOperators.LSHR, 40)
        .or(zb.lanewise(VectorOperators.LSHR, 8).and(0xFFFFFF00000000L));
    return both.reinterpretAsInts();
  }

  /** Test hook: the lane generator's bits for elements idx .. idx + length() - 1. */
  static int[] bits24Lanes(long key, long idx) {
    int[] out = new int[P.length()];
    bits24(key, idx, evenSteps()).intoArray(out, 0);
    return out;
  }

  // ---- integers on a grid (dynamic or fixed scale, fixed point, DFP/BFP mantissas, MX INT) -------

  /** Whether {@link #integer} covers codes in [lo, hi]: magnitudes up to 2^23, where floor is exact. */
  static boolean supportsInt(long lo, long hi) {
    return lo >= -(1L << 23) && hi <= (1L << 23);
  }

  /**
   * Stochastic rounding of {@code y = x·pre} (or {@code x / pre} when {@code divide}) to an integer
   * in [lo, hi], times {@code post}, for the whole vectors of x[off, off + len) into out[outOff…];
   * element i draws from index {@code idx0 + i}. {@code exact} says that the reference computes y
   * exactly (a power-of-two scale in double) rather than as this float product: then a product that
   * underflows to zero still counts as the tiny non-zero value it is (a negative one rounds down
   * to -1 when k = 0). Returns the number of elements done.
   */
  static int integer(float[] x, int off, float[] out, int outOff, int len, float pre, boolean divide,
      float post, float lo, float hi, boolean exact, long key, long idx0) {
    LongVector even = evenSteps();
    int n = P.length();
    int bound = P.loopBound(len);
    for (int i = 0; i < bound; i += n) {
      FloatVector v = FloatVector.fromArray(P, x, off + i);
      FloatVector y = divide ? v.div(pre) : v.mul(pre);
      // clamping first gives the same code as rounding first: floor(lo + u) = lo, floor(hi + u) = hi
      y = y.blend(lo, y.lt(lo)).blend(hi, y.compare(VectorOperators.GT, hi));
      IntVector yb = y.reinterpretAsInts();
      FloatVector a = yb.and(0x7FFFFFFF).reinterpretAsFloats();
      FloatVector t = a.add(TWO23).sub(TWO23);
      t = t.sub(1f, t.compare(VectorOperators.GT, a));
      t = t.blend(a, a.compare(VectorOperators.GE, TWO23)); // integers already
      IntVector f24 = a.sub(t).mul(TWO24).reinterpretAsInts(); // >= +0: compare as int bits
      IntVector k = bits24(key, idx0 + i, even);
      IntVector needUp = IntVector.broadcast(k.species(), 1 << 24).sub(k)
          .convert(VectorOperators.I2F, 0).reinterpretAsInts();
      IntVector kBits = k.convert(VectorOperators.I2F, 0).reinterpretAsInts();
      VectorMask<Integer> neg = yb.lt(0);
      VectorMask<Integer> negUp = f24.compare(VectorOperators.GT, kBits);
      VectorMask<Integer> zeroDraw = k.eq(0);
      if (exact && zeroDraw.anyTrue()) { // once in 2^24 draws
        VectorMask<Integer> lost = f24.eq(0).and(zeroDraw)
            .and(v.compare(VectorOperators.NE, 0f).cast(k.species())).and(a.lt(1f).cast(k.species()));
        negUp = negUp.or(lost);
      }
      VectorMask<Integer> up = f24.compare(VectorOperators.GE, needUp).andNot(neg).or(negUp.and(neg));
      FloatVector m = t.add(1f, up.cast(P));
      // a negative result as 0 - m, so that a zero code is +0 (the reference's c + 0.0)
      FloatVector c = m.blend(FloatVector.zero(P).sub(m), neg.cast(P));
      c.mul(post).intoArray(out, outOff + i);
    }
    return bound;
  }

  // ---- minifloats (element formats, amax-scaled tensors, MX elements) --------------------------

  /** Per-format constants of {@link #minifloat}. */
  record MiniConsts(int sh, int lowMask, int keep, int minNormalBits, int maxBits, int overBits,
      int infBits, float down1, float down2, float up1, float up2) {
    private static final java.util.concurrent.ConcurrentHashMap<MiniFloat, MiniConsts> MEMO =
        new java.util.concurrent.ConcurrentHashMap<>();

    static MiniConsts of(MiniFloat f) {
      MiniConsts k = MEMO.get(f);
      return k != null ? k : MEMO.computeIfAbsent(f, MiniConsts::compute);
    }

    private static MiniConsts compute(MiniFloat f) {
      FastQuantize.MiniConsts r = FastQuantize.MiniConsts.of(f);
      int sh = r.sh();
      int q0 = quantum(f);
      int d1 = Math.min(-q0, 127);
      int u1 = Math.max(q0, -126);
      return new MiniConsts(sh, (1 << sh) - 1, r.keep(), r.minNormalBits(), r.maxBits(), r.overBits(),
          r.infBits(), Math.scalb(1f, d1), Math.scalb(1f, -q0 - d1), Math.scalb(1f, u1), Math.scalb(1f, q0 - u1));
    }
  }

  /** Exponent of the grid spacing below the smallest normal (the subnormal quantum, or emin without subnormals). */
  private static int quantum(MiniFloat m) {
    return m.subnormals() ? m.minExponent() - m.mantissaBits() : m.minExponent();
  }

  /**
   * Whether {@link #minifloat} covers this format: 1..22 mantissa bits, a smallest normal within
   * float32's normals and a quantum of at most 1; {@code scaled} (an exact power-of-two scale in
   * the reference, MX) also needs a quantum of at least 2^-100, so that a product that underflows
   * in float32 rounds to zero either way.
   */
  static boolean supportsFloat(MiniFloat m, boolean scaled) {
    int q = quantum(m);
    return m.mantissaBits() >= 1 && m.mantissaBits() <= 22 && m.minExponent() >= -126
        && m.minExponent() <= 127 && q <= 0 && (!scaled || q >= -100);
  }

  /**
   * Stochastic rounding of {@code x·pre} to the minifloat of {@code k}, times {@code post}, for the
   * whole vectors of x[off, off + len) into out[outOff…]; element i draws from index {@code idx0 +
   * i}. Returns the number of elements done.
   */
  static int minifloat(float[] x, int off, float[] out, int outOff, int len, float pre, float post,
      MiniConsts k, long key, long idx0) {
    int n = P.length();
    int bound = P.loopBound(len);
    roundVectors(x, off, out, outOff, bound, pre, post, k, key, idx0);
    return bound;
  }

  /**
   * {@link #minifloat} of {@code count} elements (whole vectors): x[x0, x0 + count)·pre into
   * out[o0…], drawing from index {@code idx0} on. It takes and returns no vectors, so that where C2
   * does not inline it (it is past C2's size limit for that) the call costs a call, not a heap
   * object per vector; the loop is inside, so that a long run makes one call, not one per vector.
   */
  private static void roundVectors(float[] x, int x0, float[] out, int o0, int count, float pre, float post,
      MiniConsts k, long key, long idx0) {
    for (int i = 0; i < count; i += P.length()) {
      int xi = x0 + i, oi = o0 + i;
      long idx = idx0 + i;
      FloatVector v = FloatVector.fromArray(P, x, xi).mul(pre);
      IntVector bits = v.reinterpretAsInts();
      IntVector abs = bits.and(0x7FFFFFFF);
      IntVector rnd = bits24(key, idx, evenSteps());
      // normal results: the dropped mantissa bits are the fraction; one quantum up when frac + u >= 1
      VectorMask<Integer> upN = abs.and(k.lowMask()).lanewise(VectorOperators.LSHL, 24 - k.sh()).add(rnd)
          .compare(VectorOperators.GE, 1 << 24);
      IntVector r = abs.and(k.keep()).add(1 << k.sh(), upN);
      // the rarer cases only where a lane needs them (a branch is cheaper than computing them), found
      // by one test: magnitudes outside [smallest normal, largest finite], zeros included
      int minNormalBits = k.minNormalBits(), maxBits = k.maxBits();
      if (abs.sub(minNormalBits).compare(VectorOperators.UGT, maxBits - minNormalBits).anyTrue()) {
        // zeros are left to the normal path, which gives them exactly (ReLU outputs are full of them)
        VectorMask<Integer> small = abs.lt(minNormalBits).andNot(abs.eq(0));
        if (small.anyTrue()) {
          // below the smallest normal: y = |v|·2^-q (< 2^m, exact) on the fixed grid of quantum 2^q,
          // floor by magic-number addition, one quantum up when frac·2^24 >= 2^24 - k. Written out
          // here rather than called: C2 does not inline a call this cold, and a vector passed to or
          // returned from a call that is not inlined is a heap object (unscaled Gaussian e4m3 input
          // has a lane down here in about one vector in five)
          FloatVector y = abs.reinterpretAsFloats().mul(k.down1()).mul(k.down2());
          FloatVector t = y.add(TWO23).sub(TWO23);
          t = t.sub(1f, t.compare(VectorOperators.GT, y));
          IntVector f24 = y.sub(t).mul(TWO24).reinterpretAsInts();
          IntVector need = IntVector.broadcast(rnd.species(), 1 << 24).sub(rnd)
              .convert(VectorOperators.I2F, 0).reinterpretAsInts();
          t = t.add(1f, f24.compare(VectorOperators.GE, need).cast(P));
          r = r.blend(t.mul(k.up1()).mul(k.up2()).reinterpretAsInts(), small);
        }
        // values at most the largest finite one round to at most it: beyond, overflow, inf and NaN
        r = r.blend(k.overBits(), r.compare(VectorOperators.GT, maxBits));
        r = r.blend(k.infBits(), abs.eq(0x7F800000));
        r = r.blend(abs, abs.compare(VectorOperators.GT, 0x7F800000)); // NaN: its own bits, with the sign below
      }
      r.or(bits.and(0x80000000)).reinterpretAsFloats().mul(post).intoArray(out, oi);
    }
  }

  /**
   * Stochastic rounding of the whole MX blocks of {@code bs} elements (a multiple of length()) in
   * x[off, off + len) into out[outOff…], each block with the shared exponent of its largest
   * magnitude (emax: the element's largest exponent), as {@link BlockFormat#quantize}; element i
   * draws from index {@code idx0 + i}. One pass per block: its maximum, then one call that rounds
   * the whole block. Returns the number of elements done.
   */
  static int mxBlocks(float[] x, int off, float[] out, int outOff, int len, int bs, int emax,
      MiniConsts k, long key, long idx0) {
    int n = P.length();
    int whole = len - len % bs;
    boolean two = bs == 2 * n; // straight-line maximum for the common case: C2's set-up of two-trip loops costs
    for (int b = 0; b < whole; b += bs) {
      int xb = off + b, ob = outOff + b;
      IntVector m = FloatVector.fromArray(P, x, xb).reinterpretAsInts().and(0x7FFFFFFF);
      if (two) {
        m = m.max(FloatVector.fromArray(P, x, xb + n).reinterpretAsInts().and(0x7FFFFFFF));
      } else {
        for (int j = n; j < bs; j += n) m = m.max(FloatVector.fromArray(P, x, xb + j).reinterpretAsInts().and(0x7FFFFFFF));
      }
      int e = FastQuantize.mxExponent(m.reduceLanes(VectorOperators.MAX), emax);
      if (e == BlockFormat.NAN_EXPONENT) {
        java.util.Arrays.fill(out, ob, ob + bs, Float.NaN);
        continue;
      }
      float pre = FastQuantize.pow2(-e), post = FastQuantize.pow2(e);
      roundVectors(x, xb, out, ob, bs, pre, post, k, key, idx0 + b);
    }
    return whole;
  }

  // ---- entry points with the scalar reference for the rest -------------------------------------

  /** Whether {@link #element} has a vector path for this format. */
  static boolean supports(ElementFormat f) {
    return switch (f) {
      case IntFormat i -> supportsInt(i.minCode(), i.maxCode());
      case FixedPoint fp -> supportsInt(fp.minCode(), fp.maxCode());
      case MiniFloat m -> supportsFloat(m, false);
    };
  }

  /**
   * Stochastic rounding of an element format: x[off, off + len) into out[outOff…], element i
   * drawing from index {@code idx0 + i} under {@code key}, as {@link ElementFormat#quantize(float,
   * Rounding, long, long)}.
   */
  static void element(ElementFormat f, float[] x, int off, int len, float[] out, int outOff, long key, long idx0) {
    int done = 0;
    if (supports(f)) {
      IntFormat i = switch (f) {
        case IntFormat in -> in;
        case FixedPoint fp -> fp.asInt();
        case MiniFloat m -> null;
      };
      if (i == null) {
        done = minifloat(x, off, out, outOff, len, 1f, 1f, MiniConsts.of((MiniFloat) f), key, idx0);
      } else {
        float sc = i.effectiveScale();
        boolean pow2 = IntFormat.isPowerOfTwo(sc);
        // a symmetric fixed-point format drops the integer grid's lowest code
        long lo = f instanceof FixedPoint fp ? fp.minCode() : i.minCode(), hi = i.maxCode();
        if (pow2 && IntFormat.isPowerOfTwo(1f / sc)) {
          done = integer(x, off, out, outOff, len, 1f / sc, false, sc, lo, hi, true, key, idx0);
        } else {
          done = integer(x, off, out, outOff, len, sc, true, sc, lo, hi, pow2, key, idx0);
        }
      }
    }
    for (int j = done; j < len; j++) out[outOff + j] = f.quantize(x[off + j], Rounding.STOCHASTIC, key, idx0 + j);
  }

  /** Stochastic rounding on a dynamic integer scale, as {@link IntFormat#quantizeWithScale}. */
  static void dynamicInt(IntFormat f, float scale, float[] x, int off, int len, float[] out, int outOff,
      long key, long idx0) {
    int done = 0;
    if (supportsInt(f.minCode(), f.maxCode())) {
      done = integer(x, off, out, outOff, len, scale, true, scale, f.minCode(), f.maxCode(), false, key, idx0);
    }
    for (int j = done; j < len; j++) {
      out[outOff + j] = f.quantizeWithScale(x[off + j], scale, Rounding.STOCHASTIC, CounterRng.uniform(key, idx0 + j));
    }
  }

  /**
   * Stochastic rounding of one block (or slice) of a block format with shared exponent {@code e},
   * as {@link BlockFormat#quantizeWithExponent}.
   */
  static void block(BlockFormat b, int e, float[] x, int off, int len, float[] out, int outOff, long key, long idx0) {
    if (e == BlockFormat.NAN_EXPONENT) {
      java.util.Arrays.fill(out, outOff, outOff + len, Float.NaN);
      return;
    }
    int done = 0;
    if (b.kind() != BlockFormat.Kind.MX) {
      if (e >= -126 && e <= 126) {
        done = integer(x, off, out, outOff, len, Math.scalb(1f, -e), false, Math.scalb(1f, e),
            b.minMantissa(), b.maxMantissa(), true, key, idx0);
      }
    } else if (b.element() instanceof MiniFloat m) {
      if (supportsFloat(m, true)) {
        done = minifloat(x, off, out, outOff, len, FastQuantize.pow2(-e), FastQuantize.pow2(e), MiniConsts.of(m), key, idx0);
      }
    } else if (b.element() instanceof IntFormat i && IntFormat.isPowerOfTwo(i.scale())
        && supportsInt(i.minCode(), i.maxCode())) {
      float pre = Math.scalb(1f / i.scale(), -e);
      if (Math.getExponent(pre) >= -126 && Math.getExponent(pre) <= 127) {
        done = integer(x, off, out, outOff, len, pre, false, i.scale() * Math.scalb(1f, e),
            i.minCode(), i.maxCode(), true, key, idx0);
      }
    }
    for (int j = done; j < len; j++) {
      out[outOff + j] = b.quantizeWithExponent(x[off + j], e, Rounding.STOCHASTIC, CounterRng.uniform(key, idx0 + j));
    }
  }

  /**
   * Stochastic rounding of consecutive blocks of {@code bs} elements (the last may be shorter) of
   * a block format, each with the shared exponent of its largest magnitude, as {@link
   * BlockFormat#quantize}; element i draws from index {@code idx0 + i}. The per-format constants
   * are looked up once for all the blocks.
   */
  static void blocks(BlockFormat f, int bs, float[] x, int off, int len, float[] out, int outOff, long key, long idx0) {
    MiniConsts k = f.kind() == BlockFormat.Kind.MX && f.element() instanceof MiniFloat m && supportsFloat(m, true)
        ? MiniConsts.of(m) : null;
    int vl = P.length();
    int b = 0;
    if (k != null && bs % vl == 0) b = mxBlocks(x, off, out, outOff, len, bs, f.elementMaxExponent(), k, key, idx0);
    for (; b < len; b += bs) {
      int n = Math.min(bs, len - b);
      float amax;
      if (n % vl == 0) { // whole vectors: the integer maximum of |x|'s bits (NaN above infinity)
        IntVector m = FloatVector.fromArray(P, x, off + b).reinterpretAsInts().and(0x7FFFFFFF);
        for (int j = vl; j < n; j += vl) {
          m = m.max(FloatVector.fromArray(P, x, off + b + j).reinterpretAsInts().and(0x7FFFFFFF));
        }
        int a = m.reduceLanes(VectorOperators.MAX);
        amax = a > 0x7F800000 ? Float.NaN : Float.intBitsToFloat(a);
      } else {
        amax = FastQuantize.amax(FastQuantize.PREFERRED, x, off + b, n);
      }
      int e = f.sharedExponent(amax);
      if (k == null || e == BlockFormat.NAN_EXPONENT) {
        block(f, e, x, off + b, n, out, outOff + b, key, idx0 + b);
        continue;
      }
      int done = minifloat(x, off + b, out, outOff + b, n, FastQuantize.pow2(-e), FastQuantize.pow2(e), k, key, idx0 + b);
      for (int j = done; j < n; j++) {
        out[outOff + b + j] = f.quantizeWithExponent(x[off + b + j], e, Rounding.STOCHASTIC,
            CounterRng.uniform(key, idx0 + b + j));
      }
    }
  }

  /** Whether {@link #columnBlocks} handles this format: MX over a minifloat the vector kernel covers. */
  static boolean supportsColumnBlocks(BlockFormat f) {
    return f.kind() == BlockFormat.Kind.MX && f.element() instanceof MiniFloat m && supportsFloat(m, true);
  }

  /**
   * Stochastic rounding of one MX block that runs across rows, as {@link
   * FastQuantize#mxColumnBlocks} for nearest-even: rows [r0, r1) of {@code inner} elements from
   * {@code base}, every column its own block, only columns [j0, j1). Element (r, j) is flat index
   * {@code base + r·inner + j} and draws from it under {@code key}. Columns past the last whole
   * vector take the scalar reference.
   */
  static void columnBlocks(BlockFormat f, float[] x, int base, int r0, int r1, int inner, int j0, int j1,
      float[] out, long key) {
    MiniConsts k = MiniConsts.of((MiniFloat) f.element());
    int emax = f.elementMaxExponent();
    int len = j1 - j0, n = P.length(), whole = P.loopBound(len);
    float[] pre = new float[whole], post = new float[whole];
    int[] am = new int[n];
    for (int j = 0; j < whole; j += n) {
      IntVector m = FloatVector.fromArray(P, x, base + r0 * inner + j0 + j).reinterpretAsInts().and(0x7FFFFFFF);
      for (int r = r0 + 1; r < r1; r++) {
        m = m.max(FloatVector.fromArray(P, x, base + r * inner + j0 + j).reinterpretAsInts().and(0x7FFFFFFF));
      }
      m.intoArray(am, 0);
      for (int c = 0; c < n; c++) {
        int e = FastQuantize.mxExponent(am[c], emax);
        // a block with NaN or infinity: x·NaN is NaN, which the rounding passes through
        pre[j + c] = e == BlockFormat.NAN_EXPONENT ? Float.NaN : FastQuantize.pow2(-e);
        post[j + c] = e == BlockFormat.NAN_EXPONENT ? Float.NaN : FastQuantize.pow2(e);
      }
    }
    int[] tailExp = new int[len - whole];
    for (int j = whole; j < len; j++) {
      int m = 0;
      for (int r = r0; r < r1; r++) m = Math.max(m, Float.floatToRawIntBits(x[base + r * inner + j0 + j]) & 0x7FFFFFFF);
      tailExp[j - whole] = f.sharedExponent(m > 0x7F800000 ? Float.NaN : Float.intBitsToFloat(m));
    }
    for (int r = r0; r < r1; r++) {
      int off = base + r * inner + j0;
      columnRow(x, off, out, pre, post, whole, k, key, off);
      for (int j = whole; j < len; j++) {
        out[off + j] = f.quantizeWithExponent(x[off + j], tailExp[j - whole], Rounding.STOCHASTIC,
            CounterRng.uniform(key, off + j));
      }
    }
  }

  /**
   * {@link #minifloat} with a power of two per column ({@code pre[j]}, {@code post[j]}); len whole
   * vectors. Each vector is scaled into out, rounded there by {@link #roundVectors} with unit
   * scales (exact: a product by 1 is its operand, NaN included) and scaled back.
   */
  private static void columnRow(float[] x, int off, float[] out, float[] preArr, float[] postArr, int len,
      MiniConsts k, long key, long idx0) {
    int n = P.length();
    for (int i = 0; i < len; i += n) {
      FloatVector.fromArray(P, x, off + i).mul(FloatVector.fromArray(P, preArr, i)).intoArray(out, off + i);
      roundVectors(out, off + i, out, off + i, n, 1f, 1f, k, key, idx0 + i);
      FloatVector.fromArray(P, out, off + i).mul(FloatVector.fromArray(P, postArr, i)).intoArray(out, off + i);
    }
  }

  /**
   * Stochastic rounding of an amax-scaled minifloat tensor with a finite scale, as {@link
   * Quantizer#amaxScaledValue}; {@code sat} is the format's saturating variant.
   */
  static void scaled(MiniFloat sat, float scale, float[] x, int off, int len, float[] out, int outOff,
      long key, long idx0) {
    int done = 0;
    if (supportsFloat(sat, false)) {
      done = minifloat(x, off, out, outOff, len, 1f / scale, scale, MiniConsts.of(sat), key, idx0);
    }
    for (int j = done; j < len; j++) {
      out[outOff + j] = Quantizer.amaxScaledValue(sat, x[off + j], scale, Rounding.STOCHASTIC,
          CounterRng.uniform(key, idx0 + j));
    }
  }
}
