package dev.lowbit.cli;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Throughput of a repeated body at its steady state, not during JIT warm-up. The body runs in
 * short windows; warm-up ends when the last {@link Rule#windows} windows' times per iteration
 * agree within {@link Rule#tolerance} (largest over smallest) and the JIT compiled nothing during
 * them, after at least {@link Rule#minWarmNanos} — or when the warm-up budget is spent, which the
 * result then says. Then {@link Rule#measured} windows are timed and their median, best and spread
 * reported. The decisions ({@link #isSteady}, {@link #summarize}) are pure functions of the
 * window timings, so that they are tested on synthetic timings.
 */
final class SteadyRate {

  private SteadyRate() {}

  /**
   * The warm-up and measurement rule. {@code windowNanos}: length of a warm-up window; {@code
   * windows}: how many consecutive windows must agree; {@code tolerance}: largest over smallest
   * time per iteration minus one; {@code minWarmNanos}/{@code maxWarmNanos}: warm-up bounds;
   * {@code measured}: timed windows of {@code measureNanos} each.
   */
  record Rule(long windowNanos, int windows, double tolerance, long minWarmNanos, long maxWarmNanos,
      int measured, long measureNanos) {

    /** The bench's rule for a measuring time of {@code seconds} per case. */
    static Rule forSeconds(double seconds) {
      long total = Math.round(seconds * 1e9);
      long window = Math.max(20_000_000L, Math.min(100_000_000L, total / 10));
      return new Rule(window, 5, 0.10, 1_000_000_000L, Math.max(10_000_000_000L, 10 * total), 5,
          Math.max(1, total / 5));
    }

    /** One line for the output saying how the rates were measured. */
    String describe() {
      return String.format(Locale.ROOT, "# each case: warm-up until %d consecutive %.0f ms windows agree within %.0f%% "
              + "and the JIT compiled nothing during them (%.1f..%.0f s), then %d windows of %.3f s: "
              + "median rate, best, spread = (max - min) / median; '!' = never steady",
          windows, windowNanos / 1e6, tolerance * 100, minWarmNanos / 1e9, maxWarmNanos / 1e9,
          measured, measureNanos / 1e9);
    }
  }

  /**
   * A measured rate: median, best and worst window (iterations per second), whether warm-up ended
   * steady, and the median iterations per second of the calling thread's CPU time ({@code
   * cpuMedian}, NaN where the JVM cannot tell): on a machine that other work keeps busy, the rate
   * per core that the wall-clock rate understates (for work done on the calling thread only).
   */
  record Result(double median, double best, double worst, boolean steady, double warmSeconds, double cpuMedian) {
    /** (best - worst) / median. */
    double spread() {
      return median > 0 ? (best - worst) / median : 0;
    }
  }

  /**
   * Whether the last {@code k} of {@code count} windows (nanoseconds per iteration {@code
   * nanosPerIter}, JIT compilation milliseconds during each {@code compileMillis}) show a steady
   * state: all finite and positive, largest over smallest at most 1 + tolerance, no compilation.
   */
  static boolean isSteady(double[] nanosPerIter, long[] compileMillis, int count, int k, double tolerance) {
    if (count < k) return false;
    double lo = Double.POSITIVE_INFINITY, hi = 0;
    for (int i = count - k; i < count; i++) {
      double t = nanosPerIter[i];
      if (!(t > 0) || Double.isInfinite(t) || compileMillis[i] > 0) return false;
      lo = Math.min(lo, t);
      hi = Math.max(hi, t);
    }
    return hi <= lo * (1 + tolerance);
  }

  /** Median, best and worst of measured window rates. */
  static Result summarize(double[] rates, boolean steady, double warmSeconds) {
    return summarize(rates, null, steady, warmSeconds);
  }

  /** As {@link #summarize(double[], boolean, double)}, with CPU-time rates per window (or null). */
  static Result summarize(double[] rates, double[] cpuRates, boolean steady, double warmSeconds) {
    double[] s = rates.clone();
    Arrays.sort(s);
    return new Result(median(rates), s[s.length - 1], s[0], steady, warmSeconds,
        cpuRates == null ? Double.NaN : median(cpuRates));
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }

  /** The end of a warm-up: whether it became steady, its seconds, and the last window's nanoseconds per iteration. */
  record Warm(boolean steady, double seconds, double nanosPerIter) {}

  /** Runs {@code body} in windows of {@code rule} until they show a steady state or the warm-up budget is spent. */
  static Warm warmUp(Rule rule, Runnable body) {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    boolean jitTime = jit != null && jit.isCompilationTimeMonitoringSupported();
    int cap = (int) Math.min(100_000, rule.maxWarmNanos() / Math.max(1, rule.windowNanos()) + rule.windows() + 2);
    double[] times = new double[cap];
    long[] compile = new long[cap];
    long start = System.nanoTime();
    int count = 0;
    boolean steady = false;
    while (true) {
      long c0 = jitTime ? jit.getTotalCompilationTime() : 0;
      times[count] = 1e9 / window(body, rule.windowNanos(), null)[0];
      compile[count] = jitTime ? jit.getTotalCompilationTime() - c0 : 0;
      count++;
      long elapsed = System.nanoTime() - start;
      if (elapsed >= rule.minWarmNanos() && isSteady(times, compile, count, rule.windows(), rule.tolerance())) {
        steady = true;
        break;
      }
      if (elapsed >= rule.maxWarmNanos() || count == cap) break;
    }
    return new Warm(steady, (System.nanoTime() - start) * 1e-9, times[count - 1]);
  }

  /** Warms {@code body} up and measures it under {@code rule}; iterations per second. */
  static Result measure(Rule rule, Runnable body) {
    Warm w0 = warmUp(rule, body);
    boolean steady = w0.steady();
    double warm = w0.seconds();
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    ThreadMXBean cpu = threads.isCurrentThreadCpuTimeSupported() ? threads : null;
    double[] rates = new double[rule.measured()], cpuRates = cpu == null ? null : new double[rule.measured()];
    for (int i = 0; i < rates.length; i++) {
      double[] w = window(body, rule.measureNanos(), cpu);
      rates[i] = w[0];
      if (cpuRates != null) cpuRates[i] = w[1];
    }
    return summarize(rates, cpuRates, steady, warm);
  }

  /** Seconds per call of one body timed by {@link #interleaved}: fastest and median call, and whether its warm-up ended steady. */
  record Timing(int reps, double bestSeconds, double medianSeconds, boolean steady) {}

  /**
   * Warms each body up until its calls run at a steady rate with the JIT idle ({@link #warmUp}
   * under {@link Rule#forSeconds}: a body that C2 compiles late was otherwise timed in its slow C1
   * form), then times the bodies call by call in interleaved rounds of about 50 ms each until each
   * has had {@code minTime} seconds and at least 3 calls, so that a disturbance from other
   * processes hits every body alike and ratios between them stay fair.
   */
  static Timing[] interleaved(List<Runnable> bodies, double minTime) {
    return interleaved(bodies, minTime, Rule.forSeconds(minTime));
  }

  /**
   * As {@link #interleaved(List, double)}, with each body's warm-up given up after at most {@code
   * maxWarmSeconds} (the result then says it was not steady).
   */
  static Timing[] interleaved(List<Runnable> bodies, double minTime, double maxWarmSeconds) {
    Rule r = Rule.forSeconds(minTime);
    long cap = Math.round(maxWarmSeconds * 1e9);
    return interleaved(bodies, minTime, new Rule(r.windowNanos(), r.windows(), r.tolerance(),
        Math.min(r.minWarmNanos(), cap), cap, r.measured(), r.measureNanos()));
  }

  private static Timing[] interleaved(List<Runnable> bodies, double minTime, Rule rule) {
    int nk = bodies.size();
    long[] perCall = new long[nk];
    boolean[] steady = new boolean[nk];
    for (int i = 0; i < nk; i++) {
      Warm w = warmUp(rule, bodies.get(i));
      steady[i] = w.steady();
      perCall[i] = Math.max(1, Math.round(w.nanosPerIter()));
    }
    List<List<Long>> times = new ArrayList<>();
    long[] spent = new long[nk];
    for (int i = 0; i < nk; i++) times.add(new ArrayList<>());
    long budget = (long) (minTime * 1e9);
    boolean more = true;
    while (more) {
      more = false;
      for (int i = 0; i < nk; i++) {
        if (spent[i] >= budget && times.get(i).size() >= 3) continue;
        more = true;
        long calls = Math.max(1, Math.min(1000, 50_000_000L / perCall[i]));
        for (long c = 0; c < calls; c++) {
          long s = System.nanoTime();
          bodies.get(i).run();
          long t = System.nanoTime() - s;
          times.get(i).add(t);
          spent[i] += t;
        }
      }
    }
    Timing[] out = new Timing[nk];
    for (int i = 0; i < nk; i++) {
      long[] t = times.get(i).stream().mapToLong(Long::longValue).sorted().toArray();
      out[i] = new Timing(t.length, t[0] / 1e9, t[t.length / 2] / 1e9, steady[i]);
    }
    return out;
  }

  /** Iterations per second of {@code body} over at least {@code nanos}, and per second of this thread's CPU time. */
  private static double[] window(Runnable body, long nanos, ThreadMXBean cpu) {
    long reps = 0;
    long c0 = cpu == null ? 0 : cpu.getCurrentThreadCpuTime();
    long start = System.nanoTime(), now;
    do {
      body.run();
      reps++;
      now = System.nanoTime();
    } while (now - start < nanos);
    long c1 = cpu == null ? 0 : cpu.getCurrentThreadCpuTime();
    return new double[] {reps / ((now - start) * 1e-9), cpu == null || c1 <= c0 ? Double.NaN : reps / ((c1 - c0) * 1e-9)};
  }
}
