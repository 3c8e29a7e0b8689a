package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The energy estimate of issue [10] where users see it: {@code summary.json}'s {@code
 * energy_estimate} after one training step, and the sweep report's columns, note and plot, with a
 * dash for a run whose summary predates the key.
 */
class EnergyEstimateReportTest {

  @TempDir Path dir;

  @SuppressWarnings("unchecked")
  private static Map<String, Object> summary(Path run) throws Exception {
    return (Map<String, Object>) Json.parse(Files.readString(run.resolve("summary.json")));
  }

  @Test
  void oneTrainingStepRecordsAPositiveLabelledEstimate() throws Exception {
    Path out = dir.resolve("t");
    SweepCommandTest.Result r = SweepCommandTest.run("train", "--out", out.toString(), "--backend", "java",
        "--policy", "int8", "--epochs", "1", "--limit-train", "32", "--limit-test", "32", "--batch", "32");
    assertEquals(0, r.rc(), r.err());
    Map<?, ?> e = (Map<?, ?>) summary(out).get("energy_estimate");
    assertTrue(String.valueOf(e.get("what")).startsWith("estimate"), e.toString());
    assertEquals("µJ", e.get("unit"));
    assertEquals("Horowitz ISSCC 2014, 45 nm", e.get("table_name"));
    assertEquals(32L, ((Number) e.get("batch")).longValue(), "the run's batch");
    double inference = ((Number) e.get("per_inference")).doubleValue();
    double step = ((Number) e.get("per_training_step")).doubleValue();
    assertTrue(inference > 0 && step > 32 * inference, inference + " µJ per inference, " + step + " per step");
    // the MLP's int8 forward products: int8 multiplies and int32 adds, one of each per MAC
    Map<?, ?> counts = (Map<?, ?>) ((Map<?, ?>) e.get("counts")).get("per_inference");
    long macs = 784L * 256 + 256L * 256 + 256L * 10;
    assertEquals(Map.of("int_mul_8", macs, "int_add_32", macs), counts);
  }

  @Test
  void theSweepReportShowsEstimatedEnergyAndADashForOldSummaries() throws Exception {
    Path out = dir.resolve("s");
    String[] sweep = SweepCommandTest.sweep(out, "--policies", "fp32,int8", "--epochs", "1");
    SweepCommandTest.Result r = SweepCommandTest.run(sweep);
    assertEquals(0, r.rc(), r.err());
    String md = Files.readString(out.resolve("summary.md"));
    assertTrue(md.contains("| est. energy / inference (µJ, 45 nm) | est. energy / training step (µJ, 45 nm) |"), md);
    assertTrue(md.contains("estimates, not measurements") && md.contains("45 nm") && md.contains("docs/methods/lmul.md"), md);
    double fp32 = inference(out, "fp32"), int8 = inference(out, "int8");
    assertTrue(int8 < fp32, int8 + " < " + fp32);
    assertTrue(md.contains(String.format(java.util.Locale.ROOT, "| %.3g |", int8)), md);
    String html = Files.readString(out.resolve("report.html"));
    assertTrue(html.contains("<h3>Estimated energy per inference (arithmetic only, 45 nm table)</h3>"), html);

    // int8's run as written before summaries had the key: the report still loads it and shows dashes
    Path int8Summary = out.resolve("runs/int8-s1/summary.json");
    Map<String, Object> old = new LinkedHashMap<>(summary(int8Summary.getParent()));
    old.remove("energy_estimate");
    Files.writeString(int8Summary, Json.write(old) + "\n");
    r = SweepCommandTest.run(sweep);
    assertEquals(0, r.rc(), r.err());
    String row = Files.readString(out.resolve("summary.md")).lines().filter(l -> l.startsWith("| int8 |"))
        .findFirst().orElseThrow();
    assertTrue(row.endsWith("| — | — |"), row);
    String csv = Files.readString(out.resolve("summary.csv"));
    assertTrue(csv.lines().filter(l -> l.startsWith("mlp,int8,")).findFirst().orElseThrow().endsWith(",,"), csv);
  }

  private static double inference(Path sweep, String policy) throws Exception {
    Map<?, ?> e = (Map<?, ?>) summary(sweep.resolve("runs/" + policy + "-s1")).get("energy_estimate");
    return ((Number) e.get("per_inference")).doubleValue();
  }
}
