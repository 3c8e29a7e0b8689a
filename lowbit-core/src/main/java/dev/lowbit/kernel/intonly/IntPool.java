package dev.lowbit.kernel.intonly;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Integer max pooling over a {@link Window} without padding: the largest value of each window, per channel. */
public final class IntPool {

  private IntPool() {}

  /**
   * The species of the 2×2 pool: {@code full} for the input rows, {@code half} (half its width)
   * for the output. A record, so that C2 takes the fields of the static instance as constants.
   */
  record Lanes(VectorSpecies<Byte> full, VectorSpecies<Byte> half) {}

  /** The lanes for the species the machine prefers; null where it is too narrow to halve. */
  private static final Lanes LANES = lanes(ByteVector.SPECIES_PREFERRED);

  /** The lanes of {@code s} where a species of half its width exists (at least 128 bits), else null. */
  static Lanes lanes(VectorSpecies<Byte> s) {
    return switch (s.vectorBitSize()) {
      case 128 -> new Lanes(s, ByteVector.SPECIES_64);
      case 256 -> new Lanes(s, ByteVector.SPECIES_128);
      case 512 -> new Lanes(s, ByteVector.SPECIES_256);
      default -> null;
    };
  }

  /** out[ch, oy, ox] = max over the window at (oy·stride, ox·stride) of in[ch, ·, ·]. */
  public static void max(int[] in, int off, Window g, int[] out, int outOff) {
    int o = outOff;
    for (int start : starts(g)) {
      int best = Integer.MIN_VALUE;
      for (int ky = 0; ky < g.k(); ky++) {
        for (int kx = 0; kx < g.k(); kx++) best = Math.max(best, in[off + start + ky * g.w() + kx]);
      }
      out[o++] = best;
    }
  }

  /**
   * {@link #max(int[], int, Window, int[], int)} of byte values: signed, or with {@code unsigned}
   * read as 0..255 (the output keeps the input's reading).
   */
  public static void max(byte[] in, int off, Window g, boolean unsigned, byte[] out, int outOff) {
    max(in, off, g, unsigned, out, outOff, LANES);
  }

  /** {@link #max(byte[], int, Window, boolean, byte[], int)} with 2×2 stride 2 windows in vectors of {@code lanes} (null: scalar). */
  static void max(byte[] in, int off, Window g, boolean unsigned, byte[] out, int outOff, Lanes lanes) {
    if (g.pad() != 0) throw new IllegalArgumentException("max pool takes no padding, got " + g.pad());
    int mask = unsigned ? 0xFF : -1, k = g.k(), w = g.w(), stride = g.stride(), oh = g.outH(), ow = g.outW();
    int o = outOff;
    for (int ch = 0; ch < g.c(); ch++) {
      for (int oy = 0; oy < oh; oy++) {
        int row = off + (ch * g.h() + oy * stride) * w;
        if (k == 2 && stride == 2) {
          int ox = lanes == null ? 0 : pairs(in, row, w, unsigned, out, o, ow, lanes);
          for (; ox < ow; ox++) {
            int at = row + 2 * ox;
            out[o + ox] = (byte) Math.max(Math.max(in[at] & mask, in[at + 1] & mask), Math.max(in[at + w] & mask, in[at + w + 1] & mask));
          }
          o += ow;
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

  /**
   * The 2×2 windows of the row pair at {@code row} and {@code row + w}, a vector of input bytes at
   * a time: the rows' lane-wise max, then each pair of neighbours as one short, whose two bytes
   * (sign-extended) give the max, narrowed back to bytes. Unsigned values are flipped by 0x80 so
   * that their order is the signed one. Returns the first output column left to do.
   */
  private static int pairs(byte[] in, int row, int w, boolean unsigned, byte[] out, int o, int ow, Lanes lanes) {
    VectorSpecies<Byte> species = lanes.full(), half = lanes.half();
    byte flip = unsigned ? (byte) 0x80 : 0;
    int step = half.length(), ox = 0;
    for (; ox + step <= ow; ox += step) {
      int at = row + 2 * ox;
      ByteVector top = ByteVector.fromArray(species, in, at).lanewise(VectorOperators.XOR, flip);
      ByteVector bottom = ByteVector.fromArray(species, in, at + w).lanewise(VectorOperators.XOR, flip);
      ShortVector both = (ShortVector) top.max(bottom).reinterpretAsShorts();
      ShortVector best = both.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8).max(both.lanewise(VectorOperators.ASHR, 8));
      ((ByteVector) best.convertShape(VectorOperators.S2B, half, 0)).lanewise(VectorOperators.XOR, flip).intoArray(out, o + ox);
    }
    return ox;
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
