package dev.lowbit.intonly;

import dev.lowbit.intonly.exec.IntMatmul;
import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import java.util.Objects;

/**
 * The integer executor's products on a {@link Gemm}: {@code gemmS8S8}, or {@code gemmU8S8} for
 * an unsigned A (the raw pixels), both exact int32. On {@link Kernels#gemm()} that is the Java
 * vector kernels, or oneDNN's VNNI/AMX kernels when that backend is in use.
 */
public final class GemmIntMatmul implements IntMatmul {

  private final Gemm gemm;

  public GemmIntMatmul(Gemm gemm) {
    this.gemm = Objects.requireNonNull(gemm, "gemm");
  }

  /** The products on the GEMM in use ({@link Kernels#gemm()}). */
  public static GemmIntMatmul inUse() {
    return new GemmIntMatmul(Kernels.gemm());
  }

  @Override
  public String name() {
    return gemm.name();
  }

  @Override
  public void multiply(Operands o, int[] c, int cOff, int ldc) {
    if (o.unsignedA()) {
      gemm.gemmU8S8(false, o.transB(), o.m(), o.n(), o.k(), o.a(), o.aOff(), o.lda(), o.b(), o.bOff(), o.ldb(), c, cOff, ldc);
    } else {
      gemm.gemmS8S8(false, o.transB(), o.m(), o.n(), o.k(), o.a(), o.aOff(), o.lda(), o.b(), o.bOff(), o.ldb(), c, cOff, ldc);
    }
  }
}
