package dev.lowbit.kernel;

import dev.lowbit.kernel.Accumulator.Chunked;
import dev.lowbit.kernel.Accumulator.FloatAcc;
import dev.lowbit.kernel.Accumulator.FloatFormat;
import dev.lowbit.kernel.Accumulator.Fp32Exact;
import dev.lowbit.kernel.Accumulator.Int32Exact;
import dev.lowbit.kernel.Accumulator.IntN;

/**
 * Plain-loop reference for {@link EmulatedGemm}: one output at a time, the chain along k written
 * as the definition reads, with rounding done arithmetically (exponent, scalb, floor/rint) rather
 * than with the bit tricks of the fast path, so the two cross-check each other.
 */
public final class ScalarEmulatedGemm implements EmulatedGemm {

  public static final ScalarEmulatedGemm INSTANCE = new ScalarEmulatedGemm();

  private ScalarEmulatedGemm() {}

  @Override
  public String name() {
    return "scalar";
  }

  // ---------------------------------------------------------------- float operands

  @Override
  public GemmStats gemm(
      Multiplier mul, Accumulator acc, boolean transA, boolean transB, int m, int n, int k,
      float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
      long seed) {
    EmulatedGemm.check(acc, false, m, n, k);
    if (mul == null) throw new IllegalArgumentException("multiplier missing");
    long[] ev = new long[3];
    long mix = StochasticBits.seedMix(seed);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float[] x = new float[k];
        float[] y = new float[k];
        for (int p = 0; p < k; p++) {
          x[p] = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
          y[p] = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
        }
        long out = (long) i * n + j;
        float r;
        if (acc instanceof Chunked ch) {
          float o32 = 0f;
          double od = 0.0;
          int chunk = 0;
          for (int k0 = 0; k0 < k; k0 += ch.chunkSize(), chunk++) {
            float v = floatChain(mul, ch.inner(), x, y, k0, Math.min(k, k0 + ch.chunkSize()), mix, out, ev, null);
            if (ch.outer() instanceof FloatAcc fo) {
              od = accStep(fo, od, v, StochasticBits.bits(mix ^ StochasticBits.OUTER_SALT, out, chunk), ev);
            } else {
              o32 = o32 + v;
            }
          }
          r = ch.outer() instanceof FloatAcc ? (float) od : o32;
        } else {
          r = floatChain(mul, acc, x, y, 0, k, mix, out, ev, null);
        }
        c[cOff + i * ldc + j] = r;
      }
    }
    return new GemmStats(ev[0], ev[1], ev[2]);
  }

  /** Step flag: the product underflowed or saturated in Q_prod (δq = 0 in spec §3.5). */
  public static final byte PRODUCT_EVENT = 1;
  /** Step flag: a nonzero product left the accumulator unchanged (swamping). */
  public static final byte SWAMP = 2;
  /** Step flag: the accumulator saturated at this step. */
  public static final byte SATURATE = 4;
  /** Step flag: the accumulator's sum flushed to zero at this step. */
  public static final byte UNDERFLOW = 8;

  /**
   * One output's chain over {@code x[0..k)·y[0..k)} with the events of every step: flags[p] gets
   * {@link #PRODUCT_EVENT}, {@link #SWAMP}, {@link #SATURATE} and {@link #UNDERFLOW} bits for the
   * inner accumulator's step p (for {@link Chunked}, the inner chain; the chunk-combining stage is
   * not flagged). These are the per-(output, k) indicators that backward passes through a
   * quantized accumulation need (Blumenfeld et al. 2024, "fine-grained gradient
   * approximations"). {@code out} is the output index i·n + j that keys stochastic rounding, so
   * the value equals the GEMM's for that output. Returns the output value.
   */
  public static float chain(Multiplier mul, Accumulator acc, float[] x, float[] y, int k, long seed,
      long out, byte[] flags) {
    EmulatedGemm.check(acc, false, 1, 1, k);
    if (flags.length < k) throw new IllegalArgumentException("flags holds " + flags.length + " < k = " + k);
    long[] ev = new long[3];
    long mix = StochasticBits.seedMix(seed);
    if (acc instanceof Chunked ch) {
      float o32 = 0f;
      double od = 0.0;
      int chunk = 0;
      for (int k0 = 0; k0 < k; k0 += ch.chunkSize(), chunk++) {
        float v = floatChain(mul, ch.inner(), x, y, k0, Math.min(k, k0 + ch.chunkSize()), mix, out, ev, flags);
        if (ch.outer() instanceof FloatAcc fo) {
          od = accStep(fo, od, v, StochasticBits.bits(mix ^ StochasticBits.OUTER_SALT, out, chunk), ev);
        } else {
          o32 = o32 + v;
        }
      }
      return ch.outer() instanceof FloatAcc ? (float) od : o32;
    }
    return floatChain(mul, acc, x, y, 0, k, mix, out, ev, flags);
  }

  private static float floatChain(
      Multiplier mul, Accumulator acc, float[] x, float[] y, int k0, int k1, long mix, long out,
      long[] ev, byte[] flags) {
    if (acc instanceof Fp32Exact) {
      float s = 0f;
      for (int p = k0; p < k1; p++) {
        s = mul instanceof Multiplier.LMul lm ? s + LMul.multiply(x[p], y[p], lm) : Math.fma(x[p], y[p], s);
        if (flags != null) flags[p] = 0;
      }
      return s;
    }
    FloatAcc fa = (FloatAcc) acc;
    double s = 0.0;
    for (int p = k0; p < k1; p++) {
      long o0 = ev[0];
      long u0 = ev[1];
      double prod = mul instanceof Multiplier.LMul lm ? LMul.multiply(x[p], y[p], lm) : (double) x[p] * y[p];
      prod = fa.product() == null
          ? (double) (float) prod
          : quantize(prod, fa.product(), Accumulator.AccRounding.RNE, fa.underflowToZero(), 0L, ev);
      long o1 = ev[0];
      long u1 = ev[1];
      long w1 = ev[2];
      s = accStep(fa, s, prod, StochasticBits.bits(mix, out, p), ev);
      if (flags != null) {
        flags[p] = (byte) ((o1 != o0 || u1 != u0 ? PRODUCT_EVENT : 0)
            | (ev[2] != w1 ? SWAMP : 0) | (ev[0] != o1 ? SATURATE : 0) | (ev[1] != u1 ? UNDERFLOW : 0));
      }
    }
    return (float) s;
  }

  /** s' = Q_acc(s + p), counting a swamp when p ≠ 0 leaves s unchanged with no other event. */
  private static double accStep(FloatAcc fa, double s, double p, long rnd, long[] ev) {
    long overBefore = ev[0];
    long underBefore = ev[1];
    double q = quantize(s + p, fa.format(), fa.rounding(), fa.underflowToZero(), rnd, ev);
    if (p != 0.0 && q == s && ev[0] == overBefore && ev[1] == underBefore) ev[2]++;
    return q;
  }

  /**
   * Q_{M,E,b}(x): the definition in {@link FloatAcc}. Stochastic rounding adds u = (rnd mod
   * 2^(52−M))·2^−(52−M) to the scaled mantissa before the floor.
   */
  static double quantize(
      double x, FloatFormat f, Accumulator.AccRounding rounding, boolean ftz, long rnd, long[] ev) {
    if (x == 0.0 || Double.isNaN(x)) return x;
    double ax = Math.abs(x);
    int e = Math.getExponent(ax);
    if (ftz && e < 1 - f.bias()) {
      ev[1]++;
      return Math.copySign(0.0, x);
    }
    int mBits = f.mantissaBits();
    double y = Math.scalb(ax, mBits - e); // in [2^M, 2^(M+1)), or inf
    int d = 52 - mBits;
    double r = switch (rounding) {
      case RTZ -> Math.floor(y);
      case RNE -> Math.rint(y);
      case STOCHASTIC -> Math.floor(y + Math.scalb((double) (rnd & ((1L << d) - 1)), -d));
    };
    double q = Math.scalb(r, e - mBits);
    if (q > f.maxFinite()) {
      ev[0]++;
      q = f.maxFinite();
    }
    return Math.copySign(q, x);
  }

  // ---------------------------------------------------------------- integer operands

  @Override
  public GemmStats gemmS8(
      Accumulator acc, boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
    EmulatedGemm.check(acc, true, m, n, k);
    return intGemm(acc, m, n, k,
        (i, p) -> transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p],
        (p, j) -> transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j], c, cOff, ldc);
  }

  @Override
  public GemmStats gemmS16(
      Accumulator acc, boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
    EmulatedGemm.check(acc, true, m, n, k);
    return intGemm(acc, m, n, k,
        (i, p) -> transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p],
        (p, j) -> transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j], c, cOff, ldc);
  }

  private interface IntAt {
    int at(int r, int c);
  }

  private static GemmStats intGemm(
      Accumulator acc, int m, int n, int k, IntAt a, IntAt b, int[] c, int cOff, int ldc) {
    long[] ev = new long[3];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        long[] prods = new long[k];
        for (int p = 0; p < k; p++) prods[p] = (long) a.at(i, p) * b.at(p, j);
        int r;
        if (acc instanceof Chunked ch) {
          long[] chunks = new long[(k + ch.chunkSize() - 1) / ch.chunkSize()];
          for (int q = 0; q < chunks.length; q++) {
            int k0 = q * ch.chunkSize();
            chunks[q] = intChain(ch.inner(), prods, k0, Math.min(k, k0 + ch.chunkSize()), ev);
          }
          r = intChain(ch.outer(), chunks, 0, chunks.length, ev);
        } else {
          r = intChain(acc, prods, 0, k, ev);
        }
        c[cOff + i * ldc + j] = r;
      }
    }
    return new GemmStats(ev[0], 0, 0);
  }

  private static int intChain(Accumulator acc, long[] v, int k0, int k1, long[] ev) {
    if (acc instanceof Int32Exact) {
      long s = 0;
      for (int p = k0; p < k1; p++) s += v[p];
      if (s < Integer.MIN_VALUE || s > Integer.MAX_VALUE) ev[0]++;
      return (int) s;
    }
    IntN in = (IntN) acc;
    long lo = in.min();
    long hi = in.max();
    long s = 0;
    for (int p = k0; p < k1; p++) {
      long t = s + v[p];
      if (t < lo || t > hi) {
        ev[0]++;
        if (in.mode() == Accumulator.OverflowMode.SATURATE) {
          t = t < lo ? lo : hi;
        } else {
          t = Math.floorMod(t - lo, 1L << in.bits()) + lo;
        }
      }
      s = t;
    }
    return (int) s;
  }
}
