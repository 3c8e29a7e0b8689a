package dev.lowbit.kernel;

import static dev.lowbit.kernel.ScalarLowPrecisionGemm.bf16ToFloat;
import static dev.lowbit.kernel.ScalarLowPrecisionGemm.f8ToFloat;
import static dev.lowbit.kernel.ScalarLowPrecisionGemm.floatToBf16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.LowPrecisionGemm.Fp8;
import org.junit.jupiter.api.Test;

class ScalarLowPrecisionGemmTest {

  @Test
  void bf16RoundsToNearestEven() {
    assertEquals(1f, bf16ToFloat(floatToBf16(1f)));
    // 1 + 2^-8 is halfway between bf16 neighbours 1 and 1 + 2^-7: ties to even (1)
    assertEquals(1f, bf16ToFloat(floatToBf16(1f + 0x1p-8f)));
    // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties to even (1 + 2^-6)
    assertEquals(1f + 0x1p-6f, bf16ToFloat(floatToBf16(1f + 3 * 0x1p-8f)));
    assertEquals(1f + 0x1p-7f, bf16ToFloat(floatToBf16(1f + 0x1p-8f + 0x1p-20f)));
    assertTrue(Float.isNaN(bf16ToFloat(floatToBf16(Float.NaN))));
  }

  @Test
  void fp8DecodesTheOcpTables() {
    assertEquals(448f, f8ToFloat((byte) 0x7E, Fp8.E4M3)); // largest E4M3
    assertTrue(Float.isNaN(f8ToFloat((byte) 0x7F, Fp8.E4M3)));
    assertEquals(0x1p-9f, f8ToFloat((byte) 0x01, Fp8.E4M3)); // smallest subnormal
    assertEquals(-1.5f, f8ToFloat((byte) 0xBC, Fp8.E4M3));
    assertEquals(57344f, f8ToFloat((byte) 0x7B, Fp8.E5M2)); // largest E5M2
    assertEquals(Float.POSITIVE_INFINITY, f8ToFloat((byte) 0x7C, Fp8.E5M2));
    assertEquals(0x1p-16f, f8ToFloat((byte) 0x01, Fp8.E5M2));
  }

  @Test
  void smallWorkedProducts() {
    short[] a = new short[4];
    short[] b = new short[4];
    float[] av = {1, 2, 3, 4};
    float[] bv = {5, 6, 7, 8};
    for (int i = 0; i < 4; i++) {
      a[i] = floatToBf16(av[i]);
      b[i] = floatToBf16(bv[i]);
    }
    float[] c = new float[4];
    ScalarLowPrecisionGemm.INSTANCE.gemmBf16(false, false, 2, 2, 2, a, 0, 2, b, 0, 2, c, 0, 2);
    assertArrayEquals(new float[] {19, 22, 43, 50}, c);
    for (int i = 0; i < 4; i++) {
      a[i] = Float.floatToFloat16(av[i]);
      b[i] = Float.floatToFloat16(bv[i]);
    }
    ScalarLowPrecisionGemm.INSTANCE.gemmF16(false, true, 2, 2, 2, a, 0, 2, b, 0, 2, c, 0, 2);
    assertArrayEquals(new float[] {17, 23, 39, 53}, c);
    // E4M3 0x38 = 1.0, 0x40 = 2.0; E5M2 0x3C = 1.0
    ScalarLowPrecisionGemm.INSTANCE.gemmF8(Fp8.E4M3, Fp8.E5M2, false, false, 1, 1, 2,
        new byte[] {0x38, 0x40}, 0, 2, new byte[] {0x3C, 0x3C}, 0, 1, c, 0, 1);
    assertEquals(3f, c[0]);
    assertThrows(IllegalArgumentException.class, () -> ScalarLowPrecisionGemm.INSTANCE.gemmF8(
        null, Fp8.E5M2, false, false, 1, 1, 1, new byte[1], 0, 1, new byte[1], 0, 1, new float[1], 0, 1));
  }
}
