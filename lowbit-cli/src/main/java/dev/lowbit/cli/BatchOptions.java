package dev.lowbit.cli;

import picocli.CommandLine.Option;

/**
 * {@code --batch} and {@code --threads} of the commands that classify images in batches ({@code
 * infer}, {@code bench infer}). Include with {@code @Mixin BatchOptions run;}.
 */
final class BatchOptions {

  @Option(names = "--batch", paramLabel = "B", defaultValue = "128", description = "images per batch, > 0 (default: ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--threads", paramLabel = "T", defaultValue = "2", description = "worker threads, 1..1024 (default: ${DEFAULT-VALUE})")
  int threads;

  /** The flags' checks, before anything is loaded. */
  void validate() {
    Checks.positive("--batch", batch);
    Checks.threads(threads);
  }
}
