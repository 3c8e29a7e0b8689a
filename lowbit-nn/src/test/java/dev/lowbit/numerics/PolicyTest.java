package dev.lowbit.numerics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.format.BlockFormat;
import dev.lowbit.format.Formats;
import dev.lowbit.format.Granularity;
import dev.lowbit.format.IntFormat;
import dev.lowbit.format.NumberFormat;
import dev.lowbit.format.Quantizer;
import dev.lowbit.format.Rounding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PolicyTest {

  static String acc(String s) {
    return ArithmeticParsers.DEFAULT.accumulator().apply(s).spec();
  }

  static String mul(String s) {
    return ArithmeticParsers.DEFAULT.multiplier().apply(s).spec();
  }

  static final String EXAMPLE = """
      # comment
      policy example
      *            weight      int8  rne  per-channel(0)
      *            activation  int8  rne  per-tensor
      fc*          error       e5m2  stochastic   # trailing comment
      *            accumulator int32
      """;

  @Test
  void parsesTheExample() {
    Policy p = Policy.parse(EXAMPLE, "unused");
    assertEquals("example", p.name());
    assertEquals(4, p.rules().size());
    Quantizer w = p.lookup("conv1", Role.WEIGHT).orElseThrow();
    assertEquals(IntFormat.signed(8), w.format());
    assertEquals(Rounding.NEAREST_EVEN, w.rounding());
    assertEquals(Granularity.perChannel(0), w.granularity());
    assertEquals(Granularity.perTensor(), p.lookup("conv1", Role.ACTIVATION).orElseThrow().granularity());
    Quantizer e = p.lookup("fc2", Role.ERROR).orElseThrow();
    assertEquals(Formats.E5M2, e.format());
    assertEquals(Rounding.STOCHASTIC, e.rounding());
    assertEquals(Optional.empty(), p.lookup("conv1", Role.ERROR), "error of a non-fc layer stays fp32");
    assertEquals(Optional.empty(), p.lookup("fc2", Role.MASTER_WEIGHT));
    assertEquals(Optional.of(acc("int32")), p.arithmetic("fc2", Role.ACCUMULATOR, Product.BACKWARD_DATA));
    assertEquals(Optional.empty(), p.arithmetic("fc2", Role.MULTIPLIER, Product.FORWARD));
  }

  @Test
  void firstMatchWins() {
    Policy p = Policy.parse("""
        fc1           weight             fp32
        fc?           weight,activation  e4m3
        *             weight             int8 per-channel
        layer*.conv2  activation         int4
        *             activation         int8
        """, "p");
    assertEquals(Optional.empty(), p.lookup("fc1", Role.WEIGHT), "an fp32 rule first keeps fc1 fp32");
    assertEquals(Formats.E4M3, p.lookup("fc2", Role.WEIGHT).orElseThrow().format());
    assertEquals(Formats.E4M3, p.lookup("fc1", Role.ACTIVATION).orElseThrow().format());
    assertEquals(IntFormat.signed(8), p.lookup("fc10", Role.WEIGHT).orElseThrow().format(), "? is one character");
    assertEquals(IntFormat.signed(4), p.lookup("layer1.conv2", Role.ACTIVATION).orElseThrow().format());
    assertEquals(IntFormat.signed(8), p.lookup("layer1.conv1", Role.ACTIVATION).orElseThrow().format());
    // swapping the order changes the answer: the first rule decides, not the most specific one
    Policy swapped = Policy.parse("""
        *    weight  int8 per-channel
        fc1  weight  fp32
        """, "p");
    assertEquals(IntFormat.signed(8), swapped.lookup("fc1", Role.WEIGHT).orElseThrow().format());
  }

  @Test
  void arithmeticRulesNameTheirProducts() {
    Policy p = Policy.parse("""
        head  accumulator  fp32
        *     accumulator  e4m7/c16  forward
        *     multiplier   lmul3:rne  forward,backward-data
        """, "p");
    assertEquals(Optional.of(acc("fp32")), p.arithmetic("head", Role.ACCUMULATOR, Product.FORWARD));
    assertEquals(Optional.of(acc("e4m7/c16")), p.arithmetic("body", Role.ACCUMULATOR, Product.FORWARD));
    assertEquals(Optional.empty(), p.arithmetic("body", Role.ACCUMULATOR, Product.BACKWARD_WEIGHT));
    assertEquals(Optional.of(mul("lmul3:rne")), p.arithmetic("x", Role.MULTIPLIER, Product.BACKWARD_DATA));
    assertEquals(Optional.empty(), p.arithmetic("x", Role.MULTIPLIER, Product.BACKWARD_WEIGHT));
    assertThrows(IllegalArgumentException.class, () -> p.lookup("x", Role.ACCUMULATOR));
    assertThrows(IllegalArgumentException.class, () -> p.arithmetic("x", Role.WEIGHT, Product.FORWARD));
  }

  @Test
  void arithmeticParserIsPluggable() {
    ArithmeticParsers mine = new ArithmeticParsers(s -> {
      if (!s.startsWith("acc")) throw new IllegalArgumentException("not mine: " + s);
      return new dev.lowbit.kernel.Accumulator.IntN(Integer.parseInt(s.substring(3)), dev.lowbit.kernel.Accumulator.OverflowMode.SATURATE);
    }, dev.lowbit.kernel.Multiplier::parse);
    Policy p = Policy.parse("* accumulator acc7", "p", mine);
    assertEquals(Optional.of("int7:sat"), p.arithmetic("a", Role.ACCUMULATOR, Product.FORWARD));
    assertEquals(Optional.of(new dev.lowbit.kernel.Accumulator.IntN(7, dev.lowbit.kernel.Accumulator.OverflowMode.SATURATE)),
        p.accumulator("a", Product.BACKWARD_DATA));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Policy.parse("\n* accumulator int32", "p", mine));

    assertEquals("policy line 2: not mine: int32", e.getMessage());
  }

  @Test
  void defaultsAreNearestEvenAndTheFormatsNaturalGranularity() {
    Policy p = Policy.parse("""
        a  weight  mxfp8
        b  weight  dfp16
        c  weight  e4m3 sr
        d  weight  int8 per-block(16,1) rtz
        """, "p");
    Quantizer a = p.lookup("a", Role.WEIGHT).orElseThrow();
    assertEquals(Granularity.perBlock(32, -1), a.granularity());
    assertEquals(Rounding.NEAREST_EVEN, a.rounding());
    assertEquals(Granularity.perTensor(), p.lookup("b", Role.WEIGHT).orElseThrow().granularity());
    assertEquals(Rounding.STOCHASTIC, p.lookup("c", Role.WEIGHT).orElseThrow().rounding());
    Quantizer d = p.lookup("d", Role.WEIGHT).orElseThrow();
    assertEquals(Granularity.perBlock(16, 1), d.granularity());
    assertEquals(Rounding.TOWARD_ZERO, d.rounding());
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
        () -> Policy.parse("e weight bfp8/b16 channel:1", "p"));
    assertTrue(ex.getMessage().startsWith("policy line 1: granularity PerChannel[axis=1] does not match bfp8/b16"), ex.getMessage());
  }

  @Test
  void perChannelGranularityQuantizesEachChannelOnItsOwnScale() {
    Policy p = Policy.parse("* weight int8 rne per-channel(0)", "p");
    Quantizer q = p.lookup("fc1", Role.WEIGHT).orElseThrow();
    float[] w = {1f, -0.5f, 0.25f, 100f, 50f, -25f};
    float[] out = new float[w.length];
    q.quantize(w, new int[] {2, 3}, out, 0, 0);
    // each row's largest magnitude is representable exactly: the scale follows that row alone
    assertEquals(1f, out[0]);
    assertEquals(100f, out[3]);
    assertEquals(-0.5f, out[1], 1f / 127);
    assertEquals(50f, out[4], 100f / 127);
    // per tensor, the small row shares the big row's step and loses its values
    float[] pt = new float[w.length];
    Policy.parse("* weight int8 rne per-tensor", "p").lookup("x", Role.WEIGHT).orElseThrow()
        .quantize(w, new int[] {2, 3}, pt, 0, 0);
    assertNotEquals(out[2], pt[2]);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      * weihgt int8                        | policy line 2: unknown role 'weihgt'; valid: weight, activation, error, weight-gradient, optimizer-state, master-weight, multiplier, accumulator
      * weight foo8                        | policy line 2: unknown format 'foo8'; valid:
      * weight int99                       | policy line 2: format 'int99': 
      * weight int8 rne sr                 | policy line 2: two roundings: nearest-even and 'sr'
      * weight int8 per-tensor per-tensor  | policy line 2: two granularities: per-tensor and 'per-tensor'
      * weight int8 nearest                | policy line 2: 'nearest' is neither a rounding nor a granularity; valid roundings: nearest-even (rne)
      * weight int8 per-chanel(0)          | policy line 2: unknown granularity 'per-chanel(0)'; valid: per-tensor
      * weight int8 per-block(0)           | policy line 2: granularity 'per-block(0)': block size 0 must be >= 1
      * weight e4m3 per-channel(0)         | policy line 2: e4m3 has a fixed grid, so granularity
      * weight mxfp8 per-block(16)         | policy line 2: granularity PerBlock[size=16, axis=-1] does not match mxfp8 (blocks of 32)
      * weight mxfp8 per-tensor            | policy line 2: granularity PerTensor[] does not match mxfp8
      * weight dfp16 per-block(64)         | policy line 2: granularity PerBlock[size=64, axis=-1] does not match dfp16 (one exponent per tensor or channel; write e.g. dfp16/b32 for blocks)
      * weight fp32 rne                    | policy line 2: fp32 keeps values as they are, so 'rne' does not apply
      * weight                             | policy line 2: expected 'LAYERS ROLES FORMAT [ROUNDING] [GRANULARITY]', 'LAYERS accumulator|multiplier SPEC [PRODUCTS]' or 'LAYERS FUNCTION-ROLES APPROXIMATION', got '* weight'
      * weight,accumulator int8            | policy line 2: roles weight,accumulator mix tensor roles with multiplier/accumulator
      * multiplier,accumulator exact       | policy line 2: multiplier and accumulator take different specs
      * weight,weight int8                 | policy line 2: role weight listed twice
      * accumulator int32 sideways         | policy line 2: unknown product 'sideways'; valid: forward, backward-data, backward-weight
      * accumulator int32 forward,forward  | policy line 2: product forward listed twice
      * accumulator int32 forward extra    | policy line 2: expected 'accumulator SPEC [PRODUCTS]', got 'int32 forward extra'
      fc1,,fc2 weight int8                 | policy line 2: bad layer pattern ''
      policy                               | policy line 2: expected 'policy NAME'
      policy bad/name                      | policy line 2: bad policy name 'bad/name'
      option loss-scale                    | policy line 2: expected 'option KEY VALUE'
      option loss-scaling dynamic          | policy line 2: unknown option 'loss-scaling'; valid: loss-scale, error-quantizer
      option loss-scale -1                 | policy line 2: option loss-scale: bad value '-1'; valid: none, dynamic or a positive number
      option shift-max 17                  | policy line 2: option shift-max: bad value '17'; valid: an integer 0..16
      """)
  void badLinesNameTheLineAndTheProblem(String line, String expectedStart) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Policy.parse("# first line\n" + line + "\n* weight int8\n", "p"));
    assertTrue(e.getMessage().startsWith(expectedStart.strip()),
        "message: " + e.getMessage() + "\nexpected start: " + expectedStart);
  }

  @Test
  void repeatedDirectivesAreErrors() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Policy.parse("policy a\n\npolicy b\n", "p"));
    assertEquals("policy line 3: second policy name 'b'", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> Policy.parse("option normalization l1\noption normalization l2\n", "p"));
    assertEquals("policy line 2: option 'normalization' set twice", e.getMessage());
  }

  @Test
  void badArithmeticSpecsCarryTheirParsersMessage() {
    for (String[] c : new String[][] {{"accumulator", "int33x"}, {"accumulator", "e4m7/c0"},
        {"multiplier", "lmul"}, {"multiplier", "exact:rne"}}) {
      Role role = Role.parse(c[0]);
      String parser;
      try {
        ArithmeticParsers.DEFAULT.parse(role, c[1], java.util.EnumSet.allOf(Product.class));
        throw new AssertionError(c[1] + " parsed");
      } catch (IllegalArgumentException e) {
        parser = e.getMessage();
      }
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Policy.parse("* weight int8\n* " + c[0] + " " + c[1], "p"));
      // the line names the bad spec, whether or not the parser's message does
      String expected = parser.contains(c[1]) ? parser : role + " '" + c[1] + "': " + parser;
      assertEquals("policy line 2: " + expected, e.getMessage());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Policy.parse(
        "* accumulator x1", "p", new ArithmeticParsers(s -> {
          throw new IllegalArgumentException("chunk size must be >= 1");
        }, dev.lowbit.kernel.Multiplier::parse)));
    assertEquals("policy line 1: accumulator 'x1': chunk size must be >= 1", e.getMessage());
  }

  @Test
  void unknownFormatCarriesTheFormatParsersMessage() {
    String parser;
    try {
      NumberFormat.parse("e9m3");
      throw new AssertionError("e9m3 parsed");
    } catch (IllegalArgumentException e) {
      parser = e.getMessage();
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Policy.parse("* error e9m3", "p"));
    assertEquals("policy line 1: " + parser, e.getMessage());
  }

  @Test
  void textRoundTrips() {
    Policy p = Policy.parse(EXAMPLE + """
        option loss-scale 1024
        head,tail  weight,error  mxfp6 sr
        *          multiplier    lmul4  backward-weight
        """, "x");
    String text = p.toText();
    Policy back = Policy.parse(text, "other");
    assertEquals(p, back);
    assertEquals(text, back.toText());
    assertTrue(text.contains("option loss-scale 1024.0"), text);
    assertTrue(text.contains("mxfp6 stochastic per-block(32,-1)"), text);
    assertTrue(text.contains(mul("lmul4") + " backward-weight"), text);
  }

  @Test
  void jsonTreeRoundTripsAndReadsTheDocumentedShape() {
    Policy p = Policy.parse(EXAMPLE, "x");
    assertEquals(p, Policy.fromJson(p.toJsonTree(), "other"));
    Map<String, Object> tree = Map.of("name", "j", "options", Map.of("loss-scale", 512),
        "rules", List.of(
            Map.of("layers", "*", "role", "weight", "format", "int8", "rounding", "rne",
                "granularity", "per-channel(0)"),
            Map.of("layers", List.of("fc1", "fc2"), "roles", List.of("error", "activation"),
                "format", "e5m2"),
            Map.of("layers", "*", "role", "accumulator", "format", "e4m7/c16", "products", "forward")));
    Policy j = Policy.fromJson(tree, "default");
    assertEquals("j", j.name());
    assertEquals(Optional.of("512.0"), j.option("loss-scale"));
    assertEquals(Granularity.perChannel(0), j.lookup("fc1", Role.WEIGHT).orElseThrow().granularity());
    assertEquals(Formats.E5M2, j.lookup("fc2", Role.ACTIVATION).orElseThrow().format());
    assertEquals(Optional.empty(), j.lookup("fc3", Role.ERROR));
    assertEquals(Optional.of(acc("e4m7/c16")), j.arithmetic("fc3", Role.ACCUMULATOR, Product.FORWARD));
    assertEquals(j, Policy.fromJson(j.toJsonTree(), "x"));
    assertEquals(j, Policy.parse(j.toText(), "x"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      role=wieght          | policy JSON rules[1]: unknown role 'wieght'
      format=int99x        | policy JSON rules[1]: unknown format 'int99x'
      rounding=per-tensor  | policy JSON rules[1]: unknown rounding 'per-tensor'
      granularity=rne      | policy JSON rules[1]: unknown granularity 'rne'
      products=forward     | policy JSON rules[1]: products apply to multiplier and accumulator rules only
      colour=red           | policy JSON rules[1]: unknown key 'colour'
      layers=              | policy JSON rules[1]: missing or empty "layers"
      """)
  void jsonErrorsNameTheRule(String change, String expectedStart) {
    String[] kv = change.split("=", 2);
    java.util.LinkedHashMap<String, Object> bad = new java.util.LinkedHashMap<>(
        Map.of("layers", "*", "role", "weight", "format", "int8"));
    bad.put(kv[0], kv[1]);
    Map<String, Object> tree = Map.of("rules",
        List.of(Map.of("layers", "*", "role", "activation", "format", "int8"), bad));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Policy.fromJson(tree, "p"));
    assertTrue(e.getMessage().startsWith(expectedStart.strip()), e.getMessage());
  }

  @Test
  void jsonStructureErrors() {
    assertEquals("policy JSON: expected an object",
        assertThrows(IllegalArgumentException.class, () -> Policy.fromJson(List.of(), "p")).getMessage());
    assertEquals("policy JSON: expected \"rules\": [ ... ]",
        assertThrows(IllegalArgumentException.class, () -> Policy.fromJson(Map.of(), "p")).getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> Policy.fromJson(Map.of("rules", List.of(), "optons", Map.of()), "p")).getMessage()
        .startsWith("policy JSON: unknown key 'optons'"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> Policy.fromJson(Map.of("rules", List.of(), "options", Map.of("shift-max", "x")), "p"))
        .getMessage().startsWith("policy JSON options.shift-max: option shift-max: bad value 'x'"));
    assertEquals("policy JSON rules[0]: expected an object", assertThrows(IllegalArgumentException.class,
        () -> Policy.fromJson(Map.of("rules", List.of("x")), "p")).getMessage());
    assertEquals("policy JSON rules[0]: give either role or roles, not both",
        assertThrows(IllegalArgumentException.class, () -> Policy.fromJson(Map.of("rules", List.of(
            Map.of("layers", "*", "role", "weight", "roles", "error", "format", "int8"))), "p")).getMessage());
  }

  @Test
  void readsFilesAndPresetNames(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("mine.policy");
    Files.writeString(f, "* weight int4\n");
    Policy p = Policy.resolve(f.toString(), s -> {
      throw new AssertionError("not JSON");
    });
    assertEquals("mine", p.name());
    assertEquals(IntFormat.signed(4), p.lookup("a", Role.WEIGHT).orElseThrow().format());
    assertEquals(Presets.get("int8"), Policy.resolve("int8", null));
    Path bad = dir.resolve("bad.policy");
    Files.writeString(bad, "* weight int4\n* wait int4\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Policy.read(bad, null));
    assertTrue(e.getMessage().startsWith(bad + ":2: unknown role 'wait'"), e.getMessage());
    Path json = dir.resolve("j.json");
    Files.writeString(json, "{}");
    Policy pj = Policy.read(json, text -> Map.of("rules", List.of(Map.of("layers", "*", "role", "error", "format", "e5m2"))));
    assertEquals("j", pj.name());
    assertEquals(Formats.E5M2, pj.lookup("x", Role.ERROR).orElseThrow().format());
    e = assertThrows(IllegalArgumentException.class, () -> Policy.resolve("nosuch", null));
    assertTrue(e.getMessage().startsWith("unknown policy 'nosuch': not a preset (fp32, bf16"), e.getMessage());
  }

  @Test
  void globs() {
    assertTrue(Policy.glob("*", ""));
    assertTrue(Policy.glob("*", "layer1.conv2"));
    assertTrue(Policy.glob("layer*.conv?", "layer12.conv2"));
    assertFalse(Policy.glob("layer*.conv?", "layer12.conv22"));
    assertTrue(Policy.glob("*conv*", "a.conv.b"));
    assertFalse(Policy.glob("fc", "fc1"));
    assertTrue(Policy.glob("a*b*c", "aXbYbZc"));
    assertFalse(Policy.glob("a*b*c", "aXbYbZ"));
  }

  @Test
  void bitsPerValue() {
    assertEquals(new Policy.Bits(8, 8, 32), Presets.get("int8").bits());
    assertEquals(new Policy.Bits(32, 32, 32), Presets.get("fp32").bits());
    assertEquals(new Policy.Bits(8.25, 8.25, 8.25), Presets.get("mxfp8").bits());
    assertEquals(new Policy.Bits(4.25, 4.25, 6.25), Presets.get("mxfp4").bits());
    assertEquals(new Policy.Bits(16, 16, 16), Presets.get("dfp16").bits());
    Policy p = Policy.parse("fc1 weight fp32\n* weight int4\n", "p");
    assertEquals(4, p.bits().weight(), "a layer no named rule singles out");
    assertEquals(32, p.bits("fc1").weight());
    assertEquals(4, p.bits("fc2").weight());
  }

  @Test
  void rolesAndProductsParse() {
    assertEquals(Role.WEIGHT_GRADIENT, Role.parse("Weight_Gradient"));
    assertEquals(Product.BACKWARD_DATA, Product.parse("backward_data"));
    assertTrue(Role.ERROR.isTensor());
    assertFalse(Role.ACCUMULATOR.isTensor());
    assertThrows(IllegalArgumentException.class, () -> Role.parse(null));
    assertThrows(IllegalArgumentException.class, () -> Product.parse("both"));
  }

  @Test
  void fp8PresetScalesEachTensorByItsAmax() {
    Quantizer q = Presets.get("fp8").lookup("x", Role.WEIGHT).orElseThrow();
    assertEquals(dev.lowbit.format.Formats.E4M3, q.format());
    assertTrue(q.amaxScaled(), q.granularity().toString());
    assertTrue(Presets.get("fp8").lookup("x", Role.ERROR).orElseThrow().amaxScaled());
    float[] x = {1e-3f, 2e-3f, -4e-3f};
    float[] out = new float[3];
    q.quantize(x, new int[] {3}, out, 0, 0);
    // the scale lifts tiny values into E4M3's range: all three survive with 4 significant bits
    for (int i = 0; i < 3; i++) assertEquals(x[i], out[i], Math.abs(x[i]) / 16);
    assertEquals(-4e-3f, out[2], Math.ulp(4e-3f), "amax lands on 448 and comes back");
  }

  @Test
  void amaxScalingParsesInBothSyntaxesAndRoundTrips() {
    Policy p = Policy.parse("*  error  e5m2  per-tensor(amax)  sr\nfc1  weight  e4m3  tensor:amax\n", "p");
    Quantizer e = p.lookup("fc2", Role.ERROR).orElseThrow();
    assertTrue(e.amaxScaled());
    assertEquals(dev.lowbit.format.Rounding.STOCHASTIC, e.rounding());
    assertTrue(p.lookup("fc1", Role.WEIGHT).orElseThrow().amaxScaled());
    assertTrue(p.toText().contains("e5m2 stochastic per-tensor(amax)"), p.toText());
    assertEquals(p, Policy.parse(p.toText(), "x"));
    assertEquals(p, Policy.fromJson(p.toJsonTree(), "x"));
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
        () -> Policy.parse("* error e5m2 per-tensor(max)", "p"));
    assertTrue(ex.getMessage().contains("'max'") && ex.getMessage().contains("per-tensor(amax)"), ex.getMessage());
    ex = assertThrows(IllegalArgumentException.class, () -> Policy.parse("* weight int8 per-tensor(amax)", "p"));
    assertTrue(ex.getMessage().contains("policy line 1") && ex.getMessage().contains("int8"), ex.getMessage());
    ex = assertThrows(IllegalArgumentException.class, () -> Policy.parse("* weight e4m3 tensor:amx", "p"));
    assertTrue(ex.getMessage().contains("'amx'"), ex.getMessage());
  }
}
