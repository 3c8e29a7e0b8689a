package dev.lowbit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

  @TempDir Path dir;

  @Test
  void roundTripsAndLeavesNoTemporaryFiles() throws Exception {
    LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
    t.put("a.weight", new Tensor(new float[] {1, -2, 3.5f, Float.MIN_VALUE, -0f, 7}, 2, 3));
    t.put("b", new Tensor(new float[] {42}, 1));
    Path f = dir.resolve("x.safetensors");
    Safetensors.write(f, t, Map.of("k", "v"));
    byte[] raw = Files.readAllBytes(f);
    long hlen = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, hlen % 8);
    assertEquals(8 + hlen + 7 * 4, raw.length);
    Safetensors.Contents c = Safetensors.read(f);
    assertEquals(t.keySet(), c.tensors().keySet());
    assertArrayEquals(t.get("a.weight").data(), c.tensors().get("a.weight").data());
    assertArrayEquals(new int[] {2, 3}, c.tensors().get("a.weight").shape());
    assertEquals("v", c.metadata().get("k"));
    try (var s = Files.list(dir)) {
      assertEquals(1, s.count());
    }
  }

  /**
   * Bytes laid out as Python's safetensors.torch.save_file writes them: compact JSON with sorted
   * keys, "__metadata__" first, header padded with spaces to 8 bytes, F32/F16/BF16/F64 data.
   */
  @Test
  void readsTheLayoutPyTorchWrites() throws Exception {
    String json = "{\"__metadata__\":{\"format\":\"pt\"},"
        + "\"fc.bias\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
        + "\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[4,20]},"
        + "\"x\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[20,22]},"
        + "\"y\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[22,30]}}";
    byte[] h = json.getBytes(StandardCharsets.UTF_8);
    int padded = (h.length + 7) / 8 * 8;
    ByteBuffer b = ByteBuffer.allocate(8 + padded + 30).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(padded).put(h);
    for (int i = h.length; i < padded; i++) b.put((byte) ' ');
    b.putShort(Float.floatToFloat16(0.5f)).putShort(Float.floatToFloat16(-2f));
    b.putFloat(1).putFloat(2).putFloat(3).putFloat(4);
    b.putShort((short) (Float.floatToIntBits(1.5f) >>> 16));
    b.putDouble(0.25);
    Path f = dir.resolve("pt.safetensors");
    Files.write(f, b.array());
    Safetensors.Contents c = Safetensors.read(f);
    assertArrayEquals(new float[] {0.5f, -2f}, c.tensors().get("fc.bias").data());
    assertArrayEquals(new float[] {1, 2, 3, 4}, c.tensors().get("fc.weight").data());
    assertArrayEquals(new float[] {1.5f}, c.tensors().get("x").data());
    assertArrayEquals(new float[] {0.25f}, c.tensors().get("y").data());
    assertEquals("pt", c.metadata().get("format"));
  }

  @Test
  void rejectsCorruptFilesNamingTheProblem() throws Exception {
    LinkedHashMap<String, Tensor> t = new LinkedHashMap<>();
    t.put("w", Tensor.zeros(4, 4));
    Path f = dir.resolve("ok.safetensors");
    Safetensors.write(f, t, null);
    byte[] raw = Files.readAllBytes(f);

    byte[] len = raw.clone();
    len[6] = 1; // absurd header length
    Path bad = dir.resolve("bad.safetensors");
    Files.write(bad, len);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Safetensors.read(bad));
    assertTrue(e.getMessage().contains("bad.safetensors") && e.getMessage().contains("header length"), e.getMessage());

    byte[] json = raw.clone();
    json[9] = '#';
    Files.write(bad, json);
    e = assertThrows(IllegalArgumentException.class, () -> Safetensors.read(bad));
    assertTrue(e.getMessage().contains("corrupt safetensors header"), e.getMessage());

    Files.write(bad, java.util.Arrays.copyOf(raw, raw.length - 4));
    e = assertThrows(IllegalArgumentException.class, () -> Safetensors.read(bad));
    assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("data_offsets"), e.getMessage());
  }

  @Test
  void jsonRoundTrip() {
    Object v = Json.parse("{\"a\": [1, 2.5, -3e2, true, null, \"x\\\"y\\u0041\"], \"b\": {}}");
    assertEquals("{\"a\":[1,2.5,-300.0,true,null,\"x\\\"yA\"],\"b\":{}}", Json.write(v));
    assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\":1,}"));
    assertThrows(IllegalArgumentException.class, () -> Json.parse("[1 2]"));
  }
}
