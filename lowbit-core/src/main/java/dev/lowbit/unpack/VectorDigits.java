package dev.lowbit.unpack;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** {@link Digits}' Vector API loops; loaded only where the module is. Each returns how many entries it did. */
final class VectorDigits {

  private VectorDigits() {}

  /** The preferred int species and the byte species of as many lanes (a quarter of its bits). */
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  /** Byte vectors have at least 64 bits: below 256-bit int vectors the scalar loop does it all. */
  private static final boolean USED = I.vectorBitSize() >= 256;
  private static final VectorSpecies<Byte> B =
      USED ? VectorSpecies.of(byte.class, VectorShape.forBitSize(I.vectorBitSize() / 4)) : ByteVector.SPECIES_64;
  private static final int L = USED ? I.length() : Integer.MAX_VALUE;

  static int extract(int[] x, int from, byte[] out, int to, int len, int s, int mask) {
    int k = 0;
    for (; USED && k <= len - L; k += L) {
      IntVector v = IntVector.fromArray(I, x, from + k).lanewise(VectorOperators.ASHR, s).and(mask);
      v.convertShape(VectorOperators.I2B, B, 0).reinterpretAsBytes().intoArray(out, to + k);
    }
    return k;
  }

  static int extractMasked(int[] x, int from, int[] mask, byte[] out, int to, int len) {
    int k = 0;
    for (; USED && k <= len - L; k += L) {
      IntVector v = IntVector.fromArray(I, x, from + k).and(IntVector.fromArray(I, mask, k));
      v.convertShape(VectorOperators.I2B, B, 0).reinterpretAsBytes().intoArray(out, to + k);
    }
    return k;
  }

  /** The start of the first vector from {@code from} that holds an entry with |x| > max, or where whole vectors end. */
  static int nextHeavy(int[] x, int from, int to, int max) {
    int k = from;
    for (; USED && k <= to - L; k += L) {
      IntVector v = IntVector.fromArray(I, x, k);
      if (v.compare(VectorOperators.GT, max).or(v.compare(VectorOperators.LT, -max)).anyTrue()) return k;
    }
    return k;
  }
}
