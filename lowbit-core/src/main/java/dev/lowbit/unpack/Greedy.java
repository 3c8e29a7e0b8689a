package dev.lowbit.unpack;

import java.util.Arrays;

/**
 * UnpackBoth's greedy loop (§1.8 of the spec) in time linear in the matrix plus its heavy hitters.
 *
 * <p>The loop's choices depend on the heavy hitters alone: splitting a line turns its entries into
 * low digits, never heavy, and high digits, heavy only where the entry was; an entry that fits
 * gives a high digit of 0 or -1, which fits too. So the loop runs on the heavy hitters only (each
 * line's list, each line's count in a {@link MaxTree}), and the matrix is written once at the end.
 * A split line holds low digits only and is never split again, so each original row (column)
 * grows a chain of lines, split in time order. An entry v of row i and column j then ends on a
 * staircase through the grid of its row's and its column's chains: after t splits that reached
 * it (of either chain, in time order) it sits in the line pair the splits lead to, and each cell
 * it leaves keeps the digit {@code (v >> (b-1)·t) & (2^(b-1)-1)}; the last cell keeps {@code v >>
 * (b-1)·t}, signed; every other cell of the grid is 0.
 */
final class Greedy {

  private final IntMatrix a;
  private final int bits;
  private final int shift;
  private final int mask;
  private final Lines rows;
  private final Lines cols;
  /** Heavy entries: row line, column line and current value at 3e, 3e+1, 3e+2; whether still heavy there. */
  private int[] ent;
  private boolean[] alive;
  private int entries;
  private int clock;

  Greedy(IntMatrix a, int[] innerExponent, int bits) {
    this.a = a;
    this.bits = bits;
    shift = bits - 1;
    mask = (1 << shift) - 1;
    int n = a.rows();
    int d = a.cols();
    rows = new Lines(Unpack.identity(n), new int[n]);
    cols = new Lines(Unpack.identity(d), innerExponent.clone());
    ent = new int[3 * 16];
    alive = new boolean[16];
    int[] x = a.data();
    int[] r = new int[n];
    int[] k = new int[d];
    int max = mask; // the largest |x| that fits
    for (int i = 0; i < n; i++) {
      int end = i * d + d;
      for (int at = Digits.nextHeavy(x, i * d, end, max); at < end; at = Digits.nextHeavy(x, at + 1, end, max)) {
        int j = at - i * d;
        addEntry(i, j, x[at]);
        r[i]++;
        k[j]++;
      }
    }
    rows.counts = new MaxTree(r);
    cols.counts = new MaxTree(k);
  }

  /** One side's lines: owner (row) or source (column), exponent, heavy entries, split time and child. */
  private static final class Lines {
    int count;
    int[] owner;
    int[] exponent;
    int[][] heavy;
    int[] heavyCount;
    int[] splitTime;
    int[] child;
    MaxTree counts;

    Lines(int[] owner, int[] exponent) {
      count = owner.length;
      int cap = Math.max(1, count);
      this.owner = Arrays.copyOf(owner, cap);
      this.exponent = Arrays.copyOf(exponent, cap);
      heavy = new int[cap][];
      heavyCount = new int[cap];
      splitTime = new int[cap];
      child = new int[cap];
      Arrays.fill(splitTime, Integer.MAX_VALUE);
      Arrays.fill(child, -1);
    }

    /** Appends the line that takes line p's high digits. */
    int grow(int p, int time) {
      if (count == owner.length) {
        int c = 2 * count;
        owner = Arrays.copyOf(owner, c);
        exponent = Arrays.copyOf(exponent, c);
        heavy = Arrays.copyOf(heavy, c);
        heavyCount = Arrays.copyOf(heavyCount, c);
        splitTime = Arrays.copyOf(splitTime, c);
        child = Arrays.copyOf(child, c);
        Arrays.fill(splitTime, count, c, Integer.MAX_VALUE);
        Arrays.fill(child, count, c, -1);
      }
      int q = count++;
      owner[q] = owner[p];
      exponent[q] = exponent[p] + 1;
      splitTime[p] = time;
      child[p] = q;
      return q;
    }

    void add(int line, int entry) {
      int[] h = heavy[line];
      if (h == null) {
        h = heavy[line] = new int[4];
      } else if (heavyCount[line] == h.length) {
        h = heavy[line] = Arrays.copyOf(h, 2 * h.length);
      }
      h[heavyCount[line]++] = entry;
    }
  }

  private void addEntry(int r, int c, int v) {
    if (entries == alive.length) {
      ent = Arrays.copyOf(ent, 6 * entries);
      alive = Arrays.copyOf(alive, 2 * entries);
    }
    int e = entries++;
    ent[3 * e] = r;
    ent[3 * e + 1] = c;
    ent[3 * e + 2] = v;
    alive[e] = true;
    rows.add(r, e);
    cols.add(c, e);
  }

  Unpacked run() {
    while (rows.counts.max() > 0) {
      int i = rows.counts.argmax();
      int j = cols.counts.argmax();
      if (rows.counts.max() >= cols.counts.max()) {
        split(rows, cols, i, true);
      } else {
        split(cols, rows, j, false);
      }
    }
    return new Unpacked(bits, new Int8Matrix(rows.count, cols.count, write()), Arrays.copyOf(rows.owner, rows.count),
        Arrays.copyOf(rows.exponent, rows.count), Arrays.copyOf(cols.owner, cols.count),
        Arrays.copyOf(cols.exponent, cols.count));
  }

  /**
   * Splits line p of {@code side}: each of its heavy entries leaves a low digit (not heavy: the
   * crossing line's count drops) and, where the high digit is heavy, a heavy entry of the new line.
   */
  private void split(Lines side, Lines crossing, int p, boolean isRow) {
    int q = side.grow(p, clock++);
    int[] h = side.heavy[p];
    int hc = side.heavyCount[p];
    int count = 0;
    for (int u = 0; u < hc; u++) {
      int e = h[u];
      if (!alive[e]) continue;
      alive[e] = false;
      int line = ent[isRow ? 3 * e + 1 : 3 * e];
      int hi = ent[3 * e + 2] >> shift;
      if (Unpack.heavy(hi, bits)) {
        count++;
        if (isRow) {
          addEntry(q, line, hi);
        } else {
          addEntry(line, q, hi);
        }
      } else {
        crossing.counts.add(line, -1);
      }
    }
    side.heavy[p] = null;
    side.heavyCount[p] = 0;
    side.counts.set(p, 0);
    side.counts.append(count);
  }

  /**
   * The split matrix, every entry's staircase written at once (rows in parallel: a row's chain is
   * its own). A row that was never split holds its staircases in itself, along the column chains:
   * column line c, at depth t of column j's chain, holds {@code (v >> (b-1)·t) & mask} (all ones
   * at a chain's end), so such a row is written like {@link Unpack#columns}' rows: its level-0 digits
   * vectorized, the appended columns gathered.
   */
  private byte[] write() {
    int n = a.rows();
    int d = a.cols();
    int w = cols.count;
    int[] x = a.data();
    byte[] out = new byte[Math.multiplyExact(rows.count, w)];
    int[] colSource = new int[w];
    int[] colShift = new int[w];
    int[] colMask = new int[w];
    for (int j = 0; j < d; j++) {
      int t = 0;
      for (int c = j; c >= 0; c = cols.child[c], t++) {
        colSource[c] = j;
        colShift[c] = Math.min(31, shift * t);
        colMask[c] = cols.child[c] < 0 ? -1 : mask;
      }
    }
    Unpack.parallel(n, (long) n * d, i -> {
      boolean rowSplit = rows.child[i] >= 0;
      if (!rowSplit) {
        Digits.extractMasked(x, i * d, colMask, out, i * w, d);
        for (int c = d; c < w; c++) out[i * w + c] = (byte) ((x[i * d + colSource[c]] >> colShift[c]) & colMask[c]);
        return;
      }
      for (int j = 0; j < d; j++) {
        int v = x[i * d + j];
        int r = i;
        int c = j;
        int t = 0;
        while (rows.child[r] >= 0 || cols.child[c] >= 0) {
          out[r * w + c] = (byte) ((v >> Math.min(31, shift * t)) & mask);
          if (rows.splitTime[r] < cols.splitTime[c]) {
            r = rows.child[r];
          } else {
            c = cols.child[c];
          }
          t++;
        }
        out[r * w + c] = (byte) (v >> Math.min(31, shift * t));
      }
    });
    return out;
  }
}
