package dev.lowbit.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.numerics.Presets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import dev.lowbit.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader over files as {@code lowbit train} writes them, parsed with the real {@link Json}. */
class RunReaderTest {

  private final Function<String, Object> parser = Json::parse;

  /** The JSON text of {@code tree}. */
  private static String json(Map<String, Object> tree) {
    return Json.write(tree);
  }

  private static Map<String, Object> map(Object... kv) {
    LinkedHashMap<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
    return m;
  }

  private Map<String, Object> epoch(int e, double loss, double acc) {
    return map("event", "epoch", "epoch", (long) e, "step", 100L * e, "train_loss", loss,
        "train_accuracy", 0.5, "test_loss", loss + 0.1, "test_accuracy", acc, "lr", 0.01,
        "samples_per_s", 1234.5, "train_s", 2.5);
  }

  private void write(Path dir, String metrics, String summary) throws Exception {
    Files.createDirectories(dir);
    if (metrics != null) Files.writeString(dir.resolve("metrics.jsonl"), metrics);
    if (summary != null) Files.writeString(dir.resolve("summary.json"), summary + "\n");
  }

  @Test
  void readsACompleteRun(@TempDir Path dir) throws Exception {
    String metrics = String.join("\n",
        json(map("event", "start", "config", map("model", "mlp", "seed", 3L), "parameters", 10L)),
        json(map("event", "step", "epoch", 1L, "step", 50L, "loss", 0.9)),
        json(epoch(1, 0.8, 0.70)),
        "",
        json(epoch(2, 0.5, 0.80))) + "\n";
    String summary = json(map("model", "mlp", "test_accuracy", 0.81, "test_loss", 0.55, "train_loss", 0.49,
        "seconds", 12.5, "config", map("model", "mlp", "seed", 3L), "policy", "int8",
        "bits", map("weight", 8L, "activation", 8L, "gradient", 32L),
        "overflows", map("accumulator", 4L)));
    write(dir, metrics, summary);
    RunResult r = RunReader.read(dir, parser);
    assertEquals("mlp", r.model());
    assertEquals("int8", r.policy());
    assertEquals(3, r.seed());
    assertEquals(List.of(new EpochPoint(1, 100, 0.8, 0.70, 0.01, 1234.5, 2.5), new EpochPoint(2, 200, 0.5, 0.80, 0.01, 1234.5, 2.5)),
        r.epochs());
    assertEquals(2.5, r.epochSecondsMean());
    assertEquals(0.81, r.finalTestAccuracy());
    assertEquals(0.49, r.finalTrainLoss());
    assertEquals(0.55, r.finalTestLoss());
    assertEquals(12.5, r.wallSeconds());
    assertEquals(List.of(8.0, 8.0, 32.0), List.of(r.bitsWeight(), r.bitsActivation(), r.bitsGradient()));
    assertEquals(Map.of("accumulator", 4L), r.overflows());
    assertEquals(dir.toString(), r.source());
  }

  @Test
  void readsTheEnergyEstimateAndOldSummariesHaveNone(@TempDir Path dir) throws Exception {
    Path now = dir.resolve("now"), old = dir.resolve("old"), bad = dir.resolve("bad");
    write(now, null, json(map("test_accuracy", 0.5, "seconds", 3L, "policy", "int8",
        "energy_estimate", map("what", "estimate", "per_inference", 0.25, "per_training_step", 96.0))));
    write(old, null, json(map("test_accuracy", 0.5, "seconds", 3L, "policy", "int8")));
    write(bad, null, json(map("test_accuracy", 0.5, "energy_estimate", map("per_inference", "low"))));
    assertEquals(new RunResult.EnergyEstimate(0.25, 96.0), RunReader.read(now, parser).energy());
    assertEquals(RunResult.EnergyEstimate.NONE, RunReader.read(old, parser).energy());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunReader.read(bad, parser));
    assertEquals(bad.resolve("summary.json") + ": energy_estimate: \"per_inference\": expected a number, got low",
        e.getMessage());
  }

  @Test
  void anInterruptedRunFallsBackToItsEpochLines(@TempDir Path dir) throws Exception {
    String metrics = String.join("\n",
        json(map("event", "start", "config", map("model", "cnn", "seed", 7L, "policy", "mxfp8"))),
        json(epoch(1, 0.8, 0.70)),
        json(epoch(2, 0.6, 0.75)),
        json(epoch(3, 0.4, 0.85)),
        "{\"event\":\"ep"); // killed mid-write
    write(dir, metrics, null);
    RunResult r = RunReader.read(dir, parser);
    assertEquals("cnn", r.model());
    assertEquals("mxfp8", r.policy());
    assertEquals(7, r.seed());
    assertEquals(3, r.epochs().size());
    assertEquals(0.85, r.finalTestAccuracy());
    assertEquals(0.4, r.finalTrainLoss());
    assertEquals(0.5, r.finalTestLoss(), 1e-12);
    assertEquals(7.5, r.wallSeconds(), 1e-12, "sum of the epochs' train_s");
    assertEquals(Presets.get("mxfp8").bits().weight(), r.bitsWeight(), "bits from the preset of that name");
    assertEquals(8.25, r.bitsGradient());
  }

  @Test
  void aResumedRunKeepsTheLaterCopyOfAnEpoch(@TempDir Path dir) throws Exception {
    String metrics = String.join("\n", json(epoch(1, 0.8, 0.7)), json(epoch(2, 0.7, 0.72)),
        json(epoch(2, 0.65, 0.74)), json(epoch(3, 0.6, 0.76)));
    write(dir, metrics, null);
    RunResult r = RunReader.read(dir, parser);
    assertEquals(List.of(1, 2, 3), r.epochs().stream().map(EpochPoint::epoch).toList());
    assertEquals(0.74, r.epochs().get(1).testAccuracy());
    assertEquals("fp32", r.policy(), "no policy recorded: the run was fp32");
    assertEquals(32, r.bitsWeight());
  }

  @Test
  void bitsComeFromThePolicyTextWhenNotRecorded(@TempDir Path dir) throws Exception {
    String summary = json(map("test_accuracy", 0.5, "train_loss", 1.0, "seconds", 3L,
        "policy", map("name", "mine"), "policy_text", "policy mine\n* weight int4\n* error e5m2\n"));
    write(dir, null, summary);
    RunResult r = RunReader.read(dir, parser);
    assertEquals("mine", r.policy());
    assertEquals(List.of(4.0, 32.0, 8.0), List.of(r.bitsWeight(), r.bitsActivation(), r.bitsGradient()));
    assertEquals(List.of(), r.epochs());
  }

  @Test
  void errorsNameTheFileAndLine(@TempDir Path dir) throws Exception {
    Path a = dir.resolve("a");
    write(a, json(epoch(1, 0.8, 0.7)) + "\nnot json\n" + json(epoch(2, 0.7, 0.8)) + "\n", null);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunReader.read(a, parser));
    assertTrue(e.getMessage().startsWith(a.resolve("metrics.jsonl") + " line 2: bad JSON at line 1, column 1: ")
        && e.getMessage().contains("'not'"), e.getMessage());
    Path b = dir.resolve("b");
    write(b, json(map("event", "epoch", "step", 3L)) + "\n", null);
    e = assertThrows(IllegalArgumentException.class, () -> RunReader.read(b, parser));
    assertEquals(b.resolve("metrics.jsonl") + " line 1: missing \"epoch\"", e.getMessage());
    Path c = dir.resolve("c");
    write(c, null, json(map("test_accuracy", "high")));
    e = assertThrows(IllegalArgumentException.class, () -> RunReader.read(c, parser));
    assertEquals(c.resolve("summary.json") + ": \"test_accuracy\": expected a number, got high", e.getMessage());
    Path d = dir.resolve("d");
    write(d, "\n", null);
    e = assertThrows(IllegalArgumentException.class, () -> RunReader.read(d, parser));
    assertEquals(d + ": no epochs recorded and no summary.json", e.getMessage());
  }

  @Test
  void readAllFindsRunDirectoriesInPathOrder(@TempDir Path dir) throws Exception {
    for (String p : List.of("sweep/int8-s2", "sweep/fp32-s1", "sweep/int8-s1")) {
      write(dir.resolve(p), null, json(map("test_accuracy", 0.5, "seconds", 1L, "policy", p.substring(6, 10).replace("-", ""))));
    }
    Files.createDirectories(dir.resolve("sweep/empty"));
    List<RunResult> runs = RunReader.readAll(dir, parser);
    assertEquals(List.of("fp32", "int8", "int8"), runs.stream().map(RunResult::policy).toList());
    assertTrue(runs.get(0).source().endsWith("fp32-s1"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RunReader.readAll(dir.resolve("sweep/empty"), parser));
    assertTrue(e.getMessage().startsWith("no runs under "), e.getMessage());
  }
}
