package dev.lowbit.settings;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * Every tuning knob of lowbit, in one place (after microxcaling's {@code MxSpecs}): the core's
 * entries here, an optional module's from its {@link SettingsProvider}. The command
 * line reads them from {@code -Dkey=value} system properties; {@code lowbit backend --settings}
 * prints them with the values in force, docs/settings.md lists them (generated from this table),
 * and a run's summary.json records the ones not at their default. None of them changes a result
 * bit for bit except where the help says so: they choose where and on how many threads a product
 * runs.
 */
public final class SettingsTable {

  private SettingsTable() {}

  /** Threads of the Java GEMM and of the parallel loops. */
  public static final Setting<Integer> THREADS = new Setting<>("lowbit.threads", Setting.integer(0), 0,
      "threads of the Java kernels and loops; 0: all processors (a command's --threads overrides it)");

  /** Whether a native backend runs training's fp32 convolutions. */
  public static final Setting<Boolean> NATIVE_FLOAT = new Setting<>("lowbit.nativeFloat", Setting.bool(), true,
      "run training's fp32 convolutions on a native backend's kernels; false: im2col and the Java GEMM");

  /** Training's int8 products smaller than this stay on the Java int8 kernel under a native backend. */
  public static final Setting<Long> INT8_MIN_NATIVE_MACS = new Setting<>("lowbit.int8.minNativeMacs",
      Setting.longInteger(0), 1L << 26,
      "training's int8 products with fewer multiply-adds per call run on the Java int8 kernel under a native"
          + " backend (a new weight every call: its copies cost more than the product); exact either way");

  /** The core's entries, in the order they are printed. */
  public static final List<Setting<?>> CORE = List.of(THREADS, NATIVE_FLOAT, INT8_MIN_NATIVE_MACS);

  /** The whole table: the core's entries, then each {@link SettingsProvider}'s (e.g. a native backend's). */
  public static List<Setting<?>> all() {
    return Holder.ALL;
  }

  private static final class Holder {
    static final List<Setting<?>> ALL = table(loaded());

    private static List<SettingsProvider> loaded() {
      List<SettingsProvider> providers = new ArrayList<>();
      ServiceLoader.load(SettingsProvider.class, SettingsProvider.class.getClassLoader()).forEach(providers::add);
      return providers;
    }
  }

  /** The core's entries, then the providers' (ordered by class name, so every class path prints one order). */
  static List<Setting<?>> table(List<SettingsProvider> providers) {
    List<Setting<?>> all = new ArrayList<>(CORE);
    Set<String> keys = new HashSet<>();
    for (Setting<?> s : CORE) keys.add(s.key());
    List<SettingsProvider> sorted = new ArrayList<>(providers);
    sorted.sort(Comparator.comparing(p -> p.getClass().getName()));
    for (SettingsProvider p : sorted) {
      for (Setting<?> s : p.settings()) {
        if (!keys.add(s.key())) {
          throw new IllegalStateException("setting " + s.key() + " of " + p.getClass().getName() + " is already in the table");
        }
        all.add(s);
      }
    }
    return List.copyOf(all);
  }

  /** The entry with this key, or null. */
  public static Setting<?> find(String key) {
    for (Setting<?> s : all()) {
      if (s.key().equals(key)) return s;
    }
    return null;
  }
}
