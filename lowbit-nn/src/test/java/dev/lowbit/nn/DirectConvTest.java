package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.numerics.Presets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Compute.conv2d on a backend's native fp32 convolutions ({@link dev.lowbit.kernel.FloatKernels}),
 * held bit for bit to the im2col path through {@link ImColFloatBackend}, whose convolutions do the
 * im2col path's arithmetic: what the direct path adds — quantizing the input, weight, errors and
 * weight gradient around the call, accumulating gradients — must not change a bit.
 */
class DirectConvTest {

  @AfterEach
  void reset() {
    Kernels.useBackend("java");
    Compute.setNumerics(null);
  }

  /** forwardBackward's outputs and gradients; the last 4 are conv1's bias gradient. */
  private static float[] run(String backend, String preset) {
    Kernels.useBackend(backend);
    Compute.setNumerics(preset == null ? null : new Numerics(Presets.get(preset), 5));
    try {
      return ComputePolicyTest.forwardBackward(13);
    } finally {
      Kernels.useBackend("java");
    }
  }

  /** The native convolutions (fp32 and int8) quantize their weight once on the tape, as the im2col path does. */
  @Test
  void theNativeWeightIsQuantizedOnTheTapeAsOnIm2col() {
    for (String preset : new String[] {"bf16", "fp16", "fp8", "int8"}) {
      long[] once = new long[2];
      String[] backends = {"java", "imcol-float"};
      for (int i = 0; i < 2; i++) {
        Numerics n = new Numerics(Presets.get(preset), 5);
        Kernels.useBackend(backends[i]);
        Compute.setNumerics(n);
        try {
          ComputePolicyTest.forwardBackward(13);
        } finally {
          Kernels.useBackend("java");
        }
        once[i] = n.quantizedOnce.get();
      }
      assertTrue(once[0] > 0, preset);
      // int8's native convolution encodes its input's codes straight into native memory, not on the tape
      long input = "int8".equals(preset) ? 1 : 0;
      assertEquals(once[0] - input, once[1], preset + ": tensors quantized on the tape, im2col vs native");
    }
  }

  @Test
  void directPathGivesTheIm2colPathsBits() {
    for (String preset : new String[] {null, "fp32", "bf16", "fp16", "fp8"}) {
      float[] want = run("java", preset);
      int f = ImColFloatBackend.FORWARDS.get(), b = ImColFloatBackend.BACKWARDS.get();
      int f16 = ImColFloatBackend.FORWARDS_BF16.get(), b16 = ImColFloatBackend.BACKWARDS_BF16.get();
      float[] got = run("imcol-float", preset);
      assertEquals(f + 1, ImColFloatBackend.FORWARDS.get(), preset + ": the forward pass ran direct");
      assertEquals(b + 1, ImColFloatBackend.BACKWARDS.get(), preset + ": the backward pass ran direct");
      // only bf16's operands are all bf16 numbers (fp16 has 10 mantissa bits, fp8 an fp32 scale)
      int bf16 = "bf16".equals(preset) ? 1 : 0;
      assertEquals(f16 + bf16, ImColFloatBackend.FORWARDS_BF16.get(), preset + ": forward on bf16 operands");
      assertEquals(b16 + bf16, ImColFloatBackend.BACKWARDS_BF16.get(), preset + ": backward on bf16 operands");
      assertEquals(want.length, got.length);
      // bf16, fp16 and fp8 quantize the errors: the bias gradient then comes from the raw errors
      // by a per-plane sum (another association), so it agrees to rounding only
      boolean biasExact = preset == null || preset.equals("fp32");
      int last = biasExact ? want.length : want.length - 4;
      for (int i = 0; i < last; i++) {
        assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), preset + " element " + i);
      }
      for (int i = last; i < want.length; i++) {
        assertEquals(want[i], got[i], 1e-5f * Math.max(1f, Math.abs(want[i])), preset + " bias gradient " + i);
      }
    }
  }

  @Test
  void formatsThatDoNotCommuteWithTheLayoutStayOnIm2col() {
    // dfp16 encodes 16-bit codes with its own overflow handling, ShiftQuant quantizes the errors
    // per sample: neither can move around a native convolution
    for (String preset : List.of("dfp16", "shiftquant4")) {
      float[] want = run("java", preset);
      int f = ImColFloatBackend.FORWARDS.get();
      float[] got = run("imcol-float", preset);
      assertEquals(f, ImColFloatBackend.FORWARDS.get(), preset + " must not run direct");
      for (int i = 0; i < want.length; i++) {
        assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), preset + " element " + i);
      }
    }
  }

  /**
   * MX presets on native convolutions: each product's operands in MX blocks along its reduction
   * dimension (forward: input and weight along the input channels; backward data: errors and
   * weight along the output channels; weight gradient: input and errors along the batch), the
   * bias gradient from the raw errors. Checked bit for bit against the reference quantizer and
   * the test backend's convolutions called directly; 40 input and 36 output channels and a batch
   * of 3 give full and partial blocks.
   */
  @Test
  void mxConvolutionsQuantizeEachProductsOperandsAlongItsReduction() {
    for (String preset : List.of("mxfp8", "mxfp4")) {
      Numerics n = new Numerics(Presets.get(preset), 5);
      int f = ImColFloatBackend.FORWARDS.get();
      int f16 = ImColFloatBackend.FORWARDS_BF16.get(), b16 = ImColFloatBackend.BACKWARDS_BF16.get();
      Layer l = layer(n, preset.hashCode());
      dev.lowbit.kernel.ConvSpec s = l.s();
      float[] xd = l.xd(), wd = l.wd(), bd = l.bd(), pd = l.pd();
      Var x = l.x(), w = l.w(), b = l.b(), y = l.y();
      assertEquals(f + 1, ImColFloatBackend.FORWARDS.get(), preset + ": the forward pass ran direct");
      // MX values are bf16 numbers: every product on bf16 operands (the test backend checks them)
      assertEquals(f16 + 1, ImColFloatBackend.FORWARDS_BF16.get(), preset + ": forward on bf16 operands");
      assertEquals(b16 + 2, ImColFloatBackend.BACKWARDS_BF16.get(), preset + ": both backward products on bf16 operands");
      assertEquals(6, n.quantizedTensors(), preset + ": x, w (forward), errors, w (backward data), x and errors (weight gradient)");

      dev.lowbit.format.Quantizer qa = n.lookup("c", dev.lowbit.numerics.Role.ACTIVATION).orElseThrow();
      dev.lowbit.format.Quantizer qe = n.lookup("c", dev.lowbit.numerics.Role.ERROR).orElseThrow();
      int[] xs = {3, 40, 6, 5}, ws = {36, 40, 3, 3}, ys = {3, 36, 6, 5};
      ImColFloatBackend.Kernels k = new ImColFloatBackend.Kernels(Kernels.javaGemm()); // the GEMM the layer's backend wraps
      float[] wantY = new float[s.outputSize()], wantDx = new float[s.inputSize()], wantDw = new float[s.weightSize()];
      float[] wantDb = new float[36];
      k.convForward(s, along(qa, xd, xs, 1), along(qa, wd, ws, 1), bd, wantY);
      k.convBackward(s, xd, along(qa, wd, ws, 0), along(qe, pd, ys, 1), wantDx, null, null);
      k.convBackward(s, along(qa, xd, xs, 0), wd, along(qe, pd, ys, 0), null, wantDw, null);
      Compute.addChannelSums(s, pd, wantDb);
      assertBits(wantY, y.data(), preset + " output");
      assertBits(wantDx, x.grad(), preset + " input gradient");
      assertBits(wantDw, w.grad(), preset + " weight gradient");
      assertBits(wantDb, b.grad(), preset + " bias gradient");
    }
  }

  /**
   * The errors' transform (each run of planes summed raw, then quantized; runs in any split and
   * order, as a backend's copy threads take them) gives the two passes' bits: the bias gradient of
   * {@link Compute#addChannelSums} and the quantized errors.
   */
  @Test
  void errorTransformGivesTheChannelSumsAndQuantizedErrorsBits() {
    dev.lowbit.kernel.ConvSpec s = dev.lowbit.kernel.ConvSpec.of(5, 3, 9, 7, 6, 3, 1, 1); // planes of 63: vector tails
    java.util.SplittableRandom r = new java.util.SplittableRandom(9);
    for (String preset : List.of("bf16", "fp16", "fp8")) {
      dev.lowbit.format.Quantizer q = new Numerics(Presets.get(preset), 5).lookup("c", dev.lowbit.numerics.Role.ERROR)
          .orElseThrow();
      float[] dy = new float[s.outputSize()];
      for (int i = 0; i < dy.length; i++) dy[i] = (float) (r.nextGaussian() * Math.exp(3 * r.nextGaussian()));
      float[] want = new float[dy.length], wantDb = {1, 2, 3, 4, 5, 6}, gotDb = wantDb.clone();
      Compute.addChannelSums(s, dy, wantDb);
      q.quantize(dy, new int[] {dy.length}, want, 0, 0);
      float[] sums = new float[5 * 6], got = new float[dy.length];
      dev.lowbit.kernel.FloatKernels.Transform t = Compute.sumsThenQuantize(s, q.runs(dy, dy.length, 2), sums);
      int hw = 63;
      for (int p = 30; p > 0; ) { // backwards, 1 to 4 planes at a time
        int n = Math.min(p, 1 + p % 4);
        p -= n;
        t.apply(dy, p * hw, n * hw, got, p * hw);
      }
      Compute.addPlaneSums(s, sums, gotDb);
      assertBits(want, got, preset + " errors");
      assertBits(wantDb, gotDb, preset + " bias gradient");
    }
  }

  /**
   * A policy that mixes MX weights with bf16 activations and errors: the backward products are
   * split (the weight is blocked differently for each), and each still gets its operands quantized
   * — the errors in bf16 for both, the input in bf16 for the weight gradient — with the bias
   * gradient from the raw errors.
   */
  @Test
  void mixedMxAndElementwiseOperandsAreQuantizedInBothSplitProducts() {
    dev.lowbit.numerics.Policy p = dev.lowbit.numerics.Policy.parse(
        "*  weight  mxfp8  rne  per-block(32,-1)\n*  activation,error  bf16  rne\n", "mixed");
    Numerics n = new Numerics(p, 5);
    int f = ImColFloatBackend.FORWARDS.get(), bw = ImColFloatBackend.BACKWARDS.get();
    Layer l = layer(n, 31);
    dev.lowbit.kernel.ConvSpec s = l.s();
    float[] xd = l.xd(), wd = l.wd(), bd = l.bd(), pd = l.pd();
    Var x = l.x(), w = l.w(), b = l.b(), y = l.y();
    assertEquals(f + 1, ImColFloatBackend.FORWARDS.get(), "the forward pass ran direct");
    assertEquals(bw + 2, ImColFloatBackend.BACKWARDS.get(), "two backward calls");
    dev.lowbit.format.Quantizer qw = n.lookup("c", dev.lowbit.numerics.Role.WEIGHT).orElseThrow();
    dev.lowbit.format.Quantizer qb = n.lookup("c", dev.lowbit.numerics.Role.ERROR).orElseThrow();
    int[] ws = {36, 40, 3, 3};
    ImColFloatBackend.Kernels k = new ImColFloatBackend.Kernels(Kernels.javaGemm());
    float[] wantY = new float[s.outputSize()], wantDx = new float[s.inputSize()], wantDw = new float[s.weightSize()];
    float[] wantDb = new float[36];
    float[] xq = whole(qb, xd), eq = whole(qb, pd);
    k.convForward(s, xq, along(qw, wd, ws, 1), bd, wantY);
    k.convBackward(s, xd, along(qw, wd, ws, 0), eq, wantDx, null, null);
    k.convBackward(s, xq, wd, eq, null, wantDw, null);
    Compute.addChannelSums(s, pd, wantDb);
    assertBits(wantY, y.data(), "mixed output");
    assertBits(wantDx, x.grad(), "mixed input gradient");
    assertBits(wantDw, w.grad(), "mixed weight gradient");
    assertBits(wantDb, b.grad(), "mixed bias gradient");
  }

  /** A 3×40×6×5 → 36-channel 3×3 convolution layer run forward and backward (dy = pd) on the test backend under n. */
  private record Layer(dev.lowbit.kernel.ConvSpec s, float[] xd, float[] wd, float[] bd, float[] pd, Var x, Var w, Var b,
      Var y) {}

  private static Layer layer(Numerics n, long seed) {
    dev.lowbit.kernel.ConvSpec s = dev.lowbit.kernel.ConvSpec.of(3, 40, 6, 5, 36, 3, 1, 1);
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    float[] xd = new float[s.inputSize()], wd = new float[s.weightSize()], bd = new float[36], pd = new float[s.outputSize()];
    for (float[] a : List.of(xd, wd, bd, pd)) for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextGaussian() * Math.exp(r.nextGaussian()));
    Var x = Var.parameter(new dev.lowbit.tensor.Tensor(xd.clone(), 3, 40, 6, 5));
    Var w = Var.parameter(new dev.lowbit.tensor.Tensor(wd.clone(), 36, 40, 3, 3));
    Var b = Var.parameter(new dev.lowbit.tensor.Tensor(bd.clone(), 36));
    Kernels.useBackend("imcol-float");
    Compute.setNumerics(n);
    try {
      Var y = Compute.conv2d("c", x, w, b, s);
      Ops.mean(Ops.mul(y, Var.constant(new dev.lowbit.tensor.Tensor(pd, y.shape())))).backward(pd.length); // dy = pd
      return new Layer(s, xd, wd, bd, pd, x, w, b, y);
    } finally {
      Kernels.useBackend("java");
    }
  }

  private static float[] whole(dev.lowbit.format.Quantizer q, float[] x) {
    float[] out = new float[x.length];
    q.quantizeReference(x, new int[] {x.length}, out, 0, 0);
    return out;
  }

  private static float[] along(dev.lowbit.format.Quantizer q, float[] x, int[] shape, int axis) {
    float[] out = new float[x.length];
    new dev.lowbit.format.Quantizer(q.format(), q.rounding(), new dev.lowbit.format.Granularity.PerBlock(32, axis))
        .quantizeReference(x, shape, out, 0, 0);
    return out;
  }

  private static void assertBits(float[] want, float[] got, String what) {
    assertEquals(want.length, got.length, what);
    for (int i = 0; i < want.length; i++) {
      assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), what + " element " + i);
    }
  }

  @Test
  void int8RunsItsForwardOnCodesAndItsBackwardOnDequantizedOperands() {
    // the same arithmetic up to where the scales are applied (y = codes' sum · sx · sw[oc]): the
    // GEMM path rounds the product of the scales differently, so values agree to rounding
    float[] want = run("java", "int8");
    int f8 = ImColFloatBackend.FORWARDS_S8.get(), b = ImColFloatBackend.BACKWARDS.get();
    Numerics n = new Numerics(Presets.get("int8"), 5);
    Kernels.useBackend("imcol-float");
    Compute.setNumerics(n);
    float[] got;
    try {
      got = ComputePolicyTest.forwardBackward(13);
    } finally {
      Kernels.useBackend("java");
    }
    assertEquals(f8 + 1, ImColFloatBackend.FORWARDS_S8.get(), "the forward pass ran on int8 codes");
    assertEquals(b + 1, ImColFloatBackend.BACKWARDS.get(), "the backward passes ran direct");
    assertEquals(2, n.integerGemms(), "the convolution and the linear layer counted as integer products");
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], 2e-5f * Math.max(1f, Math.abs(want[i])), "element " + i);
    }
  }

  @Test
  void theSwitchIsSeen() {
    Kernels.useBackend("imcol-float");
    assertTrue(Kernels.floatKernels() != null);
    Kernels.useBackend("java");
    assertEquals(null, Kernels.floatKernels());
  }
}
