package dev.lowbit.numerics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
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
 * Property tests of the policy text parser (issue 15): the presets and other valid policies with
 * characters flipped, inserted or deleted, tokens and lines swapped, repeated or replaced, and
 * random text, give either a policy (whose canonical text parses back to it) or an
 * IllegalArgumentException whose message names the line — never another exception or a
 * NumberFormatException inside. Fast: a few hundred inputs per property; slow: 100,000.
 */
class PolicyParseFuzzTest {

  static final List<String> SEEDS = new ArrayList<>();

  static {
    for (String p : Presets.names()) SEEDS.add(Presets.text(p));
    SEEDS.add("""
        policy mixed
        option loss-scale 1024
        option accumulator-gradient swamp
        c1,fc?  weight,activation  int4  stochastic  per-channel(-1)
        layer*.conv1  error  dfp8/b16  toward-zero  per-block(16,0)
        layer1.*  error  e3m4:fn:sat  floor
        *  weight-gradient  mx<e2m1>/b16  rne  block:16:-1
        *  master-weight,optimizer-state  bf16  nearest-away  tensor
        *  multiplier  lmul3  forward,backward-data
        fc1  accumulator  e5m10/c32
        *  accumulator  int32:wrap/c256  backward-weight
        """);
    SEEDS.add("* weight e3m4:fn:sat rne per-tensor(amax)\n* weight-gradient fixed<8,4> rne\n* activation fp32\n\r\n* error e5m2 per-tensor(amax) sr\n");
  }

  /** Pieces a policy is made of, to splice in. */
  static final String[] TOKENS = {"*", "fc1", "weight", "activation", "error", "weight-gradient", "master-weight",
      "optimizer-state", "multiplier", "accumulator", "int8", "fixed<8,9>", "mxfp4/b0", "e4m3", "int32", "lmul",
      "per-channel(99)", "per-channel(-1)", "per-block(0)", "per-block(99999999999,1)", "per-tensor(amax)",
      "rne", "sr", "stochastic", "forward", "backward-data", "policy", "option", "loss-scale", "shift-max", "17",
      "1e400", "NaN", "-0", "#", ",", ",,", "\uFEFF", "\t", "\u00a0", "\u2028", "\r", "\n", "\u0000", "(", ")",
      "c99999999999", "int32/c0", "e4m7/c16", "e99m99", "99999999999", "channel:", "block:8:"};

  static final String CHARS = "*,.#()<>:/=-+_ \t\n\r0123456789abcdefghijklmnopqrstuvwxyzE\uFEFF\u00e9\u0660\uff0a";

  static String mutate(String s, Random r) {
    StringBuilder b = new StringBuilder(s);
    int edits = 1 + r.nextInt(4);
    for (int e = 0; e < edits; e++) {
      int at = b.isEmpty() ? 0 : r.nextInt(b.length());
      switch (r.nextInt(9)) {
        case 0 -> { if (!b.isEmpty()) b.setCharAt(at, CHARS.charAt(r.nextInt(CHARS.length()))); }
        case 1 -> b.insert(at, CHARS.charAt(r.nextInt(CHARS.length())));
        case 2 -> { if (!b.isEmpty()) b.deleteCharAt(at); }
        case 3 -> b.insert(at, TOKENS[r.nextInt(TOKENS.length)]);
        case 4 -> b.insert(at, " " + TOKENS[r.nextInt(TOKENS.length)] + " ");
        case 5 -> { // replace a whitespace-delimited token
          int start = at;
          while (start > 0 && !Character.isWhitespace(b.charAt(start - 1))) start--;
          int end = at;
          while (end < b.length() && !Character.isWhitespace(b.charAt(end))) end++;
          b.replace(start, end, TOKENS[r.nextInt(TOKENS.length)]);
        }
        case 6 -> { // repeat or drop a line
          String[] lines = b.toString().split("\n", -1);
          int i = r.nextInt(lines.length);
          List<String> l = new ArrayList<>(List.of(lines));
          if (r.nextBoolean()) l.add(r.nextInt(l.size() + 1), lines[i]);
          else l.remove(i);
          b.setLength(0);
          b.append(String.join("\n", l));
        }
        case 7 -> b.insert(at, Character.toChars(r.nextInt(Character.MAX_CODE_POINT + 1)));
        default -> b.insert(at, (char) r.nextInt(0x10000));
      }
    }
    return b.toString();
  }

  /** The parser's contract for one text. */
  static void check(String text) {
    Policy p;
    try {
      p = Policy.parse(text, "fuzz");
    } catch (IllegalArgumentException e) {
      String m = e.getMessage();
      if (m == null || m.isBlank()) fail("an error without a message for:\n" + text);
      assertTrue(m.startsWith("policy line "), m);
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof NumberFormatException) fail("a NumberFormatException (" + m + ") for:\n" + text);
      }
      return;
    }
    assertEquals(p, Policy.parse(p.toText(), "other"), text);
  }

  @Provide
  Arbitrary<String> mutated() {
    return Arbitraries.randomValue(r -> mutate(SEEDS.get(r.nextInt(SEEDS.size())), r));
  }

  @Property(tries = 400, shrinking = ShrinkingMode.OFF)
  void mutatedPoliciesParseOrNameTheLine(@ForAll("mutated") String text) {
    check(text);
  }

  @Property(tries = 300)
  void randomTextParsesOrNamesTheLine(@ForAll @StringLength(max = 80) String text) {
    check(text);
  }

  @Property(tries = 50)
  void seedsAreValid(@ForAll("seeds") String text) {
    Policy.parse(text, "seed");
    check(text);
  }

  @Provide
  Arbitrary<String> seeds() {
    return Arbitraries.of(SEEDS);
  }

  /** Bytes of a policy file: a seed's UTF-8 with bytes flipped, inserted or dropped (Latin-1, NUL, cut sequences). */
  static byte[] mutateBytes(String seed, Random r) {
    byte[] b = mutate(seed, r).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    if (r.nextInt(4) == 0) out.writeBytes(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
    for (byte x : b) {
      int op = r.nextInt(200);
      if (op == 0) continue; // drop
      if (op == 1) out.write(r.nextInt(256)); // insert
      out.write(op == 2 ? r.nextInt(256) : x); // flip
    }
    return out.toByteArray();
  }

  /** Reading a file's bytes: a policy, or one message that starts with the file's name. */
  static void checkFile(byte[] bytes) {
    String text;
    try {
      text = Policy.decode(bytes, "f.policy");
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage().startsWith("f.policy: not "), e.getMessage());
      return;
    }
    try {
      Policy p = Policy.parse(text, "f", ArithmeticParsers.DEFAULT, "f.policy");
      assertEquals(p, Policy.parse(p.toText(), "other"));
    } catch (IllegalArgumentException e) {
      assertTrue(e.getMessage().matches("(?s)f\\.policy:\\d+: .+"), e.getMessage());
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof NumberFormatException) fail("a NumberFormatException: " + e.getMessage());
      }
    }
  }

  @Provide
  Arbitrary<byte[]> mutatedBytes() {
    return Arbitraries.randomValue(r -> mutateBytes(SEEDS.get(r.nextInt(SEEDS.size())), r));
  }

  @Property(tries = 300, shrinking = ShrinkingMode.OFF)
  void mutatedFileBytesReadOrNameTheFile(@ForAll("mutatedBytes") byte[] bytes) {
    checkFile(bytes);
  }

  /** The fuzzing run of policy file bytes: 100,000 mutated files. */
  @Tag("slow")
  @Property(tries = 100_000, shrinking = ShrinkingMode.OFF, generation = GenerationMode.RANDOMIZED)
  void fuzz100kMutatedPolicyFiles(@ForAll("mutatedBytes") byte[] bytes) {
    checkFile(bytes);
  }

  /** The fuzzing run: 100,000 mutated policies. */
  @Tag("slow")
  @Property(tries = 100_000, shrinking = ShrinkingMode.OFF, generation = GenerationMode.RANDOMIZED)
  void fuzz100kMutatedPolicies(@ForAll("mutated") String text) {
    check(text);
  }
}
