package dev.lowbit.report;

/**
 * One epoch of a run as the report plots it; NaN where the run did not record a value.
 *
 * @param epoch 1-based epoch number
 * @param step optimizer steps done at the end of the epoch
 * @param trainLoss mean training loss over the epoch
 * @param testAccuracy test accuracy in [0, 1] after the epoch
 * @param lr learning rate at the end of the epoch
 * @param samplesPerSecond training throughput over the epoch
 * @param trainSeconds the epoch's training time (without its evaluation)
 */
public record EpochPoint(int epoch, long step, double trainLoss, double testAccuracy, double lr,
    double samplesPerSecond, double trainSeconds) {

  /** A point without its training time. */
  public EpochPoint(int epoch, long step, double trainLoss, double testAccuracy, double lr, double samplesPerSecond) {
    this(epoch, step, trainLoss, testAccuracy, lr, samplesPerSecond, Double.NaN);
  }
}
