package dev.lowbit.unpack;

import java.util.Objects;

/**
 * A dense row-major matrix of small signed integers in int8 containers: entry (i, j) is {@code
 * data[i * cols + j]}. Unpacked matrices hold b-bit values ({@code |x| <= 2^(b-1)-1}, b ≤ 8). The
 * array is held, not copied; treat it as read-only once the matrix is made.
 */
public record Int8Matrix(int rows, int cols, byte[] data) {

  public Int8Matrix {
    Objects.requireNonNull(data, "data");
    if (rows < 0 || cols < 0 || (long) rows * cols != data.length) {
      throw new IllegalArgumentException("a " + rows + "x" + cols + " matrix needs " + ((long) rows * cols)
          + " entries, got " + data.length);
    }
  }

  /** Entry (i, j). */
  public int get(int i, int j) {
    return data[i * cols + j];
  }

  /** The transpose, a new matrix. */
  public Int8Matrix transpose() {
    byte[] t = new byte[data.length];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) t[j * rows + i] = data[i * cols + j];
    }
    return new Int8Matrix(cols, rows, t);
  }

  /** The matrix whose column q is column {@code index[q]} of this one. */
  public Int8Matrix gatherColumns(int[] index) {
    int k = index.length;
    byte[] g = new byte[rows * k];
    for (int i = 0; i < rows; i++) {
      for (int q = 0; q < k; q++) g[i * k + q] = data[i * cols + index[q]];
    }
    return new Int8Matrix(rows, k, g);
  }

  /** The same entries as int32. */
  public IntMatrix toIntMatrix() {
    int[] d = new int[data.length];
    for (int i = 0; i < d.length; i++) d[i] = data[i];
    return new IntMatrix(rows, cols, d);
  }

  /** The rows as a new array of arrays of ints. */
  public int[][] toArray() {
    return toIntMatrix().toArray();
  }
}
