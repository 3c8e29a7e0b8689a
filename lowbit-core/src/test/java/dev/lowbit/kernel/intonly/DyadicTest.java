package dev.lowbit.kernel.intonly;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Dyadic requantization: the spec's worked example (§2.3), round half up, channels, clamps, the residual add. */
class DyadicTest {

  /** r = 0.0123·0.0041/0.0217 → (f, e) = frexp(r), m = round_half_up(f·2^31), k = 31 − e; z = 123456 → 287. */
  @Test
  void theSpecsWorkedExample() {
    double r = 0.0123 * 0.0041 / 0.0217;
    int e = Math.getExponent(r) + 1;
    double f = r / Math.scalb(1.0, e);
    assertEquals(1277612244L, (long) Math.floor(f * (1L << 31) + 0.5));
    assertEquals(39, 31 - e);
    assertEquals(287, Dyadic.rescale(123456, 1277612244, 39));
    int[] out = new int[1];
    Dyadic.toInts(new Dyadic.Term(new int[] {123456}, 0, Dyadic.Scale.of(1277612244, 39)), -32768, 32767, out, 0, 1);
    assertEquals(287, out[0]);
  }

  @Test
  void tiesRoundUpAndAZeroShiftOnlyMultiplies() {
    assertEquals(2, Dyadic.rescale(3, 1, 1)); // 1.5
    assertEquals(-1, Dyadic.rescale(-3, 1, 1)); // -1.5
    assertEquals(-2, Dyadic.rescale(-5, 1, 1)); // -2.5
    assertEquals(-1, Dyadic.rescale(-5, 1, 2)); // -1.25
    assertEquals(35, Dyadic.rescale(5, 7, 0));
    assertEquals(-35, Dyadic.rescale(5, -7, 0));
  }

  /** round(z·m/2^k) half up is floor((2·z·m + 2^k) / 2^(k+1)), evaluated here in BigInteger. */
  @Property(tries = 2000)
  void rescaleIsExactRoundHalfUpForEveryIntAndShift(@ForAll int z, @ForAll int m, @ForAll @IntRange(min = 0, max = 62) int k) {
    BigInteger num = BigInteger.valueOf(z).multiply(BigInteger.valueOf(m)).shiftLeft(1).add(BigInteger.ONE.shiftLeft(k));
    BigInteger want = num.shiftRight(k + 1); // shiftRight floors
    assertEquals(want.longValueExact(), Dyadic.rescale(z, m, k));
  }

  /** The edges of the shift (0, 1, 61, 62) with the int extremes, against the BigInteger definition. */
  @Test
  void rescaleIsExactAtTheEdges() {
    int[] values = {Integer.MIN_VALUE, Integer.MIN_VALUE + 1, -3, -1, 0, 1, 3, Integer.MAX_VALUE - 1, Integer.MAX_VALUE};
    for (int k : new int[] {0, 1, 2, 30, 31, 32, 61, 62}) {
      for (int z : values) {
        for (int m : values) {
          BigInteger num = BigInteger.valueOf(z).multiply(BigInteger.valueOf(m)).shiftLeft(1).add(BigInteger.ONE.shiftLeft(k));
          assertEquals(num.shiftRight(k + 1).longValueExact(), Dyadic.rescale(z, m, k), z + "·" + m + "/2^" + k);
        }
      }
    }
  }

  /** Element i of a sample is in channel (i / inner) % channels; each channel its own (m, k); clamps at lo and hi. */
  @Test
  void perChannelScalesFollowTheChannelIndexAndClamp() {
    int[] in = {10, 20, 30, 10, 20, 30, 1000, -1000, 5, 7, 9, 11};
    Dyadic.Scale s = new Dyadic.Scale(new int[] {3, 1}, new int[] {1, 2}, 2, 3);
    int[] want = new int[in.length];
    for (int i = 0; i < in.length; i++) {
      int c = (i / 3) % 2;
      long v = c == 0 ? (in[i] * 3L + 1) >> 1 : (in[i] + 2L) >> 2;
      want[i] = (int) Math.max(-128, Math.min(127, v));
    }
    assertArrayEquals(new int[] {15, 30, 45, 3, 5, 8, 127, -128, 8, 2, 2, 3}, want);
    int[] out = new int[in.length + 2];
    Dyadic.toInts(new Dyadic.Term(in, 0, s), -128, 127, out, 2, in.length);
    assertArrayEquals(want, java.util.Arrays.copyOfRange(out, 2, out.length));
    byte[] bytes = new byte[in.length];
    Dyadic.toBytes(new Dyadic.Term(in, 0, s), -128, 127, bytes, 0, in.length);
    for (int i = 0; i < in.length; i++) assertEquals(want[i], bytes[i]);
  }

  /**
   * Every loop of the rescale (per tensor, per channel with inner 1 and with longer runs, a count
   * that ends inside a row) against the scalar definition, on random values with the int extremes,
   * extreme multipliers and shifts 0 and 62, into ints and into signed and unsigned bytes.
   */
  @Property(tries = 300)
  void everyRescaleLoopMatchesTheScalarDefinition(@ForAll long seed, @ForAll @IntRange(min = 1, max = 19) int channels,
      @ForAll @IntRange(min = 1, max = 4) int inner, @ForAll boolean perTensor) {
    java.util.Random rnd = new java.util.Random(seed);
    int size = channels * inner * 3 - rnd.nextInt(channels * inner), lead = rnd.nextInt(4);
    int[] z = new int[lead + size];
    int[] extremes = {Integer.MIN_VALUE, Integer.MAX_VALUE, 0, -1, 1};
    for (int i = 0; i < z.length; i++) z[i] = rnd.nextInt(4) == 0 ? extremes[rnd.nextInt(extremes.length)] : rnd.nextInt();
    int scales = perTensor ? 1 : channels;
    int[] m = new int[scales], k = new int[scales];
    for (int c = 0; c < scales; c++) {
      m[c] = rnd.nextInt(3) == 0 ? extremes[rnd.nextInt(extremes.length)] : rnd.nextInt();
      k[c] = rnd.nextInt(3) == 0 ? (rnd.nextBoolean() ? 0 : 62) : rnd.nextInt(63);
    }
    Dyadic.Scale s = new Dyadic.Scale(m, k, perTensor ? 1 : channels, perTensor ? 1 : inner);
    Dyadic.Term t = new Dyadic.Term(z, lead, s);
    int[][] ranges = {{Integer.MIN_VALUE, Integer.MAX_VALUE}, {-128, 127}, {0, 255}};
    for (int[] r : ranges) {
      int[] want = new int[size];
      for (int i = 0; i < size; i++) {
        int c = perTensor ? 0 : (i / inner) % channels;
        want[i] = (int) Math.max(r[0], Math.min(r[1], Dyadic.rescale(z[lead + i], m[c], k[c])));
      }
      int[] ints = new int[size + 1];
      Dyadic.toInts(t, r[0], r[1], ints, 1, size);
      assertArrayEquals(want, java.util.Arrays.copyOfRange(ints, 1, size + 1));
      if (!Dyadic.fitsByte(r[0], r[1])) continue;
      byte[] bytes = new byte[size];
      Dyadic.toBytes(t, r[0], r[1], bytes, 0, size);
      for (int i = 0; i < size; i++) assertEquals(want[i], r[0] < 0 ? bytes[i] : bytes[i] & 0xFF);
    }
  }

  /** The biased rescale is the exact add of the channel's bias, then the rescale; an overflowing add throws. */
  @Property(tries = 300)
  void aBiasedRescaleIsTheExactAddThenTheRescale(@ForAll long seed, @ForAll @IntRange(min = 1, max = 7) int channels,
      @ForAll @IntRange(min = 1, max = 9) int inner, @ForAll boolean perTensor) {
    java.util.Random rnd = new java.util.Random(seed);
    int size = channels * inner, lead = rnd.nextInt(3);
    int[] z = new int[lead + size], bias = new int[channels];
    for (int i = 0; i < z.length; i++) z[i] = rnd.nextInt(1 << 24) - (1 << 23);
    for (int c = 0; c < channels; c++) bias[c] = rnd.nextInt(1 << 24) - (1 << 23);
    int scales = perTensor ? 1 : channels;
    int[] m = new int[scales], k = new int[scales];
    for (int c = 0; c < scales; c++) {
      m[c] = rnd.nextInt();
      k[c] = rnd.nextInt(63);
    }
    Dyadic.Scale s = new Dyadic.Scale(m, k, perTensor ? 1 : channels, perTensor ? 1 : inner);
    assertEquals(true, Dyadic.takesBias(s, channels, inner));
    Dyadic.Term t = new Dyadic.Term(z, lead, s);
    int[] want = new int[size];
    for (int i = 0; i < size; i++) {
      int c = i / inner, sc = perTensor ? 0 : c;
      want[i] = Dyadic.clamp(Dyadic.rescale(Math.addExact(z[lead + i], bias[c]), m[sc], k[sc]), -128, 127);
    }
    int[] ints = new int[size];
    Dyadic.biasedToInts(t, bias, inner, -128, 127, ints, 0, size);
    assertArrayEquals(want, ints);
    byte[] bytes = new byte[size + 1];
    Dyadic.biasedToBytes(t, bias, inner, -128, 127, bytes, 1, size);
    for (int i = 0; i < size; i++) assertEquals(want[i], bytes[i + 1]);
    z[lead + rnd.nextInt(size)] = Integer.MAX_VALUE;
    java.util.Arrays.fill(bias, 1);
    assertThrows(ArithmeticException.class, () -> Dyadic.biasedToInts(t, bias, inner, -128, 127, ints, 0, size));
    if (!perTensor && channels > 1) {
      assertEquals(false, Dyadic.takesBias(s, channels, inner + 1));
      assertThrows(IllegalArgumentException.class, () -> Dyadic.biasedToInts(t, new int[channels - 1], inner, -128, 127, ints, 0, size));
    }
  }

  @Test
  void anUnsignedByteRangeStoresTheLowEightBits() {
    byte[] out = new byte[3];
    Dyadic.toBytes(new Dyadic.Term(new int[] {400, 100, -3}, 0, Dyadic.Scale.of(1, 0)), 0, 255, out, 0, 3);
    assertArrayEquals(new int[] {255, 100, 0}, new int[] {out[0] & 0xFF, out[1] & 0xFF, out[2] & 0xFF});
    assertThrows(IllegalArgumentException.class,
        () -> Dyadic.toBytes(new Dyadic.Term(new int[1], 0, Dyadic.Scale.of(1, 0)), -1, 200, out, 0, 1));
  }

  /** Each branch is rounded on its own before the sum: 3/2 + 3/2 = 2 + 2 = 4, not round(3) = 3. */
  @Test
  void theResidualAddRoundsEachBranchThenClamps() {
    Dyadic.Term a = new Dyadic.Term(new int[] {3, 30000, -7}, 0, Dyadic.Scale.of(1, 1));
    Dyadic.Term b = new Dyadic.Term(new int[] {0, 3, 30000, 20000}, 1, Dyadic.Scale.of(1, 1));
    int[] out = new int[3];
    Dyadic.add(a, b, -32768, 32767, out, 0, 3);
    assertArrayEquals(new int[] {4, 30000, 9997}, out);
    Dyadic.add(a, b, -100, 100, out, 0, 3);
    assertArrayEquals(new int[] {4, 100, 100}, out);
    byte[] bytes = new byte[3];
    Dyadic.addToBytes(a, b, -100, 100, bytes, 0, 3);
    assertArrayEquals(new byte[] {4, 100, 100}, bytes);
  }

  @Test
  void badScalesAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new Dyadic.Scale(new int[] {1, 2}, new int[] {1}, 2, 1));
    assertThrows(IllegalArgumentException.class, () -> new Dyadic.Scale(new int[] {1}, new int[] {63}, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> new Dyadic.Scale(new int[] {1, 2, 3}, new int[] {1, 1, 1}, 2, 1));
  }
}
