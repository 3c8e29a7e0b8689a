package dev.lowbit.unpack;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** The shape check that {@link IntMatrix} and {@link Int8Matrix} share, and the byte moves of unpacking. */
final class Layout {

  private Layout() {}

  /** @throws IllegalArgumentException unless a rows×cols matrix has {@code length} entries */
  static void check(int rows, int cols, int length) {
    if (rows < 0 || cols < 0 || (long) rows * cols != length) {
      throw new IllegalArgumentException("a " + rows + "x" + cols + " matrix needs " + ((long) rows * cols)
          + " entries, got " + length);
    }
  }

  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  /**
   * The transpose of a rows×cols byte matrix, a new cols×rows one: 8×8 blocks are read as eight
   * longs (row k in long k, column c in byte c), transposed by three rounds of masked swaps (4×4,
   * 2×2, 1×1 sub-blocks) and written as eight longs; the edges that do not fill a block go one by one.
   */
  static byte[] transpose(byte[] x, int rows, int cols) {
    byte[] t = new byte[x.length];
    int r8 = rows & ~7;
    int c8 = cols & ~7;
    Unpack.parallel((r8 + 63) / 64, (long) rows * cols, tile -> {
      long[] w = new long[8];
      int i1 = Math.min(r8, tile * 64 + 64);
      for (int j = 0; j < c8; j += 8) {
        for (int i = tile * 64; i < i1; i += 8) {
          for (int k = 0; k < 8; k++) w[k] = (long) LONGS.get(x, (i + k) * cols + j);
          transpose8(w);
          for (int k = 0; k < 8; k++) LONGS.set(t, (j + k) * rows + i, w[k]);
        }
      }
    });
    for (int i = 0; i < rows; i++) {
      for (int j = i < r8 ? c8 : 0; j < cols; j++) t[j * rows + i] = x[i * cols + j];
    }
    return t;
  }

  /** Transposes the 8×8 byte matrix whose row k is long k, byte c (little-endian) its column c. */
  private static void transpose8(long[] w) {
    for (int k = 0; k < 4; k++) swap(w, k, k + 4, 32, 0x00000000FFFFFFFFL);
    for (int k : new int[] {0, 1, 4, 5}) swap(w, k, k + 2, 16, 0x0000FFFF0000FFFFL);
    for (int k = 0; k < 8; k += 2) swap(w, k, k + 1, 8, 0x00FF00FF00FF00FFL);
  }

  /** Swaps the high parts (by {@code shift}, under {@code mask}) of w[a] with the low parts of w[b]. */
  private static void swap(long[] w, int a, int b, int shift, long mask) {
    long t = ((w[a] >>> shift) ^ w[b]) & mask;
    w[a] ^= t << shift;
    w[b] ^= t;
  }

  /**
   * Columns index[0..g) of a rows×cols byte matrix as a rows×g one: runs of consecutive indices
   * go by {@link System#arraycopy}, isolated ones one by one.
   */
  static byte[] gatherColumns(byte[] x, int rows, int cols, int[] index, int start, int g) {
    int[] runs = runs(index, start, g);
    byte[] out = new byte[Math.multiplyExact(rows, g)];
    Unpack.parallel(rows, (long) rows * g, i -> {
      int from = i * cols;
      int to = i * g;
      for (int u = 0; u < runs.length; u += 2) {
        int q = runs[u];
        int len = runs[u + 1];
        if (len >= 16) {
          System.arraycopy(x, from + index[start + q], out, to + q, len);
        } else {
          for (int e = q; e < q + len; e++) out[to + e] = x[from + index[start + e]];
        }
      }
    });
    return out;
  }

  /** Rows index[start..start+g) of a rows×cols byte matrix, as a g×cols one. */
  static byte[] gatherRows(byte[] x, int cols, int[] index, int start, int g) {
    int[] runs = runs(index, start, g);
    byte[] out = new byte[Math.multiplyExact(g, cols)];
    for (int u = 0; u < runs.length; u += 2) {
      System.arraycopy(x, index[start + runs[u]] * cols, out, runs[u] * cols, runs[u + 1] * cols);
    }
    return out;
  }

  /** The runs of consecutive values in index[start..start+g): (first position, length) pairs. */
  private static int[] runs(int[] index, int start, int g) {
    int[] r = new int[2 * g];
    int n = 0;
    for (int q = 0; q < g; ) {
      int e = q + 1;
      while (e < g && index[start + e] == index[start + e - 1] + 1) e++;
      r[n++] = q;
      r[n++] = e - q;
      q = e;
    }
    return java.util.Arrays.copyOf(r, n);
  }
}
