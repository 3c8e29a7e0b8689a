package dev.lowbit.report;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the report needs of one training run. {@link RunReader} builds it from a run directory;
 * tests and sweeps may build it directly.
 *
 * @param model model name ("" when unknown)
 * @param policy numerics policy name ({@code fp32} is the reference for time ratios)
 * @param seed the run's seed
 * @param epochs per-epoch points, in epoch order
 * @param finalTestAccuracy test accuracy in [0, 1] at the end
 * @param finalTrainLoss mean training loss of the last epoch
 * @param finalTestLoss test loss at the end (NaN if not recorded)
 * @param bitsWeight storage bits per weight
 * @param bitsActivation storage bits per activation
 * @param bitsGradient storage bits per gradient (the error dY flowing back)
 * @param overflows event counts by name (e.g. accumulator overflow, swamping), possibly empty
 * @param wallSeconds wall-clock time of the run
 * @param source where the run came from (a directory), for the tables
 * @param accuracyBeforeFinetune for a run fine-tuned from pretrained weights ({@code --init}), the
 *     test accuracy under the run's numerics before the first step; NaN otherwise
 * @param energy the run's estimated arithmetic energy ({@code summary.json}'s {@code
 *     energy_estimate}); {@link EnergyEstimate#NONE} for runs that recorded none
 */
public record RunResult(String model, String policy, long seed, List<EpochPoint> epochs,
    double finalTestAccuracy, double finalTrainLoss, double finalTestLoss, double bitsWeight,
    double bitsActivation, double bitsGradient, Map<String, Long> overflows, double wallSeconds,
    String source, double accuracyBeforeFinetune, EnergyEstimate energy) {

  /**
   * An estimate (not a measurement) of the energy of the run's products in µJ, from operation
   * counts × a 45 nm per-operation table: per inference (one image, forward) and per training step
   * (all products of one batch). NaN where unknown.
   */
  public record EnergyEstimate(double perInferenceUj, double perTrainingStepUj) {
    public static final EnergyEstimate NONE = new EnergyEstimate(Double.NaN, Double.NaN);
  }

  /** A run without an energy estimate (one written before summaries recorded it). */
  public RunResult(String model, String policy, long seed, List<EpochPoint> epochs,
      double finalTestAccuracy, double finalTrainLoss, double finalTestLoss, double bitsWeight,
      double bitsActivation, double bitsGradient, Map<String, Long> overflows, double wallSeconds,
      String source, double accuracyBeforeFinetune) {
    this(model, policy, seed, epochs, finalTestAccuracy, finalTrainLoss, finalTestLoss, bitsWeight,
        bitsActivation, bitsGradient, overflows, wallSeconds, source, accuracyBeforeFinetune, EnergyEstimate.NONE);
  }

  /** A run that was not fine-tuned from pretrained weights. */
  public RunResult(String model, String policy, long seed, List<EpochPoint> epochs,
      double finalTestAccuracy, double finalTrainLoss, double finalTestLoss, double bitsWeight,
      double bitsActivation, double bitsGradient, Map<String, Long> overflows, double wallSeconds,
      String source) {
    this(model, policy, seed, epochs, finalTestAccuracy, finalTrainLoss, finalTestLoss, bitsWeight,
        bitsActivation, bitsGradient, overflows, wallSeconds, source, Double.NaN);
  }

  public RunResult {
    model = model == null ? "" : model;
    Objects.requireNonNull(policy, "policy");
    epochs = List.copyOf(epochs);
    overflows = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(overflows));
    source = source == null ? "" : source;
    energy = energy == null ? EnergyEstimate.NONE : energy;
  }

  /** Mean training time per epoch over the epochs that recorded one; NaN when none did. */
  public double epochSecondsMean() {
    double sum = 0;
    int n = 0;
    for (EpochPoint e : epochs) {
      if (!Double.isNaN(e.trainSeconds())) {
        sum += e.trainSeconds();
        n++;
      }
    }
    return n == 0 ? Double.NaN : sum / n;
  }

  /** Sum of all overflow-type event counts. */
  public long overflowTotal() {
    long s = 0;
    for (long v : overflows.values()) s += v;
    return s;
  }
}
