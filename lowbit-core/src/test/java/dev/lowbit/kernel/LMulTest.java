package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.Multiplier.OperandRounding;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** L-Mul against the worked bit patterns, edge cases and error table of the spec (§3.5–3.8). */
class LMulTest {

  private static int bits(float f) {
    return Float.floatToRawIntBits(f);
  }

  private static float lmul(float x, float y, int m) {
    return LMul.multiply(x, y, new Multiplier.LMul(m, OperandRounding.RNE));
  }

  @Test
  void offsetsMatchTheSpec() {
    assertEquals(0x3F400000, LMul.offset(1));
    assertEquals(0x3F600000, LMul.offset(2));
    assertEquals(0x3F700000, LMul.offset(3));
    assertEquals(0x3F700000, LMul.offset(4));
    assertEquals(0x3F780000, LMul.offset(5));
    assertEquals(0x3F780000, LMul.offset(23));
  }

  @Test
  void workedBitPatternTable() {
    assertEquals(0x3FF00000, bits(lmul(1.25f, 1.5f, 3)));
    assertEquals(1.875f, lmul(1.25f, 1.5f, 3));
    // carry: the fraction sum overflows into the exponent (literal formula would give 4.25)
    assertEquals(0x40900000, bits(lmul(1.75f, 2.5f, 3)));
    assertEquals(0xBF900000, bits(lmul(-3.0f, 0.375f, 3)));
    assertEquals(0x40900000, bits(lmul(1.75f, 2.5f, 4)));
    assertEquals(0x40F4CCCC, bits(lmul(3.6f, 2.1f, 23)));
    assertEquals(7.6499996f, lmul(3.6f, 2.1f, 23));
    assertEquals(0x40F4CCCC, bits(LMul.lmulRaw(3.6f, 2.1f, 23)));
  }

  @Test
  void operandRounding() {
    assertEquals(2.0f, LMul.roundOperand(1.96875f, 3, OperandRounding.RNE));
    assertEquals(1.0f, LMul.roundOperand(1.0625f, 3, OperandRounding.RNE));
    assertEquals(1.25f, LMul.roundOperand(1.1875f, 3, OperandRounding.RNE));
    assertEquals(1.875f, LMul.roundOperand(1.96875f, 3, OperandRounding.TRUNCATE));
    assertEquals(-1.875f, LMul.roundOperand(-1.96875f, 3, OperandRounding.TRUNCATE));
    assertEquals(Float.POSITIVE_INFINITY, LMul.roundOperand(Float.MAX_VALUE, 3, OperandRounding.RNE));
    assertTrue(Float.isNaN(LMul.roundOperand(Float.intBitsToFloat(0x7F800001), 3, OperandRounding.TRUNCATE)));
  }

  @Test
  void edgeCases() {
    assertEquals(0, bits(lmul(0f, 1f, 3)));
    assertEquals(0x80000000, bits(lmul(-0f, 1f, 3)));
    assertEquals(0, bits(lmul(0f, 0f, 3)));
    assertEquals(0x80000000, bits(lmul(1e-30f, -1e-30f, 23))); // underflow → signed zero
    assertEquals(Float.POSITIVE_INFINITY, lmul(1e30f, 1e30f, 23));
    assertEquals(Float.NEGATIVE_INFINITY, lmul(-1e30f, 1e30f, 23));
    assertEquals(Float.POSITIVE_INFINITY, lmul(Float.POSITIVE_INFINITY, 2f, 3));
    assertEquals(Float.NEGATIVE_INFINITY, lmul(Float.POSITIVE_INFINITY, -2f, 3));
    assertTrue(Float.isNaN(lmul(Float.NaN, 2f, 3)));
    assertTrue(Float.isNaN(lmul(2f, Float.NaN, 3)));
    assertTrue(Float.isNaN(lmul(Float.POSITIVE_INFINITY, 0f, 3)));
    assertTrue(Float.isNaN(lmul(-0f, Float.NEGATIVE_INFINITY, 3)));
    assertEquals(0, bits(lmul(1e-40f, 3f, 23))); // subnormal operand flushes
    assertEquals(0x80000000, bits(lmul(-1e-40f, 3f, 23)));
    // the largest finite magnitudes still stay finite or saturate to inf, never wrap
    assertEquals(Float.POSITIVE_INFINITY, lmul(Float.MAX_VALUE, Float.MAX_VALUE, 23));
    assertEquals(Float.MIN_NORMAL, lmul(Float.MIN_NORMAL, 1f, 23) / 1.0625f, 0f);
    assertThrows(IllegalArgumentException.class, () -> LMul.offset(0));
    assertThrows(IllegalArgumentException.class, () -> new Multiplier.LMul(24, OperandRounding.RNE));
  }

  @Test
  void resultStaysOnTheOperandGrid() {
    Random r = new Random(3);
    for (int m = 1; m <= 8; m++) {
      int low = (1 << (23 - m)) - 1;
      for (int t = 0; t < 2000; t++) {
        float v = lmul((float) r.nextGaussian(), (float) r.nextGaussian(), m);
        assertEquals(0, bits(v) & low, "m=" + m + " v=" + v);
      }
    }
  }

  /** Reproduces the mean relative errors of spec §3.5 (N(0,1) pairs, float64 exact products). */
  @ParameterizedTest
  @ValueSource(strings = {"3:RNE:5.71", "3:TRUNCATE:4.82", "4:RNE:5.29", "4:TRUNCATE:3.02", "23:RNE:2.69"})
  void monteCarloMeanErrorMatchesTable(String row) {
    String[] f = row.split(":");
    Multiplier.LMul mul = new Multiplier.LMul(Integer.parseInt(f[0]), OperandRounding.valueOf(f[1]));
    double expectPct = Double.parseDouble(f[2]);
    Random r = new Random(20241014L);
    int nPairs = 1_000_000;
    double sum = 0;
    for (int t = 0; t < nPairs; t++) {
      float x = (float) r.nextGaussian();
      float y = (float) r.nextGaussian();
      double exact = (double) x * y;
      sum += Math.abs(LMul.multiply(x, y, mul) - exact) / Math.abs(exact);
    }
    double meanPct = 100 * sum / nPairs;
    assertEquals(expectPct, meanPct, 0.1, mul.spec() + " mean relative error %");
  }

  @ParameterizedTest
  @ValueSource(ints = {128, 256, 512})
  void vectorElementwiseIsBitExact(int width) {
    VectorEmulatedGemm v = new VectorEmulatedGemm(width, 1);
    Random r = new Random(width);
    int n = 1000 + width / 32; // odd tail
    float[] x = new float[n];
    float[] y = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = GemmData.extremeFloat(r);
      y[i] = GemmData.extremeFloat(r);
    }
    for (int m : new int[] {1, 2, 3, 4, 7, 10, 23}) {
      for (OperandRounding or : OperandRounding.values()) {
        Multiplier.LMul mul = new Multiplier.LMul(m, or);
        float[] ref = new float[n];
        float[] fast = new float[n];
        LMul.multiply(x, 0, y, 0, ref, 0, n, mul);
        v.lmul(x, 0, y, 0, fast, 0, n, mul);
        for (int i = 0; i < n; i++) {
          assertEquals(Float.floatToIntBits(ref[i]), Float.floatToIntBits(fast[i]),
              mul.spec() + " x=" + x[i] + " y=" + y[i]);
        }
      }
    }
  }
}
