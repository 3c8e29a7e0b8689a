package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.DataLoader;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Module;
import dev.lowbit.train.FineTune;
import dev.lowbit.unpack.HeavyHitters;
import dev.lowbit.unpack.IntMatrix;
import dev.lowbit.unpack.Rtn;
import dev.lowbit.unpack.Strategy;
import dev.lowbit.unpack.UnpackedGemm;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lowbit unpack}: IM-Unpack's heavy hitters and unpack ratios on a briefly trained model's products. */
class UnpackCommandTest {

  @TempDir static Path shared;
  /** The subset embedded in the jar, as a --data directory (the same data wherever the tests run). */
  static Path data;

  @BeforeAll
  static void embeddedData() throws IOException {
    data = Files.createDirectories(shared.resolve("data"));
    for (String f : List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz")) {
      try (InputStream in = FashionMnist.class.getResourceAsStream("/dev/lowbit/data/fashion-mnist-subset/" + f)) {
        Files.write(data.resolve(f), in.readAllBytes());
      }
    }
  }

  @AfterEach
  void javaBackend() {
    Kernels.useBackend("java");
  }

  /** The CSV as header → value maps, one per row. */
  static List<Map<String, String>> csv(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file);
    assertEquals(UnpackReport.CSV_HEADER, List.of(lines.get(0).split(",", -1)), "header");
    List<Map<String, String>> rows = new ArrayList<>();
    for (String l : lines.subList(1, lines.size())) {
      String[] c = l.split(",", -1);
      assertEquals(UnpackReport.CSV_HEADER.size(), c.length, l);
      Map<String, String> m = new HashMap<>();
      for (int i = 0; i < c.length; i++) m.put(UnpackReport.CSV_HEADER.get(i), c[i]);
      rows.add(m);
    }
    return rows;
  }

  static double d(Map<String, String> row, String key) {
    return Double.parseDouble(row.get(key));
  }

  /** Every ratio ≥ 1, the pick's ratio the smallest of the three, and the pick's column says so. */
  static void checkRatios(List<Map<String, String>> rows) {
    for (Map<String, String> r : rows) {
      double row = d(r, "ratio_row"), col = d(r, "ratio_column"), both = d(r, "ratio_both");
      assertTrue(row >= 1 && col >= 1 && both >= 1, r.toString());
      double min = Math.min(row, Math.min(col, both));
      assertEquals(min, d(r, "ratio_pick"), 0, r.toString());
      assertEquals(min, d(r, "ratio_" + r.get("pick")), 0, r.toString());
    }
  }

  static Map<String, String> find(List<Map<String, String>> rows, String layer, String product, int bits) {
    return rows.stream().filter(r -> r.get("layer").equals(layer) && r.get("product").equals(product)
        && r.get("bits").equals(Integer.toString(bits))).findFirst()
        .orElseThrow(() -> new AssertionError("no row " + layer + " " + product + " b=" + bits));
  }

  @Test
  void mlpRowsRatiosFilesAndTheLibrarysNumbers() throws IOException {
    Path out = shared.resolve("mlp");
    SweepCommandTest.Result r = SweepCommandTest.run("unpack", "--model", "mlp", "--bits", "3..4", "--train-steps", "5",
        "--data", data.toString(), "--out", out.toString(), "--backend", "java");
    assertEquals(0, r.rc(), r.err());
    assertTrue(r.err().contains("unpack: product 1/8 fc1 forward 32×784×256"), r.err());
    assertTrue(r.out().contains("MAC-weighted unpack ratio of the chooser's picks: b=3 "), r.out());
    assertTrue(r.out().lines().anyMatch(l -> l.matches("fc2\\s+backward-data\\s+32×256×256\\s+4\\s.*")), r.out());

    List<Map<String, String>> rows = csv(out.resolve("unpack.csv"));
    // fc1 takes the images, which need no gradient: it has no backward-data product
    Set<String> want = new HashSet<>();
    for (String layer : List.of("fc1", "fc2", "fc3")) {
      for (String p : List.of("forward", "backward-data", "backward-weight")) {
        if (!(layer.equals("fc1") && p.equals("backward-data"))) {
          for (int b : new int[] {3, 4}) want.add(layer + " " + p + " " + b);
        }
      }
    }
    Set<String> got = new HashSet<>();
    for (Map<String, String> row : rows) {
      assertTrue(got.add(row.get("layer") + " " + row.get("product") + " " + row.get("bits")), "twice: " + row);
      assertEquals("mlp", row.get("model"));
    }
    assertEquals(want, got);
    checkRatios(rows);
    for (Map<String, String> b4 : rows) {
      if (!b4.get("bits").equals("4")) continue;
      Map<String, String> b3 = find(rows, b4.get("layer"), b4.get("product"), 3);
      assertTrue(d(b4, "ratio_row") <= d(b3, "ratio_row") && d(b4, "ratio_column") <= d(b3, "ratio_column"), b4 + " " + b3);
      // D = 15 = 2^4 - 1: the β = 0.95 quantile is the grid's edge, so about 5% of each operand is heavy at b = 4 (§1.3)
      assertEquals(0.05, d(b4, "heavy_a"), 0.003, b4.toString());
      assertEquals(0.05, d(b4, "heavy_b"), 0.003, b4.toString());
    }
    assertTrue(Files.size(out.resolve("unpack-ratio.png")) > 1000);
    byte[] png = Files.readAllBytes(out.resolve("unpack-ratio.png"));
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
    String html = Files.readString(out.resolve("index.html"));
    assertTrue(html.contains("src=\"unpack-ratio.png\"") && html.contains("<td>fc2</td><td>backward-data</td>"), html);

    // the same numbers from the library, on the products recaptured from the checkpoint the run kept
    Module m = Models.create("mlp", 0);
    FineTune.loadWeights("--checkpoint", out.resolve("checkpoint.safetensors"), m, "mlp");
    DataLoader.Batch batch = new DataLoader(FashionMnist.fromDir(data).train(), 32, true, 0).batch(1, 0);
    List<ProductCapture.Captured> products = ProductCapture.step(m, batch);
    ProductCapture.Captured fwd1 = products.stream().filter(p -> p.layer().equals("fc1") && p.product().equals("forward"))
        .findFirst().orElseThrow();
    assertArrayEquals(batch.x().data(), fwd1.a().get(0), "fc1 forward's A is the images");
    ProductCapture.Captured bw1 = products.stream()
        .filter(p -> p.layer().equals("fc1") && p.product().equals("backward-weight")).findFirst().orElseThrow();
    assertArrayEquals(batch.x().data(), bw1.b().get(0), "fc1 backward-weight's B is the images");
    float[] w1 = m.namedParameters().get("fc1.weight").data(); // 256×784; fc1 forward's B is its transpose
    for (int j = 0; j < 784; j += 97) {
      for (int o = 0; o < 256; o += 31) assertEquals(w1[o * 784 + j], fwd1.b().get(0)[j * 256 + o]);
    }
    ProductCapture.Captured p = products.stream().filter(c -> c.layer().equals("fc2") && c.product().equals("backward-data"))
        .findFirst().orElseThrow();
    IntMatrix a = new IntMatrix(p.m(), p.k(), Rtn.quantize(p.a().get(0), 0.95, 15).codes());
    IntMatrix b = new IntMatrix(p.k(), p.n(), Rtn.quantize(p.b().get(0), 0.95, 15).codes());
    Map<String, String> row = find(rows, "fc2", "backward-data", 3);
    assertEquals(HeavyHitters.of(a, 3).fraction(), d(row, "heavy_a"));
    assertEquals(HeavyHitters.of(b, 3).fraction(), d(row, "heavy_b"));
    Map<Strategy, Double> ratios = UnpackedGemm.ratios(a, b, 3);
    for (Strategy s : Strategy.values()) assertEquals(ratios.get(s), d(row, "ratio_" + s.spec()), s.spec());
    assertEquals(UnpackedGemm.choose(a, b, 3).spec(), row.get("pick"));

    // --checkpoint: the same weights give the same file, without training
    Path again = shared.resolve("mlp-again");
    SweepCommandTest.Result r2 = SweepCommandTest.run("unpack", "--model", "mlp", "--bits", "3..4", "--checkpoint",
        out.resolve("checkpoint.safetensors").toString(), "--data", data.toString(), "--out", again.toString(),
        "--backend", "java");
    assertEquals(0, r2.rc(), r2.err());
    assertEquals(Files.readString(out.resolve("unpack.csv")), Files.readString(again.resolve("unpack.csv")));
    assertFalse(Files.exists(again.resolve("checkpoint.safetensors")), "nothing trained");
  }

  @Test
  void cnnCapturesItsConvolutions() throws IOException {
    Path out = shared.resolve("cnn");
    SweepCommandTest.Result r = SweepCommandTest.run("unpack", "--model", "cnn", "--bits", "4,6", "--train-steps", "2",
        "--batch", "4", "--data", data.toString(), "--out", out.toString());
    assertEquals(0, r.rc(), r.err());
    List<Map<String, String>> rows = csv(out.resolve("unpack.csv"));
    checkRatios(rows);
    Map<String, String> c2 = find(rows, "c2", "forward", 4);
    // im2col: W (64 × 32·3·3) times the columns (288 × 4·14·14)
    assertEquals(List.of("64", "288", "784"), List.of(c2.get("m"), c2.get("k"), c2.get("n")));
    for (String p : List.of("forward", "backward-weight", "backward-data")) find(rows, "c2", p, 6);
    find(rows, "c1", "backward-weight", 4);
    assertTrue(rows.stream().noneMatch(x -> x.get("layer").equals("c1") && x.get("product").equals("backward-data")));
    assertEquals(11 * 2, rows.size());
  }

  @Test
  void vitCapturesAttentionSlices() throws IOException {
    Path out = shared.resolve("vit");
    SweepCommandTest.Result r = SweepCommandTest.run("unpack", "--model", "vit", "--bits", "5", "--train-steps", "1",
        "--batch", "2", "--data", data.toString(), "--out", out.toString(), "--backend", "java");
    assertEquals(0, r.rc(), r.err());
    List<Map<String, String>> rows = csv(out.resolve("unpack.csv"));
    checkRatios(rows);
    // scores = q·kᵀ per (image, head): 2 images × 4 heads of 16 tokens × 16 dimensions
    Map<String, String> s = find(rows, "blocks.0.attn.scores", "forward", 5);
    assertEquals(List.of("8", "16", "16", "16"), List.of(s.get("calls"), s.get("m"), s.get("k"), s.get("n")));
    find(rows, "blocks.3.attn.context", "backward-weight", 5);
    find(rows, "patch", "backward-weight", 5);
  }

  /** A product above the size limit of the greedy BOTH gets no BOTH ratio; the chooser picks among row and column. */
  @Test
  void bothIsSkippedAboveTheLimit() {
    float[] a = new float[6 * 5], b = new float[5 * 4];
    for (int i = 0; i < a.length; i++) a[i] = (float) Math.sin(7 * i) * (i % 7 == 0 ? 9 : 1);
    for (int i = 0; i < b.length; i++) b[i] = (float) Math.cos(3 * i);
    ProductCapture.Captured p = new ProductCapture.Captured("x", "forward", 6, 5, 4, List.of(a), List.of(b));
    UnpackAnalysis.Quantized q = UnpackAnalysis.quantize(p, 0.95, 15);
    UnpackAnalysis.Row full = UnpackAnalysis.analyze(q, new int[] {3}, 6 * 5 + 5 * 4).get(0);
    UnpackAnalysis.Row cut = UnpackAnalysis.analyze(q, new int[] {3}, 6 * 5 + 5 * 4 - 1).get(0);
    assertFalse(full.bothSkipped());
    assertTrue(cut.bothSkipped());
    assertEquals(full.ratio(Strategy.ROW), cut.ratio(Strategy.ROW));
    assertEquals(full.ratio(Strategy.COLUMN), cut.ratio(Strategy.COLUMN));
    assertEquals(Math.min(cut.ratio(Strategy.ROW), cut.ratio(Strategy.COLUMN)), cut.pickRatio());
    assertTrue(UnpackReport.table(List.of(cut)).contains(" skipped "), UnpackReport.table(List.of(cut)));
    assertTrue(UnpackReport.csv("m", List.of(cut)).contains(",,"), "an empty ratio_both cell");
    assertTrue(Double.isNaN(UnpackAnalysis.overall(List.of(cut), 3, Strategy.BOTH)));
  }

  /** Runs unpack with bad input: exit code 2, one error line naming the problem, nothing written. */
  private static String bad(String... args) {
    Path out = shared.resolve("bad-" + Math.abs(String.join(" ", args).hashCode()));
    List<String> all = new ArrayList<>(List.of("unpack", "--data", data.toString(), "--out", out.toString()));
    all.addAll(List.of(args));
    SweepCommandTest.Result r = SweepCommandTest.run(all.toArray(String[]::new));
    assertEquals(2, r.rc(), r.out() + r.err());
    List<String> lines = r.err().lines().toList();
    assertEquals(1, lines.size(), r.err());
    assertTrue(lines.get(0).startsWith("lowbit: error: "), lines.get(0));
    assertFalse(Files.exists(out), "wrote " + out);
    return lines.get(0);
  }

  @Test
  void badInputIsOneLine() throws IOException {
    assertTrue(bad("--bits", "9").contains("--bits 9: bit width 9 is outside 2..8"));
    assertTrue(bad("--bits", "1..4").contains("bit width 1 is outside 2..8"));
    assertTrue(bad("--bits", "3..x").contains("bad --bits '3..x'"));
    assertTrue(bad("--beta", "0").contains("--beta must be in (0, 1], got 0.0"));
    assertTrue(bad("--beta", "1.5").contains("--beta must be in (0, 1], got 1.5"));
    assertTrue(bad("--distinct", "0").contains("--distinct must be 1..16777216, got 0"));
    assertTrue(bad("--model", "lstm").contains("unknown model 'lstm'"));
    assertTrue(bad("--checkpoint", shared.resolve("nope.safetensors").toString())
        .contains("--checkpoint " + shared.resolve("nope.safetensors") + ": no such file"));
    Path corrupt = shared.resolve("corrupt.safetensors");
    Files.write(corrupt, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    assertTrue(bad("--checkpoint", corrupt.toString()).contains(corrupt + ": corrupt safetensors header"));
    Path mlp = shared.resolve("mlp-weights.safetensors");
    dev.lowbit.io.Safetensors.write(mlp, Models.create("mlp", 0).stateDict(), Map.of("model", "mlp"));
    assertTrue(bad("--model", "cnn", "--checkpoint", mlp.toString())
        .contains("--checkpoint " + mlp + ": checkpoint is for model 'mlp', not 'cnn'"));
  }
}
