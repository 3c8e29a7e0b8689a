package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.io.Json;
import dev.lowbit.numerics.Presets;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DFP16 (integer kernels, int32 chains) trains an MLP on real Fashion-MNIST images as well as fp32. */
class DfpTrainingTest {

  @TempDir Path dir;

  @Test
  void dfp16MlpMatchesFp32WithinAPoint() throws Exception {
    FashionMnist.Splits s = FashionMnist.load(null);
    Dataset train = s.train().head(Math.min(s.train().size(), 4000));
    Dataset test = s.test().head(Math.min(s.test().size(), 2000));
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    double[] acc = new double[2];
    String[] names = {"fp32", "dfp16"};
    for (int i = 0; i < 2; i++) {
      TrainConfig cfg = TrainerTest.cfg("mlp", 2, dir.resolve(names[i]));
      acc[i] = new Trainer(cfg, Presets.get(names[i]), quiet, false).run(train, test, "subset").testAccuracy();
    }
    String summary = Files.readString(dir.resolve("dfp16").resolve("summary.json"));
    assertTrue(summary.contains("\"integer_gemms\""), summary);
    // one-sided: what DFP16 may cost is at most a point (on this undertrained subset the two runs
    // differ by about a point either way from the different rounding alone)
    assertTrue(acc[1] >= acc[0] - 0.01, "fp32 " + acc[0] + " vs dfp16 " + acc[1]);
    assertTrue(acc[1] > 0.7, "dfp16 accuracy " + acc[1]);
  }
}
