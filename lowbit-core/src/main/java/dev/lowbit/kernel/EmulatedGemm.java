package dev.lowbit.kernel;

/**
 * GEMM with an emulated {@link Multiplier} and {@link Accumulator}: C = op(A)·op(B) where every
 * product and every addition follows the given arithmetic, in the order the accumulator defines
 * (k ascending; with chunks, k ascending within a chunk and chunks ascending). C is overwritten.
 * Matrices are row-major with offset and leading dimension as in {@link Gemm}.
 *
 * <p>{@link ScalarEmulatedGemm} is the definition; {@link VectorEmulatedGemm} runs each SIMD lane
 * as its own sequential chain along k (vectorised across output columns), so it is bit-exact to the
 * reference for every multiplier and accumulator, at every vector width and thread count.
 */
public interface EmulatedGemm {

  /** A short name for logs, e.g. "scalar" or "vector-256x2". */
  String name();

  /**
   * fp32 operands; {@code acc} must be a floating accumulator. {@code seed} keys stochastic
   * rounding (by output index i·n + j and step k) and is ignored otherwise.
   */
  GemmStats gemm(
      Multiplier mul, Accumulator acc, boolean transA, boolean transB, int m, int n, int k,
      float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
      long seed);

  /** Signed int8 operands, exact int products; {@code acc} must be an integer accumulator. */
  GemmStats gemmS8(
      Accumulator acc, boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc);

  /** Signed int16 operands, exact int products; {@code acc} must be an integer accumulator. */
  GemmStats gemmS16(
      Accumulator acc, boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, int[] c, int cOff, int ldc);

  /** The scalar reference. */
  static EmulatedGemm scalar() {
    return ScalarEmulatedGemm.INSTANCE;
  }

  /** The fast implementation: preferred vector width, one thread per available processor. */
  static EmulatedGemm fast() {
    return VectorEmulatedGemm.DEFAULT;
  }

  /** Argument checks shared by the implementations. */
  static void check(Accumulator acc, boolean integer, int m, int n, int k) {
    ScalarGemm.checkShape(m, n, k);
    if (acc == null) throw new IllegalArgumentException("accumulator missing");
    if (acc.isInteger() != integer) {
      throw new IllegalArgumentException(
          "accumulator '" + acc.spec() + "' does not fit this GEMM: "
              + (integer ? "int8/int16 GEMMs take int32, intN:wrap|sat or chunked integer accumulators"
                  : "fp32 GEMMs take fp32, eXmY or chunked floating accumulators"));
    }
  }
}
