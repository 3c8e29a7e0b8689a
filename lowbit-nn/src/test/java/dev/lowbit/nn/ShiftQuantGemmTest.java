package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.format.Granularity;
import dev.lowbit.format.IntFormat;
import dev.lowbit.format.Quantizer;
import dev.lowbit.format.Rounding;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Presets;
import dev.lowbit.numerics.GemmCall;
import dev.lowbit.numerics.Product;
import dev.lowbit.numerics.ProductPlan;
import dev.lowbit.numerics.Role;
import dev.lowbit.numerics.ShiftQuant;
import dev.lowbit.numerics.ShiftQuant.Layout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The ShiftQuant backward path of {@link Compute} under the shiftquant presets. */
class ShiftQuantGemmTest {

  @AfterEach
  void clear() {
    Compute.setNumerics(null);
    Compute.integerPathOff = false;
  }

  @Test
  void shiftquant4RunsAllThreeProductsOfLinearAndConvOnTheIntegerKernels() {
    Numerics n = new Numerics(Presets.get("shiftquant4"), 1);
    Compute.setNumerics(n);
    float[] sq = ComputePolicyTest.forwardBackward(11);
    assertEquals(6, n.integerGemms(), "forward, backward-data and backward-weight of fc1 and conv1");
    assertEquals(0, n.int32Overflows());
    // the same backward with the error fake-quantized per channel in fp32 (the preset's plain rule)
    Compute.integerPathOff = true;
    Numerics fake = new Numerics(Presets.get("shiftquant4"), 1);
    Compute.setNumerics(fake);
    float[] pc = ComputePolicyTest.forwardBackward(11);
    assertEquals(0, fake.integerGemms());
    assertFalse(java.util.Arrays.equals(sq, pc), "ShiftQuant changed nothing");
    Compute.setNumerics(null);
    float[] plain = ComputePolicyTest.forwardBackward(11);
    double err = 0, norm = 0;
    for (int i = 0; i < plain.length; i++) {
      err += (sq[i] - plain[i]) * (double) (sq[i] - plain[i]);
      norm += plain[i] * (double) plain[i];
    }
    assertTrue(err / norm < 0.1, "W4A4G4 outputs and gradients stay near fp32: rel. MSE " + err / norm);
  }

  @Test
  void shiftquant8TakesTheIntegerPathToo() {
    Numerics n = new Numerics(Presets.get("shiftquant8"), 1);
    Compute.setNumerics(n);
    ComputePolicyTest.forwardBackward(3);
    assertEquals(6, n.integerGemms());
    assertEquals(4, n.codesTaken.get(), "both backward products of both layers take the errors' ShiftQuant codes from the tape");
  }

  /**
   * Attention's batched errors are ShiftQuant-ed once, slice by slice, on the tape, and both
   * backward products of every slice take those codes: the same bits as each product quantizing
   * its own slice.
   */
  @Test
  void attentionsSlicedErrorsAreShiftQuantedOnceForBothProducts() {
    float[][] grads = new float[2][];
    long[] taken = new long[2];
    for (int pass = 0; pass < 2; pass++) {
      Compute.earlyQuantizationOff = pass == 1; // pass 1: every product quantizes its own operands
      try {
        Numerics n = new Numerics(Presets.get("shiftquant4"), 3);
        Compute.setNumerics(n);
        SplittableRandom r = new SplittableRandom(9);
        dev.lowbit.autograd.Var a = new dev.lowbit.autograd.Var(ComputePolicyTest.randn(r, 2, 3, 5, 8), true);
        dev.lowbit.autograd.Var b = new dev.lowbit.autograd.Var(ComputePolicyTest.randn(r, 2, 3, 6, 8), true);
        dev.lowbit.autograd.Var y = Compute.bmm("attn", a, b, true); // 6 slices of 5×8 · (6×8)ᵀ
        dev.lowbit.autograd.Ops.mse(y, new dev.lowbit.tensor.Tensor(new float[y.size()], y.shape())).backward();
        grads[pass] = new float[a.size() + b.size()];
        System.arraycopy(a.grad(), 0, grads[pass], 0, a.size());
        System.arraycopy(b.grad(), 0, grads[pass], a.size(), b.size());
        taken[pass] = n.codesTaken.get();
      } finally {
        Compute.earlyQuantizationOff = false;
      }
    }
    assertArrayEquals(grads[1], grads[0], "tape codes and per-product codes give the same gradients");
    assertEquals(12, taken[0], "both backward products of each of the 6 slices take the tape's codes");
    assertEquals(0, taken[1]);
  }

  /** dX = G·W under shiftquant4 equals the fp64 product of ShiftQuant(G) and int4(W), to fp rounding. */
  @Test
  void backwardProductsAreTheGroupQuantizedProductsAndShareOneQuantizedError() {
    Numerics n = new Numerics(Presets.get("shiftquant4"), 7);
    n.setStep(3);
    Compute.setNumerics(n);
    SplittableRandom r = new SplittableRandom(5);
    int rows = 9, out = 20, in = 13;
    float[] g = new float[rows * out], w = new float[out * in], x = new float[rows * in];
    for (int i = 0; i < g.length; i++) g[i] = (float) (r.nextGaussian() * Math.exp(1.5 * r.nextGaussian()));
    for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
    ProductPlan.Site bwW = new ProductPlan.Site("fc", Product.BACKWARD_WEIGHT, Role.ERROR, Role.ACTIVATION,
        Role.WEIGHT_GRADIENT, true, false);
    ProductPlan.Site bwD = new ProductPlan.Site("fc", Product.BACKWARD_DATA, Role.ERROR, Role.WEIGHT, null, false, false);
    // as Linear's backward does: the errors ShiftQuant-ed once on the tape for both products
    long before = n.quantizedTensors();
    dev.lowbit.tensor.QuantizedTensor gq0 = n.quantizedFor(g, new Numerics.Operand("fc", Role.ERROR, rows, out), bwW, bwD);
    assertTrue(gq0 != null && gq0.methodCodes() instanceof ShiftQuant.Result, "ShiftQuant codes on the tape");
    assertEquals(before + 1, n.quantizedTensors());
    float[] dw = new float[out * in], dx = new float[rows * in];
    Compute.gemm(bwW, new GemmCall(out, in, rows, new GemmCall.Matrix(g, 0, out, gq0), new GemmCall.Matrix(x, 0, in),
        true, new GemmCall.Matrix(dw, 0, in)));
    long afterFirst = n.quantizedTensors();
    Compute.gemm(bwD, new GemmCall(rows, in, out, new GemmCall.Matrix(g, 0, out, gq0), new GemmCall.Matrix(w, 0, in),
        false, new GemmCall.Matrix(dx, 0, in)));
    assertEquals(2, n.integerGemms());
    assertEquals(afterFirst + 1, n.quantizedTensors(), "the products take the tape's error codes (each encodes its other operand)");
    assertEquals(before + 3, n.quantizedTensors());
    // without the tape's tensor each product ShiftQuants the errors itself, to the same bits
    float[] dw2 = new float[out * in], dx2 = new float[rows * in];
    Compute.gemm(bwW, new GemmCall(out, in, rows, new GemmCall.Matrix(g, 0, out), new GemmCall.Matrix(x, 0, in),
        true, new GemmCall.Matrix(dw2, 0, in)));
    Compute.gemm(bwD, new GemmCall(rows, in, out, new GemmCall.Matrix(g, 0, out), new GemmCall.Matrix(w, 0, in),
        false, new GemmCall.Matrix(dx2, 0, in)));
    assertEquals(before + 7, n.quantizedTensors(), "errors quantized once per product");
    assertArrayEquals(dw, dw2);
    assertArrayEquals(dx, dx2);

    ShiftQuant.Result q = ShiftQuant.quantize(g, new Layout(rows, out, 1), 4, 4, Rounding.STOCHASTIC, 7, n.stream("fc", Role.ERROR, 0));
    Quantizer int4 = new Quantizer(IntFormat.signed(4), Rounding.NEAREST_EVEN, new Granularity.PerTensor());
    float[] wq = new float[w.length], xq = new float[x.length];
    int4.quantize(w, new int[] {out, in}, wq, 0, 0);
    int4.quantize(x, new int[] {rows, in}, xq, 0, 0);
    float[] gq = q.dequantize();
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < in; j++) {
        double ref = 0, mag = 0;
        for (int c = 0; c < out; c++) {
          ref += (double) gq[i * out + c] * wq[c * in + j];
          mag += Math.abs((double) gq[i * out + c] * wq[c * in + j]);
        }
        assertEquals(ref, dx[i * in + j], 1e-6 * mag + 1e-30, "dX[" + i + "," + j + "]");
      }
    }
    for (int c = 0; c < out; c++) {
      for (int j = 0; j < in; j++) {
        double ref = 0, mag = 0;
        for (int i = 0; i < rows; i++) {
          ref += (double) gq[i * out + c] * xq[i * in + j];
          mag += Math.abs((double) gq[i * out + c] * xq[i * in + j]);
        }
        assertEquals(ref, dw[c * in + j], 1e-6 * mag + 1e-30, "dW[" + c + "," + j + "]");
      }
    }
  }

  @Test
  void channelAxisFollowsTheLayersOutputChannels() {
    // Linear: G stored rows × out; dW = Gᵀ·X (A transposed), dX = G·W (A not transposed)
    assertEquals(1, ShiftQuantGemm.channelAxis(Product.BACKWARD_WEIGHT, true, true));
    assertEquals(1, ShiftQuantGemm.channelAxis(Product.BACKWARD_DATA, true, false));
    // Conv2d: G channels-first OC × N·H·W; dW = G·colᵀ (A), dcol = Wᵀ·G (B)
    assertEquals(0, ShiftQuantGemm.channelAxis(Product.BACKWARD_WEIGHT, true, false));
    assertEquals(0, ShiftQuantGemm.channelAxis(Product.BACKWARD_DATA, false, false));
    // attention, dB = Aᵀ·G with G as B (m × n): channels are G's columns
    assertEquals(1, ShiftQuantGemm.channelAxis(Product.BACKWARD_WEIGHT, false, false));
  }

  @Test
  void nonIntegerOtherOperandRunsInFloatOnTheShiftQuantizedError() {
    Policy p = Policy.parse("""
        option error-quantizer shiftquant
        *  error  int4  rne  per-channel(-1)
        """, "sq-float");
    Numerics n = new Numerics(p, 1);
    Compute.setNumerics(n);
    int rows = 4, out = 6, in = 3;
    SplittableRandom r = new SplittableRandom(8);
    float[] g = new float[rows * out], w = new float[out * in];
    for (int i = 0; i < g.length; i++) g[i] = (float) r.nextGaussian();
    for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
    float[] dx = new float[rows * in];
    Compute.gemm(new ProductPlan.Site("fc", Product.BACKWARD_DATA, Role.ERROR, Role.WEIGHT, null, false, false),
        new GemmCall(rows, in, out, new GemmCall.Matrix(g, 0, out), new GemmCall.Matrix(w, 0, in),
            false, new GemmCall.Matrix(dx, 0, in)));
    assertEquals(0, n.integerGemms());
    float[] gq = ShiftQuant.quantize(g, new Layout(rows, out, 1), 4, 4, Rounding.NEAREST_EVEN, 1, n.stream("fc", Role.ERROR, 0)).dequantize();
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < in; j++) {
        double ref = 0;
        for (int c = 0; c < out; c++) ref += (double) gq[i * out + c] * w[c * in + j];
        assertEquals(ref, dx[i * in + j], 1e-5);
      }
    }
  }
}
