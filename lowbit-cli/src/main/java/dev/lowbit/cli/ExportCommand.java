package dev.lowbit.cli;

import dev.lowbit.data.FashionMnist;
import dev.lowbit.intonly.ProgramText;
import dev.lowbit.intonly.exec.Program;
import dev.lowbit.io.ProgramFile;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lowbit export --int-only}: compiles a float checkpoint into an integer-only program file (I-ViT). */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = {
      "Compile a checkpoint of lowbit train into an integer-only program (I-ViT: int8 weights, int32 biases, dyadic"
          + " requantization, Shiftmax, ShiftGELU, integer layer norm) and save it as a safetensors program file.",
      "The activation ranges are calibrated on the first --calibration-batches batches of 64 training images"
          + " (--data, else Debian's Fashion-MNIST, else the embedded subset). Only --int-only export exists today.",
      "The file is written through a temporary file and a rename: nothing is written when anything fails, and an"
          + " existing file is replaced only by a complete one. Run it with lowbit infer --program FILE."
    })
public final class ExportCommand implements Callable<Integer> {

  @Mixin BackendOption backend;

  @Mixin CompileOptions compile;

  @Option(names = "--int-only", description = "export the integer-only program (required: the only export there is)")
  boolean intOnly;

  @Option(names = "--out", paramLabel = "FILE", description = "the program file to write, e.g. model.lbi.safetensors")
  Path out;

  @Option(names = "--explain", description = "print the program, op by op, before saving it")
  boolean explain;

  @Spec CommandSpec spec;

  private void validate() {
    if (!intOnly) {
      throw new IllegalArgumentException("only --int-only export exists today: lowbit export --int-only --checkpoint FILE"
          + " --out model.lbi.safetensors");
    }
    if (compile.checkpoint == null) throw new IllegalArgumentException("--checkpoint FILE is required");
    if (out == null) throw new IllegalArgumentException("--out FILE is required (e.g. --out model.lbi.safetensors)");
    compile.validate();
    if (Files.isDirectory(out)) throw new IllegalArgumentException("--out " + out + ": is a directory, not a file");
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) Checks.outDir("--out", parent);
  }

  @Override
  public Integer call() throws Exception {
    validate();
    backend.apply();
    PrintWriter stdout = Main.out(spec);
    PrintWriter err = spec.commandLine().getErr();
    CompileOptions.Loaded m = compile.load(); // before the data: a bad checkpoint fails fast
    FashionMnist.Splits splits = FashionMnist.load(compile.data);
    err.println("export: compiling " + m.model() + " from " + m.file() + ", calibrated on "
        + compile.calibrationImages(splits.train()) + " training images (" + splits.source() + ")");
    err.flush();
    Program p = compile.compile(m, splits.train());
    if (explain) {
      stdout.print(ProgramText.explain(p));
      stdout.flush();
    }
    ProgramFile.save(out, p);
    stdout.println("exported " + m.model() + ": " + p.ops().size() + " ops, " + IntPrograms.parameterBytes(p)
        + " parameter bytes, " + Files.size(out) + " bytes in " + out);
    stdout.flush();
    return 0;
  }
}
