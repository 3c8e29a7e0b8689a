package dev.lowbit.kernel.intonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The vectorized rescale equals the scalar {@link Dyadic} bit for bit, at every long width, on any int, m and k. */
class VectorDyadicTest {

  @SuppressWarnings("unchecked")
  static final VectorSpecies<Long>[] WIDTHS = new VectorSpecies[] {
      LongVector.SPECIES_128, LongVector.SPECIES_256, LongVector.SPECIES_512, LongVector.SPECIES_PREFERRED};

  @Test
  void equalsTheScalarRescale() {
    Random rnd = new Random(17);
    for (VectorSpecies<Long> species : WIDTHS) {
      VectorDyadic vd = new VectorDyadic(species);
      for (int trial = 0; trial < 400; trial++) {
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
      }
    }
  }
}
