package dev.lowbit.kernel.intonly;

import java.util.Arrays;

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
   * out[i] = (in[i] + wrap) + add for i &lt; count: the first sum wraps (as a product's int32 sums
   * do), the second must not overflow, else ArithmeticException (as {@link Math#addExact}). The
   * overflow test is one OR over the run, so the loop stays free of branches.
   */
  public static void addExact(int[] in, int off, int wrap, int add, int[] out, int outOff, int count) {
    int overflow = 0;
    for (int i = 0; i < count; i++) {
      int a = in[off + i] + wrap, s = a + add;
      overflow |= (a ^ s) & (add ^ s);
      out[outOff + i] = s;
    }
    if (overflow < 0) throw new ArithmeticException("integer overflow");
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

  /**
   * The patches of one sample as columns: out[outOff + ((ch·k + ky)·k + kx)·ld + oy·outW + ox] =
   * in[ch, oy·stride + ky − pad, ox·stride + kx − pad] ^ flip, and {@code flip} (as a byte) outside
   * the image: {@link Window#patch()} rows of outH·outW bytes, {@code ld} apart. W·cols with the
   * weights outC×patch gives the convolution as C×H×W. A flip of 0x80 turns uint8 x into the
   * int8 x − 128 (the zero padding into −128).
   */
  public static void im2colRows(byte[] in, int off, Window g, int flip, byte[] out, int outOff, int ld) {
    int k = g.k(), stride = g.stride(), pad = g.pad(), oh = g.outH(), ow = g.outW(), h = g.h(), w = g.w();
    byte zero = (byte) flip, f = (byte) flip;
    int row = 0;
    for (int ch = 0; ch < g.c(); ch++) {
      for (int ky = 0; ky < k; ky++) {
        for (int kx = 0; kx < k; kx++, row++) {
          int lo = Math.min(ow, Math.max(0, ceilDiv(pad - kx, stride))), hi = Math.max(lo, Math.min(ow, ceilDiv(w + pad - kx, stride)));
          if (stride == 1 && ow == w && hi > lo) {
            sameRows(in, off, g, ch, ky, kx, lo, hi, f, out, outOff + row * ld);
            continue;
          }
          for (int oy = 0; oy < oh; oy++) {
            int y = oy * stride + ky - pad, to = outOff + row * ld + oy * ow;
            if (y < 0 || y >= h) {
              Arrays.fill(out, to, to + ow, zero);
              continue;
            }
            for (int ox = 0; ox < lo; ox++) out[to + ox] = zero;
            int src = off + (ch * h + y) * w + kx - pad;
            if (stride == 1) {
              for (int ox = lo; ox < hi; ox++) out[to + ox] = (byte) (in[src + ox] ^ f);
            } else {
              for (int ox = lo; ox < hi; ox++) out[to + ox] = (byte) (in[src + ox * stride] ^ f);
            }
            for (int ox = hi; ox < ow; ox++) out[to + ox] = zero;
          }
        }
      }
    }
  }

  /**
   * One patch row of a stride-1 window whose output rows are as wide as the input's: the image
   * rows inside are one shifted run of the input plane (copied in one loop), then the columns
   * outside the image [lo, hi) and the rows outside it are set to the padding.
   */
  private static void sameRows(byte[] in, int off, Window g, int ch, int ky, int kx, int lo, int hi, byte f, byte[] out,
      int to) {
    int pad = g.pad(), w = g.w(), oh = g.outH();
    int yLo = Math.min(oh, Math.max(0, pad - ky)), yHi = Math.max(yLo, Math.min(oh, g.h() + pad - ky));
    for (int j = 0; j < yLo * w; j++) out[to + j] = f;
    for (int j = yHi * w; j < oh * w; j++) out[to + j] = f;
    if (yHi == yLo) return;
    int src = off + (ch * g.h() + yLo + ky - pad) * w + kx - pad, dst = to + yLo * w;
    int first = lo, last = (yHi - yLo - 1) * w + hi;
    if (f == 0) System.arraycopy(in, src + first, out, dst + first, last - first);
    else for (int j = first; j < last; j++) out[dst + j] = (byte) (in[src + j] ^ f);
    for (int y = 0; y < yHi - yLo; y++) {
      for (int ox = 0; ox < lo; ox++) out[dst + y * w + ox] = f;
      for (int ox = hi; ox < w; ox++) out[dst + y * w + ox] = f;
    }
  }

  /** {@link #im2colRows(byte[], int, Window, int, byte[], int, int)} of int values, without a flip. */
  public static void im2colRows(int[] in, int off, Window g, int[] out, int outOff, int ld) {
    int k = g.k(), stride = g.stride(), pad = g.pad(), oh = g.outH(), ow = g.outW(), h = g.h(), w = g.w();
    int row = 0;
    for (int ch = 0; ch < g.c(); ch++) {
      for (int ky = 0; ky < k; ky++) {
        for (int kx = 0; kx < k; kx++, row++) {
          for (int oy = 0; oy < oh; oy++) {
            int y = oy * stride + ky - pad, to = outOff + row * ld + oy * ow;
            for (int ox = 0; ox < ow; ox++) {
              int x = ox * stride + kx - pad;
              out[to + ox] = y < 0 || y >= h || x < 0 || x >= w ? 0 : in[off + (ch * h + y) * w + x];
            }
          }
        }
      }
    }
  }

  /** ⌈a / b⌉ for b &gt; 0. */
  private static int ceilDiv(int a, int b) {
    return -Math.floorDiv(-a, b);
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
