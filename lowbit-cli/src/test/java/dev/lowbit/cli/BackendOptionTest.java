package dev.lowbit.cli;

import dev.lowbit.onednn.OneDnnSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.Kernels;
import dev.lowbit.settings.Settings;
import dev.lowbit.settings.SettingsTable;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BackendOptionTest {

  @AfterEach
  void reset() {
    Kernels.configure(Settings.defaults());
    Kernels.useBackend("java");
  }

  /** Runs the command line in this JVM: exit code, standard output, standard error. */
  static String[] run(String... args) {
    CommandLine cl = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int rc = cl.execute(args);
    return new String[] {String.valueOf(rc), out.toString(), err.toString()};
  }

  @Test
  void javaBackendIsSelectable() {
    String[] r = run("backend", "--backend", "java");
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].contains("all kernels:      Java"), r[1]);
    assertSame(Kernels.javaGemm(), Kernels.gemm());
  }

  @Test
  void autoTakesOneDnnHere() {
    String[] r = run("backend");
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].contains("oneDNN:"), r[1]);
  }

  @Test
  void badChoiceAndMissingNativesAreOneLineErrors() {
    String[] bad = run("backend", "--backend", "cuda");
    assertEquals("2", bad[0]);
    assertTrue(bad[2].contains("java, onednn, auto"), bad[2]);
    Kernels.configure(Settings.defaults().with(OneDnnSettings.DISABLE, true));
    String[] missing = run("backend", "--backend", "onednn");
    assertEquals("2", missing[0]);
    assertTrue(missing[2].startsWith("lowbit: error: backend 'onednn' is not available here"), missing[2]);
    String[] auto = run("backend", "--backend", "auto");
    assertEquals("0", auto[0], auto[2]);
    assertTrue(auto[1].contains("all kernels:      Java"), auto[1]);
  }
}
