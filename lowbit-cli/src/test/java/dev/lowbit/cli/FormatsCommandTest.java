package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code lowbit formats}: the range of fixed-point and block formats, symmetric or not. */
class FormatsCommandTest {

  private static String[] run(String... args) {
    CommandLine cl = Main.commandLine();
    StringWriter out = new StringWriter(), err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int rc = cl.execute(args);
    return new String[] {String.valueOf(rc), out.toString(), err.toString()};
  }

  @Test
  void symmetricFormatsShowTheirRange() {
    String[] r = run("formats", "--format", "fixed<8,4>:sym");
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].contains("fixed<8,4>:sym") && r[1].contains("range: -7.9375 .. 7.9375 (codes -127 .. 127, symmetric)"), r[1]);
    r = run("formats", "--format", "fixed<8,4>");
    assertTrue(r[1].contains("range: -8 .. 7.9375 (codes -128 .. 127, two's complement)"), r[1]);
    r = run("formats", "--format", "bfp8/b16:sym");
    assertTrue(r[1].contains("bfp8/b16:sym") && r[1].contains("mantissas -127 .. 127 (symmetric)"), r[1]);
    r = run("formats", "--format", "bfp8/b16");
    assertTrue(r[1].contains("mantissas -128 .. 127 (two's complement)"), r[1]);
  }

  @Test
  void codesListOnlyWhatTheFormatProduces() {
    String[] r = run("formats", "--format", "bfp4:sym", "--codes");
    assertEquals("0", r[0], r[2]);
    assertFalse(r[1].contains("1000 -8"), r[1]);
    assertTrue(r[1].contains("1001 -7") && r[1].contains("0111 7"), r[1]);
    r = run("formats", "--format", "bfp4", "--codes");
    assertTrue(r[1].contains("1000 -8"), r[1]);
    r = run("formats", "--format", "fixed<3,1>:sym", "--codes");
    assertFalse(r[1].contains("-2"), r[1]);
    assertEquals(7 + 1, r[1].lines().count(), r[1]); // header and 7 codes
  }

  @Test
  void anUnsignedSymmetricFormatIsOneClearError() {
    String[] r = run("formats", "--format", "ufixed<8,4>:sym");
    assertEquals("2", r[0]);
    assertTrue(r[2].startsWith("lowbit: error: format 'ufixed<8,4>:sym'") && r[2].contains("signed"), r[2]);
    assertEquals(1, r[2].strip().lines().count(), r[2]);
  }
}
