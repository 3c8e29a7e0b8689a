package dev.lowbit.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based tests of the two parsers of hostile input (the fast suite: a few hundred cases
 * each; {@link ParserFuzzTest} runs 100,000). Damaged input gives a value or one
 * IllegalArgumentException with a one-line message, in bounded memory; valid trees round-trip.
 */
class ParserPropertiesTest {

  private static Path dir;

  @BeforeContainer
  static void makeDir() throws Exception {
    dir = Files.createTempDirectory("parser-properties");
  }

  @AfterContainer
  static void removeDir() throws Exception {
    try (var s = Files.list(dir)) {
      for (Path p : s.toList()) Files.delete(p);
    }
    Files.delete(dir);
  }

  @Property(tries = 400)
  void damagedJsonGivesAValueOrOneClearError(@ForAll long seed) {
    Fuzz.jsonCase(seed);
  }

  @Property(tries = 300)
  void damagedSafetensorsGiveTensorsOrOneClearErrorNamingTheFile(@ForAll long seed) throws Exception {
    Fuzz.safetensorsCase(seed, dir.resolve("case.safetensors"));
  }

  /** What write renders parses back to the same tree (doubles exactly, through Double.toString). */
  @Property(tries = 300)
  void writtenTreesParseBackUnchanged(@ForAll("trees") Object tree) {
    String text = Json.write(tree);
    assertEquals(tree, Json.parse(text), text);
    assertEquals(text, Json.write(Json.parse(text)));
  }

  /** Arbitrary characters in strings and keys, control characters and lone surrogates included. */
  @Property(tries = 300)
  void anyStringRoundTrips(@ForAll String s) {
    // a lone surrogate cannot be encoded in UTF-8: compare through the String API only
    assertEquals(s, Json.parse(Json.write(s)));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(s, s);
    assertEquals(m, Json.parse(Json.write(m)));
  }

  @Provide
  Arbitrary<Object> trees() {
    Arbitrary<Object> leaf = Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(12).map(s -> (Object) s),
        Arbitraries.longs().map(l -> (Object) l),
        Arbitraries.doubles().filter(Double::isFinite).map(d -> (Object) d),
        Arbitraries.of(Boolean.TRUE, Boolean.FALSE),
        Arbitraries.just(null));
    return Arbitraries.recursive(() -> leaf, this::container, 0, 5);
  }

  private Arbitrary<Object> container(Arbitrary<Object> inner) {
    Arbitrary<Object> list = inner.list().ofMaxSize(4).map(l -> (Object) new ArrayList<>(l));
    Arbitrary<Object> map = Arbitraries.maps(Arbitraries.strings().ofMaxLength(6), inner).ofMaxSize(4)
        .map(m -> (Object) new LinkedHashMap<>(m));
    return Arbitraries.oneOf(list, map);
  }
}
