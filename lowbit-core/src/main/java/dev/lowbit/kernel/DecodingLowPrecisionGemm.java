package dev.lowbit.kernel;

/**
 * A fast {@link LowPrecisionGemm} on top of an fp32 {@link Gemm}: decodes both operands exactly to
 * fp32 (bf16, fp16 and FP8 values are all fp32 values) and hands them to the fp32 GEMM. Each
 * product of two such values is exact in fp32 (at most 2 × 11 significant bits), so the result
 * differs from {@link ScalarLowPrecisionGemm}'s only by the order of summation: it agrees within
 * {@link LowPrecisionGemm#reassociationBound}. This is what a native backend falls back to where it
 * has no fast kernel of its own for a type (the scalar reference is 50-100× slower).
 */
public final class DecodingLowPrecisionGemm implements LowPrecisionGemm {

  private final Gemm gemm;

  public DecodingLowPrecisionGemm(Gemm gemm) {
    this.gemm = gemm;
  }

  @Override
  public String name() {
    return "decode+" + gemm.name();
  }

  @Override
  public void gemmBf16(boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
    gemm16(true, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
  }

  @Override
  public void gemmF16(boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
    gemm16(false, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
  }

  private void gemm16(boolean bf16, boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
    ScalarLowPrecisionGemm.checkShape(m, n, k);
    float[] fa = decode16(bf16, a, aOff, transA ? k : m, transA ? m : k, lda);
    float[] fb = decode16(bf16, b, bOff, transB ? n : k, transB ? k : n, ldb);
    run(transA, transB, m, n, k, fa, fb, c, cOff, ldc);
  }

  @Override
  public void gemmF8(Fp8 aFormat, Fp8 bFormat, boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
    ScalarLowPrecisionGemm.checkShape(m, n, k);
    if (aFormat == null || bFormat == null) {
      throw new IllegalArgumentException("FP8 formats must be E4M3 or E5M2, got a=" + aFormat + " b=" + bFormat);
    }
    float[] fa = decode8(aFormat, a, aOff, transA ? k : m, transA ? m : k, lda);
    float[] fb = decode8(bFormat, b, bOff, transB ? n : k, transB ? k : n, ldb);
    run(transA, transB, m, n, k, fa, fb, c, cOff, ldc);
  }

  private void run(boolean transA, boolean transB, int m, int n, int k, float[] fa, float[] fb,
      float[] c, int cOff, int ldc) {
    if (m == 0 || n == 0) return;
    gemm.sgemm(transA, transB, m, n, k, 1f, fa, 0, transA ? m : k, fb, 0, transB ? k : n, 0f, c, cOff, ldc);
  }

  /** The rows × cols operand (row stride ld) decoded into a compact row-major fp32 array. */
  private static float[] decode16(boolean bf16, short[] x, int off, int rows, int cols, int ld) {
    checkSpan(x.length, off, rows, cols, ld);
    float[] f = new float[rows * cols];
    for (int i = 0; i < rows; i++) {
      int src = off + i * ld, dst = i * cols;
      if (bf16) {
        for (int j = 0; j < cols; j++) f[dst + j] = Float.intBitsToFloat((x[src + j] & 0xFFFF) << 16);
      } else {
        for (int j = 0; j < cols; j++) f[dst + j] = Float.float16ToFloat(x[src + j]);
      }
    }
    return f;
  }

  private static float[] decode8(Fp8 format, byte[] x, int off, int rows, int cols, int ld) {
    checkSpan(x.length, off, rows, cols, ld);
    float[] table = new float[256];
    for (int v = 0; v < 256; v++) table[v] = ScalarLowPrecisionGemm.f8ToFloat((byte) v, format);
    float[] f = new float[rows * cols];
    for (int i = 0; i < rows; i++) {
      int src = off + i * ld, dst = i * cols;
      for (int j = 0; j < cols; j++) f[dst + j] = table[x[src + j] & 0xFF];
    }
    return f;
  }

  private static void checkSpan(int length, int off, int rows, int cols, int ld) {
    long span = rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
    if (off < 0 || off + span > length) {
      throw new ArrayIndexOutOfBoundsException("operand needs elements [" + off + ", " + (off + span)
          + ") but has " + length);
    }
  }
}
