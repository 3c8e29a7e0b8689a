package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.io.Json;
import dev.lowbit.io.Safetensors;
import dev.lowbit.numerics.Presets;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** shiftquant4 (W4 A4 G4, ShiftQuant errors, L1 norms) learns real Fashion-MNIST images on a small scale. */
class ShiftQuantTrainingTest {

  static Dataset train, test;

  @TempDir Path dir;

  @BeforeAll
  static void data() throws Exception {
    FashionMnist.Splits s = FashionMnist.embedded();
    train = s.train().head(1500);
    test = s.test().head(500);
  }

  static Trainer.Summary run(String model, int epochs, Dataset tr, Dataset te, Path out, String preset) throws Exception {
    TrainConfig cfg = TrainerTest.cfg(model, epochs, out);
    return new Trainer(cfg, Presets.get(preset), new PrintStream(new ByteArrayOutputStream()), false).run(tr, te, "subset");
  }

  @SuppressWarnings("unchecked")
  static long integerGemms(Path out) throws Exception {
    Map<String, Object> s = (Map<String, Object>) Json.parse(Files.readString(out.resolve("summary.json")));
    return ((Number) s.get("integer_gemms")).longValue();
  }

  @Test
  void mlpLearnsUnderShiftquant4NearFp32() throws Exception {
    Trainer.Summary fp = run("mlp", 2, train, test, dir.resolve("fp32"), "fp32");
    Trainer.Summary sq = run("mlp", 2, train, test, dir.resolve("sq4"), "shiftquant4");
    String msg = String.format("fp32 %.3f, shiftquant4 %.3f", fp.testAccuracy(), sq.testAccuracy());
    System.out.println("ShiftQuantTrainingTest (mlp, 1500 train / 500 test, 2 epochs): " + msg);
    assertTrue(sq.testAccuracy() > 0.6, "well above chance (0.1): " + msg);
    assertTrue(sq.testAccuracy() > fp.testAccuracy() - 0.05, "within 5 points of fp32: " + msg);
    // three products per Linear per step: forward, backward-data (not for fc1's input), backward-weight
    assertTrue(integerGemms(dir.resolve("sq4")) >= 2 * (1500 / 64) * 8, "integer GEMMs counted");
  }

  @Test
  void resnetBuildsL1NormsAndTrainsUnderShiftquant4() throws Exception {
    Trainer.Summary sq = run("resnet", 1, train.head(128), test.head(64), dir.resolve("res"), "shiftquant4");
    assertTrue(Double.isFinite(sq.trainLoss()), "finite loss");
    assertTrue(integerGemms(dir.resolve("res")) > 0);
    var keys = Safetensors.read(dir.resolve("res").resolve(Trainer.CHECKPOINT)).tensors().keySet();
    assertTrue(keys.stream().anyMatch(k -> k.endsWith("running_sigma1")), "L1 batch norms in the checkpoint: " + keys);
  }
}
