package dev.lowbit.cli;

import dev.lowbit.data.Dataset;
import dev.lowbit.intonly.IntCompiler;
import dev.lowbit.intonly.exec.Program;
import dev.lowbit.io.Json;
import dev.lowbit.io.ProgramFile;
import dev.lowbit.io.Safetensors;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Module;
import dev.lowbit.nn.Normalization;
import dev.lowbit.numerics.Policy;
import dev.lowbit.train.FineTune;
import dev.lowbit.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * {@code --checkpoint}, {@code --data} and {@code --calibration-batches} of the commands that
 * compile a float checkpoint into an integer-only program ({@code export}, {@code infer}), with
 * the loading and compiling they share. Include with {@code @Mixin CompileOptions compile;}.
 */
final class CompileOptions {

  @Option(names = "--checkpoint", paramLabel = "FILE|DIR",
      description = "a checkpoint of lowbit train (.safetensors or its run directory); its metadata names the model")
  Path checkpoint;

  @Option(names = "--data", paramLabel = "DIR",
      description = "directory with the four Fashion-MNIST IDX files (default: Debian's, else the embedded subset)")
  Path data;

  @Option(names = "--calibration-batches", paramLabel = "N", defaultValue = "8",
      description = "calibrate the activation ranges on the first N batches of 64 training images (default: ${DEFAULT-VALUE})")
  int calibrationBatches;

  @Option(names = "--calibration", paramLabel = "RULE", defaultValue = "ema",
      description = "how an activation's range is taken from the calibration batches: max (the largest |x| of"
          + " all of them) or ema (I-ViT's running min/max, momentum 0.95) (default: ${DEFAULT-VALUE})")
  String calibrationRule;

  /** A float model loaded from a checkpoint: its zoo name, the module with the weights, the file read. */
  record Loaded(String model, Module module, Path file) {}

  /** The flags' own checks, before anything is loaded. */
  void validate() {
    Checks.positive("--calibration-batches", calibrationBatches);
    rule();
    if (checkpoint != null && !Files.exists(checkpoint)) {
      throw new IllegalArgumentException("--checkpoint " + checkpoint + ": no such file or directory");
    }
  }

  /**
   * The model of {@code --checkpoint}: named by its metadata "model", built with the norm layers of
   * the policy it was trained under (its recorded settings), its weights loaded.
   */
  Loaded load() throws IOException {
    Path file = Files.isDirectory(checkpoint) ? checkpoint.resolve(Trainer.CHECKPOINT) : checkpoint;
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("--checkpoint " + checkpoint + ": no checkpoint (expected a run directory with "
          + Trainer.CHECKPOINT + " or a .safetensors file)");
    }
    Map<String, String> meta = Safetensors.header(file).metadata();
    if (ProgramFile.FORMAT.equals(meta.get("format"))) {
      throw new IllegalArgumentException("--checkpoint " + file + ": is an integer program of lowbit export, not a float"
          + " checkpoint (run it with lowbit infer --program)");
    }
    String model = meta.get("model");
    if (model == null) {
      throw new IllegalArgumentException("--checkpoint " + file + ": metadata 'model' is missing (not a checkpoint of lowbit train?)");
    }
    if (!Models.NAMES.contains(model)) {
      throw new IllegalArgumentException("--checkpoint " + file + ": unknown model '" + model + "' in its metadata; known: "
          + String.join(", ", Models.NAMES));
    }
    Module m = Models.create(model, 0, norm(file, meta));
    FineTune.loadWeights("--checkpoint", file, m, model);
    m.eval();
    return new Loaded(model, m, file);
  }

  /** L1 when the checkpoint's recorded policy says {@code option normalization l1}, else L2 (fp32 records none). */
  private static Normalization norm(Path file, Map<String, String> meta) {
    String identity = meta.get("identity");
    if (identity == null) return Normalization.L2;
    Object id;
    try {
      id = Json.parse(identity);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--checkpoint " + file + ": metadata 'identity': " + e.getMessage());
    }
    if (!(id instanceof Map<?, ?> m) || !(m.get("policy") instanceof String text)) return Normalization.L2;
    try {
      return Policy.parse(text, "checkpoint").methods().l1Normalization() ? Normalization.L1 : Normalization.L2;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--checkpoint " + file + ": the recorded policy does not parse: " + e.getMessage());
    }
  }

  /** The integer program of {@code m}, calibrated on the first batches of {@code train}. */
  Program compile(Loaded m, Dataset train) {
    IntCompiler.Calibration cal = new IntCompiler.Calibration(calibrationBatches, IntCompiler.Calibration.DEFAULT.batchSize());
    Dataset head = train.head(calibrationImages(train));
    try {
      IntCompiler.Options d = IntCompiler.Options.DEFAULT;
      IntCompiler.Options o = new IntCompiler.Options(rule(), d.softmaxN(), d.softmaxBits(), d.geluN(), d.preciseGelu());
      return IntCompiler.compile(m.model(), m.module(), head.images(), head.size(), cal, o);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--checkpoint " + m.file() + ": cannot compile model " + m.model()
          + " to integers: " + e.getMessage());
    }
  }

  /** The range rule of {@code --calibration}. */
  IntCompiler.RangeRule rule() {
    return switch (calibrationRule == null ? "" : calibrationRule.strip().toLowerCase(java.util.Locale.ROOT)) {
      case "max" -> IntCompiler.RangeRule.MAX;
      case "ema" -> IntCompiler.RangeRule.EMA;
      default -> throw new IllegalArgumentException("--calibration '" + calibrationRule + "': valid rules are max, ema");
    };
  }

  /** How many training images calibrate (fewer when the training set is smaller). */
  int calibrationImages(Dataset train) {
    return (int) Math.min(train.size(), (long) calibrationBatches * IntCompiler.Calibration.DEFAULT.batchSize());
  }
}
