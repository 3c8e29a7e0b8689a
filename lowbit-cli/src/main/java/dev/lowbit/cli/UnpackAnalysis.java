package dev.lowbit.cli;

import dev.lowbit.unpack.HeavyHitters;
import dev.lowbit.unpack.IntMatrix;
import dev.lowbit.unpack.Rtn;
import dev.lowbit.unpack.Strategy;
import dev.lowbit.unpack.UnpackedGemm;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * IM-Unpack's cost on captured products (Zeng, Sankaralingam, Singh, ICML 2024): each operand
 * RTN-quantized once per tensor (β, D distinct values), then at every bit width b its heavy-hitter
 * fraction and the unpack ratio of each strategy, and the strategy the chooser picks.
 */
final class UnpackAnalysis {

  private UnpackAnalysis() {}

  /**
   * Above this many entries of A and B together (one slice) the greedy BOTH is not run: its cost
   * grows with the number of lines it splits times their length, and a product that large is
   * reported as skipped rather than left to run for minutes.
   */
  static final long BOTH_MAX_ENTRIES = 1L << 24;

  /** One (product, b): the heavy-hitter fractions of A and B, each strategy's ratio (BOTH NaN when skipped), the pick. */
  record Row(String layer, String product, int calls, int m, int k, int n, int bits, double heavyA, double heavyB,
      Map<Strategy, Double> ratios, Strategy pick) {

    long macs() {
      return (long) m * k * n * calls;
    }

    double ratio(Strategy s) {
      return ratios.get(s);
    }

    double pickRatio() {
      return ratio(pick);
    }

    boolean bothSkipped() {
      return Double.isNaN(ratio(Strategy.BOTH));
    }
  }

  /** The integer operands of a captured product: the codes of all slices, A as (calls·m)×k and B as (calls·k)×n. */
  record Quantized(ProductCapture.Captured product, IntMatrix a, IntMatrix b) {

    /** Slice i of A (m×k) or of B (k×n). */
    IntMatrix slice(boolean left, int i) {
      ProductCapture.Captured p = product;
      int rows = left ? p.m() : p.k(), cols = left ? p.k() : p.n();
      int[] all = (left ? a : b).data();
      return new IntMatrix(rows, cols, Arrays.copyOfRange(all, i * rows * cols, (i + 1) * rows * cols));
    }
  }

  /** RTN codes of both operands, per tensor over all slices (a batched product is one tensor). */
  static Quantized quantize(ProductCapture.Captured p, double beta, int distinct) {
    int[] a = Rtn.quantize(p.joined(true), beta, distinct).codes();
    int[] b = Rtn.quantize(p.joined(false), beta, distinct).codes();
    return new Quantized(p, new IntMatrix(p.calls() * p.m(), p.k(), a), new IntMatrix(p.calls() * p.k(), p.n(), b));
  }

  /** Whether BOTH is run on this product: at most {@code maxEntries} entries of A and B per slice. */
  static boolean bothRuns(ProductCapture.Captured p, long maxEntries) {
    return (long) p.m() * p.k() + (long) p.k() * p.n() <= maxEntries;
  }

  /**
   * The rows of one product at each of {@code bits}. A product of several slices has each
   * strategy's ratio over all of them (MAC-weighted; the slices are of one shape, so their mean)
   * and one pick for the whole product. BOTH is skipped (NaN) on a product larger than {@code
   * bothMaxEntries} ({@link #bothRuns}).
   */
  static List<Row> analyze(Quantized q, int[] bits, long bothMaxEntries) {
    ProductCapture.Captured p = q.product();
    boolean both = bothRuns(p, bothMaxEntries);
    List<Row> rows = new ArrayList<>();
    for (int b : bits) {
      Map<Strategy, Double> ratios = new EnumMap<>(Strategy.class);
      for (Strategy s : Strategy.values()) ratios.put(s, s == Strategy.BOTH && !both ? Double.NaN : 0.0);
      for (int i = 0; i < p.calls(); i++) {
        IntMatrix a = q.slice(true, i), bm = q.slice(false, i);
        for (Strategy s : Strategy.values()) {
          if (s == Strategy.BOTH && !both) continue;
          ratios.merge(s, UnpackedGemm.ratio(a, bm, s, b) / p.calls(), Double::sum);
        }
      }
      rows.add(new Row(p.layer(), p.product(), p.calls(), p.m(), p.k(), p.n(), b,
          HeavyHitters.of(q.a(), b).fraction(), HeavyHitters.of(q.b(), b).fraction(), ratios, pick(ratios)));
    }
    return rows;
  }

  /** The strategy of the smallest ratio, the first in {@link Strategy}'s order on equal ones; BOTH passed over when skipped. */
  static Strategy pick(Map<Strategy, Double> ratios) {
    return UnpackedGemm.cheapest(ratios);
  }

  /**
   * The MAC-weighted ratio over all products at {@code bits} of {@code s}, or of the picks when
   * {@code s} is null: Σ macs·ratio / Σ macs. NaN for BOTH when any product skipped it.
   */
  static double overall(List<Row> rows, int bits, Strategy s) {
    double num = 0, den = 0;
    for (Row r : rows) {
      if (r.bits() != bits) continue;
      num += r.macs() * (s == null ? r.pickRatio() : r.ratio(s));
      den += r.macs();
    }
    return den == 0 ? Double.NaN : num / den;
  }
}
