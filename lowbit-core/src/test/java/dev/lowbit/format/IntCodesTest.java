package dev.lowbit.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link IntCodes} gives the codes of {@link Quantizer#encode}, bit for bit, and the spec's DFP vectors. */
class IntCodesTest {

  /** Spec training-numerics §1.7. */
  @Test
  void specWorkedVectors() {
    float[] x = {0.75f, -0.1f, 3.2f};
    short[] i = new short[3];
    assertEquals(-13, IntCodes.encodeDfp(BlockFormat.dfp(16, 0, 0), x, 0, 3, 1, 3, i));
    assertArrayEquals(new short[] {6144, -819, 26214}, i);
    assertEquals(-12, IntCodes.encodeDfp(BlockFormat.dfp(16, 0, 1), x, 0, 3, 1, 3, i));
    assertArrayEquals(new short[] {3072, -410, 13107}, i);
    // 8·(1 − 2^-17) rounds to 32768 at h = 0: clamped to 32767, not wrapped to −32768
    float[] edge = {(float) (8 * (1 - Math.scalb(1.0, -17))), 1f, -3f};
    assertEquals(-12, IntCodes.encodeDfp(BlockFormat.dfp(16, 0, 0), edge, 0, 3, 1, 3, i));
    assertArrayEquals(new short[] {32767, 4096, -12288}, i);
    // zero tensor: Es = 0, all codes 0; NaN or infinity: no exponent
    assertEquals(0, IntCodes.encodeDfp(BlockFormat.dfp(16, 0, 1), new float[3], 0, 3, 1, 3, i));
    assertArrayEquals(new short[3], i);
    assertEquals(BlockFormat.NAN_EXPONENT, IntCodes.encodeDfp(BlockFormat.dfp(16, 0, 1),
        new float[] {1, Float.NaN, 2}, 0, 3, 1, 3, i));
    assertEquals(BlockFormat.NAN_EXPONENT, IntCodes.encodeDfp(BlockFormat.dfp(16, 0, 1),
        new float[] {1, Float.NEGATIVE_INFINITY, 2}, 0, 3, 1, 3, i));
  }

  static float[] data(SplittableRandom r, int n, double scale) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      double v = r.nextGaussian() * scale;
      // ties and exact multiples of the step appear: snap some values to a coarse grid
      x[i] = (float) (r.nextInt(4) == 0 ? Math.rint(v * 64) / 64 : v);
    }
    return x;
  }

  @Test
  void dfpCodesEqualQuantizerEncode() {
    SplittableRandom r = new SplittableRandom(5);
    double[] scales = {1, 1e-3, 3e5, 1e-36, 1e-42};
    for (int trial = 0; trial < 40; trial++) {
      int rows = 1 + r.nextInt(9), cols = 1 + r.nextInt(70), ld = cols + r.nextInt(3), off = r.nextInt(3);
      BlockFormat f = BlockFormat.dfp(trial % 4 == 0 ? 8 : 16, 0, r.nextInt(3));
      float[] x = data(r, off + rows * ld, scales[trial % scales.length]);
      float[] compact = new float[rows * cols];
      for (int i = 0; i < rows; i++) System.arraycopy(x, off + i * ld, compact, i * cols, cols);
      EncodedTensor want = new Quantizer(f, Rounding.NEAREST_EVEN, Granularity.perTensor())
          .encode(compact, new int[] {rows, cols}, 0, 0);
      short[] got = new short[rows * cols];
      int e = IntCodes.encodeDfp(f, x, off, ld, rows, cols, got);
      assertEquals(want.exponents()[0], e, "trial " + trial);
      for (int i = 0; i < got.length; i++) assertEquals(want.codes()[i], got[i], "trial " + trial + " element " + i);
    }
  }

  @Test
  void intCodesEqualQuantizerEncodePerTensorRowAndColumn() {
    SplittableRandom r = new SplittableRandom(6);
    for (int trial = 0; trial < 36; trial++) {
      int rows = 1 + r.nextInt(9), cols = 1 + r.nextInt(70), ld = cols + r.nextInt(3), off = r.nextInt(3);
      IntFormat f = IntFormat.signed(new int[] {4, 8, 16}[trial % 3]);
      int axis = trial / 3 % 3 - 1;
      float[] x = data(r, off + rows * ld, trial % 2 == 0 ? 1 : 1e-20);
      if (trial % 5 == 0) java.util.Arrays.fill(x, off, off + cols, 0f); // a zero row
      float[] compact = new float[rows * cols];
      for (int i = 0; i < rows; i++) System.arraycopy(x, off + i * ld, compact, i * cols, cols);
      Granularity g = axis == -1 ? Granularity.perTensor() : Granularity.perChannel(axis);
      EncodedTensor want = new Quantizer(f, Rounding.NEAREST_EVEN, g).encode(compact, new int[] {rows, cols}, 0, 0);
      short[] got = new short[rows * cols];
      float[] scales = new float[Math.max(rows, cols)];
      assertEquals(true, IntCodes.encodeInt(f, axis, x, off, ld, rows, cols, got, scales));
      for (int s = 0; s < want.scales().length; s++) assertEquals(want.scales()[s], scales[s], "trial " + trial);
      for (int i = 0; i < got.length; i++) assertEquals(want.codes()[i], got[i], "trial " + trial + " element " + i);
    }
    float[] bad = {1, 2, Float.POSITIVE_INFINITY, 3};
    for (int axis = -1; axis <= 1; axis++) {
      assertFalse(IntCodes.encodeInt(IntFormat.signed(8), axis, bad, 0, 2, 2, 2, new short[4], new float[2]));
    }
  }

  /** Matrices large enough that rows are split over the loop threads: the same codes, and NaN found in any part. */
  @Test
  void largeMatricesSplitOverThreadsGiveTheSameCodes() {
    SplittableRandom r = new SplittableRandom(8);
    int rows = 300, cols = 1000, ld = 1003, off = 2;
    float[] x = data(r, off + rows * ld, 1);
    float[] compact = new float[rows * cols];
    for (int i = 0; i < rows; i++) System.arraycopy(x, off + i * ld, compact, i * cols, cols);
    for (int axis = -1; axis <= 0; axis++) {
      Granularity g = axis == -1 ? Granularity.perTensor() : Granularity.perChannel(axis);
      EncodedTensor want = new Quantizer(IntFormat.signed(8), Rounding.NEAREST_EVEN, g)
          .encode(compact, new int[] {rows, cols}, 0, 0);
      short[] got = new short[rows * cols];
      float[] scales = new float[rows];
      assertEquals(true, IntCodes.encodeInt(IntFormat.signed(8), axis, x, off, ld, rows, cols, got, scales));
      for (int s = 0; s < want.scales().length; s++) assertEquals(want.scales()[s], scales[s], "axis " + axis);
      for (int i = 0; i < got.length; i++) assertEquals(want.codes()[i], got[i], "axis " + axis + " element " + i);
      byte[] narrow = new byte[got.length];
      IntCodes.narrow(got, got.length, narrow);
      for (int i = 0; i < got.length; i++) assertEquals((byte) got[i], narrow[i], "narrowed element " + i);
    }
    BlockFormat dfp = BlockFormat.dfp(16, 0, 1);
    EncodedTensor want = new Quantizer(dfp, Rounding.NEAREST_EVEN, Granularity.perTensor())
        .encode(compact, new int[] {rows, cols}, 0, 0);
    short[] got = new short[rows * cols];
    IntCodes.encodeDfp(dfp, x, off, ld, rows, cols, got);
    for (int i = 0; i < got.length; i++) assertEquals(want.codes()[i], got[i], "dfp element " + i);
    x[off + (rows - 1) * ld + 5] = Float.NaN; // in the last rows, which another thread encodes
    for (int axis = -1; axis <= 0; axis++) {
      assertFalse(IntCodes.encodeInt(IntFormat.signed(8), axis, x, off, ld, rows, cols, got, new float[rows]));
    }
    assertEquals(BlockFormat.NAN_EXPONENT, IntCodes.encodeDfp(dfp, x, off, ld, rows, cols, got));
  }

  @Test
  void int8BytesAndValuesEqualTheQuantizers() {
    SplittableRandom r = new SplittableRandom(8);
    for (int trial = 0; trial < 20; trial++) {
      // the later trials are convolution-sized (planes × 196 or 784 values, several parts of the
      // contiguous encoding with an uneven last one)
      int rows = trial < 14 ? 1 + r.nextInt(40) : 50 + r.nextInt(200), cols = trial < 14 ? 1 + r.nextInt(200) : trial % 2 == 0 ? 196 : 784;
      IntFormat f = (IntFormat) Formats.parse(trial % 3 == 0 ? "int4" : "int8");
      float[] x = data(r, rows * cols, trial % 2 == 0 ? 1 : 1e-3);
      Quantizer q = new Quantizer(f, Rounding.NEAREST_EVEN, Granularity.perTensor());
      EncodedTensor want = q.encode(x, new int[] {rows, cols}, 0, 0);
      float[] wantValues = new float[x.length];
      q.quantize(x, new int[] {rows, cols}, wantValues, 0, 0);
      byte[] codes = new byte[x.length], codesOnly = new byte[x.length];
      float[] values = new float[x.length];
      float s = IntCodes.encodeInt8(f, x, rows, cols, codes, values);
      assertEquals(IntCodes.scale(f, IntCodes.amax(x, 0, cols, rows, cols)), s);
      assertEquals(s, IntCodes.encodeInt8(f, x, rows, cols, codesOnly, null));
      for (int i = 0; i < x.length; i++) {
        assertEquals(want.codes()[i], codes[i], "trial " + trial + " code " + i);
        assertEquals(want.codes()[i], codesOnly[i], "trial " + trial + " code (no values) " + i);
        assertEquals(Float.floatToRawIntBits(wantValues[i]), Float.floatToRawIntBits(values[i]), "trial " + trial + " value " + i);
      }
    }
    assertEquals(Float.NaN, IntCodes.encodeInt8((IntFormat) Formats.parse("int8"), new float[] {1, Float.NaN}, 1, 2,
        new byte[2], null));
  }

  @Test
  void stridedInt8BytesAndValuesPerTensorAndPerRowEqualTheQuantizers() {
    SplittableRandom r = new SplittableRandom(12);
    for (int trial = 0; trial < 24; trial++) {
      int rows = 1 + r.nextInt(70), cols = 1 + r.nextInt(300), ld = cols + r.nextInt(5), off = r.nextInt(7);
      IntFormat f = (IntFormat) Formats.parse(trial % 3 == 0 ? "int4" : "int8");
      float[] x = data(r, off + rows * ld, trial % 2 == 0 ? 1 : 1e-3);
      float[] compact = new float[rows * cols];
      for (int i = 0; i < rows; i++) System.arraycopy(x, off + i * ld, compact, i * cols, cols);
      for (int axis = -1; axis <= 0; axis++) {
        Quantizer q = new Quantizer(f, Rounding.NEAREST_EVEN, axis == -1 ? Granularity.perTensor() : new Granularity.PerChannel(0));
        EncodedTensor want = q.encode(compact, new int[] {rows, cols}, 0, 0);
        float[] wantValues = new float[compact.length];
        q.quantize(compact, new int[] {rows, cols}, wantValues, 0, 0);
        byte[] codes = new byte[compact.length];
        float[] values = new float[compact.length], scales = new float[rows];
        assertTrue(IntCodes.encodeInt8(f, axis, x, off, ld, rows, cols, codes, scales, trial % 4 == 1 ? null : values));
        String what = "trial " + trial + " axis " + axis;
        for (int sl = 0; sl < want.scales().length; sl++) assertEquals(want.scales()[sl], scales[sl], what + " scale " + sl);
        for (int i = 0; i < compact.length; i++) {
          assertEquals(want.codes()[i], codes[i], what + " code " + i);
          if (trial % 4 != 1) {
            assertEquals(Float.floatToRawIntBits(wantValues[i]), Float.floatToRawIntBits(values[i]), what + " value " + i);
          }
        }
        float[] bad = x.clone();
        bad[off + (rows - 1) * ld + cols - 1] = trial % 2 == 0 ? Float.NaN : Float.NEGATIVE_INFINITY; // the last row
        assertFalse(IntCodes.encodeInt8(f, axis, bad, off, ld, rows, cols, codes, scales, values), what + " non-finite");
      }
    }
  }
}
