package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.Kernels;
import dev.lowbit.unpack.HeavyHitters;
import dev.lowbit.unpack.IntMatrix;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BenchUnpackCommandTest {

  @AfterEach
  void reset() {
    Kernels.useBackend("java");
  }

  private static String[] run(String... args) {
    return BenchGemmCommandTest.run(args);
  }

  @Test
  void printsARowPerConfigurationAndNamesTheCpu() {
    String[] r = run("bench", "unpack", "--backend", "java", "--shapes", "12x20x9,16x8x24", "--heavy", "0.05",
        "--bits", "3", "--seconds", "0.01");
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].contains("CPU " + BenchUnpackCommand.cpuName()), r[1]);
    List<String> rows = r[1].lines().filter(l -> l.matches("\\d+x\\d+x\\d+ .*")).toList();
    assertEquals(2, rows.size(), r[1]);
    for (String row : rows) {
      String[] f = row.trim().split(" +");
      // shape heavy bits strategy ratio unpack gemms total plain tot/pln over unpack%
      assertTrue(Double.parseDouble(f[4]) >= 1, row);
      assertTrue(Double.parseDouble(f[9].replace("x", "")) > 0, row);
    }
    assertTrue(rows.stream().anyMatch(l -> l.startsWith("16x8x24") && l.contains(" 5.0% ") && l.contains(" 3 ")), r[1]);
    assertTrue(r[1].lines().anyMatch(l -> l.startsWith("summary: ") && l.contains("of 2 configurations")), r[1]);
  }

  @Test
  void aStrategyAndChannelOutliersCanBeChosen() {
    String[] r = run("bench", "unpack", "--backend", "java", "--shapes", "10x30x10", "--heavy", "0.1",
        "--strategy", "row", "--outliers", "channels", "--seconds", "0.01");
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].lines().anyMatch(l -> l.matches("10x30x10 +10\\.0% +4 row .*")), r[1]);
  }

  @Test
  void operandsHoldTheAskedFractionOfHeavyHitters() {
    IntMatrix x = BenchUnpackCommand.operand(40, 50, 0.05, 4, BenchUnpackCommand.Channels.NONE, new SplittableRandom(1));
    assertEquals(100, HeavyHitters.of(x, 4).total());
    IntMatrix c = BenchUnpackCommand.operand(40, 50, 0.1, 4, BenchUnpackCommand.Channels.COLUMNS, new SplittableRandom(1));
    HeavyHitters h = HeavyHitters.of(c, 4);
    assertEquals(5, h.dirtyColumns());
    assertEquals(5 * 40, h.total());
    for (int v : x.data()) assertTrue(v >= -127 && v <= 127, "int8 range: " + v);
  }

  @Test
  void badFlagsGiveOneErrorLine() {
    String[][] bad = {
      {"--shapes", "0x5x5"}, {"--shapes", "5x5"}, {"--heavy", "1.5"}, {"--bits", "9"}, {"--strategy", "diagonal"},
      {"--outliers", "rows"}, {"--seconds", "0"},
    };
    for (String[] flag : bad) {
      String[] r = run("bench", "unpack", "--backend", "java", flag[0], flag[1]);
      assertNotEquals("0", r[0], String.join(" ", flag));
      List<String> lines = r[2].lines().filter(l -> !l.isBlank()).toList();
      assertEquals(1, lines.size(), r[2]);
      assertTrue(lines.get(0).contains(flag[1]), r[2]);
    }
  }
}
