package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.autograd.StepArena;
import dev.lowbit.autograd.Tape;
import dev.lowbit.nn.Compute;
import dev.lowbit.nn.Numerics;
import dev.lowbit.numerics.Presets;
import org.junit.jupiter.api.Test;

/** The nn warm-up round runs on its own arrays: no numerics policy, tape or step of the caller is touched. */
class JitWarmupTest {

  @Test
  void leavesTheCallersNumericsTapeAndArenaAlone() throws Exception {
    Numerics n = new Numerics(Presets.get("bf16"), 1);
    Compute.setNumerics(n);
    try {
      long stamp = StepArena.stamp();
      Thread t = new Thread(() -> {
        for (int i = 0; i < 50; i++) JitWarmup.round();
      });
      t.start();
      t.join();
      assertEquals(0, n.quantizedTensors(), "the warm-up quantized nothing");
      assertEquals(stamp, StepArena.stamp(), "this thread's arena is untouched");
      assertTrue(Tape.recording(), "this thread still records");
    } finally {
      Compute.setNumerics(null);
    }
  }
}
