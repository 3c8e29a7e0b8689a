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
      "elements/s next to System.arraycopy of the same size measured in the same run."
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
      description = "Measured time per case, after a warm-up of at least 1 s that lasts until the JIT has settled (default: ${DEFAULT-VALUE}).")
  double seconds;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
  Path json;

  record Result(String format, String rounding, int size, int threads, double elementsPerSecond,
      double copyElementsPerSecond) {
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
    out.printf(Locale.ROOT, "# quantize benchmark: JDK %s, vector species %d bits, %d thread(s), %.2f s per case%n",
        Runtime.version(), FastQuantize.PREFERRED.vectorBitSize(), threads, seconds);
    out.printf(Locale.ROOT, "%-12s %-13s %10s %14s %10s%n", "format", "rounding", "size", "Melem/s", "vs copy");
    List<Result> results = new ArrayList<>();
    for (int n : sizes) {
      float[] x = new float[n];
      SplittableRandom rnd = new SplittableRandom(1);
      for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
      float[] y = new float[n];
      double copy = rate(n, () -> System.arraycopy(x, 0, y, 0, n));
      out.printf(Locale.ROOT, "%-12s %-13s %10d %14.1f %10s%n", "copy", "-", n, copy / 1e6, "1.00");
      out.flush();
      int[] shape = {n};
      // warm every kernel up once before measuring, so that the first case does not pay for JIT
      for (NumberFormat f : fs) {
        for (Rounding r : rs) {
          try {
            Quantizer q = Quantizer.of(f, r);
            long t0 = System.nanoTime();
            while (System.nanoTime() - t0 < (long) (seconds * 0.5e9)) q.quantize(x, shape, y, 1, 0, threads);
          } catch (IllegalArgumentException e) {
            // reported below
          }
        }
      }
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
          double rate = rate(n, () -> q.quantize(x, shape, y, 1, step[0]++, threads));
          Result res = new Result(f.name(), r.label(), n, threads, rate, copy);
          results.add(res);
          out.printf(Locale.ROOT, "%-12s %-13s %10d %14.1f %10.2f%n", res.format(), res.rounding(), n,
              rate / 1e6, res.ratio());
          out.flush();
        }
      }
    }
    if (json != null) writeJson(results);
  }

  /**
   * Elements per second of {@code body} over a time budget, after a warm-up of at least the budget
   * and at least a second that goes on (up to 10 s) while the rate still climbs by more than 30%
   * from one window to the next: C2 compiles a vector kernel only after enough calls, on a busy
   * machine late, and until then the kernel runs boxed in C1 code, 100x slower at a steady rate.
   */
  private double rate(int n, Runnable body) {
    long budget = (long) (seconds * 1e9);
    long minWarm = Math.max(budget, 1_000_000_000L);
    long start = System.nanoTime();
    double prev = 0;
    while (true) {
      double r = window(n, body, Math.min(budget, 250_000_000L));
      long elapsed = System.nanoTime() - start;
      if ((elapsed >= minWarm && r <= 1.3 * prev) || elapsed >= Math.max(10 * budget, 10_000_000_000L)) break;
      prev = r;
    }
    return window(n, body, budget);
  }

  private static double window(int n, Runnable body, long nanos) {
    long reps = 0;
    long start = System.nanoTime(), now;
    do {
      body.run();
      reps++;
      now = System.nanoTime();
    } while (now - start < nanos);
    return reps * (double) n / ((now - start) * 1e-9);
  }

  private void writeJson(List<Result> results) {
    StringBuilder sb = new StringBuilder("[\n");
    for (int i = 0; i < results.size(); i++) {
      Result r = results.get(i);
      sb.append(String.format(Locale.ROOT,
          "  {\"format\": \"%s\", \"rounding\": \"%s\", \"size\": %d, \"threads\": %d, "
              + "\"elements_per_second\": %.6g, \"copy_elements_per_second\": %.6g, \"ratio_vs_copy\": %.4f}%s%n",
          r.format().replace("\"", "\\\""), r.rounding(), r.size(), r.threads(), r.elementsPerSecond(),
          r.copyElementsPerSecond(), r.ratio(), i + 1 < results.size() ? "," : ""));
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
