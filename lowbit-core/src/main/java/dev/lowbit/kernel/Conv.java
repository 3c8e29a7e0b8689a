package dev.lowbit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * 2-D convolution (NCHW) by im2col + GEMM, forward and both backward passes. The im2col matrix
 * {@code col} has C·KH·KW rows (row (c·KH + i)·KW + j) and N·OH·OW columns (column n·OH·OW + pixel);
 * each group is a block of rows, so one GEMM per group does a whole batch. GEMMs go through the
 * {@link Gemm} the caller passes (normally {@link Kernels#gemm()}).
 *
 * <p>Scratch {@code t} arrays hold an OC×(N·OH·OW) matrix (the output with channels outermost).
 */
public final class Conv {

  private Conv() {}

  /** Unfolds x (N×C×H×W) into col (C·KH·KW × N·OH·OW); padding reads as zero. */
  public static void im2col(ConvSpec s, float[] x, float[] col) {
    // Input channels own disjoint rows of col: split them over threads.
    Parallel.forRange(s.inC(), (long) s.kH() * s.kW() * s.colCols(), (c0, c1) -> im2col(s, x, col, c0, c1));
  }

  private static void im2col(ConvSpec s, float[] x, float[] col, int c0, int c1) {
    if (samePlanes(s)) {
      planes(s, x, col, c0, c1, false);
      return;
    }
    int oh = s.outH(), ow = s.outW(), ohw = oh * ow, cols = s.colCols();
    for (int c = c0; c < c1; c++) {
      for (int i = 0; i < s.kH(); i++) {
        for (int j = 0; j < s.kW(); j++) {
          int row = (c * s.kH() + i) * s.kW() + j;
          int rowBase = row * cols;
          for (int n = 0; n < s.batch(); n++) {
            int xBase = (n * s.inC() + c) * s.inH() * s.inW();
            int cBase = rowBase + n * ohw;
            for (int y = 0; y < oh; y++) {
              int iy = y * s.strideH() - s.padH() + i * s.dilH();
              int dst = cBase + y * ow;
              if (iy < 0 || iy >= s.inH()) {
                java.util.Arrays.fill(col, dst, dst + ow, 0f);
                continue;
              }
              int xRow = xBase + iy * s.inW();
              int ix0 = -s.padW() + j * s.dilW();
              if (s.strideW() == 1) { // zeros left and right of the image, one copy between
                int xa = Math.min(ow, Math.max(0, -ix0)), xb = Math.max(xa, Math.min(ow, s.inW() - ix0));
                if (xa > 0) java.util.Arrays.fill(col, dst, dst + xa, 0f);
                System.arraycopy(x, xRow + ix0 + xa, col, dst + xa, xb - xa);
                if (xb < ow) java.util.Arrays.fill(col, dst + xb, dst + ow, 0f);
                continue;
              }
              for (int xx = 0; xx < ow; xx++) {
                int ix = xx * s.strideW() + ix0;
                col[dst + xx] = ix >= 0 && ix < s.inW() ? x[xRow + ix] : 0f;
              }
            }
          }
        }
      }
    }
  }

  /** Folds col back onto dx (N×C×H×W), summing overlaps; dx is overwritten. */
  public static void col2im(ConvSpec s, float[] col, float[] dx) {
    java.util.Arrays.fill(dx, 0, s.inputSize(), 0f);
    // Channel c's rows of col fold only onto channel c of dx: channels split over threads, each
    // dx element still receives its terms in the serial order.
    Parallel.forRange(s.inC(), (long) s.kH() * s.kW() * s.colCols(), (c0, c1) -> col2im(s, col, dx, c0, c1));
  }

  private static void col2im(ConvSpec s, float[] col, float[] dx, int c0, int c1) {
    if (samePlanes(s)) {
      planes(s, dx, col, c0, c1, true);
      return;
    }
    int oh = s.outH(), ow = s.outW(), ohw = oh * ow, cols = s.colCols();
    // Loop order matches im2col so every dx element receives its terms in a fixed order.
    for (int c = c0; c < c1; c++) {
      for (int i = 0; i < s.kH(); i++) {
        for (int j = 0; j < s.kW(); j++) {
          int rowBase = ((c * s.kH() + i) * s.kW() + j) * cols;
          for (int n = 0; n < s.batch(); n++) {
            int xBase = (n * s.inC() + c) * s.inH() * s.inW();
            int cBase = rowBase + n * ohw;
            for (int y = 0; y < oh; y++) {
              int iy = y * s.strideH() - s.padH() + i * s.dilH();
              if (iy < 0 || iy >= s.inH()) continue;
              int xRow = xBase + iy * s.inW();
              int src = cBase + y * ow;
              int ix0 = -s.padW() + j * s.dilW();
              if (s.strideW() == 1) { // the in-image span as one loop C2 vectorizes; same terms, same order
                int xa = Math.min(ow, Math.max(0, -ix0)), xb = Math.min(ow, s.inW() - ix0);
                for (int xx = xa, d = xRow + ix0; xx < xb; xx++) dx[d + xx] += col[src + xx];
                continue;
              }
              for (int xx = 0; xx < ow; xx++) {
                int ix = xx * s.strideW() + ix0;
                if (ix >= 0 && ix < s.inW()) dx[xRow + ix] += col[src + xx];
              }
            }
          }
        }
      }
    }
  }

  // ---- same-size stride-1 convolutions on whole planes

  private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;

  /**
   * True for stride 1, dilation 1 and an output plane the size of the input plane (2·pad = k − 1,
   * e.g. 3×3 with padding 1): then a tap (i, j) maps output o of a plane to input o + (i − padH)·W
   * + (j − padW), so a whole plane (N·OH·OW of them per column row) moves as one masked vector
   * loop instead of OH spans of OW elements (14 or 7 in the CNN: too short to vectorize).
   */
  private static boolean samePlanes(ConvSpec s) {
    return s.strideH() == 1 && s.strideW() == 1 && s.dilH() == 1 && s.dilW() == 1
        && s.outH() == s.inH() && s.outW() == s.inW();
  }

  /**
   * For each kernel column j, which outputs of a plane read inside the image horizontally; padded
   * with false to whole vectors.
   */
  private static boolean[][] columnsInside(ConvSpec s) {
    int w = s.inW(), hw = s.inH() * w;
    boolean[][] in = new boolean[s.kW()][(hw + FS.length() - 1) / FS.length() * FS.length()];
    for (int j = 0; j < s.kW(); j++) {
      for (int o = 0; o < hw; o++) {
        int ix = o % w + j - s.padW();
        in[j][o] = ix >= 0 && ix < w;
      }
    }
    return in;
  }

  /**
   * {@link #im2col} (x → col) or, when {@code fold}, {@link #col2im} (col added onto x) for {@link
   * #samePlanes} geometry, as masked whole-plane loops: the same entries, and each input element
   * gets its terms in the same (tap) order as the row loops.
   */
  private static void planes(ConvSpec s, float[] x, float[] col, int c0, int c1, boolean fold) {
    final VectorSpecies<Float> fs = FS;
    int w = s.inW(), hw = s.inH() * w, cols = s.colCols(), lanes = fs.length();
    boolean[][] inside = columnsInside(s);
    for (int c = c0; c < c1; c++) {
      for (int i = 0; i < s.kH(); i++) {
        int lo = Math.max(0, s.padH() - i) * w, hi = Math.min(s.inH(), s.inH() + s.padH() - i) * w;
        for (int j = 0; j < s.kW(); j++) {
          boolean[] in = inside[j];
          int shift = (i - s.padH()) * w + (j - s.padW());
          int rowBase = ((c * s.kH() + i) * s.kW() + j) * cols;
          for (int n = 0; n < s.batch(); n++) {
            int xb = (n * s.inC() + c) * hw + shift, cb = rowBase + n * hw;
            for (int t = 0; t < hw; t += lanes) {
              VectorMask<Float> m = VectorMask.fromArray(fs, in, t).and(fs.indexInRange(t - lo, hi - lo));
              if (fold) {
                FloatVector.fromArray(fs, x, xb + t, m).add(FloatVector.fromArray(fs, col, cb + t, m))
                    .intoArray(x, xb + t, m);
              } else {
                FloatVector.fromArray(fs, x, xb + t, m).intoArray(col, cb + t, fs.indexInRange(t, hw));
              }
            }
          }
        }
      }
    }
  }

  /**
   * y = conv(x, w) + bias. {@code col} receives im2col(x) (keep it for the weight gradient);
   * {@code t} is scratch of {@link ConvSpec#outputSize()} floats. bias may be null.
   */
  public static void forward(
      Gemm gemm, ConvSpec s, float[] x, float[] w, float[] bias, float[] y, float[] col, float[] t) {
    im2col(s, x, col);
    forwardFromCol(gemm, s, col, w, bias, y, t);
  }

  /** The GEMM half of {@link #forward}: y from an existing im2col matrix. */
  public static void forwardFromCol(
      Gemm gemm, ConvSpec s, float[] col, float[] w, float[] bias, float[] y, float[] t) {
    int g = s.groups(), ocg = s.outC() / g, kg = s.inC() / g * s.kH() * s.kW(), cols = s.colCols();
    for (int gi = 0; gi < g; gi++) {
      gemm.sgemm(false, false, ocg, cols, kg, 1f, w, gi * ocg * kg, kg,
          col, gi * kg * cols, cols, 0f, t, gi * ocg * cols, cols);
    }
    channelsFirstToNchw(s, t, bias, y);
  }

  /** dx = conv-transpose(dy, w). {@code dcol} (colSize) and {@code t} (outputSize) are scratch. */
  public static void backwardData(
      Gemm gemm, ConvSpec s, float[] dy, float[] w, float[] dx, float[] dcol, float[] t) {
    nchwToChannelsFirst(s, dy, t);
    backwardDataFromT(gemm, s, t, w, dx, dcol);
  }

  /** {@link #backwardData} with dy already in channels-first layout t (OC × N·OH·OW). */
  public static void backwardDataFromT(
      Gemm gemm, ConvSpec s, float[] t, float[] w, float[] dx, float[] dcol) {
    int g = s.groups(), ocg = s.outC() / g, kg = s.inC() / g * s.kH() * s.kW(), cols = s.colCols();
    for (int gi = 0; gi < g; gi++) {
      gemm.sgemm(true, false, kg, cols, ocg, 1f, w, gi * ocg * kg, kg,
          t, gi * ocg * cols, cols, 0f, dcol, gi * kg * cols, cols);
    }
    col2im(s, dcol, dx);
  }

  /**
   * dw = dy · colᵀ (overwritten), dbias = Σ dy over batch and pixels (overwritten; may be null).
   * {@code t} must hold dy in channels-first layout (see {@link #nchwToChannelsFirst}).
   */
  public static void backwardWeightFromT(
      Gemm gemm, ConvSpec s, float[] t, float[] col, float[] dw, float[] dbias) {
    int g = s.groups(), ocg = s.outC() / g, kg = s.inC() / g * s.kH() * s.kW(), cols = s.colCols();
    for (int gi = 0; gi < g; gi++) {
      gemm.sgemm(false, true, ocg, kg, cols, 1f, t, gi * ocg * cols, cols,
          col, gi * kg * cols, cols, 0f, dw, gi * ocg * kg, kg);
    }
    if (dbias != null) {
      for (int oc = 0; oc < s.outC(); oc++) {
        dbias[oc] = Reduce.sum(t, oc * cols, cols);
      }
    }
  }

  /** Full backward: dx (may be null to skip), dw, dbias (may be null) from dy and the forward col. */
  public static void backward(
      Gemm gemm, ConvSpec s, float[] dy, float[] w, float[] col,
      float[] dx, float[] dw, float[] dbias, float[] dcol, float[] t) {
    nchwToChannelsFirst(s, dy, t);
    backwardWeightFromT(gemm, s, t, col, dw, dbias);
    if (dx != null) backwardDataFromT(gemm, s, t, w, dx, dcol);
  }

  /** t[oc][n·OHW + p] (+ bias[oc]) → y[n][oc][p]. */
  public static void channelsFirstToNchw(ConvSpec s, float[] t, float[] bias, float[] y) {
    int ohw = s.outH() * s.outW(), cols = s.colCols();
    Parallel.forRange(s.batch(), (long) s.outC() * ohw, (n0, n1) -> {
    for (int n = n0; n < n1; n++) {
      for (int oc = 0; oc < s.outC(); oc++) {
        int src = oc * cols + n * ohw, dst = (n * s.outC() + oc) * ohw;
        if (bias == null) {
          System.arraycopy(t, src, y, dst, ohw);
        } else {
          float b = bias[oc];
          for (int p = 0; p < ohw; p++) y[dst + p] = t[src + p] + b;
        }
      }
    }
    });
  }

  /** y[n][oc][p] → t[oc][n·OHW + p]. */
  public static void nchwToChannelsFirst(ConvSpec s, float[] y, float[] t) {
    int ohw = s.outH() * s.outW(), cols = s.colCols();
    Parallel.forRange(s.batch(), (long) s.outC() * ohw, (n0, n1) -> {
      for (int n = n0; n < n1; n++) {
        for (int oc = 0; oc < s.outC(); oc++) {
          System.arraycopy(y, (n * s.outC() + oc) * ohw, t, oc * cols + n * ohw, ohw);
        }
      }
    });
  }
}
