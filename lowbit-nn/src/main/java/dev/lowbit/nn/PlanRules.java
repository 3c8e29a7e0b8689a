package dev.lowbit.nn;

import dev.lowbit.format.BlockFormat;
import dev.lowbit.format.FastQuantize;
import dev.lowbit.format.Granularity;
import dev.lowbit.format.IntCodes;
import dev.lowbit.format.IntFormat;
import dev.lowbit.format.MiniFloat;
import dev.lowbit.format.Quantizer;
import dev.lowbit.format.Rounding;
import java.util.Optional;

/**
 * The planner's rules about operands: what a quantizer's format, rounding and granularity let an
 * engine do with it (integer codes and their width, scales that factor out of a sum, bf16 values,
 * MX blocks along a reduction, elementwise formats). The one place below {@code format} that asks
 * which class a format is; engines and layers ask these rules.
 */
final class PlanRules {

  private PlanRules() {}

  /**
   * Whether every value {@code q} produces is a bf16 number, so that a product of two such operands
   * may run on bf16 kernels ({@link dev.lowbit.kernel.FloatKernels#convForwardBf16}): a minifloat
   * with at most 7 mantissa bits on its own grid (bf16 itself, fp8 without a scale) or as MX
   * elements (scaled by powers of two). Values below 2^-126, which such kernels read as zero, are
   * the one difference the kernels' contract states.
   */
  static boolean bf16Values(Optional<Quantizer> z) {
    if (z.isEmpty()) return false;
    Quantizer q = z.get();
    if (q.format() instanceof MiniFloat mf) {
      return mf.mantissaBits() <= 7 && q.granularity() instanceof Granularity.PerTensor pt
          && pt.scaling() == Granularity.Scaling.NONE;
    }
    return q.format() instanceof BlockFormat bf && bf.kind() == BlockFormat.Kind.MX
        && bf.element() instanceof MiniFloat mf && mf.mantissaBits() <= 7;
  }

  /**
   * An MX minifloat format in blocks along the GEMM operand's last axis (the presets' mxfp8, mxfp6,
   * mxfp4) with nearest-even rounding. On native convolutions such an operand is quantized in blocks
   * along the reduction dimension of each product instead (see {@link #quantizeAlong}); stochastic
   * rounding or other block axes keep the layer on im2col.
   */
  static boolean mxAlongReduction(Quantizer q) {
    return q.format() instanceof BlockFormat bf && q.granularity() instanceof Granularity.PerBlock pb
        && pb.axis() == -1 && pb.size() == bf.blockSize() && FastQuantize.supportsColumnBlocks(bf, q.rounding());
  }

  /**
   * A per-tensor element format (no integer codes, no blocks): quantizing a tensor in any layout
   * gives the same values at the same elements (with round-to-nearest).
   */
  static boolean elementwise(Quantizer q) {
    return q.granularity() instanceof Granularity.PerTensor
        && !(q.format() instanceof IntFormat) && !(q.format() instanceof BlockFormat);
  }

  /**
   * The int8 preset's convolution operands: int8 codes for the activation with one scale, and for
   * the weight with one scale or one per output channel.
   */
  static boolean int8ConvOperands(Quantizer x, Quantizer w) {
    if (!int8Codes(x) || !(x.granularity() instanceof Granularity.PerTensor)) return false;
    return int8Codes(w) && !(w.granularity() instanceof Granularity.PerChannel ch && ch.axis() != 0);
  }

  /**
   * Whether a quantizer scales a whole tensor by a percentile of its magnitudes (IM-Unpack's RTN,
   * {@link Granularity.Quantile}): its codes are int32 with one scale per tensor, taken by the wide
   * integer and unpack engines only.
   */
  static boolean quantile(Quantizer q) {
    return q.granularity() instanceof Granularity.Quantile;
  }

  /** Whether a weight is scaled per output channel (else per tensor). */
  static boolean perChannel(Quantizer q) {
    return q.granularity() instanceof Granularity.PerChannel;
  }

  /** Whether a quantizer has one scale for the whole tensor. */
  static boolean perTensor(Quantizer q) {
    return q.granularity() instanceof Granularity.PerTensor;
  }

  /** The DFP format with one exponent per tensor of a quantizer, or null. */
  static BlockFormat dfp(Quantizer q) {
    return q.format() instanceof BlockFormat bf ? bf : null;
  }

  /**
   * The signed integer format of at most 16 bits with nearest-even rounding whose codes {@link
   * IntCodes} encodes straight from a strided operand, or null.
   */
  static IntFormat directIntCodes(Quantizer q) {
    return !quantile(q) && q.rounding() == Rounding.NEAREST_EVEN && q.format() instanceof IntFormat f && f.signed() && f.bits() <= 16
        ? f : null;
  }

  /** The bits of a ShiftQuant error quantizer (dynamic signed integers of 2..8 bits), or 0. */
  static int shiftQuantErrorBits(Quantizer q) {
    return !quantile(q) && q.format() instanceof IntFormat f && f.isDynamic() && f.signed() && f.bits() >= 2 && f.bits() <= 8 ? f.bits() : 0;
  }

  /** Whether the format has integer codes at all (integers, fixed point blocks), for plan reasons. */
  static boolean integerFamily(Quantizer q) {
    return q.format() instanceof BlockFormat || q.format() instanceof IntFormat;
  }

  static boolean int8Codes(Quantizer q) {
    return codeBits(q) == 8 && q.format() instanceof IntFormat
        && !(q.granularity() instanceof Granularity.PerBlock);
  }

  /** 8 or 16 for a dynamic signed integer whose codes fit int8 / int16; 0 when the integer path does not apply. */
  static int codeWidth(Quantizer q) {
    if (!(q.format() instanceof IntFormat f) || !f.isDynamic() || quantile(q)) return 0;
    if (f.minCode() >= -128 && f.maxCode() <= 127) return 8;
    if (f.minCode() >= -32768 && f.maxCode() <= 32767) return 16;
    return 0;
  }

  /** For a stored 2-D matrix: -1 for one scale, 0 for one per row, 1 for one per column, 2 for blocks. */
  static int scaleAxis(Quantizer q) {
    return switch (q.granularity()) {
      case Granularity.PerTensor t -> -1;
      case Granularity.Quantile t -> -1;
      case Granularity.PerChannel ch -> ch.axis() < 0 ? ch.axis() + 2 : ch.axis();
      case Granularity.PerBlock bl -> 2;
    };
  }

  /** Whether a quantizer's codes can go to the integer kernels: 0 no, else the code bits (8 or 16). */
  static int codeBits(Quantizer q) {
    if (q.rounding() != Rounding.NEAREST_EVEN || quantile(q)) return 0;
    if (q.format() instanceof BlockFormat bf) {
      boolean ok = bf.kind() == BlockFormat.Kind.DFP && bf.bits() <= 16 && bf.blockSize() == 0
          && q.granularity() instanceof Granularity.PerTensor;
      return ok ? (bf.bits() <= 8 ? 8 : 16) : 0;
    }
    if (q.format() instanceof IntFormat f && f.isDynamic() && f.signed() && f.bits() <= 16
        && !(q.granularity() instanceof Granularity.PerBlock)) {
      return f.bits() <= 8 ? 8 : 16;
    }
    return 0;
  }

  /** -1 for one scale, 0 per stored row, 1 per stored column. */
  static int channelAxis(Quantizer q) {
    return q.granularity() instanceof Granularity.PerChannel ch ? (ch.axis() < 0 ? ch.axis() + 2 : ch.axis()) : -1;
  }

  /** Whether {@link IntCodes#encodeInt8} encodes the operand: an int8-or-narrower dynamic integer per tensor or per stored row. */
  static boolean bytesDirect(Quantizer q, int axis) {
    return q.format() instanceof IntFormat && (axis == -1 || axis == 0);
  }
}
