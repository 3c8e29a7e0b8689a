package dev.lowbit.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tag;
import net.jqwik.api.statistics.Statistics;

/**
 * Property-based tests of the IDX reader: small valid files, raw and gzip, mutated (bytes flipped,
 * cut, extended, header dimensions, rank and type replaced, a second gzip member appended) give
 * either the dataset the bytes spell or one {@link IllegalArgumentException} naming the file, never
 * another exception, and allocate about what the input holds, not what its header claims (a
 * mutation claiming 2^30 elements must not allocate them).
 */
class IdxFuzzTest {

  static final String NAME = "fuzz.idx";

  /** One change to a byte string; {@code pos} and {@code value} are reduced to fit it. */
  record Mutation(int kind, int pos, int value) {
    byte[] apply(byte[] b) {
      int n = b.length;
      switch (kind) {
        case 0 -> { // flip bits of one byte
          if (n == 0) return b;
          byte[] c = b.clone();
          c[Math.floorMod(pos, n)] ^= (byte) ((value & 0xFF) == 0 ? 1 : value);
          return c;
        }
        case 1 -> { // cut
          return Arrays.copyOf(b, Math.floorMod(pos, n + 1));
        }
        case 2 -> { // extend by 1..16 bytes
          byte[] c = Arrays.copyOf(b, n + 1 + Math.floorMod(pos, 16));
          SplittableRandom r = new SplittableRandom(value);
          for (int i = n; i < c.length; i++) c[i] = (byte) r.nextInt(256);
          return c;
        }
        case 3 -> { // replace one header dimension (as an IDX file, before any gzip)
          int o = 4 + 4 * Math.floorMod(pos, 4);
          if (o + 4 > n) return b;
          byte[] c = b.clone();
          for (int k = 0; k < 4; k++) c[o + k] = (byte) (value >>> (24 - 8 * k));
          return c;
        }
        case 4 -> { // replace a magic byte (type, rank, the zeros)
          if (n == 0) return b;
          byte[] c = b.clone();
          c[Math.floorMod(pos, Math.min(n, 4))] = (byte) value;
          return c;
        }
        default -> { // append a second gzip member of some bytes of the input
          byte[] member = gzip(Arrays.copyOf(b, Math.floorMod(pos, n + 1)));
          byte[] c = Arrays.copyOf(b, n + member.length);
          System.arraycopy(member, 0, c, n, member.length);
          return c;
        }
      }
    }
  }

  /** A valid IDX array, mutations of its bytes, optional gzip, then mutations of the gzip bytes. */
  record Case(int[] dims, long seed, List<Mutation> inner, boolean gzipped, List<Mutation> outer) {
    byte[] idx() {
      int n = 1;
      for (int d : dims) n *= d;
      byte[] data = new byte[n];
      new SplittableRandom(seed).nextBytes(data);
      return Idx.encode(dims, data);
    }

    byte[] bytes() {
      byte[] b = idx();
      for (Mutation m : inner) b = m.apply(b);
      if (!gzipped) return b;
      b = gzip(b);
      for (Mutation m : outer) b = m.apply(b);
      return b;
    }

    @Override
    public String toString() {
      return "Case[dims=" + Arrays.toString(dims) + ", seed=" + seed + ", inner=" + inner + ", gzip=" + gzipped
          + ", outer=" + outer + "]";
    }
  }

  static byte[] gzip(byte[] b) {
    try {
      ByteArrayOutputStream bo = new ByteArrayOutputStream();
      try (GZIPOutputStream g = new GZIPOutputStream(bo)) {
        g.write(b);
      }
      return bo.toByteArray();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Provide
  Arbitrary<Case> cases() {
    Arbitrary<int[]> dims = Arbitraries.integers().between(1, 6).array(int[].class).ofMinSize(1).ofMaxSize(4);
    Arbitrary<Integer> values = Arbitraries.oneOf(Arbitraries.integers(),
        Arbitraries.of(0, 1, 2, 28, 255, 256, 65536, 1 << 30, Integer.MAX_VALUE, Integer.MIN_VALUE, -1));
    Arbitrary<Mutation> innerM = Combinators.combine(Arbitraries.integers().between(0, 4),
        Arbitraries.integers(), values).as(Mutation::new);
    Arbitrary<Mutation> outerM = Combinators.combine(Arbitraries.of(0, 0, 1, 2, 5),
        Arbitraries.integers(), values).as(Mutation::new);
    return Combinators.combine(dims, Arbitraries.longs(), innerM.list().ofMaxSize(3), Arbitraries.of(false, true),
        outerM.list().ofMaxSize(3)).as(Case::new);
  }

  @Property(tries = 400)
  void mutatedFilesGiveTheirDataOrOneClearError(@ForAll("cases") Case c) throws Exception {
    check(c);
    coverage();
  }

  /** The fuzzing run: 10^5 mutated files (about 40 s on a busy 2-core machine). */
  @Property(tries = 100_000, shrinking = ShrinkingMode.BOUNDED)
  @Tag("slow")
  void fuzz(@ForAll("cases") Case c) throws Exception {
    check(c);
    coverage();
  }

  /** Both outcomes must be common, else the generator tests one path only. */
  private static void coverage() {
    Statistics.coverage(k -> {
      k.check("valid").percentage(p -> p > 10);
      k.check("error").percentage(p -> p > 30);
    });
  }

  /** Any bytes at all, mostly short (header-sized), some beginning like gzip. */
  @Property(tries = 400)
  void randomBytesGiveAnArrayOrOneClearError(@ForAll("randomBytes") byte[] b) throws Exception {
    checkBytes(b, null);
  }

  @Provide
  Arbitrary<byte[]> randomBytes() {
    Arbitrary<byte[]> any = Arbitraries.bytes().array(byte[].class).ofMaxSize(40);
    return Arbitraries.oneOf(any, any.map(b -> {
      byte[] c = Arrays.copyOf(b, b.length + 2);
      System.arraycopy(c, 0, c, 2, b.length);
      c[0] = 0x1F;
      c[1] = (byte) 0x8B;
      return c;
    }), any.map(b -> {
      byte[] c = Arrays.copyOf(b, Math.max(4, b.length));
      c[0] = 0;
      c[1] = 0;
      c[2] = 8;
      c[3] = (byte) (1 + Math.floorMod(c[3], 4));
      return c;
    }));
  }

  @Property(tries = 200)
  void validFilesReadBackExactly(@ForAll("cases") Case c) throws Exception {
    byte[] idx = c.idx();
    for (byte[] b : new byte[][] {idx, gzip(idx)}) {
      Idx.Array a = Idx.parse(b, NAME);
      assertArrayEquals(c.dims(), a.dims());
      assertArrayEquals(Arrays.copyOfRange(idx, 4 + 4 * c.dims().length, idx.length), a.data());
    }
  }

  static void check(Case c) throws Exception {
    byte[] b = c.bytes();
    // the oracle for files that stayed raw or were gzipped intact: exactly what the bytes spell
    byte[] plain = !c.gzipped() ? b : c.outer().isEmpty() ? inner(c) : null;
    Statistics.collect(checkBytes(b, plain) ? "valid" : "error");
  }

  private static byte[] inner(Case c) {
    byte[] b = c.idx();
    for (Mutation m : c.inner()) b = m.apply(b);
    return b;
  }

  static final com.sun.management.ThreadMXBean MX =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  /**
   * Parses {@code b}: an {@link IllegalArgumentException} naming the file, or an array that matches
   * {@code plain} (the IDX bytes, when known) or, for gzip, the JDK's reading of the first member.
   */
  static boolean checkBytes(byte[] b, byte[] plain) throws Exception {
    Idx.Array a = null;
    long before = MX.getCurrentThreadAllocatedBytes();
    try {
      a = Idx.parse(b, NAME);
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage() != null && e.getMessage().startsWith(NAME + ": "), e.getMessage());
      assertTrue(!e.getMessage().contains("\n"), e.getMessage());
    } catch (Throwable t) {
      fail("not an IllegalArgumentException for " + b.length + " bytes: " + t, t);
    }
    long bytes = MX.getCurrentThreadAllocatedBytes() - before;
    // two 64 KiB buffers and the data (at most what ~1032:1 deflate can expand the input to), never
    // what a header claims
    long bound = (1L << 20) + 2L * 1032 * b.length;
    assertTrue(bytes < bound, "allocated " + bytes + " bytes for a " + b.length + "-byte input");
    if (plain != null && !(plain.length >= 2 && (plain[0] & 0xFF) == 0x1F && (plain[1] & 0xFF) == 0x8B)) {
      int[] dims = expected(plain);
      if (dims == null) {
        assertTrue(a == null, "accepted an invalid file as " + (a == null ? "" : Arrays.toString(a.dims())));
      } else {
        assertTrue(a != null, "refused a valid file of dims " + Arrays.toString(dims));
        assertArrayEquals(dims, a.dims());
        assertArrayEquals(Arrays.copyOfRange(plain, 4 + 4 * dims.length, plain.length), a.data());
      }
    }
    if (a != null) {
      long n = 1;
      for (int d : a.dims()) n *= d;
      assertEquals(n, a.data().length);
      byte[] spelled = Idx.encode(a.dims(), a.data());
      if ((b[0] & 0xFF) == 0x1F) {
        try (GZIPInputStream g = new GZIPInputStream(new ByteArrayInputStream(b))) {
          assertArrayEquals(spelled, g.readAllBytes(), "accepted gzip data the JDK reads otherwise");
        } catch (java.io.IOException e) {
          fail("accepted gzip data the JDK refuses: " + e);
        }
        // one gzip member and nothing after it: the file ends with the member's CRC-32 and length
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(spelled);
        java.nio.ByteBuffer t = java.nio.ByteBuffer.wrap(b, b.length - 8, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        assertEquals((int) crc.getValue(), t.getInt(), "accepted bytes after the gzip member");
        assertEquals(spelled.length, t.getInt(), "accepted bytes after the gzip member");
      } else {
        assertArrayEquals(spelled, b);
      }
    }
    return a != null;
  }

  /** What a raw IDX file of unsigned bytes must be, written out plainly: its dims, or null if invalid. */
  static int[] expected(byte[] b) {
    if (b.length < 4 || b[0] != 0 || b[1] != 0 || b[2] != 8) return null;
    int rank = b[3] & 0xFF;
    if (rank < 1 || rank > 4 || b.length < 4 + 4 * rank) return null;
    int[] dims = new int[rank];
    long n = 1;
    for (int i = 0; i < rank; i++) {
      long d = 0;
      for (int k = 0; k < 4; k++) d = d << 8 | (b[4 + 4 * i + k] & 0xFF);
      if (d < 1 || d > Integer.MAX_VALUE) return null;
      dims[i] = (int) d;
      n *= d;
      if (n > Idx.MAX_DATA_BYTES) return null;
    }
    return b.length - 4 - 4 * rank == n ? dims : null;
  }
}
