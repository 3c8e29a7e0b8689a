package dev.lowbit.train;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.StepArena;
import dev.lowbit.autograd.Tape;
import dev.lowbit.autograd.Var;
import dev.lowbit.data.DataLoader;
import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.io.AtomicFiles;
import dev.lowbit.io.Json;
import dev.lowbit.io.Safetensors;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.kernel.Reduce;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Compute;
import dev.lowbit.nn.Module;
import dev.lowbit.nn.Numerics;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Presets;
import dev.lowbit.tensor.Tensor;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a training job: data, model, optimizer, schedule; per-step and per-epoch metrics to
 * {@code metrics.jsonl}, a checkpoint after every epoch, {@code summary.json} at the end. Resuming
 * from a checkpoint continues bit-identically: data order is keyed by (seed, epoch), dropout by
 * (seed, step), and the checkpoint holds weights, buffers and optimizer state.
 *
 * <p>A numerics {@link Policy} (default {@code fp32}: no rules, plain fp32) is installed in {@link
 * Compute} for the run and in the optimizer, and recorded in {@code summary.json} ({@code policy},
 * {@code policy_text}, {@code bits}, {@code overflows}).
 *
 * <p>Nothing is lost or mixed: the output directory is held by one process for the whole run
 * ({@link RunLock}); a directory that holds a run is only continued, with {@code --resume} of
 * itself; temporary files of a killed write are removed on the next start; a checkpoint of the
 * last epoch without {@code summary.json} (killed in between) is finished on resume; a
 * non-finite loss (any step, or the evaluation) stops the run with a {@link DivergedException};
 * and a checkpoint resumes only on the data it was trained on ({@link DataFingerprint}).
 */
public final class Trainer {

  private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);
  public static final String CHECKPOINT = "checkpoint.safetensors";
  static final String SUMMARY = "summary.json";
  static final String METRICS = "metrics.jsonl";
  static final String OPT_PREFIX = "optimizer/";

  /** The outcome of a run. */
  public record Summary(double testAccuracy, double testLoss, double trainLoss, double seconds,
      double samplesPerSecond, int epochs, long steps, String dataSource) {}

  private final TrainConfig cfg;
  private final Policy policy;
  private final PrintStream progress;
  private final boolean tty;
  private Numerics numerics;
  private LossScaler scaler;
  private Path init;
  private FineTune fineTune;
  private DataFingerprint fingerprint;

  public Trainer(TrainConfig cfg, PrintStream progress, boolean tty) {
    this(cfg, Presets.get("fp32"), progress, tty);
  }

  /** A trainer that applies {@code policy} to every layer's products and the optimizer. */
  public Trainer(TrainConfig cfg, Policy policy, PrintStream progress, boolean tty) {
    this.cfg = cfg;
    this.policy = java.util.Objects.requireNonNull(policy, "policy");
    this.progress = progress;
    this.tty = tty;
  }

  /** Starts from the pretrained weights of a checkpoint with a fresh optimizer (fine-tuning, see {@link FineTune}). */
  public Trainer init(Path pretrained) {
    this.init = pretrained;
    return this;
  }

  public Summary run() throws IOException {
    FashionMnist.Splits data = FashionMnist.load(cfg.data());
    Dataset train = cfg.trainLimit() > 0 ? data.train().head(cfg.trainLimit()) : data.train();
    Dataset test = cfg.testLimit() > 0 ? data.test().head(cfg.testLimit()) : data.test();
    String source = data.source() + (cfg.trainLimit() > 0 || cfg.testLimit() > 0
        ? "; using " + train.size() + " train / " + test.size() + " test" : "");
    return run(train, test, source);
  }

  /** Trains on the given sets (tests pass small ones). */
  public Summary run(Dataset train, Dataset test, String source) throws IOException {
    Models.checkInputs(cfg.model(), train, test); // before anything is built or written
    numerics = new Numerics(policy, cfg.seed());
    Numerics before = Compute.numerics();
    Compute.setNumerics(numerics);
    try {
      return runWithNumerics(train, test, source);
    } finally {
      Compute.setNumerics(before);
    }
  }

  private long warmupWait; // ms spent waiting for the kernels' warm-up before the first epoch

  /**
   * Holds the run directory (see {@link RunLock}) for the whole run; a directory this run created
   * and that holds nothing but the lock when it fails (bad input found after the lock) is removed.
   */
  private Summary runWithNumerics(Dataset train, Dataset test, String source) throws IOException {
    boolean existed = Files.exists(cfg.out());
    RunLock lock = RunLock.acquire(cfg.out());
    boolean ok = false;
    try {
      Summary s = runLocked(train, test, source);
      ok = true;
      return s;
    } finally {
      if (!ok && !existed) removeIfOnlyTheLock(cfg.out());
      lock.close();
    }
  }

  private static void removeIfOnlyTheLock(Path dir) {
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      if (s.allMatch(p -> p.getFileName().toString().equals(RunLock.FILE))) {
        Files.deleteIfExists(dir.resolve(RunLock.FILE));
        Files.deleteIfExists(dir);
      }
    } catch (IOException e) {
      LOG.debug("could not remove {}: {}", dir, e.toString());
    }
  }

  private Summary runLocked(Dataset train, Dataset test, String source) throws IOException {
    long t0 = System.nanoTime();
    // a write killed mid-way (checkpoint, summary, trimmed metrics) leaves its temporary file
    for (String f : new String[] {CHECKPOINT, SUMMARY, METRICS}) {
      int n = AtomicFiles.removeLeftovers(cfg.out().resolve(f));
      if (n > 0) LOG.info("removed {} temporary file(s) of {} left by an interrupted write", n, cfg.out().resolve(f));
    }
    // continuing the run in OUT: --resume OUT, or OUT's checkpoint file
    Path resumeDir = cfg.resume() == null ? null
        : Files.isDirectory(cfg.resume()) ? cfg.resume() : cfg.resume().toAbsolutePath().getParent();
    boolean append = resumeDir != null && resumeDir.toAbsolutePath().normalize()
        .equals(cfg.out().toAbsolutePath().normalize());
    if (!append) refuseToReplaceARun();
    fingerprint = DataFingerprint.of(train);
    Module model = Models.create(cfg.model(), cfg.seed(),
        policy.methods().l1Normalization() ? dev.lowbit.nn.Normalization.L1 : dev.lowbit.nn.Normalization.L2);
    // a rule that cannot apply to this model (a granularity axis beyond a tensor's rank) fails here,
    // naming its file and line, instead of at the first step that meets it
    policy.check(Numerics.sites(model), cfg.model(), false);
    Optimizer opt = cfg.effectiveOptimizer().equals("adamw")
        ? new AdamW(model.namedParameters(), cfg.effectiveLr(), cfg.effectiveWeightDecay())
        : new Sgd(model.namedParameters(), cfg.effectiveLr(), 0.9, 0, cfg.effectiveWeightDecay(), false);
    opt.setNumerics(numerics);
    scaler = LossScaler.of(policy, model.namedParameters().values());
    DataLoader loader = new DataLoader(train, cfg.batch(), true, cfg.seed(), cfg.augment() ? 2 : 0, false);
    int perEpoch = loader.batchesPerEpoch();
    if (cfg.epochs() == 0 && (init == null || cfg.resume() != null)) {
      throw new IllegalArgumentException("--epochs 0 evaluates a checkpoint: it needs --init and no --resume");
    }
    long total = Math.max(1, (long) perEpoch * cfg.epochs()); // 0 epochs (evaluate only): no step uses it
    LrSchedule schedule = switch (cfg.effectiveSchedule()) {
      case "cosine" -> new LrSchedule.CosineWarmup(cfg.effectiveLr(), Math.min(perEpoch, total), total, 0);
      case "step" -> new LrSchedule.Step(cfg.effectiveLr(), Math.max(1, total / 3), 0.1);
      default -> new LrSchedule.Constant(cfg.effectiveLr());
    };

    int startEpoch = 0;
    if (cfg.resume() != null) startEpoch = resume(model, opt);
    FineTune ft = fineTune = new FineTune(init, policy, cfg.epochs(), perEpoch);
    if (startEpoch == 0 && ft.active()) ft.loadInit(model, cfg.model());
    // a run killed after its last checkpoint but before summary.json is finished: evaluated, summarized
    boolean finishOnly = append && startEpoch == cfg.epochs() && !Files.isRegularFile(cfg.out().resolve(SUMMARY));
    if (startEpoch >= cfg.epochs() && !finishOnly && cfg.resume() != null) {
      throw new IllegalArgumentException("checkpoint in " + cfg.resume() + " already has " + startEpoch
          + " epochs; ask for more with --epochs");
    }
    String hdr = "lowbit train: model " + cfg.model() + " (" + model.parameterCount() + " parameters), "
        + opt.describe() + ", schedule " + cfg.effectiveSchedule() + ", batch " + cfg.batch()
        + ", seed " + cfg.seed() + ", threads " + cfg.threads() + ", GEMM " + Kernels.gemm().name()
        + ", convolutions " + convolutions() + ", policy " + policy.name();
    progress.println(hdr);
    progress.println("data: " + source);
    if (finishOnly) {
      progress.println("the checkpoint in " + cfg.resume() + " has all " + startEpoch
          + " epochs but the run has no summary.json (interrupted after its last checkpoint): finishing it");
    } else if (startEpoch > 0) {
      progress.println("resuming after epoch " + startEpoch + " from " + cfg.resume());
    }

    Path metrics = cfg.out().resolve(METRICS);
    if (append && startEpoch > 0) trimMetrics(metrics, startEpoch);
    double lastTestAcc = Double.NaN, lastTestLoss = Double.NaN, lastTrainLoss = Double.NaN;
    double trainSeconds = 0;
    long samples = 0;
    try (BufferedWriter log = Files.newBufferedWriter(metrics, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
        append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      if (!append || startEpoch == 0) {
        LinkedHashMap<String, Object> start = new LinkedHashMap<>();
        start.put("event", "start");
        start.put("config", config());
        start.put("data", source);
        start.put("parameters", model.parameterCount());
        line(log, start);
      }
      if (ft.active()) ft.evaluateBefore(model, test, numerics, startEpoch, metrics, log);
      // the kernels' JIT compilation (Warmup, started by the command) belongs to start-up: the
      // epochs' samples/s measure compiled code; the wait still counts in the run's seconds
      warmupWait = dev.lowbit.kernel.Warmup.await();
      if (warmupWait > 0) progress.println("kernels compiled (waited " + warmupWait + " ms)");
      for (int epoch = startEpoch + 1; epoch <= cfg.epochs(); epoch++) {
        model.train();
        ft.beginEpoch(numerics);
        double lossSum = 0;
        long correct = 0, seen = 0;
        long e0 = System.nanoTime(), w0 = e0;
        long windowSamples = 0;
        for (int bi = 0; bi < perEpoch; bi++) {
          long step = (long) (epoch - 1) * perEpoch + bi;
          opt.setLr(schedule.lr(step));
          DataLoader.Batch batch = loader.batch(epoch, bi);
          model.setStep(step);
          numerics.setStep(step);
          ft.beginStep(opt, numerics, step);
          StepArena.beginStep(); // the previous step's activations and gradients are reused from here
          opt.zeroGrad();
          Var logits = model.forward(Var.constant(batch.x()));
          Var loss = Ops.crossEntropy(logits, batch.labels(), (float) cfg.labelSmoothing());
          scaler.backward(loss);
          if (scaler.unscaleAndUpdate()) opt.step();
          float l = loss.item();
          if (!Float.isFinite(l)) throw diverged(log, epoch, step + 1, "loss " + l);
          int bc = countCorrect(logits.data(), batch.labels(), batch.size(), logits.dim(1));
          lossSum += (double) l * batch.size();
          correct += bc;
          seen += batch.size();
          windowSamples += batch.size();
          if ((bi + 1) % cfg.logEvery() == 0 || bi + 1 == perEpoch) {
            long now = System.nanoTime();
            LinkedHashMap<String, Object> m = new LinkedHashMap<>();
            m.put("event", "step");
            m.put("epoch", epoch);
            m.put("step", step + 1);
            m.put("loss", l);
            m.put("accuracy", (double) bc / batch.size());
            m.put("lr", opt.lr());
            m.put("samples_per_s", windowSamples / ((now - w0) / 1e9));
            scaler.log(m);
            line(log, m);
            w0 = now;
            windowSamples = 0;
          }
          progress(epoch, bi + 1, perEpoch, lossSum / seen, seen / ((System.nanoTime() - e0) / 1e9));
        }
        StepArena.endSteps();
        double secs = (System.nanoTime() - e0) / 1e9;
        trainSeconds += secs;
        samples += seen;
        ft.beforeEval(numerics);
        double[] ev = evaluate(model, test);
        if (!Double.isFinite(ev[0])) {
          throw diverged(log, epoch, (long) epoch * perEpoch, "test loss " + ev[0] + " at the end-of-epoch evaluation");
        }
        lastTestLoss = ev[0];
        lastTestAcc = ev[1];
        lastTrainLoss = lossSum / seen;
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        m.put("event", "epoch");
        m.put("epoch", epoch);
        m.put("step", (long) epoch * perEpoch);
        m.put("train_loss", lastTrainLoss);
        m.put("train_accuracy", (double) correct / seen);
        m.put("test_loss", lastTestLoss);
        m.put("test_accuracy", lastTestAcc);
        m.put("lr", opt.lr());
        m.put("samples_per_s", seen / secs);
        m.put("train_s", secs);
        line(log, m);
        log.flush();
        if (tty) progress.print("\r\033[K");
        progress.printf("epoch %d/%d  train loss %.4f  acc %.4f  test loss %.4f  acc %.4f  %.0f samples/s  %.1f s%n",
            epoch, cfg.epochs(), lastTrainLoss, (double) correct / seen, lastTestLoss, lastTestAcc, seen / secs, secs);
        saveCheckpoint(model, opt, epoch, (long) epoch * perEpoch);
      }
      if (cfg.epochs() == 0) { // evaluate only: the --init weights under the policy, nothing trained or saved
        lastTestAcc = ft.beforeAccuracy();
        lastTestLoss = ft.beforeLoss();
      }
      if (finishOnly) {
        ft.beforeEval(numerics);
        double[] ev = evaluate(model, test);
        if (!Double.isFinite(ev[0])) {
          throw diverged(log, startEpoch, (long) startEpoch * perEpoch, "test loss " + ev[0] + " at the final evaluation");
        }
        lastTestLoss = ev[0];
        lastTestAcc = ev[1];
        // the training figures come from the epochs' lines (the time: their training time, which
        // the killed process spent, plus this finishing run's)
        for (Map<?, ?> m : epochLines(metrics, startEpoch)) {
          if (m.get("epoch") instanceof Number e && e.intValue() == startEpoch && m.get("train_loss") instanceof Number n) {
            lastTrainLoss = n.doubleValue();
          }
          if (m.get("train_s") instanceof Number n && m.get("samples_per_s") instanceof Number r) {
            trainSeconds += n.doubleValue();
            samples += Math.round(n.doubleValue() * r.doubleValue());
          }
        }
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9 + (finishOnly ? trainSeconds : 0);
    Summary s = new Summary(lastTestAcc, lastTestLoss, lastTrainLoss, seconds,
        trainSeconds > 0 ? samples / trainSeconds : 0, cfg.epochs(), (long) cfg.epochs() * perEpoch, source);
    writeSummary(s, model);
    return s;
  }

  private void progress(int epoch, int done, int total, double loss, double sps) {
    if (tty) {
      int width = 30, fill = (int) ((long) done * width / total);
      progress.printf("\repoch %d/%d [%s%s] %d/%d loss %.4f %.0f samples/s", epoch, cfg.epochs(),
          "=".repeat(fill), " ".repeat(width - fill), done, total, loss, sps);
      progress.flush();
    } else if (done % Math.max(1, total / 4) == 0 && done != total) {
      progress.printf("epoch %d/%d  step %d/%d  loss %.4f  %.0f samples/s%n", epoch, cfg.epochs(), done, total, loss, sps);
    }
  }

  static int countCorrect(float[] logits, int[] labels, int n, int classes) {
    int c = 0;
    for (int i = 0; i < n; i++) if (Reduce.argmax(logits, i * classes, classes) == labels[i]) c++;
    return c;
  }

  /**
   * Evaluation batch: large enough to keep the GEMMs efficient, small enough that the CNN's
   * im2col scratch stays small (1000 needed about 300 MB more heap than training itself).
   */
  static final int EVAL_BATCH = 128;

  /** Mean loss and accuracy on a data set, in evaluation mode, without recording a tape. */
  public static double[] evaluate(Module model, Dataset test) {
    model.eval();
    DataLoader dl = new DataLoader(test, EVAL_BATCH, false, 0);
    double loss = 0;
    long correct = 0;
    for (int bi = 0; bi < dl.batchesPerEpoch(); bi++) {
      DataLoader.Batch b = dl.batch(0, bi);
      double[] r = Tape.noGrad(() -> {
        Var logits = model.forward(Var.constant(b.x()));
        float l = Ops.crossEntropy(logits, b.labels(), 0f).item();
        return new double[] {l, countCorrect(logits.data(), b.labels(), b.size(), logits.dim(1))};
      });
      loss += r[0] * b.size();
      correct += (long) r[1];
    }
    model.train();
    return new double[] {loss / test.size(), (double) correct / test.size()};
  }

  private void saveCheckpoint(Module model, Optimizer opt, int epoch, long step) throws IOException {
    LinkedHashMap<String, Tensor> all = checkpointState(model, opt);
    LinkedHashMap<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "lowbit-checkpoint-1");
    meta.put("model", cfg.model());
    meta.put("epoch", Integer.toString(epoch));
    meta.put("step", Long.toString(step));
    meta.put("optimizer_steps", Long.toString(opt.steps()));
    meta.put("identity", Json.write(identity()));
    meta.put(DataFingerprint.HASH_KEY, fingerprint.hash());
    meta.put(DataFingerprint.DESCRIPTION_KEY, fingerprint.description());
    scaler.save(meta);
    Safetensors.write(cfg.out().resolve(CHECKPOINT), all, meta);
  }

  /** What a checkpoint holds: the model's state, then the optimizer's under {@link #OPT_PREFIX}. */
  private static LinkedHashMap<String, Tensor> checkpointState(Module model, Optimizer opt) {
    LinkedHashMap<String, Tensor> all = new LinkedHashMap<>(model.stateDict());
    for (var e : opt.stateDict().entrySet()) all.put(OPT_PREFIX + e.getKey(), e.getValue());
    return all;
  }

  /**
   * Loads model and optimizer state; returns the number of epochs already done. The header is
   * validated and its metadata checked before any tensor is read, and only this run's tensors are.
   */
  private int resume(Module model, Optimizer opt) throws IOException {
    Path file = Files.isDirectory(cfg.resume()) ? cfg.resume().resolve(CHECKPOINT) : cfg.resume();
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("--resume " + cfg.resume() + ": no checkpoint (expected a run directory with "
          + CHECKPOINT + " or a .safetensors file)");
    }
    Safetensors.Header c = Safetensors.header(file);
    Map<String, String> meta = c.metadata();
    if (!"lowbit-checkpoint-1".equals(meta.get("format"))) {
      throw new IllegalArgumentException(file + ": not a lowbit training checkpoint (metadata 'format' is "
          + meta.get("format") + ")");
    }
    if (!cfg.model().equals(meta.get("model"))) {
      throw new IllegalArgumentException(file + ": checkpoint is for model '" + meta.get("model")
          + "', not '" + cfg.model() + "'");
    }
    String want = Json.write(identity());
    if (!want.equals(meta.get("identity"))) {
      throw new IllegalArgumentException(file + ": checkpoint settings " + meta.get("identity")
          + " differ from this run's " + want + "; resume with the same settings");
    }
    checkData(meta, file);
    LinkedHashMap<String, Tensor> modelState = new LinkedHashMap<>(), optState = new LinkedHashMap<>();
    int epoch = CheckpointMetadata.epoch(meta, file, cfg.epochs());
    for (var e : c.read(checkpointState(model, opt), name -> false).tensors().entrySet()) {
      if (e.getKey().startsWith(OPT_PREFIX)) optState.put(e.getKey().substring(OPT_PREFIX.length()), e.getValue());
      else modelState.put(e.getKey(), e.getValue());
    }
    model.loadStateDict(modelState, file.toString());
    opt.loadStateDict(optState, CheckpointMetadata.count(meta, "optimizer_steps", file), file.toString());
    scaler.load(meta, file.toString());
    LOG.info("resumed {} at epoch {}", file, epoch);
    return epoch;
  }

  /** A checkpoint continues only on the data it was trained on; one written before fingerprints were kept gets a warning. */
  private void checkData(Map<String, String> meta, Path file) {
    String had = meta.get(DataFingerprint.HASH_KEY);
    if (had == null) {
      progress.println("warning: " + file + " records no data fingerprint (written by an older lowbit);"
          + " cannot check that it was trained on this run's data (" + fingerprint.description() + ")");
      return;
    }
    if (!had.equals(fingerprint.hash())) {
      throw new IllegalArgumentException(file + ": checkpoint was trained on data " + had + " ("
          + meta.getOrDefault(DataFingerprint.DESCRIPTION_KEY, "no description") + "), this run's data is "
          + fingerprint.hash() + " (" + fingerprint.description() + "); resume on the same data (--data, --limit-train)");
    }
  }

  /**
   * Stops the run: writes a "diverged" line to metrics.jsonl (the last checkpoint stays the one
   * of the epoch before) and returns the exception to throw.
   */
  private static DivergedException diverged(BufferedWriter log, int epoch, long step, String what) throws IOException {
    DivergedException e = new DivergedException(epoch, step, what);
    LinkedHashMap<String, Object> m = new LinkedHashMap<>();
    m.put("event", "diverged");
    m.put("epoch", epoch);
    m.put("step", step);
    m.put("message", e.getMessage());
    line(log, m);
    log.flush();
    return e;
  }

  /**
   * A directory that already holds a run (a summary or a checkpoint) is only continued with
   * {@code --resume} of itself: training into it afresh would replace its metrics while the old
   * summary and checkpoint stay, and an error after the start would leave the mix behind. Metrics
   * alone (a run stopped before its first checkpoint: nothing to resume) are started over.
   */
  private void refuseToReplaceARun() {
    for (String f : new String[] {SUMMARY, CHECKPOINT}) {
      if (Files.exists(cfg.out().resolve(f))) {
        throw new IllegalArgumentException(cfg.out() + " already holds a run (" + f + "); use --resume " + cfg.out()
            + " to continue it, or another --out (or remove it to start over)");
      }
    }
  }

  /** The "epoch" lines of epochs 1 to {@code last} in metrics.jsonl, the latest of each (a resumed run may repeat one). */
  private static java.util.Collection<Map<?, ?>> epochLines(Path metrics, int last) throws IOException {
    java.util.TreeMap<Integer, Map<?, ?>> found = new java.util.TreeMap<>();
    if (!Files.isRegularFile(metrics)) return found.values();
    for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
      try {
        if (Json.parse(line) instanceof Map<?, ?> m && "epoch".equals(m.get("event"))
            && m.get("epoch") instanceof Number n && n.intValue() >= 1 && n.intValue() <= last) {
          found.put(n.intValue(), m);
        }
      } catch (RuntimeException torn) {
        break;
      }
    }
    return found.values();
  }

  private void writeSummary(Summary s, Module model) throws IOException {
    LinkedHashMap<String, Object> m = new LinkedHashMap<>();
    m.put("model", cfg.model());
    m.put("test_accuracy", s.testAccuracy());
    m.put("test_loss", s.testLoss());
    m.put("train_loss", s.trainLoss());
    m.put("epochs", s.epochs());
    m.put("steps", s.steps());
    m.put("seconds", s.seconds());
    m.put("train_samples_per_s", s.samplesPerSecond());
    m.put("parameters", model.parameterCount());
    m.put("data", s.dataSource());
    m.put("config", config());
    m.put("policy", policy.name());
    m.put("policy_text", policy.toText());
    Policy.Bits bits = policy.bits();
    LinkedHashMap<String, Object> b = new LinkedHashMap<>();
    b.put("weight", bits.weight());
    b.put("activation", bits.activation());
    b.put("gradient", bits.gradient());
    m.put("bits", b);
    LinkedHashMap<String, Object> overflows = new LinkedHashMap<>();
    if (numerics.integerGemms() > 0) overflows.put("int32_accumulator", numerics.int32Overflows());
    overflows.putAll(numerics.emulated().summaryCounts());
    m.put("overflows", overflows);
    fineTune.summarize(m, numerics);
    m.put("integer_gemms", numerics.integerGemms());
    m.put("quantized_tensors", numerics.quantizedTensors());
    scaler.log(m);
    m.put("jdk", Runtime.version().toString());
    m.put("vm", System.getProperty("java.vm.name"));
    m.put("vector_bits", vectorBits());
    m.put("gemm", Kernels.gemm().name());
    m.put("warmup_wait_s", warmupWait / 1e3);
    m.put("convolutions", convolutions());
    m.put("plan", numerics.plans());
    m.put("energy_estimate", energyEstimate());
    if (!numerics.unpackStats().rows().isEmpty()) { // IM-Unpack's cost: b-bit multiply-adds over the original ones
      LinkedHashMap<String, Object> u = new LinkedHashMap<>();
      u.put("bits", numerics.policy().methods().unpackBits());
      u.put("ratio", numerics.unpackStats().ratio());
      u.put("products", numerics.unpackStats().rows());
      m.put("unpack", u);
    }
    m.put("cpus", Runtime.getRuntime().availableProcessors());
    m.put("settings", Kernels.settings().nonDefaults()); // the -Dlowbit.* settings not at their default
    AtomicFiles.writeString(cfg.out().resolve(SUMMARY), Json.write(m) + "\n");
  }

  /**
   * The estimated arithmetic energy of this run's model and policy at its batch size ({@link
   * Plans#energy}, {@link dev.lowbit.numerics.Energy.Estimate#row}), counted on a fresh copy of the
   * model after training, so that nothing of the run (its weights, normalisation statistics,
   * gradients, numerics counters) is touched. Null, with a warning, when the counting pass fails:
   * the estimate is a side figure and must not cost the run its summary.
   */
  private Map<String, Object> energyEstimate() {
    try {
      Module fresh = Models.create(cfg.model(), cfg.seed(),
          policy.methods().l1Normalization() ? dev.lowbit.nn.Normalization.L1 : dev.lowbit.nn.Normalization.L2);
      return Plans.energy(fresh, policy, cfg.batch(), Models.inputShape(cfg.model()), cfg.seed()).row();
    } catch (RuntimeException e) {
      LOG.warn("no energy estimate for {}: {}", cfg.out(), e.toString());
      return null;
    }
  }

  /**
   * How fp32 convolutions run: "native" on the backend's direct convolutions (where the policy
   * allows, see ConvEngines.nativeConvolution) or "im2col" on the GEMM.
   */
  private static String convolutions() {
    return Kernels.floatKernels() != null ? "native where the policy allows, else im2col" : "im2col";
  }

  /**
   * Before a resume appends to {@code metrics.jsonl}, cuts it back to the end of the checkpoint's
   * epoch: a run killed mid-epoch leaves that epoch's step lines and perhaps half a line, which
   * would otherwise be duplicated or glued to the next line. Rewritten atomically.
   */
  static void trimMetrics(Path metrics, int startEpoch) throws IOException {
    if (!Files.isRegularFile(metrics)) return;
    java.util.List<String> lines = Files.readAllLines(metrics, StandardCharsets.UTF_8);
    int keep = 0;
    for (int i = 0; i < lines.size(); i++) {
      Object o;
      try {
        o = Json.parse(lines.get(i));
      } catch (RuntimeException e) {
        break; // a torn line: nothing after it can be trusted
      }
      if (o instanceof Map<?, ?> m && "start".equals(m.get("event"))) keep = Math.max(keep, i + 1);
      if (o instanceof Map<?, ?> m && "epoch".equals(m.get("event"))
          && m.get("epoch") instanceof Number n && n.intValue() <= startEpoch) {
        keep = i + 1;
      }
    }
    if (keep == lines.size()) return;
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < keep; i++) sb.append(lines.get(i)).append('\n');
    AtomicFiles.writeString(metrics, sb.toString());
  }

  /** The run's config with the policy name, for metrics.jsonl and summary.json. */
  private Map<String, Object> config() {
    LinkedHashMap<String, Object> m = new LinkedHashMap<>(cfg.toMap());
    m.put("policy", policy.name());
    return m;
  }

  /** What must match to resume: the config's identity, and the policy when it has rules (fp32 has none). */
  private Map<String, Object> identity() {
    LinkedHashMap<String, Object> m = new LinkedHashMap<>(cfg.identity());
    if (!policy.rules().isEmpty() || !policy.options().isEmpty()) m.put("policy", policy.toText());
    return m;
  }

  static int vectorBits() {
    try {
      return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize();
    } catch (Throwable t) {
      return 0;
    }
  }

  private static void line(BufferedWriter w, Map<String, Object> m) throws IOException {
    w.write(Json.write(m));
    w.newLine();
  }
}
