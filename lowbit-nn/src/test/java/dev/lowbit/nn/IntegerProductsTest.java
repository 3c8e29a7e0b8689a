package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.Accumulator;
import dev.lowbit.kernel.ChainedIntGemm;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Presets;
import dev.lowbit.numerics.GemmCall;
import dev.lowbit.numerics.Product;
import dev.lowbit.numerics.ProductPlan;
import dev.lowbit.numerics.Role;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link IntegerProducts}: which products run on the integer kernels, and what they compute. */
class IntegerProductsTest {

  @AfterEach
  void clear() {
    Compute.setNumerics(null);
    Compute.integerPathOff = false;
  }

  @Test
  void dfp16RunsAllThreeTrainingProductsOnTheIntegerKernels() {
    Numerics n = new Numerics(Presets.get("dfp16"), 1);
    Compute.setNumerics(n);
    float[] integer = ComputePolicyTest.forwardBackward(21);
    // linear and conv: forward, backward-weight, backward-data each
    assertEquals(6, n.integerGemms());
    assertEquals(0, n.int32Overflows());
    Compute.integerPathOff = true;
    Numerics fake = new Numerics(Presets.get("dfp16"), 1);
    Compute.setNumerics(fake);
    float[] fq = ComputePolicyTest.forwardBackward(21);
    assertEquals(0, fake.integerGemms());
    // same quantized operands; exact int sums vs fp32 sums of the dequantized values
    ComputePolicyTest.assertClose(fq, integer, 1e-5);
    Compute.setNumerics(null);
    assertFalse(java.util.Arrays.equals(ComputePolicyTest.forwardBackward(21), integer), "dfp16 changed nothing");
  }

  /**
   * A product of a minifloat operand and an integer one is not an integer product: before plans,
   * Numerics.integerGemm took the larger of the two code widths and multiplied the e4m3 operand's
   * bit patterns as if they were integer codes.
   */
  @Test
  void aMinifloatTimesAnIntegerOperandIsFakeQuantized() {
    Policy mixed = Policy.parse("""
        *  weight      int8  rne  per-channel(0)
        *  activation  e4m3  rne  per-tensor(amax)
        """, "mixed");
    Numerics n = new Numerics(mixed, 1);
    Compute.setNumerics(n);
    float[] planned = ComputePolicyTest.forwardBackward(5);
    assertEquals(0, n.integerGemms());
    Compute.integerPathOff = true;
    Compute.setNumerics(new Numerics(mixed, 1));
    assertTrue(java.util.Arrays.equals(ComputePolicyTest.forwardBackward(5), planned), "the fake-quantized bits");
  }

  @Test
  void quantizedWeightGradientKeepsBackwardWeightOnTheFloatPath() {
    Policy p = Policy.parse("""
        *  weight,activation,error  dfp16/h1  rne  per-tensor
        *  weight-gradient          bf16      rne
        """, "dfp-bf16grad");
    Numerics n = new Numerics(p, 1);
    Compute.setNumerics(n);
    ComputePolicyTest.forwardBackward(3);
    assertEquals(4, n.integerGemms(), "forward and backward-data only");
  }

  @Test
  void int8ChainsFollowTheAccumulatorRule() {
    Numerics plain = new Numerics(Presets.get("int8"), 1);
    Compute.setNumerics(plain);
    float[] one = ComputePolicyTest.forwardBackward(3);
    assertEquals(2, plain.integerGemms(), "int8 preset: forward products only (errors stay fp32)");
    Policy p = Policy.parse("""
        *  weight       int8      rne  per-channel(0)
        *  activation   int8      rne  per-tensor
        *  accumulator  int32/c4  forward
        """, "int8-c4");
    Numerics n = new Numerics(p, 1);
    Compute.setNumerics(n);
    float[] chained = ComputePolicyTest.forwardBackward(3);
    assertEquals(2, n.integerGemms());
    ComputePolicyTest.assertClose(one, chained, 1e-5);
  }

  @Test
  void accumulatorRulesGiveChains() {
    assertEquals(new IntegerProducts.Chains(ChainedIntGemm.UNBOUNDED, Accumulator.OverflowMode.WRAP),
        IntegerProducts.chains(Optional.empty()));
    assertEquals(new IntegerProducts.Chains(ChainedIntGemm.UNBOUNDED, Accumulator.OverflowMode.WRAP),
        IntegerProducts.chains(Optional.of(dev.lowbit.kernel.Accumulator.parse("int32"))));
    assertEquals(new IntegerProducts.Chains(256, Accumulator.OverflowMode.WRAP),
        IntegerProducts.chains(Optional.of(dev.lowbit.kernel.Accumulator.parse("int32:wrap/c256"))));
    assertEquals(new IntegerProducts.Chains(64, Accumulator.OverflowMode.SATURATE),
        IntegerProducts.chains(Optional.of(dev.lowbit.kernel.Accumulator.parse("int32:sat/c64"))));
    assertNull(IntegerProducts.chains(Optional.of(dev.lowbit.kernel.Accumulator.parse("int16:wrap"))));
    assertNull(IntegerProducts.chains(Optional.of(dev.lowbit.kernel.Accumulator.parse("e4m7/c16"))));
  }

  /** One long product: h=0 with one chain overflows and is counted; chains of 256 or one headroom bit do not. */
  @Test
  void overflowEventsAreCountedPerChain() {
    SplittableRandom r = new SplittableRandom(3);
    int m = 16, k = 4608, nOut = 8;
    float[] x = new float[m * k], w = new float[nOut * k];
    for (int i = 0; i < x.length; i++) x[i] = (float) Math.max(0, r.nextGaussian());
    for (int i = 0; i < w.length; i++) w[i] = (float) (0.1 + r.nextGaussian());
    x[1] = 7.5f; // both shared exponents from the binade [4, 8), whatever the draw
    w[1] = 7.5f;
    long[] over = new long[3];
    String[] acc = {"int32:wrap", "int32:wrap/c256", "int32:wrap"};
    int[] h = {0, 0, 1};
    float[][] y = new float[3][m * nOut];
    for (int t = 0; t < 3; t++) {
      Policy p = Policy.parse("*  weight,activation  dfp16/h" + h[t] + "  rne  per-tensor\n*  accumulator  " + acc[t]
          + "\n", "dfp-demo");
      Numerics n = new Numerics(p, 1);
      Compute.setNumerics(n);
      Compute.gemm(new ProductPlan.Site("fc", Product.FORWARD, Role.ACTIVATION, Role.WEIGHT, null, false, true),
        new GemmCall(m, nOut, k, new GemmCall.Matrix(x, 0, k), new GemmCall.Matrix(w, 0, k),
            false, new GemmCall.Matrix(y[t], 0, nOut)));
      assertEquals(1, n.integerGemms());
      over[t] = n.int32Overflows();
    }
    assertTrue(over[0] > 0, "h=0, one chain of 4608: " + over[0]);
    assertEquals(0, over[1]);
    assertEquals(0, over[2]);
    // the chained result is the true product within DFP16 precision; the wrapped one is not
    float[] exact = new float[m * nOut];
    Compute.setNumerics(null);
    Compute.gemm(new ProductPlan.Site("fc", Product.FORWARD, Role.ACTIVATION, Role.WEIGHT, null, false, true),
        new GemmCall(m, nOut, k, new GemmCall.Matrix(x, 0, k), new GemmCall.Matrix(w, 0, k),
            false, new GemmCall.Matrix(exact, 0, nOut)));
    ComputePolicyTest.assertClose(exact, y[1], 1e-3);
    ComputePolicyTest.assertClose(exact, y[2], 1e-3);
    double worst = 0;
    for (int i = 0; i < exact.length; i++) worst = Math.max(worst, Math.abs(exact[i] - y[0][i]));
    assertTrue(worst > 1, "wrapped sums should be far off, worst error " + worst);
  }
}
