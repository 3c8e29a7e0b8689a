package dev.lowbit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.tensor.Tensor;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Damaged and hostile safetensors files: each gets one IllegalArgumentException naming the file and what is wrong. */
class SafetensorsHostileTest {

  @TempDir Path dir;

  /** The bytes of a file: length prefix, {@code json} padded to 8 bytes, {@code data}. */
  static byte[] file(String json, byte[] data) {
    byte[] h = json.getBytes(StandardCharsets.UTF_8);
    int padded = (h.length + 7) / 8 * 8;
    ByteBuffer b = ByteBuffer.allocate(8 + padded + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(padded).put(h);
    for (int i = h.length; i < padded; i++) b.put((byte) ' ');
    b.put(data);
    return b.array();
  }

  private Path write(String name, String json, byte[] data) throws Exception {
    Path f = dir.resolve(name);
    Files.write(f, file(json, data));
    return f;
  }

  /** A file whose data section is {@code dataLength} bytes of holes: it takes no disk. */
  private Path sparse(String name, String json, long dataLength) throws Exception {
    Path f = dir.resolve(name);
    Files.write(f, file(json, new byte[0]));
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.setLength(raf.length() + dataLength);
    }
    return f;
  }

  private static String entry(String name, String dtype, String shape, long begin, long end) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
  }

  /** The message of the IllegalArgumentException {@code ex} throws, checked to name {@code file}. */
  private static String refusal(Path file, Executable ex) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ex);
    Fuzz.assertOneLine(e.getMessage());
    assertTrue(e.getMessage().contains(file.toString()), "names no file: " + e.getMessage());
    return e.getMessage();
  }

  private static Map<String, Tensor> model(String name, int... shape) {
    LinkedHashMap<String, Tensor> m = new LinkedHashMap<>();
    m.put(name, Tensor.zeros(shape));
    return m;
  }

  /** Was a StackOverflowError. */
  @Test
  void aHeaderNested200000DeepIsRefused() throws Exception {
    Path f = write("deep.safetensors", "{\"a\":" + "[".repeat(200_000) + "]".repeat(200_000) + "}", new byte[0]);
    String m = refusal(f, () -> Safetensors.read(f));
    assertTrue(m.contains("corrupt safetensors header") && m.contains("nesting depth"), m);
  }

  /**
   * A 2^30-element F16 tensor (2 GiB of data, sparse here) is a valid header; a model that does
   * not have it, or has it in another shape, refuses it by name before reading or allocating.
   * Was "capacity < 0", naming no file.
   */
  @Test
  void aTwoToTheThirtyElementF16TensorIsRefusedByNameBeforeAllocating() throws Exception {
    long n = 1L << 30;
    Path f = sparse("big.safetensors", "{" + entry("big", "F16", "[" + n + "]", 0, 2 * n) + "}", 2 * n);
    Safetensors.Header h = Safetensors.header(f);
    assertEquals(n, h.entries().get("big").elements());
    long before = Mutations.allocated();
    String m = refusal(f, () -> h.read(model("w", 4), name -> false));
    assertTrue(m.contains("unexpected tensor 'big'"), m);
    m = refusal(f, () -> h.read(model("big", 2, 2), name -> false));
    assertTrue(m.contains("tensor 'big' has shape [1073741824], the model needs [2, 2]"), m);
    assertTrue(Mutations.allocated() - before < (16 << 20), "allocated " + (Mutations.allocated() - before));
    // a shape whose byte size overflows is refused in the header
    Path g = write("overflow.safetensors", "{" + entry("x", "F64", "[2147483647,2147483647,2147483647]", 0, 8) + "}", new byte[8]);
    m = refusal(g, () -> Safetensors.header(g));
    assertTrue(m.contains("'x'") && m.contains("2^63"), m);
  }

  /**
   * A 12 GB sparse file whose header lists the model's tensor and eight 1.5 GB "junk" tensors:
   * refused naming the first junk tensor, after allocating next to nothing (it was 6.1 GB and an
   * OutOfMemoryError on --resume).
   */
  @Test
  void aSparseFileOfJunkTensorsIsRefusedBeforeAllocating() throws Exception {
    StringBuilder json = new StringBuilder("{" + entry("w", "F32", "[4]", 0, 16));
    long at = 16, each = 1_500_000_000L;
    for (int i = 0; i < 8; i++, at += each) json.append(',').append(entry("junk" + i, "F32", "[" + each / 4 + "]", at, at + each));
    Path f = sparse("junk.safetensors", json + "}", at);
    assertTrue(Files.size(f) > 12_000_000_000L);
    long before = Mutations.allocated();
    String m = refusal(f, () -> Safetensors.header(f).read(model("w", 4), name -> false));
    assertTrue(m.contains("unexpected tensor 'junk0' (not in the model)"), m);
    assertTrue(Mutations.allocated() - before < (16 << 20), "allocated " + (Mutations.allocated() - before));
    // tensors the caller skips (an --init checkpoint's optimizer state) are not read at all
    Safetensors.Contents c = Safetensors.header(f).read(model("w", 4), name -> name.startsWith("junk"));
    assertEquals(java.util.List.of("w"), java.util.List.copyOf(c.tensors().keySet()));
    assertTrue(Mutations.allocated() - before < (32 << 20), "allocated " + (Mutations.allocated() - before));
  }

  @Test
  void offsetsMustTileTheDataExactly() throws Exception {
    Path aliased = write("aliased.safetensors", "{" + entry("a", "F32", "[4]", 0, 16) + "," + entry("b", "F32", "[4]", 0, 16) + "}", new byte[16]);
    String m = refusal(aliased, () -> Safetensors.read(aliased));
    assertTrue(m.contains("tensor 'b' (bytes 0 to 16) overlaps tensor 'a' (bytes 0 to 16)"), m);
    Path partly = write("partly.safetensors", "{" + entry("a", "F32", "[4]", 0, 16) + "," + entry("b", "F32", "[4]", 8, 24) + "}", new byte[24]);
    m = refusal(partly, () -> Safetensors.read(partly));
    assertTrue(m.contains("overlaps"), m);
    Path gap = write("gap.safetensors", "{" + entry("a", "F32", "[4]", 0, 16) + "," + entry("b", "F32", "[4]", 20, 36) + "}", new byte[36]);
    m = refusal(gap, () -> Safetensors.read(gap));
    assertTrue(m.contains("4 unused bytes before tensor 'b'"), m);
    Path late = write("late.safetensors", "{" + entry("a", "F32", "[1]", 4, 8) + "}", new byte[8]);
    m = refusal(late, () -> Safetensors.read(late));
    assertTrue(m.contains("4 unused bytes before tensor 'a' at data offset 0"), m);
    Path trailing = write("trailing.safetensors", "{" + entry("a", "F32", "[4]", 0, 16) + "}", new byte[20]);
    m = refusal(trailing, () -> Safetensors.read(trailing));
    assertTrue(m.contains("4 trailing bytes after the last tensor 'a'"), m);
    Path empty = write("empty.safetensors", "{}", new byte[3]);
    m = refusal(empty, () -> Safetensors.read(empty));
    assertTrue(m.contains("3 trailing bytes"), m);
    // empty tensors take no bytes and may sit anywhere on the tiling
    Path zeros = write("zeros.safetensors", "{" + entry("a", "F32", "[0,5]", 0, 0) + "," + entry("b", "F16", "[1]", 0, 2)
        + "," + entry("c", "BF16", "[0]", 2, 2) + "}", new byte[2]);
    assertEquals(0, Safetensors.read(zeros).tensors().get("a").size());
  }

  @Test
  void nonFiniteWeightsAreRefusedNamingTheTensor() throws Exception {
    LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
    t.put("fc.bias", new Tensor(new float[] {1, 2}, 2));
    t.put("fc.weight", new Tensor(new float[] {0, 1, Float.NaN, 3}, 2, 2));
    Path f = dir.resolve("nan.safetensors");
    Safetensors.write(f, t, null);
    String m = refusal(f, () -> Safetensors.read(f));
    assertTrue(m.contains("tensor 'fc.weight' holds NaN at element 2"), m);
    ByteBuffer inf = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    inf.putShort(Float.floatToFloat16(1f)).putShort((short) 0x7C00).putDouble(1e300);
    Path g = write("inf.safetensors", "{" + entry("h", "F16", "[2]", 0, 4) + "," + entry("d", "F64", "[]", 4, 12) + "}",
        inf.array());
    m = refusal(g, () -> Safetensors.read(g));
    assertTrue(m.contains("tensor 'h' holds Infinity at element 1"), m);
    Path d = write("f64.safetensors", "{" + entry("d", "F64", "[1]", 0, 8) + "}",
        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(1e300).array());
    m = refusal(d, () -> Safetensors.read(d));
    assertTrue(m.contains("tensor 'd' holds Infinity at element 0 (as float32)"), m);
  }

  @Test
  void headerFieldsAreCheckedByName() throws Exception {
    String[][] cases = {
        {"{" + entry("a", "F128", "[1]", 0, 4) + "}", "tensor 'a': unknown dtype 'F128'"},
        {"{" + entry("a", "F32", "[-1]", 0, 4) + "}", "tensor 'a': bad shape [-1]"},
        {"{" + entry("a", "F32", "[1.5]", 0, 4) + "}", "tensor 'a': bad shape"},
        {"{" + entry("a", "F32", "[2147483648]", 0, 4) + "}", "tensor 'a': bad shape"},
        {"{" + entry("a", "F32", "[2]", 0, 4) + "}", "tensor 'a': data_offsets span 4 bytes but shape [2] of F32 needs 8"},
        {"{" + entry("a", "F32", "[1]", -4, 0) + "}", "tensor 'a': data_offsets [-4, 0] outside"},
        {"{" + entry("a", "F32", "[1]", 0, 400) + "}", "outside the 4-byte data section"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "tensor 'a': missing or bad data_offsets"},
        {"{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "tensor 'a': missing dtype"},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "tensor 'a': missing shape"},
        {"{\"a\":[]}", "tensor 'a' is not an object"},
        {"{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "a tensor name must be non-empty"},
        {"{\"a\\nb\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "tensor 'a\\u000ab'"},
        {"{\"__metadata__\":{\"epoch\":3}," + entry("a", "F32", "[1]", 0, 4) + "}", "__metadata__ 'epoch' is not a string"},
        {"{\"__metadata__\":[]," + entry("a", "F32", "[1]", 0, 4) + "}", "__metadata__ is not an object"},
        {"[1]", "safetensors header is not a JSON object"},
        {"{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("a", "F32", "[1]", 0, 4) + "}", "duplicate key 'a'"},
    };
    for (String[] c : cases) {
      Path f = write("h.safetensors", c[0], new byte[4]);
      String m = refusal(f, () -> Safetensors.read(f));
      assertTrue(m.contains(c[1]), c[0] + " -> " + m);
    }
    Path f = write("i64.safetensors", "{" + entry("a", "I64", "[1]", 0, 8) + "}", new byte[8]);
    assertEquals("I64", Safetensors.header(f).entries().get("a").dtype()); // a known dtype: the header is valid
    String m = refusal(f, () -> Safetensors.read(f));
    assertTrue(m.contains("tensor 'a': dtype I64 is not supported (F32, F64, F16, BF16)"), m);
    assertEquals(0, Safetensors.header(f).read(Map.of(), name -> true).tensors().size()); // skipped: never read
  }

  @Test
  void theHeaderLengthMustFitTheFileAndTheLimit() throws Exception {
    byte[] raw = file("{" + entry("a", "F32", "[1]", 0, 4) + "}", new byte[4]);
    Path f = dir.resolve("len.safetensors");
    for (long len : new long[] {0, -8, raw.length, Safetensors.MAX_HEADER + 8, Long.MAX_VALUE}) {
      byte[] b = raw.clone();
      ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, len);
      Files.write(f, b);
      String m = refusal(f, () -> Safetensors.read(f));
      assertTrue(m.contains("corrupt safetensors header length " + len), m);
    }
    Path big = sparse("hugeheader.safetensors", "{}", Safetensors.MAX_HEADER + 64);
    try (RandomAccessFile raf = new RandomAccessFile(big.toFile(), "rw")) {
      raf.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(Safetensors.MAX_HEADER + 8).array());
    }
    String m = refusal(big, () -> Safetensors.read(big));
    assertTrue(m.contains("headers are at most " + Safetensors.MAX_HEADER), m);
    Files.write(f, new byte[5]);
    assertTrue(refusal(f, () -> Safetensors.read(f)).contains("too short"));
    Path none = dir.resolve("none.safetensors");
    assertTrue(refusal(none, () -> Safetensors.read(none)).contains("no such checkpoint file"));
    Path badUtf8 = write("utf8.safetensors", "{\"a?\":1}", new byte[0]);
    byte[] b = Files.readAllBytes(badUtf8);
    b[11] = (byte) 0xff;
    Files.write(badUtf8, b);
    assertTrue(refusal(badUtf8, () -> Safetensors.read(badUtf8)).contains("Invalid UTF-8"));
  }

  @Test
  void aModelReadsExactlyItsTensors() throws Exception {
    LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
    t.put("fc.weight", new Tensor(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
    t.put("fc.bias", new Tensor(new float[] {7, 8}, 2));
    t.put("opt.fc.weight/momentum", new Tensor(new float[6], 2, 3));
    Path f = dir.resolve("ok.safetensors");
    Safetensors.write(f, t, Map.of("epoch", "1"));
    LinkedHashMap<String, Tensor> model = new LinkedHashMap<>();
    model.put("fc.bias", Tensor.zeros(2));
    model.put("fc.weight", Tensor.zeros(2, 3));
    Safetensors.Contents c = Safetensors.header(f).read(model, name -> name.startsWith("opt."));
    assertEquals(java.util.List.of("fc.weight", "fc.bias"), java.util.List.copyOf(c.tensors().keySet()));
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, c.tensors().get("fc.weight").data());
    assertEquals("1", c.metadata().get("epoch"));
    String m = refusal(f, () -> Safetensors.header(f).read(model, name -> false));
    assertTrue(m.contains("unexpected tensor 'opt.fc.weight/momentum' (not in the model)"), m);
    model.put("fc2.weight", Tensor.zeros(1));
    m = refusal(f, () -> Safetensors.header(f).read(model, name -> true));
    assertTrue(m.contains("missing tensor 'fc2.weight'"), m);
  }
}
