package dev.lowbit.kernel;

import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the {@link Gemm} implementation once and says why (after Lucene's vectorization
 * provider). {@link #javaGemm()} is the portable pure-Java kernel; {@link #useBackend} switches the
 * process-wide {@link #gemm()} to a native {@link GemmBackend} ("onednn"), to pure Java ("java"),
 * or to the best that loads ("auto").
 */
public final class Kernels {

  private static final Logger LOG = LoggerFactory.getLogger(Kernels.class);
  private static final Gemm JAVA = ScalarGemm.INSTANCE;
  private static volatile Gemm active = JAVA;

  private Kernels() {}

  /** The GEMM implementation in use: pure Java unless {@link #useBackend} chose a native one. */
  public static Gemm gemm() {
    return active;
  }

  /** The portable pure-Java GEMM, whatever backend is active. */
  public static Gemm javaGemm() {
    return JAVA;
  }

  /**
   * Selects the backend by name: "java", "auto" (a native backend if one loads, else Java) or a
   * {@link GemmBackend#name()}. Returns the Gemm now in use.
   *
   * @throws IllegalArgumentException when a named backend is unknown or cannot load here
   */
  public static synchronized Gemm useBackend(String name) {
    if (name == null || name.equals("java")) {
      active = JAVA;
      LOG.info("GEMM backend: {} (requested)", JAVA.name());
      return active;
    }
    boolean auto = name.equals("auto");
    StringBuilder known = new StringBuilder("java, auto");
    for (GemmBackend b : ServiceLoader.load(GemmBackend.class)) {
      known.append(", ").append(b.name());
      if (!auto && !b.name().equals(name)) continue;
      try {
        active = b.load(JAVA);
        LOG.info("GEMM backend: {} ({})", active.name(), auto ? "auto: natives loaded" : "requested");
        return active;
      } catch (Exception | LinkageError e) {
        if (!auto) {
          throw new IllegalArgumentException(
              "backend '" + name + "' is not available here: " + e.getMessage(), e);
        }
        LOG.info("GEMM backend {} not available ({}); using {}", b.name(), e.getMessage(), JAVA.name());
      }
    }
    if (!auto) {
      throw new IllegalArgumentException("unknown backend '" + name + "'; known: " + known);
    }
    active = JAVA;
    return active;
  }
}
