package dev.lowbit.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Stochastic rounding keeps its streams: the scalar reference ({@link Quantizer#quantizeReference},
 * {@link ElementFormat#quantize(float, Rounding, long, long)}) reproduces checksums recorded before
 * the vector kernels existed, and every fast path ({@link Quantizer#quantize} on any thread count,
 * {@link NumberFormat#quantize(float[], int, int, float[], int, Rounding, long, long)} at any offset)
 * gives the reference's bits for every format family, granularity, seed, stream and length,
 * including NaN, infinities, float32 subnormals, zeros of both signs and exact grid values.
 */
class StochasticStreamTest {

  /** Finite values across magnitudes: Gaussians, float subnormals, zeros, integers, halves and ties. */
  static float[] finiteMix(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      int k = r.nextInt(16);
      x[i] = switch (k) {
        case 0 -> r.nextBoolean() ? 0f : -0f;
        case 1 -> Float.MIN_VALUE * r.nextInt(1, 1 << 23) * (r.nextBoolean() ? 1 : -1); // float subnormal
        case 2 -> r.nextInt(-300, 300) * 0.5f; // integers and halves
        case 3 -> (float) (r.nextInt(-64, 64) * Math.scalb(1.0, r.nextInt(-20, 4))); // exact grid values
        case 4 -> {
          int b = r.nextInt() & 0x7F7FFFFF; // any finite bit pattern
          yield Float.intBitsToFloat(r.nextBoolean() ? b : b | 0x80000000);
        }
        case 5 -> (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(-40, 40)));
        default -> (float) (r.nextGaussian() * Math.exp(r.nextGaussian() * 2));
      };
    }
    return x;
  }

  /** finiteMix with NaN, ±infinity and ±MAX_VALUE at a few places. */
  static float[] withSpecials(long seed, int n) {
    float[] x = finiteMix(seed, n);
    float[] sp = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE,
        -Float.MAX_VALUE, Float.MIN_NORMAL, -Float.MIN_VALUE};
    SplittableRandom r = new SplittableRandom(~seed);
    for (int j = 0; j < Math.max(1, n / 97); j++) x[r.nextInt(n)] = sp[r.nextInt(sp.length)];
    return x;
  }

  /** Element formats (no shared scale): every integer, fixed-point and minifloat flavour. */
  static final String[] ELEMENT_FORMATS = {"int8*0.25", "int8*0.1", "uint4*0.5", "int16*0.001",
      "int4*0.375", "int8*4", "fixed<16,8>", "ufixed<8,4>", "fixed<8,-2>", "int12*9.5367431640625e-7", "e4m3",
      "e5m2", "e4m3:sat", "e5m2:sat", "fp16", "bf16", "tf32", "e3m2", "e2m3", "e2m1", "e3m4",
      "e5m2:nosub", "e4m3:nosub", "e6m9:bias=40", "e2m5:fn:nonsat", "e8m22", "e7m1:finite",
      "e3m0:finite"};

  /** Formats with a shared scale or exponent, quantized with their natural granularity. */
  static final String[] SHARED_FORMATS = {"int8", "uint4", "int16", "int2", "int24", "mxfp8",
      "mxfp8e5m2", "mxfp6", "mxfp6e3m2", "mxfp4", "mxint8", "dfp16", "dfp8", "dfp24", "dfp16/b64",
      "dfp16/b64/h2", "dfp8/b32", "bfp8/b16", "bfp16", "bfp24/b8"};

  /** Every quantizer the tests compare: natural granularities, amax scaling, channels, blocks on other axes. */
  static List<Object[]> cases() {
    List<Object[]> c = new ArrayList<>();
    for (String f : ELEMENT_FORMATS) c.add(new Object[] {f, null});
    for (String f : SHARED_FORMATS) c.add(new Object[] {f, null});
    for (String f : new String[] {"e4m3", "e5m2", "e4m3:sat", "e3m2", "e2m1", "fp16", "bf16", "e5m2:nosub"}) {
      c.add(new Object[] {f, Granularity.perTensorAmax()});
    }
    for (String f : new String[] {"int8", "int4", "dfp16", "dfp8", "bfp8"}) {
      c.add(new Object[] {f, Granularity.perChannel(0)});
      c.add(new Object[] {f, Granularity.perChannel(1)});
    }
    for (String f : new String[] {"mxfp8", "mxfp4", "mxint8", "dfp16/b16"}) {
      int bs = ((BlockFormat) NumberFormat.parse(f)).blockSize();
      c.add(new Object[] {f, new Granularity.PerBlock(bs, 0)});
    }
    return c;
  }

  static Quantizer quantizer(Object[] c) {
    NumberFormat f = NumberFormat.parse((String) c[0]);
    return c[1] == null ? Quantizer.of(f, Rounding.STOCHASTIC) : new Quantizer(f, Rounding.STOCHASTIC, (Granularity) c[1]);
  }

  /** A multiply-rotate hash over the canonical bits (one NaN) of a result. */
  static long checksum(float[] y) {
    long h = 0xcbf29ce484222325L;
    for (float v : y) {
      h = Long.rotateLeft(h, 23) ^ Float.floatToIntBits(v);
      h *= 0x9E3779B97F4A7C15L;
    }
    return h ^ (h >>> 29);
  }

  static void assertBits(float[] want, float[] got, int gotOff, float[] x, String what) {
    for (int i = 0; i < want.length; i++) {
      if (!FastQuantizeTest.same(want[i], got[gotOff + i])) {
        fail(what + " at " + i + ": x=" + x[i] + " (bits " + Integer.toHexString(Float.floatToRawIntBits(x[i]))
            + ") reference " + want[i] + " fast " + got[gotOff + i]);
      }
    }
  }

  // ---- the streams themselves -----------------------------------------------------------------

  /** The random bits of CounterRng, recorded before the vector generator existed. */
  @Test
  void counterRngDrawsAreThoseRecorded() {
    long key = CounterRng.key(7, 3);
    assertEquals(KEY_7_3, key, "key(7, 3)");
    int[] want = BITS_7_3;
    long[] at = {0, 1, 1_000_000, (1L << 33) + 5};
    for (int j = 0; j < at.length; j++) {
      assertEquals(want[j], CounterRng.bits24(key, at[j]), "bits24 at index " + at[j]);
    }
  }

  static final long KEY_7_3 = 0xf5b30ef4359b5cf3L;
  static final int[] BITS_7_3 = {0x859c83, 0x1ef50e, 0x8b1391, 0x5d4963};

  /**
   * Checksums of the reference's stochastic results (seed 7, stream 3, 4098 elements of {@link
   * #finiteMix}, shape {4098}, or {6, 683} for channels and blocks on axis 0), recorded from the
   * scalar code before the vector kernels existed: same seed, same bits.
   */
  @Test
  void referenceResultsAreThoseRecorded() {
    StringBuilder table = new StringBuilder();
    boolean ok = true;
    List<Object[]> cs = cases();
    for (int j = 0; j < cs.size(); j++) {
      Object[] c = cs.get(j);
      Quantizer q = quantizer(c);
      int n = 4098;
      int[] shape = c[1] == null || c[1] instanceof Granularity.PerTensor ? new int[] {n} : new int[] {6, n / 6};
      float[] x = finiteMix(j + 100, n);
      float[] y = new float[n];
      q.quantizeReference(x, shape, y, 7, 3);
      long sum = checksum(y);
      table.append(String.format("      0x%016xL, // %s %s%n", sum, c[0], c[1] == null ? "" : c[1]));
      if (j >= RECORDED.length || RECORDED[j] != sum) ok = false;
    }
    if (!ok) fail("stochastic reference results changed; now:\n" + table);
  }

  /** Filled from the scalar code before the vector kernels (see referenceResultsAreThoseRecorded). */
  static final long[] RECORDED = {
      0x862f2fc951161e51L, // int8*0.25 
      0xf3f73211fdcf95c0L, // int8*0.1 
      0xa115150cdc9afdd2L, // uint4*0.5 
      0xf654b4e98ca800e9L, // int16*0.001 
      0xd2a8b1cfaf751430L, // int4*0.375 
      0xfa6c01c9310f877cL, // int8*4 
      0xdf5292eab3ca45f8L, // fixed<16,8> 
      0x0cb5306acd450725L, // ufixed<8,4> 
      0x46d7ba15878f9b2eL, // fixed<8,-2> 
      0x4113552fff4e5c31L, // int12*2^-20 (recorded as fixed<12,20>, the same grid; fixed<W,F> now needs F <= W) 
      0xeb0123ebf7814302L, // e4m3 
      0x09ca34e9e200932cL, // e5m2 
      0xd11a9f252b8e425dL, // e4m3:sat 
      0x26a7fe48cab570beL, // e5m2:sat 
      0x01766ee276fb30aeL, // fp16 
      0x064ed1e3dd79cb55L, // bf16 
      0xefc7d77c23b6388cL, // tf32 
      0x9486d99daaa17fd5L, // e3m2 
      0x9bb9b7b6d4860c77L, // e2m3 
      0x1fc43e10076a8626L, // e2m1 
      0x9eefc0016af76185L, // e3m4 
      0x6324deae5c134281L, // e5m2:nosub 
      0x86d39b1d8845388cL, // e4m3:nosub 
      0x29482fe343f779e4L, // e6m9:bias=40 
      0xcdb33b30e89de29eL, // e2m5:fn:nonsat 
      0xf436ba5c0e012045L, // e8m22 
      0xf5f8920cfa7b4e02L, // e7m1:finite 
      0x510e9cb76bb5dbb5L, // e3m0:finite 
      0xd07f40a048cd1f33L, // int8 
      0x88052daf74dae750L, // uint4 
      0x08889d0b26d79d73L, // int16 
      0x98a3540f2bfce243L, // int2 
      0x07f380b6cee6dcc2L, // int24 
      0xd1c591b494cfc3b2L, // mxfp8 
      0xd51489610cfe9549L, // mxfp8e5m2 
      0x26f572242c5c2999L, // mxfp6 
      0x82ee1488b6d36245L, // mxfp6e3m2 
      0xdd44801d01f7df2cL, // mxfp4 
      0x73096b0dfa1d90ecL, // mxint8 
      0xde968ff01fea0038L, // dfp16 
      0xc88a9171a38a208bL, // dfp8 
      0xb7db10cca52e6747L, // dfp24 
      0x2b8208ab7d02d633L, // dfp16/b64 
      0x62f92e729c04564bL, // dfp16/b64/h2 
      0x2a27067d4e2a3c75L, // dfp8/b32 
      0xf571760d0d304319L, // bfp8/b16 
      0xa512a58b4ba149a1L, // bfp16 
      0x4bf96a079d8f741dL, // bfp24/b8 
      0x4498fd3aa03f1212L, // e4m3 PerTensor[amax]
      0xae7361e04ca250e2L, // e5m2 PerTensor[amax]
      0x5c235257e8e98515L, // e4m3:sat PerTensor[amax]
      0xbe3c4d8d874df580L, // e3m2 PerTensor[amax]
      0x85f84ceff56094eeL, // e2m1 PerTensor[amax]
      0xe8070de32e1b444fL, // fp16 PerTensor[amax]
      0x538450abffde25f3L, // bf16 PerTensor[amax]
      0xe62af59547f306bcL, // e5m2:nosub PerTensor[amax]
      0xcad25dca93bc2192L, // int8 PerChannel[axis=0]
      0x323ea032fed7f8adL, // int8 PerChannel[axis=1]
      0x99ca7b9c733e25d1L, // int4 PerChannel[axis=0]
      0x4e4a0096b9c7bdfdL, // int4 PerChannel[axis=1]
      0x167fb8240ae2e00bL, // dfp16 PerChannel[axis=0]
      0xb82ea93cac31232bL, // dfp16 PerChannel[axis=1]
      0xa1cd3b61e4984fb4L, // dfp8 PerChannel[axis=0]
      0x1704ed986502a623L, // dfp8 PerChannel[axis=1]
      0xa95a3428b9d09849L, // bfp8 PerChannel[axis=0]
      0x233a26ccde78a8feL, // bfp8 PerChannel[axis=1]
      0xcacb360dbe0c2605L, // mxfp8 PerBlock[size=32, axis=0]
      0xa8713f3878749334L, // mxfp4 PerBlock[size=32, axis=0]
      0xf2a8e038b3b26055L, // mxint8 PerBlock[size=32, axis=0]
      0x6ef1cc3c32ea656dL, // dfp16/b16 PerBlock[size=16, axis=0]
  };

  /** The lane generator gives CounterRng.bits24 for every lane, at any key and index (counters wrap). */
  @Test
  void laneDrawsAreCounterRngDraws() {
    long[] keys = {CounterRng.key(7, 3), CounterRng.key(0, 0), CounterRng.key(-1, Long.MAX_VALUE), 0L, -1L};
    long[] starts = {0, 1, 15, 16_381, (1L << 31) - 3, Long.MAX_VALUE - 40, -17};
    for (long key : keys) {
      for (long s : starts) {
        int[] lanes = FastStochastic.bits24Lanes(key, s);
        for (int j = 0; j < lanes.length; j++) {
          assertEquals(CounterRng.bits24(key, s + j), lanes[j], "key " + key + " index " + (s + j));
        }
      }
    }
  }

  /** The formats the benchmarks and training recipes use take the vector path (not only the reference). */
  @Test
  void commonFormatsHaveAVectorPath() {
    for (String name : new String[] {"e4m3", "e5m2", "e4m3:sat", "fp16", "bf16", "tf32", "e2m1", "e3m2",
        "e2m3", "int8*0.25", "int8*0.1", "fixed<16,8>"}) {
      assertEquals(true, FastStochastic.supports((ElementFormat) NumberFormat.parse(name)), name);
    }
    for (String name : new String[] {"int8", "int4", "int16", "int24"}) {
      IntFormat f = (IntFormat) NumberFormat.parse(name);
      assertEquals(true, FastStochastic.supportsInt(f.minCode(), f.maxCode()), name);
    }
    for (String name : new String[] {"e4m3", "e5m2", "e2m3", "e3m2", "e2m1"}) {
      MiniFloat m = ((MiniFloat) NumberFormat.parse(name)).withOverflow(MiniFloat.Overflow.SATURATE);
      assertEquals(true, FastStochastic.supportsFloat(m, true), "MX element " + name);
    }
  }

  // ---- fast paths against the reference -------------------------------------------------------

  @Test
  void quantizeGivesTheReferenceBitsForEveryFamilySeedAndLength() {
    int[] lengths = {1, 7, 15, 16, 17, 31, 33, 63, 65, 1000 + 7, 16384 + 37};
    long[][] seedStreams = {{7, 3}, {0, 0}, {-1, 12345}, {0x5DEECE66DL, Long.MIN_VALUE}};
    List<Object[]> cs = cases();
    for (int j = 0; j < cs.size(); j++) {
      Object[] c = cs.get(j);
      Quantizer q = quantizer(c);
      boolean axis0 = !(c[1] == null || c[1] instanceof Granularity.PerTensor);
      for (int n : lengths) {
        int[] shape = axis0 ? (n % 3 == 0 ? new int[] {3, n / 3} : new int[] {1, n}) : new int[] {n};
        if (axis0 && c[1] instanceof Granularity.PerChannel pc && pc.axis() == 1) shape = new int[] {n, 1};
        for (int v = 0; v < 2; v++) {
          float[] x = v == 0 ? finiteMix(31L * n + j, n) : withSpecials(31L * n + j, n);
          for (long[] ss : seedStreams) {
            float[] ref = new float[n];
            q.quantizeReference(x, shape, ref, ss[0], ss[1]);
            String what = q.format().name() + " " + q.granularity() + " n=" + n + " seed " + ss[0] + " stream " + ss[1]
                + (v == 0 ? "" : " with specials");
            for (int threads : new int[] {1, 3}) {
              float[] got = new float[n];
              q.quantize(x, shape, got, ss[0], ss[1], threads);
              assertBits(ref, got, 0, x, what + " threads " + threads);
            }
          }
        }
      }
    }
  }

  /** Larger tensors: several chunks per thread, and channels of odd length at odd offsets. */
  @Test
  void largeTensorsAndOddChannelsGiveTheReferenceBits() {
    for (Object[] c : cases()) {
      Quantizer q = quantizer(c);
      boolean axis0 = !(c[1] == null || c[1] instanceof Granularity.PerTensor);
      int n = 3 * 33 * 1031;
      int[] shape = axis0 ? new int[] {99, 1031} : new int[] {n};
      float[] x = finiteMix(n + c[0].hashCode(), n);
      float[] ref = new float[n], got = new float[n];
      q.quantizeReference(x, shape, ref, 11, 5);
      q.quantize(x, shape, got, 11, 5, 2);
      assertBits(ref, got, 0, x, q + " " + java.util.Arrays.toString(shape));
    }
  }

  /**
   * A draw of exactly 0 (u = 0: once in 2^24 elements) rounds a negative non-integer down, also
   * when the reference's exact power-of-two scaling makes it tinier than float32 holds (the float
   * product underflows to -0): fixed point with a huge step, DFP and MX INT with a large shared
   * exponent. Found by searching the stream for a zero draw, then placed in every lane.
   */
  @Test
  void aZeroDrawRoundsTinyNegativesDownOnPowerOfTwoScales() {
    long key = CounterRng.key(3, 1);
    long zeroAt = 0;
    while (CounterRng.bits24(key, zeroAt) != 0) zeroAt++;
    int n = 3 * FastStochastic.length() + 3;
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = -Float.MIN_VALUE * (1 + i % 5) * (i % 7 == 0 ? -1 : 1);
    for (int lane = 0; lane < n; lane += 5) {
      long idx0 = zeroAt - lane; // element `lane` draws the zero
      for (String name : new String[] {"fixed<8,-120>", "fixed<16,-100>", "int8*0.25"}) {
        ElementFormat f = (ElementFormat) NumberFormat.parse(name);
        float[] want = new float[n], got = new float[n];
        for (int i = 0; i < n; i++) want[i] = f.quantize(x[i], Rounding.STOCHASTIC, key, idx0 + i);
        FastStochastic.element(f, x, 0, n, got, 0, key, idx0);
        assertBits(want, got, 0, x, name + " zero draw at element " + lane);
        if (name.startsWith("fixed") && x[lane] < 0) {
          assertEquals(-(float) f.maxFinite() / ((IntFormat) ((FixedPoint) f).asInt()).maxCode(), want[lane], 0f,
              name + ": -tiny with u = 0 rounds down one step");
        }
      }
      for (String name : new String[] {"dfp16", "bfp8", "mxint8"}) {
        BlockFormat b = (BlockFormat) NumberFormat.parse(name);
        for (int e : new int[] {20, 100, 126}) {
          float[] want = new float[n], got = new float[n];
          for (int i = 0; i < n; i++) {
            want[i] = b.quantizeWithExponent(x[i], e, Rounding.STOCHASTIC, CounterRng.uniform(key, idx0 + i));
          }
          FastStochastic.block(b, e, x, 0, n, got, 0, key, idx0);
          assertBits(want, got, 0, x, name + " exponent " + e + " zero draw at element " + lane);
        }
      }
    }
  }

  /** MX blocks along a middle or leading axis (convolution channels): every column its own block. */
  @Test
  void mxBlocksAcrossRowsGiveTheReferenceBits() {
    int[][] shapes = {{3, 40, 7, 5}, {2, 32, 14, 14}, {70, 3, 19}, {33, 1, 1, 2}, {4, 64, 2, 1030}};
    for (String name : new String[] {"mxfp8", "mxfp8e5m2", "mxfp6", "mxfp4", "mxint8"}) {
      for (int[] shape : shapes) {
        int n = 1;
        for (int d : shape) n *= d;
        for (int axis = 0; axis < 2; axis++) {
          Quantizer q = new Quantizer(NumberFormat.parse(name), Rounding.STOCHASTIC, new Granularity.PerBlock(32, axis));
          float[] x = withSpecials(name.hashCode() ^ n ^ axis, n);
          float[] ref = new float[n];
          q.quantizeReference(x, shape, ref, 21, 4);
          for (int threads : new int[] {1, 2}) {
            float[] got = new float[n];
            q.quantize(x, shape, got, 21, 4, threads);
            assertBits(ref, got, 0, x, name + " axis " + axis + " " + java.util.Arrays.toString(shape) + " threads " + threads);
          }
        }
      }
    }
  }

  /** The element-format array call at any offset draws element i's number from index srcOff + i. */
  @Test
  void elementArrayCallsAtOffsetsGiveTheReferenceBits() {
    for (String name : ELEMENT_FORMATS) {
      ElementFormat f = (ElementFormat) NumberFormat.parse(name);
      float[] x = withSpecials(name.hashCode(), 3000);
      long key = CounterRng.key(5, 9);
      for (int off : new int[] {0, 1, 13, 977}) {
        for (int len : new int[] {0, 1, 17, 1500, 3000 - off}) {
          if (off + len > x.length) continue;
          float[] want = new float[len];
          for (int i = 0; i < len; i++) want[i] = f.quantize(x[off + i], Rounding.STOCHASTIC, key, off + i);
          float[] got = new float[len + 5];
          f.quantize(x, off, len, got, 5, Rounding.STOCHASTIC, 5, 9);
          assertBits(want, got, 5, java.util.Arrays.copyOfRange(x, off, off + len), name + " off " + off + " len " + len);
        }
      }
    }
  }

  /**
   * MX blocks whose lanes mix zeros of both signs, element-subnormal magnitudes, normals and the
   * block maximum: the vector path rounds the below-normal lanes out of line and leaves zeros to
   * the normal path; every lane must still give the reference's bits.
   */
  @Test
  void mxBelowNormalLanesBesideZerosGiveTheReferenceBits() {
    SplittableRandom r = new SplittableRandom(77);
    int n = 32 * 64 + 5;
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = switch (r.nextInt(4)) {
        case 0 -> r.nextBoolean() ? 0f : -0f;
        case 1 -> (float) (r.nextGaussian() * Math.scalb(1.0, -r.nextInt(8, 24))); // below the element's normals
        case 2 -> (float) r.nextGaussian();
        default -> i % 32 == 0 ? 4f : (float) (r.nextGaussian() * 1e-3);
      };
    }
    for (String name : new String[] {"mxfp8", "mxfp8e5m2", "mxfp6", "mxfp4"}) {
      Quantizer q = Quantizer.of(NumberFormat.parse(name), Rounding.STOCHASTIC);
      for (long seed = 0; seed < 3; seed++) {
        float[] ref = new float[n], got = new float[n];
        q.quantizeReference(x, new int[] {n}, ref, seed, 2);
        q.quantize(x, new int[] {n}, got, seed, 2, 1);
        assertBits(ref, got, 0, x, name + " seed " + seed);
      }
    }
  }
}
