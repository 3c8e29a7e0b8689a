package dev.lowbit.cli;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.io.AtomicFiles;
import dev.lowbit.io.Json;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.kernel.Warmup;
import dev.lowbit.models.Models;
import dev.lowbit.train.JitWarmup;
import dev.lowbit.numerics.Policy;
import dev.lowbit.report.Report;
import dev.lowbit.report.RunReader;
import dev.lowbit.report.RunResult;
import dev.lowbit.train.DivergedException;
import dev.lowbit.train.FineTune;
import dev.lowbit.train.RunLock;
import dev.lowbit.train.TrainConfig;
import dev.lowbit.train.Trainer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lowbit sweep}: one training run per (policy, seed) into {@code OUT/runs/POLICY-sSEED/},
 * skipping runs that already have a {@code summary.json} (so a killed sweep resumes), then a
 * report over every finished run found under {@code OUT/runs} (other shards' included).
 *
 * <p>Each run is trained while its directory's {@link RunLock} is held; a run another process
 * holds is skipped at first and waited for after the others, so that sweeps sharing an OUT split
 * the work and each reports every run of its job list. Runs that are not in the report (failed,
 * in progress elsewhere, unfinished, not run yet, unreadable) are listed with why.
 */
@Command(
    name = "sweep",
    mixinStandardHelpOptions = true,
    description = {
      "Train one run per (policy, seed) and write OUT/summary.csv, OUT/summary.md and OUT/report.html.",
      "Runs go to OUT/runs/POLICY-sSEED/; finished ones (with summary.json) are skipped on restart.",
      "A run that another lowbit process is training (the same sweep twice, overlapping shards) is skipped at first"
          + " and waited for at the end; the report lists every run it leaves out, with why (failed, in progress,"
          + " not run yet), and the exit code is 1 when a run of this process's share failed.",
      "With no arguments: mlp, 3 epochs, six presets, on the first 10,000/2,000 images (about a minute).",
      "acc12 (and any policy with option accumulator-stages) fine-tunes the sweep's fp32 run of the same seed"
          + " (trained first when missing) for --epochs, and reports its accuracy before and after."
    })
public final class SweepCommand implements Callable<Integer> {

  /** Marks a run that failed (diverged, or could not resume), with the reason. */
  static final String FAILED = "failed.txt";


  private static final Logger LOG = LoggerFactory.getLogger(SweepCommand.class);

  @Mixin BackendOption backend;

  @Spec CommandSpec spec;

  @Option(names = "--model", defaultValue = "mlp", description = "mlp, cnn, resnet or vit (default: ${DEFAULT-VALUE})")
  String model;

  @Option(names = "--policies", defaultValue = "fp32,bf16,fp8,int8,mxfp4,dfp16", split = ",",
      description = "comma-separated presets or policy files (default: ${DEFAULT-VALUE})")
  List<String> policies;

  @Option(names = "--epochs", defaultValue = "3", description = "epochs per run (default: ${DEFAULT-VALUE})")
  int epochs;

  @Option(names = "--seeds", defaultValue = "1", split = ",", description = "comma-separated seeds (default: ${DEFAULT-VALUE})")
  List<Long> seeds;

  @Option(names = "--out", defaultValue = "runs/sweep", description = "output directory (default: ${DEFAULT-VALUE})")
  Path outDir;

  @Option(names = "--shard", description = "k/N: run only jobs k, k+N, k+2N, ... (1-based) of the (policy, seed) list")
  String shard;

  @Option(names = "--data", description = "directory with the four Fashion-MNIST IDX files (default: Debian's, else embedded)")
  Path data;

  @Option(names = "--batch", defaultValue = "128", description = "batch size (default: ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--lr", description = "learning rate (default: the model's, as lowbit train)")
  Double lr;

  @Option(names = "--schedule", description = "learning-rate schedule: constant, step or cosine (default: the model's, as lowbit train)")
  String schedule;

  @Option(names = "--threads", defaultValue = "2", description = "worker threads, 1..1024 (default: ${DEFAULT-VALUE})")
  int threads;

  @Option(names = "--limit-train", defaultValue = "10000", description = "use the first N >= 0 training images, 0: all (default: ${DEFAULT-VALUE})")
  int limitTrain;

  @Option(names = "--limit-test", defaultValue = "2000", description = "use the first N >= 0 test images, 0: all (default: ${DEFAULT-VALUE})")
  int limitTest;

  @Option(names = "--verbose", description = "show each run's training progress on stderr")
  boolean verbose;

  @Option(names = "--strict", description = "a policy rule that matches no layer of the model is an error (default: a warning)")
  boolean strict;

  /**
   * Every flag and policy, checked before anything is loaded, trained or written; returns the jobs.
   * A policy rule that matches no layer of the model is a warning on stderr (an error with --strict).
   */
  private List<Job> validate() throws IOException {
    Checks.model(model);
    Checks.positive("--epochs", epochs);
    Checks.threads(threads);
    Checks.positive("--batch", batch);
    Checks.positiveFinite("--lr", lr);
    Checks.limit("--limit-train", limitTrain);
    Checks.limit("--limit-test", limitTest);
    Checks.outDir("--out", outDir);
    if (seeds.size() != new java.util.HashSet<>(seeds).size()) {
      throw new IllegalArgumentException("--seeds lists a seed twice: " + seeds);
    }
    List<Job> jobs = jobs(); // resolves every policy
    LinkedHashMap<String, Policy> distinct = new LinkedHashMap<>();
    for (Job j : jobs) distinct.putIfAbsent(j.policy().name(), j.policy());
    Checks.policiesFit(List.copyOf(distinct.values()), model, strict, spec.commandLine().getErr());
    return jobs;
  }

  /** One (policy, seed) run. */
  record Job(Policy policy, long seed, Path dir) {}

  @Override
  public Integer call() throws Exception {
    List<Job> jobs = validate(); // every flag and policy, before anything runs
    PrintWriter out = spec.commandLine().getOut();
    int[] kn = parseShard(shard);
    for (Job j : jobs) checkFinishedRunMatches(j);
    Kernels.setThreads(threads);
    Warmup.startInBackground(3000, JitWarmup::round); // compiles the GEMM while the backend and the data load; the first run waits for it
    backend.apply(threads);

    FashionMnist.Splits splits = FashionMnist.load(data);
    Models.checkInputs(model, splits.train(), splits.test()); // before the warm-up trains anything
    Dataset train = limitTrain > 0 ? splits.train().head(limitTrain) : splits.train();
    Dataset test = limitTest > 0 ? splits.test().head(limitTest) : splits.test();
    String source = splits.source() + "; using " + train.size() + " train / " + test.size() + " test";
    out.println("lowbit sweep: model " + model + ", " + jobs.size() + " runs (" + policies.size()
        + " policies x " + seeds.size() + " seeds)" + (kn == null ? "" : ", shard " + kn[0] + "/" + kn[1])
        + ", " + epochs + " epoch(s), data: " + source);
    PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
    PrintStream runLog = verbose ? System.err : quiet;
    boolean anyToRun = false;
    for (int j = 0; j < jobs.size(); j++) {
      if ((kn == null || j % kn[1] == kn[0] - 1) && !Files.isRegularFile(jobs.get(j).dir().resolve("summary.json"))) {
        anyToRun = true;
      }
    }
    if (anyToRun) warmUp(jobs, train, test, quiet);
    int failed = 0;
    // A run held by another process (the same sweep started twice, overlapping shards) is
    // skipped at first, so the processes share the work, and waited for at the end, so that it is
    // in this sweep's report (or trained here, when the other process stopped without finishing it).
    List<Integer> deferred = new ArrayList<>();
    for (int j = 0; j < jobs.size(); j++) {
      if (kn != null && j % kn[1] != kn[0] - 1) continue;
      Job job = jobs.get(j);
      RunLock lock = RunLock.tryAcquire(job.dir());
      if (lock == null) {
        out.println(tag(j, jobs) + ": in use by " + RunLock.holder(job.dir()) + "; coming back to it after the other runs");
        out.flush();
        deferred.add(j);
        continue;
      }
      try (lock) {
        if (!runJob(job, tag(j, jobs), false, train, test, source, runLog, out)) failed++;
      }
    }
    for (int j : deferred) {
      Job job = jobs.get(j);
      String tag = tag(j, jobs);
      try (RunLock lock = RunLock.await(job.dir(), h -> {
        out.println(tag + ": waiting for " + h + " to finish it");
        out.flush();
      })) {
        if (!runJob(job, tag, true, train, test, source, runLog, out)) failed++;
      }
    }
    List<String> missing = new ArrayList<>();
    List<RunResult> runs = readRuns(outDir.resolve("runs"), jobs, kn, missing);
    for (String m : missing) out.println("not in the report: " + m);
    if (runs.isEmpty()) {
      out.flush();
      spec.commandLine().getErr().println("lowbit: error: no finished runs under " + outDir.resolve("runs")
          + "; no report written");
      return 1;
    }
    Report.write(runs, missing, outDir);
    out.println("wrote " + outDir.resolve("summary.csv") + ", " + outDir.resolve("summary.md") + ", "
        + outDir.resolve("report.html") + " (" + runs.size() + " runs)");
    out.println();
    out.print(Files.readString(outDir.resolve("summary.md")));
    out.flush();
    // every run of this process's share must be in the report: a failed or unreadable one fails the sweep
    boolean ownMissing = false;
    for (int j = 0; j < jobs.size(); j++) {
      if ((kn == null || j % kn[1] == kn[0] - 1) && !inReport(runs, jobs.get(j).dir())) {
        ownMissing = true;
      }
    }
    return failed == 0 && !ownMissing ? 0 : 1;
  }

  private static String tag(int j, List<Job> jobs) {
    return String.format("[%d/%d] %s seed %d", j + 1, jobs.size(), jobs.get(j).policy().name(), jobs.get(j).seed());
  }

  private static boolean inReport(List<RunResult> runs, Path dir) {
    Path d = dir.toAbsolutePath().normalize();
    return runs.stream().anyMatch(r -> Path.of(r.source()).toAbsolutePath().normalize().equals(d));
  }

  /**
   * One job, its directory held by this thread: skipped when finished, else trained or resumed
   * (a run killed after its last checkpoint is finished). {@code afterWait}: another process held
   * it until now, so a failure marked meanwhile is that process's attempt, reported, not repeated.
   * Returns false when the run failed.
   */
  private boolean runJob(Job job, String tag, boolean afterWait, Dataset train, Dataset test, String source,
      PrintStream runLog, PrintWriter out) throws IOException {
    if (Files.isRegularFile(job.dir().resolve("summary.json"))) {
      if (!afterWait) {
        out.println(tag + ": done already, skipped");
        return true;
      }
      try {
        checkFinishedRunMatches(job);
      } catch (IllegalArgumentException e) {
        out.println(tag + ": failed: " + e.getMessage());
        return false;
      }
      out.println(tag + ": finished by the other process");
      return true;
    }
    if (afterWait && Files.isRegularFile(job.dir().resolve(FAILED))) {
      out.println(tag + ": failed in the other process: " + Files.readString(job.dir().resolve(FAILED)).strip());
      return false;
    }
    Files.deleteIfExists(job.dir().resolve(FAILED)); // a failed run is retried
    boolean resume = startOver(job.dir());
    TrainConfig cfg = new TrainConfig(model, epochs, batch, lr, job.seed(), threads, job.dir(), data,
        resume ? job.dir() : null, null, schedule, -1, 0, false, limitTrain, limitTest, 50);
    try {
      Path init = FineTune.wantsPretrained(job.policy()) ? pretrained(job.seed(), train, test, source, runLog, out) : null;
      Trainer.Summary s = new Trainer(cfg, job.policy(), runLog, false).init(init).run(train, test, source);
      out.printf("%s: test accuracy %.4f, test loss %.4f, %.1f s%n", tag, s.testAccuracy(), s.testLoss(), s.seconds());
      out.flush();
      return true;
    } catch (IllegalStateException | IllegalArgumentException e) {
      // a diverged run, or one whose directory cannot be resumed, is a result of the sweep, not its
      // end: it is marked failed (and listed as such in the report) and the sweep goes on
      AtomicFiles.writeString(job.dir().resolve(FAILED), e.getMessage() + "\n");
      out.println(tag + ": failed: " + e.getMessage());
      out.flush();
      return false;
    }
  }

  /**
   * Whether the run in {@code dir} (held) resumes from its checkpoint; a run killed before its
   * first checkpoint has only metrics, which are removed so that it starts over.
   */
  private static boolean startOver(Path dir) throws IOException {
    if (Files.isRegularFile(dir.resolve(Trainer.CHECKPOINT))) return true;
    Files.deleteIfExists(dir.resolve("metrics.jsonl"));
    return false;
  }

  /**
   * A finished run is skipped, so it must be the run this sweep would make: one left in OUT by a
   * sweep with other settings (another model, epochs, data limits, batch, lr, schedule or policy text) would
   * otherwise enter the report as if it belonged to this one.
   */
  private void checkFinishedRunMatches(Job job) throws IOException {
    Path summary = job.dir().resolve("summary.json");
    if (!Files.isRegularFile(summary)) return;
    Object tree;
    try {
      tree = Json.parse(Files.readString(summary));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(summary + ": unreadable (" + e.getMessage() + "); remove that run directory to redo it");
    }
    if (!(tree instanceof java.util.Map<?, ?> m) || !(m.get("config") instanceof java.util.Map<?, ?> found)) {
      throw new IllegalArgumentException(summary + ": no \"config\" object; remove that run directory to redo it");
    }
    TrainConfig want = new TrainConfig(model, epochs, batch, lr, job.seed(), threads, job.dir(), data, null, null, schedule,
        -1, 0, false, limitTrain, limitTest, 50);
    LinkedHashMap<String, Object> expected = new LinkedHashMap<>(want.identity());
    expected.put("epochs", epochs);
    expected.put("test_limit", limitTest);
    List<String> diffs = new ArrayList<>();
    expected.forEach((k, v) -> {
      String a = Json.write(found.get(k)), b = Json.write(v);
      if (!a.equals(b)) diffs.add(k + " " + a + " (wanted " + b + ")");
    });
    Object text = m.get("policy_text");
    if (text != null && !text.equals(job.policy().toText())) diffs.add("policy text differs from " + job.policy().name() + "'s");
    if (!diffs.isEmpty()) {
      throw new IllegalArgumentException(job.dir() + " holds a finished run with other settings: " + String.join(", ", diffs)
          + "; use another --out, or remove that run directory to redo it");
    }
  }

  /**
   * The fp32 run of {@code seed} that a fine-tuning policy (acc12) starts from: this sweep's
   * {@code runs/fp32-sSEED}, trained (or resumed) here first when it is not finished. Its settings
   * are the sweep's, so it is the same run the sweep's own fp32 job would make.
   */
  private Path pretrained(long seed, Dataset train, Dataset test, String source, PrintStream runLog, PrintWriter out)
      throws IOException {
    Path dir = outDir.resolve("runs").resolve("fp32-s" + seed);
    if (Files.isRegularFile(dir.resolve("summary.json"))) return dir;
    // shards sharing OUT may both need this run: the first trains it, the others wait for it (its
    // RunLock; the fp32 job of a sweep holds the same one)
    try (RunLock lock = RunLock.await(dir, h -> {
      out.println("fp32 seed " + seed + ": " + h + " is training it; waiting");
      out.flush();
    })) {
      if (Files.isRegularFile(dir.resolve("summary.json"))) return dir;
      out.println("fp32 seed " + seed + ": training the pretrained weights for fine-tuning first");
      Files.deleteIfExists(dir.resolve(FAILED));
      boolean resume = startOver(dir);
      TrainConfig cfg = new TrainConfig(model, epochs, batch, lr, seed, threads, dir, data,
          resume ? dir : null, null, schedule, -1, 0, false, limitTrain, limitTest, 50);
      Trainer.Summary s = new Trainer(cfg, Policy.resolve("fp32", Json::parse), runLog, false).run(train, test, source);
      out.printf("fp32 seed %d: test accuracy %.4f, %.1f s%n", seed, s.testAccuracy(), s.seconds());
      return dir;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while waiting for " + dir);
    }
  }

  /**
   * A few untimed steps of every policy first, so the JIT's warm-up (GEMM and quantizer kernels)
   * is not charged to whichever run meets it first (that would skew the time ratios).
   */
  private void warmUp(List<Job> jobs, Dataset train, Dataset test, PrintStream quiet) throws IOException {
    Path tmp = Files.createTempDirectory("lowbit-sweep-warmup");
    try {
      LinkedHashMap<String, Policy> distinct = new LinkedHashMap<>();
      for (Job j : jobs) distinct.putIfAbsent(j.policy().name(), j.policy());
      for (Policy p : distinct.values()) {
        Path dir = tmp.resolve(p.name());
        TrainConfig cfg = new TrainConfig(model, 1, batch, lr, 0, threads, dir, data, null, null, schedule, -1, 0,
            false, 0, 0, 50);
        try {
          new Trainer(cfg, p, quiet, false).run(train.head(Math.min(train.size(), 3 * batch)),
              test.head(Math.min(test.size(), 100)), "warm-up");
        } catch (DivergedException e) {
          // the warm-up only compiles kernels; the policy's real run meets (and reports) the divergence
          LOG.debug("warm-up of {} diverged: {}", p.name(), e.getMessage());
        }
      }
    } finally {
      try (Stream<Path> s = Files.walk(tmp)) {
        for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
      }
    }
  }

  /** Every (policy, seed) in order, policies outer; two policies with one name are an error. */
  List<Job> jobs() throws IOException {
    if (policies.isEmpty()) throw new IllegalArgumentException("--policies is empty");
    if (seeds.isEmpty()) throw new IllegalArgumentException("--seeds is empty");
    LinkedHashMap<String, Policy> byName = new LinkedHashMap<>();
    for (String p : policies) {
      Policy pol = Policy.resolve(p.strip(), Json::parse);
      if (byName.put(pol.name(), pol) != null) {
        throw new IllegalArgumentException("--policies names policy '" + pol.name() + "' twice");
      }
    }
    List<Job> jobs = new ArrayList<>();
    for (Policy p : byName.values()) {
      for (long s : seeds) jobs.add(new Job(p, s, outDir.resolve("runs").resolve(p.name() + "-s" + s)));
    }
    return jobs;
  }

  /** "k/N" with 1 <= k <= N, or null for no sharding. */
  static int[] parseShard(String s) {
    if (s == null) return null;
    String[] p = s.split("/", -1);
    try {
      if (p.length == 2) {
        int k = Integer.parseInt(p[0].strip()), n = Integer.parseInt(p[1].strip());
        if (n >= 1 && k >= 1 && k <= n) return new int[] {k, n};
      }
    } catch (NumberFormatException e) {
      // fall through to the message below
    }
    throw new IllegalArgumentException("bad --shard '" + s + "'; expected k/N with 1 <= k <= N, e.g. 2/4");
  }

  /**
   * The finished runs under {@code root} (other shards' and the fine-tunes' fp32 runs included),
   * and in {@code missing} a line for every run that is not among them, with why: each job of
   * {@code jobs} without a readable finished run (failed, in progress in another process,
   * unfinished, not run yet) and every other run directory under {@code root} that is unfinished.
   */
  static List<RunResult> readRuns(Path root, List<Job> jobs, int[] kn, List<String> missing) throws IOException {
    List<RunResult> runs = new ArrayList<>();
    LinkedHashMap<Path, String> names = new LinkedHashMap<>();
    for (int j = 0; j < jobs.size(); j++) {
      Job job = jobs.get(j);
      String share = kn == null || j % kn[1] == kn[0] - 1 ? "" : " (another shard's job)";
      names.put(job.dir().toAbsolutePath().normalize(), job.policy().name() + " seed " + job.seed() + share);
    }
    // normalized path -> the path as found (reports name runs by it)
    java.util.TreeMap<Path, Path> dirs = new java.util.TreeMap<>();
    if (Files.isDirectory(root)) {
      try (Stream<Path> s = Files.walk(root, 2)) {
        s.filter(Files::isDirectory).filter(RunReader::isRun).forEach(p -> dirs.put(p.toAbsolutePath().normalize(), p));
      }
    }
    for (Job job : jobs) dirs.putIfAbsent(job.dir().toAbsolutePath().normalize(), job.dir());
    for (var e : dirs.entrySet()) {
      Path d = e.getValue();
      String name = names.getOrDefault(e.getKey(), root.toAbsolutePath().normalize().relativize(e.getKey()).toString());
      String why = null;
      if (Files.isRegularFile(d.resolve(FAILED))) {
        why = "failed: " + Files.readString(d.resolve(FAILED)).strip();
      } else if (RunLock.heldElsewhere(d)) {
        why = "in progress in " + RunLock.holder(d);
      } else if (!Files.isRegularFile(d.resolve("summary.json"))) {
        why = RunReader.isRun(d) ? "unfinished (no summary.json): run the sweep again to continue it" : "not run yet";
      } else {
        try {
          RunResult r = RunReader.read(d, Json::parse);
          runs.add(r);
        } catch (IllegalArgumentException bad) {
          why = "unreadable: " + bad.getMessage();
        }
      }
      if (why != null) {
        LOG.warn("{} is not in the report: {}", d, why);
        missing.add(name + ": " + why);
      }
    }
    return runs;
  }
}
