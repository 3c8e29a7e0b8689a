package dev.lowbit.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** FP16 / BF16 / FP32 against the JDK and plain bit arithmetic on 10^7 random and all special inputs. */
class IeeeAgreementTest {

  static final int N = 10_000_000;

  static float[] specials() {
    return new float[] {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE,
        -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 65504f, 65520f,
        65519.996f, -65520f, 0x1p-24f, 0x1p-25f, 0x1.000002p-25f, 0x1p-14f, 1f, -1f, 0x1.004p0f,
        0x1.002p0f, 0x1.006p0f, 0x1.01p0f, 0x1.008p0f, 0x1.018p0f, 3.3895314e38f, 3.3961776e38f};
  }

  /** Random bit patterns, half of them steered into FP16's range so that rounding is exercised. */
  static int randomBits(SplittableRandom rnd, int i) {
    int b = rnd.nextInt();
    if ((i & 1) == 0) {
      int exp = 127 - 26 + rnd.nextInt(44);
      b = (b & 0x807FFFFF) | (exp << 23);
    }
    return b;
  }

  @Test
  void fp16AgreesWithTheJdk() {
    MiniFloat f = Formats.FP16;
    SplittableRandom rnd = new SplittableRandom(1);
    for (float x : specials()) checkFp16(f, x);
    for (int i = 0; i < N; i++) checkFp16(f, Float.intBitsToFloat(randomBits(rnd, i)));
  }

  private static void checkFp16(MiniFloat f, float x) {
    short h = Float.floatToFloat16(x);
    float want = Float.float16ToFloat(h);
    float got = f.quantize(x);
    if (Float.isNaN(want)) {
      if (!Float.isNaN(got)) fail("fp16(" + x + ") = " + got + ", JDK NaN");
      return;
    }
    if (Float.floatToRawIntBits(got) != Float.floatToRawIntBits(want)) {
      fail("fp16(" + x + " / 0x" + Integer.toHexString(Float.floatToRawIntBits(x)) + ") = " + got
          + ", JDK " + want);
    }
    if (f.encode(x) != (h & 0xFFFF)) fail("fp16 code of " + x + ": " + f.encode(x) + " vs " + (h & 0xFFFF));
  }

  @Test
  void bf16IsRoundToNearestEvenTruncation() {
    MiniFloat f = Formats.BF16;
    SplittableRandom rnd = new SplittableRandom(2);
    for (float x : specials()) checkBf16(f, x);
    for (int i = 0; i < N; i++) checkBf16(f, Float.intBitsToFloat(rnd.nextInt()));
  }

  private static void checkBf16(MiniFloat f, float x) {
    int b = Float.floatToRawIntBits(x);
    float got = f.quantize(x);
    if (Float.isNaN(x)) {
      assertTrue(Float.isNaN(got));
      return;
    }
    int want = (b + 0x7FFF + ((b >>> 16) & 1)) & 0xFFFF0000;
    if (Float.floatToRawIntBits(got) != want) {
      fail("bf16(" + x + ") = " + got + ", want " + Float.intBitsToFloat(want));
    }
    assertEquals(want >>> 16, f.encode(x));
  }

  @Test
  void e8m23IsTheIdentity() {
    MiniFloat f = MiniFloat.ieee(8, 23);
    assertEquals(Formats.FP32, f);
    SplittableRandom rnd = new SplittableRandom(3);
    for (int i = 0; i < 2_000_000; i++) {
      float x = Float.intBitsToFloat(rnd.nextInt());
      for (Rounding r : new Rounding[] {Rounding.NEAREST_EVEN, Rounding.TOWARD_ZERO, Rounding.STOCHASTIC}) {
        float q = (float) f.roundValue(x, r, 0.5);
        if (Float.isNaN(x) ? !Float.isNaN(q) : Float.floatToRawIntBits(q) != Float.floatToRawIntBits(x)) {
          fail("fp32 " + r + " changed " + x + " into " + q);
        }
      }
      if (!Float.isNaN(x)) assertEquals(Float.floatToRawIntBits(x), f.encode(x));
    }
    for (float x : specials()) {
      float q = f.quantize(x);
      assertTrue(Float.isNaN(x) ? Float.isNaN(q) : Float.floatToRawIntBits(q) == Float.floatToRawIntBits(x));
    }
  }
}
