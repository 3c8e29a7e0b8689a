package dev.lowbit.cli;

import dev.lowbit.settings.Setting;
import dev.lowbit.settings.Settings;
import dev.lowbit.settings.SettingsTable;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The settings table as the command line reads and shows it: {@code -Dlowbit.*} system properties
 * in, the table with the values in force (or docs/settings.md) out.
 */
final class SettingsText {

  private SettingsText() {}

  /**
   * Settings from the {@code lowbit.*} entries of {@code props}.
   *
   * @throws IllegalArgumentException one line naming an unknown key (and the valid ones) or a bad value
   */
  static Settings fromProperties(Properties props) {
    Map<String, String> given = new TreeMap<>();
    for (String key : props.stringPropertyNames()) {
      if (key.startsWith("lowbit.")) given.put(key, props.getProperty(key));
    }
    return Settings.parse(given);
  }

  /** Every setting with its value in force, whether that is the default, and its help. */
  static String table(Settings s) {
    StringBuilder b = new StringBuilder();
    for (Setting<?> e : SettingsTable.all()) {
      b.append(e.key()).append(" = ").append(shown(s.text(e)))
          .append(s.isDefault(e) ? "  (default)" : "  (default " + shown(defaultText(e)) + ")").append('\n')
          .append("    ").append(e.type().valid()).append(": ").append(e.help()).append('\n');
    }
    return b.toString();
  }

  /** docs/settings.md: the table in markdown, generated from {@link SettingsTable}. */
  static String markdown() {
    StringBuilder b = new StringBuilder();
    b.append("# Settings\n\n")
        .append("Every tuning knob of lowbit. Give one as a Java system property, e.g.\n")
        .append("`LOWBIT_JAVA_OPTS='-Dlowbit.onednn.threads=4' ./lowbit train ...`; an unknown `lowbit.*` key or a bad\n")
        .append("value stops the command with one line naming what is valid. `./lowbit backend --settings` prints the\n")
        .append("values in force, and a run's `summary.json` records the ones not at their default under `settings`.\n")
        .append("Library users pass a `dev.lowbit.settings.Settings` value to `Kernels.configure`; without it every\n")
        .append("setting has its default.\n\n")
        .append("Generated from `dev.lowbit.settings.SettingsTable` (the core's entries, then those an optional module\n")
        .append("registers as a `SettingsProvider`, here `lowbit-onednn`'s) by `./lowbit backend --settings --markdown >\n")
        .append("docs/settings.md`; a test fails when this file and the table differ.\n\n")
        .append("| key | valid values | default | what it does |\n")
        .append("|---|---|---|---|\n");
    for (Setting<?> e : SettingsTable.all()) {
      b.append("| `").append(e.key()).append("` | ").append(e.type().valid()).append(" | `")
          .append(shown(defaultText(e))).append("` | ").append(e.help()).append(" |\n");
    }
    return b.toString();
  }

  private static <T> String defaultText(Setting<T> e) {
    return e.format(e.defaultValue());
  }

  private static String shown(String text) {
    return text.isEmpty() ? "''" : text;
  }
}
