package dev.lowbit.cli;

import dev.lowbit.kernel.Kernels;
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
      PlanCommand.class,
      UnpackCommand.class,
      ExportCommand.class,
      InferCommand.class,
      AnalyzeCommand.class,
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
            commandLine.getErr().println("lowbit: error: " + describe(ex));
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

  /**
   * The one-line reason for a failure. File-system exceptions often carry only a path as their
   * message ({@code FileAlreadyExistsException: /x/y}); the reason is then named from their type.
   */
  static String describe(Throwable ex) {
    if (ex instanceof java.io.UncheckedIOException u && u.getCause() != null) return describe(u.getCause());
    if (ex instanceof java.nio.file.FileSystemException f) {
      String reason = f.getReason();
      if (reason == null || reason.isBlank()) {
        reason = switch (f) {
          case java.nio.file.NoSuchFileException n -> "no such file or directory";
          case java.nio.file.AccessDeniedException a -> "permission denied";
          case java.nio.file.FileAlreadyExistsException e -> "already exists (and is not a directory)";
          case java.nio.file.NotDirectoryException n -> "not a directory";
          case java.nio.file.DirectoryNotEmptyException d -> "directory not empty";
          default -> f.getClass().getSimpleName();
        };
      }
      return (f.getFile() == null ? "" : f.getFile() + ": ") + reason
          + (f.getOtherFile() == null ? "" : " (" + f.getOtherFile() + ")");
    }
    String m = ex.getMessage();
    return m == null || m.isBlank() ? ex.getClass().getSimpleName() : m;
  }

  public static void main(String[] args) {
    System.exit(run(System.getProperties(), args));
  }

  /**
   * Installs the settings of the {@code lowbit.*} properties (the only place lowbit reads system
   * properties), then runs the command; a bad setting is one error line and exit code 2.
   */
  static int run(Properties props, String[] args) {
    try {
      Kernels.configure(SettingsText.fromProperties(props));
    } catch (IllegalArgumentException e) {
      System.err.println("lowbit: error: " + e.getMessage());
      return 2;
    }
    return commandLine().execute(args);
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
