package dev.lowbit.unpack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.ScalarGemm;
import dev.lowbit.kernel.VectorGemm;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fast paths of unpacking and of the unpacked GEMM, bit for bit against the plain forms: the
 * column split of B's rows without forming B'ᵀ, the blocked transpose, the sparse greedy split, groups read in place or
 * gathered (a kernel that copies its operands), the vectorized and the scattered recombination, on
 * products large enough to run on several threads, with int32 extremes.
 */
class UnpackFastPathTest {

  @Test
  void theBlockedTransposeOfRowsIsTheTransposeGathered() {
    Random r = new Random(5);
    IntMatrix b = Fixtures.heavyTailed(r, 131, 70);
    int[] index = r.ints(200, 0, 131).toArray();
    IntMatrix t = b.transposeRows(index);
    assertEquals(70, t.rows());
    assertEquals(200, t.cols());
    for (int k = 0; k < 70; k++) {
      for (int q = 0; q < 200; q++) assertEquals(b.get(index[q], k), t.get(k, q), k + "," + q);
    }
    assertArrayEquals(t.data(), b.transpose().gatherColumns(index).data());
  }

  @Test
  void byteTransposesAndGathersMoveEveryEntry() {
    Random r = new Random(9);
    int[][] shapes = {{1, 1}, {8, 8}, {7, 9}, {16, 24}, {65, 130}, {130, 67}, {300, 260}, {0, 5}};
    for (int[] sh : shapes) {
      int rows = sh[0], cols = sh[1];
      byte[] x = new byte[rows * cols];
      r.nextBytes(x);
      byte[] t = Layout.transpose(x, rows, cols);
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) assertEquals(x[i * cols + j], t[j * rows + i], rows + "x" + cols + " at " + i + "," + j);
      }
      if (cols == 0 || rows == 0) continue;
      int[] index = new int[cols + 40];
      for (int q = 0; q < index.length; q++) index[q] = q < 20 ? 0 : q < cols ? q - 20 : r.nextInt(cols); // runs and strays
      int g = index.length - 3;
      byte[] gc = Layout.gatherColumns(x, rows, cols, index, 3, g);
      for (int i = 0; i < rows; i++) {
        for (int q = 0; q < g; q++) assertEquals(x[i * cols + index[3 + q]], gc[i * g + q]);
      }
      int[] rowIndex = r.ints(rows + 5, 0, rows).toArray();
      byte[] gr = Layout.gatherRows(x, cols, rowIndex, 2, rows);
      for (int q = 0; q < rows; q++) {
        for (int j = 0; j < cols; j++) assertEquals(x[rowIndex[2 + q] * cols + j], gr[q * cols + j]);
      }
    }
  }

  @Test
  void theColumnSplitOfBsRowsEqualsTheSplitOfBPrimeTransposed() {
    Random r = new Random(8);
    for (int bits = 2; bits <= 8; bits++) {
      IntMatrix b = Fixtures.heavyTailed(r, 90, 75);
      int[] source = new int[140];
      int[] inner = new int[140];
      for (int q = 0; q < 140; q++) {
        source[q] = q < 90 ? q : r.nextInt(90); // B's rows in place, then duplicates, as a first pass leaves them
        inner[q] = q < 90 ? 0 : 1 + r.nextInt(3);
      }
      Unpacked want = Unpack.columns(b.transposeRows(source), inner, bits);
      Unpacked got = Unpack.columnsOfRows(b, source, inner, bits); // the transpose of want
      Int8Matrix w = want.matrix();
      assertArrayEquals(Layout.transpose(w.data(), w.rows(), w.cols()), got.matrix().data(), "b=" + bits);
      assertEquals(w.cols(), got.matrix().rows());
      assertArrayEquals(want.rowOwner(), got.columnSource());
      assertArrayEquals(want.rowExponent(), got.columnExponent());
      assertArrayEquals(want.columnSource(), got.rowOwner());
      assertArrayEquals(want.columnExponent(), got.rowExponent());
    }
  }

  @Test
  void theSparseGreedyEqualsTheDenseOne() {
    Random r = new Random(17);
    for (int t = 0; t < 60; t++) {
      int bits = 2 + t % 7;
      int lo = 1 << (bits - 1);
      int rows = 1 + r.nextInt(40);
      int cols = 1 + r.nextInt(40);
      IntMatrix x = switch (t % 3) {
        case 0 -> Fixtures.heavyTailed(r, rows, cols);
        case 1 -> scattered(r, rows, cols, lo, 0.1);
        default -> withExtremes(r, scattered(r, rows, cols, lo, 0.02));
      };
      int[] inner = new int[cols];
      for (int j = 0; j < cols; j++) inner[j] = r.nextInt(3);
      Unpacked want = new DenseGreedy(x, inner, bits).run();
      Unpacked got = Unpack.both(x, inner, bits);
      String what = rows + "x" + cols + " b=" + bits + " case " + t;
      assertEquals(want.matrix().rows(), got.matrix().rows(), what);
      assertArrayEquals(want.matrix().data(), got.matrix().data(), what);
      assertArrayEquals(want.rowOwner(), got.rowOwner(), what);
      assertArrayEquals(want.rowExponent(), got.rowExponent(), what);
      assertArrayEquals(want.columnSource(), got.columnSource(), what);
      assertArrayEquals(want.columnExponent(), got.columnExponent(), what);
    }
    IntMatrix big = scattered(r, 300, 280, 8, 0.01); // rows written on several threads
    Unpacked want = new DenseGreedy(big, new int[280], 4).run();
    assertArrayEquals(want.matrix().data(), Unpack.both(big, new int[280], 4).matrix().data());
  }

  @Test
  void largeProductsAreExactOnInPlaceAndGatheredGroups() {
    Random r = new Random(13);
    Gemm[] kernels = {VectorGemm.ofBits(256, 2), new Copying(ScalarGemm.INSTANCE)};
    for (int bits : new int[] {2, 4, 8}) {
      int lo = 1 << (bits - 1);
      IntMatrix[][] cases = {
        {scattered(r, 300, 257, lo, 0.01), scattered(r, 257, 300, lo, 0.01)},
        {channels(r, 300, 257, lo, true), channels(r, 257, 300, lo, false)},
        {withExtremes(r, scattered(r, 70, 90, lo, 0.05)), withExtremes(r, scattered(r, 90, 65, lo, 0.05))},
      };
      for (IntMatrix[] ab : cases) {
        long[] want = UnpackedGemm.referenceGemm(ab[0], ab[1]);
        for (Strategy s : Strategy.values()) {
          UnpackedProduct p = UnpackedGemm.unpack(ab[0], ab[1], s, bits);
          Fixtures.assertFits(p.left());
          Fixtures.assertFits(p.right());
          for (Gemm g : kernels) {
            assertArrayEquals(want, UnpackedGemm.multiply(p, g), g.name() + " " + s.spec() + " b=" + bits);
          }
        }
      }
    }
  }

  /** Entries within the b-bit range, a fraction of them heavy hitters of up to 16 times it. */
  private static IntMatrix scattered(Random r, int rows, int cols, int lo, double f) {
    int[] x = new int[rows * cols];
    for (int i = 0; i < x.length; i++) {
      x[i] = r.nextDouble() < f ? (r.nextBoolean() ? 1 : -1) * (lo + r.nextInt(15 * lo)) : r.nextInt(2 * lo - 1) - lo + 1;
    }
    return new IntMatrix(rows, cols, x);
  }

  /** Heavy hitters filling a few whole columns (or rows) and nothing else. */
  private static IntMatrix channels(Random r, int rows, int cols, int lo, boolean byColumn) {
    int[] x = new int[rows * cols];
    for (int i = 0; i < x.length; i++) {
      int line = byColumn ? i % cols : i / cols;
      x[i] = line % 37 == 5 ? -(lo + r.nextInt(lo)) : r.nextInt(2 * lo - 1) - lo + 1;
    }
    return new IntMatrix(rows, cols, x);
  }

  private static IntMatrix withExtremes(Random r, IntMatrix m) {
    int[] x = m.data().clone();
    int[] pool = {Integer.MIN_VALUE, Integer.MAX_VALUE, -Integer.MAX_VALUE, 1 << 30};
    for (int t = 0; t < 12; t++) x[r.nextInt(x.length)] = pool[r.nextInt(pool.length)];
    return new IntMatrix(m.rows(), m.cols(), x);
  }

  /** A kernel that says it copies its operands (as a native one does), so that groups are gathered. */
  private record Copying(Gemm inner) implements Gemm {
    @Override
    public String name() {
      return "copying-" + inner.name();
    }

    @Override
    public boolean copiesOperands() {
      return true;
    }

    @Override
    public void gemmS8S8(boolean transA, boolean transB, int m, int n, int k,
        byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
      inner.gemmS8S8(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
        float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
      inner.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override
    public void gemmU8S8(boolean transA, boolean transB, int m, int n, int k,
        byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
      inner.gemmU8S8(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    }

    @Override
    public long gemmS16(boolean transA, boolean transB, int m, int n, int k, short[] a, int aOff, int lda,
        short[] b, int bOff, int ldb, int[] c, int cOff, int ldc, boolean countOverflow) {
      return inner.gemmS16(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, countOverflow);
    }
  }
}
