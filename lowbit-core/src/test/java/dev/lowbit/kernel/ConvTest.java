package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ConvTest {

  /** Direct convolution in double: the definition. */
  static double[] directForward(ConvSpec s, float[] x, float[] w, float[] b) {
    int oh = s.outH(), ow = s.outW(), cg = s.inC() / s.groups(), ocg = s.outC() / s.groups();
    double[] y = new double[s.outputSize()];
    for (int n = 0; n < s.batch(); n++)
      for (int oc = 0; oc < s.outC(); oc++) {
        int g = oc / ocg;
        for (int oy = 0; oy < oh; oy++)
          for (int ox = 0; ox < ow; ox++) {
            double acc = b == null ? 0 : b[oc];
            for (int ci = 0; ci < cg; ci++) {
              int c = g * cg + ci;
              for (int i = 0; i < s.kH(); i++)
                for (int j = 0; j < s.kW(); j++) {
                  int iy = oy * s.strideH() - s.padH() + i * s.dilH();
                  int ix = ox * s.strideW() - s.padW() + j * s.dilW();
                  if (iy < 0 || iy >= s.inH() || ix < 0 || ix >= s.inW()) continue;
                  acc += (double) x[((n * s.inC() + c) * s.inH() + iy) * s.inW() + ix]
                      * w[((oc * cg + ci) * s.kH() + i) * s.kW() + j];
                }
            }
            y[((n * s.outC() + oc) * oh + oy) * ow + ox] = acc;
          }
      }
    return y;
  }

  /** Direct backward in double: returns {dx, dw, db}. */
  static double[][] directBackward(ConvSpec s, float[] x, float[] w, float[] dy) {
    int oh = s.outH(), ow = s.outW(), cg = s.inC() / s.groups(), ocg = s.outC() / s.groups();
    double[] dx = new double[s.inputSize()], dw = new double[s.weightSize()], db = new double[s.outC()];
    for (int n = 0; n < s.batch(); n++)
      for (int oc = 0; oc < s.outC(); oc++) {
        int g = oc / ocg;
        for (int oy = 0; oy < oh; oy++)
          for (int ox = 0; ox < ow; ox++) {
            double gy = dy[((n * s.outC() + oc) * oh + oy) * ow + ox];
            db[oc] += gy;
            for (int ci = 0; ci < cg; ci++) {
              int c = g * cg + ci;
              for (int i = 0; i < s.kH(); i++)
                for (int j = 0; j < s.kW(); j++) {
                  int iy = oy * s.strideH() - s.padH() + i * s.dilH();
                  int ix = ox * s.strideW() - s.padW() + j * s.dilW();
                  if (iy < 0 || iy >= s.inH() || ix < 0 || ix >= s.inW()) continue;
                  int xi = ((n * s.inC() + c) * s.inH() + iy) * s.inW() + ix;
                  int wi = ((oc * cg + ci) * s.kH() + i) * s.kW() + j;
                  dx[xi] += gy * w[wi];
                  dw[wi] += gy * x[xi];
                }
            }
          }
      }
    return new double[][] {dx, dw, db};
  }

  static float[] rand(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) (r.nextDouble() * 2 - 1);
    return a;
  }

  static void close(double[] want, float[] got, double tol, String what) {
    assertEquals(want.length, got.length);
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i], got[i], tol * (1 + Math.abs(want[i])), what + "[" + i + "]");
    }
  }

  static final ConvSpec[] SPECS = {
    ConvSpec.of(2, 3, 7, 6, 4, 3, 1, 1),
    ConvSpec.of(3, 2, 8, 8, 5, 3, 2, 0),
    new ConvSpec(2, 4, 9, 7, 6, 3, 2, 2, 1, 1, 2, 2, 1, 2),
    new ConvSpec(1, 6, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 6),
    new ConvSpec(2, 3, 6, 5, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1),
    new ConvSpec(2, 2, 5, 8, 3, 2, 4, 3, 1, 1, 2, 1, 2, 1),
  };

  /** im2col and col2im against their per-element definitions, bit for bit (col2im adds in the same order). */
  @Test
  void im2colAndCol2imMatchThePerElementLoops() {
    SplittableRandom r = new SplittableRandom(13);
    ConvSpec[] specs = java.util.Arrays.copyOf(SPECS, SPECS.length + 6);
    specs[SPECS.length] = ConvSpec.of(2, 2, 3, 2, 3, 3, 1, 4); // padding wider than the image
    specs[SPECS.length + 1] = ConvSpec.of(1, 3, 6, 7, 2, 5, 1, 2);
    // same-size stride-1 planes (the masked plane loops): planes longer and shorter than a vector
    specs[SPECS.length + 2] = ConvSpec.of(3, 2, 14, 14, 2, 3, 1, 1);
    specs[SPECS.length + 3] = ConvSpec.of(2, 2, 9, 11, 2, 5, 1, 2);
    specs[SPECS.length + 4] = ConvSpec.of(2, 3, 5, 3, 2, 1, 1, 0);
    specs[SPECS.length + 5] = ConvSpec.of(2, 2, 2, 2, 2, 7, 1, 3); // same size, kernel wider than the image
    for (ConvSpec s : specs) {
      float[] x = rand(r, s.inputSize()), col = new float[s.colSize()], want = new float[s.colSize()];
      java.util.Arrays.fill(col, Float.NaN); // every entry must be written
      Conv.im2col(s, x, col);
      float[] dcol = rand(r, s.colSize()), dx = rand(r, s.inputSize()), wantDx = new float[s.inputSize()];
      int oh = s.outH(), ow = s.outW(), cols = s.colCols();
      for (int c = 0; c < s.inC(); c++)
        for (int i = 0; i < s.kH(); i++)
          for (int j = 0; j < s.kW(); j++)
            for (int n = 0; n < s.batch(); n++)
              for (int y = 0; y < oh; y++)
                for (int xx = 0; xx < ow; xx++) {
                  int iy = y * s.strideH() - s.padH() + i * s.dilH(), ix = xx * s.strideW() - s.padW() + j * s.dilW();
                  int at = ((c * s.kH() + i) * s.kW() + j) * cols + n * oh * ow + y * ow + xx;
                  boolean in = iy >= 0 && iy < s.inH() && ix >= 0 && ix < s.inW();
                  int xi = ((n * s.inC() + c) * s.inH() + iy) * s.inW() + ix;
                  want[at] = in ? x[xi] : 0f;
                  if (in) wantDx[xi] += dcol[at];
                }
      org.junit.jupiter.api.Assertions.assertArrayEquals(want, col, s.toString());
      Conv.col2im(s, dcol, dx);
      org.junit.jupiter.api.Assertions.assertArrayEquals(wantDx, dx, s.toString());
    }
  }

  @Test
  void forwardAndBackwardMatchDirectConvolution() {
    SplittableRandom r = new SplittableRandom(7);
    Gemm gemm = Kernels.gemm();
    for (ConvSpec s : SPECS) {
      float[] x = rand(r, s.inputSize()), w = rand(r, s.weightSize()), b = rand(r, s.outC());
      float[] y = new float[s.outputSize()], col = new float[s.colSize()], t = new float[s.outputSize()];
      Conv.forward(gemm, s, x, w, b, y, col, t);
      close(directForward(s, x, w, b), y, 1e-5, "y " + s);

      float[] dy = rand(r, s.outputSize());
      float[] dx = new float[s.inputSize()], dw = new float[s.weightSize()], db = new float[s.outC()];
      Conv.backward(gemm, s, dy, w, col, dx, dw, db, new float[s.colSize()], t);
      double[][] want = directBackward(s, x, w, dy);
      close(want[0], dx, 1e-5, "dx " + s);
      close(want[1], dw, 1e-5, "dw " + s);
      close(want[2], db, 1e-5, "db " + s);
    }
  }

  @Test
  void gradientsMatchFiniteDifferences() {
    SplittableRandom r = new SplittableRandom(11);
    ConvSpec s = new ConvSpec(2, 2, 5, 4, 4, 3, 2, 2, 1, 1, 1, 1, 1, 2);
    float[] x = rand(r, s.inputSize()), w = rand(r, s.weightSize()), b = rand(r, s.outC());
    float[] proj = rand(r, s.outputSize());
    float[] y = new float[s.outputSize()], col = new float[s.colSize()], t = new float[s.outputSize()];
    Conv.forward(Kernels.gemm(), s, x, w, b, y, col, t);
    float[] dx = new float[s.inputSize()], dw = new float[s.weightSize()], db = new float[s.outC()];
    Conv.backward(Kernels.gemm(), s, proj, w, col, dx, dw, db, new float[s.colSize()], t);
    // loss = Σ proj·y is linear in each argument, so a central difference in double is exact
    // up to rounding.
    double h = 1e-3;
    for (int i = 0; i < x.length; i++) {
      float[] xp = x.clone(), xm = x.clone();
      xp[i] += (float) h;
      xm[i] -= (float) h;
      double fd = (loss(s, xp, w, b, proj) - loss(s, xm, w, b, proj)) / (xp[i] - xm[i]);
      assertEquals(fd, dx[i], 1e-4, "dx[" + i + "]");
    }
    for (int i = 0; i < w.length; i++) {
      float[] wp = w.clone(), wm = w.clone();
      wp[i] += (float) h;
      wm[i] -= (float) h;
      double fd = (loss(s, x, wp, b, proj) - loss(s, x, wm, b, proj)) / (wp[i] - wm[i]);
      assertEquals(fd, dw[i], 1e-4, "dw[" + i + "]");
    }
  }

  static double loss(ConvSpec s, float[] x, float[] w, float[] b, float[] proj) {
    double[] y = directForward(s, x, w, b);
    double l = 0;
    for (int i = 0; i < y.length; i++) l += y[i] * proj[i];
    return l;
  }

  @Test
  void rejectsBadGeometry() {
    assertThrows(IllegalArgumentException.class, () -> new ConvSpec(1, 3, 5, 5, 4, 3, 3, 1, 1, 0, 0, 1, 1, 2));
    assertThrows(IllegalArgumentException.class, () -> ConvSpec.of(1, 1, 2, 2, 1, 5, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> ConvSpec.of(1, 1, 4, 4, 1, 3, 0, 0));
  }
}
