package dev.lowbit.cli;

import dev.lowbit.autograd.Tape;
import dev.lowbit.autograd.Var;
import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.intonly.IntCompiler;
import dev.lowbit.intonly.exec.IntExecutor;
import dev.lowbit.intonly.exec.IntMatmul;
import dev.lowbit.intonly.exec.Program;
import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Module;
import dev.lowbit.tensor.Tensor;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lowbit bench infer}: images/s of a model's integer-only program against the float model,
 * same batch, same threads, timed interleaved in one run.
 */
@Command(
    name = "infer",
    mixinStandardHelpOptions = true,
    description = {
      "Times inference of one batch: the integer-only program (I-ViT) against the float model it was compiled"
          + " from, on the same images, batch and threads, interleaved in one run; prints images/s of each and"
          + " their ratio.",
      "The model is randomly initialised (--seed; speed does not depend on training) and compiled with its"
          + " activation ranges calibrated on the first " + BenchInferCommand.CALIBRATION_IMAGES + " images of the"
          + " embedded training subset; the batch holds the embedded test images."
    })
public final class BenchInferCommand implements Callable<Integer> {

  /** Images that calibrate the program (speed does not depend on them). */
  static final int CALIBRATION_IMAGES = 64;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Mixin BackendOption backend;

  @Option(names = "--model", defaultValue = "cnn", description = "mlp, cnn, resnet or vit (default: ${DEFAULT-VALUE})")
  String model;

  @CommandLine.Mixin BatchOptions run;

  @Option(names = "--seed", defaultValue = "0", description = "seed of the random initialisation (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--seconds", paramLabel = "SECONDS", defaultValue = "2.0",
      description = "timed seconds per side, after a warm-up to a steady rate (default: ${DEFAULT-VALUE})")
  double seconds;

  @Option(names = "--max-warmup", paramLabel = "SECONDS", defaultValue = "10",
      description = "give a side's warm-up up after this many seconds, in (0, 600]; it is then marked '!' (default:"
          + " ${DEFAULT-VALUE})")
  double maxWarmup;

  @Override
  public Integer call() throws Exception {
    Checks.model(model);
    run.validate();
    if (!(seconds > 0) || seconds > 600) throw new IllegalArgumentException("--seconds must be in (0, 600], got " + seconds);
    if (!(maxWarmup > 0) || maxWarmup > 600) {
      throw new IllegalArgumentException("--max-warmup must be in (0, 600], got " + maxWarmup);
    }
    Kernels.setThreads(run.threads);
    Gemm gemm = backend.apply(run.threads);
    PrintWriter out = spec.commandLine().getOut();
    Module m = Models.create(model, seed);
    m.eval();
    FashionMnist.Splits data = FashionMnist.embedded();
    Dataset cal = data.train().head(CALIBRATION_IMAGES);
    Program p = IntCompiler.compile(model, m, cal.images(), cal.size(), new IntCompiler.Calibration(1, cal.size()));
    Dataset test = data.test();
    int ss = test.sampleSize();
    byte[] pixels = new byte[run.batch * ss];
    float[] x = new float[run.batch * ss];
    for (int i = 0; i < run.batch; i++) {
      test.copyPixels(i % test.size(), pixels, i * ss);
      test.copySample(i % test.size(), x, i * ss);
    }
    Tensor input = new Tensor(x, run.batch, test.channels(), test.height(), test.width());
    IntMatmul mm = IntPrograms.matmul();
    IntExecutor ex = new IntExecutor(mm, run.threads);
    out.printf(Locale.ROOT, "# integer-only program vs float model: %s (random init, seed %d), batch %d, %d threads;"
        + " CPU %s, %d processors, JDK %s%n", model, seed, run.batch, run.threads, BenchUnpackCommand.cpuName(),
        Runtime.getRuntime().availableProcessors(), Runtime.version());
    out.printf(Locale.ROOT, "# program: %d ops, %d parameter bytes; IntMatmul %s; float GEMM %s%n", p.ops().size(),
        IntPrograms.parameterBytes(p), mm.name(), gemm.name());
    out.printf(Locale.ROOT, "# each side warmed up to a steady rate, then timed interleaved (%.1f s each), median call%n",
        seconds);
    out.flush();
    List<Runnable> sides = List.of(
        () -> ex.classify(p, pixels, 0, run.batch),
        () -> Tape.noGrad(() -> m.forward(Var.constant(input))));
    SteadyRate.Timing[] t = SteadyRate.interleaved(sides, seconds, maxWarmup);
    String[] names = {"int-only", "float"};
    out.printf(Locale.ROOT, "%-9s %12s %12s%n", "side", "images/s", "ms/batch");
    for (int i = 0; i < 2; i++) {
      out.printf(Locale.ROOT, "%-9s %12.1f %12.3f%s%n", names[i], run.batch / t[i].medianSeconds(),
          t[i].medianSeconds() * 1e3, t[i].steady() ? "" : "  !");
    }
    out.printf(Locale.ROOT, "ratio int-only/float: %.2fx images/s (%s)%n", t[1].medianSeconds() / t[0].medianSeconds(),
        mm.name());
    if (!t[0].steady() || !t[1].steady()) out.println("(!: a side did not reach a steady rate in its warm-up)");
    out.flush();
    return 0;
  }
}
