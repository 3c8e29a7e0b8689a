package dev.lowbit.intonly;

import dev.lowbit.intonly.exec.Program;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/** A program as text, one line per op: what it reads, the shape it writes, its value range and scales. */
public final class ProgramText {

  private ProgramText() {}

  /**
   * One line per op (for {@code --explain}): {@code vN = Op(inputs) shape range details}, with a
   * requantization's multipliers as m/2^k (one, or per channel their count and span).
   */
  public static String explain(Program p) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "program %s: input %d×%d×%d raw pixels [0,255] (×1/255), %d classes, %d ops%n",
        p.model(), p.channels(), p.height(), p.width(), p.classes(), p.ops().size()));
    Map<Integer, int[]> shape = new HashMap<>();
    shape.put(Program.INPUT, new int[] {p.channels(), p.height(), p.width()});
    for (Program.Op op : p.ops()) {
      int[] s;
      String what;
      switch (op) {
        case Program.Conv c -> {
          var cs = c.shape();
          s = new int[] {cs.outC(), cs.outH(), cs.outW()};
          what = String.format(Locale.ROOT, "int32, %d×%d kernel, stride %d, pad %d, weights %s, bias %s", cs.k(), cs.k(),
              cs.stride(), cs.pad(), span(c.weight()), span(c.bias()));
        }
        case Program.Linear l -> {
          s = l.rows() == 1 ? new int[] {l.outF()} : new int[] {l.rows(), l.outF()};
          what = String.format(Locale.ROOT, "int32, %d→%d, weights %s, bias %s", l.inF(), l.outF(), span(l.weight()),
              span(l.bias()));
        }
        case Program.Requant r -> {
          s = shape.get(r.in());
          what = range(r.lo(), r.hi()) + ", ×" + scales(r.rescale());
        }
        case Program.Add a -> {
          s = shape.get(a.a());
          what = range(a.lo(), a.hi()) + ", a ×" + scales(a.ra()) + ", b ×" + scales(a.rb());
        }
        case Program.Const c -> {
          s = new int[] {c.values().length};
          what = "constant " + span(c.values());
        }
        case Program.MaxPool m -> {
          s = new int[] {m.c(), (m.h() - m.k()) / m.stride() + 1, (m.w() - m.k()) / m.stride() + 1};
          what = String.format(Locale.ROOT, "%d×%d window, stride %d", m.k(), m.k(), m.stride());
        }
        case Program.Sum m -> {
          s = m.outer() == 1 ? new int[] {m.inner()} : m.inner() == 1 ? new int[] {m.outer()}
              : new int[] {m.outer(), m.inner()};
          what = "int32, sum of " + m.count() + " (the mean's 1/" + m.count() + " is in the next rescale)";
        }
        case Program.Transpose t -> {
          s = new int[] {t.cols(), t.rows()};
          what = "transpose of " + t.rows() + "×" + t.cols();
        }
        case Program.LayerNorm l -> {
          s = new int[] {l.rows(), l.dim()};
          int clamped = 0;
          for (int b : l.bias()) if (Math.abs((long) b) == 1L << 30) clamped++;
          what = "int32 z + bias, bias " + span(l.bias()) + (clamped > 0 ? " (" + clamped + " clamped to ±2^30)" : "")
              + " (real value ×√" + l.dim() + "/2^30·γ, in the next rescale)";
        }
        case Program.Scores sc -> {
          s = new int[] {sc.heads(), sc.tokens(), sc.tokens()};
          what = "int32, q·kᵀ, " + sc.heads() + " heads of " + sc.headDim();
        }
        case Program.Context c -> {
          s = new int[] {c.tokens(), c.heads() * c.headDim()};
          what = "int32, p·v, " + c.heads() + " heads of " + c.headDim();
        }
        case Program.Shiftmax m -> {
          s = shape.get(m.in());
          what = String.format(Locale.ROOT, "[0,%d] (×2^-%d), x0 %d, n %d", (1 << (m.kOut() - 1)) - 1, m.kOut() - 1, m.x0(),
              m.n());
        }
        case Program.ShiftGelu g -> {
          s = shape.get(g.in());
          what = String.format(Locale.ROOT, "x·σ, σ in [0,%d] (output ×S/2^%d), x0 %d, n %d, %s division",
              (1 << (g.kOut() - 1)) - 1, g.kOut() - 1, g.x0(), g.n(), g.precise() ? "precise" : "reciprocal");
        }
        case Program.Argmax a -> {
          s = new int[] {1};
          what = "class index of " + a.classes();
        }
      }
      shape.put(op.out(), s);
      StringBuilder in = new StringBuilder();
      for (int v : op.inputs()) in.append(in.isEmpty() ? "" : ", ").append('v').append(v);
      sb.append(String.format(Locale.ROOT, "v%-3d = %-9s (%s) %s  %s%n", op.out(), op.getClass().getSimpleName(), in,
          dims(s), what));
    }
    return sb.toString();
  }

  private static String dims(int[] s) {
    StringBuilder sb = new StringBuilder();
    for (int d : s) sb.append(sb.isEmpty() ? "" : "×").append(d);
    return sb.toString();
  }

  private static String range(int lo, int hi) {
    String name = lo == -128 && hi == 127 ? "int8 " : lo == 0 && hi == 127 ? "int8 relu " : lo == -32768 && hi == 32767
        ? "int16 " : lo == Integer.MIN_VALUE && hi == Integer.MAX_VALUE ? "int32 " : "";
    return name + "[" + lo + "," + hi + "]";
  }

  private static String scales(Program.Rescale r) {
    if (r.m().length == 1) return dyadic(r.m()[0], r.k()[0]);
    double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
    int negative = 0;
    for (int c = 0; c < r.m().length; c++) {
      double v = r.m()[c] * Math.scalb(1.0, -r.k()[c]);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      if (v < 0) negative++;
    }
    return String.format(Locale.ROOT, "m/2^k per channel (%d): %.4g to %.4g%s", r.m().length, lo, hi,
        negative > 0 ? ", " + negative + " negative" : "");
  }

  private static String dyadic(int m, int k) {
    return String.format(Locale.ROOT, "%d/2^%d (%.6g)", m, k, m * Math.scalb(1.0, -k));
  }

  private static String span(byte[] v) {
    int[] w = new int[v.length];
    for (int i = 0; i < v.length; i++) w[i] = v[i];
    return "int8 " + span(w);
  }

  private static String span(int[] v) {
    long lo = Long.MAX_VALUE, hi = Long.MIN_VALUE;
    for (int b : v) {
      lo = Math.min(lo, b);
      hi = Math.max(hi, b);
    }
    return "[" + lo + "," + hi + "]";
  }
}
