package dev.lowbit.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

  /**
   * A run whose curve ends at {@code acc}, with {@code epochs} epochs that trained for (seconds − 1)
   * / epochs each (the second 1 s first 0.5 s, the others evenly; the other second is start-up and
   * evaluation).
   */
  static RunResult run(String model, String policy, long seed, double acc, double seconds, int epochs,
      double bitsW, Map<String, Long> overflows) {
    List<EpochPoint> pts = new ArrayList<>();
    double each = (seconds - 1) / epochs;
    for (int e = 1; e <= epochs; e++) {
      double t = epochs == 1 ? each : e == 1 ? each + 0.5 : e == 2 ? each - 0.5 : each;
      pts.add(new EpochPoint(e, 100L * e, 1.0 / e + seed * 0.01, acc - 0.05 * (epochs - e), 0.1, 1000, t));
    }
    return new RunResult(model, policy, seed, pts, acc, 1.0 / epochs, 0.4, bitsW, bitsW, 32, overflows,
        seconds, "runs/" + policy + "-" + seed);
  }

  static List<RunResult> sample() {
    return List.of(
        run("mlp", "fp32", 1, 0.90, 9, 3, 32, Map.of()),
        run("mlp", "fp32", 2, 0.92, 10, 3, 32, Map.of()),
        run("mlp", "fp32", 3, 0.94, 11, 3, 32, Map.of()),
        run("mlp", "int8", 1, 0.89, 14, 3, 8, Map.of("accumulator", 2L)),
        run("mlp", "int8", 2, 0.91, 16, 3, 8, Map.of("accumulator", 3L, "swamp", 1L)),
        run("mlp", "mxfp4", 1, 0.80, 20, 2, 4.25, Map.of()));
  }

  @Test
  void markdownAggregatesOverSeedsAndComparesTimeWithFp32() {
    String md = Report.markdown(sample());
    // fp32: mean 92, sample std 2 (0.90, 0.92, 0.94); int8: 90 ± 1.41; time 10 s vs 15 s
    assertTrue(md.contains("| fp32 | 3 | 92.00 ± 2.00 |"), md);
    assertTrue(md.contains("| int8 | 2 | 90.00 ± 1.41 |"), md);
    assertTrue(md.contains("| 8 / 8 / 32 | accumulator 5, swamp 1 | 15.0 | 1.50× |"), md);
    assertTrue(md.contains("| 4.25 / 4.25 / 32 | 0 | 20.0 | 2.00× |"), md);
    assertTrue(md.contains("| 10.0 | 1.00× |"), md);
    // per epoch: fp32 (8/3, 9/3, 10/3 s) mean 3.00; int8 (13/3, 15/3) 4.67, ratio 14/9; mxfp4 19/2
    assertTrue(md.contains("| 10.0 | 1.00× | 3.00 | 1.00× |"), md);
    assertTrue(md.contains("| 15.0 | 1.50× | 4.67 | 1.56× |"), md);
    assertTrue(md.contains("| 20.0 | 2.00× | 9.50 | 3.17× |"), md);
    String noRef = Report.markdown(sample().subList(3, 6));
    assertTrue(noRef.contains("| 15.0 | — | 4.67 | — |"), noRef);
  }

  @Test
  void groupsSeparateModels() {
    List<RunResult> runs = new ArrayList<>(sample());
    runs.add(run("cnn", "fp32", 1, 0.95, 30, 2, 32, Map.of()));
    runs.add(run("cnn", "int8", 1, 0.94, 45, 2, 8, Map.of()));
    List<Report.Group> gs = Report.groups(runs);
    assertEquals(5, gs.size());
    Report.Group cnnInt8 = gs.get(4);
    assertEquals("cnn/int8", cnnInt8.label(true));
    assertEquals(1.5, Report.timeRatio(cnnInt8, gs), 1e-12, "the ratio uses the same model's fp32 runs");
    assertEquals(22.0 / 14.5, Report.epochTimeRatio(cnnInt8, gs), 1e-12, "so does the per-epoch one");
    String md = Report.markdown(runs);
    assertTrue(md.contains("| cnn/int8 | 1 | 94.00 ± 0.00 |"), md);
  }

  @Test
  void csvHasOneRowPerRun() {
    String csv = Report.csv(sample());
    String[] lines = csv.split("\n");
    assertEquals(7, lines.length);
    assertTrue(lines[0].startsWith("model,policy,seed,epochs,final_test_accuracy"));
    assertEquals("mlp,int8,2,3,0.91,0.3333333333333333,0.4,8.0,8.0,32.0,accumulator=3;swamp=1,16.0,runs/int8-2,,5.0,,",
        lines[5]);
    RunResult comma = new RunResult("a,b", "fp32", 0, List.of(), Double.NaN, Double.NaN, Double.NaN, 32, 32,
        32, Map.of(), 1, "x\"y");
    assertTrue(Report.csv(List.of(comma)).contains("\"a,b\",fp32,0,0,,,,32.0,32.0,32.0,,1.0,\"x\"\"y\""));
  }

  @Test
  void htmlIsSelfContainedWithDecodablePlots() throws Exception {
    String html = Report.html(sample());
    assertFalse(html.contains("http://") || html.contains("https://") || html.contains("src=\"//"),
        "no external references");
    Matcher m = Pattern.compile("<img alt=\"[^\"]*\" width=\"(\\d+)\" height=\"(\\d+)\" src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\">")
        .matcher(html);
    int n = 0;
    while (m.find()) {
      byte[] png = Base64.getDecoder().decode(m.group(3));
      assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
      BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
      assertEquals(Integer.parseInt(m.group(1)), img.getWidth());
      assertEquals(Integer.parseInt(m.group(2)), img.getHeight());
      n++;
    }
    assertEquals(4, n, "loss, accuracy, accuracy vs bits, time ratio");
    assertEquals(n, html.split("<img ", -1).length - 1);
    assertTrue(html.contains("<td>int8</td><td>2</td><td class=\"n\">90.00 ± 1.41</td>"), html);
  }

  @Test
  void aSingleRunStillRenders() {
    String html = Report.html(List.of(run("", "int4", 7, 0.5, 3, 1, 4, Map.of())));
    // no fp32 run: time in seconds instead of a ratio
    assertEquals(4, html.split("<img ", -1).length - 1);
    assertTrue(html.contains("<h3>Training time per epoch</h3>"), html);
    // runs that recorded no epoch times (older run directories): wall time
    RunResult fp32 = run("", "fp32", 1, 0.9, 10, 2, 32, Map.of()), int8 = run("", "int8", 1, 0.9, 12, 2, 8, Map.of());
    List<RunResult> bare = new ArrayList<>();
    for (RunResult r : List.of(fp32, int8)) {
      List<EpochPoint> pts = r.epochs().stream()
          .map(p -> new EpochPoint(p.epoch(), p.step(), p.trainLoss(), p.testAccuracy(), p.lr(), p.samplesPerSecond()))
          .toList();
      bare.add(new RunResult(r.model(), r.policy(), r.seed(), pts, r.finalTestAccuracy(), r.finalTrainLoss(),
          r.finalTestLoss(), r.bitsWeight(), r.bitsActivation(), r.bitsGradient(), r.overflows(), r.wallSeconds(), r.source()));
    }
    String old = Report.html(bare);
    assertTrue(old.contains("<h3>Wall time per run relative to fp32</h3>"), old);
    assertTrue(Report.markdown(bare).contains("| 12.0 | 1.20× | — | — |"), Report.markdown(bare));
  }

  /** {@code r} with an energy estimate of {@code inference} and {@code step} µJ. */
  static RunResult withEnergy(RunResult r, double inference, double step) {
    return new RunResult(r.model(), r.policy(), r.seed(), r.epochs(), r.finalTestAccuracy(), r.finalTrainLoss(),
        r.finalTestLoss(), r.bitsWeight(), r.bitsActivation(), r.bitsGradient(), r.overflows(), r.wallSeconds(),
        r.source(), r.accuracyBeforeFinetune(), new RunResult.EnergyEstimate(inference, step));
  }

  @Test
  void energyColumnsAreLabelledEstimatesAndOldRunsShowADash() throws Exception {
    List<RunResult> s = sample();
    // fp32 seeds 1 and 2 recorded an estimate, seed 3 (an older run) none: the mean is over the two
    List<RunResult> runs = new ArrayList<>(List.of(withEnergy(s.get(0), 1.25, 480), withEnergy(s.get(1), 1.25, 480),
        s.get(2), withEnergy(s.get(3), 0.0385, 12.5), s.get(4), s.get(5)));
    String md = Report.markdown(runs);
    assertTrue(md.contains("| est. energy / inference (µJ, 45 nm) | est. energy / training step (µJ, 45 nm) |"), md);
    assertTrue(md.contains("The energy columns are estimates, not measurements") && md.contains("docs/methods/lmul.md"), md);
    assertTrue(md.contains("| 3.00 | 1.00× | 1.25 | 480 |"), md);
    assertTrue(md.contains("| 4.67 | 1.56× | 0.0385 | 12.5 |"), md);
    assertTrue(md.contains("| 9.50 | 3.17× | — | — |"), md);
    assertTrue(Report.csv(runs).split("\n")[1].endsWith(",1.25,480.0"), Report.csv(runs));
    assertTrue(Report.csv(runs).split("\n")[3].endsWith(",,"), "no estimate: empty cells");

    String html = Report.html(runs);
    assertTrue(html.contains("<th>est. energy / inference (µJ, 45 nm)</th>") && html.contains("estimates, not measurements"));
    assertEquals(5, html.split("<img ", -1).length - 1, "the four plots and the energy bars");
    assertTrue(html.contains("<h3>Estimated energy per inference (arithmetic only, 45 nm table)</h3>"), html);
    // without any estimate (all runs older than the key) there is no energy plot
    assertEquals(4, Report.html(s).split("<img ", -1).length - 1);
  }

  @Test
  void writesAllThreeFilesAtomically(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("report");
    Report.write(sample(), out);
    Report.write(sample(), out); // replaces
    try (Stream<Path> s = Files.list(out)) {
      assertEquals(List.of("report.html", "summary.csv", "summary.md"),
          s.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary files left");
    }
    assertEquals(Report.csv(sample()), Files.readString(out.resolve("summary.csv")));
  }
}
