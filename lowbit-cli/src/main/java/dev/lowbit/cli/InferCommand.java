package dev.lowbit.cli;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.intonly.exec.IntExecutor;
import dev.lowbit.intonly.exec.IntMatmul;
import dev.lowbit.intonly.exec.Program;
import dev.lowbit.io.ProgramFile;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.models.Models;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lowbit infer}: test-set accuracy and speed of an integer-only program and, when its float
 * checkpoint is at hand, of the float model in the same run.
 */
@Command(
    name = "infer",
    mixinStandardHelpOptions = true,
    description = {
      "Classify the test set with an integer-only program and/or a float model: accuracy, images/s, per-class"
          + " accuracy and confusion matrix.",
      "--program FILE runs a program of lowbit export; --checkpoint FILE runs the float model, and with --int-only"
          + " also compiles it into an integer program (calibrated as export does) and runs both. --program and"
          + " --checkpoint together run the file's program and the checkpoint's float model.",
      "Images/s count the batches' compute only (the same batches for both), on --threads threads.",
      "Writes OUT/summary.json, OUT/confusion.txt and OUT/confusion-int.png / confusion-float.png (default OUT:"
          + " runs/infer-MODEL), only once every pass has finished."
    })
public final class InferCommand implements Callable<Integer> {

  @Mixin BackendOption backend;

  @Mixin CompileOptions compile;

  @Option(names = "--program", paramLabel = "FILE", description = "an integer-only program file of lowbit export")
  Path program;

  @Option(names = "--int-only", description = "with --checkpoint: compile it into an integer program and run that too")
  boolean intOnly;

  @Mixin BatchOptions run;

  @Option(names = "--limit", defaultValue = "0", paramLabel = "N",
      description = "classify only the first N >= 0 test images (0: all) (default: ${DEFAULT-VALUE})")
  int limit;

  @Option(names = "--out", paramLabel = "DIR", description = "output directory (default: runs/infer-MODEL)")
  Path out;

  @Spec CommandSpec spec;

  private void validate() {
    if (compile.checkpoint == null && program == null) {
      throw new IllegalArgumentException("give --program FILE (an integer program of lowbit export) or --checkpoint"
          + " FILE (with --int-only to compile it)");
    }
    run.validate();
    Checks.limit("--limit", limit);
    compile.validate();
    if (program != null && !Files.isRegularFile(program)) {
      throw new IllegalArgumentException("--program " + program + ": no such file");
    }
    if (out != null) Checks.outDir("--out", out);
  }

  @Override
  public Integer call() throws Exception {
    validate();
    Kernels.setThreads(run.threads);
    backend.apply(run.threads);
    PrintWriter stdout = Main.out(spec);
    PrintWriter err = spec.commandLine().getErr();
    Program p = program == null ? null : ProgramFile.load(program);
    CompileOptions.Loaded f = compile.checkpoint == null ? null : compile.load();
    String model = p != null ? p.model() : f.model();
    if (p != null && f != null && !p.model().equals(f.model())) {
      throw new IllegalArgumentException("--program " + program + " is for model '" + p.model() + "', --checkpoint "
          + f.file() + " for '" + f.model() + "'");
    }
    if (out == null) {
      out = Path.of("runs", "infer-" + model);
      Checks.outDir("--out", out);
    }
    FashionMnist.Splits splits = FashionMnist.load(compile.data);
    Dataset test = splits.test();
    if (Models.NAMES.contains(model)) Models.checkInputs(model, test);
    String programFrom = p != null ? program.toString() : null;
    if (p == null && intOnly) {
      err.println("infer: compiling " + model + " from " + f.file() + ", calibrated on "
          + compile.calibrationImages(splits.train()) + " training images");
      err.flush();
      p = compile.compile(f, splits.train());
      programFrom = "compiled from " + f.file();
    }
    if (p != null && (p.channels() != test.channels() || p.height() != test.height() || p.width() != test.width()
        || p.classes() != test.classes())) {
      throw new IllegalArgumentException("--program " + program + ": the program reads " + p.channels() + "×" + p.height()
          + "×" + p.width() + " images into " + p.classes() + " classes, the test set (" + test.source() + ") has "
          + FashionMnist.geometry(test) + " images of " + test.classes());
    }
    int n = limit == 0 ? test.size() : Math.min(limit, test.size());
    int[] labels = Arrays.copyOf(test.labels(), n);
    stdout.printf(Locale.ROOT, "lowbit infer: %s on %d test images (%s), batch %d, %d threads%n", model, n,
        splits.source(), run.batch, run.threads);
    stdout.flush();

    List<InferReport.Run> runs = new ArrayList<>();
    if (p != null) {
      IntMatmul mm = IntPrograms.matmul();
      stdout.println("integer program: " + p.ops().size() + " ops, " + IntPrograms.parameterBytes(p)
          + " parameter bytes (" + programFrom + "); IntMatmul " + mm.name());
      stdout.flush();
      IntPrograms.Predictions r = IntPrograms.classify(new IntExecutor(mm, run.threads), p, test, n, run.batch,
          IntPrograms.Progress.of(err, "infer int-only"));
      LinkedHashMap<String, Object> facts = new LinkedHashMap<>();
      facts.put("program", programFrom);
      facts.put("matmul", mm.name());
      facts.put("images_per_s", r.imagesPerSecond());
      facts.put("seconds", r.seconds());
      runs.add(new InferReport.Run("int", "integer-only program", facts,
          InferReport.Confusion.of(labels, r.predicted(), p.classes())));
    }
    if (f != null) {
      stdout.println("float model: " + f.file() + "; GEMM " + Kernels.gemm().name());
      stdout.flush();
      IntPrograms.Predictions r = IntPrograms.classify(f.module(), test, n, run.batch,
          IntPrograms.Progress.of(err, "infer float"));
      LinkedHashMap<String, Object> facts = new LinkedHashMap<>();
      facts.put("checkpoint", f.file().toString());
      facts.put("gemm", Kernels.gemm().name());
      facts.put("images_per_s", r.imagesPerSecond());
      facts.put("seconds", r.seconds());
      runs.add(new InferReport.Run("float", "float model", facts,
          InferReport.Confusion.of(labels, r.predicted(), test.classes())));
    }
    InferReport.Run first = runs.get(0);
    stdout.println("per-class accuracy and confusion matrix, " + first.title() + " (rows: true class, columns:"
        + " predicted class):");
    stdout.print(first.confusion().table());

    LinkedHashMap<String, Object> head = new LinkedHashMap<>();
    head.put("model", model);
    head.put("data", splits.source());
    head.put("test_images", n);
    head.put("batch", run.batch);
    head.put("threads", run.threads);
    InferReport.write(out, head, runs);
    stdout.println(summary(runs) + "; wrote " + out);
    stdout.flush();
    return 0;
  }

  /** One line: each run's accuracy and rate, and the integer program's rate over the float model's. */
  static String summary(List<InferReport.Run> runs) {
    List<String> parts = new ArrayList<>();
    double intRate = Double.NaN, floatRate = Double.NaN;
    for (InferReport.Run r : runs) {
      InferReport.Confusion c = r.confusion();
      double rate = (double) r.facts().get("images_per_s");
      if (r.name().equals("int")) intRate = rate;
      else floatRate = rate;
      parts.add(String.format(Locale.ROOT, "%s accuracy %.4f (%d/%d) at %.0f images/s",
          r.name().equals("int") ? "int-only" : "float", c.accuracy(), c.correct(), c.total(), rate));
    }
    String s = String.join("; ", parts);
    if (!Double.isNaN(intRate) && !Double.isNaN(floatRate)) {
      s += String.format(Locale.ROOT, " (int-only/float %.2fx)", intRate / floatRate);
    }
    return s;
  }
}
