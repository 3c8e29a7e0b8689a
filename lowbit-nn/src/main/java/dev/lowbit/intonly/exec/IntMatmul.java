package dev.lowbit.intonly.exec;

/**
 * The integer matrix product the executor runs on: C = A·op(B) with A m×k row-major (signed int8,
 * or unsigned 0..255 when {@code unsignedA}), B signed int8, C int32, exact. Implementations
 * outside this package may run it natively (oneDNN's VNNI/AMX kernels through {@code
 * dev.lowbit.kernel.Gemm}); they must give the same int32 bits as {@link #SCALAR}.
 */
public interface IntMatmul {

  /** A short name for logs ("scalar", "java vector-512", "onednn"). */
  String name();

  /**
   * C[i, j] = Σ_p A[i, p]·B'[p, j] where B' = B (k×n, leading dimension ldb) or, with {@code
   * transB}, Bᵀ for B stored n×k.
   */
  void multiply(Operands o, int[] c, int cOff, int ldc);

  /** The operands of one product (a view: arrays, offsets, leading dimensions). */
  record Operands(int m, int n, int k, boolean unsignedA, byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb,
      boolean transB) {}

  /** The float-free scalar reference (written in this package, checked by the no-float test). */
  IntMatmul SCALAR = new IntMatmul() {
    @Override
    public String name() {
      return "scalar";
    }

    @Override
    public void multiply(Operands o, int[] c, int cOff, int ldc) {
      throw new UnsupportedOperationException("to be written: scalar integer matmul");
    }
  };
}
