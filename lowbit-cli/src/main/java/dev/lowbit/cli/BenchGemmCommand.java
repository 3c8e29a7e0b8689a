package dev.lowbit.cli;

import dev.lowbit.kernel.Accumulator;
import dev.lowbit.kernel.EmulatedGemm;
import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.kernel.LowPrecisionGemm;
import dev.lowbit.kernel.Multiplier;
import dev.lowbit.kernel.ScalarLowPrecisionGemm;
import dev.lowbit.kernel.VectorEmulatedGemm;
import dev.lowbit.kernel.VectorGemm;
import dev.lowbit.onednn.OneDnnGemm;
import dev.lowbit.onednn.PackedWeights;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lowbit bench gemm}: square GEMMs of each kernel in the Java GEMM family and, when a native
 * backend is active ({@code --backend onednn}, or {@code auto} where it loads), the same kernels
 * through {@link Kernels#gemm()} plus the native-only ones (bf16, fp16, int8 with packed weights).
 * Reported in GOP/s (2 operations per multiply-add), as a ratio to our fp32 GEMM and, for native
 * kernels, to the Java kernel of the same contract, all measured in the same run.
 */
@Command(
    name = "gemm",
    mixinStandardHelpOptions = true,
    description = {
      "Times square GEMMs (m = n = k) of the pure-Java kernels: fp32 (sgemm), exact int8 (s8s8,"
          + " u8s8), exact int16 (s16, s16-ovf with overflow counting) and L-Mul products summed in fp32"
          + " (lmul3, lmul4, any lmulM[:rne|:trunc], M = 1..23, as the emulated engine runs them); with a native backend"
          + " also the same kernels on it, bf16 and f16 (fp32 out), u8s8-packed and bf16-packed (weights packed once),"
          + " and the fused ones: u8s8-q8-packed (u8 in, zero point 128, per-tensor scale, requantized u8"
          + " out, as PyTorch's quantized.linear) and bf16-bf16out-packed (bf16 out).",
      "Prints GOP/s (2 per multiply-add; GFLOP/s for fp32), the ratio to Java sgemm at the same size"
          + " and, for native kernels, the ratio to the Java kernel of the same contract (bf16/f16: sgemm)."
    })
public final class BenchGemmCommand implements Callable<Integer> {

  /** Kernels both backends run. */
  static final List<String> JAVA_KERNELS = List.of("sgemm", "s8s8", "u8s8", "s16", "s16-ovf");
  /** Every named kernel; those not in {@link #JAVA_KERNELS} or L-Mul run only on a native backend. */
  static final List<String> KERNELS =
      List.of("sgemm", "s8s8", "u8s8", "s16", "s16-ovf", "lmul3", "lmul4", "u8s8-packed", "u8s8-q8-packed",
          "bf16", "bf16-packed", "bf16-bf16out-packed", "f16");

  /** An L-Mul kernel: any {@code lmulM[:rne|:trunc]} multiplier spec, run on the Java emulated GEMM. */
  static boolean isLMul(String kernel) {
    if (!kernel.startsWith("lmul")) return false;
    try {
      return Multiplier.parse(kernel) instanceof Multiplier.LMul;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean javaOnly(String kernel) {
    return JAVA_KERNELS.contains(kernel) || isLMul(kernel);
  }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin BackendOption backend;

  @Option(names = "--sizes", split = ",", paramLabel = "N[,N...]",
      description = "Matrix sizes (default: ${DEFAULT-VALUE}).", defaultValue = "256,512,1024")
  List<String> sizes;

  @Option(names = "--threads", paramLabel = "T",
      description = "Threads for the GEMM, Java and native (default: -Dlowbit.threads or all processors).")
  Integer threads;

  @Option(names = "--kernels", split = ",", paramLabel = "K[,K...]",
      description = "Kernels to time, among ${COMPLETION-CANDIDATES} (default: all).",
      completionCandidates = KernelNames.class)
  List<String> kernels;

  @Option(names = "--width", paramLabel = "BITS",
      description = "Vector width 128, 256 or 512 (default: the JVM's preferred width).")
  Integer width;

  @Option(names = "--min-time", paramLabel = "SECONDS", defaultValue = "1.0",
      description = "Timed seconds per kernel and size (default: ${DEFAULT-VALUE}).")
  double minTime;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write JSON lines here.")
  Path json;

  static final class KernelNames extends ArrayList<String> {
    KernelNames() {
      super(KERNELS);
    }
  }

  /**
   * One kernel on one backend: {@code twin} is the Java kernel it is compared with (null for Java
   * kernels themselves).
   */
  record Case(String kernel, String backend, String twin, Runnable call, AtomicLong declined) {
    Case(String kernel, String backend, String twin, Runnable call) {
      this(kernel, backend, twin, call, null);
    }
  }

  /** One timed case. */
  record Result(Case c, int n, int reps, double bestSeconds, double medianSeconds) {
    double gops(double seconds) {
      return 2.0 * n * n * (double) n / seconds / 1e9;
    }

    double bestGops() {
      return gops(bestSeconds);
    }
  }

  @Override
  public Integer call() {
    int[] ns = parseSizes();
    List<String> ks = kernels == null ? KERNELS : kernels;
    for (String k : ks) {
      if (!KERNELS.contains(k) && !isLMul(k)) {
        throw new IllegalArgumentException(
            "--kernels: unknown kernel '" + k + "'; known: " + String.join(", ", KERNELS)
                + " and lmulM[:rne|:trunc] (M = 1..23)");
      }
    }
    if (!(minTime > 0) || minTime > 600) {
      throw new IllegalArgumentException("--min-time must be in (0, 600] seconds, got " + minTime);
    }
    Gemm gemm = chooseGemm();
    Gemm nativeGemm = backend.apply();
    if (nativeGemm == Kernels.javaGemm()) nativeGemm = null;
    if (nativeGemm instanceof OneDnnGemm d && threads != null) d.runtime().setThreads(threads);
    PrintWriter out = spec.commandLine().getOut();
    out.printf(Locale.ROOT, "GEMM %s%s on JDK %s, %d processors; each kernel warmed up to a steady rate, then best of timed runs (%.1f s each)%n",
        gemm.name(), nativeGemm == null ? "" : " and " + nativeGemm.name(), Runtime.version(),
        Runtime.getRuntime().availableProcessors(), minTime);
    if (nativeGemm == null && ks.stream().anyMatch(k -> !javaOnly(k))) {
      out.println("(kernels other than " + String.join(", ", JAVA_KERNELS) + " need a native backend: skipped)");
    }
    out.printf(Locale.ROOT, "%-19s %-7s %6s %10s %10s %8s %9s %8s%n",
        "kernel", "backend", "size", "GOP/s", "median", "ms", "vs sgemm", "vs java");
    out.flush();
    List<String> lines = new ArrayList<>();
    if (nativeGemm instanceof OneDnnGemm d) {
      for (String k : ks) {
        if (isLMul(k)) continue; // Java only
        String why = notNative(d, k);
        if (why != null) {
          out.printf(Locale.ROOT, "%-19s %-7s %s%n", k, "onednn", why);
          lines.add(String.format(Locale.ROOT,
              "{\"bench\":\"gemm\",\"kernel\":\"%s\",\"backend\":\"onednn\",\"native\":false,\"isa\":\"%s\"}",
              k, d.runtime().isa()));
        }
      }
      out.flush();
    }
    for (int n : ns) {
      Inputs in = new Inputs(n);
      List<Case> cases = cases(in, gemm, nativeGemm, ks);
      List<String> unsteady = new ArrayList<>();
      Result[] rs = time(cases, n, minTime, unsteady);
      for (String u : unsteady) out.println("(warning: " + u + " did not reach a steady rate in its warm-up)");
      double fp32 = rs[0].bestGops(); // cases() puts Java sgemm first
      for (Result r : rs) {
        Case c = r.c();
        if (!ks.contains(c.kernel())) continue;
        double gops = r.bestGops();
        double ratio = gops / fp32;
        double vsJava = Double.NaN;
        for (Result t : rs) {
          if (c.twin() != null && t.c().twin() == null && t.c().kernel().equals(c.twin())) {
            vsJava = gops / t.bestGops();
          }
        }
        long declined = c.declined() == null ? 0 : c.declined().get();
        out.printf(Locale.ROOT, "%-19s %-7s %6d %10.1f %10.1f %8.3f %8.2fx %8s%s%n",
            c.kernel(), c.backend(), n, gops, r.gops(r.medianSeconds()), r.bestSeconds() * 1e3, ratio,
            Double.isNaN(vsJava) ? "" : String.format(Locale.ROOT, "%.2fx", vsJava),
            declined == 0 ? "" : "  (" + declined + " calls declined to Java: not a native figure)");
        out.flush();
        Gemm impl = c.twin() == null ? gemm : nativeGemm;
        lines.add(String.format(Locale.ROOT,
            "{\"bench\":\"gemm\",\"kernel\":\"%s\",\"backend\":\"%s\",\"native\":%s,\"m\":%d,\"n\":%d,\"k\":%d,"
                + "\"impl\":\"%s\",\"threads\":%d,\"vector_bits\":%d,\"reps\":%d,\"best_gops\":%.3f,"
                + "\"median_gops\":%.3f,\"best_ms\":%.4f,\"ratio_to_sgemm\":%.4f,%s\"jdk\":\"%s\"}",
            c.kernel(), c.backend(), c.twin() != null && declined == 0, n, n, n, impl.name(), threadsOf(gemm), bitsOf(gemm), r.reps(),
            gops, r.gops(r.medianSeconds()), r.bestSeconds() * 1e3, ratio,
            Double.isNaN(vsJava) ? "" : String.format(Locale.ROOT, "\"ratio_to_java\":%.4f,", vsJava),
            Runtime.version()));
      }
    }
    if (json != null) writeJson(lines);
    return 0;
  }

  /**
   * The cases for one size: Java sgemm first (everything is relative to it), then the requested
   * Java kernels, then the native ones. A native kernel's Java twin is timed even when not
   * requested, so that its ratio can be printed.
   */
  private static List<Case> cases(Inputs in, Gemm java, Gemm nat, List<String> ks) {
    List<Case> cs = new ArrayList<>();
    for (String k : JAVA_KERNELS) {
      boolean twinOfNative = nat != null
          && (k.equals("sgemm") && ks.stream().anyMatch(x -> x.startsWith("bf16") || x.equals("f16"))
              || k.equals("u8s8") && ks.stream().anyMatch(x -> x.startsWith("u8s8-")));
      if (k.equals("sgemm") || ks.contains(k) || twinOfNative) {
        cs.add(new Case(k, "java", null, () -> in.run(java, k)));
      }
    }
    for (String k : ks) {
      if (!isLMul(k)) continue;
      // the emulated GEMM the engine runs for "multiplier lmulM" with an fp32 sum, at the fp32 GEMM's width and threads
      EmulatedGemm emu = new VectorEmulatedGemm(java instanceof VectorGemm v ? v.vectorBits() : VectorGemm.preferredBits(),
          threadsOf(java));
      Multiplier mul = Multiplier.parse(k);
      cs.add(new Case(k, "java", null, () -> in.lmul(emu, mul)));
    }
    if (nat == null) return cs;
    String name = nat instanceof OneDnnGemm ? "onednn" : "native";
    for (String k : ks) {
      if (k.equals("sgemm") || isLMul(k)) continue; // fp32 and L-Mul always run on Java
      String twin = switch (k) {
        case "u8s8-packed", "u8s8-q8-packed" -> "u8s8";
        case "bf16", "bf16-packed", "bf16-bf16out-packed", "f16" -> "sgemm";
        default -> k;
      };
      if (nat instanceof OneDnnGemm d && notNative(d, k) != null) continue; // reported, not timed
      Runnable call = k.endsWith("-packed") ? in.packed(nat, k) : () -> in.run(nat, k);
      if (call == null) continue;
      AtomicLong declined = new AtomicLong();
      Runnable counted = nat instanceof OneDnnGemm d
          ? () -> {
              long before = d.nativeCalls();
              call.run();
              if (d.nativeCalls() == before) declined.incrementAndGet();
            }
          : call;
      cs.add(new Case(k, name, twin, counted, declined));
    }
    return cs;
  }

  /**
   * Why oneDNN does not run {@code kernel} natively on this CPU (only its reference loops, or the
   * int8 self-test failed), or null when it does. Such kernels are never used by the backend (their
   * calls run on the Java fallback), so the bench reports them instead of timing the fallback under
   * oneDNN's name.
   */
  static String notNative(OneDnnGemm d, String kernel) {
    String isa = d.runtime().isa();
    boolean ok = switch (kernel) {
      case "bf16", "bf16-packed", "bf16-bf16out-packed" -> d.runsNatively(OneDnnGemm.NarrowKind.BF16);
      case "f16" -> d.runsNatively(OneDnnGemm.NarrowKind.F16);
      case "s8s8" -> d.int8Native(false);
      case "u8s8", "u8s8-packed", "u8s8-q8-packed" -> d.int8Native(true);
      case "s16", "s16-ovf" -> d.int8Native(false) && d.int8Native(true);
      default -> true;
    };
    String why = kernel.startsWith("bf16") || kernel.equals("f16")
        ? "oneDNN has only reference loops or would emulate the type" : "the int8 self-test failed";
    return ok ? null : "not native on " + isa + " (" + why + "): calls run on the Java fallback";
  }

  private int[] parseSizes() {
    int[] ns = new int[sizes.size()];
    for (int i = 0; i < ns.length; i++) {
      String s = sizes.get(i).trim();
      try {
        ns[i] = Integer.parseInt(s);
      } catch (NumberFormatException e) {
        ns[i] = -1;
      }
      if (ns[i] < 1 || ns[i] > 16384) {
        throw new IllegalArgumentException(
            "--sizes: '" + s + "' is not a size; give integers in 1..16384, e.g. 256,512,1024");
      }
    }
    return ns;
  }

  private Gemm chooseGemm() {
    if (threads != null && threads < 1) {
      throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
    }
    if (width != null) {
      int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
      return VectorGemm.ofBits(width, t); // names a bad width itself
    }
    return threads != null ? Kernels.setThreads(threads) : Kernels.javaGemm();
  }

  private static int threadsOf(Gemm g) {
    return g instanceof VectorGemm v ? v.threads() : 1;
  }

  private static int bitsOf(Gemm g) {
    return g instanceof VectorGemm v ? v.vectorBits() : 0;
  }

  /** Random operands of one size for every kernel. */
  static final class Inputs {
    final int n;
    final float[] a;
    final float[] b;
    final float[] c;
    final byte[] a8;
    final byte[] b8;
    final short[] a16;
    final short[] b16;
    final short[] aBf16;
    final short[] bBf16;
    final short[] aF16;
    final short[] bF16;
    final int[] ci;
    final byte[] cq;

    Inputs(int n) {
      this.n = n;
      int len = n * n;
      SplittableRandom r = new SplittableRandom(n);
      a = new float[len];
      b = new float[len];
      c = new float[len];
      a8 = new byte[len];
      b8 = new byte[len];
      a16 = new short[len];
      b16 = new short[len];
      ci = new int[len];
      cq = new byte[len];
      aBf16 = new short[len];
      bBf16 = new short[len];
      aF16 = new short[len];
      bF16 = new short[len];
      for (int i = 0; i < len; i++) {
        a[i] = (float) (r.nextDouble() * 2 - 1);
        b[i] = (float) (r.nextDouble() * 2 - 1);
        a8[i] = (byte) r.nextInt(256);
        b8[i] = (byte) r.nextInt(256);
        a16[i] = (short) r.nextInt(65536);
        b16[i] = (short) r.nextInt(65536);
        aBf16[i] = ScalarLowPrecisionGemm.floatToBf16(a[i]);
        bBf16[i] = ScalarLowPrecisionGemm.floatToBf16(b[i]);
        aF16[i] = ScalarLowPrecisionGemm.floatToF16(a[i]);
        bF16[i] = ScalarLowPrecisionGemm.floatToF16(b[i]);
      }
    }

    void run(Gemm g, String kernel) {
      switch (kernel) {
        case "sgemm" -> g.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
        case "s8s8" -> g.gemmS8S8(false, false, n, n, n, a8, 0, n, b8, 0, n, ci, 0, n);
        case "u8s8" -> g.gemmU8S8(false, false, n, n, n, a8, 0, n, b8, 0, n, ci, 0, n);
        case "s16" -> g.gemmS16(false, false, n, n, n, a16, 0, n, b16, 0, n, ci, 0, n, false);
        case "s16-ovf" -> g.gemmS16(false, false, n, n, n, a16, 0, n, b16, 0, n, ci, 0, n, true);
        case "bf16" -> LowPrecisionGemm.of(g).gemmBf16(false, false, n, n, n, aBf16, 0, n, bBf16, 0, n, c, 0, n);
        case "f16" -> LowPrecisionGemm.of(g).gemmF16(false, false, n, n, n, aF16, 0, n, bF16, 0, n, c, 0, n);
        default -> throw new IllegalArgumentException("unknown kernel " + kernel);
      }
    }

    /** C = A·B with L-Mul products summed in fp32 (C overwritten). */
    void lmul(EmulatedGemm g, Multiplier mul) {
      g.gemm(mul, new Accumulator.Fp32Exact(), false, false, n, n, n, a, 0, n, b, 0, n, c, 0, n, 0L);
    }

    /**
     * u8×s8 against weights packed once (as a linear layer at inference), B transposed as
     * PyTorch's quantized linear keeps it; null when the backend has no packed weights.
     */
    Runnable packed(Gemm g, String kernel) {
      if (!(g instanceof OneDnnGemm d)) return null;
      if (kernel.equals("bf16-packed")) {
        PackedWeights w = d.packBf16Weights(false, n, n, bBf16, 0, n);
        return () -> d.gemmBf16Packed(false, n, aBf16, 0, n, w, c, 0, n);
      }
      if (kernel.equals("bf16-bf16out-packed")) {
        PackedWeights w = d.packBf16Weights(false, n, n, bBf16, 0, n);
        short[] out = new short[n * n];
        return () -> d.gemmBf16PackedBf16Out(false, n, aBf16, 0, n, w, out, 0, n);
      }
      PackedWeights w = d.packInt8Weights(true, n, n, b8, 0, n);
      if (kernel.equals("u8s8-q8-packed")) {
        // PyTorch's peer: input zero point 128, per-tensor multiplier spreading outputs over u8, output zero point 128
        float[] scale = {(float) (127.0 / (3 * 74 * 74 * Math.sqrt(n)))};
        return () -> d.linearU8S8Packed(n, a8, 0, n, 128, w, scale, 128, false, cq, 0, n);
      }
      return () -> d.gemmInt8Packed(true, false, n, a8, 0, n, w, ci, 0, n);
    }
  }

  /**
   * Times the kernels with {@link SteadyRate#interleaved}, so that a disturbance from other
   * processes hits every kernel alike and the ratios stay fair. A kernel that never became steady
   * is named in {@code unsteady}.
   */
  private static Result[] time(List<Case> cases, int n, double minTime, List<String> unsteady) {
    SteadyRate.Timing[] t = SteadyRate.interleaved(cases.stream().map(Case::call).toList(), minTime);
    Result[] out = new Result[t.length];
    for (int i = 0; i < t.length; i++) {
      Case c = cases.get(i);
      if (!t[i].steady()) unsteady.add(c.kernel() + " on " + c.backend() + " at " + n);
      out[i] = new Result(c, n, t[i].reps(), t[i].bestSeconds(), t[i].medianSeconds());
    }
    return out;
  }

  private void writeJson(List<String> lines) {
    try {
      Path target = json.toAbsolutePath();
      Path dir = target.getParent();
      if (dir != null) Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, target.getFileName().toString(), ".tmp");
      Files.write(tmp, lines, StandardCharsets.UTF_8);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("--json " + json + ": " + e.getMessage(), e);
    }
  }
}
