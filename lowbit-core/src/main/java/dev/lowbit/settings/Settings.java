package dev.lowbit.settings;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * The values in force for the {@link SettingsTable}'s entries: an immutable value built once by
 * the command line (from {@code -Dlowbit.*} properties) and handed down, e.g. to {@code
 * Kernels.configure}. A setting not given has its default; library users who configure nothing get
 * {@link #defaults()}.
 */
public final class Settings {

  private static final Settings DEFAULTS = new Settings(Map.of());

  /** Values that were given, by setting; absent ones take their default. */
  private final Map<Setting<?>, Object> given;

  private Settings(Map<Setting<?>, Object> given) {
    this.given = given;
  }

  /** Every setting at its default. */
  public static Settings defaults() {
    return DEFAULTS;
  }

  /** The value of {@code s}: the one given, else its default. */
  @SuppressWarnings("unchecked")
  public <T> T get(Setting<T> s) {
    Object v = given.get(s);
    return v == null ? s.defaultValue() : (T) v;
  }

  /** Whether {@code s} has its default value. */
  public boolean isDefault(Setting<?> s) {
    return get(s).equals(s.defaultValue());
  }

  /** These settings with {@code s} set to {@code value}. */
  public <T> Settings with(Setting<T> s, T value) {
    Objects.requireNonNull(value, s.key());
    Map<Setting<?>, Object> m = new LinkedHashMap<>(given);
    m.put(s, value);
    return new Settings(Collections.unmodifiableMap(m));
  }

  /**
   * Settings from text values by key (the {@code lowbit.*} system properties).
   *
   * @throws IllegalArgumentException one line for the first unknown key (naming the valid ones) or
   *     bad value (naming what is valid)
   */
  public static Settings parse(Map<String, String> values) {
    Settings s = DEFAULTS;
    for (Map.Entry<String, String> e : new java.util.TreeMap<>(values).entrySet()) {
      Setting<?> setting = SettingsTable.find(e.getKey());
      if (setting == null) {
        StringJoiner keys = new StringJoiner(", ");
        for (Setting<?> t : SettingsTable.all()) keys.add(t.key());
        throw new IllegalArgumentException("unknown setting " + e.getKey() + "; valid: " + keys);
      }
      s = s.parsed(setting, e.getValue());
    }
    return s;
  }

  private <T> Settings parsed(Setting<T> s, String text) {
    return with(s, s.parse(text));
  }

  /** The settings whose value is not the default, key to value text, in the table's order. */
  public Map<String, String> nonDefaults() {
    Map<String, String> m = new LinkedHashMap<>();
    for (Setting<?> s : SettingsTable.all()) {
      if (!isDefault(s)) m.put(s.key(), text(s));
    }
    return m;
  }

  /** The value of {@code s} as text, as {@link Setting#parse} reads it. */
  public <T> String text(Setting<T> s) {
    return s.format(get(s));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Settings other && nonDefaults().equals(other.nonDefaults());
  }

  @Override
  public int hashCode() {
    return nonDefaults().hashCode();
  }

  @Override
  public String toString() {
    return "Settings" + nonDefaults();
  }
}
