package dev.lowbit.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {

  @TempDir Path dir;

  static byte[] gzip(byte[] b) throws Exception {
    ByteArrayOutputStream bo = new ByteArrayOutputStream();
    try (GZIPOutputStream g = new GZIPOutputStream(bo)) {
      g.write(b);
    }
    return bo.toByteArray();
  }

  @Test
  void readsRawAndGzip() throws Exception {
    byte[] data = {1, 2, 3, 4, 5, 6, (byte) 255, 0, 9, 10, 11, 12};
    byte[] idx = Idx.encode(new int[] {3, 2, 2}, data);
    assertArrayEquals(new byte[] {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2}, Arrays.copyOf(idx, 16));
    Files.write(dir.resolve("raw"), idx);
    Files.write(dir.resolve("gz"), gzip(idx));
    for (String n : new String[] {"raw", "gz"}) {
      Idx.Array a = Idx.read(dir.resolve(n));
      assertArrayEquals(new int[] {3, 2, 2}, a.dims());
      assertArrayEquals(data, a.data());
    }
  }

  @Test
  void rejectsBadFilesNamingThem() throws Exception {
    byte[] good = Idx.encode(new int[] {4, 3}, new byte[12]);
    Path trunc = dir.resolve("truncated.idx");
    Files.write(trunc, Arrays.copyOf(good, good.length - 1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Idx.read(trunc));
    assertTrue(e.getMessage().contains("truncated.idx") && e.getMessage().contains("truncated"), e.getMessage());

    byte[] magic = good.clone();
    magic[0] = 0x12;
    Path bad = dir.resolve("magic.idx");
    Files.write(bad, magic);
    e = assertThrows(IllegalArgumentException.class, () -> Idx.read(bad));
    assertTrue(e.getMessage().contains("magic.idx") && e.getMessage().contains("magic"), e.getMessage());

    byte[] type = good.clone();
    type[2] = 0x0D;
    Files.write(bad, type);
    e = assertThrows(IllegalArgumentException.class, () -> Idx.read(bad));
    assertTrue(e.getMessage().contains("data type"), e.getMessage());

    byte[] gz = gzip(good);
    Path tgz = dir.resolve("t.gz");
    Files.write(tgz, Arrays.copyOf(gz, gz.length / 2));
    e = assertThrows(IllegalArgumentException.class, () -> Idx.read(tgz));
    assertTrue(e.getMessage().contains("t.gz"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> Idx.read(dir.resolve("missing")));
    assertTrue(e.getMessage().contains("missing"), e.getMessage());
  }

  @Test
  void embeddedSubsetIsTheHeadOfDebiansFiles() throws Exception {
    FashionMnist.Splits emb = FashionMnist.embedded();
    assertEquals(2000, emb.train().size());
    assertEquals(500, emb.test().size());
    assertEquals(28, emb.train().height());
    // All ten classes appear (the head of Fashion-MNIST is well mixed).
    assertEquals(10, Arrays.stream(emb.train().labels()).distinct().count());
    if (Files.isDirectory(FashionMnist.DEBIAN_DIR)) {
      FashionMnist.Splits full = FashionMnist.fromDir(FashionMnist.DEBIAN_DIR);
      assertEquals(60000, full.train().size());
      assertEquals(10000, full.test().size());
      assertArrayEquals(Arrays.copyOf(full.train().images(), 2000 * 784), emb.train().images());
      assertArrayEquals(Arrays.copyOf(full.test().labels(), 500), emb.test().labels());
    }
  }

  @Test
  void loaderShufflesReproduciblyAndCoversEveryone() throws Exception {
    Dataset d = FashionMnist.embedded().test().head(300);
    DataLoader a = new DataLoader(d, 128, true, 7), b = new DataLoader(d, 128, true, 7);
    assertEquals(3, a.batchesPerEpoch());
    assertArrayEquals(a.order(2), b.order(2));
    int[] o1 = a.order(1).clone();
    int[] o2 = a.order(2).clone();
    assertTrue(!Arrays.equals(o1, o2), "epochs must differ");
    int[] sorted = o1.clone();
    Arrays.sort(sorted);
    for (int i = 0; i < sorted.length; i++) assertEquals(i, sorted[i]);
    DataLoader.Batch last = a.batch(1, 2);
    assertEquals(300 - 256, last.size());
    assertEquals(d.labels()[o1[256]], last.labels()[0]);
    DataLoader aug = new DataLoader(d, 10, true, 7, 2, true);
    assertEquals(10 * 784, aug.batch(0, 0).x().size());
  }

  // ---- hostile files (issue 15): one IllegalArgumentException naming the file, bounded memory ----

  /** Bytes this thread allocates while {@code r} runs (HotSpot's per-thread counter). */
  static long allocated(ThrowingRunnable r) throws Exception {
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = mx.getCurrentThreadAllocatedBytes();
    r.run();
    return mx.getCurrentThreadAllocatedBytes() - before;
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** The error {@code file} gives, which must name it. */
  static String error(Path file) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Idx.read(file));
    assertTrue(e.getMessage().startsWith(file.toString() + ": "), e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    return e.getMessage();
  }

  /** An IDX header for unsigned bytes of the given dimensions (taken as unsigned 32-bit). */
  static byte[] header(long... dims) {
    byte[] h = new byte[4 + 4 * dims.length];
    h[2] = 0x08;
    h[3] = (byte) dims.length;
    for (int i = 0; i < dims.length; i++) {
      for (int k = 0; k < 4; k++) h[4 + 4 * i + k] = (byte) (dims[i] >>> (24 - 8 * k));
    }
    return h;
  }

  /**
   * A gzip bomb as the report found it: a header for 10 images of 28×28 followed by 256 MB of
   * zeros, streamed into a ~1 MB .gz. The old reader inflated all of it into memory (the 2.5 GB
   * original gave OutOfMemoryError); the bound stops after the declared 7,840 bytes and one more.
   */
  @Test
  void gzipBombStopsAtTheDeclaredSize() throws Exception {
    Path bomb = dir.resolve("train-images-idx3-ubyte.gz");
    try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(bomb), 1 << 16) {
      { def.setLevel(java.util.zip.Deflater.BEST_SPEED); } // zeros compress ~1000:1 at any level
    }) {
      o.write(header(10, 28, 28));
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 256; i++) o.write(zeros);
    }
    assertTrue(Files.size(bomb) < 2_000_000, "bomb size " + Files.size(bomb));
    String[] msg = new String[1];
    long bytes = allocated(() -> msg[0] = error(bomb));
    assertTrue(msg[0].contains("trailing bytes in the decompressed data after the 7840 bytes"), msg[0]);
    assertTrue(bytes < 8L << 20, "reading the bomb allocated " + bytes + " bytes");

    // the same bomb declaring its whole 2.5 GB in the header: refused from the header alone
    Path big = dir.resolve("big.gz");
    Files.write(big, gzip(header(3_200_000, 28, 28)));
    bytes = allocated(() -> msg[0] = error(big));
    assertTrue(msg[0].contains("3200000×28×28 = 2508800000 bytes of data, above the limit"), msg[0]);
    assertTrue(bytes < 1L << 20, "allocated " + bytes);
  }

  @Test
  void trailingBytesAfterTheDataAreAnError() throws Exception {
    byte[] good = Idx.encode(new int[] {2, 3}, new byte[6]);
    byte[] longer = Arrays.copyOf(good, good.length + 1);
    Path raw = dir.resolve("raw.idx"), gz = dir.resolve("data.gz");
    Files.write(raw, longer);
    assertTrue(error(raw).contains("6 bytes of data but the file has 7 (trailing bytes after the data)"), error(raw));
    Files.write(gz, gzip(longer));
    assertTrue(error(gz).contains("trailing bytes in the decompressed data after the 6 bytes"), error(gz));
  }

  @Test
  void trailingBytesAfterTheGzipStreamAreAnError() throws Exception {
    byte[] good = Idx.encode(new int[] {2, 3}, new byte[] {1, 2, 3, 4, 5, 6});
    byte[] gz = gzip(good);
    Path f = dir.resolve("x.gz");
    // a second member (GZIPInputStream reads it as more data), garbage, a single stray byte
    byte[][] tails = {gzip(new byte[] {7}), gzip(new byte[0]), "junk".getBytes(), {0}};
    for (byte[] tail : tails) {
      byte[] both = Arrays.copyOf(gz, gz.length + tail.length);
      System.arraycopy(tail, 0, both, gz.length, tail.length);
      Files.write(f, both);
      assertTrue(error(f).contains("trailing bytes after the gzip stream"), error(f));
    }
    // the two halves of the data in two members: one file must be one stream
    byte[] first = gzip(Arrays.copyOf(good, 12)), second = gzip(Arrays.copyOfRange(good, 12, good.length));
    byte[] split = Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, split, first.length, second.length);
    Files.write(f, split);
    assertTrue(error(f).contains("truncated"), error(f));
    Files.write(f, gz);
    assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6}, Idx.read(f).data());
  }

  @Test
  void truncatedFilesSaySo() throws Exception {
    byte[] good = Idx.encode(new int[] {3, 4, 4}, new byte[48]);
    Path f = dir.resolve("t.idx");
    for (int len : new int[] {0, 3, 4, 7, 15, 16, 63}) {
      Files.write(f, Arrays.copyOf(good, len));
      String m = error(f);
      assertTrue(m.contains(len == 0 ? "empty" : len < 4 ? "too short" : "truncated"), len + ": " + m);
    }
    byte[] gz = gzip(good);
    Path g = dir.resolve("t.gz");
    for (int len = 2; len < gz.length; len++) {
      Files.write(g, Arrays.copyOf(gz, len));
      String m = error(g);
      assertTrue(m.contains("truncated"), len + ": " + m);
    }
  }

  @Test
  void hostileHeadersAreRefusedBeforeAllocating() throws Exception {
    Path f = dir.resolve("h.idx");
    Object[][] cases = {
      {header(0, 28, 28), "dimension 0 is 0"},
      {header(5, 0xFFFFFFFFL, 28), "dimension 1 is 4294967295 (above 2^31-1)"},
      {header(0x80000000L), "dimension 0 is 2147483648"},
      {header(65536, 65536, 65536), "65536×65536×65536 = 281474976710656 bytes of data, above the limit"},
      {header(65536, 65536, 0), "dimension 2 is 0"},
      {header(0x7FFFFFFFL, 0x7FFFFFFFL, 0x7FFFFFFFL, 0x7FFFFFFFL), "above the limit"},
      {header(1 << 30), "1073741824 bytes of data but the file has 0 (truncated)"},
      {header(), "IDX rank 0"},
      {header(1, 1, 1, 1, 1), "IDX rank 5"},
    };
    for (Object[] c : cases) {
      Files.write(f, (byte[]) c[0]);
      String[] m = new String[1];
      long bytes = allocated(() -> m[0] = error(f));
      assertTrue(m[0].contains((String) c[1]), m[0]);
      assertTrue(bytes < 1L << 20, m[0] + ": allocated " + bytes);
      Files.write(f, gzip((byte[]) c[0]));
      bytes = allocated(() -> m[0] = error(f));
      assertTrue(m[0].contains(((String) c[1]).replace(" but the file has 0 (truncated)", "")), m[0]);
      assertTrue(bytes < 1L << 20, m[0] + ": allocated " + bytes);
    }
    byte[] h = header(1, 1);
    h[2] = 0x0B;
    Files.write(f, h);
    assertTrue(error(f).contains("data type 0x0b is not supported"), error(f));
    h[2] = 0x42;
    Files.write(f, h);
    assertTrue(error(f).contains("data type 0x42 is not an IDX type"), error(f));
    Files.write(f, new byte[] {'P', 'K', 3, 4, 0, 0, 0, 0});
    assertTrue(error(f).contains("not an IDX file: bad magic 50 4b 03 04"), error(f));
    Files.createDirectories(dir.resolve("d"));
    assertTrue(error(dir.resolve("d")).contains("is a directory"));
  }

  /** Writes the four Fashion-MNIST files into {@code d}: n train and m test images of h×w. */
  static void writeSet(Path d, int n, int h, int w, int m, int th, int tw) throws Exception {
    Files.createDirectories(d);
    Files.write(d.resolve("train-images-idx3-ubyte.gz"), gzip(Idx.encode(new int[] {n, h, w}, new byte[n * h * w])));
    Files.write(d.resolve("train-labels-idx1-ubyte.gz"), gzip(Idx.encode(new int[] {n}, new byte[n])));
    Files.write(d.resolve("t10k-images-idx3-ubyte.gz"), gzip(Idx.encode(new int[] {m, th, tw}, new byte[m * th * tw])));
    Files.write(d.resolve("t10k-labels-idx1-ubyte.gz"), gzip(Idx.encode(new int[] {m}, new byte[m])));
  }

  static String loadError(Path d) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FashionMnist.fromDir(d));
    return e.getMessage();
  }

  @Test
  void testImagesOfAnotherGeometryAreRefusedNamingTheFile() throws Exception {
    writeSet(dir, 20, 28, 28, 30, 56, 14);
    assertEquals(dir.resolve("t10k-images-idx3-ubyte.gz") + ": images are 56×14, train images ("
        + dir.resolve("train-images-idx3-ubyte.gz") + ") are 28×28", loadError(dir));
    writeSet(dir, 20, 28, 28, 30, 28, 28);
    assertEquals(30, FashionMnist.fromDir(dir).test().size());
  }

  @Test
  void labelErrorsNameTheLabelsFile() throws Exception {
    writeSet(dir, 20, 28, 28, 30, 28, 28);
    Path labels = dir.resolve("t10k-labels-idx1-ubyte.gz");
    byte[] lab = new byte[30];
    lab[17] = 12;
    Files.write(labels, gzip(Idx.encode(new int[] {30}, lab)));
    assertEquals(labels + ": label 12 at index 17 is outside 0..9", loadError(dir));

    Files.write(labels, gzip(Idx.encode(new int[] {29}, new byte[29])));
    assertEquals(dir.resolve("t10k-images-idx3-ubyte.gz") + " holds 30 images but " + labels + " holds 29 labels",
        loadError(dir));

    byte[] magic = Idx.encode(new int[] {30}, new byte[30]);
    magic[1] = 1;
    Files.write(labels, gzip(magic));
    assertTrue(loadError(dir).startsWith(labels + ": not an IDX file: bad magic 00 01 08 01"), loadError(dir));

    // images where the labels belong (the files swapped)
    Files.copy(dir.resolve("t10k-images-idx3-ubyte.gz"), labels, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertTrue(loadError(dir).startsWith(labels + ": labels must be a rank-1 IDX array (N), got rank 3"),
        loadError(dir));
  }

  @Test
  void imagesOfAnotherGeometryThanTheModelsAreRefused() throws Exception {
    writeSet(dir, 20, 56, 14, 30, 56, 14); // 784 pixels: the MLP's reshape would take them silently
    FashionMnist.Splits s = FashionMnist.fromDir(dir);
    for (String model : dev.lowbit.models.Models.NAMES) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> dev.lowbit.models.Models.checkInputs(model, s.train(), s.test()));
      assertEquals(dir.resolve("train-images-idx3-ubyte.gz") + ": images are 56×14, model " + model
          + " expects 28×28 inputs", e.getMessage());
    }
    dev.lowbit.models.Models.checkInputs("cnn", FashionMnist.embedded().train());
  }

  /**
   * gzip headers as the gzip tool and others write them (the original Fashion-MNIST files carry
   * their file name): FEXTRA, FNAME, FCOMMENT and FHCRC are skipped and checked, a wrong header CRC
   * or method is an error.
   */
  @Test
  void readsGzipHeadersWithNameCommentExtraAndHeaderCrc() throws Exception {
    byte[] idx = Idx.encode(new int[] {2, 2}, new byte[] {9, 8, 7, 6});
    ByteArrayOutputStream h = new ByteArrayOutputStream();
    h.write(new byte[] {0x1F, (byte) 0x8B, 8, 2 | 4 | 8 | 16, 1, 2, 3, 4, 0, 3});
    h.write(new byte[] {5, 0, 'A', 'B', 2, 0, 0}); // FEXTRA: 5 bytes
    h.write("train-images-idx3-ubyte\0".getBytes());
    h.write("a comment\0".getBytes());
    java.util.zip.CRC32 hc = new java.util.zip.CRC32();
    hc.update(h.toByteArray());
    h.write(new byte[] {(byte) hc.getValue(), (byte) (hc.getValue() >>> 8)});
    java.util.zip.Deflater d = new java.util.zip.Deflater(9, true);
    d.setInput(idx);
    d.finish();
    byte[] body = new byte[256];
    int bl = d.deflate(body);
    d.end();
    h.write(body, 0, bl);
    java.util.zip.CRC32 c = new java.util.zip.CRC32();
    c.update(idx);
    java.nio.ByteBuffer t = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    h.write(t.putInt((int) c.getValue()).putInt(idx.length).array());
    byte[] gz = h.toByteArray();
    Path f = dir.resolve("named.gz");
    Files.write(f, gz);
    assertArrayEquals(new byte[] {9, 8, 7, 6}, Idx.read(f).data());
    try (java.util.zip.GZIPInputStream in = new java.util.zip.GZIPInputStream(Files.newInputStream(f))) {
      assertArrayEquals(idx, in.readAllBytes()); // the file is well-formed gzip for the JDK too
    }
    byte[] badHcrc = gz.clone();
    badHcrc[10 + 7 + 24 + 10] ^= 1;
    Files.write(f, badHcrc);
    assertTrue(error(f).contains("corrupt gzip data: header CRC mismatch"), error(f));
    byte[] method = gz.clone();
    method[2] = 7;
    Files.write(f, method);
    assertTrue(error(f).contains("compression method 7"), error(f));
    byte[] crc = gz.clone();
    crc[gz.length - 8] ^= 1;
    Files.write(f, crc);
    assertTrue(error(f).contains("CRC-32 mismatch"), error(f));
  }
}
