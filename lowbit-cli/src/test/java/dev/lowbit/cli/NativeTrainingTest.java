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

  private static double accuracy(Path sweep, String policy, int seed) throws Exception {
    @SuppressWarnings("unchecked")
    Map<String, Object> s = (Map<String, Object>) Json.parse(
        Files.readString(sweep.resolve("runs/" + policy + "-s" + seed + "/summary.json")));
    return ((Number) s.get("test_accuracy")).doubleValue();
  }

  /**
   * On the first 2,000 / 500 images (the subset embedded in the jar: the same data whether
   * Debian's is installed or not), 2 epochs at batch 64, seeds 1-4. Measured (Xeon, AVX-512 VNNI
   * without AMX or BF16): mean accuracy over the seeds 0.707-0.743 per policy and backend;
   * native minus im2col, per policy, between -0.013 and +0.006 (single seeds differ by up to 0.048
   * on 500 test images, so only the means are compared). fp32, bf16 and int8 differ between the
   * backends in the order of summation (and int8's scaling) only: their means must agree within
   * 0.04 (margin 0.027); mxfp8's blocks differ by design (along each product's reduction on native
   * convolutions, along the column matrix's rows on im2col): it must not trail by more than 0.04.
   * Every mean must clear 0.64 (margin 0.067; a broken product lands near chance, 0.1).
   */
  @Test
  void nativeConvolutionsTrainAsWellAsIm2col() throws Exception {
    String[] policies = {"fp32", "bf16", "int8", "mxfp8"};
    int seeds = 4;
    Path java = dir.resolve("java"), auto = dir.resolve("auto");
    for (Path out : new Path[] {java, auto}) {
      SweepCommandTest.Result r = SweepCommandTest.run("sweep", "--out", out.toString(),
          "--backend", out == java ? "java" : "auto", "--model", "cnn", "--policies", String.join(",", policies),
          "--epochs", "2", "--batch", "64", "--seeds", "1,2,3,4", "--limit-train", "2000", "--limit-test", "500");
      assertEquals(0, r.rc(), r.err());
    }
    String summary = Files.readString(auto.resolve("runs/fp32-s1/summary.json"));
    org.junit.jupiter.api.Assumptions.assumeTrue(summary.contains("native where the policy allows"),
        "oneDNN did not load here: nothing native to compare");
    for (String p : policies) {
      double a = 0, j = 0;
      for (int seed = 1; seed <= seeds; seed++) {
        a += accuracy(auto, p, seed) / seeds;
        j += accuracy(java, p, seed) / seeds;
      }
      assertTrue(a > 0.64 && j > 0.64, p + ": mean accuracy native " + a + ", im2col " + j);
      if (p.startsWith("mx")) {
        assertTrue(a >= j - 0.04, p + ": native " + a + " vs im2col " + j + " (means over " + seeds + " seeds)");
      } else {
        assertTrue(Math.abs(a - j) <= 0.04, p + ": native " + a + " vs im2col " + j + " (means over " + seeds + " seeds)");
      }
    }
  }
}
