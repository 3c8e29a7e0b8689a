package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.io.Json;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Presets;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Narrow-accumulator fine-tuning on real data (Blumenfeld et al. 2024; spec §3.4, §3.7): an
 * fp32-pretrained MLP evaluated with a narrow accumulator loses accuracy, and the two-stage
 * fine-tune from {@code --init} wins most of it back.
 */
class FineTuneTest {

  @TempDir Path dir;

  static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

  /** e4m7 RTZ without chunking (C = K = 784 in the first layer): the drop is clear at MLP scale. */
  static final String NARROW = """
      policy e4m7-nochunk
      option accumulator-stages underflow-off-then-on
      *  accumulator  e4m7  forward
      """;

  record Result(double fp32, double before, double after, Map<?, ?> summary) {}

  /** Runs of this test so far: each pretrain/fine-tune pair gets its own directories (a run directory is never reused). */
  private int pairs;

  Result pretrainAndFineTune(Policy policy, int preEpochs, int trainN, int ftTrainN, int ftEpochs, int testN)
      throws Exception {
    return pretrainAndFineTune(FashionMnist.load(null), TrainConfig.of("mlp", preEpochs, dir.resolve("fp32")),
        policy, trainN, ftTrainN, ftEpochs, testN);
  }

  Result pretrainAndFineTune(FashionMnist.Splits s, TrainConfig preConfig, Policy policy, int trainN, int ftTrainN,
      int ftEpochs, int testN) throws Exception {
    Path pair = dir.resolve("pair" + ++pairs), preDir = pair.resolve("fp32"), ftDir = pair.resolve("ft");
    Dataset test = s.test().head(Math.min(testN, s.test().size()));
    TrainConfig pre = preConfig.withOut(preDir, null).withLimits(trainN, testN);
    Trainer.Summary fp = new Trainer(pre, Presets.get("fp32"), QUIET, false)
        .run(s.train().head(Math.min(trainN, s.train().size())), test, "test");
    TrainConfig ft = preConfig.withEpochs(ftEpochs).withOut(ftDir, null).withLimits(ftTrainN, testN);
    Trainer.Summary after = new Trainer(ft, policy, QUIET, false).init(preDir)
        .run(s.train().head(Math.min(ftTrainN, s.train().size())), test, "test");
    Map<?, ?> summary = (Map<?, ?>) Json.parse(Files.readString(ftDir.resolve("summary.json")));
    double before = ((Number) summary.get("accuracy_before_finetune")).doubleValue();
    lastFineTune = ftDir;
    return new Result(fp.testAccuracy(), before, after.testAccuracy(), summary);
  }

  /** The fine-tune directory of the last {@link #pretrainAndFineTune}. */
  private Path lastFineTune;

  @Test
  void narrowAccumulatorLosesAndFineTuningRecoversMostOfIt() throws Exception {
    TrainConfig pre = new TrainConfig("mlp", 3, 64, null, 1, 2, dir.resolve("fp32"), null, null, null, null, -1, 0,
        false, 0, 0, 3);
    Result r = pretrainAndFineTune(FashionMnist.embedded(), pre, Policy.parse(NARROW, "t"), 2000, 1500, 1, 500);
    double gap = r.fp32() - r.before();
    assertTrue(gap >= 0.03, "the narrow accumulator must lose >= 3 points: fp32 " + r.fp32() + ", before " + r.before());
    assertTrue(r.after() >= r.fp32() - 0.5 * gap, "fine-tuning must recover most of the gap: fp32 " + r.fp32()
        + ", before " + r.before() + ", after " + r.after());
    Map<?, ?> ov = (Map<?, ?>) r.summary().get("overflows");
    assertTrue(((Number) ov.get("accumulator_swamp")).longValue() > 0, ov.toString());
    assertTrue(r.summary().containsKey("accumulator_events"));
    // the metrics log has the evaluation before the first step
    String metrics = Files.readString(lastFineTune.resolve("metrics.jsonl"));
    assertTrue(metrics.contains("\"event\":\"before_finetune\""), metrics.substring(0, Math.min(300, metrics.length())));
    // in a fixed order, so that same-seed runs write the same log (Map.of's order is salted per JVM)
    assertTrue(metrics.matches("(?s).*\"accumulator_events\":\\{\"overflow\":\\d+,\"underflow\":\\d+,\"swamp\":\\d+}.*"),
        metrics.substring(0, Math.min(600, metrics.length())));
  }

  @Test
  void stagesSplitEpochsAndLrFactors() {
    Policy two = Presets.get("acc12");
    FineTune f4 = new FineTune(Path.of("x"), two, 4, 10);
    assertEquals(1, f4.stage(29));
    assertEquals(2, f4.stage(30));
    FineTune f1 = new FineTune(Path.of("x"), two, 1, 8);
    assertEquals(1, f1.stage(5));
    assertEquals(2, f1.stage(6));
    FineTune one = new FineTune(null, Presets.get("fp32"), 4, 10);
    assertEquals(1, one.stage(39));
    assertTrue(!one.active());
  }

  @Test
  void initFromAMissingCheckpointIsAClearError() throws Exception {
    TrainConfig ft = TrainConfig.of("mlp", 1, dir.resolve("ft"));
    FashionMnist.Splits s = FashionMnist.load(null);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        new Trainer(ft, Presets.get("acc12"), QUIET, false).init(dir.resolve("nothing"))
            .run(s.train().head(64), s.test().head(64), "test"));
    assertTrue(e.getMessage().contains("--init"), e.getMessage());
  }

  /** The acc12 preset itself (M7E4, chunks of 16): after fine-tuning within 1 point of fp32. */
  @Test
  @Tag("slow")
  void acc12PresetAfterFineTuneWithinOnePointOfFp32() throws Exception {
    Assumptions.assumeTrue(Files.isDirectory(FashionMnist.DEBIAN_DIR), "Fashion-MNIST not installed");
    Result r = pretrainAndFineTune(Presets.get("acc12"), 5, 20000, 12000, 2, 5000);
    System.err.printf("acc12 MLP: fp32 %.4f, before fine-tune %.4f, after %.4f%n", r.fp32(), r.before(), r.after());
    assertTrue(r.after() >= r.fp32() - 0.01, "fp32 " + r.fp32() + " after " + r.after());
    Result n = pretrainAndFineTune(Policy.parse(NARROW, "t"), 5, 20000, 12000, 2, 5000);
    System.err.printf("e4m7 unchunked MLP: fp32 %.4f, before fine-tune %.4f, after %.4f%n", n.fp32(), n.before(), n.after());
    assertTrue(n.before() <= n.fp32() - 0.03 && n.after() >= n.fp32() - 0.01, n.toString());
  }

  /** {@code --epochs 0} with {@code --init}: the checkpoint evaluated under the policy, nothing trained or written but the summary. */
  @Test
  void zeroEpochsEvaluatesTheInitWeightsOnly() throws Exception {
    FashionMnist.Splits s = FashionMnist.embedded();
    Dataset train = s.train().head(512), test = s.test().head(256);
    TrainConfig pre = new TrainConfig("mlp", 1, 64, null, 1, 2, dir.resolve("pre"), null, null, null, null, -1, 0,
        false, 0, 0, 4);
    Trainer.Summary fp = new Trainer(pre, Presets.get("fp32"), QUIET, false).run(train, test, "test");
    Path ckpt = dir.resolve("pre").resolve(Trainer.CHECKPOINT);
    byte[] weights = Files.readAllBytes(ckpt);
    // fp32 on the same weights: exactly the pretraining run's final accuracy
    Path evalDir = dir.resolve("eval-fp32");
    Trainer.Summary ev = new Trainer(pre.withEpochs(0).withOut(evalDir, null), Presets.get("fp32"), QUIET, false)
        .init(dir.resolve("pre")).run(train, test, "test");
    assertEquals(fp.testAccuracy(), ev.testAccuracy(), "fp32 re-evaluation");
    assertEquals(0, ev.steps());
    assertTrue(!Files.exists(evalDir.resolve(Trainer.CHECKPOINT)), "evaluation writes no checkpoint");
    Map<?, ?> sum = (Map<?, ?>) Json.parse(Files.readString(evalDir.resolve("summary.json")));
    assertEquals(fp.testAccuracy(), ((Number) sum.get("test_accuracy")).doubleValue());
    assertEquals(fp.testAccuracy(), ((Number) sum.get("accuracy_before_finetune")).doubleValue());
    assertTrue(java.util.Arrays.equals(weights, Files.readAllBytes(ckpt)), "the --init checkpoint is unchanged");
    // under another policy the same weights give that policy's accuracy (int4 weights: a clear change)
    Path q = dir.resolve("eval-q");
    Trainer.Summary lossy = new Trainer(pre.withEpochs(0).withOut(q, null),
        Policy.parse("policy w2\n*  weight  int2  rne  per-tensor\n", "t"), QUIET, false)
        .init(dir.resolve("pre")).run(train, test, "test");
    assertTrue(lossy.testAccuracy() < fp.testAccuracy() - 0.02, "2-bit weights: " + lossy.testAccuracy() + " vs " + fp.testAccuracy());
    // without --init there is nothing to evaluate
    assertThrows(IllegalArgumentException.class, () -> new Trainer(pre.withEpochs(0).withOut(dir.resolve("none"), null),
        Presets.get("fp32"), QUIET, false).run(train, test, "test"));
  }
}
