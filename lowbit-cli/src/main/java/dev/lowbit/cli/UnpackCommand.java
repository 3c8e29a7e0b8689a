package dev.lowbit.cli;

import dev.lowbit.data.DataLoader;
import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.io.Json;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Module;
import dev.lowbit.numerics.Policy;
import dev.lowbit.train.FineTune;
import dev.lowbit.train.TrainConfig;
import dev.lowbit.train.Trainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lowbit unpack}: how much extra work IM-Unpack (Zeng, Sankaralingam, Singh, ICML 2024)
 * needs to run every product of a model's training step exactly on b-bit GEMMs.
 */
@Command(
    name = "unpack",
    mixinStandardHelpOptions = true,
    description = {
      "IM-Unpack analysis of a model's products: how much larger b-bit GEMMs get when they must give the exact"
          + " integer product.",
      "Trains the model briefly (--train-steps, fp32; the checkpoint is kept as OUT/checkpoint.safetensors) or loads"
          + " --checkpoint, then records one training step on one batch (--batch images of the training set):"
          + " the two operands of every forward, backward-data and backward-weight product of every linear,"
          + " convolution (as im2col GEMMs) and attention product.",
      "Each operand is RTN-quantized once per tensor (percentile --beta, --distinct values, no clipping); the same"
          + " integers are then unpacked at every b of --bits. Per product and b: the heavy-hitter fraction of A and B"
          + " (|x| >= 2^(b-1)), the unpack ratio (MACs of the b-bit GEMMs over the product's) of the row, column and"
          + " greedy both strategies, and the one the chooser picks (the smallest ratio).",
      "Writes OUT/unpack.csv, OUT/unpack-ratio.png (ratio vs b, MAC-weighted over all products) and OUT/index.html."
    })
public final class UnpackCommand implements Callable<Integer> {

  /** The batch size of the brief training (the training default). */
  static final int TRAIN_BATCH = 128;
  /** Test images the brief training evaluates on (its accuracy is printed). */
  static final int TRAIN_TEST_IMAGES = 500;

  @Mixin BackendOption backend;

  @Option(names = "--model", defaultValue = "mlp", description = "mlp, cnn, resnet or vit (default: ${DEFAULT-VALUE})")
  String model;

  @Option(names = "--bits", defaultValue = "2..8", paramLabel = "A..B|B|B1,B2,...",
      description = "the GEMMs' signed bit widths b, each 2..8: a range, one value or a comma list (default: ${DEFAULT-VALUE})")
  String bits;

  @Option(names = "--beta", defaultValue = "0.95",
      description = "RTN percentile β in (0, 1]: the scale maps the β-quantile of |x| to the grid's edge (default: ${DEFAULT-VALUE})")
  double beta;

  @Option(names = "--distinct", defaultValue = "15", paramLabel = "D",
      description = "distinct values D of the RTN grid, 1..16777216 (2^b - 1 matches signed b bits; the quantization is"
          + " fixed by D and then unpacked at every b of --bits) (default: ${DEFAULT-VALUE})")
  int distinct;

  @Option(names = "--checkpoint", paramLabel = "FILE",
      description = "load the model weights from this checkpoint of lowbit train (.safetensors or its run directory)"
          + " instead of training")
  Path checkpoint;

  @Option(names = "--train-steps", defaultValue = "100",
      description = "steps of the brief fp32 training (batch " + TRAIN_BATCH + ") when there is no --checkpoint"
          + " (default: ${DEFAULT-VALUE})")
  int trainSteps;

  @Option(names = "--batch", defaultValue = "32", description = "images in the captured batch (default: ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--data", description = "directory with the four Fashion-MNIST IDX files (default: Debian's, else embedded)")
  Path data;

  @Option(names = "--seed", defaultValue = "0",
      description = "seed for initialisation, shuffling and the captured batch (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--threads", defaultValue = "2", description = "worker threads, 1..1024 (default: ${DEFAULT-VALUE})")
  int threads;

  @Option(names = "--out", description = "output directory (default: runs/unpack-MODEL)")
  Path out;

  @Spec CommandSpec spec;

  /** Every flag, checked before anything is loaded or written; returns the bit widths. */
  private int[] validate() {
    Checks.model(model);
    int[] b = parseBits(bits);
    if (!(beta > 0 && beta <= 1)) throw new IllegalArgumentException("--beta must be in (0, 1], got " + beta);
    if (distinct < 1 || distinct > 1 << 24) {
      throw new IllegalArgumentException("--distinct must be 1..16777216, got " + distinct);
    }
    Checks.positive("--batch", batch);
    if (checkpoint == null) Checks.positive("--train-steps", trainSteps);
    Checks.threads(threads);
    if (out == null) out = Path.of("runs", "unpack-" + model);
    Checks.outDir("--out", out);
    if (checkpoint != null && !Files.exists(checkpoint)) {
      throw new IllegalArgumentException("--checkpoint " + checkpoint + ": no such file or directory");
    }
    return b;
  }

  /** "A..B", "B" or "B1,B2,...", each 2..8: the bit widths, ascending, each once. */
  static int[] parseBits(String s) {
    TreeSet<Integer> set = new TreeSet<>();
    String t = s == null ? "" : s.strip();
    try {
      if (t.contains("..")) {
        String[] p = t.split("\\.\\.", -1);
        if (p.length != 2) throw new NumberFormatException();
        int lo = Integer.parseInt(p[0].strip()), hi = Integer.parseInt(p[1].strip());
        if (lo > hi) throw new IllegalArgumentException("--bits " + s + ": the range is empty (" + lo + " > " + hi + ")");
        for (int v = lo; v <= hi; v++) set.add(v);
      } else {
        for (String v : t.split(",", -1)) set.add(Integer.parseInt(v.strip()));
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad --bits '" + s + "'; expected a range A..B, one value or a comma list, e.g. 2..8");
    }
    for (int v : set) {
      if (v < 2 || v > 8) {
        throw new IllegalArgumentException("--bits " + s + ": bit width " + v + " is outside 2..8 (signed b-bit GEMMs)");
      }
    }
    return set.stream().mapToInt(Integer::intValue).toArray();
  }

  @Override
  public Integer call() throws Exception {
    int[] bitWidths = validate();
    Kernels.setThreads(threads);
    backend.apply(threads);
    PrintWriter stdout = Main.out(spec);
    PrintWriter err = spec.commandLine().getErr();
    boolean tty = System.console() != null && System.console().isTerminal();
    Module m = Models.create(model, seed);
    if (checkpoint != null) FineTune.loadWeights("--checkpoint", checkpoint, m, model); // before the data: fail fast
    FashionMnist.Splits splits = FashionMnist.load(data);
    Models.checkInputs(model, splits.train(), splits.test());
    Files.createDirectories(out);
    String weights;
    if (checkpoint == null) {
      Trainer.Summary s = train(splits, tty);
      Path ckpt = out.resolve(Trainer.CHECKPOINT);
      FineTune.loadWeights("--checkpoint", ckpt, m, model);
      weights = String.format(java.util.Locale.ROOT, "trained %d steps, test accuracy %.4f on %d images; saved as %s",
          trainSteps, s.testAccuracy(), Math.min(TRAIN_TEST_IMAGES, splits.test().size()), ckpt);
    } else {
      weights = "weights from " + checkpoint;
    }
    Dataset train = splits.train();
    DataLoader.Batch one = new DataLoader(train, Math.min(batch, train.size()), true, seed).batch(1, 0);
    List<ProductCapture.Captured> products = ProductCapture.step(m, one);
    long macs = products.stream().mapToLong(ProductCapture.Captured::macs).sum();
    String setup = String.format(java.util.Locale.ROOT, "Batch of %d, RTN per tensor with β = %s and D = %d,"
        + " bits %s: %d products, %d MACs.", one.size(), beta, distinct, bits.strip(), products.size(), macs);
    stdout.println("lowbit unpack: model " + model + " (" + weights + ")");
    stdout.println(setup);
    stdout.flush();

    List<UnpackAnalysis.Row> rows = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    for (int i = 0; i < products.size(); i++) {
      ProductCapture.Captured p = products.get(i);
      progress(err, tty, i, products.size(), p);
      if (!UnpackAnalysis.bothRuns(p, UnpackAnalysis.BOTH_MAX_ENTRIES)) skipped.add(p.layer() + " " + p.product());
      rows.addAll(UnpackAnalysis.analyze(UnpackAnalysis.quantize(p, beta, distinct), bitWidths,
          UnpackAnalysis.BOTH_MAX_ENTRIES));
    }
    if (tty) err.print("\r\033[K");
    err.flush();
    String note = skipped.isEmpty() ? "" : "Greedy both not run on " + String.join(", ", skipped) + ": more than "
        + UnpackAnalysis.BOTH_MAX_ENTRIES + " operand entries per GEMM; the chooser picks among row and column there.";
    stdout.print(UnpackReport.table(rows));
    if (!note.isEmpty()) stdout.println(note);
    stdout.println("MAC-weighted unpack ratio of the chooser's picks: " + UnpackReport.summary(rows, bitWidths));
    UnpackReport.write(out, new UnpackReport.Context(model, weights, setup, note), rows, bitWidths);
    stdout.println("wrote " + out.resolve(UnpackReport.CSV) + ", " + out.resolve(UnpackReport.PNG) + ", "
        + out.resolve(UnpackReport.HTML));
    stdout.flush();
    return 0;
  }

  /**
   * The brief fp32 training, in a temporary run directory inside OUT whose checkpoint then
   * replaces OUT/checkpoint.safetensors in one rename; the directory is removed afterwards.
   */
  private Trainer.Summary train(FashionMnist.Splits splits, boolean tty) throws IOException {
    Path tmp = Files.createTempDirectory(out, ".train-");
    try {
      TrainConfig cfg = new TrainConfig(model, 1, TRAIN_BATCH, null, seed, threads, tmp, data, null, null, null, -1, 0,
          false, 0, 0, 50);
      Dataset train = splits.train().head((int) Math.min(splits.train().size(), (long) trainSteps * TRAIN_BATCH));
      Dataset test = splits.test().head(Math.min(splits.test().size(), TRAIN_TEST_IMAGES));
      Trainer.Summary s = new Trainer(cfg, Policy.resolve("fp32", Json::parse), System.err, tty)
          .run(train, test, splits.source());
      Files.move(tmp.resolve(Trainer.CHECKPOINT), out.resolve(Trainer.CHECKPOINT),
          StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return s;
    } finally {
      try (Stream<Path> s = Files.walk(tmp)) {
        for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
      }
    }
  }

  /** A bar redrawn in place on a terminal; elsewhere a line at every quarter. */
  private static void progress(PrintWriter err, boolean tty, int done, int total, ProductCapture.Captured p) {
    String what = p.layer() + " " + p.product() + " " + p.m() + "×" + p.k() + "×" + p.n()
        + (p.calls() > 1 ? " (×" + p.calls() + ")" : "");
    if (tty) {
      int width = 30, fill = done * width / total;
      err.print("\r\033[Kunpack [" + "=".repeat(fill) + " ".repeat(width - fill) + "] " + (done + 1) + "/" + total
          + " " + what);
      err.flush();
    } else if (done % Math.max(1, total / 4) == 0) {
      err.println("unpack: product " + (done + 1) + "/" + total + " " + what);
      err.flush();
    }
  }
}
