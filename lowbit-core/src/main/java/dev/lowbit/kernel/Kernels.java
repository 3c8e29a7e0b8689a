package dev.lowbit.kernel;

/**
 * Picks the {@link Gemm} implementation once, at class load, and says why (after Lucene's
 * vectorization provider). For now only the scalar reference exists.
 */
public final class Kernels {

  private static final Gemm GEMM = ScalarGemm.INSTANCE;

  private Kernels() {}

  /** The GEMM implementation chosen for this JVM. */
  public static Gemm gemm() {
    return GEMM;
  }
}
