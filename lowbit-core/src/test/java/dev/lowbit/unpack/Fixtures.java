package dev.lowbit.unpack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

/** Matrices and checks shared by the unpack tests. */
final class Fixtures {

  private Fixtures() {}

  /**
   * A rows×cols matrix of heavy-tailed integers: mostly small, some scaled by up to 2^31 (so any
   * width), a few of the int32 extremes.
   */
  static IntMatrix heavyTailed(Random r, int rows, int cols) {
    int[] d = new int[rows * cols];
    for (int i = 0; i < d.length; i++) {
      int kind = r.nextInt(20);
      if (kind == 0) {
        d[i] = switch (r.nextInt(3)) {
          case 0 -> Integer.MIN_VALUE;
          case 1 -> Integer.MAX_VALUE;
          default -> -Integer.MAX_VALUE;
        };
      } else if (kind < 6) {
        d[i] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE,
            Math.rint(r.nextGaussian() * Math.pow(2, r.nextInt(32)))));
      } else {
        d[i] = r.nextInt(17) - 8;
      }
    }
    return new IntMatrix(rows, cols, d);
  }

  /** Every entry of u fits its width symmetrically: |x| <= 2^(b-1)-1. */
  static void assertFits(Unpacked u) {
    int max = (1 << (u.bits() - 1)) - 1;
    for (int i = 0; i < u.matrix().data().length; i++) {
      int v = u.matrix().data()[i];
      int row = i / Math.max(1, u.matrix().cols());
      int col = i % Math.max(1, u.matrix().cols());
      assertTrue(Math.abs(v) <= max, "entry (" + row + ", " + col + ") = " + v + " does not fit " + u.bits() + " bits");
    }
  }

  /**
   * The identity of {@link Unpacked}: summing 2^((b-1)(rowExp+colExp))·entry by (owner, source)
   * gives 2^((b-1)·tIn[j])·X[i][j], modulo 2^64.
   */
  static void assertReconstructs(IntMatrix x, int[] tIn, Unpacked u) {
    int sh = u.bits() - 1;
    long[] got = new long[x.rows() * x.cols()];
    Int8Matrix mat = u.matrix();
    for (int r = 0; r < mat.rows(); r++) {
      for (int c = 0; c < mat.cols(); c++) {
        long s = (long) sh * (u.rowExponent()[r] + u.columnExponent()[c]);
        if (s < 64) got[u.rowOwner()[r] * x.cols() + u.columnSource()[c]] += (long) mat.get(r, c) << s;
      }
    }
    long[] want = new long[got.length];
    for (int i = 0; i < x.rows(); i++) {
      for (int j = 0; j < x.cols(); j++) {
        long s = (long) sh * tIn[j];
        want[i * x.cols() + j] = s < 64 ? (long) x.get(i, j) << s : 0;
      }
    }
    assertArrayEquals(want, got, "unpacked entries do not sum back to the matrix");
  }

  /** Rows of longs as one row-major array. */
  static long[] longs(long[][] rows) {
    int m = rows[0].length;
    long[] out = new long[rows.length * m];
    for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, out, i * m, m);
    return out;
  }
}
