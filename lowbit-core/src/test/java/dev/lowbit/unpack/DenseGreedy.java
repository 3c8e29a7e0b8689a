package dev.lowbit.unpack;

import java.util.Arrays;

/**
 * UnpackBoth's greedy loop as it was before {@link Greedy} ran on the heavy hitters alone, kept as
 * its reference: the dense matrix grows in rows and columns, with the per-line heavy-hitter counts
 * kept up to date by each split.
 */
final class DenseGreedy {

  private final int bits;
  private final int shift;
  private final int mask;
  private int n;
  private int d;
  private int colCap;
  /** Row r's entries at rows[r][0..d). */
  private int[][] rows;
  private int[] rowOwner;
  private int[] rowExponent;
  private int[] colSource;
  private int[] colExponent;
  private final MaxTree rowCounts;
  private final MaxTree colCounts;

  DenseGreedy(IntMatrix a, int[] innerExponent, int bits) {
    this.bits = bits;
    shift = bits - 1;
    mask = (1 << shift) - 1;
    n = a.rows();
    d = a.cols();
    colCap = Math.max(1, d);
    rows = new int[Math.max(1, n)][];
    int[] r = new int[n];
    int[] k = new int[d];
    for (int i = 0; i < n; i++) {
      rows[i] = Arrays.copyOfRange(a.data(), i * d, i * d + colCap);
      for (int j = 0; j < d; j++) {
        if (Unpack.heavy(rows[i][j], bits)) {
          r[i]++;
          k[j]++;
        }
      }
    }
    rowOwner = Unpack.identity(Math.max(1, n));
    rowExponent = new int[Math.max(1, n)];
    colSource = Arrays.copyOf(Unpack.identity(d), colCap);
    colExponent = Arrays.copyOf(innerExponent, colCap);
    rowCounts = new MaxTree(r);
    colCounts = new MaxTree(k);
  }

  Unpacked run() {
    while (rowCounts.max() > 0) {
      int i = rowCounts.argmax();
      int j = colCounts.argmax();
      if (rowCounts.max() >= colCounts.max()) {
        splitRow(i);
      } else {
        splitColumn(j);
      }
    }
    byte[] out = new byte[Math.multiplyExact(n, d)];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) out[i * d + j] = (byte) rows[i][j];
    }
    return new Unpacked(bits, new Int8Matrix(n, d, out), Arrays.copyOf(rowOwner, n), Arrays.copyOf(rowExponent, n),
        Arrays.copyOf(colSource, d), Arrays.copyOf(colExponent, d));
  }

  private void splitRow(int i) {
    if (n == rows.length) {
      int c = 2 * n;
      rows = Arrays.copyOf(rows, c);
      rowOwner = Arrays.copyOf(rowOwner, c);
      rowExponent = Arrays.copyOf(rowExponent, c);
    }
    int[] lo = rows[i];
    int[] hi = new int[colCap];
    int count = 0;
    for (int j = 0; j < d; j++) {
      hi[j] = split(lo[j], colCounts, j);
      lo[j] &= mask;
      if (Unpack.heavy(hi[j], bits)) count++;
    }
    rows[n] = hi;
    rowOwner[n] = rowOwner[i];
    rowExponent[n] = rowExponent[i] + 1;
    n++;
    rowCounts.set(i, 0);
    rowCounts.append(count);
  }

  /**
   * The high digit of v, whose low digit (never heavy) takes v's place; the count of the crossing
   * line through v (a column when a row splits) changes by what v and its high digit contribute.
   */
  private int split(int v, MaxTree crossing, int line) {
    int hi = v >> shift;
    int delta = (Unpack.heavy(hi, bits) ? 1 : 0) - (Unpack.heavy(v, bits) ? 1 : 0);
    if (delta != 0) crossing.add(line, delta);
    return hi;
  }

  private void splitColumn(int j) {
    if (d == colCap) {
      colCap *= 2;
      for (int i = 0; i < n; i++) rows[i] = Arrays.copyOf(rows[i], colCap);
      colSource = Arrays.copyOf(colSource, colCap);
      colExponent = Arrays.copyOf(colExponent, colCap);
    }
    int count = 0;
    for (int i = 0; i < n; i++) {
      int[] row = rows[i];
      row[d] = split(row[j], rowCounts, i);
      row[j] &= mask;
      if (Unpack.heavy(row[d], bits)) count++;
    }
    colSource[d] = colSource[j];
    colExponent[d] = colExponent[j] + 1;
    d++;
    colCounts.set(j, 0);
    colCounts.append(count);
  }
}
