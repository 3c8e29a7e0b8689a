package dev.lowbit.unpack;

import java.util.Objects;

/**
 * A dense row-major int32 matrix: entry (i, j) is {@code data[i * cols + j]}. The array is held,
 * not copied; treat it as read-only once the matrix is made.
 */
public record IntMatrix(int rows, int cols, int[] data) {

  public IntMatrix {
    Objects.requireNonNull(data, "data");
    if (rows < 0 || cols < 0 || (long) rows * cols != data.length) {
      throw new IllegalArgumentException("a " + rows + "x" + cols + " matrix needs " + ((long) rows * cols)
          + " entries, got " + data.length);
    }
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
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) t[j * rows + i] = data[i * cols + j];
    }
    return new IntMatrix(cols, rows, t);
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

  /** The rows as a new array of arrays. */
  public int[][] toArray() {
    int[][] a = new int[rows][];
    for (int i = 0; i < rows; i++) a[i] = java.util.Arrays.copyOfRange(data, i * cols, (i + 1) * cols);
    return a;
  }
}
