package dev.lowbit.cli;

import dev.lowbit.io.AtomicFiles;
import dev.lowbit.io.Json;
import dev.lowbit.report.Charts;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;

/**
 * The files of {@code lowbit infer}: {@code summary.json}, {@code confusion.txt} (per-class
 * accuracy and confusion matrix of each model run) and {@code confusion-NAME.png} per run, each
 * written through a temporary file and a rename.
 */
final class InferReport {

  private InferReport() {}

  static final String SUMMARY = "summary.json", TABLE = "confusion.txt";

  /** The PNG of run {@code name}. */
  static String png(String name) {
    return "confusion-" + name + ".png";
  }

  /** Counts of (true class, predicted class) over a test pass. */
  record Confusion(int[][] counts) {
    static Confusion of(int[] labels, int[] predicted, int classes) {
      int[][] c = new int[classes][classes];
      for (int i = 0; i < predicted.length; i++) {
        int p = predicted[i];
        if (p < 0 || p >= classes) throw new IllegalStateException("predicted class " + p + " outside 0.." + (classes - 1));
        c[labels[i]][p]++;
      }
      return new Confusion(c);
    }

    int classes() {
      return counts.length;
    }

    long correct() {
      long n = 0;
      for (int i = 0; i < counts.length; i++) n += counts[i][i];
      return n;
    }

    long total() {
      long n = 0;
      for (int[] row : counts) for (int v : row) n += v;
      return n;
    }

    double accuracy() {
      return total() == 0 ? Double.NaN : (double) correct() / total();
    }

    /** Correct over the images of each true class (NaN for a class with none). */
    double[] perClass() {
      double[] a = new double[counts.length];
      for (int i = 0; i < counts.length; i++) {
        long row = 0;
        for (int v : counts[i]) row += v;
        a[i] = row == 0 ? Double.NaN : (double) counts[i][i] / row;
      }
      return a;
    }

    /** Rows: true class; columns: predicted class; then the class's images and accuracy. */
    String table() {
      int w = Math.max(5, Long.toString(total()).length() + 1);
      StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-6s", "true"));
      for (int j = 0; j < classes(); j++) sb.append(String.format(Locale.ROOT, "%" + w + "s", "p" + j));
      sb.append(String.format(Locale.ROOT, "%" + (w + 2) + "s %9s%n", "images", "accuracy"));
      double[] pc = perClass();
      for (int i = 0; i < classes(); i++) {
        sb.append(String.format(Locale.ROOT, "%-6s", Integer.toString(i)));
        long row = 0;
        for (int j = 0; j < classes(); j++) {
          sb.append(String.format(Locale.ROOT, "%" + w + "d", counts[i][j]));
          row += counts[i][j];
        }
        sb.append(String.format(Locale.ROOT, "%" + (w + 2) + "d %9s%n", row,
            Double.isNaN(pc[i]) ? "-" : String.format(Locale.ROOT, "%.4f", pc[i])));
      }
      return sb.toString();
    }

    Map<String, Object> toJson() {
      LinkedHashMap<String, Object> m = new LinkedHashMap<>();
      m.put("accuracy", accuracy());
      m.put("correct", correct());
      List<Object> pc = new ArrayList<>();
      for (double v : perClass()) pc.add(v);
      m.put("per_class_accuracy", pc);
      List<Object> rows = new ArrayList<>();
      for (int[] r : counts) rows.add(r);
      m.put("confusion", rows);
      return m;
    }
  }

  /** One model's pass: its name in file names ("int", "float"), its title, its summary entries and confusion. */
  record Run(String name, String title, Map<String, Object> facts, Confusion confusion) {}

  /** The confusion matrix as a heat map: predicted class across, true class up. */
  static Charts.Png chart(Run r) {
    int k = r.confusion().classes();
    HeatMapChart c = new HeatMapChartBuilder().width(Charts.WIDTH).height(Charts.HEIGHT + 120)
        .title("Confusion matrix, " + r.title() + String.format(Locale.ROOT, " (accuracy %.2f%%)",
            100 * r.confusion().accuracy()))
        .xAxisTitle("predicted class").yAxisTitle("true class").build();
    c.getStyler().setChartBackgroundColor(Color.WHITE);
    c.getStyler().setShowValue(true);
    c.getStyler().setRangeColors(new Color[] {Color.WHITE, new Color(0x3b, 0x6e, 0xb4)});
    List<Integer> axis = new ArrayList<>();
    for (int i = 0; i < k; i++) axis.add(i);
    List<Number[]> cells = new ArrayList<>();
    for (int t = 0; t < k; t++) {
      for (int p = 0; p < k; p++) cells.add(new Number[] {p, t, r.confusion().counts()[t][p]});
    }
    c.addSeries("images", axis, axis, cells);
    return Charts.png("Confusion matrix, " + r.title(), c);
  }

  /** Writes the summary (with every run's entries and confusion), the text tables and a PNG per run. */
  static void write(Path dir, Map<String, Object> head, List<Run> runs) throws IOException {
    List<Charts.Png> pngs = new ArrayList<>();
    for (Run r : runs) pngs.add(chart(r)); // rendered first: a rendering failure writes nothing
    LinkedHashMap<String, Object> summary = new LinkedHashMap<>(head);
    StringBuilder text = new StringBuilder();
    for (Run r : runs) {
      LinkedHashMap<String, Object> m = new LinkedHashMap<>(r.facts());
      m.putAll(r.confusion().toJson());
      summary.put(r.name(), m);
      text.append(r.title()).append(" (rows: true class, columns: predicted class)\n").append(r.confusion().table())
          .append('\n');
    }
    Files.createDirectories(dir);
    for (int i = 0; i < runs.size(); i++) AtomicFiles.write(dir.resolve(png(runs.get(i).name())), pngs.get(i).bytes());
    AtomicFiles.writeString(dir.resolve(TABLE), text.toString());
    AtomicFiles.writeString(dir.resolve(SUMMARY), Json.write(summary) + "\n");
  }
}
