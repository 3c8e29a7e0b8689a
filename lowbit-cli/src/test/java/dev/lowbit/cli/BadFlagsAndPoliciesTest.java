package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.cli.SweepCommandTest.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad flags and bad policy files get one {@code lowbit: error:} line naming what is wrong, before
 * anything is loaded or written (issue 15); a policy rule that matches no layer is a warning, an
 * error with {@code --strict}.
 */
class BadFlagsAndPoliciesTest {

  @TempDir Path dir;

  private static String[] train(Path out, String... more) {
    return command("train", out, more);
  }

  private static String[] sweep(Path out, String... more) {
    return command("sweep", out, more);
  }

  /** The command on a small subset; {@code more} may override the subset's flags. */
  private static String[] command(String name, Path out, String... more) {
    List<String> a = new ArrayList<>(List.of(name, "--out", out.toString(), "--backend", "java"));
    String[] defaults = {"--limit-train", "64", "--limit-test", "32", "--batch", "32"};
    for (int i = 0; i < defaults.length; i += 2) {
      if (!List.of(more).contains(defaults[i])) a.addAll(List.of(defaults[i], defaults[i + 1]));
    }
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  /** Runs the command, expects exit code 2 and exactly one error line, returns it. */
  private static String refused(String... args) {
    Result r = SweepCommandTest.run(args);
    assertEquals(2, r.rc(), String.join(" ", args) + "\nout: " + r.out() + "\nerr: " + r.err());
    List<String> lines = r.err().strip().lines().toList();
    assertEquals(1, lines.size(), r.err());
    assertTrue(lines.get(0).startsWith("lowbit: error: "), lines.get(0));
    assertFalse(r.out().contains("lowbit sweep: model"), r.out()); // before the sweep's banner
    return lines.get(0).substring("lowbit: error: ".length());
  }

  @Test
  void trainRefusesBadNumbers() {
    Path out = dir.resolve("t");
    // negative limits used to mean "all", a negative or NaN weight decay "the default"
    assertEquals("--limit-train must be >= 0 (0 = all), got -5", refused(train(out, "--limit-train", "-5")));
    assertEquals("--limit-test must be >= 0 (0 = all), got -5", refused(train(out, "--limit-test", "-5")));
    assertEquals("--weight-decay must be a finite number >= 0, got -5.0", refused(train(out, "--weight-decay", "-5")));
    assertEquals("--weight-decay must be a finite number >= 0, got NaN", refused(train(out, "--weight-decay", "NaN")));
    assertEquals("--weight-decay must be a finite number >= 0, got Infinity",
        refused(train(out, "--weight-decay", "Infinity")));
    assertEquals("--lr must be a positive finite number, got Infinity", refused(train(out, "--lr", "Infinity")));
    assertEquals("--lr must be a positive finite number, got NaN", refused(train(out, "--lr", "NaN")));
    assertEquals("--lr must be a positive finite number, got 0.0", refused(train(out, "--lr", "0")));
    assertEquals("--epochs 0 evaluates a checkpoint and needs --init CKPT", refused(train(out, "--epochs", "0")));
    assertEquals("--epochs must be > 0, got -1", refused(train(out, "--epochs", "-1")));
    assertEquals("--batch must be > 0, got -1", refused(train(out, "--batch", "-1")));
    assertEquals("--threads must be 1..1024, got 100000", refused(train(out, "--threads", "100000")));
    assertEquals("--label-smoothing must be in [0, 1), got NaN", refused(train(out, "--label-smoothing", "NaN")));
    assertEquals("--log-every must be > 0, got 0", refused(train(out, "--log-every", "0")));
    assertFalse(Files.exists(out));
  }

  @Test
  void outMustBeAWritableDirectory() throws Exception {
    // --out "" wrote into the working directory
    assertEquals("--out must name a directory, got an empty path", refused(train(Path.of(""))));
    assertEquals("--out must name a directory, got an empty path",
        refused("sweep", "--out", "", "--backend", "java"));
    Path file = dir.resolve("somefile");
    Files.writeString(file, "x");
    // these gave "lowbit: error: PATH" with no reason
    assertEquals("--out " + file + ": is a file, not a directory", refused(train(file)));
    Path below = file.resolve("sub");
    assertEquals("--out " + below + ": cannot create directory " + below + ": " + file + " is a file",
        refused(train(below)));
    assertEquals("--out " + below.resolve("deeper") + ": cannot create directory " + below + ": " + file + " is a file",
        refused("sweep", "--out", below.resolve("deeper").toString(), "--backend", "java"));
    assertEquals("x", Files.readString(file));
  }

  @Test
  void policyErrorsNameTheFileAndLineBeforeTraining() throws Exception {
    Path out = dir.resolve("run");
    Path pc = dir.resolve("pc.policy");
    Files.writeString(pc, "# int8 weights, one scale per ... axis 99\n*  weight  int8  per-channel(99)\n");
    // failed only after training started, naming no line
    assertEquals(pc + ":2: per-channel(99): axis out of range for layer fc1 weight of rank 2 (valid axes: -2..1)",
        refused(train(out, "--policy", pc.toString())));
    Path latin = dir.resolve("latin.policy");
    Files.write(latin, "* weight int8 # caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
    assertEquals(latin + ": not UTF-8 text (byte 0xE9 at offset 19); save the policy as UTF-8",
        refused(train(out, "--policy", latin.toString())));
    Path bin = dir.resolve("bin.policy");
    Files.write(bin, new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0});
    assertEquals(bin + ": not a text file (NUL byte at offset 4)", refused(train(out, "--policy", bin.toString())));
    Path fx = dir.resolve("fx.policy");
    Files.writeString(fx, "*  weight  fixed<8,9>\n");
    assertTrue(refused(train(out, "--policy", fx.toString())).startsWith(fx + ":1: format 'fixed<8,9>': "));
    Path mx = dir.resolve("mx.policy");
    Files.writeString(mx, "*  weight  mxfp4/b0\n");
    assertTrue(refused(train(out, "--policy", mx.toString())).startsWith(mx + ":1: format 'mxfp4/b0': block size 0"));
    // sweep: the same checks for every policy, before the first run
    assertEquals(pc + ":2: per-channel(99): axis out of range for layer fc1 weight of rank 2 (valid axes: -2..1)",
        refused(sweep(out, "--policies", "fp32," + pc)));
    assertFalse(Files.exists(out));
  }

  @Test
  void aRuleThatMatchesNoLayerWarnsOrWithStrictFails() throws Exception {
    Path p = dir.resolve("nm.policy");
    Files.write(p, ("\uFEFF*  weight  int8\nconv*  activation  int8\n").getBytes(StandardCharsets.UTF_8));
    String expected = p + ":2: rule 'conv* activation int8 nearest-even per-tensor' matches no layer of model mlp "
        + "(layers with activation: fc1, fc2, fc3)";
    assertEquals(expected + "; without --strict this is a warning",
        refused(train(dir.resolve("strict"), "--policy", p.toString(), "--strict")));
    assertEquals(expected + "; without --strict this is a warning",
        refused(sweep(dir.resolve("sweep-strict"), "--policies", p.toString(), "--strict")));
    assertFalse(Files.exists(dir.resolve("strict")));
    Path out = dir.resolve("warned");
    Result r = SweepCommandTest.run(train(out, "--policy", p.toString()));
    assertEquals(0, r.rc(), r.err());
    assertEquals("lowbit: warning: " + expected, r.err().strip());
    // the leading BOM no longer hides the first rule: the weights were int8
    Object summary = dev.lowbit.io.Json.parse(Files.readString(out.resolve("summary.json")));
    dev.lowbit.numerics.Policy ran = dev.lowbit.numerics.Policy.parse(
        (String) ((java.util.Map<?, ?>) summary).get("policy_text"), "x");
    assertEquals(List.of("*"), ran.rules().get(0).layers());
    assertTrue(ran.lookup("fc1", dev.lowbit.numerics.Role.WEIGHT).isPresent());
  }

  @Test
  void sweepRefusesBadFlags() {
    Path out = dir.resolve("s");
    assertEquals("--limit-train must be >= 0 (0 = all), got -5", refused(sweep(out, "--limit-train", "-5")));
    assertEquals("--limit-test must be >= 0 (0 = all), got -1", refused(sweep(out, "--limit-test", "-1")));
    assertEquals("--seeds lists a seed twice: [1, 2, 1]", refused(sweep(out, "--seeds", "1,2,1")));
    assertEquals("--threads must be 1..1024, got 0", refused(sweep(out, "--threads", "0")));
    assertEquals("--lr must be a positive finite number, got Infinity", refused(sweep(out, "--lr", "Infinity")));
    assertFalse(Files.exists(out));
  }

  @Test
  void fileSystemErrorsSayWhy() {
    assertEquals("/x/y: already exists (and is not a directory)",
        Main.describe(new java.nio.file.FileAlreadyExistsException("/x/y")));
    assertEquals("/x: permission denied", Main.describe(new java.nio.file.AccessDeniedException("/x")));
    assertEquals("/x: Read-only file system",
        Main.describe(new java.io.UncheckedIOException(new java.nio.file.FileSystemException("/x", null, "Read-only file system"))));
    assertEquals("IllegalArgumentException", Main.describe(new IllegalArgumentException()));
  }
}
