package dev.lowbit.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.format.MiniFloat.Overflow;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Figures from the OCP FP8 and MX v1.0 specifications, and the DFP exponent rule. */
class OcpAndBlockTest {

  @Test
  void fp8Ranges() {
    assertEquals(448.0, Formats.E4M3.maxFinite());
    assertEquals(57344.0, Formats.E5M2.maxFinite());
    assertEquals(0x1p-9, Formats.E4M3.minSubnormal());
    assertEquals(0x1p-16, Formats.E5M2.minSubnormal());
    assertEquals(0x1p-6, Formats.E4M3.minNormal());
    assertEquals(0x1p-14, Formats.E5M2.minNormal());
    assertEquals(0x7F, Formats.E4M3.nanCode());
    assertTrue(Float.isNaN(Formats.E4M3.decode(0x7F)));
    assertTrue(Float.isNaN(Formats.E4M3.decode(0xFF)));
    assertEquals(448f, Formats.E4M3.decode(0x7E));
    assertEquals(Float.POSITIVE_INFINITY, Formats.E5M2.decode(0x7C));
    assertTrue(Float.isNaN(Formats.E5M2.decode(0x7D)));
    int nans = 0;
    for (int c = 0; c < 256; c++) {
      float v = Formats.E4M3.decode(c);
      assertTrue(!Float.isInfinite(v), "E4M3 has no infinity");
      if (Float.isNaN(v)) nans++;
    }
    assertEquals(2, nans);
    assertEquals(28.0, Formats.E3M2.maxFinite());
    assertEquals(7.5, Formats.E2M3.maxFinite());
    assertEquals(6.0, Formats.E2M1.maxFinite());
    List<Float> fp4 = new ArrayList<>();
    for (int c = 0; c < 8; c++) fp4.add(Formats.E2M1.decode(c));
    assertEquals(List.of(0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f), fp4);
  }

  @Test
  void overflowPolicies() {
    MiniFloat e4 = Formats.E4M3, e4s = e4.withOverflow(Overflow.SATURATE);
    assertEquals(448f, e4.quantize(464f)); // tie between 448 (even) and 480 (beyond max)
    assertTrue(Float.isNaN(e4.quantize(464.1f)));
    assertTrue(Float.isNaN(e4.quantize(Float.POSITIVE_INFINITY)));
    assertEquals(448f, e4s.quantize(1e9f));
    assertEquals(-448f, e4s.quantize(Float.NEGATIVE_INFINITY));
    assertEquals(448f, (float) e4.roundValue(1e9, Rounding.TOWARD_ZERO, 0));
    MiniFloat e5 = Formats.E5M2, e5s = e5.withOverflow(Overflow.SATURATE);
    assertEquals(57344f, e5.quantize(61439f));
    assertEquals(Float.POSITIVE_INFINITY, e5.quantize(61440f));
    assertEquals(Float.NEGATIVE_INFINITY, (float) e5.roundValue(-60000, Rounding.FLOOR, 0));
    assertEquals(57344f, e5s.quantize(1e9f));
    assertEquals(Float.POSITIVE_INFINITY, e5s.quantize(Float.POSITIVE_INFINITY));
    assertEquals(6f, Formats.E2M1.quantize(Float.POSITIVE_INFINITY));
    assertTrue(Float.isNaN(Formats.E2M1.quantize(Float.NaN)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Formats.E2M1.encode(Float.NaN));
    assertTrue(e.getMessage().contains("NaN"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Formats.E4M3.encodeValue(Float.POSITIVE_INFINITY));
    assertEquals(0x7F, Formats.E4M3.encode(Float.NaN));
    assertEquals(127f, IntFormat.signed(8).quantize(Float.POSITIVE_INFINITY));
    assertEquals(-128f, IntFormat.signed(8).quantize(Float.NEGATIVE_INFINITY));
    assertTrue(Float.isNaN(IntFormat.signed(8).quantize(Float.NaN)));
    e = assertThrows(IllegalArgumentException.class, () -> IntFormat.signed(8).encode(Float.NaN));
    assertTrue(e.getMessage().contains("NaN"), e.getMessage());
  }

  @Test
  void mxScaleIsFloorLog2AmaxMinusEmax() {
    assertEquals(8, Formats.MXFP8_E4M3.elementMaxExponent());
    assertEquals(15, Formats.MXFP8_E5M2.elementMaxExponent());
    assertEquals(4, Formats.MXFP6_E3M2.elementMaxExponent());
    assertEquals(2, Formats.MXFP6_E2M3.elementMaxExponent());
    assertEquals(2, Formats.MXFP4.elementMaxExponent());
    assertEquals(0, Formats.MXINT8.elementMaxExponent());
    assertEquals(2, Formats.MXFP8_E4M3.sharedExponent(1024f));
    assertEquals(-127, Formats.MXFP8_E4M3.sharedExponent(0x1p-140f));
    assertEquals(-127, Formats.MXFP8_E4M3.sharedExponent(0f));
    assertEquals(127, Formats.MXINT8.sharedExponent(Float.MAX_VALUE));
    assertEquals(BlockFormat.NAN_EXPONENT, Formats.MXFP4.sharedExponent(Float.NaN));
  }

  @Test
  void mxLosesSmallValuesWhenOneScaleCannotCoverTheBlock() {
    // MXFP8 E4M3, amax 1024: X = 2^(10-8) = 4. Elements x/4 below half of 2^-9 flush to zero,
    // 2^-7/4 = 2^-9 is the smallest subnormal; 1800/4 = 450 saturates to 448.
    float[] x = new float[32];
    x[0] = 1024f;
    x[1] = 0x1p-10f;
    x[2] = 0x1p-7f;
    x[3] = 0x1p-8f; // x/4 = 2^-10: exactly half the smallest subnormal: tie to even -> 0
    x[4] = 0x1.8p-8f; // x/4 = 1.5 * 2^-10 -> rounds up to 2^-9 -> 2^-7
    x[5] = -3f;
    float[] q = Formats.MXFP8_E4M3.quantize(x, Rounding.NEAREST_EVEN, 0, 0);
    assertEquals(1024f, q[0]);
    assertEquals(0f, q[1]);
    assertEquals(0x1p-7f, q[2]);
    assertEquals(0f, q[3]);
    assertEquals(0x1p-7f, q[4]);
    assertEquals(-3f, q[5]);
    x[0] = 1800f;
    q = Formats.MXFP8_E4M3.quantize(x, Rounding.NEAREST_EVEN, 0, 0);
    assertEquals(1792f, q[0]); // 448 * 4
    // MXFP4: amax 1e6 -> X = 2^(19-2); 1 / 2^17 flushes, 1e6 / 2^17 = 7.63 saturates to 6
    float[] y = new float[32];
    y[0] = 1e6f;
    y[1] = 1f;
    y[2] = 0.2f * 0x1p17f;
    y[3] = 0.25f * 0x1p17f;
    y[4] = 0.3f * 0x1p17f;
    float[] qy = Formats.MXFP4.quantize(y, Rounding.NEAREST_EVEN, 0, 0);
    assertEquals(6f * 0x1p17f, qy[0]);
    assertEquals(0f, qy[1]);
    assertEquals(0f, qy[2]);
    assertEquals(0f, qy[3]); // tie between 0 and 0.5: even
    assertEquals(0.5f * 0x1p17f, qy[4]);
    // MXINT8: scale 2^0 for amax 1; 0.01 * 64 = 0.64 -> 1/64
    float[] z = new float[32];
    z[0] = 1f;
    z[1] = 0.01f;
    z[2] = -1.999f;
    float[] qz = Formats.MXINT8.quantize(z, Rounding.NEAREST_EVEN, 0, 0);
    assertEquals(1f, qz[0]);
    assertEquals(1f / 64, qz[1]);
    assertEquals(-2f, qz[2]);
  }

  @Test
  void mxBlockWithNaNIsNaN() {
    float[] x = new float[64];
    x[3] = Float.NaN;
    x[40] = 5f;
    float[] q = Formats.MXFP8_E4M3.quantize(x, Rounding.NEAREST_EVEN, 0, 0);
    for (int i = 0; i < 32; i++) assertTrue(Float.isNaN(q[i]));
    assertEquals(5f, q[40]);
    assertEquals(0f, q[41]);
    Quantizer qz = Quantizer.of(Formats.MXFP8_E4M3, Rounding.NEAREST_EVEN);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> qz.encode(x, new int[] {64}, 0, 0));
    assertTrue(e.getMessage().contains("NaN"), e.getMessage());
  }

  @Test
  void dfp16FollowsTheSharedExponentRule() {
    // Es = floor(log2 amax) - 14; the edge case from the spec: 8(1 - 2^-17) rounds to 32768 and clamps.
    BlockFormat dfp = BlockFormat.dfp(16, 0, 0);
    float[] x = {8f * (1f - 0x1p-17f), 1f, -3f};
    Quantizer q = Quantizer.of(dfp, Rounding.NEAREST_EVEN);
    EncodedTensor t = q.encode(x, new int[] {3}, 0, 0);
    assertArrayEquals(new int[] {-12}, t.exponents());
    assertArrayEquals(new short[] {32767, 4096, -12288}, t.codesAsShorts());
    float[] out = new float[3];
    q.quantize(x, new int[] {3}, out, 0, 0);
    assertArrayEquals(new float[] {32767f * 0x1p-12f, 1f, -3f}, out);
    assertArrayEquals(out, q.decode(t));
    // headroom 1 moves the exponent up by one
    assertEquals(-11, BlockFormat.dfp(16, 0, 1).sharedExponent(x[0]));
    // a zero tensor gets exponent 0
    EncodedTensor z = q.encode(new float[4], new int[] {4}, 0, 0);
    assertArrayEquals(new int[] {0}, z.exponents());
    assertArrayEquals(new int[4], z.codes());
    // BFP8: two's complement mantissas, Es = floor(log2 amax) - 6
    BlockFormat bfp = BlockFormat.bfp(8, 4);
    float[] b = {-1f, 0.5f, 0.01f, 0.75f, 1000f, 1f, 12f, 20f};
    float[] qb = bfp.quantize(b, Rounding.NEAREST_EVEN, 0, 0);
    assertArrayEquals(new float[] {-1f, 0.5f, 0.015625f, 0.75f, 1000f, 0f, 16f, 16f}, qb);
  }
}
