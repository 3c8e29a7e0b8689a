package dev.lowbit.numerics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.numerics.FunctionEval;
import dev.lowbit.numerics.FunctionEval.Rows;
import dev.lowbit.format.Formats;
import dev.lowbit.kernel.Reduce;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ApproximationTest {

  @Test
  void textParsesBackToAnEqualValue() {
    for (String s : List.of("exact", "poly:1", "poly:3", "poly:8", "fp16", "bf16", "e4m3", "e5m2", "e3m4:fn:sat")) {
      Approximation a = Approximation.parse(s);
      assertEquals(s, a.text());
      assertEquals(a, Approximation.parse(a.text()));
    }
    assertSame(Approximation.EXACT, Approximation.parse(" Exact "));
    assertEquals(new Approximation.Rounded(Formats.FP16), Approximation.parse("FP16"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      poly:0   | poly:0: degree must be 1..8
      poly:9   | poly:9: degree must be 1..8
      poly:x   | approximation 'poly:x': poly:N needs a degree N in 1..8
      poly:    | approximation 'poly:': poly:N needs a degree N in 1..8
      int8     | approximation 'int8': int8 is not a minifloat; valid: exact, poly:N (exp role only, N 1..8), or a minifloat
      mxfp8    | approximation 'mxfp8': mxfp8 is not a minifloat; valid: exact
      taylor   | unknown approximation 'taylor'; valid: exact, poly:N (exp role only, N 1..8), or a minifloat such as fp16
      """)
  void badValuesNameWhatIsValid(String s, String expectedStart) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Approximation.parse(s));
    assertTrue(e.getMessage().startsWith(expectedStart.strip()), e.getMessage());
  }

  @Test
  void exactIsTheOpsOwnCode() {
    Rows code = (x, y, r, c) -> {};
    assertSame(code, Approximation.EXACT.of(Role.GELU, code));
    assertSame(code, Approximation.EXACT.softmax(code));
    assertSame(FunctionEval.EXACT, Approximation.EXACT.eval(Role.SOFTMAX));
    for (float x : new float[] {-100f, -3.5f, 0f, 1e-3f, 7f, 88f}) {
      assertEquals((float) Math.exp(x), Approximation.EXACT.exp(x));
    }
  }

  @Test
  void rolesEachValueFits() {
    for (Role r : Role.values()) {
      assertEquals(r.isFunction(), Approximation.EXACT.fits(r), r.label());
      assertEquals(r.isFunction(), Approximation.parse("fp16").fits(r), r.label());
      assertEquals(r == Role.EXP, Approximation.parse("poly:3").fits(r), r.label());
    }
    assertThrows(IllegalStateException.class, () -> new Approximation.PolyExp(3).of(Role.GELU, (x, y, r, c) -> {}));
  }

  /**
   * Every degree against Math.exp over [-87, 88] (normal float results), 2^21 points plus the
   * range-reduction boundaries (k + 1/2)·ln2: the largest relative error lies within the Taylor
   * bound plus float rounding, and above half the bound (the bound is tight, not a loose cap).
   */
  @Test
  void polynomialExpStaysWithinItsBound() {
    double ln2 = Math.log(2);
    for (int n = 1; n <= Approximation.PolyExp.MAX_DEGREE; n++) {
      Approximation.PolyExp p = new Approximation.PolyExp(n);
      double bound = p.errorBound(), worst = 0;
      int points = 1 << 21;
      for (int i = 0; i <= points; i++) {
        float x = (float) (-87 + 175.0 * i / points);
        worst = Math.max(worst, relError(p.exp(x), x));
      }
      for (int k = -125; k <= 126; k++) {
        float x = (float) ((k + 0.5) * ln2);
        worst = Math.max(worst, relError(p.exp(Math.nextDown(x)), Math.nextDown(x)));
        worst = Math.max(worst, relError(p.exp(x), x));
      }
      double floatRounding = 0x1p-24;
      assertTrue(worst <= bound * (1 + 1e-9) + floatRounding, "poly:" + n + " error " + worst + " > bound " + bound);
      if (n <= 5) assertTrue(worst >= bound / 2, "poly:" + n + " error " + worst + " far below bound " + bound);
    }
    assertEquals(0.0849, new Approximation.PolyExp(1).errorBound(), 1e-4);
    assertEquals(8.50e-4, new Approximation.PolyExp(3).errorBound(), 1e-6);
  }

  private static double relError(float approx, float x) {
    double e = Math.exp(x);
    return Math.abs(approx - e) / e;
  }

  @Test
  void polynomialExpEdges() {
    Approximation.PolyExp p = new Approximation.PolyExp(3);
    assertTrue(Float.isNaN(p.exp(Float.NaN)));
    assertEquals(Float.POSITIVE_INFINITY, p.exp(Float.POSITIVE_INFINITY));
    assertEquals(Float.POSITIVE_INFINITY, p.exp(90f));
    assertEquals(0f, p.exp(Float.NEGATIVE_INFINITY));
    assertEquals(0f, p.exp(-200f));
    assertEquals(1f, p.exp(0f));
    assertEquals(2f, p.exp((float) Math.log(2)), 1e-6f); // k = 1, r ≈ 0: p(r) ≈ 1
  }

  @Test
  void roundedEvaluatesTheExactCodeOnRoundedValues() {
    Approximation fp16 = Approximation.parse("fp16");
    float[] x = {0.1f, -2.3333f, 1000.07f, 3e-5f};
    float[] y = new float[4];
    fp16.of(Role.TANH, (in, out, r, c) -> {
      for (int i = 0; i < in.length; i++) {
        assertEquals(Formats.FP16.quantize(x[i]), in[i]); // the exact code sees fp16 inputs
        out[i] = in[i] / 3;
      }
    }).apply(x, y, 1, 4);
    for (int i = 0; i < 4; i++) assertEquals(Formats.FP16.quantize(Formats.FP16.quantize(x[i]) / 3), y[i]);
    assertEquals(Formats.FP16.quantize((float) Math.exp(Formats.FP16.quantize(-1.2345f))), fp16.exp(-1.2345f));
  }

  /** A softmax with poly:N exps: each probability within 2δ/(1−δ) of the exact one (δ the exp bound). */
  @Test
  void softmaxWithPolynomialExpIsWithinItsBoundAndNotExact() {
    int rows = 64, cols = 50;
    float[] x = new float[rows * cols], exact = new float[x.length];
    java.util.SplittableRandom rng = new java.util.SplittableRandom(7);
    for (int i = 0; i < x.length; i++) x[i] = (float) (rng.nextGaussian() * 4);
    Reduce.softmaxRows(x, exact, rows, cols);
    for (int n : new int[] {1, 2, 3, 5}) {
      Approximation.PolyExp p = new Approximation.PolyExp(n);
      float[] y = new float[x.length];
      p.softmax(Reduce::softmaxRows).apply(x, y, rows, cols);
      double d = p.errorBound() + 0x1p-24, allowed = 2 * d / (1 - d) + 4 * 0x1p-24, worst = 0;
      for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(y[i] - exact[i]) / exact[i]);
      assertTrue(worst <= allowed, "poly:" + n + ": " + worst + " > " + allowed);
      assertNotEquals(0.0, worst, "poly:" + n);
    }
    float[] y = new float[x.length];
    Approximation.EXACT.softmax(Reduce::softmaxRows).apply(x, y, rows, cols);
    assertTrue(java.util.Arrays.equals(exact, y));
    assertFalse(java.util.Arrays.equals(exact, softmaxWith(Approximation.parse("bf16"), x, rows, cols)));
  }

  private static float[] softmaxWith(Approximation exp, float[] x, int rows, int cols) {
    float[] y = new float[x.length];
    exp.softmax(Reduce::softmaxRows).apply(x, y, rows, cols);
    return y;
  }
}
