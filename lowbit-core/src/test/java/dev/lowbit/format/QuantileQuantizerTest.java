package dev.lowbit.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A dynamic integer with a percentile scale ({@link Granularity.Quantile}, IM-Unpack's RTN): codes
 * {@code rint(x·(D/2)/α)} without clipping, values code · scale, encode/decode and the fast path
 * equal to the reference, NaN handled like the other shared-scale quantizers.
 */
class QuantileQuantizerTest {

  private static Quantizer rtn(double beta, int distinct) {
    return new Quantizer(IntFormat.signed(32), Rounding.NEAREST_EVEN, new Granularity.Quantile(beta, distinct));
  }

  private static float[] gaussian(int n, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * (i % 97 == 0 ? 20 : 1));
    return x;
  }

  @Test
  void codesAreRoundedQuotientsByTheQuantileAndValuesTheirScaledCodes() {
    float[] x = gaussian(4000, 1);
    Quantizer q = rtn(0.95, 15);
    EncodedTensor e = q.encode(x, new int[] {40, 100}, 0, 0);
    double alpha = Percentile.alpha(x, 0.95);
    assertEquals((float) (alpha / 7.5), e.scales()[0]);
    int above = 0;
    for (int i = 0; i < x.length; i++) {
      assertEquals((int) Math.rint(x[i] * 7.5 / alpha), e.codes()[i], "element " + i);
      if (Math.abs(e.codes()[i]) > 8) above++;
    }
    assertTrue(above > 0, "entries above alpha keep codes beyond the grid (no clipping)");
    float[] ref = new float[x.length], fast = new float[x.length];
    q.quantizeReference(x, new int[] {40, 100}, ref, 0, 0);
    q.quantize(x, new int[] {40, 100}, fast, 0, 0, 2);
    assertArrayEquals(ref, fast);
    assertArrayEquals(ref, q.decode(e));
    for (int i = 0; i < x.length; i++) assertEquals((float) (e.codes()[i] * (double) e.scales()[0]), ref[i]);
  }

  /** At β = 1 the largest magnitude lands exactly on the tie D/2 and rounds to the even 2^(b-1) (spec §1.14). */
  @Test
  void atBetaOneTheLargestEntryRoundsToTheEvenTie() {
    float[] x = gaussian(1000, 2);
    int arg = 0;
    for (int i = 0; i < x.length; i++) if (Math.abs(x[i]) > Math.abs(x[arg])) arg = i;
    for (int b = 2; b <= 8; b++) {
      EncodedTensor e = rtn(1, (1 << b) - 1).encode(x, new int[] {x.length}, 0, 0);
      assertEquals(Math.signum(x[arg]) * (1 << (b - 1)), e.codes()[arg], "b=" + b);
    }
  }

  @Test
  void nanGivesNanValuesAndRefusesToEncode() {
    float[] x = gaussian(64, 3);
    x[17] = Float.NaN;
    float[] out = new float[64];
    rtn(0.95, 15).quantize(x, new int[] {64}, out, 0, 0);
    for (float v : out) assertTrue(Float.isNaN(v));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> rtn(0.95, 15).encode(x, new int[] {64}, 0, 0));
    assertTrue(e.getMessage().contains("NaN"), e.getMessage());
  }

  @Test
  void onlyDynamicSignedIntegersWithNearestEvenTakeAPercentileScale() {
    Granularity g = new Granularity.Quantile(0.95, 15);
    assertThrows(IllegalArgumentException.class, () -> new Quantizer(Formats.E4M3, Rounding.NEAREST_EVEN, g));
    assertThrows(IllegalArgumentException.class, () -> new Quantizer(IntFormat.unsigned(8), Rounding.NEAREST_EVEN, g));
    assertThrows(IllegalArgumentException.class, () -> new Quantizer(IntFormat.signed(32), Rounding.STOCHASTIC, g));
    assertThrows(IllegalArgumentException.class, () -> new Granularity.Quantile(0, 15));
    assertThrows(IllegalArgumentException.class, () -> new Granularity.Quantile(0.9, 0));
    // a narrower integer clips at its own range: int8 codes stay in [-128, 127]
    float[] x = gaussian(500, 4);
    EncodedTensor e = new Quantizer(IntFormat.signed(8), Rounding.NEAREST_EVEN, g).encode(x, new int[] {500}, 0, 0);
    for (int c : e.codes()) assertTrue(c >= -128 && c <= 127);
  }
}
