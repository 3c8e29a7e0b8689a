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
    for (Setting<?> s : SettingsTable.all()) {
      assertEquals(s.defaultValue(), d.get(s), s.key());
      assertTrue(d.isDefault(s), s.key());
    }
    assertEquals(Map.of(), d.nonDefaults());
    assertEquals(1L << 26, d.get(SettingsTable.INT8_MIN_NATIVE_MACS));
  }

  @Test
  void theTableHasUniqueKeysOneLineHelpAndFindsEachEntry() {
    Set<String> keys = new HashSet<>();
    for (Setting<?> s : SettingsTable.all()) {
      assertTrue(keys.add(s.key()), "duplicate " + s.key());
      assertFalse(s.help().isBlank() || s.help().contains("\n"), s.key());
      assertEquals(s, SettingsTable.find(s.key()));
    }
    assertNull(SettingsTable.find("lowbit.nope"));
  }

  @Test
  void parsedValuesAreTypedAndNonDefaultsFollowTheTable() {
    Settings s = Settings.parse(Map.of("lowbit.int8.minNativeMacs", " 1000 ", "lowbit.threads", "3",
        "lowbit.nativeFloat", "true", "lowbit.test.mode", ""));
    assertEquals(3, s.get(SettingsTable.THREADS));
    assertEquals(1000L, s.get(SettingsTable.INT8_MIN_NATIVE_MACS));
    assertEquals("", s.get(TestSettings.MODE));
    assertTrue(s.isDefault(SettingsTable.NATIVE_FLOAT), "given, but equal to the default");
    assertEquals(List.of("lowbit.threads", "lowbit.int8.minNativeMacs", "lowbit.test.mode"),
        List.copyOf(s.nonDefaults().keySet()));
    assertEquals(Map.of("lowbit.threads", "3", "lowbit.test.mode", "", "lowbit.int8.minNativeMacs", "1000"),
        s.nonDefaults());
    assertEquals(s, Settings.parse(s.nonDefaults()), "nonDefaults round-trip");
  }

  @Test
  void withLeavesTheOriginalAlone() {
    Settings d = Settings.defaults();
    Settings off = d.with(SettingsTable.NATIVE_FLOAT, false);
    assertFalse(off.get(SettingsTable.NATIVE_FLOAT));
    assertTrue(d.get(SettingsTable.NATIVE_FLOAT));
    assertEquals(Map.of("lowbit.nativeFloat", "false"), off.nonDefaults());
  }

  @Test
  void badValuesAreOneLineNamingTheKeyAndWhatIsValid() {
    assertEquals("setting lowbit.threads: bad value 'x'; valid: an integer >= 0",
        assertThrows(IllegalArgumentException.class, () -> Settings.parse(Map.of("lowbit.threads", "x"))).getMessage());
    assertEquals("setting lowbit.threads: bad value '-1'; valid: an integer >= 0",
        assertThrows(IllegalArgumentException.class, () -> Settings.parse(Map.of("lowbit.threads", "-1"))).getMessage());
    assertEquals("setting lowbit.nativeFloat: bad value 'yes'; valid: true or false",
        assertThrows(IllegalArgumentException.class, () -> Settings.parse(Map.of("lowbit.nativeFloat", "yes"))).getMessage());
    assertEquals("setting lowbit.test.mode: bad value 'spin'; valid: one of fast, slow, '' (empty)",
        assertThrows(IllegalArgumentException.class, () -> Settings.parse(Map.of("lowbit.test.mode", "spin"))).getMessage());
  }

  @Test
  void anUnknownKeyNamesEveryValidOne() {
    String m = assertThrows(IllegalArgumentException.class,
        () -> Settings.parse(Map.of("lowbit.dfp.digits", "true"))).getMessage();
    assertTrue(m.startsWith("unknown setting lowbit.dfp.digits; valid: lowbit.threads, lowbit.nativeFloat, "), m);
    for (Setting<?> s : SettingsTable.all()) assertTrue(m.contains(s.key()), m);
  }

  @Test
  void anEntryWhoseDefaultIsInvalidIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new Setting<>("lowbit.x", Setting.integer(1), 0, "help"));
    assertThrows(IllegalArgumentException.class, () -> new Setting<>("x", Setting.bool(), true, "help"));
  }

  @Test
  void aProvidersEntriesFollowTheCoresAndAClashingKeyIsRefused() {
    List<Setting<?>> all = SettingsTable.all();
    assertEquals(SettingsTable.CORE, all.subList(0, SettingsTable.CORE.size()));
    assertTrue(all.contains(TestSettings.MODE), "the test provider registered in META-INF/services");
    assertEquals(TestSettings.MODE, SettingsTable.find("lowbit.test.mode"));
    SettingsProvider clash = () -> List.of(new Setting<>("lowbit.threads", Setting.integer(0), 0, "again"));
    String m = assertThrows(IllegalStateException.class, () -> SettingsTable.table(List.of(clash))).getMessage();
    assertTrue(m.startsWith("setting lowbit.threads of "), m);
  }
}
