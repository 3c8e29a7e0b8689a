package dev.lowbit.kernel;

/**
 * Output scaling for integer GEMMs in dynamic fixed point: the int32 result of an int8/int16 GEMM
 * times the scales its operands were quantized with, per tensor, per row (of A), per column (of
 * B) or per block of C. Each value is computed as {@code (float) (c · s)} in double, where s is
 * the product of the applicable scales in double. With one scale (or power-of-two scales, as in
 * DFP) that is a single rounding to float; with several non-power-of-two scales the double
 * products may round first, so the result is within a few ulps of double of the exact value
 * before the final rounding to float.
 */
public final class IntGemmEpilogue {

  private IntGemmEpilogue() {}

  /**
   * out[i, j] = c[i, j] · scale · rowScale[i] · colScale[j] for the m×n block of C; a null
   * rowScale or colScale counts as all ones.
   *
   * @throws IllegalArgumentException when a scale array is shorter than m (rows) or n (columns),
   *     or a shape or leading dimension is invalid
   */
  public static void dequantize(
      int m, int n, int[] c, int cOff, int ldc,
      float scale, float[] rowScale, float[] colScale, float[] out, int outOff, int ldo) {
    checkShape(m, n, ldc, ldo);
    if (rowScale != null && rowScale.length < m) {
      throw new IllegalArgumentException(
          "rowScale has " + rowScale.length + " entries; need one per row of C (m=" + m + ")");
    }
    if (colScale != null && colScale.length < n) {
      throw new IllegalArgumentException(
          "colScale has " + colScale.length + " entries; need one per column of C (n=" + n + ")");
    }
    for (int i = 0; i < m; i++) {
      double rs = rowScale == null ? scale : (double) scale * rowScale[i];
      int ci = cOff + i * ldc;
      int oi = outOff + i * ldo;
      if (colScale == null) {
        for (int j = 0; j < n; j++) out[oi + j] = (float) (c[ci + j] * rs);
      } else {
        for (int j = 0; j < n; j++) out[oi + j] = (float) (c[ci + j] * (rs * colScale[j]));
      }
    }
  }

  /**
   * out[i, j] = c[i, j] · blockScale[(i / blockRows) · ⌈n / blockCols⌉ + j / blockCols]: one
   * scale per blockRows × blockCols tile of C, tiles in row-major order.
   *
   * @throws IllegalArgumentException when a block size is below 1, blockScale is shorter than
   *     the number of tiles, or a shape or leading dimension is invalid
   */
  public static void dequantizeBlocks(
      int m, int n, int[] c, int cOff, int ldc,
      float[] blockScale, int blockRows, int blockCols, float[] out, int outOff, int ldo) {
    checkShape(m, n, ldc, ldo);
    if (blockRows < 1 || blockCols < 1) {
      throw new IllegalArgumentException(
          "block size must be >= 1x1, got " + blockRows + "x" + blockCols);
    }
    int tilesPerRow = (n + blockCols - 1) / blockCols;
    long tiles = (long) ((m + blockRows - 1) / blockRows) * tilesPerRow;
    if (blockScale.length < tiles) {
      throw new IllegalArgumentException(
          "blockScale has " + blockScale.length + " entries; a " + m + "x" + n + " C in "
              + blockRows + "x" + blockCols + " blocks needs " + tiles);
    }
    for (int i = 0; i < m; i++) {
      int row = (i / blockRows) * tilesPerRow;
      int ci = cOff + i * ldc;
      int oi = outOff + i * ldo;
      for (int j = 0; j < n; j++) {
        out[oi + j] = (float) (c[ci + j] * (double) blockScale[row + j / blockCols]);
      }
    }
  }

  private static void checkShape(int m, int n, int ldc, int ldo) {
    if (m < 0 || n < 0) {
      throw new IllegalArgumentException("shape must be non-negative, got m=" + m + " n=" + n);
    }
    if (m > 0 && (ldc < n || ldo < n)) {
      throw new IllegalArgumentException(
          "leading dimensions must be >= n=" + n + ", got ldc=" + ldc + " ldo=" + ldo);
    }
  }
}
