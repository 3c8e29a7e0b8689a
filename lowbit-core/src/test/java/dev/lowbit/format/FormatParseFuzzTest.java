package dev.lowbit.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.GenerationMode;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tag;
import net.jqwik.api.constraints.StringLength;

/**
 * Property tests of the format-string parser (issue 15): valid format strings with characters
 * flipped, inserted, deleted or repeated, and random text, give either a format (whose name parses
 * back to it and which quantizes a few values) or an IllegalArgumentException with a message —
 * never another exception, a NumberFormatException inside, or a stack overflow. The fast suite
 * tries a few hundred inputs per property; the slow one 100,000 mutated strings.
 */
class FormatParseFuzzTest {

  static final String[] SEEDS = {"int8", "uint4", "int8*0.25", "int4*1e-3", "fixed<16,8>", "ufixed<8,8>",
      "fixed<8,-2>", "fp32", "tf32", "bf16", "fp16", "e4m3", "e5m2", "e3m2", "e2m3", "e2m1", "e3m4:fn:sat",
      "e6m9:nosub:bias=20", "e2m1:ieee:nonsat", "e1m0", "e8m0", "bf16:sat", "dfp16", "dfp16/b64/h2", "bfp8/b16",
      "mxfp8", "mxfp8e5m2", "mxfp6", "mxfp4", "mxint8", "mxfp8/b16", "mx<e3m4>", "mx<int4*0.25>/b8", "fp8e4m3",
      "half", "float32"};

  /** Characters a format string is made of, plus a few that break parsers. */
  static final String ALPHABET = "0123456789<>,:/*=-+.eEmMbhxintfpuFNsatbiasieeeonsub _\t\u00a0\u0660\u2013\uff10";

  /** One random edit of {@code s}: flip, insert, delete, repeat a piece, a huge number, or random code points. */
  static String mutate(String s, Random r) {
    int edits = 1 + r.nextInt(3);
    StringBuilder b = new StringBuilder(s);
    for (int e = 0; e < edits; e++) {
      int at = b.isEmpty() ? 0 : r.nextInt(b.length());
      switch (r.nextInt(8)) {
        case 0 -> { if (!b.isEmpty()) b.setCharAt(at, pick(r)); }
        case 1 -> b.insert(at, pick(r));
        case 2 -> { if (!b.isEmpty()) b.deleteCharAt(at); }
        case 3 -> { // repeat a piece (nesting, doubled options)
          int end = Math.min(b.length(), at + 1 + r.nextInt(6));
          b.insert(at, b.substring(at, end).repeat(1 + r.nextInt(4)));
        }
        case 4 -> b.insert(at, r.nextBoolean() ? "99999999999" : Long.toString(r.nextLong())); // out of int range
        case 5 -> b.insert(at, Character.toChars(r.nextInt(Character.MAX_CODE_POINT + 1))); // any code point
        case 6 -> b.insert(at, (char) r.nextInt(0x10000)); // lone surrogates too
        default -> { if (at < b.length()) b.setLength(at); } // truncate
      }
    }
    return b.toString();
  }

  private static char pick(Random r) {
    return ALPHABET.charAt(r.nextInt(ALPHABET.length()));
  }

  /** The parser's contract for one input. */
  static void check(String s) {
    NumberFormat f;
    try {
      f = Formats.parse(s);
    } catch (IllegalArgumentException e) {
      assertNotNull(e.getMessage(), s);
      assertFalse(e.getMessage().isBlank(), s);
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof NumberFormatException) fail("a NumberFormatException for '" + s + "': " + e.getMessage());
      }
      return;
    }
    assertEquals(f, Formats.parse(f.name()), s + " -> " + f.name());
    float[] x = {0f, 1f, -2.5f, 1e-3f, 300f, Float.MIN_VALUE, -7f, 0.5f};
    float[] y = f.quantize(x, Rounding.NEAREST_EVEN, 1, 2);
    assertEquals(x.length, y.length);
  }

  @Provide
  Arbitrary<String> mutated() {
    return Arbitraries.randomValue(r -> mutate(SEEDS[r.nextInt(SEEDS.length)], r));
  }

  @Property(tries = 400, shrinking = ShrinkingMode.OFF)
  void mutatedFormatStringsParseOrSayWhy(@ForAll("mutated") String s) {
    check(s);
  }

  @Property(tries = 300)
  void randomTextParsesOrSaysWhy(@ForAll @StringLength(max = 40) String s) {
    check(s);
  }

  @Property(tries = 200)
  void everySeedIsValid(@ForAll("seeds") String s) {
    Formats.parse(s);
    check(s);
  }

  @Provide
  Arbitrary<String> seeds() {
    return Arbitraries.of(SEEDS);
  }

  /** The fuzzing run: 100,000 mutated format strings (a few seconds). */
  @Tag("slow")
  @Property(tries = 100_000, shrinking = ShrinkingMode.OFF, generation = GenerationMode.RANDOMIZED)
  void fuzz100kMutatedFormatStrings(@ForAll("mutated") String s) {
    check(s);
  }
}
