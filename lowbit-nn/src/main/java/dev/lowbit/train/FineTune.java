package dev.lowbit.train;

import dev.lowbit.io.Json;
import dev.lowbit.io.Safetensors;
import dev.lowbit.nn.EmulatedProducts;
import dev.lowbit.nn.Module;
import dev.lowbit.nn.Numerics;
import dev.lowbit.numerics.MethodOptions;
import dev.lowbit.numerics.Policy;
import dev.lowbit.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The trainer's side of narrow-accumulator fine-tuning (Blumenfeld, Hubara, Soudry, ICLR 2024; spec
 * training-numerics §3.4, stage hyper-parameters reconstructed there):
 *
 * <ul>
 *   <li>{@code --init DIR|FILE}: the model starts from pretrained weights (a lowbit checkpoint; its
 *       optimizer state is ignored: the optimizer starts fresh), and the test set is evaluated under
 *       the run's policy before any step ({@code accuracy_before_finetune}).
 *   <li>Learning rate while fine-tuning from {@code --init}: {@link #STAGE1_LR}× the base rate in
 *       stage 1, {@link #STAGE2_LR}× in stage 2 (one stage: stage 1's factor throughout).
 *   <li>With {@code option accumulator-stages underflow-off-then-on}: stage 1 trains with underflow
 *       off, stage 2 with underflow on. Epochs split as E − max(1, round(E/4)) then max(1,
 *       round(E/4)) (4 epochs: 3 + 1, the spec's default); a 1-epoch run switches after 3/4 of its
 *       steps. Evaluation always runs with underflow on (the inference target).
 *   <li>The exponent biases are re-calibrated at the start of every epoch and before the first
 *       evaluation (§3.3).
 * </ul>
 */
public final class FineTune {

  /** Stage-1 learning-rate factor (of the base rate) when fine-tuning from --init. */
  static final double STAGE1_LR = 0.1;
  /** Stage-2 learning-rate factor. */
  static final double STAGE2_LR = 0.01;

  private final Path init;
  private final boolean twoStage;
  private final long switchStep;
  private double before = Double.NaN;
  private double beforeLoss = Double.NaN;

  FineTune(Path init, Policy policy, int epochs, int perEpoch) {
    this.init = init;
    this.twoStage = policy.methods().stages() == MethodOptions.Stages.UNDERFLOW_OFF_THEN_ON;
    long total = (long) epochs * perEpoch;
    this.switchStep = !twoStage ? 0 : epochs == 1 ? (total * 3) / 4
        : (long) (epochs - Math.max(1, (int) Math.round(epochs / 4.0))) * perEpoch;
  }

  /**
   * True for a policy that is meant to fine-tune pretrained fp32 weights (it sets {@code
   * accumulator-stages}, as {@code acc12} does): {@code lowbit sweep} pretrains it with fp32 first.
   */
  public static boolean wantsPretrained(Policy policy) {
    return policy.methods().stages() != MethodOptions.Stages.UNSET;
  }

  boolean active() {
    return init != null;
  }

  /** 1 or 2: the stage of a training step (1 throughout without two stages... unless none at all). */
  int stage(long step) {
    return twoStage && step >= switchStep ? 2 : 1;
  }

  /** Sets the step's learning rate factor and underflow switch; call after the schedule set the rate. */
  void beginStep(Optimizer opt, Numerics numerics, long step) {
    if (init != null) opt.setLr(opt.lr() * (stage(step) == 2 ? STAGE2_LR : STAGE1_LR));
    if (twoStage) numerics.emulated().setUnderflow(stage(step) == 2);
  }

  void beginEpoch(Numerics numerics) {
    numerics.emulated().recalibrate();
  }

  /** Evaluation sees the inference arithmetic: underflow on. */
  void beforeEval(Numerics numerics) {
    numerics.emulated().setUnderflow(true);
  }

  /** Loads the pretrained model weights of --init (a checkpoint file or a run directory). */
  void loadInit(Module model, String modelName) throws IOException {
    loadWeights("--init", init, model, modelName);
  }

  /**
   * Loads the model weights of a checkpoint {@code lowbit train} wrote ({@code path}: the file or
   * its run directory) into {@code model}; errors name {@code flag} and the file.
   */
  public static void loadWeights(String flag, Path path, Module model, String modelName) throws IOException {
    Path file = Files.isDirectory(path) ? path.resolve(Trainer.CHECKPOINT) : path;
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(flag + " " + path + ": no checkpoint (expected a run directory with "
          + Trainer.CHECKPOINT + " or a .safetensors file)");
    }
    Safetensors.Header h = Safetensors.header(file);
    String m = h.metadata().get("model");
    if (m != null && !m.equals(modelName)) {
      throw new IllegalArgumentException(flag + " " + file + ": checkpoint is for model '" + m + "', not '" + modelName + "'");
    }
    // only the model's tensors are read; a training checkpoint's optimizer state is skipped unread
    LinkedHashMap<String, Tensor> state = h.read(model.stateDict(), name -> name.startsWith(Trainer.OPT_PREFIX)).tensors();
    model.loadStateDict(state, file.toString());
  }

  /**
   * Evaluates the pretrained model under the policy before fine-tuning and logs it; on a resume
   * (startEpoch > 0) reads the value back from the run's metrics.jsonl instead.
   */
  void evaluateBefore(Module model, dev.lowbit.data.Dataset test, Numerics numerics, int startEpoch,
      Path metrics, java.io.BufferedWriter log) throws IOException {
    if (startEpoch > 0) {
      before = readBefore(metrics);
      return;
    }
    beginEpoch(numerics);
    beforeEval(numerics);
    double[] ev = Trainer.evaluate(model, test);
    before = ev[1];
    beforeLoss = ev[0];
    LinkedHashMap<String, Object> m = new LinkedHashMap<>();
    m.put("event", "before_finetune");
    m.put("init", init.toString());
    m.put("test_loss", ev[0]);
    m.put("test_accuracy", ev[1]);
    EmulatedProducts.Events e = numerics.emulated().events();
    m.put("accumulator_events", events(e));
    log.write(Json.write(m));
    log.newLine();
    log.flush();
  }

  /** The test accuracy of the --init weights under the policy, before any step (NaN before evaluateBefore). */
  double beforeAccuracy() {
    return before;
  }

  /** The test loss that went with {@link #beforeAccuracy()}. */
  double beforeLoss() {
    return beforeLoss;
  }

  private static double readBefore(Path metrics) throws IOException {
    if (!Files.isRegularFile(metrics)) return Double.NaN;
    for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
      try {
        if (Json.parse(line) instanceof Map<?, ?> m && "before_finetune".equals(m.get("event"))
            && m.get("test_accuracy") instanceof Number n) {
          return n.doubleValue();
        }
      } catch (RuntimeException torn) {
        break;
      }
    }
    return Double.NaN;
  }

  /**
   * The accumulator's event counts in a fixed order (Map.of iterates in an order salted per JVM,
   * which made the run log differ between same-seed runs).
   */
  private static Map<String, Object> events(EmulatedProducts.Events e) {
    LinkedHashMap<String, Object> m = new LinkedHashMap<>();
    m.put("overflow", e.overflows());
    m.put("underflow", e.underflows());
    m.put("swamp", e.swamps());
    return m;
  }

  /** Adds the fine-tune fields to summary.json. */
  void summarize(Map<String, Object> summary, Numerics numerics) {
    if (init != null) {
      summary.put("init", init.toString());
      summary.put("accuracy_before_finetune", before);
    }
    if (numerics.emulated().gemms() > 0) {
      LinkedHashMap<String, Object> byLayer = new LinkedHashMap<>();
      numerics.emulated().eventsByLayer().forEach((k, e) -> byLayer.put(k, events(e)));
      summary.put("accumulator_events", byLayer);
      summary.put("accumulator_gradient", numerics.emulated().gradientMode().name().toLowerCase(java.util.Locale.ROOT));
    }
    if (twoStage) summary.put("accumulator_stage2_from_step", switchStep);
  }
}
