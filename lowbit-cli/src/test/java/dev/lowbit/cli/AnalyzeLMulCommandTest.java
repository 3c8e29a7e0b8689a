package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lowbit analyze lmul} on a small sample: the means of spec §3.5 (2,000,000 pairs there)
 * come back within a few of this sample's standard errors, the files are written, and bad flags
 * give one line.
 */
class AnalyzeLMulCommandTest {

  /** method → column {@code col} (7 mean, 9 bias) of one CSV file's rows of the given source and length. */
  private static Map<String, Double> column(Path csv, String source, int length, int col) throws Exception {
    Map<String, Double> m = new HashMap<>();
    List<String> lines = Files.readAllLines(csv);
    assertEquals(String.join(",", AnalyzeLMulCommand.CSV_HEADER), lines.get(0));
    for (String l : lines.subList(1, lines.size())) {
      String[] c = l.split(",", -1);
      if (c[0].equals(source) && Integer.parseInt(c[1]) == length) m.put(c[2], Double.parseDouble(c[col]));
    }
    return m;
  }

  @Test
  void reproducesTheSpecsMeansAndWritesTheFiles(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("a");
    String[] r = BenchGemmCommandTest.run("analyze", "lmul", "--samples", "2e5", "--formats", "e4m3,e5m2,e3m4",
        "--dot-lengths", "64,256", "--seed", "3", "--out", out.toString());
    assertEquals("0", r[0], r[2]);
    for (String f : List.of("lmul.csv", "lmul.png", "dots.csv", "dots.png", "index.html")) {
      assertTrue(Files.size(out.resolve(f)) > 100, f);
    }
    Map<String, Double> p = column(out.resolve("lmul.csv"), "normal", 1, 7);
    assertEquals(14 + 3, p.size(), p.toString());
    // standard errors at 2e5 pairs are about 0.01 %; 0.1 % is ten of them
    double tol = 0.001;
    assertEquals(0.0571, p.get("lmul3:rne"), tol);
    assertEquals(0.0482, p.get("lmul3:trunc"), tol);
    assertEquals(0.0529, p.get("lmul4:rne"), tol);
    assertEquals(0.0302, p.get("lmul4:trunc"), tol);
    assertEquals(0.0336, p.get("e4m3"), tol);
    assertEquals(0.0608, p.get("e5m2"), tol);
    // L-Mul's own error does not vanish with more bits: m ≥ 5 stays near 2.7 % (spec §3.4)
    assertEquals(0.027, p.get("lmul7:trunc"), 0.003);
    // the positive bias of c = 2^-l = 1/8 for m = 3 and 4 (spec §3.4: about +4.9 % on the grid, RNE
    // operands adding none of their own), and the small one of c = 1/16 for m ≥ 5
    Map<String, Double> bias = column(out.resolve("lmul.csv"), "normal", 1, 9);
    assertTrue(bias.get("lmul3:rne") > 0.03 && bias.get("lmul4:rne") > 0.03, bias.toString());
    assertTrue(Math.abs(bias.get("lmul7:rne")) < 0.01, bias.toString());
    Map<String, Double> d = column(out.resolve("dots.csv"), "normal", 64, 7);
    // d = 64 (spec §3.5): L-Mul m=3 0.056, m=4 0.049, e4m3 0.030, e5m2 0.057; 3125 dots here
    assertEquals(0.056, d.get("lmul3:rne"), 0.004);
    assertEquals(0.049, d.get("lmul4:rne"), 0.004);
    assertEquals(0.030, d.get("e4m3"), 0.003);
    assertEquals(0.057, d.get("e5m2"), 0.004);
    assertTrue(r[1].contains("summary: mean relative error of single products: lmul3:rne 5.7"), r[1]);
    assertTrue(Files.readString(out.resolve("index.html")).contains("src=\"lmul.png\""));
  }

  @Test
  void badFlagsGiveOneLine(@TempDir Path dir) {
    String o = dir.resolve("x").toString();
    String[][] cases = {
      {"--samples", "0", "--samples must be a whole number"},
      {"--samples", "1.5", "--samples must be a whole number"},
      {"--formats", "e4m3,int8", "--formats: 'int8' is not a minifloat"},
      {"--dot-lengths", "64,0", "--dot-lengths: '0' is not a length"},
    };
    for (String[] c : cases) {
      String[] r = BenchGemmCommandTest.run("analyze", "lmul", c[0], c[1], "--out", o);
      assertEquals("2", r[0], c[0] + " " + c[1] + ": " + r[1] + r[2]);
      assertEquals(1, r[2].strip().lines().count(), r[2]);
      assertTrue(r[2].startsWith("lowbit: error: " + c[2]), r[2]);
    }
    assertTrue(!Files.exists(dir.resolve("x")), "nothing written on a bad flag");
  }

  @Test
  void pairsCapturedFromAVitCheckpoint(@TempDir Path dir) throws Exception {
    dev.lowbit.nn.Module vit = dev.lowbit.models.Models.create("vit", 5);
    Path ckpt = dir.resolve("vit.safetensors");
    dev.lowbit.io.Safetensors.write(ckpt, vit.stateDict(), Map.of("model", "vit"));
    Path out = dir.resolve("a");
    String[] r = BenchGemmCommandTest.run("analyze", "lmul", "--samples", "20000", "--dot-lengths", "64",
        "--checkpoint", ckpt.toString(), "--batch", "2", "--out", out.toString());
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].contains("Pairs captured from the forward products of vit") && r[1].contains("captured from vit: lmul3:rne"),
        r[1]);
    Map<String, Double> p = column(out.resolve("lmul.csv"), "captured", 1, 7);
    assertEquals(16, p.size(), p.toString());
    // captured operands are not N(0,1) (an untrained ViT here), but L-Mul's error stays of the same size
    for (String m : List.of("lmul3:rne", "lmul4:trunc")) assertTrue(p.get(m) > 0.01 && p.get(m) < 0.1, m + " " + p);
    List<String> dots = Files.readAllLines(out.resolve("dots.csv"));
    assertTrue(dots.stream().anyMatch(l -> l.startsWith("captured blocks.0.attn.scores,")), dots.toString());
    assertTrue(dots.stream().anyMatch(l -> l.startsWith("captured blocks.0.fc1,")), dots.toString());
    assertTrue(Files.readString(out.resolve("index.html")).contains("Pairs captured from the model"));
    String[] bad = BenchGemmCommandTest.run("analyze", "lmul", "--checkpoint", dir.resolve("nope").toString(),
        "--out", dir.resolve("b").toString());
    assertEquals("2", bad[0]);
    assertTrue(bad[2].startsWith("lowbit: error: --checkpoint " + dir.resolve("nope") + ": no such file"), bad[2]);
  }
}
