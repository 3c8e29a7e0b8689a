package dev.lowbit.settings;

import java.util.List;

/** A module's settings as a provider registers them (META-INF/services in the core's tests). */
public final class TestSettings implements SettingsProvider {

  static final Setting<String> MODE = new Setting<>("lowbit.test.mode", Setting.choice(List.of("fast", "slow", "")),
      "fast", "a test provider's entry");

  @Override
  public List<Setting<?>> settings() {
    return List.of(MODE);
  }
}
