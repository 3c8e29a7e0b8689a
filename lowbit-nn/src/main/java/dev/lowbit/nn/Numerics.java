package dev.lowbit.nn;

import dev.lowbit.autograd.Quantize;
import dev.lowbit.autograd.StepArena;
import dev.lowbit.autograd.Var;
import dev.lowbit.format.Granularity;
import dev.lowbit.format.IntCodes;
import dev.lowbit.format.IntFormat;
import dev.lowbit.format.Quantizer;
import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.kernel.Parallel;
import dev.lowbit.numerics.Engine;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.GemmCall;
import dev.lowbit.numerics.Product;
import dev.lowbit.numerics.ProductPlan;
import dev.lowbit.numerics.Role;
import dev.lowbit.tensor.QuantizedTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The numerics a run applies in {@link Compute}: a {@link Policy}, the run's seed and the current
 * step (stochastic rounding draws from (seed, a stream keyed by layer, role, operand offset and
 * step), so runs are deterministic), and counters of what was quantized. Install with {@link
 * Compute#setNumerics}; none installed means plain fp32.
 */
public final class Numerics {

  /** Sees every operand and result after quantization (tests check the values are representable). */
  interface Observer {
    void tensor(String layer, Product product, Role role, float[] values, int[] shape);
  }

  private final Policy policy;
  private final long seed;
  private volatile long step;
  private final AtomicLong quantizedTensors = new AtomicLong();
  private final AtomicLong integerGemms = new AtomicLong();
  private final AtomicLong int32Overflows = new AtomicLong();
  final ShiftQuantGemm shiftQuant; // null unless the policy asks for ShiftQuant errors
  private volatile EmulatedProducts emulated;
  private static final long PARALLEL_MIN = 1 << 15; // elements worth a second thread

  public Numerics(Policy policy, long seed) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.seed = seed;
    this.shiftQuant = ShiftQuantGemm.of(policy);
  }

  public Policy policy() {
    return policy;
  }

  /**
   * Every (layer, role) of {@code model} that a run looks up in its policy, with the rank of the
   * tensor it quantizes there: GEMM operands and weight gradients of linear and convolution layers
   * and attention's two batched products ({@code NAME.scores}, {@code NAME.context}) are quantized
   * as rows × cols matrices (rank 2), master weights and optimizer state in their parameter's own
   * shape; multiplier and accumulator sites (rank 0) are the layers with products, function-role
   * sites (rank 0) the modules that compute softmax, GELU, a norm ({@link FunctionRoles.Layer}). {@link
   * Policy#check} uses them to refuse a policy that cannot apply before training starts.
   */
  public static List<Policy.Site> sites(Module model) {
    List<Policy.Site> out = new ArrayList<>();
    collectSites(model, out);
    for (var e : model.namedParameters().entrySet()) {
      String param = e.getKey();
      int dot = param.lastIndexOf('.');
      String layer = dot < 0 ? param : param.substring(0, dot); // as the optimizer names it
      int rank = e.getValue().value().rank();
      out.add(new Policy.Site(layer, Role.MASTER_WEIGHT, rank));
      out.add(new Policy.Site(layer, Role.OPTIMIZER_STATE, rank));
    }
    return out;
  }

  private static void collectSites(Module m, List<Policy.Site> out) {
    if (m instanceof Linear || m instanceof Conv2d) {
      for (Role r : new Role[] {Role.WEIGHT, Role.ACTIVATION, Role.ERROR, Role.WEIGHT_GRADIENT}) {
        out.add(new Policy.Site(m.name(), r, 2));
      }
      out.add(new Policy.Site(m.name(), Role.MULTIPLIER, 0));
      out.add(new Policy.Site(m.name(), Role.ACCUMULATOR, 0));
    } else if (m instanceof MultiHeadSelfAttention) {
      for (String product : new String[] {".scores", ".context"}) { // Compute.bmm: activations times activations
        out.add(new Policy.Site(m.name() + product, Role.ACTIVATION, 2));
        out.add(new Policy.Site(m.name() + product, Role.ERROR, 2));
        out.add(new Policy.Site(m.name() + product, Role.MULTIPLIER, 0));
        out.add(new Policy.Site(m.name() + product, Role.ACCUMULATOR, 0));
      }
    }
    if (m instanceof FunctionRoles.Layer f) {
      out.addAll(f.functionSites());
    }
    for (Module c : m.children().values()) collectSites(c, out);
  }

  public long seed() {
    return seed;
  }

  /** Sets the training step that keys stochastic rounding (the trainer calls this every step). */
  public void setStep(long step) {
    this.step = step;
  }

  public long step() {
    return step;
  }

  /** How many tensors (GEMM operands and weight-gradient results) were quantized so far. */
  public long quantizedTensors() {
    return quantizedTensors.get();
  }

  /** How many products ran on the integer kernels (int8 or int16 codes, int32 sums). */
  public long integerGemms() {
    return integerGemms.get();
  }

  /** Integer-GEMM results whose true sum left the int32 range (int16 kernels; int8 ones cannot overflow). */
  public long int32Overflows() {
    return int32Overflows.get();
  }

  /** Counts tensors quantized outside this class (ShiftQuant's errors). */
  void countQuantized(int tensors) {
    quantizedTensors.addAndGet(tensors);
  }

  /** Counts a product run on the integer kernels, its quantized operands and int32 overflow events. */
  void countIntegerGemm(int quantizedOperands, long overflows) {
    integerGemms.incrementAndGet();
    quantizedTensors.addAndGet(quantizedOperands);
    int32Overflows.addAndGet(overflows);
  }

  /** Records one product run on the integer kernels with both operands encoded, and its overflow events. */
  void countIntegerGemm(long overflows) {
    countIntegerGemm(2, overflows);
  }

  private final UnpackStats unpackStats = new UnpackStats();

  /** What the products run through IM-Unpack cost ({@code option unpack-bits}): the unpack ratios. */
  public UnpackStats unpackStats() {
    return unpackStats;
  }

  /** Products on emulated multipliers / narrow accumulators: their events, biases and stage switch. */
  public EmulatedProducts emulated() {
    EmulatedProducts e = emulated;
    if (e == null) {
      synchronized (this) {
        if (emulated == null) emulated = new EmulatedProducts(this);
        e = emulated;
      }
    }
    return e;
  }

  private final java.util.List<dev.lowbit.numerics.Engine> engines = GemmEngines.of(this);
  private final java.util.concurrent.ConcurrentHashMap<ProductPlan.Site, ProductPlan> plans =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.ConcurrentHashMap<ProductPlan.Site, ProductPlan> plansIntegerOff =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.List<java.util.Map<String, Object>> planOrder = java.util.Collections.synchronizedList(new ArrayList<>());

  /**
   * The plan of a product site, made at its first call and kept for the run: the site's
   * quantizers, multiplier, accumulator and method from the policy, and the engines that accept it
   * (asked in {@link GemmEngines} order) with the first one's reason.
   */
  ProductPlan plan(ProductPlan.Site site) {
    var cache = Compute.integerPathOff ? plansIntegerOff : plans;
    ProductPlan p = cache.get(site);
    if (p != null) return p;
    return cache.computeIfAbsent(site, s -> {
      ProductPlan draft = new ProductPlan(s, lookup(s.layer(), s.roleA()), lookup(s.layer(), s.roleB()),
          lookup(s.layer(), s.roleC()), policy.multiplier(s.layer(), s.product()).orElse(new dev.lowbit.kernel.Multiplier.Exact()),
          policy.accumulator(s.layer(), s.product()), GemmEngines.method(this, s),
          new ProductPlan.Choice(engines, ""));
      java.util.List<dev.lowbit.numerics.Engine> chosen = new ArrayList<>();
      String reason = null, integerDecline = null;
      for (dev.lowbit.numerics.Engine e : engines) {
        dev.lowbit.numerics.Engine.Verdict v = e.accepts(draft);
        if (v.accepted()) {
          chosen.add(e);
          if (reason == null) reason = v.reason();
        } else if (e instanceof GemmEngines.IntegerChains && reason == null) {
          integerDecline = v.reason();
        }
      }
      if (integerDecline != null && chosen.get(0) instanceof GemmEngines.FakeQuantized && integerCodesSomewhere(draft)) {
        reason = "not integer: " + integerDecline + "; " + reason;
      }
      ProductPlan plan = draft.withEngines(chosen, reason);
      planOrder.add(plan.row());
      return plan;
    });
  }

  private record ConvKey(String layer, ConvSpec spec, boolean observed, boolean integerOff, boolean dataGradient) {}

  private final java.util.concurrent.ConcurrentHashMap<ConvKey, ConvEngines.ConvPlan> convPlans =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The plan of convolution {@code layer} for geometry {@code s}, made at its first call and kept
   * for the run; {@code dataGradient}: whether its input takes a gradient (a backward-data product).
   */
  ConvEngines.ConvPlan convPlan(String layer, ConvSpec s, boolean dataGradient) {
    ConvKey key = new ConvKey(layer, s, Compute.observer != null, Compute.integerPathOff, dataGradient);
    ConvEngines.ConvPlan p = convPlans.get(key);
    if (p != null) return p;
    return convPlans.computeIfAbsent(key, k -> {
      ConvEngines.ConvPlan plan = ConvEngines.plan(this, layer, s);
      planOrder.addAll(plan.rows(this, dataGradient));
      return plan;
    });
  }

  /** True when the policy quantizes none of the tensor roles of {@code layer}'s products. */
  boolean quantizesNothing(String layer) {
    for (Role r : new Role[] {Role.ACTIVATION, Role.WEIGHT, Role.ERROR, Role.WEIGHT_GRADIENT}) {
      if (lookup(layer, r).isPresent()) return false;
    }
    return true;
  }

  private static boolean integerCodesSomewhere(ProductPlan p) {
    return p.a().map(Numerics::integerCodes).orElse(false) || p.b().map(Numerics::integerCodes).orElse(false);
  }

  private static boolean integerCodes(Quantizer q) {
    return PlanRules.codeBits(q) != 0 || PlanRules.codeWidth(q) != 0;
  }

  /**
   * Every plan made so far in this run, as rows (layer, product, operands, result, multiplier,
   * accumulator, method, engine, reason; a convolution's own row names its route), in the order of
   * their first call.
   */
  public java.util.List<java.util.Map<String, Object>> plans() {
    synchronized (planOrder) {
      return java.util.List.copyOf(planOrder);
    }
  }

  /** Records a convolution's plan row for {@link #plans}. */
  void recordPlan(java.util.Map<String, Object> row) {
    planOrder.add(row);
  }

  /** The quantizer for (layer, role), or empty (fp32) for a null role. */
  Optional<Quantizer> lookup(String layer, Role role) {
    return role == null ? Optional.empty() : policy.lookup(layer, role);
  }

  /**
   * A compact (rows × cols) copy of the stored matrix at {@code src[off…]} with leading dimension
   * {@code ld}, quantized (a step-arena array). The stored layout (not the transposed view) is
   * what gets quantized, so an operand quantizes the same way in every product that uses it (W in
   * forward and backward-data, X in forward and backward-weight, dY in both backward products) —
   * which is what lets a layer quantize it once for all of them ({@link #onTape}).
   */
  float[] quantize(Quantizer q, String layer, Role role, float[] src, int off, int ld, int rows, int cols) {
    return quantize(q, new Operand(layer, role, rows, cols), new GemmCall.Matrix(src, off, ld));
  }

  /**
   * As above for the stored matrix {@code m} (its raw array) and the single-slice operand {@code
   * o}, whose {@code salt} is mixed into the stochastic-rounding stream: a product whose two
   * operands share layer, role and offset (attention's Q·Kᵀ) passes 1 for B so the operands do not
   * draw the same random numbers.
   */
  float[] quantize(Quantizer q, Operand o, GemmCall.Matrix m) {
    float[] src = m.x();
    int off = m.off(), ld = m.ld(), rows = o.rows(), cols = o.cols();
    long stream = stream(o.layer(), o.role(), off) ^ o.salt() * SALT;
    quantizedTensors.incrementAndGet();
    int size = rows * cols;
    float[] raw = src;
    if (off != 0 || ld != cols || src.length != size) {
      raw = StepArena.floats(size);
      for (int r = 0; r < rows; r++) System.arraycopy(src, off + r * ld, raw, r * cols, cols);
    }
    float[] x = StepArena.floats(size);
    q.quantize(raw, new int[] {rows, cols}, x, seed, stream, size >= PARALLEL_MIN ? Parallel.threads() : 1);
    return x;
  }

  /**
   * The quantizer for (convolution {@code layer}, {@code role}) when the layer may quantize that
   * operand itself, in place ({@link #quantizeOperand}: its column matrix for the activation, its
   * channels-first output gradient for the error) and handing the result to both products that use
   * it as their {@link GemmCall.Matrix#quantized} operand: when no product of the layer takes an
   * integer or emulated path (those encode the raw operand themselves) and ShiftQuant is off. The
   * layer does not change those arrays between the products that use them.
   */
  Optional<Quantizer> quantizesItself(String layer, Role role, ConvSpec s) {
    Optional<Quantizer> z = lookup(layer, role);
    if (z.isEmpty() || shiftQuant != null || s.groups() != 1) return Optional.empty();
    Quantizer q = z.get();
    if (PlanRules.codeBits(q) != 0 || PlanRules.codeWidth(q) != 0 || PlanRules.quantile(q) || !emulated().plain(layer)) {
      return Optional.empty();
    }
    return z;
  }

  /**
   * Whether an activation quantizer may be applied to a convolution's input before im2col, which
   * repeats every input element KH·KW times (9× the work and memory for a 3×3 kernel): a
   * fixed-grid element format (bf16, fp16, fixed point) or a minifloat scaled per tensor by amax
   * (fp8), provided every input element reaches the columns (so the amax, hence the scale, is the
   * same). Round-to-nearest gives the same bits either way; stochastic rounding then draws once
   * per input element instead of once per column entry.
   */
  static boolean commutesWithIm2col(Quantizer q, ConvSpec s) {
    return PlanRules.elementwise(q) && (!q.amaxScaled() || s.everyInputUsed());
  }


  /**
   * A copy (step-arena array) of the tensor {@code x} of {@code shape} in q's MX format, in blocks
   * of q's size along {@code axis} instead of the last one: how a native convolution quantizes an
   * MX operand, along the reduction dimension of the product it feeds, as Microsoft's microxcaling
   * library does for convolutions (forward: input and weight along the input channels; backward
   * data: errors and weight along the output channels; weight gradient: input and errors along the
   * batch). {@code salt} separates the stochastic streams of one role's several copies.
   */
  float[] quantizeAlong(Quantizer q, String layer, Role role, int salt, float[] x, int[] shape, int axis) {
    Quantizer along = new Quantizer(q.format(), q.rounding(),
        new Granularity.PerBlock(((Granularity.PerBlock) q.granularity()).size(), axis));
    int size = 1;
    for (int d : shape) size *= d;
    float[] y = StepArena.floats(size);
    along.quantize(x, shape, y, seed, stream(layer, role, -2 - salt), size >= PARALLEL_MIN ? Parallel.threads() : 1);
    quantizedTensors.incrementAndGet();
    return y;
  }


  /**
   * Quantizes a stored rows × cols operand of {@code role} in place, with the stream {@link
   * #quantize} would use for it in a product, so the bits are the same.
   */
  void quantizeOperand(Quantizer q, String layer, Role role, float[] x, int rows, int cols) {
    q.quantize(x, new int[] {rows, cols}, x, seed, stream(layer, role, 0),
        (long) rows * cols >= PARALLEL_MIN ? Parallel.threads() : 1);
  }

  /** A convolution's input quantized as its activation ({@link #commutesWithIm2col}; a step-arena array). */
  float[] quantizeInput(Quantizer q, String layer, float[] x, int size) {
    return quantizeCopy(q, layer, Role.ACTIVATION, -1, x, size);
  }

  /**
   * A quantized copy (a step-arena array) of the first {@code size} elements of x, for (layer,
   * role) with the stream of offset {@code off}.
   */
  float[] quantizeCopy(Quantizer q, String layer, Role role, int off, float[] x, int size) {
    return quantizeInto(q, layer, role, off, x, size, StepArena.floats(size));
  }

  /**
   * q's {@link Quantizer#runs} for the tensor x[0, n) (its amax found on as many threads as {@link
   * #quantizeInto} would use): the same bits as quantizing it whole, run by run; null when q has none.
   */
  Quantizer.Runs runs(Quantizer q, float[] x, int n) {
    return q.runs(x, n, n >= PARALLEL_MIN ? Parallel.threads() : 1);
  }

  /** As {@link #quantizeCopy} into {@code y} (which may be x itself); returns y. */
  float[] quantizeInto(Quantizer q, String layer, Role role, int off, float[] x, int size, float[] y) {
    q.quantize(x, new int[] {size}, y, seed, stream(layer, role, off),
        size >= PARALLEL_MIN ? Parallel.threads() : 1);
    return y;
  }

  /** A stored operand of a layer's products: {@code slices} consecutive rows × cols matrices, each quantized on its own. */
  record Operand(String layer, Role role, int rows, int cols, int slices, long salt) {
    Operand(String layer, Role role, int rows, int cols) {
      this(layer, role, rows, cols, 1, 0);
    }
  }

  /**
   * The operand x quantized once for the products {@code users} (null sites are skipped), as an op
   * on the tape ({@link Quantize}, straight-through): null when its role has no rule or no user's
   * engine takes quantized operands ({@link Engine#takes}), so the products read x itself.
   */
  Quantize.Quantized onTape(Var x, Operand o, ProductPlan.Site... users) {
    Optional<Quantizer> z = lookup(o.layer(), o.role());
    if (z.isEmpty() || Compute.earlyQuantizationOff) return null;
    Engine.Takes takes = takes(users);
    if (takes == Engine.Takes.NOTHING) return null;
    return Quantize.apply(x, src -> quantized(z.get(), o, src, takes == Engine.Takes.CODES));
  }

  /**
   * x's values quantized by {@code z} as {@link #onTape} quantizes them, as an op on the tape, for
   * a native kernel that takes values whatever the plans say (a native convolution's weight).
   */
  Quantize.Quantized valuesOnTape(Var x, Quantizer z, Operand o) {
    return Quantize.apply(x, src -> quantized(z, o, src, false));
  }

  /**
   * The compact matrix x quantized by {@code z} with its byte codes and scales (an 8-bit integer
   * format; values only when x holds NaN or infinity), as {@link #onTape} makes them.
   */
  QuantizedTensor codes(Quantizer z, Operand o, float[] x) {
    return quantized(z, o, x, true);
  }

  /** As {@link #onTape} for a tensor that is not a {@code Var} (the errors a backward pass receives). */
  QuantizedTensor quantizedFor(float[] x, Operand o, ProductPlan.Site... users) {
    Optional<Quantizer> z = lookup(o.layer(), o.role());
    if (z.isEmpty() || Compute.earlyQuantizationOff) return null;
    if (shiftQuant != null && o.role() == Role.ERROR) {
      QuantizedTensor t = shiftQuant.quantized(this, o, x, users);
      if (t != null) return t;
    }
    Engine.Takes takes = takes(users);
    return takes == Engine.Takes.NOTHING ? null : quantized(z.get(), o, x, takes == Engine.Takes.CODES);
  }

  /** The most any user's engine takes of a quantized operand. */
  private Engine.Takes takes(ProductPlan.Site... users) {
    Engine.Takes most = Engine.Takes.NOTHING;
    for (ProductPlan.Site u : users) {
      if (u == null) continue;
      ProductPlan p = plan(u);
      Engine.Takes t = p.engine().takes(p);
      if (t.compareTo(most) > 0) most = t;
    }
    return most;
  }

  /**
   * x quantized as each product would quantize its slices (the stream of the slice's offset and
   * the operand's salt, the same threads), laid out as x in a step-arena array; with byte codes
   * when asked and the operand is one matrix (values and codes from one pass, {@link
   * IntCodes#encodeInt8}; its values are {@link Quantizer#quantize}'s bits).
   */
  private QuantizedTensor quantized(Quantizer q, Operand o, float[] x, boolean codes) {
    int size = o.rows() * o.cols();
    if ((long) size * o.slices() != x.length) {
      throw new IllegalArgumentException(o.layer() + " " + o.role().label() + ": " + x.length + " values, expected "
          + o.slices() + " × " + o.rows() + " × " + o.cols());
    }
    quantizedOnce.incrementAndGet();
    float[] y = StepArena.floats(x.length);
    if (codes && o.slices() == 1) {
      int axis = PlanRules.channelAxis(q);
      byte[] c = new byte[size];
      float[] scales = new float[axis == -1 ? 1 : o.rows()];
      if (IntCodes.encodeInt8((IntFormat) q.format(), axis, x, 0, o.cols(), o.rows(), o.cols(), c, scales, y)) {
        return new QuantizedTensor(q, y, c, scales, axis);
      }
      // NaN or infinity: values only, which the fake-quantized engine carries to the loss
    }
    int[] shape = {o.rows(), o.cols()};
    int threads = size >= PARALLEL_MIN ? Parallel.threads() : 1;
    if (o.slices() == 1) {
      q.quantize(x, shape, y, seed, stream(o.layer(), o.role(), 0) ^ o.salt() * SALT, threads);
      return QuantizedTensor.ofValues(q, y);
    }
    float[] raw = StepArena.floats(size), t = StepArena.floats(size);
    for (int i = 0; i < o.slices(); i++) {
      int off = i * size;
      System.arraycopy(x, off, raw, 0, size);
      q.quantize(raw, shape, t, seed, stream(o.layer(), o.role(), off) ^ o.salt() * SALT, threads);
      System.arraycopy(t, 0, y, off, size);
    }
    return QuantizedTensor.ofValues(q, y);
  }

  private static final long SALT = 0x9E3779B97F4A7C15L;

  /** Counts integer products' operands whose codes came from a layer's quantized tensor. */
  void countCodesTaken(int operands) {
    codesTaken.addAndGet(operands);
  }

  final AtomicLong codesTaken = new AtomicLong(); // tests
  final AtomicLong quantizedOnce = new AtomicLong(); // tests: operands quantized once for several products

  /** Quantizes a compact (rows × cols) result in place. */
  void quantizeInPlace(Quantizer q, String layer, Role role, float[] x, int off, int rows, int cols) {
    q.quantize(x, new int[] {rows, cols}, x, seed, stream(layer, role, off));
    quantizedTensors.incrementAndGet();
  }

  /** A quantizer stream id from (layer, role, offset, step); String.hashCode is specified, so stable. */
  public long stream(String layer, Role role, int off) {
    long h = layer.hashCode() * 0x9E3779B97F4A7C15L;
    h ^= (role.ordinal() + 1L) * 0xC2B2AE3D27D4EB4FL;
    h = Long.rotateLeft(h, 29) ^ off * 0x165667B19E3779F9L;
    return Long.rotateLeft(h, 17) ^ step * 0xD6E8FEB86659FD93L;
  }

  /** A compact (rows × cols) copy of a strided matrix. */
  static float[] compact(float[] src, int off, int ld, int rows, int cols) {
    float[] x = new float[rows * cols];
    for (int r = 0; r < rows; r++) System.arraycopy(src, off + r * ld, x, r * cols, cols);
    return x;
  }
}
