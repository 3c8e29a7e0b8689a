package dev.lowbit.unpack;

/** The shape check that {@link IntMatrix} and {@link Int8Matrix} share. */
final class Layout {

  private Layout() {}

  /** @throws IllegalArgumentException unless a rows×cols matrix has {@code length} entries */
  static void check(int rows, int cols, int length) {
    if (rows < 0 || cols < 0 || (long) rows * cols != length) {
      throw new IllegalArgumentException("a " + rows + "x" + cols + " matrix needs " + ((long) rows * cols)
          + " entries, got " + length);
    }
  }
}
