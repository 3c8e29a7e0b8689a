package dev.lowbit.kernel.intonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/** I-LayerNorm (spec §2.6): the square roots, the worked example, the rounding of the mean, the error against float layer norm. */
class IntLayerNormTest {

  /** V = 11300: the bit-length start 128 → 108 → 106 is exact; the released schedule (2^16, 10 steps) stops at 113. */
  @Test
  void theTwoSquareRootSchedules() {
    assertEquals(106, IntLayerNorm.isqrt(11300));
    assertEquals(113, IntLayerNorm.referenceIsqrt(11300));
    assertEquals(181, IntLayerNorm.isqrt(32767)); // a floor(bitlen/2) start would give 128
    assertEquals(0, IntLayerNorm.isqrt(0));
    assertEquals(1, IntLayerNorm.isqrt(3));
    assertEquals(2, IntLayerNorm.isqrt(4));
    assertEquals(3037000499L, IntLayerNorm.isqrt(Long.MAX_VALUE));
    // the reference is exact once V is large: 2^16 is then a start from above
    assertEquals(IntLayerNorm.isqrt(1L << 32), IntLayerNorm.referenceIsqrt(1L << 32));
    assertThrows(IllegalArgumentException.class, () -> IntLayerNorm.isqrt(-1));
  }

  /** floor(√v) for random v up to 2^62 and their neighbours of squares, checked against a Math.sqrt estimate corrected by ±1. */
  @Property(tries = 3000)
  void isqrtIsTheFloorOfTheRoot(@ForAll @LongRange(min = 0, max = 1L << 62) long v) {
    for (long u : new long[] {v, (long) Math.sqrt(v) * (long) Math.sqrt(v), (long) Math.sqrt(v) * (long) Math.sqrt(v) - 1}) {
      if (u < 0) continue;
      long s = (long) Math.sqrt((double) u);
      while (s * s > u) s--;
      while ((s + 1) * (s + 1) <= u) s++;
      assertEquals(s, IntLayerNorm.isqrt(u), "isqrt(" + u + ")");
    }
  }

  @Test
  void isqrtIsExactForEverySmallValue() {
    long root = 0;
    for (long v = 0; v < 1 << 20; v++) {
      if ((root + 1) * (root + 1) <= v) root++;
      if (IntLayerNorm.isqrt(v) != root) throw new AssertionError("isqrt(" + v + ") = " + IntLayerNorm.isqrt(v) + ", not " + root);
    }
  }

  /** x = [100, −50, 30, 20]: μ = 25, V = 11300, σ = 106, F = 20259279, z as in the spec. */
  @Test
  void theWorkedExample() {
    int[] x = {100, -50, 30, 20};
    assertEquals(25, IntLayerNorm.mean(x, 0, 4));
    assertEquals(20259279, Math.floorDiv(Integer.MAX_VALUE, 106));
    int[] out = new int[4];
    IntLayerNorm.row(x, 0, 4, new int[4], out, 0);
    assertArrayEquals(new int[] {759722962, -759722963, 50648197, -50648198}, out);
    IntLayerNorm.row(x, 0, 4, new int[] {1, -2, 3, -4}, out, 0);
    assertArrayEquals(new int[] {759722963, -759722965, 50648200, -50648202}, out);
  }

  /** The mean rounds half up: 1.5 → 2, −1.5 → −1, −2.5 → −2, 2.4 → 2. */
  @Test
  void theMeanRoundsHalfUp() {
    assertEquals(2, IntLayerNorm.mean(new int[] {1, 2}, 0, 2));
    assertEquals(-1, IntLayerNorm.mean(new int[] {-1, -2}, 0, 2));
    assertEquals(-2, IntLayerNorm.mean(new int[] {-2, -3}, 0, 2));
    assertEquals(2, IntLayerNorm.mean(new int[] {2, 2, 2, 2, 4}, 0, 5));
  }

  /** A constant row has V = 0; σ = max(0, 1) and the output is the bias alone. */
  @Test
  void aConstantRowGivesTheBias() {
    int[] out = new int[3];
    IntLayerNorm.row(new int[] {7, 7, 7}, 0, 3, new int[] {5, 6, -7}, out, 0);
    assertArrayEquals(new int[] {5, 6, -7}, out);
  }

  /**
   * Against float layer norm (no eps) for random int16 rows of 16..256 channels whose standard
   * deviation is at least 64: |z·√C/2^30 − (x − mean)/std| ≤ 0.012 (the rounded mean and the
   * floor of σ, each about 1/std; measured 0.0082); a mean off by one shifts every output by 1/std,
   * 0.014 on the rows with std near 70, and misses the bound.
   */
  @Test
  void staysNearFloatLayerNorm() {
    Random rnd = new Random(3);
    double worst = 0;
    for (int trial = 0; trial < 500; trial++) {
      int dim = 16 + rnd.nextInt(241);
      int spread = 120 + rnd.nextInt(30000);
      int center = rnd.nextInt(2001) - 1000;
      int[] x = new int[dim];
      for (int i = 0; i < dim; i++) x[i] = Math.max(-32768, Math.min(32767, center + rnd.nextInt(2 * spread + 1) - spread));
      double mean = 0, var = 0;
      for (int v : x) mean += v;
      mean /= dim;
      for (int v : x) var += (v - mean) * (v - mean);
      double std = Math.sqrt(var / dim);
      if (std < 64) continue;
      int[] out = new int[dim];
      IntLayerNorm.row(x, 0, dim, new int[dim], out, 0);
      for (int i = 0; i < dim; i++) {
        worst = Math.max(worst, Math.abs(out[i] * Math.sqrt(dim) / (1 << 30) - (x[i] - mean) / std));
      }
    }
    assertTrue(worst <= 0.012, "largest error " + worst);
  }
}
