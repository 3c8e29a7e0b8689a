package dev.lowbit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code lowbit bench}: speed benchmarks, each reported as a ratio to a reference. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Speed benchmarks, reported as ratios to a reference measured in the same run.",
    subcommands = {BenchGemmCommand.class})
public final class BenchCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
