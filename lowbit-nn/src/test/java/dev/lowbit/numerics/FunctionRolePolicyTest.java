package dev.lowbit.numerics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.io.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Function-role rules: parsing, canonical text, JSON, errors, lookup and binding to a model. */
class FunctionRolePolicyTest {

  private static final String TEXT = """
      policy approx
      blocks.*.attn  exp        poly:3
      *              softmax    fp16
      *              gelu,tanh  bf16
      blocks.0.ln1   layernorm  exact
      *              weight     int8
      """;

  @Test
  void rulesGiveTheirApproximationAndTheDefaultIsExact() {
    Policy p = Policy.parse(TEXT, "x");
    assertEquals(new Approximation.PolyExp(3), p.approximation("blocks.2.attn", Role.EXP));
    assertEquals(Approximation.EXACT, p.approximation("head", Role.EXP));
    assertEquals(Approximation.parse("fp16"), p.approximation("blocks.2.attn", Role.SOFTMAX));
    assertEquals(Approximation.parse("bf16"), p.approximation("blocks.0.fc1", Role.GELU));
    assertEquals(Approximation.parse("bf16"), p.approximation("act", Role.TANH));
    assertEquals(Approximation.EXACT, p.approximation("blocks.0.ln1", Role.LAYERNORM));
    assertEquals(Approximation.EXACT, p.approximation("fc1", Role.RELU));
    assertEquals(Approximation.EXACT, Presets.get("int8").approximation("bn", Role.BATCHNORM));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.approximation("fc1", Role.WEIGHT));
    assertTrue(e.getMessage().startsWith("weight is not a function role; valid: softmax, gelu, tanh, relu, layernorm, "
        + "batchnorm, exp"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> p.lookup("fc1", Role.GELU));
    assertEquals("gelu is not a tensor role; use approximation(layer, role)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> p.arithmetic("fc1", Role.EXP, Product.FORWARD));
    assertEquals("exp is a function role; use approximation(layer, role)", e.getMessage());
  }

  @Test
  void textAndJsonRoundTrip() {
    Policy p = Policy.parse(TEXT, "x");
    String text = p.toText();
    assertTrue(text.contains("blocks.*.attn  exp        poly:3\n"), text);
    assertTrue(text.contains("*              gelu,tanh  bf16\n"), text);
    assertEquals(p, Policy.parse(text, "y"));
    Map<String, Object> tree = p.toJsonTree();
    assertEquals(Map.of("layers", "blocks.*.attn", "roles", "exp", "approximation", "poly:3"),
        ((List<?>) tree.get("rules")).get(0));
    assertEquals(p, Policy.fromJson(tree, "y"));
    assertEquals(p, Policy.parseJson(Json.write(tree), Json::parse, "y"));
    Policy j = Policy.parseJson("""
        {"rules": [{"layers": ["a", "b"], "role": "softmax", "approximation": " FP16 "}]}""", Json::parse, "j");
    assertEquals(Approximation.parse("fp16"), j.approximation("b", Role.SOFTMAX));
    assertEquals("a,b  softmax  fp16", j.rules().get(0).text());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      * softmax poly:3          | policy line 2: approximation 'poly:3' does not apply to role softmax; valid for softmax: exact or a minifloat such as fp16, bf16, e4m3, e5m2 (poly:N is for role exp)
      * gelu int8               | policy line 2: approximation 'int8': int8 is not a minifloat; valid: exact, poly:N
      * gelu fp16 extra         | policy line 2: expected 'gelu APPROXIMATION' (exact, poly:N
      * exp poly:12             | policy line 2: poly:12: degree must be 1..8
      * exp taylor              | policy line 2: unknown approximation 'taylor'; valid: exact, poly:N (exp role only, N 1..8), or a minifloat
      * weight,softmax fp16     | policy line 2: roles weight,softmax mix function roles with tensor or arithmetic roles
      * accumulator,exp exact   | policy line 2: roles accumulator,exp mix function roles with tensor or arithmetic roles
      * softmax                 | policy line 2: expected 'LAYERS ROLES FORMAT [ROUNDING] [GRANULARITY]', 'LAYERS accumulator|multiplier SPEC [PRODUCTS]' or 'LAYERS FUNCTION-ROLES APPROXIMATION'
      * softmx fp16             | policy line 2: unknown role 'softmx'; valid: weight, activation, error, weight-gradient, optimizer-state, master-weight, multiplier, accumulator, softmax, gelu, tanh, relu, layernorm, batchnorm, exp
      """)
  void badRulesSayWhatIsValid(String line, String expectedStart) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Policy.parse("# first\n" + line + "\n", "p"));
    assertTrue(e.getMessage().startsWith(expectedStart.strip()), e.getMessage());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      {"layers": "*", "role": "gelu", "format": "fp16"}                 | policy JSON rules[0]: function roles take "approximation", not "format"
      {"layers": "*", "role": "gelu"}                                   | policy JSON rules[0]: missing "approximation"
      {"layers": "*", "role": "weight", "approximation": "fp16"}        | policy JSON rules[0]: approximation applies to function roles only (softmax, gelu
      {"layers": "*", "role": "softmax", "approximation": "poly:2"}     | policy JSON rules[0]: approximation 'poly:2' does not apply to role softmax
      """)
  void badJsonRulesSayWhatIsValid(String rule, String expectedStart) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Policy.parseJson("{\"rules\": [" + rule + "]}", Json::parse, "p"));
    assertTrue(e.getMessage().startsWith(expectedStart.strip()), e.getMessage());
  }

  @Test
  void ruleValuesAreChecked() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Policy.Rule(List.of("*"), java.util.Set.of(Role.GELU), new Spec.Keep()));
    assertEquals("spec 'fp32' does not fit roles gelu", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new Policy.Rule(List.of("*"),
        java.util.Set.of(Role.WEIGHT), new Spec.Approximate(Approximation.EXACT)));
    assertEquals("spec 'exact' does not fit roles weight", e.getMessage());
  }

  @Test
  void checkWarnsAboutFunctionRulesThatMatchNoSite() {
    Policy p = Policy.parse("* exp poly:2\nhead gelu fp16\n", "x");
    List<Policy.Site> sites = List.of(new Policy.Site("attn", Role.SOFTMAX, 0), new Policy.Site("attn", Role.EXP, 0),
        new Policy.Site("fc1", Role.GELU, 0));
    List<String> warnings = p.check(sites, "vit", false);
    assertEquals(List.of("policy line 2: rule 'head gelu fp16' matches no layer of model vit (layers with gelu: fc1)"),
        warnings);
  }
}
