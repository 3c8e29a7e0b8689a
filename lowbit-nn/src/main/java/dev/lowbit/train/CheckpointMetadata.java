package dev.lowbit.train;

import java.nio.file.Path;
import java.util.Map;

/**
 * Checks of the numbers in a training checkpoint's {@code __metadata__} (strings, as safetensors
 * stores them), each refusal naming the file and the key. Keys not checked here (the loss scale,
 * data fingerprints, a PyTorch file's own keys) are left to their readers.
 */
final class CheckpointMetadata {

  private CheckpointMetadata() {}

  /**
   * The epochs the checkpoint has done: an integer from 1 (the first checkpoint is written after
   * epoch 1) to the run's {@code epochs} (more would be beyond the run being resumed).
   */
  static int epoch(Map<String, String> meta, Path file, int epochs) {
    long e = integer(meta, "epoch", file);
    if (e < 1) throw new IllegalArgumentException(file + ": metadata 'epoch' is " + e + "; a checkpoint has at least 1 epoch");
    if (e > epochs) {
      throw new IllegalArgumentException(file + ": metadata 'epoch' is " + e + ", beyond this run's " + epochs
          + " epochs; ask for more with --epochs");
    }
    return (int) e;
  }

  /** A count such as "optimizer_steps": an integer of at least 0. */
  static long count(Map<String, String> meta, String key, Path file) {
    long v = integer(meta, key, file);
    if (v < 0) throw new IllegalArgumentException(file + ": metadata '" + key + "' is " + v + ", a count cannot be negative");
    return v;
  }

  private static long integer(Map<String, String> meta, String key, Path file) {
    String s = meta.get(key);
    if (s == null) throw new IllegalArgumentException(file + ": metadata '" + key + "' is missing");
    try {
      return Long.parseLong(s.strip());
    } catch (NumberFormatException e) {
      String shown = s.length() > 40 ? s.substring(0, 40) + "..." : s;
      throw new IllegalArgumentException(file + ": metadata '" + key + "' is '" + shown.replaceAll("\\p{Cntrl}", "?")
          + "', not an integer");
    }
  }
}
