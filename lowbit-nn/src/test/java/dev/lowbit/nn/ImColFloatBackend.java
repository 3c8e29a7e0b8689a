package dev.lowbit.nn;

import dev.lowbit.kernel.Conv;
import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.kernel.FloatKernels;
import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.GemmBackend;
import dev.lowbit.kernel.Parallel;
import dev.lowbit.kernel.Reduce;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test backend ("imcol-float") whose {@link FloatKernels} run exactly the arithmetic of Compute's
 * im2col path (same GEMMs, same order), so that the direct-convolution path of {@link Compute} can
 * be held to the im2col path bit for bit; registered in the test resources' META-INF/services.
 */
public final class ImColFloatBackend implements GemmBackend {

  static final AtomicInteger FORWARDS = new AtomicInteger(), BACKWARDS = new AtomicInteger(), FORWARDS_S8 = new AtomicInteger();
  /** Calls of the bf16-operand passes (counted in FORWARDS and BACKWARDS too). */
  static final AtomicInteger FORWARDS_BF16 = new AtomicInteger(), BACKWARDS_BF16 = new AtomicInteger();

  @Override
  public String name() {
    return "imcol-float";
  }

  @Override
  public Gemm load(Gemm fallback, dev.lowbit.settings.Settings settings) {
    return new Kernels(fallback);
  }

  static final class Kernels implements Gemm, FloatKernels {
    private final Gemm g;

    Kernels(Gemm g) {
      this.g = g;
    }

    @Override
    public String name() {
      return "imcol-float+" + g.name();
    }

    @Override
    public boolean supports(ConvSpec s) {
      return true;
    }

    @Override
    public boolean convForward(ConvSpec s, float[] x, float[] w, float[] bias, float[] y) {
      FORWARDS.incrementAndGet();
      int gr = s.groups(), ocg = s.outC() / gr, kg = s.inC() / gr * s.kH() * s.kW(), cols = s.colCols();
      float[] col = new float[s.colSize()];
      Conv.im2col(s, x, col);
      float[] t = new float[s.outputSize()];
      for (int gi = 0; gi < gr; gi++) {
        g.sgemm(false, false, ocg, cols, kg, 1f, w, gi * ocg * kg, kg, col, gi * kg * cols, cols, 0f, t, gi * ocg * cols, cols);
      }
      Conv.channelsFirstToNchw(s, t, bias, y);
      return true;
    }

    @Override
    public boolean convBackward(ConvSpec s, float[] x, float[] w, float[] dy, float[] dx, float[] dw, float[] db) {
      BACKWARDS.incrementAndGet();
      int gr = s.groups(), ocg = s.outC() / gr, kg = s.inC() / gr * s.kH() * s.kW(), cols = s.colCols();
      float[] dt = new float[s.outputSize()];
      Conv.nchwToChannelsFirst(s, dy, dt);
      if (db != null) {
        Parallel.forRange(s.outC(), cols, (o0, o1) -> {
          for (int oc = o0; oc < o1; oc++) db[oc] += Reduce.sum(dt, oc * cols, cols);
        });
      }
      float[] col = new float[s.colSize()];
      Conv.im2col(s, x, col);
      if (dw != null) {
        float[] t = new float[dw.length];
        for (int gi = 0; gi < gr; gi++) {
          g.sgemm(false, true, ocg, kg, cols, 1f, dt, gi * ocg * cols, cols, col, gi * kg * cols, cols, 0f, t, gi * ocg * kg, kg);
        }
        for (int i = 0; i < t.length; i++) dw[i] += t[i];
      }
      if (dx != null) {
        for (int gi = 0; gi < gr; gi++) {
          g.sgemm(true, false, kg, cols, ocg, 1f, w, gi * ocg * kg, kg, dt, gi * ocg * cols, cols, 0f, col, gi * kg * cols, cols);
        }
        Conv.col2im(s, col, dx);
      }
      return true;
    }

    @Override
    public boolean supportsBf16(ConvSpec s) {
      return true;
    }

    /** The fp32 pass after checking the contract: every operand a bf16 number (products exact either way). */
    @Override
    public boolean convForwardBf16(ConvSpec s, float[] x, float[] w, float[] bias, float[] y) {
      FORWARDS_BF16.incrementAndGet();
      requireBf16(x, "x");
      requireBf16(w, "w");
      return convForward(s, x, w, bias, y);
    }

    @Override
    public boolean convBackwardBf16(ConvSpec s, float[] x, float[] w, float[] dy, float[] dx, float[] dw, float[] db) {
      BACKWARDS_BF16.incrementAndGet();
      if (dw != null) requireBf16(x, "x");
      if (dx != null) requireBf16(w, "w");
      requireBf16(dy, "dy");
      return convBackward(s, x, w, dy, dx, dw, db);
    }

    private static void requireBf16(float[] a, String what) {
      for (int i = 0; i < a.length; i++) {
        if ((Float.floatToRawIntBits(a[i]) & 0xFFFF) != 0 && !Float.isNaN(a[i])) {
          throw new AssertionError(what + "[" + i + "] = " + a[i] + " is not a bf16 number");
        }
      }
    }

    @Override
    public boolean supportsS8(ConvSpec s) {
      return s.groups() == 1;
    }

    /** The codes as floats through im2col and the fp32 GEMM: exact while every sum stays below 2^24. */
    @Override
    public boolean convForwardS8(ConvSpec s, byte[] x, float xScale, byte[] w, float[] wScales, float[] bias, float[] y) {
      FORWARDS_S8.incrementAndGet();
      float[] xf = new float[x.length], wf = new float[w.length];
      for (int i = 0; i < x.length; i++) xf[i] = x[i];
      for (int i = 0; i < w.length; i++) wf[i] = w[i];
      int kg = s.inC() * s.kH() * s.kW(), cols = s.colCols(), hw = s.outH() * s.outW();
      float[] col = new float[s.colSize()];
      Conv.im2col(s, xf, col);
      float[] t = new float[s.outputSize()];
      g.sgemm(false, false, s.outC(), cols, kg, 1f, wf, 0, kg, col, 0, cols, 0f, t, 0, cols);
      for (int n = 0; n < s.batch(); n++) {
        for (int oc = 0; oc < s.outC(); oc++) {
          float scale = xScale * wScales[wScales.length == 1 ? 0 : oc];
          for (int p = 0; p < hw; p++) {
            y[(n * s.outC() + oc) * hw + p] = t[oc * cols + n * hw + p] * scale + (bias == null ? 0f : bias[oc]);
          }
        }
      }
      return true;
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
        float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
      g.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override
    public void gemmS8S8(boolean transA, boolean transB, int m, int n, int k, byte[] a, int aOff, int lda,
        byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
      g.gemmS8S8(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    }

    @Override
    public void gemmU8S8(boolean transA, boolean transB, int m, int n, int k, byte[] a, int aOff, int lda,
        byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
      g.gemmU8S8(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    }

    @Override
    public long gemmS16(boolean transA, boolean transB, int m, int n, int k, short[] a, int aOff, int lda,
        short[] b, int bOff, int ldb, int[] c, int cOff, int ldc, boolean countOverflow) {
      return g.gemmS16(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, countOverflow);
    }
  }
}
