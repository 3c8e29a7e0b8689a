package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.io.Safetensors;
import dev.lowbit.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {

  static Dataset train, test;

  @TempDir Path dir;

  @BeforeAll
  static void data() throws Exception {
    FashionMnist.Splits s = FashionMnist.embedded();
    train = s.train().head(600);
    test = s.test().head(200);
  }

  static Trainer.Summary run(TrainConfig cfg) throws Exception {
    return new Trainer(cfg, new PrintStream(new ByteArrayOutputStream()), false).run(train, test, "test subset");
  }

  static TrainConfig cfg(String model, int epochs, Path out) {
    return new TrainConfig(model, epochs, 64, null, 3, 2, out, null, null, null, null, -1, 0, false, 0, 0, 3);
  }

  /** The loss/accuracy fields of metrics.jsonl (timings removed). */
  static List<String> metrics(Path out) throws Exception {
    return Files.readAllLines(out.resolve("metrics.jsonl")).stream()
        .filter(l -> !l.contains("\"start\""))
        .map(l -> l.replaceAll("\"(samples_per_s|train_s)\":[^,}]*", ""))
        .collect(Collectors.toList());
  }

  @Test
  void mlpLearnsAndWritesItsFiles() throws Exception {
    Path out = dir.resolve("mlp");
    Trainer.Summary s = run(cfg("mlp", 3, out));
    assertTrue(s.testAccuracy() > 0.5, "accuracy " + s.testAccuracy());
    assertTrue(Files.readString(out.resolve("summary.json")).contains("\"vector_bits\""));
    List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
    assertTrue(lines.get(0).contains("\"event\":\"start\""));
    assertEquals(3, lines.stream().filter(l -> l.contains("\"event\":\"epoch\"")).count());
    assertTrue(Files.exists(out.resolve(Trainer.CHECKPOINT)));
    try (var files = Files.list(out)) {
      assertEquals(List.of("checkpoint.safetensors", "metrics.jsonl", "summary.json"),
          files.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void sameSeedGivesIdenticalMetricsAndResumeIsBitIdentical() throws Exception {
    Path a = dir.resolve("a"), b = dir.resolve("b"), c = dir.resolve("c");
    Dataset small = train.head(128);
    java.util.function.Consumer<TrainConfig> go = cf -> {
      try {
        new Trainer(cf, new PrintStream(new ByteArrayOutputStream()), false).run(small, test.head(50), "t");
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    };
    go.accept(cfg("cnn", 2, a));
    go.accept(cfg("cnn", 2, b));
    assertEquals(metrics(a), metrics(b));
    go.accept(cfg("cnn", 1, c));
    go.accept(cfg("cnn", 2, c).withOut(c, c));
    assertEquals(metrics(a), metrics(c));
    Map<String, Tensor> wa = Safetensors.read(a.resolve(Trainer.CHECKPOINT)).tensors();
    Map<String, Tensor> wc = Safetensors.read(c.resolve(Trainer.CHECKPOINT)).tensors();
    assertEquals(wa.keySet(), wc.keySet());
    for (String k : wa.keySet()) assertArrayEquals(wa.get(k).data(), wc.get(k).data(), k);
  }

  @Test
  void resumeOfDropoutAndBatchNormModelsIsBitIdentical() throws Exception {
    Path a = dir.resolve("a"), c = dir.resolve("c");
    TrainConfig base = new TrainConfig("resnet", 2, 100, null, 1, 2, a, null, null, null, "cosine", -1, 0.1, true, 0, 0, 2);
    Dataset small = train.head(100);
    new Trainer(base, new PrintStream(new ByteArrayOutputStream()), false).run(small, test.head(50), "t");
    new Trainer(base.withEpochs(1).withOut(c, null), new PrintStream(new ByteArrayOutputStream()), false).run(small, test.head(50), "t");
    new Trainer(base.withOut(c, c), new PrintStream(new ByteArrayOutputStream()), false).run(small, test.head(50), "t");
    Map<String, Tensor> wa = Safetensors.read(a.resolve(Trainer.CHECKPOINT)).tensors();
    Map<String, Tensor> wc = Safetensors.read(c.resolve(Trainer.CHECKPOINT)).tensors();
    for (String k : wa.keySet()) assertArrayEquals(wa.get(k).data(), wc.get(k).data(), k);
  }

  @Test
  void vitTrains() throws Exception {
    Trainer.Summary s = run(cfg("vit", 2, dir.resolve("vit")));
    assertTrue(Double.isFinite(s.testLoss()) && s.testAccuracy() > 0.2, "vit accuracy " + s.testAccuracy());
  }

  @Test
  void badCheckpointsAreRejectedClearly() throws Exception {
    Path a = dir.resolve("a");
    run(cfg("mlp", 1, a));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> run(cfg("cnn", 2, a).withOut(dir.resolve("x"), a)));
    assertTrue(e.getMessage().contains("model 'mlp'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> run(cfg("mlp", 1, a).withOut(dir.resolve("y"), a)));
    assertTrue(e.getMessage().contains("already has 1 epochs"), e.getMessage());
    Path ck = a.resolve(Trainer.CHECKPOINT);
    byte[] raw = Files.readAllBytes(ck);
    raw[8] = '!'; // the JSON header's opening brace
    Files.write(ck, raw);
    e = assertThrows(IllegalArgumentException.class, () -> run(cfg("mlp", 2, a).withOut(dir.resolve("z"), a)));
    assertTrue(e.getMessage().contains("checkpoint.safetensors") && e.getMessage().contains("header"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> cfg("lenet", 1, a));
  }

  @Test
  void resumeCutsMetricsBackToTheCheckpointsEpoch() throws Exception {
    Path f = dir.resolve("metrics.jsonl");
    String kept = "{\"event\":\"start\"}\n{\"event\":\"step\",\"epoch\":1}\n{\"event\":\"epoch\",\"epoch\":1}\n";
    Files.writeString(f, kept + "{\"event\":\"step\",\"epoch\":2}\n{\"event\":\"st");
    Trainer.trimMetrics(f, 1);
    assertEquals(kept, Files.readString(f));
    Trainer.trimMetrics(f, 1); // nothing to cut: unchanged
    assertEquals(kept, Files.readString(f));
  }
}
