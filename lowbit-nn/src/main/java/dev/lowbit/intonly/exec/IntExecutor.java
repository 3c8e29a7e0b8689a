package dev.lowbit.intonly.exec;

/**
 * Runs a {@link Program} with integer arithmetic alone: no float or double anywhere in this
 * package (a test reads its class files). Thread-safe; one call runs one batch.
 */
public final class IntExecutor {

  private final IntMatmul matmul;
  private final int threads;

  /** An executor whose products run on {@code matmul}, over up to {@code threads} threads. */
  public IntExecutor(IntMatmul matmul, int threads) {
    if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    this.matmul = java.util.Objects.requireNonNull(matmul, "matmul");
    this.threads = threads;
  }

  /**
   * The class index of each of {@code count} images: {@code pixels} holds count×C×H×W raw pixel
   * bytes (read as 0..255) from offset {@code off}.
   */
  public int[] classify(Program program, byte[] pixels, int off, int count) {
    throw new UnsupportedOperationException("to be written: integer executor");
  }

  /** The logits (the input of the program's final argmax) of each image, count × classes. */
  public int[] logits(Program program, byte[] pixels, int off, int count) {
    throw new UnsupportedOperationException("to be written: integer executor");
  }
}
