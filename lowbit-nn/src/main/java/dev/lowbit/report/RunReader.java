package dev.lowbit.report;

import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Presets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Loads {@link RunResult}s back from run directories, as {@code lowbit train} writes them:
 *
 * <ul>
 *   <li>{@code metrics.jsonl}, one JSON object per line: {@code {"event": "start", "config":
 *       {"model", "seed", "policy"?...}}}, {@code {"event": "step", ...}} (ignored here) and
 *       {@code {"event": "epoch", "epoch", "step", "train_loss", "test_accuracy", "test_loss", "lr",
 *       "samples_per_s", "train_s"}};
 *   <li>{@code summary.json}: {@code "model", "test_accuracy", "test_loss", "train_loss",
 *       "seconds", "config": {"seed", ...}} and, from the numerics integration on, {@code "policy"}
 *       (name), {@code "policy_text"} ({@link Policy#toText()}), {@code "bits": {"weight",
 *       "activation", "gradient"}} and {@code "overflows": {name: count}}; from issue [10] on,
 *       {@code "energy_estimate": {"per_inference", "per_training_step", ...}} (µJ, an estimate).
 * </ul>
 *
 * Missing fields fall back: policy {@code fp32}; bits from {@code policy_text}, else from the
 * preset of that name, else 32; final values and time from the last epoch lines when {@code
 * summary.json} is absent (an interrupted run); no energy estimate when {@code energy_estimate} is
 * absent or null.
 *
 * <p>The JSON parser is passed in (maps, lists, strings, numbers, booleans, null), e.g. {@code
 * dev.lowbit.io.Json::parse}.
 */
public final class RunReader {

  private RunReader() {}

  /** Whether {@code dir} holds a run. */
  public static boolean isRun(Path dir) {
    return Files.isRegularFile(dir.resolve("metrics.jsonl")) || Files.isRegularFile(dir.resolve("summary.json"));
  }

  /**
   * Every run directory under {@code root} (itself included, up to 4 levels down), sorted by path.
   *
   * @throws IllegalArgumentException when there is none, or a run cannot be read
   */
  public static List<RunResult> readAll(Path root, Function<String, Object> jsonParser) throws IOException {
    if (!Files.isDirectory(root)) throw new IllegalArgumentException("no such directory: " + root);
    List<Path> dirs;
    try (Stream<Path> s = Files.walk(root, 4)) {
      dirs = s.filter(Files::isDirectory).filter(RunReader::isRun).sorted().toList();
    }
    if (dirs.isEmpty()) {
      throw new IllegalArgumentException("no runs under " + root + " (looked for metrics.jsonl or summary.json)");
    }
    List<RunResult> out = new ArrayList<>();
    for (Path d : dirs) out.add(read(d, jsonParser));
    return out;
  }

  /**
   * One run directory.
   *
   * @throws IllegalArgumentException naming the file, line and problem
   */
  public static RunResult read(Path dir, Function<String, Object> jsonParser) throws IOException {
    Path metrics = dir.resolve("metrics.jsonl");
    Path summaryFile = dir.resolve("summary.json");
    Map<String, Object> start = Map.of();
    List<EpochPoint> epochs = new ArrayList<>();
    double trainSeconds = 0;
    double lastTestLoss = Double.NaN;
    if (Files.isRegularFile(metrics)) {
      List<String> lines = Files.readAllLines(metrics, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i).strip();
        if (line.isEmpty()) continue;
        String where = metrics + " line " + (i + 1);
        Map<String, Object> m;
        try {
          m = object(jsonParser.apply(line), "a JSON object");
        } catch (IllegalArgumentException e) {
          if (i == lines.size() - 1) break; // a run killed mid-write leaves a torn last line
          throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
        try {
          switch (String.valueOf(m.get("event"))) {
            case "start" -> start = m;
            case "epoch" -> {
              double s = num(m, "train_s", false);
              EpochPoint p = new EpochPoint((int) num(m, "epoch", true), (long) num(m, "step", false),
                  num(m, "train_loss", false), num(m, "test_accuracy", false), num(m, "lr", false),
                  num(m, "samples_per_s", false), s);
              // a resumed run appends: a repeated epoch replaces the earlier one
              epochs.removeIf(e -> e.epoch() >= p.epoch());
              epochs.add(p);
              if (!Double.isNaN(s)) trainSeconds += s;
              lastTestLoss = num(m, "test_loss", false);
            }
            default -> {}
          }
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
      }
    }
    Map<String, Object> summary = Map.of();
    if (Files.isRegularFile(summaryFile)) {
      try {
        summary = object(jsonParser.apply(Files.readString(summaryFile, StandardCharsets.UTF_8)), "a JSON object");
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(summaryFile + ": " + e.getMessage(), e);
      }
    }
    if (summary.isEmpty() && epochs.isEmpty()) {
      throw new IllegalArgumentException(dir + ": no epochs recorded and no summary.json");
    }
    try {
      Map<String, Object> config = summary.get("config") instanceof Map<?, ?> c ? cast(c)
          : start.get("config") instanceof Map<?, ?> c2 ? cast(c2) : Map.of();
      String model = str(summary, "model", str(config, "model", ""));
      Object pv = summary.containsKey("policy") ? summary.get("policy") : config.get("policy");
      // the policy may be recorded as its name or as Policy.toJsonTree()
      String policyName = pv instanceof Map<?, ?> pm ? String.valueOf(pm.get("name")) : pv == null ? "fp32" : pv.toString();
      long seed = (long) orElse(num(config, "seed", false), 0);
      EpochPoint last = epochs.isEmpty() ? null : epochs.get(epochs.size() - 1);
      double acc = orElse(num(summary, "test_accuracy", false), last == null ? Double.NaN : last.testAccuracy());
      double trainLoss = orElse(num(summary, "train_loss", false), last == null ? Double.NaN : last.trainLoss());
      double testLoss = orElse(num(summary, "test_loss", false), lastTestLoss);
      double seconds = orElse(num(summary, "seconds", false), trainSeconds);
      double[] bits = bits(summary, policyName);
      LinkedHashMap<String, Long> overflows = new LinkedHashMap<>();
      if (summary.get("overflows") instanceof Map<?, ?> o) {
        for (var e : o.entrySet()) {
          if (!(e.getValue() instanceof Number n)) {
            throw new IllegalArgumentException("overflows." + e.getKey() + ": expected a number");
          }
          overflows.put(String.valueOf(e.getKey()), n.longValue());
        }
      }
      return new RunResult(model, policyName, seed, epochs, acc, trainLoss, testLoss, bits[0], bits[1],
          bits[2], overflows, seconds, dir.toString(), num(summary, "accuracy_before_finetune", false),
          energy(summary));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(summaryFile + ": " + e.getMessage(), e);
    }
  }

  private static RunResult.EnergyEstimate energy(Map<String, Object> summary) {
    if (!(summary.get("energy_estimate") instanceof Map<?, ?> e)) return RunResult.EnergyEstimate.NONE;
    Map<String, Object> m = cast(e);
    try {
      return new RunResult.EnergyEstimate(num(m, "per_inference", false), num(m, "per_training_step", false));
    } catch (IllegalArgumentException x) {
      throw new IllegalArgumentException("energy_estimate: " + x.getMessage(), x);
    }
  }

  private static double[] bits(Map<String, Object> summary, String policyName) {
    if (summary.get("bits") instanceof Map<?, ?> b) {
      Map<String, Object> m = cast(b);
      return new double[] {orElse(num(m, "weight", false), 32), orElse(num(m, "activation", false), 32),
          orElse(num(m, "gradient", false), 32)};
    }
    Policy.Bits pb = null;
    if (summary.get("policy_text") instanceof String text) pb = Policy.parse(text, policyName).bits();
    else if (Presets.names().contains(policyName)) pb = Presets.get(policyName).bits();
    return pb == null ? new double[] {32, 32, 32} : new double[] {pb.weight(), pb.activation(), pb.gradient()};
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cast(Map<?, ?> m) {
    return (Map<String, Object>) m;
  }

  private static Map<String, Object> object(Object v, String what) {
    if (v instanceof Map<?, ?> m) return cast(m);
    throw new IllegalArgumentException("expected " + what);
  }

  /** A number field; NaN when absent or null (JSON writes NaN as null); an error when required. */
  private static double num(Map<String, Object> m, String key, boolean required) {
    Object v = m.get(key);
    if (v instanceof Number n) return n.doubleValue();
    if (v == null && !required) return Double.NaN;
    throw new IllegalArgumentException(v == null ? "missing \"" + key + "\"" : "\"" + key + "\": expected a number, got " + v);
  }

  private static String str(Map<String, Object> m, String key, String dflt) {
    Object v = m.get(key);
    return v == null ? dflt : String.valueOf(v);
  }

  private static double orElse(double v, double dflt) {
    return Double.isNaN(v) ? dflt : v;
  }
}
