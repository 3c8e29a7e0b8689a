package dev.lowbit.kernel;

import dev.lowbit.settings.Settings;
import dev.lowbit.settings.SettingsTable;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the {@link Gemm} implementation once and says why (after Lucene's vectorization
 * provider). {@link #javaGemm()} is the portable pure-Java kernel; {@link #useBackend} switches the
 * process-wide {@link #gemm()} to a native {@link GemmBackend} ("onednn"), to pure Java ("java"),
 * or to the best that loads ("auto"). {@link #configure} hands it the settings in force (the
 * command line does so at start-up); without it every setting has its default.
 */
public final class Kernels {

  private static final Logger LOG = LoggerFactory.getLogger(Kernels.class);
  private static volatile Settings settings = Settings.defaults();
  private static volatile boolean nativeFloat = settings.get(SettingsTable.NATIVE_FLOAT);
  private static volatile long int8MinNativeMacs = settings.get(SettingsTable.INT8_MIN_NATIVE_MACS);
  /** Set once {@link Chosen} has picked the Java GEMM. */
  private static volatile boolean chosen;

  /**
   * The Java GEMM and the one in use, picked (and logged) on first use, so that {@link #configure}
   * at start-up loads no kernel for commands that compute nothing.
   */
  private static final class Chosen {
    static volatile Gemm java = chooseJava(defaultThreads());
    static volatile Gemm active = java;

    static {
      chosen = true;
    }
  }

  private Kernels() {}

  /**
   * Installs the settings in force: the Java kernels' threads ({@code lowbit.threads}), whether a
   * native backend runs fp32 convolutions, the int8 size cutoff; a backend loaded later by {@link
   * #useBackend} receives them too. A backend already in use keeps running.
   */
  public static synchronized void configure(Settings s) {
    settings = s;
    nativeFloat = s.get(SettingsTable.NATIVE_FLOAT);
    int8MinNativeMacs = s.get(SettingsTable.INT8_MIN_NATIVE_MACS);
    int t = defaultThreads();
    if (t == Parallel.threads()) return;
    if (chosen) {
      setThreads(t);
    } else {
      Parallel.setThreads(t); // the Java GEMM, picked later, reads the new settings
    }
  }

  /** The settings installed by {@link #configure}, else the defaults. */
  public static Settings settings() {
    return settings;
  }

  /** Threads for the Java GEMM: setting {@code lowbit.threads}, 0 meaning all processors. */
  static int defaultThreads() {
    int t = settings.get(SettingsTable.THREADS);
    return t > 0 ? t : Runtime.getRuntime().availableProcessors();
  }

  /** Training's int8 products below this many multiply-adds per call run on the Java int8 kernel. */
  static long int8MinNativeMacs() {
    return int8MinNativeMacs;
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
    Gemm old = Chosen.java;
    Chosen.java = chooseJava(threads);
    Parallel.setThreads(threads);
    if (Chosen.active == old) Chosen.active = Chosen.java;
    return Chosen.java;
  }

  /** The GEMM implementation in use: pure Java unless {@link #useBackend} chose a native one. */
  public static Gemm gemm() {
    return Chosen.active;
  }

  /**
   * The native fp32 training kernels of the backend in use, or null: under pure Java, or when the
   * setting {@code lowbit.nativeFloat} is false.
   */
  public static FloatKernels floatKernels() {
    return Chosen.active instanceof FloatKernels f && nativeFloat ? f : null;
  }

  /** The portable pure-Java GEMM, whatever backend is active. */
  public static Gemm javaGemm() {
    return Chosen.java;
  }

  /**
   * Selects the backend by name: "java", "auto" (a native backend if one loads, else Java) or a
   * {@link GemmBackend#name()}. Returns the Gemm now in use.
   *
   * @throws IllegalArgumentException when a named backend is unknown or cannot load here
   */
  public static synchronized Gemm useBackend(String name) {
    Gemm fallback = Chosen.java;
    if (name == null || name.equals("java")) {
      Chosen.active = fallback;
      LOG.info("GEMM backend: {} (requested)", fallback.name());
      return Chosen.active;
    }
    boolean auto = name.equals("auto");
    StringBuilder known = new StringBuilder("java, auto");
    for (GemmBackend b : ServiceLoader.load(GemmBackend.class)) {
      known.append(", ").append(b.name());
      if (!auto && !b.name().equals(name)) continue;
      try {
        Chosen.active = b.load(fallback, settings);
        LOG.info("GEMM backend: {} ({})", Chosen.active.name(), auto ? "auto: natives loaded" : "requested");
        return Chosen.active;
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
    Chosen.active = fallback;
    return Chosen.active;
  }
}
