package dev.lowbit.intonly;

import dev.lowbit.intonly.exec.Program;
import dev.lowbit.nn.Module;

/**
 * Compiles a trained float model into an integer-only {@link Program} (I-ViT, Li &amp; Gu, ICCV
 * 2023): calibrates activation ranges on a few batches, folds batch norms into the preceding
 * convolutions, quantizes weights per output channel and biases to int32, and derives every
 * requantization's dyadic constants.
 */
public final class IntCompiler {

  private IntCompiler() {}

  /** How many training images calibrate the activation ranges. */
  public record Calibration(int batches, int batchSize) {
    public static final Calibration DEFAULT = new Calibration(8, 64);

    public Calibration {
      if (batches < 1 || batchSize < 1) {
        throw new IllegalArgumentException("calibration needs at least 1 batch of 1 image, got " + batches + " × " + batchSize);
      }
    }
  }

  /**
   * The integer program of {@code model} (named {@code modelName}, e.g. "cnn"), calibrated on the
   * first {@code cal.batches() × cal.batchSize()} of the {@code count} images in {@code images}
   * (count×C×H×W values pixel/255, as the model was trained on; fewer when there are fewer).
   *
   * @throws IllegalArgumentException naming the layer and its type when a layer is not supported
   */
  public static Program compile(String modelName, Module model, float[] images, int count, Calibration cal) {
    throw new UnsupportedOperationException("to be written: integer compiler");
  }
}
