package dev.lowbit.report;

import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/** The report's plots, rendered headless by XChart into PNG bytes; {@link #xy} and {@link #png} for other reports. */
public final class Charts {

  static {
    // before any AWT class loads: no display is needed or wanted
    System.setProperty("java.awt.headless", "true");
  }

  private Charts() {}

  public static final int WIDTH = 760, HEIGHT = 440;

  /** One rendered plot. */
  public record Png(String title, byte[] bytes, int width, int height) {}

  /**
   * Loss and accuracy curves per policy, final accuracy vs bits per weight, time per policy and,
   * where runs recorded it, the estimated energy per inference per policy.
   */
  static List<Png> render(List<Report.Group> groups, boolean withModel) {
    List<Png> out = new ArrayList<>();
    XYChart loss = xy("Training loss per epoch (mean over seeds)", "epoch", "train loss");
    XYChart acc = xy("Test accuracy per epoch (mean over seeds)", "epoch", "test accuracy (%)");
    XYChart bits = xy("Final test accuracy vs bits per weight", "bits per weight", "test accuracy (%)");
    bits.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    bits.getStyler().setMarkerSize(10);
    for (Report.Group g : groups) {
      String label = g.label(withModel);
      double[][] l = g.curve(EpochPoint::trainLoss);
      if (l[0].length > 0) loss.addSeries(label, l[0], l[1]);
      double[][] a = g.curve(EpochPoint::testAccuracy);
      if (a[0].length > 0) acc.addSeries(label, a[0], scale(a[1], 100));
      double m = g.accuracyMean();
      if (!Double.isNaN(m)) {
        bits.addSeries(label, new double[] {g.bitsWeight()}, new double[] {100 * m},
            new double[] {100 * g.accuracyStd()});
      }
    }
    add(out, "Training loss", loss);
    add(out, "Test accuracy", acc);
    add(out, "Accuracy vs bits per weight", bits);

    // the per-epoch training time where every run recorded it (the speed measure), else wall time
    boolean perEpoch = groups.stream().noneMatch(g -> Double.isNaN(g.epochSecondsMean()));
    java.util.function.ToDoubleFunction<Report.Group> ratioOf = g -> perEpoch
        ? Report.epochTimeRatio(g, groups) : Report.timeRatio(g, groups);
    boolean ratio = groups.stream().anyMatch(g -> !Double.isNaN(ratioOf.applyAsDouble(g)));
    String what = perEpoch ? "Training time per epoch" : "Wall time per run";
    bars(out, ratio ? what + " relative to fp32" : what,
        ratio ? what + " relative to fp32" : what + " (no fp32 run to compare with)",
        ratio ? "time / fp32" : "seconds", groups, withModel,
        g -> ratio ? ratioOf.applyAsDouble(g) : perEpoch ? g.epochSecondsMean() : g.secondsMean());
    bars(out, ENERGY_TITLE, ENERGY_TITLE + " — an estimate", "estimated µJ per inference", groups, withModel,
        Report.Group::energyPerInference);
    return out;
  }

  static final String ENERGY_TITLE = "Estimated energy per inference (arithmetic only, 45 nm table)";

  /**
   * A bar chart of {@code value} per group, the groups where it is NaN left out, added to {@code
   * out} as {@code name} when any group has a value.
   */
  private static void bars(List<Png> out, String name, String title, String yTitle, List<Report.Group> groups,
      boolean withModel, java.util.function.ToDoubleFunction<Report.Group> value) {
    CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title)
        .xAxisTitle("policy").yAxisTitle(yTitle).build();
    style(c.getStyler());
    c.getStyler().setLegendVisible(false);
    List<String> names = new ArrayList<>();
    List<Number> values = new ArrayList<>();
    for (Report.Group g : groups) {
      double v = value.applyAsDouble(g);
      if (Double.isNaN(v)) continue;
      names.add(g.label(withModel));
      values.add(v);
    }
    if (names.isEmpty()) return;
    c.addSeries(yTitle, names, values);
    add(out, name, c);
  }

  /** A line chart in the report's style, legend to the right. */
  public static XYChart xy(String title, String x, String y) {
    XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(x).yAxisTitle(y).build();
    style(c.getStyler());
    c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
    return c;
  }

  private static void style(Styler s) {
    s.setChartBackgroundColor(Color.WHITE);
    s.setAntiAlias(true);
  }

  private static double[] scale(double[] v, double f) {
    double[] o = new double[v.length];
    for (int i = 0; i < v.length; i++) o[i] = v[i] * f;
    return o;
  }

  private static void add(List<Png> out, String title, Chart<?, ?> chart) {
    if (!chart.getSeriesMap().isEmpty()) out.add(png(title, chart));
  }

  /** Renders {@code chart} as PNG. */
  public static Png png(String title, Chart<?, ?> chart) {
    try {
      return new Png(title, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG),
          chart.getWidth(), chart.getHeight());
    } catch (IOException e) {
      throw new UncheckedIOException("rendering the plot '" + title + "'", e);
    }
  }
}
