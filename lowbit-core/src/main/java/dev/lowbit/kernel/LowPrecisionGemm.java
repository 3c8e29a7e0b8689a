package dev.lowbit.kernel;

/**
 * GEMMs on narrow floating-point operands with fp32 accumulation: C = op(A) · op(B), where A and B
 * hold the bit patterns of a 16-bit (bf16, IEEE fp16) or 8-bit (OCP FP8 E4M3 / E5M2) format and C
 * is fp32. Layout conventions are those of {@link Gemm} (row-major, offsets, leading dimensions).
 *
 * <p>{@link ScalarLowPrecisionGemm} is the reference: every product of two such operands is exact
 * in fp32, and the sum runs in ascending k with one fp32 rounding (nearest-even) per add. A fast
 * implementation may sum in another order; it then agrees with the reference within the bound of
 * {@link #reassociationBound}.
 */
public interface LowPrecisionGemm {

  /** The 8-bit float encodings (OCP FP8): E4M3 has no infinities (max 448), E5M2 is IEEE-like. */
  enum Fp8 {
    E4M3,
    E5M2
  }

  /**
   * The low-precision GEMM of a {@link Gemm} backend: the backend itself when it implements this
   * interface (e.g. oneDNN's), else the scalar reference. Use as {@code LowPrecisionGemm.of(Kernels.gemm())}.
   */
  static LowPrecisionGemm of(Gemm gemm) {
    return gemm instanceof LowPrecisionGemm lp ? lp : ScalarLowPrecisionGemm.INSTANCE;
  }

  /** A short name for logs. */
  String name();

  /** C = op(A) · op(B) with bf16 operands (bit patterns in shorts), fp32 result. */
  void gemmBf16(
      boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, float[] c, int cOff, int ldc);

  /** C = op(A) · op(B) with IEEE binary16 operands (bit patterns in shorts), fp32 result. */
  void gemmF16(
      boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, float[] c, int cOff, int ldc);

  /** C = op(A) · op(B) with FP8 operands (A in {@code aFormat}, B in {@code bFormat}), fp32 result. */
  void gemmF8(
      Fp8 aFormat, Fp8 bFormat, boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, float[] c, int cOff, int ldc);

  /**
   * The largest difference two fp32 summations of the same k exact products can show, in any
   * order, when no partial sum leaves the normal range: each differs from the exact sum by at most
   * γ(k)·Σ|a·b| with γ(k) = k·u / (1 − k·u), u = 2⁻²⁴ (Higham, Accuracy and Stability of Numerical
   * Algorithms, §4.2), so two of them by twice that. Hardware that flushes subnormals (AMX, DAZ/FTZ)
   * may lose up to k·2⁻¹²⁶ more, added here.
   */
  static double reassociationBound(int k, double sumAbsProducts) {
    double u = 0x1p-24;
    double gamma = k * u / (1 - k * u);
    return 2 * gamma * sumAbsProducts + k * 0x1p-126;
  }
}
