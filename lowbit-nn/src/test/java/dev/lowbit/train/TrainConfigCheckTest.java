package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A run's settings refuse values that used to mean something else silently (issue 15). */
class TrainConfigCheckTest {

  private static TrainConfig cfg(Double lr, double weightDecay, double smoothing, int trainLimit, int testLimit) {
    return new TrainConfig("mlp", 1, 32, lr, 0, 1, Path.of("o"), null, null, null, null, weightDecay, smoothing, false,
        trainLimit, testLimit, 10);
  }

  private static String refused(Double lr, double weightDecay, double smoothing, int trainLimit, int testLimit) {
    return assertThrows(IllegalArgumentException.class, () -> cfg(lr, weightDecay, smoothing, trainLimit, testLimit))
        .getMessage();
  }

  @Test
  void badNumbersAreRefused() {
    assertEquals("--limit-train/--limit-test must be >= 0 (0 = all), got -5, 0", refused(null, -1, 0, -5, 0));
    assertEquals("--limit-train/--limit-test must be >= 0 (0 = all), got 0, -5", refused(null, -1, 0, 0, -5));
    assertEquals("--weight-decay must be finite, got NaN", refused(null, Double.NaN, 0, 0, 0));
    assertEquals("--weight-decay must be finite, got Infinity", refused(null, Double.POSITIVE_INFINITY, 0, 0, 0));
    assertEquals("--lr must be a positive finite number, got Infinity", refused(Double.POSITIVE_INFINITY, -1, 0, 0, 0));
    assertEquals("--label-smoothing must be in [0, 1), got NaN", refused(null, -1, Double.NaN, 0, 0));
    // -1 still asks for the optimizer's default weight decay
    assertEquals(0.0, cfg(null, -1, 0, 0, 0).effectiveWeightDecay());
    assertEquals(0.5, cfg(null, 0.5, 0, 10, 10).effectiveWeightDecay());
  }
}
