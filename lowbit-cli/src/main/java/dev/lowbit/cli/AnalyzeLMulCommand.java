package dev.lowbit.cli;

import dev.lowbit.data.DataLoader;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.format.Formats;
import dev.lowbit.format.MiniFloat;
import dev.lowbit.format.NumberFormat;
import dev.lowbit.io.AtomicFiles;
import dev.lowbit.kernel.Multiplier;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Module;
import dev.lowbit.report.Charts;
import dev.lowbit.report.Report;
import dev.lowbit.train.FineTune;
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
      "With --checkpoint, also pairs captured from a trained model: the operands of every forward product"
          + " (activation x weight, attention's activation x activation) of one training-mode pass over --batch"
          + " training images; --samples random (activation, weight) pairs as single products (exact zeros"
          + " skipped) and, per product, outputs drawn at random as dot products of the product's depth.",
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

  @Option(names = "--checkpoint", paramLabel = "FILE",
      description = "also analyse pairs captured from this checkpoint of lowbit train (.safetensors or its run directory)")
  Path checkpoint;

  @Option(names = "--model", defaultValue = "vit",
      description = "the checkpoint's model: mlp, cnn, resnet or vit (default: ${DEFAULT-VALUE})")
  String model;

  @Option(names = "--batch", defaultValue = "16",
      description = "training images of the captured pass (default: ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--data", description = "directory with the four Fashion-MNIST IDX files (default: Debian's, else embedded)")
  Path data;

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
    Module net = null;
    if (checkpoint != null) {
      Checks.model(model);
      Checks.positive("--batch", batch);
      if (!Files.exists(checkpoint)) {
        throw new IllegalArgumentException("--checkpoint " + checkpoint + ": no such file or directory");
      }
      net = Models.create(model, seed);
      FineTune.loadWeights("--checkpoint", checkpoint, net, model); // before any work: fail fast
    }
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
    List<LMulAnalysis.Stats> captured = List.of();
    if (net != null) {
      err.println("analyze lmul: capturing the forward products of " + model + " on " + batch + " training images");
      err.flush();
      FashionMnist.Splits splits = FashionMnist.load(data);
      Models.checkInputs(model, splits.train(), splits.test());
      DataLoader.Batch one = new DataLoader(splits.train(), Math.min(batch, splits.train().size()), true, seed).batch(1, 0);
      List<ProductCapture.Captured> fwd = ProductCapture.step(net, one).stream()
          .filter(c -> c.product().equals("forward")).toList();
      captured = LMulAnalysis.captured(methods, fwd, n, seed);
      stdout.println("Pairs captured from the forward products of " + model + " (" + checkpoint + ", " + fwd.size()
          + " products; dots: the mean over all products' sampled outputs):");
      stdout.print(capturedTable(captured));
      summary += "; captured from " + model + ":" + capturedSummary(captured);
    }
    stdout.println(summary);
    Files.createDirectories(out);
    List<LMulAnalysis.Stats> allProducts = new ArrayList<>(prods), allDots = new ArrayList<>(dots);
    for (LMulAnalysis.Stats s : captured) (s.source().equals(LMulAnalysis.CAPTURED) ? allProducts : allDots).add(s);
    AtomicFiles.writeString(out.resolve(CSV), csv(allProducts));
    AtomicFiles.writeString(out.resolve(DOTS_CSV), csv(allDots));
    Charts.Png png = Charts.png("L-Mul error vs m", productChart(prods, fmts));
    AtomicFiles.write(out.resolve(PNG), png.bytes());
    Charts.Png dotPng = Charts.png("Dot-product error vs length", dotChart(dots, lengths, fmts));
    AtomicFiles.write(out.resolve(DOTS_PNG), dotPng.bytes());
    AtomicFiles.writeString(out.resolve(HTML), html(n, fmts, prods, lengths, dots, captured, summary, png, dotPng));
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
    return UnpackReport.aligned(rows, i -> i == 0);
  }

  /** Every method's captured single-product error and its mean dot error over all products' outputs. */
  static List<List<String>> capturedCells(List<LMulAnalysis.Stats> captured) {
    List<List<String>> rows = new ArrayList<>();
    for (LMulAnalysis.Stats s : captured) {
      if (!s.source().equals(LMulAnalysis.CAPTURED)) continue;
      double sum = 0;
      long count = 0;
      for (LMulAnalysis.Stats d : captured) {
        if (d.source().startsWith(LMulAnalysis.CAPTURED + " ") && d.method().equals(s.method())) {
          sum += d.mean() * d.count();
          count += d.count();
        }
      }
      rows.add(List.of(s.method().name(), pct(s.mean()), pct(s.max()), pct(s.bias()),
          count == 0 ? "—" : String.format(Locale.ROOT, "%.4f", sum / count)));
    }
    return rows;
  }

  static final List<String> CAPTURED_HEADER = List.of("method", "mean", "max", "bias", "dots");

  static String capturedTable(List<LMulAnalysis.Stats> captured) {
    List<List<String>> rows = new ArrayList<>();
    rows.add(CAPTURED_HEADER);
    rows.addAll(capturedCells(captured));
    return UnpackReport.aligned(rows, i -> i == 0);
  }

  /** " lmul3:rne 6.01%, lmul4:trunc 3.10%, e4m3 3.40%": the captured means of the summary's methods. */
  static String capturedSummary(List<LMulAnalysis.Stats> captured) {
    StringBuilder sb = new StringBuilder();
    for (List<String> r : capturedCells(captured)) {
      if (r.get(0).startsWith("lmul3") || r.get(0).startsWith("lmul4") || !r.get(0).startsWith("lmul")) {
        sb.append(sb.isEmpty() ? " " : ", ").append(r.get(0)).append(' ').append(r.get(1));
      }
    }
    return sb.toString();
  }

  static String capturedHtml(List<LMulAnalysis.Stats> captured) {
    if (captured.isEmpty()) return "";
    StringBuilder sb = new StringBuilder("<h2>Pairs captured from the model</h2>\n<table>\n<tr>");
    for (String h : CAPTURED_HEADER) sb.append("<th>").append(h).append("</th>");
    sb.append("</tr>\n");
    for (List<String> r : capturedCells(captured)) {
      sb.append("<tr>");
      for (int i = 0; i < r.size(); i++) {
        sb.append(i == 0 ? "<td>" : "<td class=\"n\">").append(Report.esc(r.get(i))).append("</td>");
      }
      sb.append("</tr>\n");
    }
    return sb.append("</table>\n").toString();
  }

  static final List<String> CSV_HEADER = List.of("source", "length", "method", "m", "operand_rounding", "format", "samples",
      "mean_error", "max_error", "bias");

  /** One line per (length, method); single products have length 1 and relative errors. */
  static String csv(List<LMulAnalysis.Stats> stats) {
    StringBuilder sb = new StringBuilder(String.join(",", CSV_HEADER)).append('\n');
    for (LMulAnalysis.Stats s : stats) {
      Multiplier.LMul mul = s.method().mul();
      sb.append(String.join(",", List.of(s.source(), Integer.toString(s.length()), s.method().name(),
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
      List<LMulAnalysis.Stats> dots, List<LMulAnalysis.Stats> captured, String summary, Charts.Png png,
      Charts.Png dotPng) {
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
    sb.append("</table>\n").append(capturedHtml(captured)).append("<p>Data: <a href=\"").append(CSV).append("\">").append(CSV).append("</a>, <a href=\"")
        .append(DOTS_CSV).append("\">").append(DOTS_CSV).append("</a>.</p>\n").append(Report.htmlTail());
    return sb.toString();
  }
}
