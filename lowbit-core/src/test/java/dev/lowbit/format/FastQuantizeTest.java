package dev.lowbit.format;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/** The vector kernels against the scalar reference, bit for bit, at 128/256/512-bit species. */
class FastQuantizeTest {

  static final List<VectorSpecies<Float>> SPECIES =
      List.of(FloatVector.SPECIES_128, FloatVector.SPECIES_256, FloatVector.SPECIES_512);

  /** Random values across magnitudes, with specials, float subnormals and exact format values. */
  static float[] data(long seed, int n, ElementFormat near) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    float[] sp = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, Float.MIN_NORMAL, 1e-40f};
    for (int i = 0; i < n; i++) {
      int k = r.nextInt(10);
      x[i] = switch (k) {
        case 0 -> sp[r.nextInt(sp.length)];
        case 1 -> Float.intBitsToFloat(r.nextInt());
        case 2 -> {
          // a value of the format, or the midpoint next to one
          float v = near.decode(near.codeAt(r.nextLong(near.codeCount())));
          float w = near.decode(near.codeAt(r.nextLong(near.codeCount())));
          yield r.nextBoolean() ? v : (float) (((double) v + w) / 2);
        }
        case 3 -> (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(-30, 30)));
        default -> (float) (r.nextGaussian() * 4);
      };
    }
    return x;
  }

  static boolean same(float a, float b) {
    return Float.isNaN(a) ? Float.isNaN(b) : Float.floatToRawIntBits(a) == Float.floatToRawIntBits(b);
  }

  static void assertSame(float[] want, float[] got, float[] x, String what) {
    for (int i = 0; i < want.length; i++) {
      if (!same(want[i], got[i])) {
        fail(what + " at " + i + ": x=" + x[i] + " reference " + want[i] + " fast " + got[i]);
      }
    }
  }

  @Test
  void elementFormatsMatchTheReference() {
    String[] names = {"int8", "uint4", "int16", "int8*0.1", "int4*0.375", "fixed<16,8>", "ufixed<8,4>",
        "e4m3", "e5m2", "e4m3:sat", "e5m2:sat", "fp16", "bf16", "tf32", "e3m2", "e2m3", "e2m1",
        "e3m4", "e5m2:nosub", "e4m3:nosub", "e6m9:bias=40", "e2m5:fn:nonsat", "e8m22", "e7m1:finite"};
    int n = 1000 + 7; // odd length exercises the scalar tail
    int checked = 0;
    for (String name : names) {
      ElementFormat f = (ElementFormat) NumberFormat.parse(name);
      if (!FastQuantize.supports(f, Rounding.NEAREST_EVEN)) continue;
      checked++;
      float[] x = data(name.hashCode(), n, f.bits() <= 16 ? f : Formats.FP16);
      float[] want = new float[n];
      f.quantize(x, 0, n, want, 0, Rounding.NEAREST_EVEN, 0, 0);
      for (VectorSpecies<Float> s : SPECIES) {
        float[] got = new float[n + 3];
        FastQuantize.quantize(s, f, x, 0, n, got, 3);
        assertSame(want, java.util.Arrays.copyOfRange(got, 3, n + 3), x, name + " " + s);
      }
    }
    assertTrue(checked >= 20, "vector path covered only " + checked + " formats");
  }

  @Test
  void dynamicIntegerScalesMatchTheReference() {
    for (int bits : new int[] {2, 4, 8, 16}) {
      IntFormat f = IntFormat.signed(bits);
      float[] x = data(bits, 777, IntFormat.signed(8));
      for (float scale : new float[] {0.0371f, 1f, 1e-30f, 3e20f, Float.MIN_VALUE}) {
        float[] want = new float[x.length];
        for (int i = 0; i < x.length; i++) want[i] = f.quantizeWithScale(x[i], scale, Rounding.NEAREST_EVEN, 0);
        for (VectorSpecies<Float> s : SPECIES) {
          float[] got = new float[x.length];
          FastQuantize.quantizeInt(s, f, scale, x, 0, x.length, got, 0);
          assertSame(want, got, x, "int" + bits + " scale " + scale + " " + s);
        }
      }
    }
  }

  @Test
  void blockFormatsMatchTheReference() {
    String[] names = {"mxfp8", "mxfp8e5m2", "mxfp6", "mxfp6e3m2", "mxfp4", "mxint8", "dfp16/b64",
        "dfp16/b16/h2", "bfp8/b16", "dfp16", "mx<e3m4>/b16", "dfp8/b32"};
    SplittableRandom r = new SplittableRandom(9);
    int n = 64 * 37 + 5;
    float[] x = new float[n];
    for (int blk = 0; blk * 16 < n; blk++) {
      // each 16-run gets its own magnitude, from tiny (subnormal scales) to huge; some hold specials
      double mag = Math.scalb(1.0, r.nextInt(-150, 128));
      for (int i = blk * 16; i < Math.min(n, blk * 16 + 16); i++) {
        x[i] = (float) (r.nextGaussian() * mag);
        if (r.nextInt(4) == 0) x[i] = (float) (r.nextGaussian() * mag * 1e-6);
      }
      int k = r.nextInt(20);
      if (k == 0) x[blk * 16] = Float.NaN;
      if (k == 1) x[blk * 16] = Float.POSITIVE_INFINITY;
      if (k == 2) java.util.Arrays.fill(x, blk * 16, Math.min(n, blk * 16 + 16), 0f);
    }
    for (String name : names) {
      BlockFormat f = (BlockFormat) NumberFormat.parse(name);
      assertTrue(FastQuantize.supports(f, Rounding.NEAREST_EVEN), name);
      float[] want = new float[n];
      f.quantize(x, 0, n, want, 0, Rounding.NEAREST_EVEN, 0, 0);
      for (VectorSpecies<Float> s : SPECIES) {
        float[] got = new float[n];
        FastQuantize.quantizeBlocks(s, f, f.blockSize(), x, 0, n, got, 0);
        assertSame(want, got, x, name + " " + s);
      }
    }
  }

  /** The MX exponent from bits against {@link BlockFormat#sharedExponent}: every subnormal, every
   * binade at several mantissas, zero and the specials, for elements with emax from -3 to 15. */
  @Test
  void mxExponentFromBitsMatchesTheReference() {
    String[] names = {"mxfp8", "mxfp8e5m2", "mxfp6", "mxfp4", "mx<e4m3:bias=10>", "mx<e2m1:bias=4>"};
    int[] mant = {0, 1, 2, 0x3FFFFF, 0x400000, 0x400001, 0x7FFFFE, 0x7FFFFF};
    int checked = 0;
    for (String name : names) {
      BlockFormat f = (BlockFormat) NumberFormat.parse(name);
      int emax = f.elementMaxExponent();
      for (int bits = 0; bits <= 0x00800000; bits++) {
        check(f, emax, bits);
        checked++;
      }
      for (int ex = 1; ex <= 255; ex++) {
        for (int m : mant) check(f, emax, (ex << 23) | m);
      }
      check(f, emax, 0x7FC00000);
      check(f, emax, 0x7F800001);
    }
    assertTrue(checked > 6 * (1 << 23));
    assertTrue(NumberFormat.parse("mx<e2m1:bias=4>") instanceof BlockFormat b && b.elementMaxExponent() < 0,
        "an element with emax < 0 is covered");
  }

  private static void check(BlockFormat f, int emax, int bits) {
    int want = f.sharedExponent(Float.intBitsToFloat(bits));
    int got = FastQuantize.mxExponent(bits, emax);
    if (want != got) fail(f.name() + " amax bits 0x" + Integer.toHexString(bits) + ": reference " + want + " bits " + got);
  }

  @Test
  void powersOfTwoFromBitsAreExact() {
    for (int e = -149; e <= 127; e++) {
      assertTrue(FastQuantize.pow2(e) == Math.scalb(1f, e), "2^" + e);
    }
  }

  @Test
  void amaxMatchesTheReference() {
    SplittableRandom r = new SplittableRandom(5);
    float[] sp = {Float.NaN, Float.intBitsToFloat(0xFFC00001), Float.intBitsToFloat(0x7F800001),
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, Float.MIN_VALUE, -Float.MAX_VALUE};
    for (int len = 0; len <= 300; len += 1 + len / 16) {
      for (int t = 0; t < 20; t++) {
        int off = r.nextInt(5);
        float[] x = new float[off + len];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * Math.scalb(1.0, r.nextInt(-140, 120)));
        if (len > 0 && t % 2 == 1) x[off + r.nextInt(len)] = sp[r.nextInt(sp.length)];
        if (len > 0 && t % 5 == 4) x[off + r.nextInt(len)] = sp[r.nextInt(sp.length)];
        float want = BlockFormat.amax(x, off, len);
        for (VectorSpecies<Float> s : SPECIES) {
          float got = FastQuantize.amax(s, x, off, len);
          assertTrue(same(want, got), "len " + len + " " + s + ": reference " + want + " fast " + got);
        }
      }
    }
  }

  /**
   * The fused MX kernel (whole blocks) and its fallback (the partial last block), bit for bit: per
   * block a chosen shared exponent from -127 to 127 (amax at the element's largest value, or a
   * subnormal or zero amax), the other elements on the scaled element grid or at midpoints
   * between neighbours (ties), or anything below; some blocks hold NaN or infinity.
   */
  @Test
  void fusedMxBlocksMatchTheReference() {
    String[] names = {"mxfp8", "mxfp8e5m2", "mxfp6", "mxfp6e3m2", "mxfp4", "mx<e3m4>/b16",
        "mxfp8/b64", "mx<e4m3:bias=10>", "mxfp8/b128", "mx<e4m3:nosub:sat>", "mx<e2m1:bias=4>", "mxfp8/b8"};
    SplittableRandom r = new SplittableRandom(17);
    for (String name : names) {
      BlockFormat f = (BlockFormat) NumberFormat.parse(name);
      MiniFloat el = (MiniFloat) f.element();
      int bs = f.blockSize();
      int blocks = 61;
      int n = blocks * bs + bs / 2 + 3; // a partial block at the end
      int off = 3, outOff = 5;
      float[] x = new float[off + n];
      for (int b = 0; b * bs < n; b++) {
        int from = off + b * bs, to = Math.min(off + n, from + bs);
        int kind = r.nextInt(12);
        int e = r.nextInt(-140, 128);
        for (int i = from; i < to; i++) {
          double v = el.decode(el.codeAt(r.nextLong(el.codeCount())));
          double w = el.decode(el.codeAt(r.nextLong(el.codeCount())));
          if (!Double.isFinite(v) || !Double.isFinite(w)) v = w = 0;
          double g = switch (r.nextInt(4)) {
            case 0 -> v;
            case 1 -> (v + w) / 2;
            case 2 -> r.nextGaussian() * el.maxFinite() / Math.scalb(1.0, r.nextInt(0, 40));
            default -> Math.scalb(v, -r.nextInt(1, 30));
          };
          x[i] = (float) Math.scalb(g, e);
        }
        x[from] = (float) Math.scalb(el.maxFinite() * (r.nextBoolean() ? 1 : -1), e);
        switch (kind) {
          case 0 -> x[from + r.nextInt(to - from)] = Float.NaN;
          case 1 -> x[from + r.nextInt(to - from)] = Float.intBitsToFloat(0xFFC00001);
          case 2 -> x[from + r.nextInt(to - from)] = Float.NEGATIVE_INFINITY;
          case 3 -> java.util.Arrays.fill(x, from, to, r.nextBoolean() ? 0f : -0f);
          case 4 -> {
            for (int i = from; i < to; i++) x[i] = Float.intBitsToFloat(r.nextInt(1 << 23) | (r.nextBoolean() ? 0x80000000 : 0));
          }
          case 5 -> x[from] = Float.MAX_VALUE;
          default -> { }
        }
      }
      float[] want = new float[n];
      f.quantize(x, off, n, want, 0, Rounding.NEAREST_EVEN, 0, 0);
      for (VectorSpecies<Float> s : SPECIES) {
        float[] got = new float[outOff + n];
        FastQuantize.quantizeBlocks(s, f, bs, x, off, n, got, outOff);
        assertSame(want, java.util.Arrays.copyOfRange(got, outOff, outOff + n),
            java.util.Arrays.copyOfRange(x, off, off + n), name + " " + s);
      }
    }
  }
}
