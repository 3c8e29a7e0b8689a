package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.io.Json;
import dev.lowbit.io.Safetensors;
import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Golden digests of training results: every preset on the MLP and the CNN for one epoch on the
 * first 2,000 / 500 images (the subset embedded in the jar, so the same data whether Debian's is
 * installed or not), a fine-tune (acc12 from the fp32 run), and a few steps of the ResNet and the
 * ViT, on {@code --backend java} and {@code auto}. Each run is summed up by two SHA-256 digests:
 * of the final model weights (names, shapes and float bits; optimizer state left out) and of
 * metrics.jsonl without its timing fields and paths. A change that must not change results (the
 * numerics redesign of issue 7) is checked against them; one that changes them on purpose names
 * the bug it fixes and regenerates them with {@code scripts/golden-digests.sh}.
 *
 * <p>Results are bit-reproducible for one machine kind, thread count and vector width, not across
 * CPUs (oneDNN's order of summation depends on the ISA), so the digests are keyed by the GEMM
 * backend's name, which holds the ISA and vector width (e.g. {@code
 * onednn-3.11.0-avx512_core_vnni+vector-512x2}); a machine whose key has no digests yet skips
 * with a message saying how to add them.
 */
@Tag("slow")
class GoldenDigestsTest {

  static final String RESOURCE = "/dev/lowbit/cli/golden-digests.txt";
  static final String WRITE_PROPERTY = "lowbit.golden.write";

  static final List<String> PRESETS = List.of("fp32", "bf16", "fp16", "fp8", "mxfp8", "mxfp4", "int8", "dfp16",
      "shiftquant4", "shiftquant8");

  @TempDir Path dir;

  /** One run: its key in the digest file and the arguments of {@code lowbit train}. */
  record Run(String name, List<String> args) {}

  static List<Run> runs(Path dir, String backend) {
    List<Run> rs = new ArrayList<>();
    for (String model : List.of("mlp", "cnn")) {
      for (String p : PRESETS) {
        rs.add(run(dir, backend, model, p, "1", "2000", "500", null));
      }
      // acc12 is a fine-tune: one epoch from this model's fp32 run
      rs.add(run(dir, backend, model, "acc12", "1", "2000", "500", out(dir, backend, model, "fp32")));
    }
    for (String model : List.of("resnet", "vit")) {
      for (String p : List.of("fp32", "bf16", "int8", "mxfp8")) {
        rs.add(run(dir, backend, model, p, "1", "256", "128", null)); // 4 steps of 64
      }
    }
    return rs;
  }

  private static Path out(Path dir, String backend, String model, String preset) {
    return dir.resolve(backend + "-" + model + "-" + preset);
  }

  private static Run run(Path dir, String backend, String model, String preset, String epochs, String train,
      String test, Path init) {
    List<String> a = new ArrayList<>(List.of("train", "--backend", backend, "--model", model, "--policy", preset,
        "--epochs", epochs, "--limit-train", train, "--limit-test", test, "--batch", "64", "--seed", "1",
        "--threads", "2", "--out", out(dir, backend, model, preset).toString()));
    if (init != null) a.addAll(List.of("--init", init.toString()));
    return new Run(model + " " + preset, a);
  }

  @Test
  void trainingResultsMatchTheirGoldenDigests() throws Exception {
    Map<String, String> want = load();
    String file = System.getProperty(WRITE_PROPERTY);
    boolean writing = file != null && !file.isBlank();
    Map<String, String> got = new TreeMap<>();
    List<String> keys = new ArrayList<>(), missing = new ArrayList<>();
    try {
      for (String backend : List.of("java", "auto")) {
        String key = gemmName(backend);
        if (!writing && want.keySet().stream().noneMatch(w -> w.startsWith(key + " "))) {
          missing.add(key);
          continue;
        }
        keys.add(key);
        for (Run r : runs(dir, backend)) {
          SweepCommandTest.Result res = SweepCommandTest.run(r.args().toArray(String[]::new));
          assertEquals(0, res.rc(), r + ": " + res.err());
          assertEquals(key, gemmName(), r + " ran on another backend");
          Path out = Path.of(r.args().get(r.args().indexOf("--out") + 1));
          got.put(key + " " + r.name(), weightsDigest(out) + " " + metricsDigest(out));
        }
      }
    } finally {
      Kernels.useBackend("java");
    }
    if (writing) {
      write(Path.of(file), want, got, keys);
      return;
    }
    Assumptions.assumeTrue(!keys.isEmpty(), "no golden digests for " + missing + " yet: run scripts/golden-digests.sh"
        + " on this machine (on code whose results are right) and commit " + RESOURCE);
    List<String> bad = new ArrayList<>();
    for (var e : got.entrySet()) {
      String w = want.get(e.getKey());
      if (!e.getValue().equals(w)) bad.add(e.getKey() + ": got " + e.getValue() + ", golden " + w);
    }
    assertTrue(bad.isEmpty(), bad.size() + " of " + got.size() + " runs changed (machine keys " + keys
        + (missing.isEmpty() ? "" : "; none recorded for " + missing) + "):\n" + String.join("\n", bad));
  }

  /** The GEMM backend that {@code --backend backend} picks here (its name holds the ISA and vector width). */
  private static String gemmName(String backend) {
    try {
      Kernels.useBackend(backend);
      return gemmName();
    } finally {
      Kernels.useBackend("java");
    }
  }

  /** The backend the last command chose, with its ISA and vector width (e.g. vector-512x2). */
  private static String gemmName() {
    Gemm g = Kernels.gemm();
    return g.name().replace(' ', '_');
  }

  /** SHA-256 over the model's tensors in file order: name, shape, float bits (little-endian). */
  static String weightsDigest(Path run) throws IOException {
    Safetensors.Contents c = Safetensors.read(run.resolve("checkpoint.safetensors"));
    MessageDigest md = sha256();
    for (var e : c.tensors().entrySet()) {
      if (e.getKey().startsWith("optimizer/")) continue;
      Tensor t = e.getValue();
      md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
      ByteBuffer b = ByteBuffer.allocate(4 * (t.rank() + t.size())).order(ByteOrder.LITTLE_ENDIAN);
      for (int d : t.shape()) b.putInt(d);
      for (float v : t.data()) b.putInt(Float.floatToRawIntBits(v));
      md.update(b.array());
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** SHA-256 of metrics.jsonl, each line re-written without timings, paths and the data source. */
  @SuppressWarnings("unchecked")
  static String metricsDigest(Path run) throws IOException {
    MessageDigest md = sha256();
    for (String line : Files.readAllLines(run.resolve("metrics.jsonl"), StandardCharsets.UTF_8)) {
      Map<String, Object> m = new LinkedHashMap<>((Map<String, Object>) Json.parse(line));
      m.remove("samples_per_s");
      m.remove("train_s");
      m.remove("seconds");
      m.remove("data");
      m.remove("init"); // the fine-tune's --init path (a temporary directory)
      if (m.get("config") instanceof Map<?, ?> c) {
        Map<String, Object> cc = new LinkedHashMap<>((Map<String, Object>) c);
        for (String p : List.of("out", "data", "resume", "init", "threads")) cc.remove(p);
        m.put("config", cc);
      }
      md.update((Json.write(m) + "\n").getBytes(StandardCharsets.UTF_8));
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** "KEY MODEL PRESET" → "WEIGHTS METRICS", from the committed resource (empty if none). */
  static Map<String, String> load() throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (InputStream in = GoldenDigestsTest.class.getResourceAsStream(RESOURCE)) {
      if (in == null) return m;
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (line.isBlank() || line.startsWith("#")) continue;
        String[] f = line.trim().split("\\s+");
        m.put(f[0] + " " + f[1] + " " + f[2], f[3] + " " + f[4]);
      }
    }
    return m;
  }

  /** Replaces this machine's keys in the digest file, keeping other machines'. */
  private static void write(Path file, Map<String, String> old, Map<String, String> got, List<String> keys)
      throws IOException {
    Map<String, String> all = new TreeMap<>(old);
    for (String key : keys) all.keySet().removeIf(k -> k.startsWith(key + " "));
    all.putAll(got);
    StringBuilder sb = new StringBuilder("# golden digests: KEY MODEL PRESET WEIGHTS-SHA256 METRICS-SHA256"
        + " (written by scripts/golden-digests.sh; see GoldenDigestsTest)\n");
    for (var e : all.entrySet()) sb.append(e.getKey()).append(' ').append(e.getValue()).append('\n');
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, sb.toString());
  }
}
