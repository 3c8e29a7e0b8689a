package dev.lowbit.settings;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SettingsTest {

  @Test
  void defaultsGiveEveryEntrysDefault() {
    Settings d = Settings.defaults();
    for (Setting<?> s : SettingsTable.ALL) {
      assertEquals(s.defaultValue(), d.get(s), s.key());
      assertTrue(d.isDefault(s), s.key());
    }
    assertEquals(Map.of(), d.nonDefaults());
    assertEquals(1L << 26, d.get(SettingsTable.INT8_MIN_NATIVE_MACS));
    assertEquals("passive", d.get(SettingsTable.ONEDNN_WAIT_POLICY));
  }

  @Test
  void theTableHasUniqueKeysOneLineHelpAndFindsEachEntry() {
    Set<String> keys = new HashSet<>();
    for (Setting<?> s : SettingsTable.ALL) {
      assertTrue(keys.add(s.key()), "duplicate " + s.key());
      assertFalse(s.help().isBlank() || s.help().contains("\n"), s.key());
      assertEquals(s, SettingsTable.find(s.key()));
    }
    assertNull(SettingsTable.find("lowbit.nope"));
  }

  @Test
  void parsedValuesAreTypedAndNonDefaultsFollowTheTable() {
    Settings s = Settings.parse(Map.of("lowbit.onednn.minMacs", " 1000 ", "lowbit.threads", "3",
        "lowbit.nativeFloat", "true", "lowbit.onednn.waitPolicy", ""));
    assertEquals(3, s.get(SettingsTable.THREADS));
    assertEquals(1000L, s.get(SettingsTable.ONEDNN_MIN_MACS));
    assertEquals("", s.get(SettingsTable.ONEDNN_WAIT_POLICY));
    assertTrue(s.isDefault(SettingsTable.NATIVE_FLOAT), "given, but equal to the default");
    assertEquals(List.of("lowbit.threads", "lowbit.onednn.waitPolicy", "lowbit.onednn.minMacs"),
        List.copyOf(s.nonDefaults().keySet()));
    assertEquals(Map.of("lowbit.threads", "3", "lowbit.onednn.waitPolicy", "", "lowbit.onednn.minMacs", "1000"),
        s.nonDefaults());
    assertEquals(s, Settings.parse(s.nonDefaults()), "nonDefaults round-trip");
  }

  @Test
  void withLeavesTheOriginalAlone() {
    Settings d = Settings.defaults();
    Settings off = d.with(SettingsTable.ONEDNN_DISABLE, true);
    assertTrue(off.get(SettingsTable.ONEDNN_DISABLE));
    assertFalse(d.get(SettingsTable.ONEDNN_DISABLE));
    assertEquals(Map.of("lowbit.onednn.disable", "true"), off.nonDefaults());
  }

  @Test
  void badValuesAreOneLineNamingTheKeyAndWhatIsValid() {
    assertEquals("setting lowbit.threads: bad value 'x'; valid: an integer >= 0",
        assertThrows(IllegalArgumentException.class, () -> Settings.parse(Map.of("lowbit.threads", "x"))).getMessage());
    assertEquals("setting lowbit.threads: bad value '-1'; valid: an integer >= 0",
        assertThrows(IllegalArgumentException.class, () -> Settings.parse(Map.of("lowbit.threads", "-1"))).getMessage());
    assertEquals("setting lowbit.nativeFloat: bad value 'yes'; valid: true or false",
        assertThrows(IllegalArgumentException.class, () -> Settings.parse(Map.of("lowbit.nativeFloat", "yes"))).getMessage());
    assertEquals("setting lowbit.onednn.waitPolicy: bad value 'spin'; valid: one of passive, active, '' (empty)",
        assertThrows(IllegalArgumentException.class,
            () -> Settings.parse(Map.of("lowbit.onednn.waitPolicy", "spin"))).getMessage());
  }

  @Test
  void anUnknownKeyNamesEveryValidOne() {
    String m = assertThrows(IllegalArgumentException.class,
        () -> Settings.parse(Map.of("lowbit.dfp.digits", "true"))).getMessage();
    assertTrue(m.startsWith("unknown setting lowbit.dfp.digits; valid: lowbit.threads, lowbit.nativeFloat, "), m);
    for (Setting<?> s : SettingsTable.ALL) assertTrue(m.contains(s.key()), m);
  }

  @Test
  void anEntryWhoseDefaultIsInvalidIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new Setting<>("lowbit.x", Setting.integer(1), 0, "help"));
    assertThrows(IllegalArgumentException.class, () -> new Setting<>("x", Setting.bool(), true, "help"));
  }
}
