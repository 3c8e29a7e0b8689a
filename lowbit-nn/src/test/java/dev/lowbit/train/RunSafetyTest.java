package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.io.Json;
import dev.lowbit.io.Safetensors;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs are never lost or mixed: one owner per run directory, kills, refusals, divergence, resume on other data. */
class RunSafetyTest {

  static Dataset train, test;

  @TempDir Path dir;

  @BeforeAll
  static void data() throws Exception {
    FashionMnist.Splits s = FashionMnist.embedded();
    train = s.train().head(128);
    test = s.test().head(50);
  }

  static TrainConfig cfg(int epochs, Path out) {
    return new TrainConfig("mlp", epochs, 64, null, 3, 2, out, null, null, null, null, -1, 0, false, 0, 0, 1);
  }

  static Trainer.Summary run(TrainConfig cfg, Dataset tr, PrintStream progress) throws Exception {
    return new Trainer(cfg, progress, false).run(tr, test, "t");
  }

  static Trainer.Summary run(TrainConfig cfg) throws Exception {
    return run(cfg, train, new PrintStream(new ByteArrayOutputStream()));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> json(Path f) throws Exception {
    return (Map<String, Object>) Json.parse(Files.readString(f));
  }

  // ---- one owner per run directory -------------------------------------------------------------

  @Test
  void aRunDirectoryHasOneOwningThreadWhichMayNestItsHolds() throws Exception {
    Path run = dir.resolve("r");
    try (RunLock outer = RunLock.acquire(run)) {
      assertTrue(Files.isRegularFile(run.resolve(RunLock.FILE)));
      RunLock inner = RunLock.tryAcquire(run);
      assertSame(outer, inner, "the holding thread takes it again");
      inner.close();
      // another thread: refused while the outer hold lasts
      assertNull(CompletableFuture.supplyAsync(() -> tryLock(run)).get(10, TimeUnit.SECONDS));
      RunLock.InUseException e = assertThrows(RunLock.InUseException.class, () -> {
        try {
          CompletableFuture.runAsync(() -> {
            try {
              RunLock.acquire(run);
            } catch (java.io.IOException io) {
              throw new java.io.UncheckedIOException(io);
            }
          }).get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException ee) {
          throw ee.getCause();
        }
      });
      assertTrue(e.getMessage().contains(run + " is in use by another thread of this lowbit process"), e.getMessage());
      assertTrue(RunLock.heldElsewhere(run) == false, "not elsewhere for its own thread");
    }
    RunLock other = CompletableFuture.supplyAsync(() -> tryLock(run)).get(10, TimeUnit.SECONDS);
    assertNotNull(other, "free once the last hold is released");
  }

  private static RunLock tryLock(Path run) {
    try {
      return RunLock.tryAcquire(run);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Holds {@code args[0]}'s run lock until its stdin closes (a second lowbit process, for the test below). */
  public static final class Holder {
    public static void main(String[] args) throws Exception {
      try (RunLock l = RunLock.acquire(Path.of(args[0]))) {
        System.out.println("locked");
        System.out.flush();
        while (System.in.read() >= 0) {
          // wait for the parent to close our stdin
        }
      }
    }
  }

  @Test
  void anotherProcessIsRefusedWithItsPidAndATrainerDoesNotTouchTheRun() throws Exception {
    Path run = dir.resolve("p");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Holder.class.getName(),
        run.toString()).redirectErrorStream(true).start();
    try {
      BufferedReader r = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      // the JVM may print notes first (JAVA_TOOL_OPTIONS, warnings): read up to the child's line
      StringBuilder seen = new StringBuilder();
      String line;
      while ((line = r.readLine()) != null && !line.equals("locked")) seen.append(line).append('\n');
      assertEquals("locked", line, "child did not take the lock: " + seen);
      assertNull(RunLock.tryAcquire(run));
      assertTrue(RunLock.heldElsewhere(run));
      assertEquals("another lowbit process (pid " + child.pid() + ")", RunLock.holder(run));
      RunLock.InUseException e = assertThrows(RunLock.InUseException.class, () -> run(cfg(1, run)));
      assertTrue(e.getMessage().contains(run + " is in use by another lowbit process (pid " + child.pid() + ")"),
          e.getMessage());
      try (var files = Files.list(run)) {
        assertEquals(List.of(RunLock.FILE), files.map(p -> p.getFileName().toString()).toList(), "nothing written");
      }
    } finally {
      child.getOutputStream().close();
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
    }
    assertFalse(RunLock.heldElsewhere(run), "the lock goes with the process");
    Trainer.Summary s = run(cfg(1, run));
    assertTrue(Double.isFinite(s.testLoss()));
  }

  // ---- kills -----------------------------------------------------------------------------------

  @Test
  void aRunKilledAfterItsLastCheckpointIsFinishedOnResume() throws Exception {
    Path a = dir.resolve("a"), b = dir.resolve("b");
    Trainer.Summary full = run(cfg(2, a));
    run(cfg(2, b));
    Files.delete(b.resolve("summary.json")); // killed between the last checkpoint and the summary
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Trainer.Summary s = run(cfg(2, b).withOut(b, b), train, new PrintStream(log));
    assertTrue(log.toString().contains("finishing it"), log.toString());
    assertEquals(full.testAccuracy(), s.testAccuracy());
    assertEquals(full.testLoss(), s.testLoss());
    assertEquals(full.trainLoss(), s.trainLoss(), "from the last epoch line of metrics.jsonl");
    double trainS = 0;
    for (String l : Files.readAllLines(b.resolve("metrics.jsonl"))) {
      if (l.contains("\"event\":\"epoch\"")) trainS += ((Number) ((Map<?, ?>) Json.parse(l)).get("train_s")).doubleValue();
    }
    assertTrue(s.seconds() >= trainS, "the epochs' training time counts: " + s.seconds() + " < " + trainS);
    assertTrue(s.samplesPerSecond() > 0);
    Map<String, Object> sum = json(b.resolve("summary.json"));
    assertEquals(json(a.resolve("summary.json")).get("test_accuracy"), sum.get("test_accuracy"));
    assertEquals(2, ((Number) sum.get("epochs")).intValue());
    // once finished, a resume to the same epochs is refused as before
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(cfg(2, b).withOut(b, b)));
    assertTrue(e.getMessage().contains("already has 2 epochs"), e.getMessage());
  }

  @Test
  void temporaryFilesOfAKilledWriteAreRemovedOnTheNextStart() throws Exception {
    Path a = dir.resolve("a");
    run(cfg(1, a));
    List<String> leftovers = List.of("checkpoint.safetensors8813094572093845.tmp", ".summary.json123.tmp",
        ".metrics.jsonl99.tmp", ".checkpoint.safetensors4.tmp");
    List<String> others = List.of("checkpoint.safetensorsX.tmp", "notes123.tmp", "checkpoint.safetensors12.tmp.keep",
        "summary.json5.bak");
    for (String f : leftovers) Files.writeString(a.resolve(f), "half a file");
    for (String f : others) Files.writeString(a.resolve(f), "mine");
    run(cfg(2, a).withOut(a, a));
    for (String f : leftovers) assertFalse(Files.exists(a.resolve(f)), f);
    for (String f : others) assertEquals("mine", Files.readString(a.resolve(f)), f);
  }

  // ---- an OUT that holds a run -----------------------------------------------------------------

  @Test
  void anOutThatHoldsARunIsOnlyContinuedNeverReplacedBit() throws Exception {
    Path a = dir.resolve("a");
    run(cfg(1, a));
    byte[] metrics = Files.readAllBytes(a.resolve("metrics.jsonl"));
    byte[] summary = Files.readAllBytes(a.resolve("summary.json"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(cfg(2, a)));
    assertTrue(e.getMessage().contains(a + " already holds a run (summary.json); use --resume " + a), e.getMessage());
    assertArrayEquals(summary, Files.readAllBytes(a.resolve("summary.json")), "untouched");
    // a checkpoint alone counts as well
    Files.delete(a.resolve("summary.json"));
    e = assertThrows(IllegalArgumentException.class, () -> run(cfg(2, a)));
    assertTrue(e.getMessage().contains("already holds a run (checkpoint.safetensors)"), e.getMessage());
    assertArrayEquals(metrics, Files.readAllBytes(a.resolve("metrics.jsonl")), "untouched");
    // metrics alone (stopped before the first checkpoint: nothing to resume) are started over
    Files.delete(a.resolve(Trainer.CHECKPOINT));
    Files.writeString(a.resolve("metrics.jsonl"), "{\"event\":\"start\"}\n{\"event\":\"step\",\"epoch\":1,\"ste");
    run(cfg(1, a));
    List<String> lines = Files.readAllLines(a.resolve("metrics.jsonl"));
    assertEquals(1, lines.stream().filter(l -> l.contains("\"event\":\"start\"")).count());
    assertFalse(lines.stream().anyMatch(l -> l.endsWith("\"ste")), "the old lines are gone");
    // a new directory that a bad resume stops in is not left behind
    Path y = dir.resolve("y");
    run(cfg(1, dir.resolve("c")));
    assertThrows(IllegalArgumentException.class, () -> run(cfg(1, y).withOut(y, dir.resolve("c"))));
    assertFalse(Files.exists(y));
  }

  @Test
  void resumeOfOutsOwnCheckpointFileContinuesTheRunAndAMissingCheckpointIsNamed() throws Exception {
    Path a = dir.resolve("a");
    run(cfg(1, a));
    run(cfg(2, a).withOut(a, a.resolve(Trainer.CHECKPOINT)));
    List<String> lines = Files.readAllLines(a.resolve("metrics.jsonl"));
    assertEquals(1, lines.stream().filter(l -> l.contains("\"event\":\"start\"")).count(), "appended, not replaced");
    assertEquals(2, lines.stream().filter(l -> l.contains("\"event\":\"epoch\"")).count());
    Path none = dir.resolve("none");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> run(cfg(1, dir.resolve("z")).withOut(dir.resolve("z"), none)));
    assertEquals("--resume " + none + ": no checkpoint (expected a run directory with checkpoint.safetensors or a"
        + " .safetensors file)", e.getMessage());
  }

  // ---- divergence ------------------------------------------------------------------------------

  @Test
  void aNonFiniteLossStopsTheRunNamingEpochAndStep() throws Exception {
    Path a = dir.resolve("a");
    // batch 16: 8 steps per epoch, and the loss is no longer finite a few steps in
    TrainConfig c = new TrainConfig("mlp", 2, 16, 1e6, 3, 2, a, null, null, null, null, -1, 0, false, 0, 0, 1);
    DivergedException e = assertThrows(DivergedException.class, () -> run(c));
    assertTrue(e.getMessage().matches("training diverged at epoch 1 step \\d+ \\(loss (NaN|Infinity|-Infinity)\\); try a smaller --lr"),
        e.getMessage());
    List<String> lines = Files.readAllLines(a.resolve("metrics.jsonl"));
    assertTrue(lines.get(lines.size() - 1).contains("\"event\":\"diverged\""), lines.toString());
    assertFalse(Files.exists(a.resolve("summary.json")));
  }

  @Test
  void aBlowUpOnTheLastStepIsCaughtAtTheEvaluation() throws Exception {
    // one step per epoch: the step's loss is computed from the initial (finite) weights, the
    // update makes them non-finite, and only the evaluation sees it
    Path a = dir.resolve("a");
    TrainConfig c = new TrainConfig("mlp", 1, 128, 1e30, 3, 2, a, null, null, null, null, -1, 0, false, 0, 0, 1);
    DivergedException e = assertThrows(DivergedException.class, () -> run(c));
    assertTrue(e.getMessage().startsWith("training diverged at epoch 1 step 1 (test loss "), e.getMessage());
    assertTrue(e.getMessage().contains("at the end-of-epoch evaluation"), e.getMessage());
    assertFalse(Files.exists(a.resolve("summary.json")));
    assertFalse(Files.exists(a.resolve(Trainer.CHECKPOINT)), "no checkpoint of non-finite weights");
  }

  // ---- resume on other data --------------------------------------------------------------------

  /** The same number of images as {@link #train}, but others (the embedded set's next 128). */
  static Dataset otherData() throws Exception {
    Dataset all = FashionMnist.embedded().train().head(256);
    float[] x = all.images();
    int ss = all.sampleSize();
    return new Dataset(java.util.Arrays.copyOfRange(x, 128 * ss, 256 * ss),
        java.util.Arrays.copyOfRange(all.labels(), 128, 256), all.channels(), all.height(), all.width(), all.classes(),
        "other");
  }

  @Test
  void resumeOnOtherDataIsRefusedNamingBoth() throws Exception {
    Path a = dir.resolve("a");
    run(cfg(1, a));
    Map<String, String> meta = Safetensors.read(a.resolve(Trainer.CHECKPOINT)).metadata();
    String had = meta.get("data_fingerprint");
    assertTrue(had.matches("[0-9a-f]{16}"), had);
    assertEquals(DataFingerprint.of(train).hash(), had);
    assertTrue(meta.get("data_description").startsWith("128 images 1×28×28 from "), meta.get("data_description"));
    Dataset other = otherData();
    String now = DataFingerprint.of(other).hash();
    assertFalse(now.equals(had));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> run(cfg(2, a).withOut(a, a), other, new PrintStream(new ByteArrayOutputStream())));
    assertTrue(e.getMessage().contains("checkpoint was trained on data " + had + " (128 images 1×28×28 from "),
        e.getMessage());
    assertTrue(e.getMessage().contains("this run's data is " + now + " (128 images 1×28×28 from other)"), e.getMessage());
    // the same values stored as floats instead of bytes are the same data
    Dataset asFloats = new Dataset(train.images(), train.labels(), 1, 28, 28, 10, "floats");
    assertEquals(had, DataFingerprint.of(asFloats).hash());
    // one changed label is other data
    int[] labels = train.labels().clone();
    labels[77] = (labels[77] + 1) % 10;
    assertFalse(had.equals(DataFingerprint.of(new Dataset(train.images(), labels, 1, 28, 28, 10, "l")).hash()));
    run(cfg(2, a).withOut(a, a), asFloats, new PrintStream(new ByteArrayOutputStream()));
  }

  @Test
  void aCheckpointWithoutAFingerprintResumesWithAWarning() throws Exception {
    Path a = dir.resolve("a");
    run(cfg(1, a));
    Path ck = a.resolve(Trainer.CHECKPOINT);
    Safetensors.Contents c = Safetensors.read(ck);
    LinkedHashMap<String, String> meta = new LinkedHashMap<>(c.metadata());
    meta.remove("data_fingerprint");
    meta.remove("data_description");
    Safetensors.write(ck, c.tensors(), meta);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Trainer.Summary s = run(cfg(2, a).withOut(a, a), otherData(), new PrintStream(log));
    assertTrue(log.toString().contains("warning: " + ck + " records no data fingerprint"), log.toString());
    assertEquals(2, s.epochs());
  }
}
