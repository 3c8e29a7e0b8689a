package dev.lowbit.kernel.intonly;

/**
 * A k×k window sliding with {@code stride} over c×h×w (one sample, row-major) with {@code pad}
 * zeros on each side: the geometry of a convolution's im2col and of a max pool (pad 0).
 */
public record Window(int c, int h, int w, int k, int stride, int pad) {
  public Window {
    if (c <= 0 || h <= 0 || w <= 0 || k <= 0 || stride <= 0 || pad < 0 || k > h + 2 * pad || k > w + 2 * pad) {
      throw new IllegalArgumentException("bad window: " + c + "×" + h + "×" + w + ", k" + k + " s" + stride + " p" + pad);
    }
  }

  public int outH() {
    return (h + 2 * pad - k) / stride + 1;
  }

  public int outW() {
    return (w + 2 * pad - k) / stride + 1;
  }

  /** The length of one patch, c·k·k. */
  public int patch() {
    return c * k * k;
  }
}
