package dev.lowbit.format;

import java.util.Objects;

/**
 * Elements that share one power-of-two exponent per block of {@code blockSize} values along an
 * axis ({@code blockSize} 0: one exponent for the whole tensor or slice).
 *
 * <ul>
 *   <li>{@link Kind#DFP} dynamic fixed point (Das et al., "Mixed Precision Training of
 *       Convolutional Neural Networks using Integer Operations", ICLR 2018): P-bit integer
 *       mantissas clamped symmetrically to ±(2^(P-1) - 1), shared exponent {@code Es =
 *       floor(log2 amax) - (P - 2) + headroom}; value {@code I · 2^Es}.
 *   <li>{@link Kind#BFP} block floating point: the same exponent rule without headroom. Its
 *       mantissas are clamped to the two's complement range [-2^(P-1), 2^(P-1) - 1] by default
 *       ({@code bfp8/b16}), or, with {@link #symmetric()} ({@code bfp8/b16:sym}), symmetrically to
 *       ±(2^(P-1) - 1), as QPyTorch's {@code block_quantize} clips (it clamps magnitudes, so
 *       -2^(P-1) never occurs). The two differ only where a block's most negative value rounds to
 *       -2^(P-1)·2^Es: the default keeps it, {@code :sym} gives -(2^(P-1) - 1)·2^Es.
 *   <li>{@link Kind#MX} OCP Microscaling v1.0: an element format (FP8/6/4 minifloat, saturating,
 *       or INT8 with scale 2^-6) and an E8M0 scale {@code X = 2^s}, {@code s = floor(log2 amax) -
 *       emax(element)} clamped to [-127, 127]; value {@code X · P}.
 * </ul>
 *
 * A block whose largest magnitude is 0 gets exponent 0 (DFP/BFP) or -127 (MX). A block that
 * contains NaN or an infinity has no valid exponent: all its values quantize to NaN (for MX this
 * is the E8M0 NaN scale) and encoding it is an error.
 */
public record BlockFormat(Kind kind, ElementFormat element, int blockSize, int headroom,
    boolean symmetric) implements NumberFormat {

  /** The block family. */
  public enum Kind { DFP, BFP, MX }

  /** Exponent returned by {@link #sharedExponent(float)} for a block holding NaN or infinity. */
  public static final int NAN_EXPONENT = Integer.MIN_VALUE;

  /**
   * The largest block size: far beyond any useful block (a block longer than the tensor is one
   * exponent for all of it), small enough that block counts and offsets stay within int.
   */
  public static final int MAX_BLOCK = 1 << 24;

  /** MX's E8M0 scale covers 2^-127 .. 2^127. */
  public static final int MX_MIN_EXPONENT = -127, MX_MAX_EXPONENT = 127;

  /**
   * A block format with the family's usual mantissa range: symmetric for DFP, two's complement for
   * BFP (MX elements have their own range).
   */
  public BlockFormat(Kind kind, ElementFormat element, int blockSize, int headroom) {
    this(kind, element, blockSize, headroom, kind == Kind.DFP);
  }

  /**
   * {@code symmetric}: DFP mantissas are always symmetric (false is taken as true); BFP's are
   * symmetric when asked; MX has no such option.
   */
  public BlockFormat {
    Objects.requireNonNull(kind, "kind");
    if (kind == Kind.DFP) symmetric = true;
    Objects.requireNonNull(element, "element");
    if (blockSize < 0 || blockSize > MAX_BLOCK) {
      throw new IllegalArgumentException("block size " + blockSize + " is invalid; use 1.." + MAX_BLOCK
          + (kind == Kind.MX ? "" : ", or 0 for one exponent per tensor"));
    }
    if (kind == Kind.MX && blockSize == 0) {
      throw new IllegalArgumentException("MX block size 0 is invalid: every MX block has a scale; use 1.." + MAX_BLOCK);
    }
    if (headroom < 0 || headroom > 30) {
      throw new IllegalArgumentException("headroom " + headroom + " is invalid; valid: 0..30");
    }
    switch (kind) {
      case DFP, BFP -> {
        if (!(element instanceof IntFormat i) || !i.signed() || i.bits() < 2 || i.bits() > 24
            || i.scale() != 1f) {
          throw new IllegalArgumentException(kind + " mantissas must be signed integers of 2..24 "
              + "bits with scale 1, not " + element.name());
        }
        if (kind == Kind.BFP && headroom != 0) {
          throw new IllegalArgumentException("BFP has no headroom; got " + headroom);
        }
      }
      case MX -> {
        if (headroom != 0) throw new IllegalArgumentException("MX has no headroom; got " + headroom);
        if (symmetric) {
          throw new IllegalArgumentException("MX elements have their own range; :sym applies to bfp");
        }
        if (element instanceof MiniFloat mf) {
          if (mf.overflow() != MiniFloat.Overflow.SATURATE) {
            throw new IllegalArgumentException("MX elements saturate; " + mf.name() + " does not");
          }
        } else if (!(element instanceof IntFormat i && i.signed() && i.scale() > 0)) {
          throw new IllegalArgumentException(
              "MX elements are saturating minifloats or signed fixed-scale integers, not "
                  + element.name());
        }
      }
    }
  }

  /** DFP with P-bit mantissas. */
  public static BlockFormat dfp(int mantissaBits, int blockSize, int headroom) {
    return new BlockFormat(Kind.DFP, new IntFormat(mantissaBits, true, 1f), blockSize, headroom);
  }

  /** Block floating point with P-bit two's complement mantissas. */
  public static BlockFormat bfp(int mantissaBits, int blockSize) {
    return bfp(mantissaBits, blockSize, false);
  }

  /** Block floating point with P-bit mantissas, clamped to ±(2^(P-1) - 1) when {@code symmetric}. */
  public static BlockFormat bfp(int mantissaBits, int blockSize, boolean symmetric) {
    return new BlockFormat(Kind.BFP, new IntFormat(mantissaBits, true, 1f), blockSize, 0, symmetric);
  }

  /** An MX format over {@code element}. */
  public static BlockFormat mx(ElementFormat element, int blockSize) {
    return new BlockFormat(Kind.MX, element, blockSize, 0);
  }

  /** Element bits of DFP/BFP mantissas. */
  private int p() {
    return element.bits();
  }

  /** emax of the element type: floor(log2 of its largest value). */
  public int elementMaxExponent() {
    return Math.getExponent(element.maxFinite());
  }

  /** Largest mantissa magnitude (DFP/BFP). */
  public int maxMantissa() {
    return (1 << (p() - 1)) - 1;
  }

  /** Smallest mantissa: -maxMantissa() when {@link #symmetric()} (always for DFP), else -2^(P-1). */
  public int minMantissa() {
    return symmetric ? -maxMantissa() : -(1 << (p() - 1));
  }

  /**
   * The shared exponent of a block whose largest magnitude is {@code amax} (NaN or infinity gives
   * {@link #NAN_EXPONENT}).
   */
  public int sharedExponent(float amax) {
    if (!Float.isFinite(amax)) return NAN_EXPONENT;
    if (kind == Kind.MX) {
      if (amax == 0) return MX_MIN_EXPONENT;
      int s = NumberFormat.floorLog2(amax) - elementMaxExponent();
      return Math.max(MX_MIN_EXPONENT, Math.min(MX_MAX_EXPONENT, s));
    }
    if (amax == 0) return 0;
    return NumberFormat.floorLog2(amax) - (p() - 2) + headroom;
  }

  /** Rounds {@code x} given its block's shared exponent; {@code u} as in {@link Rounding}. */
  public float quantizeWithExponent(float x, int exponent, Rounding r, double u) {
    if (exponent == NAN_EXPONENT) return Float.NaN;
    double v = Math.scalb((double) x, -exponent);
    double q = kind == Kind.MX ? element.roundValue(v, r, u) : roundMantissa(v, r, u);
    return (float) Math.scalb(q, exponent);
  }

  /** DFP/BFP mantissa: round, clamp; the value v is already scaled by 2^-Es. */
  double roundMantissa(double v, Rounding r, double u) {
    if (v != v) return v;
    double c = r.roundSigned(v, u);
    if (c < minMantissa()) c = minMantissa();
    if (c > maxMantissa()) c = maxMantissa();
    return c + 0.0;
  }

  /** The element code of {@code x} given its block's shared exponent. */
  public int encodeWithExponent(float x, int exponent, Rounding r, double u) {
    if (exponent == NAN_EXPONENT || !Float.isFinite(x)) {
      throw new IllegalArgumentException("cannot encode " + x + " in " + name()
          + ": a block holding NaN or infinity has no shared exponent");
    }
    double v = Math.scalb((double) x, -exponent);
    if (kind == Kind.MX) return element.encodeValue((float) element.roundValue(v, r, u));
    return (int) roundMantissa(v, r, u);
  }

  /** The value of an element code under a shared exponent. */
  public float decodeWithExponent(int code, int exponent) {
    if (exponent == NAN_EXPONENT) return Float.NaN;
    double v;
    if (kind == Kind.MX) {
      v = element.decode(code);
    } else {
      if (code < minMantissa() || code > maxMantissa()) {
        throw new IllegalArgumentException("mantissa " + code + " is outside " + name() + "'s range "
            + minMantissa() + ".." + maxMantissa());
      }
      v = code;
    }
    return (float) Math.scalb(v, exponent);
  }

  /** Largest magnitude of {@code x[off .. off+len)}; NaN when any is NaN, infinity when any is. */
  public static float amax(float[] x, int off, int len) {
    float m = 0;
    boolean nan = false;
    for (int i = off; i < off + len; i++) {
      float a = Math.abs(x[i]);
      if (a != a) nan = true;
      else if (a > m) m = a;
    }
    return nan ? Float.NaN : m;
  }

  @Override
  public void quantize(float[] src, int srcOff, int len, float[] dst, int dstOff, Rounding r,
      long seed, long stream) {
    Objects.checkFromIndexSize(srcOff, len, src.length);
    Objects.checkFromIndexSize(dstOff, len, dst.length);
    long key = CounterRng.key(seed, stream);
    int bs = blockSize == 0 ? Math.max(len, 1) : blockSize;
    for (int b = 0; b < len; b += bs) {
      int n = Math.min(bs, len - b);
      int e = sharedExponent(amax(src, srcOff + b, n));
      if (r.isStochastic()) {
        FastStochastic.block(this, e, src, srcOff + b, n, dst, dstOff + b, key, srcOff + b);
        continue;
      }
      for (int i = b; i < b + n; i++) {
        double u = r.isStochastic() ? CounterRng.uniform(key, srcOff + i) : 0;
        dst[dstOff + i] = quantizeWithExponent(src[srcOff + i], e, r, u);
      }
    }
  }

  @Override
  public String name() {
    return Formats.nameOf(this);
  }

  @Override
  public int bits() {
    return element.bits();
  }

  @Override
  public double bitsPerValue() {
    return blockSize == 0 ? bits() : bits() + 8.0 / blockSize;
  }

  @Override
  public double maxFinite() {
    if (kind == Kind.MX) {
      return Math.min(Float.MAX_VALUE, Math.scalb(element.maxFinite(), MX_MAX_EXPONENT));
    }
    return Float.MAX_VALUE;
  }

  @Override
  public double minNormal() {
    if (kind == Kind.MX) {
      return Math.max(Float.MIN_VALUE, Math.scalb(element.minNormal(), MX_MIN_EXPONENT));
    }
    return Float.MIN_NORMAL;
  }

  @Override
  public double minSubnormal() {
    if (kind == Kind.MX) {
      return Math.max(Float.MIN_VALUE, Math.scalb(element.minSubnormal(), MX_MIN_EXPONENT));
    }
    return Float.MIN_VALUE;
  }

  /** MX: the element's epsilon; DFP/BFP: the step relative to the block's largest binade. */
  @Override
  public double epsilon() {
    if (kind == Kind.MX) return element.epsilon();
    return Math.scalb(1.0, -(p() - 2 - headroom));
  }

  @Override
  public int precisionBits() {
    return kind == Kind.MX ? element.precisionBits() : p() - 1 - headroom;
  }
}
