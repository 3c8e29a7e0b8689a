package dev.lowbit.nn;

import dev.lowbit.format.EncodedTensor;
import dev.lowbit.format.IntCodes;
import dev.lowbit.format.IntFormat;
import dev.lowbit.format.Quantizer;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.GemmCall;
import dev.lowbit.numerics.Product;
import dev.lowbit.numerics.ProductPlan;
import dev.lowbit.numerics.Role;
import dev.lowbit.numerics.ShiftQuant;
import dev.lowbit.tensor.QuantizedTensor;
import java.util.Optional;

/**
 * The backward products under {@code option error-quantizer shiftquant} (Guo et al., arXiv
 * 2411.10948; spec training-numerics §2.4, reconstructed): the error G of backward-data (dX = G·W)
 * and backward-weight (dW = Gᵀ·X) is quantized by {@link ShiftQuant} — b bits from the policy's
 * error rule (a dynamic signed integer), K from {@code shift-max} (default 8 − b), its rounding —
 * once per backward pass: the layer quantizes the errors on the tape ({@link #quantized}) and both
 * products take that tensor's codes (attention's sliced errors are ShiftQuant-ed per product), and each product runs as one
 * integer GEMM on the pre-shifted codes with a single scalar epilogue. The error rule's granularity
 * is not used: ShiftQuant's channels are the layer's output channels, found from the product (see
 * {@link #channelAxis}).
 *
 * <p>The other operand (weight, activation) takes the integer path when its rule is a dynamic
 * integer of at most 8 bits (16 with an int16 ShiftQuant container) with one scale per tensor; it
 * is encoded with the same stream as in {@link IntegerProducts#codesGemm}, so it has the same codes as
 * in the forward product. Otherwise the product runs in fp32 on the dequantized ShiftQuant error
 * and the fake-quantized other operand.
 */
final class ShiftQuantGemm {

  private final int maxShiftOption; // -1: 8 - b

  private ShiftQuantGemm(int maxShiftOption) {
    this.maxShiftOption = maxShiftOption;
  }

  /** The backward path for {@code policy}, or null when it does not ask for ShiftQuant. */
  static ShiftQuantGemm of(Policy policy) {
    if (policy.methods().errorQuantizer() != dev.lowbit.numerics.MethodOptions.ErrorQuantizer.SHIFTQUANT) return null;
    return new ShiftQuantGemm(policy.methods().shiftMax());
  }

  /**
   * Which stored axis of the error operand holds the layer's output channels. dW = Gᵀ·X has one
   * row per output channel, so there the channel is the error's output dimension; dX = G·W sums
   * over the output channels, so there it is the reduced dimension. This holds for Linear
   * (G rows × out: columns), Conv2d (G channels-first OC × N·H·W: rows) and attention's products
   * alike, and both products of one layer name the same stored axis.
   */
  static int channelAxis(Product product, boolean errorIsA, boolean trans) {
    boolean outputDim = product == Product.BACKWARD_WEIGHT;
    // A (m×k): m is stored axis 0 unless transposed; B (k×n): n is stored axis 1 unless transposed
    int outAxis = errorIsA ? (trans ? 1 : 0) : (trans ? 0 : 1);
    return outputDim ? outAxis : 1 - outAxis;
  }

  /** The error's bits and ShiftQuant's K for (layer), or null when the error rule is no ShiftQuant container. */
  private record Bits(int bits, int maxShift, Quantizer rule) {}

  private Bits bits(Numerics q, String layer) {
    return bits(q.lookup(layer, Role.ERROR));
  }

  /** The bits and K of an error quantizer, or null when it is no ShiftQuant container. */
  private Bits bits(Optional<Quantizer> oqe) {
    int bits = oqe.isEmpty() ? 0 : PlanRules.shiftQuantErrorBits(oqe.get());
    if (bits == 0) return null;
    int maxShift = maxShiftOption >= 0 ? maxShiftOption : ShiftQuant.defaultMaxShift(bits);
    ShiftQuant.checkParameters(bits, maxShift); // a bad shift-max is an error, not a silent fallback
    return new Bits(bits, maxShift, oqe.get());
  }

  /** The stored layout of the error operand of a backward product of {@code site} over a rows × cols error. */
  private static ShiftQuant.Layout layout(ProductPlan.Site site, int rows, int cols) {
    boolean errA = site.roleA() == Role.ERROR;
    return new ShiftQuant.Layout(rows, cols, channelAxis(site.product(), errA, errA ? site.transA() : site.transB()));
  }

  /**
   * The ShiftQuant codes of each slice of a batched error tensor (attention's per-head errors),
   * slice i being the compact matrix at offset i·rows·cols; the tape's values are theirs,
   * dequantized, laid out as the errors.
   */
  record Slices(ShiftQuant.Result[] results) implements QuantizedTensor.MethodCodes {}

  /**
   * The errors x (compact rows × cols matrices, {@code o.slices()} of them back to back, each
   * quantized with the stream of its offset as a product would) ShiftQuant-ed once for the backward
   * products {@code users} (null ones skipped), all run by this method's engine and naming one
   * channel axis; null when that does not hold or x holds NaN or infinity (each product then
   * quantizes for itself, or the float path carries the NaN to the loss).
   */
  QuantizedTensor quantized(Numerics q, Numerics.Operand o, float[] x, ProductPlan.Site... users) {
    ShiftQuant.Layout layout = null;
    for (ProductPlan.Site u : users) {
      if (u == null) continue;
      ProductPlan p = q.plan(u);
      if (!(p.engine() instanceof GemmEngines.ShiftQuantErrors)) return null;
      ShiftQuant.Layout l = layout(u, o.rows(), o.cols());
      if (layout != null && !layout.equals(l)) return null;
      layout = l;
    }
    Bits b = layout == null ? null : bits(q, o.layer());
    if (b == null) return null;
    int size = o.rows() * o.cols();
    ShiftQuant.Result[] results = new ShiftQuant.Result[o.slices()];
    float[] values = o.slices() == 1 ? null : new float[size * o.slices()];
    try {
      for (int i = 0; i < results.length; i++) {
        results[i] = ShiftQuant.quantize(java.util.Arrays.copyOfRange(x, i * size, (i + 1) * size), layout, b.bits(),
            b.maxShift(), b.rule().rounding(), q.seed(), q.stream(o.layer(), Role.ERROR, i * size));
        if (values != null) System.arraycopy(results[i].dequantize(), 0, values, i * size, size);
      }
    } catch (IllegalArgumentException nonFinite) {
      return null;
    }
    q.countQuantized(results.length);
    return results.length == 1 ? QuantizedTensor.ofMethod(b.rule(), results[0].dequantize(), results[0])
        : QuantizedTensor.ofMethod(b.rule(), values, new Slices(results));
  }

  /**
   * Runs the plan's product when it is a backward product with an error operand, the error and
   * the other operand quantized as the plan says; false leaves it to the caller.
   */
  boolean gemm(Numerics q, ProductPlan plan, GemmCall call) {
    ProductPlan.Site site = plan.site();
    String layer = site.layer();
    Product product = site.product();
    Role roleA = site.roleA(), roleB = site.roleB(), roleC = site.roleC();
    boolean transA = site.transA(), transB = site.transB();
    int m = call.m(), n = call.n(), k = call.k();
    float[] a = call.a().x(), b = call.b().x(), c = call.c().x();
    int aOff = call.a().off(), lda = call.a().ld(), bOff = call.b().off(), ldb = call.b().ld();
    int cOff = call.c().off(), ldc = call.c().ld();
    boolean accumulate = call.accumulate();

    if (product != Product.BACKWARD_DATA && product != Product.BACKWARD_WEIGHT) return false;
    boolean errA = roleA == Role.ERROR;
    if (!errA && roleB != Role.ERROR) return false;
    if (plan.result().isPresent()) return false; // a quantized result: the generic path does it
    Bits bq = bits(errA ? plan.a() : plan.b());
    if (bq == null) return false;
    int eRows = errA ? (transA ? k : m) : (transB ? n : k);
    int eCols = errA ? (transA ? m : k) : (transB ? k : n);
    float[] e = errA ? a : b;
    int eOff = errA ? aOff : bOff, eLd = errA ? lda : ldb;
    ShiftQuant.Layout layout = layout(site, eRows, eCols);
    QuantizedTensor onTape = (errA ? call.a() : call.b()).quantized();
    ShiftQuant.Result sq = null;
    boolean taken = onTape != null && onTape.methodCodes() instanceof ShiftQuant.Result r && r.layout().equals(layout)
        && eOff == 0 && eLd == eCols;
    int slice = eRows * eCols == 0 ? -1 : eOff / (eRows * eCols);
    if (!taken && onTape != null && onTape.methodCodes() instanceof Slices sl && eLd == eCols
        && eOff % (eRows * eCols) == 0 && slice < sl.results().length && sl.results()[slice].layout().equals(layout)) {
      taken = true;
      sq = sl.results()[slice]; // attention's errors, ShiftQuant-ed slice by slice once for both backward products
      q.countCodesTaken(1);
    } else if (taken) {
      sq = (ShiftQuant.Result) onTape.methodCodes(); // the layer ShiftQuant-ed the errors once for both backward products
      q.countCodesTaken(1);
    } else {
      try {
        sq = ShiftQuant.quantize(Numerics.compact(e, eOff, eLd, eRows, eCols), layout, bq.bits(), bq.maxShift(),
            bq.rule().rounding(), q.seed(), q.stream(layer, Role.ERROR, eOff));
      } catch (IllegalArgumentException nonFinite) {
        return false; // NaN/inf: the float path carries it to the loss
      }
      q.countQuantized(1);
    }

    Role otherRole = errA ? roleB : roleA;
    boolean tO = errA ? transB : transA;
    int oRows = errA ? (transB ? n : k) : (transA ? k : m);
    int oCols = errA ? (transB ? k : n) : (transA ? m : k);
    float[] o = errA ? b : a;
    int oOff = errA ? bOff : aOff, oLd = errA ? ldb : lda;
    Optional<Quantizer> oqo = errA ? plan.b() : plan.a();
    int oWidth = oqo.map(PlanRules::codeWidth).orElse(0);
    boolean perTensor = oqo.isPresent() && PlanRules.perTensor(oqo.get());
    EncodedTensor eo = null;
    short[] fastCodes = null; // IntCodes' codes (equal to encode's) for nearest-even signed integers
    float fastScale = 0;
    IntFormat of = oWidth > 0 && perTensor ? PlanRules.directIntCodes(oqo.get()) : null;
    if (of != null) {
      short[] codes = new short[oRows * oCols];
      float[] sc = new float[1];
      if (IntCodes.encodeInt(of, -1, o, oOff, oLd, oRows, oCols, codes, sc)) {
        fastCodes = codes;
        fastScale = sc[0];
      }
    } else if (oWidth > 0 && perTensor) {
      try {
        eo = oqo.get().encode(Numerics.compact(o, oOff, oLd, oRows, oCols), new int[] {oRows, oCols}, q.seed(),
            q.stream(layer, otherRole, oOff));
      } catch (IllegalArgumentException nonFinite) {
        eo = null;
      }
    }
    if (eo == null && fastCodes == null) { // fp32 product of the ShiftQuant-ed error and the (fake-quantized) other operand
      float[] ed = taken ? onTape.values() : sq.dequantize(); // the tape's values are its codes dequantized
      int edOff = taken ? eOff : 0;
      float[] od = o;
      int odOff = oOff, odLd = oLd;
      if (oqo.isPresent()) {
        od = q.quantize(oqo.get(), layer, otherRole, o, oOff, oLd, oRows, oCols);
        odOff = 0;
        odLd = oCols;
      }
      if (errA) {
        Kernels.gemm().sgemm(transA, transB, m, n, k, 1f, ed, edOff, eCols, od, odOff, odLd, accumulate ? 1f : 0f, c, cOff, ldc);
      } else {
        Kernels.gemm().sgemm(transA, transB, m, n, k, 1f, od, odOff, odLd, ed, edOff, eCols, accumulate ? 1f : 0f, c, cOff, ldc);
      }
      return true;
    }

    int[] acc = new int[m * n];
    long overflows = 0;
    if (sq.isInt8() && oWidth == 8) {
      byte[] oc;
      if (fastCodes != null) {
        oc = new byte[fastCodes.length];
        IntCodes.narrow(fastCodes, fastCodes.length, oc);
      } else {
        oc = eo.codesAsBytes();
      }
      if (errA) {
        Kernels.gemm().gemmS8S8(transA, transB, m, n, k, sq.codes8(), 0, eCols, oc, 0, oCols, acc, 0, n);
      } else {
        Kernels.gemm().gemmS8S8(transA, transB, m, n, k, oc, 0, oCols, sq.codes8(), 0, eCols, acc, 0, n);
      }
    } else {
      short[] ec = sq.isInt8() ? widen(sq.codes8()) : sq.codes16();
      short[] oc = fastCodes != null ? fastCodes : eo.codesAsShorts();
      if (errA) {
        overflows = Kernels.gemm().gemmS16(transA, transB, m, n, k, ec, 0, eCols, oc, 0, oCols, acc, 0, n, true);
      } else {
        overflows = Kernels.gemm().gemmS16(transA, transB, m, n, k, oc, 0, oCols, ec, 0, eCols, acc, 0, n, true);
      }
    }
    q.countIntegerGemm(1, overflows);
    epilogue(m, n, acc, sq.step() * (fastCodes != null ? fastScale : eo.scales()[0]), accumulate, c, cOff, ldc);
    return true;
  }

  /** c (+)= acc · scale, the scale applied in double and rounded once to float. */
  static void epilogue(int m, int n, int[] acc, double scale, boolean accumulate, float[] c, int cOff, int ldc) {
    for (int i = 0; i < m; i++) {
      int co = cOff + i * ldc, ao = i * n;
      if (accumulate) {
        for (int j = 0; j < n; j++) c[co + j] += (float) (acc[ao + j] * scale);
      } else {
        for (int j = 0; j < n; j++) c[co + j] = (float) (acc[ao + j] * scale);
      }
    }
  }

  private static short[] widen(byte[] x) {
    short[] s = new short[x.length];
    for (int i = 0; i < x.length; i++) s[i] = x[i];
    return s;
  }

}
