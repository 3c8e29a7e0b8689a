package dev.lowbit.kernel;

/**
 * Reference {@link LowPrecisionGemm}: decodes each operand exactly to fp32 and sums the products
 * in ascending k with Math.fma: each product is formed exactly and product plus running sum is
 * rounded once to fp32, nearest-even (for bf16, fp16 and FP8 the product itself is exact in fp32
 * except where a bf16 product leaves fp32's range).
 *
 * <p>The codecs here are local and minimal and duplicate what {@code dev.lowbit.format.MiniFloat}
 * does for bf16, fp16 and FP8; moving them onto the format layer is an open clean-up.
 */
public final class ScalarLowPrecisionGemm implements LowPrecisionGemm {

  public static final ScalarLowPrecisionGemm INSTANCE = new ScalarLowPrecisionGemm();

  private ScalarLowPrecisionGemm() {}

  @Override
  public String name() {
    return "scalar";
  }

  /** bf16 bits → float, exact. */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }

  /** float → bf16 bits, round to nearest even; NaN stays a (quiet) NaN. */
  public static short floatToBf16(float x) {
    int bits = Float.floatToRawIntBits(x);
    if (Float.isNaN(x)) return (short) ((bits >>> 16) | 0x40);
    int lsb = (bits >>> 16) & 1;
    return (short) ((bits + 0x7FFF + lsb) >>> 16);
  }

  /** IEEE binary16 bits → float, exact. */
  public static float f16ToFloat(short bits) {
    return Float.float16ToFloat(bits);
  }

  /** float → IEEE binary16 bits, round to nearest even. */
  public static short floatToF16(float x) {
    return Float.floatToFloat16(x);
  }

  /** FP8 bits → float, exact. E4M3's S.1111.111 is NaN; E5M2's all-ones exponent is inf/NaN. */
  public static float f8ToFloat(byte bits, Fp8 format) {
    int v = bits & 0xFF;
    int sign = v >>> 7;
    int expBits = format == Fp8.E4M3 ? 4 : 5;
    int manBits = 7 - expBits;
    int bias = (1 << (expBits - 1)) - 1;
    int e = (v >>> manBits) & ((1 << expBits) - 1);
    int man = v & ((1 << manBits) - 1);
    float mag;
    if (format == Fp8.E4M3 && e == 15 && man == 7) {
      mag = Float.NaN;
    } else if (format == Fp8.E5M2 && e == 31) {
      mag = man == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
    } else if (e == 0) {
      mag = Math.scalb((float) man, 1 - bias - manBits);
    } else {
      mag = Math.scalb((float) ((1 << manBits) | man), e - bias - manBits);
    }
    return sign == 1 ? -mag : mag;
  }

  static void checkShape(int m, int n, int k) {
    ScalarGemm.checkShape(m, n, k);
  }

  @Override
  public void gemmBf16(
      boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
    checkShape(m, n, k);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float s = 0f;
        for (int p = 0; p < k; p++) {
          float x = bf16ToFloat(transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p]);
          float y = bf16ToFloat(transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j]);
          s = Math.fma(x, y, s);
        }
        c[cOff + i * ldc + j] = s;
      }
    }
  }

  @Override
  public void gemmF16(
      boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
    checkShape(m, n, k);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float s = 0f;
        for (int p = 0; p < k; p++) {
          float x = f16ToFloat(transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p]);
          float y = f16ToFloat(transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j]);
          s = Math.fma(x, y, s);
        }
        c[cOff + i * ldc + j] = s;
      }
    }
  }

  @Override
  public void gemmF8(
      Fp8 aFormat, Fp8 bFormat, boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
    checkShape(m, n, k);
    if (aFormat == null || bFormat == null) {
      throw new IllegalArgumentException(
          "FP8 formats must be E4M3 or E5M2, got a=" + aFormat + " b=" + bFormat);
    }
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float s = 0f;
        for (int p = 0; p < k; p++) {
          float x = f8ToFloat(transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p], aFormat);
          float y = f8ToFloat(transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j], bFormat);
          s = Math.fma(x, y, s);
        }
        c[cOff + i * ldc + j] = s;
      }
    }
  }
}
