package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.autograd.Var;
import dev.lowbit.format.EncodedTensor;
import dev.lowbit.format.Quantizer;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Presets;
import dev.lowbit.tensor.Tensor;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * IM-Unpack as an engine: the unpack-intB presets run every product of a linear and a convolution
 * layer (forward and both backward products) through b-bit GEMMs and give the bits of the same
 * percentile quantization on exact int64 sums; the integer result is the scaled product of the
 * codes; the run records its unpack ratios.
 */
class QuantileProductsTest {

  @AfterEach
  void reset() {
    Compute.setNumerics(null);
    Kernels.useBackend("java");
  }

  /** The preset's policy without its unpack option: the same quantization on the exact int64 engine. */
  private static Policy plain(String preset) {
    String text = Presets.text(preset).lines().filter(l -> !l.strip().startsWith("option unpack-bits"))
        .reduce("", (a, l) -> a + l + "\n");
    return Policy.parse(text, preset + "-plain");
  }

  @Test
  void unpackedProductsGiveTheExactEnginesBits() {
    for (String preset : new String[] {"unpack-int2", "unpack-int3", "unpack-int4", "unpack-int8"}) {
      Numerics exact = new Numerics(plain(preset), 3);
      Compute.setNumerics(exact);
      float[] reference = ComputePolicyTest.forwardBackward(11);
      Numerics unpack = new Numerics(Presets.get(preset), 3);
      Compute.setNumerics(unpack);
      float[] unpacked = ComputePolicyTest.forwardBackward(11);
      assertArrayEquals(reference, unpacked, preset);

      for (Map<String, Object> row : unpack.plans()) {
        assertEquals("unpack", row.get("engine"), preset + ": " + row);
      }
      for (Map<String, Object> row : exact.plans()) {
        assertEquals("integer (int64 sums)", row.get("engine"), preset + " without unpack: " + row);
      }
      List<Map<String, Object>> rows = unpack.unpackStats().rows();
      // fc1 and conv1: forward, backward-data and backward-weight each
      assertEquals(6, rows.size(), preset + ": " + rows);
      for (Map<String, Object> r : rows) assertTrue((double) r.get("ratio") >= 1, preset + ": " + r);
      assertTrue(unpack.unpackStats().ratio() > 1, preset + ": 5% heavy hitters make some line dirty");
      assertEquals(List.of(), exact.unpackStats().rows(), preset + ": nothing unpacked without the option");
    }
  }

  /** y = x·Wᵀ as codes: each output is (float) (Σ codes · scaleX · scaleW), and close to the fp32 product of the values. */
  @Test
  void theResultIsTheScaledProductOfTheCodes() {
    Policy p = Presets.get("unpack-int4");
    Compute.setNumerics(new Numerics(p, 1));
    SplittableRandom r = new SplittableRandom(5);
    Tensor xt = ComputePolicyTest.randn(r, 7, 33), wt = ComputePolicyTest.randn(r, 9, 33);
    Var y = Compute.linear("fc", Var.constant(xt), Var.constant(wt), null);
    Quantizer q = p.lookup("fc", dev.lowbit.numerics.Role.ACTIVATION).orElseThrow();
    EncodedTensor ex = q.encode(xt.data(), new int[] {7, 33}, 0, 0);
    float[] wT = new float[33 * 9]; // op(B) = Wᵀ, as the product quantizes it
    for (int i = 0; i < 9; i++) for (int j = 0; j < 33; j++) wT[j * 9 + i] = wt.data()[i * 33 + j];
    EncodedTensor ew = q.encode(wT, new int[] {33, 9}, 0, 0);
    float[] values = q.decode(ex), wValues = q.decode(ew);
    for (int i = 0; i < 7; i++) {
      for (int o = 0; o < 9; o++) {
        long s = 0;
        double f = 0;
        for (int j = 0; j < 33; j++) {
          s += (long) ex.codes()[i * 33 + j] * ew.codes()[j * 9 + o];
          f += (double) values[i * 33 + j] * wValues[j * 9 + o];
        }
        float expected = (float) (s * ((double) ex.scales()[0] * ew.scales()[0]));
        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(y.data()[i * 9 + o]), i + "," + o);
        assertEquals(f, y.data()[i * 9 + o], 1e-5 * (1 + Math.abs(f)), "the values' fp32 product");
      }
    }
  }

  /** Without a policy option the convolution still runs its products on integers, on im2col even where native kernels exist. */
  @Test
  void convolutionsRunOnIm2colUnderAPercentileScale() {
    Kernels.useBackend("imcol-float");
    Numerics n = new Numerics(Presets.get("unpack-int4"), 3);
    Compute.setNumerics(n);
    ComputePolicyTest.forwardBackward(2);
    for (Map<String, Object> row : n.plans()) {
      if ("conv1".equals(row.get("layer"))) assertEquals("unpack", row.get("engine"), row.toString());
    }
  }

  /** The granularity and the option are values of the policy; bad ones get one line naming what is valid. */
  @Test
  void thePolicyNamesBadPercentilesAndWidths() {
    Policy p = Policy.parse("*  weight  int32  rne  per-tensor(quantile=0.9,distinct=7)\noption unpack-bits 3\n", "t");
    assertEquals(new dev.lowbit.format.Granularity.Quantile(0.9, 7),
        p.lookup("fc", dev.lowbit.numerics.Role.WEIGHT).orElseThrow().granularity());
    assertEquals(3, p.methods().unpackBits());
    assertTrue(p.toText().contains("per-tensor(quantile=0.9,distinct=7)"), p.toText());
    Policy tiny = Policy.parse("*  weight  int32  rne  per-tensor(quantile=0.00001,distinct=7)\n", "t");
    assertEquals(tiny, Policy.parse(tiny.toText(), "t"), "a small percentile prints as plain digits: " + tiny.toText());
    String[][] bad = {
        {"*  weight  int32  rne  per-tensor(quantile=1.5,distinct=7)\n", "beta = 1.5; valid: (0, 1]"},
        {"*  weight  int32  rne  per-tensor(quantile=0.9,distinct=0)\n", "D = 0; valid: 1..16777216"},
        {"*  weight  e4m3  rne  per-tensor(quantile=0.9,distinct=7)\n", "applies to dynamic signed integers"},
        {"option unpack-bits 9\n", "valid: an integer 2..8"},
    };
    for (String[] b : bad) {
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> Policy.parse(b[0], "bad"));
      assertTrue(e.getMessage().contains(b[1]), b[0] + " -> " + e.getMessage());
      assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }
  }

  /** An operand holding NaN is declined by the integer engines and reaches the output through fake quantization. */
  @Test
  void aNanOperandReachesTheOutput() {
    for (String preset : new String[] {"unpack-int4"}) {
      for (Policy p : new Policy[] {Presets.get(preset), plain(preset)}) {
        Compute.setNumerics(new Numerics(p, 1));
        SplittableRandom r = new SplittableRandom(8);
        Tensor xt = ComputePolicyTest.randn(r, 3, 16), wt = ComputePolicyTest.randn(r, 4, 16);
        xt.data()[5] = Float.NaN;
        Var y = Compute.linear("fc", Var.constant(xt), Var.constant(wt), null);
        for (float v : y.data()) assertTrue(Float.isNaN(v), p.name() + ": " + java.util.Arrays.toString(y.data()));
      }
    }
  }
}
