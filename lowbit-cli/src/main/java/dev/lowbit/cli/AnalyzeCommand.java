package dev.lowbit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code lowbit analyze}: numerical analyses of a method's arithmetic, each written as CSV, PNG
 * plots and an HTML page. Add an analysis as another class in {@code subcommands}.
 */
@Command(
    name = "analyze",
    mixinStandardHelpOptions = true,
    description = "Analyse the error of an arithmetic method against exact arithmetic.",
    subcommands = {
      AnalyzeLMulCommand.class,
    })
public final class AnalyzeCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
