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

    /** int32 sums that wrap on overflow, as {@code dev.lowbit.kernel.Gemm}'s integer kernels do. */
    @Override
    public void multiply(Operands o, int[] c, int cOff, int ldc) {
      int mask = o.unsignedA() ? 0xFF : -1;
      for (int i = 0; i < o.m(); i++) {
        for (int j = 0; j < o.n(); j++) {
          int s = 0;
          for (int p = 0; p < o.k(); p++) {
            int b = o.transB() ? o.b()[o.bOff() + j * o.ldb() + p] : o.b()[o.bOff() + p * o.ldb() + j];
            s += (o.a()[o.aOff() + i * o.lda() + p] & mask) * b;
          }
          c[cOff + i * ldc + j] = s;
        }
      }
    }
  };
}
