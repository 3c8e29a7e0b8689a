package dev.lowbit.nn;

import dev.lowbit.format.BlockFormat;
import dev.lowbit.format.EncodedTensor;
import dev.lowbit.format.IntCodes;
import dev.lowbit.format.IntFormat;
import dev.lowbit.format.Quantizer;
import dev.lowbit.kernel.Accumulator;
import dev.lowbit.kernel.ChainedIntGemm;
import dev.lowbit.kernel.IntGemmEpilogue;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.numerics.GemmCall;
import dev.lowbit.numerics.ProductPlan;
import java.util.Optional;

/**
 * Runs a product of {@link Compute#gemm} on the integer kernels when both operands' quantizers
 * give integer codes whose scales factor out of the sum: DFP with one shared exponent per tensor
 * (Das et al., "Mixed Precision Training of Convolutional Neural Networks using Integer
 * Operations", ICLR 2018; spec training-numerics §1) and dynamic signed integers of at most 16
 * bits per tensor or per output channel (Jacob et al., CVPR 2018), both with nearest-even
 * rounding. Codes are encoded straight from the strided operands into per-thread buffers
 * ({@link IntCodes}); the product runs as int32 chains spilled into fp32 ({@link ChainedIntGemm}),
 * with the chain length and wrap/saturate from the policy's accumulator rule for the product:
 *
 * <ul>
 *   <li>none, {@code int32}, {@code int32:wrap|sat}: one chain over all of k;
 *   <li>{@code int32[:wrap|:sat]/cL}: chains of at most L products, each spilled into the fp32
 *       output (the DFP16 kernels' bounded chain; the outer sum is fp32 whatever the rule names);
 *   <li>anything else (narrower integers, float accumulators): not handled here.
 * </ul>
 *
 * Backward-weight products run here too unless the policy quantizes the weight gradient. Integer
 * codes of other roundings and granularities run with exact int32 sums on the backend's integer
 * GEMM instead ({@link #codesGemm}). The engines in {@link GemmEngines} decide from the plan which
 * of the two runs a product; a call declines only when an operand holds NaN or infinity, which
 * then goes on to fake quantization.
 */
final class IntegerProducts {

  private IntegerProducts() {}

  /** Per-thread code and scale buffers, grown on demand and reused across products. */
  private static final class Scratch {
    short[] a = new short[0];
    short[] b = new short[0];
    byte[] a8 = new byte[0];
    byte[] b8 = new byte[0];
    float[] sa = new float[0];
    float[] sb = new float[0];
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  /** The chain length and overflow mode of an accumulator rule, or null when not an int32 rule. */
  record Chains(int length, Accumulator.OverflowMode mode) {}

  /** Chains for an accumulator rule (empty: the default int32 sum). */
  static Chains chains(Optional<Accumulator> rule) {
    if (rule.isEmpty()) return new Chains(ChainedIntGemm.UNBOUNDED, Accumulator.OverflowMode.WRAP);
    Accumulator acc = rule.get();
    int length = ChainedIntGemm.UNBOUNDED;
    if (acc instanceof Accumulator.Chunked ch) {
      length = ch.chunkSize();
      acc = ch.inner();
    }
    return switch (acc) {
      case Accumulator.Int32Exact e -> new Chains(length, Accumulator.OverflowMode.WRAP);
      case Accumulator.IntN in when in.bits() == 32 -> new Chains(length, in.mode());
      default -> null;
    };
  }



  /**
   * Whether an operand's scales factor out of the sum: op(A) is m×k, its scale may follow m only;
   * op(B) is k×n, its scale may follow n only.
   */
  static boolean scalesOutsideSum(Quantizer q, boolean trans, boolean isA) {
    int ax = PlanRules.channelAxis(q);
    return ax == -1 || ax == (isA ? (trans ? 1 : 0) : (trans ? 0 : 1));
  }

  /** A stored operand: the call's matrix and its stored (not transposed) shape. */
  private record Stored(GemmCall.Matrix x, int rows, int cols) {
    static Stored a(GemmCall c, boolean trans) {
      return new Stored(c.a(), trans ? c.k() : c.m(), trans ? c.m() : c.k());
    }

    static Stored b(GemmCall c, boolean trans) {
      return new Stored(c.b(), trans ? c.n() : c.k(), trans ? c.k() : c.n());
    }

    int size() {
      return rows * cols;
    }
  }

  /**
   * C = op(A)·op(B) (+ C) as int32 chains on the operands' codes, for a plan the chains engine
   * accepted ({@link GemmEngines.IntegerChains}: both quantizers give codes whose scales factor out
   * of the sum, an int32 accumulator rule); false (nothing written) when an operand holds NaN or
   * infinity.
   */
  static boolean gemm(Numerics q, ProductPlan p, GemmCall call) {
    boolean transA = p.site().transA(), transB = p.site().transB();
    Quantizer qa = p.a().orElseThrow(), qb = p.b().orElseThrow();
    int bitsA = PlanRules.codeBits(qa), bitsB = PlanRules.codeBits(qb);
    int axA = PlanRules.channelAxis(qa), axB = PlanRules.channelAxis(qb);
    Chains ch = chains(p.accumulator());
    if (byteCodes(p)) return gemm8(q, p, call, ch);
    Stored sa = Stored.a(call, transA), sb = Stored.b(call, transB);
    Scratch s = SCRATCH.get();
    if (s.a.length < sa.size()) s.a = new short[sa.size()];
    if (s.b.length < sb.size()) s.b = new short[sb.size()];
    if (s.sa.length < Math.max(sa.rows(), sa.cols())) s.sa = new float[Math.max(sa.rows(), sa.cols())];
    if (s.sb.length < Math.max(sb.rows(), sb.cols())) s.sb = new float[Math.max(sb.rows(), sb.cols())];
    double scA = encode(qa, axA, sa, s.a, s.sa);
    if (Double.isNaN(scA)) return false;
    double scB = encode(qb, axB, sb, s.b, s.sb);
    if (Double.isNaN(scB)) return false;
    double scale = scA * scB;
    float[] rowScale = axA == -1 ? null : s.sa, colScale = axB == -1 ? null : s.sb;
    GemmCall.Matrix c = call.c();
    int m = call.m(), n = call.n(), k = call.k();
    long events;
    if (bitsA == 8 && bitsB == 8) {
      if (s.a8.length < sa.size()) s.a8 = new byte[sa.size()];
      if (s.b8.length < sb.size()) s.b8 = new byte[sb.size()];
      IntCodes.narrow(s.a, sa.size(), s.a8);
      IntCodes.narrow(s.b, sb.size(), s.b8);
      events = ChainedIntGemm.gemmS8(ch.mode(), ch.length(), transA, transB, m, n, k, s.a8, 0, sa.cols(), s.b8, 0,
          sb.cols(), scale, rowScale, colScale, call.accumulate(), c.x(), c.off(), c.ld());
    } else {
      events = ChainedIntGemm.gemmS16(ch.mode(), ch.length(), transA, transB, m, n, k, s.a, 0, sa.cols(), s.b, 0,
          sb.cols(), scale, rowScale, colScale, call.accumulate(), c.x(), c.off(), c.ld());
    }
    q.countIntegerGemm(events);
    return true;
  }

  /**
   * C = op(A)·op(B) (+ C) with exact int32 sums on the backend's integer GEMM, for a plan the
   * integer engine accepted ({@link GemmEngines.IntegerCodes}: integer codes of any rounding whose
   * scales do not vary along the reduction, so that the product factors as (Σ codeA·codeB) ·
   * scaleA[i] · scaleB[j], Jacob et al., CVPR 2018). Codes of at most 8 bits use the exact
   * s8×s8→int32 kernel, up to 16 bits the int16 kernel with overflow counting. False (nothing
   * written) when an operand holds NaN or infinity (the float path then carries it to the loss).
   */
  static boolean codesGemm(Numerics q, ProductPlan p, GemmCall call) {
    ProductPlan.Site site = p.site();
    boolean transA = site.transA(), transB = site.transB();
    Quantizer qa = p.a().orElseThrow(), qb = p.b().orElseThrow();
    int width = Math.max(PlanRules.codeWidth(qa), PlanRules.codeWidth(qb));
    int axA = PlanRules.scaleAxis(qa), axB = PlanRules.scaleAxis(qb);
    Stored sa = Stored.a(call, transA), sb = Stored.b(call, transB);
    Codes ea = Codes.of(qa, axA, sa, q.seed(), q.stream(site.layer(), site.roleA(), call.a().off()));
    Codes eb = ea == null ? null : Codes.of(qb, axB, sb, q.seed(), q.stream(site.layer(), site.roleB(), call.b().off()));
    if (eb == null) return false; // NaN or infinity
    int m = call.m(), n = call.n(), k = call.k();
    int[] acc = new int[m * n];
    long overflows = 0;
    if (width == 8) {
      Kernels.gemm().gemmS8S8(transA, transB, m, n, k, ea.bytes(), 0, sa.cols(), eb.bytes(), 0, sb.cols(), acc, 0, n);
    } else {
      overflows = Kernels.gemm().gemmS16(transA, transB, m, n, k, ea.shorts(), 0, sa.cols(), eb.shorts(), 0, sb.cols(),
          acc, 0, n, true);
    }
    q.countIntegerGemm(overflows);
    float scale = (axA == -1 ? ea.scales()[0] : 1f) * (axB == -1 ? eb.scales()[0] : 1f);
    float[] rowScale = axA == -1 ? null : ea.scales(), colScale = axB == -1 ? null : eb.scales();
    GemmCall.Matrix c = call.c();
    if (!call.accumulate()) {
      IntGemmEpilogue.dequantize(m, n, acc, 0, n, scale, rowScale, colScale, c.x(), c.off(), c.ld());
    } else {
      float[] t = new float[m * n];
      IntGemmEpilogue.dequantize(m, n, acc, 0, n, scale, rowScale, colScale, t, 0, n);
      for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c.x()[c.off() + i * c.ld() + j] += t[i * n + j];
    }
    return true;
  }

  /**
   * A stored matrix's integer codes and scales for {@link #codesGemm}: from {@link IntCodes}
   * (vectorized, no copy; the same codes and scales as {@link Quantizer#encode}, which {@code
   * IntCodesTest} checks) for nearest-even signed integers of at most 16 bits, else from {@link
   * Quantizer#encode} on a compact copy; null when the matrix holds NaN or infinity.
   */
  private record Codes(short[] shorts, float[] scales) {
    static Codes of(Quantizer q, int axis, Stored x, long seed, long stream) {
      IntFormat f = PlanRules.directIntCodes(q);
      GemmCall.Matrix v = x.x();
      if (f != null && axis <= 1) {
        short[] codes = new short[x.size()];
        float[] scales = new float[axis == -1 ? 1 : axis == 0 ? x.rows() : x.cols()];
        return IntCodes.encodeInt(f, axis, v.x(), v.off(), v.ld(), x.rows(), x.cols(), codes, scales)
            ? new Codes(codes, scales) : null;
      }
      EncodedTensor e;
      try {
        e = q.encode(Numerics.compact(v.x(), v.off(), v.ld(), x.rows(), x.cols()), new int[] {x.rows(), x.cols()},
            seed, stream);
      } catch (IllegalArgumentException nonFinite) {
        return null;
      }
      return new Codes(e.codesAsShorts(), e.scales());
    }

    byte[] bytes() {
      byte[] b = new byte[shorts.length];
      IntCodes.narrow(shorts, shorts.length, b);
      return b;
    }
  }

  /**
   * Whether the plan's product runs on 8-bit codes encoded straight into bytes ({@link #gemm8}), so
   * that it can take the operands' codes from the quantized tensors a layer made once ({@link
   * dev.lowbit.tensor.QuantizedTensor}).
   */
  static boolean byteCodes(ProductPlan p) {
    if (p.a().isEmpty() || p.b().isEmpty()) return false;
    Quantizer qa = p.a().get(), qb = p.b().get();
    return PlanRules.codeBits(qa) == 8 && PlanRules.codeBits(qb) == 8
        && PlanRules.bytesDirect(qa, PlanRules.channelAxis(qa)) && PlanRules.bytesDirect(qb, PlanRules.channelAxis(qb));
  }

  /**
   * The 8-bit product with the codes encoded straight into bytes ({@link IntCodes#encodeInt8}: no
   * int16 buffer, no narrowing pass), or taken as they are from an operand the layer quantized
   * once ({@link GemmCall.Matrix#quantized}, whose values the fake-quantized backward products
   * then take).
   */
  private static boolean gemm8(Numerics q, ProductPlan p, GemmCall call, Chains ch) {
    ProductPlan.Site site = p.site();
    Quantizer qa = p.a().orElseThrow(), qb = p.b().orElseThrow();
    int axA = PlanRules.channelAxis(qa), axB = PlanRules.channelAxis(qb);
    boolean transA = site.transA(), transB = site.transB();
    int m = call.m(), n = call.n(), k = call.k();
    int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
    Scratch s = SCRATCH.get();
    if (s.a8.length < aRows * aCols) s.a8 = new byte[aRows * aCols];
    if (s.b8.length < bRows * bCols) s.b8 = new byte[bRows * bCols];
    if (s.sa.length < aRows) s.sa = new float[aRows];
    if (s.sb.length < bRows) s.sb = new float[bRows];
    Codes8 ca = codes8(qa, axA, call.a(), aRows, aCols, s.a8, s.sa);
    Codes8 cb = ca == null ? null : codes8(qb, axB, call.b(), bRows, bCols, s.b8, s.sb);
    if (cb == null) return false; // NaN or infinity
    if (ca.taken() || cb.taken()) q.countCodesTaken((ca.taken() ? 1 : 0) + (cb.taken() ? 1 : 0));
    double scale = (axA == -1 ? ca.scales()[0] : 1.0) * (axB == -1 ? cb.scales()[0] : 1.0);
    float[] rowScale = axA == -1 ? null : ca.scales(), colScale = axB == -1 ? null : cb.scales();
    GemmCall.Matrix c = call.c();
    long events = ChainedIntGemm.gemmS8(ch.mode(), ch.length(), transA, transB, m, n, k, ca.codes(), 0, aCols,
        cb.codes(), 0, bCols, scale, rowScale, colScale, call.accumulate(), c.x(), c.off(), c.ld());
    q.countIntegerGemm(events);
    return true;
  }

  /** An operand's byte codes and scales; {@code taken}: from the layer's quantized tensor, not encoded here. */
  private record Codes8(byte[] codes, float[] scales, boolean taken) {}

  /**
   * The codes of a compact operand quantized once by the layer with these codes' axis, else the
   * stored operand encoded into the scratch arrays; null when it holds NaN or infinity.
   */
  private static Codes8 codes8(Quantizer q, int axis, GemmCall.Matrix x, int rows, int cols, byte[] codes, float[] scales) {
    dev.lowbit.tensor.QuantizedTensor t = x.quantizedBy(q);
    if (t != null && t.hasCodes() && t.scaleAxis() == axis && x.off() == 0 && x.ld() == cols
        && t.codes().length == rows * cols) {
      return new Codes8(t.codes(), t.scales(), true);
    }
    if (!IntCodes.encodeInt8((IntFormat) q.format(), axis, x.x(), x.off(), x.ld(), rows, cols, codes, scales, null)) {
      return null;
    }
    return new Codes8(codes, scales, false);
  }

  /**
   * Encodes the stored rows × cols matrix into {@code codes}; returns the per-tensor scale (1 when
   * the scales are per channel, written to {@code scales}), or NaN when it holds NaN or infinity.
   */
  private static double encode(Quantizer q, int axis, Stored s, short[] codes, float[] scales) {
    GemmCall.Matrix x = s.x();
    BlockFormat bf = PlanRules.dfp(q);
    if (bf != null) {
      int e = IntCodes.encodeDfp(bf, x.x(), x.off(), x.ld(), s.rows(), s.cols(), codes);
      return e == BlockFormat.NAN_EXPONENT ? Double.NaN : Math.scalb(1.0, e);
    }
    if (!IntCodes.encodeInt((IntFormat) q.format(), axis, x.x(), x.off(), x.ld(), s.rows(), s.cols(), codes, scales)) {
      return Double.NaN;
    }
    return axis == -1 ? scales[0] : 1.0;
  }
}
