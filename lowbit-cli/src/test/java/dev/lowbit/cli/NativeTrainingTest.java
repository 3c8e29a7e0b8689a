package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training on the native backend's convolutions (oneDNN direct fp32, int8 forward for the int8
 * preset, MX operands blocked along each product's reduction) learns as well as on the Java im2col path: the same CNN sweep on real Fashion-MNIST
 * images under both backends, accuracies compared preset by preset.
 */
@Tag("slow")
class NativeTrainingTest {

  @TempDir Path dir;

  private static double accuracy(Path sweep, String policy) throws Exception {
    @SuppressWarnings("unchecked")
    Map<String, Object> s = (Map<String, Object>) Json.parse(
        Files.readString(sweep.resolve("runs/" + policy + "-s1/summary.json")));
    return ((Number) s.get("test_accuracy")).doubleValue();
  }

  @Test
  void nativeConvolutionsTrainAsWellAsIm2col() throws Exception {
    String[] policies = {"fp32", "bf16", "int8", "mxfp8"};
    Path java = dir.resolve("java"), auto = dir.resolve("auto");
    for (Path out : new Path[] {java, auto}) {
      SweepCommandTest.Result r = SweepCommandTest.run("sweep", "--out", out.toString(),
          "--backend", out == java ? "java" : "auto", "--model", "cnn", "--policies", String.join(",", policies),
          "--epochs", "1", "--limit-train", "10000", "--limit-test", "2000");
      assertEquals(0, r.rc(), r.err());
    }
    String summary = Files.readString(auto.resolve("runs/fp32-s1/summary.json"));
    org.junit.jupiter.api.Assumptions.assumeTrue(summary.contains("native where the policy allows"),
        "oneDNN did not load here: nothing native to compare");
    for (String p : policies) {
      double a = accuracy(auto, p), j = accuracy(java, p);
      // one epoch on 10,000 images reaches about 0.75-0.80; fp32, bf16 and int8 differ between
      // the backends in the order of summation (and int8's scaling) only, so they must land within
      // a point and a half. mxfp8's blocks differ by design (along each product's reduction on
      // native convolutions, along the column matrix's rows on im2col): it must not do worse.
      assertTrue(a > 0.74, p + " on native convolutions reached only " + a);
      if (p.startsWith("mx")) {
        assertTrue(a >= j - 0.015, p + ": native " + a + " vs im2col " + j);
      } else {
        assertTrue(Math.abs(a - j) <= 0.015, p + ": native " + a + " vs im2col " + j);
      }
    }
  }
}
