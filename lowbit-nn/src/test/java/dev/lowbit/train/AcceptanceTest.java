package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.FashionMnist;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance accuracies on the full Fashion-MNIST test set (needs Debian's dataset-fashion-mnist).
 * MLP runs the full 5 epochs; the CNN and ViT runs are reduced to fit the project's 30-minute slow
 * budget on 2 cores (see scripts/reproduce-training.sh for the full-length runs).
 */
@Tag("slow")
class AcceptanceTest {

  @TempDir Path dir;

  static Trainer.Summary train(TrainConfig cfg) throws Exception {
    requireData();
    return new Trainer(cfg, new PrintStream(System.err), false).run();
  }

  /**
   * Skips where Debian's Fashion-MNIST is missing, except under CI (LOWBIT_REQUIRE_DATA=1, set by
   * .ci/run after installing the package), where a missing data set must fail rather than pass silently.
   */
  static void requireData() {
    boolean present = java.nio.file.Files.isDirectory(FashionMnist.DEBIAN_DIR);
    if (!present && "1".equals(System.getenv("LOWBIT_REQUIRE_DATA"))) {
      throw new AssertionError("Fashion-MNIST not found in " + FashionMnist.DEBIAN_DIR + " (LOWBIT_REQUIRE_DATA=1)");
    }
    Assumptions.assumeTrue(present, "Fashion-MNIST not installed in " + FashionMnist.DEBIAN_DIR);
  }

  @Test
  void mlpWithinOnePointOfPyTorchIn5Epochs() throws Exception {
    // The 88.0% is not reached by this recipe (SGD momentum 0.9, lr 0.05, batch 128, no
    // input normalisation) in PyTorch either: /work/shared/peers/torch_train.py --model mlp
    // --epochs 5 gives 0.8715 (2026-11-24; lowbit 0.8709). So this checks the other acceptance
    // criterion, FP32 within 1.0 point of PyTorch. (--opt adamw --weight-decay 0 reaches 0.8803.)
    Trainer.Summary s = train(TrainConfig.of("mlp", 5, dir.resolve("mlp")));
    assertTrue(s.testAccuracy() >= 0.8715 - 0.010, "MLP test accuracy " + s.testAccuracy());
  }

  @Test
  void mlpReaches88PercentIn5EpochsWithCosineSchedule() throws Exception {
    // The 88.0% after 5 epochs, with one recipe change from the peer's: lr 0.1 and a cosine
    // schedule (one warmup epoch) instead of a constant 0.05. Measured 0.8815 (2026-11-24).
    TrainConfig cfg = new TrainConfig("mlp", 5, 128, 0.1, 0, 2, dir.resolve("mlp-cos"), null, null, null,
        "cosine", -1, 0, false, 0, 0, 50);
    Trainer.Summary s = train(cfg);
    assertTrue(s.testAccuracy() >= 0.880, "MLP (lr 0.1, cosine) test accuracy " + s.testAccuracy());
  }

  @Test
  void cnnReducedRun() throws Exception {
    // 1 epoch on all 60,000 images: the full-length (5 epoch, >= 90.5%) run is in reproduce-training.sh.
    Trainer.Summary s = train(TrainConfig.of("cnn", 1, dir.resolve("cnn")));
    assertTrue(s.testAccuracy() >= 0.85, "CNN test accuracy after 1 epoch " + s.testAccuracy());
  }

  @Test
  void vitReducedRun() throws Exception {
    // 2 epochs: the 10-epoch (>= 85%) run is in reproduce-training.sh.
    Trainer.Summary s = train(TrainConfig.of("vit", 2, dir.resolve("vit")));
    assertTrue(s.testAccuracy() >= 0.75, "ViT test accuracy after 2 epochs " + s.testAccuracy());
  }
}
