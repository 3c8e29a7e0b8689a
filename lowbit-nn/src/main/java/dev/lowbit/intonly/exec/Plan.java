package dev.lowbit.intonly.exec;

import dev.lowbit.kernel.intonly.Dyadic;
import dev.lowbit.kernel.intonly.Shiftmax;
import dev.lowbit.kernel.intonly.Window;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A checked {@link Program}: every value's slot, per-sample size and storage, and the op after
 * which it is no longer read. Built once per run; a malformed program fails here with an
 * IllegalArgumentException naming the op index, its type and the field.
 */
final class Plan {

  /** How a value is stored: int32, or one byte per element read as signed or unsigned. */
  enum Kind {
    INT, S8, U8;

    boolean isByte() {
      return this != INT;
    }

    /** The byte storage for an op whose output lies in [lo, hi], or INT when it does not fit. */
    static Kind of(int lo, int hi) {
      if (lo >= -128 && hi <= 127) return S8;
      if (lo >= 0 && hi <= 255) return U8;
      return INT;
    }
  }

  final Program program;
  /** Per op: the slot it writes, the slots it reads (op i writes slot i + 1; the input is slot 0). */
  final int[][] reads;
  final int[] size;
  final Kind[] kind;
  /** The index of the last op that reads each slot (−1: none). */
  final int[] lastRead;
  /** Per slot: how many times ops read it. */
  final int[] readers;
  /** The slot of the logits (the final argmax's input). */
  final int logits;
  /**
   * Per op: for a Requant whose output only a MaxPool reads, and which commutes with it, the index
   * of that pool (−1: none). A requantization with non-negative multipliers is monotone
   * non-decreasing (a multiply, a rounding shift, a clamp), so the max of the requantized values
   * is the requantized max: the run pools the int32 input first and requantizes a quarter of the
   * values (for 2×2 windows), with the same bits.
   */
  final int[] poolAfter;
  /** Per op: whether it is a MaxPool that the Requant before it computes (see {@link #poolAfter}). */
  final boolean[] pooled;

  private final Map<Integer, Integer> slotOf = new HashMap<>();

  Plan(Program p) {
    this.program = p;
    List<Program.Op> ops = p.ops();
    int slots = ops.size() + 1;
    reads = new int[ops.size()][];
    size = new int[slots];
    kind = new Kind[slots];
    lastRead = new int[slots];
    readers = new int[slots];
    Arrays.fill(lastRead, -1);
    slotOf.put(Program.INPUT, 0);
    size[0] = p.channels() * p.height() * p.width();
    kind[0] = Kind.U8;
    if (ops.isEmpty() || !(ops.getLast() instanceof Program.Argmax last)) {
      throw new IllegalArgumentException("program " + p.model() + ": the last op must be an Argmax");
    }
    for (int i = 0; i < ops.size(); i++) {
      Program.Op op = ops.get(i);
      try {
        reads[i] = slots(op);
        for (int s : reads[i]) {
          lastRead[s] = i;
          readers[s]++;
        }
        check(op, i + 1);
        if (op.out() < 0 || slotOf.putIfAbsent(op.out(), i + 1) != null) {
          throw new IllegalArgumentException("field out: value " + op.out()
              + (op.out() < 0 ? " is negative" : " is already written (value 0 is the input)"));
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("op " + i + " (" + op.getClass().getSimpleName() + ") " + e.getMessage(), e);
      }
    }
    if (last.classes() != p.classes()) {
      throw new IllegalArgumentException("op " + (ops.size() - 1) + " (Argmax) field classes: " + last.classes()
          + ", but the program has " + p.classes() + " classes");
    }
    logits = reads[ops.size() - 1][0];
    poolAfter = new int[ops.size()];
    pooled = new boolean[ops.size()];
    Arrays.fill(poolAfter, -1);
    for (int i = 0; i < ops.size(); i++) {
      if (ops.get(i) instanceof Program.Requant r && commutesWithPool(i, r)) {
        poolAfter[i] = lastRead[i + 1];
        pooled[lastRead[i + 1]] = true;
      }
    }
  }

  /**
   * Whether Requant op {@code i} may run after the max pool that alone reads it: its input is int32,
   * its multipliers are non-negative, and its scale is per tensor or per pool channel.
   */
  private boolean commutesWithPool(int i, Program.Requant r) {
    int slot = i + 1;
    if (readers[slot] != 1 || slot == logits || kind[reads[i][0]] != Kind.INT) return false;
    if (!(program.ops().get(lastRead[slot]) instanceof Program.MaxPool m)) return false;
    for (int v : r.rescale().m()) {
      if (v < 0) return false;
    }
    return r.rescale().m().length == 1 || (r.rescale().channels() == m.c() && r.rescale().inner() == m.h() * m.w());
  }

  /** The slots an op reads, each written before it. */
  private int[] slots(Program.Op op) {
    int[] in = op.inputs();
    int[] s = new int[in.length];
    for (int j = 0; j < in.length; j++) {
      Integer slot = slotOf.get(in[j]);
      if (slot == null) {
        throw new IllegalArgumentException("field " + inputName(op, j) + ": value " + in[j] + " is read before it is written");
      }
      s[j] = slot;
    }
    return s;
  }

  private static String inputName(Program.Op op, int j) {
    return switch (op) {
      case Program.Add a -> j == 0 ? "a" : "b";
      case Program.Scores s -> j == 0 ? "q" : "k";
      case Program.Context c -> j == 0 ? "p" : "v";
      default -> "in";
    };
  }

  /** Checks the sizes and constants of op writing {@code slot}, and records the output's size and storage. */
  private void check(Program.Op op, int slot) {
    switch (op) {
      case Program.Conv c -> {
        Program.ConvShape s = c.shape();
        window(s);
        need("in", c.in(), s.inC() * s.inH() * s.inW());
        length("weight", c.weight().length, s.outC() * s.inC() * s.k() * s.k());
        length("bias", c.bias().length, s.outC());
        out(slot, s.outC() * s.outH() * s.outW(), Kind.INT);
      }
      case Program.Linear l -> {
        positive("rows", l.rows());
        positive("inF", l.inF());
        positive("outF", l.outF());
        need("in", l.in(), l.rows() * l.inF());
        length("weight", l.weight().length, l.outF() * l.inF());
        length("bias", l.bias().length, l.outF());
        out(slot, l.rows() * l.outF(), Kind.INT);
      }
      case Program.Requant r -> {
        int n = sizeOf(r.in());
        rescale("rescale", r.rescale(), n);
        range(r.lo(), r.hi());
        out(slot, n, Kind.of(r.lo(), r.hi()));
      }
      case Program.Add a -> {
        int n = sizeOf(a.a());
        need("b", a.b(), n);
        rescale("ra", a.ra(), n);
        rescale("rb", a.rb(), n);
        range(a.lo(), a.hi());
        out(slot, n, Kind.of(a.lo(), a.hi()));
      }
      case Program.Const c -> {
        positive("values.length", c.values().length);
        out(slot, c.values().length, Kind.INT);
      }
      case Program.MaxPool m -> {
        Window w = new Window(m.c(), m.h(), m.w(), m.k(), m.stride(), 0);
        need("in", m.in(), m.c() * m.h() * m.w());
        out(slot, m.c() * w.outH() * w.outW(), kindOf(m.in()));
      }
      case Program.Sum s -> {
        positive("outer", s.outer());
        positive("count", s.count());
        positive("inner", s.inner());
        need("in", s.in(), s.outer() * s.count() * s.inner());
        out(slot, s.outer() * s.inner(), Kind.INT);
      }
      case Program.Transpose t -> {
        positive("rows", t.rows());
        positive("cols", t.cols());
        need("in", t.in(), t.rows() * t.cols());
        out(slot, t.rows() * t.cols(), kindOf(t.in()));
      }
      case Program.LayerNorm l -> {
        positive("rows", l.rows());
        positive("dim", l.dim());
        need("in", l.in(), l.rows() * l.dim());
        length("bias", l.bias().length, l.dim());
        out(slot, l.rows() * l.dim(), Kind.INT);
      }
      case Program.Scores s -> {
        attention(s.tokens(), s.heads(), s.headDim());
        need("q", s.q(), s.tokens() * s.heads() * s.headDim());
        need("k", s.k(), s.tokens() * s.heads() * s.headDim());
        out(slot, s.heads() * s.tokens() * s.tokens(), Kind.INT);
      }
      case Program.Context c -> {
        attention(c.tokens(), c.heads(), c.headDim());
        need("p", c.p(), c.heads() * c.tokens() * c.tokens());
        need("v", c.v(), c.tokens() * c.heads() * c.headDim());
        out(slot, c.tokens() * c.heads() * c.headDim(), Kind.INT);
      }
      case Program.Shiftmax s -> {
        rows(s.in(), s.rows(), s.cols());
        constants(s.x0(), s.n(), s.kOut());
        out(slot, s.rows() * s.cols(), s.kOut() <= 8 ? Kind.S8 : Kind.INT);
      }
      case Program.ShiftGelu g -> {
        rows(g.in(), g.rows(), g.cols());
        constants(g.x0(), g.n(), g.kOut());
        out(slot, g.rows() * g.cols(), Kind.INT);
      }
      case Program.Argmax a -> {
        positive("classes", a.classes());
        need("in", a.in(), a.classes());
        out(slot, 1, Kind.INT);
      }
    }
  }

  private void out(int slot, int n, Kind k) {
    size[slot] = n;
    kind[slot] = k;
  }

  private int sizeOf(int value) {
    return size[slotOf.get(value)];
  }

  private Kind kindOf(int value) {
    return kind[slotOf.get(value)];
  }

  private void need(String field, int value, int n) {
    if (sizeOf(value) != n) {
      throw new IllegalArgumentException("field " + field + ": value " + value + " has " + sizeOf(value)
          + " elements per sample, the op needs " + n);
    }
  }

  private static void length(String field, int got, int want) {
    if (got != want) throw new IllegalArgumentException("field " + field + ": " + got + " entries, needs " + want);
  }

  private static void positive(String field, int v) {
    if (v <= 0) throw new IllegalArgumentException("field " + field + ": must be positive, got " + v);
  }

  private void rows(int in, int rows, int cols) {
    positive("rows", rows);
    positive("cols", cols);
    need("in", in, rows * cols);
  }

  private static void attention(int tokens, int heads, int headDim) {
    positive("tokens", tokens);
    positive("heads", heads);
    positive("headDim", headDim);
  }

  private static void window(Program.ConvShape s) {
    try {
      new Window(s.inC(), s.inH(), s.inW(), s.k(), s.stride(), s.pad());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("field shape: " + e.getMessage(), e);
    }
  }

  private static void constants(int x0, int n, int kOut) {
    try {
      Shiftmax.check(x0, n, kOut);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("field x0/n/kOut: " + e.getMessage(), e);
    }
  }

  private static void range(int lo, int hi) {
    if (lo > hi) throw new IllegalArgumentException("fields lo/hi: empty range " + lo + ".." + hi);
  }

  /** A rescale whose channels tile each sample: channels·inner divides the sample's size (one channel: any size). */
  private static void rescale(String field, Program.Rescale r, int n) {
    if (r.channels() > 1 && n % ((long) r.channels() * r.inner()) != 0) {
      throw new IllegalArgumentException("field " + field + ": " + r.channels() + " channels of " + r.inner()
          + " do not tile " + n + " elements");
    }
  }

  /** The kernel's view of a rescale. */
  static Dyadic.Scale scale(Program.Rescale r) {
    return new Dyadic.Scale(r.m(), r.k(), r.channels(), r.inner());
  }
}
