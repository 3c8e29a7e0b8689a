package dev.lowbit.kernel;

import dev.lowbit.settings.Settings;

/**
 * A native GEMM backend found through {@link java.util.ServiceLoader} (e.g. oneDNN in the
 * {@code lowbit-onednn} module). The core stays pure Java: a backend wraps the pure-Java
 * {@link Gemm} and runs natively only the calls whose numerics it reproduces exactly, handing every
 * other call to that fallback.
 */
public interface GemmBackend {

  /** The name used by {@code --backend}, e.g. "onednn". */
  String name();

  /**
   * Loads the natives and returns a {@link Gemm} that delegates what it cannot do exactly to
   * {@code fallback}, tuned by {@code settings} (the backend's entries of the settings table).
   * Throws with a readable message when the backend is unavailable here.
   */
  Gemm load(Gemm fallback, Settings settings) throws Exception;
}
