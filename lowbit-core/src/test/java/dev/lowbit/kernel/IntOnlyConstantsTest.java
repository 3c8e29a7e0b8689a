package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class IntOnlyConstantsTest {

  @Test
  void specExampleGivesItsMultiplierAndShift() {
    IntOnlyConstants.Dyadic d = IntOnlyConstants.dyadic(0.0123 * 0.0041 / 0.0217);
    assertEquals(1277612244, d.m());
    assertEquals(39, d.k());
    // z = 123456 requantizes to 287 (real 286.907), rounding half up in long
    long z = 123456;
    assertEquals(287, (z * d.m() + (1L << (d.k() - 1))) >> d.k());
  }

  @Test
  void multiplierStaysInItsRangeAndIsCloseToTheRatio() {
    SplittableRandom rng = new SplittableRandom(3);
    for (int i = 0; i < 10_000; i++) {
      double r = Math.exp(rng.nextDouble(-22, 20));
      IntOnlyConstants.Dyadic d = IntOnlyConstants.dyadic(r);
      assertTrue(d.m() >= 1 << 30 && d.m() < Integer.MAX_VALUE, "m " + d.m() + " for " + r);
      assertEquals(1, d.value() / r, 1.0 / (1L << 30), "r " + r);
    }
  }

  @Test
  void aFractionThatRoundsUpToTwoToThe31IsRenormalised() {
    double r = Math.nextDown(1.0); // f·2^31 rounds to 2^31
    IntOnlyConstants.Dyadic d = IntOnlyConstants.dyadic(r);
    assertEquals(1 << 30, d.m());
    assertEquals(30, d.k());
    assertEquals(new IntOnlyConstants.Dyadic(1 << 30, 30), IntOnlyConstants.dyadic(1.0));
    assertEquals(new IntOnlyConstants.Dyadic(1 << 30, 0), IntOnlyConstants.dyadic(1 << 30));
  }

  @Test
  void badRatiosAreRefused() {
    for (double r : new double[] {0, -0.5, Double.NaN, Double.POSITIVE_INFINITY, 1e-30, 1L << 32}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IntOnlyConstants.dyadic(r));
      assertTrue(e.getMessage().contains("dyadic ratio"), e.getMessage());
    }
  }

  @Test
  void shiftAndGeluX0FollowTheSpec() {
    assertEquals(-13, IntOnlyConstants.shiftX0(0.08)); // spec 2.8 Shiftmax example
    assertEquals(-12, IntOnlyConstants.geluX0(0.05)); // spec 2.8 ShiftGELU example
    assertEquals(-4, IntOnlyConstants.shiftX0(0.25)); // 1/S an integer: floor keeps it
    assertThrows(IllegalArgumentException.class, () -> IntOnlyConstants.shiftX0(0));
    assertThrows(IllegalArgumentException.class, () -> IntOnlyConstants.shiftX0(Double.NaN));
  }

  @Test
  void layerNormBiasIsTheFlooredRatioInTheNormalizedScale() {
    // C = 64: S_ln = 8/2^30, so β/γ = 0.5 is 2^30/16 = 2^26
    assertEquals(1 << 26, IntOnlyConstants.layerNormBias(0.25, 0.5, 64));
    assertEquals(-(1 << 26), IntOnlyConstants.layerNormBias(0.25, -0.5, 64));
    assertEquals(-67108865, IntOnlyConstants.layerNormBias(-0.2500000001, 0.5, 64));
    assertEquals(1 << 30, IntOnlyConstants.layerNormBias(100, 1, 64)); // clamped so z + b stays an int
    assertThrows(IllegalArgumentException.class, () -> IntOnlyConstants.layerNormBias(1, 0, 64));
  }
}
