package dev.lowbit.kernel.intonly;

/** Integer max pooling over a {@link Window} without padding: the largest value of each window, per channel. */
public final class IntPool {

  private IntPool() {}

  /** out[ch, oy, ox] = max over the window at (oy·stride, ox·stride) of in[ch, ·, ·]. */
  public static void max(int[] in, int off, Window g, int[] out, int outOff) {
    if (g.k() == 2 && g.stride() == 2) {
      max2x2(in, off, g, out, outOff);
      return;
    }
    int o = outOff;
    for (int start : starts(g)) {
      int best = Integer.MIN_VALUE;
      for (int ky = 0; ky < g.k(); ky++) {
        for (int kx = 0; kx < g.k(); kx++) best = Math.max(best, in[off + start + ky * g.w() + kx]);
      }
      out[o++] = best;
    }
  }

  /** The 2×2, stride 2 window of {@link #max(int[], int, Window, int[], int)}, row by row without a table of starts. */
  private static void max2x2(int[] in, int off, Window g, int[] out, int outOff) {
    if (g.pad() != 0) throw new IllegalArgumentException("max pool takes no padding, got " + g.pad());
    int w = g.w(), oh = g.outH(), ow = g.outW(), o = outOff;
    for (int ch = 0; ch < g.c(); ch++) {
      for (int oy = 0; oy < oh; oy++, o += ow) {
        int row = off + (ch * g.h() + 2 * oy) * w;
        for (int ox = 0; ox < ow; ox++) {
          int at = row + 2 * ox;
          out[o + ox] = Math.max(Math.max(in[at], in[at + 1]), Math.max(in[at + w], in[at + w + 1]));
        }
      }
    }
  }

  /**
   * {@link #max(int[], int, Window, int[], int)} of byte values: signed, or with {@code unsigned}
   * read as 0..255 (the output keeps the input's reading).
   */
  public static void max(byte[] in, int off, Window g, boolean unsigned, byte[] out, int outOff) {
    if (g.pad() != 0) throw new IllegalArgumentException("max pool takes no padding, got " + g.pad());
    int mask = unsigned ? 0xFF : -1, k = g.k(), w = g.w(), stride = g.stride(), oh = g.outH(), ow = g.outW();
    int o = outOff;
    for (int ch = 0; ch < g.c(); ch++) {
      for (int oy = 0; oy < oh; oy++) {
        int row = off + (ch * g.h() + oy * stride) * w;
        if (k == 2 && stride == 2) {
          for (int ox = 0; ox < ow; ox++, o++) {
            int at = row + 2 * ox;
            out[o] = (byte) Math.max(Math.max(in[at] & mask, in[at + 1] & mask), Math.max(in[at + w] & mask, in[at + w + 1] & mask));
          }
          continue;
        }
        for (int ox = 0; ox < ow; ox++, o++) {
          int best = Integer.MIN_VALUE, start = row + ox * stride;
          for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) best = Math.max(best, in[start + ky * w + kx] & mask);
          }
          out[o] = (byte) best;
        }
      }
    }
  }

  /** The offset of each window's top-left element, in output order (channel, row, column). */
  static int[] starts(Window g) {
    if (g.pad() != 0) throw new IllegalArgumentException("max pool takes no padding, got " + g.pad());
    int oh = g.outH(), ow = g.outW();
    int[] s = new int[g.c() * oh * ow];
    int i = 0;
    for (int ch = 0; ch < g.c(); ch++) {
      for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) s[i++] = (ch * g.h() + oy * g.stride()) * g.w() + ox * g.stride();
      }
    }
    return s;
  }
}
