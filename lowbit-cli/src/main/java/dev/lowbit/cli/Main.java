package dev.lowbit.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code lowbit} command-line tool. */
@Command(
    name = "lowbit",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Train and run neural networks in arbitrarily low-precision arithmetic.",
    subcommands = {
      CommandLine.HelpCommand.class,
      FormatsCommand.class,
      BenchCommand.class,
      BackendCommand.class,
      TrainCommand.class,
      SweepCommand.class,
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** Builds the command line with lowbit's error handling: bad input becomes one readable line. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(
        (ex, commandLine, parseResult) -> {
          if (ex instanceof IllegalArgumentException || ex instanceof IOException
              || ex instanceof java.io.UncheckedIOException) {
            commandLine.getErr().println("lowbit: error: " + ex.getMessage());
            return 2;
          }
          if (ex instanceof dev.lowbit.train.RunLock.InUseException) { // another process owns the run directory
            commandLine.getErr().println("lowbit: error: " + ex.getMessage());
            return 2;
          }
          if (ex instanceof dev.lowbit.train.DivergedException) { // a result of the run, not bad input: exit code 1
            commandLine.getErr().println("lowbit: error: " + ex.getMessage());
            return 1;
          }
          throw ex;
        });
    return cl;
  }

  public static void main(String[] args) {
    int rc = commandLine().execute(args);
    System.exit(rc);
  }

  /** Reads the version Maven filtered into the jar. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties p = new Properties();
      try (InputStream in = Main.class.getResourceAsStream("/lowbit-version.properties")) {
        if (in != null) p.load(in);
      }
      return new String[] {
        "lowbit " + p.getProperty("version", "unknown"),
        "JVM: " + System.getProperty("java.vm.name") + " " + Runtime.version(),
      };
    }
  }

  static PrintWriter out(CommandLine.Model.CommandSpec spec) {
    return spec.commandLine().getOut();
  }
}
