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
  private static volatile Gemm java = chooseJava(defaultThreads());
  private static volatile Gemm active = java;

  private Kernels() {}

  /** Threads for the Java GEMM: system property {@code lowbit.threads}, else all processors. */
  static int defaultThreads() {
    int cpus = Runtime.getRuntime().availableProcessors();
    String prop = System.getProperty("lowbit.threads");
    if (prop == null || prop.isBlank()) return cpus;
    try {
      int t = Integer.parseInt(prop.trim());
      if (t >= 1) return t;
    } catch (NumberFormatException e) {
      // fall through to the warning
    }
    LOG.warn("ignoring -Dlowbit.threads={}: must be an integer >= 1; using {}", prop, cpus);
    return cpus;
  }

  /**
   * The Vector API GEMM on the JVM's preferred species when the incubator module is present and
   * at least 128 bits wide, else the scalar reference; logs the choice with the JDK version.
   */
  private static Gemm chooseJava(int threads) {
    String jdk = Runtime.version().toString();
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      LOG.info("GEMM java kernel: scalar (JDK {}; module jdk.incubator.vector not present, "
          + "add --add-modules jdk.incubator.vector for the vector kernel)", jdk);
      return ScalarGemm.INSTANCE;
    }
    try {
      int bits = VectorGemm.preferredBits();
      if (bits < 128) {
        LOG.info("GEMM java kernel: scalar (JDK {}; preferred vector species only {} bits)",
            jdk, bits);
        return ScalarGemm.INSTANCE;
      }
      Gemm g = VectorGemm.ofBits(Math.min(bits, 512), threads);
      LOG.info("GEMM java kernel: {} (JDK {}, FloatVector preferred species {} bits, threads={})",
          g.name(), jdk, bits, threads);
      return g;
    } catch (LinkageError e) {
      LOG.info("GEMM java kernel: scalar (JDK {}; Vector API unusable: {})", jdk, e.toString());
      return ScalarGemm.INSTANCE;
    }
  }

  /**
   * Rebuilds the Java GEMM for {@code threads} threads (the CLI's {@code --threads}); a native
   * backend in use keeps running. Returns the new Java GEMM.
   *
   * @throws IllegalArgumentException when threads is below 1
   */
  public static synchronized Gemm setThreads(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    Gemm old = java;
    java = chooseJava(threads);
    Parallel.setThreads(threads);
    if (active == old) active = java;
    return java;
  }

  /** The GEMM implementation in use: pure Java unless {@link #useBackend} chose a native one. */
  public static Gemm gemm() {
    return active;
  }

  /** Set to false to keep training's fp32 arithmetic on the Java kernels under a native backend. */
  public static final String NATIVE_FLOAT_PROPERTY = "lowbit.nativeFloat";

  /**
   * The native fp32 training kernels of the backend in use, or null: under pure Java, or when
   * {@value #NATIVE_FLOAT_PROPERTY} is false.
   */
  public static FloatKernels floatKernels() {
    return active instanceof FloatKernels f && NATIVE_FLOAT ? f : null;
  }

  private static final boolean NATIVE_FLOAT =
      !"false".equals(System.getProperty(NATIVE_FLOAT_PROPERTY, "true"));

  /** The portable pure-Java GEMM, whatever backend is active. */
  public static Gemm javaGemm() {
    return java;
  }

  /**
   * Selects the backend by name: "java", "auto" (a native backend if one loads, else Java) or a
   * {@link GemmBackend#name()}. Returns the Gemm now in use.
   *
   * @throws IllegalArgumentException when a named backend is unknown or cannot load here
   */
  public static synchronized Gemm useBackend(String name) {
    Gemm fallback = java;
    if (name == null || name.equals("java")) {
      active = fallback;
      LOG.info("GEMM backend: {} (requested)", fallback.name());
      return active;
    }
    boolean auto = name.equals("auto");
    StringBuilder known = new StringBuilder("java, auto");
    for (GemmBackend b : ServiceLoader.load(GemmBackend.class)) {
      known.append(", ").append(b.name());
      if (!auto && !b.name().equals(name)) continue;
      try {
        active = b.load(fallback);
        LOG.info("GEMM backend: {} ({})", active.name(), auto ? "auto: natives loaded" : "requested");
        return active;
      } catch (Exception | LinkageError e) {
        if (!auto) {
          throw new IllegalArgumentException(
              "backend '" + name + "' is not available here: " + e.getMessage(), e);
        }
        LOG.info("GEMM backend {} not available ({}); using {}", b.name(), e.getMessage(),
            fallback.name());
      }
    }
    if (!auto) {
      throw new IllegalArgumentException("unknown backend '" + name + "'; known: " + known);
    }
    active = fallback;
    return active;
  }
}
