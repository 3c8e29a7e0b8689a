package dev.lowbit.report;

import dev.lowbit.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes the comparison of a set of runs: {@code summary.csv} (one row per run), {@code
 * summary.md} (one row per model and policy: accuracy mean ± sample standard deviation over
 * seeds, loss, bits, overflow events, time and its ratio to the fp32 runs of the same model, the
 * estimated energy per inference and per training step) and a
 * self-contained {@code report.html} (the same tables and PNG plots as data URIs; no external
 * references). Every file goes through a temporary file and a rename.
 */
public final class Report {

  private Report() {}

  /** The reference policy for time ratios. */
  public static final String REFERENCE_POLICY = "fp32";

  /** Runs of one (model, policy), in input order. */
  public record Group(String model, String policy, List<RunResult> runs) {
    /** The label in tables and plots: the policy, prefixed by the model when several models are compared. */
    public String label(boolean withModel) {
      return withModel && !model.isEmpty() ? model + "/" + policy : policy;
    }

    public double accuracyMean() {
      return mean(runs.stream().mapToDouble(RunResult::finalTestAccuracy).toArray());
    }

    /** Sample standard deviation (n − 1); 0 for one run. */
    public double accuracyStd() {
      return std(runs.stream().mapToDouble(RunResult::finalTestAccuracy).toArray());
    }

    /** Mean accuracy before fine-tuning over the runs that were fine-tuned; NaN when none was. */
    public double beforeFinetuneMean() {
      return mean(runs.stream().mapToDouble(RunResult::accuracyBeforeFinetune).filter(v -> !Double.isNaN(v)).toArray());
    }

    public double trainLossMean() {
      return mean(runs.stream().mapToDouble(RunResult::finalTrainLoss).toArray());
    }

    public double secondsMean() {
      return mean(runs.stream().mapToDouble(RunResult::wallSeconds).toArray());
    }

    /** Mean over the runs of their mean training time per epoch; NaN when a run recorded none. */
    public double epochSecondsMean() {
      return mean(runs.stream().mapToDouble(RunResult::epochSecondsMean).toArray());
    }

    public double bitsWeight() {
      return mean(runs.stream().mapToDouble(RunResult::bitsWeight).toArray());
    }

    public double bitsActivation() {
      return mean(runs.stream().mapToDouble(RunResult::bitsActivation).toArray());
    }

    public double bitsGradient() {
      return mean(runs.stream().mapToDouble(RunResult::bitsGradient).toArray());
    }

    /** Mean estimated energy per inference in µJ over the runs that recorded one; NaN when none did. */
    public double energyPerInference() {
      return mean(runs.stream().mapToDouble(r -> r.energy().perInferenceUj()).toArray());
    }

    /** Mean estimated energy per training step in µJ over the runs that recorded one; NaN when none did. */
    public double energyPerTrainingStep() {
      return mean(runs.stream().mapToDouble(r -> r.energy().perTrainingStepUj()).toArray());
    }

    /** Event counts summed over the group's runs, by name. */
    public Map<String, Long> overflows() {
      TreeMap<String, Long> m = new TreeMap<>();
      for (RunResult r : runs) r.overflows().forEach((k, v) -> m.merge(k, v, Long::sum));
      return m;
    }

    /** Mean over seeds of a per-epoch value, for epochs 1..max; NaN where no run has the epoch. */
    double[][] curve(java.util.function.ToDoubleFunction<EpochPoint> f) {
      TreeMap<Integer, double[]> acc = new TreeMap<>();
      for (RunResult r : runs) {
        for (EpochPoint p : r.epochs()) {
          double v = f.applyAsDouble(p);
          if (Double.isNaN(v)) continue;
          double[] s = acc.computeIfAbsent(p.epoch(), k -> new double[2]);
          s[0] += v;
          s[1]++;
        }
      }
      double[] x = new double[acc.size()], y = new double[acc.size()];
      int i = 0;
      for (var e : acc.entrySet()) {
        x[i] = e.getKey();
        y[i++] = e.getValue()[0] / e.getValue()[1];
      }
      return new double[][] {x, y};
    }
  }

  /** Groups runs by (model, policy) in order of first appearance. */
  public static List<Group> groups(List<RunResult> runs) {
    LinkedHashMap<List<String>, List<RunResult>> m = new LinkedHashMap<>();
    for (RunResult r : runs) m.computeIfAbsent(List.of(r.model(), r.policy()), k -> new ArrayList<>()).add(r);
    List<Group> out = new ArrayList<>();
    m.forEach((k, v) -> out.add(new Group(k.get(0), k.get(1), List.copyOf(v))));
    return out;
  }

  /** Mean time of the group over the mean time of the fp32 group of the same model; NaN without one. */
  public static double timeRatio(Group g, List<Group> all) {
    return ratioToReference(g, all, Group::secondsMean);
  }

  /**
   * The group's mean training time per epoch over the fp32 group's (same model): the per-epoch
   * time ratio, without start-up, warm-up and evaluation; NaN without an fp32 group or epoch times.
   */
  public static double epochTimeRatio(Group g, List<Group> all) {
    return ratioToReference(g, all, Group::epochSecondsMean);
  }

  private static double ratioToReference(Group g, List<Group> all, java.util.function.ToDoubleFunction<Group> time) {
    for (Group ref : all) {
      if (ref.model().equals(g.model()) && ref.policy().equalsIgnoreCase(REFERENCE_POLICY)) {
        double t = time.applyAsDouble(ref);
        return t > 0 ? time.applyAsDouble(g) / t : Double.NaN;
      }
    }
    return Double.NaN;
  }

  /** Writes summary.csv, summary.md and report.html into {@code dir}. */
  public static void write(List<RunResult> runs, Path dir) throws IOException {
    write(runs, List.of(), dir);
  }

  /**
   * Writes summary.csv, summary.md and report.html into {@code dir}; {@code missing} lists the
   * runs that belong to the comparison but are not in it ("int8 seed 2: failed: ..."), in a
   * section "Not in this report" of summary.md and report.html, so none is left out silently.
   */
  public static void write(List<RunResult> runs, List<String> missing, Path dir) throws IOException {
    if (runs.isEmpty()) throw new IllegalArgumentException("no runs to report");
    AtomicFiles.writeString(dir.resolve("summary.csv"), csv(runs));
    StringBuilder md = new StringBuilder(markdown(runs));
    if (!missing.isEmpty()) {
      md.append("\n## Not in this report\n\n");
      for (String m : missing) md.append("- ").append(m).append('\n');
    }
    AtomicFiles.writeString(dir.resolve("summary.md"), md.toString());
    String html = html(runs);
    if (!missing.isEmpty()) {
      StringBuilder h = new StringBuilder("<h2>Not in this report</h2>\n<ul>\n");
      for (String m : missing) h.append("<li>").append(esc(m)).append("</li>\n");
      h.append("</ul>\n");
      int at = html.indexOf("<h2>Summary by policy</h2>");
      html = html.substring(0, at) + h + html.substring(at);
    }
    AtomicFiles.writeString(dir.resolve("report.html"), html);
  }

  // ---- CSV ----------------------------------------------------------------------------------------

  /** One row per run. */
  public static String csv(List<RunResult> runs) {
    StringBuilder sb = new StringBuilder("model,policy,seed,epochs,final_test_accuracy,final_train_loss,"
        + "final_test_loss,bits_weight,bits_activation,bits_gradient,overflows,wall_s,source,"
        + "accuracy_before_finetune,epoch_train_s,est_energy_inference_uj,est_energy_training_step_uj\n");
    for (RunResult r : runs) {
      StringBuilder ov = new StringBuilder();
      new TreeMap<>(r.overflows()).forEach((k, v) -> ov.append(ov.isEmpty() ? "" : ";").append(k).append('=').append(v));
      List<String> cells = List.of(r.model(), r.policy(), Long.toString(r.seed()),
          Integer.toString(r.epochs().size()), num(r.finalTestAccuracy()), num(r.finalTrainLoss()),
          num(r.finalTestLoss()), num(r.bitsWeight()), num(r.bitsActivation()), num(r.bitsGradient()),
          ov.toString(), num(r.wallSeconds()), r.source(), num(r.accuracyBeforeFinetune()), num(r.epochSecondsMean()),
          num(r.energy().perInferenceUj()), num(r.energy().perTrainingStepUj()));
      for (int i = 0; i < cells.size(); i++) {
        if (i > 0) sb.append(',');
        sb.append(csvCell(cells.get(i)));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "" : Double.toString(v);
  }

  private static String csvCell(String s) {
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0) return s;
    return '"' + s.replace("\"", "\"\"") + '"';
  }

  // ---- tables -------------------------------------------------------------------------------------

  private static final List<String> HEADER = List.of("policy", "runs", "test accuracy (%)",
      "train loss", "bits W/A/G", "overflow events", "time (s)", "time / fp32", "epoch (s)", "epoch / fp32",
      "est. energy / inference (µJ, 45 nm)", "est. energy / training step (µJ, 45 nm)");

  /** What the energy columns are, in the explanatory paragraph of summary.md and report.html. */
  static final String ENERGY_NOTE = "The energy columns are estimates, not measurements: the operation counts "
      + "of the products (multiplies and accumulate adds by kind and bit width) × a per-operation table of 45 nm "
      + "figures (Horowitz, ISSCC 2014), arithmetic only, per inference (one image, forward) and per training "
      + "step (forward and backward products of one batch); see docs/methods/lmul.md (— where a run recorded none).";

  /** Rows of the summary table: one per group, cells as text. */
  static List<List<String>> rows(List<RunResult> runs) {
    List<Group> gs = groups(runs);
    boolean models = gs.stream().map(Group::model).distinct().count() > 1;
    List<List<String>> rows = new ArrayList<>();
    for (Group g : gs) {
      double ratio = timeRatio(g, gs), epochRatio = epochTimeRatio(g, gs);
      rows.add(List.of(g.label(models), Integer.toString(g.runs().size()),
          fmt("%.2f ± %.2f", 100 * g.accuracyMean(), 100 * g.accuracyStd()) + beforeText(g.beforeFinetuneMean()),
          fmt("%.4f", g.trainLossMean()),
          bits(g.bitsWeight()) + " / " + bits(g.bitsActivation()) + " / " + bits(g.bitsGradient()),
          overflowText(g.overflows()), fmt("%.1f", g.secondsMean()),
          Double.isNaN(ratio) ? "—" : fmt("%.2f×", ratio), fmt("%.2f", g.epochSecondsMean()),
          Double.isNaN(epochRatio) ? "—" : fmt("%.2f×", epochRatio),
          fmt("%.3g", g.energyPerInference()), fmt("%.3g", g.energyPerTrainingStep())));
    }
    return rows;
  }

  /** " (before fine-tune 69.05)" for fine-tuned runs (narrow accumulators, §3.4), else "". */
  private static String beforeText(double before) {
    return Double.isNaN(before) ? "" : fmt(" (before fine-tune %.2f)", 100 * before);
  }

  private static String overflowText(Map<String, Long> m) {
    if (m.isEmpty()) return "0";
    StringBuilder sb = new StringBuilder();
    m.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append(' ').append(v));
    return sb.toString();
  }

  private static String bits(double b) {
    return b == Math.rint(b) ? Long.toString((long) b) : fmt("%.2f", b);
  }

  private static String fmt(String f, Object... a) {
    return Double.isNaN(a[0] instanceof Double d ? d : 0) ? "—" : String.format(Locale.ROOT, f, a);
  }

  /** The Markdown summary. */
  public static String markdown(List<RunResult> runs) {
    StringBuilder sb = new StringBuilder("# lowbit report\n\n");
    sb.append(runs.size()).append(" runs. Accuracy is the final test accuracy, mean ± sample standard "
        + "deviation over seeds; loss the final training loss (mean); bits per weight / activation / "
        + "gradient; overflow events summed over the runs; time is the mean wall time per run (start-up, "
        + "warm-up and evaluation included), epoch the mean training time per epoch (the per-epoch ratio "
        + "to fp32 is the speed measure). " + ENERGY_NOTE + "\n\n");
    sb.append("| ").append(String.join(" | ", HEADER)).append(" |\n|");
    for (int i = 0; i < HEADER.size(); i++) sb.append(i < 2 ? "---|" : "--:|");
    sb.append('\n');
    for (List<String> row : rows(runs)) {
      sb.append("| ");
      for (int i = 0; i < row.size(); i++) sb.append(i > 0 ? " | " : "").append(row.get(i).replace("|", "\\|"));
      sb.append(" |\n");
    }
    return sb.toString();
  }

  // ---- HTML ---------------------------------------------------------------------------------------

  /** The self-contained HTML report. */
  public static String html(List<RunResult> runs) {
    List<Group> gs = groups(runs);
    boolean models = gs.stream().map(Group::model).distinct().count() > 1;
    StringBuilder sb = new StringBuilder(htmlHead("lowbit report")).append("<p>");
    sb.append(runs.size()).append(" runs, generated ")
        .append(esc(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME))).append(".</p>\n");
    sb.append("<h2>Summary by policy</h2>\n<p>Final test accuracy: mean ± sample standard deviation over "
        + "seeds. Time ratios over the fp32 runs' (— without fp32 runs): mean wall time per run (start-up, warm-up "
        + "and evaluation included) and mean training time per epoch, the speed measure. " + esc(ENERGY_NOTE)
        + "</p>\n<table>\n<tr>");
    for (String h : HEADER) sb.append("<th>").append(esc(h)).append("</th>");
    sb.append("</tr>\n");
    for (List<String> row : rows(runs)) {
      sb.append("<tr>");
      for (int i = 0; i < row.size(); i++) {
        sb.append(i < 2 ? "<td>" : "<td class=\"n\">").append(esc(row.get(i))).append("</td>");
      }
      sb.append("</tr>\n");
    }
    sb.append("</table>\n<h2>Plots</h2>\n");
    for (Charts.Png png : Charts.render(gs, models)) {
      sb.append("<h3>").append(esc(png.title())).append("</h3>\n<img alt=\"").append(esc(png.title()))
          .append("\" width=\"").append(png.width()).append("\" height=\"").append(png.height())
          .append("\" src=\"data:image/png;base64,")
          .append(Base64.getEncoder().encodeToString(png.bytes())).append("\">\n");
    }
    sb.append("<h2>Runs</h2>\n<table>\n<tr><th>model</th><th>policy</th><th>seed</th><th>epochs</th>"
        + "<th>test accuracy (%)</th><th>train loss</th><th>test loss</th><th>overflow events</th>"
        + "<th>time (s)</th><th>directory</th></tr>\n");
    for (RunResult r : runs) {
      sb.append("<tr><td>").append(esc(r.model())).append("</td><td>").append(esc(r.policy()))
          .append("</td><td class=\"n\">").append(r.seed()).append("</td><td class=\"n\">")
          .append(r.epochs().size()).append("</td><td class=\"n\">")
          .append(esc(fmt("%.2f", 100 * r.finalTestAccuracy()) + beforeText(r.accuracyBeforeFinetune())))
          .append("</td><td class=\"n\">")
          .append(esc(fmt("%.4f", r.finalTrainLoss()))).append("</td><td class=\"n\">")
          .append(esc(fmt("%.4f", r.finalTestLoss()))).append("</td><td class=\"n\">")
          .append(r.overflowTotal()).append("</td><td class=\"n\">")
          .append(esc(fmt("%.1f", r.wallSeconds()))).append("</td><td>").append(esc(r.source()))
          .append("</td></tr>\n");
    }
    sb.append("</table>\n").append(htmlTail());
    return sb.toString();
  }

  /** The end of a report page: a script that marks how many of its images decoded, then the closing tags. */
  public static String htmlTail() {
    // lets a headless browser (and the tests) confirm that every plot decoded
    return "<script>\nwindow.addEventListener('load', function () {\n"
        + "  var imgs = document.images, ok = 0;\n"
        + "  for (var i = 0; i < imgs.length; i++) if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;\n"
        + "  document.documentElement.setAttribute('data-images-loaded', ok + '/' + imgs.length);\n"
        + "});\n</script>\n</body>\n</html>\n";
  }

  /** The start of a report page in this report's style: doctype, head with the styles, body and the title as h1. */
  public static String htmlHead(String title) {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + esc(title)
        + "</title>\n<style>\n"
        + "body{font-family:sans-serif;margin:2em;max-width:1100px;color:#222}\n"
        + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px}\n"
        + "td.n{text-align:right}th{background:#eee}img{display:block;margin:1em 0;max-width:100%}\n"
        + "</style>\n</head>\n<body>\n<h1>" + esc(title) + "</h1>\n";
  }

  /** {@code s} with the HTML special characters escaped. */
  public static String esc(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '&' -> sb.append("&amp;");
        case '"' -> sb.append("&quot;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }

  // ---- statistics ---------------------------------------------------------------------------------

  static double mean(double[] v) {
    double s = 0;
    int n = 0;
    for (double x : v) {
      if (Double.isNaN(x)) continue;
      s += x;
      n++;
    }
    return n == 0 ? Double.NaN : s / n;
  }

  static double std(double[] v) {
    double m = mean(v), s = 0;
    int n = 0;
    for (double x : v) {
      if (Double.isNaN(x)) continue;
      s += (x - m) * (x - m);
      n++;
    }
    return n == 0 ? Double.NaN : n == 1 ? 0 : Math.sqrt(s / (n - 1));
  }
}
