package dev.lowbit.kernel.intonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The vector kernels equal their scalar references bit for bit, at every long width: the rescale on any int, m and k; Shiftmax on any row and constants. */
class VectorKernelsTest {

  @SuppressWarnings("unchecked")
  static final VectorSpecies<Long>[] WIDTHS = new VectorSpecies[] {
      LongVector.SPECIES_128, LongVector.SPECIES_256, LongVector.SPECIES_512, LongVector.SPECIES_PREFERRED};

  /** One random case on one width. */
  interface Trial {
    void run(VectorKernels vk, Random rnd, int trial, String species);
  }

  static void onEveryWidth(long seed, int trials, Trial t) {
    Random rnd = new Random(seed);
    for (VectorSpecies<Long> species : WIDTHS) {
      for (int trial = 0; trial < trials; trial++) t.run(new VectorKernels(species), rnd, trial, species.toString());
    }
  }

  @Test
  void rescaleEqualsTheScalar() {
    onEveryWidth(17, 400, (vd, rnd, trial, species) -> {
      int channels = 1 + rnd.nextInt(5), inner = 1 + rnd.nextInt(40), count = rnd.nextInt(300), off = rnd.nextInt(3);
      int per = rnd.nextBoolean() ? 1 : channels;
      int[] m = new int[per], k = new int[per];
      for (int c = 0; c < per; c++) {
        m[c] = rnd.nextInt(4) == 0 ? rnd.nextInt() : (1 << 30) + rnd.nextInt(1 << 30);
        k[c] = rnd.nextInt(4) == 0 ? rnd.nextInt(63) : 20 + rnd.nextInt(25);
      }
      int[] z = new int[off + count];
      for (int i = 0; i < z.length; i++) z[i] = rnd.nextInt(3) == 0 ? rnd.nextInt() : rnd.nextInt(1 << 20) - (1 << 19);
      Dyadic.Term term = new Dyadic.Term(z, off, new Dyadic.Scale(m, k, per == 1 ? 1 : channels, inner));
      int lo = rnd.nextBoolean() ? -128 : Integer.MIN_VALUE, hi = lo == -128 ? 127 : Integer.MAX_VALUE;
      int[] want = new int[count + 2], got = new int[count + 2];
      Dyadic.toInts(term, lo, hi, want, 1, count);
      vd.toInts(term, lo, hi, got, 1, count);
      assertArrayEquals(want, got, species + " trial " + trial);
      byte[] wantB = new byte[count], gotB = new byte[count];
      Dyadic.toBytes(term, 0, 255, wantB, 0, count);
      vd.toBytes(term, 0, 255, gotB, 0, count);
      assertArrayEquals(wantB, gotB, species + " bytes, trial " + trial);
    });
  }

  @Test
  void shiftmaxGivesTheWorkedExample() {
    int[] x = {25, 10, 0, -12, -40, -100};
    for (VectorSpecies<Long> species : WIDTHS) {
      int[] y = new int[x.length];
      new VectorKernels(species).shiftmax(x, 0, x.length, -13, 15, 16, y, 0);
      assertArrayEquals(new int[] {21164, 6919, 3256, 1271, 152, 1}, y, species.toString());
    }
  }

  /** Random rows (int8 scores, and any int), constants across their whole range (bitlen(|x0|) + n ≤ 32), any kOut. */
  @Test
  void shiftmaxEqualsTheScalarRow() {
    onEveryWidth(23, 500, (vs, rnd, trial, species) -> {
      int len = 1 + rnd.nextInt(trial < 400 ? 40 : 600), off = rnd.nextInt(3);
      int n = rnd.nextInt(4) == 0 ? rnd.nextInt(31) : 15 + rnd.nextInt(3);
      int bits = 1 + rnd.nextInt(Math.min(31, 32 - n));
      int x0 = -(1 + rnd.nextInt(bits == 31 ? Integer.MAX_VALUE : (1 << bits) - 1));
      int kOut = 1 + rnd.nextInt(31);
      boolean wide = rnd.nextInt(5) == 0;
      int[] x = new int[off + len];
      for (int i = 0; i < x.length; i++) x[i] = wide ? rnd.nextInt() : rnd.nextInt(256) - 128;
      int[] want = new int[len + 1], got = new int[len + 1];
      Shiftmax.row(x, off, len, x0, n, kOut, want, 1);
      vs.shiftmax(x, off, len, x0, n, kOut, got, 1);
      assertArrayEquals(want, got, species + " trial " + trial + ": x0 " + x0 + " n " + n + " kOut " + kOut);
    });
  }
}
