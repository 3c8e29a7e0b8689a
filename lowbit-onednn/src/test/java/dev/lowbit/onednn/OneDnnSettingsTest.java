package dev.lowbit.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lowbit.settings.Settings;
import dev.lowbit.settings.SettingsTable;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OneDnnSettingsTest {

  @Test
  void theBackendsEntriesJoinTheTableAfterTheCoresThroughTheProvider() {
    List<?> all = SettingsTable.all();
    int core = SettingsTable.CORE.size();
    assertEquals(new OneDnnSettings().settings(), all.subList(core, core + 5));
    assertEquals(OneDnnSettings.MIN_MACS, SettingsTable.find("lowbit.onednn.minMacs"));
    Settings s = Settings.parse(Map.of("lowbit.onednn.minMacs", "1000", "lowbit.onednn.waitPolicy", ""));
    assertEquals(1000L, s.get(OneDnnSettings.MIN_MACS));
    assertEquals(Map.of("lowbit.onednn.waitPolicy", "", "lowbit.onednn.minMacs", "1000"), s.nonDefaults());
    assertEquals("passive", Settings.defaults().get(OneDnnSettings.WAIT_POLICY));
    assertEquals("setting lowbit.onednn.waitPolicy: bad value 'spin'; valid: one of passive, active, '' (empty)",
        assertThrows(IllegalArgumentException.class,
            () -> Settings.parse(Map.of("lowbit.onednn.waitPolicy", "spin"))).getMessage());
  }
}
