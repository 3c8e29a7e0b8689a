package dev.lowbit.intonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.intonly.exec.IntMatmul;
import dev.lowbit.kernel.Kernels;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The GEMM adapter gives the scalar reference's int32 bits on random shapes, offsets, strides, transB and unsigned A. */
class GemmIntMatmulTest {

  @Test
  void equalsTheScalarReferenceBitForBit() {
    Random rnd = new Random(42);
    for (IntMatmul mm : new IntMatmul[] {GemmIntMatmul.inUse(), new GemmIntMatmul(Kernels.javaGemm())}) {
      for (int trial = 0; trial < 300; trial++) {
        int m = 1 + rnd.nextInt(trial < 200 ? 9 : 70), n = 1 + rnd.nextInt(trial < 200 ? 9 : 70), k = 1 + rnd.nextInt(trial < 200 ? 40 : 300);
        boolean unsignedA = rnd.nextBoolean(), transB = rnd.nextBoolean();
        int lda = k + rnd.nextInt(3), ldb = (transB ? k : n) + rnd.nextInt(3), ldc = n + rnd.nextInt(3);
        int aOff = rnd.nextInt(4), bOff = rnd.nextInt(4), cOff = rnd.nextInt(4);
        byte[] a = new byte[aOff + m * lda], b = new byte[bOff + (transB ? n : k) * ldb];
        rnd.nextBytes(a);
        rnd.nextBytes(b);
        IntMatmul.Operands o = new IntMatmul.Operands(m, n, k, unsignedA, a, aOff, lda, b, bOff, ldb, transB);
        int[] want = new int[cOff + m * ldc], got = want.clone();
        IntMatmul.SCALAR.multiply(o, want, cOff, ldc);
        mm.multiply(o, got, cOff, ldc);
        assertArrayEquals(want, got, mm.name() + " " + m + "×" + n + "×" + k + " unsignedA=" + unsignedA + " transB=" + transB);
      }
    }
  }

  /** The scalar reference itself, on a case by hand: unsigned 255 is 255, signed −1 is −1. */
  @Test
  void theScalarReferenceReadsAAsAskedAndTransposesB() {
    byte[] a = {(byte) 255, 2};
    byte[] b = {3, -4}; // 2×1, or transposed 1×2 read as k = 2
    int[] c = new int[1];
    IntMatmul.SCALAR.multiply(new IntMatmul.Operands(1, 1, 2, true, a, 0, 2, b, 0, 1, false), c, 0, 1);
    assertEquals(255 * 3 - 8, c[0]);
    IntMatmul.SCALAR.multiply(new IntMatmul.Operands(1, 1, 2, false, a, 0, 2, b, 0, 2, true), c, 0, 1);
    assertEquals(-3 - 8, c[0]);
  }

  @Test
  void theNameIsTheGemms() {
    assertTrue(GemmIntMatmul.inUse().name().startsWith(Kernels.gemm().name()), GemmIntMatmul.inUse().name());
    assertEquals(Kernels.javaGemm().name(), new GemmIntMatmul(Kernels.javaGemm()).name());
  }
}
