package dev.lowbit.format;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API paths for nearest-even quantization, held bit for bit to the scalar reference
 * ({@link ElementFormat#roundValue}, {@link BlockFormat#quantizeWithExponent}, {@link
 * IntFormat#quantizeWithScale}) by tests at 128-, 256- and 512-bit species. The species is a
 * parameter; the {@code PREFERRED} entry points pass a constant so C2 can intrinsify the kernels
 * once they are inlined. Tails are scalar. Other roundings and formats the kernels do not cover
 * fall back to the scalar reference.
 *
 * <p>Integers: {@code y = x·pre} (or {@code x / scale}), clamp to the code range, round with the
 * 1.5·2^23 magic-number addition, multiply back. Minifloats: round the float32 bit pattern to the
 * target mantissa width (add half-ulp-minus-one plus the kept LSB, then mask), and round values
 * below the target's smallest normal by magic-number addition at the subnormal quantum.
 */
public final class FastQuantize {

  /** The species used by the library's own calls. */
  public static final VectorSpecies<Float> PREFERRED = FloatVector.SPECIES_PREFERRED;

  private static final float MAGIC = 12582912f; // 1.5 * 2^23: x + MAGIC - MAGIC = rint(x), |x| <= 2^22

  private FastQuantize() {}

  /** Whether {@link #quantize} has a vector path for this element format and rounding. */
  public static boolean supports(ElementFormat f, Rounding r) {
    if (r != Rounding.NEAREST_EVEN) return false;
    return switch (f) {
      case IntFormat i -> supportsInt(i);
      case FixedPoint fp -> supportsInt(fp.asInt());
      case MiniFloat m -> supportsFloat(m, false);
    };
  }

  private static boolean supportsInt(IntFormat i) {
    return i.maxCode() <= (1 << 22) && i.minCode() >= -(1 << 22);
  }

  private static boolean supportsFloat(MiniFloat m, boolean scaled) {
    int emin = m.minExponent();
    int q = m.subnormals() ? emin - m.mantissaBits() : emin;
    return m.mantissaBits() >= 1 && m.mantissaBits() <= 22 && emin >= -126 && emin <= 127 && q + 23 >= -126 && q + 23 <= 127
        && (!scaled || q >= -100);
  }

  /** Whether {@link #quantizeScaled} has a vector path for this (saturating) minifloat and rounding. */
  public static boolean supportsScaled(MiniFloat m, Rounding r) {
    return r == Rounding.NEAREST_EVEN && supportsFloat(m, true);
  }

  /** Whether {@link #quantizeBlocks} has a vector path for this block format and rounding. */
  public static boolean supports(BlockFormat f, Rounding r) {
    if (r != Rounding.NEAREST_EVEN) return false;
    if (f.kind() != BlockFormat.Kind.MX) return true; // DFP/BFP mantissas are at most 24 bits
    return switch (f.element()) {
      case IntFormat i -> supportsInt(i) && IntFormat.isPowerOfTwo(i.scale());
      case MiniFloat m -> supportsFloat(m, true);
      case FixedPoint fp -> false;
    };
  }

  /** Nearest-even quantization of an element format with the preferred species. */
  public static void quantize(ElementFormat f, float[] x, int off, int len, float[] out, int outOff) {
    quantize(PREFERRED, f, x, off, len, out, outOff);
  }

  /** Nearest-even quantization of an element format; the format must be {@link #supports}ed. */
  public static void quantize(VectorSpecies<Float> s, ElementFormat f, float[] x, int off, int len,
      float[] out, int outOff) {
    switch (f) {
      case FixedPoint fp -> intGrid(s, fp.asInt(), fp.minCode(), fp.maxCode(), x, off, len, out, outOff);
      case IntFormat i -> intGrid(s, i, i.minCode(), i.maxCode(), x, off, len, out, outOff);
      case MiniFloat m -> floatKernel(s, x, off, out, outOff, len, 1f, 1f, m);
    }
  }

  /** An integer grid at the format's fixed scale, clamped to codes [lo, hi]. */
  private static void intGrid(VectorSpecies<Float> s, IntFormat i, long lo, long hi, float[] x, int off,
      int len, float[] out, int outOff) {
    float sc = i.effectiveScale();
    if (IntFormat.isPowerOfTwo(sc) && IntFormat.isPowerOfTwo(1f / sc)) {
      intKernel(s, x, off, out, outOff, len, 1f / sc, false, sc, lo, hi);
    } else {
      intKernel(s, x, off, out, outOff, len, sc, true, sc, lo, hi);
    }
  }

  /**
   * Nearest-even quantization on the grid {@code code · scale} of an integer format for an explicit
   * (dynamic) scale: {@code x / scale}, as {@link IntFormat#quantizeWithScale}.
   */
  public static void quantizeInt(VectorSpecies<Float> s, IntFormat f, float scale, float[] x,
      int off, int len, float[] out, int outOff) {
    intKernel(s, x, off, out, outOff, len, scale, true, scale, f.minCode(), f.maxCode());
  }

  /**
   * Nearest-even quantization of an amax-scaled minifloat tensor with a known fp32 scale, as {@link
   * Quantizer#amaxScaledValue}: {@code x·(1/scale)} rounded by {@code sat} (the format's saturating
   * variant; must be {@link #supports}ed), times {@code scale}. The scale must be finite.
   */
  public static void quantizeScaled(VectorSpecies<Float> s, MiniFloat sat, float scale, float[] x,
      int off, int len, float[] out, int outOff) {
    floatKernel(s, x, off, out, outOff, len, 1f / scale, scale, MiniConsts.of(sat));
  }

  /**
   * Nearest-even quantization of consecutive blocks of {@code blockSize} (0: one block) of a block
   * format starting at {@code off}, as {@link BlockFormat#quantize}; the format must be {@link
   * #supports}ed.
   */
  public static void quantizeBlocks(VectorSpecies<Float> s, BlockFormat f, int blockSize,
      float[] x, int off, int len, float[] out, int outOff) {
    int bs = blockSize == 0 ? Math.max(len, 1) : blockSize;
    MiniConsts k = f.kind() == BlockFormat.Kind.MX && f.element() instanceof MiniFloat m
        ? MiniConsts.of(m) : null;
    int emax = f.kind() == BlockFormat.Kind.MX ? f.elementMaxExponent() : 0;
    int b = 0;
    if (k != null && bs % s.length() == 0 && bs <= FUSED_MAX_BLOCK
        && ((MiniFloat) f.element()).subnormals() && ((MiniFloat) f.element()).mantissaBits() <= 21) {
      b = len - len % bs;
      if (s == P) {
        mxKernelP(x, off, out, outOff, b, bs, emax, k);
      } else {
        mxKernel(s, x, off, out, outOff, b, bs, emax, k);
      }
    }
    for (; b < len; b += bs) {
      int n = Math.min(bs, len - b);
      float a = amax(s, x, off + b, n);
      int e = k != null ? mxExponent(Float.floatToRawIntBits(a), emax) : f.sharedExponent(a);
      if (k != null && e != BlockFormat.NAN_EXPONENT) {
        floatKernel(s, x, off + b, out, outOff + b, n, pow2(-e), pow2(e), k);
      } else {
        quantizeBlock(s, f, e, x, off + b, n, out, outOff + b);
      }
    }
  }

  /** Largest block {@link #mxKernel} fuses: the block is read twice, the second time from L1. */
  private static final int FUSED_MAX_BLOCK = 2048;

  /**
   * The MX shared exponent (as {@link BlockFormat#sharedExponent}) from the raw bits of a block's
   * largest magnitude: floor(log2 amax) is the exponent field for normal floats and comes from the
   * leading one of the fraction for subnormal ones; NaN or infinity gives {@link
   * BlockFormat#NAN_EXPONENT}.
   */
  static int mxExponent(int amaxBits, int emax) {
    if (amaxBits >= 0x7F800000) return BlockFormat.NAN_EXPONENT;
    if (amaxBits == 0) return BlockFormat.MX_MIN_EXPONENT;
    int log2 = amaxBits >= 0x00800000 ? (amaxBits >>> 23) - 127
        : -118 - Integer.numberOfLeadingZeros(amaxBits); // m·2^-149 with m < 2^23
    return Math.max(BlockFormat.MX_MIN_EXPONENT, Math.min(BlockFormat.MX_MAX_EXPONENT, log2 - emax));
  }

  /** Exactly 2^e for -149 <= e <= 127, from bits (subnormal below -126). */
  static float pow2(int e) {
    return Float.intBitsToFloat(e >= -126 ? (e + 127) << 23 : 1 << (e + 149));
  }

  /** One block with a known shared exponent. */
  public static void quantizeBlock(VectorSpecies<Float> s, BlockFormat f, int e, float[] x, int off,
      int n, float[] out, int outOff) {
    if (e == BlockFormat.NAN_EXPONENT) {
      java.util.Arrays.fill(out, outOff, outOff + n, Float.NaN);
      return;
    }
    if (f.kind() == BlockFormat.Kind.MX) {
      if (f.element() instanceof MiniFloat m) {
        floatKernel(s, x, off, out, outOff, n, Math.scalb(1f, -e), Math.scalb(1f, e), m);
        return;
      }
      IntFormat i = (IntFormat) f.element();
      float pre = Math.scalb(1f / i.scale(), -e);
      if (Math.getExponent(pre) >= -126 && Math.getExponent(pre) <= 127) {
        intKernel(s, x, off, out, outOff, n, pre, false, i.scale() * Math.scalb(1f, e),
            i.minCode(), i.maxCode());
        return;
      }
    } else if (e >= -126 && e <= 126) {
      intKernel(s, x, off, out, outOff, n, Math.scalb(1f, -e), false, Math.scalb(1f, e),
          f.minMantissa(), f.maxMantissa());
      return;
    }
    for (int i = 0; i < n; i++) {
      out[outOff + i] = f.quantizeWithExponent(x[off + i], e, Rounding.NEAREST_EVEN, 0);
    }
  }

  /** Largest |x| over a range; NaN when any element is NaN (as {@link BlockFormat#amax}). */
  public static float amax(VectorSpecies<Float> s, float[] x, int off, int len) {
    if (s == P) {
      return amaxP(x, off, len);
    }
    // integer maximum of the bits of |x|: the order of non-negative floats, with every NaN above
    // infinity; four accumulators so that the loop is not bound by the latency of one chain
    int n = s.length();
    int i = 0;
    int m = 0;
    if (len >= 4 * n) {
      IntVector a0 = absBits(s, x, off), a1 = absBits(s, x, off + n);
      IntVector a2 = absBits(s, x, off + 2 * n), a3 = absBits(s, x, off + 3 * n);
      int bound4 = len - len % (4 * n);
      for (i = 4 * n; i < bound4; i += 4 * n) {
        a0 = a0.max(absBits(s, x, off + i));
        a1 = a1.max(absBits(s, x, off + i + n));
        a2 = a2.max(absBits(s, x, off + i + 2 * n));
        a3 = a3.max(absBits(s, x, off + i + 3 * n));
      }
      int bound = s.loopBound(len);
      for (; i < bound; i += n) a0 = a0.max(absBits(s, x, off + i));
      m = a0.max(a1).max(a2.max(a3)).reduceLanes(VectorOperators.MAX);
    }
    return amaxTail(x, off, i, len, m);
  }

  private static IntVector absBits(VectorSpecies<Float> s, float[] x, int i) {
    return FloatVector.fromArray(s, x, i).reinterpretAsInts().and(0x7FFFFFFF);
  }

  private static float amaxTail(float[] x, int off, int i, int len, int m) {
    for (; i < len; i++) m = Math.max(m, Float.floatToRawIntBits(x[off + i]) & 0x7FFFFFFF);
    return m > 0x7F800000 ? Float.NaN : Float.intBitsToFloat(m);
  }

  /** y = x·pre (or x / pre when divide), clamp to [lo, hi], round half even, times post. */
  static void intKernel(VectorSpecies<Float> s, float[] x, int off, float[] out, int outOff,
      int len, float pre, boolean divide, float post, long lo, long hi) {
    if (s == P) {
      intKernelP(x, off, out, outOff, len, pre, divide, post, lo, hi);
      return;
    }
    float flo = lo, fhi = hi;
    int n = s.length();
    int i = 0;
    int bound = s.loopBound(len);
    for (; i < bound; i += n) {
      FloatVector v = FloatVector.fromArray(s, x, off + i);
      v = divide ? v.div(pre) : v.mul(pre);
      // clamp by compare and blend: cheaper than max/min with Math.max's NaN and -0 rules, and
      // the same result here (NaN stays NaN, -0 and +0 both round to +0)
      v = v.blend(flo, v.lt(flo)).blend(fhi, v.compare(VectorOperators.GT, fhi));
      v = v.add(MAGIC).sub(MAGIC).mul(post);
      v.intoArray(out, outOff + i);
    }
    intTail(x, off, out, outOff, i, len, pre, divide, post, flo, fhi);
  }

  // scalar tails live in their own methods so the vector kernels stay small enough for C2 to inline
  private static void intTail(float[] x, int off, float[] out, int outOff, int i, int len,
      float pre, boolean divide, float post, float flo, float fhi) {
    for (; i < len; i++) {
      float y = divide ? x[off + i] / pre : x[off + i] * pre;
      y = Math.min(Math.max(y, flo), fhi);
      out[outOff + i] = ((y + MAGIC) - MAGIC) * post;
    }
  }

  /** Per-format constants of {@link #floatKernel}, computed once per call rather than per block. */
  record MiniConsts(int sh, int addend, int keep, float magic, int minNormalBits, int maxBits,
      int overBits, int infBits) {
    private static final java.util.concurrent.ConcurrentHashMap<MiniFloat, MiniConsts> MEMO =
        new java.util.concurrent.ConcurrentHashMap<>();

    /** The constants of f, computed once per format (callers that quantize many short runs ask per run). */
    static MiniConsts of(MiniFloat f) {
      MiniConsts k = MEMO.get(f);
      return k != null ? k : MEMO.computeIfAbsent(f, MiniConsts::compute);
    }

    private static MiniConsts compute(MiniFloat f) {
      int m = f.mantissaBits();
      int sh = 23 - m;
      int emin = f.minExponent();
      int q = f.subnormals() ? emin - m : emin;
      int maxBits = Float.floatToRawIntBits((float) f.maxFinite());
      return new MiniConsts(sh, (1 << (sh - 1)) - 1, -(1 << sh), Math.scalb(1.5f, q + 23),
          Float.floatToRawIntBits(Math.scalb(1f, emin)), maxBits,
          f.overflow() == MiniFloat.Overflow.SATURATE ? maxBits
              : f.specials() == MiniFloat.Specials.IEEE ? 0x7F800000 : 0x7FC00000,
          f.specials() == MiniFloat.Specials.IEEE ? 0x7F800000
              : f.overflow() == MiniFloat.Overflow.SATURATE ? maxBits : 0x7FC00000);
    }
  }

  static void floatKernel(VectorSpecies<Float> s, float[] x, int off, float[] out, int outOff,
      int len, float pre, float post, MiniFloat f) {
    floatKernel(s, x, off, out, outOff, len, pre, post, MiniConsts.of(f));
  }

  /** Minifloat nearest-even on float32 bit patterns; v = x·pre, result·post. */
  static void floatKernel(VectorSpecies<Float> s, float[] x, int off, float[] out, int outOff,
      int len, float pre, float post, MiniConsts k) {
    if (s == P) {
      floatKernelP(x, off, out, outOff, len, pre, post, k);
      return;
    }
    int sh = k.sh(), addend = k.addend(), keep = k.keep(), minNormalBits = k.minNormalBits();
    int maxBits = k.maxBits(), overBits = k.overBits(), infBits = k.infBits();
    float magic = k.magic();
    int n = s.length();
    int i = 0;
    int bound = s.loopBound(len);
    for (; i < bound; i += n) {
      FloatVector v = FloatVector.fromArray(s, x, off + i).mul(pre);
      IntVector bits = v.reinterpretAsInts();
      IntVector abs = bits.and(0x7FFFFFFF);
      IntVector rn = abs.add(abs.lanewise(VectorOperators.LSHR, sh).and(1)).add(addend).and(keep);
      FloatVector af = abs.reinterpretAsFloats();
      IntVector rs = af.add(magic).sub(magic).reinterpretAsInts();
      IntVector r = rn.blend(rs, abs.lt(minNormalBits));
      r = r.blend(overBits, r.compare(VectorOperators.GT, maxBits));
      r = r.blend(infBits, abs.eq(0x7F800000));
      r = r.or(bits.and(0x80000000));
      VectorMask<Integer> nan = abs.compare(VectorOperators.GT, 0x7F800000);
      r = r.blend(bits, nan);
      r.reinterpretAsFloats().mul(post).intoArray(out, outOff + i);
    }
    floatTail(x, off, out, outOff, i, len, pre, post, k);
  }

  private static void floatTail(float[] x, int off, float[] out, int outOff, int i, int len,
      float pre, float post, MiniConsts k) {
    int sh = k.sh(), addend = k.addend(), keep = k.keep(), minNormalBits = k.minNormalBits();
    int maxBits = k.maxBits(), overBits = k.overBits(), infBits = k.infBits();
    float magic = k.magic();
    for (; i < len; i++) {
      float y = x[off + i] * pre;
      int bits = Float.floatToRawIntBits(y);
      int abs = bits & 0x7FFFFFFF;
      int r;
      if (abs > 0x7F800000) {
        r = bits;
      } else {
        if (abs < minNormalBits) {
          r = Float.floatToRawIntBits((Float.intBitsToFloat(abs) + magic) - magic);
        } else {
          r = (abs + ((abs >>> sh) & 1) + addend) & keep;
        }
        if (r > maxBits) r = overBits;
        if (abs == 0x7F800000) r = infBits;
        r |= bits & 0x80000000;
      }
      out[outOff + i] = Float.intBitsToFloat(r) * post;
    }
  }

  /**
   * Whole MX blocks of a minifloat element with the shared exponent fused in: per block, the
   * largest |x| as the integer maximum of the float bits (in registers; the block is read again
   * from L1), the E8M0 exponent from those bits ({@link #mxExponent}), exact power-of-two scales
   * built from bits, and the rounding of {@link #floatKernel}. In a block without NaN or infinity
   * every scaled value is finite and at most 2^(emax+1), so the NaN and infinity cases drop out
   * and saturation (MX elements saturate) is an integer minimum. Rounding is one magic-number
   * addition for normals and subnormals alike: add and subtract 1.5·2^(q+23) for the quantum q =
   * max(binade - m, subnormal quantum), built from the exponent bits; this needs element
   * subnormals (else the quantum jumps at the smallest normal) and m <= 21 (the sum must stay in
   * one binade). {@code len} is a multiple of {@code bs}, and {@code bs} of the vector length.
   */
  static void mxKernel(VectorSpecies<Float> s, float[] x, int off, float[] out, int outOff,
      int len, int bs, int emax, MiniConsts k) {
    // 1.5·2^(q+23) for the quantum q of a binade: exponent field plus sh, mantissa 0.5
    int cAdd = (k.sh() << 23) + 0x00400000, magicBits = Float.floatToRawIntBits(k.magic());
    int maxBits = k.maxBits();
    int n = s.length();
    if (bs == 2 * n) {
      // the common case (block 32 at 512 bits, 16 at 256): straight-line code, each vector loaded
      // once; with C2's loop set-up for two-trip inner loops the kernel ran ~25% slower in L2
      for (int b = 0; b < len; b += bs) {
        int xb = off + b, ob = outOff + b;
        IntVector b0 = FloatVector.fromArray(s, x, xb).reinterpretAsInts();
        IntVector b1 = FloatVector.fromArray(s, x, xb + n).reinterpretAsInts();
        int e = mxExponent(b0.and(0x7FFFFFFF).max(b1.and(0x7FFFFFFF)).reduceLanes(VectorOperators.MAX), emax);
        if (e == BlockFormat.NAN_EXPONENT) {
          java.util.Arrays.fill(out, ob, ob + bs, Float.NaN);
          continue;
        }
        float pre = pow2(-e), post = pow2(e);
        IntVector bits = b0.reinterpretAsFloats().mul(pre).reinterpretAsInts();
        IntVector abs = bits.and(0x7FFFFFFF);
        FloatVector c = abs.and(0x7F800000).add(cAdd).max(magicBits).reinterpretAsFloats();
        IntVector r = abs.reinterpretAsFloats().add(c).sub(c).reinterpretAsInts();
        r.min(maxBits).or(bits.and(0x80000000)).reinterpretAsFloats().mul(post).intoArray(out, ob);
        bits = b1.reinterpretAsFloats().mul(pre).reinterpretAsInts();
        abs = bits.and(0x7FFFFFFF);
        c = abs.and(0x7F800000).add(cAdd).max(magicBits).reinterpretAsFloats();
        r = abs.reinterpretAsFloats().add(c).sub(c).reinterpretAsInts();
        r.min(maxBits).or(bits.and(0x80000000)).reinterpretAsFloats().mul(post).intoArray(out, ob + n);
      }
      return;
    }
    for (int b = 0; b < len; b += bs) {
      int xb = off + b, ob = outOff + b;
      IntVector m = absBits(s, x, xb);
      for (int j = n; j < bs; j += n) m = m.max(absBits(s, x, xb + j));
      int e = mxExponent(m.reduceLanes(VectorOperators.MAX), emax);
      if (e == BlockFormat.NAN_EXPONENT) {
        java.util.Arrays.fill(out, ob, ob + bs, Float.NaN);
        continue;
      }
      float pre = pow2(-e), post = pow2(e);
      for (int j = 0; j < bs; j += n) {
        IntVector bits = FloatVector.fromArray(s, x, xb + j).mul(pre).reinterpretAsInts();
        IntVector abs = bits.and(0x7FFFFFFF);
        FloatVector c = abs.and(0x7F800000).add(cAdd).max(magicBits).reinterpretAsFloats();
        IntVector r = abs.reinterpretAsFloats().add(c).sub(c).reinterpretAsInts();
        r.min(maxBits).or(bits.and(0x80000000)).reinterpretAsFloats().mul(post).intoArray(out, ob + j);
      }
    }
  }

  // ---- copies of the kernels above with the preferred species as a compile-time constant --------
  // C2 intrinsifies vector operations only when the species is a constant; a kernel that is
  // compiled on its own (OSR, or not inlined) sees the species parameter as a variable and runs
  // boxed, ~100x slower. These copies are what the library runs; the parameterized originals serve
  // other widths, and tests hold both to the scalar reference. GenerateKernels writes the copies
  // from the originals (docs/kernels.md): edit the originals and regenerate.
  private static final VectorSpecies<Float> P = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> IP = IntVector.SPECIES_PREFERRED;

  // <generated: FastQuantize preferred-species kernels; do not edit, run java lowbit-core/src/test/java/dev/lowbit/codegen/GenerateKernels.java>
  private static float amaxP(float[] x, int off, int len) {
    // integer maximum of the bits of |x|: the order of non-negative floats, with every NaN above
    // infinity; four accumulators so that the loop is not bound by the latency of one chain
    int n = P.length();
    int i = 0;
    int m = 0;
    if (len >= 4 * n) {
      IntVector a0 = absBitsP(x, off), a1 = absBitsP(x, off + n);
      IntVector a2 = absBitsP(x, off + 2 * n), a3 = absBitsP(x, off + 3 * n);
      int bound4 = len - len % (4 * n);
      for (i = 4 * n; i < bound4; i += 4 * n) {
        a0 = a0.max(absBitsP(x, off + i));
        a1 = a1.max(absBitsP(x, off + i + n));
        a2 = a2.max(absBitsP(x, off + i + 2 * n));
        a3 = a3.max(absBitsP(x, off + i + 3 * n));
      }
      int bound = P.loopBound(len);
      for (; i < bound; i += n) a0 = a0.max(absBitsP(x, off + i));
      m = a0.max(a1).max(a2.max(a3)).reduceLanes(VectorOperators.MAX);
    }
    return amaxTail(x, off, i, len, m);
  }

  private static IntVector absBitsP(float[] x, int i) {
    return FloatVector.fromArray(P, x, i).reinterpretAsInts().and(0x7FFFFFFF);
  }

  static void intKernelP(float[] x, int off, float[] out, int outOff,
      int len, float pre, boolean divide, float post, long lo, long hi) {
    float flo = lo, fhi = hi;
    int n = P.length();
    int i = 0;
    int bound = P.loopBound(len);
    for (; i < bound; i += n) {
      FloatVector v = FloatVector.fromArray(P, x, off + i);
      v = divide ? v.div(pre) : v.mul(pre);
      // clamp by compare and blend: cheaper than max/min with Math.max's NaN and -0 rules, and
      // the same result here (NaN stays NaN, -0 and +0 both round to +0)
      v = v.blend(flo, v.lt(flo)).blend(fhi, v.compare(VectorOperators.GT, fhi));
      v = v.add(MAGIC).sub(MAGIC).mul(post);
      v.intoArray(out, outOff + i);
    }
    intTail(x, off, out, outOff, i, len, pre, divide, post, flo, fhi);
  }

  static void floatKernelP(float[] x, int off, float[] out, int outOff,
      int len, float pre, float post, MiniConsts k) {
    int sh = k.sh(), addend = k.addend(), keep = k.keep(), minNormalBits = k.minNormalBits();
    int maxBits = k.maxBits(), overBits = k.overBits(), infBits = k.infBits();
    float magic = k.magic();
    int n = P.length();
    int i = 0;
    int bound = P.loopBound(len);
    for (; i < bound; i += n) {
      FloatVector v = FloatVector.fromArray(P, x, off + i).mul(pre);
      IntVector bits = v.reinterpretAsInts();
      IntVector abs = bits.and(0x7FFFFFFF);
      IntVector rn = abs.add(abs.lanewise(VectorOperators.LSHR, sh).and(1)).add(addend).and(keep);
      FloatVector af = abs.reinterpretAsFloats();
      IntVector rs = af.add(magic).sub(magic).reinterpretAsInts();
      IntVector r = rn.blend(rs, abs.lt(minNormalBits));
      r = r.blend(overBits, r.compare(VectorOperators.GT, maxBits));
      r = r.blend(infBits, abs.eq(0x7F800000));
      r = r.or(bits.and(0x80000000));
      VectorMask<Integer> nan = abs.compare(VectorOperators.GT, 0x7F800000);
      r = r.blend(bits, nan);
      r.reinterpretAsFloats().mul(post).intoArray(out, outOff + i);
    }
    floatTail(x, off, out, outOff, i, len, pre, post, k);
  }

  static void mxKernelP(float[] x, int off, float[] out, int outOff,
      int len, int bs, int emax, MiniConsts k) {
    // 1.5·2^(q+23) for the quantum q of a binade: exponent field plus sh, mantissa 0.5
    int cAdd = (k.sh() << 23) + 0x00400000, magicBits = Float.floatToRawIntBits(k.magic());
    int maxBits = k.maxBits();
    int n = P.length();
    if (bs == 2 * n) {
      // the common case (block 32 at 512 bits, 16 at 256): straight-line code, each vector loaded
      // once; with C2's loop set-up for two-trip inner loops the kernel ran ~25% slower in L2
      for (int b = 0; b < len; b += bs) {
        int xb = off + b, ob = outOff + b;
        IntVector b0 = FloatVector.fromArray(P, x, xb).reinterpretAsInts();
        IntVector b1 = FloatVector.fromArray(P, x, xb + n).reinterpretAsInts();
        int e = mxExponent(b0.and(0x7FFFFFFF).max(b1.and(0x7FFFFFFF)).reduceLanes(VectorOperators.MAX), emax);
        if (e == BlockFormat.NAN_EXPONENT) {
          java.util.Arrays.fill(out, ob, ob + bs, Float.NaN);
          continue;
        }
        float pre = pow2(-e), post = pow2(e);
        IntVector bits = b0.reinterpretAsFloats().mul(pre).reinterpretAsInts();
        IntVector abs = bits.and(0x7FFFFFFF);
        FloatVector c = abs.and(0x7F800000).add(cAdd).max(magicBits).reinterpretAsFloats();
        IntVector r = abs.reinterpretAsFloats().add(c).sub(c).reinterpretAsInts();
        r.min(maxBits).or(bits.and(0x80000000)).reinterpretAsFloats().mul(post).intoArray(out, ob);
        bits = b1.reinterpretAsFloats().mul(pre).reinterpretAsInts();
        abs = bits.and(0x7FFFFFFF);
        c = abs.and(0x7F800000).add(cAdd).max(magicBits).reinterpretAsFloats();
        r = abs.reinterpretAsFloats().add(c).sub(c).reinterpretAsInts();
        r.min(maxBits).or(bits.and(0x80000000)).reinterpretAsFloats().mul(post).intoArray(out, ob + n);
      }
      return;
    }
    for (int b = 0; b < len; b += bs) {
      int xb = off + b, ob = outOff + b;
      IntVector m = absBitsP(x, xb);
      for (int j = n; j < bs; j += n) m = m.max(absBitsP(x, xb + j));
      int e = mxExponent(m.reduceLanes(VectorOperators.MAX), emax);
      if (e == BlockFormat.NAN_EXPONENT) {
        java.util.Arrays.fill(out, ob, ob + bs, Float.NaN);
        continue;
      }
      float pre = pow2(-e), post = pow2(e);
      for (int j = 0; j < bs; j += n) {
        IntVector bits = FloatVector.fromArray(P, x, xb + j).mul(pre).reinterpretAsInts();
        IntVector abs = bits.and(0x7FFFFFFF);
        FloatVector c = abs.and(0x7F800000).add(cAdd).max(magicBits).reinterpretAsFloats();
        IntVector r = abs.reinterpretAsFloats().add(c).sub(c).reinterpretAsInts();
        r.min(maxBits).or(bits.and(0x80000000)).reinterpretAsFloats().mul(post).intoArray(out, ob + j);
      }
    }
  }
  // </generated>

  // ---- MX blocks across rows (a middle axis: a convolution's channels or batch) ------------------

  /** Whether {@link #mxColumnBlocks} handles this format and rounding: MX over a minifloat, nearest-even. */
  public static boolean supportsColumnBlocks(BlockFormat f, Rounding r) {
    return f.kind() == BlockFormat.Kind.MX && f.element() instanceof MiniFloat && supports(f, r);
  }

  /**
   * One MX block that runs across rows: rows [r0, r1) of {@code inner} elements each, starting at
   * {@code base}, where every column is a block of its own (per-block granularity along a middle
   * axis, e.g. blocks of 32 channels of an N×C×H×W tensor, one per pixel); only columns [j0, j1).
   * Per column: the largest magnitude as the integer maximum of the float bits, its E8M0 exponent
   * ({@link #mxExponent}), and the rounding of {@link #floatKernel} with that column's powers of
   * two — the same operations as {@link #quantizeBlocks} applies to a contiguous block, so the same
   * bits as {@link BlockFormat#quantizeWithExponent}. A block holding NaN or infinity comes out NaN.
   */
  public static void mxColumnBlocks(BlockFormat f, float[] x, int base, int r0, int r1, int inner,
      int j0, int j1, float[] out) {
    MiniConsts k = MiniConsts.of((MiniFloat) f.element());
    int emax = f.elementMaxExponent();
    int len = j1 - j0;
    int n = P.length();
    int whole = P.loopBound(len), rest = len - whole, padded = rest == 0 ? whole : whole + n;
    // pass 1 reads the rows in order, four at a time, into a running maximum per column: a few
    // sequential streams (a column vector at a time down all the rows jumped a row's length per load)
    int[] am = new int[padded];
    int r = r0;
    for (; r + 4 <= r1; r += 4) {
      int o0 = base + r * inner + j0, o1 = o0 + inner, o2 = o1 + inner, o3 = o2 + inner;
      for (int j = 0; j < whole; j += n) {
        amaxInto(am, j, absBitsP(x, o0 + j).max(absBitsP(x, o1 + j)).max(absBitsP(x, o2 + j).max(absBitsP(x, o3 + j))));
      }
      if (rest > 0 && len >= n) { // the last columns through one more full vector that overlaps the previous one
        int j = len - n;          // (the maximum does not mind seeing a column twice)
        amaxInto(am, j, absBitsP(x, o0 + j).max(absBitsP(x, o1 + j)).max(absBitsP(x, o2 + j).max(absBitsP(x, o3 + j))));
      }
    }
    for (; r < r1; r++) {
      int o0 = base + r * inner + j0;
      for (int j = 0; j < whole; j += n) amaxInto(am, j, absBitsP(x, o0 + j));
      if (rest > 0 && len >= n) amaxInto(am, len - n, absBitsP(x, o0 + len - n));
    }
    if (len < n) {
      for (r = r0; r < r1; r++) {
        int o0 = base + r * inner + j0;
        for (int j = 0; j < len; j++) am[j] = Math.max(am[j], Float.floatToRawIntBits(x[o0 + j]) & 0x7FFFFFFF);
      }
    }
    // the columns' powers of two, a vector at a time (the padding's zero maxima give harmless ones)
    float[] pre = new float[padded], post = new float[padded];
    for (int j = 0; j < padded; j += n) mxScalesP(IntVector.fromArray(IP, am, j), emax, pre, post, j);
    float[] tx = rest == 0 ? null : new float[n];
    for (r = r0; r < r1; r++) {
      int off = base + r * inner + j0;
      columnKernelP(x, off, out, pre, post, 0, whole, k);
      if (rest > 0) { // the partial last vector through the same loop, padded (a scalar tail cost as much as the rest)
        System.arraycopy(x, off + whole, tx, 0, rest);
        columnKernelP(tx, 0, tx, pre, post, whole, n, k);
        System.arraycopy(tx, 0, out, off + whole, rest);
      }
    }
  }

  private static void amaxInto(int[] am, int j, IntVector m) {
    m.max(IntVector.fromArray(IP, am, j)).intoArray(am, j);
  }

  /**
   * {@link #mxExponent} and {@link #pow2} of it and of its negation for a vector of largest
   * magnitudes (raw bits): floor(log2 amax) is the exponent field of a normal float and, for a
   * subnormal one, the exponent field of its fraction converted to float (exact below 2^24) less
   * 149; zero comes out below the smallest exponent, so it is clamped to it, as mxExponent does.
   * NaN or infinity gives NaN powers (x·NaN is NaN, which the rounding passes through: the block
   * is NaN). The exponent lies in [-127, 127], where 2^-127 is the only subnormal power.
   */
  private static void mxScalesP(IntVector a, int emax, float[] pre, float[] post, int j) {
    IntVector normal = a.lanewise(VectorOperators.LSHR, 23).sub(127);
    IntVector sub = ((FloatVector) a.convert(VectorOperators.I2F, 0)).reinterpretAsInts()
        .lanewise(VectorOperators.LSHR, 23).sub(127 + 149);
    IntVector e = normal.blend(sub, a.lt(0x00800000)).sub(emax)
        .max(BlockFormat.MX_MIN_EXPONENT).min(BlockFormat.MX_MAX_EXPONENT);
    VectorMask<Integer> special = a.compare(VectorOperators.GE, 0x7F800000);
    IntVector neg = e.neg();
    pow2Bits(neg).blend(0x7FC00000, special).reinterpretAsFloats().intoArray(pre, j);
    pow2Bits(e).blend(0x7FC00000, special).reinterpretAsFloats().intoArray(post, j);
  }

  /** The bits of 2^e for -127 <= e <= 127 (2^-127 is subnormal). */
  private static IntVector pow2Bits(IntVector e) {
    return e.add(127).lanewise(VectorOperators.LSHL, 23).blend(0x00400000, e.eq(-127));
  }

  /**
   * {@link #floatKernelP} with a power of two per column ({@code pre[p..]}, {@code post[p..]})
   * instead of one for the run; {@code len} is a multiple of the vector length.
   */
  private static void columnKernelP(float[] x, int off, float[] out, float[] pre, float[] post, int p, int len,
      MiniConsts k) {
    int sh = k.sh(), addend = k.addend(), keep = k.keep(), minNormalBits = k.minNormalBits();
    int maxBits = k.maxBits(), overBits = k.overBits(), infBits = k.infBits();
    float magic = k.magic();
    int n = P.length();
    for (int i = 0; i < len; i += n) {
      FloatVector v = FloatVector.fromArray(P, x, off + i).mul(FloatVector.fromArray(P, pre, p + i));
      IntVector bits = v.reinterpretAsInts();
      IntVector abs = bits.and(0x7FFFFFFF);
      IntVector rn = abs.add(abs.lanewise(VectorOperators.LSHR, sh).and(1)).add(addend).and(keep);
      FloatVector af = abs.reinterpretAsFloats();
      IntVector rs = af.add(magic).sub(magic).reinterpretAsInts();
      IntVector r = rn.blend(rs, abs.lt(minNormalBits));
      r = r.blend(overBits, r.compare(VectorOperators.GT, maxBits));
      r = r.blend(infBits, abs.eq(0x7F800000));
      r = r.or(bits.and(0x80000000));
      VectorMask<Integer> nan = abs.compare(VectorOperators.GT, 0x7F800000);
      r = r.blend(bits, nan);
      r.reinterpretAsFloats().mul(FloatVector.fromArray(P, post, p + i)).intoArray(out, off + i);
    }
  }
}
