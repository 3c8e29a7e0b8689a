package dev.lowbit.format;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Stochastic rounding statistics and reproducibility; format strings and their errors. */
class StochasticAndParseTest {

  @Test
  void stochasticRoundingIsUnbiased() {
    int n = 1_000_000;
    Object[][] cases = {{Formats.E4M3, 1.0375f}, {Formats.E5M2, -0.0003f}, {Formats.BF16, 3.14159f},
        {new IntFormat(8, true, 1f), 100.3f}, {Formats.E2M1, 2.4f}};
    for (Object[] c : cases) {
      ElementFormat f = (ElementFormat) c[0];
      float x = (float) c[1];
      float[] in = new float[n];
      java.util.Arrays.fill(in, x);
      float[] out = f.quantize(in, Rounding.STOCHASTIC, 42, 1);
      double sum = 0;
      boolean up = false, down = false;
      for (float v : out) {
        sum += v;
        up |= v > x;
        down |= v < x;
      }
      assertTrue(up && down, f.name() + ": both neighbours should occur");
      double rel = Math.abs(sum / n - x) / Math.abs(x);
      assertTrue(rel < 1e-3, f.name() + " mean relative error " + rel);
    }
  }

  @Test
  void sameSeedSameBitsForAnyThreadCountOrChunking() {
    float[] x = QuantizerTest.gaussian(3, 300_000);
    for (String name : new String[] {"e4m3", "int8", "mxfp8", "dfp16/b64"}) {
      Quantizer q = Quantizer.of(NumberFormat.parse(name), Rounding.STOCHASTIC);
      int[] shape = {300_000};
      float[] one = new float[x.length], two = new float[x.length], again = new float[x.length];
      q.quantize(x, shape, one, 11, 5, 1);
      q.quantize(x, shape, two, 11, 5, 2);
      q.quantize(x, shape, again, 11, 5, 1);
      assertArrayEquals(one, two, name);
      assertArrayEquals(one, again, name);
      float[] other = new float[x.length];
      q.quantize(x, shape, other, 12, 5, 1);
      assertFalse(java.util.Arrays.equals(one, other), name + ": another seed should differ");
      q.quantize(x, shape, other, 11, 6, 1);
      assertFalse(java.util.Arrays.equals(one, other), name + ": another stream should differ");
    }
    // chunked element-format calls give the same bits as one call
    float[] whole = Formats.E5M2.quantize(x, Rounding.STOCHASTIC, 1, 2);
    float[] parts = new float[x.length];
    Formats.E5M2.quantize(x, 0, 1000, parts, 0, Rounding.STOCHASTIC, 1, 2);
    Formats.E5M2.quantize(x, 1000, x.length - 1000, parts, 1000, Rounding.STOCHASTIC, 1, 2);
    assertArrayEquals(whole, parts);
  }

  @Test
  void namesRoundTrip() {
    String[] names = {"int8", "uint4", "int1", "uint32", "int32", "int8*0.25", "fixed<16,8>",
        "ufixed<8,8>", "fixed<8,-2>", "fp32", "tf32", "bf16", "fp16", "e4m3", "e5m2", "e3m2",
        "e2m3", "e2m1", "e3m4", "e4m3:sat", "e5m2:sat", "e3m4:fn:sat", "e6m9:nosub:bias=20",
        "e2m1:ieee:nonsat", "e1m2", "e1m0", "e8m0", "dfp16", "dfp16/b64", "dfp16/b64/h2", "bfp8/b16",
        "bfp8", "mxfp8", "mxfp8e5m2", "mxfp6", "mxfp6e3m2", "mxfp4", "mxint8", "mxfp8/b16",
        "mx<e3m4>", "mx<int4*0.25>/b8"};
    for (String s : names) {
      NumberFormat f = NumberFormat.parse(s);
      assertEquals(f, NumberFormat.parse(f.name()), s + " -> " + f.name());
    }
    assertEquals(Formats.E4M3, NumberFormat.parse("E4M3"));
    assertEquals(Formats.E4M3, NumberFormat.parse("e4m3fn"));
    assertEquals(MiniFloat.ieee(3, 4), NumberFormat.parse("e3m4"));
    assertEquals(IntFormat.signed(8), NumberFormat.parse("int8"));
    assertEquals(new FixedPoint(16, 8, true), NumberFormat.parse("fixed<16,8>"));
    assertEquals(BlockFormat.dfp(16, 64, 0), NumberFormat.parse("dfp16/b64"));
    assertEquals(32, ((BlockFormat) NumberFormat.parse("mxfp4")).blockSize());
    // random minifloats with random options survive name() -> parse()
    SplittableRandom r = new SplittableRandom(8);
    for (int i = 0; i < 2000; i++) {
      int e = 1 + r.nextInt(8), m = r.nextInt(24);
      MiniFloat.Specials sp = MiniFloat.Specials.values()[r.nextInt(3)];
      MiniFloat.Overflow ov = sp == MiniFloat.Specials.FINITE ? MiniFloat.Overflow.SATURATE
          : MiniFloat.Overflow.values()[r.nextInt(2)];
      MiniFloat f;
      try {
        f = new MiniFloat(e, m, MiniFloat.defaultBias(e) + r.nextInt(-3, 4), r.nextBoolean(), sp, ov);
      } catch (IllegalArgumentException ex) {
        continue;
      }
      assertEquals(f, NumberFormat.parse(f.name()), f.toString());
    }
  }

  @Test
  void badInputNamesTheValue() {
    String[][] bad = {{"int0", "int0"}, {"int33", "33"}, {"e9m30", "e9m30"}, {"e0m3", "e0m3"},
        {"e4m24", "e4m24"}, {"foo", "foo"}, {"fixed<0,1>", "0"}, {"e4m3:bogus", "bogus"},
        {"dfp1", "dfp1"}, {"mxfp3", "mxfp3"}, {"", "empty"}, {"e2m1:nonsat", "saturat"},
        {"e8m3:bias=-200", "bias"}, {"int8*-1", "-1"}};
    for (String[] b : bad) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> NumberFormat.parse(b[0]), b[0]);
      assertTrue(e.getMessage().contains(b[1]), b[0] + ": " + e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> Rounding.parse("up"));
    assertEquals(Rounding.STOCHASTIC, Rounding.parse("sr"));
    assertEquals(Rounding.NEAREST_AWAY, Rounding.parse("nearest-away"));
    assertThrows(IllegalArgumentException.class, () -> Granularity.parse("row"));
    assertThrows(IllegalArgumentException.class, () -> Granularity.parse("channel:"));
    assertThrows(IllegalArgumentException.class, () -> Granularity.parse("block:8:"));
    assertEquals(Granularity.perBlock(32, -1), Granularity.parse("block:32"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Formats.E4M3.encodeValue(0.3f));
    assertTrue(e.getMessage().contains("0.3"), e.getMessage());
  }

  @Test
  void roundingModesOnIntegers() {
    IntFormat f = new IntFormat(8, true, 1f);
    float[] x = {2.5f, -2.5f, 3.5f, -0.4f, 1.7f, -1.7f};
    float[][] want = {
        {2f, -2f, 4f, 0f, 2f, -2f}, // nearest-even
        {3f, -3f, 4f, 0f, 2f, -2f}, // nearest-away
        null,
        {2f, -2f, 3f, 0f, 1f, -1f}, // toward zero
        {2f, -3f, 3f, -1f, 1f, -2f}, // floor
    };
    for (Rounding r : Rounding.values()) {
      if (want[r.ordinal()] == null) continue;
      float[] got = f.quantize(x, r, 0, 0);
      assertArrayEquals(want[r.ordinal()], got, r.toString());
    }
  }
}
