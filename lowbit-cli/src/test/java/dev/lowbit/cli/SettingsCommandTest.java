package dev.lowbit.cli;

import dev.lowbit.onednn.OneDnnSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.settings.Settings;
import dev.lowbit.settings.SettingsTable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code -Dlowbit.*} properties become one Settings value; {@code backend --settings} shows it. */
class SettingsCommandTest {

  /** docs/settings.md, relative to this module's directory (where the tests run). */
  static final Path DOC = Path.of("..", "docs", "settings.md");

  @AfterEach
  void reset() {
    Kernels.configure(Settings.defaults());
  }

  private static String[] run(String... args) {
    return BackendOptionTest.run(args);
  }

  private static Properties props(String... kv) {
    Properties p = new Properties();
    for (int i = 0; i < kv.length; i += 2) p.setProperty(kv[i], kv[i + 1]);
    return p;
  }

  @Test
  void onlyLowbitPropertiesAreRead() {
    Settings s = SettingsText.fromProperties(props("lowbit.onednn.threads", "4", "java.vm.name", "x", "lowbitx", "y"));
    assertEquals(4, s.get(OneDnnSettings.THREADS));
    assertEquals(java.util.Map.of("lowbit.onednn.threads", "4"), s.nonDefaults());
  }

  @Test
  void unknownKeysAndBadValuesStopTheCommandWithOneLine() {
    String unknown = assertThrows(IllegalArgumentException.class,
        () -> SettingsText.fromProperties(props("lowbit.onednn.plainForward", "false"))).getMessage();
    assertTrue(unknown.startsWith("unknown setting lowbit.onednn.plainForward; valid: lowbit.threads, "), unknown);
    assertEquals(2, Main.run(props("lowbit.threads", "many"), new String[] {"backend", "--settings"}));
    assertEquals(Settings.defaults(), Kernels.settings(), "nothing installed from a bad table");
  }

  @Test
  void mainInstallsTheSettingsBeforeTheCommandRuns() {
    assertEquals(0, Main.run(props("lowbit.int8.minNativeMacs", "5"), new String[] {"backend", "--help"}));
    assertEquals(5L, Kernels.settings().get(SettingsTable.INT8_MIN_NATIVE_MACS));
  }

  @Test
  void backendSettingsPrintsEveryValueInForceAndWhetherItIsTheDefault() {
    String[] d = run("backend", "--settings");
    assertEquals("0", d[0], d[2]);
    for (var s : SettingsTable.all()) assertTrue(d[1].contains(s.key() + " = "), d[1]);
    assertTrue(d[1].contains("lowbit.threads = 0  (default)\n"), d[1]);
    assertTrue(d[1].contains("lowbit.onednn.waitPolicy = passive  (default)\n"), d[1]);
    Gemm before = Kernels.gemm();
    Kernels.configure(Settings.defaults().with(OneDnnSettings.WAIT_POLICY, "").with(SettingsTable.NATIVE_FLOAT, false));
    String[] t = run("backend", "--settings");
    assertTrue(t[1].contains("lowbit.onednn.waitPolicy = ''  (default passive)\n"), t[1]);
    assertTrue(t[1].contains("lowbit.nativeFloat = false  (default true)\n"), t[1]);
    assertTrue(t[1].contains("    true or false: run training's fp32 convolutions"), t[1]);
    assertEquals(before, Kernels.gemm(), "--settings loads no backend");
    String[] bad = run("backend", "--markdown");
    assertEquals("2", bad[0]);
    assertTrue(bad[2].contains("--markdown goes with --settings"), bad[2]);
  }

  @Test
  void docsSettingsMdIsTheGeneratedTable() throws Exception {
    String want = run("backend", "--settings", "--markdown")[1];
    assertEquals(SettingsText.markdown(), want);
    for (var s : SettingsTable.all()) assertTrue(want.contains("| `" + s.key() + "` |"), want);
    String have = Files.exists(DOC) ? Files.readString(DOC) : "(missing)";
    assertEquals(want, have, "docs/settings.md differs from dev.lowbit.settings.SettingsTable; regenerate it with"
        + " ./lowbit backend --settings --markdown > docs/settings.md");
  }
}
