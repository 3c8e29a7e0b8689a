package dev.lowbit.numerics;

import dev.lowbit.format.Quantizer;
import dev.lowbit.kernel.Accumulator;
import dev.lowbit.kernel.Multiplier;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How one product of one layer runs, resolved from the policy once per run: the quantizers of both
 * operands and of the result, the multiplier, the accumulator (empty: fp32 sums, or exact int32 on
 * integer codes), the method, and the engines that execute it (the first is the plan's engine; the
 * others take a call it declines, see {@link Engine}) with the reason for the choice.
 */
public record ProductPlan(Site site, Optional<Quantizer> a, Optional<Quantizer> b, Optional<Quantizer> result,
    Multiplier multiplier, Optional<Accumulator> accumulator, Method method, Choice choice) {

  /**
   * A product as a layer calls it: the layer, which product, what each operand is to the layer
   * ({@code roleC} the result's role, {@link Role#WEIGHT_GRADIENT} or null), and whether A and B
   * are transposed.
   */
  public record Site(String layer, Product product, Role roleA, Role roleB, Role roleC, boolean transA,
      boolean transB) {}

  /** What a product does beyond quantizing its operands: a method from the literature, or nothing. */
  public enum Method {
    PLAIN("plain"),
    /** The errors quantized by ShiftQuant in both backward products (spec training-numerics §2.4). */
    SHIFTQUANT_ERRORS("shiftquant errors");

    private final String label;

    Method(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /** The engines that accept a plan, in planning order, and the first one's reason. */
  public record Choice(List<Engine> engines, String reason) {
    public Choice {
      engines = List.copyOf(engines);
      if (engines.isEmpty()) throw new IllegalArgumentException("a plan needs an engine");
    }
  }

  /** The same plan with its engines and reason decided. */
  public ProductPlan withEngines(List<Engine> chosen, String why) {
    return new ProductPlan(site, a, b, result, multiplier, accumulator, method, new Choice(chosen, why));
  }

  /** The accepting engines, in planning order. */
  public List<Engine> engines() {
    return choice.engines();
  }

  /** Why the first engine runs the product. */
  public String reason() {
    return choice.reason();
  }

  /** The engine that executes the product. */
  public Engine engine() {
    return choice.engines().get(0);
  }

  /** The plan as one row of {@code summary.json}'s {@code plan} list and of {@code lowbit plan}. */
  public Map<String, Object> row() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("layer", site.layer());
    m.put("product", site.product().label());
    m.put("a", operand(site.roleA(), a));
    m.put("b", operand(site.roleB(), b));
    m.put("result", site.roleC() == null || result.isEmpty() ? "fp32" : text(result.get()));
    m.put("multiplier", multiplier.spec());
    m.put("accumulator", accumulator.map(Accumulator::spec).orElse("default"));
    m.put("method", method.label());
    m.put("engine", engine().name());
    m.put("reason", reason());
    return m;
  }

  private static String operand(Role role, Optional<Quantizer> q) {
    return role.label() + " " + q.map(ProductPlan::text).orElse("fp32");
  }

  /** A quantizer as a policy writes it. */
  public static String text(Quantizer q) {
    return new Spec.Quantize(q).text();
  }
}
