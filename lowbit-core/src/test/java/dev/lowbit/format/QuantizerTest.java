package dev.lowbit.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Tensor-level quantization: fast path vs reference, granularities, encode/decode, threads. */
class QuantizerTest {

  static float[] gaussian(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * Math.exp(r.nextGaussian() * 2));
    return x;
  }

  static void assertBits(float[] want, float[] got, String what) {
    for (int i = 0; i < want.length; i++) {
      if (!FastQuantizeTest.same(want[i], got[i])) {
        fail(what + " at " + i + ": " + want[i] + " vs " + got[i]);
      }
    }
  }

  @Test
  void fastEqualsReferenceAndDecodeOfEncode() {
    int[][] shapes = {{37}, {6, 64}, {3, 5, 96}, {70000}};
    String[] formats = {"int8", "uint4", "e4m3", "e5m2", "fp16", "bf16", "fixed<16,8>", "mxfp8",
        "mxfp4", "mxint8", "dfp16/b64", "dfp16", "bfp8/b16", "mxfp6e3m2"};
    for (String name : formats) {
      NumberFormat f = NumberFormat.parse(name);
      for (Rounding r : Rounding.values()) {
        for (int[] shape : shapes) {
          int n = 1;
          for (int d : shape) n *= d;
          float[] x = gaussian(name.hashCode() + n, n);
          Quantizer q = Quantizer.of(f, r);
          if (f instanceof BlockFormat b && b.blockSize() > shape[shape.length - 1] * 2) continue;
          String what = name + " " + r + " " + java.util.Arrays.toString(shape);
          float[] ref = assertOneAndTwoThreadsMatchReference(q, x, shape, what);
          assertBits(ref, q.decode(q.encode(x, shape, 7, 3)), what + " decode(encode)");
        }
      }
    }
  }

  /** quantize on one and on two threads, each bit-identical to quantizeReference; returns the reference. */
  private static float[] assertOneAndTwoThreadsMatchReference(Quantizer q, float[] x, int[] shape, String what) {
    int n = x.length;
    float[] ref = new float[n], fast = new float[n], two = new float[n];
    q.quantizeReference(x, shape, ref, 7, 3);
    q.quantize(x, shape, fast, 7, 3);
    q.quantize(x, shape, two, 7, 3, 2);
    assertBits(ref, fast, what);
    assertBits(ref, two, what + " 2 threads");
    return ref;
  }

  /**
   * MX blocks along a middle or leading axis (a convolution's channels or batch: every column its
   * own block) on the column-block fast path: bit-identical to the reference, on one and two
   * threads, with partial last blocks, vector tails, zeros, subnormals, huge values, infinity and NaN.
   */
  @Test
  void mxBlocksAlongAMiddleAxisEqualReference() {
    int[][] shapes = {{3, 40, 7, 5}, {2, 32, 14, 14}, {70, 3, 19}, {33, 1, 1, 2}, {4, 64, 2, 1030}};
    for (String name : new String[] {"mxfp8", "mxfp8e5m2", "mxfp6e3m2", "mxfp6", "mxfp4"}) {
      for (int[] shape : shapes) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] x = gaussian(name.hashCode() ^ n, n);
        x[0] = 0;
        x[n / 3] = 1e-41f; // subnormal
        x[n / 2] = 3e38f;
        for (int axis = 0; axis < 2; axis++) {
          Quantizer q = new Quantizer(NumberFormat.parse(name), Rounding.NEAREST_EVEN,
              new Granularity.PerBlock(32, axis));
          String what = name + " axis " + axis + " " + java.util.Arrays.toString(shape);
          assertOneAndTwoThreadsMatchReference(q, x, shape, what);
          float[] y = x.clone();
          y[n - 1] = Float.NaN;
          y[n / 4] = Float.NEGATIVE_INFINITY;
          float[] ref = assertOneAndTwoThreadsMatchReference(q, y, shape, what + " with NaN and -inf");
          assertTrue(Float.isNaN(ref[n - 1]) && Float.isNaN(ref[n / 4]), what + ": blocks with NaN/inf come out NaN");
        }
      }
    }
  }

  /**
   * The column-block path's shared exponents at their edges: columns whose largest magnitude is
   * zero, a subnormal (from the smallest one up to just below the smallest normal), the smallest
   * normal, or the largest finite value; blocks of one row (a single input channel), of fewer
   * columns than a vector and with vector tails; quantized into a copy and in place.
   */
  @Test
  void mxColumnBlocksAtTheEdgesOfTheExponentRangeEqualReference() {
    int[][] shapes = {{4, 1, 40}, {2, 32, 37}, {3, 33, 5}, {1, 64, 16}, {5, 7, 1}};
    float[] edges = {0f, Float.MIN_VALUE, 3 * Float.MIN_VALUE, 0x1p-140f, 0x1.fffffcp-127f, Float.MIN_NORMAL,
        0x1.8p-120f, 1f, 0x1p100f, Float.MAX_VALUE, -Float.MAX_VALUE, -0f};
    for (String name : new String[] {"mxfp8", "mxfp8e5m2", "mxfp4"}) {
      for (int[] shape : shapes) {
        int n = shape[0] * shape[1] * shape[2];
        float[] x = gaussian(name.hashCode() ^ (31 * n), n);
        SplittableRandom r = new SplittableRandom(n);
        for (int i = 0; i < n; i++) {
          int col = i % shape[2];
          // every third column holds only edge values (scaled down a little within the column),
          // so its largest magnitude is one of them
          if (col % 3 == 0) x[i] = edges[(col / 3) % edges.length] * (r.nextBoolean() ? 1f : 0.5f);
        }
        for (int axis = 0; axis < 2; axis++) {
          Quantizer q = new Quantizer(NumberFormat.parse(name), Rounding.NEAREST_EVEN, new Granularity.PerBlock(32, axis));
          String what = name + " axis " + axis + " " + java.util.Arrays.toString(shape);
          float[] ref = assertOneAndTwoThreadsMatchReference(q, x, shape, what);
          float[] inPlace = x.clone();
          q.quantize(inPlace, shape, inPlace, 7, 3, 2);
          assertBits(ref, inPlace, what + " in place");
        }
      }
    }
  }

  @Test
  void runsOfAPerTensorQuantizerGiveTheWholeTensorsBits() {
    float[] x = gaussian(23, 5000);
    x[17] = 3e-40f;
    Quantizer[] qs = {
      Quantizer.of(NumberFormat.parse("bf16"), Rounding.NEAREST_EVEN),
      Quantizer.of(NumberFormat.parse("fp16"), Rounding.NEAREST_EVEN),
      new Quantizer(NumberFormat.parse("e4m3"), Rounding.NEAREST_EVEN, new Granularity.PerTensor(Granularity.Scaling.AMAX)),
      new Quantizer(NumberFormat.parse("e5m2"), Rounding.NEAREST_EVEN, new Granularity.PerTensor(Granularity.Scaling.AMAX)),
      Quantizer.of(NumberFormat.parse("int8"), Rounding.NEAREST_EVEN),
      Quantizer.of(NumberFormat.parse("dfp16"), Rounding.NEAREST_EVEN),
    };
    for (Quantizer q : qs) {
      for (float[] t : new float[][] {x, withNaN(x, 4000)}) {
        float[] want = new float[t.length], got = new float[t.length + 3];
        q.quantizeReference(t, new int[] {t.length}, want, 0, 0);
        Quantizer.Runs runs = q.runs(t, t.length, 2);
        for (int from = t.length; from > 0; ) { // backwards, uneven runs, shifted by 3 in the output
          int len = Math.min(from, 1 + from % 53);
          from -= len;
          runs.apply(t, from, len, got, from + 3);
        }
        for (int i = 0; i < t.length; i++) {
          assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i + 3]), q + " element " + i);
        }
      }
    }
    assertEquals(null, Quantizer.of(NumberFormat.parse("mxfp8"), Rounding.NEAREST_EVEN).runs(x, x.length, 1), "blocks");
    assertEquals(null, Quantizer.of(NumberFormat.parse("bf16"), Rounding.STOCHASTIC).runs(x, x.length, 1), "stochastic");
    assertEquals(null, new Quantizer(NumberFormat.parse("int8"), Rounding.NEAREST_EVEN, new Granularity.PerChannel(0))
        .runs(x, x.length, 1), "per channel");
  }

  private static float[] withNaN(float[] x, int at) {
    float[] y = x.clone();
    y[at] = Float.NaN;
    return y;
  }

  @Test
  void perChannelOfLeadingAxisEqualsReference() {
    // per-channel(0) of a matrix (int8 weights per output channel) runs row by row on the fast path
    String[] formats = {"int8", "int4", "int16", "dfp16", "dfp8"};
    int[][] shapes = {{7, 33}, {64, 288}, {1, 5}, {40000, 3}};
    for (String name : formats) {
      for (Rounding r : Rounding.values()) {
        for (int[] shape : shapes) {
          int n = shape[0] * shape[1];
          float[] x = gaussian(name.hashCode() + n, n);
          x[n / 2] = 0;
          if (shape[0] > 2) java.util.Arrays.fill(x, shape[1], 2 * shape[1], 0f); // an all-zero channel
          Quantizer q = new Quantizer(NumberFormat.parse(name), r, Granularity.perChannel(0));
          assertOneAndTwoThreadsMatchReference(q, x, shape, name + " " + r + " " + java.util.Arrays.toString(shape));
        }
      }
    }
    float[] x = gaussian(3, 20);
    x[13] = Float.NaN;
    Quantizer q = new Quantizer(IntFormat.signed(8), Rounding.NEAREST_EVEN, Granularity.perChannel(0));
    float[] ref = new float[20], fast = new float[20];
    q.quantizeReference(x, new int[] {4, 5}, ref, 1, 1);
    q.quantize(x, new int[] {4, 5}, fast, 1, 1);
    assertBits(ref, fast, "NaN in channel 2");
  }

  @Test
  void perChannelAndBlocksAlongOtherAxes() {
    int[] shape = {4, 6, 5};
    float[] x = gaussian(5, 120);
    IntFormat int8 = IntFormat.signed(8);
    // per channel along axis 1: each of the 6 channels has its own amax/127 scale
    Quantizer q = new Quantizer(int8, Rounding.NEAREST_EVEN, Granularity.perChannel(1));
    assertEquals(6, q.sliceCount(shape));
    float[] out = new float[120];
    q.quantize(x, shape, out, 0, 0);
    for (int c = 0; c < 6; c++) {
      float amax = 0;
      for (int o = 0; o < 4; o++) for (int j = 0; j < 5; j++) amax = Math.max(amax, Math.abs(x[(o * 6 + c) * 5 + j]));
      float s = amax / 127;
      for (int o = 0; o < 4; o++) {
        for (int j = 0; j < 5; j++) {
          int i = (o * 6 + c) * 5 + j;
          assertEquals((float) (Math.rint(x[i] / s) * s + 0.0), out[i], "channel " + c + " element " + i);
        }
      }
    }
    EncodedTensor t = q.encode(x, shape, 0, 0);
    assertEquals(6, t.scales().length);
    assertArrayEquals(out, q.decode(t));
    byte[] bytes = t.codesAsBytes();
    assertEquals(120, bytes.length);
    // MX blocks of 4 along axis 0 (length 4: one block per (j,k) column)
    Quantizer mx = new Quantizer(BlockFormat.mx(Formats.E2M1, 4), Rounding.NEAREST_EVEN,
        Granularity.perBlock(4, 0));
    assertEquals(30, mx.sliceCount(shape));
    float[] a = new float[120], b = new float[120];
    mx.quantize(x, shape, a, 0, 0);
    mx.quantizeReference(x, shape, b, 0, 0);
    assertArrayEquals(b, a);
    float[] col = new float[4];
    for (int o = 0; o < 4; o++) col[o] = x[o * 30 + 7];
    float[] qcol = BlockFormat.mx(Formats.E2M1, 4).quantize(col, Rounding.NEAREST_EVEN, 0, 0);
    for (int o = 0; o < 4; o++) assertEquals(qcol[o], a[o * 30 + 7]);
  }

  @Test
  void mismatchedGranularityIsRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Quantizer(Formats.E4M3, Rounding.NEAREST_EVEN, Granularity.perChannel(0)));
    assertTrue(e.getMessage().contains("e4m3"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> new Quantizer(Formats.MXFP8_E4M3, Rounding.NEAREST_EVEN, Granularity.perBlock(16, -1)));
    Quantizer q = Quantizer.of(IntFormat.signed(8), Rounding.NEAREST_EVEN);
    assertThrows(IllegalArgumentException.class, () -> q.quantize(new float[6], new int[] {2, 2}, new float[6], 0, 0));
    assertThrows(IllegalArgumentException.class,
        () -> new Quantizer(IntFormat.signed(8), Rounding.NEAREST_EVEN, Granularity.perChannel(3))
            .quantize(new float[4], new int[] {2, 2}, new float[4], 0, 0));
  }

  @Test
  void packingRoundTrips() {
    SplittableRandom r = new SplittableRandom(4);
    for (int bits = 1; bits <= 32; bits++) {
      int[] codes = new int[101];
      for (int i = 0; i < codes.length; i++) {
        codes[i] = bits == 32 ? r.nextInt() : r.nextInt(1 << (bits - 1)) - (r.nextBoolean() ? (1 << (bits - 1)) : 0);
      }
      byte[] p = Packing.pack(codes, bits);
      assertEquals((101 * bits + 7) / 8, p.length);
      assertArrayEquals(codes, Packing.unpack(p, 101, bits, true), "bits " + bits);
    }
    // MXFP4: two codes per byte
    Quantizer q = Quantizer.of(Formats.MXFP4, Rounding.NEAREST_EVEN);
    EncodedTensor t = q.encode(gaussian(1, 64), new int[] {64}, 0, 0);
    assertEquals(32, t.packed().length);
  }
}
