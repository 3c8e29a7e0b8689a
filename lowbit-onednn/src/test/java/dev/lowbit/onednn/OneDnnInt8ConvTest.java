package dev.lowbit.onednn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.kernel.Int8Layers;
import dev.lowbit.kernel.ScalarGemm;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The direct int8 convolutions ({@link Int8Layers}) against an int32 definition of the
 * convolution, bit for bit: uint8 and int8 inputs, odd shapes, padding, stride, batch 1 to 64,
 * one and two threads, weights prepared once and reused across batch sizes.
 */
class OneDnnInt8ConvTest {

  static OneDnnGemm gemm;

  @BeforeAll
  static void load() {
    gemm = Natives.loadOrSkip(ScalarGemm.INSTANCE);
  }

  /** Σ w·x over the zero-padded input, int32, NCHW. */
  private static int[] reference(ConvSpec s, byte[] x, boolean unsigned, byte[] w) {
    int mask = unsigned ? 0xFF : -1, oh = s.outH(), ow = s.outW();
    int[] y = new int[s.outputSize()];
    for (int n = 0; n < s.batch(); n++) {
      for (int o = 0; o < s.outC(); o++) {
        for (int oy = 0; oy < oh; oy++) {
          for (int ox = 0; ox < ow; ox++) {
            int sum = 0;
            for (int c = 0; c < s.inC(); c++) {
              for (int i = 0; i < s.kH(); i++) {
                for (int j = 0; j < s.kW(); j++) {
                  int iy = oy * s.strideH() - s.padH() + i, ix = ox * s.strideW() - s.padW() + j;
                  if (iy < 0 || iy >= s.inH() || ix < 0 || ix >= s.inW()) continue;
                  sum += (x[((n * s.inC() + c) * s.inH() + iy) * s.inW() + ix] & mask)
                      * w[((o * s.inC() + c) * s.kH() + i) * s.kW() + j];
                }
              }
            }
            y[((n * s.outC() + o) * oh + oy) * ow + ox] = sum;
          }
        }
      }
    }
    return y;
  }

  @Test
  void equalsTheIntegerDefinitionBitForBit() {
    if (!gemm.runtime().exactInt8()) {
      // no VNNI/AMX: the backend must decline, and the executor keeps its Java route
      assertNull(gemm.prepareConv(ConvSpec.of(1, 4, 6, 6, 8, 3, 1, 1), false, new byte[4 * 8 * 9]));
      return;
    }
    Random r = new Random(7);
    int before = gemm.runtime().threads();
    int taken = 0;
    try {
      for (int trial = 0; trial < 40; trial++) {
        gemm.runtime().setThreads(1 + trial % 2);
        int inC = trial % 3 == 0 ? 1 : 1 + r.nextInt(40), outC = 1 + r.nextInt(70), k = 1 + r.nextInt(4);
        int stride = 1 + r.nextInt(2), pad = r.nextInt(k), h = k + r.nextInt(12), w = k + r.nextInt(12);
        boolean unsigned = r.nextBoolean();
        ConvSpec one = ConvSpec.of(1, inC, h, w, outC, k, stride, pad);
        byte[] weight = new byte[one.weightSize()];
        r.nextBytes(weight);
        if (trial % 5 == 0) java.util.Arrays.fill(weight, (byte) -128); // the largest sums
        Int8Layers.Prepared p = gemm.prepareConv(one, unsigned, weight);
        if (p == null) continue; // a geometry with only reference loops: the executor keeps its Java route
        taken++;
        for (int batch : new int[] {1, 1 + r.nextInt(5), trial % 4 == 0 ? 64 : 3}) {
          ConvSpec s = one.withBatch(batch);
          int xOff = r.nextInt(3), yOff = r.nextInt(3);
          byte[] x = new byte[xOff + s.inputSize()];
          r.nextBytes(x);
          if (trial % 5 == 0) java.util.Arrays.fill(x, (byte) (unsigned ? 255 : -128));
          byte[] xs = java.util.Arrays.copyOfRange(x, xOff, x.length);
          int[] y = new int[yOff + s.outputSize() + 2];
          assertTrue(gemm.int8Conv(p, batch, x, xOff, y, yOff), s.toString());
          assertArrayEquals(reference(s, xs, unsigned, weight), java.util.Arrays.copyOfRange(y, yOff, yOff + s.outputSize()),
              s + " unsigned=" + unsigned + " " + p.impl());
          assertTrue(y[0] == 0 || yOff == 0, "nothing written before the offset");
        }
      }
    } finally {
      gemm.runtime().setThreads(before);
    }
    assertTrue(taken >= 30, "only " + taken + " of 40 geometries taken");
  }

  /** The CNN's and the ResNet's layers run natively (else the integer CNN gains nothing); only the first reads uint8 pixels. */
  @Test
  void takesTheModelsLayers() {
    if (!gemm.runtime().exactInt8()) return;
    for (ConvSpec s : new ConvSpec[] {ConvSpec.of(1, 1, 28, 28, 32, 3, 1, 1), ConvSpec.of(1, 32, 14, 14, 64, 3, 1, 1),
        ConvSpec.of(1, 16, 28, 28, 32, 3, 2, 1), ConvSpec.of(1, 64, 7, 7, 64, 3, 1, 1)}) {
      for (boolean unsigned : s.inC() == 1 ? new boolean[] {false, true} : new boolean[] {false}) {
        assertNotNull(gemm.prepareConv(s, unsigned, new byte[s.weightSize()]), s + " unsigned=" + unsigned);
      }
    }
  }

  @Test
  void declinesSumsThatCouldLeaveTwoToThe24() {
    // 1025 products of up to 128·128 each: beyond 2^24
    ConvSpec big = ConvSpec.of(1, 1025, 3, 3, 2, 1, 1, 0);
    assertFalse(Int8Layers.exactlyBounded(big, false));
    assertTrue(Int8Layers.exactlyBounded(ConvSpec.of(1, 1024, 3, 3, 2, 1, 1, 0), false));
    assertTrue(Int8Layers.exactlyBounded(ConvSpec.of(1, 514, 3, 3, 2, 1, 1, 0), true));
    assertFalse(Int8Layers.exactlyBounded(ConvSpec.of(1, 515, 3, 3, 2, 1, 1, 0), true));
    assertNull(gemm.prepareConv(big, false, new byte[big.weightSize()]));
  }
}
