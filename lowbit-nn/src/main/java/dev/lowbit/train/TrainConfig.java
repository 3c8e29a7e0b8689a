package dev.lowbit.train;

import dev.lowbit.models.Models;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything that defines a training run. {@code lr}, {@code optimizer} and {@code schedule} left
 * null take the model's defaults (SGD momentum 0.9 lr 0.05 constant, as the PyTorch peer, for
 * mlp/cnn/resnet; AdamW lr 1e-3, weight decay 0.05, cosine with one warmup epoch for vit).
 */
public record TrainConfig(
    String model, int epochs, int batch, Double lr, long seed, int threads, Path out, Path data, Path resume,
    String optimizer, String schedule, double weightDecay, double labelSmoothing, boolean augment,
    int trainLimit, int testLimit, int logEvery) {

  public TrainConfig {
    if (!Models.NAMES.contains(model)) {
      throw new IllegalArgumentException("unknown model '" + model + "'; known: " + String.join(", ", Models.NAMES));
    }
    // 0: evaluate only (with --init; the Trainer checks that)
    if (epochs < 0) throw new IllegalArgumentException("--epochs must be >= 0 (0: evaluate --init only), got " + epochs);
    if (batch <= 0) throw new IllegalArgumentException("--batch must be > 0, got " + batch);
    if (lr != null && !(lr > 0 && Double.isFinite(lr))) {
      throw new IllegalArgumentException("--lr must be a positive finite number, got " + lr);
    }
    if (threads <= 0) throw new IllegalArgumentException("--threads must be > 0, got " + threads);
    if (out == null) throw new IllegalArgumentException("--out DIR is required");
    if (optimizer != null && !optimizer.equals("sgd") && !optimizer.equals("adamw")) {
      throw new IllegalArgumentException("unknown optimizer '" + optimizer + "'; known: sgd, adamw");
    }
    if (schedule != null && !schedule.equals("constant") && !schedule.equals("cosine") && !schedule.equals("step")) {
      throw new IllegalArgumentException("unknown schedule '" + schedule + "'; known: constant, step, cosine");
    }
    // -1 (any negative, as the sweep passes it) is "the optimizer's default"; NaN or infinity is a mistake
    if (!Double.isFinite(weightDecay)) throw new IllegalArgumentException("--weight-decay must be finite, got " + weightDecay);
    if (trainLimit < 0 || testLimit < 0) {
      throw new IllegalArgumentException("--limit-train/--limit-test must be >= 0 (0 = all), got " + trainLimit + ", " + testLimit);
    }
    if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
      throw new IllegalArgumentException("--label-smoothing must be in [0, 1), got " + labelSmoothing);
    }
  }

  /** Defaults for everything but model, epochs and out. */
  public static TrainConfig of(String model, int epochs, Path out) {
    return new TrainConfig(model, epochs, 128, null, 0, 2, out, null, null, null, null, -1, 0, false, 0, 0, 50);
  }

  public TrainConfig withLimits(int train, int test) {
    return new TrainConfig(model, epochs, batch, lr, seed, threads, out, data, resume, optimizer, schedule,
        weightDecay, labelSmoothing, augment, train, test, logEvery);
  }

  public TrainConfig withEpochs(int n) {
    return new TrainConfig(model, n, batch, lr, seed, threads, out, data, resume, optimizer, schedule,
        weightDecay, labelSmoothing, augment, trainLimit, testLimit, logEvery);
  }

  public TrainConfig withOut(Path o, Path resumeFrom) {
    return new TrainConfig(model, epochs, batch, lr, seed, threads, o, data, resumeFrom, optimizer, schedule,
        weightDecay, labelSmoothing, augment, trainLimit, testLimit, logEvery);
  }

  public TrainConfig withData(Path d) {
    return new TrainConfig(model, epochs, batch, lr, seed, threads, out, d, resume, optimizer, schedule,
        weightDecay, labelSmoothing, augment, trainLimit, testLimit, logEvery);
  }

  public boolean isVit() {
    return model.equals("vit");
  }

  public String effectiveOptimizer() {
    return optimizer != null ? optimizer : isVit() ? "adamw" : "sgd";
  }

  public double effectiveLr() {
    return lr != null ? lr : effectiveOptimizer().equals("adamw") ? 1e-3 : 0.05;
  }

  public String effectiveSchedule() {
    return schedule != null ? schedule : isVit() ? "cosine" : "constant";
  }

  public double effectiveWeightDecay() {
    return weightDecay >= 0 ? weightDecay : effectiveOptimizer().equals("adamw") ? 0.05 : 0;
  }

  /** The settings that must match for a resume to continue the same run. */
  public Map<String, Object> identity() {
    LinkedHashMap<String, Object> m = new LinkedHashMap<>();
    m.put("model", model);
    m.put("batch", batch);
    m.put("lr", effectiveLr());
    m.put("seed", seed);
    m.put("optimizer", effectiveOptimizer());
    m.put("schedule", effectiveSchedule());
    m.put("weight_decay", effectiveWeightDecay());
    m.put("label_smoothing", labelSmoothing);
    m.put("augment", augment);
    m.put("train_limit", trainLimit);
    return m;
  }

  public Map<String, Object> toMap() {
    LinkedHashMap<String, Object> m = new LinkedHashMap<>(identity());
    m.put("epochs", epochs);
    m.put("threads", threads);
    m.put("out", out.toString());
    m.put("data", data == null ? null : data.toString());
    m.put("resume", resume == null ? null : resume.toString());
    m.put("test_limit", testLimit);
    return m;
  }
}
