package dev.lowbit.nn;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Quantize;
import dev.lowbit.autograd.StepArena;
import dev.lowbit.autograd.Tape;
import dev.lowbit.autograd.Var;
import dev.lowbit.kernel.Conv;
import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.kernel.FloatKernels;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.kernel.Parallel;
import dev.lowbit.kernel.Reduce;
import dev.lowbit.format.IntCodes;
import dev.lowbit.format.IntFormat;
import dev.lowbit.format.Quantizer;
import dev.lowbit.numerics.Engine;
import dev.lowbit.numerics.GemmCall;
import dev.lowbit.numerics.Product;
import dev.lowbit.numerics.ProductPlan;
import dev.lowbit.numerics.Role;
import dev.lowbit.tensor.QuantizedTensor;
import dev.lowbit.tensor.Tensor;
import java.util.Arrays;
import java.util.Optional;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Every matrix product of the network — Linear, Conv2d and attention's batched products, forward
 * and both backward passes — goes through {@link #gemm}, named by the layer and the product's
 * {@link Product}. That single place is where the installed {@link Numerics} policy quantizes operands
 * and results per {@link Role}; the arithmetic itself runs fp32 on {@link Kernels#gemm()}.
 */
public final class Compute {

  private Compute() {}

  private static volatile Numerics numerics;
  static volatile Numerics.Observer observer; // tests only
  static volatile boolean integerPathOff; // tests only: compare the integer path with fake quantization
  static volatile boolean earlyQuantizationOff; // tests only: quantize convolution columns, not inputs, and fc operands per product
  static volatile ProductObserver productObserver; // null (the normal case): no cost beyond one read per product

  /** The installed product observer, or null. */
  public static ProductObserver productObserver() {
    return productObserver;
  }

  /** Installs the observer every later product is shown to ({@link ProductObserver}); null for none. */
  public static void observeProducts(ProductObserver o) {
    productObserver = o;
  }

  /** Installs the numerics every later product uses; null for plain fp32. */
  public static void setNumerics(Numerics n) {
    numerics = n;
  }

  /** The installed numerics, or null (plain fp32). */
  public static Numerics numerics() {
    return numerics;
  }

  /**
   * C = op(A)·op(B) (+ C when accumulate) for a product {@code site} of a layer: with no numerics
   * installed, fp32; otherwise as the product's {@link ProductPlan} says (made once per run by
   * {@link Numerics#plan}): its engines run the call in order until one takes it.
   */
  public static void gemm(ProductPlan.Site site, GemmCall call) {
    ProductObserver po = productObserver;
    if (po != null) po.product(site, call);
    Numerics q = numerics;
    if (q == null) {
      GemmEngines.Fp32.sgemm(site, call);
      return;
    }
    ProductPlan p = q.plan(site);
    for (Engine e : p.engines()) if (e.run(p, call)) return;
    throw new IllegalStateException(site.layer() + " " + site.product().label() + ": no engine ran the product");
  }

  /**
   * The fake-quantized engine: each operand quantized as the plan says ({@link #operand}), the
   * product in fp32, the result quantized when the plan has a result quantizer.
   */
  static void fakeQuantized(Numerics q, ProductPlan p, GemmCall call) {
    ProductPlan.Site s = p.site();
    String layer = s.layer();
    boolean transA = s.transA(), transB = s.transB();
    int m = call.m(), n = call.n(), k = call.k();
    float[] c = call.c().x();
    int cOff = call.c().off(), ldc = call.c().ld();
    Numerics.Observer obs = observer;
    Optional<Quantizer> qc = p.result();
    GemmCall.Matrix oa = operand(q, layer, s.product(), s.roleA(), transA ? k : m, transA ? m : k, call.a(), 0);
    GemmCall.Matrix ob = operand(q, layer, s.product(), s.roleB(), transB ? n : k, transB ? k : n, call.b(),
        s.roleA() == s.roleB() ? 1 : 0);
    if (qc.isPresent() && !call.accumulate() && cOff == 0 && ldc == n && c.length == m * n) {
      // the product alone is quantized: written straight into C, quantized there
      Kernels.gemm().sgemm(transA, transB, m, n, k, 1f, oa.x(), oa.off(), oa.ld(), ob.x(), ob.off(), ob.ld(), 0f, c, 0, n);
      q.quantizeInPlace(qc.get(), layer, s.roleC(), c, 0, m, n);
      if (obs != null) obs.tensor(layer, s.product(), s.roleC(), c, new int[] {m, n});
      return;
    }
    if (qc.isPresent()) { // the product alone is quantized, then accumulated in fp32
      float[] t = StepArena.floats(m * n);
      Kernels.gemm().sgemm(transA, transB, m, n, k, 1f, oa.x(), oa.off(), oa.ld(), ob.x(), ob.off(), ob.ld(), 0f, t, 0, n);
      q.quantizeInPlace(qc.get(), layer, s.roleC(), t, cOff, m, n);
      if (obs != null) obs.tensor(layer, s.product(), s.roleC(), t, new int[] {m, n});
      EmulatedProducts.store(t, m, n, call.accumulate(), c, cOff, ldc);
      return;
    }
    Kernels.gemm().sgemm(transA, transB, m, n, k, 1f, oa.x(), oa.off(), oa.ld(), ob.x(), ob.off(), ob.ld(),
        call.accumulate() ? 1f : 0f, c, cOff, ldc);
  }

  /**
   * The stored rows × cols operand as the policy says for (layer, role), as a matrix view with no
   * quantized tensor attached: the values of the
   * quantized tensor the layer made once for its products ({@link GemmCall.Matrix#quantized}), a
   * compact quantized copy made here when there is none, or the operand itself when the role has
   * no rule (each shown to the test observer). {@code salt} as in {@link Numerics#quantize}.
   */
  static GemmCall.Matrix operand(Numerics q, String layer, Product product, Role role, int rows, int cols,
      GemmCall.Matrix m, long salt) {
    Optional<Quantizer> z = q.lookup(layer, role);
    if (z.isEmpty()) return new GemmCall.Matrix(m.x(), m.off(), m.ld());
    Numerics.Observer obs = observer;
    QuantizedTensor t = m.quantizedBy(z.get());
    if (t != null) {
      q.countQuantized(1);
      if (obs != null) obs.tensor(layer, product, role, Numerics.compact(t.values(), m.off(), m.ld(), rows, cols), new int[] {rows, cols});
      return new GemmCall.Matrix(t.values(), m.off(), m.ld());
    }
    float[] y = q.quantize(z.get(), new Numerics.Operand(layer, role, rows, cols, 1, salt), m);
    if (obs != null) obs.tensor(layer, product, role, y, new int[] {rows, cols});
    return new GemmCall.Matrix(y, 0, cols);
  }

  /** An operand's matrix: its raw array and, when the layer quantized it once, that tensor. */
  private static GemmCall.Matrix matrix(float[] x, int off, int ld, QuantizedTensor t) {
    return new GemmCall.Matrix(x, off, ld, t);
  }

  private static QuantizedTensor tensor(Quantize.Quantized q) {
    return q == null ? null : q.tensor();
  }

  /**
   * y = x·Wᵀ + b for x of shape (…, in), W (out, in), b (out) or null. The input and the weight
   * are quantized once, as ops on the tape ({@link Numerics#onTape}), for the products that take
   * them quantized — the forward product and the backward product that uses each again (the input
   * in backward-weight, the weight in backward-data) — and the errors once for both backward
   * products; products whose engine encodes raw operands read the raw arrays.
   */
  public static Var linear(String layer, Var x, Var w, Var b) {
    int in = w.dim(1), out = w.dim(0);
    if (x.dim(-1) != in) {
      throw new IllegalArgumentException(
          layer + ": input " + x.value().shapeString() + " does not end in " + in + " features");
    }
    int rows = x.size() / in;
    float[] y = StepArena.floats(rows * out); // overwritten by the product
    Numerics q = numerics;
    boolean training = Tape.needsGrad(x, w, b);
    ProductPlan.Site fwd = new ProductPlan.Site(layer, Product.FORWARD, Role.ACTIVATION, Role.WEIGHT, null, false, true);
    ProductPlan.Site bwW = new ProductPlan.Site(layer, Product.BACKWARD_WEIGHT, Role.ERROR, Role.ACTIVATION,
        Role.WEIGHT_GRADIENT, true, false);
    ProductPlan.Site bwD = new ProductPlan.Site(layer, Product.BACKWARD_DATA, Role.ERROR, Role.WEIGHT, null, false, false);
    boolean dW = training && w.requiresGrad(), dX = training && x.requiresGrad();
    Quantize.Quantized xq = q == null ? null
        : q.onTape(x, new Numerics.Operand(layer, Role.ACTIVATION, rows, in), fwd, dW ? bwW : null);
    Quantize.Quantized wq = q == null ? null
        : q.onTape(w, new Numerics.Operand(layer, Role.WEIGHT, out, in), fwd, dX ? bwD : null);
    Var xv = xq == null ? x : xq.var(), wv = wq == null ? w : wq.var(); // what the gradients flow into
    gemm(fwd, new GemmCall(rows, out, in, matrix(x.data(), 0, in, tensor(xq)), matrix(w.data(), 0, in, tensor(wq)),
        false, new GemmCall.Matrix(y, 0, out)));
    if (b != null) {
      float[] bd = b.data();
      for (int r = 0; r < rows; r++) for (int j = 0; j < out; j++) y[r * out + j] += bd[j];
    }
    int[] os = x.shape();
    os[os.length - 1] = out;
    Var o = new Var(new Tensor(y, os), Tape.needsGrad(xv, wv, b));
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad();
        // the errors, quantized once for both backward products (bias sums take them raw)
        QuantizedTensor gq = q == null ? null : q.quantizedFor(g, new Numerics.Operand(layer, Role.ERROR, rows, out),
            wv.requiresGrad() ? bwW : null, xv.requiresGrad() ? bwD : null);
        if (wv.requiresGrad()) { // the step's first contribution overwrites the (logically zero) gradient
          float[] gw = wv.gradForOverwrite();
          gemm(bwW, new GemmCall(out, in, rows, matrix(g, 0, out, gq), matrix(x.data(), 0, in, tensor(xq)),
              gw == null, new GemmCall.Matrix(gw == null ? wv.gradForAccumulation() : gw, 0, in)));
        }
        if (b != null && b.requiresGrad()) {
          float[] gb = b.gradForOverwrite();
          if (gb != null) {
            Reduce.columnSums(g, 0, rows, out, gb);
          } else {
            float[] s = new float[out];
            Reduce.columnSums(g, 0, rows, out, s);
            Ops.addInto(b.gradForAccumulation(), s);
          }
        }
        if (xv.requiresGrad()) {
          // the first gradient to reach x is written into a step-arena array, not added to a
          // freshly zeroed one (130 MB/s of garbage for the MLP)
          boolean fresh = xv.grad() == null && !xv.isParameter();
          float[] dx = fresh ? StepArena.gradFor(xv) : xv.gradForAccumulation();
          gemm(bwD, new GemmCall(rows, in, out, matrix(g, 0, out, gq), matrix(w.data(), 0, in, tensor(wq)),
              !fresh, new GemmCall.Matrix(dx, 0, in)));
          if (fresh) xv.setGrad(dx);
        }
      });
    }
    return o;
  }

  /** 2-D convolution of x (N×C×H×W) with W (OC×C/g×KH×KW) and bias (OC) or null. */
  public static Var conv2d(String layer, Var x, Var w, Var b, ConvSpec geometry) {
    ConvSpec s = geometry.withBatch(x.dim(0));
    if (x.value().rank() != 4 || x.dim(1) != s.inC() || x.dim(2) != s.inH() || x.dim(3) != s.inW()) {
      throw new IllegalArgumentException(layer + ": expects input N×" + s.inC() + "×" + s.inH() + "×" + s.inW()
          + ", got " + x.value().shapeString());
    }
    if (w.size() != s.weightSize()) {
      throw new IllegalArgumentException(layer + ": weight " + w.value().shapeString() + " does not fit " + s);
    }
    Numerics q = numerics;
    ConvEngines.ConvPlan p = q == null ? ConvEngines.plan(null, layer, s) : q.convPlan(layer, s, x.requiresGrad());
    for (ConvEngine e : p.engines()) {
      Var o = e.run(q, layer, x, w, b, s);
      if (o != null) return o;
    }
    throw new IllegalStateException(layer + ": no engine ran the convolution");
  }

  /**
   * {@link #conv2d} as im2col and GEMMs: each of its products planned and run by {@link #gemm}.
   * The weight is quantized once on the tape for the forward and backward-data products; when the
   * layer may quantize them itself ({@link Numerics#quantizesItself}), the activation quantizer is
   * applied once to the input (or the columns) and the error quantizer once to the errors, and
   * both products that use each get it as their quantized operand.
   */
  static Var im2colConv2d(Numerics q, String layer, Var x, Var w, Var b, ConvSpec s) {
    int g = s.groups(), ocg = s.outC() / g, kg = s.inC() / g * s.kH() * s.kW(), cols = s.colCols();
    float[] col = StepArena.floats(s.colSize()); // im2col, the products and the layout change overwrite
    Optional<Quantizer> own = q == null || earlyQuantizationOff ? Optional.empty()
        : q.quantizesItself(layer, Role.ACTIVATION, s);
    QuantizedTensor colq = null; // the columns, quantized in place
    if (own.isPresent() && Numerics.commutesWithIm2col(own.get(), s)) { // the input, not its KH·KW-fold columns
      Conv.im2col(s, q.quantizeInput(own.get(), layer, x.data(), s.inputSize()), col);
      colq = QuantizedTensor.ofValues(own.get(), col);
    } else if (own.isPresent()) {
      Conv.im2col(s, x.data(), col);
      q.quantizeOperand(own.get(), layer, Role.ACTIVATION, col, s.colRows(), cols);
      colq = QuantizedTensor.ofValues(own.get(), col);
    } else {
      Conv.im2col(s, x.data(), col);
    }
    ProductPlan.Site fwd = new ProductPlan.Site(layer, Product.FORWARD, Role.WEIGHT, Role.ACTIVATION, null, false, false);
    ProductPlan.Site bwW = new ProductPlan.Site(layer, Product.BACKWARD_WEIGHT, Role.ERROR, Role.ACTIVATION,
        Role.WEIGHT_GRADIENT, false, true);
    ProductPlan.Site bwD = new ProductPlan.Site(layer, Product.BACKWARD_DATA, Role.WEIGHT, Role.ERROR, null, true, false);
    Quantize.Quantized wq = q == null ? null
        : q.onTape(w, new Numerics.Operand(layer, Role.WEIGHT, ocg, kg, g, 0), fwd,
            Tape.needsGrad(x) ? bwD : null);
    Var wv = wq == null ? w : wq.var();
    if (colq == null && q != null) { // the raw columns, quantized once for the products that take them so
      colq = q.quantizedFor(col, new Numerics.Operand(layer, Role.ACTIVATION, kg, cols, g, 0), fwd,
          Tape.needsGrad(w) ? bwW : null);
    }
    float[] t = StepArena.floats(s.outputSize());
    for (int gi = 0; gi < g; gi++) {
      gemm(fwd, new GemmCall(ocg, cols, kg, matrix(w.data(), gi * ocg * kg, kg, tensor(wq)),
          matrix(col, gi * kg * cols, cols, colq), false, new GemmCall.Matrix(t, gi * ocg * cols, cols)));
    }
    float[] y = StepArena.floats(s.outputSize());
    Conv.channelsFirstToNchw(s, t, b == null ? null : b.data(), y);
    Var o = new Var(new Tensor(y, s.batch(), s.outC(), s.outH(), s.outW()), Tape.needsGrad(x, wv, b));
    if (o.requiresGrad()) {
      QuantizedTensor xcol = colq;
      Tape.record(o, () -> {
        float[] dt = t; // reuse the forward scratch for dy in channels-first layout
        Conv.nchwToChannelsFirst(s, o.grad(), dt);
        if (b != null && b.requiresGrad()) { // from the errors as they arrive, before any quantization
          float[] db = b.gradForAccumulation();
          Parallel.forRange(s.outC(), cols, (o0, o1) -> {
            for (int oc = o0; oc < o1; oc++) db[oc] += Reduce.sum(dt, oc * cols, cols);
          });
        }
        Optional<Quantizer> ownErrors = q == null || earlyQuantizationOff ? Optional.empty()
            : q.quantizesItself(layer, Role.ERROR, s);
        QuantizedTensor dtq = null; // the errors, quantized in place
        if (ownErrors.isPresent()) {
          q.quantizeOperand(ownErrors.get(), layer, Role.ERROR, dt, s.outC(), cols);
          dtq = QuantizedTensor.ofValues(ownErrors.get(), dt);
        } else if (q != null) {
          dtq = q.quantizedFor(dt, new Numerics.Operand(layer, Role.ERROR, ocg, cols, g, 0),
              wv.requiresGrad() ? bwW : null, x.requiresGrad() ? bwD : null);
        }
        if (wv.requiresGrad()) {
          float[] dw = wv.gradForAccumulation();
          for (int gi = 0; gi < g; gi++) {
            gemm(bwW, new GemmCall(ocg, kg, cols, matrix(dt, gi * ocg * cols, cols, dtq),
                matrix(col, gi * kg * cols, cols, xcol), true, new GemmCall.Matrix(dw, gi * ocg * kg, kg)));
          }
        }
        if (x.requiresGrad()) {
          float[] dcol = col; // the columns are no longer needed once dW is done
          for (int gi = 0; gi < g; gi++) {
            gemm(bwD, new GemmCall(kg, cols, ocg, matrix(w.data(), gi * ocg * kg, kg, tensor(wq)),
                matrix(dt, gi * ocg * cols, cols, dtq), false, new GemmCall.Matrix(dcol, gi * kg * cols, cols)));
          }
          boolean fresh = x.grad() == null; // col2im overwrites: no temporary needed
          float[] dx = fresh ? StepArena.gradFor(x) : StepArena.floats(s.inputSize());
          Conv.col2im(s, dcol, dx);
          if (fresh) x.setGrad(dx);
          else Ops.addInto(x.gradForAccumulation(), dx);
        }
      });
    }
    return o;
  }

  /**
   * {@link #conv2d} on the backend's native fp32 convolutions (no im2col): the operands are
   * quantized around it as {@link ConvEngines#nativeConvolution} allows — the input elementwise into
   * a copy, the errors in place (after the bias gradient is taken from them raw, as on the GEMM
   * path), the weight as its GEMM operand on the tape ({@link Numerics#valuesOnTape}: same stream,
   * so the same bits; its gradient flows back through that op), the weight gradient as
   * the product's result before it is accumulated. MX operands are quantized once per product, in
   * blocks along its reduction dimension ({@link Numerics#quantizeAlong}); the two backward
   * products then run as two native calls.
   */
  static Var directConv2d(FloatKernels direct, String layer, Numerics q, Var x, Var w, Var b, ConvSpec s) {
    int oc = s.outC(), kg = s.inC() * s.kH() * s.kW();
    Optional<Quantizer> qx = q == null ? Optional.empty() : q.lookup(layer, Role.ACTIVATION);
    Optional<Quantizer> qw = q == null ? Optional.empty() : q.lookup(layer, Role.WEIGHT);
    Optional<Quantizer> qe = q == null ? Optional.empty() : q.lookup(layer, Role.ERROR);
    Optional<Quantizer> qg = q == null ? Optional.empty() : q.lookup(layer, Role.WEIGHT_GRADIENT);
    // MX operands are quantized per product along its reduction dimension (Numerics.quantizeAlong)
    boolean mxX = qx.isPresent() && PlanRules.mxAlongReduction(qx.get());
    boolean mxW = qw.isPresent() && PlanRules.mxAlongReduction(qw.get());
    boolean mxE = qe.isPresent() && PlanRules.mxAlongReduction(qe.get());
    int[] xShape = {s.batch(), s.inC(), s.inH(), s.inW()}, wShape = {oc, s.inC(), s.kH(), s.kW()};
    int[] yShape = {s.batch(), oc, s.outH(), s.outW()};
    float[] xin = x.data(), win = w.data();
    FloatKernels.Transform xT = null; // the input quantized on its way into native memory
    if (mxX) {
      xin = q.quantizeAlong(qx.get(), layer, Role.ACTIVATION, 0, xin, xShape, 1); // input channels
    } else if (qx.isPresent()) {
      Quantizer.Runs rx = q.runs(qx.get(), xin, s.inputSize());
      if (rx != null) xT = rx::apply;
      else xin = q.quantizeInput(qx.get(), layer, xin, s.inputSize());
      q.countQuantized(1);
    }
    Var wv = w; // what the weight's gradient flows into: the weight, or its quantization on the tape
    if (mxW) {
      win = q.quantizeAlong(qw.get(), layer, Role.WEIGHT, 0, win, wShape, 1);
    } else if (qw.isPresent()) { // the weight as its GEMM operand would be (same stream, so the same bits)
      Quantize.Quantized wq = q.valuesOnTape(w, qw.get(), new Numerics.Operand(layer, Role.WEIGHT, oc, kg));
      win = wq.values();
      wv = wq.var();
      q.countQuantized(1);
    }
    // products whose operands are both bf16 numbers run on bf16 kernels (exact products, fp32 sums)
    boolean bf16Fwd = PlanRules.bf16Values(qx) && PlanRules.bf16Values(qw) && direct.supportsBf16(s);
    boolean bf16Bwd = bf16Fwd && PlanRules.bf16Values(qe);
    float[] y = StepArena.floats(s.outputSize());
    float[] bias = b == null ? null : b.data();
    if (!direct.convForward(s, xin, xT, win, bias, y, bf16Fwd)) {
      throw new IllegalStateException(layer + ": native convolution declined " + s + " after accepting it");
    }
    Var o = new Var(new Tensor(y, s.batch(), s.outC(), s.outH(), s.outW()), Tape.needsGrad(x, wv, b));
    if (o.requiresGrad()) {
      float[] xs = xin, ws = win;
      Var wg = wv;
      FloatKernels.Transform xsT = xT;
      Tape.record(o, () -> {
        float[] dy = o.grad();
        float[] db = b != null && b.requiresGrad() ? b.gradForAccumulation() : null;
        float[] e = dy;
        float[] dw = !wg.requiresGrad() ? null : qg.isPresent() ? new float[s.weightSize()] : wg.gradForAccumulation();
        boolean fresh = x.grad() == null;
        float[] dx = !x.requiresGrad() ? null : fresh ? StepArena.gradFor(x) : StepArena.floats(s.inputSize());
        float[] eW = null; // MX: the errors as the weight gradient's operand (blocks along the batch)
        FloatKernels.Transform dyT = null; // the errors quantized on their way into native memory
        float[] planeSums = null, dbLater = null; // the bias gradient, summed by dyT from the raw errors
        boolean split = mxX || mxW || mxE; // different operands for the two backward products
        if (qe.isPresent()) { // the bias gradient from the errors as they arrive, as on the GEMM path
          // (the transform serves the one call of the unsplit case; split calls may skip the errors)
          Quantizer.Runs re = split ? null : q.runs(qe.get(), dy, s.outputSize());
          if (re != null) {
            // one pass over the errors: each run of planes summed raw, quantized into a buffer and
            // copied into native memory (a quantized copy, or the errors quantized in place, then
            // copied, was twice the memory traffic on the largest tensor of a CNN step)
            planeSums = db != null ? StepArena.floats(s.batch() * oc) : null;
            dbLater = db;
            dyT = sumsThenQuantize(s, re, planeSums);
          } else if (db != null) {
            addChannelSums(s, dy, db);
          }
          db = null;
          if (mxE) {
            if (dw != null) eW = q.quantizeAlong(qe.get(), layer, Role.ERROR, 1, dy, yShape, 0);
            e = dx == null ? null : q.quantizeAlong(qe.get(), layer, Role.ERROR, 0, dy, yShape, 1); // output channels
          } else if (re == null) {
            // in place: only this closure reads the output's gradient
            e = q.quantizeInto(qe.get(), layer, Role.ERROR, 0, dy, s.outputSize(), dy);
          }
          if (!mxE) q.countQuantized(1);
        }
        boolean ok;
        if (split) { // one native call per product
          ok = dx == null || direct.convBackward(s, xs, null,
              mxW ? q.quantizeAlong(qw.get(), layer, Role.WEIGHT, 1, w.data(), wShape, 0) : ws, e, null, dx, null, null,
              bf16Bwd);
          if (ok && (dw != null || db != null)) {
            ok = direct.convBackward(s,
                mxX && dw != null ? q.quantizeAlong(qx.get(), layer, Role.ACTIVATION, 1, x.data(), xShape, 0) : xs,
                xsT, ws, eW != null ? eW : e != null ? e : dy, null, null, dw, db, bf16Bwd);
          }
        } else {
          ok = direct.convBackward(s, xs, xsT, ws, e, dyT, dx, dw, db, bf16Bwd);
        }
        if (!ok) throw new IllegalStateException(layer + ": native convolution declined " + s + " after accepting it");
        if (planeSums != null) addPlaneSums(s, planeSums, dbLater);
        if (dw != null && qg.isPresent()) {
          q.quantizeInPlace(qg.get(), layer, Role.WEIGHT_GRADIENT, dw, 0, oc, kg);
          Ops.addInto(wg.gradForAccumulation(), dw);
        }
        if (dx != null) {
          if (fresh) x.setGrad(dx);
          else Ops.addInto(x.gradForAccumulation(), dx);
        }
      });
    }
    return o;
  }

  /**
   * {@link #conv2d} for the int8 preset on native kernels ({@link ConvEngines#int8Convolution}): the
   * forward pass as an int8 convolution on the input's and the weight's codes (exact int32 sums,
   * scaled per tensor and per output channel, as the integer GEMM path computes them), the
   * backward passes as fp32 convolutions on the dequantized input and weight (the preset's fp32
   * gradients). Null (nothing done) when an operand holds NaN or infinity: the GEMM path then
   * reports it as it always does.
   */
  static Var directInt8Conv2d(FloatKernels direct, String layer, Numerics q, Var x, Var w, Var b, ConvSpec s) {
    int oc = s.outC(), kg = s.inC() * s.kH() * s.kW(), planes = s.batch() * s.inC(), hw = s.inH() * s.inW();
    Quantizer qx = q.lookup(layer, Role.ACTIVATION).orElseThrow(), qw = q.lookup(layer, Role.WEIGHT).orElseThrow();
    IntFormat fx = (IntFormat) qx.format();
    boolean perChannel = PlanRules.perChannel(qw);
    boolean training = Tape.needsGrad(x, w, b);
    byte[] x8 = new byte[s.inputSize()];
    float xs = IntCodes.encodeInt8(fx, x.data(), planes, hw, x8, null);
    if (Float.isNaN(xs)) return null;
    // the weight's codes, scales and values in one pass, as the integer GEMM engines take them
    QuantizedTensor wt = q.codes(qw, new Numerics.Operand(layer, Role.WEIGHT, oc, kg), w.data());
    if (!wt.hasCodes() || wt.scaleAxis() != (perChannel ? 0 : -1)) return null; // NaN or infinity
    float[] y = StepArena.floats(s.outputSize());
    if (!direct.convForwardS8(s, x8, xs, wt.codes(), wt.scales(), b == null ? null : b.data(), y)) return null;
    q.countIntegerGemm(2, 0);
    Quantize.Quantized wq8 = Quantize.apply(w, src -> wt); // on the tape: the weight's gradient flows through it
    Var wv = wq8.var();
    float[] wq = wt.values(); // the weight's values, for the backward passes
    Var o = new Var(new Tensor(y, s.batch(), s.outC(), s.outH(), s.outW()), Tape.needsGrad(x, wv, b));
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        // the dequantized operands, as the GEMM path's fake quantization gives them to its fp32
        // products (the same bits): the weight's values from its encoding pass, the input's as
        // code · scale on their way into native memory (no dequantized copy is stored)
        q.countQuantized(1);
        FloatKernels.Transform xT = (src, from, len, dst, off) -> {
          for (int i = 0; i < len; i++) dst[off + i] = x8[from + i] * xs;
        };
        float[] db = b != null && b.requiresGrad() ? b.gradForAccumulation() : null;
        float[] dw = wv.requiresGrad() ? wv.gradForAccumulation() : null;
        boolean fresh = x.grad() == null;
        float[] dx = !x.requiresGrad() ? null : fresh ? StepArena.gradFor(x) : StepArena.floats(s.inputSize());
        if (!direct.convBackward(s, x.data(), xT, wq, o.grad(), null, dx, dw, db, false)) {
          throw new IllegalStateException(layer + ": native convolution declined " + s + " after accepting it");
        }
        if (dx != null) {
          if (fresh) x.setGrad(dx);
          else Ops.addInto(x.gradForAccumulation(), dx);
        }
      });
    }
    return o;
  }

  /**
   * db[c] += the sum of channel c of dy (N×C×H×W): per plane, 16-lane float partial sums (two
   * vectors) reduced in a fixed order, planes added in double; a scalar loop with double sums cost
   * bf16 a tenth of its CNN step.
   */
  static void addChannelSums(ConvSpec s, float[] dy, float[] db) {
    int hw = s.outH() * s.outW(), c = s.outC();
    Parallel.forRange(c, (long) s.batch() * hw, (c0, c1) -> {
      for (int ch = c0; ch < c1; ch++) {
        double sum = 0;
        for (int n = 0; n < s.batch(); n++) sum += planeSum(dy, (n * c + ch) * hw, hw);
        db[ch] += (float) sum;
      }
    });
  }

  /**
   * The errors' transform on their way into a native call: each plane of the run summed raw into
   * {@code planeSums} (when not null; per-plane sums as {@link #addChannelSums} forms them), then
   * the run quantized by {@code re}.
   */
  static FloatKernels.Transform sumsThenQuantize(ConvSpec s, Quantizer.Runs re, float[] planeSums) {
    int hw = s.outH() * s.outW();
    return (src, from, len, dst, dstOff) -> {
      if (planeSums != null) {
        for (int p = from / hw, end = (from + len) / hw; p < end; p++) planeSums[p] = planeSum(src, p * hw, hw);
      }
      re.apply(src, from, len, dst, dstOff);
    };
  }

  /** db[c] += the per-plane sums of channel c, added in double in batch order: {@link #addChannelSums}'s bits. */
  static void addPlaneSums(ConvSpec s, float[] planeSums, float[] db) {
    int c = s.outC();
    for (int ch = 0; ch < c; ch++) {
      double sum = 0;
      for (int n = 0; n < s.batch(); n++) sum += planeSums[n * c + ch];
      db[ch] += (float) sum;
    }
  }

  /**
   * dy[off, off + len) summed in two float vectors, their lanes then added in lane order, then the
   * tail in order. Not {@code reduceLanes(ADD)}: its order for floats is unspecified, and C2's
   * intrinsic and the interpreter's loop differ, so a run's bits depended on when C2 compiled this
   * (same-seed fp16 and bf16 CNN runs on native convolutions differed in about one run in three).
   */
  static float planeSum(float[] dy, int off, int len) {
    int i = 0;
    FloatVector a0 = FloatVector.zero(FS), a1 = FloatVector.zero(FS);
    for (int bound = len - 2 * FS.length(); i <= bound; i += 2 * FS.length()) {
      a0 = a0.add(FloatVector.fromArray(FS, dy, off + i));
      a1 = a1.add(FloatVector.fromArray(FS, dy, off + i + FS.length()));
    }
    float[] lanes = new float[FS.length()];
    a0.add(a1).intoArray(lanes, 0);
    float p = 0f;
    for (float l : lanes) p += l;
    for (; i < len; i++) p += dy[off + i];
    return p;
  }

  private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;

  /**
   * Batched product of activations: a (…, M, K) times b (…, K, N), or with bᵀ when {@code transB}
   * (b then (…, N, K)); leading dimensions must match. Used by attention.
   */
  public static Var bmm(String layer, Var a, Var b, boolean transB) {
    int[] as = a.shape(), bs = b.shape();
    int r = as.length;
    if (r < 2 || bs.length != r || !Arrays.equals(Arrays.copyOf(as, r - 2), Arrays.copyOf(bs, r - 2))) {
      throw new IllegalArgumentException(layer + ": bmm shapes " + Arrays.toString(as) + " and " + Arrays.toString(bs));
    }
    int m = as[r - 2], k = as[r - 1];
    int n = transB ? bs[r - 2] : bs[r - 1];
    if ((transB ? bs[r - 1] : bs[r - 2]) != k) {
      throw new IllegalArgumentException(layer + ": bmm inner sizes differ: " + Arrays.toString(as) + " and "
          + Arrays.toString(bs) + (transB ? " (transposed)" : ""));
    }
    int batch = a.size() / (m * k);
    int ldb = transB ? k : n;
    Numerics q = numerics;
    ProductPlan.Site fwd = new ProductPlan.Site(layer, Product.FORWARD, Role.ACTIVATION, Role.ACTIVATION, null, false, transB);
    ProductPlan.Site bwD = new ProductPlan.Site(layer, Product.BACKWARD_DATA, Role.ERROR, Role.ACTIVATION, null, false, !transB);
    ProductPlan.Site bwW = transB
        ? new ProductPlan.Site(layer, Product.BACKWARD_WEIGHT, Role.ERROR, Role.ACTIVATION, null, true, false)
        : new ProductPlan.Site(layer, Product.BACKWARD_WEIGHT, Role.ACTIVATION, Role.ERROR, null, true, false);
    // each operand quantized once, slice by slice, for the products that take it (B with the salt
    // that keeps its stream apart from A's)
    Quantize.Quantized aq = q == null ? null
        : q.onTape(a, new Numerics.Operand(layer, Role.ACTIVATION, m, k, batch, 0), fwd, Tape.needsGrad(b) ? bwW : null);
    Quantize.Quantized bq = q == null ? null
        : q.onTape(b, new Numerics.Operand(layer, Role.ACTIVATION, transB ? n : k, transB ? k : n, batch, 1), fwd,
            Tape.needsGrad(a) ? bwD : null);
    Var av = aq == null ? a : aq.var(), bv = bq == null ? b : bq.var();
    float[] y = new float[batch * m * n];
    for (int i = 0; i < batch; i++) {
      gemm(fwd, new GemmCall(m, n, k, matrix(a.data(), i * m * k, k, tensor(aq)), matrix(b.data(), i * k * n, ldb, tensor(bq)),
          false, new GemmCall.Matrix(y, i * m * n, n)));
    }
    int[] os = as.clone();
    os[r - 1] = n;
    Var o = new Var(new Tensor(y, os), Tape.needsGrad(av, bv));
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad();
        QuantizedTensor gq = q == null ? null : q.quantizedFor(g, new Numerics.Operand(layer, Role.ERROR, m, n, batch, 0),
            av.requiresGrad() ? bwD : null, bv.requiresGrad() ? bwW : null);
        QuantizedTensor at = tensor(aq), bt = tensor(bq);
        for (int i = 0; i < batch; i++) {
          GemmCall.Matrix gi = matrix(g, i * m * n, n, gq);
          if (av.requiresGrad()) { // dA = G·op(B)ᵀ
            gemm(bwD, new GemmCall(m, k, n, gi, matrix(b.data(), i * k * n, ldb, bt),
                true, new GemmCall.Matrix(av.gradForAccumulation(), i * m * k, k)));
          }
          if (bv.requiresGrad()) {
            GemmCall.Matrix ai = matrix(a.data(), i * m * k, k, at);
            if (transB) { // dB (n×k) = Gᵀ·A
              gemm(bwW, new GemmCall(n, k, m, gi, ai, true, new GemmCall.Matrix(bv.gradForAccumulation(), i * k * n, k)));
            } else { // dB (k×n) = Aᵀ·G
              gemm(bwW, new GemmCall(k, n, m, ai, gi, true, new GemmCall.Matrix(bv.gradForAccumulation(), i * k * n, n)));
            }
          }
        }
      });
    }
    return o;
  }
}
