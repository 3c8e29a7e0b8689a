package dev.lowbit.kernel.intonly;

import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Dyadic}'s rescale with the Java Vector API, bit for bit the same: each lane widens its
 * int to long, multiplies by m, adds 2^(k−1), shifts right arithmetically by k and is clamped,
 * exactly as the scalar reference. The long lane count is a parameter; the ints are read with the
 * int species of the same lane count. Tails run the scalar code.
 */
public final class VectorDyadic {

  private final Lanes lanes;

  /** Rescales on {@code longs} lanes of 64 bits. */
  public VectorDyadic(VectorSpecies<Long> longs) {
    this.lanes = Lanes.of(longs);
  }

  /** On the platform's preferred long species. */
  public static VectorDyadic preferred() {
    return new VectorDyadic(LongVector.SPECIES_PREFERRED);
  }

  /** The long lanes per step, for logs. */
  public int lanes() {
    return lanes.length();
  }

  /** {@link Dyadic#toInts}, vectorized. */
  public void toInts(Dyadic.Term in, int lo, int hi, int[] out, int outOff, int count) {
    Dyadic.Scale s = in.scale();
    for (int start = 0; start < count; start += s.inner()) {
      int c = (start / s.inner()) % s.channels();
      run(in.values(), in.off() + start, s.mOf(c), s.kOf(c), lo, hi, out, outOff + start, Math.min(s.inner(), count - start));
    }
  }

  /** {@link Dyadic#toBytes}, vectorized (rescaled into ints, then narrowed). */
  public void toBytes(Dyadic.Term in, int lo, int hi, byte[] out, int outOff, int count) {
    if (!Dyadic.fitsByte(lo, hi)) throw new IllegalArgumentException("range " + lo + ".." + hi + " does not fit a byte");
    int[] tmp = new int[count];
    toInts(in, lo, hi, tmp, 0, count);
    for (int i = 0; i < count; i++) out[outOff + i] = (byte) tmp[i];
  }

  /** One channel's run of {@code len} values: out = clamp((z·m + 2^(k−1)) >> k, lo, hi). */
  private void run(int[] z, int zOff, int m, int k, int lo, int hi, int[] out, int outOff, int len) {
    long half = k == 0 ? 0 : 1L << (k - 1);
    int step = lanes.length(), i = 0;
    for (; i + step <= len; i += step) {
      lanes.store(lanes.load(z, zOff + i).mul(m).add(half).lanewise(VectorOperators.ASHR, k).max(lo).min(hi), out, outOff + i);
    }
    for (; i < len; i++) out[outOff + i] = Dyadic.clamp(Dyadic.rescale(z[zOff + i], m, k), lo, hi);
  }
}
