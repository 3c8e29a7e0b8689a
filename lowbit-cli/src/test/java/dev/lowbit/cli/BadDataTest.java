package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.Idx;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged or mismatched IDX files given to {@code train} and {@code sweep} with {@code --data}: one
 * {@code lowbit: error:} line naming the file, exit code 2, before anything is trained or written.
 */
class BadDataTest {

  @TempDir Path dir;

  static byte[] gzip(byte[] b) throws Exception {
    ByteArrayOutputStream bo = new ByteArrayOutputStream();
    try (GZIPOutputStream g = new GZIPOutputStream(bo)) {
      g.write(b);
    }
    return bo.toByteArray();
  }

  /** The four Fashion-MNIST files: n train images of h×w, m test images of th×tw, labels i % 10. */
  static Path dataDir(Path d, int n, int h, int w, int m, int th, int tw) throws Exception {
    Files.createDirectories(d);
    Files.write(d.resolve("train-images-idx3-ubyte.gz"), gzip(Idx.encode(new int[] {n, h, w}, new byte[n * h * w])));
    Files.write(d.resolve("train-labels-idx1-ubyte.gz"), gzip(Idx.encode(new int[] {n}, labels(n))));
    Files.write(d.resolve("t10k-images-idx3-ubyte.gz"), gzip(Idx.encode(new int[] {m, th, tw}, new byte[m * th * tw])));
    Files.write(d.resolve("t10k-labels-idx1-ubyte.gz"), gzip(Idx.encode(new int[] {m}, labels(m))));
    return d;
  }

  static byte[] labels(int n) {
    byte[] y = new byte[n];
    for (int i = 0; i < n; i++) y[i] = (byte) (i % 10);
    return y;
  }

  /** Runs train with --data, expecting one error line; returns it without the prefix. */
  String trainError(Path data, String... more) {
    Path out = dir.resolve("out");
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train", "--backend", "java",
        "--data", data.toString(), "--out", out.toString(), "--batch", "16"));
    args.addAll(java.util.List.of(more));
    SweepCommandTest.Result r = SweepCommandTest.run(args.toArray(String[]::new));
    assertEquals(2, r.rc(), r.err());
    String[] lines = r.err().strip().split("\n");
    assertEquals(1, lines.length, r.err());
    assertTrue(lines[0].startsWith("lowbit: error: "), lines[0]);
    assertFalse(Files.exists(out), "nothing is written for bad data");
    return lines[0].substring("lowbit: error: ".length());
  }

  @Test
  void testImagesOfAnotherGeometry() throws Exception {
    Path d = dataDir(dir.resolve("d"), 64, 28, 28, 30, 56, 14);
    assertEquals(d.resolve("t10k-images-idx3-ubyte.gz") + ": images are 56×14, train images ("
        + d.resolve("train-images-idx3-ubyte.gz") + ") are 28×28", trainError(d));
  }

  @Test
  void imagesOfAnotherGeometryThanTheModel() throws Exception {
    // 3000×56×14 relabelled: 784 pixels each, which the MLP would have taken silently
    Path d = dataDir(dir.resolve("d"), 3000, 56, 14, 30, 56, 14);
    assertEquals(d.resolve("train-images-idx3-ubyte.gz") + ": images are 56×14, model mlp expects 28×28 inputs",
        trainError(d));
    assertEquals(d.resolve("train-images-idx3-ubyte.gz") + ": images are 56×14, model cnn expects 28×28 inputs",
        trainError(d, "--model", "cnn"));
    // the sweep refuses it too, before its warm-up trains anything or a run directory is made
    Path out = dir.resolve("sweep");
    SweepCommandTest.Result r = SweepCommandTest.run("sweep", "--backend", "java", "--data", d.toString(),
        "--out", out.toString(), "--policies", "fp32", "--epochs", "1");
    assertEquals(2, r.rc(), r.err());
    assertEquals("lowbit: error: " + d.resolve("train-images-idx3-ubyte.gz")
        + ": images are 56×14, model mlp expects 28×28 inputs", r.err().strip());
    assertFalse(Files.exists(out.resolve("runs")));
  }

  @Test
  void labelOutOfRangeNamesTheLabelsFile() throws Exception {
    Path d = dataDir(dir.resolve("d"), 64, 28, 28, 30, 28, 28);
    byte[] y = labels(64);
    y[40] = (byte) 200;
    Files.write(d.resolve("train-labels-idx1-ubyte.gz"), gzip(Idx.encode(new int[] {64}, y)));
    assertEquals(d.resolve("train-labels-idx1-ubyte.gz") + ": label 200 at index 40 is outside 0..9", trainError(d));
    Files.write(d.resolve("train-labels-idx1-ubyte.gz"), gzip(Idx.encode(new int[] {63}, labels(63))));
    assertEquals(d.resolve("train-images-idx3-ubyte.gz") + " holds 64 images but "
        + d.resolve("train-labels-idx1-ubyte.gz") + " holds 63 labels", trainError(d));
  }

  @Test
  void gzipBombAndTrailingBytes() throws Exception {
    Path d = dataDir(dir.resolve("d"), 64, 28, 28, 30, 28, 28);
    Path img = d.resolve("t10k-images-idx3-ubyte.gz");
    try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(img))) {
      o.write(Idx.encode(new int[] {30, 28, 28}, new byte[30 * 784]));
      o.write(new byte[64 << 20]); // 64 MB of zeros after the declared data
    }
    assertEquals(img + ": trailing bytes in the decompressed data after the 23520 bytes of data the IDX header"
        + " declares (30×28×28)", trainError(d));
    byte[] good = gzip(Idx.encode(new int[] {30, 28, 28}, new byte[30 * 784]));
    byte[] twice = java.util.Arrays.copyOf(good, 2 * good.length);
    System.arraycopy(good, 0, twice, good.length, good.length);
    Files.write(img, twice);
    assertTrue(trainError(d).startsWith(img + ": trailing bytes after the gzip stream"));
    Files.write(img, java.util.Arrays.copyOf(good, good.length - 3));
    assertTrue(trainError(d).startsWith(img + ": truncated gzip trailer"));
  }
}
