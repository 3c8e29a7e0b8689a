package dev.lowbit.io;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import dev.lowbit.tensor.Tensor;

/**
 * The checks shared by the property tests (a few hundred cases) and the slow fuzzing runs
 * (100,000 cases): a parser given damaged input returns a value or throws one
 * IllegalArgumentException with a one-line message, never another exception, and allocates a
 * bounded amount.
 */
final class Fuzz {

  private Fuzz() {}

  static void assertOneLine(String m) {
    assertTrue(m != null && !m.isBlank(), "empty message");
    assertFalse(m.contains("\n") || m.contains("\r"), m);
    assertFalse(m.contains("tools.jackson"), "Jackson's internals in: " + m);
    assertTrue(m.length() < 600, m);
  }

  /** Valid JSON documents of the kinds this project reads, to be damaged. */
  static final List<byte[]> JSON_SEEDS = List.of(
      utf8("{\"event\":\"epoch\",\"epoch\":2,\"step\":200,\"train_loss\":0.4817,\"test_accuracy\":0.8123,\"lr\":1.0E-4}"),
      utf8("{\"model\":\"mlp\",\"config\":{\"seed\":3,\"out\":\"runs/a\",\"resume\":null},\"bits\":{\"weight\":8},"
          + "\"overflows\":{},\"policy_text\":\"policy int8\\n* weight int8\\n\",\"ok\":true}"),
      utf8("{\"name\":\"p\",\"rules\":[{\"layers\":\"fc*\",\"role\":\"weight\",\"format\":\"int8\",\"rounding\":\"sr\"}],"
          + "\"options\":{\"normalization\":\"l2\"}}"),
      utf8("{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,12]}}"),
      utf8("[1,-2.5e-3,\"é😀\\u0041\",[[],{}],null,false]"));

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** One damaged JSON case from {@code seed}: as bytes, or as the String they decode to. */
  static void jsonCase(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] in = Mutations.mutate(JSON_SEEDS.get(r.nextInt(JSON_SEEDS.size())),
        JSON_SEEDS.get(r.nextInt(JSON_SEEDS.size())), r);
    boolean asBytes = r.nextBoolean();
    long before = Mutations.allocated();
    try {
      Object v = asBytes ? Json.parse(in) : Json.parse(new String(in, StandardCharsets.UTF_8));
      Json.write(v); // whatever parses can be written again
    } catch (IllegalArgumentException e) {
      assertOneLine(e.getMessage());
    } catch (Throwable t) {
      fail("seed " + seed + ": " + t + " on " + Mutations.show(in), t);
    }
    long used = Mutations.allocated() - before;
    assertTrue(used < (8L << 20) + 64L * in.length, "seed " + seed + ": parsing " + in.length + " bytes allocated " + used);
  }

  /** Valid safetensors files to be damaged: this project's own layout and PyTorch's. */
  static final List<byte[]> FILE_SEEDS = new ArrayList<>();

  static {
    try {
      Path tmp = Files.createTempFile("seed", ".safetensors");
      LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
      t.put("fc1.weight", new Tensor(new float[] {1, -2, 3.5f, 0, -0f, 7}, 2, 3));
      t.put("fc1.bias", new Tensor(new float[] {0.25f, 1e-3f}, 2));
      t.put("opt.fc1.weight/momentum", new Tensor(new float[6], 2, 3));
      Safetensors.write(tmp, t, Map.of("format", "lowbit-checkpoint-1", "model", "mlp", "epoch", "2",
          "identity", "{\"seed\":3}"));
      FILE_SEEDS.add(Files.readAllBytes(tmp));
      Files.delete(tmp);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    FILE_SEEDS.add(SafetensorsHostileTest.file("{\"__metadata__\":{\"format\":\"pt\"},"
        + "\"fc.bias\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
        + "\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[4,20]},"
        + "\"x\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[20,22]},"
        + "\"y\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[22,30]},"
        + "\"z\":{\"dtype\":\"I64\",\"shape\":[0,4],\"data_offsets\":[30,30]}}", new byte[30]));
  }

  /** Numbers that break offset and shape arithmetic. */
  private static final long[] NUMBERS = {0, 1, -1, 2, 3, 4, 7, 8, 16, 29, 31, 1L << 30, (1L << 31) - 1, 1L << 31,
      1L << 32, (1L << 62) + 1, Long.MAX_VALUE, Long.MIN_VALUE};

  /**
   * One damaged safetensors file from {@code seed}, written to {@code file} and read whole and as
   * a model would read it. Damage: raw bytes anywhere (length prefix, header, data), the header's
   * JSON only (with a length prefix that fits), a number of the header replaced, or a junk tensor.
   */
  static void safetensorsCase(long seed, Path file) throws IOException {
    SplittableRandom r = new SplittableRandom(seed);
    byte[] base = FILE_SEEDS.get(r.nextInt(FILE_SEEDS.size()));
    byte[] in = switch (r.nextInt(4)) {
      case 0 -> Mutations.mutate(base, FILE_SEEDS.get(r.nextInt(FILE_SEEDS.size())), r);
      case 1 -> withHeader(base, Mutations.mutate(header(base), JSON_SEEDS.get(r.nextInt(JSON_SEEDS.size())), r));
      case 2 -> withHeader(base, replaceNumber(header(base), r));
      default -> withHeader(base, junk(header(base), r));
    };
    // a new file each time, deleted after: rewriting one file in place makes ext4 flush it to disk
    // on every truncation (auto_da_alloc), which made the run wait on the disk
    Files.write(file, in, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
    try {
      check(seed, file, in);
    } finally {
      Files.delete(file);
    }
  }

  private static void check(long seed, Path file, byte[] in) {
    long before = Mutations.allocated();
    try {
      Safetensors.Header h = Safetensors.header(file);
      Safetensors.read(file);
      LinkedHashMap<String, Tensor> model = new LinkedHashMap<>();
      model.put("fc1.weight", Tensor.zeros(2, 3));
      model.put("fc1.bias", Tensor.zeros(2));
      h.read(model, name -> name.startsWith("opt."));
    } catch (IllegalArgumentException e) {
      assertOneLine(e.getMessage());
      assertTrue(e.getMessage().contains(file.toString()), "names no file: " + e.getMessage());
    } catch (Throwable t) {
      fail("seed " + seed + ": " + t + " on " + Mutations.show(in), t);
    }
    long used = Mutations.allocated() - before;
    assertTrue(used < (8L << 20) + 64L * in.length, "seed " + seed + ": reading " + in.length + " bytes allocated " + used);
  }

  /** The JSON header of a valid file. */
  static byte[] header(byte[] file) {
    int n = (int) java.nio.ByteBuffer.wrap(file, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
    return java.util.Arrays.copyOfRange(file, 8, 8 + n);
  }

  /** {@code base} with its header replaced by {@code json} and the length prefix set to match. */
  static byte[] withHeader(byte[] base, byte[] json) {
    byte[] data = java.util.Arrays.copyOfRange(base, 8 + header(base).length, base.length);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(json.length);
    return Mutations.concat(Mutations.concat(b.array(), json), data);
  }

  private static byte[] replaceNumber(byte[] json, SplittableRandom r) {
    String s = new String(json, StandardCharsets.UTF_8);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("-?\\d+").matcher(s);
    List<int[]> spans = new ArrayList<>();
    while (m.find()) spans.add(new int[] {m.start(), m.end()});
    if (spans.isEmpty()) return json;
    int[] sp = spans.get(r.nextInt(spans.size()));
    long v = NUMBERS[r.nextInt(NUMBERS.length)];
    return utf8(s.substring(0, sp[0]) + v + s.substring(sp[1]));
  }

  private static byte[] junk(byte[] json, SplittableRandom r) {
    String s = new String(json, StandardCharsets.UTF_8).strip();
    long a = NUMBERS[r.nextInt(NUMBERS.length)], b = NUMBERS[r.nextInt(NUMBERS.length)];
    String dtype = List.of("F32", "F16", "BF16", "F64", "U8", "I4").get(r.nextInt(6));
    String entry = "\"junk\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + NUMBERS[r.nextInt(NUMBERS.length)]
        + "],\"data_offsets\":[" + a + "," + b + "]}";
    return utf8(s.substring(0, s.length() - 1) + "," + entry + "}");
  }
}
