package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.io.Json;
import dev.lowbit.io.Safetensors;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --resume on damaged checkpoints: one clear error before training, in bounded memory. */
class HostileCheckpointTest {

  static Dataset train, test;
  @TempDir static Path dir;
  static Path good;

  @BeforeAll
  static void trainOneEpoch() throws Exception {
    FashionMnist.Splits s = FashionMnist.embedded();
    train = s.train().head(256);
    test = s.test().head(64);
    good = dir.resolve("good");
    run(cfg(1, good, null));
  }

  static TrainConfig cfg(int epochs, Path out, Path resume) {
    return new TrainConfig("mlp", epochs, 64, null, 3, 1, out, null, resume, null, null, -1, 0, false, 0, 0, 3);
  }

  static void run(TrainConfig c) throws Exception {
    new Trainer(c, new PrintStream(new ByteArrayOutputStream()), false).run(train, test, "test subset");
  }

  /** The good checkpoint's tensors written again with one metadata value changed. */
  static Path withMetadata(String name, String key, String value) throws Exception {
    Safetensors.Contents c = Safetensors.read(good.resolve(Trainer.CHECKPOINT));
    Map<String, String> meta = new LinkedHashMap<>(c.metadata());
    meta.put(key, value);
    Path f = dir.resolve(name + ".safetensors");
    Safetensors.write(f, c.tensors(), meta);
    return f;
  }

  private static String refusal(TrainConfig c) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(c));
    assertTrue(e.getMessage().contains(c.resume().toString()), "names no file: " + e.getMessage());
    return e.getMessage();
  }

  /** Negative and zero epochs used to start training silently at epoch 0 or 1. */
  @Test
  void badEpochMetadataIsRefused() throws Exception {
    for (String bad : List.of("-1", "0", "5", "one")) {
      Path f = withMetadata("epoch" + bad, "epoch", bad);
      String m = refusal(cfg(2, dir.resolve("out-" + bad), f));
      assertTrue(m.contains("metadata 'epoch' is " + (bad.equals("one") ? "'one'" : bad)), m);
    }
    Path f = withMetadata("steps", "optimizer_steps", "-3");
    assertTrue(refusal(cfg(2, dir.resolve("out-steps"), f)).contains("metadata 'optimizer_steps' is -3"));
    // extra keys (such as a data fingerprint) are no reason to refuse
    Path extra = withMetadata("extra", "some_future_key", "x");
    run(cfg(2, dir.resolve("out-extra"), extra));
  }

  /**
   * The good checkpoint plus eight 1.5 GB "junk" tensors in a sparse 12 GB file: --resume
   * allocated 6.1 GB and died with OutOfMemoryError; now it names the junk before reading data.
   */
  @Test
  void junkTensorsInASparseCheckpointAreRefusedBeforeAllocating() throws Exception {
    Path src = good.resolve(Trainer.CHECKPOINT);
    Safetensors.Header h = Safetensors.header(src);
    LinkedHashMap<String, Object> header = new LinkedHashMap<>();
    header.put("__metadata__", h.metadata());
    long at = 0;
    for (Safetensors.Entry e : h.entries().values()) {
      header.put(e.name(), Map.of("dtype", e.dtype(), "shape", e.shape(), "data_offsets", new long[] {e.begin(), e.end()}));
      at = Math.max(at, e.end());
    }
    long realData = at, each = 1_500_000_000L;
    for (int i = 0; i < 8; i++, at += each) {
      header.put("junk" + i, Map.of("dtype", "F32", "shape", new long[] {each / 4}, "data_offsets", new long[] {at, at + each}));
    }
    byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
    Path f = dir.resolve("junk.safetensors");
    byte[] raw = Files.readAllBytes(src);
    try (RandomAccessFile out = new RandomAccessFile(f.toFile(), "rw")) {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
      out.write(json);
      out.write(raw, (int) h.dataStart(), (int) realData);
      out.setLength(8 + json.length + at); // the junk is a hole: no disk
    }
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    String m = refusal(cfg(2, dir.resolve("out-junk"), f));
    long used = threads.getCurrentThreadAllocatedBytes() - before;
    assertTrue(m.contains("unexpected tensor 'junk0' (not in the model)"), m);
    assertTrue(used < (256L << 20), "allocated " + used + " bytes");
  }
}
