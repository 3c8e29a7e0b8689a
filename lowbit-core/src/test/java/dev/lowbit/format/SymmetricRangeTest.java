package dev.lowbit.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

/**
 * The symmetric option of fixed point ({@code fixed<W,F>:sym}, QPyTorch's {@code symmetric=True})
 * and block floating point ({@code bfp<P>/b<N>:sym}, QPyTorch's block quantizer): values around
 * both ends of the range, in every rounding, on the scalar, vector and tensor paths and through
 * encode/decode, bit for bit against a reference written here from the definition; and the
 * default (two's complement) range unchanged.
 */
class SymmetricRangeTest {

  private static final List<VectorSpecies<Float>> SPECIES =
      List.of(FloatVector.SPECIES_128, FloatVector.SPECIES_256, FloatVector.SPECIES_512);
  private static final double[] DRAWS = {0, 0.25, 0.5, 0.999};

  private static boolean sameBits(float a, float b) {
    return Float.isNaN(a) ? Float.isNaN(b) : Float.floatToRawIntBits(a) == Float.floatToRawIntBits(b);
  }

  /** Round-to-integer as each mode defines it, written out here (not the library's Rounding). */
  private static double roundInt(double y, Rounding r, double u) {
    return switch (r) {
      case NEAREST_EVEN -> Math.rint(y);
      case NEAREST_AWAY -> y < 0 ? -Math.floor(-y + 0.5) : Math.floor(y + 0.5);
      case STOCHASTIC -> Math.floor(y + u);
      case TOWARD_ZERO -> y < 0 ? Math.ceil(y) : Math.floor(y);
      case FLOOR -> Math.floor(y);
    };
  }

  /** The reference: round x / step to an integer, clamp to [lo, hi], times step; NaN stays NaN. */
  private static float gridReference(float x, double step, long lo, long hi, Rounding r, double u) {
    if (x != x) return x;
    double c = roundInt(x / step, r, u); // x / step is exact: step is a power of two
    c = Math.max(lo, Math.min(hi, c));
    return (float) (c * step + 0.0);
  }

  /** Values at and around both ends of a grid of step {@code step} with codes [lo, hi]. */
  private static float[] aroundTheEnds(double step, long lo, long hi, SplittableRandom rnd) {
    List<Float> v = new ArrayList<>();
    for (long end : new long[] {lo, hi}) {
      for (long c = end - 3; c <= end + 3; c++) {
        for (double frac : new double[] {-0.75, -0.5, -0.25, 0, 0.25, 0.5, 0.75}) {
          float x = (float) ((c + frac) * step);
          v.add(x);
          v.add(Math.nextUp(x));
          v.add(Math.nextDown(x));
        }
      }
    }
    for (int i = 0; i < 200; i++) v.add((float) (rnd.nextDouble(-1.5, 1.5) * hi * step));
    v.add(Float.POSITIVE_INFINITY);
    v.add(Float.NEGATIVE_INFINITY);
    v.add(Float.NaN);
    v.add(-Float.MAX_VALUE);
    v.add(0f);
    v.add(-0f);
    float[] a = new float[v.size()];
    for (int i = 0; i < a.length; i++) a[i] = v.get(i);
    return a;
  }

  @Test
  void fixedPointMatchesTheReferenceAroundBothEnds() {
    SplittableRandom rnd = new SplittableRandom(15);
    int checked = 0;
    for (int w = 2; w <= 16; w++) {
      for (int fl : new int[] {-3, 0, w / 2, w - 1, w}) { // F <= W (fixed<W,F> refuses more)
        for (boolean sym : new boolean[] {false, true}) {
          FixedPoint f = new FixedPoint(w, fl, true, sym);
          double step = Math.scalb(1.0, -fl);
          long hi = (1L << (w - 1)) - 1, lo = sym ? -hi : -(1L << (w - 1));
          assertEquals(lo, f.minCode(), f.name());
          assertEquals(hi, f.maxCode(), f.name());
          float[] x = aroundTheEnds(step, lo, hi, rnd);
          for (Rounding r : Rounding.values()) {
            for (double u : r.isStochastic() ? DRAWS : new double[] {0}) {
              for (float xi : x) {
                float want = gridReference(xi, step, lo, hi, r, u);
                float got = (float) f.roundValue(xi, r, u);
                if (!sameBits(want, got)) fail(f.name() + " " + r + " u=" + u + ": " + xi + " -> " + got + ", want " + want);
                checked++;
              }
            }
          }
          // the vector kernels (nearest-even) agree with the scalar definition
          float[] want = new float[x.length];
          for (int i = 0; i < x.length; i++) want[i] = gridReference(x[i], step, lo, hi, Rounding.NEAREST_EVEN, 0);
          assertTrue(FastQuantize.supports(f, Rounding.NEAREST_EVEN), f.name());
          for (VectorSpecies<Float> s : SPECIES) {
            float[] got = new float[x.length];
            FastQuantize.quantize(s, f, x, 0, x.length, got, 0);
            for (int i = 0; i < x.length; i++) {
              if (!sameBits(want[i], got[i])) fail(f.name() + " " + s + ": " + x[i] + " -> " + got[i] + ", want " + want[i]);
            }
          }
          // the tensor path (a Quantizer, vectorized or not) as well
          float[] fin = java.util.Arrays.copyOf(x, x.length - 6);
          for (Rounding r : new Rounding[] {Rounding.NEAREST_EVEN, Rounding.STOCHASTIC}) {
            Quantizer q = Quantizer.of(f, r);
            float[] fast = new float[fin.length], ref = new float[fin.length];
            q.quantize(fin, new int[] {fin.length}, fast, 7, 3);
            q.quantizeReference(fin, new int[] {fin.length}, ref, 7, 3);
            for (int i = 0; i < fin.length; i++) {
              if (!sameBits(ref[i], fast[i])) fail(f.name() + " " + r + " tensor path at " + fin[i]);
              if (sym && fast[i] < -hi * step) fail(f.name() + ": " + fin[i] + " -> " + fast[i] + " below -max");
            }
          }
        }
      }
    }
    assertTrue(checked > 100_000, "checked " + checked);
  }

  @Test
  void symmetricFixedPointHasNoMostNegativeCode() {
    for (int w = 2; w <= 16; w++) {
      FixedPoint sym = new FixedPoint(w, 2, true, true), full = new FixedPoint(w, 2, true);
      assertEquals(full.codeCount() - 1, sym.codeCount(), sym.name());
      long n = 0;
      for (long i = 0; i < sym.codeCount(); i++) {
        int c = sym.codeAt(i);
        assertEquals(-sym.maxCode() + i, c, sym.name() + " code " + i);
        float v = sym.decode(c);
        assertEquals(c, sym.encodeValue(v), sym.name() + " code " + c);
        assertEquals(v, full.decode(c), sym.name() + " decodes as two's complement does");
        n++;
      }
      assertEquals((1L << w) - 1, n);
      int most = (int) full.minCode();
      float mostValue = full.decode(most);
      assertEquals(-Math.scalb(1f, w - 3), mostValue);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sym.decode(most));
      assertTrue(e.getMessage().contains(sym.name()), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> sym.encodeValue(mostValue));
      assertTrue(e.getMessage().contains("not representable") && e.getMessage().contains(":sym"), e.getMessage());
      assertEquals(-(float) sym.maxFinite(), sym.quantize(mostValue));
      assertEquals(most, full.encodeValue(mostValue), "the default keeps it");
      assertEquals(sym.maxFinite(), full.maxFinite());
    }
    // above 24 bits float cannot tell -2^(W-1) from -(2^(W-1)-1) steps: the value is -max's
    FixedPoint wide = new FixedPoint(32, 0, true, true);
    assertEquals(-Integer.MAX_VALUE, wide.encodeValue(-0x1p31f));
    assertEquals(-0x1p31f, wide.quantize(Float.NEGATIVE_INFINITY));
  }

  /** The shared exponent of a DFP/BFP block, from the definition: floor(log2 amax) - (P - 2). */
  private static int exponentReference(float amax, int p) {
    if (amax == 0) return 0;
    return Math.getExponent(amax) - (p - 2); // the test's blocks are normal floats
  }

  @Test
  void blockFloatingPointMatchesTheReferenceAroundBothEnds() {
    SplittableRandom rnd = new SplittableRandom(16);
    int bs = 16, checked = 0, clamped = 0;
    for (int p = 2; p <= 16; p++) {
      long hi = (1L << (p - 1)) - 1;
      for (boolean sym : new boolean[] {false, true}) {
        BlockFormat f = BlockFormat.bfp(p, bs, sym);
        long lo = sym ? -hi : -(hi + 1);
        assertEquals(lo, f.minMantissa(), f.name());
        assertEquals(hi, f.maxMantissa(), f.name());
        // blocks whose largest magnitude sits just below, at and above a power of two, negative or
        // positive: the mantissas of the largest element land on ±2^(P-1) and get clamped
        int blocks = 400;
        float[] x = new float[blocks * bs];
        for (int b = 0; b < blocks; b++) {
          int k = rnd.nextInt(-100, 100);
          double top = Math.scalb(1.0, k + 1);
          double stepBelow = Math.scalb(1.0, k - (p - 2)); // the block's mantissa step
          double amax = top - stepBelow * rnd.nextDouble(0, 1.2);
          if (b % 7 == 0) amax = top - stepBelow * 0.5; // the rounding tie
          boolean negative = b % 2 == 0;
          for (int i = 0; i < bs; i++) x[b * bs + i] = (float) (rnd.nextDouble(-1, 1) * amax);
          x[b * bs + rnd.nextInt(bs)] = (float) (negative ? -amax : amax);
          x[b * bs + rnd.nextInt(bs)] = (float) (rnd.nextBoolean() ? -amax : amax) * (float) rnd.nextDouble(0.98, 1);
        }
        for (Rounding r : Rounding.values()) {
          for (double u : r.isStochastic() ? DRAWS : new double[] {0}) {
            for (int b = 0; b < blocks; b++) {
              float amax = 0;
              for (int i = 0; i < bs; i++) amax = Math.max(amax, Math.abs(x[b * bs + i]));
              int e = exponentReference(amax, p);
              assertEquals(e, f.sharedExponent(amax));
              for (int i = b * bs; i < (b + 1) * bs; i++) {
                float want = gridReference(x[i], Math.scalb(1.0, e), lo, hi, r, u);
                float got = f.quantizeWithExponent(x[i], e, r, u);
                if (!sameBits(want, got)) fail(f.name() + " " + r + " u=" + u + ": " + x[i] + " -> " + got + ", want " + want);
                int code = f.encodeWithExponent(x[i], e, r, u);
                assertTrue(code >= lo && code <= hi, f.name() + " code " + code);
                assertEquals(want, f.decodeWithExponent(code, e), f.name() + " decode");
                if (r == Rounding.NEAREST_EVEN && x[i] < 0 && roundInt(Math.scalb((double) x[i], -e), r, 0) == -(hi + 1)) {
                  clamped++; // the case the two modes differ on: -2^(P-1) kept, or moved to -(2^(P-1) - 1)
                }
                checked++;
              }
            }
          }
        }
        // the vector path and the tensor path (whole blocks, nearest-even and stochastic)
        float[] want = new float[x.length];
        f.quantize(x, 0, x.length, want, 0, Rounding.NEAREST_EVEN, 0, 0);
        for (VectorSpecies<Float> s : SPECIES) {
          float[] got = new float[x.length];
          FastQuantize.quantizeBlocks(s, f, bs, x, 0, x.length, got, 0);
          for (int i = 0; i < x.length; i++) {
            if (!sameBits(want[i], got[i])) fail(f.name() + " " + s + ": " + x[i] + " -> " + got[i] + ", want " + want[i]);
          }
        }
        for (Rounding r : new Rounding[] {Rounding.NEAREST_EVEN, Rounding.STOCHASTIC}) {
          Quantizer q = Quantizer.of(f, r);
          float[] fast = new float[x.length], ref = new float[x.length];
          q.quantize(x, new int[] {blocks, bs}, fast, 5, 9);
          q.quantizeReference(x, new int[] {blocks, bs}, ref, 5, 9);
          float[] dec = q.decode(q.encode(x, new int[] {blocks, bs}, 5, 9));
          for (int i = 0; i < x.length; i++) {
            if (!sameBits(ref[i], fast[i]) || !sameBits(ref[i], dec[i])) fail(f.name() + " " + r + " tensor path at " + x[i]);
          }
        }
      }
    }
    assertTrue(clamped > 1000, "elements whose mantissa rounds to -2^(P-1): " + clamped);
    assertTrue(checked > 100_000, "checked " + checked);
  }

  @Test
  void theDefaultRangesAreUnchanged() {
    BlockFormat bfp = (BlockFormat) NumberFormat.parse("bfp8/b16");
    assertEquals(BlockFormat.bfp(8, 16), bfp);
    assertFalse(bfp.symmetric());
    assertEquals(-128, bfp.minMantissa());
    assertEquals("bfp8/b16", bfp.name());
    // -128 survives in a block whose amax is 127.75 (mantissa step 1: Es = 6 - 6 = 0)
    assertEquals(-128f, bfp.quantizeWithExponent(-127.75f, bfp.sharedExponent(127.75f), Rounding.NEAREST_EVEN, 0));
    BlockFormat dfp = (BlockFormat) NumberFormat.parse("dfp8");
    assertTrue(dfp.symmetric(), "DFP is symmetric");
    assertEquals(-127, dfp.minMantissa());
    assertEquals(dfp, new BlockFormat(BlockFormat.Kind.DFP, dfp.element(), 0, 0, false), "DFP is always symmetric");
    FixedPoint fp = (FixedPoint) NumberFormat.parse("fixed<8,4>");
    assertEquals(new FixedPoint(8, 4, true), fp);
    assertEquals(-128, fp.minCode());
    assertEquals(-8f, fp.quantize(-100f));
    assertEquals(256, fp.codeCount());
  }

  @Test
  void symmetricNamesParseAndRoundTrip() {
    assertEquals(BlockFormat.bfp(8, 16, true), NumberFormat.parse("bfp8/b16:sym"));
    assertEquals(BlockFormat.bfp(6, 0, true), NumberFormat.parse("BFP6:SYM"));
    assertEquals(new FixedPoint(8, 4, true, true), NumberFormat.parse("fixed<8,4>:sym"));
    assertEquals(new FixedPoint(8, -2, true, true), NumberFormat.parse("fixed< 8, -2 >:sym"));
    assertEquals(NumberFormat.parse("dfp16/b64"), NumberFormat.parse("dfp16/b64:sym"));
    for (String s : new String[] {"bfp8/b16:sym", "bfp8:sym", "bfp4/b32:sym", "fixed<8,4>:sym", "fixed<16,8>:sym",
        "fixed<2,0>:sym", "fixed<32,0>:sym", "bfp8/b16", "fixed<8,4>"}) {
      NumberFormat f = NumberFormat.parse(s);
      assertEquals(s, f.name());
      assertEquals(f, NumberFormat.parse(f.name()), s);
    }
    assertEquals(-7.9375, -NumberFormat.parse("fixed<8,4>:sym").maxFinite());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NumberFormat.parse("ufixed<8,4>:sym"));
    assertTrue(e.getMessage().contains("ufixed<8,4>:sym") && e.getMessage().contains("signed"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> NumberFormat.parse("fixed<1,0>:sym"));
    assertTrue(e.getMessage().contains("only 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> NumberFormat.parse("mxfp8:sym"));
    assertTrue(e.getMessage().contains("mxfp8:sym"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> NumberFormat.parse("bfp8/b16:symm"));
    assertTrue(e.getMessage().contains("bfp8/b16:symm"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new BlockFormat(BlockFormat.Kind.MX, Formats.E2M1, 32, 0, true));
    assertTrue(e.getMessage().contains(":sym"), e.getMessage());
  }
}
