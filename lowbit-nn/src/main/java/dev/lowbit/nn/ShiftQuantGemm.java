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
import java.util.Optional;

/**
 * The backward products under {@code option error-quantizer shiftquant} (Guo et al., arXiv
 * 2411.10948; spec training-numerics §2.4, reconstructed): the error G of backward-data (dX = G·W)
 * and backward-weight (dW = Gᵀ·X) is quantized by {@link ShiftQuant} — b bits from the policy's
 * error rule (a dynamic signed integer), K from {@code shift-max} (default 8 − b), its rounding —
 * once per backward pass (both products reuse one quantized copy), and each product runs as one
 * integer GEMM on the pre-shifted codes with a single scalar epilogue. The error rule's granularity
 * is not used: ShiftQuant's channels are the layer's output channels, found from the product (see
 * {@link #channelAxis}).
 *
 * <p>The other operand (weight, activation) takes the integer path when its rule is a dynamic
 * integer of at most 8 bits (16 with an int16 ShiftQuant container) with one scale per tensor; it
 * is encoded with the same stream as in {@link Numerics#integerGemm}, so it has the same codes as
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

  // one quantized copy per error slice serves both backward products: a few recent ones are kept,
  // checked against the source values (so a reused array can never return stale codes); the
  // result's layout is the slice's shape and channel axis
  private record Entry(GemmCall.Matrix src, long step, float[] copy, ShiftQuant.Result result) {}

  private final Entry[] cache = new Entry[8];
  private int next;

  private synchronized ShiftQuant.Result cached(GemmCall.Matrix src, ShiftQuant.Layout layout, long step) {
    for (Entry e : cache) {
      if (e != null && e.src.x() == src.x() && e.src.off() == src.off() && e.src.ld() == src.ld()
          && e.result.layout().equals(layout) && e.step == step && sameValues(src, layout, e.copy)) {
        return e.result;
      }
    }
    return null;
  }

  private synchronized void remember(Entry e) {
    for (int i = 0; i < cache.length; i++) {
      if (cache[i] != null && cache[i].step != e.step) cache[i] = null; // an earlier step's errors are done with
    }
    cache[next] = e;
    next = (next + 1) % cache.length;
  }

  private static boolean sameValues(GemmCall.Matrix src, ShiftQuant.Layout layout, float[] copy) {
    float[] x = src.x();
    int off = src.off(), ld = src.ld(), cols = layout.cols();
    for (int r = 0; r < layout.rows(); r++) {
      if (!java.util.Arrays.equals(x, off + r * ld, off + r * ld + cols, copy, r * cols, r * cols + cols)) return false;
    }
    return true;
  }

  /** Runs the product when it is a backward product with an error operand; false leaves it to the caller. */
  boolean gemm(Numerics q, ProductPlan.Site site, GemmCall call) {
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
    if (q.lookup(layer, roleC).isPresent()) return false; // a quantized result: the generic path does it
    Optional<Quantizer> oqe = q.lookup(layer, Role.ERROR);
    int bits = oqe.isEmpty() ? 0 : PlanRules.shiftQuantErrorBits(oqe.get());
    if (bits == 0) return false;
    int maxShift = maxShiftOption >= 0 ? maxShiftOption : ShiftQuant.defaultMaxShift(bits);
    ShiftQuant.checkParameters(bits, maxShift); // a bad shift-max is an error, not a silent fallback
    boolean tE = errA ? transA : transB;
    int eRows = errA ? (transA ? k : m) : (transB ? n : k);
    int eCols = errA ? (transA ? m : k) : (transB ? k : n);
    float[] e = errA ? a : b;
    int eOff = errA ? aOff : bOff, eLd = errA ? lda : ldb;
    ShiftQuant.Layout layout = new ShiftQuant.Layout(eRows, eCols, channelAxis(product, errA, tE));
    GemmCall.Matrix source = new GemmCall.Matrix(e, eOff, eLd);

    ShiftQuant.Result sq = cached(source, layout, q.step());
    if (sq == null) {
      float[] copy = Numerics.compact(e, eOff, eLd, eRows, eCols);
      try {
        sq = ShiftQuant.quantize(copy, layout, bits, maxShift, oqe.get().rounding(), q.seed(),
            q.stream(layer, Role.ERROR, eOff));
      } catch (IllegalArgumentException nonFinite) {
        return false; // NaN/inf: the float path carries it to the loss
      }
      remember(new Entry(source, q.step(), copy, sq));
      q.countQuantized(1);
    }

    Role otherRole = errA ? roleB : roleA;
    boolean tO = errA ? transB : transA;
    int oRows = errA ? (transB ? n : k) : (transA ? k : m);
    int oCols = errA ? (transB ? k : n) : (transA ? m : k);
    float[] o = errA ? b : a;
    int oOff = errA ? bOff : aOff, oLd = errA ? ldb : lda;
    Optional<Quantizer> oqo = q.lookup(layer, otherRole);
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
      float[] ed = sq.dequantize();
      float[] od = o;
      int odOff = oOff, odLd = oLd;
      if (oqo.isPresent()) {
        od = q.quantize(oqo.get(), layer, otherRole, o, oOff, oLd, oRows, oCols);
        odOff = 0;
        odLd = oCols;
      }
      if (errA) {
        Kernels.gemm().sgemm(transA, transB, m, n, k, 1f, ed, 0, eCols, od, odOff, odLd, accumulate ? 1f : 0f, c, cOff, ldc);
      } else {
        Kernels.gemm().sgemm(transA, transB, m, n, k, 1f, od, odOff, odLd, ed, 0, eCols, accumulate ? 1f : 0f, c, cOff, ldc);
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
