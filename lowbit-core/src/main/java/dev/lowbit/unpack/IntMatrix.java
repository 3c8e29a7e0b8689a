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
    return transposeRows(Unpack.identity(rows));
  }

  /** The matrix whose column q is column {@code index[q]} of this one. */
  public IntMatrix gatherColumns(int[] index) {
    int k = index.length;
    int[] g = new int[rows * k];
    for (int i = 0; i < rows; i++) {
      for (int q = 0; q < k; q++) g[i * k + q] = data[i * cols + index[q]];
    }
    return new IntMatrix(rows, k, g);
  }

  /**
   * The cols×index.length matrix whose column q is row {@code index[q]} of this one: {@code
   * transpose().gatherColumns(index)} in one blocked pass.
   */
  IntMatrix transposeRows(int[] index) {
    int k = index.length;
    int[] t = new int[cols * k];
    for (int q0 = 0; q0 < k; q0 += Unpack.TILE) {
      int q1 = Math.min(k, q0 + Unpack.TILE);
      for (int j0 = 0; j0 < cols; j0 += Unpack.TILE) {
        int j1 = Math.min(cols, j0 + Unpack.TILE);
        for (int q = q0; q < q1; q++) {
          int from = index[q] * cols;
          for (int j = j0; j < j1; j++) t[j * k + q] = data[from + j];
        }
      }
    }
    return new IntMatrix(cols, k, t);
  }

  /** The rows as a new array of arrays. */
  public int[][] toArray() {
    int[][] a = new int[rows][];
    for (int i = 0; i < rows; i++) a[i] = java.util.Arrays.copyOfRange(data, i * cols, (i + 1) * cols);
    return a;
  }
}
