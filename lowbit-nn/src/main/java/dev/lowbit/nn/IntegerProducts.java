package dev.lowbit.nn;

import dev.lowbit.format.BlockFormat;
import dev.lowbit.format.IntCodes;
import dev.lowbit.format.IntFormat;
import dev.lowbit.format.Quantizer;
import dev.lowbit.kernel.Accumulator;
import dev.lowbit.kernel.ChainedIntGemm;
import dev.lowbit.numerics.MethodOptions;
import dev.lowbit.numerics.GemmCall;
import dev.lowbit.numerics.Product;
import dev.lowbit.numerics.ProductPlan;
import dev.lowbit.numerics.Role;
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
 * Backward-weight products run here too unless the policy quantizes the weight gradient.
 * Everything this class declines (other roundings, other granularities, policies with their own
 * error quantizer such as ShiftQuant, NaN or infinity in an operand) falls through to {@link
 * Numerics#integerGemm} and then to fake quantization.
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

  /**
   * C = op(A)·op(B) (+ C) on the integer kernels when the numerics allow (see the class comment);
   * false (nothing written) otherwise.
   */
  static boolean gemm(Numerics q, ProductPlan.Site site, GemmCall call) {
    String layer = site.layer();
    Product product = site.product();
    Role roleA = site.roleA(), roleB = site.roleB(), roleC = site.roleC();
    boolean transA = site.transA(), transB = site.transB();
    int m = call.m(), n = call.n(), k = call.k();
    float[] a = call.a().x(), b = call.b().x(), c = call.c().x();
    int aOff = call.a().off(), lda = call.a().ld(), bOff = call.b().off(), ldb = call.b().ld();
    int cOff = call.c().off(), ldc = call.c().ld();
    boolean accumulate = call.accumulate();

    if (roleC != null && q.lookup(layer, roleC).isPresent()) return false;
    if (q.policy().methods().errorQuantizer() != MethodOptions.ErrorQuantizer.UNSET) return false; // ShiftQuant runs its own path
    Optional<Quantizer> oqa = q.lookup(layer, roleA), oqb = q.lookup(layer, roleB);
    if (oqa.isEmpty() || oqb.isEmpty()) return false;
    Quantizer qa = oqa.get(), qb = oqb.get();
    int bitsA = PlanRules.codeBits(qa), bitsB = PlanRules.codeBits(qb);
    if (bitsA == 0 || bitsB == 0) return false;
    int axA = PlanRules.channelAxis(qa), axB = PlanRules.channelAxis(qb);
    // op(A) is m×k: its scale may follow m only; op(B) is k×n: its scale may follow n only
    if (axA != -1 && axA != (transA ? 1 : 0)) return false;
    if (axB != -1 && axB != (transB ? 0 : 1)) return false;
    Chains ch = chains(q.policy().accumulator(layer, product));
    if (ch == null) return false;
    int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
    if (bitsA == 8 && bitsB == 8 && PlanRules.bytesDirect(qa, axA) && PlanRules.bytesDirect(qb, axB)) {
      return gemm8(q, site, call, ch, qa, axA, qb, axB);
    }
    Scratch s = SCRATCH.get();
    if (s.a.length < aRows * aCols) s.a = new short[aRows * aCols];
    if (s.b.length < bRows * bCols) s.b = new short[bRows * bCols];
    if (s.sa.length < Math.max(aRows, aCols)) s.sa = new float[Math.max(aRows, aCols)];
    if (s.sb.length < Math.max(bRows, bCols)) s.sb = new float[Math.max(bRows, bCols)];
    double scA = encode(qa, axA, a, aOff, lda, aRows, aCols, s.a, s.sa);
    if (Double.isNaN(scA)) return false;
    double scB = encode(qb, axB, b, bOff, ldb, bRows, bCols, s.b, s.sb);
    if (Double.isNaN(scB)) return false;
    double scale = scA * scB;
    float[] rowScale = axA == -1 ? null : s.sa, colScale = axB == -1 ? null : s.sb;
    long events;
    if (bitsA == 8 && bitsB == 8) {
      if (s.a8.length < aRows * aCols) s.a8 = new byte[aRows * aCols];
      if (s.b8.length < bRows * bCols) s.b8 = new byte[bRows * bCols];
      IntCodes.narrow(s.a, aRows * aCols, s.a8);
      IntCodes.narrow(s.b, bRows * bCols, s.b8);
      events = ChainedIntGemm.gemmS8(ch.mode(), ch.length(), transA, transB, m, n, k, s.a8, 0, aCols, s.b8, 0, bCols,
          scale, rowScale, colScale, accumulate, c, cOff, ldc);
    } else {
      events = ChainedIntGemm.gemmS16(ch.mode(), ch.length(), transA, transB, m, n, k, s.a, 0, aCols, s.b, 0, bCols,
          scale, rowScale, colScale, accumulate, c, cOff, ldc);
    }
    q.countIntegerGemm(events);
    return true;
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
  private static boolean gemm8(Numerics q, ProductPlan.Site site, GemmCall call, Chains ch,
      Quantizer qa, int axA, Quantizer qb, int axB) {
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
  private static double encode(Quantizer q, int axis, float[] x, int off, int ld, int rows, int cols,
      short[] codes, float[] scales) {
    BlockFormat bf = PlanRules.dfp(q);
    if (bf != null) {
      int e = IntCodes.encodeDfp(bf, x, off, ld, rows, cols, codes);
      return e == BlockFormat.NAN_EXPONENT ? Double.NaN : Math.scalb(1.0, e);
    }
    if (!IntCodes.encodeInt((IntFormat) q.format(), axis, x, off, ld, rows, cols, codes, scales)) return Double.NaN;
    return axis == -1 ? scales[0] : 1.0;
  }
}
