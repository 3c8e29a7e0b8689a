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
      assertEquals(List.of(".lock", "checkpoint.safetensors", "metrics.jsonl", "summary.json"),
          files.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void summaryRecordsTheSettingsNotAtTheirDefault() throws Exception {
    Path plain = dir.resolve("plain"), tuned = dir.resolve("tuned");
    run(cfg("mlp", 1, plain));
    assertTrue(Files.readString(plain.resolve("summary.json")).contains("\"settings\":{}"));
    try {
      dev.lowbit.kernel.Kernels.configure(dev.lowbit.settings.Settings.defaults()
          .with(dev.lowbit.settings.SettingsTable.INT8_MIN_NATIVE_MACS, 1000L));
      run(cfg("mlp", 1, tuned));
    } finally {
      dev.lowbit.kernel.Kernels.configure(dev.lowbit.settings.Settings.defaults());
    }
    String sum = Files.readString(tuned.resolve("summary.json"));
    assertTrue(sum.contains("\"settings\":{\"lowbit.int8.minNativeMacs\":\"1000\"}"), sum);
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
  void lossScaledResumeIsBitIdentical() throws Exception {
    // fp16 (no overflow at 2^16 here) and E4M3 errors (max 448: the first steps overflow, are
    // skipped and halve the scale, so the scale that crosses the checkpoint is not the initial one)
    for (String text : new String[] {dev.lowbit.numerics.Presets.text("fp16"),
        "policy e4m3err\noption loss-scale dynamic\n*  error  e4m3  rne\n"}) {
      dev.lowbit.numerics.Policy p = dev.lowbit.numerics.Policy.parse(text, "p");
      Path a = dir.resolve(p.name() + "a"), c = dir.resolve(p.name() + "c");
      Dataset small = train.head(256);
      java.util.function.Consumer<TrainConfig> go = cf -> {
        try {
          new Trainer(cf, p, new PrintStream(new ByteArrayOutputStream()), false).run(small, test.head(50), "t");
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      };
      go.accept(cfg("mlp", 2, a));
      go.accept(cfg("mlp", 1, c));
      go.accept(cfg("mlp", 2, c).withOut(c, c));
      assertEquals(metrics(a), metrics(c), p.name());
      assertTrue(metrics(a).stream().filter(l -> l.contains("\"event\":\"step\"")).allMatch(l -> l.contains("\"loss_scale\":")));
      Map<String, Tensor> wa = Safetensors.read(a.resolve(Trainer.CHECKPOINT)).tensors();
      Map<String, Tensor> wc = Safetensors.read(c.resolve(Trainer.CHECKPOINT)).tensors();
      assertEquals(wa.keySet(), wc.keySet());
      for (String k : wa.keySet()) assertArrayEquals(wa.get(k).data(), wc.get(k).data(), k);
      Map<String, String> meta = Safetensors.read(a.resolve(Trainer.CHECKPOINT)).metadata();
      assertEquals(meta.get("loss_scale"), Safetensors.read(c.resolve(Trainer.CHECKPOINT)).metadata().get("loss_scale"));
      @SuppressWarnings("unchecked")
      Map<String, Object> sum = (Map<String, Object>) dev.lowbit.io.Json.parse(Files.readString(a.resolve("summary.json")));
      long skipped = ((Number) sum.get("skipped_steps")).longValue();
      double scale = ((Number) sum.get("loss_scale")).doubleValue();
      assertEquals(Float.parseFloat(meta.get("loss_scale")), scale, 0);
      if (p.name().equals("fp16")) {
        assertEquals(0, skipped);
        assertEquals(65536.0, scale);
        assertEquals("8", meta.get("loss_scale_good_steps"), "two epochs of 4 steps");
      } else {
        assertTrue(skipped > 0 && scale < 65536.0, "skipped " + skipped + ", scale " + scale);
        assertEquals(8 - skipped, Long.parseLong(meta.get("optimizer_steps")), "skipped steps do not step");
      }
    }
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
