package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.FashionMnist;
import dev.lowbit.intonly.exec.Program;
import dev.lowbit.io.Json;
import dev.lowbit.io.ProgramFile;
import dev.lowbit.io.Safetensors;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Normalization;
import dev.lowbit.numerics.Policy;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code export --int-only}, {@code infer} and {@code bench infer}: end to end on the embedded subset, and bad input. */
class IntOnlyCommandsTest {

  @TempDir static Path shared;
  /** The embedded subset as a --data directory, so that every machine runs on the same small data. */
  static Path data;
  /** A float MLP checkpoint (seeded random weights: the commands' arithmetic, not the accuracy, is tested). */
  static Path mlp;

  @TempDir Path dir;

  @BeforeAll
  static void setUp() throws Exception {
    data = Files.createDirectories(shared.resolve("data"));
    for (String split : List.of("train", "t10k")) {
      for (String kind : List.of("-images-idx3-ubyte.gz", "-labels-idx1-ubyte.gz")) {
        try (InputStream in = FashionMnist.class.getResourceAsStream("/dev/lowbit/data/fashion-mnist-subset/" + split + kind)) {
          Files.copy(in, data.resolve(split + kind));
        }
      }
    }
    mlp = shared.resolve("mlp.safetensors");
    Safetensors.write(mlp, Models.create("mlp", 3).stateDict(), Map.of("model", "mlp"));
  }

  @AfterEach
  void javaBackend() {
    Kernels.useBackend("java");
  }

  private static String[] run(String... args) {
    return BenchGemmCommandTest.run(args);
  }

  /**
   * The run failed with exactly one error line (after any progress lines), which contains every one
   * of {@code parts}.
   */
  private static String oneError(String[] r, String... parts) {
    assertEquals("2", r[0], r[1] + r[2]);
    List<String> lines = r[2].lines().filter(l -> !l.isBlank() && !l.startsWith("export: ")).toList();
    assertEquals(1, lines.size(), r[2]);
    assertTrue(lines.get(0).startsWith("lowbit: error: "), r[2]);
    for (String p : parts) assertTrue(lines.get(0).contains(p), lines.get(0));
    return lines.get(0);
  }

  private List<String> files() throws Exception {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /**
   * A program for 1×28×28 images whose logits are its bias alone (all weights 0): every image is
   * class {@code k}, so its accuracy is the share of class k among the images.
   */
  static Program constantClass(int k) {
    int[] bias = new int[10];
    bias[k] = 5;
    return new Program("mlp", 1, 28, 28, 10, List.of(
        new Program.Linear(1, 0, 1, 784, 10, new byte[7840], bias),
        new Program.Argmax(2, 1, 10)));
  }

  // ---- end to end -------------------------------------------------------------------------------

  @Test
  void exportWritesAProgramThatLoadsAndExplainsIt() throws Exception {
    Path out = dir.resolve("mlp.lbi.safetensors");
    String[] r = run("export", "--int-only", "--checkpoint", mlp.toString(), "--data", data.toString(),
        "--calibration-batches", "1", "--out", out.toString(), "--explain", "--backend", "java");
    assertEquals("0", r[0], r[2]);
    Program p = ProgramFile.load(out);
    assertEquals("mlp", p.model());
    assertTrue(r[2].contains("export: compiling mlp") && r[2].contains("calibrated on 64 training images"), r[2]);
    List<String> lines = r[1].lines().toList();
    assertEquals("exported mlp: " + p.ops().size() + " ops, " + IntPrograms.parameterBytes(p) + " parameter bytes, "
        + Files.size(out) + " bytes in " + out, lines.get(lines.size() - 1));
    assertTrue(r[1].startsWith("program mlp: input 1×28×28") && lines.size() == 2 + p.ops().size(),
        "--explain printed the program, a line per op: " + r[1]);
    // 784·256 + 256·256 + 256·10 int8 weights and 522 int32 biases
    assertEquals(784 * 256 + 256 * 256 + 256 * 10 + 4 * (256 + 256 + 10), IntPrograms.parameterBytes(p));
  }

  @Test
  void inferCountsAProgramsPredictionsIntoTheConfusionMatrix() throws Exception {
    Path prog = dir.resolve("seven.lbi.safetensors");
    ProgramFile.save(prog, constantClass(7));
    Path out = dir.resolve("infer");
    String[] r = run("infer", "--program", prog.toString(), "--data", data.toString(), "--limit", "50", "--batch",
        "16", "--out", out.toString(), "--backend", "java");
    assertEquals("0", r[0], r[2]);
    int[] labels = FashionMnist.embedded().test().labels();
    int sevens = 0;
    for (int i = 0; i < 50; i++) if (labels[i] == 7) sevens++;
    assertTrue(r[1].contains("IntMatmul " + IntPrograms.matmul().name()), r[1]);
    String last = r[1].lines().reduce((a, b) -> b).orElseThrow();
    assertTrue(last.startsWith(String.format(java.util.Locale.ROOT, "int-only accuracy %.4f (%d/50) at ", sevens / 50.0,
        sevens)) && last.endsWith("; wrote " + out), last);
    Map<?, ?> s = (Map<?, ?>) Json.parse(Files.readString(out.resolve(InferReport.SUMMARY)));
    assertEquals(50L, s.get("test_images"));
    Map<?, ?> in = (Map<?, ?>) s.get("int");
    assertEquals((long) sevens, in.get("correct"));
    List<?> confusion = (List<?>) in.get("confusion");
    for (int t = 0; t < 10; t++) {
      List<?> row = (List<?>) confusion.get(t);
      long n = 0;
      for (int i = 0; i < 50; i++) if (labels[i] == t) n++;
      for (int p = 0; p < 10; p++) assertEquals(p == 7 ? n : 0L, row.get(p), "true " + t + ", predicted " + p);
    }
    assertFalse(s.containsKey("float"), "no checkpoint, no float run");
    assertTrue(Files.size(out.resolve("confusion-int.png")) > 1000);
    assertTrue(Files.readString(out.resolve(InferReport.TABLE)).contains("integer-only program"));
  }

  @Test
  void inferWithACheckpointCompilesAndRunsBoth() throws Exception {
    Path out = dir.resolve("both");
    String[] r = run("infer", "--checkpoint", mlp.toString(), "--int-only", "--data", data.toString(),
        "--calibration-batches", "1", "--limit", "40", "--batch", "32", "--out", out.toString(), "--backend", "java");
    assertEquals("0", r[0], r[2]);
    String last = r[1].lines().reduce((a, b) -> b).orElseThrow();
    assertTrue(last.matches("int-only accuracy \\d\\.\\d{4} \\(\\d+/40\\) at \\d+ images/s; float accuracy \\d\\.\\d{4}"
        + " \\(\\d+/40\\) at \\d+ images/s \\(int-only/float \\d+\\.\\d\\dx\\); wrote .*"), last);
    Map<?, ?> s = (Map<?, ?>) Json.parse(Files.readString(out.resolve(InferReport.SUMMARY)));
    assertTrue(s.containsKey("int") && s.containsKey("float"), s.toString());
    assertTrue(Files.exists(out.resolve("confusion-float.png")) && Files.exists(out.resolve("confusion-int.png")));
  }

  @Test
  void inferWithACheckpointAloneRunsTheFloatModel() throws Exception {
    Path out = dir.resolve("float");
    String[] r = run("infer", "--checkpoint", mlp.toString(), "--data", data.toString(), "--limit", "20", "--out",
        out.toString(), "--backend", "java");
    assertEquals("0", r[0], r[2]);
    Map<?, ?> s = (Map<?, ?>) Json.parse(Files.readString(out.resolve(InferReport.SUMMARY)));
    assertEquals(List.of("model", "data", "test_images", "batch", "threads", "float"), List.copyOf(s.keySet()));
    assertEquals(20L, ((List<?>) ((Map<?, ?>) s.get("float")).get("confusion")).stream()
        .mapToLong(row -> ((List<?>) row).stream().mapToLong(v -> (Long) v).sum()).sum());
    assertFalse(r[1].contains("IntMatmul"), r[1]);
  }

  @Test
  void benchInferTimesBothSidesAndNamesTheCpuAndTheMatmul() {
    String[] r = run("bench", "infer", "--model", "mlp", "--batch", "4", "--seconds", "0.01", "--max-warmup", "0.5",
        "--backend", "java");
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].contains("CPU " + BenchUnpackCommand.cpuName()), r[1]);
    assertTrue(r[1].contains("IntMatmul " + IntPrograms.matmul().name()), r[1]);
    assertTrue(r[1].lines().anyMatch(l -> l.matches("int-only +\\d+\\.\\d +\\d+\\.\\d{3}( +!)?")), r[1]);
    assertTrue(r[1].lines().anyMatch(l -> l.matches("float +\\d+\\.\\d +\\d+\\.\\d{3}( +!)?")), r[1]);
    assertTrue(r[1].lines().anyMatch(l -> l.matches("ratio int-only/float: \\d+\\.\\d\\dx images/s .*")), r[1]);
  }

  // ---- bad input --------------------------------------------------------------------------------

  @Test
  void exportWithoutIntOnlySaysSoAndWritesNothing() throws Exception {
    Path out = dir.resolve("x.lbi.safetensors");
    oneError(run("export", "--checkpoint", mlp.toString(), "--out", out.toString()), "only --int-only export exists");
    assertEquals(List.of(), files());
  }

  @Test
  void aMissingOrMistakenFileIsNamed() throws Exception {
    Path missing = dir.resolve("nope.safetensors");
    Path out = dir.resolve("x.lbi.safetensors");
    oneError(run("export", "--int-only", "--checkpoint", missing.toString(), "--out", out.toString()),
        "--checkpoint " + missing, "no such file");
    oneError(run("infer", "--checkpoint", missing.toString(), "--out", dir.resolve("o").toString()),
        "--checkpoint " + missing);
    oneError(run("infer", "--out", dir.resolve("o").toString()), "give --program FILE", "--checkpoint");
    Path prog = dir.resolve("p.lbi.safetensors");
    ProgramFile.save(prog, constantClass(2));
    oneError(run("infer", "--checkpoint", prog.toString(), "--out", dir.resolve("o").toString()),
        "--checkpoint " + prog + ": is an integer program", "--program");
    oneError(run("infer", "--program", mlp.toString(), "--out", dir.resolve("o").toString()),
        mlp + ": not a lowbit integer program");
    Files.delete(prog);
    assertEquals(List.of(), files());
  }

  /** An L1-norm ViT (ShiftQuant's normalization) has norm layers the integer compiler does not take. */
  @Test
  void aCheckpointWithAnUnsupportedLayerNamesTheLayerAndItsType() throws Exception {
    Path ck = dir.resolve("l1vit.safetensors");
    String policy = Policy.parse("option normalization l1\n", "l1").toText();
    LinkedHashMap<String, String> meta = new LinkedHashMap<>();
    meta.put("model", "vit");
    meta.put("identity", Json.write(Map.of("policy", policy)));
    Safetensors.write(ck, Models.create("vit", 0, Normalization.L1).stateDict(), meta);
    Path out = dir.resolve("vit.lbi.safetensors");
    String e = oneError(run("export", "--int-only", "--checkpoint", ck.toString(), "--data", data.toString(),
        "--calibration-batches", "1", "--out", out.toString(), "--backend", "java"), "--checkpoint " + ck,
        "cannot compile model vit");
    assertTrue(e.contains("blocks.0.ln1 (L1LayerNorm)"), e);
    assertFalse(Files.exists(out));
  }

  @Test
  void aCorruptProgramFileIsNamedWithTheField() throws Exception {
    Path good = dir.resolve("good.lbi.safetensors");
    ProgramFile.save(good, constantClass(1));
    Safetensors.Header h = Safetensors.header(good);
    LinkedHashMap<String, String> meta = new LinkedHashMap<>(h.metadata());
    meta.put("op.0", meta.get("op.0").replace(",\"inF\":784", ""));
    LinkedHashMap<String, Safetensors.Stored> t = new LinkedHashMap<>();
    t.put("op.0.weight", new Safetensors.I8(h.readI8("op.0.weight"), h.entries().get("op.0.weight").shape()));
    t.put("op.0.bias", new Safetensors.I32(h.readI32("op.0.bias"), h.entries().get("op.0.bias").shape()));
    Path bad = dir.resolve("bad.lbi.safetensors");
    Safetensors.writeTyped(bad, t, meta);
    Path out = dir.resolve("o");
    oneError(run("infer", "--program", bad.toString(), "--data", data.toString(), "--out", out.toString()),
        bad.toString(), "op 0 (linear): missing field 'inF'");
    assertFalse(Files.exists(out));
  }

  @Test
  void badFlagsGiveOneErrorLine() throws Exception {
    Path prog = dir.resolve("p.lbi.safetensors");
    ProgramFile.save(prog, constantClass(0));
    Path out = dir.resolve("o");
    oneError(run("infer", "--program", prog.toString(), "--batch", "0", "--out", out.toString()),
        "--batch must be > 0, got 0");
    oneError(run("infer", "--program", prog.toString(), "--threads", "0", "--out", out.toString()), "--threads");
    oneError(run("infer", "--program", prog.toString(), "--limit", "-1", "--out", out.toString()), "--limit");
    oneError(run("export", "--int-only", "--checkpoint", mlp.toString(), "--calibration-batches", "0", "--out",
        dir.resolve("x.lbi.safetensors").toString()), "--calibration-batches must be > 0");
    oneError(run("export", "--int-only", "--checkpoint", mlp.toString(), "--calibration", "median", "--out",
        dir.resolve("x.lbi.safetensors").toString()), "--calibration 'median': valid rules are max, ema");
    oneError(run("bench", "infer", "--model", "transformer"), "unknown model 'transformer'", "known: mlp");
    oneError(run("bench", "infer", "--batch", "0"), "--batch must be > 0");
    assertEquals(List.of("p.lbi.safetensors"), files());
  }
}
