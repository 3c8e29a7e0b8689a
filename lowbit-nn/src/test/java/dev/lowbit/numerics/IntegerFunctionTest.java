package dev.lowbit.numerics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.IntOnlyConstants;
import dev.lowbit.kernel.intonly.Shiftmax;
import dev.lowbit.numerics.FunctionEval.Rows;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** I-ViT's integer functions as fake-quantized function-role approximations. */
class IntegerFunctionTest {

  private static final Rows SOFTMAX = (x, y, rows, cols) -> {
    for (int b = 0; b < rows * cols; b += cols) {
      double max = Double.NEGATIVE_INFINITY, sum = 0;
      for (int j = b; j < b + cols; j++) max = Math.max(max, x[j]);
      for (int j = b; j < b + cols; j++) sum += Math.exp(x[j] - max);
      for (int j = b; j < b + cols; j++) y[j] = (float) (Math.exp(x[j] - max) / sum);
    }
  };

  private static float[] normal(int n, double sd, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * sd);
    return x;
  }

  @Test
  void spellingsParseBackAndFitOneRoleEach() {
    for (String s : new String[] {"shiftmax", "shiftgelu", "shiftgelu:precise", "ilayernorm"}) {
      Approximation a = Approximation.parse(" " + s.toUpperCase() + " ");
      assertEquals(s, a.text());
      assertEquals(a, Approximation.parse(a.text()));
      int fits = 0;
      for (Role r : Role.values()) fits += a.fits(r) ? 1 : 0;
      assertEquals(1, fits, s);
    }
    assertTrue(Approximation.parse("shiftmax").fits(Role.SOFTMAX));
    assertTrue(Approximation.parse("shiftgelu").fits(Role.GELU));
    assertTrue(Approximation.parse("ilayernorm").fits(Role.LAYERNORM));
    assertTrue(Approximation.validFor(Role.SOFTMAX).endsWith("or shiftmax"), Approximation.validFor(Role.SOFTMAX));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Policy.parse("* gelu shiftmax\n", "p"));
    assertTrue(e.getMessage().contains("does not apply to role gelu"), e.getMessage());
  }

  /** The codes come from the integer kernel itself: y·128 is Shiftmax's output on rint(x/S). */
  @Test
  void shiftmaxIsTheIntegerKernelOnTheQuantizedInput() {
    int rows = 7, cols = 19;
    float[] x = normal(rows * cols, 3, 1), y = new float[x.length];
    Approximation.parse("shiftmax").of(Role.SOFTMAX, SOFTMAX).apply(x, y, rows, cols);
    double max = 0;
    for (float v : x) max = Math.max(max, Math.abs(v));
    double s = max / 127;
    int[] q = new int[x.length], out = new int[x.length];
    for (int i = 0; i < x.length; i++) q[i] = (int) Math.rint(x[i] / s);
    int x0 = IntOnlyConstants.shiftX0(s);
    for (int b = 0; b < x.length; b += cols) Shiftmax.row(q, b, cols, x0, IntegerFunction.SOFTMAX_N, 8, out, b);
    for (int i = 0; i < x.length; i++) assertEquals(out[i] / 128f, y[i], "index " + i);
  }

  /**
   * Against the exact softmax: every probability within 0.08 (the 1/128 output grid, the
   * reciprocal's truncation and log2(e) ≈ 1.4375), the mean error far below that; and not exact.
   */
  @Test
  void shiftmaxIsNearTheSoftmax() {
    int rows = 64, cols = 50;
    float[] x = normal(rows * cols, 2, 2), y = new float[x.length], ref = new float[x.length];
    Approximation.parse("shiftmax").of(Role.SOFTMAX, SOFTMAX).apply(x, y, rows, cols);
    SOFTMAX.apply(x, ref, rows, cols);
    double worst = 0, mean = 0;
    for (int i = 0; i < x.length; i++) {
      worst = Math.max(worst, Math.abs(y[i] - ref[i]));
      mean += Math.abs(y[i] - ref[i]) / x.length;
    }
    assertTrue(worst < 0.08, "max error " + worst);
    assertTrue(mean < 0.01, "mean error " + mean);
    assertTrue(worst > 1e-4, "shiftmax gave the exact softmax");
  }

  /** ShiftGELU against x·σ(1.702x) and against GELU (whose distance to x·σ(1.702x) is ≤ 0.02). */
  @Test
  void shiftGeluIsNearGelu() {
    int rows = 16, cols = 64;
    float[] x = normal(rows * cols, 1.5, 3);
    for (boolean precise : new boolean[] {false, true}) {
      float[] y = new float[x.length];
      Approximation.parse(precise ? "shiftgelu:precise" : "shiftgelu").of(Role.GELU, (a, b, r, c) -> {}).apply(x, y, rows, cols);
      double max = 0;
      for (float v : x) max = Math.max(max, Math.abs(v));
      double worst = 0;
      for (int i = 0; i < x.length; i++) {
        double sig = x[i] / (1 + Math.exp(-1.702 * x[i]));
        // σ is off by at most a few 1/128 steps (spec §2.5), times |x| ≤ max; plus the input's rounding
        worst = Math.max(worst, Math.abs(y[i] - sig) / (max + 1));
      }
      assertTrue(worst < (precise ? 4.0 : 32.0) / 128, (precise ? "precise" : "reference") + " error " + worst);
      assertTrue(worst > 0, "no error at all");
    }
  }

  /** I-LayerNorm with the layer's γ, β: near the exact layer norm, and the exact code still ran. */
  @Test
  void iLayerNormAppliesTheLayersAffineMap() {
    int rows = 12, cols = 64;
    float[] x = normal(rows * cols, 4, 4), g = normal(cols, 1, 5), bt = normal(cols, 0.5, 6);
    float[] ref = new float[x.length], y = new float[x.length];
    boolean[] ran = {false};
    Rows exactLn = (a, out, r, c) -> {
      ran[0] = true;
      for (int b = 0; b < r * c; b += c) {
        double m = 0, v = 0;
        for (int j = 0; j < c; j++) m += a[b + j] / (double) c;
        for (int j = 0; j < c; j++) v += (a[b + j] - m) * (a[b + j] - m) / c;
        for (int j = 0; j < c; j++) out[b + j] = (float) ((a[b + j] - m) / Math.sqrt(v + 1e-5) * g[j] + bt[j]);
      }
    };
    exactLn.apply(x, ref, rows, cols);
    ran[0] = false;
    Approximation.parse("ilayernorm").of(Role.LAYERNORM, FunctionEval.AffineRows.of(g, bt, exactLn)).apply(x, y, rows, cols);
    assertTrue(ran[0], "the exact code must run (its backward reads what it computed)");
    double worst = 0;
    for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(y[i] - ref[i]) / (Math.abs(g[i % cols]) + 1e-3));
    assertTrue(worst < 0.02, "normalized error " + worst);
    assertNotEquals(0.0, worst);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> Approximation.parse("ilayernorm").of(Role.LAYERNORM, exactLn));
    assertTrue(e.getMessage().contains("γ and β"), e.getMessage());
  }

  @Test
  void aNonFiniteInputGivesNaNOutputs() {
    float[] x = {1, Float.NaN, 2, 3}, y = new float[4];
    Approximation.parse("shiftmax").of(Role.SOFTMAX, SOFTMAX).apply(x, y, 2, 2);
    for (float v : y) assertTrue(Float.isNaN(v));
    x[1] = Float.POSITIVE_INFINITY;
    Approximation.parse("shiftgelu").of(Role.GELU, SOFTMAX).apply(x, y, 1, 4);
    for (float v : y) assertTrue(Float.isNaN(v));
  }
}
