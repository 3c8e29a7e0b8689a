package dev.lowbit.cli;

import dev.lowbit.format.FastQuantize;
import dev.lowbit.format.NumberFormat;
import dev.lowbit.format.Quantizer;
import dev.lowbit.format.Rounding;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lowbit bench quantize}: elements per second of tensor quantization per format and
 * rounding, next to a plain array copy of the same size measured in the same run.
 */
@Command(
    name = "quantize",
    mixinStandardHelpOptions = true,
    description = {
      "Quantize a float32 tensor (Gaussian values) with each format and rounding and report",
      "elements/s next to System.arraycopy of the same size measured in the same run.",
      "Every case is warmed up until its time per call is steady (consecutive",
      "windows agree, the JIT has stopped compiling) before it is timed; the rate",
      "is the median of 5 timed windows, shown with the best one and the spread."
    })
public final class BenchQuantizeCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--sizes", split = ",", paramLabel = "N[,N...]", defaultValue = "1048576",
      description = "Tensor sizes in elements (default: ${DEFAULT-VALUE}).")
  List<Integer> sizes;

  @Option(names = "--threads", defaultValue = "1", description = "Threads (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--formats", split = ",", paramLabel = "F[,F...]",
      defaultValue = "int8,e4m3,e5m2,mxfp8,mxint8,mxfp4,bf16,fp16,dfp16/b64",
      description = "Format strings (default: ${DEFAULT-VALUE}).")
  List<String> formats;

  @Option(names = "--roundings", split = ",", paramLabel = "R[,R...]",
      defaultValue = "nearest-even,stochastic",
      description = "Roundings (default: ${DEFAULT-VALUE}).")
  List<String> roundings;

  @Option(names = "--seconds", defaultValue = "0.3",
      description = "Measured time per case, split into 5 timed windows, after a warm-up of 1 to max(10, 10 x seconds) s "
          + "that lasts until 5 consecutive windows agree within 10% and the JIT compiles nothing (default: ${DEFAULT-VALUE}).")
  double seconds;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
  Path json;

  record Result(String format, String rounding, int size, int threads, double elementsPerSecond,
      double copyElementsPerSecond, double bestElementsPerSecond, double spread, boolean steady) {
    double ratio() {
      return elementsPerSecond / copyElementsPerSecond;
    }
  }

  @Override
  public void run() {
    if (threads < 1) throw new IllegalArgumentException("--threads " + threads + " must be >= 1");
    if (!(seconds > 0)) throw new IllegalArgumentException("--seconds " + seconds + " must be > 0");
    for (int n : sizes) {
      if (n < 1) throw new IllegalArgumentException("--sizes: size " + n + " must be >= 1");
    }
    List<NumberFormat> fs = new ArrayList<>();
    for (String f : formats) fs.add(NumberFormat.parse(f));
    List<Rounding> rs = new ArrayList<>();
    for (String r : roundings) rs.add(Rounding.parse(r));
    PrintWriter out = spec.commandLine().getOut();
    SteadyRate.Rule rule = SteadyRate.Rule.forSeconds(seconds);
    out.printf(Locale.ROOT, "# quantize benchmark: JDK %s, vector species %d bits, %d thread(s), %.2f s per case%n",
        Runtime.version(), FastQuantize.PREFERRED.vectorBitSize(), threads, seconds);
    out.println(rule.describe());
    // rates are wall-clock rates: on a machine that other work keeps busy they are lower and noisier
    double load = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    out.printf(Locale.ROOT, "# load average %s on %d CPUs at the start%n", load < 0 ? "unknown"
        : String.format(Locale.ROOT, "%.1f", load), Runtime.getRuntime().availableProcessors());
    if (threads == 1) {
      out.println("# cpu: elements per second of the benchmark thread's CPU time (the rate per core on a busy machine)");
    }
    out.printf(Locale.ROOT, "%-12s %-13s %10s %14s %10s %8s %10s %12s%n", "format", "rounding", "size", "Melem/s",
        "best", "spread", "vs copy", "cpu Melem/s");
    List<Result> results = new ArrayList<>();
    for (int n : sizes) {
      float[] x = new float[n];
      SplittableRandom rnd = new SplittableRandom(1);
      for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
      float[] y = new float[n];
      SteadyRate.Result copyRate = SteadyRate.measure(rule, () -> System.arraycopy(x, 0, y, 0, n));
      double copy = copyRate.median() * n;
      print(out, "copy", "-", n, copyRate, n, copy, threads);
      int[] shape = {n};
      for (NumberFormat f : fs) {
        for (Rounding r : rs) {
          Quantizer q;
          try {
            q = Quantizer.of(f, r);
          } catch (IllegalArgumentException e) {
            out.println("# skipped " + f.name() + ": " + e.getMessage());
            continue;
          }
          long[] step = {0};
          SteadyRate.Result m = SteadyRate.measure(rule, () -> q.quantize(x, shape, y, 1, step[0]++, threads));
          results.add(new Result(f.name(), r.label(), n, threads, m.median() * n, copy, m.best() * n, m.spread(), m.steady()));
          print(out, f.name(), r.label(), n, m, n, copy, threads);
        }
      }
    }
    if (json != null) writeJson(results);
  }

  private static void print(PrintWriter out, String format, String rounding, int size, SteadyRate.Result m,
      int n, double copy, int threads) {
    String cpu = threads == 1 && !Double.isNaN(m.cpuMedian()) ? String.format(Locale.ROOT, "%.1f", m.cpuMedian() * n / 1e6) : "-";
    out.printf(Locale.ROOT, "%-12s %-13s %10d %14.1f %10.1f %7.1f%% %10.2f %12s%s%n", format, rounding, size,
        m.median() * n / 1e6, m.best() * n / 1e6, m.spread() * 100, m.median() * n / copy, cpu, m.steady() ? "" : " !");
    out.flush();
  }

  private void writeJson(List<Result> results) {
    StringBuilder sb = new StringBuilder("[\n");
    for (int i = 0; i < results.size(); i++) {
      Result r = results.get(i);
      sb.append(String.format(Locale.ROOT,
          "  {\"format\": \"%s\", \"rounding\": \"%s\", \"size\": %d, \"threads\": %d, "
              + "\"elements_per_second\": %.6g, \"best_elements_per_second\": %.6g, \"spread\": %.4f, "
              + "\"steady\": %s, \"copy_elements_per_second\": %.6g, \"ratio_vs_copy\": %.4f}%s%n",
          r.format().replace("\"", "\\\""), r.rounding(), r.size(), r.threads(), r.elementsPerSecond(),
          r.bestElementsPerSecond(), r.spread(), r.steady(), r.copyElementsPerSecond(), r.ratio(),
          i + 1 < results.size() ? "," : ""));
    }
    sb.append("]\n");
    try {
      Path abs = json.toAbsolutePath();
      Path dir = abs.getParent();
      if (dir != null) Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, abs.getFileName().toString(), ".tmp");
      Files.writeString(tmp, sb, StandardCharsets.UTF_8);
      Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot write " + json + ": " + e.getMessage(), e);
    }
  }
}
