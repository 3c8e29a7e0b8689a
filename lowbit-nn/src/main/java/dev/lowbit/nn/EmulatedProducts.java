package dev.lowbit.nn;

import dev.lowbit.format.EncodedTensor;
import dev.lowbit.format.Quantizer;
import dev.lowbit.kernel.Accumulator;
import dev.lowbit.kernel.Accumulator.Chunked;
import dev.lowbit.kernel.Accumulator.FloatAcc;
import dev.lowbit.kernel.Accumulator.FloatFormat;
import dev.lowbit.kernel.EmulatedGemm;
import dev.lowbit.kernel.GemmStats;
import dev.lowbit.kernel.IntGemmEpilogue;
import dev.lowbit.kernel.Multiplier;
import dev.lowbit.kernel.Parallel;
import dev.lowbit.kernel.ScalarEmulatedGemm;
import dev.lowbit.kernel.VectorEmulatedGemm;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.GemmCall;
import dev.lowbit.numerics.Product;
import dev.lowbit.numerics.ProductPlan;
import dev.lowbit.numerics.Role;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Runs a layer's product on the emulated GEMM ({@link VectorEmulatedGemm}, bit-exact to {@link
 * ScalarEmulatedGemm}) when the policy gives that product a multiplier other than exact or an
 * accumulator other than fp32 / int32 — narrow floats (e4m7/c16) on fp32 operands, narrow integers
 * (int12, int16:sat) on integer-quantized operands. Exact fp32 and int32 sums stay on the ordinary
 * kernels. Counts overflow, underflow and swamping events per layer.
 *
 * <p>Low bit-width accumulators after Blumenfeld, Hubara, Soudry, ICLR 2024 (spec
 * training-numerics §3; much of it reconstructed there and implemented as written):
 *
 * <ul>
 *   <li>Exponent biases (§3.3, option {@code accumulator-bias calibrated}, the default): the product
 *       format gets the accumulator's E and M (or those of an explicit {@code :p=eXmY}) with {@code
 *       b_prod = (2^E − 1) − ceil(log2 max|a·w|)}, the accumulator {@code b_acc = b_prod −
 *       round(½·log2 C)} (C the chunk size, or K unchunked). max|a·w| is exact and cheap: max over
 *       k of max|A[·,k]|·max|B[k,·]|. It is measured on the first product of a layer after {@link
 *       #recalibrate()} (the trainer calls it every epoch) and kept until the next. {@code fixed}
 *       uses the biases the spec string gives.
 *   <li>Underflow switch (§3.4): {@link #setUnderflow(boolean)} false keeps values below minNormal
 *       (stage 1 of the fine-tune); true flushes them to zero (stage 2 and inference).
 *   <li>Backward (§3.5): straight-through by default (the ordinary fp32 backward GEMMs). Option
 *       {@code accumulator-gradient overflow|underflow|swamp|all} records per-(output, k) event
 *       flags in the forward pass ({@link ScalarEmulatedGemm#chain}) and multiplies each
 *       product's gradient by δq·δp·Π δs (suffix product within the chunk); slow, MLP scale.
 * </ul>
 */
public final class EmulatedProducts {

  /** Which events cut a product's gradient (spec §3.5, reconstructed). */
  public enum GradientMode {
    /** Plain straight-through: every δ = 1. */
    IDENTITY,
    /** δs and the saturation part of δp. */
    OVERFLOW,
    /** δq only (the product underflowed or overflowed in Q_prod). */
    UNDERFLOW,
    /** The swamping part of δp only. */
    SWAMP,
    /** All of them. */
    ALL
  }

  /** Event counts. */
  public record Events(long overflows, long underflows, long swamps) {
    public long total() {
      return overflows + underflows + swamps;
    }
  }

  /** What runs a (layer, product): null arithmetic means "not emulated". */
  private record Arith(Multiplier mul, Accumulator acc) {}

  private static final Arith NONE = new Arith(null, null);

  private final Numerics numerics;
  private final Policy policy;
  private final boolean calibrated;
  private final GradientMode gradient;
  private volatile boolean underflow = true;
  private final ConcurrentHashMap<String, Arith> arith = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Accumulator> calibration = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicLongArray> events = new ConcurrentHashMap<>();
  private final AtomicLongArray totals = new AtomicLongArray(4); // overflow, underflow, swamp, gemms
  /** Saved forward products of layers, for the fine-grained backward: key layer. */
  private final ConcurrentHashMap<String, Map<Long, Saved>> saved = new ConcurrentHashMap<>();
  private volatile EmulatedGemm fast;

  EmulatedProducts(Numerics numerics) {
    this.numerics = numerics;
    this.policy = numerics.policy();
    this.calibrated = policy.methods().calibratedBias();
    this.gradient = GradientMode.valueOf(policy.methods().accumulatorGradient().name());
  }

  /** Underflow on (flush to zero below minNormal, the default) or off (§3.4 stage 1). */
  public void setUnderflow(boolean on) {
    underflow = on;
  }

  public boolean underflow() {
    return underflow;
  }

  /** Forgets the calibrated exponent biases: the next product of each layer measures them again. */
  public void recalibrate() {
    calibration.clear();
  }

  /** The gradient variant of this run. */
  public GradientMode gradientMode() {
    return gradient;
  }

  /** Events summed over all emulated products so far. */
  public Events events() {
    return new Events(totals.get(0), totals.get(1), totals.get(2));
  }

  /** How many products ran emulated. */
  public long gemms() {
    return totals.get(3);
  }

  /** Events per "layer/product", sorted by name. */
  public Map<String, Events> eventsByLayer() {
    TreeMap<String, Events> m = new TreeMap<>();
    events.forEach((k, v) -> m.put(k, new Events(v.get(0), v.get(1), v.get(2))));
    return m;
  }

  /** The accumulator a product currently uses (with calibrated biases and the underflow switch), or empty. */
  public Optional<Accumulator> accumulator(String layer, Product product) {
    Arith ar = arith(layer, product);
    if (ar == NONE) return Optional.empty();
    Accumulator c = calibration.get(layer + "/" + product);
    return Optional.of(withUnderflow(c != null ? c : ar.acc, underflow));
  }

  private Arith arith(String layer, Product product) {
    return arith.computeIfAbsent(layer + "/" + product, key -> arithOf(
        policy.multiplier(layer, product).orElse(new Multiplier.Exact()), policy.accumulator(layer, product)));
  }

  /**
   * What emulates a product of this multiplier and accumulator rule: NONE for exact products with
   * fp32 or int32 sums, which the ordinary kernels run — int32 sums, chained or not (dfp16's
   * int32:wrap/c256), with exact products belong to the integer engines.
   */
  private static Arith arithOf(Multiplier mul, Optional<Accumulator> a) {
    Accumulator acc = a.orElse(null);
    boolean exactAcc = acc == null || acc instanceof Accumulator.Fp32Exact || acc instanceof Accumulator.Int32Exact;
    if (exactAcc && mul instanceof Multiplier.Exact) return NONE;
    if (acc instanceof Accumulator.Int32Exact) return NONE;
    if (mul instanceof Multiplier.Exact && IntegerProducts.chains(a) != null) return NONE;
    return new Arith(mul, acc == null ? new Accumulator.Fp32Exact() : acc);
  }

  /**
   * Whether this class runs (layer, product): its multiplier or accumulator is emulated, or it is a
   * backward product whose forward product is emulated and cuts gradients ({@code
   * accumulator-gradient} other than identity: the masked gradient of {@link #maskedBackward}).
   */
  boolean handles(String layer, Product product) {
    if (arith(layer, product) != NONE) return true;
    return product != Product.FORWARD && gradient != GradientMode.IDENTITY && arith(layer, Product.FORWARD) != NONE;
  }

  /**
   * Whether the emulated product of (layer, product) fake-quantizes its operands (a float
   * accumulator or a multiplier rule), so it can take operands the layer quantized once; integer
   * accumulators encode the raw operands, and a masked backward reuses what its forward saved.
   */
  boolean takesQuantizedValues(String layer, Product product) {
    Arith ar = arith(layer, product);
    if (ar == NONE || ar.acc.isInteger()) return false;
    return product == Product.FORWARD || gradient == GradientMode.IDENTITY;
  }

  /** The multiplier and accumulator (biases as written) of an emulated product, for plans. */
  String describe(String layer, Product product) {
    Arith ar = arith(layer, product);
    if (ar == NONE) return "forward product's accumulation events cut this product's gradient";
    return "multiplier " + ar.mul.spec() + ", accumulator " + ar.acc.spec() + " emulated bit for bit";
  }

  /** True when none of the layer's products (forward, backward-data, backward-weight) is emulated. */
  boolean plain(String layer) {
    for (Product p : Product.values()) if (arith(layer, p) != NONE) return false;
    return true;
  }

  /**
   * Runs C = op(A)·op(B) (+ C) for the plan's product emulated with the plan's multiplier and
   * accumulator, quantizing
   * the operands (and a weight-gradient result) per their roles first; or, for a backward product
   * of a layer whose forward product was saved for a fine-grained gradient, computes the masked
   * gradient. Returns false (nothing done) when neither applies.
   */
  boolean gemm(ProductPlan plan, GemmCall call) {
    ProductPlan.Site site = plan.site();
    String layer = site.layer();
    Product product = site.product();
    Role roleA = site.roleA(), roleB = site.roleB(), roleC = site.roleC();
    boolean transA = site.transA(), transB = site.transB();
    int m = call.m(), n = call.n(), k = call.k();

    if (product != Product.FORWARD && gradient != GradientMode.IDENTITY
        && maskedBackward(site, call)) {
      return true;
    }
    Arith ar = arithOf(plan.multiplier(), plan.accumulator()); // the plan's rules, not the policy again
    if (ar == NONE) return false;
    Numerics.Observer obs = Compute.observer;
    if (ar.acc.isInteger()) {
      return integerProduct(site, call, ar);
    }
    Optional<Quantizer> qc = numerics.lookup(layer, roleC);
    GemmCall.Matrix a = Compute.operand(numerics, layer, product, roleA, transA ? k : m, transA ? m : k, call.a(), 0);
    GemmCall.Matrix b = Compute.operand(numerics, layer, product, roleB, transB ? n : k, transB ? k : n, call.b(),
        roleA == roleB ? 1 : 0);
    String key = layer + "/" + product;
    Accumulator acc = ar.acc;
    // only minifloat sums have biases: an fp32 sum (e.g. under an L-Mul multiplier) stays as it is
    if (calibrated && (acc instanceof FloatAcc || acc instanceof Chunked ch && ch.inner() instanceof FloatAcc)) {
      acc = calibration.computeIfAbsent(key, x -> calibrate(ar.acc, maxProduct(transA, transB, m, n, k, a, b), k));
    }
    acc = withUnderflow(acc, underflow);
    long seed = numerics.seed() ^ numerics.stream(layer, Role.ACCUMULATOR, call.a().off());
    float[] t = new float[m * n];
    GemmStats st = emulated().gemm(ar.mul, acc, transA, transB, m, n, k, a.x(), a.off(), a.ld(), b.x(), b.off(), b.ld(),
        t, 0, n, seed);
    count(key, st);
    if (product == Product.FORWARD && gradient != GradientMode.IDENTITY && dev.lowbit.autograd.Tape.recording()) {
      save(site, call, new Arith(ar.mul, acc), seed, a, b);
    }
    if (qc.isPresent()) {
      numerics.quantizeInPlace(qc.get(), layer, roleC, t, 0, m, n);
      if (obs != null) obs.tensor(layer, product, roleC, t, new int[] {m, n});
    }
    store(t, m, n, call.accumulate(), call.c().x(), call.c().off(), call.c().ld());
    return true;
  }

  private EmulatedGemm emulated() {
    EmulatedGemm g = fast;
    int threads = Parallel.threads();
    if (g == null || !g.name().endsWith("x" + threads)) {
      int bits = Math.max(128, Math.min(512, jdk.incubator.vector.VectorShape.preferredShape().vectorBitSize()));
      g = new VectorEmulatedGemm(bits, threads);
      fast = g;
    }
    return g;
  }

  private void count(String key, GemmStats st) {
    AtomicLongArray e = events.computeIfAbsent(key, x -> new AtomicLongArray(3));
    e.addAndGet(0, st.overflows());
    e.addAndGet(1, st.underflows());
    e.addAndGet(2, st.swamps());
    totals.addAndGet(0, st.overflows());
    totals.addAndGet(1, st.underflows());
    totals.addAndGet(2, st.swamps());
    totals.incrementAndGet(3);
  }

  /** Writes (or adds, when accumulating) a compact m × n result into C with leading dimension ldc. */
  static void store(float[] t, int m, int n, boolean accumulate, float[] c, int cOff, int ldc) {
    int vl = FS.length();
    for (int i = 0; i < m; i++) {
      int co = cOff + i * ldc, to = i * n;
      if (accumulate) { // in vectors: the scalar loop stayed scalar (fp16's fc weight gradients: 2 % of a CNN step)
        int j = 0;
        for (int bound = FS.loopBound(n); j < bound; j += vl) {
          FloatVector.fromArray(FS, c, co + j).add(FloatVector.fromArray(FS, t, to + j)).intoArray(c, co + j);
        }
        for (; j < n; j++) c[co + j] += t[to + j];
      } else {
        System.arraycopy(t, to, c, co, n);
      }
    }
  }

  private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;

  // ---------------------------------------------------------------- biases (§3.3)

  /** max over i, j, p of |op(A)[i][p]·op(B)[p][j]| = max over p of max_i|op(A)[i][p]|·max_j|op(B)[p][j]|. */
  static double maxProduct(boolean transA, boolean transB, int m, int n, int k, GemmCall.Matrix a, GemmCall.Matrix b) {
    float[] x = a.x(), y = b.x();
    int aOff = a.off(), lda = a.ld(), bOff = b.off(), ldb = b.ld();
    double[] ma = new double[k], mb = new double[k];
    for (int i = 0; i < m; i++) {
      for (int p = 0; p < k; p++) {
        float v = transA ? x[aOff + p * lda + i] : x[aOff + i * lda + p];
        ma[p] = Math.max(ma[p], Math.abs(v));
      }
    }
    for (int p = 0; p < k; p++) {
      for (int j = 0; j < n; j++) {
        float v = transB ? y[bOff + j * ldb + p] : y[bOff + p * ldb + j];
        mb[p] = Math.max(mb[p], Math.abs(v));
      }
    }
    double mx = 0;
    for (int p = 0; p < k; p++) mx = Math.max(mx, ma[p] * mb[p]);
    return mx;
  }

  /**
   * The accumulator with biases calibrated to the largest product (§3.3 [reconstructed]): product
   * format FP(M, E, b_prod) with b_prod = (2^E − 1) − ceil(log2 maxProduct), accumulator bias
   * b_prod − round(½·log2 C). A zero or non-finite maximum leaves the accumulator as it is.
   */
  static Accumulator calibrate(Accumulator acc, double maxProduct, int k) {
    if (!(maxProduct > 0) || Double.isInfinite(maxProduct)) return acc;
    FloatAcc inner = (FloatAcc) (acc instanceof Chunked ch ? ch.inner() : acc);
    int chunk = acc instanceof Chunked ch ? Math.min(ch.chunkSize(), k) : k;
    FloatFormat pf = inner.product() != null ? inner.product() : inner.format();
    int top = ceilLog2(maxProduct);
    int bProd = clampBias((1 << pf.exponentBits()) - 1 - top, pf.exponentBits());
    int bAcc = clampBias(Accumulator.chunkBias(bProd, chunk), inner.format().exponentBits());
    FloatAcc cal = new FloatAcc(
        new FloatFormat(inner.format().mantissaBits(), inner.format().exponentBits(), bAcc),
        inner.rounding(), inner.underflowToZero(),
        new FloatFormat(pf.mantissaBits(), pf.exponentBits(), bProd));
    return acc instanceof Chunked ch ? new Chunked(cal, ch.chunkSize(), ch.outer()) : cal;
  }

  /** ceil(log2 x) for x > 0, exact at powers of two (subnormal doubles included, spec §0.2). */
  static int ceilLog2(double x) {
    int e = Math.getExponent(x);
    if (e < Double.MIN_EXPONENT) return ceilLog2(Math.scalb(x, 64)) - 64;
    return Math.scalb(1.0, e) == x ? e : e + 1;
  }

  private static int clampBias(int bias, int exponentBits) {
    return Math.max((1 << exponentBits) - 129, Math.min(150, bias));
  }

  /** The accumulator with its float formats' underflow switched (stage 1 keeps tiny values, §3.4). */
  static Accumulator withUnderflow(Accumulator acc, boolean on) {
    if (acc instanceof FloatAcc f) {
      return f.underflowToZero() == on ? f : new FloatAcc(f.format(), f.rounding(), on, f.product());
    }
    if (acc instanceof Chunked ch) {
      Accumulator in = withUnderflow(ch.inner(), on), out = withUnderflow(ch.outer(), on);
      return in == ch.inner() && out == ch.outer() ? ch : new Chunked(in, ch.chunkSize(), out);
    }
    return acc;
  }

  // ---------------------------------------------------------------- fine-grained backward (§3.5)

  /** A product's operands as the GEMM saw them, compact and row-major: op(A) m×k and op(B) k×n. */
  record Logical(int m, int n, int k, float[] a, float[] b) {}

  /**
   * A forward product kept for the backward pass: its stored raw operands (by which a backward
   * product finds it), the operands as the GEMM saw them and the gradient factor per (i, j, p), 1
   * or 0.
   */
  private record Saved(long step, GemmCall.Matrix a, GemmCall.Matrix b, Logical op, byte[] pass) {}

  /**
   * Saves the forward product {@code call} of {@code site}, which ran on the quantized operands
   * {@code a} and {@code b} with {@code arith} (calibrated, underflow as it ran) and {@code seed}.
   */
  private void save(ProductPlan.Site site, GemmCall call, Arith arith, long seed, GemmCall.Matrix a, GemmCall.Matrix b) {
    boolean transA = site.transA(), transB = site.transB();
    int m = call.m(), n = call.n(), k = call.k();
    float[] x = a.x(), y = b.x();
    int aOff = a.off(), lda = a.ld(), bOff = b.off(), ldb = b.ld();
    float[] opA = new float[m * k], opB = new float[k * n];
    for (int i = 0; i < m; i++) for (int p = 0; p < k; p++) opA[i * k + p] = transA ? x[aOff + p * lda + i] : x[aOff + i * lda + p];
    for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) opB[p * n + j] = transB ? y[bOff + j * ldb + p] : y[bOff + p * ldb + j];
    Logical op = new Logical(m, n, k, opA, opB);
    byte[] pass = factors(gradient, arith.mul, arith.acc, seed, op);
    long step = numerics.step();
    GemmCall.Matrix a0 = call.a(), b0 = call.b();
    Map<Long, Saved> mine = saved.computeIfAbsent(site.layer(), key -> new ConcurrentHashMap<>());
    mine.values().removeIf(s -> s.step() != step); // only this step's forwards can still be backpropagated
    mine.put(System.identityHashCode(a0.x()) * 31L + a0.off(), new Saved(step,
        new GemmCall.Matrix(a0.x(), a0.off(), a0.ld()), new GemmCall.Matrix(b0.x(), b0.off(), b0.ld()), op, pass));
  }

  /**
   * The gradient factor δq·δp·Π_{later steps in the chunk} δs of every product (i, j, p), from the
   * event flags of the scalar reference chain (bit-exact with the emulated GEMM's forward).
   */
  static byte[] factors(GradientMode mode, Multiplier mul, Accumulator acc, long seed, Logical op) {
    int m = op.m(), n = op.n(), k = op.k();
    float[] opA = op.a(), opB = op.b();
    byte[] pass = new byte[m * n * k];
    int chunk = acc instanceof Chunked ch ? ch.chunkSize() : k;
    boolean q = mode == GradientMode.UNDERFLOW || mode == GradientMode.ALL;
    boolean sat = mode == GradientMode.OVERFLOW || mode == GradientMode.ALL;
    boolean swamp = mode == GradientMode.SWAMP || mode == GradientMode.ALL;
    Parallel.forRange(m, (long) n * k * 20, (i0, i1) -> {
      float[] x = new float[k], y = new float[k];
      byte[] flags = new byte[k];
      for (int i = i0; i < i1; i++) {
        System.arraycopy(opA, i * k, x, 0, k);
        for (int j = 0; j < n; j++) {
          for (int p = 0; p < k; p++) y[p] = opB[p * n + j];
          ScalarEmulatedGemm.chain(mul, acc, x, y, k, seed, (long) i * n + j, flags);
          int base = (i * n + j) * k;
          for (int c0 = 0; c0 < k; c0 += chunk) {
            boolean suffix = true; // Π δs over the later steps of this chunk
            for (int p = Math.min(k, c0 + chunk) - 1; p >= c0; p--) {
              int f = flags[p];
              boolean dq = !q || (f & ScalarEmulatedGemm.PRODUCT_EVENT) == 0;
              boolean dp = !(swamp && (f & ScalarEmulatedGemm.SWAMP) != 0) && !(sat && (f & ScalarEmulatedGemm.SATURATE) != 0);
              pass[base + p] = (byte) (dq && dp && suffix ? 1 : 0);
              if (sat && (f & ScalarEmulatedGemm.SATURATE) != 0) suffix = false;
            }
          }
        }
      }
    });
    return pass;
  }

  /**
   * A backward product of a layer with a saved forward: one operand is the error G (m×n of the
   * forward), the other a forward operand, found by identity. dA[i][p] = Σ_j G[i][j]·B[p][j]·F,
   * dB[p][j] = Σ_i G[i][j]·A[i][p]·F. Which one the call asks for, and in which layout, follows
   * from where G sits and whether it is transposed.
   */
  private boolean maskedBackward(ProductPlan.Site site, GemmCall call) {
    String layer = site.layer();
    Role roleA = site.roleA(), roleB = site.roleB();
    boolean transA = site.transA(), transB = site.transB();
    int mm = call.m(), nn = call.n(), kk = call.k();
    float[] a = call.a().x(), b = call.b().x(), c = call.c().x();
    int aOff = call.a().off(), lda = call.a().ld(), bOff = call.b().off(), ldb = call.b().ld();
    int cOff = call.c().off(), ldc = call.c().ld();
    boolean accumulate = call.accumulate();

    Map<Long, Saved> all = saved.get(layer);
    if (all == null || (roleA == Role.ERROR) == (roleB == Role.ERROR)) return false;
    boolean gFirst = roleA == Role.ERROR;
    float[] other = gFirst ? b : a;
    int otherOff = gFirst ? bOff : aOff;
    float[] g = gFirst ? a : b;
    int gOff = gFirst ? aOff : bOff, ldg = gFirst ? lda : ldb;
    boolean gT = gFirst ? transA : transB;
    for (Saved s : all.values()) {
      boolean wantB = gFirst == gT; // G first transposed → dBᵀ; G second plain → dB
      GemmCall.Matrix forward = wantB ? s.a : s.b;
      if (forward.x() != other || forward.off() != otherOff) continue;
      boolean transposedOut = gT; // dBᵀ (G first, transposed) or dAᵀ (G second, transposed)
      int m = s.op.m(), n = s.op.n(), k = s.op.k();
      float[] opA = s.op.a(), opB = s.op.b();
      int outRows = wantB ? k : m, outCols = wantB ? n : k;
      if ((transposedOut ? mm != outCols || nn != outRows : mm != outRows || nn != outCols)) continue;
      // G is stored as the forward output was (m×n) whatever the call's transpose flag says
      float[] gl = new float[m * n];
      for (int i = 0; i < m; i++) System.arraycopy(g, gOff + i * ldg, gl, i * n, n);
      float[] out = new float[outRows * outCols];
      if (wantB) {
        Parallel.forRange(k, (long) m * n, (p0, p1) -> {
          for (int p = p0; p < p1; p++) {
            for (int j = 0; j < n; j++) {
              double sum = 0;
              for (int i = 0; i < m; i++) {
                if (s.pass[(i * n + j) * k + p] != 0) sum += (double) gl[i * n + j] * opA[i * k + p];
              }
              out[p * n + j] = (float) sum;
            }
          }
        });
      } else {
        Parallel.forRange(m, (long) n * k, (i0, i1) -> {
          for (int i = i0; i < i1; i++) {
            for (int p = 0; p < k; p++) {
              double sum = 0;
              for (int j = 0; j < n; j++) {
                if (s.pass[(i * n + j) * k + p] != 0) sum += (double) gl[i * n + j] * opB[p * n + j];
              }
              out[i * k + p] = (float) sum;
            }
          }
        });
      }
      for (int r = 0; r < mm; r++) {
        for (int col = 0; col < nn; col++) {
          float v = transposedOut ? out[col * outCols + r] : out[r * outCols + col];
          int ci = cOff + r * ldc + col;
          c[ci] = accumulate ? c[ci] + v : v;
        }
      }
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- narrow integer sums

  /**
   * A narrow integer accumulator (int12, int16:sat, chunked) on integer operands: both operands must
   * have dynamic integer quantizers of at most 16 bits whose scales factor out of the sum (per tensor,
   * or per channel along the output dimension), as on the exact integer path.
   */
  private boolean integerProduct(ProductPlan.Site site, GemmCall call, Arith ar) {
    String layer = site.layer();
    Product product = site.product();
    Role roleA = site.roleA(), roleB = site.roleB(), roleC = site.roleC();
    boolean transA = site.transA(), transB = site.transB();
    int m = call.m(), n = call.n(), k = call.k();
    float[] a = call.a().x(), b = call.b().x(), c = call.c().x();
    int aOff = call.a().off(), lda = call.a().ld(), bOff = call.b().off(), ldb = call.b().ld();
    int cOff = call.c().off(), ldc = call.c().ld();
    boolean accumulate = call.accumulate();

    Optional<Quantizer> oqa = numerics.lookup(layer, roleA), oqb = numerics.lookup(layer, roleB);
    int wa = oqa.map(PlanRules::codeWidth).orElse(0), wb = oqb.map(PlanRules::codeWidth).orElse(0);
    int sa = oqa.map(PlanRules::scaleAxis).orElse(2), sb = oqb.map(PlanRules::scaleAxis).orElse(2);
    if (wa == 0 || wb == 0 || !(sa == -1 || sa == (transA ? 1 : 0)) || !(sb == -1 || sb == (transB ? 0 : 1))
        || !(ar.mul instanceof Multiplier.Exact)) {
      throw new IllegalArgumentException(layer + " " + product + ": integer accumulator '" + ar.acc.spec()
          + "' needs both operands (" + roleA + ", " + roleB + ") quantized to dynamic integers of at most 16 bits"
          + " with per-tensor or output-channel scales, and exact products; got "
          + oqa.map(Object::toString).orElse("fp32") + " and " + oqb.map(Object::toString).orElse("fp32"));
    }
    int aRows = transA ? k : m, aCols = transA ? m : k, bRows = transB ? n : k, bCols = transB ? k : n;
    EncodedTensor ea = oqa.get().encode(Numerics.compact(a, aOff, lda, aRows, aCols), new int[] {aRows, aCols},
        numerics.seed(), numerics.stream(layer, roleA, aOff));
    EncodedTensor eb = oqb.get().encode(Numerics.compact(b, bOff, ldb, bRows, bCols), new int[] {bRows, bCols},
        numerics.seed(), numerics.stream(layer, roleB, bOff));
    int[] acc = new int[m * n];
    GemmStats st = Math.max(wa, wb) == 8
        ? emulated().gemmS8(ar.acc, transA, transB, m, n, k, ea.codesAsBytes(), 0, aCols, eb.codesAsBytes(), 0, bCols, acc, 0, n)
        : emulated().gemmS16(ar.acc, transA, transB, m, n, k, ea.codesAsShorts(), 0, aCols, eb.codesAsShorts(), 0, bCols, acc, 0, n);
    count(layer + "/" + product, st);
    float scale = (sa == -1 ? ea.scales()[0] : 1f) * (sb == -1 ? eb.scales()[0] : 1f);
    float[] t = new float[m * n];
    IntGemmEpilogue.dequantize(m, n, acc, 0, n, scale, sa == -1 ? null : ea.scales(), sb == -1 ? null : eb.scales(), t, 0, n);
    Optional<Quantizer> qc = numerics.lookup(layer, roleC);
    if (qc.isPresent()) numerics.quantizeInPlace(qc.get(), layer, roleC, t, 0, m, n);
    store(t, m, n, accumulate, c, cOff, ldc);
    return true;
  }




  /** Events as the summary's "overflows" entries (only when products ran emulated). */
  public Map<String, Long> summaryCounts() {
    LinkedHashMap<String, Long> m = new LinkedHashMap<>();
    if (gemms() == 0) return m;
    Events e = events();
    m.put("accumulator_overflow", e.overflows());
    m.put("accumulator_underflow", e.underflows());
    m.put("accumulator_swamp", e.swamps());
    return m;
  }
}
