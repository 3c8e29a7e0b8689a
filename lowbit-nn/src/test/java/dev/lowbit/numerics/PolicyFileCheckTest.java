package dev.lowbit.numerics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.format.IntFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Policy files that are not what they seem get one message naming the file (and line) (issue 15). */
class PolicyFileCheckTest {

  @TempDir Path dir;

  private Path file(String name, byte[] bytes) throws Exception {
    Path f = dir.resolve(name);
    Files.write(f, bytes);
    return f;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  private static final byte[] BOM = {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF};

  @Test
  void aByteOrderMarkIsSkipped() throws Exception {
    // the BOM used to become part of the first rule's layer pattern, which then matched nothing
    Path f = file("bom.policy", concat(BOM, "* weight int8\n* activation int4\n".getBytes(StandardCharsets.UTF_8)));
    Policy p = Policy.read(f, null);
    assertEquals(List.of("*"), p.rules().get(0).layers());
    assertEquals(IntFormat.signed(8), p.lookup("fc1", Role.WEIGHT).orElseThrow().format());
    // also in text handed to parse, and before a JSON document
    assertEquals(p.rules(), Policy.parse("\uFEFF* weight int8\n* activation int4\n", "x").rules());
    Path j = file("bom.json", concat(BOM, "{}".getBytes(StandardCharsets.UTF_8)));
    Policy pj = Policy.read(j, text -> {
      assertEquals("{}", text);
      return Map.of("rules", List.of());
    });
    assertEquals("bom", pj.name());
  }

  @Test
  void latin1AndBinaryFilesAreRefusedWithTheOffset() throws Exception {
    // Latin-1 'é' (0xE9) in a comment: was "Input length = 1"
    byte[] latin = "* weight int8 # caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1);
    Path f = file("latin.policy", latin);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Policy.read(f, null));
    assertEquals(f + ": not UTF-8 text (byte 0xE9 at offset 19); save the policy as UTF-8", e.getMessage());
    // a truncated multi-byte sequence at the end
    Path t = file("cut.policy", new byte[] {'*', ' ', (byte) 0xC3});
    e = assertThrows(IllegalArgumentException.class, () -> Policy.read(t, null));
    assertEquals(t + ": not UTF-8 text (byte 0xC3 at offset 2); save the policy as UTF-8", e.getMessage());
    // binary: a NUL byte
    Path b = file("bin.policy", new byte[] {'*', ' ', 'w', 0, 1, 2, (byte) 0xFF});
    e = assertThrows(IllegalArgumentException.class, () -> Policy.read(b, null));
    assertEquals(b + ": not a text file (NUL byte at offset 3)", e.getMessage());
    Path bj = file("bin.json", new byte[] {'{', 0, '}'});
    e = assertThrows(IllegalArgumentException.class, () -> Policy.read(bj, text -> Map.of()));
    assertEquals(bj + ": not a text file (NUL byte at offset 1)", e.getMessage());
    // a huge file is refused by its size, before it is read
    Path big = dir.resolve("big.policy");
    try (var ch = java.nio.channels.FileChannel.open(big, java.nio.file.StandardOpenOption.CREATE_NEW,
        java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {'#'}), Policy.MAX_FILE_BYTES); // sparse
    }
    e = assertThrows(IllegalArgumentException.class, () -> Policy.read(big, null));
    assertEquals(big + ": " + (Policy.MAX_FILE_BYTES + 1) + " bytes is too large for a policy file (at most "
        + Policy.MAX_FILE_BYTES + ")", e.getMessage());
  }

  @Test
  void errorsAndRulesNameTheFileAndLine() throws Exception {
    Path f = file("mine.policy", "# a comment\n\n* weight int8\n* activation fixed<8,9>\n".getBytes(StandardCharsets.UTF_8));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Policy.read(f, null));
    assertEquals(f + ":4: format 'fixed<8,9>': fixed<8,9>: 9 fraction bits do not fit in a 8-bit word; valid: "
        + "fraction bits <= word bits", e.getMessage());
    Path g = file("ok.policy", "# a comment\n\n* weight int8\nfc1 activation int4\n".getBytes(StandardCharsets.UTF_8));
    Policy p = Policy.read(g, null);
    assertEquals(g + ":3", p.origin(0));
    assertEquals(g + ":4", p.origin(1));
    assertEquals(g + ":4", p.withName("other").origin(1));
    // origins are where a rule came from, not part of the policy's value
    assertEquals(Policy.parse("* weight int8\nfc1 activation int4\n", "ok"), p);
    assertEquals("policy line 2", Policy.parse("\n* weight int8\n", "x").origin(0));
    Path j = file("j.json", "{}".getBytes(StandardCharsets.UTF_8));
    Policy pj = Policy.read(j, text -> Map.of("rules", List.of(Map.of("layers", "*", "role", "error", "format", "e5m2"))));
    assertEquals(j + ": rules[0]", pj.origin(0));
    assertTrue(Presets.get("int8").origin(0).startsWith("policy line "), Presets.get("int8").origin(0));
  }

  @Test
  void directoriesAndEmptyNamesAreNotPolicies() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Policy.resolve(dir.toString(), null));
    assertEquals("policy '" + dir + "' is a directory, not a policy file", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Policy.resolve("", null));
    assertTrue(e.getMessage().startsWith("empty policy name; give a preset (fp32, bf16"), e.getMessage());
  }
}
