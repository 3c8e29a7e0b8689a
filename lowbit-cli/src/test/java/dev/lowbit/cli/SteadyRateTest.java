package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The bench's warm-up and summary rules on synthetic window timings (no clock involved). */
class SteadyRateTest {

  /** The first window index at which the rule calls a series steady, or -1. */
  private static int steadyAt(double[] t, long[] jit, int k, double tol) {
    for (int c = 1; c <= t.length; c++) {
      if (SteadyRate.isSteady(t, jit, c, k, tol)) return c - 1;
    }
    return -1;
  }

  @Test
  void warmUpEndsOnlyAfterTheJitHasSettled() {
    // interpreted, C1, a plateau while C2 compiles (flat but JIT busy), then compiled code
    double[] t = {1700, 1650, 90, 88, 89, 90, 88, 1.3, 1.02, 1.0, 0.99, 1.01, 1.0, 1.0};
    long[] jit = {40, 30, 25, 12, 20, 9, 15, 3, 0, 0, 0, 0, 0, 0};
    // the plateau at ~89 agrees within 10% but the JIT compiled during it: not steady
    int at = steadyAt(t, jit, 5, 0.10);
    assertEquals(12, at, "steady once 5 windows after the jump agree with no compilation");
    // the same plateau without JIT activity would pass, which is why compilation is watched
    assertEquals(6, steadyAt(t, new long[t.length], 5, 0.10));
  }

  @Test
  void aSlowlyFallingTimeIsNotSteadyButNoiseWithinToleranceIs() {
    double[] falling = new double[20];
    for (int i = 0; i < falling.length; i++) falling[i] = 100 * Math.pow(0.95, i); // 5% faster per window
    assertEquals(-1, steadyAt(falling, new long[20], 5, 0.10), "5 windows span 1/0.95^4 = 23%");
    double[] noisy = {10, 10.4, 9.7, 10.2, 9.9};
    assertTrue(SteadyRate.isSteady(noisy, new long[5], 5, 5, 0.10));
    assertFalse(SteadyRate.isSteady(noisy, new long[5], 5, 5, 0.05), "10.4 / 9.7 is 7% apart");
    assertFalse(SteadyRate.isSteady(noisy, new long[5], 4, 5, 0.10), "fewer windows than required");
    double[] outlier = {10, 10, 10, 25, 10, 10, 10, 10, 10};
    assertEquals(8, steadyAt(outlier, new long[9], 5, 0.10), "an outlier restarts the count");
    assertFalse(SteadyRate.isSteady(new double[] {1, 1, Double.NaN, 1, 1}, new long[5], 5, 5, 0.1));
    assertFalse(SteadyRate.isSteady(new double[] {1, 1, 0, 1, 1}, new long[5], 5, 5, 0.1));
  }

  @Test
  void summaryIsTheMedianWithBestWorstAndSpread() {
    SteadyRate.Result r = SteadyRate.summarize(new double[] {90, 100, 80, 120, 95}, true, 1.5);
    assertEquals(95, r.median());
    assertEquals(120, r.best());
    assertEquals(80, r.worst());
    assertEquals(40.0 / 95, r.spread(), 1e-12);
    assertEquals(97.5, SteadyRate.summarize(new double[] {100, 90, 95, 110}, false, 10).median());
  }

  @Test
  void ruleScalesWithSecondsAndBoundsTheWarmUp() {
    SteadyRate.Rule d = SteadyRate.Rule.forSeconds(0.3);
    assertEquals(30_000_000L, d.windowNanos());
    assertEquals(1_000_000_000L, d.minWarmNanos());
    assertEquals(10_000_000_000L, d.maxWarmNanos());
    assertEquals(60_000_000L, d.measureNanos());
    SteadyRate.Rule l = SteadyRate.Rule.forSeconds(5);
    assertEquals(100_000_000L, l.windowNanos());
    assertEquals(50_000_000_000L, l.maxWarmNanos());
    assertEquals(1_000_000_000L, l.measureNanos());
    assertTrue(d.describe().contains("5 consecutive 30 ms windows agree within 10%"), d.describe());
  }

  @Test
  void benchSaysHowItMeasuredAndPrintsMedianBestSpread() {
    CommandLine cl = Main.commandLine();
    StringWriter out = new StringWriter(), err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int rc = cl.execute("bench", "quantize", "--formats", "int8", "--roundings", "sr", "--sizes", "4096",
        "--seconds", "0.05");
    assertEquals(0, rc, err.toString());
    String o = out.toString();
    assertTrue(o.contains("# each case: warm-up until"), o);
    assertTrue(o.lines().anyMatch(l -> l.matches("int8 +stochastic +4096 +[0-9.]+ +[0-9.]+ +[0-9.]+% +[0-9.]+ +[0-9.]+( !)?")), o);
    assertTrue(o.contains("# cpu: elements per second"), o);
  }
}
