package dev.lowbit.kernel.intonly;

/** Moves of integer data: transposes and the im2col that turns a convolution into a matrix product. */
public final class IntLayout {

  private IntLayout() {}

  /** out = inᵀ: in is rows×cols, out cols×rows. */
  public static void transpose(int[] in, int off, int rows, int cols, int[] out, int outOff) {
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) out[outOff + c * rows + r] = in[off + r * cols + c];
    }
  }

  /**
   * out[c, r] = in[r, c] + add[c], exact ({@link Math#addExact}): in is rows×cols, out cols×rows.
   * In tiles, so that both sides stay in cache.
   */
  public static void transposeAdding(int[] in, int off, int rows, int cols, int[] add, int[] out, int outOff) {
    final int tile = 16;
    for (int r0 = 0; r0 < rows; r0 += tile) {
      int r1 = Math.min(rows, r0 + tile);
      for (int c = 0; c < cols; c++) {
        int a = add[c], o = outOff + c * rows;
        for (int r = r0; r < r1; r++) out[o + r] = Math.addExact(in[off + r * cols + c], a);
      }
    }
  }

  /** {@link #transpose(int[], int, int, int, int[], int)} of bytes. */
  public static void transpose(byte[] in, int off, int rows, int cols, byte[] out, int outOff) {
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) out[outOff + c * rows + r] = in[off + r * cols + c];
    }
  }

  /**
   * The patches of a convolution as rows: out[(oy·outW + ox), (ch·k + ky)·k + kx] = in[ch, oy·stride
   * + ky − pad, ox·stride + kx − pad], zero outside the image; outH·outW rows of {@link
   * Window#patch()} bytes. The bytes are copied as they are, so int8 and uint8 inputs alike keep
   * their reading (and 0 is zero in both), and A·Wᵀ with the weights outC×patch gives the
   * convolution, position-major.
   */
  public static void im2col(byte[] in, int off, Window g, byte[] out, int outOff) {
    im2col(in, off, patchIndex(g), out, outOff);
  }

  /** {@link #im2col(byte[], int, Window, byte[], int)} with the gather of {@link #patchIndex} computed once. */
  public static void im2col(byte[] in, int off, int[] index, byte[] out, int outOff) {
    for (int i = 0; i < index.length; i++) out[outOff + i] = index[i] < 0 ? 0 : in[off + index[i]];
  }

  /** {@link #im2col(byte[], int, int[], byte[], int)} of int values. */
  public static void im2col(int[] in, int off, int[] index, int[] out, int outOff) {
    for (int i = 0; i < index.length; i++) out[outOff + i] = index[i] < 0 ? 0 : in[off + index[i]];
  }

  /** Where each im2col element comes from in one sample's c×h×w, −1 for the zero padding. */
  public static int[] patchIndex(Window g) {
    int k = g.k(), o = 0;
    int[] index = new int[g.outH() * g.outW() * g.patch()];
    for (int oy = 0; oy < g.outH(); oy++) {
      for (int ox = 0; ox < g.outW(); ox++) {
        for (int ch = 0; ch < g.c(); ch++) {
          for (int ky = 0; ky < k; ky++) {
            int y = oy * g.stride() + ky - g.pad();
            for (int kx = 0; kx < k; kx++) {
              int x = ox * g.stride() + kx - g.pad();
              index[o++] = y < 0 || y >= g.h() || x < 0 || x >= g.w() ? -1 : (ch * g.h() + y) * g.w() + x;
            }
          }
        }
      }
    }
    return index;
  }
}
