package dev.lowbit.unpack;

import java.util.Objects;

/**
 * A dense row-major int32 matrix: entry (i, j) is {@code data[i * cols + j]}. The array is held,
 * not copied; treat it as read-only once the matrix is made.
 */
public record IntMatrix(int rows, int cols, int[] data) {

  public IntMatrix {
    Objects.requireNonNull(data, "data");
    Layout.check(rows, cols, data.length);
  }

  /** A copy of {@code rows}, which must all have the same length; an empty array is 0×0. */
  public static IntMatrix of(int[][] rows) {
    int r = rows.length;
    int c = r == 0 ? 0 : rows[0].length;
    int[] d = new int[r * c];
    for (int i = 0; i < r; i++) {
      if (rows[i].length != c) {
        throw new IllegalArgumentException("row " + i + " has " + rows[i].length + " entries, row 0 has " + c);
      }
      System.arraycopy(rows[i], 0, d, i * c, c);
    }
    return new IntMatrix(r, c, d);
  }

  /** Entry (i, j). */
  public int get(int i, int j) {
    return data[i * cols + j];
  }

  /** The transpose, a new matrix. */
  public IntMatrix transpose() {
    int[] t = new int[data.length];
    Layout.transpose(rows, cols, (to, from) -> t[to] = data[from]);
    return new IntMatrix(cols, rows, t);
  }

  /** The matrix whose column q is column {@code index[q]} of this one. */
  public IntMatrix gatherColumns(int[] index) {
    int[] g = new int[rows * index.length];
    Layout.gatherColumns(rows, cols, index, (to, from) -> g[to] = data[from]);
    return new IntMatrix(rows, index.length, g);
  }

  /** The rows as a new array of arrays. */
  public int[][] toArray() {
    int[][] a = new int[rows][];
    for (int i = 0; i < rows; i++) a[i] = java.util.Arrays.copyOfRange(data, i * cols, (i + 1) * cols);
    return a;
  }
}
