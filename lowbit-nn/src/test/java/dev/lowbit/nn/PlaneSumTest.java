package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The bias gradient's plane sums on native convolutions have one order of summation, interpreted
 * or compiled: {@code reduceLanes(ADD)} on floats has none (C2's intrinsic and the interpreter
 * add the lanes differently), which made same-seed runs differ depending on when C2 compiled it.
 * Called often enough to be compiled, every result must equal the scalar model of that order.
 */
class PlaneSumTest {

  @Test
  void planeSumsAddLanesInOrderWhetherInterpretedOrCompiled() {
    int w = FloatVector.SPECIES_PREFERRED.length();
    SplittableRandom r = new SplittableRandom(11);
    float[] x = new float[4096];
    for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-3, 4)));
    for (int call = 0; call < 60_000; call++) {
      int len = 1 + r.nextInt(200), off = r.nextInt(x.length - len);
      float want = reference(x, off, len, w);
      float got = Compute.planeSum(x, off, len);
      if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(got)) {
        assertEquals(want, got, 0f, "call " + call + ": plane of " + len + " at " + off);
      }
    }
  }

  /** Two accumulators of w lanes over whole 2w-chunks, lane l = a0[l] + a1[l], lanes added in order, then the tail. */
  private static float reference(float[] x, int off, int len, int w) {
    float[] a0 = new float[w], a1 = new float[w];
    int i = 0;
    for (; i + 2 * w <= len; i += 2 * w) {
      for (int l = 0; l < w; l++) {
        a0[l] += x[off + i + l];
        a1[l] += x[off + i + w + l];
      }
    }
    float p = 0f;
    for (int l = 0; l < w; l++) p += a0[l] + a1[l];
    for (; i < len; i++) p += x[off + i];
    return p;
  }
}
