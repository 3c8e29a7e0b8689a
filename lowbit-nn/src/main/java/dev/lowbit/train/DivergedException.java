package dev.lowbit.train;

/**
 * Training diverged: a step's loss, or the test loss of an end-of-epoch evaluation, is NaN or
 * infinite. The message names the epoch and step ("training diverged at epoch 2 step 17 (loss
 * NaN); ..."); the run's last checkpoint is the epoch before.
 */
public final class DivergedException extends IllegalStateException {

  private final int epoch;
  private final long step;

  public DivergedException(int epoch, long step, String what) {
    super("training diverged at epoch " + epoch + " step " + step + " (" + what + "); try a smaller --lr");
    this.epoch = epoch;
    this.step = step;
  }

  /** The epoch (1-based) in which the loss became non-finite. */
  public int epoch() {
    return epoch;
  }

  /** The step (1-based over the run, as metrics.jsonl counts) at which it was found. */
  public long step() {
    return step;
  }
}
