package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.io.Json;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.numerics.Presets;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training under {@code unpack-int4} (IM-Unpack on 4-bit GEMMs) gives the weights and metrics of
 * the same quantization on the exact int64 engine, bit for bit, and its summary reports the unpack
 * ratio of every layer and product.
 */
class UnpackTrainingTest {

  @TempDir Path dir;

  @AfterEach
  void backend() {
    Kernels.useBackend("java");
  }

  private Path train(String name, String policy) {
    return train(name, policy, "mlp", "1", "384", "128");
  }

  private Path train(String name, String policy, String model, String epochs, String images, String test) {
    Path out = dir.resolve(name);
    SweepCommandTest.Result r = SweepCommandTest.run("train", "--backend", "java", "--model", model, "--policy", policy,
        "--epochs", epochs, "--limit-train", images, "--limit-test", test, "--batch", "64", "--seed", "1",
        "--threads", "2", "--out", out.toString());
    assertEquals(0, r.rc(), name + ": " + r.err());
    return out;
  }

  /** The preset's policy as a file without its unpack option: the same quantization on the exact int64 engine. */
  private Path twin(String preset) throws Exception {
    Path policy = dir.resolve(preset + "-twin.policy");
    String text = Presets.text(preset).replace("option unpack-bits " + preset.substring("unpack-int".length()) + "\n", "")
        .replace("policy " + preset, "policy " + preset + "-twin");
    assertTrue(!text.contains("unpack-bits"), text);
    Files.writeString(policy, text);
    return policy;
  }

  /** metrics.jsonl without timings, paths and the policy's name (the two runs name their policies apart). */
  @SuppressWarnings("unchecked")
  private static List<Object> metrics(Path run) throws Exception {
    List<Object> out = new ArrayList<>();
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"), StandardCharsets.UTF_8)) {
      Map<String, Object> m = new LinkedHashMap<>((Map<String, Object>) Json.parse(line));
      for (String k : List.of("samples_per_s", "train_s", "seconds", "data", "config", "policy")) m.remove(k);
      out.add(m);
    }
    return out;
  }

  @Test
  @SuppressWarnings("unchecked")
  void unpackInt4TrainsToTheExactEnginesBitsAndReportsItsRatios() throws Exception {
    Path unpack = train("unpack", "unpack-int4"), exact = train("exact", twin("unpack-int4").toString());
    assertEquals(GoldenDigestsTest.weightsDigest(exact), GoldenDigestsTest.weightsDigest(unpack), "final weights");
    List<Object> mu = metrics(unpack), me = metrics(exact);
    assertTrue(mu.size() >= 2, mu.toString());
    assertEquals(me, mu, "metrics without timings");

    Map<String, Object> summary = (Map<String, Object>) Json.parse(Files.readString(unpack.resolve("summary.json")));
    Map<String, Object> u = (Map<String, Object>) summary.get("unpack");
    assertEquals(4, ((Number) u.get("bits")).intValue());
    List<Map<String, Object>> rows = (List<Map<String, Object>>) u.get("products");
    assertEquals(8, rows.size(), "3 linear layers x 3 products, the first without backward-data: " + rows);
    for (Map<String, Object> row : rows) {
      assertTrue(((Number) row.get("ratio")).doubleValue() >= 1, row.toString());
      assertTrue(((Number) row.get("calls")).longValue() >= 6, "every step of the epoch: " + row);
    }
    for (Map<String, Object> row : (List<Map<String, Object>>) summary.get("plan")) {
      assertEquals("unpack", row.get("engine"), row.toString());
    }
    Map<String, Object> plain = (Map<String, Object>) Json.parse(Files.readString(exact.resolve("summary.json")));
    assertTrue(!plain.containsKey("unpack"), "no unpack section without the option");
  }

  /** The acceptance run: the CNN, 2 epochs on 10,000 images, under unpack-int4 and its plain integer twin. */
  @Test
  @org.junit.jupiter.api.Tag("slow")
  void unpackInt4TrainsTheCnnBitIdenticallyToItsTwin() throws Exception {
    Path unpack = train("cnn-unpack", "unpack-int4", "cnn", "2", "10000", "500");
    Path exact = train("cnn-exact", twin("unpack-int4").toString(), "cnn", "2", "10000", "500");
    assertEquals(GoldenDigestsTest.weightsDigest(exact), GoldenDigestsTest.weightsDigest(unpack), "final weights");
    assertEquals(metrics(exact), metrics(unpack), "metrics without timings");
  }
}
