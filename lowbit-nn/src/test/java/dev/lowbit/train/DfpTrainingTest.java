package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.FashionMnist;
import dev.lowbit.numerics.Presets;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DFP16 (integer kernels, int32 chains) trains an MLP on real Fashion-MNIST images as well as fp32. */
class DfpTrainingTest {

  @TempDir Path dir;

  /**
   * On the subset embedded in the jar (the same images on every machine, Debian's data installed
   * or not), paired over seeds 1-3, 2 epochs. Measured on seeds 1-6: fp32 0.656-0.732, dfp16
   * 0.658-0.730, per-seed difference dfp16 - fp32 between -0.024 and +0.026, mean over seeds 1-3
   * 0.000. So the mean may trail fp32's by at most 0.02 (10 of 500 test images; margin 0.02), and
   * each run must clear 0.55 (margin 0.10 over the worst seed; a broken product lands near chance, 0.1).
   */
  @Test
  void dfp16MlpMatchesFp32WithinAPoint() throws Exception {
    FashionMnist.Splits s = FashionMnist.embedded();
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    String[] names = {"fp32", "dfp16"};
    double[] mean = new double[2];
    for (long seed = 1; seed <= 3; seed++) {
      for (int i = 0; i < 2; i++) {
        TrainConfig cfg = new TrainConfig("mlp", 2, 64, null, seed, 2, dir.resolve(names[i] + seed), null, null,
            null, null, -1, 0, false, 0, 0, 3);
        double acc = new Trainer(cfg, Presets.get(names[i]), quiet, false).run(s.train(), s.test(), "subset").testAccuracy();
        assertTrue(acc > 0.55, names[i] + " seed " + seed + " accuracy " + acc);
        mean[i] += acc / 3;
      }
    }
    String summary = Files.readString(dir.resolve("dfp161").resolve("summary.json"));
    assertTrue(summary.contains("\"integer_gemms\""), summary);
    assertTrue(mean[1] >= mean[0] - 0.02, "mean over seeds 1-3: fp32 " + mean[0] + " vs dfp16 " + mean[1]);
  }
}
