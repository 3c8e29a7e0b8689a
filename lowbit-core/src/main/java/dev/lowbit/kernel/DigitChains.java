package dev.lowbit.kernel;

/**
 * Wrapping int32 chains of int16 codes (the contract of {@link ChainedIntGemm#reference} with
 * {@link Accumulator.OverflowMode#WRAP}) computed on an int8 GEMM in ONE call per chain and column
 * tile: every code v with {@code -16448 <= v <= 16319} (DFP16 with two headroom bits keeps
 * {@code |v| <= 2^13}) splits exactly into signed bytes v = H·2^7 + L with L in [-64, 63] and H in
 * [-128, 127]. Stacking A's digits as rows [A_H; A_L] (2m × len) and B's as columns [B_H | B_L]
 * (len × 2n) gives all four digit products A_H·B_H, A_H·B_L, A_L·B_H, A_L·B_L of a chain in one
 * s8×s8→int32 GEMM (each an exact int32 for chains below 2^17), recombined exactly in long as
 * HH·2^14 + (HL + LH)·2^7 + LL; the chain's wrapped int32 value and its overflow event follow from
 * the exact sum. The digits of a chain are packed compactly (so a native backend copies only the
 * chain), and wide outputs are cut into column tiles so that the four partial products stay small.
 * Bits equal the reference's; {@code ChainedIntGemmTest} holds them to it.
 */
final class DigitChains {

  private DigitChains() {}

  /** Smallest and largest code the split takes. */
  static final int MIN = -16448, MAX = 16319;

  /** Partial-product ints per call at most (2m × 2·tile), about 4 MiB. */
  private static final int TILE_INTS = 1 << 20;

  private static final class Scratch {
    byte[] a2 = new byte[0], b2 = new byte[0];
    int[] acc = new int[0];
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  /** Whether every code of the stored rows × cols matrix is in [{@link #MIN}, {@link #MAX}]. */
  static boolean fits(short[] x, int off, int ld, int rows, int cols) {
    // v is in range iff v - MIN is in [0, 2^15): OR the offsets and look for higher (or sign) bits
    int bits = 0;
    for (int r = 0; r < rows; r++) {
      int s = off + r * ld;
      for (int c = 0; c < cols; c++) bits |= x[s + c] - MIN;
    }
    return (bits & ~0x7FFF) == 0;
  }

  /**
   * The chained product on {@code g}'s int8 GEMM; returns the overflow events, or -1 (nothing
   * written) when a code is outside the split's range.
   */
  static long gemm(Gemm g, int chain, boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb,
      double scale, float[] rowScale, float[] colScale, boolean accumulate, float[] c, int cOff, int ldc) {
    return gemm(g, TILE_INTS, chain, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, scale, rowScale, colScale,
        accumulate, c, cOff, ldc);
  }

  /** As above with at most {@code tileInts} partial-product ints per call (tests cut small tiles). */
  static long gemm(Gemm g, int tileInts, int chain, boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb,
      double scale, float[] rowScale, float[] colScale, boolean accumulate, float[] c, int cOff, int ldc) {
    if (m == 0 || n == 0) return 0;
    if (k == 0) {
      if (!accumulate) for (int i = 0; i < m; i++) java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
      return 0;
    }
    int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
    if (!fits(a, aOff, lda, aRows, aCols) || !fits(b, bOff, ldb, bRows, bCols)) return -1;
    Scratch s = SCRATCH.get();
    int maxLen = Math.min(chain, k);
    int tile = (int) Math.max(1, Math.min(n, tileInts / (4L * m)));
    if (s.a2.length < 2 * m * maxLen) s.a2 = new byte[2 * m * maxLen];
    if (s.b2.length < 2 * tile * maxLen) s.b2 = new byte[2 * tile * maxLen];
    if (s.acc.length < 4 * m * tile) s.acc = new int[4 * m * tile];
    byte[] a2 = s.a2, b2 = s.b2;
    int[] acc = s.acc;
    long events = 0;
    for (int k0 = 0; k0 < k; k0 += Math.min(chain, k - k0)) {
      int len = Math.min(chain, k - k0), kk = k0;
      // A's chain digits: row i of op(A) → H at row i, L at row m + i of a2 (2m × len)
      Parallel.forRange(m, 2L * len, (i0, i1) -> {
        for (int i = i0; i < i1; i++) {
          int h = i * len, l = (m + i) * len;
          if (transA) {
            for (int p = 0; p < len; p++) {
              int v = a[aOff + (kk + p) * lda + i];
              int hv = (v + 64) >> 7;
              a2[h + p] = (byte) hv;
              a2[l + p] = (byte) (v - (hv << 7));
            }
          } else {
            int src = aOff + i * lda + kk;
            for (int p = 0; p < len; p++) {
              int v = a[src + p];
              int hv = (v + 64) >> 7;
              a2[h + p] = (byte) hv;
              a2[l + p] = (byte) (v - (hv << 7));
            }
          }
        }
      });
      for (int j0 = 0; j0 < n; j0 += tile) {
        int nt = Math.min(tile, n - j0), jj = j0, w = 2 * nt;
        // B's chain digits for columns [j0, j0 + nt): row p of b2 = [H of the nt columns | L of them]
        if (transB) {
          Parallel.forRange(nt, 2L * len, (c0, c1) -> {
            for (int j = c0; j < c1; j++) {
              int src = bOff + (jj + j) * ldb + kk;
              for (int p = 0; p < len; p++) {
                int v = b[src + p];
                int hv = (v + 64) >> 7;
                b2[p * w + j] = (byte) hv;
                b2[p * w + nt + j] = (byte) (v - (hv << 7));
              }
            }
          });
        } else {
          Parallel.forRange(len, 2L * nt, (p0, p1) -> {
            for (int p = p0; p < p1; p++) {
              int src = bOff + (kk + p) * ldb + jj, d = p * w;
              for (int j = 0; j < nt; j++) {
                int v = b[src + j];
                int hv = (v + 64) >> 7;
                b2[d + j] = (byte) hv;
                b2[d + nt + j] = (byte) (v - (hv << 7));
              }
            }
          });
        }
        g.gemmS8S8(false, false, 2 * m, w, len, a2, 0, len, b2, 0, w, acc, 0, w);
        boolean add = accumulate || k0 > 0;
        long[] ev = new long[Math.max(1, Parallel.threads())];
        int parts = ev.length;
        Parallel.forParts((long) m * nt >= Parallel.MIN_WORK ? parts : 1, m, (i0, i1) -> {
          long e = 0;
          for (int i = i0; i < i1; i++) {
            double rs = rowScale == null ? scale : scale * rowScale[i];
            int hr = i * w, lr = (m + i) * w, ci = cOff + i * ldc + jj;
            for (int j = 0; j < nt; j++) {
              long sum = ((long) acc[hr + j] << 14) + (((long) acc[hr + nt + j] + acc[lr + j]) << 7) + acc[lr + nt + j];
              int v32 = (int) sum;
              if (v32 != sum) e++;
              double sj = colScale == null ? rs : rs * colScale[jj + j];
              float v = (float) (v32 * sj);
              c[ci + j] = add ? c[ci + j] + v : v;
            }
          }
          synchronized (ev) {
            ev[0] += e;
          }
        });
        events += ev[0];
      }
    }
    return events;
  }
}
