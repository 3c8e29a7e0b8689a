package dev.lowbit.settings;

import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * One tuning knob: its system-property key, its type, its default and a line of help. The
 * entries are declared in {@link SettingsTable}; values travel in an immutable {@link Settings}.
 *
 * @param key the property name, e.g. {@code lowbit.threads}
 * @param type how a text value is read and written, and what is valid
 * @param defaultValue the value when the key is not given
 * @param help one line for {@code lowbit backend --settings} and docs/settings.md
 */
public record Setting<T>(String key, Type<T> type, T defaultValue, String help) {

  public Setting {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(defaultValue, "defaultValue");
    Objects.requireNonNull(help, "help");
    if (!key.startsWith("lowbit.")) throw new IllegalArgumentException("setting key must start with lowbit., not " + key);
    type.parse(type.format(defaultValue)); // a default that does not round-trip is a bug in the table
  }

  /**
   * The value of {@code text}.
   *
   * @throws IllegalArgumentException one line naming the key, the bad value and what is valid
   */
  public T parse(String text) {
    try {
      return type.parse(text.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("setting " + key + ": bad value '" + text + "'; valid: " + type.valid());
    }
  }

  /** A value as text, as {@link #parse} reads it. */
  public String format(T value) {
    return type.format(value);
  }

  /** How a setting's text is read: {@link #parse} throws IllegalArgumentException on invalid text. */
  public record Type<T>(String name, String valid, Function<String, T> parser, Function<T, String> formatter) {

    T parse(String text) {
      T v = parser.apply(text);
      if (v == null) throw new IllegalArgumentException(text);
      return v;
    }

    String format(T value) {
      return formatter.apply(value);
    }
  }

  /** true or false. */
  public static Type<Boolean> bool() {
    return new Type<>("boolean", "true or false",
        t -> t.equals("true") ? Boolean.TRUE : t.equals("false") ? Boolean.FALSE : null, String::valueOf);
  }

  /** An integer of at least {@code min}. */
  public static Type<Integer> integer(int min) {
    return atLeast(min, Integer::valueOf);
  }

  /** A long integer of at least {@code min}. */
  public static Type<Long> longInteger(long min) {
    return atLeast(min, Long::valueOf);
  }

  private static <N extends Comparable<N>> Type<N> atLeast(N min, Function<String, N> parser) {
    return new Type<>("integer", "an integer >= " + min, t -> {
      try {
        N v = parser.apply(t);
        return v.compareTo(min) >= 0 ? v : null;
      } catch (NumberFormatException e) {
        return null;
      }
    }, String::valueOf);
  }

  /** One of {@code choices} (the empty string may be one). */
  public static Type<String> choice(List<String> choices) {
    List<String> shown = choices.stream().map(c -> c.isEmpty() ? "'' (empty)" : c).toList();
    return new Type<>("choice", "one of " + String.join(", ", shown),
        t -> choices.contains(t) ? t : null, t -> t);
  }
}
