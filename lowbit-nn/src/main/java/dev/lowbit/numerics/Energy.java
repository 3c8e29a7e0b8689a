package dev.lowbit.numerics;

import dev.lowbit.format.BlockFormat;
import dev.lowbit.format.ElementFormat;
import dev.lowbit.format.FixedPoint;
import dev.lowbit.format.IntFormat;
import dev.lowbit.format.MiniFloat;
import dev.lowbit.format.NumberFormat;
import dev.lowbit.format.Quantizer;
import dev.lowbit.kernel.Accumulator;
import dev.lowbit.kernel.Multiplier;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * An estimate of the arithmetic energy of a model's products under a policy (issue [10], after Luo
 * and Sun, "Addition is All You Need for Energy-efficient Language Models", arXiv 2410.00907): each
 * multiply-accumulate of a product counts one multiply and one accumulate add, of the kind and
 * width the policy's formats allow on hardware that has them (not what lowbit's emulation
 * executes: a fake-quantized bf16 product computes in fp32 here but counts as a bf16 multiply),
 * priced by a per-operation table of 45 nm figures (Horowitz, ISSCC 2014). Quantization,
 * data movement, memory and the element-wise layers are not counted. docs/methods/lmul.md,
 * "Energy estimate", gives the table, its sources and the rules.
 */
public final class Energy {

  private Energy() {}

  /** An operation family; L-Mul is an integer add, kept apart so the counts show it. */
  public enum Kind {
    INT_ADD("int_add"),
    INT_MUL("int_mul"),
    FP_ADD("fp_add"),
    FP_MUL("fp_mul"),
    LMUL("lmul_int_add");

    private final String key;

    Kind(String key) {
      this.key = key;
    }
  }

  /**
   * One operation: its kind, its width in bits, and for floats its mantissa (fraction) bits (-1 for
   * integers).
   */
  public record Op(Kind kind, int bits, int mantissa) {
    public Op {
      if (bits < 1) throw new IllegalArgumentException("operation width must be >= 1 bit, got " + bits);
    }

    static Op integer(Kind kind, int bits) {
      return new Op(kind, bits, -1);
    }

    static Op fp(Kind kind, int exponent, int mantissa) {
      return new Op(kind, 1 + exponent + mantissa, mantissa);
    }

    /** The name in {@code summary.json}'s counts, e.g. {@code fp_mul_e8m23}, {@code int_add_32}. */
    public String key() {
      return mantissa < 0 ? kind.key + "_" + bits : kind.key + "_e" + (bits - 1 - mantissa) + "m" + mantissa;
    }
  }

  /** Operation counts by operation, in a stable (key) order. */
  public record Counts(Map<Op, Long> ops) {
    public Counts {
      TreeMap<Op, Long> sorted = new TreeMap<>(java.util.Comparator.comparing(Op::key));
      sorted.putAll(ops);
      ops = java.util.Collections.unmodifiableMap(sorted);
    }

    public static Counts none() {
      return new Counts(Map.of());
    }

    public Counts plus(Counts o) {
      Map<Op, Long> m = new java.util.HashMap<>(ops);
      o.ops.forEach((op, n) -> m.merge(op, n, Long::sum));
      return new Counts(m);
    }

    /** The energy in pJ under {@code table}: the sum of count × energy per operation. */
    public double picojoules(Table table) {
      double e = 0;
      for (var x : ops.entrySet()) e += x.getValue() * table.pj(x.getKey());
      return e;
    }

    /** The counts keyed by {@link Op#key}. */
    public Map<String, Object> row() {
      Map<String, Object> m = new LinkedHashMap<>();
      ops.forEach((op, n) -> m.put(op.key(), n));
      return m;
    }
  }

  /**
   * Energy per operation in pJ. {@link #HOROWITZ_45NM}: M. Horowitz, "Computing's Energy Problem
   * (and what we can do about it)", ISSCC 2014, 45 nm, the figures the L-Mul paper also cites; widths
   * between and beyond them follow two stated rules (see {@link #pj}).
   */
  public enum Table {
    HOROWITZ_45NM("horowitz-45nm", "Horowitz ISSCC 2014, 45 nm");

    private final String id, title;

    Table(String id, String title) {
      this.id = id;
      this.title = title;
    }

    public String id() {
      return id;
    }

    /** The source of the figures, as the reports name it. */
    public String title() {
      return title;
    }

    /**
     * The energy of one {@code op} in pJ. Horowitz's anchors: int add 8-bit 0.03, 32-bit 0.1; int
     * mult 8-bit 0.2, 32-bit 3.1; fp add 16-bit 0.4, 32-bit 0.9; fp mult 16-bit 1.1, 32-bit 3.7.
     * Adds (int, L-Mul, fp) are linear in the width through their two anchors and, below the
     * narrower anchor, proportional to the width (so they stay positive). Multiplies are linear in
     * the square of the significand width (integers: their bits; floats: mantissa + 1, 11 for fp16
     * and 24 for fp32) through their two anchors: an array multiplier grows with the square of its
     * width, and the constant part stands for the exponent add and normalisation.
     */
    public double pj(Op op) {
      return switch (op.kind()) {
        case INT_ADD, LMUL -> add(op.bits(), 8, 0.03, 32, 0.1);
        case FP_ADD -> add(op.bits(), 16, 0.4, 32, 0.9);
        case INT_MUL -> line((double) op.bits() * op.bits(), 64, 0.2, 1024, 3.1);
        case FP_MUL -> line((double) (op.mantissa() + 1) * (op.mantissa() + 1), 121, 1.1, 576, 3.7);
      };
    }

    private static double add(int bits, int x0, double y0, int x1, double y1) {
      return bits < x0 ? y0 * bits / x0 : line(bits, x0, y0, x1, y1);
    }

    private static double line(double x, double x0, double y0, double x1, double y1) {
      return y0 + (x - x0) * (y1 - y0) / (x1 - x0);
    }
  }

  /** How a product's operand is stored on hardware that has its format. */
  private record Operand(boolean integer, int bits, int exponent, int mantissa) {
    static final Operand FP32 = new Operand(false, 32, 8, 23);

    static Operand of(Optional<Quantizer> q) {
      return q.map(z -> of(z.format())).orElse(FP32);
    }

    static Operand of(NumberFormat f) {
      if (f instanceof BlockFormat b) return of((NumberFormat) b.element()); // shared exponents: element arithmetic
      ElementFormat e = (ElementFormat) f;
      return switch (e) {
        case IntFormat i -> new Operand(true, i.bits(), 0, 0);
        case FixedPoint p -> new Operand(true, p.wordBits(), 0, 0);
        case MiniFloat m -> new Operand(false, m.bits(), m.exponentBits(), m.mantissaBits());
      };
    }
  }

  /**
   * The operations of {@code macs} multiply-accumulates of the product {@code product} of {@code
   * layer} whose operands have the roles {@code roleA}, {@code roleB}, under {@code policy}: one
   * multiply and one accumulate add each (a chunked accumulator adds one outer add per chunk).
   * Multiply: L-Mul counts one integer add of exponent + m bits (the operands' widest exponent, 8
   * for fp32); an exact multiply of two integer operands is an integer multiply of the wider width;
   * otherwise a float multiply of the widest float operand (an unquantized operand is fp32).
   * Accumulate: the policy's accumulator; by default int32 adds for exact integer products, else
   * fp32 adds.
   */
  public static Counts of(Policy policy, String layer, Product product, Role roleA, Role roleB, long macs) {
    Operand a = Operand.of(roleA == null ? Optional.empty() : policy.lookup(layer, roleA));
    Operand b = Operand.of(roleB == null ? Optional.empty() : policy.lookup(layer, roleB));
    Multiplier mul = policy.multiplier(layer, product).orElse(new Multiplier.Exact());
    Map<Op, Long> ops = new java.util.HashMap<>();
    boolean integer = a.integer() && b.integer() && mul instanceof Multiplier.Exact;
    if (mul instanceof Multiplier.LMul l) {
      int exponent = Math.max(a.integer() ? 8 : a.exponent(), b.integer() ? 8 : b.exponent());
      ops.put(Op.integer(Kind.LMUL, exponent + l.mantissaBits()), macs);
    } else if (integer) {
      ops.put(Op.integer(Kind.INT_MUL, Math.max(a.bits(), b.bits())), macs);
    } else {
      int exponent = Math.max(a.integer() ? 0 : a.exponent(), b.integer() ? 0 : b.exponent());
      int mantissa = Math.max(a.integer() ? 0 : a.mantissa(), b.integer() ? 0 : b.mantissa());
      ops.put(Op.fp(Kind.FP_MUL, exponent, mantissa), macs);
    }
    Counts adds = adds(policy.accumulator(layer, product)
        .orElse(integer ? new Accumulator.Int32Exact() : new Accumulator.Fp32Exact()), macs);
    return new Counts(ops).plus(adds);
  }

  private static Counts adds(Accumulator acc, long n) {
    return switch (acc) {
      case Accumulator.Fp32Exact f -> new Counts(Map.of(Op.fp(Kind.FP_ADD, 8, 23), n));
      case Accumulator.Int32Exact i -> new Counts(Map.of(Op.integer(Kind.INT_ADD, 32), n));
      case Accumulator.IntN i -> new Counts(Map.of(Op.integer(Kind.INT_ADD, i.bits()), n));
      case Accumulator.FloatAcc f ->
          new Counts(Map.of(Op.fp(Kind.FP_ADD, f.format().exponentBits(), f.format().mantissaBits()), n));
      case Accumulator.Chunked c -> adds(c.inner(), n).plus(adds(c.outer(), n / c.chunkSize()));
    };
  }

  /**
   * A model's estimate under one policy: the operations of one inference (the forward products of
   * one image) and of one training step (all products of one batch of {@code batch}).
   */
  public record Estimate(Table table, int batch, Counts inference, Counts trainingStep) {

    /** pJ per inference. */
    public double inferencePj() {
      return inference.picojoules(table);
    }

    /** pJ per training step. */
    public double trainingStepPj() {
      return trainingStep.picojoules(table);
    }

    /** As {@code summary.json}'s {@code energy_estimate}, in µJ. */
    public Map<String, Object> row() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("what", LABEL);
      m.put("unit", "µJ");
      m.put("per_inference", inferencePj() * 1e-6);
      m.put("per_training_step", trainingStepPj() * 1e-6);
      m.put("batch", batch);
      m.put("table", table.id());
      m.put("table_name", table.title());
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("per_inference", inference.row());
      c.put("per_training_step", trainingStep.row());
      m.put("counts", c);
      return m;
    }

    /** One line for {@code lowbit plan}. */
    public String line() {
      return String.format(java.util.Locale.ROOT,
          "estimated energy (45 nm, arithmetic only): %s µJ per inference, %s µJ per training step (batch %d)"
              + " — an estimate, see docs/methods/lmul.md",
          format(inferencePj() * 1e-6), format(trainingStepPj() * 1e-6), batch);
    }
  }

  /** What the numbers are, wherever they are shown. */
  public static final String LABEL =
      "estimate: multiply and accumulate-add energy of the products only, Horowitz 45 nm figures";

  /** µJ with three significant digits. */
  public static String format(double microjoules) {
    return String.format(java.util.Locale.ROOT, "%.3g", microjoules);
  }
}
