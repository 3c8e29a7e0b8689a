package dev.lowbit.io;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The slow suite's fuzzing runs: 100,000 damaged inputs per parser (seeded, so a failure names a
 * reproducible seed), each checked as in {@link ParserPropertiesTest}. Small cases keep each run
 * well under a minute on one core.
 */
@Tag("slow")
class ParserFuzzTest {

  static final int CASES = 100_000;

  @Test
  void json() {
    for (long seed = 0; seed < CASES; seed++) Fuzz.jsonCase(seed * 0x9E3779B97F4A7C15L);
  }

  @Test
  void safetensorsHeadersAndFiles(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("case.safetensors");
    for (long seed = 0; seed < CASES; seed++) Fuzz.safetensorsCase(seed * 0x9E3779B97F4A7C15L, f);
  }
}
