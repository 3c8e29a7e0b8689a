package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class SweepCommandTest {

  @TempDir Path dir;

  record Result(int rc, String out, String err) {}

  static Result run(String... args) {
    CommandLine cl = Main.commandLine();
    StringWriter out = new StringWriter(), err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int rc = cl.execute(args);
    return new Result(rc, out.toString(), err.toString());
  }

  static String[] sweep(Path out, String... more) {
    List<String> a = new java.util.ArrayList<>(List.of("sweep", "--out", out.toString(), "--backend", "java",
        "--limit-train", "256", "--limit-test", "100", "--batch", "64"));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  @Test
  void runsEveryPolicyAndSeedResumesAndShards() throws Exception {
    Path out = dir.resolve("s");
    Result r = run(sweep(out, "--policies", "fp32,int8", "--seeds", "1,2", "--shard", "1/2"));
    assertEquals(0, r.rc(), r.err());
    // jobs: fp32-s1, fp32-s2, int8-s1, int8-s2; shard 1/2 takes the 1st and 3rd
    assertTrue(Files.isRegularFile(out.resolve("runs/fp32-s1/summary.json")));
    assertTrue(Files.isRegularFile(out.resolve("runs/int8-s1/summary.json")));
    assertFalse(Files.exists(out.resolve("runs/fp32-s2")));
    assertTrue(r.out().contains("[3/4] int8 seed 1: test accuracy"), r.out());
    String md = Files.readString(out.resolve("summary.md"));
    assertTrue(md.contains("| int8 |") && md.contains("8 / 8 / 32"), md);

    Result r2 = run(sweep(out, "--policies", "fp32,int8", "--seeds", "1,2", "--shard", "2/2"));
    assertEquals(0, r2.rc(), r2.err());
    assertTrue(Files.isRegularFile(out.resolve("runs/int8-s2/summary.json")));
    String csv = Files.readString(out.resolve("summary.csv"));
    assertEquals(5, csv.strip().split("\n").length, csv); // header + 4 runs from both shards

    String before = Files.readString(out.resolve("runs/int8-s1/summary.json"));
    Result r3 = run(sweep(out, "--policies", "fp32,int8", "--seeds", "1,2"));
    assertEquals(0, r3.rc(), r3.err());
    assertEquals(4, r3.out().split("done already, skipped", -1).length - 1, r3.out());
    assertEquals(before, Files.readString(out.resolve("runs/int8-s1/summary.json")));
    assertTrue(Files.readString(out.resolve("report.html")).contains("int8"));

    // a finished run made with other settings is not silently taken as this sweep's
    Result r4 = run(sweep(out, "--policies", "fp32,int8", "--seeds", "1,2", "--epochs", "2"));
    assertEquals(2, r4.rc(), r4.out());
    assertTrue(r4.err().contains("fp32-s1 holds a finished run with other settings: epochs 3 (wanted 2)"), r4.err());
    assertEquals(before, Files.readString(out.resolve("runs/int8-s1/summary.json")));
    // --schedule reaches the runs and is one of the settings
    Result r5 = run(sweep(out, "--policies", "fp32,int8", "--seeds", "1,2", "--schedule", "cosine"));
    assertEquals(2, r5.rc(), r5.out());
    assertTrue(r5.err().contains("schedule \"constant\" (wanted \"cosine\")"), r5.err());
    Path cos = dir.resolve("cos");
    Result r6 = run(sweep(cos, "--policies", "fp32", "--schedule", "cosine"));
    assertEquals(0, r6.rc(), r6.err());
    assertTrue(Files.readString(cos.resolve("runs/fp32-s1/summary.json")).contains("\"schedule\":\"cosine\""));
  }

  @Test
  void acc12FineTunesTheFp32RunOfItsSeedAndReportsBeforeAndAfter() throws Exception {
    Path out = dir.resolve("acc");
    Result r = run(sweep(out, "--policies", "acc12", "--epochs", "1"));
    assertEquals(0, r.rc(), r.err());
    // no fp32 in the sweep: the pretrained run is trained first, into the place the fp32 job would use
    assertTrue(Files.isRegularFile(out.resolve("runs/fp32-s1/summary.json")), r.out());
    String summary = Files.readString(out.resolve("runs/acc12-s1/summary.json"));
    assertTrue(summary.contains("\"accuracy_before_finetune\":0.") && summary.contains("fp32-s1"), summary);
    assertTrue(Files.readString(out.resolve("summary.md")).contains("(before fine-tune "), Files.readString(out.resolve("summary.md")));
    assertTrue(Files.readString(out.resolve("summary.csv")).contains("accuracy_before_finetune"));
    assertTrue(Files.readString(out.resolve("report.html")).contains("before fine-tune"));
    Result r2 = run(sweep(out, "--policies", "fp32,acc12", "--epochs", "1"));
    assertEquals(0, r2.rc(), r2.err());
    assertEquals(2, r2.out().split("done already, skipped", -1).length - 1, r2.out());
  }

  @Test
  void badInputStopsBeforeAnythingIsWritten() {
    Path out = dir.resolve("bad");
    Result r = run(sweep(out, "--policies", "fp32,int9"));
    assertEquals(2, r.rc());
    assertTrue(r.err().contains("unknown policy 'int9'"), r.err());
    r = run(sweep(out, "--model", "lstm"));
    assertEquals(2, r.rc());
    assertTrue(r.err().contains("unknown model 'lstm'"), r.err());
    r = run(sweep(out, "--shard", "3/2"));
    assertEquals(2, r.rc());
    assertTrue(r.err().contains("bad --shard '3/2'"), r.err());
    r = run(sweep(out, "--policies", "int8,int8"));
    assertEquals(2, r.rc());
    assertTrue(r.err().contains("twice"), r.err());
    r = run(new String[] {"sweep", "--out", out.toString(), "--backend", "java", "--batch", "0"});
    assertEquals(2, r.rc());
    assertTrue(r.err().contains("--batch must be > 0, got 0"), r.err());
    assertFalse(r.out().contains("lowbit sweep: model"), r.out()); // refused before the banner
    r = run(sweep(out, "--lr", "-0.1"));
    assertEquals(2, r.rc());
    assertTrue(r.err().contains("--lr must be a positive finite number, got -0.1"), r.err());
    assertFalse(Files.exists(out));
  }

  @Test
  void parseShard() {
    assertEquals(List.of(2, 5), java.util.Arrays.stream(SweepCommand.parseShard("2/5")).boxed().toList());
    assertEquals(null, SweepCommand.parseShard(null));
    for (String bad : List.of("0/2", "1/0", "a/b", "1", "1/2/3")) {
      assertThrows(IllegalArgumentException.class, () -> SweepCommand.parseShard(bad), bad);
    }
  }
}
