package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.Accumulator.AccRounding;
import dev.lowbit.kernel.Accumulator.Chunked;
import dev.lowbit.kernel.Accumulator.FloatAcc;
import dev.lowbit.kernel.Accumulator.FloatFormat;
import dev.lowbit.kernel.Accumulator.Fp32Exact;
import dev.lowbit.kernel.Accumulator.Int32Exact;
import dev.lowbit.kernel.Accumulator.IntN;
import dev.lowbit.kernel.Accumulator.OverflowMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Accumulator values (parsing, printing) and event counts on constructed cases. */
class AccumulatorTest {

  /** The reference plus fast kernels at two widths and thread counts. */
  private static final List<EmulatedGemm> ALL = List.of(
      EmulatedGemm.scalar(), new VectorEmulatedGemm(256, 2), new VectorEmulatedGemm(512, 1),
      new VectorEmulatedGemm(128, 2));
  /** Columns: each constructed column is repeated so lanes and scalar tails both see it. */
  private static final int N = 37;

  @Test
  void parsesAndPrints() {
    assertEquals(new Fp32Exact(), Accumulator.parse("fp32"));
    assertEquals(new Int32Exact(), Accumulator.parse("int32"));
    assertEquals(new IntN(16, OverflowMode.WRAP), Accumulator.parse("int16:wrap"));
    assertEquals(new IntN(16, OverflowMode.WRAP), Accumulator.parse("int16"));
    assertEquals(new IntN(12, OverflowMode.SATURATE), Accumulator.parse("int12:sat"));
    FloatAcc e4m7 = new FloatAcc(new FloatFormat(7, 4, 7), AccRounding.RTZ, true, null);
    assertEquals(e4m7, Accumulator.parse("e4m7"));
    assertEquals(e4m7, Accumulator.parse("M7E4"));
    assertEquals(FloatAcc.of(4, 7, AccRounding.RTZ), e4m7);
    assertEquals(new Chunked(FloatAcc.of(5, 6, AccRounding.RTZ), 16, new Fp32Exact()),
        Accumulator.parse("e5m6/c16"));
    assertEquals(new Chunked(new IntN(12, OverflowMode.SATURATE), 64, new Int32Exact()),
        Accumulator.parse("int12:sat/c64"));
    assertEquals(new FloatAcc(new FloatFormat(6, 5, 12), AccRounding.STOCHASTIC, false,
        new FloatFormat(3, 4, 9)), Accumulator.parse("e5m6:sr:b=12:nouf:p=e4m3:pb=9"));
    for (String s : new String[] {"fp32", "int32", "int16:wrap", "int12:sat", "e4m7:rtz",
        "e5m6:rne", "e4m3:sr:nouf", "e5m6:b=12:rne:p=e4m3:pb=9", "e5m6:rtz/c16/fp32",
        "int12:sat/c64/int32", "e4m7:rne/c8/e6m9:sr", "int16:wrap/c4/int24:sat"}) {
      Accumulator a = Accumulator.parse(s);
      assertEquals(s, a.spec());
      assertEquals(a, Accumulator.parse(a.spec()));
    }
    assertEquals(13, Accumulator.chunkBias(15, 16));
    assertEquals(12, Accumulator.chunkBias(15, 32));
    assertEquals(15, Accumulator.chunkBias(15, 1));
  }

  @Test
  void badSpecsNameTheBadPart() {
    String[][] cases = {
      {"int40", "40"}, {"int12:clip", "clip"}, {"e9m3", "exponent bits"}, {"e4m7:foo", "foo"},
      {"e4m7/x16", "e4m7/x16"}, {"e4m7/c0", "chunk size"}, {"e4m7/cx", "cx"},
      {"e4m7/c16/int32", "both be integer"}, {"", "empty"}, {"banana", "banana"},
      {"e4m7:b=xyz", "xyz"}, {"e4m7:b=200", "bias 200"}, {"e5m24", "mantissa"},
      {"e4m7/c4/e5m6:p=e4m3", "outer"}, {"e4m7:pb=3", "pb="},
    };
    for (String[] c : cases) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Accumulator.parse(c[0]), c[0]);
      assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
    }
    assertEquals(new Multiplier.Exact(), Multiplier.parse("exact"));
    assertEquals(new Multiplier.LMul(3, Multiplier.OperandRounding.RNE), Multiplier.parse("lmul3"));
    assertEquals(new Multiplier.LMul(4, Multiplier.OperandRounding.TRUNCATE), Multiplier.parse("lmul4:trunc"));
    assertEquals("lmul4:trunc", Multiplier.parse("lmul4:trunc").spec());
    for (String bad : new String[] {"lmul0", "lmul3:x", "mul", "lmulx"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Multiplier.parse(bad));
      assertTrue(e.getMessage().contains(bad.replace("lmul3:", "")), e.getMessage());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> EmulatedGemm.scalar().gemmS8(Accumulator.parse("e4m7"), false, false, 1, 1, 1,
            new byte[1], 0, 1, new byte[1], 0, 1, new int[1], 0, 1));
    assertTrue(e.getMessage().contains("e4m7"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> EmulatedGemm.fast().gemm(new Multiplier.Exact(), Accumulator.parse("int16"), false, false,
            1, 1, 1, new float[1], 0, 1, new float[1], 0, 1, new float[1], 0, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new VectorEmulatedGemm(64, 1));
  }

  /** One row of A against N identical columns of B (B is k×1 repeated). */
  private static int[] intCase(String acc, byte[] aRow, byte[] bCol, long wantOverflows, int want) {
    int k = aRow.length;
    byte[] b = new byte[k * N];
    for (int p = 0; p < k; p++) Arrays.fill(b, p * N, (p + 1) * N, bCol[p]);
    int[] expect = new int[N];
    Arrays.fill(expect, want);
    for (EmulatedGemm g : ALL) {
      int[] c = new int[N];
      GemmStats st = g.gemmS8(Accumulator.parse(acc), false, false, 1, N, k, aRow, 0, k, b, 0, N, c, 0, N);
      assertArrayEquals(expect, c, g.name() + " " + acc);
      assertEquals(new GemmStats(wantOverflows * N, 0, 0), st, g.name() + " " + acc);
    }
    return expect;
  }

  @Test
  void integerOverflowCountsAreExact() {
    byte[] a = {100, 100, 100, -100};
    byte[] b = {10, 10, 10, 10};
    // products 1000, 1000, 1000, -1000 into 12 bits [-2048, 2047]
    intCase("int12:sat", a, b, 1, 1047); // 1000, 2000, 2047*, 1047
    intCase("int12:wrap", a, b, 2, 2000); // 1000, 2000, -1096*, 2000*: wrap ends at the true sum
    intCase("int32", a, b, 0, 2000);
    intCase("int12:wrap/c2/int32", a, b, 0, 2000); // chunks of 2 stay in range
    intCase("int11:sat/c2/int12:sat", a, b, 1, 1023); // chunks 1023*, 1023*... see below
  }

  @Test
  void int32ExactCountsOutputsNotSteps() {
    // (−32768)² = 2^30: three of them exceed int32 once; 2^30 + 2^30 − 2^30 leaves it and comes back.
    short[][] rows = {{-32768, -32768, -32768}, {-32768, -32768, -32768}};
    short[][] cols = {{-32768, -32768, -32768}, {-32768, -32768, 32767}};
    long[] wantExact = {1, 0};
    long[] wantWrap32 = {1, 2};
    for (int t = 0; t < 2; t++) {
      short[] b = new short[3 * N];
      for (int p = 0; p < 3; p++) Arrays.fill(b, p * N, (p + 1) * N, cols[t][p]);
      long trueSum = 0;
      for (int p = 0; p < 3; p++) trueSum += (long) rows[t][p] * cols[t][p];
      for (EmulatedGemm g : ALL) {
        int[] c = new int[N];
        GemmStats st = g.gemmS16(new Int32Exact(), false, false, 1, N, 3, rows[t], 0, 3, b, 0, N, c, 0, N);
        assertEquals(wantExact[t] * N, st.overflows(), g.name());
        assertEquals((int) trueSum, c[N - 1]);
        st = g.gemmS16(Accumulator.parse("int32:wrap"), false, false, 1, N, 3, rows[t], 0, 3, b, 0, N, c, 0, N);
        assertEquals(wantWrap32[t] * N, st.overflows(), g.name());
        assertEquals((int) trueSum, c[0]);
        st = g.gemmS16(Accumulator.parse("int32:sat"), false, false, 1, N, 3, rows[t], 0, 3, b, 0, N, c, 0, N);
        assertEquals(t == 0 ? Integer.MAX_VALUE : Integer.MAX_VALUE - 1073709056, c[N - 1], g.name());
      }
    }
  }

  private static float[] floatCase(String mul, String acc, float[] aRow, float[] bCol, GemmStats want) {
    int k = aRow.length;
    float[] b = new float[k * N];
    for (int p = 0; p < k; p++) Arrays.fill(b, p * N, (p + 1) * N, bCol[p]);
    float[] first = null;
    for (EmulatedGemm g : ALL) {
      float[] c = new float[N];
      GemmStats st = g.gemm(Multiplier.parse(mul), Accumulator.parse(acc), false, false, 1, N, k,
          aRow, 0, k, b, 0, N, c, 0, N, 7);
      assertEquals(want, st, g.name() + " " + acc);
      for (int j = 1; j < N; j++) assertEquals(c[0], c[j]);
      if (first == null) first = c;
      EmulatedGemmTest.assertFloatBits(first, c, g.name() + " " + acc);
    }
    return first;
  }

  @Test
  void floatEventsOnConstructedCases() {
    // e4m3, bias 7: max 2^8·1.875 = 480, min normal 2^-6, ulp 2 at 16.
    float[] c = floatCase("exact", "e4m3:rne", new float[] {16, 16, -16}, new float[] {16, 16, 16},
        new GemmStats(N, 0, 0));
    assertEquals(224f, c[0]); // 256, 512 → 480 (saturated), 480 − 256 = 224
    c = floatCase("exact", "e4m3:rne", new float[] {0.1f, 1}, new float[] {0.1f, 1}, new GemmStats(0, N, 0));
    assertEquals(1f, c[0]); // 0.01 < 2^-6 flushes
    c = floatCase("exact", "e4m3:rtz:nouf", new float[] {0.1f}, new float[] {0.1f}, GemmStats.ZERO);
    assertEquals(0.009765625f, c[0]); // kept below min normal with 3 fraction bits: 1.25·2^-7
    // 16 + 0.5 swamps (RNE back to 16); 16 + 1 = 17 is a tie between 16 and 18 → even 16, swamps again
    c = floatCase("exact", "e4m3:rne", new float[] {16, 0.5f, 1}, new float[] {1, 1, 1}, new GemmStats(0, 0, 2 * N));
    assertEquals(16f, c[0]);
    c = floatCase("exact", "e4m3:rne", new float[] {16, 0.5f, 1.5f}, new float[] {1, 1, 1}, new GemmStats(0, 0, N));
    assertEquals(18f, c[0]);
    c = floatCase("exact", "e4m3:rtz", new float[] {1, 0.95f}, new float[] {1, 1}, GemmStats.ZERO);
    assertEquals(1.875f, c[0]);
    c = floatCase("exact", "e4m3:rne", new float[] {1, 0.95f}, new float[] {1, 1}, GemmStats.ZERO);
    assertEquals(2f, c[0]);
    // product format e4m3 (bias 7): 0.001 underflows in Q_prod; a zero product never swamps
    c = floatCase("exact", "e5m10:rne:p=e4m3", new float[] {0.001f, 3}, new float[] {1, 1}, new GemmStats(0, N, 0));
    assertEquals(3f, c[0]);
    // eight products of 100 in e4m3 RNE: 96, 192 (196), 288 (292), 384 (388), 480 (484), then
    // 580, 580, 580 saturate (3 overflows). In chunks of 4 each chunk is 384, summed in fp32: 768.
    float[] ten = new float[8];
    Arrays.fill(ten, 10f);
    c = floatCase("exact", "e4m3:rne", ten, ten, new GemmStats(3 * N, 0, 0));
    assertEquals(480f, c[0]);
    c = floatCase("exact", "e4m3:rne/c4", ten, ten, GemmStats.ZERO);
    assertEquals(768f, c[0]);
    c = floatCase("exact", "e4m3:rne/c4/e4m3:rne", ten, ten, new GemmStats(N, 0, 0));
    assertEquals(480f, c[0]); // 384 + 384 = 768 saturates in an e4m3 outer accumulator
  }

  @Test
  void fp32ProductTiesRoundToEven() {
    // Products enter a minifloat accumulator rounded to fp32 (RNE). (1+2^-12)^2 = 1 + 2^-11 + 2^-24
    // is a tie that goes down to even; (1+3·2^-12)(1+2^-12) = 1 + 2^-10 + 2^-23 + 2^-24 goes up.
    float u = 1 + 0x1p-12f;
    float w = 1 + 3 * 0x1p-12f;
    float[][] cases = {{u, u, 1 + 0x1p-11f}, {w, u, 1 + 0x1p-10f + 0x1p-22f}, {-u, u, -(1 + 0x1p-11f)}};
    for (boolean poison : new boolean[] {false, true}) {
      for (float[] t : cases) {
        // row 1 holds an inf when poisoned, which sends every row down the guarded lane path
        float[] a = {t[0], poison ? Float.POSITIVE_INFINITY : 1f};
        float[] b = new float[N];
        Arrays.fill(b, t[1]);
        for (EmulatedGemm g : ALL) {
          float[] c = new float[2 * N];
          g.gemm(new Multiplier.Exact(), Accumulator.parse("e8m23:rne:b=128"), false, false, 2, N, 1,
              a, 0, 1, b, 0, N, c, 0, N, 0);
          for (int j = 0; j < N; j++) assertEquals(t[2], c[j], g.name() + " poison=" + poison);
        }
      }
    }
  }

  @Test
  void perStepEventFlags() {
    Multiplier exact = new Multiplier.Exact();
    byte[] f = new byte[4];
    // 16, +0.5 swamps, +1 swamps (tie to even), +1000 saturates at 480
    float v = ScalarEmulatedGemm.chain(exact, Accumulator.parse("e4m3:rne"),
        new float[] {16, 0.5f, 1, 1000}, new float[] {1, 1, 1, 1}, 4, 0, 0, f);
    assertEquals(480f, v);
    assertArrayEquals(new byte[] {0, ScalarEmulatedGemm.SWAMP, ScalarEmulatedGemm.SWAMP,
        ScalarEmulatedGemm.SATURATE}, f);
    // products 0.001 and 0.01 underflow in Q_prod (e4m3, bias 7: min normal 2^-6); 0.03 survives
    // as 0.029296875 and swamps against 2 (ulp 0.25)
    v = ScalarEmulatedGemm.chain(exact, Accumulator.parse("e4m3:rne:p=e4m3"),
        new float[] {0.001f, 2, 0.1f, 0.03f}, new float[] {1, 1, 0.1f, 1}, 4, 0, 0, f);
    assertEquals(2f, v);
    assertArrayEquals(new byte[] {ScalarEmulatedGemm.PRODUCT_EVENT, 0, ScalarEmulatedGemm.PRODUCT_EVENT,
        ScalarEmulatedGemm.SWAMP}, f);
    v = ScalarEmulatedGemm.chain(exact, Accumulator.parse("e4m3:rne"),
        new float[] {0.1f}, new float[] {0.1f}, 1, 0, 0, f);
    assertEquals(0f, v);
    assertEquals(ScalarEmulatedGemm.UNDERFLOW, f[0]);
    // the chain's value is the GEMM's value for the same output index (stochastic rounding too)
    Random r = new Random(5);
    int k = 40;
    float[] a = GemmData.floats(r, 3 * k, false, 1);
    float[] b = GemmData.floats(r, k * 5, false, 1);
    float[] c = new float[15];
    Accumulator acc = Accumulator.parse("e4m3:sr/c8/e5m6:sr");
    EmulatedGemm.fast().gemm(exact, acc, false, false, 3, 5, k, a, 0, k, b, 0, 5, c, 0, 5, 77);
    float[] y = new float[k];
    for (int p = 0; p < k; p++) y[p] = b[p * 5 + 4];
    float[] x = Arrays.copyOfRange(a, 2 * k, 3 * k);
    assertEquals(c[2 * 5 + 4], ScalarEmulatedGemm.chain(exact, acc, x, y, k, 77, 2 * 5 + 4, new byte[k]));
  }

  @Test
  void stochasticRoundingIsUnbiased() {
    // 1 + 1/16 lies halfway between e4m3 neighbours 1 and 1.125: SR must pick each about half the time.
    int n = 4096;
    float[] b = new float[n];
    Arrays.fill(b, 1.0625f);
    for (EmulatedGemm g : ALL) {
      float[] c = new float[n];
      g.gemm(new Multiplier.Exact(), Accumulator.parse("e4m3:sr"), false, false, 1, n, 1,
          new float[] {1}, 0, 1, b, 0, n, c, 0, n, 99);
      int up = 0;
      for (float v : c) {
        assertTrue(v == 1f || v == 1.125f, "SR result " + v);
        if (v == 1.125f) up++;
      }
      assertTrue(Math.abs(up - n / 2) < 4 * Math.sqrt(n / 4.0), g.name() + " rounded up " + up + " of " + n);
    }
  }

  @Test
  void quantizerMatchesDefinitionOnKnownValues() {
    FloatFormat e4m3 = new FloatFormat(3, 4, 7);
    long[] ev = new long[3];
    assertEquals(1.875, ScalarEmulatedGemm.quantize(1.95, e4m3, AccRounding.RTZ, true, 0, ev));
    assertEquals(2.0, ScalarEmulatedGemm.quantize(1.95, e4m3, AccRounding.RNE, true, 0, ev));
    assertEquals(1.0, ScalarEmulatedGemm.quantize(1.0625, e4m3, AccRounding.RNE, true, 0, ev)); // tie → even
    assertEquals(1.25, ScalarEmulatedGemm.quantize(1.1875, e4m3, AccRounding.RNE, true, 0, ev)); // tie → even
    assertEquals(-1.875, ScalarEmulatedGemm.quantize(-1.95, e4m3, AccRounding.RTZ, true, 0, ev));
    assertEquals(480.0, ScalarEmulatedGemm.quantize(1e9, e4m3, AccRounding.RNE, true, 0, ev));
    assertEquals(-480.0, ScalarEmulatedGemm.quantize(Double.NEGATIVE_INFINITY, e4m3, AccRounding.RTZ, true, 0, ev));
    assertEquals(480.0, ScalarEmulatedGemm.quantize(495.9, e4m3, AccRounding.RNE, true, 0, ev)); // 15.49 ulps
    assertEquals(480.0, ScalarEmulatedGemm.quantize(496, e4m3, AccRounding.RNE, true, 0, ev)); // tie → 512 → saturates
    assertEquals(480.0, ScalarEmulatedGemm.quantize(511, e4m3, AccRounding.RTZ, true, 0, ev)); // truncates to 480
    assertEquals(0.0, ScalarEmulatedGemm.quantize(0.0155, e4m3, AccRounding.RNE, true, 0, ev)); // < 2^-6
    assertEquals(0.015625, ScalarEmulatedGemm.quantize(0.015625, e4m3, AccRounding.RNE, true, 0, ev));
    assertTrue(Double.isNaN(ScalarEmulatedGemm.quantize(Double.NaN, e4m3, AccRounding.RNE, true, 0, ev)));
    assertArrayEquals(new long[] {3, 1, 0}, ev);
  }
}
