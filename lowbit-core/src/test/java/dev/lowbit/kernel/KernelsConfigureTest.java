package dev.lowbit.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.lowbit.settings.Settings;
import dev.lowbit.settings.SettingsTable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Kernels take their tuning from the settings handed to configure, not from system properties. */
class KernelsConfigureTest {

  @AfterEach
  void reset() {
    Kernels.configure(Settings.defaults());
  }

  @Test
  void withoutConfigureEverySettingHasItsDefault() {
    assertEquals(Settings.defaults(), Kernels.settings());
    assertEquals(Runtime.getRuntime().availableProcessors(), Kernels.defaultThreads());
    assertEquals(1L << 26, Kernels.int8MinNativeMacs());
  }

  @Test
  void configureSetsThreadsAndTheInt8Cutoff() {
    Settings s = Settings.defaults().with(SettingsTable.THREADS, 3).with(SettingsTable.INT8_MIN_NATIVE_MACS, 77L);
    Kernels.configure(s);
    assertSame(s, Kernels.settings());
    assertEquals(3, Parallel.threads());
    assertEquals(3, Kernels.defaultThreads());
    assertEquals(77L, Kernels.int8MinNativeMacs());
    Kernels.configure(Settings.defaults());
    assertEquals(Runtime.getRuntime().availableProcessors(), Parallel.threads());
    assertEquals(1L << 26, Kernels.int8MinNativeMacs());
  }
}
