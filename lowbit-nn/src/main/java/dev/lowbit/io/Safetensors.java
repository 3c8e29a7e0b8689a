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
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The safetensors format (Hugging Face): 8-byte little-endian header length, a JSON header mapping
 * each tensor name to {dtype, shape, data_offsets} (plus optional string "__metadata__"), then the
 * raw little-endian data. Writes F32 ({@link #write}; {@link #writeTyped} also I8 and I32); reads
 * F32, F64, F16, BF16 (converted to float32), so files saved from PyTorch load, and I8 and I32 as
 * they are ({@link Header#readI8}, {@link Header#readI32}: an integer-only program's tensors).
 *
 * <p>Reading treats the file as hostile: {@link #header} validates the whole header (length,
 * JSON within {@link Json}'s limits, names, dtypes, shapes, offsets tiling the data section
 * exactly) before any tensor is read; {@link Header#read} then reads only the tensors a model
 * needs, refusing unknown or mis-shaped ones before allocating anything; every value read must be
 * finite. Each defect is one IllegalArgumentException naming the file and the tensor or field.
 */
public final class Safetensors {

  /** Tensors in file order and the string metadata. */
  public record Contents(LinkedHashMap<String, Tensor> tensors, Map<String, String> metadata) {}

  /**
   * The longest header accepted, 16 MiB (the JSON limit, {@link Json#MAX_DOCUMENT}): this
   * project's checkpoints have a few KB, a large PyTorch model's a few hundred KB.
   */
  public static final long MAX_HEADER = Json.MAX_DOCUMENT;

  /** The most elements of one tensor read (a Java array's limit). */
  public static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  private Safetensors() {}

  /** Writes to a temporary file beside {@code file} and renames it into place. */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
    LinkedHashMap<String, Stored> typed = new LinkedHashMap<>();
    for (var e : tensors.entrySet()) typed.put(e.getKey(), new F32(e.getValue()));
    writeTyped(file, typed, metadata);
  }

  /** A tensor to write with its dtype: float32 values, int8 codes or int32 values, row-major. */
  public sealed interface Stored {
    /** The safetensors dtype name. */
    String dtype();

    int[] shape();

    /** The number of elements. */
    long size();

    /** Element {@code i}, little-endian, into {@code buf} (which has room for it). */
    void put(ByteBuffer buf, int i);
  }

  /** Float32 values (a model's weights). */
  public record F32(Tensor tensor) implements Stored {
    @Override
    public String dtype() {
      return "F32";
    }

    @Override
    public int[] shape() {
      return tensor.shape();
    }

    @Override
    public long size() {
      return tensor.size();
    }

    @Override
    public void put(ByteBuffer buf, int i) {
      buf.putFloat(tensor.data()[i]);
    }
  }

  /** Int8 values under {@code shape} (the element count must match). */
  public record I8(byte[] data, int[] shape) implements Stored {
    public I8 {
      checkCount("I8", data.length, shape);
    }

    @Override
    public String dtype() {
      return "I8";
    }

    @Override
    public long size() {
      return data.length;
    }

    @Override
    public void put(ByteBuffer buf, int i) {
      buf.put(data[i]);
    }
  }

  /** Int32 values under {@code shape} (the element count must match). */
  public record I32(int[] data, int[] shape) implements Stored {
    public I32 {
      checkCount("I32", data.length, shape);
    }

    @Override
    public String dtype() {
      return "I32";
    }

    @Override
    public long size() {
      return data.length;
    }

    @Override
    public void put(ByteBuffer buf, int i) {
      buf.putInt(data[i]);
    }
  }

  private static void checkCount(String dtype, int length, int[] shape) {
    long n = 1;
    for (int d : shape) n *= d;
    if (n != length) {
      throw new IllegalArgumentException(dtype + " tensor of shape " + Arrays.toString(shape) + " needs " + n
          + " values, got " + length);
    }
  }

  /**
   * Writes tensors of any {@link Stored} dtype, as {@link #write} (which is this with every
   * tensor F32): a temporary file beside {@code file}, then a rename.
   */
  public static void writeTyped(Path file, Map<String, ? extends Stored> tensors, Map<String, String> metadata)
      throws IOException {
    LinkedHashMap<String, Object> header = new LinkedHashMap<>();
    if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
    long off = 0;
    for (var e : tensors.entrySet()) {
      if (e.getKey().equals("__metadata__")) throw new IllegalArgumentException("tensor name __metadata__ is reserved");
      long bytes = WIDTH.get(e.getValue().dtype()) * e.getValue().size();
      LinkedHashMap<String, Object> d = new LinkedHashMap<>();
      d.put("dtype", e.getValue().dtype());
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
        for (Stored t : tensors.values()) {
          for (int i = 0, n = (int) t.size(); i < n; i++) {
            if (buf.remaining() < 8) {
              out.write(buf.array(), 0, buf.position());
              buf.clear();
            }
            t.put(buf, i);
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

  /** One tensor's header entry; {@code begin} and {@code end} are offsets in the data section. */
  public record Entry(String name, String dtype, int[] shape, long elements, long begin, long end) {
    /** The shape as "[2, 3]". */
    public String shapeString() {
      return Arrays.toString(shape);
    }
  }

  /**
   * A file's validated header: every entry's dtype, shape and offsets checked and the offsets
   * shown to tile the data section exactly. Nothing of the data has been read.
   */
  public record Header(Path file, long fileSize, long dataStart, LinkedHashMap<String, Entry> entries,
      Map<String, String> metadata) {

    /** Reads every tensor (memory as the file's data, at 4 bytes per element). */
    public Contents readAll() throws IOException {
      return readTensors(this, new ArrayList<>(entries.values()));
    }

    /**
     * Reads exactly the tensors in {@code wanted} (only their names and shapes are used), the
     * model's state: a wanted tensor that is missing or of another shape, or an entry neither
     * wanted nor {@code skipped} (a tensor the model does not have), is an error before anything
     * is allocated, so memory is bounded by what the model needs. Skipped entries are not read.
     */
    public Contents read(Map<String, Tensor> wanted, Predicate<String> skipped) throws IOException {
      List<Entry> chosen = new ArrayList<>();
      for (Entry e : entries.values()) {
        Tensor t = wanted.get(e.name());
        if (t != null) {
          if (!Arrays.equals(t.shape(), e.shape())) {
            throw new IllegalArgumentException(file + ": tensor " + quote(e.name()) + " has shape " + e.shapeString()
                + ", the model needs " + Arrays.toString(t.shape()));
          }
          chosen.add(e);
        } else if (!skipped.test(e.name())) {
          throw new IllegalArgumentException(file + ": unexpected tensor " + quote(e.name()) + " (not in the model)");
        }
      }
      for (String name : wanted.keySet()) {
        if (!entries.containsKey(name)) throw new IllegalArgumentException(file + ": missing tensor " + quote(name));
      }
      return readTensors(this, chosen);
    }

    /** The int8 values of tensor {@code name}, which must be stored as I8. */
    public byte[] readI8(String name) throws IOException {
      Entry e = integerEntry(name, "I8");
      byte[] out = new byte[(int) e.elements()];
      readSpan(e, ByteBuffer.wrap(out));
      return out;
    }

    /** The int32 values of tensor {@code name}, which must be stored as I32. */
    public int[] readI32(String name) throws IOException {
      Entry e = integerEntry(name, "I32");
      ByteBuffer b = ByteBuffer.allocate((int) (4 * e.elements())).order(ByteOrder.LITTLE_ENDIAN);
      readSpan(e, b);
      int[] out = new int[(int) e.elements()];
      b.flip().asIntBuffer().get(out);
      return out;
    }

    private Entry integerEntry(String name, String dtype) {
      Entry e = entries.get(name);
      if (e == null) throw new IllegalArgumentException(file + ": missing tensor " + quote(name));
      if (!e.dtype().equals(dtype)) {
        throw new IllegalArgumentException(file + ": tensor " + quote(name) + " has dtype " + e.dtype() + ", expected "
            + dtype);
      }
      if (4 * e.elements() > MAX_ELEMENTS) {
        throw new IllegalArgumentException(file + ": tensor " + quote(name) + ": " + e.elements()
            + " elements, more than this reader holds");
      }
      return e;
    }

    /** Fills {@code b} from the entry's bytes (the header has shown they lie inside the file). */
    private void readSpan(Entry e, ByteBuffer b) throws IOException {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        if (ch.size() != fileSize) {
          throw new IllegalArgumentException(file + ": changed while being read (" + fileSize + " bytes, now " + ch.size() + ")");
        }
        readFully(ch, b, dataStart + e.begin(), file);
      }
    }
  }


  /** Reads and validates a whole file: {@code header(file).readAll()}. */
  public static Contents read(Path file) throws IOException {
    return header(file).readAll();
  }

  /**
   * Reads and validates the header of {@code file} before any tensor is read: its length against
   * the file and {@link #MAX_HEADER}, the JSON, every entry's name, dtype, shape (element count
   * and byte size without overflow) and data_offsets (the span the shape needs), that the entries
   * tile the data section exactly (no overlap, no gap, no trailing bytes), and that
   * {@code __metadata__} maps strings to strings. Any defect is an IllegalArgumentException naming
   * the file and the tensor or field.
   */
  public static Header header(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": no such checkpoint file");
    byte[] json;
    long size;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      size = ch.size();
      if (size < 8) throw new IllegalArgumentException(file + ": too short for a safetensors header (" + size + " bytes)");
      ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lb, 0, file);
      long hlen = lb.flip().getLong();
      if (hlen <= 0 || hlen > MAX_HEADER || hlen > size - 8) {
        throw new IllegalArgumentException(file + ": corrupt safetensors header length " + hlen + " (file has " + size
            + " bytes, headers are at most " + MAX_HEADER + ")");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) hlen);
      readFully(ch, hb, 8, file);
      json = hb.array();
    }
    Object parsed;
    try {
      parsed = Json.parse(json);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": corrupt safetensors header: " + e.getMessage());
    }
    if (!(parsed instanceof Map<?, ?> header)) throw new IllegalArgumentException(file + ": safetensors header is not a JSON object");
    long dataStart = 8L + json.length, dataLen = size - dataStart;
    LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
    Map<String, String> meta = new LinkedHashMap<>();
    for (var e : header.entrySet()) {
      String name = (String) e.getKey();
      if (name.equals("__metadata__")) {
        if (!(e.getValue() instanceof Map<?, ?> m)) throw new IllegalArgumentException(file + ": __metadata__ is not an object");
        for (var me : m.entrySet()) {
          if (!(me.getValue() instanceof String v)) {
            throw new IllegalArgumentException(file + ": __metadata__ " + quote((String) me.getKey()) + " is not a string");
          }
          meta.put((String) me.getKey(), v);
        }
        continue;
      }
      entries.put(name, entry(file, name, e.getValue(), dataLen));
    }
    checkTiling(file, entries.values(), dataLen);
    return new Header(file, size, dataStart, entries, meta);
  }

  /** The bytes of one element of each safetensors dtype; only {@link #READABLE} ones can be read. */
  private static final Map<String, Integer> WIDTH = Map.ofEntries(
      Map.entry("BOOL", 1), Map.entry("U8", 1), Map.entry("I8", 1), Map.entry("F8_E5M2", 1), Map.entry("F8_E4M3", 1),
      Map.entry("I16", 2), Map.entry("U16", 2), Map.entry("F16", 2), Map.entry("BF16", 2),
      Map.entry("I32", 4), Map.entry("U32", 4), Map.entry("F32", 4),
      Map.entry("I64", 8), Map.entry("U64", 8), Map.entry("F64", 8));

  /** The dtypes read (converted to float32). */
  private static final List<String> READABLE = List.of("F32", "F64", "F16", "BF16");

  private static Entry entry(Path file, String name, Object desc, long dataLen) {
    String where = file + ": tensor " + quote(name);
    if (name.isEmpty() || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      throw new IllegalArgumentException(where + ": a tensor name must be non-empty, without control characters");
    }
    if (!(desc instanceof Map<?, ?> d)) throw new IllegalArgumentException(where + " is not an object");
    if (!(d.get("dtype") instanceof String dtype)) throw new IllegalArgumentException(where + ": missing dtype");
    Integer width = WIDTH.get(dtype);
    if (width == null) {
      throw new IllegalArgumentException(where + ": unknown dtype " + quote(dtype) + " (known: " + new TreeSet<>(WIDTH.keySet()) + ")");
    }
    if (!(d.get("shape") instanceof List<?> sl)) throw new IllegalArgumentException(where + ": missing shape");
    int[] shape = new int[sl.size()];
    long n = 1;
    for (int i = 0; i < shape.length; i++) {
      if (!(sl.get(i) instanceof Long v) || v < 0 || v > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(where + ": bad shape " + clip(String.valueOf(sl))
            + " (dimensions are integers from 0 to " + Integer.MAX_VALUE + ")");
      }
      shape[i] = (int) (long) v;
      try {
        n = Math.multiplyExact(n, v);
      } catch (ArithmeticException overflow) {
        throw new IllegalArgumentException(where + ": shape " + clip(String.valueOf(sl)) + " has more elements than 2^63");
      }
    }
    long bytes;
    try {
      bytes = Math.multiplyExact(n, (long) width);
    } catch (ArithmeticException overflow) {
      throw new IllegalArgumentException(where + ": shape " + clip(String.valueOf(sl)) + " of " + dtype + " needs more than 2^63 bytes");
    }
    if (!(d.get("data_offsets") instanceof List<?> ol) || ol.size() != 2
        || !(ol.get(0) instanceof Long begin) || !(ol.get(1) instanceof Long end)) {
      throw new IllegalArgumentException(where + ": missing or bad data_offsets (two integers [begin, end])");
    }
    if (begin < 0 || end < begin || end > dataLen) {
      throw new IllegalArgumentException(where + ": data_offsets [" + begin + ", " + end + "] outside the "
          + dataLen + "-byte data section (truncated file?)");
    }
    if (end - begin != bytes) {
      throw new IllegalArgumentException(where + ": data_offsets span " + (end - begin) + " bytes but shape "
          + Arrays.toString(shape) + " of " + dtype + " needs " + bytes);
    }
    return new Entry(name, dtype, shape, n, begin, end);
  }

  /**
   * The entries, in offset order, must cover the data section exactly: the first starts at 0, each
   * starts where the one before ends (earlier: aliased bytes; later: a gap), the last ends at the
   * end of the file.
   */
  private static void checkTiling(Path file, Collection<Entry> entries, long dataLen) {
    List<Entry> byOffset = new ArrayList<>(entries);
    byOffset.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
    long at = 0;
    Entry prev = null;
    for (Entry e : byOffset) {
      if (e.begin() < at) {
        throw new IllegalArgumentException(file + ": tensor " + quote(e.name()) + " (bytes " + e.begin() + " to "
            + e.end() + ") overlaps tensor " + quote(prev.name()) + " (bytes " + prev.begin() + " to " + prev.end() + ")");
      }
      if (e.begin() > at) {
        throw new IllegalArgumentException(file + ": " + (e.begin() - at) + " unused bytes before tensor "
            + quote(e.name()) + " at data offset " + at);
      }
      at = e.end();
      prev = e;
    }
    if (at != dataLen) {
      throw new IllegalArgumentException(file + ": " + (dataLen - at) + " trailing bytes after the last tensor"
          + (prev == null ? "" : " " + quote(prev.name())) + " (the data section has " + dataLen + " bytes)");
    }
  }

  /** Reads {@code chosen} in a bounded buffer, converting to float32 and refusing non-finite values. */
  private static Contents readTensors(Header h, List<Entry> chosen) throws IOException {
    for (Entry e : chosen) { // every refusal before the first allocation
      String where = h.file() + ": tensor " + quote(e.name());
      if (!READABLE.contains(e.dtype())) {
        throw new IllegalArgumentException(where + ": dtype " + e.dtype() + " is not supported (" + String.join(", ", READABLE) + ")");
      }
      if (e.elements() > MAX_ELEMENTS) {
        throw new IllegalArgumentException(where + ": " + e.elements() + " elements, more than a Java array holds");
      }
    }
    LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
    try (FileChannel ch = FileChannel.open(h.file(), StandardOpenOption.READ)) {
      if (ch.size() != h.fileSize()) {
        throw new IllegalArgumentException(h.file() + ": changed while being read (" + h.fileSize() + " bytes, now " + ch.size() + ")");
      }
      ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
      for (Entry e : chosen) {
        float[] out = new float[(int) e.elements()];
        long pos = h.dataStart() + e.begin();
        int width = WIDTH.get(e.dtype());
        int i = 0;
        while (i < out.length) {
          int count = Math.min(out.length - i, buf.capacity() / width);
          buf.clear().limit(count * width);
          readFully(ch, buf, pos, h.file());
          buf.flip();
          pos += (long) count * width;
          for (int k = 0; k < count; k++, i++) {
            float v = switch (e.dtype()) {
              case "F32" -> buf.getFloat();
              case "F64" -> (float) buf.getDouble();
              case "F16" -> Float.float16ToFloat(buf.getShort());
              default -> Float.intBitsToFloat((buf.getShort() & 0xFFFF) << 16); // BF16
            };
            if (!Float.isFinite(v)) {
              throw new IllegalArgumentException(h.file() + ": tensor " + quote(e.name()) + " holds " + v
                  + " at element " + i + " (as float32); weights must be finite");
            }
            out[i] = v;
          }
        }
        tensors.put(e.name(), new Tensor(out, e.shape()));
      }
    }
    return new Contents(tensors, h.metadata());
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos, Path file) throws IOException {
    while (b.hasRemaining()) {
      int r = ch.read(b, pos);
      if (r < 0) throw new IllegalArgumentException(file + ": unexpected end of file at byte " + pos);
      pos += r;
    }
  }

  /** A name for a message, quoted: at most 80 characters, control characters escaped. */
  static String quote(String s) {
    return "'" + clip(s) + "'";
  }

  private static String clip(String s) {
    return Json.clip(s, 80);
  }
}
