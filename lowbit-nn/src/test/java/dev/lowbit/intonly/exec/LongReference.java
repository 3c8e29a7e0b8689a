package dev.lowbit.intonly.exec;

import dev.lowbit.kernel.intonly.IntLayerNorm;
import dev.lowbit.kernel.intonly.ShiftGelu;
import dev.lowbit.kernel.intonly.Shiftmax;
import java.util.HashMap;
import java.util.Map;

/**
 * A second, plain reading of {@link Program}'s Javadoc for tests: one sample at a time, every
 * value a long[], every sum in long, every op written out as its formula (the nonlinear rows call
 * the kernels, which their own tests hold to the spec). The executor must agree with it exactly.
 */
final class LongReference {

  private LongReference() {}

  /** Every value of one sample, by value number. */
  static Map<Integer, long[]> values(Program p, byte[] pixels, int off) {
    Map<Integer, long[]> v = new HashMap<>();
    int size = p.channels() * p.height() * p.width();
    long[] x = new long[size];
    for (int i = 0; i < size; i++) x[i] = pixels[off + i] & 0xFF;
    v.put(Program.INPUT, x);
    for (Program.Op op : p.ops()) v.put(op.out(), eval(op, v));
    return v;
  }

  /** The logits (the last argmax's input) and then the class of one sample. */
  static long[] run(Program p, byte[] pixels, int off) {
    Map<Integer, long[]> v = values(p, pixels, off);
    long[] logits = v.get(((Program.Argmax) p.ops().getLast()).in());
    long[] out = new long[logits.length + 1];
    System.arraycopy(logits, 0, out, 0, logits.length);
    out[logits.length] = v.get(p.ops().getLast().out())[0];
    return out;
  }

  private static long[] eval(Program.Op op, Map<Integer, long[]> v) {
    return switch (op) {
      case Program.Conv c -> conv(c, v.get(c.in()));
      case Program.Linear l -> {
        long[] x = v.get(l.in()), y = new long[l.rows() * l.outF()];
        for (int r = 0; r < l.rows(); r++) {
          for (int o = 0; o < l.outF(); o++) {
            long s = l.bias()[o];
            for (int i = 0; i < l.inF(); i++) s += l.weight()[o * l.inF() + i] * x[r * l.inF() + i];
            y[r * l.outF() + o] = s;
          }
        }
        yield y;
      }
      case Program.Requant r -> {
        long[] x = v.get(r.in()), y = new long[x.length];
        for (int i = 0; i < x.length; i++) y[i] = clamp(rescale(r.rescale(), i, x[i]), r.lo(), r.hi());
        yield y;
      }
      case Program.Add a -> {
        long[] x = v.get(a.a()), z = v.get(a.b()), y = new long[x.length];
        for (int i = 0; i < x.length; i++) y[i] = clamp(rescale(a.ra(), i, x[i]) + rescale(a.rb(), i, z[i]), a.lo(), a.hi());
        yield y;
      }
      case Program.Const c -> {
        long[] y = new long[c.values().length];
        for (int i = 0; i < y.length; i++) y[i] = c.values()[i];
        yield y;
      }
      case Program.MaxPool m -> {
        long[] x = v.get(m.in());
        int oh = (m.h() - m.k()) / m.stride() + 1, ow = (m.w() - m.k()) / m.stride() + 1;
        long[] y = new long[m.c() * oh * ow];
        for (int c = 0; c < m.c(); c++) {
          for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
              long best = Long.MIN_VALUE;
              for (int ky = 0; ky < m.k(); ky++) {
                for (int kx = 0; kx < m.k(); kx++) best = Math.max(best, x[(c * m.h() + oy * m.stride() + ky) * m.w() + ox * m.stride() + kx]);
              }
              y[(c * oh + oy) * ow + ox] = best;
            }
          }
        }
        yield y;
      }
      case Program.Sum s -> {
        long[] x = v.get(s.in()), y = new long[s.outer() * s.inner()];
        for (int o = 0; o < s.outer(); o++) {
          for (int t = 0; t < s.count(); t++) {
            for (int j = 0; j < s.inner(); j++) y[o * s.inner() + j] += x[(o * s.count() + t) * s.inner() + j];
          }
        }
        yield y;
      }
      case Program.Transpose t -> {
        long[] x = v.get(t.in()), y = new long[x.length];
        for (int r = 0; r < t.rows(); r++) {
          for (int c = 0; c < t.cols(); c++) y[c * t.rows() + r] = x[r * t.cols() + c];
        }
        yield y;
      }
      case Program.LayerNorm l -> rows(v.get(l.in()), l.rows(), l.dim(),
          (x, o) -> IntLayerNorm.row(x, 0, l.dim(), l.bias(), o, 0));
      case Program.Scores s -> {
        long[] q = v.get(s.q()), k = v.get(s.k());
        int t = s.tokens(), dh = s.headDim(), w = s.heads() * dh;
        long[] y = new long[s.heads() * t * t];
        for (int h = 0; h < s.heads(); h++) {
          for (int i = 0; i < t; i++) {
            for (int j = 0; j < t; j++) {
              long sum = 0;
              for (int d = 0; d < dh; d++) sum += q[i * w + h * dh + d] * k[j * w + h * dh + d];
              y[(h * t + i) * t + j] = sum;
            }
          }
        }
        yield y;
      }
      case Program.Context c -> {
        long[] p = v.get(c.p()), val = v.get(c.v());
        int t = c.tokens(), dh = c.headDim(), w = c.heads() * dh;
        long[] y = new long[t * w];
        for (int h = 0; h < c.heads(); h++) {
          for (int i = 0; i < t; i++) {
            for (int d = 0; d < dh; d++) {
              long sum = 0;
              for (int j = 0; j < t; j++) sum += p[(h * t + i) * t + j] * val[j * w + h * dh + d];
              y[i * w + h * dh + d] = sum;
            }
          }
        }
        yield y;
      }
      case Program.Shiftmax s -> rows(v.get(s.in()), s.rows(), s.cols(),
          (x, o) -> Shiftmax.row(x, 0, s.cols(), s.x0(), s.n(), s.kOut(), o, 0));
      case Program.ShiftGelu g -> rows(v.get(g.in()), g.rows(), g.cols(),
          (x, o) -> ShiftGelu.row(x, 0, g.cols(), new ShiftGelu.Params(g.x0(), g.n(), g.kOut(), g.precise()), o, 0));
      case Program.Argmax a -> {
        long[] x = v.get(a.in());
        int best = 0;
        for (int i = 1; i < a.classes(); i++) if (x[i] > x[best]) best = i;
        yield new long[] {best};
      }
    };
  }

  private static long[] conv(Program.Conv c, long[] x) {
    Program.ConvShape s = c.shape();
    int oh = s.outH(), ow = s.outW();
    long[] y = new long[s.outC() * oh * ow];
    for (int o = 0; o < s.outC(); o++) {
      for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
          long sum = c.bias()[o];
          for (int ch = 0; ch < s.inC(); ch++) {
            for (int ky = 0; ky < s.k(); ky++) {
              for (int kx = 0; kx < s.k(); kx++) {
                int iy = oy * s.stride() + ky - s.pad(), ix = ox * s.stride() + kx - s.pad();
                if (iy < 0 || iy >= s.inH() || ix < 0 || ix >= s.inW()) continue;
                sum += c.weight()[((o * s.inC() + ch) * s.k() + ky) * s.k() + kx] * x[(ch * s.inH() + iy) * s.inW() + ix];
              }
            }
          }
          y[(o * oh + oy) * ow + ox] = sum;
        }
      }
    }
    return y;
  }

  /** round(z·m/2^k) half up as floorDiv(z·m + 2^(k−1), 2^k), the channel (i / inner) % channels. */
  private static long rescale(Program.Rescale r, int i, long z) {
    int c = r.m().length == 1 ? 0 : (i / r.inner()) % r.channels();
    int k = r.k()[c];
    return k == 0 ? z * r.m()[c] : Math.floorDiv(z * r.m()[c] + (1L << (k - 1)), 1L << k);
  }

  private static long clamp(long v, int lo, int hi) {
    return Math.max(lo, Math.min(hi, v));
  }

  private interface RowOp {
    void apply(int[] x, int[] out);
  }

  private static long[] rows(long[] x, int rows, int cols, RowOp f) {
    long[] y = new long[rows * cols];
    int[] in = new int[cols], out = new int[cols];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < cols; j++) in[j] = Math.toIntExact(x[r * cols + j]);
      f.apply(in, out);
      for (int j = 0; j < cols; j++) y[r * cols + j] = out[j];
    }
    return y;
  }
}
