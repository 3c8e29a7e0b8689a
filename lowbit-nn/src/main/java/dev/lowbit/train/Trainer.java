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
 */
public final class Trainer {

  private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);
  public static final String CHECKPOINT = "checkpoint.safetensors";
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

  private Summary runWithNumerics(Dataset train, Dataset test, String source) throws IOException {
    long t0 = System.nanoTime();
    Module model = Models.create(cfg.model(), cfg.seed(),
        dev.lowbit.nn.Normalization.parse(policy.option("normalization").orElse("l2")));
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
    long total = (long) perEpoch * cfg.epochs();
    LrSchedule schedule = switch (cfg.effectiveSchedule()) {
      case "cosine" -> new LrSchedule.CosineWarmup(cfg.effectiveLr(), Math.min(perEpoch, total), total, 0);
      case "step" -> new LrSchedule.Step(cfg.effectiveLr(), Math.max(1, total / 3), 0.1);
      default -> new LrSchedule.Constant(cfg.effectiveLr());
    };

    int startEpoch = 0;
    if (cfg.resume() != null) startEpoch = resume(model, opt);
    FineTune ft = fineTune = new FineTune(init, policy, cfg.epochs(), perEpoch);
    if (startEpoch == 0 && ft.active()) ft.loadInit(model, cfg.model());
    if (startEpoch >= cfg.epochs()) {
      throw new IllegalArgumentException("checkpoint in " + cfg.resume() + " already has " + startEpoch
          + " epochs; ask for more with --epochs");
    }
    Files.createDirectories(cfg.out()); // only once the inputs are known to be good
    String hdr = "lowbit train: model " + cfg.model() + " (" + model.parameterCount() + " parameters), "
        + opt.describe() + ", schedule " + cfg.effectiveSchedule() + ", batch " + cfg.batch()
        + ", seed " + cfg.seed() + ", threads " + cfg.threads() + ", GEMM " + Kernels.gemm().name()
        + ", convolutions " + convolutions() + ", policy " + policy.name();
    progress.println(hdr);
    progress.println("data: " + source);
    if (startEpoch > 0) progress.println("resuming after epoch " + startEpoch + " from " + cfg.resume());

    Path metrics = cfg.out().resolve("metrics.jsonl");
    boolean append = cfg.resume() != null && cfg.resume().toAbsolutePath().normalize()
        .equals(cfg.out().toAbsolutePath().normalize());
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
          if (!Float.isFinite(l)) {
            throw new IllegalStateException("training diverged: loss " + l + " at epoch " + epoch + " step " + step
                + " (try a smaller --lr)");
          }
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
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
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
    LinkedHashMap<String, Tensor> all = new LinkedHashMap<>(model.stateDict());
    for (var e : opt.stateDict().entrySet()) all.put(OPT_PREFIX + e.getKey(), e.getValue());
    LinkedHashMap<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "lowbit-checkpoint-1");
    meta.put("model", cfg.model());
    meta.put("epoch", Integer.toString(epoch));
    meta.put("step", Long.toString(step));
    meta.put("optimizer_steps", Long.toString(opt.steps()));
    meta.put("identity", Json.write(identity()));
    scaler.save(meta);
    Safetensors.write(cfg.out().resolve(CHECKPOINT), all, meta);
  }

  /** Loads model and optimizer state; returns the number of epochs already done. */
  private int resume(Module model, Optimizer opt) throws IOException {
    Path file = Files.isDirectory(cfg.resume()) ? cfg.resume().resolve(CHECKPOINT) : cfg.resume();
    Safetensors.Contents c = Safetensors.read(file);
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
    LinkedHashMap<String, Tensor> modelState = new LinkedHashMap<>(), optState = new LinkedHashMap<>();
    for (var e : c.tensors().entrySet()) {
      if (e.getKey().startsWith(OPT_PREFIX)) optState.put(e.getKey().substring(OPT_PREFIX.length()), e.getValue());
      else modelState.put(e.getKey(), e.getValue());
    }
    model.loadStateDict(modelState, file.toString());
    opt.loadStateDict(optState, parseLong(meta, "optimizer_steps", file), file.toString());
    scaler.load(meta, file.toString());
    LOG.info("resumed {} at epoch {}", file, meta.get("epoch"));
    return (int) parseLong(meta, "epoch", file);
  }

  private static long parseLong(Map<String, String> meta, String key, Path file) {
    try {
      return Long.parseLong(meta.get(key));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(file + ": metadata '" + key + "' is " + meta.get(key) + ", not an integer");
    }
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
    m.put("cpus", Runtime.getRuntime().availableProcessors());
    AtomicFiles.writeString(cfg.out().resolve("summary.json"), Json.write(m) + "\n");
  }

  /**
   * How fp32 convolutions run: "native" on the backend's direct convolutions (where the policy
   * allows, see Numerics.nativeConvolution) or "im2col" on the GEMM.
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
