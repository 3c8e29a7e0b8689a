package dev.lowbit.format;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Impossible or malformed format strings are refused with a message naming what is wrong (issue 15). */
class FormatStringCheckTest {

  private static String refused(String s) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Formats.parse(s), s);
    assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), s);
    return e.getMessage();
  }

  /** The message for {@code s}, which must contain {@code part}. */
  private static void says(String s, String part) {
    String m = refused(s);
    assertTrue(m.contains(part), s + ": " + m);
  }

  @Test
  void everyBlockFormatNeedsABlockOfAtLeastOne() {
    // mxfp4/b0 was accepted (one scale per tensor, not MX) while bfp8/b0 was refused
    for (String s : new String[] {"mxfp4/b0", "mxfp8/b0", "mxint8/b0", "mx<e3m4>/b0", "bfp8/b0", "dfp16/b0"}) {
      String m = refused(s);
      assertTrue(m.startsWith("format '" + s + "': block size 0 is invalid; valid: 1.."), m);
    }
    assertTrue(refused("mxfp4/b0").endsWith("(MX default: /b32)"), refused("mxfp4/b0"));
    assertTrue(refused("bfp8/b0").endsWith("(leave /b out for one exponent per tensor)"), refused("bfp8/b0"));
    String m = refused("mxfp4/b99999999");
    assertTrue(m.contains("block size 99999999 is invalid"), m);
    m = refused("dfp16/b99999999999");
    assertTrue(m.contains("block size '99999999999' is out of range"), m);
    assertEquals(1, ((BlockFormat) Formats.parse("mxfp4/b1")).blockSize());
    assertEquals(BlockFormat.MAX_BLOCK, ((BlockFormat) Formats.parse("bfp8/b" + BlockFormat.MAX_BLOCK)).blockSize());
    // the record refuses an MX format without blocks, so no name like mxfp4/b0 can be made
    assertThrows(IllegalArgumentException.class, () -> BlockFormat.mx(Formats.E2M1, 0));
    assertThrows(IllegalArgumentException.class, () -> Granularity.perBlock(BlockFormat.MAX_BLOCK + 1, -1));
    // each of /b and /h once
    says("dfp16/b8/b16", "block size given twice");
    says("dfp16/h1/h2", "headroom given twice");
  }

  @Test
  void fixedPointNeedsItsFractionInsideTheWord() {
    String m = refused("fixed<8,9>");
    assertEquals("format 'fixed<8,9>': fixed<8,9>: 9 fraction bits do not fit in a 8-bit word; valid: "
        + "fraction bits <= word bits", m);
    says("ufixed<4,5>", "5 fraction bits do not fit in a 4-bit word");
    assertEquals(new FixedPoint(8, 8, true), Formats.parse("fixed<8,8>"));
    assertEquals(new FixedPoint(8, -2, true), Formats.parse("fixed<8,-2>")); // steps of 4: still a grid
    says("fixed<0,0>", "word width 0 is impossible");
    says("fixed<33,1>", "word width 33");
    says("fixed<8,-200>", "outside float32");
    says("fixed<8,99999999999>", "'99999999999' is out of range");
  }

  @Test
  void impossibleWidthsNumbersAndJunkAreNamed() {
    says("int0", "integer width 0 is impossible; valid widths are 1..32");
    says("int33", "integer width 33 is impossible");
    says("int99999999999", "integer width '99999999999' is out of range");
    says("e0m3", "e0m3 is impossible");
    says("e9m3", "e9m3 is impossible");
    says("e4m24", "e4m24 is impossible");
    says("e4m3:bias=99999999999", "bias '99999999999' is out of range");
    says("int-8", "unknown format 'int-8'");
    says("int8x", "unknown format 'int8x'");
    says("e4m3 junk", "unknown format 'e4m3 junk'");
    says("mxfp4/b32/x", "unknown format");
    // a scale is a plain decimal number: no NaN, infinity, hex or Java suffixes
    for (String s : new String[] {"int8*NaN", "int8*Infinity", "int8*1f", "int8*0x1p3", "int8*1e99", "int8*0",
        "int8*1e-99", "int8*-1"}) {
      says(s, "scale");
    }
    assertEquals(new IntFormat(8, true, 0.25f), Formats.parse("int8*0.25"));
    assertEquals(new IntFormat(8, true, 1000f), Formats.parse("int8*1e3"));
    // an option sets its property once
    says("e4m3:sat:nonsat", "sets the overflow a second time");
    says("e5m2:ieee:fn", "sets the specials a second time");
    says("e5m2:bias=3:bias=4", "sets the bias a second time");
    // a very long string is refused by its length, before any parsing (no deep recursion)
    String nested = "mx<".repeat(5000) + "int8" + ">".repeat(5000);
    says(nested, "characters long; format strings have at most " + Formats.MAX_LENGTH);
    says("mx<mxint8>", "MX elements must be element formats");
  }

  @Test
  void granularityNumbersAreAsciiIntegers() {
    assertEquals(Granularity.perChannel(3), Granularity.parse("channel:3"));
    assertEquals(Granularity.perBlock(16, -1), Granularity.parse("block:16:-1"));
    for (String s : new String[] {"channel:\u0663", "channel:+1", "block:\uff11\uff16", "channel:99999999999"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Granularity.parse(s), s);
      assertTrue(e.getMessage().startsWith("unknown granularity '" + s + "'"), e.getMessage());
    }
  }
}
