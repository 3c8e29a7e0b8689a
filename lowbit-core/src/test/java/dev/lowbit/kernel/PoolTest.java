package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PoolTest {

  static final PoolSpec[] SPECS = {
    PoolSpec.of(2, 3, 6, 6, 2),
    new PoolSpec(1, 2, 7, 5, 3, 3, 2, 2, 1, 1),
    new PoolSpec(2, 1, 5, 6, 2, 3, 1, 2, 0, 1),
  };

  @Test
  void maxPoolMatchesDefinitionAndFiniteDifferences() {
    SplittableRandom r = new SplittableRandom(3);
    for (PoolSpec s : SPECS) {
      float[] x = ConvTest.rand(r, s.inputSize());
      float[] y = new float[s.outputSize()];
      int[] arg = new int[s.outputSize()];
      Pool.maxForward(s, x, y, arg);
      for (int o = 0; o < y.length; o++) assertEquals(x[arg[o]], y[o]);
      // Each output is the max over its window (checked directly).
      int oh = s.outH(), ow = s.outW();
      for (int pl = 0; pl < s.batch() * s.channels(); pl++)
        for (int oy = 0; oy < oh; oy++)
          for (int ox = 0; ox < ow; ox++) {
            float m = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < s.kH(); i++)
              for (int j = 0; j < s.kW(); j++) {
                int iy = oy * s.strideH() - s.padH() + i, ix = ox * s.strideW() - s.padW() + j;
                if (iy >= 0 && iy < s.inH() && ix >= 0 && ix < s.inW())
                  m = Math.max(m, x[pl * s.inH() * s.inW() + iy * s.inW() + ix]);
              }
            assertEquals(m, y[(pl * oh + oy) * ow + ox]);
          }
      float[] dy = ConvTest.rand(r, s.outputSize());
      float[] dx = new float[s.inputSize()];
      Pool.maxBackward(s, dy, arg, dx);
      float h = 1e-3f;
      for (int i = 0; i < x.length; i++) {
        float[] xp = x.clone(), xm = x.clone();
        xp[i] += h;
        xm[i] -= h;
        double fd = (dot(maxOut(s, xp), dy) - dot(maxOut(s, xm), dy)) / (xp[i] - xm[i]);
        assertEquals(fd, dx[i], 1e-3, "dx[" + i + "]");
      }
    }
  }

  @Test
  void avgPoolMatchesFiniteDifferences() {
    SplittableRandom r = new SplittableRandom(5);
    for (PoolSpec s : SPECS) {
      float[] x = ConvTest.rand(r, s.inputSize());
      float[] y = new float[s.outputSize()];
      Pool.avgForward(s, x, y);
      float[] dy = ConvTest.rand(r, s.outputSize());
      float[] dx = new float[s.inputSize()];
      Pool.avgBackward(s, dy, dx);
      for (int i = 0; i < x.length; i++) {
        float[] xp = x.clone(), xm = x.clone();
        xp[i] += 1e-2f;
        xm[i] -= 1e-2f;
        float[] yp = new float[y.length], ym = new float[y.length];
        Pool.avgForward(s, xp, yp);
        Pool.avgForward(s, xm, ym);
        double fd = (dot(yp, dy) - dot(ym, dy)) / (xp[i] - xm[i]);
        assertEquals(fd, dx[i], 1e-3, "dx[" + i + "]");
      }
    }
    // A 2x2 average is the mean of the window.
    float[] x = {1, 2, 3, 4};
    float[] y = new float[1];
    Pool.avgForward(PoolSpec.of(1, 1, 2, 2, 2), x, y);
    assertEquals(2.5f, y[0]);
  }

  static float[] maxOut(PoolSpec s, float[] x) {
    float[] y = new float[s.outputSize()];
    Pool.maxForward(s, x, y, new int[y.length]);
    return y;
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
    return s;
  }

  @Test
  void theFirstNaNOfAWindowWinsWithAndWithoutPadding() {
    // one 1x1x2x2 plane, two NaNs in the window: the gradient goes to the first, as in PyTorch
    float[] x = {1f, Float.NaN, Float.NaN, 2f};
    for (PoolSpec s : new PoolSpec[] {
        new PoolSpec(1, 1, 2, 2, 2, 2, 2, 2, 0, 0), new PoolSpec(1, 1, 2, 2, 3, 3, 1, 1, 1, 1)}) {
      int[] arg = new int[s.outH() * s.outW()];
      float[] y = new float[arg.length];
      Pool.maxForward(s, x, y, arg);
      assertTrue(Float.isNaN(y[0]), s.toString());
      assertEquals(1, arg[0], s.toString());
    }
  }

  /** The unrolled 2×2/stride-2 path against the window definition: ties, NaNs, odd sizes (floor). */
  @Test
  void twoByTwoPathPicksTheSameIndexAsTheDefinition() {
    SplittableRandom r = new SplittableRandom(9);
    for (PoolSpec s : new PoolSpec[] {PoolSpec.of(3, 4, 8, 6, 2), PoolSpec.of(2, 3, 7, 5, 2), PoolSpec.of(40, 8, 4, 4, 2)}) {
      float[] x = new float[s.inputSize()];
      for (int i = 0; i < x.length; i++) {
        int k = r.nextInt(10);
        x[i] = switch (k) { // many ties, both zeros, NaNs of either sign, infinities
          case 0 -> Float.NaN;
          case 1 -> Float.NEGATIVE_INFINITY;
          case 2 -> r.nextBoolean() ? 0f : -0f;
          case 3 -> Float.intBitsToFloat(0xFFC00001); // a negative NaN
          case 4 -> Float.POSITIVE_INFINITY;
          default -> r.nextInt(4) - 1.5f;
        };
      }
      float[] y = new float[s.outputSize()];
      int[] arg = new int[y.length];
      Pool.maxForward(s, x, y, arg);
      int oh = s.outH(), ow = s.outW(), w = s.inW(), hw = s.inH() * w;
      for (int pl = 0; pl < s.batch() * s.channels(); pl++)
        for (int oy = 0; oy < oh; oy++)
          for (int ox = 0; ox < ow; ox++) {
            int want = -1;
            for (int i = 0; i < 2; i++)
              for (int j = 0; j < 2; j++) {
                int idx = pl * hw + (2 * oy + i) * w + 2 * ox + j;
                if (want < 0 || x[idx] > x[want] || Float.isNaN(x[idx]) && !Float.isNaN(x[want])) want = idx;
              }
            int o = (pl * oh + oy) * ow + ox;
            assertEquals(want, arg[o], s + " output " + o);
            assertEquals(Float.floatToRawIntBits(x[want]), Float.floatToRawIntBits(y[o]));
          }
    }
  }

  @Test
  void badGeometryErrorsNameTheValues() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new PoolSpec(1, 3, 5, 5, 0, 2, 1, 1, 0, 0));
    assertTrue(e.getMessage().contains("channels=3") && e.getMessage().contains("kernel=0x2"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new ConvSpec(2, 3, 4, 4, 8, 7, 7, 1, 1, 0, 0, 1, 1, 1));
    assertTrue(e.getMessage().contains("input=4x4") && e.getMessage().contains("kernel=7x7"), e.getMessage());
  }

  /** The vector 2×2 path equals the scalar one, planes longer and shorter than a vector, tails included. */
  @Test
  void vectorTwoByTwoEqualsScalar() {
    SplittableRandom r = new SplittableRandom(12);
    for (int[] g : new int[][] {{5, 28, 28}, {7, 14, 14}, {3, 9, 7}, {4, 2, 2}, {3, 12, 12}, {3, 18, 18}}) {
      int planes = g[0], h = g[1], w = g[2], oh = h / 2, ow = w / 2, hw = h * w;
      float[] x = new float[planes * hw];
      for (int i = 0; i < x.length; i++) {
        x[i] = switch (r.nextInt(8)) {
          case 0 -> Float.NaN;
          case 1 -> Float.intBitsToFloat(0xFFC00001);
          case 2 -> r.nextBoolean() ? 0f : -0f;
          case 3 -> Float.NEGATIVE_INFINITY;
          default -> r.nextInt(4) - 1.5f;
        };
      }
      float[] want = new float[planes * oh * ow];
      int[] wantArg = new int[want.length];
      Pool.max2x2Scalar(x, want, wantArg, 0, planes, hw, w, oh, ow);
      float[] y = new float[want.length];
      int[] arg = new int[want.length];
      Pool.max2x2(x, y, arg, 1, planes, hw, w, oh, ow); // from the second plane: offsets
      for (int o = oh * ow; o < want.length; o++) {
        assertEquals(wantArg[o], arg[o], h + "x" + w + " output " + o);
        assertEquals(Float.floatToRawIntBits(want[o]), Float.floatToRawIntBits(y[o]), h + "x" + w + " value " + o);
      }
    }
  }
}
