package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.FashionMnist;
import dev.lowbit.io.Json;
import dev.lowbit.kernel.Kernels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The L-Mul issue's acceptance at reduced size (Luo and Sun, arXiv 2410.00907): the tiny ViT trained
 * briefly in fp32 (as many steps as 2 epochs on 10,000 images, on the embedded subset too), evaluated with no retraining under lmul4-attn (within 0.5 point of fp32 on the
 * same test images), lmul3-all and lmul4-all, then fine-tuned with L-Mul in every product, forward
 * and backward (lmul3-train, within 1.5 points of fp32). Full-data numbers: scripts/reproduce-lmul.sh.
 */
class LMulAccuracyTest {

  @TempDir Path dir;

  /** Training images, test images (>= 1000: a point is 10 images). */
  static final String TRAIN = "10000", TEST = "1000";

  /**
   * Epochs that make as many steps as {@code epochs} on 10,000 images: the embedded subset (2,000
   * training images, on machines without Debian's dataset) needs five times as many.
   */
  private static String scaled(int epochs) throws Exception {
    int n = Math.min(Integer.parseInt(TRAIN), FashionMnist.load(null).train().size());
    return Integer.toString(epochs * (int) Math.ceil(Double.parseDouble(TRAIN) / n));
  }

  @AfterEach
  void backend() {
    Kernels.useBackend("java");
  }

  private Map<?, ?> train(String name, String policy, String epochs, Path init) throws Exception {
    Path out = dir.resolve(name);
    List<String> a = new ArrayList<>(List.of("train", "--backend", "java", "--model", "vit", "--policy", policy,
        "--epochs", epochs, "--limit-train", TRAIN, "--limit-test", TEST, "--seed", "1", "--threads", "2",
        "--out", out.toString()));
    if (init != null) a.addAll(List.of("--init", init.toString()));
    SweepCommandTest.Result r = SweepCommandTest.run(a.toArray(String[]::new));
    assertEquals(0, r.rc(), name + ": " + r.err());
    return (Map<?, ?>) Json.parse(Files.readString(out.resolve("summary.json")));
  }

  private static double acc(Map<?, ?> summary) {
    return ((Number) summary.get("test_accuracy")).doubleValue();
  }

  @Test
  @Tag("slow")
  void lmulInAttentionLosesAlmostNothingAndAllMatmulFineTuningRecovers() throws Exception {
    Path pre = dir.resolve("fp32");
    double fp32 = acc(train("fp32", "fp32", scaled(2), null));
    assertTrue(fp32 > 0.60, "the ViT learns: " + fp32);
    // evaluation only: the same weights, the same test images
    Map<?, ?> again = train("eval-fp32", "fp32", "0", pre);
    assertEquals(fp32, acc(again), "--epochs 0 under fp32 reproduces the run's accuracy");
    assertFalse(Files.exists(dir.resolve("eval-fp32").resolve("checkpoint.safetensors")));
    double attn = acc(train("eval-lmul4-attn", "lmul4-attn", "0", pre));
    // the bar is on what L-Mul loses; on the embedded subset's 500 test images a few flips either way are noise
    assertTrue(attn >= fp32 - 0.005, "lmul4-attn with no retraining loses at most 0.5 point: fp32 " + fp32
        + ", lmul4-attn " + attn);
    double all3 = acc(train("eval-lmul3-all", "lmul3-all", "0", pre));
    double all4 = acc(train("eval-lmul4-all", "lmul4-all", "0", pre));
    assertTrue(all3 > 0.5 && all4 > 0.5, "L-Mul in every forward product still classifies: " + all3 + ", " + all4);
    Map<?, ?> ft = train("ft-lmul3-train", "lmul3-train", scaled(1), pre);
    double after = acc(ft);
    assertTrue(after >= fp32 - 0.015, "lmul3-train fine-tune within 1.5 points: fp32 " + fp32 + ", before "
        + all3 + " (forward only) / " + ft.get("accuracy_before_finetune") + ", after " + after);
    System.err.printf("LMulAccuracyTest: fp32 %.4f, lmul4-attn %.4f, lmul3-all %.4f, lmul4-all %.4f, "
        + "lmul3-train fine-tune %.4f (before %s)%n", fp32, attn, all3, all4, after, ft.get("accuracy_before_finetune"));
  }
}
