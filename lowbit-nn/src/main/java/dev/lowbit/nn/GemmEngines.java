package dev.lowbit.nn;

import dev.lowbit.format.Quantizer;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.numerics.Engine;
import dev.lowbit.numerics.Engine.Takes;
import dev.lowbit.numerics.Engine.Verdict;
import dev.lowbit.numerics.GemmCall;
import dev.lowbit.numerics.GemmCall.Matrix;
import dev.lowbit.numerics.MethodOptions;
import dev.lowbit.numerics.Product;
import dev.lowbit.numerics.ProductPlan;
import dev.lowbit.numerics.ProductPlan.Site;
import dev.lowbit.numerics.Role;
import java.util.List;
import java.util.Optional;

/**
 * The engines of {@link Compute#gemm}, in the order the planner asks them: emulated arithmetic,
 * ShiftQuant errors, integer codes in int32 chains, integer codes with exact int32 sums,
 * percentile-scaled int32 codes through IM-Unpack or with exact int64 sums, fake quantization, fp32. Each one's {@code accepts} is the static part of what its code path checks;
 * its {@code run} is that path.
 */
final class GemmEngines {

  private GemmEngines() {}

  /** The engines of one run's numerics, in planning order: the providers' ({@link EngineProvider}), then lowbit's own. */
  static List<Engine> of(Numerics q) {
    List<Engine> engines = new java.util.ArrayList<>(EngineProviders.gemmEngines(q));
    engines.addAll(List.of(new Emulated(q), new ShiftQuantErrors(q), new IntegerChains(q), new IntegerCodes(q),
        new Unpack(q), new QuantileIntegers(q), new FakeQuantized(q), new Fp32()));
    return List.copyOf(engines);
  }

  /** The backend the fp32 and integer GEMMs run on, for engine names. */
  static String backend() {
    return Kernels.gemm().name();
  }

  /** Multiplier and accumulator rules other than exact products and fp32 / int32 sums ({@link EmulatedProducts}). */
  static final class Emulated implements Engine {
    private final Numerics q;

    Emulated(Numerics q) {
      this.q = q;
    }

    @Override
    public String name() {
      return "emulated";
    }

    @Override
    public Verdict accepts(ProductPlan p) {
      Site s = p.site();
      if (!q.emulated().handles(s.layer(), s.product())) return Verdict.no("exact products, fp32 or int32 sums");
      return Verdict.yes(q.emulated().describe(s.layer(), s.product()));
    }

    @Override
    public boolean run(ProductPlan p, GemmCall c) {
      return q.emulated().gemm(p, c);
    }

    @Override
    public Takes takes(ProductPlan p) {
      return q.emulated().takesQuantizedValues(p.site().layer(), p.site().product()) ? Takes.VALUES : Takes.NOTHING;
    }
  }

  /** The errors of both backward products as ShiftQuant codes ({@link ShiftQuantGemm}). */
  static final class ShiftQuantErrors implements Engine {
    private final Numerics q;

    ShiftQuantErrors(Numerics q) {
      this.q = q;
    }

    @Override
    public String name() {
      return "shiftquant";
    }

    @Override
    public Verdict accepts(ProductPlan p) {
      if (p.method() != ProductPlan.Method.SHIFTQUANT_ERRORS || q.shiftQuant == null) {
        return Verdict.no("no ShiftQuant errors in this product");
      }
      Site s = p.site();
      if (p.result().isPresent()) return Verdict.no(s.roleC().label() + " is quantized");
      Optional<Quantizer> e = q.lookup(s.layer(), Role.ERROR);
      int bits = e.isEmpty() ? 0 : PlanRules.shiftQuantErrorBits(e.get());
      if (bits == 0) return Verdict.no("ShiftQuant needs errors as dynamic signed integers of 2..8 bits");
      return Verdict.yes("option error-quantizer shiftquant: errors as " + bits
          + "-bit codes with power-of-two channel scales");
    }

    @Override
    public boolean run(ProductPlan p, GemmCall c) {
      return q.shiftQuant.gemm(q, p, c);
    }
  }

  /** Integer codes of both operands in int32 chains spilled to fp32 ({@link IntegerProducts}). */
  static final class IntegerChains implements Engine {
    private final Numerics q;

    IntegerChains(Numerics q) {
      this.q = q;
    }

    @Override
    public String name() {
      return "integer chains";
    }

    @Override
    public Verdict accepts(ProductPlan p) {
      Site s = p.site();
      if (Compute.integerPathOff) return Verdict.no("integer engines switched off (tests)");
      if (p.result().isPresent()) return Verdict.no(s.roleC().label() + " is quantized (integer products give fp32 results)");
      if (q.policy().methods().errorQuantizer() != MethodOptions.ErrorQuantizer.UNSET) {
        return Verdict.no("option error-quantizer is set");
      }
      Verdict both = bothQuantized(p);
      if (!both.accepted()) return both;
      Quantizer qa = p.a().get(), qb = p.b().get();
      int bitsA = PlanRules.codeBits(qa), bitsB = PlanRules.codeBits(qb);
      if (bitsA == 0) return Verdict.no(noCodes(s.roleA(), qa));
      if (bitsB == 0) return Verdict.no(noCodes(s.roleB(), qb));
      if (!IntegerProducts.scalesOutsideSum(qa, s.transA(), true) || !IntegerProducts.scalesOutsideSum(qb, s.transB(), false)) {
        return Verdict.no("a scale varies along the reduction");
      }
      IntegerProducts.Chains ch = IntegerProducts.chains(p.accumulator());
      if (ch == null) return Verdict.no("accumulator " + p.accumulator().get().spec() + " is not an int32 sum");
      return Verdict.yes("integer codes (" + bitsA + "×" + bitsB + " bits), exact int32 "
          + (ch.length() == dev.lowbit.kernel.ChainedIntGemm.UNBOUNDED ? "sums" : "chains of " + ch.length())
          + " on " + backend());
    }

    @Override
    public boolean run(ProductPlan p, GemmCall c) {
      return IntegerProducts.gemm(q, p, c);
    }

    /** The 8-bit products take the operands' byte codes; wider codes are encoded from the raw operands. */
    @Override
    public Takes takes(ProductPlan p) {
      return IntegerProducts.byteCodes(p) ? Takes.CODES : Takes.NOTHING;
    }
  }

  /** Integer codes (any rounding) with exact int32 sums on the backend ({@link IntegerProducts#codesGemm}). */
  static final class IntegerCodes implements Engine {
    private final Numerics q;

    IntegerCodes(Numerics q) {
      this.q = q;
    }

    @Override
    public String name() {
      return "integer";
    }

    @Override
    public Verdict accepts(ProductPlan p) {
      Site s = p.site();
      if (Compute.integerPathOff) return Verdict.no("integer engines switched off (tests)");
      if (s.roleC() != null) return Verdict.no("a weight-gradient product");
      Verdict both = bothQuantized(p);
      if (!both.accepted()) return both;
      Quantizer qa = p.a().get(), qb = p.b().get();
      if (PlanRules.codeWidth(qa) == 0) return Verdict.no(noCodes(s.roleA(), qa));
      if (PlanRules.codeWidth(qb) == 0) return Verdict.no(noCodes(s.roleB(), qb));
      int width = Math.max(PlanRules.codeWidth(qa), PlanRules.codeWidth(qb));
      int sa = PlanRules.scaleAxis(qa), sb = PlanRules.scaleAxis(qb);
      boolean aOk = sa == -1 || sa == (s.transA() ? 1 : 0);
      boolean bOk = sb == -1 || sb == (s.transB() ? 0 : 1);
      if (!aOk || !bOk) return Verdict.no("a scale varies along the reduction");
      return Verdict.yes("integer codes of at most " + width + " bits, exact int32 sums on " + backend());
    }

    @Override
    public boolean run(ProductPlan p, GemmCall c) {
      return IntegerProducts.codesGemm(q, p, c);
    }
  }

  /**
   * IM-Unpack ({@code option unpack-bits B}): percentile-scaled int32 codes of both operands
   * unpacked into B-bit digits, exact on B-bit GEMMs ({@link QuantileProducts#unpacked}).
   */
  static final class Unpack implements Engine {
    private final Numerics q;

    Unpack(Numerics q) {
      this.q = q;
    }

    @Override
    public String name() {
      return "unpack";
    }

    @Override
    public Verdict accepts(ProductPlan p) {
      int bits = q.policy().methods().unpackBits();
      if (bits == 0) return Verdict.no("option unpack-bits is not set");
      Verdict v = quantileOperands(p);
      if (!v.accepted()) return v;
      return Verdict.yes("IM-Unpack: percentile int32 codes as " + bits + "-bit digits, exact on " + bits
          + "-bit GEMMs (the cheapest strategy per call) on " + backend());
    }

    @Override
    public boolean run(ProductPlan p, GemmCall c) {
      return QuantileProducts.unpacked(q, p, c, q.policy().methods().unpackBits());
    }
  }

  /** Percentile-scaled int32 codes of both operands, exact int64 sums ({@link QuantileProducts#exact}). */
  static final class QuantileIntegers implements Engine {
    private final Numerics q;

    QuantileIntegers(Numerics q) {
      this.q = q;
    }

    @Override
    public String name() {
      return "integer (int64 sums)";
    }

    @Override
    public Verdict accepts(ProductPlan p) {
      Verdict v = quantileOperands(p);
      if (!v.accepted()) return v;
      return Verdict.yes("percentile int32 codes, exact int64 sums (the int16 kernel where they fit) on " + backend());
    }

    @Override
    public boolean run(ProductPlan p, GemmCall c) {
      return QuantileProducts.exact(q, p, c);
    }
  }

  private static Verdict quantileOperands(ProductPlan p) {
    Site s = p.site();
    if (Compute.integerPathOff) return Verdict.no("integer engines switched off (tests)");
    if (p.result().isPresent()) return Verdict.no(s.roleC().label() + " is quantized (integer products give fp32 results)");
    Verdict both = bothQuantized(p);
    if (!both.accepted()) return both;
    if (!QuantileProducts.bothQuantile(p)) return Verdict.no("not both operands scaled per tensor by a percentile");
    return Verdict.yes("");
  }

  /** Operands (and a weight-gradient result) quantized, multiplied in fp32. */
  static final class FakeQuantized implements Engine {
    private final Numerics q;

    FakeQuantized(Numerics q) {
      this.q = q;
    }

    @Override
    public String name() {
      return "fake-quantized fp32";
    }

    @Override
    public Verdict accepts(ProductPlan p) {
      if (p.a().isEmpty() && p.b().isEmpty() && p.result().isEmpty()) return Verdict.no("nothing to quantize");
      return Verdict.yes("values quantized, multiplied and summed in fp32 on " + backend());
    }

    @Override
    public boolean run(ProductPlan p, GemmCall c) {
      Compute.fakeQuantized(q, p, c);
      return true;
    }

    @Override
    public Takes takes(ProductPlan p) {
      return Takes.VALUES;
    }
  }

  /** Plain fp32 on the backend's GEMM. */
  static final class Fp32 implements Engine {
    @Override
    public String name() {
      return "fp32";
    }

    @Override
    public Verdict accepts(ProductPlan p) {
      return Verdict.yes("policy quantizes neither operand nor the result; on " + backend());
    }

    @Override
    public boolean run(ProductPlan p, GemmCall c) {
      sgemm(p.site(), c);
      return true;
    }

    /** The call on the backend's fp32 GEMM. */
    static void sgemm(Site s, GemmCall c) {
      Matrix a = c.a(), b = c.b(), out = c.c();
      Kernels.gemm().sgemm(s.transA(), s.transB(), c.m(), c.n(), c.k(), 1f, a.x(), a.off(), a.ld(),
          b.x(), b.off(), b.ld(), c.accumulate() ? 1f : 0f, out.x(), out.off(), out.ld());
    }
  }

  private static Verdict bothQuantized(ProductPlan p) {
    Site s = p.site();
    if (p.a().isEmpty()) return Verdict.no("policy has no rule for " + roleText(s.roleA()) + " (fp32)");
    if (p.b().isEmpty()) return Verdict.no("policy has no rule for " + roleText(s.roleB()) + " (fp32)");
    return Verdict.yes("");
  }

  private static String roleText(Role r) {
    return r == Role.ERROR ? "errors" : r.label() + "s";
  }

  private static String noCodes(Role role, Quantizer q) {
    String why = PlanRules.integerFamily(q)
        ? " has no integer kernel for " + ProductPlan.text(q) : " is " + q.format().name() + ", not integer codes";
    return role.label() + why;
  }

  /** The product's method: ShiftQuant errors for backward products with an error operand when the policy says so. */
  static ProductPlan.Method method(Numerics q, Site s) {
    boolean backward = s.product() == Product.BACKWARD_DATA || s.product() == Product.BACKWARD_WEIGHT;
    boolean errors = s.roleA() == Role.ERROR || s.roleB() == Role.ERROR;
    return q.shiftQuant != null && backward && errors && !Compute.integerPathOff
        ? ProductPlan.Method.SHIFTQUANT_ERRORS : ProductPlan.Method.PLAIN;
  }
}
