package dev.lowbit.cli;

import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.onednn.OneDnnGemm;
import dev.lowbit.unpack.IntMatrix;
import dev.lowbit.unpack.Strategy;
import dev.lowbit.unpack.UnpackedGemm;
import dev.lowbit.unpack.UnpackedProduct;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lowbit bench unpack}: the exact GEMM by IM-Unpack (unpack, b-bit GEMMs, recombination)
 * against the plain int8 GEMM of the same shape, measured interleaved in one run, for shapes ×
 * heavy-hitter fractions × bit widths. Every configuration is checked against an exact product
 * before it is timed.
 */
@Command(
    name = "unpack",
    mixinStandardHelpOptions = true,
    description = {
      "Times IM-Unpack's exact GEMM C = A·B (A m×k, B k×n): unpacking, the b-bit GEMMs with their"
          + " recombination into int64, and both together, next to the plain s8×s8 GEMM of the same"
          + " shape on the same kernel, all interleaved in one run.",
      "Operands: entries uniform in ±(2^(b-1)-1), and the given fraction of each matrix's entries"
          + " heavy hitters of magnitude 2^(b-1)..max(127, 2^b-1) with a random sign (seeded);"
          + " the plain GEMM runs on the same matrices clipped to int8.",
      "Goals (the issue's): total ≤ 1.2 × unpack ratio × plain, and unpacking ≤ 10% of the total at 1024²."
    })
public final class BenchUnpackCommand implements Callable<Integer> {

  /** The total may take this many times the unpack ratio times the plain GEMM. */
  static final double TOTAL_GOAL = 1.2;
  /** Unpacking may take this share of the total at 1024². */
  static final double UNPACK_SHARE_GOAL = 0.10;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin BackendOption backend;

  @Option(names = "--shapes", split = ",", paramLabel = "MxKxN[,...]",
      defaultValue = "1024x1024x1024,256x768x3072,512x512x512",
      description = "GEMM shapes m×k×n: A is m×k, B k×n (default: ${DEFAULT-VALUE}).")
  List<String> shapes;

  @Option(names = "--heavy", split = ",", paramLabel = "F[,F...]", defaultValue = "0.001,0.01,0.05",
      description = "Fractions of each operand's entries that are heavy hitters, in [0, 1) (default: ${DEFAULT-VALUE}).")
  List<Double> heavy;

  @Option(names = "--bits", split = ",", paramLabel = "B[,B...]", defaultValue = "4",
      description = "Bit widths of the unpacked GEMMs, 2..8 (default: ${DEFAULT-VALUE}).")
  List<Integer> bits;

  @Option(names = "--strategy", paramLabel = "auto|column|row|both", defaultValue = "auto",
      description = "Unpacking strategy; auto: the one with the smallest unpack ratio (UnpackedGemm.choose) (default: ${DEFAULT-VALUE}).")
  String strategy;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the operands (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--outliers", paramLabel = "scattered|channels", defaultValue = "scattered",
      description = "Where the heavy hitters sit: scattered (uniformly over all entries, the hard case) or channels"
          + " (whole columns of A and whole rows of B, as outlier channels of activations) (default: ${DEFAULT-VALUE}).")
  String outliers;

  @Option(names = "--seconds", paramLabel = "SECONDS", defaultValue = "1.0",
      description = "Timed seconds per measurement, after a warm-up to a steady rate (default: ${DEFAULT-VALUE}).")
  double seconds;

  /** A GEMM shape: A is m×k, B is k×n. */
  record Shape(int m, int k, int n) {
    String label() {
      return m + "x" + k + "x" + n;
    }

    static Shape parse(String s) {
      String[] p = s.strip().toLowerCase(Locale.ROOT).split("x", -1);
      int[] v = new int[3];
      boolean ok = p.length == 3;
      for (int i = 0; ok && i < 3; i++) {
        try {
          v[i] = Integer.parseInt(p[i].strip());
        } catch (NumberFormatException e) {
          ok = false;
        }
        ok &= v[i] >= 1 && v[i] <= 16384;
      }
      if (!ok) {
        throw new IllegalArgumentException("--shapes: '" + s.strip() + "' is not a shape; give MxKxN with each in 1..16384,"
            + " e.g. 1024x1024x1024");
      }
      return new Shape(v[0], v[1], v[2]);
    }
  }

  /** One configuration's figures, seconds from the medians of interleaved calls. */
  record Row(Shape shape, double fraction, int bits, Strategy strategy, double ratio, double unpack, double gemms,
      double total, double plain, boolean steady) {
    /** Total over plain, divided by the unpack ratio: the goal is ≤ {@link #TOTAL_GOAL}. */
    double overhead() {
      return total / plain / ratio;
    }

    double unpackShare() {
      return unpack / total;
    }

    boolean square1024() {
      return shape.m() == 1024 && shape.k() == 1024 && shape.n() == 1024;
    }
  }

  @Override
  public Integer call() {
    List<Shape> ss = shapes.stream().map(Shape::parse).toList();
    for (double f : heavy) {
      if (!(f >= 0 && f < 1)) {
        throw new IllegalArgumentException("--heavy: fraction " + f + " is not in [0, 1); e.g. 0.001,0.01,0.05");
      }
    }
    for (int b : bits) {
      if (b < 2 || b > 8) throw new IllegalArgumentException("--bits: " + b + " is not a bit width in 2..8");
    }
    Strategy fixed = strategy.strip().equalsIgnoreCase("auto") ? null : Strategy.parse(strategy);
    boolean channels = switch (outliers.strip().toLowerCase(Locale.ROOT)) {
      case "scattered" -> false;
      case "channels" -> true;
      default -> throw new IllegalArgumentException("--outliers: '" + outliers + "'; valid: scattered, channels");
    };
    if (!(seconds > 0) || seconds > 600) {
      throw new IllegalArgumentException("--seconds must be in (0, 600], got " + seconds);
    }
    Gemm gemm = backend.apply();
    PrintWriter out = spec.commandLine().getOut();
    out.printf(Locale.ROOT, "# IM-Unpack GEMM vs plain s8s8 on %s; CPU %s, %d processors, JDK %s%n", describe(gemm),
        cpuName(), Runtime.getRuntime().availableProcessors(), Runtime.version());
    out.printf(Locale.ROOT, "# heavy hitters %s; each case warmed up to a steady rate, then timed interleaved (%.1f s each),"
        + " median call; exactness checked before timing%n", channels ? "in whole channels" : "scattered", seconds);
    out.println("# over = (total/plain)/ratio, goal <= " + TOTAL_GOAL + "; unpack% = unpack/total, goal <= "
        + Math.round(UNPACK_SHARE_GOAL * 100) + "% at 1024x1024x1024");
    out.printf(Locale.ROOT, "%-15s %6s %4s %-8s %7s %9s %9s %9s %9s %8s %6s %8s%n", "shape", "heavy", "bits", "strategy",
        "ratio", "unpack ms", "gemms ms", "total ms", "plain ms", "tot/pln", "over", "unpack%");
    out.flush();
    List<Row> rows = new ArrayList<>();
    for (Shape s : ss) {
      for (int b : bits) {
        for (double f : heavy) {
          Row r = measure(gemm, s, f, b, fixed, channels);
          rows.add(r);
          out.printf(Locale.ROOT, "%-15s %5.1f%% %4d %-8s %7.3f %9.3f %9.3f %9.3f %9.3f %7.2fx %6.2f %7.1f%%%s%n",
              s.label(), f * 100, b, r.strategy().spec(), r.ratio(), r.unpack() * 1e3, r.gemms() * 1e3, r.total() * 1e3,
              r.plain() * 1e3, r.total() / r.plain(), r.overhead(), r.unpackShare() * 100, r.steady() ? "" : "  !");
          out.flush();
        }
      }
    }
    out.println(summary(rows));
    if (rows.stream().anyMatch(r -> !r.steady())) out.println("(!: a case did not reach a steady rate in its warm-up)");
    return 0;
  }

  /** One line: how many configurations meet each goal, and the worst of each. */
  static String summary(List<Row> rows) {
    long over = rows.stream().filter(r -> r.overhead() <= TOTAL_GOAL).count();
    double worst = rows.stream().mapToDouble(Row::overhead).max().orElse(Double.NaN);
    List<Row> sq = rows.stream().filter(Row::square1024).toList();
    String share = sq.isEmpty() ? "no 1024x1024x1024 shape run"
        : String.format(Locale.ROOT, "unpacking <= %d%% of the total at 1024^3 in %d of %d (worst %.1f%%)",
            Math.round(UNPACK_SHARE_GOAL * 100), sq.stream().filter(r -> r.unpackShare() <= UNPACK_SHARE_GOAL).count(),
            sq.size(), sq.stream().mapToDouble(Row::unpackShare).max().orElse(Double.NaN) * 100);
    return String.format(Locale.ROOT, "summary: total <= %.1f x ratio x plain in %d of %d configurations (worst %.2f); %s",
        TOTAL_GOAL, over, rows.size(), worst, share);
  }

  private Row measure(Gemm gemm, Shape s, double f, int b, Strategy fixed, boolean channels) {
    SplittableRandom rnd = new SplittableRandom(seed ^ ((long) s.m() * 73856093L) ^ ((long) s.k() * 19349663L)
        ^ ((long) s.n() * 83492791L) ^ Double.doubleToLongBits(f) ^ b);
    IntMatrix a = operand(s.m(), s.k(), f, b, channels ? Channels.COLUMNS : Channels.NONE, rnd);
    IntMatrix bm = operand(s.k(), s.n(), f, b, channels ? Channels.ROWS : Channels.NONE, rnd);
    Strategy st = fixed != null ? fixed : UnpackedGemm.choose(a, bm, b);
    UnpackedProduct p = UnpackedGemm.unpack(a, bm, st, b);
    long[] got = UnpackedGemm.multiply(p, gemm);
    long[] want = exact(a, bm);
    if (!Arrays.equals(got, want)) {
      int i = Arrays.mismatch(got, want);
      throw new IllegalStateException(String.format(Locale.ROOT,
          "the unpacked product (%s, %d bits) differs from the exact one at %s, %.3f%% heavy: C[%d][%d] = %d, want %d",
          st.spec(), b, s.label(), f * 100, i / s.n(), i % s.n(), got[i], want[i]));
    }
    byte[] a8 = clip(a);
    byte[] b8 = clip(bm);
    int[] c = new int[s.m() * s.n()];
    List<Runnable> cases = List.of(
        () -> gemm.gemmS8S8(false, false, s.m(), s.n(), s.k(), a8, 0, s.k(), b8, 0, s.n(), c, 0, s.n()),
        () -> UnpackedGemm.unpack(a, bm, st, b),
        () -> UnpackedGemm.multiply(p, gemm),
        () -> UnpackedGemm.multiply(UnpackedGemm.unpack(a, bm, st, b), gemm));
    SteadyRate.Timing[] t = SteadyRate.interleaved(cases, seconds);
    boolean steady = Arrays.stream(t).allMatch(SteadyRate.Timing::steady);
    return new Row(s, f, b, st, p.ratio(), t[1].medianSeconds(), t[2].medianSeconds(), t[3].medianSeconds(),
        t[0].medianSeconds(), steady);
  }

  /** Where an operand's heavy hitters go: anywhere, or filling whole columns or whole rows. */
  enum Channels { NONE, COLUMNS, ROWS }

  /**
   * A rows×cols operand: entries uniform in ±(2^(b-1)-1), and round(f·rows·cols) heavy hitters
   * of magnitude 2^(b-1)..max(127, 2^b-1), random sign: at distinct random positions, or filling
   * round(f·lines) random whole columns or rows.
   */
  static IntMatrix operand(int rows, int cols, double f, int b, Channels where, SplittableRandom rnd) {
    int lo = 1 << (b - 1);
    int hi = Math.max(127, 2 * lo - 1);
    int[] x = new int[rows * cols];
    for (int i = 0; i < x.length; i++) x[i] = rnd.nextInt(-(lo - 1), lo);
    if (where == Channels.NONE) {
      long want = Math.round(f * x.length);
      BitSet taken = new BitSet(x.length);
      for (long placed = 0; placed < want; ) {
        int i = rnd.nextInt(x.length);
        if (taken.get(i)) continue;
        taken.set(i);
        x[i] = heavyValue(lo, hi, rnd);
        placed++;
      }
    } else {
      boolean byCol = where == Channels.COLUMNS;
      int lines = byCol ? cols : rows;
      int[] pick = rnd.ints(0, lines).distinct().limit(Math.round(f * lines)).toArray();
      for (int l : pick) {
        for (int e = 0; e < (byCol ? rows : cols); e++) x[byCol ? e * cols + l : l * cols + e] = heavyValue(lo, hi, rnd);
      }
    }
    return new IntMatrix(rows, cols, x);
  }

  private static int heavyValue(int lo, int hi, SplittableRandom rnd) {
    int v = rnd.nextInt(lo, hi + 1);
    return rnd.nextBoolean() ? v : -v;
  }

  private static byte[] clip(IntMatrix x) {
    byte[] y = new byte[x.data().length];
    for (int i = 0; i < y.length; i++) y[i] = (byte) Math.max(-128, Math.min(127, x.data()[i]));
    return y;
  }

  /**
   * C = A·B exactly in int64: row by row, each of A's entries times B's row, in a loop the JIT
   * vectorizes; the same wrapping as {@link UnpackedGemm#referenceGemm}, in a fraction of its time.
   */
  static long[] exact(IntMatrix a, IntMatrix b) {
    int m = a.rows(), k = a.cols(), n = b.cols();
    long[] c = new long[m * n];
    int[] ad = a.data(), bd = b.data();
    java.util.stream.IntStream.range(0, m).parallel().forEach(i -> {
      long[] row = new long[n];
      for (int j = 0; j < k; j++) {
        long v = ad[i * k + j];
        if (v == 0) continue;
        int base = j * n;
        for (int q = 0; q < n; q++) row[q] += v * bd[base + q];
      }
      System.arraycopy(row, 0, c, i * n, n);
    });
    return c;
  }

  private static String describe(Gemm g) {
    return g instanceof OneDnnGemm d ? g.name() + " (ISA " + d.runtime().isa() + ")" : g.name();
  }

  /** The CPU's model name from /proc/cpuinfo where there is one, else the architecture. */
  static String cpuName() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (l.startsWith("model name")) return l.substring(l.indexOf(':') + 1).strip();
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or unreadable: fall through
    }
    return System.getProperty("os.arch");
  }
}
