package dev.lowbit.onednn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.LowPrecisionGemm;
import dev.lowbit.kernel.LowPrecisionGemm.Fp8;
import dev.lowbit.kernel.ScalarGemm;
import dev.lowbit.kernel.ScalarLowPrecisionGemm;
import dev.lowbit.onednn.OneDnnGemm.NarrowKind;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Holds every oneDNN kernel to the pure-Java reference: integers bit for bit, floats within the bound. */
class OneDnnGemmTest {

  /** The reference, counting the calls the backend hands it. */
  static final class CountingGemm implements Gemm {
    final AtomicInteger calls = new AtomicInteger();

    @Override
    public String name() {
      return "counting-scalar";
    }

    @Override
    public void sgemm(boolean tA, boolean tB, int m, int n, int k, float alpha, float[] a, int aOff,
        int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
      calls.incrementAndGet();
      ScalarGemm.INSTANCE.sgemm(tA, tB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override
    public void gemmS8S8(boolean tA, boolean tB, int m, int n, int k, byte[] a, int aOff, int lda,
        byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
      calls.incrementAndGet();
      ScalarGemm.INSTANCE.gemmS8S8(tA, tB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    }

    @Override
    public void gemmU8S8(boolean tA, boolean tB, int m, int n, int k, byte[] a, int aOff, int lda,
        byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
      calls.incrementAndGet();
      ScalarGemm.INSTANCE.gemmU8S8(tA, tB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    }

    @Override
    public long gemmS16(boolean tA, boolean tB, int m, int n, int k, short[] a, int aOff, int lda,
        short[] b, int bOff, int ldb, int[] c, int cOff, int ldc, boolean countOverflow) {
      calls.incrementAndGet();
      return ScalarGemm.INSTANCE.gemmS16(tA, tB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, countOverflow);
    }
  }

  static CountingGemm fallback;
  static OneDnnGemm gemm;

  @BeforeAll
  static void load() {
    fallback = new CountingGemm();
    gemm = Natives.loadOrSkip(fallback);
    gemm.setMinNativeMacs(0); // every shape native, however small
  }

  /** Shapes that cross oneDNN's blockings: tiny, odd, prime, and a few larger ones. */
  static final int[][] SHAPES = {
    {1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {3, 5, 2}, {17, 33, 65}, {31, 29, 127}, {64, 64, 64},
    {67, 131, 259}, {128, 96, 1000}, {2, 3, 3001},
    // oneDNN 3.11's AMX int8 matmul on plain (unpacked) weights got these wrong: K tail with N > 32
    {33, 65, 68}, {32, 49, 129}, {17, 48, 67},
  };

  /** Layout of one test case: transposes, offsets and leading dimensions wider than needed. */
  record Layout(boolean tA, boolean tB, int aOff, int lda, int bOff, int ldb, int cOff, int ldc) {
    static Layout of(Random r, int m, int n, int k, boolean tA, boolean tB) {
      int pad = r.nextBoolean() ? 0 : 1 + r.nextInt(5);
      return new Layout(tA, tB, r.nextInt(4), (tA ? m : k) + pad, r.nextInt(4), (tB ? k : n) + pad,
          r.nextInt(4), n + (r.nextBoolean() ? 0 : 3));
    }

    int aLen(int m, int k) {
      return aOff + (tA ? k : m) * lda;
    }

    int bLen(int k, int n) {
      return bOff + (tB ? n : k) * ldb;
    }

    int cLen(int m) {
      return cOff + m * ldc;
    }
  }

  private static byte[] randomBytes(Random r, int len, boolean extreme, boolean unsigned) {
    byte[] x = new byte[len];
    int[] ext = unsigned ? new int[] {0, 255, 254, 128, 127} : new int[] {-128, 127, -127, 0};
    for (int i = 0; i < len; i++) {
      x[i] = (byte) (extreme ? ext[r.nextInt(ext.length)] : r.nextInt(256));
    }
    return x;
  }

  @Test
  void smallIntegerProductsStayOnJavaBelowTheCutoff() {
    OneDnnGemm g = OneDnnGemm.create(fallback);
    g.setMinNativeMacs(1000);
    byte[] a = new byte[9 * 10], b = new byte[10 * 11];
    for (int i = 0; i < a.length; i++) a[i] = (byte) (i * 37);
    for (int i = 0; i < b.length; i++) b[i] = (byte) (i * 91);
    int[] want = new int[9 * 11], got = new int[9 * 11];
    ScalarGemm.INSTANCE.gemmS8S8(false, false, 9, 11, 10, a, 0, 10, b, 0, 11, want, 0, 11);
    int before = fallback.calls.get();
    long nativeBefore = g.nativeCalls();
    g.gemmS8S8(false, false, 9, 11, 10, a, 0, 10, b, 0, 11, got, 0, 11); // 990 multiply-adds
    assertArrayEquals(want, got);
    assertEquals(before + 1, fallback.calls.get());
    assertEquals(nativeBefore, g.nativeCalls());
    g.gemmS8S8(false, false, 10, 11, 10, new byte[100], 0, 10, b, 0, 11, new int[110], 0, 11); // 1100
    assertEquals(nativeBefore + 1, g.nativeCalls());
    assertThrows(IllegalArgumentException.class, () -> g.setMinNativeMacs(-1));
  }

  /** Every int8 kernel, and C += (A·B) << shift, bit for bit against Java across shapes and layouts. */
  @Test
  void int8KernelsAreBitIdenticalToJava() {
    Random r = new Random(1);
    long before = gemm.nativeCalls();
    int cases = 0;
    for (int[] s : SHAPES) {
      int m = s[0], n = s[1], k = s[2];
      for (int t = 0; t < 4; t++) {
        boolean tA = (t & 1) != 0, tB = (t & 2) != 0;
        for (boolean unsigned : new boolean[] {false, true}) {
          for (boolean extreme : new boolean[] {false, true}) {
            Layout l = Layout.of(r, m, n, k, tA, tB);
            byte[] a = randomBytes(r, l.aLen(m, k), extreme, unsigned);
            byte[] b = randomBytes(r, l.bLen(k, n), extreme, false);
            int[] want = new int[l.cLen(m)];
            Arrays.fill(want, 0x5A5A5A5A); // gaps between rows must survive
            int[] got = want.clone();
            if (unsigned) {
              ScalarGemm.INSTANCE.gemmU8S8(tA, tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, want, l.cOff, l.ldc);
              gemm.gemmU8S8(tA, tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, got, l.cOff, l.ldc);
            } else {
              ScalarGemm.INSTANCE.gemmS8S8(tA, tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, want, l.cOff, l.ldc);
              gemm.gemmS8S8(tA, tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, got, l.cOff, l.ldc);
              // C += (A·B) << shift, on a C of random bits: the native add equals the Java default, wrapping
              int shift = new int[] {0, 3, 30, 31}[r.nextInt(4)];
              int[] wantAdd = new int[l.cLen(m)];
              for (int i = 0; i < wantAdd.length; i++) wantAdd[i] = r.nextInt();
              int[] gotAdd = wantAdd.clone();
              ScalarGemm.INSTANCE.gemmS8S8AddShifted(tA, tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, shift, wantAdd, l.cOff, l.ldc);
              gemm.gemmS8S8AddShifted(tA, tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, shift, gotAdd, l.cOff, l.ldc);
              assertArrayEquals(wantAdd, gotAdd, () -> "s8s8 += << " + shift + " " + m + "x" + n + "x" + k + " " + l);
              cases++;
            }
            assertArrayEquals(want, got, () -> (unsigned ? "u8s8 " : "s8s8 ") + m + "x" + n + "x" + k + " " + l);
            cases++;
          }
        }
      }
    }
    assertEquals(cases, gemm.nativeCalls() - before, "every case ran natively");
  }

  @Test
  void int8AddShiftedRejectsShiftsOutsideInt32() {
    assertThrows(IllegalArgumentException.class,
        () -> gemm.gemmS8S8AddShifted(false, false, 1, 1, 1, new byte[1], 0, 1, new byte[1], 0, 1, 32, new int[1], 0, 1));
  }

  /** k columns of a much wider A (one inner group of IM-Unpack's A'') are copied compactly and stay exact. */
  @Test
  void narrowColumnsOfAWideAAreExact() {
    Random r = new Random(19);
    for (int[] s : new int[][] {{300, 250, 1}, {64, 70, 5}, {129, 33, 43}, {1, 9, 2}}) {
      int m = s[0], n = s[1], k = s[2];
      int lda = 9 * k + 7, aOff = 3 * k + 1;
      byte[] a = randomBytes(r, aOff + m * lda, false, false);
      byte[] b = randomBytes(r, k * n, true, false);
      int[] want = new int[m * n], got = new int[m * n];
      ScalarGemm.INSTANCE.gemmS8S8(false, false, m, n, k, a, aOff, lda, b, 0, n, want, 0, n);
      gemm.gemmS8S8(false, false, m, n, k, a, aOff, lda, b, 0, n, got, 0, n);
      assertArrayEquals(want, got, Arrays.toString(s));
    }
  }

  /** IM-Unpack's exact GEMM on oneDNN (groups in place, added as copied out, small groups in Java). */
  @Test
  void unpackedProductsAreExactOnOneDnn() {
    Random r = new Random(23);
    for (int bits : new int[] {2, 4, 8}) {
      int lo = 1 << (bits - 1);
      for (int[] s : new int[][] {{1, 1, 1}, {70, 90, 65}, {1, 200, 3}, {150, 40, 1}}) {
        int[] x = new int[s[0] * s[1]];
        int[] y = new int[s[1] * s[2]];
        int[] pool = {Integer.MIN_VALUE, Integer.MAX_VALUE, -Integer.MAX_VALUE, 1 << 30};
        for (int i = 0; i < x.length; i++) x[i] = r.nextInt(50) == 0 ? pool[r.nextInt(4)] : r.nextInt(6 * lo) - 3 * lo;
        for (int i = 0; i < y.length; i++) y[i] = r.nextInt(2 * lo - 1) - lo + 1 + (r.nextInt(20) == 0 ? 5 * lo : 0);
        dev.lowbit.unpack.IntMatrix a = new dev.lowbit.unpack.IntMatrix(s[0], s[1], x);
        dev.lowbit.unpack.IntMatrix b = new dev.lowbit.unpack.IntMatrix(s[1], s[2], y);
        long[] want = dev.lowbit.unpack.UnpackedGemm.referenceGemm(a, b);
        for (dev.lowbit.unpack.Strategy st : dev.lowbit.unpack.Strategy.values()) {
          long[] got = dev.lowbit.unpack.UnpackedGemm.multiply(dev.lowbit.unpack.UnpackedGemm.unpack(a, b, st, bits), gemm);
          assertArrayEquals(want, got, st.spec() + " b=" + bits + " " + Arrays.toString(s));
        }
      }
    }
  }

  @Test
  void packedWeightsGiveTheSameBitsAcrossShapesAndCalls() {
    Random r = new Random(6);
    for (int[] s : SHAPES) {
      int n = s[1], k = s[2];
      for (boolean tB : new boolean[] {false, true}) {
        int ldb = (tB ? k : n) + r.nextInt(3);
        byte[] b = randomBytes(r, (tB ? n : k) * ldb, false, false);
        try (PackedWeights w = gemm.packInt8Weights(tB, k, n, b, 0, ldb)) {
          for (int m : new int[] {s[0], s[0] + 5, s[0]}) { // reuse, a second layout, reuse again
            for (boolean unsigned : new boolean[] {false, true}) {
              boolean tA = r.nextBoolean();
              int lda = tA ? m : k;
              byte[] a = randomBytes(r, m * k, r.nextBoolean(), unsigned);
              int[] want = new int[m * n];
              int[] got = new int[m * n];
              if (unsigned) {
                ScalarGemm.INSTANCE.gemmU8S8(tA, tB, m, n, k, a, 0, lda, b, 0, ldb, want, 0, n);
              } else {
                ScalarGemm.INSTANCE.gemmS8S8(tA, tB, m, n, k, a, 0, lda, b, 0, ldb, want, 0, n);
              }
              long before = gemm.nativeCalls();
              gemm.gemmInt8Packed(unsigned, tA, m, a, 0, lda, w, got, 0, n);
              assertEquals(before + 1, gemm.nativeCalls());
              assertArrayEquals(want, got, () -> "packed " + m + "x" + n + "x" + k + " tA=" + tA + " tB=" + tB);
            }
          }
        }
      }
    }
  }

  @Test
  void int8AtTheLargestExactKMatchesJava() {
    // all −128 × −128: the largest s8s8 sum that fits int32; 255 × −128 likewise for u8s8
    for (boolean unsigned : new boolean[] {false, true}) {
      int k = unsigned ? OneDnnGemm.MAX_K_U8S8 : OneDnnGemm.MAX_K_S8S8;
      byte[] a = new byte[2 * k];
      byte[] b = new byte[k * 3];
      Arrays.fill(a, (byte) (unsigned ? 255 : -128));
      Arrays.fill(b, (byte) -128);
      for (int p = 0; p < k; p += 2) b[p * 3 + 1] = 127;
      int[] want = new int[6];
      int[] got = new int[6];
      long before = gemm.nativeCalls();
      if (unsigned) {
        ScalarGemm.INSTANCE.gemmU8S8(false, false, 2, 3, k, a, 0, k, b, 0, 3, want, 0, 3);
        gemm.gemmU8S8(false, false, 2, 3, k, a, 0, k, b, 0, 3, got, 0, 3);
      } else {
        ScalarGemm.INSTANCE.gemmS8S8(false, false, 2, 3, k, a, 0, k, b, 0, 3, want, 0, 3);
        gemm.gemmS8S8(false, false, 2, 3, k, a, 0, k, b, 0, 3, got, 0, 3);
      }
      assertEquals(1, gemm.nativeCalls() - before);
      assertArrayEquals(want, got);
    }
  }

  @Test
  void int8BeyondTheExactBoundIsDeclinedAndWrapsLikeJava() {
    int k = OneDnnGemm.MAX_K_S8S8 + 1; // 131072 · 16384 = 2^31: wraps to −2^31 in Java
    byte[] a = new byte[k];
    Arrays.fill(a, (byte) -128);
    int[] c = new int[1];
    int calls = fallback.calls.get();
    gemm.gemmS8S8(false, false, 1, 1, k, a, 0, k, a, 0, 1, c, 0, 1);
    assertEquals(calls + 1, fallback.calls.get(), "declined to Java");
    assertEquals(Integer.MIN_VALUE, c[0]);
    int ku = OneDnnGemm.MAX_K_U8S8 + 1;
    byte[] au = new byte[ku];
    Arrays.fill(au, (byte) 255);
    byte[] bu = new byte[ku];
    Arrays.fill(bu, (byte) -128);
    gemm.gemmU8S8(false, false, 1, 1, ku, au, 0, ku, bu, 0, 1, c, 0, 1);
    assertEquals(calls + 2, fallback.calls.get(), "declined to Java");
    assertEquals((int) (-255L * 128 * ku), c[0]);
  }

  @Test
  void int16ByDigitsIsBitIdenticalToJavaWithOverflowCounts() {
    Random r = new Random(2);
    long before = gemm.nativeCalls();
    int cases = 0;
    short[] ext = {Short.MIN_VALUE, Short.MAX_VALUE, -1, 0, 255, 256, -256, -255};
    for (int[] s : SHAPES) {
      int m = s[0], n = s[1], k = Math.min(s[2], 1200);
      for (int t = 0; t < 4; t++) {
        boolean tA = (t & 1) != 0, tB = (t & 2) != 0;
        for (boolean extreme : new boolean[] {false, true}) {
          Layout l = Layout.of(r, m, n, k, tA, tB);
          short[] a = new short[l.aLen(m, k)];
          short[] b = new short[l.bLen(k, n)];
          for (int i = 0; i < a.length; i++) a[i] = extreme ? ext[r.nextInt(ext.length)] : (short) r.nextInt();
          for (int i = 0; i < b.length; i++) b[i] = extreme ? ext[r.nextInt(ext.length)] : (short) r.nextInt();
          int[] want = new int[l.cLen(m)];
          Arrays.fill(want, -7);
          int[] got = want.clone();
          long wantOver = ScalarGemm.INSTANCE.gemmS16(tA, tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, want, l.cOff, l.ldc, true);
          long gotOver = gemm.gemmS16(tA, tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, got, l.cOff, l.ldc, true);
          String what = "s16 " + m + "x" + n + "x" + k + " " + l;
          assertArrayEquals(want, got, what);
          assertEquals(wantOver, gotOver, what + " overflow count");
          assertEquals(0, gemm.gemmS16(tA, tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, got, l.cOff, l.ldc, false));
          assertArrayEquals(want, got, what);
          cases += 2;
        }
      }
    }
    assertEquals(cases, gemm.nativeCalls() - before, "every case ran natively");
  }

  @Test
  void int16OverflowIsCountedExactly() {
    // 3 · (−32768)² = 3·2^30 wraps; 2 · (−32768)² = 2^31 wraps too; 1 · 2^30 does not
    short[] a = {-32768, -32768, -32768, -32768, -32768, 0, -32768, 0, 0};
    short[] b = {-32768, -32768, -32768};
    int[] want = new int[3];
    int[] got = new int[3];
    long w = ScalarGemm.INSTANCE.gemmS16(false, false, 3, 1, 3, a, 0, 3, b, 0, 1, want, 0, 1, true);
    long g = gemm.gemmS16(false, false, 3, 1, 3, a, 0, 3, b, 0, 1, got, 0, 1, true);
    assertEquals(2, w);
    assertEquals(w, g);
    assertArrayEquals(want, got);
  }

  @Test
  void int16BeyondTheDigitBoundIsDeclined() {
    int k = OneDnnGemm.MAX_K_U8S8 + 1;
    short[] a = new short[k];
    Arrays.fill(a, (short) 300);
    int[] c = new int[1];
    int calls = fallback.calls.get();
    long over = gemm.gemmS16(false, false, 1, 1, k, a, 0, k, a, 0, 1, c, 0, 1, true);
    assertEquals(calls + 1, fallback.calls.get());
    assertEquals(1, over); // 90,000 · 65,794 > 2^31
    assertEquals((int) (90_000L * k), c[0]);
  }

  // ---------------------------------------------------------------- narrow floats

  private interface Decoder {
    float decode(int bits);
  }

  /** Checks got against want within the reassociation bound, element by element. */
  private static void assertWithinBound(boolean tA, boolean tB, int m, int n, int k, Decoder da,
      int[] a, Layout l, Decoder db, int[] b, float[] want, float[] got, String what) {
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double sumAbs = 0;
        for (int p = 0; p < k; p++) {
          double x = da.decode(tA ? a[l.aOff + p * l.lda + i] : a[l.aOff + i * l.lda + p]);
          double y = db.decode(tB ? b[l.bOff + j * l.ldb + p] : b[l.bOff + p * l.ldb + j]);
          sumAbs += Math.abs(x * y);
        }
        double bound = LowPrecisionGemm.reassociationBound(k, sumAbs);
        int ci = l.cOff + i * l.ldc + j;
        double diff = Math.abs((double) got[ci] - want[ci]);
        if (!(diff <= bound)) {
          throw new AssertionError(what + " at (" + i + "," + j + "): got " + got[ci] + " want "
              + want[ci] + " diff " + diff + " > bound " + bound);
        }
      }
    }
  }

  @Test
  void bf16AndFp16AgreeWithJavaWithinTheReassociationBound() {
    Random r = new Random(3);
    for (boolean bf16 : new boolean[] {true, false}) {
      long before = gemm.nativeCalls(), declinedBefore = gemm.declinedCalls();
      for (int[] s : SHAPES) {
        int m = s[0], n = s[1], k = s[2];
        boolean tA = r.nextBoolean(), tB = r.nextBoolean();
        Layout l = Layout.of(r, m, n, k, tA, tB);
        short[] a = new short[l.aLen(m, k)];
        short[] b = new short[l.bLen(k, n)];
        int[] ai = new int[a.length];
        int[] bi = new int[b.length];
        for (int i = 0; i < a.length; i++) {
          float v = (float) (r.nextGaussian() * (bf16 ? 1e3 : 4));
          a[i] = bf16 ? ScalarLowPrecisionGemm.floatToBf16(v) : ScalarLowPrecisionGemm.floatToF16(v);
          ai[i] = a[i];
        }
        for (int i = 0; i < b.length; i++) {
          float v = (float) (r.nextGaussian() * (bf16 ? 1e-2 : 4));
          b[i] = bf16 ? ScalarLowPrecisionGemm.floatToBf16(v) : ScalarLowPrecisionGemm.floatToF16(v);
          bi[i] = b[i];
        }
        float[] want = new float[l.cLen(m)];
        float[] got = new float[want.length];
        Decoder d;
        if (bf16) {
          ScalarLowPrecisionGemm.INSTANCE.gemmBf16(tA, tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, want, l.cOff, l.ldc);
          gemm.gemmBf16(tA, tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, got, l.cOff, l.ldc);
          d = bits -> ScalarLowPrecisionGemm.bf16ToFloat((short) bits);
        } else {
          ScalarLowPrecisionGemm.INSTANCE.gemmF16(tA, tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, want, l.cOff, l.ldc);
          gemm.gemmF16(tA, tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, got, l.cOff, l.ldc);
          d = bits -> ScalarLowPrecisionGemm.f16ToFloat((short) bits);
        }
        assertWithinBound(tA, tB, m, n, k, d, ai, l, d, bi, want, got, (bf16 ? "bf16 " : "fp16 ") + Arrays.toString(s) + " " + l);
      }
      assertRanWhereNative(bf16 ? NarrowKind.BF16 : NarrowKind.F16, SHAPES.length, before, declinedBefore);
    }
  }

  /**
   * Every one of {@code calls} calls ran natively where this CPU has a native kernel for the kind
   * (the backend says so), else every one was declined to the Java fallback: no CPU model assumed.
   */
  private static void assertRanWhereNative(NarrowKind kind, long calls, long nativeBefore, long declinedBefore) {
    boolean nat = gemm.runsNatively(kind);
    assertEquals(nat ? calls : 0, gemm.nativeCalls() - nativeBefore, kind + " native calls (native here: " + nat + ")");
    assertEquals(nat ? 0 : calls, gemm.declinedCalls() - declinedBefore, kind + " declined calls (native here: " + nat + ")");
  }

  @Test
  void packedBf16AndFp16WeightsGiveTheUnpackedBits() {
    Random r = new Random(8);
    for (boolean bf16 : new boolean[] {true, false}) {
      for (int[] s : new int[][] {{17, 33, 65}, {67, 131, 259}, {300, 260, 70}}) {
        int n = s[1], k = s[2];
        for (boolean tB : new boolean[] {false, true}) {
          int ldb = (tB ? k : n) + r.nextInt(3);
          short[] b = new short[(tB ? n : k) * ldb];
          for (int i = 0; i < b.length; i++) b[i] = half(bf16, (float) r.nextGaussian());
          PackedWeights w = bf16 ? gemm.packBf16Weights(tB, k, n, b, 0, ldb) : gemm.packF16Weights(tB, k, n, b, 0, ldb);
          try (w) {
            for (int m : new int[] {s[0], s[0] + 3, s[0]}) { // reuse, a second shape, reuse again
              boolean tA = r.nextBoolean();
              int lda = (tA ? m : k) + r.nextInt(2);
              short[] a = new short[(tA ? k : m) * lda];
              for (int i = 0; i < a.length; i++) a[i] = half(bf16, (float) r.nextGaussian());
              int ldc = n + r.nextInt(2);
              float[] want = new float[m * ldc + 1];
              float[] got = want.clone();
              long before = gemm.nativeCalls(), declinedBefore = gemm.declinedCalls();
              if (bf16) {
                gemm.gemmBf16(tA, tB, m, n, k, a, 0, lda, b, 0, ldb, want, 1, ldc);
                gemm.gemmBf16Packed(tA, m, a, 0, lda, w, got, 1, ldc);
              } else {
                gemm.gemmF16(tA, tB, m, n, k, a, 0, lda, b, 0, ldb, want, 1, ldc);
                gemm.gemmF16Packed(tA, m, a, 0, lda, w, got, 1, ldc);
              }
              assertRanWhereNative(bf16 ? NarrowKind.BF16 : NarrowKind.F16, 2, before, declinedBefore);
              assertArrayEquals(want, got, () -> (bf16 ? "bf16 " : "fp16 ") + m + "x" + n + "x" + k + " tA=" + tA + " tB=" + tB);
            }
          }
        }
      }
    }
  }

  private static short half(boolean bf16, float v) {
    return bf16 ? ScalarLowPrecisionGemm.floatToBf16(v) : ScalarLowPrecisionGemm.floatToF16(v);
  }

  @Test
  void packedWeightsOfAnotherTypeAreRejected() {
    try (PackedWeights w = gemm.packBf16Weights(false, 4, 4, new short[16], 0, 4)) {
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> gemm.gemmInt8Packed(true, false, 2, new byte[8], 0, 4, w, new int[8], 0, 4));
      assertTrue(e.getMessage().contains("bf16"), e.getMessage());
    }
  }

  @Test
  void packedWeightsUsedAfterCloseThrowInsteadOfReadingFreedMemory() {
    PackedWeights w = gemm.packInt8Weights(false, 64, 64, new byte[64 * 64], 0, 64);
    w.close();
    w.close(); // idempotent
    assertThrows(IllegalStateException.class,
        () -> gemm.gemmInt8Packed(true, false, 64, new byte[64 * 64], 0, 64, w, new int[64 * 64], 0, 64));
  }

  /** Results above the parallel-copy threshold: copies split across threads, strided and not. */
  @Test
  void largeResultsSplitAcrossCopyThreadsStayExact() {
    Random r = new Random(9);
    int m = 301, n = 263, k = 70; // 4·m·n > 256 KiB
    for (boolean padded : new boolean[] {false, true}) {
      int lda = k + (padded ? 3 : 0), ldb = n + (padded ? 2 : 0), ldc = n + (padded ? 5 : 0);
      byte[] a = randomBytes(r, m * lda, false, true);
      byte[] b = randomBytes(r, k * ldb, false, false);
      int[] want = new int[m * ldc + 2];
      int[] got = want.clone();
      ScalarGemm.INSTANCE.gemmU8S8(false, false, m, n, k, a, 0, lda, b, 0, ldb, want, 2, ldc);
      gemm.gemmU8S8(false, false, m, n, k, a, 0, lda, b, 0, ldb, got, 2, ldc);
      assertArrayEquals(want, got, "u8s8 padded=" + padded);
      short[] a16 = new short[m * lda];
      short[] b16 = new short[k * ldb];
      for (int i = 0; i < a16.length; i++) a16[i] = (short) r.nextInt();
      for (int i = 0; i < b16.length; i++) b16[i] = (short) r.nextInt();
      int[] want16 = new int[m * ldc + 2];
      int[] got16 = want16.clone();
      long wantOver = ScalarGemm.INSTANCE.gemmS16(false, false, m, n, k, a16, 0, lda, b16, 0, ldb, want16, 2, ldc, true);
      long gotOver = gemm.gemmS16(false, false, m, n, k, a16, 0, lda, b16, 0, ldb, got16, 2, ldc, true);
      assertArrayEquals(want16, got16, "s16 padded=" + padded);
      assertEquals(wantOver, gotOver, "s16 overflow count padded=" + padded);
    }
  }

  @Test
  void fp8AgreesWithJavaWithinTheReassociationBoundOrDeclines() {
    Random r = new Random(4);
    for (Fp8 fa : Fp8.values()) {
      for (Fp8 fb : Fp8.values()) {
        for (int[] s : new int[][] {{3, 5, 7}, {33, 17, 130}, {64, 48, 256}}) {
          int m = s[0], n = s[1], k = s[2];
          Layout l = Layout.of(r, m, n, k, r.nextBoolean(), r.nextBoolean());
          byte[] a = finiteF8(r, l.aLen(m, k), fa);
          byte[] b = finiteF8(r, l.bLen(k, n), fb);
          float[] want = new float[l.cLen(m)];
          float[] got = new float[want.length];
          ScalarLowPrecisionGemm.INSTANCE.gemmF8(fa, fb, l.tA, l.tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, want, l.cOff, l.ldc);
          gemm.gemmF8(fa, fb, l.tA, l.tB, m, n, k, a, l.aOff, l.lda, b, l.bOff, l.ldb, got, l.cOff, l.ldc);
          int[] ai = new int[a.length];
          int[] bi = new int[b.length];
          for (int i = 0; i < a.length; i++) ai[i] = a[i];
          for (int i = 0; i < b.length; i++) bi[i] = b[i];
          assertWithinBound(l.tA, l.tB, m, n, k, bits -> ScalarLowPrecisionGemm.f8ToFloat((byte) bits, fa), ai, l,
              bits -> ScalarLowPrecisionGemm.f8ToFloat((byte) bits, fb), bi, want, got, fa + "x" + fb + " " + Arrays.toString(s));
        }
      }
    }
  }

  private static byte[] finiteF8(Random r, int len, Fp8 f) {
    byte[] x = new byte[len];
    for (int i = 0; i < len; i++) {
      float v;
      do {
        x[i] = (byte) r.nextInt(256);
        v = ScalarLowPrecisionGemm.f8ToFloat(x[i], f);
      } while (!Float.isFinite(v) || (v != 0 && Math.abs(v) < 0x1p-6f)); // AMX flushes subnormal inputs
    }
    return x;
  }

  @Test
  void fp32StaysOnJava() {
    float[] a = {1, 2, 3, 4};
    float[] c = new float[4];
    int calls = fallback.calls.get();
    gemm.sgemm(false, false, 2, 2, 2, 1f, a, 0, 2, a, 0, 2, 0f, c, 0, 2);
    assertEquals(calls + 1, fallback.calls.get());
    assertArrayEquals(new float[] {7, 10, 15, 22}, c);
  }

  @Test
  void primitivesAreCachedByShape() {
    byte[] a = new byte[40 * 40];
    int[] c = new int[40 * 40];
    gemm.gemmS8S8(false, false, 40, 40, 40, a, 0, 40, a, 0, 40, c, 0, 40);
    int cached = gemm.runtime().cachedPrimitives();
    gemm.gemmS8S8(false, false, 40, 40, 40, a, 0, 40, a, 0, 40, c, 0, 40);
    assertEquals(cached, gemm.runtime().cachedPrimitives());
    assertTrue(gemm.implementation(false, false, false, 40, 40, 40, 40, 40).length() > 0);
  }

  @Test
  void concurrentCallsAreSafe() throws Exception {
    Random r = new Random(5);
    int m = 48, n = 40, k = 300;
    byte[] a = randomBytes(r, m * k, false, false);
    byte[] b = randomBytes(r, k * n, false, false);
    int[] want = new int[m * n];
    ScalarGemm.INSTANCE.gemmS8S8(false, false, m, n, k, a, 0, k, b, 0, n, want, 0, n);
    Thread[] ts = new Thread[4];
    AssertionError[] err = new AssertionError[1];
    for (int t = 0; t < ts.length; t++) {
      ts[t] = new Thread(() -> {
        for (int rep = 0; rep < 20; rep++) {
          int[] got = new int[m * n];
          gemm.gemmS8S8(false, false, m, n, k, a, 0, k, b, 0, n, got, 0, n);
          if (!Arrays.equals(want, got)) err[0] = new AssertionError("concurrent result differs");
        }
      });
      ts[t].start();
    }
    for (Thread t : ts) t.join();
    if (err[0] != null) throw err[0];
  }
}
