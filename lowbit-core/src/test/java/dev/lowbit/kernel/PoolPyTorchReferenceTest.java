package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Average pooling against PyTorch 1.13's {@code avg_pool2d} (CPU, floor mode), with {@code
 * count_include_pad} true and false: the outputs and input gradients in {@code
 * pool-references.txt}, written by {@code scripts/pool-references.py}, must come out <b>bit for
 * bit</b>. Exact, not within an ulp: both sum a window's in-input elements in row-major order in
 * float32, divide by the same integer, and add dy / divisor into dx in output order.
 */
class PoolPyTorchReferenceTest {

  private record Case(String name, PoolSpec spec, Map<String, float[]> arrays) {}

  private static List<Case> load() throws IOException {
    List<Case> cases = new ArrayList<>();
    try (InputStream in = PoolPyTorchReferenceTest.class.getResourceAsStream("pool-references.txt")) {
      assertNotNull(in, "pool-references.txt is missing: run scripts/pool-references.py");
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
      for (String line; (line = r.readLine()) != null; ) {
        if (line.isEmpty() || line.startsWith("#")) continue;
        String[] f = line.split(" ");
        if (f[0].equals("case")) {
          int[] v = new int[10];
          for (int i = 0; i < 10; i++) v[i] = Integer.parseInt(f[2 + i]);
          PoolSpec s = new PoolSpec(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
              Boolean.parseBoolean(f[12]));
          cases.add(new Case(f[1], s, new HashMap<>()));
        } else {
          float[] a = new float[f.length - 1];
          for (int i = 0; i < a.length; i++) a[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(f[i + 1], 16));
          cases.getLast().arrays().put(f[0], a);
        }
      }
    }
    return cases;
  }

  @TestFactory
  Stream<DynamicTest> avgPoolingMatchesPyTorchBitForBit() throws IOException {
    List<Case> cases = load();
    assertEquals(20, cases.size(), "10 geometries × count_include_pad true/false");
    assertEquals(10, cases.stream().filter(c -> !c.spec().countIncludePad()).count());
    return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c)));
  }

  private static void check(Case c) {
    PoolSpec s = c.spec();
    float[] x = c.arrays().get("x"), dy = c.arrays().get("dy");
    assertEquals(s.inputSize(), x.length, c.name() + ": input size");
    assertEquals(s.outputSize(), dy.length, c.name() + ": output size (floor mode)");
    float[] y = new float[s.outputSize()];
    Pool.avgForward(s, x, y);
    sameBits(c.name() + " y", c.arrays().get("y"), y);
    float[] dx = new float[s.inputSize()];
    java.util.Arrays.fill(dx, Float.NaN); // the backward pass must overwrite every element
    Pool.avgBackward(s, dy, dx);
    sameBits(c.name() + " dx", c.arrays().get("dx"), dx);
  }

  private static void sameBits(String what, float[] want, float[] got) {
    assertEquals(want.length, got.length, what + ": length");
    for (int i = 0; i < want.length; i++) {
      if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
        fail(what + "[" + i + "]: PyTorch " + want[i] + ", lowbit " + got[i]);
      }
    }
  }

  /** With padding the two divisors differ at the border and agree inside; without, everywhere. */
  @Test
  void excludingPaddingChangesOnlyBorderWindows() {
    float[] x = new float[25];
    java.util.Arrays.fill(x, 1f);
    float[] in = new float[25], ex = new float[25];
    Pool.avgForward(new PoolSpec(1, 1, 5, 5, 3, 3, 1, 1, 1, 1), x, in);
    Pool.avgForward(new PoolSpec(1, 1, 5, 5, 3, 3, 1, 1, 1, 1, false), x, ex);
    assertEquals(4f / 9, in[0]); // corner: 4 of 9 inside
    assertEquals(1f, ex[0]);
    assertEquals(6f / 9, in[1]);
    assertEquals(1f, ex[1]);
    assertEquals(1f, in[12]);
    assertEquals(1f, ex[12]);
    for (float v : ex) assertEquals(1f, v, "the mean of ones over the input part is 1");
    float[] a = new float[4], b = new float[4];
    float[] z = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    Pool.avgForward(new PoolSpec(1, 1, 4, 4, 2, 2, 2, 2, 0, 0, true), z, a);
    Pool.avgForward(new PoolSpec(1, 1, 4, 4, 2, 2, 2, 2, 0, 0, false), z, b);
    assertTrue(java.util.Arrays.equals(a, b), "no padding: the same divisor");
  }

  @Test
  void theDefaultCountsThePadding() {
    PoolSpec s = new PoolSpec(2, 3, 6, 5, 3, 3, 2, 2, 1, 1);
    assertTrue(s.countIncludePad());
    assertTrue(s.withBatch(4).countIncludePad());
    assertTrue(!new PoolSpec(2, 3, 6, 5, 3, 3, 2, 2, 1, 1, false).withBatch(4).countIncludePad());
    assertTrue(PoolSpec.of(1, 1, 4, 4, 2).countIncludePad());
    assertThrows(IllegalArgumentException.class, () -> new PoolSpec(1, 1, 4, 4, 2, 2, 1, 1, 2, 2, false));
  }
}
