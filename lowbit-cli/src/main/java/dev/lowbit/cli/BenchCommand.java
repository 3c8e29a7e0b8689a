package dev.lowbit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code lowbit bench}: speed measurements, each reported next to a reference measured in the same
 * run. Add a benchmark as another class in {@code subcommands}.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Measure speed; every figure comes with a reference measured in the same run.",
    subcommands = {
      BenchQuantizeCommand.class,
      BenchGemmCommand.class,
      BenchUnpackCommand.class,
      BenchInferCommand.class,
    })
public final class BenchCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
