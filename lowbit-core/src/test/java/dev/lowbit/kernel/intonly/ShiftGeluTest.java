package dev.lowbit.kernel.intonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** ShiftGELU (spec §2.5): the worked example of §2.8 in both modes, the all-negative anchor, the error against x·σ(1.702x). */
class ShiftGeluTest {

  static final int[] X = {-60, -40, -10, 0, 10, 30, 60};
  static final ShiftGelu.Params REFERENCE = new ShiftGelu.Params(-12, 23, 8, false);
  static final ShiftGelu.Params PRECISE = new ShiftGelu.Params(-12, 23, 8, true);

  /** S = 0.05: x0 = floor(−1/0.0851) = −12, E of x − 60 and Em = E of −60. */
  @Test
  void theWorkedExamplesExponentials() {
    assertEquals(-12, (int) Math.floor(-1 / (1.702 * 0.05)));
    long[] e = new long[X.length];
    for (int i = 0; i < X.length; i++) e[i] = Shiftmax.exp(X[i] - 60, -12, 23);
    assertArrayEquals(new long[] {5120, 26624, 327680, 720896, 1703936, 8912896, 100663296}, e);
    assertEquals(720896, Shiftmax.exp(-60, -12, 23));
  }

  @Test
  void theWorkedExampleInReferenceMode() {
    assertSigmaAndOutput(REFERENCE, new int[] {0, 4, 39, 63, 89, 117, 126}, new int[] {0, -160, -390, 0, 890, 3510, 7560});
  }

  @Test
  void theWorkedExampleInPreciseMode() {
    assertSigmaAndOutput(PRECISE, new int[] {0, 4, 40, 64, 89, 118, 127}, new int[] {0, -160, -400, 0, 890, 3540, 7620});
  }

  private static void assertSigmaAndOutput(ShiftGelu.Params p, int[] wantSigma, int[] wantOut) {
    int[] sigma = new int[X.length], out = new int[X.length];
    ShiftGelu.sigma(X, 0, X.length, p, sigma, 0);
    ShiftGelu.row(X, 0, X.length, p, out, 0);
    assertArrayEquals(wantSigma, sigma, "σ");
    assertArrayEquals(wantOut, out, "x·σ");
  }

  /**
   * An all-negative row is anchored at c = 0: both exponents stay ≤ 0, reference mode gives the
   * spec's σ = [0, 0, 10, 51] for [−90, −60, −30, −5] at S = 0.05, and precise mode stays within 3
   * LSB of the ideal 128·σ(1.702·x·S) = [0.06, 0.77, 9.24, 50.6].
   */
  @Test
  void anAllNegativeRowIsAnchoredAtZero() {
    int[] x = {-90, -60, -30, -5};
    int[] ref = new int[4], precise = new int[4];
    ShiftGelu.sigma(x, 0, 4, REFERENCE, ref, 0);
    ShiftGelu.sigma(x, 0, 4, PRECISE, precise, 0);
    assertArrayEquals(new int[] {0, 0, 10, 51}, ref);
    double[] ideal = {0.06, 0.77, 9.24, 50.6};
    for (int i = 0; i < 4; i++) assertTrue(Math.abs(precise[i] - ideal[i]) <= 3, "σ[" + i + "] = " + precise[i]);
  }

  /**
   * σ against round(128·σ(1.702·x·S)) for rows of x·S in [−4, 4]: precise mode within 4 LSB at S
   * = 0.05, 0.02, 0.01 (the spec measured 3.4, 2.9, 2.1: the exp approximation); reference mode's
   * reciprocal truncation grows as S shrinks (spec: 23.8 LSB at S = 0.01 on its rows, 30 on these),
   * so it stays within 32 LSB but exceeds the precise bound there.
   */
  @Test
  void sigmaStaysNearTheLogisticOfOnePointSevenX() {
    Random rnd = new Random(5);
    for (double s : new double[] {0.05, 0.02, 0.01}) {
      int x0 = (int) Math.floor(-1 / (1.702 * s));
      double worstPrecise = 0, worstReference = 0;
      int range = (int) Math.round(4 / s);
      for (int trial = 0; trial < 300; trial++) {
        int len = 1 + rnd.nextInt(96);
        int[] x = new int[len];
        for (int i = 0; i < len; i++) x[i] = rnd.nextInt(2 * range + 1) - range;
        int[] p = new int[len], r = new int[len];
        ShiftGelu.sigma(x, 0, len, new ShiftGelu.Params(x0, 23, 8, true), p, 0);
        ShiftGelu.sigma(x, 0, len, new ShiftGelu.Params(x0, 23, 8, false), r, 0);
        for (int i = 0; i < len; i++) {
          double want = Math.rint(128 / (1 + Math.exp(-1.702 * x[i] * s)));
          worstPrecise = Math.max(worstPrecise, Math.abs(p[i] - want));
          worstReference = Math.max(worstReference, Math.abs(r[i] - want));
        }
      }
      assertTrue(worstPrecise <= 4, "precise mode at S = " + s + ": " + worstPrecise + " LSB");
      assertTrue(worstReference <= 32, "reference mode at S = " + s + ": " + worstReference + " LSB");
      if (s == 0.01) assertTrue(worstReference > 4, "reference mode at S = 0.01: " + worstReference + " LSB");
    }
  }

  @Test
  void badConstantsAndEmptyRowsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new ShiftGelu.Params(0, 23, 8, false));
    assertThrows(IllegalArgumentException.class, () -> new ShiftGelu.Params(-12, 23, 0, false));
    assertThrows(IllegalArgumentException.class, () -> new ShiftGelu.Params(-(1 << 20), 23, 8, true));
    assertThrows(IllegalArgumentException.class, () -> ShiftGelu.row(new int[0], 0, 0, PRECISE, new int[1], 0));
  }
}
