package dev.lowbit.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.format.Formats;
import dev.lowbit.format.Quantizer;
import dev.lowbit.format.Rounding;
import dev.lowbit.tensor.QuantizedTensor;
import dev.lowbit.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Quantization as an op on the tape: its values, its straight-through backward, and a backward that trains a parameter. */
class QuantizeTest {

  private static final Quantizer BF16 = Quantizer.of(Formats.BF16, Rounding.NEAREST_EVEN);

  private static Quantize.Quantizing bf16() {
    return src -> {
      float[] y = new float[src.length];
      BF16.quantize(src, new int[] {src.length}, y, 0, 0);
      return QuantizedTensor.ofValues(BF16, y);
    };
  }

  /** loss = Σ c_i · v_i, so d loss / d v = c. */
  private static Var weightedSum(Var v, float[] c) {
    return Ops.mean(Ops.scale(Ops.mul(v, Var.constant(new Tensor(c.clone(), v.shape()))), v.size()));
  }

  @Test
  void valuesAreTheQuantizersAndTheGradientPassesStraightThrough() {
    float[] x = {1.0039062f, -3.14159f, 1e-3f, 65504f};
    Var src = new Var(new Tensor(x.clone(), 2, 2), true);
    Quantize.Quantized q = Quantize.apply(src, bf16());
    float[] expected = new float[4];
    BF16.quantize(x, new int[] {4}, expected, 0, 0);
    assertArrayEquals(expected, q.values());
    assertFalse(java.util.Arrays.equals(x, q.values()), "bf16 changed nothing: a weak test");
    assertArrayEquals(new int[] {2, 2}, q.var().shape());
    assertTrue(q.var().requiresGrad());
    float[] c = {0.5f, -2f, 3f, 0.25f};
    weightedSum(q.var(), c).backward();
    assertArrayEquals(c, src.grad(), 1e-6f, "straight-through: the source's gradient is the output's");
  }

  @Test
  void aParametersGradientIsOverwrittenEachStepNotAccumulatedAcrossSteps() {
    Var w = Var.parameter(new Tensor(new float[] {0.3f, -0.7f, 1.9f}, 3));
    float[] c = {1f, 2f, -1f};
    for (int step = 0; step < 3; step++) {
      w.zeroGrad();
      weightedSum(Quantize.apply(w, bf16()).var(), c).backward();
      assertArrayEquals(c, w.grad(), 1e-6f, "step " + step);
    }
  }

  @Test
  void aSourceWithAGradientAlreadyGetsTheOutputsGradientAdded() {
    Var src = new Var(new Tensor(new float[] {1f, 2f}, 2), true);
    Quantize.Quantized q = Quantize.apply(src, bf16());
    // src is used twice: directly and through the op
    Var loss = Ops.add(weightedSum(src, new float[] {10f, 20f}), weightedSum(q.var(), new float[] {1f, 2f}));
    loss.backward();
    assertArrayEquals(new float[] {11f, 22f}, src.grad(), 1e-5f);
  }

  /**
   * A backward other than straight-through, with the quantizer's step size as a {@code Var}: v =
   * round(x / s) · s, and (as in learned step-size quantization, Esser et al., ICLR 2020) d v / d s
   * = round(x / s) − x / s, d v / d x = 1. The op hands the parameter to the backward, which is
   * what lets a method learn it.
   */
  @Test
  void aBackwardOfItsOwnTrainsTheQuantizersParameter() {
    float[] x = {0.26f, -0.74f, 1.1f};
    Var src = new Var(new Tensor(x.clone(), 3), true);
    Var step = Var.parameter(new Tensor(new float[] {0.5f}, 1));
    Quantize.Quantizing round = v -> {
      float s = step.data()[0];
      float[] y = new float[v.length];
      for (int i = 0; i < v.length; i++) y[i] = Math.round(v[i] / s) * s;
      return QuantizedTensor.ofValues(BF16, y);
    };
    Quantize.Backward lsq = (source, out, params) -> {
      float[] g = out.var().grad();
      float s = params.get(0).data()[0];
      float ds = 0;
      for (int i = 0; i < g.length; i++) ds += g[i] * (Math.round(source.data()[i] / s) - source.data()[i] / s);
      params.get(0).gradForAccumulation()[0] += ds;
      Quantize.STRAIGHT_THROUGH.run(source, out, params);
    };
    Quantize.Quantized q = Quantize.apply(src, round, lsq, List.of(step));
    assertArrayEquals(new float[] {0.5f, -0.5f, 1f}, q.values());
    float[] c = {1f, 2f, 3f};
    weightedSum(q.var(), c).backward();
    double ds = 1 * (1 - 0.52) + 2 * (-1 - -1.48) + 3 * (2 - 2.2);
    assertEquals(ds, step.grad()[0], 1e-5);
    assertArrayEquals(c, src.grad(), 1e-6f);
  }

  @Test
  void withoutGradientsNothingIsRecorded() {
    Var src = Var.constant(new Tensor(new float[] {1f, 2f}, 2));
    int before = Tape.current().size();
    Quantize.Quantized q = Quantize.apply(src, bf16());
    assertFalse(q.var().requiresGrad());
    assertEquals(before, Tape.current().size());
    Var learned = new Var(new Tensor(new float[] {1f, 2f}, 2), true);
    Tape.noGrad(() -> Quantize.apply(learned, bf16()));
    assertEquals(before, Tape.current().size(), "evaluation records nothing");
    assertNull(learned.grad());
  }

  @Test
  void aQuantizingOfTheWrongSizeIsRefused() {
    Var src = Var.constant(new Tensor(new float[] {1f, 2f}, 2));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> Quantize.apply(src, v -> QuantizedTensor.ofValues(BF16, new float[3])));
    assertTrue(e.getMessage().contains("3 values of a tensor of 2"), e.getMessage());
  }

  @Test
  void codesComeWithTheirScales() {
    QuantizedTensor t = new QuantizedTensor(BF16, new float[] {2f, -4f}, new byte[] {1, -2}, new float[] {2f}, -1);
    assertTrue(t.hasCodes());
    assertSame(BF16, t.quantizer());
    assertThrows(IllegalArgumentException.class, () -> new QuantizedTensor(BF16, new float[2], new byte[2], null, -1));
    assertThrows(IllegalArgumentException.class, () -> new QuantizedTensor(BF16, new float[2], new byte[3], new float[1], -1));
    assertThrows(IllegalArgumentException.class, () -> new QuantizedTensor(BF16, new float[2], null, null, 1));
  }
}
