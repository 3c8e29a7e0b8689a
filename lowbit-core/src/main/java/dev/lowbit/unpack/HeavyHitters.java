package dev.lowbit.unpack;

/**
 * How many entries of an int32 matrix are heavy hitters for signed b-bit arithmetic, i.e. {@code
 * |x| >= 2^(b-1)} ({@code -2^(b-1)} included; IM-Unpack, Zeng et al., ICML 2024): in all, per row
 * and per column. {@code bits} may be 2..32.
 */
public record HeavyHitters(int bits, int rows, int cols, long total, int[] perRow, int[] perColumn) {

  /** Counts the heavy hitters of {@code x} at {@code bits}. */
  public static HeavyHitters of(IntMatrix x, int bits) {
    if (bits < 2 || bits > 32) {
      throw new IllegalArgumentException("heavy-hitter bit width " + bits + "; valid: 2..32 (signed)");
    }
    long max = (1L << (bits - 1)) - 1;
    int n = x.rows();
    int m = x.cols();
    int[] r = new int[n];
    int[] c = new int[m];
    long total = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < m; j++) {
        if (Math.abs((long) x.data()[i * m + j]) > max) {
          r[i]++;
          c[j]++;
          total++;
        }
      }
    }
    return new HeavyHitters(bits, n, m, total, r, c);
  }

  /** The fraction of all entries that are heavy hitters (0 for an empty matrix). */
  public double fraction() {
    long size = (long) rows * cols;
    return size == 0 ? 0 : (double) total / size;
  }

  /** The fraction of row i's entries that are heavy hitters. */
  public double rowFraction(int i) {
    return cols == 0 ? 0 : (double) perRow[i] / cols;
  }

  /** The fraction of column j's entries that are heavy hitters. */
  public double columnFraction(int j) {
    return rows == 0 ? 0 : (double) perColumn[j] / rows;
  }

  /** How many rows hold at least one heavy hitter. */
  public int dirtyRows() {
    return nonZero(perRow);
  }

  /** How many columns hold at least one heavy hitter. */
  public int dirtyColumns() {
    return nonZero(perColumn);
  }

  private static int nonZero(int[] counts) {
    int k = 0;
    for (int c : counts) if (c != 0) k++;
    return k;
  }
}
