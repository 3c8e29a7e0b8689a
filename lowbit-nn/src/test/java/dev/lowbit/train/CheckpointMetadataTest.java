package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CheckpointMetadataTest {

  private static final Path FILE = Path.of("runs/a/checkpoint.safetensors");

  private static String epochError(String value, int epochs) {
    Map<String, String> meta = new HashMap<>();
    if (value != null) meta.put("epoch", value);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CheckpointMetadata.epoch(meta, FILE, epochs));
    assertTrue(e.getMessage().startsWith(FILE + ": metadata 'epoch' "), e.getMessage());
    return e.getMessage();
  }

  @Test
  void epochIsAnIntegerWithinTheRun() {
    assertEquals(1, CheckpointMetadata.epoch(Map.of("epoch", "1"), FILE, 3));
    assertEquals(3, CheckpointMetadata.epoch(Map.of("epoch", "3"), FILE, 3));
    assertTrue(epochError("-1", 3).contains("is -1; a checkpoint has at least 1 epoch"));
    assertTrue(epochError("0", 3).contains("is 0;"));
    assertTrue(epochError("4", 3).contains("is 4, beyond this run's 3 epochs; ask for more with --epochs"));
    assertTrue(epochError("99999999999", 3).contains("beyond"));
    assertTrue(epochError("two", 3).contains("is 'two', not an integer"));
    assertTrue(epochError("1.5", 3).contains("not an integer"));
    assertTrue(epochError("", 3).contains("not an integer"));
    assertTrue(epochError("1\n2", 3).contains("'1?2'"));
    assertTrue(epochError(null, 3).contains("is missing"));
  }

  @Test
  void countsAreNotNegative() {
    assertEquals(0, CheckpointMetadata.count(Map.of("optimizer_steps", "0"), "optimizer_steps", FILE));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CheckpointMetadata.count(Map.of("optimizer_steps", "-5"), "optimizer_steps", FILE));
    assertEquals(FILE + ": metadata 'optimizer_steps' is -5, a count cannot be negative", e.getMessage());
  }
}
