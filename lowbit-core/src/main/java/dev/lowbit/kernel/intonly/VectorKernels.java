package dev.lowbit.kernel.intonly;

import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The hot integer kernels with the Java Vector API, each bit for bit its scalar reference: the
 * dyadic rescale of products' outputs ({@link Dyadic}) and Shiftmax rows ({@link Shiftmax#row}).
 * Lanes hold longs (ints are widened on load and narrowed on store); the long lane count is a
 * parameter. Tails run the scalar code.
 *
 * <p>Rescale: each lane multiplies by m, adds 2^(k−1), shifts right arithmetically by k and is
 * clamped, as the scalar code. Shiftmax: the exponent's integer part q = floorDiv(p, x0) is found
 * without a division: p and x0 are both ≤ 0 and p ≥ n·x0, so q counts the t in 1..n with p ≤
 * t·x0; the sum T = min(ΣE, 2^31 − 1) equals the scalar's running clamp because every E ≥ 0 and ΣE
 * fits a long (E &lt; 2^32 by {@link Shiftmax}'s parameter check).
 */
public final class VectorKernels {

  /**
   * The preferred lanes as a constant: C2 compiles the Vector API to vector instructions only where
   * the species is a constant, so each public kernel calls its static body with this constant when
   * it applies (a final instance field is not folded; the record's fields are).
   */
  private static final Lanes PREFERRED = Lanes.of(LongVector.SPECIES_PREFERRED);

  private final Lanes lanes;

  /** Kernels on {@code longs} lanes of 64 bits. */
  public VectorKernels(VectorSpecies<Long> longs) {
    Lanes l = Lanes.of(longs);
    this.lanes = l.equals(PREFERRED) ? PREFERRED : l;
  }

  /** On the platform's preferred long species. */
  public static VectorKernels preferred() {
    return new VectorKernels(LongVector.SPECIES_PREFERRED);
  }

  /** The long lanes per step, for logs. */
  public int lanes() {
    return lanes.length();
  }

  /** {@link Dyadic#toInts}, vectorized. */
  public void toInts(Dyadic.Term in, int lo, int hi, int[] out, int outOff, int count) {
    if (lanes == PREFERRED) rescale(PREFERRED, in, lo, hi, out, null, outOff, count);
    else rescale(lanes, in, lo, hi, out, null, outOff, count);
  }

  /** {@link Dyadic#toBytes}, vectorized (rescaled in long lanes, narrowed to their low bytes). */
  public void toBytes(Dyadic.Term in, int lo, int hi, byte[] out, int outOff, int count) {
    if (!Dyadic.fitsByte(lo, hi)) throw new IllegalArgumentException("range " + lo + ".." + hi + " does not fit a byte");
    if (lanes == PREFERRED) rescale(PREFERRED, in, lo, hi, null, out, outOff, count);
    else rescale(lanes, in, lo, hi, null, out, outOff, count);
  }

  /** Each channel's run: out = clamp((z·m + 2^(k−1)) >> k, lo, hi), into {@code ints} or else {@code bytes}. */
  private static void rescale(Lanes lanes, Dyadic.Term in, int lo, int hi, int[] ints, byte[] bytes, int outOff, int count) {
    Dyadic.Scale s = in.scale();
    int[] z = in.values();
    int step = lanes.length();
    for (int start = 0; start < count; start += s.inner()) {
      int c = (start / s.inner()) % s.channels();
      int m = s.mOf(c), k = s.kOf(c), len = Math.min(s.inner(), count - start), at = in.off() + start, to = outOff + start;
      long half = k == 0 ? 0 : 1L << (k - 1);
      int i = 0;
      for (; i + step <= len; i += step) {
        LongVector v = lanes.load(z, at + i).mul(m).add(half).lanewise(VectorOperators.ASHR, k).max(lo).min(hi);
        if (ints != null) lanes.store(v, ints, to + i);
        else lanes.store(v, bytes, to + i);
      }
      for (; i < len; i++) {
        int v = Dyadic.clamp(Dyadic.rescale(z[at + i], m, k), lo, hi);
        if (ints != null) ints[to + i] = v;
        else bytes[to + i] = (byte) v;
      }
    }
  }

  /** {@link Shiftmax#row}, vectorized: the same arguments, the same output. */
  public void shiftmax(int[] x, int off, int len, int x0, int n, int kOut, int[] y, int yOff) {
    if (lanes == PREFERRED) shiftmax(PREFERRED, x, off, len, x0, n, kOut, y, yOff);
    else shiftmax(lanes, x, off, len, x0, n, kOut, y, yOff);
  }

  private static void shiftmax(Lanes lanes, int[] x, int off, int len, int x0, int n, int kOut, int[] y, int yOff) {
    Shiftmax.checkRow(len, kOut);
    Shiftmax.checkParameters(x0, n);
    int step = lanes.length(), full = len - len % step;
    int max = Integer.MIN_VALUE;
    for (int i = 0; i < len; i++) max = Math.max(max, x[off + i]);
    long[] e = new long[len];
    long sum = 0;
    for (int i = 0; i < full; i += step) {
      LongVector v = exp(lanes, lanes.load(x, off + i).sub(max), x0, n);
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
  private static LongVector exp(Lanes lanes, LongVector delta, int x0, int n) {
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
