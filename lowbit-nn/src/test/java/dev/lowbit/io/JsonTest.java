package dev.lowbit.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {

  /** The error of parsing {@code doc}: one IllegalArgumentException with a one-line message. */
  private static String error(String doc) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(doc));
    assertOneClearLine(e.getMessage());
    return e.getMessage();
  }

  static void assertOneClearLine(String m) {
    Fuzz.assertOneLine(m);
    assertFalse(m.contains("`"), "Jackson's API named in: " + m);
  }

  /** The text run logs and summaries always had: Double.toString, NaN as null, '/' and non-ASCII as they are. */
  @Test
  void writesTheFormatRunLogsAlwaysHad() {
    LinkedHashMap<String, Object> m = new LinkedHashMap<>();
    m.put("d", 300.0);
    m.put("small", 1.0E-5);
    m.put("tenth", 0.1);
    m.put("big", 1.2345678901234567E20);
    m.put("neg0", -0.0);
    m.put("nan", Double.NaN);
    m.put("inf", Double.NEGATIVE_INFINITY);
    m.put("f", 1.5f);
    m.put("fsmall", 1e-7f);
    m.put("fnan", Float.NaN);
    m.put("l", Long.MIN_VALUE);
    m.put("i", 42);
    m.put("ints", new int[] {1, -2});
    m.put("longs", new long[] {});
    m.put("list", List.of(true, false, "x"));
    m.put("null", null);
    m.put("path", "runs/fp32-s1");
    m.put("text", "é 😀 \"q\" \\ \n\r\t\b\f\u0001\u001f");
    m.put("obj", new StringBuilder("sb"));
    assertEquals("{\"d\":300.0,\"small\":1.0E-5,\"tenth\":0.1,\"big\":1.2345678901234567E20,\"neg0\":-0.0,"
        + "\"nan\":null,\"inf\":null,\"f\":1.5,\"fsmall\":1.0E-7,\"fnan\":null,\"l\":-9223372036854775808,\"i\":42,"
        + "\"ints\":[1,-2],\"longs\":[],\"list\":[true,false,\"x\"],\"null\":null,\"path\":\"runs/fp32-s1\","
        + "\"text\":\"é 😀 \\\"q\\\" \\\\ \\n\\r\\t\\u0008\\u000c\\u0001\\u001f\",\"obj\":\"sb\"}", Json.write(m));
    assertEquals("\"x\"", Json.write("x"));
    assertEquals("null", Json.write(null));
    assertEquals("[]", Json.write(List.of()));
  }

  @Test
  void parsesIntoPlainJavaValues() {
    Object v = Json.parse(" {\"b\": [1, -0, 2.5, -3e2, 1E-5, true, false, null, \"x\\\"y\\u0041\\n\"], \"a\": {}} ");
    Map<?, ?> m = assertInstanceOf(LinkedHashMap.class, v);
    assertEquals(List.of("b", "a"), new ArrayList<>(m.keySet()));
    List<?> l = assertInstanceOf(ArrayList.class, m.get("b"));
    assertEquals(java.util.Arrays.asList(1L, 0L, 2.5, -300.0, 1e-5, true, false, null, "x\"yA\n"), l);
    assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
    assertEquals("{\"b\":[1,0,2.5,-300.0,1.0E-5,true,false,null,\"x\\\"yA\\n\"],\"a\":{}}", Json.write(v));
    assertEquals("é😀", Json.parse("\"é😀\"".getBytes(StandardCharsets.UTF_8)));
  }

  /** Was a StackOverflowError. */
  @Test
  void aDocumentNested200000DeepIsOneClearError() {
    String deep = "[".repeat(200_000) + "]".repeat(200_000);
    assertTrue(error(deep).contains("nesting depth"), deep.length() + "");
    String objects = "{\"a\":".repeat(200_000) + "1" + "}".repeat(200_000);
    assertTrue(error(objects).contains("nesting depth"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Json.parse(deep.getBytes(StandardCharsets.UTF_8)));
    assertTrue(e.getMessage().contains("nesting depth"), e.getMessage());
    // the limit itself is accepted
    String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
    assertEquals(ok, Json.write(Json.parse(ok)));
  }

  @Test
  void limitsOnStringsNamesNumbersTokensAndSize() {
    assertTrue(error("\"" + "x".repeat(Json.MAX_STRING + 1) + "\"").contains("String value length"));
    assertEquals(Json.MAX_STRING, ((String) Json.parse("\"" + "x".repeat(Json.MAX_STRING) + "\"")).length());
    assertTrue(error("{\"" + "k".repeat(Json.MAX_NAME + 1) + "\":1}").contains("Name length"));
    assertTrue(error("1".repeat(Json.MAX_NUMBER + 1)).contains("Number value length"));
    assertTrue(error("[" + "0,".repeat((int) Json.MAX_TOKENS) + "0]").contains("Token count"));
    String huge = " ".repeat(Json.MAX_DOCUMENT) + "1";
    assertTrue(error(huge).contains("more than the limit"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Json.parse(huge.getBytes(StandardCharsets.US_ASCII)));
    assertTrue(e.getMessage().contains("bytes, more than the limit"), e.getMessage());
  }

  @Test
  void errorsSayWhatAndWhere() {
    assertTrue(error("{\n  \"a\": 1,\n  \"b\": ?\n}").startsWith("bad JSON at line 3, column 8: "), error("{\n\"b\": ?}"));
    assertTrue(error("{\"a\":1,\"a\":2}").contains("duplicate key 'a'"));
    assertTrue(error("[1] x").contains("line 1, column 5"));
    assertTrue(error("[1] [2]").contains("text after the JSON value"));
    assertTrue(error("").contains("empty"));
    assertTrue(error("  \n ").contains("empty"));
    assertTrue(error("123456789012345678901234567890").contains("outside the 64-bit range"));
    assertTrue(error("[1e999]").contains("outside the double range"));
    assertTrue(error("[NaN]").contains("NaN"));
    error("{\"a\":1,}");
    error("[1 2]");
    error("{'a':1}");
    error("[01]");
    error("\"abc");
    error("\"a\u0001b\""); // a raw control character in a string
    error("// comment\n1");
    error("\"\\x\"");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Json.parse(new byte[] {'"', (byte) 0xff, '"'}));
    assertTrue(e.getMessage().contains("Invalid UTF-8"), e.getMessage());
    assertOneClearLine(e.getMessage());
  }
}
