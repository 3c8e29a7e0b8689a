package dev.lowbit.intonly;

import dev.lowbit.intonly.exec.IntMatmul;
import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import java.util.Objects;

/**
 * The integer executor's products on a {@link Gemm}: {@code gemmS8S8}, or {@code gemmU8S8} for
 * an unsigned A (the raw pixels), both exact int32. On {@link Kernels#gemm()} that is the Java
 * vector kernels, or oneDNN's VNNI/AMX kernels when that backend is in use. A native GEMM that
 * copies its operands ({@link Gemm#copiesOperands()}) spends a short product's time on the
 * copies (a reduction of at most {@link #SHORT_K}, or fewer than {@link #SMALL_MACS}
 * multiply-adds: attention heads, a first convolution over one channel), so those run on the
 * Java kernels; every GEMM gives the same int32 bits.
 */
public final class GemmIntMatmul implements IntMatmul {

  /** The longest reduction that runs on the Java kernels beside a copying GEMM. */
  static final int SHORT_K = 32;
  /** Products of fewer multiply-adds run on the Java kernels beside a copying GEMM. */
  static final long SMALL_MACS = 1L << 18;

  private final Gemm gemm;
  /** The GEMM of short products: the Java kernels beside a copying GEMM, else {@link #gemm}. */
  private final Gemm small;

  public GemmIntMatmul(Gemm gemm) {
    this(gemm, Objects.requireNonNull(gemm, "gemm").copiesOperands() ? Kernels.javaGemm() : gemm);
  }

  /** Products on {@code gemm}, the short ones on {@code small}. */
  GemmIntMatmul(Gemm gemm, Gemm small) {
    this.gemm = Objects.requireNonNull(gemm, "gemm");
    this.small = Objects.requireNonNull(small, "small");
  }

  /** The products on the GEMM in use ({@link Kernels#gemm()}). */
  public static GemmIntMatmul inUse() {
    return new GemmIntMatmul(Kernels.gemm());
  }

  /** The GEMM's name, and the short products' GEMM when that differs. */
  @Override
  public String name() {
    return small == gemm ? gemm.name() : gemm.name() + " (short products: " + small.name() + ")";
  }

  @Override
  public void multiply(Operands o, int[] c, int cOff, int ldc) {
    Gemm g = o.k() <= SHORT_K || (long) o.m() * o.n() * o.k() < SMALL_MACS ? small : gemm;
    if (o.unsignedA()) {
      g.gemmU8S8(false, o.transB(), o.m(), o.n(), o.k(), o.a(), o.aOff(), o.lda(), o.b(), o.bOff(), o.ldb(), c, cOff, ldc);
    } else {
      g.gemmS8S8(false, o.transB(), o.m(), o.n(), o.k(), o.a(), o.aOff(), o.lda(), o.b(), o.bOff(), o.ldb(), c, cOff, ldc);
    }
  }
}
