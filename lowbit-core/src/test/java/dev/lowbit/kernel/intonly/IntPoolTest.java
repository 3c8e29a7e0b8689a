package dev.lowbit.kernel.intonly;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Random;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The 2×2 stride-2 byte max pool in vectors of every width (and scalar) against the int pool. */
class IntPoolTest {

  @Test
  void vectorPairPoolingEqualsIntPoolingAtEveryWidth() {
    Random rnd = new Random(11);
    byte[] extremes = {-128, 127, 0, -1, 1};
    for (int trial = 0; trial < 200; trial++) {
      int c = 1 + rnd.nextInt(3), h = 2 + rnd.nextInt(6), w = 2 + rnd.nextInt(90), off = rnd.nextInt(5);
      Window g = new Window(c, h, w, 2, 2, 0);
      byte[] in = new byte[off + c * h * w + rnd.nextInt(3)];
      rnd.nextBytes(in);
      for (int i = 0; i < in.length; i++) {
        if (rnd.nextInt(4) == 0) in[i] = extremes[rnd.nextInt(extremes.length)];
      }
      for (boolean unsigned : new boolean[] {false, true}) {
        int[] wide = new int[in.length], want = new int[c * g.outH() * g.outW()];
        for (int i = 0; i < in.length; i++) wide[i] = unsigned ? in[i] & 0xFF : in[i];
        IntPool.max(wide, off, g, want, 0);
        for (VectorSpecies<Byte> s : new VectorSpecies[] {ByteVector.SPECIES_64, ByteVector.SPECIES_128, ByteVector.SPECIES_256, ByteVector.SPECIES_512}) {
          byte[] got = new byte[want.length + 2];
          IntPool.max(in, off, g, unsigned, got, 2, IntPool.lanes(s));
          for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], unsigned ? got[i + 2] & 0xFF : got[i + 2], "trial " + trial + " species " + s + " at " + i);
          }
        }
      }
    }
  }

  @Test
  void aSpeciesTooNarrowToHalveIsNone() {
    assertNull(IntPool.lanes(ByteVector.SPECIES_64));
    assertSame(ByteVector.SPECIES_64, IntPool.lanes(ByteVector.SPECIES_128).half());
    assertSame(ByteVector.SPECIES_256, IntPool.lanes(ByteVector.SPECIES_512).half());
  }
}
