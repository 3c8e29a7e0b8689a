package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

  @Test
  void directPathGivesTheIm2colPathsBits() {
    for (String preset : new String[] {null, "fp32", "bf16", "fp16", "fp8"}) {
      float[] want = run("java", preset);
      int f = ImColFloatBackend.FORWARDS.get(), b = ImColFloatBackend.BACKWARDS.get();
      float[] got = run("imcol-float", preset);
      assertEquals(f + 1, ImColFloatBackend.FORWARDS.get(), preset + ": the forward pass ran direct");
      assertEquals(b + 1, ImColFloatBackend.BACKWARDS.get(), preset + ": the backward pass ran direct");
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
    // MX blocks run along the column matrix's rows, dfp16 encodes 16-bit codes with its own
    // overflow handling, ShiftQuant quantizes the errors per sample: none can move around a native
    // convolution
    for (String preset : List.of("mxfp8", "dfp16", "shiftquant4")) {
      float[] want = run("java", preset);
      int f = ImColFloatBackend.FORWARDS.get();
      float[] got = run("imcol-float", preset);
      assertEquals(f, ImColFloatBackend.FORWARDS.get(), preset + " must not run direct");
      for (int i = 0; i < want.length; i++) {
        assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), preset + " element " + i);
      }
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
