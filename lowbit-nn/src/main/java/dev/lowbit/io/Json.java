package dev.lowbit.io;

import java.io.StringWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.ErrorReportConfiguration;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.ObjectWriteContext;
import tools.jackson.core.SerializableString;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.StreamWriteConstraints;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.core.io.CharacterEscapes;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.core.json.JsonWriteFeature;

/**
 * The project's JSON (safetensors headers, policies, run logs and summaries), on Jackson's
 * streaming core.
 *
 * <p>{@link #parse} reads one JSON value into plain Java objects: objects become {@link
 * LinkedHashMap}s in document order (a repeated key is an error), arrays {@link ArrayList}s,
 * integers {@link Long} (one outside the long range is an error), other numbers {@link Double},
 * plus String, Boolean and null. Only strict JSON is accepted (no comments, NaN tokens or trailing
 * commas); text after the value is an error.
 *
 * <p>Because the input may be hostile (a checkpoint header, a policy file), parsing is bounded:
 * <ul>
 *   <li>nesting depth at most {@value #MAX_DEPTH} (a deeper document is refused, not a
 *       StackOverflowError);
 *   <li>a document of at most {@value #MAX_DOCUMENT} characters (bytes for {@link #parse(byte[])}):
 *       16 MiB, far above any checkpoint header or log line this project writes;
 *   <li>at most {@value #MAX_TOKENS} tokens, which bounds the tree built (tens of MB at worst);
 *   <li>strings of at most {@value #MAX_STRING} characters, keys of at most {@value #MAX_NAME};
 *   <li>numbers of at most {@value #MAX_NUMBER} characters (a double needs 25).
 * </ul>
 * Every defect is an {@link IllegalArgumentException} whose one-line message says what is wrong
 * and, where known, the line and column; no Jackson exception reaches callers.
 *
 * <p>{@link #write} renders maps (keys as strings), lists, int[] and long[] as arrays, strings,
 * booleans, null and numbers, compactly. A Double is written as {@link Double#toString(double)}
 * and a Float as {@link Float#toString(float)} (so 300.0 and 1.0E-5, as run logs always had), NaN
 * and infinities as null, other numbers by their toString; any other object as the string of its
 * toString. Strings escape ", \, \n, \r and \t briefly and other control characters as a lowercase
 * {@code \}{@code u00xx}; '/' and non-ASCII characters are written as they are.
 */
public final class Json {

  /** The deepest nesting accepted; checkpoint headers need 3 levels, policies and summaries fewer than 10. */
  public static final int MAX_DEPTH = 100;

  /** The longest document in characters (or bytes), 16 MiB. */
  public static final int MAX_DOCUMENT = 16 << 20;

  /** The most tokens in one document (a tensor's header entry takes about 14). */
  public static final long MAX_TOKENS = 1_000_000;

  /** The longest string value in characters, 1 Mi. */
  public static final int MAX_STRING = 1 << 20;

  /** The longest object key in characters. */
  public static final int MAX_NAME = 16_384;

  /** The longest number in characters. */
  public static final int MAX_NUMBER = 100;

  private static final JsonFactory FACTORY = JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder()
          .maxNestingDepth(MAX_DEPTH)
          .maxDocumentLength(MAX_DOCUMENT)
          .maxTokenCount(MAX_TOKENS)
          .maxStringLength(MAX_STRING)
          .maxNameLength(MAX_NAME)
          .maxNumberLength(MAX_NUMBER)
          .build())
      .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(1000).build())
      // error messages quote at most a short token and never the raw input
      .errorReportConfiguration(ErrorReportConfiguration.builder().maxErrorTokenLength(40).maxRawContentLength(0).build())
      .disable(JsonWriteFeature.ESCAPE_FORWARD_SLASHES) // paths stay "runs/fp32", not "runs\/fp32"
      .disable(JsonWriteFeature.WRITE_HEX_UPPER_CASE) // \u001f, as this project always wrote
      .characterEscapes(new ShortEscapes())
      .build();

  private Json() {}

  /**
   * Jackson's standard escapes, less the short forms of backspace and form feed: the project's
   * earlier writer had none, and keeping its exact output keeps old logs and new ones alike.
   */
  private static final class ShortEscapes extends CharacterEscapes {
    private final int[] ascii = CharacterEscapes.standardAsciiEscapesForJSON();

    ShortEscapes() {
      ascii['\b'] = CharacterEscapes.ESCAPE_STANDARD;
      ascii['\f'] = CharacterEscapes.ESCAPE_STANDARD;
    }

    @Override
    public int[] getEscapeCodesForAscii() {
      return ascii;
    }

    @Override
    public SerializableString getEscapeSequence(int ch) {
      return null;
    }
  }

  /** The compact JSON text of {@code v} (see the class comment for what each type becomes). */
  public static String write(Object v) {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = FACTORY.createGenerator(ObjectWriteContext.empty(), out)) {
      write(g, v);
    } catch (JacksonException e) {
      throw new IllegalArgumentException("cannot write JSON: " + oneLine(e.getOriginalMessage()));
    }
    return out.toString();
  }

  private static void write(JsonGenerator g, Object v) {
    switch (v) {
      case null -> g.writeNull();
      case String s -> g.writeString(s);
      case Boolean b -> g.writeBoolean(b);
      case Double d -> {
        if (d.isNaN() || d.isInfinite()) g.writeNull();
        else g.writeNumber(Double.toString(d));
      }
      case Float f -> {
        if (f.isNaN() || f.isInfinite()) g.writeNull();
        else g.writeNumber(Float.toString(f));
      }
      case Number n -> g.writeNumber(n.toString());
      case Map<?, ?> m -> {
        g.writeStartObject();
        for (var e : m.entrySet()) {
          g.writeName(String.valueOf(e.getKey()));
          write(g, e.getValue());
        }
        g.writeEndObject();
      }
      case List<?> l -> {
        g.writeStartArray();
        for (Object o : l) write(g, o);
        g.writeEndArray();
      }
      case int[] a -> {
        g.writeStartArray();
        for (int x : a) g.writeNumber(x);
        g.writeEndArray();
      }
      case long[] a -> {
        g.writeStartArray();
        for (long x : a) g.writeNumber(x);
        g.writeEndArray();
      }
      default -> g.writeString(v.toString());
    }
  }

  /** Parses one JSON value; any defect is an IllegalArgumentException saying what and where. */
  public static Object parse(String s) {
    if (s.length() > MAX_DOCUMENT) {
      throw new IllegalArgumentException("bad JSON: the document has " + s.length()
          + " characters, more than the limit of " + MAX_DOCUMENT);
    }
    try (JsonParser p = FACTORY.createParser(ObjectReadContext.empty(), s)) {
      return document(p);
    } catch (JacksonException e) { // from creating or closing the parser: document() maps the rest
      throw error(e, null);
    }
  }

  /** Parses one JSON value from UTF-8 bytes (invalid UTF-8 is an error), as {@link #parse(String)}. */
  public static Object parse(byte[] utf8) {
    if (utf8.length > MAX_DOCUMENT) {
      throw new IllegalArgumentException("bad JSON: the document has " + utf8.length
          + " bytes, more than the limit of " + MAX_DOCUMENT);
    }
    try (JsonParser p = FACTORY.createParser(ObjectReadContext.empty(), utf8)) {
      return document(p);
    } catch (JacksonException e) { // from creating or closing the parser: document() maps the rest
      throw error(e, null);
    }
  }

  /** The document's one value; Jackson's errors become IllegalArgumentExceptions here. */
  private static Object document(JsonParser p) {
    try {
      JsonToken t = p.nextToken();
      if (t == null) throw new IllegalArgumentException("bad JSON: the document is empty");
      Object v = value(p, t);
      if (p.nextToken() != null) throw at(p, "text after the JSON value");
      return v;
    } catch (JacksonException e) {
      throw error(e, p);
    }
  }

  /** {@code e} as our exception; a limit's exception has no location, then the parser's is used. */
  private static IllegalArgumentException error(JacksonException e, JsonParser p) {
    TokenStreamLocation loc = e.getLocation() != null || p == null ? e.getLocation() : p.currentLocation();
    return new IllegalArgumentException("bad JSON" + where(loc) + ": " + oneLine(e.getOriginalMessage()));
  }

  /** The value starting at token {@code t}; recursion is bounded by the parser's nesting limit. */
  private static Object value(JsonParser p, JsonToken t) {
    if (t == null) throw at(p, "unexpected end of input");
    switch (t) {
      case START_OBJECT: {
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
          if (k != JsonToken.PROPERTY_NAME) throw at(p, "expected a key");
          String name = p.currentName();
          Object v = value(p, p.nextToken());
          if (m.containsKey(name)) throw at(p, "duplicate key '" + clip(name) + "'");
          m.put(name, v);
        }
        return m;
      }
      case START_ARRAY: {
        List<Object> l = new ArrayList<>();
        for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) l.add(value(p, e));
        return l;
      }
      case VALUE_STRING:
        return p.getString();
      case VALUE_NUMBER_INT:
        if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
          throw at(p, "integer " + clip(p.getText()) + " is outside the 64-bit range");
        }
        return p.getLongValue();
      case VALUE_NUMBER_FLOAT: {
        double d = p.getDoubleValue();
        if (Double.isInfinite(d)) throw at(p, "number " + clip(p.getText()) + " is outside the double range");
        return d;
      }
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return null;
      default:
        throw at(p, "unexpected " + t);
    }
  }

  private static IllegalArgumentException at(JsonParser p, String what) {
    return new IllegalArgumentException("bad JSON" + where(p.currentTokenLocation()) + ": " + what);
  }

  private static String where(TokenStreamLocation loc) {
    if (loc == null || loc.getLineNr() <= 0) return "";
    return " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
  }

  /**
   * Jackson's message as one line, without its pointers to Jackson's own API (which say nothing to
   * a user of this program).
   */
  private static String oneLine(String msg) {
    if (msg == null || msg.isBlank()) return "malformed input";
    return msg.replaceAll(", from `[^`]*`", "") // "(100, from `StreamReadConstraints...`)"
        .replaceAll(": enable `[^`]*` to allow", "")
        .replaceAll(" \\(consider enabling `[^`]*`[^)]*\\)\\)?", "")
        .replaceAll("\\s+", " ").strip();
  }

  /** A string for a message: at most 40 characters, control characters escaped. */
  private static String clip(String s) {
    return clip(s, 40);
  }

  /** A string for a message (here and in {@link Safetensors}): at most {@code max} characters, control characters escaped. */
  static String clip(String s, int max) {
    String t = s.length() > max ? s.substring(0, max) + "..." : s;
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c < 0x20 || c == 0x7f) sb.append(String.format("\\u%04x", (int) c));
      else sb.append(c);
    }
    return sb.toString();
  }
}
