package dev.lowbit.cli;

import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import picocli.CommandLine.Option;

/**
 * {@code --backend java|onednn|auto} for every command that computes: include it with
 * {@code @Mixin BackendOption backend;} and call {@link #apply()} first thing in the command's
 * {@code run()/call()}, so that {@code --help} and parse errors load no natives. "auto" (the
 * default) takes oneDNN when its natives load here and says which backend runs and why.
 */
public final class BackendOption {

  /** The choices; picocli rejects anything else with the list of valid values. */
  public enum Backend {
    java,
    onednn,
    auto
  }

  @Option(
      names = "--backend",
      defaultValue = "auto",
      paramLabel = "java|onednn|auto",
      description = "Kernel backend: java (pure Java), onednn (oneDNN natives; error if they do not"
          + " load), auto (oneDNN when it loads, else Java). On oneDNN, training's convolutions run on"
          + " its direct kernels (same results up to the order of summation). Default: ${DEFAULT-VALUE}.")
  Backend backend = Backend.auto;

  /** The requested backend. */
  public Backend backend() {
    return backend;
  }

  /**
   * Switches {@link Kernels#gemm()} to the requested backend and returns it.
   *
   * @throws IllegalArgumentException when "onednn" was asked for and cannot load here
   */
  public Gemm apply() {
    return Kernels.useBackend(backend.name());
  }

  /**
   * As {@link #apply()}, and a native backend runs on {@code threads} threads too (oneDNN's OpenMP
   * team otherwise takes every CPU, whatever {@code --threads} says; its results depend on it).
   */
  public Gemm apply(int threads) {
    Gemm g = apply();
    if (g instanceof dev.lowbit.onednn.OneDnnGemm d) d.runtime().setThreads(threads);
    return g;
  }
}
