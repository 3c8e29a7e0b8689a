package dev.lowbit.settings;

import java.util.List;

/**
 * The settings of an optional module (a native backend, say), found through {@link
 * java.util.ServiceLoader} so that the core's {@link SettingsTable} names no module: the table in
 * force is the core's entries followed by every provider's on the class path.
 */
public interface SettingsProvider {

  /** The module's entries, in the order they are printed; keys must not clash with other entries. */
  List<Setting<?>> settings();
}
