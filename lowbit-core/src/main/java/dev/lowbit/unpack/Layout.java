package dev.lowbit.unpack;

/** The row-major index maps that {@link IntMatrix} and {@link Int8Matrix} share. */
final class Layout {

  private Layout() {}

  /** Copies the entry at index {@code from} of the source to index {@code to} of the result. */
  interface Move {
    void move(int to, int from);
  }

  /** @throws IllegalArgumentException unless a rows×cols matrix has {@code length} entries */
  static void check(int rows, int cols, int length) {
    if (rows < 0 || cols < 0 || (long) rows * cols != length) {
      throw new IllegalArgumentException("a " + rows + "x" + cols + " matrix needs " + ((long) rows * cols)
          + " entries, got " + length);
    }
  }

  /** The moves that transpose a rows×cols matrix. */
  static void transpose(int rows, int cols, Move m) {
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) m.move(j * rows + i, i * cols + j);
    }
  }

  /** The moves that make column q of a rows×index.length result column index[q] of the source. */
  static void gatherColumns(int rows, int cols, int[] index, Move m) {
    int k = index.length;
    for (int i = 0; i < rows; i++) {
      for (int q = 0; q < k; q++) m.move(i * k + q, i * cols + index[q]);
    }
  }
}
