package dev.lowbit.cli;

import dev.lowbit.format.Formats;
import dev.lowbit.format.MiniFloat;
import dev.lowbit.format.NumberFormat;
import dev.lowbit.io.AtomicFiles;
import dev.lowbit.kernel.Multiplier;
import dev.lowbit.report.Charts;
import dev.lowbit.report.Report;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.markers.SeriesMarkers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lowbit analyze lmul}: the error of L-Mul (Luo and Sun 2024, arXiv 2410.00907) with m = 1..7
 * mantissa bits against exact products, next to the error of minifloat operands multiplied exactly.
 */
@Command(
    name = "lmul",
    mixinStandardHelpOptions = true,
    description = {
      "Error of L-Mul (Luo and Sun, arXiv 2410.00907) with m = 1..7 mantissa bits, operands rounded to nearest"
          + " even (rne) or truncated (trunc), against the exact product of the fp32 inputs (in double), next to the"
          + " error of rounding both operands to each minifloat of --formats (nearest even, subnormals, saturating)"
          + " and multiplying exactly.",
      "Single products: --samples pairs x, y ~ N(0,1) drawn as float32; mean and max of |approx - exact| / |exact|"
          + " and the mean of approx / exact - 1 (bias: > 0 when magnitudes come out too large). Dot products of each --dot-lengths d: --samples / d pairs of N(0,1)"
          + " vectors, products summed in fp32 from +0 along k (as the GEMM with an fp32 accumulator);"
          + " |dot - exact| / sqrt(sum x^2 y^2).",
      "Writes OUT/lmul.csv, OUT/lmul.png (mean error vs m, with the minifloat lines), OUT/dots.csv, OUT/dots.png"
          + " and OUT/index.html."
    })
public final class AnalyzeLMulCommand implements Callable<Integer> {

  static final String CSV = "lmul.csv", PNG = "lmul.png", DOTS_CSV = "dots.csv", DOTS_PNG = "dots.png",
      HTML = "index.html";

  /** The most samples one run takes (single products; dot products use as many elements). */
  static final long MAX_SAMPLES = 1_000_000_000L;

  @Option(names = "--samples", defaultValue = "1e6", paramLabel = "N",
      description = "random pairs of single products, and elements per dot-product length, 1..1e9 (default: ${DEFAULT-VALUE})")
  String samples;

  @Option(names = "--formats", defaultValue = "e4m3,e5m2", paramLabel = "eXmY[,eXmY...]",
      description = "minifloats whose rounded operands are multiplied exactly, for comparison (default: ${DEFAULT-VALUE})")
  String formats;

  @Option(names = "--dot-lengths", defaultValue = "64,256,1024,4096", paramLabel = "D[,D...]",
      description = "dot-product lengths, each 1..1048576 (default: ${DEFAULT-VALUE})")
  String dotLengths;

  @Option(names = "--seed", defaultValue = "0", description = "seed of the random inputs (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--out", description = "output directory (default: runs/analyze-lmul)")
  Path out;

  @Spec CommandSpec spec;

  /** --samples as a count: an integer or a power-of-ten form such as 1e6. */
  static long parseSamples(String s) {
    double v;
    try {
      v = Double.parseDouble(s.strip());
    } catch (NumberFormatException e) {
      v = Double.NaN;
    }
    if (!(v >= 1 && v <= MAX_SAMPLES) || v != Math.rint(v)) {
      throw new IllegalArgumentException("--samples must be a whole number in 1..1e9 (e.g. 1000000 or 1e6), got '" + s + "'");
    }
    return (long) v;
  }

  /** --formats: minifloats, each once, in the order given. */
  static List<MiniFloat> parseFormats(String s) {
    LinkedHashSet<MiniFloat> out = new LinkedHashSet<>();
    for (String t : s.split(",", -1)) {
      String name = t.strip();
      NumberFormat f;
      try {
        f = Formats.parse(name);
      } catch (IllegalArgumentException e) {
        f = null;
      }
      if (!(f instanceof MiniFloat mf)) {
        throw new IllegalArgumentException("--formats: '" + name + "' is not a minifloat; give eXmY names such as"
            + " e4m3,e5m2,e3m4 (comma-separated)");
      }
      out.add(mf);
    }
    return List.copyOf(out);
  }

  /** --dot-lengths: positive lengths, ascending, each once. */
  static int[] parseLengths(String s) {
    java.util.TreeSet<Integer> set = new java.util.TreeSet<>();
    for (String t : s.split(",", -1)) {
      int v;
      try {
        v = Integer.parseInt(t.strip());
      } catch (NumberFormatException e) {
        v = -1;
      }
      if (v < 1 || v > 1 << 20) {
        throw new IllegalArgumentException("--dot-lengths: '" + t.strip() + "' is not a length in 1..1048576;"
            + " give a comma list such as 64,256,1024,4096");
      }
      set.add(v);
    }
    return set.stream().mapToInt(Integer::intValue).toArray();
  }

  @Override
  public Integer call() throws Exception {
    long n = parseSamples(samples);
    List<MiniFloat> fmts = parseFormats(formats);
    int[] lengths = parseLengths(dotLengths);
    if (out == null) out = Path.of("runs", "analyze-lmul");
    Checks.outDir("--out", out);
    PrintWriter stdout = Main.out(spec);
    PrintWriter err = spec.commandLine().getErr();
    List<LMulAnalysis.Method> methods = LMulAnalysis.methods(fmts);
    stdout.printf(Locale.ROOT, "lowbit analyze lmul: %d pairs x, y ~ N(0,1) (seed %d); L-Mul m = %d..%d (rne, trunc)"
        + " vs exact fp32 products; minifloat operands %s multiplied exactly%n", n, seed, LMulAnalysis.MIN_M,
        LMulAnalysis.MAX_M, names(fmts));
    stdout.flush();
    err.println("analyze lmul: single products (" + n + " pairs)");
    err.flush();
    List<LMulAnalysis.Stats> prods = LMulAnalysis.products(methods, n, seed);
    List<LMulAnalysis.Stats> dots = new ArrayList<>();
    for (int i = 0; i < lengths.length; i++) {
      err.println("analyze lmul: dot products of length " + lengths[i] + " (" + (i + 1) + "/" + lengths.length + ")");
      err.flush();
      dots.addAll(LMulAnalysis.dots(methods, new int[] {lengths[i]}, n, seed));
    }
    stdout.print(table(prods, lengths, dots));
    String summary = summary(prods, fmts);
    stdout.println(summary);
    Files.createDirectories(out);
    AtomicFiles.writeString(out.resolve(CSV), csv(prods));
    AtomicFiles.writeString(out.resolve(DOTS_CSV), csv(dots));
    Charts.Png png = Charts.png("L-Mul error vs m", productChart(prods, fmts));
    AtomicFiles.write(out.resolve(PNG), png.bytes());
    Charts.Png dotPng = Charts.png("Dot-product error vs length", dotChart(dots, lengths, fmts));
    AtomicFiles.write(out.resolve(DOTS_PNG), dotPng.bytes());
    AtomicFiles.writeString(out.resolve(HTML), html(n, fmts, prods, lengths, dots, summary, png, dotPng));
    stdout.println("wrote " + out.resolve(CSV) + ", " + out.resolve(PNG) + ", " + out.resolve(DOTS_CSV) + ", "
        + out.resolve(DOTS_PNG) + ", " + out.resolve(HTML));
    stdout.flush();
    return 0;
  }

  private static String names(List<MiniFloat> fmts) {
    return String.join(", ", fmts.stream().map(MiniFloat::name).toList());
  }

  static String pct(double v) {
    return String.format(Locale.ROOT, "%.2f%%", 100 * v);
  }

  /** "mean relative error: lmul3:rne 5.71%, lmul4:trunc 3.02%, ...; e4m3 3.36%, e5m2 6.08%". */
  static String summary(List<LMulAnalysis.Stats> prods, List<MiniFloat> fmts) {
    StringBuilder sb = new StringBuilder("summary: mean relative error of single products:");
    String sep = " ";
    for (String name : List.of("lmul3:rne", "lmul3:trunc", "lmul4:rne", "lmul4:trunc")) {
      sb.append(sep).append(name).append(' ').append(pct(LMulAnalysis.find(prods, name, 1).mean()));
      sep = ", ";
    }
    sep = "; ";
    for (MiniFloat f : fmts) {
      sb.append(sep).append(f.name()).append(' ').append(pct(LMulAnalysis.find(prods, f.name(), 1).mean()));
      sep = ", ";
    }
    return sb.toString();
  }

  /** Single products, then the mean dot-product error per length: aligned text. */
  static String table(List<LMulAnalysis.Stats> prods, int[] lengths, List<LMulAnalysis.Stats> dots) {
    List<String> head = new ArrayList<>(List.of("method", "mean", "max", "bias"));
    for (int d : lengths) head.add("dot " + d);
    List<List<String>> rows = new ArrayList<>();
    rows.add(head);
    for (LMulAnalysis.Stats s : prods) {
      List<String> r = new ArrayList<>(List.of(s.method().name(), pct(s.mean()), pct(s.max()), pct(s.bias())));
      for (int d : lengths) {
        r.add(String.format(Locale.ROOT, "%.4f", LMulAnalysis.find(dots, s.method().name(), d).mean()));
      }
      rows.add(r);
    }
    int[] w = new int[head.size()];
    for (List<String> r : rows) for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], r.get(i).length());
    StringBuilder sb = new StringBuilder();
    for (List<String> r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < w.length; i++) {
        String c = r.get(i), pad = " ".repeat(w[i] - c.length());
        line.append(i == 0 ? c + pad : pad + c).append("  ");
      }
      sb.append(line.toString().stripTrailing()).append('\n');
    }
    return sb.toString();
  }

  static final List<String> CSV_HEADER = List.of("length", "method", "m", "operand_rounding", "format", "samples",
      "mean_error", "max_error", "bias");

  /** One line per (length, method); single products have length 1 and relative errors. */
  static String csv(List<LMulAnalysis.Stats> stats) {
    StringBuilder sb = new StringBuilder(String.join(",", CSV_HEADER)).append('\n');
    for (LMulAnalysis.Stats s : stats) {
      Multiplier.LMul mul = s.method().mul();
      sb.append(String.join(",", List.of(Integer.toString(s.length()), s.method().name(),
          mul == null ? "" : Integer.toString(mul.mantissaBits()),
          mul == null ? "rne" : mul.rounding() == Multiplier.OperandRounding.RNE ? "rne" : "trunc",
          mul == null ? s.method().name() : "", Long.toString(s.count()), Double.toString(s.mean()),
          Double.toString(s.max()), Double.toString(s.bias())))).append('\n');
    }
    return sb.toString();
  }

  /** Mean relative error vs m for both roundings, each minifloat as a flat line. */
  static XYChart productChart(List<LMulAnalysis.Stats> prods, List<MiniFloat> fmts) {
    XYChart c = Charts.xy("L-Mul mean relative error vs mantissa bits m (N(0,1) pairs)", "m", "mean relative error (%)");
    int count = LMulAnalysis.MAX_M - LMulAnalysis.MIN_M + 1;
    double[] x = new double[count];
    for (int i = 0; i < count; i++) x[i] = LMulAnalysis.MIN_M + i;
    for (String r : List.of("rne", "trunc")) {
      double[] y = new double[count];
      for (int i = 0; i < count; i++) y[i] = 100 * LMulAnalysis.find(prods, "lmul" + (int) x[i] + ":" + r, 1).mean();
      c.addSeries("L-Mul, operands " + r, x, y).setMarker(SeriesMarkers.CIRCLE);
    }
    for (MiniFloat f : fmts) {
      double[] y = new double[count];
      java.util.Arrays.fill(y, 100 * LMulAnalysis.find(prods, f.name(), 1).mean());
      c.addSeries(f.name() + " operands, exact product", x, y).setMarker(SeriesMarkers.NONE);
    }
    return c;
  }

  /** Mean normalised dot-product error vs length (log x) for L-Mul m = 3, 4 and the minifloats. */
  static XYChart dotChart(List<LMulAnalysis.Stats> dots, int[] lengths, List<MiniFloat> fmts) {
    XYChart c = Charts.xy("Dot-product error vs length (N(0,1) vectors, fp32 sums)", "length d",
        "mean |error| / sqrt(sum x²y²)");
    if (lengths.length > 1) c.getStyler().setXAxisLogarithmic(true);
    double[] x = new double[lengths.length];
    for (int i = 0; i < lengths.length; i++) x[i] = lengths[i];
    List<String> names = new ArrayList<>(List.of("lmul3:rne", "lmul3:trunc", "lmul4:rne", "lmul4:trunc"));
    for (MiniFloat f : fmts) names.add(f.name());
    for (String name : names) {
      double[] y = new double[lengths.length];
      for (int i = 0; i < lengths.length; i++) y[i] = LMulAnalysis.find(dots, name, lengths[i]).mean();
      c.addSeries(name, x, y).setMarker(SeriesMarkers.CIRCLE);
    }
    return c;
  }

  static String html(long n, List<MiniFloat> fmts, List<LMulAnalysis.Stats> prods, int[] lengths,
      List<LMulAnalysis.Stats> dots, String summary, Charts.Png png, Charts.Png dotPng) {
    StringBuilder sb = new StringBuilder(Report.htmlHead("lowbit analyze lmul"));
    sb.append("<p>L-Mul (Luo and Sun, arXiv 2410.00907) with m = ").append(LMulAnalysis.MIN_M).append("..")
        .append(LMulAnalysis.MAX_M).append(" mantissa bits against the exact product of the fp32 inputs, on ").append(n)
        .append(" pairs x, y ~ N(0,1); next to it, both operands rounded to ").append(Report.esc(names(fmts)))
        .append(" (nearest even, subnormals, saturating) and multiplied exactly. Relative error |approx − exact| /"
            + " |exact|; bias is the mean of approx / exact − 1. Dot products: products summed in fp32 from +0 along k;"
            + " error |dot − exact| / sqrt(Σ x²y²).</p>\n");
    sb.append("<p>").append(Report.esc(summary)).append("</p>\n");
    sb.append("<img alt=\"").append(Report.esc(png.title())).append("\" width=\"").append(png.width())
        .append("\" height=\"").append(png.height()).append("\" src=\"").append(PNG).append("\">\n");
    sb.append("<img alt=\"").append(Report.esc(dotPng.title())).append("\" width=\"").append(dotPng.width())
        .append("\" height=\"").append(dotPng.height()).append("\" src=\"").append(DOTS_PNG).append("\">\n");
    sb.append("<table>\n<tr><th>method</th><th>mean</th><th>max</th><th>bias</th>");
    for (int d : lengths) sb.append("<th>dot ").append(d).append("</th>");
    sb.append("</tr>\n");
    for (LMulAnalysis.Stats s : prods) {
      sb.append("<tr><td>").append(Report.esc(s.method().name())).append("</td><td class=\"n\">").append(pct(s.mean()))
          .append("</td><td class=\"n\">").append(pct(s.max())).append("</td><td class=\"n\">").append(pct(s.bias()))
          .append("</td>");
      for (int d : lengths) {
        sb.append("<td class=\"n\">").append(String.format(Locale.ROOT, "%.4f",
            LMulAnalysis.find(dots, s.method().name(), d).mean())).append("</td>");
      }
      sb.append("</tr>\n");
    }
    sb.append("</table>\n<p>Data: <a href=\"").append(CSV).append("\">").append(CSV).append("</a>, <a href=\"")
        .append(DOTS_CSV).append("\">").append(DOTS_CSV).append("</a>.</p>\n").append(Report.htmlTail());
    return sb.toString();
  }
}
