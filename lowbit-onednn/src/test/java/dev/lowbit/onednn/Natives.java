package dev.lowbit.onednn;

import dev.lowbit.kernel.Gemm;
import org.junit.jupiter.api.Assumptions;

/** Test setup shared by the oneDNN tests. */
final class Natives {

  private Natives() {}

  /**
   * The backend over {@code fallback}; skips the calling test class where the natives cannot load,
   * except on linux-x86_64, for which the module ships them (there it fails).
   */
  static OneDnnGemm loadOrSkip(Gemm fallback) {
    boolean linuxX64 = System.getProperty("os.name").toLowerCase().contains("linux")
        && System.getProperty("os.arch").matches("amd64|x86_64");
    try {
      return OneDnnGemm.create(fallback);
    } catch (IllegalStateException e) {
      Assumptions.assumeFalse(linuxX64, "natives must load on linux-x86_64: " + e);
      Assumptions.abort("no oneDNN natives for this platform: " + e);
      throw e; // not reached: abort throws
    }
  }
}
