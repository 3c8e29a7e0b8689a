package dev.lowbit.kernel;

/**
 * Plain-loop reference for {@link Gemm}: the definition the fast kernels are tested against.
 * fp32 sums run in ascending k, one rounding per multiply-add (Math.fma), alpha applied last.
 */
public final class ScalarGemm implements Gemm {

  public static final ScalarGemm INSTANCE = new ScalarGemm();

  private ScalarGemm() {}

  @Override
  public String name() {
    return "scalar";
  }

  static void checkShape(int m, int n, int k) {
    if (m < 0 || n < 0 || k < 0) {
      throw new IllegalArgumentException(
          "GEMM dimensions must be non-negative, got m=" + m + " n=" + n + " k=" + k);
    }
  }

  @Override
  public void sgemm(
      boolean transA, boolean transB, int m, int n, int k,
      float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
      float beta, float[] c, int cOff, int ldc) {
    checkShape(m, n, k);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        float s = 0f;
        for (int p = 0; p < k; p++) {
          float x = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
          float y = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
          s = Math.fma(x, y, s);
        }
        int ci = cOff + i * ldc + j;
        c[ci] = beta == 0f ? alpha * s : Math.fma(beta, c[ci], alpha * s);
      }
    }
  }

  @Override
  public void gemmS8S8(
      boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
    checkShape(m, n, k);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        int s = 0;
        for (int p = 0; p < k; p++) {
          int x = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
          int y = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
          s += x * y;
        }
        c[cOff + i * ldc + j] = s;
      }
    }
  }

  @Override
  public void gemmU8S8(
      boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
    checkShape(m, n, k);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        int s = 0;
        for (int p = 0; p < k; p++) {
          int x = (transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p]) & 0xFF;
          int y = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
          s += x * y;
        }
        c[cOff + i * ldc + j] = s;
      }
    }
  }

  @Override
  public long gemmS16(
      boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, int[] c, int cOff, int ldc,
      boolean countOverflow) {
    checkShape(m, n, k);
    long overflows = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        long s = 0;
        for (int p = 0; p < k; p++) {
          int x = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
          int y = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
          s += (long) x * y;
        }
        if (countOverflow && s != (int) s) overflows++;
        c[cOff + i * ldc + j] = (int) s;
      }
    }
    return overflows;
  }
}
