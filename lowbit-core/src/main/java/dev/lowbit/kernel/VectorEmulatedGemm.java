package dev.lowbit.kernel;

import dev.lowbit.kernel.Accumulator.Chunked;
import dev.lowbit.kernel.Accumulator.FloatAcc;
import dev.lowbit.kernel.Accumulator.Fp32Exact;
import dev.lowbit.kernel.Accumulator.Int32Exact;
import dev.lowbit.kernel.Accumulator.IntN;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API implementation of {@link EmulatedGemm}, bit-exact to {@link ScalarEmulatedGemm}.
 *
 * <p>Each output row is updated as a whole per k step (an axpy along the row, in column strips of
 * {@value #STRIP} so the strip of packed B stays in cache): lane j of a vector holds output (i, j)'s
 * own running sum, so every output still sees its products in ascending k while the lanes and the
 * independent columns keep the core busy. Floating accumulators run in double lanes (the sum
 * s + p is formed in double, then rounded by bit operations on its pattern), with a lean path when
 * all operands are finite; fp32 and integer accumulators run in full-width lanes. L-Mul products
 * are formed per (i, k) strip row with integer lane operations, then accumulated like any other
 * product (an L-Mul GEMM with a plain fp32 sum runs on the register-tiled {@link LMulGemm}, which
 * keeps the same chains). Rows are split over threads in fixed contiguous parts; the scalar tails use the same
 * bit operations as the lanes.
 *
 * <p>Species come from instance fields, so C2 sees them as constants only through profiling: a JVM
 * should use one width (tests use several and run slower); 128-bit double lanes are not
 * intrinsified on the JDK 25 tested here and run boxed (correct, slow).
 */
public final class VectorEmulatedGemm implements EmulatedGemm {

  static final VectorEmulatedGemm DEFAULT = new VectorEmulatedGemm(
      Math.max(128, Math.min(512, VectorShape.preferredShape().vectorBitSize())),
      Runtime.getRuntime().availableProcessors());

  private static final long SIGN = 0x8000000000000000L;
  private static final long ABS = 0x7FFFFFFFFFFFFFFFL;
  private static final long INF = 0x7FF0000000000000L;
  private static final int RNE = 0;
  private static final int RTZ = 1;
  private static final int SR = 2;
  /** Below this, an L-Mul magnitude sum has wrapped past 2^31 (see lmulRow). */
  private static final int LMUL_WRAP = -0x3F000000;

  /**
   * Columns per strip: op(B) is packed strip by strip (k × STRIP each) and every thread walks the
   * strips in order, so one strip of B stays in cache across all of its rows.
   */
  static final int STRIP = 128;

  private final int bits;
  private final int threads;
  private final VectorSpecies<Float> fs;
  private final VectorSpecies<Integer> is;
  private final VectorSpecies<Double> ds;
  private final VectorSpecies<Long> ls;
  private final long[] iotaOut;
  private final LMulGemm lmulFp32;

  /**
   * @param vectorBits 128, 256 or 512
   * @param threads worker threads (rows are split in contiguous parts), at least 1
   */
  public VectorEmulatedGemm(int vectorBits, int threads) {
    if (vectorBits != 128 && vectorBits != 256 && vectorBits != 512) {
      throw new IllegalArgumentException("vector width must be 128, 256 or 512 bits, got " + vectorBits);
    }
    if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    this.bits = vectorBits;
    this.threads = threads;
    VectorShape full = VectorShape.forBitSize(vectorBits);
    fs = VectorSpecies.of(float.class, full);
    is = VectorSpecies.of(int.class, full);
    ds = VectorSpecies.of(double.class, full);
    ls = VectorSpecies.of(long.class, full);
    iotaOut = new long[ls.length()];
    for (int l = 0; l < iotaOut.length; l++) iotaOut[l] = l * StochasticBits.C_OUT;
    lmulFp32 = new LMulGemm(vectorBits, threads);
  }

  /** Position of op(B)[p][j] in the strip-major packing (strips of STRIP columns, each k × width). */
  private static int packIndex(int p, int j, int n, int k) {
    int j0 = j - j % STRIP;
    int w = Math.min(STRIP, n - j0);
    return j0 * k + p * w + (j - j0);
  }

  @Override
  public String name() {
    return "vector-" + bits + "x" + threads;
  }

  // ================================================================ float operands

  @Override
  public GemmStats gemm(
      Multiplier mul, Accumulator acc, boolean transA, boolean transB, int m, int n, int k,
      float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
      long seed) {
    EmulatedGemm.check(acc, false, m, n, k);
    if (mul == null) throw new IllegalArgumentException("multiplier missing");
    Multiplier.LMul lm = mul instanceof Multiplier.LMul l ? l : null;
    if (lm != null && acc instanceof Fp32Exact) {
      // the same chains, register-tiled (an fp32 sum counts no events)
      lmulFp32.gemm(lm, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
      return GemmStats.ZERO;
    }
    Accumulator inner = acc instanceof Chunked ch ? ch.inner() : acc;
    boolean wide = inner instanceof FloatAcc;
    // op(B) packed k×n in the lane type the inner chain reads: fp32 lanes for fp32 sums, double
    // (or L-Mul bit patterns widened to long) for minifloat sums. L-Mul operands are pre-rounded.
    Packed bp = new Packed(
        !wide && lm == null ? new float[k * n] : null,
        !wide && lm != null ? new int[k * n] : null,
        wide && lm == null ? new double[k * n] : null,
        wide && lm != null ? new long[k * n] : null,
        new double[k], new double[k], new boolean[k], new boolean[] {true});
    for (int p = 0; p < k; p++) {
      double maxAbs = 0;
      double minAbs = Double.POSITIVE_INFINITY;
      boolean normal = true;
      for (int j = 0; j < n; j++) {
        float v = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
        if (!Float.isFinite(v)) bp.finite[0] = false;
        float av = Math.abs(lm != null ? LMul.roundOperand(v, lm.mantissaBits(), lm.rounding()) : v);
        maxAbs = Math.max(maxAbs, av);
        if (av != 0) minAbs = Math.min(minAbs, av);
        if (!(av >= Float.MIN_NORMAL && av <= Float.MAX_VALUE)) normal = false;
        int q = packIndex(p, j, n, k);
        if (lm != null) {
          int bits = LMul.roundOperandBits(Float.floatToRawIntBits(v), lm.mantissaBits(), lm.rounding());
          if (wide) bp.bits64[q] = bits & 0xFFFFFFFFL; else bp.bits32[q] = bits;
        } else if (wide) {
          bp.f64[q] = v;
        } else {
          bp.f32[q] = v;
        }
      }
      bp.maxAbs[p] = maxAbs;
      bp.minAbs[p] = minAbs;
      bp.normal[p] = normal;
    }
    for (int i = 0; i < m && bp.finite[0]; i++) {
      for (int p = 0; p < k; p++) {
        if (!Float.isFinite(transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p])) {
          bp.finite[0] = false;
          break;
        }
      }
    }
    long mix = StochasticBits.seedMix(seed);
    return RowSplit.run(threads, m, (long) m * n * k, (from, to) -> {
      long[] ev = new long[3];
      FloatRow row = new FloatRow(Math.min(n, STRIP), k);
      row.inner = AccParams.of(acc instanceof Chunked ch ? ch.inner() : acc);
      row.outer = acc instanceof Chunked ch ? AccParams.of(ch.outer()) : null;
      for (int j0 = 0; j0 < n; j0 += STRIP) {
        int w = Math.min(STRIP, n - j0);
        for (int i = from; i < to; i++) {
          for (int p = 0; p < k; p++) {
            float v = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
            if (lm != null) {
              row.aBits[p] = LMul.roundOperandBits(Float.floatToRawIntBits(v), lm.mantissaBits(), lm.rounding());
            } else {
              row.a[p] = v;
            }
          }
          floatRow(lm, acc, (long) i * n + j0, w, k, j0 * k, bp, row, mix, ev);
          System.arraycopy(row.result, 0, c, cOff + i * ldc + j0, w);
        }
      }
      return ev;
    });
  }

  /**
   * op(B) packed, plus per-k bounds used to pick the lean lane path: the largest and the smallest
   * nonzero |b| of each packed row, and whether every operand of A and B is finite.
   */
  private record Packed(float[] f32, int[] bits32, double[] f64, long[] bits64, double[] maxAbs,
      double[] minAbs, boolean[] normal, boolean[] finite) {}

  /** A {@link FloatAcc}'s constants for the lane code, decoded once per GEMM. */
  private static final class AccParams {
    final int d;
    final long keep;
    final long low;
    final long half;
    final double minN;
    final double maxF;
    final long minBits;
    final long maxBits;
    final boolean ftz;
    final int rmode;
    final boolean hasProd;
    final int pd;
    final long pKeep;
    final long pHalf;
    final double pMinN;
    final double pMaxF;
    final long pMin;
    final long pMax;

    AccParams(FloatAcc fa) {
      d = 52 - fa.format().mantissaBits();
      keep = ~((1L << d) - 1);
      low = (1L << d) - 1;
      half = (1L << (d - 1)) - 1;
      minN = fa.format().minNormal();
      maxF = fa.format().maxFinite();
      minBits = Double.doubleToRawLongBits(minN);
      maxBits = Double.doubleToRawLongBits(maxF);
      ftz = fa.underflowToZero();
      rmode = switch (fa.rounding()) {
        case RNE -> RNE;
        case RTZ -> RTZ;
        case STOCHASTIC -> SR;
      };
      hasProd = fa.product() != null;
      pd = hasProd ? 52 - fa.product().mantissaBits() : 1;
      pKeep = ~((1L << pd) - 1);
      pHalf = (1L << (pd - 1)) - 1;
      pMinN = hasProd ? fa.product().minNormal() : 0;
      pMaxF = hasProd ? fa.product().maxFinite() : 0;
      pMin = Double.doubleToRawLongBits(pMinN);
      pMax = Double.doubleToRawLongBits(pMaxF);
    }

    static AccParams of(Accumulator a) {
      return a instanceof FloatAcc f ? new AccParams(f) : null;
    }
  }

  /** Per-thread scratch for one output row. */
  private static final class FloatRow {
    final float[] a;
    final int[] aBits;
    final float[] s32;
    final double[] s64;
    final float[] o32;
    final double[] o64;
    final float[] chunk32;
    final double[] chunk64;
    final float[] prod32;
    final double[] prod64;
    final float[] result;
    AccParams inner;
    AccParams outer;

    FloatRow(int n, int k) {
      a = new float[k];
      aBits = new int[k];
      s32 = new float[n];
      s64 = new double[n];
      o32 = new float[n];
      o64 = new double[n];
      chunk32 = new float[n];
      chunk64 = new double[n];
      prod32 = new float[n];
      prod64 = new double[n];
      result = new float[n];
    }
  }

  /**
   * Runs the outputs (i, j0 .. j0 + n − 1) of one column strip; {@code outBase} = i·N + j0 is the
   * first one's index and {@code base} where the strip starts in the packed B.
   */
  private void floatRow(
      Multiplier.LMul lm, Accumulator acc, long outBase, int n, int k, int base, Packed bp,
      FloatRow r, long mix, long[] ev) {
    if (acc instanceof Chunked ch) {
      java.util.Arrays.fill(r.o32, 0f);
      java.util.Arrays.fill(r.o64, 0.0);
      long outerMix = mix ^ StochasticBits.OUTER_SALT;
      int chunk = 0;
      for (int k0 = 0; k0 < k; k0 += ch.chunkSize(), chunk++) {
        floatChain(lm, ch.inner(), n, k0, Math.min(k, k0 + ch.chunkSize()), base, bp, r, mix, outBase, ev);
        // the chunk result passes on as an fp32 value
        if (ch.inner() instanceof FloatAcc) {
          for (int j = 0; j < n; j++) r.chunk32[j] = (float) r.s64[j];
        } else {
          System.arraycopy(r.s32, 0, r.chunk32, 0, n);
        }
        if (ch.outer() instanceof FloatAcc) {
          for (int j = 0; j < n; j++) r.chunk64[j] = r.chunk32[j];
          stepFloatAcc(r.o64, 1.0, r.chunk64, 0, n, r.outer, true, false,
              outerMix + chunk * StochasticBits.C_STEP, outBase, ev);
        } else {
          stepFp32(r.o32, 1f, r.chunk32, 0, n);
        }
      }
      if (ch.outer() instanceof FloatAcc) {
        for (int j = 0; j < n; j++) r.result[j] = (float) r.o64[j];
      } else {
        System.arraycopy(r.o32, 0, r.result, 0, n);
      }
    } else {
      floatChain(lm, acc, n, 0, k, base, bp, r, mix, outBase, ev);
      if (acc instanceof FloatAcc) {
        for (int j = 0; j < n; j++) r.result[j] = (float) r.s64[j];
      } else {
        System.arraycopy(r.s32, 0, r.result, 0, n);
      }
    }
  }

  /** Runs k0..k1 of row r's chains from zero into r.s32 (fp32) or r.s64 (FloatAcc). */
  private void floatChain(
      Multiplier.LMul lm, Accumulator acc, int n, int k0, int k1, int base, Packed bp, FloatRow r,
      long mix, long outBase, long[] ev) {
    int offset = lm == null ? 0 : LMul.offset(lm.mantissaBits());
    if (acc instanceof Fp32Exact) {
      java.util.Arrays.fill(r.s32, 0f);
      for (int p = k0; p < k1; p++) {
        if (lm != null) {
          lmulRow(r.aBits[p], bp.bits32, base + p * n, n, offset, r.prod32);
          stepFp32(r.s32, 1f, r.prod32, 0, n);
        } else {
          stepFp32(r.s32, r.a[p], bp.f32, base + p * n, n);
        }
      }
    } else {
      FloatAcc fa = (FloatAcc) acc;
      AccParams q = r.inner;
      java.util.Arrays.fill(r.s64, 0.0);
      for (int p = k0; p < k1; p++) {
        long srBase = mix + p * StochasticBits.C_STEP;
        if (lm != null) {
          // L-Mul is within 2x of the exact product, so below 2^125 nothing reaches inf
          double aa = Math.abs(Float.intBitsToFloat(r.aBits[p]));
          boolean lean = bp.finite[0] && aa * bp.maxAbs[p] <= 0x1p125;
          lmulRowWide(r.aBits[p], bp.bits64, base + p * n, n, offset, r.prod64);
          stepFloatAcc(r.s64, 1.0, r.prod64, 0, n, q, true, lean, srBase, outBase, ev);
        } else {
          // lean when every product is finite and, if it is rounded to fp32, neither overflows
          // fp32 nor falls into its subnormal range
          double aa = Math.abs(r.a[p]);
          boolean lean = bp.finite[0] && (fa.product() != null || aa == 0
              || (aa * bp.maxAbs[p] <= Float.MAX_VALUE && aa * bp.minAbs[p] >= 0x1p-126));
          stepFloatAcc(r.s64, r.a[p], bp.f64, base + p * n, n, q, false, lean, srBase, outBase, ev);
        }
      }
    }
  }

  /** s[j] = fma(src[off + j], a, s[j]) for j in [0, n): one fp32 rounding per step. */
  private void stepFp32(float[] s, float a, float[] src, int off, int n) {
    FloatVector av = FloatVector.broadcast(fs, a);
    int upper = fs.loopBound(n);
    int j = 0;
    for (; j < upper; j += fs.length()) {
      FloatVector sv = FloatVector.fromArray(fs, s, j);
      FloatVector.fromArray(fs, src, off + j).fma(av, sv).intoArray(s, j);
    }
    for (; j < n; j++) s[j] = Math.fma(src[off + j], a, s[j]);
  }

  // fp32 rounding of a double in lanes: RNE at 29 bits for normal fp32 magnitudes; below 2^-126
  // the magic-number add rounds to the fp32 subnormal grid 2^-149 (ulp of 1.5·2^-97 is 2^-149).
  private static final long F32_HALF = (1L << 28) - 1;
  private static final long F32_KEEP = ~((1L << 29) - 1);
  private static final long F32_OVERFLOW = 0x47F0000000000000L; // 2^128
  private static final double F32_MIN_NORMAL = 0x1.0p-126;
  private static final double F32_MAGIC = 0x1.8p-97;

  /**
   * One FMAq step for each column: p = Q_prod(src[off + j]·a), or p rounded to fp32 when there
   * is no product format (skipped when {@code srcIsFp32}: the values already are), then
   * s[j] = Q_acc(s[j] + p). Masks and blends work on double lanes, rounding on their bit
   * patterns in long lanes of the same shape (no shape changes, which would need constant
   * species). Events go to ev.
   */
  private void stepFloatAcc(
      double[] s, double a, double[] src, int off, int n, AccParams fa, boolean srcIsFp32,
      boolean lean, long srBase, long outBase, long[] ev) {
    final int d = fa.d;
    final long keep = fa.keep;
    final long low = fa.low;
    final long half = fa.half;
    final double minN = fa.minN;
    final double maxF = fa.maxF;
    final long minBits = fa.minBits;
    final long maxBits = fa.maxBits;
    final boolean ftz = fa.ftz;
    final int rmode = fa.rmode;
    final boolean hasProd = fa.hasProd;
    final boolean toFp32 = !hasProd && !srcIsFp32;
    final int pd = fa.pd;
    final long pKeep = fa.pKeep;
    final long pHalf = fa.pHalf;
    final double pMinN = fa.pMinN;
    final double pMaxF = fa.pMaxF;
    final long pMin = fa.pMin;
    final long pMax = fa.pMax;
    long under = 0;
    long over = 0;
    long swamp = 0;
    DoubleVector av = DoubleVector.broadcast(ds, a);
    VectorMask<Double> none = ds.maskAll(false);
    int len = ds.length();
    int upper = ds.loopBound(n);
    int j = 0;
    if (lean) {
      // Every product and sum here is finite and every fp32-rounded product is normal or zero:
      // round on the signed bit patterns (no carry can reach the sign), clamp for saturation,
      // and skip the NaN and fp32-range guards of the general loop below.
      for (; j < upper; j += len) {
        DoubleVector sv = DoubleVector.fromArray(ds, s, j);
        DoubleVector pv = DoubleVector.fromArray(ds, src, off + j).mul(av);
        if (hasProd) {
          DoubleVector pa = pv.abs();
          VectorMask<Double> pu = ftz
              ? pa.compare(VectorOperators.LT, pMinN).and(pa.compare(VectorOperators.NE, 0.0))
              : none;
          LongVector pb = pv.reinterpretAsLongs();
          DoubleVector pr = pb.add(pHalf).add(pb.lanewise(VectorOperators.LSHR, pd).and(1L))
              .and(pKeep).reinterpretAsDoubles();
          VectorMask<Double> po = pr.compare(VectorOperators.GT, pMaxF)
              .or(pr.compare(VectorOperators.LT, -pMaxF));
          pr = pr.max(-pMaxF).min(pMaxF);
          pv = pr.blend(pr.mul(0.0), pu);
          under += pu.trueCount();
          over += po.trueCount();
        } else if (toFp32) {
          LongVector pb = pv.reinterpretAsLongs();
          pv = pb.add(F32_HALF).add(pb.lanewise(VectorOperators.LSHR, 29).and(1L)).and(F32_KEEP)
              .reinterpretAsDoubles();
        }
        DoubleVector tv = sv.add(pv);
        LongVector tb = tv.reinterpretAsLongs();
        if (rmode == RNE) {
          tb = tb.add(half).add(tb.lanewise(VectorOperators.LSHR, d).and(1L));
        } else if (rmode == SR) {
          LongVector h = LongVector.fromArray(ls, iotaOut, 0)
              .add((outBase + j) * StochasticBits.C_OUT + srBase);
          h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 33)).mul(StochasticBits.M1);
          h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 33)).mul(StochasticBits.M2);
          h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 33));
          tb = tb.add(h.and(low));
        }
        DoubleVector rv = tb.and(keep).reinterpretAsDoubles();
        VectorMask<Double> ov = rv.compare(VectorOperators.GT, maxF)
            .or(rv.compare(VectorOperators.LT, -maxF));
        rv = rv.max(-maxF).min(maxF);
        if (ftz) {
          VectorMask<Double> un = tv.abs().compare(VectorOperators.LT, minN)
              .and(tv.compare(VectorOperators.NE, 0.0));
          rv = rv.blend(tv.mul(0.0), un);
          under += un.trueCount();
          swamp += pv.compare(VectorOperators.NE, 0.0).and(rv.compare(VectorOperators.EQ, sv))
              .andNot(ov).andNot(un).trueCount();
        } else {
          swamp += pv.compare(VectorOperators.NE, 0.0).and(rv.compare(VectorOperators.EQ, sv))
              .andNot(ov).trueCount();
        }
        over += ov.trueCount();
        rv.intoArray(s, j);
      }
    }
    for (; j < upper; j += len) {
      DoubleVector sv = DoubleVector.fromArray(ds, s, j);
      DoubleVector pv = DoubleVector.fromArray(ds, src, off + j).mul(av);
      if (hasProd) {
        DoubleVector pa = pv.abs();
        VectorMask<Double> pnan = pv.test(VectorOperators.IS_NAN);
        VectorMask<Double> pu = ftz
            ? pa.compare(VectorOperators.LT, pMinN).and(pa.compare(VectorOperators.NE, 0.0))
            : none;
        LongVector pm = pa.reinterpretAsLongs();
        DoubleVector pr = pm.add(pHalf).add(pm.lanewise(VectorOperators.LSHR, pd).and(1L))
            .and(pKeep).reinterpretAsDoubles();
        VectorMask<Double> po = pr.compare(VectorOperators.GT, pMaxF).andNot(pnan);
        pr = pr.blend(pMaxF, po).blend(0.0, pu);
        under += pu.trueCount();
        over += po.trueCount();
        pv = pr.reinterpretAsLongs().or(pv.reinterpretAsLongs().and(SIGN)).reinterpretAsDoubles()
            .blend(pv, pnan);
      } else if (toFp32) {
        DoubleVector pa = pv.abs();
        LongVector pm = pa.reinterpretAsLongs();
        DoubleVector pr = pm.add(F32_HALF).add(pm.lanewise(VectorOperators.LSHR, 29).and(1L))
            .and(F32_KEEP).reinterpretAsDoubles();
        pr = pr.blend(Double.POSITIVE_INFINITY,
            pr.compare(VectorOperators.GE, Double.longBitsToDouble(F32_OVERFLOW)));
        pr = pr.blend(pa.add(F32_MAGIC).sub(F32_MAGIC), pa.compare(VectorOperators.LT, F32_MIN_NORMAL));
        pv = pr.reinterpretAsLongs().or(pv.reinterpretAsLongs().and(SIGN)).reinterpretAsDoubles()
            .blend(pv, pv.test(VectorOperators.IS_NAN));
      }
      DoubleVector tv = sv.add(pv);
      DoubleVector ta = tv.abs();
      VectorMask<Double> nan = tv.test(VectorOperators.IS_NAN);
      VectorMask<Double> un = ftz
          ? ta.compare(VectorOperators.LT, minN).and(ta.compare(VectorOperators.NE, 0.0))
          : none;
      LongVector mg = ta.reinterpretAsLongs();
      if (rmode == RNE) {
        mg = mg.add(half).add(mg.lanewise(VectorOperators.LSHR, d).and(1L));
      } else if (rmode == SR) {
        LongVector h = LongVector.fromArray(ls, iotaOut, 0)
            .add((outBase + j) * StochasticBits.C_OUT + srBase);
        h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 33)).mul(StochasticBits.M1);
        h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 33)).mul(StochasticBits.M2);
        h = h.lanewise(VectorOperators.XOR, h.lanewise(VectorOperators.LSHR, 33));
        mg = mg.add(h.and(low));
      }
      DoubleVector ra = mg.and(keep).reinterpretAsDoubles();
      VectorMask<Double> ov = ra.compare(VectorOperators.GT, maxF).andNot(nan);
      ra = ra.blend(maxF, ov).blend(0.0, un);
      DoubleVector rv = ra.reinterpretAsLongs().or(tv.reinterpretAsLongs().and(SIGN))
          .reinterpretAsDoubles().blend(tv, nan);
      VectorMask<Double> sw = pv.compare(VectorOperators.NE, 0.0)
          .and(rv.compare(VectorOperators.EQ, sv)).andNot(ov).andNot(un);
      under += un.trueCount();
      over += ov.trueCount();
      swamp += sw.trueCount();
      rv.intoArray(s, j);
    }
    for (; j < n; j++) {
      double p = src[off + j] * a;
      if (hasProd) {
        long pb = Double.doubleToRawLongBits(p);
        long pm = pb & ABS;
        if (pm <= INF) {
          boolean pu = ftz && pm != 0 && pm < pMin;
          pm = (pm + pHalf + ((pm >>> pd) & 1L)) & pKeep;
          if (pm > pMax) {
            pm = pMax;
            over++;
          }
          if (pu) {
            pm = 0;
            under++;
          }
          p = Double.longBitsToDouble(pm | (pb & SIGN));
        }
      } else if (toFp32) {
        p = (double) (float) p;
      }
      double sOld = s[j];
      long tb = Double.doubleToRawLongBits(sOld + p);
      long mg = tb & ABS;
      double q;
      boolean ovf = false;
      boolean un = false;
      if (mg > INF) {
        q = Double.longBitsToDouble(tb);
      } else {
        un = ftz && mg != 0 && mg < minBits;
        if (rmode == RNE) {
          mg += half + ((mg >>> d) & 1L);
        } else if (rmode == SR) {
          mg += StochasticBits.fmix64((outBase + j) * StochasticBits.C_OUT + srBase) & low;
        }
        mg &= keep;
        if (mg > maxBits) {
          mg = maxBits;
          ovf = true;
          over++;
        }
        if (un) {
          mg = 0;
          under++;
        }
        q = Double.longBitsToDouble(mg | (tb & SIGN));
      }
      if (p != 0.0 && q == sOld && !ovf && !un) swamp++;
      s[j] = q;
    }
    ev[0] += over;
    ev[1] += under;
    ev[2] += swamp;
  }

  /**
   * out[j] = L-Mul(a, b[off + j]) for operands already on the m-bit grid, in integer lanes: the
   * magnitude sum |b| + (|a| − OFFSET) is formed in int; it can wrap past 2^31 only for overflow,
   * and such wrapped sums lie below {@link #LMUL_WRAP} while true underflows lie above it.
   */
  private void lmulRow(int aBits, int[] b, int off, int n, int offset, float[] out) {
    int ax = aBits & 0x7FFFFFFF;
    int j = 0;
    if (ax >= 0x00800000 && ax < 0x7F800000) {
      int sa = aBits & 0x80000000;
      int add = ax - offset;
      int upper = is.loopBound(n);
      for (; j < upper; j += is.length()) {
        IntVector by = IntVector.fromArray(is, b, off + j);
        IntVector bm = by.and(0x7FFFFFFF);
        IntVector sg = by.and(0x80000000).lanewise(VectorOperators.XOR, sa);
        IntVector mag = bm.add(add);
        VectorMask<Integer> ovf = mag.compare(VectorOperators.GE, 0x7F800000)
            .or(mag.compare(VectorOperators.LT, LMUL_WRAP));
        VectorMask<Integer> unf = mag.compare(VectorOperators.LT, 0x00800000).andNot(ovf);
        IntVector r = sg.or(mag);
        r = r.blend(sg.or(0x7F800000), ovf.or(bm.compare(VectorOperators.EQ, 0x7F800000)));
        r = r.blend(sg, unf.or(bm.compare(VectorOperators.LT, 0x00800000)));
        r = r.blend(0x7FC00000, bm.compare(VectorOperators.GT, 0x7F800000));
        r.reinterpretAsFloats().intoArray(out, j);
      }
    }
    for (; j < n; j++) out[j] = Float.intBitsToFloat(LMul.lmulBits(aBits, b[off + j], offset));
  }

  private static final long DOUBLE_NAN = 0x7FF8000000000000L;
  private static final long REBIAS = (long) (1023 - 127) << 52;

  /**
   * As {@link #lmulRow}, but in long lanes (no wrap) over fp32 patterns widened to long, writing
   * the fp32 result as a double: a normal fp32 magnitude field f becomes (f &lt;&lt; 29) + the
   * bias difference, the sign moves to bit 63.
   */
  private void lmulRowWide(int aBits, long[] b, int off, int n, int offset, double[] out) {
    int ax = aBits & 0x7FFFFFFF;
    int j = 0;
    if (ax >= 0x00800000 && ax < 0x7F800000) {
      long sa = (long) (aBits & 0x80000000) & 0xFFFFFFFFL;
      long add = (long) ax - offset;
      int upper = ls.loopBound(n);
      for (; j < upper; j += ls.length()) {
        LongVector by = LongVector.fromArray(ls, b, off + j);
        LongVector bm = by.and(0x7FFFFFFFL);
        LongVector sg = by.and(0x80000000L).lanewise(VectorOperators.XOR, sa)
            .lanewise(VectorOperators.LSHL, 32);
        LongVector mag = bm.add(add);
        LongVector r = sg.or(mag.lanewise(VectorOperators.LSHL, 29).add(REBIAS));
        r = r.blend(sg.or(INF), mag.compare(VectorOperators.GE, 0x7F800000L)
            .or(bm.compare(VectorOperators.EQ, 0x7F800000L)));
        r = r.blend(sg, mag.compare(VectorOperators.LT, 0x00800000L)
            .or(bm.compare(VectorOperators.LT, 0x00800000L)));
        r = r.blend(DOUBLE_NAN, bm.compare(VectorOperators.GT, 0x7F800000L));
        r.reinterpretAsDoubles().intoArray(out, j);
      }
    }
    for (; j < n; j++) out[j] = Float.intBitsToFloat(LMul.lmulBits(aBits, (int) b[off + j], offset));
  }

  /** Elementwise out[i] = L-Mul(x[i], y[i]), vectorised; equal bit for bit to {@link LMul#multiply}. */
  public void lmul(float[] x, int xOff, float[] y, int yOff, float[] out, int outOff, int n,
      Multiplier.LMul mul) {
    if (n < 0) throw new IllegalArgumentException("length must be >= 0, got " + n);
    int m = mul.mantissaBits();
    int d = 23 - m;
    int offset = LMul.offset(m);
    boolean rne = mul.rounding() == Multiplier.OperandRounding.RNE;
    int keep = ~((1 << d) - 1);
    int half = d == 0 ? 0 : (1 << (d - 1)) - 1;
    int upper = is.loopBound(n);
    int i = 0;
    for (; i < upper; i += is.length()) {
      IntVector bx = FloatVector.fromArray(fs, x, xOff + i).reinterpretAsInts();
      IntVector by = FloatVector.fromArray(fs, y, yOff + i).reinterpretAsInts();
      IntVector mx = bx.and(0x7FFFFFFF);
      IntVector my = by.and(0x7FFFFFFF);
      VectorMask<Integer> nanx = mx.compare(VectorOperators.GT, 0x7F800000);
      VectorMask<Integer> nany = my.compare(VectorOperators.GT, 0x7F800000);
      if (d > 0) {
        if (rne) {
          mx = mx.add(half).add(mx.lanewise(VectorOperators.LSHR, d).and(1));
          my = my.add(half).add(my.lanewise(VectorOperators.LSHR, d).and(1));
        }
        mx = mx.and(keep);
        my = my.and(keep);
      }
      IntVector sg = bx.lanewise(VectorOperators.XOR, by).and(0x80000000);
      // both magnitudes ≤ 0x7F800000 here matter; sum in int can wrap only for overflow (see lmulRow)
      IntVector mag = mx.add(my).sub(offset);
      VectorMask<Integer> infx = mx.compare(VectorOperators.EQ, 0x7F800000);
      VectorMask<Integer> infy = my.compare(VectorOperators.EQ, 0x7F800000);
      VectorMask<Integer> zx = mx.compare(VectorOperators.LT, 0x00800000);
      VectorMask<Integer> zy = my.compare(VectorOperators.LT, 0x00800000);
      VectorMask<Integer> ovf = mag.compare(VectorOperators.GE, 0x7F800000)
          .or(mag.compare(VectorOperators.LT, LMUL_WRAP));
      VectorMask<Integer> unf = mag.compare(VectorOperators.LT, 0x00800000).andNot(ovf);
      IntVector r = sg.or(mag);
      r = r.blend(sg.or(0x7F800000), ovf);
      r = r.blend(sg, unf.or(zx).or(zy));
      VectorMask<Integer> inf = infx.or(infy);
      r = r.blend(sg.or(0x7F800000), inf);
      VectorMask<Integer> nan = nanx.or(nany).or(infx.and(mx.compare(VectorOperators.EQ, 0).or(my.compare(VectorOperators.EQ, 0))))
          .or(infy.and(mx.compare(VectorOperators.EQ, 0)));
      r = r.blend(0x7FC00000, nan);
      r.reinterpretAsFloats().intoArray(out, outOff + i);
    }
    for (; i < n; i++) out[outOff + i] = LMul.multiply(x[xOff + i], y[yOff + i], mul);
  }

  // ================================================================ integer operands

  @Override
  public GemmStats gemmS8(
      Accumulator acc, boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
    EmulatedGemm.check(acc, true, m, n, k);
    return intGemm(acc, transA, transB, m, n, k, ints(a, aOff, transA ? k : m, transA ? m : k, lda),
        ints(b, bOff, transB ? n : k, transB ? k : n, ldb), c, cOff, ldc);
  }

  @Override
  public GemmStats gemmS16(
      Accumulator acc, boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
    EmulatedGemm.check(acc, true, m, n, k);
    return intGemm(acc, transA, transB, m, n, k, ints(a, aOff, transA ? k : m, transA ? m : k, lda),
        ints(b, bOff, transB ? n : k, transB ? k : n, ldb), c, cOff, ldc);
  }

  /** A rows × cols matrix at x[off] with leading dimension ld, widened to dense ints (leading dimension cols). */
  private static int[] ints(byte[] x, int off, int rows, int cols, int ld) {
    int[] r = new int[rows * cols];
    for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) r[i * cols + j] = x[off + i * ld + j];
    return r;
  }

  private static int[] ints(short[] x, int off, int rows, int cols, int ld) {
    int[] r = new int[rows * cols];
    for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) r[i * cols + j] = x[off + i * ld + j];
    return r;
  }

  /** The integer GEMM on dense widened operands: a is m × k (k × m when transA), b is k × n (n × k when transB). */
  private GemmStats intGemm(Accumulator acc, boolean transA, boolean transB, int m, int n, int k,
      int[] a, int[] b, int[] c, int cOff, int ldc) {
    int lda = transA ? m : k, ldb = transB ? k : n;
    int[] bp = new int[k * n];
    for (int p = 0; p < k; p++) {
      for (int j = 0; j < n; j++) bp[packIndex(p, j, n, k)] = transB ? b[j * ldb + p] : b[p * ldb + j];
    }
    return RowSplit.run(threads, m, (long) m * n * k, (from, to) -> {
      long[] ev = new long[3];
      IntRow row = new IntRow(Math.min(n, STRIP), k);
      for (int j0 = 0; j0 < n; j0 += STRIP) {
        int w = Math.min(STRIP, n - j0);
        for (int i = from; i < to; i++) {
          for (int p = 0; p < k; p++) row.a[p] = transA ? a[p * lda + i] : a[i * lda + p];
          ev[0] += intRow(acc, w, k, j0 * k, bp, row);
          System.arraycopy(row.result, 0, c, cOff + i * ldc + j0, w);
        }
      }
      return ev;
    });
  }

  private static final class IntRow {
    final int[] a;
    final int[] s;
    final int[] sCarry;
    final int[] o;
    final int[] oCarry;
    final int[] result;

    IntRow(int n, int k) {
      a = new int[k];
      s = new int[n];
      sCarry = new int[n];
      o = new int[n];
      oCarry = new int[n];
      result = new int[n];
    }
  }

  /** Runs one output row; returns its overflow count. Result in r.result. */
  private long intRow(Accumulator acc, int n, int k, int base, int[] bp, IntRow r) {
    long over = 0;
    if (acc instanceof Chunked ch) {
      java.util.Arrays.fill(r.o, 0);
      java.util.Arrays.fill(r.oCarry, 0);
      for (int k0 = 0; k0 < k; k0 += ch.chunkSize()) {
        java.util.Arrays.fill(r.s, 0);
        java.util.Arrays.fill(r.sCarry, 0);
        int k1 = Math.min(k, k0 + ch.chunkSize());
        for (int p = k0; p < k1; p++) over += stepInt(r.s, r.sCarry, r.a[p], bp, base + p * n, n, ch.inner());
        if (ch.inner() instanceof Int32Exact) over += nonZero(r.sCarry, n);
        over += stepInt(r.o, r.oCarry, 1, r.s, 0, n, ch.outer());
      }
      if (ch.outer() instanceof Int32Exact) over += nonZero(r.oCarry, n);
      System.arraycopy(r.o, 0, r.result, 0, n);
    } else {
      java.util.Arrays.fill(r.s, 0);
      java.util.Arrays.fill(r.sCarry, 0);
      for (int p = 0; p < k; p++) over += stepInt(r.s, r.sCarry, r.a[p], bp, base + p * n, n, acc);
      if (acc instanceof Int32Exact) over += nonZero(r.sCarry, n);
      System.arraycopy(r.s, 0, r.result, 0, n);
    }
    return over;
  }

  private static long nonZero(int[] v, int n) {
    long z = 0;
    for (int j = 0; j < n; j++) if (v[j] != 0) z++;
    return z;
  }

  /**
   * s[j] += a·src[off + j] in the given integer register, for j in [0, n). Int32Exact keeps s
   * wrapped and counts the 2^32 carries in carry[j] (the exact sum is s + carry·2^32). Returns the
   * number of overflow events (IntN only; Int32Exact counts at the end of its chain).
   */
  private long stepInt(int[] s, int[] carry, int a, int[] src, int off, int n, Accumulator acc) {
    final boolean exact = acc instanceof Int32Exact;
    final IntN in = exact ? null : (IntN) acc;
    final boolean sat = !exact && in.mode() == Accumulator.OverflowMode.SATURATE;
    final boolean full = exact || in.bits() == 32;
    final int lo = exact ? Integer.MIN_VALUE : in.min();
    final int hi = exact ? Integer.MAX_VALUE : in.max();
    final int sh = exact ? 0 : 32 - in.bits();
    long over = 0;
    IntVector av = IntVector.broadcast(is, a);
    int upper = is.loopBound(n);
    int j = 0;
    for (; j < upper; j += is.length()) {
      IntVector sv = IntVector.fromArray(is, s, j);
      IntVector pv = IntVector.fromArray(is, src, off + j).mul(av);
      IntVector tv = sv.add(pv);
      // -1 in lanes where s + p overflowed int32 (both addends' signs differ from the sum's), else
      // 0; kept arithmetic rather than masked, which C2 handles better for integer lanes
      IntVector ovBits = sv.lanewise(VectorOperators.XOR, tv)
          .and(pv.lanewise(VectorOperators.XOR, tv)).lanewise(VectorOperators.ASHR, 31);
      if (exact) {
        IntVector dir = pv.lanewise(VectorOperators.ASHR, 31).or(1); // +1 or −1 by p's sign
        IntVector.fromArray(is, carry, j).add(ovBits.and(dir)).intoArray(carry, j);
      } else if (full) {
        VectorMask<Integer> ov32 = ovBits.compare(VectorOperators.NE, 0);
        over += ov32.trueCount();
        if (sat) {
          tv = tv.blend(sv.lanewise(VectorOperators.ASHR, 31).lanewise(VectorOperators.XOR, Integer.MAX_VALUE), ov32);
        }
      } else {
        VectorMask<Integer> ov = tv.compare(VectorOperators.GT, hi)
            .or(tv.compare(VectorOperators.LT, lo)).or(ovBits.compare(VectorOperators.NE, 0));
        over += ov.trueCount();
        if (sat) {
          // past int32 the true sum lies beyond the range on p's side: lo if p < 0, else hi
          IntVector bound = pv.lanewise(VectorOperators.ASHR, 31).and(lo - hi).add(hi);
          IntVector clamped = tv.max(lo).min(hi);
          tv = clamped.add(bound.sub(clamped).and(ovBits));
        } else {
          tv = tv.lanewise(VectorOperators.LSHL, sh).lanewise(VectorOperators.ASHR, sh);
        }
      }
      tv.intoArray(s, j);
    }
    for (; j < n; j++) {
      int sv = s[j];
      int pv = a * src[off + j];
      int tv = sv + pv;
      boolean ov32 = ((sv ^ tv) & (pv ^ tv)) < 0;
      if (exact) {
        if (ov32) carry[j] += pv < 0 ? -1 : 1;
      } else if (full) {
        if (ov32) {
          over++;
          if (sat) tv = sv < 0 ? Integer.MIN_VALUE : Integer.MAX_VALUE;
        }
      } else {
        boolean ov = ov32 || tv > hi || tv < lo;
        if (ov) {
          over++;
          if (sat) {
            tv = ov32 ? (pv < 0 ? lo : hi) : Math.max(lo, Math.min(hi, tv));
          } else {
            tv = (tv << sh) >> sh;
          }
        }
      }
      s[j] = tv;
    }
    return over;
  }
}
