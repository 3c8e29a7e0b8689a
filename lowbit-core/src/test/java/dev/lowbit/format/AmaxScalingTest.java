package dev.lowbit.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** Minifloats scaled per tensor by their largest magnitude: s·Q(x/s), s = amax / maxFinite. */
class AmaxScalingTest {

  static final String[] FORMATS = {"e4m3", "e5m2", "e4m3:sat", "e3m2", "e2m1", "fp16", "e5m2:nosub"};

  static Quantizer amax(String format, Rounding r) {
    return new Quantizer(NumberFormat.parse(format), r, Granularity.perTensorAmax());
  }

  /** Finite values of one magnitude class, with zeros, signed zeros and an exact tie or two. */
  static float[] finite(long seed, int n, double magnitude) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      int k = r.nextInt(12);
      x[i] = switch (k) {
        case 0 -> 0f;
        case 1 -> -0f;
        case 2 -> (float) (magnitude * Math.scalb(1.0, -r.nextInt(0, 40)) * (r.nextBoolean() ? 1 : -1));
        default -> (float) (r.nextGaussian() * magnitude);
      };
    }
    return x;
  }

  static boolean same(float a, float b) {
    return Float.isNaN(a) ? Float.isNaN(b) : Float.floatToRawIntBits(a) == Float.floatToRawIntBits(b);
  }

  static void assertBits(float[] want, float[] got, String what) {
    for (int i = 0; i < want.length; i++) {
      if (!same(want[i], got[i])) fail(what + " at " + i + ": reference " + want[i] + " got " + got[i]);
    }
  }

  @Test
  void everyValueIsTheScaleTimesAFormatValueAndAmaxMapsToTheLargest() {
    for (String name : FORMATS) {
      MiniFloat f = (MiniFloat) NumberFormat.parse(name);
      for (double mag : new double[] {1e-30, 3e-7, 1, 7e4, 1e30}) {
        for (Rounding r : new Rounding[] {Rounding.NEAREST_EVEN, Rounding.STOCHASTIC, Rounding.TOWARD_ZERO}) {
          String what = name + " " + r.label() + " magnitude " + mag;
          Quantizer q = amax(name, r);
          float[] x = finite(name.hashCode() * 31L + (long) Math.getExponent(mag), 777, mag);
          float[] ref = new float[x.length];
          q.quantizeReference(x, new int[] {x.length}, ref, 5, 9);
          EncodedTensor e = q.encode(x, new int[] {x.length}, 5, 9);
          assertEquals(1, e.scales().length, what);
          float s = e.scales()[0];
          float a = 0;
          for (float v : x) a = Math.max(a, Math.abs(v));
          assertEquals(a / (float) f.maxFinite(), s, what + ": scale is amax / maxFinite");
          int maxCodes = 0;
          for (int i = 0; i < x.length; i++) {
            float code = f.decode(e.codes()[i]);
            assertTrue(Float.isFinite(code), what + ": finite input " + x[i] + " gave code value " + code);
            assertTrue(same(code * s, ref[i]), what + ": element " + i + " is " + ref[i] + ", not s·" + code);
            if (Math.abs(x[i]) == a && r == Rounding.NEAREST_EVEN) {
              assertEquals(f.maxFinite(), Math.abs(code), what + ": amax " + x[i] + " maps to " + code);
              maxCodes++;
            }
            if (x[i] == 0) assertTrue(same(x[i], ref[i]), what + ": zero keeps its sign");
          }
          if (r == Rounding.NEAREST_EVEN) assertTrue(maxCodes > 0, what);
          assertBits(ref, q.decode(e), what + " decode(encode)");
          float[] fast = new float[x.length];
          q.quantize(x, new int[] {x.length}, fast, 5, 9, 1);
          assertBits(ref, fast, what + " fast path");
          q.quantize(x, new int[] {x.length}, fast, 5, 9, 2);
          assertBits(ref, fast, what + " two threads");
        }
      }
    }
  }

  @Test
  void scalingKeepsSmallAndLargeTensorsThatTheBareGridLoses() {
    // errors of 1e-6 underflow in bare E5M2's subnormals' reach only partly and in E4M3 entirely
    float[] x = finite(7, 1000, 1e-6);
    Quantizer bare = new Quantizer(Formats.E4M3, Rounding.NEAREST_EVEN, Granularity.perTensor());
    Quantizer scaled = amax("e4m3", Rounding.NEAREST_EVEN);
    float[] b = new float[x.length], s = new float[x.length];
    bare.quantize(x, new int[] {x.length}, b, 0, 0);
    scaled.quantize(x, new int[] {x.length}, s, 0, 0);
    int bareZeros = 0;
    float sc = scaled.encode(x, new int[] {x.length}, 0, 0).scales()[0];
    for (int i = 0; i < x.length; i++) {
      if (x[i] != 0 && b[i] == 0) bareZeros++;
      // a scaled value at or above the smallest normal has E4M3's relative error (2^-4, plus fp32 rounding)
      if (Math.abs(x[i]) >= sc * Formats.E4M3.minNormal()) {
        assertTrue(Math.abs(s[i] - x[i]) <= Math.abs(x[i]) * (0x1p-4 + 0x1p-20), "x " + x[i] + " -> " + s[i]);
      }
    }
    assertTrue(bareZeros > 800, "bare e4m3 flushed only " + bareZeros + " of 1e-6-sized values");
    // large values: bare e4m3 (non-saturating) turns them into NaN, scaled keeps them
    float[] big = {1e6f, -3e5f, 2.5e4f};
    float[] out = new float[3];
    bare.quantize(big, new int[] {3}, out, 0, 0);
    assertTrue(Float.isNaN(out[0]));
    scaled.quantize(big, new int[] {3}, out, 0, 0);
    assertEquals(1e6f, out[0], 0f);
    assertTrue(Math.abs(out[1] + 3e5f) <= 3e5f * 0x1p-4);
  }

  @Test
  void zeroNaNAndInfinityAreDefined() {
    Quantizer q = amax("e4m3", Rounding.NEAREST_EVEN);
    float[] z = {0f, -0f, 0f};
    float[] out = new float[3];
    q.quantize(z, new int[] {3}, out, 0, 0);
    assertBits(z, out, "zeros");
    EncodedTensor e = q.encode(z, new int[] {3}, 0, 0);
    assertEquals(1f, e.scales()[0], "an all-zero tensor has scale 1");
    assertBits(z, q.decode(e), "zeros decoded");
    // below amax = maxFinite·2^-126 the scale stops at 2^-126 (its reciprocal stays finite)
    float[] tiny = {1e-37f, -3e-38f, 0f};
    q.quantize(tiny, new int[] {3}, out, 0, 0);
    assertEquals(Float.MIN_NORMAL, q.encode(tiny, new int[] {3}, 0, 0).scales()[0]);
    assertEquals(1e-37f, out[0], 1e-37f * 0x1p-4);
    assertEquals(-3e-38f, out[1], 3e-38f * 0x1p-4);
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
      float[] x = {1f, bad, -2f};
      for (int threads : new int[] {1, 2}) {
        q.quantize(x, new int[] {3}, out, 0, 0, threads);
        for (float v : out) assertTrue(Float.isNaN(v), "a tensor holding " + bad + " quantizes to NaN: " + Arrays.toString(out));
      }
      q.quantizeReference(x, new int[] {3}, out, 0, 0);
      for (float v : out) assertTrue(Float.isNaN(v));
      IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> q.encode(x, new int[] {3}, 0, 0));
      assertTrue(ex.getMessage().contains("NaN or infinity"), ex.getMessage());
    }
  }

  @Test
  void vectorPathMatchesTheScalarReferenceAtEveryWidth() {
    int n = 1000 + 5; // scalar tail
    int checked = 0;
    for (String name : FORMATS) {
      MiniFloat sat = ((MiniFloat) NumberFormat.parse(name)).withOverflow(MiniFloat.Overflow.SATURATE);
      if (!FastQuantize.supportsScaled(sat, Rounding.NEAREST_EVEN)) continue;
      checked++;
      for (double mag : new double[] {1e-38, 1e-12, 0.03, 1, 5e8, 3e37}) {
        float[] x = finite(name.hashCode() + (long) Math.getExponent(mag), n, mag);
        float a = FastQuantize.amax(FastQuantize.PREFERRED, x, 0, n);
        float scale = Quantizer.amaxScale((MiniFloat) NumberFormat.parse(name), a);
        float[] want = new float[n];
        for (int i = 0; i < n; i++) want[i] = Quantizer.amaxScaledValue(sat, x[i], scale, Rounding.NEAREST_EVEN, 0);
        for (VectorSpecies<Float> s : FastQuantizeTest.SPECIES) {
          float[] got = new float[n + 2];
          FastQuantize.quantizeScaled(s, sat, scale, x, 0, n, got, 2);
          assertBits(want, Arrays.copyOfRange(got, 2, n + 2), name + " " + mag + " " + s);
        }
      }
    }
    assertTrue(checked >= 6, "vector path covered " + checked + " formats");
  }

  @Test
  void parsingAndMisuseGiveClearErrors() {
    assertEquals(Granularity.perTensorAmax(), Granularity.parse("tensor:amax"));
    assertEquals(Granularity.perTensor(), Granularity.parse("tensor"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Granularity.parse("tensor:max"));
    assertTrue(e.getMessage().contains("'max'") && e.getMessage().contains("tensor:amax"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new Quantizer(IntFormat.signed(8), Rounding.NEAREST_EVEN, Granularity.perTensorAmax()));
    assertTrue(e.getMessage().contains("int8") && e.getMessage().contains("minifloats"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new Quantizer(NumberFormat.parse("mxfp8"), Rounding.NEAREST_EVEN, Granularity.perTensorAmax()));
    assertTrue(e.getMessage().contains("mxfp8"), e.getMessage());
    assertEquals("PerTensor[]", Granularity.perTensor().toString());
    assertEquals("PerTensor[amax]", Granularity.perTensorAmax().toString());
  }

  @Test
  void stochasticRoundingIsUnbiasedOnTheScaledGrid() {
    // one value between two grid points, many draws: the mean converges to the value
    float[] x = new float[20000];
    Arrays.fill(x, 1.3f);
    x[0] = 448f; // amax = 448 so s = 1: the grid is E4M3's own, 1.3 lies between 1.25 and 1.375
    float[] out = new float[x.length];
    amax("e4m3", Rounding.STOCHASTIC).quantize(x, new int[] {x.length}, out, 11, 0);
    double sum = 0;
    for (int i = 1; i < x.length; i++) {
      assertTrue(out[i] == 1.25f || out[i] == 1.375f, "value " + out[i]);
      sum += out[i];
    }
    assertEquals(1.3, sum / (x.length - 1), 0.003);
    assertArrayEquals(new float[] {448f}, Arrays.copyOf(out, 1));
  }
}
