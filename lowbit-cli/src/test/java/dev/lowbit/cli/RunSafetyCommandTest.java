package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.cli.SweepCommandTest.Result;
import dev.lowbit.train.RunLock;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The CLI's side of runs that are never lost or mixed: divergence is one error line (train) or a
 * failed run the sweep survives; a run directory held elsewhere is refused (train) or waited for
 * (sweep); every run a sweep leaves out of its report is listed with why.
 */
class RunSafetyCommandTest {

  @TempDir Path dir;

  static String[] train(Path out, String... more) {
    List<String> a = new java.util.ArrayList<>(List.of("train", "--out", out.toString(), "--backend", "java",
        "--limit-train", "256", "--limit-test", "100"));
    a.addAll(List.of(more));
    if (!a.contains("--batch")) a.addAll(List.of("--batch", "64"));
    return a.toArray(String[]::new);
  }

  /** Holds a run directory's lock in another thread (as another process would) until released. */
  static final class Holder implements AutoCloseable {
    private final CountDownLatch taken = new CountDownLatch(1), release = new CountDownLatch(1);
    private final CompletableFuture<Void> done;

    Holder(Path run) throws Exception {
      // its own thread: the common pool may have a single worker, which this would block
      done = CompletableFuture.runAsync(() -> {
        try (RunLock l = RunLock.acquire(run)) {
          taken.countDown();
          release.await();
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      }, r -> new Thread(r, "run-lock-holder").start());
      assertTrue(taken.await(10, TimeUnit.SECONDS), "holder took the lock");
    }

    @Override
    public void close() throws Exception {
      release.countDown();
      done.get(10, TimeUnit.SECONDS);
    }
  }

  static void await(BooleanSupplier c, String what) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!c.getAsBoolean()) {
      if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what);
      Thread.sleep(50);
    }
  }

  @Test
  void trainDivergenceIsOneErrorLineWithExitCode1() {
    Path out = dir.resolve("t");
    Result r = SweepCommandTest.run(train(out, "--lr", "1e6", "--batch", "16"));
    assertEquals(1, r.rc(), r.err());
    assertTrue(r.err().matches("(?s)lowbit: error: training diverged at epoch \\d+ step \\d+ \\((test )?loss [^)]*\\)"
        + "; try a smaller --lr\\R"), r.err());
    assertFalse(Files.exists(out.resolve("summary.json")));
  }

  @Test
  void trainRefusesAnOutHeldByAnotherOwnerOrHoldingARun() throws Exception {
    Path out = dir.resolve("t");
    try (Holder h = new Holder(out)) {
      Result r = SweepCommandTest.run(train(out));
      assertEquals(2, r.rc(), r.err());
      assertEquals("lowbit: error: " + out + " is in use by another thread of this lowbit process; wait for it to"
          + " finish or use another --out", r.err().strip());
    }
    Result r = SweepCommandTest.run(train(out));
    assertEquals(0, r.rc(), r.err());
    String summary = Files.readString(out.resolve("summary.json"));
    r = SweepCommandTest.run(train(out, "--epochs", "2"));
    assertEquals(2, r.rc(), r.err());
    assertTrue(r.err().contains(out + " already holds a run (summary.json); use --resume " + out), r.err());
    assertEquals(summary, Files.readString(out.resolve("summary.json")));
    r = SweepCommandTest.run(train(out, "--epochs", "2", "--resume", out.toString()));
    assertEquals(0, r.rc(), r.err());
  }

  @Test
  void sweepSurvivesDivergenceInWarmUpAndRunsAndReportsIt() throws Exception {
    Path out = dir.resolve("s");
    Result r = SweepCommandTest.run("sweep", "--out", out.toString(), "--backend", "java",
        "--limit-train", "256", "--limit-test", "100", "--policies", "fp32,int8", "--lr", "1e6", "--batch", "16");
    assertEquals(1, r.rc(), r.out() + r.err());
    assertTrue(r.out().contains("[1/2] fp32 seed 1: failed: training diverged at epoch 1 step "), r.out());
    assertTrue(r.out().contains("not in the report: fp32 seed 1: failed: training diverged"), r.out());
    assertTrue(Files.readString(out.resolve("runs/fp32-s1/" + SweepCommand.FAILED)).startsWith("training diverged"));
    assertFalse(r.err().contains("Exception"), r.err());
  }

  @Test
  void sweepSharesRunsWithAnotherOwnerWaitsForThemAndListsEveryRunLeftOut() throws Exception {
    Path out = dir.resolve("s");
    String[] all = SweepCommandTest.sweep(out, "--policies", "fp32,int8", "--epochs", "1");
    Path int8 = out.resolve("runs/int8-s1");
    try (Holder h = new Holder(int8)) {
      // shard 1/2 (fp32) while "another process" holds shard 2's run: listed as in progress
      Result r = SweepCommandTest.run(SweepCommandTest.sweep(out, "--policies", "fp32,int8", "--epochs", "1",
          "--shard", "1/2"));
      assertEquals(0, r.rc(), r.out() + r.err());
      String md = Files.readString(out.resolve("summary.md"));
      assertTrue(md.contains("## Not in this report\n\n- int8 seed 1 (another shard's job): in progress in another"
          + " thread of this lowbit process"), md);
      assertTrue(Files.readString(out.resolve("report.html")).contains("<h2>Not in this report</h2>"));

      // the whole sweep: int8 is skipped at first, then waited for; "the other process" stops without
      // finishing it, so this sweep trains it
      CommandLine cl = Main.commandLine();
      StringWriter so = new StringWriter(), se = new StringWriter();
      cl.setOut(new PrintWriter(so, true));
      cl.setErr(new PrintWriter(se, true));
      CompletableFuture<Integer> sweep = CompletableFuture.supplyAsync(() -> cl.execute(all),
          task -> new Thread(task, "second-sweep").start());
      await(() -> so.toString().contains("[2/2] int8 seed 1: waiting for another thread of this lowbit process"),
          "the sweep to wait");
      assertTrue(so.toString().contains("[2/2] int8 seed 1: in use by another thread of this lowbit process;"
          + " coming back to it after the other runs"), so.toString());
      assertFalse(sweep.isDone());
      h.close();
      assertEquals(0, sweep.get(120, TimeUnit.SECONDS), so + "" + se);
      assertTrue(so.toString().contains("[2/2] int8 seed 1: test accuracy"), so.toString());
    }
    String csv = Files.readString(out.resolve("summary.csv"));
    assertEquals(3, csv.strip().split("\n").length, csv);
    assertFalse(Files.readString(out.resolve("summary.md")).contains("Not in this report"));

    // a run killed between its last checkpoint and its summary is finished by the next sweep, not failed
    Path fp32 = out.resolve("runs/fp32-s1/summary.json");
    Object accuracy = ((java.util.Map<?, ?>) dev.lowbit.io.Json.parse(Files.readString(fp32))).get("test_accuracy");
    Files.delete(fp32);
    Result again = SweepCommandTest.run(all);
    assertEquals(0, again.rc(), again.out() + again.err());
    assertTrue(again.out().contains(String.format("[1/2] fp32 seed 1: test accuracy %.4f", (Double) accuracy)), again.out());
    assertEquals(accuracy, ((java.util.Map<?, ?>) dev.lowbit.io.Json.parse(Files.readString(fp32))).get("test_accuracy"));

    // a finished run that cannot be read is skipped as done, but not silently left out: listed, exit code 1
    Path m = int8.resolve("metrics.jsonl");
    List<String> lines = new java.util.ArrayList<>(Files.readAllLines(m));
    lines.set(1, lines.get(1).substring(0, lines.get(1).length() / 2)); // a torn line, as two writers made them
    Files.write(m, lines);
    Result r = SweepCommandTest.run(all);
    assertEquals(1, r.rc(), r.out() + r.err());
    assertEquals(2, r.out().split("done already, skipped", -1).length - 1, r.out());
    assertTrue(r.out().contains("not in the report: int8 seed 1: unreadable: "), r.out());
    assertTrue(Files.readString(out.resolve("summary.md")).contains("- int8 seed 1: unreadable: "));
  }
}
