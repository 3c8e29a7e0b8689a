package dev.lowbit.cli;

import dev.lowbit.models.Models;
import dev.lowbit.nn.Module;
import dev.lowbit.nn.Normalization;
import dev.lowbit.nn.Numerics;
import dev.lowbit.numerics.Policy;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The checks {@code train} and {@code sweep} run on their flags before anything is loaded or
 * written: each bad value becomes one {@link IllegalArgumentException} naming the flag, the value
 * and what would be valid (the CLI prints it as one {@code lowbit: error:} line).
 */
final class Checks {

  private Checks() {}

  /** The most worker threads a run may ask for (far beyond any useful count; a typo should not start 10^6 threads). */
  static final int MAX_THREADS = 1024;

  static void positive(String flag, long v) {
    if (v <= 0) throw new IllegalArgumentException(flag + " must be > 0, got " + v);
  }

  static void threads(int v) {
    if (v <= 0 || v > MAX_THREADS) {
      throw new IllegalArgumentException("--threads must be 1.." + MAX_THREADS + ", got " + v);
    }
  }

  /** A data limit: 0 means all, a negative count is a mistake (it used to mean all as well). */
  static void limit(String flag, int v) {
    if (v < 0) throw new IllegalArgumentException(flag + " must be >= 0 (0 = all), got " + v);
  }

  static void positiveFinite(String flag, Double v) {
    if (v != null && !(v > 0 && Double.isFinite(v))) {
      throw new IllegalArgumentException(flag + " must be a positive finite number, got " + v);
    }
  }

  /** A value that may be zero (weight decay): not negative, not NaN or infinite. */
  static void nonNegativeFinite(String flag, Double v) {
    if (v != null && !(v >= 0 && Double.isFinite(v))) {
      throw new IllegalArgumentException(flag + " must be a finite number >= 0, got " + v);
    }
  }

  /** A fraction in [0, 1) (label smoothing). */
  static void fraction(String flag, double v) {
    if (!(v >= 0 && v < 1)) throw new IllegalArgumentException(flag + " must be in [0, 1), got " + v);
  }

  static void model(String model) {
    if (!Models.NAMES.contains(model)) {
      throw new IllegalArgumentException("unknown model '" + model + "'; known: " + String.join(", ", Models.NAMES));
    }
  }

  /**
   * An output directory that can be created or written: not empty, not a file, not below a file,
   * and (as far as the file system says before trying) writable. Nothing is created here.
   */
  static void outDir(String flag, Path out) {
    if (out == null || out.toString().isBlank()) {
      throw new IllegalArgumentException(flag + " must name a directory, got an empty path");
    }
    Path abs = out.toAbsolutePath().normalize();
    if (Files.exists(abs)) {
      if (!Files.isDirectory(abs)) {
        throw new IllegalArgumentException(flag + " " + out + ": "
            + (Files.isRegularFile(abs) ? "is a file, not a directory" : "is not a directory"));
      }
      if (!Files.isWritable(abs)) throw new IllegalArgumentException(flag + " " + out + ": directory is not writable");
      return;
    }
    // the nearest existing ancestor must be a directory we may create entries in
    Path missing = abs, existing = abs.getParent();
    while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
      missing = existing;
      existing = existing.getParent();
    }
    if (existing == null) return; // no root to ask (cannot happen on a real file system)
    if (!Files.isDirectory(existing)) {
      throw new IllegalArgumentException(flag + " " + out + ": cannot create directory " + missing + ": " + existing
          + (Files.isRegularFile(existing) ? " is a file" : " is not a directory"));
    }
    if (!Files.isWritable(existing)) {
      throw new IllegalArgumentException(flag + " " + out + ": cannot create directory " + missing
          + ": permission denied (" + existing + " is not writable)");
    }
  }

  /**
   * Checks each policy against the model it will train (see {@link Policy#check}): a rule whose
   * granularity cannot apply is an error; a rule that matches no layer is a warning on {@code err}
   * ({@code lowbit: warning: FILE:LINE: ...}), or an error when {@code strict}.
   */
  static void policiesFit(List<Policy> policies, String model, boolean strict, PrintWriter err) {
    Map<String, List<Policy.Site>> sitesByNorm = new LinkedHashMap<>(); // norm layers differ only in kind, not name
    for (Policy p : policies) {
      Normalization norm = p.methods().l1Normalization() ? Normalization.L1 : Normalization.L2;
      List<Policy.Site> sites = sitesByNorm.computeIfAbsent(norm.name(), n -> {
        Module m = Models.create(model, 0, norm);
        return Numerics.sites(m);
      });
      for (String w : p.check(sites, model, strict)) err.println("lowbit: warning: " + w);
    }
    err.flush();
  }
}
