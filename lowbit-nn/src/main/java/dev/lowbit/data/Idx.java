package dev.lowbit.data;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads IDX files (LeCun's MNIST format: big-endian magic 0x0000TTRR with type TT and rank RR,
 * then RR big-endian sizes, then the data), raw or gzip-compressed. Only unsigned bytes (0x08), the
 * type (Fashion-)MNIST uses, are accepted.
 *
 * <p>A hostile file gets one {@link IllegalArgumentException} naming it, in memory bounded by what
 * its header declares: the header is read first and checked (rank 1..{@value #MAX_RANK}, every
 * dimension 1..2³¹−1, their product at most {@value #MAX_DATA_BYTES} bytes), and exactly that many
 * bytes are then read, never more (a declared size above half the JVM's heap is refused up front,
 * with the advice to raise -Xmx, rather than ending in OutOfMemoryError). A raw file must be
 * exactly header + data long (checked against its size before anything is allocated); a gzip file must be exactly one gzip member (RFC 1952,
 * CRC and length checked) holding exactly header + data. {@code GZIPInputStream} would read on into
 * a second member and ignore garbage after the first, so the gzip framing is read here, with a
 * plain {@link Inflater}. The buffer for gzip data grows with what actually decompresses, so a
 * header that lies about its size costs no more memory than the data that is really there.
 */
public final class Idx {

  /** The most dimensions an IDX array may have here (images are rank 3, labels rank 1). */
  public static final int MAX_RANK = 4;
  /** The most data bytes an IDX file may declare (1 GiB; Fashion-MNIST's training images are 47 MB). */
  public static final long MAX_DATA_BYTES = 1L << 30;

  /** A decoded IDX array: its dimensions, its unsigned-byte payload and the file it came from. */
  public record Array(int[] dims, byte[] data, String name) {
    /** An array built in memory (not read from a file). */
    public Array(int[] dims, byte[] data) {
      this(dims, data, "IDX array");
    }

    public int count() {
      return dims[0];
    }
  }

  private Idx() {}

  /** Reads an IDX file, raw or gzip (detected by its magic); errors name the file. */
  public static Array read(Path file) throws IOException {
    String name = file.toString();
    if (Files.isDirectory(file)) throw new IllegalArgumentException(name + ": is a directory, not an IDX file");
    try (InputStream in = Files.newInputStream(file)) {
      // a raw file's size is checked against its header before the data is allocated (not for
      // pipes and devices, whose size says nothing)
      return read(in, Files.isRegularFile(file) ? Files.size(file) : -1, name);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(name + ": no such file");
    } catch (AccessDeniedException e) {
      throw new IllegalArgumentException(name + ": permission denied");
    } catch (java.nio.file.FileSystemException e) { // other refusals to open (a loop of links, ...)
      throw new IllegalArgumentException(name + ": cannot read (" + (e.getReason() != null ? e.getReason() : e) + ")");
    }
  }

  /** Parses IDX bytes (gzip detected by its magic); {@code name} goes into error messages. */
  public static Array parse(byte[] raw, String name) throws IOException {
    return read(new ByteArrayInputStream(raw), raw.length, name);
  }

  /** Reads one IDX array from {@code in}, {@code size} bytes long (raw or gzip). */
  private static Array read(InputStream in, long size, String name) throws IOException {
    BufferedInputStream b = new BufferedInputStream(in, 1 << 16);
    b.mark(2);
    int m0 = b.read(), m1 = b.read();
    b.reset();
    if (m0 == 0x1F && m1 == 0x8B) {
      try (Gunzip g = new Gunzip(b, name)) {
        Array a = readIdx(g, -1, name, "decompressed data");
        g.finish();
        return a;
      }
    }
    return readIdx(b, size, name, "file");
  }

  /**
   * Reads header and data from {@code s}; {@code size} is the stream's length when known (raw
   * files: checked against the header before the data is allocated), else −1.
   */
  private static Array readIdx(InputStream s, long size, String name, String what) throws IOException {
    // what: "file" or "decompressed data", the thing that is too short or too long
    byte[] magic = new byte[4];
    int got = s.readNBytes(magic, 0, 4);
    if (got < 4) {
      String found = got == 0 ? "empty " + what : what + " of only " + got + " bytes";
      throw new IllegalArgumentException(name + ": " + found
          + ", too short for an IDX header (4 bytes of magic, then the dimensions)");
    }
    if (magic[0] != 0 || magic[1] != 0) {
      throw new IllegalArgumentException(name + ": not an IDX file: bad magic " + hex(magic)
          + " (expected 00 00 08 0N, or gzip's 1f 8b)");
    }
    if (magic[2] != 0x08) {
      throw new IllegalArgumentException(name + ": IDX data type 0x" + String.format("%02x", magic[2] & 0xFF)
          + (isIdxType(magic[2]) ? " is not supported" : " is not an IDX type") + " (only 0x08, unsigned byte)");
    }
    int rank = magic[3] & 0xFF;
    if (rank < 1 || rank > MAX_RANK) {
      throw new IllegalArgumentException(name + ": IDX rank " + rank + " (expected 1.." + MAX_RANK + ")");
    }
    int header = 4 + 4 * rank;
    byte[] h = new byte[4 * rank];
    got = s.readNBytes(h, 0, h.length);
    if (got < h.length) {
      throw new IllegalArgumentException(name + ": truncated IDX header: rank " + rank + " needs " + header
          + " bytes, the " + what + " has " + (4 + got));
    }
    int[] dims = new int[rank];
    String shape = dimsText(h, rank);
    for (int i = 0; i < rank; i++) { // every dimension first, so the product below is of valid ones
      long d = dimAt(h, i);
      if (d == 0) throw new IllegalArgumentException(name + ": IDX dimension " + i + " is 0 (each must be at least 1)");
      if (d > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(name + ": IDX dimension " + i + " is " + d + " (above 2^31-1)");
      }
      dims[i] = (int) d;
    }
    long n = 1;
    for (int d : dims) {
      n *= d; // n ≤ 2^30 before and d < 2^31 here, so no long overflow
      if (n > MAX_DATA_BYTES) {
        BigInteger all = BigInteger.ONE;
        for (int x : dims) all = all.multiply(BigInteger.valueOf(x));
        throw new IllegalArgumentException(name + ": IDX header declares " + shape + " = " + all
            + " bytes of data, above the limit of " + MAX_DATA_BYTES + " bytes");
      }
    }
    if (size >= 0 && size - header != n) { // a raw file: its size is known before anything is allocated
      throw new IllegalArgumentException(name + ": IDX header declares " + shape + " = " + n
          + " bytes of data but the file has " + (size - header)
          + (size - header < n ? " (truncated)" : " (trailing bytes after the data)"));
    }
    long heap = Runtime.getRuntime().maxMemory();
    if (heap != Long.MAX_VALUE && n > heap / 2) {
      throw new IllegalArgumentException(name + ": IDX header declares " + shape + " = " + n
          + " bytes of data, more than half of this JVM's " + heap + "-byte heap (raise -Xmx)");
    }
    byte[] data = readData(s, (int) n, size >= 0);
    if (data.length < n) {
      throw new IllegalArgumentException(name + ": truncated: the IDX header declares " + shape + " = " + n
          + " bytes of data but the " + what + " ends after " + data.length);
    }
    if (s.read() >= 0) {
      throw new IllegalArgumentException(name + ": trailing bytes in the " + what + " after the " + n
          + " bytes of data the IDX header declares (" + shape + ")");
    }
    return new Array(dims, data, name);
  }

  /**
   * Reads up to {@code n} bytes: all at once when the length is already known to be there,
   * otherwise into a buffer that doubles as data arrives (so a truncated stream whose header
   * claims a gigabyte allocates only about what it holds). Returns fewer bytes at end of stream.
   */
  private static byte[] readData(InputStream s, int n, boolean known) throws IOException {
    byte[] buf = new byte[known ? n : Math.min(n, 1 << 16)];
    int filled = 0;
    while (filled < n) {
      if (filled == buf.length) buf = Arrays.copyOf(buf, (int) Math.min(n, 2L * buf.length));
      int r = s.read(buf, filled, buf.length - filled);
      if (r < 0) return Arrays.copyOf(buf, filled);
      filled += r;
    }
    return buf;
  }

  private static long dimAt(byte[] h, int i) {
    return ((h[4 * i] & 0xFFL) << 24) | ((h[4 * i + 1] & 0xFF) << 16) | ((h[4 * i + 2] & 0xFF) << 8)
        | (h[4 * i + 3] & 0xFF);
  }

  private static String dimsText(byte[] h, int rank) {
    StringBuilder sb = new StringBuilder();
    for (int j = 0; j < rank; j++) sb.append(j == 0 ? "" : "×").append(dimAt(h, j));
    return sb.toString();
  }

  /** The IDX format's type codes (unsigned/signed byte, short, int, float, double). */
  private static boolean isIdxType(byte t) {
    return t == 0x08 || t == 0x09 || t == 0x0B || t == 0x0C || t == 0x0D || t == 0x0E;
  }

  /**
   * One gzip member (RFC 1952) as a stream of its decompressed bytes. {@link #finish} then checks
   * the trailer (CRC-32 and length) and that nothing follows the member.
   */
  private static final class Gunzip extends InputStream {
    private final InputStream in;
    private final String name;
    private final Inflater inflater = new Inflater(true); // raw deflate: the gzip framing is ours
    private final CRC32 crc = new CRC32();
    private final byte[] buf = new byte[1 << 16];
    private int bufLen;
    private long total;

    Gunzip(InputStream in, String name) throws IOException {
      this.in = in;
      this.name = name;
      readHeader();
    }

    private void readHeader() throws IOException {
      CRC32 hcrc = new CRC32();
      byte[] fixed = headerBytes(10, hcrc);
      if ((fixed[2] & 0xFF) != 8) throw corrupt("compression method " + (fixed[2] & 0xFF) + " (only 8, deflate)");
      int flags = fixed[3] & 0xFF;
      if ((flags & 0xE0) != 0) throw corrupt("reserved header flags set (0x" + Integer.toHexString(flags) + ")");
      if ((flags & 4) != 0) { // FEXTRA: a 2-byte little-endian length, then that many bytes
        byte[] xlen = headerBytes(2, hcrc);
        skipHeader((xlen[0] & 0xFF) | (xlen[1] & 0xFF) << 8, hcrc);
      }
      if ((flags & 8) != 0) skipZeroTerminated(hcrc); // FNAME
      if ((flags & 16) != 0) skipZeroTerminated(hcrc); // FCOMMENT
      if ((flags & 2) != 0) { // FHCRC: the low 16 bits of the header's CRC-32
        int want = (int) (hcrc.getValue() & 0xFFFF);
        byte[] c = headerBytes(2, null);
        if (((c[0] & 0xFF) | (c[1] & 0xFF) << 8) != want) throw corrupt("header CRC mismatch");
      }
    }

    private byte[] headerBytes(int n, CRC32 hcrc) throws IOException {
      byte[] b = in.readNBytes(n);
      if (b.length < n) throw new IllegalArgumentException(name + ": truncated gzip header");
      if (hcrc != null) hcrc.update(b);
      return b;
    }

    private void skipHeader(int n, CRC32 hcrc) throws IOException {
      for (int i = 0; i < n; i++) headerByte(hcrc);
    }

    private void skipZeroTerminated(CRC32 hcrc) throws IOException {
      while (headerByte(hcrc) != 0) {
        // a file name or comment: skipped byte by byte (no buffer, whatever its length)
      }
    }

    private int headerByte(CRC32 hcrc) throws IOException {
      int c = in.read();
      if (c < 0) throw new IllegalArgumentException(name + ": truncated gzip header");
      hcrc.update(c);
      return c;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) return 0;
      while (true) {
        if (inflater.finished()) return -1;
        int n;
        try {
          n = inflater.inflate(b, off, len);
        } catch (DataFormatException e) {
          throw corrupt("bad deflate data: " + e.getMessage());
        }
        if (n > 0) {
          crc.update(b, off, n);
          total += n;
          return n;
        }
        if (inflater.finished()) return -1;
        if (inflater.needsDictionary()) throw corrupt("deflate data asks for a preset dictionary");
        if (!inflater.needsInput()) throw corrupt("the inflater made no progress");
        bufLen = in.read(buf, 0, buf.length);
        if (bufLen < 0) {
          bufLen = 0;
          throw new IllegalArgumentException(name + ": truncated gzip data (the file ends inside the compressed stream)");
        }
        inflater.setInput(buf, 0, bufLen);
      }
    }

    /** Checks the trailer (called once all data was read) and that the file ends right after it. */
    void finish() throws IOException {
      if (!inflater.finished()) throw new IllegalStateException("finish before the end of the deflate stream");
      // the trailer starts with the input the inflater did not consume
      int rem = inflater.getRemaining();
      byte[] t = new byte[8];
      int have = Math.min(rem, 8);
      System.arraycopy(buf, bufLen - rem, t, 0, have);
      int more = in.readNBytes(t, have, 8 - have);
      if (have + more < 8) throw new IllegalArgumentException(name + ": truncated gzip trailer");
      long wantCrc = le32(t, 0), wantSize = le32(t, 4);
      if (wantCrc != crc.getValue()) throw corrupt("CRC-32 mismatch (the data is damaged)");
      if (wantSize != (total & 0xFFFFFFFFL)) {
        throw corrupt("length field says " + wantSize + " bytes, the data has " + total);
      }
      if (rem > 8 || in.read() >= 0) {
        throw new IllegalArgumentException(name + ": trailing bytes after the gzip stream (a second gzip member"
            + " or other data); an IDX .gz file must be exactly one gzip stream");
      }
    }

    private static long le32(byte[] b, int o) {
      return (b[o] & 0xFFL) | (b[o + 1] & 0xFFL) << 8 | (b[o + 2] & 0xFFL) << 16 | (b[o + 3] & 0xFFL) << 24;
    }

    private IllegalArgumentException corrupt(String why) {
      return new IllegalArgumentException(name + ": corrupt gzip data: " + why);
    }

    @Override
    public void close() {
      inflater.end();
    }
  }

  /** Encodes unsigned bytes as IDX (used to build the embedded subset). */
  public static byte[] encode(int[] dims, byte[] data) {
    byte[] out = new byte[4 + 4 * dims.length + data.length];
    out[2] = 0x08;
    out[3] = (byte) dims.length;
    for (int i = 0; i < dims.length; i++) {
      int o = 4 + 4 * i;
      out[o] = (byte) (dims[i] >>> 24);
      out[o + 1] = (byte) (dims[i] >>> 16);
      out[o + 2] = (byte) (dims[i] >>> 8);
      out[o + 3] = (byte) dims[i];
    }
    System.arraycopy(data, 0, out, 4 + 4 * dims.length, data.length);
    return out;
  }

  private static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (byte x : b) sb.append(String.format("%02x ", x & 0xFF));
    return sb.toString().trim();
  }
}
