package dev.lowbit.kernel.intonly;

import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Shiftmax#row} with the Java Vector API, bit for bit the same. The exponent's integer part
 * q = floorDiv(p, x0) is found without a division: p and x0 are both ≤ 0 and p ≥ n·x0, so q
 * counts the t in 1..n with p ≤ t·x0. The sum T = min(ΣE, 2^31 − 1) equals the scalar's running
 * clamp because every E ≥ 0 and ΣE fits a long (E &lt; 2^32 by {@link Shiftmax}'s parameter check).
 */
public final class VectorShiftmax {

  private final Lanes lanes;

  /** Shiftmax on {@code longs} lanes of 64 bits. */
  public VectorShiftmax(VectorSpecies<Long> longs) {
    this.lanes = Lanes.of(longs);
  }

  /** On the platform's preferred long species. */
  public static VectorShiftmax preferred() {
    return new VectorShiftmax(LongVector.SPECIES_PREFERRED);
  }

  /** {@link Shiftmax#row}, vectorized: the same arguments, the same output. */
  public void row(int[] x, int off, int len, int x0, int n, int kOut, int[] y, int yOff) {
    Shiftmax.checkRow(len, kOut);
    Shiftmax.checkParameters(x0, n);
    int step = lanes.length(), full = len - len % step;
    int max = Integer.MIN_VALUE;
    for (int i = 0; i < len; i++) max = Math.max(max, x[off + i]);
    long[] e = new long[len];
    long sum = 0;
    for (int i = 0; i < full; i += step) {
      LongVector v = exp(lanes.load(x, off + i).sub(max), x0, n);
      v.intoArray(e, i);
      sum += v.reduceLanes(VectorOperators.ADD);
    }
    for (int i = full; i < len; i++) {
      e[i] = Shiftmax.exp((long) x[off + i] - max, x0, n);
      sum += e[i];
    }
    long f = Shiftmax.reciprocal(Math.min(sum, Shiftmax.INT32_MAX));
    int shift = Shiftmax.M - kOut + 1;
    long bound = (1L << (kOut - 1)) - 1;
    for (int i = 0; i < full; i += step) {
      lanes.store(LongVector.fromArray(lanes.longs(), e, i).mul(f).lanewise(VectorOperators.ASHR, shift).min(bound), y, yOff + i);
    }
    for (int i = full; i < len; i++) y[yOff + i] = Shiftmax.normalise(e[i], f, kOut);
  }

  /** {@link Shiftmax#exp} on every lane of Δ ≤ 0. */
  private LongVector exp(LongVector delta, int x0, int n) {
    LongVector p = delta.add(delta.lanewise(VectorOperators.ASHR, 1)).sub(delta.lanewise(VectorOperators.ASHR, 4));
    p = p.max((long) n * x0);
    LongVector q = LongVector.zero(lanes.longs());
    for (int t = 1; t <= n; t++) q = q.add(1, p.compare(VectorOperators.LE, (long) t * x0));
    LongVector twice = p.sub(q.mul(x0)).sub(2L * x0); // r − 2·x0
    VectorMask<Long> last = q.compare(VectorOperators.EQ, n);
    LongVector shifted = twice.lanewise(VectorOperators.LSHL, q.neg().add(n - 1).max(0));
    return shifted.blend(twice.lanewise(VectorOperators.ASHR, 1), last).max(0);
  }
}
