package dev.lowbit.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Reads IDX files (LeCun's MNIST format: big-endian magic 0x0000TTRR with type TT and rank RR,
 * then RR big-endian sizes, then the data), raw or gzip-compressed. Only unsigned bytes (0x08), the
 * type (Fashion-)MNIST uses, are accepted.
 */
public final class Idx {

  /** A decoded IDX array: its dimensions and its unsigned-byte payload. */
  public record Array(int[] dims, byte[] data) {
    public int count() {
      return dims[0];
    }
  }

  private Idx() {}

  public static Array read(Path file) throws IOException {
    byte[] raw;
    try {
      raw = Files.readAllBytes(file);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalArgumentException(file + ": no such file");
    }
    return parse(raw, file.toString());
  }

  /** Parses IDX bytes (gzip detected by its magic); {@code name} goes into error messages. */
  public static Array parse(byte[] raw, String name) throws IOException {
    byte[] b = raw;
    if (b.length >= 2 && (b[0] & 0xFF) == 0x1F && (b[1] & 0xFF) == 0x8B) {
      try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(raw))) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length * 4);
        in.transferTo(out);
        b = out.toByteArray();
      } catch (java.io.EOFException | java.util.zip.ZipException e) {
        throw new IllegalArgumentException(name + ": corrupt or truncated gzip data (" + e.getMessage() + ")");
      }
    }
    if (b.length < 4) throw new IllegalArgumentException(name + ": too short for an IDX header (" + b.length + " bytes)");
    if (b[0] != 0 || b[1] != 0) {
      throw new IllegalArgumentException(name + ": bad IDX magic " + hex(b, 4) + " (expected 00 00 08 0N)");
    }
    if (b[2] != 0x08) {
      throw new IllegalArgumentException(name + ": IDX data type 0x" + String.format("%02x", b[2])
          + " is not supported (only 0x08, unsigned byte)");
    }
    int rank = b[3] & 0xFF;
    if (rank < 1 || rank > 4) throw new IllegalArgumentException(name + ": IDX rank " + rank + " (expected 1..4)");
    int header = 4 + 4 * rank;
    if (b.length < header) throw new IllegalArgumentException(name + ": truncated IDX header");
    int[] dims = new int[rank];
    long n = 1;
    for (int i = 0; i < rank; i++) {
      int o = 4 + 4 * i;
      long d = ((b[o] & 0xFFL) << 24) | ((b[o + 1] & 0xFF) << 16) | ((b[o + 2] & 0xFF) << 8) | (b[o + 3] & 0xFF);
      if (d <= 0 || d > Integer.MAX_VALUE) throw new IllegalArgumentException(name + ": IDX dimension " + i + " is " + d);
      dims[i] = (int) d;
      n *= d;
    }
    if (b.length - header != n) {
      throw new IllegalArgumentException(name + ": IDX header says " + Arrays.toString(dims) + " = " + n
          + " bytes of data but the file has " + (b.length - header) + (b.length - header < n ? " (truncated)" : ""));
    }
    return new Array(dims, Arrays.copyOfRange(b, header, b.length));
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

  private static String hex(byte[] b, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < Math.min(n, b.length); i++) sb.append(String.format("%02x ", b[i]));
    return sb.toString().trim();
  }
}
