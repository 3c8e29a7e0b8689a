package dev.lowbit.onednn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.kernel.ScalarGemm;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * oneDNN's fp32 convolutions (forward, backward data, backward weights with bias) against a
 * double-precision definition of the convolution, on geometries with stride, padding, dilation,
 * groups and rectangular kernels.
 */
class OneDnnConvTest {

  static OneDnnGemm gemm;

  @BeforeAll
  static void load() {
    gemm = Natives.loadOrSkip(ScalarGemm.INSTANCE);
  }

  private static float[] random(Random r, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
    return x;
  }

  /** Input index of output pixel (oy, ox) under tap (i, j), or -1 in the padding. */
  private static int at(ConvSpec s, int n, int c, int oy, int ox, int i, int j) {
    int iy = oy * s.strideH() - s.padH() + i * s.dilH(), ix = ox * s.strideW() - s.padW() + j * s.dilW();
    if (iy < 0 || iy >= s.inH() || ix < 0 || ix >= s.inW()) return -1;
    return ((n * s.inC() + c) * s.inH() + iy) * s.inW() + ix;
  }

  /** The forward pass, the three gradients of sum(y ⊙ dy), all in double. */
  private static double[][] reference(ConvSpec s, float[] x, float[] w, float[] bias, float[] dy) {
    int g = s.groups(), ocg = s.outC() / g, icg = s.inC() / g, oh = s.outH(), ow = s.outW();
    double[] y = new double[s.outputSize()], dx = new double[s.inputSize()], dw = new double[s.weightSize()];
    double[] db = new double[s.outC()];
    for (int n = 0; n < s.batch(); n++) {
      for (int oc = 0; oc < s.outC(); oc++) {
        int gi = oc / ocg;
        for (int oy = 0; oy < oh; oy++) {
          for (int ox = 0; ox < ow; ox++) {
            int yi = ((n * s.outC() + oc) * oh + oy) * ow + ox;
            double sum = bias == null ? 0 : bias[oc];
            for (int c = 0; c < icg; c++) {
              for (int i = 0; i < s.kH(); i++) {
                for (int j = 0; j < s.kW(); j++) {
                  int xi = at(s, n, gi * icg + c, oy, ox, i, j);
                  if (xi < 0) continue;
                  int wi = ((oc * icg + c) * s.kH() + i) * s.kW() + j;
                  sum += (double) x[xi] * w[wi];
                  dx[xi] += (double) dy[yi] * w[wi];
                  dw[wi] += (double) dy[yi] * x[xi];
                }
              }
            }
            y[yi] = sum;
            db[oc] += dy[yi];
          }
        }
      }
    }
    return new double[][] {y, dx, dw, db};
  }

  private static void close(double[] want, float[] got, double base, String what) {
    assertEquals(want.length, got.length, what + " length");
    double scale = 0;
    for (double v : want) scale = Math.max(scale, Math.abs(v));
    for (int i = 0; i < want.length; i++) {
      double tol = 1e-5 * Math.max(1, scale) + 1e-5 * Math.abs(want[i]);
      if (Math.abs(want[i] + base - got[i]) > tol) {
        throw new AssertionError(what + "[" + i + "]: want " + (want[i] + base) + " got " + got[i]);
      }
    }
  }

  private static void check(ConvSpec s, boolean withBias, long seed) {
    assertTrue(gemm.supports(s), s + " runs natively");
    check(s, withBias, seed, false);
  }

  /** The three passes against the definition; with {@code bf16}, on bf16 operands and kernels. */
  private static void check(ConvSpec s, boolean withBias, long seed, boolean bf16) {
    Random r = new Random(seed);
    float[] x = random(r, s.inputSize()), w = random(r, s.weightSize()), dy = random(r, s.outputSize());
    if (bf16) {
      bf16Values(x);
      bf16Values(w);
      bf16Values(dy);
    }
    float[] bias = withBias ? random(r, s.outC()) : null;
    double[][] want = reference(s, x, w, bias, dy);
    String what = s + (bf16 ? " bf16" : "");
    float[] y = new float[s.outputSize()];
    assertTrue(gemm.convForward(s, x, null, w, bias, y, bf16));
    close(want[0], y, 0, what + " y");
    float[] dx = random(r, s.inputSize()); // overwritten
    float[] dw = new float[s.weightSize()], db = new float[s.outC()];
    java.util.Arrays.fill(dw, 0.5f); // accumulated into
    java.util.Arrays.fill(db, -0.25f);
    assertTrue(gemm.convBackward(s, x, null, w, dy, null, dx, dw, db, bf16));
    close(want[1], dx, 0, what + " dx");
    close(want[2], dw, 0.5, what + " dw");
    close(want[3], db, -0.25, what + " db");
  }

  @Test
  void matchesTheDefinitionOnManyGeometries() {
    ConvSpec[] cases = {
      ConvSpec.of(4, 1, 28, 28, 32, 3, 1, 1), // the CNN's first convolution
      ConvSpec.of(3, 32, 14, 14, 64, 3, 1, 1), // and its second
      ConvSpec.of(2, 3, 9, 11, 5, 3, 2, 1), // stride 2, odd sizes
      ConvSpec.of(2, 4, 8, 8, 6, 1, 1, 0), // 1×1
      new ConvSpec(2, 3, 10, 7, 4, 3, 2, 1, 2, 0, 1, 2, 1, 1), // rectangular kernel, mixed stride, dilation 2
      new ConvSpec(2, 4, 8, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2), // two groups
      ConvSpec.of(1, 2, 5, 5, 3, 5, 1, 2), // kernel as large as the image
    };
    long seed = 1;
    for (ConvSpec s : cases) {
      check(s, true, seed++);
      check(s, false, seed++);
    }
  }

  private static float[] bf16Values(float[] a) {
    for (int i = 0; i < a.length; i++) a[i] = Float.intBitsToFloat(Float.floatToRawIntBits(a[i]) & 0xFFFF0000);
    return a;
  }

  /**
   * Operands that are bf16 numbers on the bf16 primitives: the same convolution (exact products,
   * fp32 sums), results accumulated like the fp32 passes', and on a machine with AMX or AVX-512
   * BF16 every geometry with 16 or more input channels runs on them (fewer go to fp32 kernels).
   */
  @Test
  void bf16OperandsGiveTheConvolution() {
    ConvSpec[] cases = {
      ConvSpec.of(4, 1, 28, 28, 32, 3, 1, 1),
      ConvSpec.of(3, 32, 14, 14, 64, 3, 1, 1),
      ConvSpec.of(2, 3, 9, 11, 5, 3, 2, 1),
      ConvSpec.of(2, 4, 8, 8, 6, 1, 1, 0),
      ConvSpec.of(2, 48, 7, 9, 20, 3, 2, 1), // stride 2, 48 channels
    };
    // bf16 kernels exactly where the CPU computes bf16 natively and the layer is wide enough;
    // elsewhere the geometry is declined (the layer then runs its fp32 kernels)
    boolean hasBf16 = gemm.runtime().nativeBf16();
    long seed = 40;
    for (ConvSpec s : cases) {
      boolean want = hasBf16 && s.inC() >= OneDnnConv.MIN_BF16_CHANNELS;
      assertEquals(want, gemm.supportsBf16(s), s + ": bf16 kernels on " + gemm.runtime().isa());
      if (want) {
        check(s, true, seed++, true);
      } else {
        assertTrue(!gemm.convForward(s, new float[s.inputSize()], null, new float[s.weightSize()], null,
            new float[s.outputSize()], true), s + ": a declined bf16 geometry must not run");
      }
    }
  }

  /**
   * Operands transformed on their way into native memory (a few planes at a time, on the copy
   * threads) give the bits of the same call on transformed copies, on the fp32 and bf16 kernels.
   */
  @Test
  void transformsOnTheWayInGiveTheTransformedCopiesBits() {
    dev.lowbit.kernel.FloatKernels.Transform toBf16 = (src, from, len, dst, off) -> {
      for (int i = 0; i < len; i++) dst[off + i] = Float.intBitsToFloat(Float.floatToRawIntBits(src[from + i]) & 0xFFFF0000);
    };
    ConvSpec[] cases = {ConvSpec.of(128, 1, 28, 28, 32, 3, 1, 1), ConvSpec.of(5, 32, 14, 14, 64, 3, 1, 1),
      ConvSpec.of(3, 40, 9, 11, 24, 3, 2, 1)};
    long seed = 60;
    for (ConvSpec s : cases) {
      for (boolean bf16 : new boolean[] {false, true}) {
        if (bf16 && !gemm.supportsBf16(s)) continue;
        Random r = new Random(seed++);
        float[] x = random(r, s.inputSize()), w = bf16Values(random(r, s.weightSize())), dy = random(r, s.outputSize());
        float[] bias = random(r, s.outC());
        float[] tx = x.clone(), tdy = dy.clone();
        toBf16.apply(x, 0, x.length, tx, 0);
        toBf16.apply(dy, 0, dy.length, tdy, 0);
        float[] want = new float[s.outputSize()], got = new float[s.outputSize()];
        assertTrue(gemm.convForward(s, tx, null, w, bias, want, bf16));
        assertTrue(gemm.convForward(s, x, toBf16, w, bias, got, bf16));
        assertArrayEquals(want, got, s + " forward, bf16 " + bf16);
        float[] wantDx = new float[s.inputSize()], gotDx = new float[s.inputSize()];
        float[] wantDw = new float[s.weightSize()], gotDw = new float[s.weightSize()];
        float[] wantDb = new float[s.outC()], gotDb = new float[s.outC()];
        assertTrue(gemm.convBackward(s, tx, null, w, tdy, null, wantDx, wantDw, wantDb, bf16));
        assertTrue(gemm.convBackward(s, x, toBf16, w, dy, toBf16, gotDx, gotDw, gotDb, bf16));
        assertArrayEquals(wantDx, gotDx, s + " dx, bf16 " + bf16);
        assertArrayEquals(wantDw, gotDw, s + " dw, bf16 " + bf16);
        assertArrayEquals(wantDb, gotDb, s + " db, bf16 " + bf16);
      }
    }
  }

  @Test
  void evictingTheCacheDestroysPrimitivesAndRecreatesThem() {
    OneDnnConv conv = gemm.conv();
    int before = conv.maxCached;
    conv.maxCached = 2;
    try {
      long seed = 100;
      for (int round = 0; round < 2; round++) { // the second round finds every geometry evicted
        for (int c = 1; c <= 4; c++) check(ConvSpec.of(2, c, 6, 6, 3, 3, 1, 1), true, seed++);
      }
    } finally {
      conv.maxCached = before;
    }
  }

  @Test
  void skipsGradientsNotAskedForAndRepeatsBitForBit() {
    ConvSpec s = ConvSpec.of(3, 8, 12, 12, 16, 3, 1, 1);
    Random r = new Random(7);
    float[] x = random(r, s.inputSize()), w = random(r, s.weightSize()), dy = random(r, s.outputSize());
    float[] dx1 = new float[s.inputSize()], dx2 = new float[s.inputSize()];
    float[] dw1 = new float[s.weightSize()], dw2 = new float[s.weightSize()];
    assertTrue(gemm.convBackward(s, x, w, dy, dx1, dw1, null));
    assertTrue(gemm.convBackward(s, x, w, dy, dx2, dw2, null));
    assertArrayEquals(dx1, dx2, "same call, same bits");
    assertArrayEquals(dw1, dw2, "same call, same bits");
    float[] dx3 = new float[s.inputSize()];
    assertTrue(gemm.convBackward(s, x, w, dy, dx3, null, null));
    assertArrayEquals(dx1, dx3, "dx alone");
    float[] dw3 = new float[s.weightSize()];
    assertTrue(gemm.convBackward(s, x, w, dy, null, dw3, null));
    assertArrayEquals(dw1, dw3, "dw alone");
  }

  @Test
  void int8ForwardIsTheScaledExactSum() {
    org.junit.jupiter.api.Assumptions.assumeTrue(gemm.runtime().exactInt8(),
        "int8 convolutions are exact only with VNNI or AMX");
    Random r = new Random(11);
    ConvSpec[] cases = {ConvSpec.of(3, 32, 14, 14, 64, 3, 1, 1), ConvSpec.of(2, 1, 28, 28, 32, 3, 1, 1),
        ConvSpec.of(2, 5, 9, 7, 6, 3, 2, 0)};
    for (ConvSpec s : cases) {
      for (boolean perChannel : new boolean[] {true, false}) {
        for (boolean extreme : new boolean[] {false, true}) {
          byte[] x = new byte[s.inputSize()], w = new byte[s.weightSize()];
          for (int i = 0; i < x.length; i++) x[i] = (byte) (extreme ? (r.nextBoolean() ? -128 : 127) : r.nextInt(256));
          for (int i = 0; i < w.length; i++) w[i] = (byte) (extreme ? (r.nextBoolean() ? -128 : 127) : r.nextInt(256));
          float sx = 0.0123f;
          float[] sw = new float[perChannel ? s.outC() : 1];
          for (int i = 0; i < sw.length; i++) sw[i] = 0.001f * (1 + r.nextInt(50));
          float[] bias = random(r, s.outC());
          assertTrue(gemm.supportsS8(s), s + " runs natively");
          float[] y = new float[s.outputSize()];
          assertTrue(gemm.convForwardS8(s, x, sx, w, sw, bias, y));
          float[] xf = new float[x.length], wf = new float[w.length];
          for (int i = 0; i < x.length; i++) xf[i] = x[i];
          for (int i = 0; i < w.length; i++) wf[i] = w[i];
          double[] sums = reference(s, xf, wf, null, new float[s.outputSize()])[0]; // exact: small integers
          int hw = s.outH() * s.outW();
          for (int i = 0; i < y.length; i++) {
            int oc = i / hw % s.outC();
            double want = sums[i] * sx * sw[perChannel ? oc : 0] + bias[oc];
            assertEquals(want, y[i], 1e-5 * Math.max(1, Math.abs(want)), s + " perChannel=" + perChannel + " extreme=" + extreme + " y[" + i + "]");
          }
        }
      }
    }
  }
}
