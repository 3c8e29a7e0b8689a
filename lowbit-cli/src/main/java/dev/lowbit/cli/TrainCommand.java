package dev.lowbit.cli;

import dev.lowbit.io.Json;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.kernel.Warmup;
import dev.lowbit.train.JitWarmup;
import dev.lowbit.numerics.Policy;

import dev.lowbit.train.TrainConfig;
import dev.lowbit.train.Trainer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lowbit train}: trains a model on Fashion-MNIST in FP32 or under a numerics policy. */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = {
      "Train a model on Fashion-MNIST (FP32, or the numerics of --policy).",
      "Data: --data DIR, else /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist),"
          + " else the 2,000/500-image subset embedded in the jar.",
      "Writes OUT/metrics.jsonl, OUT/summary.json and OUT/checkpoint.safetensors (after every epoch).",
      "OUT belongs to one lowbit process while it trains (OUT/.lock; another one stops with an error), and an OUT"
          + " that already holds a run is only continued, with --resume OUT (a run killed after its last checkpoint"
          + " is then finished).",
      "A loss that becomes NaN or infinite (any step, or the test loss) stops the run with one error line, exit code 1."
    })
public final class TrainCommand implements Callable<Integer> {

  @Mixin BackendOption backend;

  @Option(names = "--model", defaultValue = "mlp", description = "mlp, cnn, resnet or vit (default: ${DEFAULT-VALUE})")
  String model;

  @Option(names = "--epochs", defaultValue = "1", description = "total epochs, counting resumed ones; 0 with --init:"
      + " evaluate the checkpoint under --policy only (summary.json, no training, no checkpoint) (default: ${DEFAULT-VALUE})")
  int epochs;

  @Option(names = "--batch", defaultValue = "128", description = "batch size (default: ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--lr", description = "learning rate (default: 0.05 for sgd, 1e-3 for adamw)")
  Double lr;

  @Option(names = "--seed", defaultValue = "0", description = "seed for initialisation, shuffling, dropout (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--threads", defaultValue = "2", description = "worker threads, 1..1024 (default: ${DEFAULT-VALUE})")
  int threads;

  @Option(names = "--out", required = true, description = "output directory")
  Path out;

  @Option(names = "--data", description = "directory with the four Fashion-MNIST IDX files (.gz or raw)")
  Path data;

  @Option(names = "--resume", description = "directory (or file) of a checkpoint to continue from; it must have been"
      + " trained on the same data (the checkpoint keeps a fingerprint of the training set)")
  Path resume;

  @Option(names = "--init", description = {
      "fine-tune: start from the model weights of this checkpoint (run directory or .safetensors) with a fresh"
          + " optimizer; the test set is first evaluated under --policy (accuracy_before_finetune). The rate is"
          + " 0.1x --lr, then 0.01x in stage 2 of a two-stage policy (acc12: underflow off for the first"
          + " E - max(1, round(E/4)) epochs, then on; see README)"})
  Path init;

  @Option(names = "--opt", description = "sgd (momentum 0.9) or adamw (default: sgd; adamw for vit)")
  String optimizer;

  @Option(names = "--schedule", description = "constant, step or cosine (warmup 1 epoch) (default: constant; cosine for vit)")
  String schedule;

  @Option(names = "--weight-decay", description = "weight decay, >= 0 (default: 0 for sgd, 0.05 for adamw)")
  Double weightDecay;

  @Option(names = "--label-smoothing", defaultValue = "0", description = "cross-entropy label smoothing, in [0, 1) (default: ${DEFAULT-VALUE})")
  double labelSmoothing;

  @Option(names = "--augment", description = "random crop (pad 2) augmentation")
  boolean augment;

  @Option(names = "--limit-train", defaultValue = "0", description = "use only the first N >= 0 training images (0: all)")
  int limitTrain;

  @Option(names = "--limit-test", defaultValue = "0", description = "use only the first N >= 0 test images (0: all)")
  int limitTest;

  @Option(names = "--policy", defaultValue = "fp32",
      description = "numerics policy: a preset (fp32, bf16, fp16, fp8, mxfp8, mxfp6, mxfp4, int8, dfp16, shiftquant4, shiftquant8, acc12; see README) or a policy file (.policy text or .json) (default: ${DEFAULT-VALUE})")
  String policy;

  @Option(names = "--log-every", defaultValue = "50", description = "steps between metrics lines (default: ${DEFAULT-VALUE})")
  int logEvery;

  @Option(names = "--strict", description = "a policy rule that matches no layer of the model is an error (default: a warning)")
  boolean strict;

  @Spec CommandSpec spec;

  /**
   * Every flag and the policy, checked before anything is loaded or written; returns the policy.
   * A policy rule that matches no layer is a warning on stderr (an error with --strict).
   */
  private Policy validate() throws java.io.IOException {
    Checks.model(model);
    if (epochs == 0 && init == null) {
      throw new IllegalArgumentException("--epochs 0 evaluates a checkpoint and needs --init CKPT");
    }
    if (epochs != 0 || resume != null) Checks.positive("--epochs", epochs);
    Checks.positive("--batch", batch);
    Checks.positiveFinite("--lr", lr);
    Checks.threads(threads);
    Checks.nonNegativeFinite("--weight-decay", weightDecay);
    Checks.fraction("--label-smoothing", labelSmoothing);
    Checks.limit("--limit-train", limitTrain);
    Checks.limit("--limit-test", limitTest);
    Checks.positive("--log-every", logEvery);
    Checks.outDir("--out", out);
    Policy pol = Policy.resolve(policy, Json::parse);
    Checks.policiesFit(java.util.List.of(pol), model, strict, spec.commandLine().getErr());
    return pol;
  }

  @Override
  public Integer call() throws Exception {
    Policy pol = validate();
    Kernels.setThreads(threads); // before the backend, which wraps the Java GEMM as its fallback
    Warmup.startInBackground(3000, JitWarmup::round); // compiles the GEMM while the backend and the data load
    backend.apply(threads);
    TrainConfig cfg = new TrainConfig(model, epochs, batch, lr, seed, threads, out, data, resume, optimizer,
        schedule, weightDecay == null ? -1 : weightDecay, labelSmoothing, augment, limitTrain, limitTest, logEvery);
    boolean tty = System.console() != null && System.console().isTerminal();
    Trainer.Summary s = new Trainer(cfg, pol, System.err, tty).init(init).run();
    System.out.printf("test accuracy %.4f after %d epochs (%.1f s, %.0f training samples/s); wrote %s%n",
        s.testAccuracy(), s.epochs(), s.seconds(), s.samplesPerSecond(), out);
    return 0;
  }
}
