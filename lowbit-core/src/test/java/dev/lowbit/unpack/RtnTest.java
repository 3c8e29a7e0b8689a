package dev.lowbit.unpack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.format.Percentile;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** IM-Unpack's RTN quantization (§1.2 of the spec) and its pitfalls (§1.14). */
class RtnTest {

  static float[] gaussian(long seed, int n) {
    Random r = new Random(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
    return x;
  }

  @Test
  void atBetaOneTheLargestEntryTiesAndRoundsToTwoToTheBMinusOne() {
    for (int bits = 2; bits <= 8; bits++) {
      for (long seed = 0; seed < 5; seed++) {
        float[] x = gaussian(seed, 1000 + (int) seed);
        RtnCodes q = Rtn.quantize(x, 1, (1 << bits) - 1);
        int arg = 0;
        for (int i = 1; i < x.length; i++) if (Math.abs(x[i]) > Math.abs(x[arg])) arg = i;
        assertEquals(Math.abs(x[arg]), q.alpha(), 0);
        assertEquals((int) Math.signum(x[arg]) << (bits - 1), q.codes()[arg], "b=" + bits + " seed " + seed);
        int maxAbs = Arrays.stream(q.codes()).map(Math::abs).max().orElseThrow();
        assertEquals(1 << (bits - 1), maxAbs);
        assertEquals(1, HeavyHitters.of(q.matrix(1, x.length), bits).total(), "only the maximum is heavy");
      }
    }
  }

  @Test
  void roundingIsHalfToEvenWithoutClipping() {
    // alpha = 4 (beta = 1), D = 7: s = 3.5/4, so 4 -> 3.5 -> 4, -4 -> -4, 2 -> 1.75 -> 2, 1 -> 0.875 -> 1.
    float[] x = {4, -4, 2, 1};
    RtnCodes q = Rtn.quantize(x, 1, 7);
    assertEquals(3.5 / 4, q.scale(), 0);
    assertArrayEquals(new int[] {4, -4, 2, 1}, q.codes());
    // beta = 0.5 on {1, 2, 3, 100}: k = 2, alpha = 3; 100 is not clipped.
    RtnCodes r = Rtn.quantize(new float[] {1, 2, 3, 100}, 0.5, 15);
    assertEquals(3, r.alpha(), 0);
    assertArrayEquals(new int[] {2, 5, 8, 250}, r.codes()); // 2.5 -> 2 and 7.5 -> 8: half to even
    assertEquals(100f, r.dequantize()[3], 1e-5f);
  }

  @Test
  void heavyHitterFractionIsOneMinusBetaWhenTheGridMatchesTheWidth() {
    float[] x = gaussian(512, 512 * 512);
    for (int bits = 3; bits <= 5; bits++) {
      RtnCodes q = Rtn.quantize(x, 0.95, (1 << bits) - 1);
      HeavyHitters h = HeavyHitters.of(q.matrix(512, 512), bits);
      assertEquals(Percentile.rank(x.length, 0.95), h.total(), "b=" + bits); // exactly the entries with |x| >= alpha
      assertEquals(13107, h.total());
      assertEquals(0.0500, h.fraction(), 5e-5);
    }
  }

  @Test
  void tinyTensorsTakeTheLargestEntry() {
    // numel·(1-beta) = 0.25 < 1: k = max(0, 1) = 1.
    RtnCodes q = Rtn.quantize(new float[] {0.5f, -2, 1, 0.25f, 0}, 0.95, 3);
    assertEquals(2, q.alpha(), 0);
    assertArrayEquals(new int[] {0, -2, 1, 0, 0}, q.codes()); // 0.375, -1.5, 0.75, 0.1875
  }

  @Test
  void allZerosAndMostlyZerosUseTheFallback() {
    RtnCodes z = Rtn.quantize(new float[100], 0.95, 15);
    assertEquals(Percentile.TINY, z.alpha(), 0);
    assertArrayEquals(new int[100], z.codes());
    float[] x = new float[1000];
    for (int i = 0; i < 10; i++) x[i * 97] = i + 1; // 10 non-zeros, 1..10; the 0.95-quantile of all is 0
    x[5] = -0.0f;
    RtnCodes q = Rtn.quantize(x, 0.95, 15);
    assertEquals(10, q.alpha(), 0); // over the non-zeros: k = max(floor(0.5), 1) = 1
    assertEquals(8, q.codes()[9 * 97]);
    assertEquals(4, q.codes()[4 * 97]); // 5·0.75 = 3.75
    assertEquals(0, q.codes()[5]);
    // 40 non-zeros of 1000, beta 0.95: k = 50 is a zero, the fallback takes the 2nd largest non-zero.
    float[] y = new float[1000];
    for (int i = 0; i < 40; i++) y[i] = -(i + 1);
    assertEquals(39, Rtn.alpha(y, 0.95), 0);
  }

  @Test
  void theSelectionAgreesWithSorting() {
    Random r = new Random(8);
    for (int t = 0; t < 300; t++) {
      float[] x = new float[1 + r.nextInt(60)];
      for (int i = 0; i < x.length; i++) {
        x[i] = switch (r.nextInt(5)) {
          case 0 -> 0f;
          case 1 -> -0f;
          case 2 -> r.nextInt(4) - 2; // duplicates
          case 3 -> Float.MIN_VALUE * (r.nextInt(5) - 2); // subnormals
          default -> (float) (r.nextGaussian() * Math.pow(10, r.nextInt(60) - 30));
        };
      }
      float[] abs = new float[x.length];
      for (int i = 0; i < x.length; i++) abs[i] = Math.abs(x[i]);
      Arrays.sort(abs);
      int k = 1 + r.nextInt(x.length);
      assertEquals(abs[abs.length - k], Percentile.kthLargestAbs(x, k, false), 0, "k=" + k + " of " + Arrays.toString(x));
      float[] nonZero = nonZero(abs);
      if (nonZero.length > 0) {
        int kz = 1 + r.nextInt(nonZero.length);
        assertEquals(nonZero[nonZero.length - kz], Percentile.kthLargestAbs(x, kz, true), 0);
      }
    }
  }

  private static float[] nonZero(float[] sortedAbs) {
    int first = 0;
    while (first < sortedAbs.length && sortedAbs[first] == 0) first++;
    return Arrays.copyOfRange(sortedAbs, first, sortedAbs.length);
  }

  @Test
  void nanAndInfinityAreRejectedByIndexAndValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Rtn.quantize(new float[] {1, 2, 3, Float.NaN}, 0.95, 15));
    assertTrue(e.getMessage().contains("entry 3") && e.getMessage().contains("NaN"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> Rtn.quantize(new float[] {Float.NEGATIVE_INFINITY, 2}, 1, 15));
    assertTrue(e.getMessage().contains("entry 0") && e.getMessage().contains("-Infinity"), e.getMessage());
  }

  @Test
  void badParametersAndInt32OverflowAreRejected() {
    float[] x = {1, 2};
    for (double beta : new double[] {0, -0.1, 1.01, Double.NaN}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Rtn.quantize(x, beta, 15));
      assertTrue(e.getMessage().contains("beta"), e.getMessage());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Rtn.quantize(x, 1, 0));
    assertTrue(e.getMessage().contains("D = 0"), e.getMessage());
    float[] big = new float[100];
    Arrays.fill(big, 1e-3f);
    big[7] = 1e30f;
    e = assertThrows(IllegalArgumentException.class, () -> Rtn.quantize(big, 0.5, 15));
    assertTrue(e.getMessage().contains("entry 7") && e.getMessage().contains("int32"), e.getMessage());
  }
}
