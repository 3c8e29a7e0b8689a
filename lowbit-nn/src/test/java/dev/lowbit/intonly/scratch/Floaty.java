package dev.lowbit.intonly.scratch;

/** Test-only: code the no-float check must report (a float op, a double field, a call out of bounds). */
public final class Floaty {

  public static double half;

  private Floaty() {}

  public static int scaled(int x) {
    float f = x * 0.5f;
    return (int) f;
  }

  public static long root(long v) {
    return (long) Math.sqrt(v);
  }

  public static int random() {
    return new java.util.Random(1).nextInt();
  }

  public static String gemmName() {
    return dev.lowbit.kernel.Kernels.gemm().name();
  }

  public static int clean(int x) {
    return Math.floorDiv(x, 3) + Integer.MAX_VALUE;
  }
}
