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
    Layout.check(rows, cols, data.length);
  }

  /** Entry (i, j). */
  public int get(int i, int j) {
    return data[i * cols + j];
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
