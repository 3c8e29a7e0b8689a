package dev.lowbit.kernel;

/**
 * The GEMM family every layer runs on. All matrices are row-major with an offset and a leading
 * dimension; {@code op(X)} is X or its transpose. Integer kernels overwrite C with the exact
 * product in two's-complement int32 (a true sum outside int32 wraps, as hardware would).
 *
 * <p>{@link ScalarGemm} is the reference; fast implementations are held to it bit for bit where
 * the arithmetic is exact (all integer kernels) and, for fp32, within rounding of reassociation.
 * Implementations are thread-safe and stateless between calls. Integer results never depend on the
 * thread count or vector width; fp32 results are deterministic for a fixed implementation and
 * thread count ({@link VectorGemm} also makes them independent of both). {@link Kernels#gemm()}
 * gives the implementation in use.
 */
public interface Gemm {

  /** A short name for logs, e.g. "scalar" or "vector-512". */
  String name();

  /**
   * Whether every call copies its operands into native memory and back (a native backend): a
   * product split into many small calls, such as one per accumulation chain, then runs faster on
   * the Java kernels. False for the pure-Java kernels.
   */
  default boolean copiesOperands() {
    return false;
  }

  /** C = alpha · op(A) · op(B) + beta · C; op(A) is m×k, op(B) is k×n. beta = 0 ignores C's content. */
  void sgemm(
      boolean transA, boolean transB, int m, int n, int k,
      float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
      float beta, float[] c, int cOff, int ldc);

  /** C = op(A) · op(B), signed int8 × signed int8 → int32, exact. */
  void gemmS8S8(
      boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc);

  /**
   * {@code C += (op(A) · op(B)) << shift}, signed int8 × signed int8, in int32 with wrap-around
   * (0 <= shift <= 31): what {@link #gemmS8S8} into a temporary followed by that add gives, bit
   * for bit. A native kernel adds its result while copying it out instead of writing it into a
   * Java array first (IM-Unpack's recombination, {@code dev.lowbit.unpack.UnpackedGemm}).
   *
   * @throws IllegalArgumentException for a shift outside 0..31
   */
  default void gemmS8S8AddShifted(
      boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int shift, int[] c, int cOff, int ldc) {
    if (shift < 0 || shift > 31) throw new IllegalArgumentException("shift " + shift + "; valid: 0..31");
    if (m <= 0 || n <= 0) return;
    int[] t = new int[Math.multiplyExact(m, n)];
    gemmS8S8(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, t, 0, n);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) c[cOff + i * ldc + j] += t[i * n + j] << shift;
    }
  }

  /** C = op(A) · op(B) with A read as unsigned int8 (0..255) and B signed int8 → int32, exact. */
  void gemmU8S8(
      boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc);

  /**
   * C = op(A) · op(B), int16 × int16 → int32 with wrap-around. When {@code countOverflow} is set,
   * returns how many results' true (unbounded) sums lie outside the int32 range; otherwise 0.
   */
  long gemmS16(
      boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, int[] c, int cOff, int ldc,
      boolean countOverflow);
}
