package dev.lowbit.nn;

import dev.lowbit.autograd.Var;
import dev.lowbit.format.Quantizer;
import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.numerics.Engine.Verdict;
import dev.lowbit.numerics.Product;
import dev.lowbit.numerics.ProductPlan;
import dev.lowbit.numerics.Role;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The planning of {@link Compute#conv2d}: the convolution engines that {@link EngineProvider}s offer
 * for the kernels in force (a native backend's fp32 and int8 convolutions, {@link
 * NativeConvEngines}), then im2col with each product planned as a GEMM. A convolution's plan is
 * made once per run and geometry.
 */
final class ConvEngines {

  private ConvEngines() {}

  /** A convolution's plan: the accepting engines in order, the first one's reason. */
  record ConvPlan(String layer, ConvSpec spec, List<ConvEngine> engines, String reason) {
    ConvPlan {
      engines = List.copyOf(engines);
    }

    /**
     * Rows for {@code summary.json} and {@code lowbit plan} when a native engine runs the layer:
     * one per product, with the operands as the policy quantizes them (the im2col engine's
     * products record their own plans instead).
     */
    List<Map<String, Object>> rows(Numerics q, boolean dataGradient) {
      List<Map<String, Object>> out = new ArrayList<>();
      ConvEngine e = engines.get(0);
      if (e.plansProductsAsGemms()) return out;
      Role[][] operands = {{Role.WEIGHT, Role.ACTIVATION}, {Role.WEIGHT, Role.ERROR}, {Role.ERROR, Role.ACTIVATION}};
      Product[] products = {Product.FORWARD, Product.BACKWARD_DATA, Product.BACKWARD_WEIGHT};
      for (int i = 0; i < 3; i++) {
        if (products[i] == Product.BACKWARD_DATA && !dataGradient) continue; // the input takes no gradient
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("layer", layer);
        m.put("product", products[i].label());
        m.put("a", operand(q, operands[i][0]));
        m.put("b", operand(q, operands[i][1]));
        m.put("result", products[i] == Product.BACKWARD_WEIGHT ? quantizer(q, Role.WEIGHT_GRADIENT) : "fp32");
        m.put("multiplier", q == null ? "exact" : q.policy().multiplier(layer, products[i]).map(x -> x.spec()).orElse("exact"));
        m.put("accumulator", q == null ? "default"
            : q.policy().accumulator(layer, products[i]).map(x -> x.spec()).orElse("default"));
        m.put("method", "plain");
        m.put("engine", e.engineOf(products[i]));
        m.put("reason", e.reasonOf(products[i], reason));
        out.add(m);
      }
      return out;
    }

    private String operand(Numerics q, Role role) {
      return role.label() + " " + quantizer(q, role);
    }

    private String quantizer(Numerics q, Role role) {
      Optional<Quantizer> z = q == null ? Optional.empty() : q.lookup(layer, role);
      return z.map(ProductPlan::text).orElse("fp32");
    }
  }

  /** The plan of a convolution (q null: no numerics installed, plain fp32). */
  static ConvPlan plan(Numerics q, String layer, ConvSpec s) {
    List<ConvEngine> chosen = new ArrayList<>();
    String reason = null;
    List<ConvEngine> candidates = new ArrayList<>(EngineProviders.convEngines());
    candidates.add(IM2COL);
    for (ConvEngine e : candidates) {
      Verdict v = e.accepts(q, layer, s);
      if (v.accepted()) {
        chosen.add(e);
        if (reason == null) reason = v.reason();
      }
    }
    return new ConvPlan(layer, s, chosen, reason);
  }

  /** im2col and the GEMM planner for each product. */
  static final ConvEngine IM2COL = new ConvEngine() {
    @Override
    public String name() {
      return "im2col";
    }

    @Override
    public Verdict accepts(Numerics q, String layer, ConvSpec s) {
      return Verdict.yes("columns and GEMMs, each product planned on its own");
    }

    @Override
    public Var run(Numerics q, String layer, Var x, Var w, Var b, ConvSpec s) {
      return Compute.im2colConv2d(q, layer, x, w, b, s);
    }

    @Override
    public boolean plansProductsAsGemms() {
      return true;
    }
  };

  /**
   * Whether convolution {@code layer} may run as a native fp32 convolution ({@link
   * dev.lowbit.kernel.FloatKernels}) with its operands quantized around it: no emulated arithmetic,
   * integer codes or ShiftQuant for the layer; the activation quantizer (if any) commutes with
   * im2col, the error quantizer is elementwise (it then quantizes the N×C×H×W errors instead of
   * their channels-first copy: the same values with round-to-nearest), and the weight and
   * weight-gradient quantizers see the tensors in the layout the GEMM path gives them. Activation,
   * weight and error quantizers may also be MX ({@link PlanRules#mxAlongReduction}): those operands are then
   * blocked along each product's reduction dimension ({@link Numerics#quantizeAlong}) — different blocks
   * from the im2col path's, which runs them along the column matrix's rows.
   */
  static boolean nativeConvolution(Numerics q, String layer, ConvSpec s) {
    if (q.shiftQuant != null || s.groups() != 1 || !q.emulated().plain(layer)) return false;
    for (Role role : new Role[] {Role.ACTIVATION, Role.WEIGHT, Role.ERROR, Role.WEIGHT_GRADIENT}) {
      Optional<Quantizer> z = q.lookup(layer, role);
      if (z.isEmpty()) continue;
      Quantizer qz = z.get();
      if (PlanRules.codeBits(qz) != 0 || PlanRules.codeWidth(qz) != 0 || PlanRules.quantile(qz)) return false;
      if (PlanRules.mxAlongReduction(qz)) {
        if (role == Role.WEIGHT_GRADIENT) return false; // a result, not an operand: no reduction to block along
        continue;
      }
      if (role == Role.ACTIVATION && !Numerics.commutesWithIm2col(qz, s)) return false;
      if (role == Role.ERROR && !PlanRules.elementwise(qz)) return false;
    }
    return true;
  }


  /**
   * Whether convolution {@code layer} may run its forward pass as a native int8 convolution
   * ({@link dev.lowbit.kernel.FloatKernels#convForwardS8}) and its backward passes as native fp32
   * convolutions on the dequantized operands: int8 codes for the activation (one scale, every
   * input element used, so the input's codes are the columns' codes) and the weight (one scale or
   * one per output channel), an exact int32 forward sum (no chain rule), no error, weight-gradient,
   * emulated or ShiftQuant rules for the layer — the int8 preset's convolutions.
   */
  static boolean int8Convolution(Numerics q, String layer, ConvSpec s) {
    if (q.shiftQuant != null || s.groups() != 1 || !s.everyInputUsed() || !q.emulated().plain(layer)) return false;
    if (q.policy().methods().errorQuantizer() != dev.lowbit.numerics.MethodOptions.ErrorQuantizer.UNSET) return false;
    if (q.lookup(layer, Role.ERROR).isPresent() || q.lookup(layer, Role.WEIGHT_GRADIENT).isPresent()) return false;
    Optional<Quantizer> qx = q.lookup(layer, Role.ACTIVATION), qw = q.lookup(layer, Role.WEIGHT);
    if (qx.isEmpty() || qw.isEmpty()) return false;
    if (!PlanRules.int8ConvOperands(qx.get(), qw.get())) return false;
    IntegerProducts.Chains ch = IntegerProducts.chains(q.policy().accumulator(layer, Product.FORWARD));
    return ch != null && ch.length() == dev.lowbit.kernel.ChainedIntGemm.UNBOUNDED;
  }
}
