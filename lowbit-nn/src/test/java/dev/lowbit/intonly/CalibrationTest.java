package dev.lowbit.intonly;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowbit.models.Models;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The calibration rules on known data: the input node's range is the images' own. */
class CalibrationTest {

  /** Three batches of 2 images: largest pixel 0.5, then 1.0, then (past the calibration) 1.0. */
  private static float[] images() {
    float[] x = new float[6 * 784];
    Arrays.fill(x, 0, 2 * 784, 0.25f);
    x[100] = 0.5f;
    Arrays.fill(x, 2 * 784, 6 * 784, 0.75f);
    x[3 * 784 + 5] = 1f;
    return x;
  }

  @Test
  void maxTakesTheLargestOverTheCalibrationBatchesOnly() {
    FloatGraph g = Lowering.of(Models.create("mlp", 1));
    double[] r = IntCompiler.calibrate(g, images(), 6, new IntCompiler.Calibration(2, 2), IntCompiler.RangeRule.MAX);
    assertEquals(1.0, r[0], 1e-7);
    r = IntCompiler.calibrate(g, images(), 6, new IntCompiler.Calibration(1, 2), IntCompiler.RangeRule.MAX);
    assertEquals(0.5, r[0], 1e-7);
  }

  @Test
  void emaFollowsTheRunningMinAndMaxWithMomentum095() {
    FloatGraph g = Lowering.of(Models.create("mlp", 1));
    double[] r = IntCompiler.calibrate(g, images(), 6, new IntCompiler.Calibration(2, 2), IntCompiler.RangeRule.EMA);
    assertEquals(0.95 * 0.5 + 0.05 * 1.0, r[0], 1e-7);
    // fewer images than the calibration asks for: the batches there are
    r = IntCompiler.calibrate(g, images(), 3, new IntCompiler.Calibration(8, 2), IntCompiler.RangeRule.EMA);
    assertEquals(0.95 * 0.5 + 0.05 * 0.75, r[0], 1e-7);
  }
}
