package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.LowPrecisionGemm.Fp8;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The decoded fp32 fallback against the scalar reference: within the reassociation bound, every type and layout. */
class DecodingLowPrecisionGemmTest {

  private static final LowPrecisionGemm FAST = new DecodingLowPrecisionGemm(Kernels.javaGemm());
  private static final int[][] SHAPES = {{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {64, 48, 300}, {5, 130, 9}};

  private interface Decode {
    float of(int i);
  }

  @Test
  void agreesWithTheScalarReferenceWithinTheReassociationBound() {
    Random r = new Random(5);
    for (int kind = 0; kind < 6; kind++) {
      for (int[] s : SHAPES) {
        int m = s[0], n = s[1], k = s[2];
        for (int t = 0; t < 4; t++) {
          boolean tA = (t & 1) != 0, tB = (t & 2) != 0;
          int lda = (tA ? m : k) + r.nextInt(3), ldb = (tB ? k : n) + r.nextInt(3), ldc = n + r.nextInt(3);
          int aOff = r.nextInt(4), bOff = r.nextInt(4), cOff = r.nextInt(4);
          int aLen = aOff + (tA ? k : m) * lda, bLen = bOff + (tB ? n : k) * ldb;
          float[] want = new float[cOff + m * ldc], got = new float[want.length];
          Decode da, db;
          if (kind < 2) {
            boolean bf16 = kind == 0;
            short[] a = new short[aLen], b = new short[bLen];
            for (int i = 0; i < aLen; i++) a[i] = half(bf16, (float) (r.nextGaussian() * 30));
            for (int i = 0; i < bLen; i++) b[i] = half(bf16, (float) (r.nextGaussian() * 0.1));
            if (bf16) {
              ScalarLowPrecisionGemm.INSTANCE.gemmBf16(tA, tB, m, n, k, a, aOff, lda, b, bOff, ldb, want, cOff, ldc);
              FAST.gemmBf16(tA, tB, m, n, k, a, aOff, lda, b, bOff, ldb, got, cOff, ldc);
              da = i -> ScalarLowPrecisionGemm.bf16ToFloat(a[i]);
              db = i -> ScalarLowPrecisionGemm.bf16ToFloat(b[i]);
            } else {
              ScalarLowPrecisionGemm.INSTANCE.gemmF16(tA, tB, m, n, k, a, aOff, lda, b, bOff, ldb, want, cOff, ldc);
              FAST.gemmF16(tA, tB, m, n, k, a, aOff, lda, b, bOff, ldb, got, cOff, ldc);
              da = i -> ScalarLowPrecisionGemm.f16ToFloat(a[i]);
              db = i -> ScalarLowPrecisionGemm.f16ToFloat(b[i]);
            }
          } else {
            Fp8 fa = Fp8.values()[(kind - 2) / 2], fb = Fp8.values()[(kind - 2) % 2];
            byte[] a = new byte[aLen], b = new byte[bLen];
            for (int i = 0; i < aLen; i++) a[i] = finite8(r, fa);
            for (int i = 0; i < bLen; i++) b[i] = finite8(r, fb);
            ScalarLowPrecisionGemm.INSTANCE.gemmF8(fa, fb, tA, tB, m, n, k, a, aOff, lda, b, bOff, ldb, want, cOff, ldc);
            FAST.gemmF8(fa, fb, tA, tB, m, n, k, a, aOff, lda, b, bOff, ldb, got, cOff, ldc);
            da = i -> ScalarLowPrecisionGemm.f8ToFloat(a[i], fa);
            db = i -> ScalarLowPrecisionGemm.f8ToFloat(b[i], fb);
          }
          for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
              double sumAbs = 0;
              for (int p = 0; p < k; p++) {
                int ai = aOff + (tA ? p * lda + i : i * lda + p), bi = bOff + (tB ? j * ldb + p : p * ldb + j);
                sumAbs += Math.abs((double) da.of(ai) * db.of(bi));
              }
              int ci = cOff + i * ldc + j;
              double diff = Math.abs((double) got[ci] - want[ci]);
              double bound = LowPrecisionGemm.reassociationBound(k, sumAbs);
              String what = "kind " + kind + " " + m + "x" + n + "x" + k + " tA=" + tA + " tB=" + tB + " at " + i + "," + j;
              assertTrue(diff <= bound, what + ": diff " + diff + " > " + bound);
            }
          }
          for (int ci = 0; ci < cOff; ci++) assertEquals(0f, got[ci], "C before its offset untouched");
        }
      }
    }
  }

  @Test
  void operandsOutsideTheirArraysAreRefused() {
    short[] a = new short[5];
    assertThrows(ArrayIndexOutOfBoundsException.class,
        () -> FAST.gemmBf16(false, false, 2, 2, 3, a, 0, 3, new short[6], 0, 2, new float[4], 0, 2));
  }

  private static short half(boolean bf16, float v) {
    return bf16 ? ScalarLowPrecisionGemm.floatToBf16(v) : ScalarLowPrecisionGemm.floatToF16(v);
  }

  private static byte finite8(Random r, Fp8 f) {
    while (true) {
      byte b = (byte) r.nextInt(256);
      if (Float.isFinite(ScalarLowPrecisionGemm.f8ToFloat(b, f))) return b;
    }
  }
}
