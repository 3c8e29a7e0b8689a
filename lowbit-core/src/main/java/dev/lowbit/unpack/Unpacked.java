package dev.lowbit.unpack;

import java.util.Objects;

/**
 * One operand after unpacking: a b-bit {@code matrix} (rows' × cols'), for each of its rows the
 * original row it belongs to ({@code rowOwner}) and that row's exponent ({@code rowExponent}), for
 * each of its columns the original column it comes from ({@code columnSource}) and that column's
 * exponent ({@code columnExponent}). An exponent t stands for the factor {@code 2^((b-1)·t)}.
 *
 * <p>For the original X and the inner exponents {@code tIn} it was unpacked with, for every (i, j):
 * the sum over entries (r, c) with {@code rowOwner[r] == i} and {@code columnSource[c] == j} of
 * {@code 2^((b-1)·(rowExponent[r] + columnExponent[c])) · matrix[r][c]} equals {@code
 * 2^((b-1)·tIn[j]) · X[i][j]}. A column split duplicates the partner's line, so in a product X·Y
 * the partner's line {@code columnSource[c]} goes with column c. The arrays are held, not copied.
 */
public record Unpacked(int bits, Int8Matrix matrix, int[] rowOwner, int[] rowExponent, int[] columnSource,
    int[] columnExponent) {

  public Unpacked {
    Unpack.checkBits(bits);
    Objects.requireNonNull(matrix, "matrix");
    if (rowOwner.length != matrix.rows() || rowExponent.length != matrix.rows()) {
      throw new IllegalArgumentException("row owners " + rowOwner.length + " and exponents " + rowExponent.length
          + " for " + matrix.rows() + " rows");
    }
    if (columnSource.length != matrix.cols() || columnExponent.length != matrix.cols()) {
      throw new IllegalArgumentException("column sources " + columnSource.length + " and exponents "
          + columnExponent.length + " for " + matrix.cols() + " columns");
    }
  }

  /** The transposed operand, a new matrix: rows and columns, with their owners and exponents, swapped. */
  public Unpacked transpose() {
    return new Unpacked(bits, new Int8Matrix(matrix.cols(), matrix.rows(),
        Layout.transpose(matrix.data(), matrix.rows(), matrix.cols())), columnSource, columnExponent, rowOwner,
        rowExponent);
  }
}
