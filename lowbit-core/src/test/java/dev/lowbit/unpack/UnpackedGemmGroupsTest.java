package dev.lowbit.unpack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.kernel.ScalarGemm;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The unpacked GEMM's group handling bit for bit against {@link UnpackedGemm#referenceGemm}: the
 * COLUMN product's inner indices sorted by exponent (every group read in place), groups of at most
 * {@link UnpackedGemm#SMALL_GROUP} indices summed without a GEMM (inner length 1 included), mixed
 * with GEMM'd groups, on int32 and int64 sums (int32 extremes), all-heavy operands, single rows
 * and columns, shapes up to 300, b = 2..8.
 */
class UnpackedGemmGroupsTest {

  private static final Gemm[] KERNELS = {ScalarGemm.INSTANCE, Kernels.javaGemm()};

  private static void assertExact(IntMatrix a, IntMatrix b, String what) {
    long[] want = UnpackedGemm.referenceGemm(a, b);
    for (int bits = 2; bits <= 8; bits++) {
      for (Strategy s : Strategy.values()) {
        UnpackedProduct p = UnpackedGemm.unpack(a, b, s, bits);
        if (s != Strategy.BOTH) {
          int[] t = p.innerExponent();
          for (int q = 1; q < t.length; q++) assertTrue(t[q - 1] <= t[q], what + " " + s.spec() + ": inner exponents unsorted");
        }
        for (Gemm g : KERNELS) {
          assertArrayEquals(want, UnpackedGemm.multiply(p, g), what + " " + g.name() + " " + s.spec() + " b=" + bits);
        }
      }
    }
  }

  /** One heavy column of A (one heavy row of B): COLUMN's higher exponents are groups of inner length 1. */
  @Test
  void groupsOfInnerLengthOneAreExact() {
    Random r = new Random(3);
    for (int[] s : new int[][] {{1, 1, 1}, {1, 40, 1}, {37, 23, 41}, {300, 9, 2}, {2, 17, 300}}) {
      int n = s[0], d = s[1], m = s[2];
      int[] x = new int[n * d];
      int[] y = new int[d * m];
      for (int i = 0; i < x.length; i++) x[i] = r.nextInt(3) - 1;
      for (int i = 0; i < y.length; i++) y[i] = r.nextInt(3) - 1;
      int j = r.nextInt(d);
      for (int i = 0; i < n; i++) x[i * d + j] = r.nextBoolean() ? Integer.MIN_VALUE : Integer.MAX_VALUE - r.nextInt(9);
      for (int k = 0; k < m; k++) y[j * m + k] = r.nextBoolean() ? -Integer.MAX_VALUE : 1 << 30;
      assertExact(new IntMatrix(n, d, x), new IntMatrix(d, m, y), Arrays.toString(s));
    }
  }

  /** A few heavy columns and rows: groups around {@link UnpackedGemm#SMALL_GROUP} on both sides of it. */
  @Test
  void groupsAroundTheSmallBoundAreExact() {
    Random r = new Random(4);
    for (int heavy = 1; heavy <= 2 * UnpackedGemm.SMALL_GROUP + 1; heavy += 3) {
      int n = 1 + r.nextInt(60), d = heavy + r.nextInt(30), m = 1 + r.nextInt(60);
      int[] x = new int[n * d];
      int[] y = new int[d * m];
      for (int i = 0; i < x.length; i++) x[i] = r.nextInt(7) - 3;
      for (int i = 0; i < y.length; i++) y[i] = r.nextInt(7) - 3;
      for (int j = 0; j < heavy; j++) {
        for (int i = 0; i < n; i++) x[i * d + j] = r.nextInt(4000) - 2000;
        for (int k = 0; k < m; k++) y[j * m + k] = r.nextInt(4000) - 2000;
      }
      assertExact(new IntMatrix(n, d, x), new IntMatrix(d, m, y), "heavy " + heavy);
    }
  }

  /** Every entry heavy, the int32 extremes, random shapes up to 300 and single rows and columns. */
  @Test
  void allHeavyExtremeAndThinOperandsAreExact() {
    Random r = new Random(6);
    int[] pool = {Integer.MIN_VALUE, Integer.MAX_VALUE, -Integer.MAX_VALUE, 1 << 30, -(1 << 30), 127, -128};
    int[][] shapes = {{1, 1, 1}, {1, 300, 1}, {300, 1, 1}, {1, 1, 300}, {1, 300, 7}, {300, 5, 1}, {13, 60, 11},
      {1 + r.nextInt(40), 1 + r.nextInt(40), 1 + r.nextInt(40)}};
    for (int[] s : shapes) {
      int n = s[0], d = s[1], m = s[2];
      int[] x = new int[n * d];
      int[] y = new int[d * m];
      for (int i = 0; i < x.length; i++) x[i] = pool[r.nextInt(pool.length)];
      for (int i = 0; i < y.length; i++) y[i] = pool[r.nextInt(pool.length)];
      assertExact(new IntMatrix(n, d, x), new IntMatrix(d, m, y), "all heavy " + Arrays.toString(s));
      assertExact(Fixtures.heavyTailed(r, n, d), Fixtures.heavyTailed(r, d, m), "heavy-tailed " + Arrays.toString(s));
    }
  }
}
