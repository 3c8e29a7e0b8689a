package dev.lowbit.cli;

import dev.lowbit.io.AtomicFiles;
import dev.lowbit.report.Charts;
import dev.lowbit.report.Report;
import dev.lowbit.unpack.Strategy;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The files of {@code lowbit unpack}: {@code unpack.csv}, {@code unpack-ratio.png} and an {@code
 * index.html} with the plot and the table in the sweep report's style; each written through a
 * temporary file and a rename.
 */
final class UnpackReport {

  private UnpackReport() {}

  static final String CSV = "unpack.csv", PNG = "unpack-ratio.png", HTML = "index.html";

  static final List<String> CSV_HEADER = List.of("model", "layer", "product", "calls", "m", "k", "n", "macs", "bits",
      "heavy_a", "heavy_b", "ratio_row", "ratio_column", "ratio_both", "pick", "ratio_pick");

  static final List<String> TABLE_HEADER = List.of("layer", "product", "m×k×n", "b", "heavy A %", "heavy B %",
      "row", "column", "both", "pick");

  /** The strategies in the order of the tables' columns. */
  static final List<Strategy> ORDER = List.of(Strategy.ROW, Strategy.COLUMN, Strategy.BOTH);

  /** What the page says about the run above its plot and table. */
  record Context(String model, String weights, String setup, String note) {}

  static void write(Path dir, Context ctx, List<UnpackAnalysis.Row> rows, int[] bits) throws IOException {
    AtomicFiles.writeString(dir.resolve(CSV), csv(ctx.model(), rows));
    Charts.Png png = Charts.png("Unpack ratio vs bits", chart(rows, bits));
    AtomicFiles.write(dir.resolve(PNG), png.bytes());
    AtomicFiles.writeString(dir.resolve(HTML), html(ctx, rows, bits, png));
  }

  static String csv(String model, List<UnpackAnalysis.Row> rows) {
    StringBuilder sb = new StringBuilder(String.join(",", CSV_HEADER)).append('\n');
    for (UnpackAnalysis.Row r : rows) {
      List<String> c = List.of(model, r.layer(), r.product(), Integer.toString(r.calls()), Integer.toString(r.m()),
          Integer.toString(r.k()), Integer.toString(r.n()), Long.toString(r.macs()), Integer.toString(r.bits()),
          num(r.heavyA()), num(r.heavyB()), num(r.ratio(Strategy.ROW)), num(r.ratio(Strategy.COLUMN)),
          num(r.ratio(Strategy.BOTH)), r.pick().spec(), num(r.pickRatio()));
      sb.append(String.join(",", c)).append('\n');
    }
    return sb.toString();
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "" : Double.toString(v);
  }

  /** The cells of the table, one row per (product, b). */
  static List<List<String>> cells(List<UnpackAnalysis.Row> rows) {
    List<List<String>> out = new ArrayList<>();
    for (UnpackAnalysis.Row r : rows) {
      String shape = r.m() + "×" + r.k() + "×" + r.n() + (r.calls() > 1 ? " (×" + r.calls() + ")" : "");
      out.add(List.of(r.layer(), r.product(), shape, Integer.toString(r.bits()), fmt("%.2f", 100 * r.heavyA()),
          fmt("%.2f", 100 * r.heavyB()), ratio(r.ratio(Strategy.ROW)), ratio(r.ratio(Strategy.COLUMN)),
          r.bothSkipped() ? "skipped" : ratio(r.ratio(Strategy.BOTH)), r.pick().spec()));
    }
    return out;
  }

  static String ratio(double v) {
    return Double.isNaN(v) ? "—" : fmt("%.3f", v);
  }

  static String fmt(String f, Object... a) {
    return String.format(Locale.ROOT, f, a);
  }

  /** The table as aligned text: text columns left, numbers right. */
  static String table(List<UnpackAnalysis.Row> rows) {
    List<List<String>> all = new ArrayList<>();
    all.add(TABLE_HEADER);
    all.addAll(cells(rows));
    return aligned(all, i -> i < 3 || i == TABLE_HEADER.size() - 1);
  }

  /** Rows of cells as aligned text, two spaces apart: the columns {@code left} names left, the others right. */
  static String aligned(List<List<String>> all, java.util.function.IntPredicate left) {
    int[] w = new int[all.get(0).size()];
    for (List<String> r : all) for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], r.get(i).length());
    StringBuilder sb = new StringBuilder();
    for (List<String> r : all) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < w.length; i++) {
        String c = r.get(i), pad = " ".repeat(w[i] - c.length());
        line.append(left.test(i) ? c + pad : pad + c).append("  ");
      }
      sb.append(line.toString().stripTrailing()).append('\n');
    }
    return sb.toString();
  }

  /** "b=3 1.234, b=4 1.050": the MAC-weighted ratio of the chooser's picks at each b. */
  static String summary(List<UnpackAnalysis.Row> rows, int[] bits) {
    StringBuilder sb = new StringBuilder();
    for (int b : bits) {
      sb.append(sb.isEmpty() ? "" : ", ").append("b=").append(b).append(' ')
          .append(ratio(UnpackAnalysis.overall(rows, b, null)));
    }
    return sb.toString();
  }

  /** Ratio vs b, MAC-weighted over all products: one series per strategy and the chooser's; log y. */
  static XYChart chart(List<UnpackAnalysis.Row> rows, int[] bits) {
    XYChart c = Charts.xy("Unpack ratio vs bits (MAC-weighted over all products)", "bits b", "unpack ratio");
    c.getStyler().setYAxisLogarithmic(true);
    double[] x = new double[bits.length];
    for (int i = 0; i < bits.length; i++) x[i] = bits[i];
    List<Strategy> series = new ArrayList<>(ORDER);
    series.add(null);
    for (Strategy s : series) {
      double[] y = new double[bits.length];
      boolean ok = true;
      for (int i = 0; i < bits.length; i++) {
        y[i] = UnpackAnalysis.overall(rows, bits[i], s);
        ok &= !Double.isNaN(y[i]);
      }
      if (ok) c.addSeries(s == null ? "chooser" : s.spec(), x, y).setMarker(SeriesMarkers.CIRCLE);
    }
    return c;
  }

  static String html(Context ctx, List<UnpackAnalysis.Row> rows, int[] bits, Charts.Png png) {
    StringBuilder sb = new StringBuilder(Report.htmlHead("lowbit unpack: " + ctx.model()));
    sb.append("<p>IM-Unpack (Zeng, Sankaralingam, Singh, ICML 2024) on one training step's products of ")
        .append(Report.esc(ctx.model())).append(" (").append(Report.esc(ctx.weights())).append("). ")
        .append(Report.esc(ctx.setup())).append("</p>\n");
    if (!ctx.note().isEmpty()) sb.append("<p>").append(Report.esc(ctx.note())).append("</p>\n");
    sb.append("<h2>Overall</h2>\n<p>MAC-weighted unpack ratio of the chooser's picks: ")
        .append(Report.esc(summary(rows, bits))).append(".</p>\n<table>\n<tr><th>b</th>");
    for (Strategy s : ORDER) sb.append("<th>").append(s.spec()).append("</th>");
    sb.append("<th>chooser</th></tr>\n");
    for (int b : bits) {
      sb.append("<tr><td class=\"n\">").append(b).append("</td>");
      for (Strategy s : ORDER) {
        sb.append("<td class=\"n\">").append(ratio(UnpackAnalysis.overall(rows, b, s))).append("</td>");
      }
      sb.append("<td class=\"n\">").append(ratio(UnpackAnalysis.overall(rows, b, null))).append("</td></tr>\n");
    }
    sb.append("</table>\n<img alt=\"").append(Report.esc(png.title())).append("\" width=\"").append(png.width())
        .append("\" height=\"").append(png.height()).append("\" src=\"").append(PNG).append("\">\n");
    sb.append("<h2>Products</h2>\n<p>Heavy hitters: entries with |x| ≥ 2^(b-1). Ratio: multiply-accumulates of the"
        + " b-bit GEMMs over the original product's (n'·d'·m' / n·d·m).</p>\n<table>\n<tr>");
    for (String h : TABLE_HEADER) sb.append("<th>").append(Report.esc(h)).append("</th>");
    sb.append("</tr>\n");
    for (List<String> r : cells(rows)) {
      sb.append("<tr>");
      for (int i = 0; i < r.size(); i++) {
        sb.append(i < 3 || i == r.size() - 1 ? "<td>" : "<td class=\"n\">").append(Report.esc(r.get(i))).append("</td>");
      }
      sb.append("</tr>\n");
    }
    sb.append("</table>\n").append(Report.htmlTail());
    return sb.toString();
  }
}
