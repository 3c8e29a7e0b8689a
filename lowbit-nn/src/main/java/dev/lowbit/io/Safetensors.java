package dev.lowbit.io;

import dev.lowbit.tensor.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (Hugging Face): 8-byte little-endian header length, a JSON header mapping
 * each tensor name to {dtype, shape, data_offsets} (plus optional string "__metadata__"), then the
 * raw little-endian data. Writes F32; reads F32, F64, F16, BF16 (converted to float32), so files
 * saved from PyTorch load.
 */
public final class Safetensors {

  /** Tensors in file order and the string metadata. */
  public record Contents(LinkedHashMap<String, Tensor> tensors, Map<String, String> metadata) {}

  private static final long MAX_HEADER = 100L << 20;

  private Safetensors() {}

  /** Writes to a temporary file beside {@code file} and renames it into place. */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
    LinkedHashMap<String, Object> header = new LinkedHashMap<>();
    if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
    long off = 0;
    for (var e : tensors.entrySet()) {
      if (e.getKey().equals("__metadata__")) throw new IllegalArgumentException("tensor name __metadata__ is reserved");
      long bytes = 4L * e.getValue().size();
      LinkedHashMap<String, Object> d = new LinkedHashMap<>();
      d.put("dtype", "F32");
      d.put("shape", e.getValue().shape());
      d.put("data_offsets", new long[] {off, off + bytes});
      header.put(e.getKey(), d);
      off += bytes;
    }
    byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8; // the data section starts 8-byte aligned
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
    try {
      try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        out.write(len.array());
        out.write(json);
        for (int i = json.length; i < padded; i++) out.write(' ');
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (Tensor t : tensors.values()) {
          for (float v : t.data()) {
            if (!buf.hasRemaining()) {
              out.write(buf.array(), 0, buf.position());
              buf.clear();
            }
            buf.putFloat(v);
          }
        }
        out.write(buf.array(), 0, buf.position());
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Reads and validates a file; any defect is an IllegalArgumentException naming the file and field. */
  public static Contents read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such checkpoint file");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) throw new IllegalArgumentException(file + ": too short for a safetensors header (" + size + " bytes)");
      ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lb, 0);
      long hlen = lb.flip().getLong();
      if (hlen <= 0 || hlen > MAX_HEADER || hlen > size - 8) {
        throw new IllegalArgumentException(file + ": corrupt safetensors header length " + hlen + " (file has " + size + " bytes)");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) hlen);
      readFully(ch, hb, 8);
      Object parsed;
      try {
        parsed = Json.parse(new String(hb.array(), StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(file + ": corrupt safetensors header: " + e.getMessage());
      }
      if (!(parsed instanceof Map<?, ?> header)) throw new IllegalArgumentException(file + ": safetensors header is not a JSON object");
      long dataStart = 8 + hlen, dataLen = size - dataStart;
      LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
      Map<String, String> meta = new LinkedHashMap<>();
      for (var e : header.entrySet()) {
        String name = (String) e.getKey();
        if (name.equals("__metadata__")) {
          if (!(e.getValue() instanceof Map<?, ?> m)) throw new IllegalArgumentException(file + ": __metadata__ is not an object");
          for (var me : m.entrySet()) meta.put(String.valueOf(me.getKey()), String.valueOf(me.getValue()));
          continue;
        }
        tensors.put(name, readTensor(ch, file, name, e.getValue(), dataStart, dataLen));
      }
      return new Contents(tensors, meta);
    }
  }

  private static Tensor readTensor(FileChannel ch, Path file, String name, Object desc, long dataStart, long dataLen)
      throws IOException {
    String where = file + ": tensor '" + name + "'";
    if (!(desc instanceof Map<?, ?> d)) throw new IllegalArgumentException(where + " is not an object");
    if (!(d.get("dtype") instanceof String dtype)) throw new IllegalArgumentException(where + ": missing dtype");
    int width = switch (dtype) {
      case "F32" -> 4;
      case "F64" -> 8;
      case "F16", "BF16" -> 2;
      default -> throw new IllegalArgumentException(where + ": dtype " + dtype + " is not supported (F32, F64, F16, BF16)");
    };
    if (!(d.get("shape") instanceof List<?> sl)) throw new IllegalArgumentException(where + ": missing shape");
    int[] shape = new int[sl.size()];
    long n = 1;
    for (int i = 0; i < shape.length; i++) {
      if (!(sl.get(i) instanceof Long v) || v < 0 || v > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(where + ": bad shape " + sl);
      }
      shape[i] = (int) (long) v;
      n *= v;
    }
    if (!(d.get("data_offsets") instanceof List<?> ol) || ol.size() != 2
        || !(ol.get(0) instanceof Long begin) || !(ol.get(1) instanceof Long end)) {
      throw new IllegalArgumentException(where + ": missing or bad data_offsets");
    }
    if (begin < 0 || end < begin || end > dataLen) {
      throw new IllegalArgumentException(where + ": data_offsets [" + begin + ", " + end + "] outside the "
          + dataLen + "-byte data section (truncated file?)");
    }
    if (end - begin != n * width) {
      throw new IllegalArgumentException(where + ": data_offsets span " + (end - begin) + " bytes but shape "
          + sl + " of " + dtype + " needs " + n * width);
    }
    if (n > Integer.MAX_VALUE) throw new IllegalArgumentException(where + ": too large");
    ByteBuffer bb = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, bb, dataStart + begin);
    bb.flip();
    float[] out = new float[(int) n];
    for (int i = 0; i < out.length; i++) {
      out[i] = switch (dtype) {
        case "F32" -> bb.getFloat();
        case "F64" -> (float) bb.getDouble();
        case "F16" -> Float.float16ToFloat(bb.getShort());
        default -> Float.intBitsToFloat((bb.getShort() & 0xFFFF) << 16);
      };
    }
    return new Tensor(out, shape);
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int r = ch.read(b, pos);
      if (r < 0) throw new java.io.EOFException("unexpected end of file");
      pos += r;
    }
  }

  /** Names in a list, for error messages. */
  static List<String> names(Map<String, ?> m) {
    return new ArrayList<>(m.keySet());
  }
}
