package dev.lowbit.io;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Damage for parser tests: byte flips, truncation, deletion, duplication, splicing of two inputs
 * and insertion of hostile fragments (deep nesting, huge numbers, odd Unicode, stray syntax), one
 * to three at a time, all drawn from a seeded generator so a failing case is reproducible.
 */
final class Mutations {

  private Mutations() {}

  /** Fragments that parsers tend to trip on. */
  static final String[] FRAGMENTS = {
    "[", "]", "{", "}", ",", ":", "\"", "\\", "\\u", "\\ud800", "\\uDFFF\\uD800", "\\u0000", "\u0000",
    "\uFEFF", "\uFFFF", "\uD800", "\uDC00x", "é", "😀", "\u2028", "\r\n", "\t",
    "null", "true", "fals", "NaN", "-Infinity", "-", "-0", "0.", ".5", "1e", "1e999999", "-1e-999999",
    "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1" + "0".repeat(99),
    "2".repeat(150), "0." + "3".repeat(120), "4294967296", "2147483648", "-1", "1073741824",
    "[".repeat(300), "{\"a\":".repeat(150), "]".repeat(50), "\"" + "x".repeat(2000) + "\"",
    "\"__metadata__\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"F16\"", "\"BF16\"", "\"I64\"", "\"F8_E4M3\"",
    "[0,0]", "[1,2,3]", "[]", "{}", "\"epoch\":\"-1\"",
  };

  /** {@code in} with one to three random mutations; {@code other} is a second input to splice from. */
  static byte[] mutate(byte[] in, byte[] other, SplittableRandom r) {
    byte[] b = in;
    int n = 1 + r.nextInt(3);
    for (int i = 0; i < n; i++) b = once(b, other, r);
    return b;
  }

  private static byte[] once(byte[] b, byte[] other, SplittableRandom r) {
    int len = b.length;
    switch (r.nextInt(8)) {
      case 0: { // flip a bit
        if (len == 0) return b;
        byte[] c = b.clone();
        c[r.nextInt(len)] ^= (byte) (1 << r.nextInt(8));
        return c;
      }
      case 1: { // set a byte to anything
        if (len == 0) return b;
        byte[] c = b.clone();
        c[r.nextInt(len)] = (byte) r.nextInt(256);
        return c;
      }
      case 2: // truncate
        return Arrays.copyOf(b, len == 0 ? 0 : r.nextInt(len));
      case 3: { // delete a range
        if (len == 0) return b;
        int from = r.nextInt(len), to = Math.min(len, from + 1 + r.nextInt(16));
        return concat(Arrays.copyOfRange(b, 0, from), Arrays.copyOfRange(b, to, len));
      }
      case 4: { // duplicate a range in place
        if (len == 0) return b;
        int from = r.nextInt(len), to = Math.min(len, from + 1 + r.nextInt(32));
        return concat(Arrays.copyOfRange(b, 0, to), Arrays.copyOfRange(b, from, len));
      }
      case 5: { // splice: a prefix of this one, a suffix of the other
        int cut = len == 0 ? 0 : r.nextInt(len + 1), cut2 = other.length == 0 ? 0 : r.nextInt(other.length + 1);
        return concat(Arrays.copyOfRange(b, 0, cut), Arrays.copyOfRange(other, cut2, other.length));
      }
      default: { // insert or overwrite with a fragment
        byte[] f = FRAGMENTS[r.nextInt(FRAGMENTS.length)].getBytes(StandardCharsets.UTF_8);
        int at = len == 0 ? 0 : r.nextInt(len + 1);
        int skip = r.nextBoolean() ? 0 : Math.min(len - at, r.nextInt(1 + f.length));
        return concat(concat(Arrays.copyOfRange(b, 0, at), f), Arrays.copyOfRange(b, at + skip, len));
      }
    }
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  /** Bytes allocated so far by the calling thread (for bounds on what a parse may allocate). */
  static long allocated() {
    return THREADS.getCurrentThreadAllocatedBytes();
  }

  /** A short printable form of an input, for a failure message. */
  static String show(byte[] b) {
    String s = new String(b, 0, Math.min(b.length, 300), StandardCharsets.ISO_8859_1);
    StringBuilder sb = new StringBuilder();
    for (char c : s.toCharArray()) {
      if (c >= 0x20 && c < 0x7f) sb.append(c);
      else sb.append(String.format("\\x%02x", (int) c));
    }
    return sb + (b.length > 300 ? "... (" + b.length + " bytes)" : "");
  }
}
