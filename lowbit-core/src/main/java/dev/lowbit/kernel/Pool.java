package dev.lowbit.kernel;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Max and average pooling over NCHW, forward and backward. Max pooling records the flat input
 * index of each window's maximum (the first one on ties, like PyTorch) for the backward pass.
 * Average pooling sums a window's elements inside the input in row-major order in float32 and
 * divides the sum by kH·kW (padding counted, PyTorch's default) or, when the spec says {@code
 * countIncludePad} false, by the number of those elements; the backward pass adds dy / divisor to
 * each of them in output order. That is PyTorch 1.13's CPU kernel, so the results are its bits.
 */
public final class Pool {

  private Pool() {}

  public static void maxForward(PoolSpec s, float[] x, float[] y, int[] argmax) {
    // Planes are independent: split them over threads (identical results for any split).
    int hw = s.inH() * s.inW();
    Parallel.forRange(s.batch() * s.channels(), hw, (p0, p1) -> maxForward(s, x, y, argmax, p0, p1));
  }

  private static void maxForward(PoolSpec s, float[] x, float[] y, int[] argmax, int p0, int p1) {
    int oh = s.outH(), ow = s.outW(), hw = s.inH() * s.inW();
    if (s.padH() == 0 && s.padW() == 0) {
      // Without padding every window lies inside the image (floor mode): no bounds checks.
      int kh = s.kH(), kw = s.kW(), sh = s.strideH(), sw = s.strideW(), w = s.inW();
      if (kh == 2 && kw == 2 && sh == 2 && sw == 2) {
        max2x2(x, y, argmax, p0, p1, hw, w, oh, ow);
        return;
      }
      for (int pl = p0; pl < p1; pl++) {
        int xb = pl * hw, yb = pl * oh * ow;
        for (int oy = 0; oy < oh; oy++) {
          for (int ox = 0; ox < ow; ox++) {
            int arg = xb + oy * sh * w + ox * sw;
            float best = x[arg];
            for (int i = 0; i < kh; i++) {
              int row = xb + (oy * sh + i) * w + ox * sw;
              for (int j = 0; j < kw; j++) {
                float v = x[row + j];
                // NaN wins, as in PyTorch, and the first NaN stays (as in the padded path).
                if (v > best || v != v && best == best) {
                  best = v;
                  arg = row + j;
                }
              }
            }
            y[yb + oy * ow + ox] = best;
            argmax[yb + oy * ow + ox] = arg;
          }
        }
      }
      return;
    }
    for (int pl = p0; pl < p1; pl++) {
      int xb = pl * hw, yb = pl * oh * ow;
      for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
          float best = Float.NEGATIVE_INFINITY;
          int arg = -1;
          for (int i = 0; i < s.kH(); i++) {
            int iy = oy * s.strideH() - s.padH() + i;
            if (iy < 0 || iy >= s.inH()) continue;
            for (int j = 0; j < s.kW(); j++) {
              int ix = ox * s.strideW() - s.padW() + j;
              if (ix < 0 || ix >= s.inW()) continue;
              int idx = xb + iy * s.inW() + ix;
              float v = x[idx];
              // NaN wins, as in PyTorch, so it propagates instead of vanishing.
              if (arg < 0 || v > best || Float.isNaN(v) && !Float.isNaN(best)) {
                best = v;
                arg = idx;
              }
            }
          }
          y[yb + oy * ow + ox] = best;
          argmax[yb + oy * ow + ox] = arg;
        }
      }
    }
  }

  /**
   * The common 2×2 window with stride 2: the general loop's decisions (take a value when it is
   * greater, or NaN over a non-NaN; the first one on ties) made on int keys that order like the
   * floats, so C2 emits conditional moves: x86 has no float cmov, and the float version's branches,
   * mispredicted half the time, made pooling 14% of a CNN step. A pairwise tournament (a vs b,
   * c vs d, then the winners, ties to the earlier) picks the same index as the sequential scan.
   */
  private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> IS = FS.withLanes(int.class);

  static void max2x2(float[] x, float[] y, int[] argmax, int p0, int p1, int hw, int w, int oh, int ow) {
    // The scalar version below, lane for lane: a plane's outputs in order, each lane gathering its
    // window's four corners through a table of window offsets (rows of 14 or 7 outputs are too
    // short to vectorize along), keys and decisions as there. 2.4× the scalar loop on 512 bits.
    // The species are constants: passed as a parameter to a method C2 does not inline, the vector
    // operations fall back to their Java implementations (10× slower than the scalar loop).
    final VectorSpecies<Float> fs = FS;
    final VectorSpecies<Integer> is = IS;
    int n = oh * ow, lanes = fs.length();
    int[] corner = new int[n];
    for (int oy = 0; oy < oh; oy++) for (int ox = 0; ox < ow; ox++) corner[oy * ow + ox] = 2 * oy * w + 2 * ox;
    for (int pl = p0; pl < p1; pl++) {
      int xb = pl * hw, yb = pl * n, t = 0;
      for (; t <= n - lanes; t += lanes) {
        IntVector at = IntVector.fromArray(is, corner, t).add(xb);
        FloatVector a = FloatVector.fromArray(fs, x, xb, corner, t), b = FloatVector.fromArray(fs, x, xb + 1, corner, t);
        FloatVector c = FloatVector.fromArray(fs, x, xb + w, corner, t);
        FloatVector d = FloatVector.fromArray(fs, x, xb + w + 1, corner, t);
        // "greater, or NaN over a non-NaN" on floats (−0 and +0 compare equal): the order of key(),
        // written out here because a helper taking vectors was compiled on its own and not
        // inlined, which boxed every vector (a gigabyte of garbage per epoch)
        VectorMask<Float> na = a.test(VectorOperators.IS_NAN), nb = b.test(VectorOperators.IS_NAN);
        VectorMask<Float> nc = c.test(VectorOperators.IS_NAN), nd = d.test(VectorOperators.IS_NAN);
        VectorMask<Float> top = b.compare(VectorOperators.GT, a).or(nb.andNot(na));
        VectorMask<Float> bottom = d.compare(VectorOperators.GT, c).or(nd.andNot(nc));
        FloatVector v1 = a.blend(b, top), v2 = c.blend(d, bottom);
        VectorMask<Float> down = v2.compare(VectorOperators.GT, v1).or(nc.or(nd).andNot(na.or(nb)));
        IntVector i1 = at.blend(at.add(1), top.cast(is)), i2 = at.add(w).blend(at.add(w + 1), bottom.cast(is));
        i1.blend(i2, down.cast(is)).intoArray(argmax, yb + t);
        v1.blend(v2, down).intoArray(y, yb + t);
      }
      for (; t < n; t++) {
        int i = xb + corner[t];
        int ka = key(x[i]), kb = key(x[i + 1]), kc = key(x[i + w]), kd = key(x[i + w + 1]);
        int i1 = kb > ka ? i + 1 : i, i2 = kd > kc ? i + w + 1 : i + w;
        int arg = Math.max(kc, kd) > Math.max(ka, kb) ? i2 : i1;
        argmax[yb + t] = arg;
        y[yb + t] = x[arg];
      }
    }
  }

  /** The scalar 2×2 path, the reference of the vector one. */
  static void max2x2Scalar(float[] x, float[] y, int[] argmax, int p0, int p1, int hw, int w, int oh, int ow) {
    for (int pl = p0; pl < p1; pl++) {
      int xb = pl * hw, yb = pl * oh * ow;
      for (int oy = 0; oy < oh; oy++) {
        int r0 = xb + 2 * oy * w, yo = yb + oy * ow;
        for (int ox = 0; ox < ow; ox++) {
          int i = r0 + 2 * ox;
          int ka = key(x[i]), kb = key(x[i + 1]), kc = key(x[i + w]), kd = key(x[i + w + 1]);
          int i1 = kb > ka ? i + 1 : i, i2 = kd > kc ? i + w + 1 : i + w;
          int arg = Math.max(kc, kd) > Math.max(ka, kb) ? i2 : i1;
          argmax[yo + ox] = arg;
          y[yo + ox] = x[arg];
        }
      }
    }
  }

  /**
   * An int that orders as max pooling compares floats: −0 and +0 equal (neither is greater),
   * every NaN above +∞ and equal to every other NaN (so the first NaN stays).
   */
  static int key(float f) {
    int b = Float.floatToRawIntBits(f);
    b = b == 0x80000000 ? 0 : b;
    int k = b ^ ((b >> 31) & 0x7FFFFFFF); // negative floats: larger magnitude, smaller key
    return (b & 0x7FFFFFFF) > 0x7F800000 ? Integer.MAX_VALUE : k;
  }

  /** dx (overwritten) receives dy at each window's recorded maximum; overlaps add in output order. */
  public static void maxBackward(PoolSpec s, float[] dy, int[] argmax, float[] dx) {
    // Each window's maximum lies in its own plane, so planes split over threads touch disjoint
    // parts of dx and each plane adds in output order, as the serial loop does.
    int ohw = s.outH() * s.outW(), hw = s.inH() * s.inW();
    Parallel.forRange(s.batch() * s.channels(), hw, (p0, p1) -> {
      Arrays.fill(dx, p0 * hw, p1 * hw, 0f);
      for (int o = p0 * ohw, end = p1 * ohw; o < end; o++) dx[argmax[o]] += dy[o];
    });
  }

  public static void avgForward(PoolSpec s, float[] x, float[] y) {
    // Planes are independent: split them over threads (identical results for any split).
    Parallel.forRange(s.batch() * s.channels(), s.inH() * s.inW(), (p0, p1) -> {
      int oh = s.outH(), ow = s.outW(), hw = s.inH() * s.inW(), w = s.inW();
      for (int pl = p0; pl < p1; pl++) {
        int xb = pl * hw, yb = pl * oh * ow;
        for (int oy = 0; oy < oh; oy++) {
          int y0 = oy * s.strideH() - s.padH(), y1 = Math.min(y0 + s.kH(), s.inH());
          y0 = Math.max(y0, 0);
          for (int ox = 0; ox < ow; ox++) {
            int x0 = ox * s.strideW() - s.padW(), x1 = Math.min(x0 + s.kW(), w);
            x0 = Math.max(x0, 0);
            float sum = 0f;
            for (int iy = y0; iy < y1; iy++) {
              for (int ix = x0; ix < x1; ix++) sum += x[xb + iy * w + ix];
            }
            y[yb + oy * ow + ox] = sum / divisor(s, y0, y1, x0, x1);
          }
        }
      }
    });
  }

  /**
   * An average window's divisor: kH·kW, or (countIncludePad false) the elements of the window
   * inside the input, rows [y0, y1) × columns [x0, x1), never 0 in floor mode with padding at most
   * half the kernel.
   */
  private static float divisor(PoolSpec s, int y0, int y1, int x0, int x1) {
    return s.countIncludePad() ? s.kH() * s.kW() : (y1 - y0) * (x1 - x0);
  }

  public static void avgBackward(PoolSpec s, float[] dy, float[] dx) {
    // each plane writes only its own part of dx, adding in output order as the serial loop does
    Parallel.forRange(s.batch() * s.channels(), s.inH() * s.inW(), (p0, p1) -> {
      int oh = s.outH(), ow = s.outW(), hw = s.inH() * s.inW(), w = s.inW();
      Arrays.fill(dx, p0 * hw, p1 * hw, 0f);
      for (int pl = p0; pl < p1; pl++) {
        int xb = pl * hw, yb = pl * oh * ow;
        for (int oy = 0; oy < oh; oy++) {
          int y0 = oy * s.strideH() - s.padH(), y1 = Math.min(y0 + s.kH(), s.inH());
          y0 = Math.max(y0, 0);
          for (int ox = 0; ox < ow; ox++) {
            int x0 = ox * s.strideW() - s.padW(), x1 = Math.min(x0 + s.kW(), w);
            x0 = Math.max(x0, 0);
            float g = dy[yb + oy * ow + ox] / divisor(s, y0, y1, x0, x1);
            for (int iy = y0; iy < y1; iy++) {
              for (int ix = x0; ix < x1; ix++) dx[xb + iy * w + ix] += g;
            }
          }
        }
      }
    });
  }
}
