package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.autograd.StepArena;
import dev.lowbit.format.Quantizer;
import dev.lowbit.numerics.Presets;
import dev.lowbit.numerics.Role;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link Numerics#quantize} with its {@link QuantCache}: a hit is exactly a fresh quantization. */
class QuantCacheTest {

  /** What quantizing the strided view gives with no cache: compact copy, then the quantizer. */
  static float[] fresh(Numerics q, Quantizer z, String layer, Role role, float[] src, int off, int ld, int rows,
      int cols, long salt) {
    float[] x = new float[rows * cols];
    for (int r = 0; r < rows; r++) System.arraycopy(src, off + r * ld, x, r * cols, cols);
    z.quantizeReference(x, new int[] {rows, cols}, x, q.seed(), q.stream(layer, role, off) ^ salt * 0x9E3779B97F4A7C15L);
    return x;
  }

  static int[] bits(float[] x) {
    int[] b = new int[x.length];
    for (int i = 0; i < x.length; i++) b[i] = Float.floatToRawIntBits(x[i]);
    return b;
  }

  @Test
  void anEntryLivesThroughItsStepsOtherPutsAndGoesWithTheNextStep() {
    Numerics q = new Numerics(Presets.get("bf16"), 3);
    Quantizer z = q.lookup("l", Role.ACTIVATION).orElseThrow();
    q.setStep(0);
    float[] src = new float[64];
    for (int i = 0; i < src.length; i++) src[i] = i * 0.37f - 5;
    float[] first = q.quantize(z, "l", Role.ACTIVATION, src, 0, 8, 8, 8);
    // a step's many other operands (an attention layer's slices) do not push it out
    float[] other = new float[4096];
    for (int k = 0; k < 500; k++) q.quantize(z, "l", Role.ACTIVATION, other, k * 8, 8, 1, 8);
    assertSame(first, q.quantize(z, "l", Role.ACTIVATION, src, 0, 8, 8, 8), "kept through the step's other puts");
    float[] again = q.quantize(z, "l", Role.ACTIVATION, src, 0, 8, 8, 8); // an entry again (the hit removed it)
    q.setStep(1);
    q.quantize(z, "l", Role.ACTIVATION, other, 0, 8, 1, 8); // the next step's first put drops step 0's entries
    q.setStep(0);
    float[] back = q.quantize(z, "l", Role.ACTIVATION, src, 0, 8, 8, 8);
    assertNotSame(again, back, "step 0's entry went with step 1's first put");
    assertArrayEquals(bits(first), bits(back));
    assertSame(back, q.quantize(z, "l", Role.ACTIVATION, src, 0, 8, 8, 8), "and hits work again");
  }

  @Test
  void hitsEqualFreshQuantizationAndChangedSourcesMiss() {
    for (String preset : new String[] {"bf16", "fp8", "mxfp8", "int8", "shiftquant4"}) {
      Numerics q = new Numerics(Presets.get(preset), 11);
      Role role = preset.equals("int8") ? Role.WEIGHT : Role.ACTIVATION;
      Quantizer z = q.lookup("l", role).orElseThrow();
      SplittableRandom rng = new SplittableRandom(preset.hashCode());
      int rows = 40, cols = 64, ld = 70, off = 3;
      float[] src = new float[off + rows * ld];
      for (int i = 0; i < src.length; i++) src[i] = (float) rng.nextGaussian();
      for (long step = 0; step < 3; step++) {
        q.setStep(step);
        float[] first = q.quantize(z, "l", role, src, off, ld, rows, cols);
        assertArrayEquals(bits(fresh(q, z, "l", role, src, off, ld, rows, cols, 0)), bits(first), preset + " miss");
        float[] second = q.quantize(z, "l", role, src, off, ld, rows, cols);
        assertSame(first, second, preset + ": the second use of an unchanged operand is a hit");
        // a third use misses again (entries go at their first hit) and still agrees
        float[] third = q.quantize(z, "l", role, src, off, ld, rows, cols);
        assertNotSame(first, third);
        assertArrayEquals(bits(first), bits(third), preset + " third use");
        // a change of one element of the view (even only its sign bit) must not hit
        src[off + 5 * ld + 7] = -src[off + 5 * ld + 7];
        float[] changed = q.quantize(z, "l", role, src, off, ld, rows, cols);
        assertArrayEquals(bits(fresh(q, z, "l", role, src, off, ld, rows, cols, 0)), bits(changed), preset + " changed");
        // elements outside the view (the gap between rows) do not matter
        float[] again = q.quantize(z, "l", role, src, off, ld, rows, cols);
        assertSame(changed, again);
        src[off + cols] += 1f; // in the gap of row 0
        q.quantize(z, "l", role, src, off, ld, rows, cols);
        float[] gap = q.quantize(z, "l", role, src, off, ld, rows, cols);
        assertArrayEquals(bits(changed), bits(gap));
        // another salt is another stream: no hit across salts
        float[] salted = q.quantize(z, "l", role, src, off, ld, rows, cols, 1);
        assertArrayEquals(bits(fresh(q, z, "l", role, src, off, ld, rows, cols, 1)), bits(salted), preset + " salt");
        src[0] = (float) rng.nextGaussian();
      }
      assertEquals(3 * 8, q.quantizedTensors(), "every use counts as a quantized tensor");
    }
  }

  /**
   * Inside training steps the copies come from the step's arena, which hands them out again in the
   * next step: an entry made in one arena step is never a hit in the next, even when the numerics
   * step (and with it the rounding stream) did not change, as after a skipped optimizer step.
   */
  @Test
  void arenaCopiesAreNeverHitsAcrossArenaSteps() {
    Numerics q = new Numerics(Presets.get("bf16"), 5);
    Quantizer z = q.lookup("l", Role.ACTIVATION).orElseThrow();
    int rows = 32, cols = 48;
    float[] src = new float[rows * cols];
    SplittableRandom rng = new SplittableRandom(9);
    for (int i = 0; i < src.length; i++) src[i] = (float) rng.nextGaussian();
    q.setStep(7);
    try {
      StepArena.beginStep();
      assertTrue(StepArena.stamp() != 0);
      float[] first = q.quantize(z, "l", Role.ACTIVATION, src, 0, cols, rows, cols);
      assertArrayEquals(bits(fresh(q, z, "l", Role.ACTIVATION, src, 0, cols, rows, cols, 0)), bits(first));
      float[] keep = first.clone();
      StepArena.beginStep(); // same numerics step, new arena step: first's array may be reused
      float[] reused = StepArena.floats(rows * cols); // the arena hands out a pooled array of that size
      java.util.Arrays.fill(reused, 123f);
      float[] second = q.quantize(z, "l", Role.ACTIVATION, src, 0, cols, rows, cols);
      assertNotSame(first, second, "an entry of the previous arena step is not a hit");
      assertArrayEquals(bits(keep), bits(second), "re-quantized, same values");
      float[] third = q.quantize(z, "l", Role.ACTIVATION, src, 0, cols, rows, cols);
      assertSame(second, third, "within one arena step the second use is a hit");
    } finally {
      StepArena.endSteps();
    }
    assertEquals(0, StepArena.stamp(), "no pooling once the steps ended");
  }
}
