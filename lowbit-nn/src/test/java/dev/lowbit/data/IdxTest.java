package dev.lowbit.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
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
}
