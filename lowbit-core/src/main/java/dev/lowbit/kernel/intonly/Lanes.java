package dev.lowbit.kernel.intonly;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** A long species and the int species of the same lane count: ints are read and written through it, computed in longs. */
record Lanes(VectorSpecies<Long> longs, VectorSpecies<Integer> ints, VectorSpecies<Byte> bytes) {

  static Lanes of(VectorSpecies<Long> longs) {
    return new Lanes(longs, VectorSpecies.of(int.class, VectorShape.forBitSize(longs.length() * 32)),
        byteSpecies(longs.length()));
  }

  /** The narrowest byte species of at least {@code lanes} lanes. */
  private static VectorSpecies<Byte> byteSpecies(int lanes) {
    if (lanes <= 8) return ByteVector.SPECIES_64;
    if (lanes <= 16) return ByteVector.SPECIES_128;
    if (lanes <= 32) return ByteVector.SPECIES_256;
    return ByteVector.SPECIES_512;
  }

  int length() {
    return longs.length();
  }

  /** x[at .. at + length()) widened to longs. */
  LongVector load(int[] x, int at) {
    return (LongVector) IntVector.fromArray(ints, x, at).convertShape(VectorOperators.I2L, longs, 0);
  }

  /** v narrowed to ints (each lane already in int range) into out[at ..). */
  void store(LongVector v, int[] out, int at) {
    v.convertShape(VectorOperators.L2I, ints, 0).reinterpretAsInts().intoArray(out, at);
  }

  /** v narrowed to bytes (each lane's low 8 bits) into out[at .. at + length()). */
  void store(LongVector v, byte[] out, int at) {
    ByteVector b = (ByteVector) v.convertShape(VectorOperators.L2B, bytes, 0);
    if (bytes.length() == length()) b.intoArray(out, at);
    else b.intoArray(out, at, bytes.indexInRange(0, length()));
  }
}
