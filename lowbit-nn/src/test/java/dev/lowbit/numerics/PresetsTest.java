package dev.lowbit.numerics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.format.Formats;
import dev.lowbit.format.IntFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PresetsTest {

  /** Canonical accumulator string (the kernel's own spec() once its parser is plugged in). */
  static String acc(String s) {
    return ArithmeticParsers.DEFAULT.accumulator().apply(s).spec();
  }

  @Test
  void theIssuesPresetsExist() {
    assertEquals(List.of("fp32", "bf16", "fp16", "fp8", "mxfp8", "mxfp6", "mxfp4", "int8", "dfp16",
        "shiftquant4", "shiftquant8", "acc12", "lmul4-attn", "lmul3-all", "lmul4-all", "lmul3-train", "lmul4-train", "unpack-int2", "unpack-int3", "unpack-int4", "unpack-int8"), Presets.names());
  }

  @Test
  void everyPresetParsesRoundTripsAndNamesAPaper() {
    for (String n : Presets.names()) {
      Policy p = Presets.get(n);
      assertEquals(n, p.name());
      assertEquals(p, Policy.parse(p.toText(), "x"), n);
      assertEquals(p, Policy.fromJson(p.toJsonTree(), "x"), n);
      String d = Presets.description(n);
      assertFalse(d.isBlank(), n);
      if (!n.equals("fp32")) assertTrue(d.matches(".*(19|20)\\d\\d.*"), n + ": " + d);
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Presets.get("fp7"));
    assertTrue(e.getMessage().startsWith("unknown policy preset 'fp7'; known: fp32, bf16"), e.getMessage());
  }

  @Test
  void presetsSayWhatTheirPapersDo() {
    Policy fp32 = Presets.get("fp32");
    for (Role r : Role.values()) {
      if (r.isTensor()) assertEquals(Optional.empty(), fp32.lookup("any", r));
      else if (r.isFunction()) assertEquals(Approximation.EXACT, fp32.approximation("any", r));
      else assertEquals(Optional.empty(), fp32.arithmetic("any", r, Product.FORWARD));
    }
    assertEquals(Optional.of("dynamic"), Presets.get("fp16").option("loss-scale"));
    assertEquals(Formats.FP16, Presets.get("fp16").lookup("x", Role.WEIGHT_GRADIENT).orElseThrow().format());
    assertEquals(Optional.empty(), Presets.get("fp16").lookup("x", Role.MASTER_WEIGHT));
    assertEquals(Optional.empty(), Presets.get("int8").lookup("x", Role.ERROR));
    assertEquals(Optional.of(acc("int32")), Presets.get("int8").arithmetic("x", Role.ACCUMULATOR, Product.FORWARD));
    assertEquals(Optional.of(acc("int32:wrap/c256")),
        Presets.get("dfp16").arithmetic("x", Role.ACCUMULATOR, Product.BACKWARD_WEIGHT));
    assertEquals("dfp16/h2", Presets.get("dfp16").lookup("x", Role.ERROR).orElseThrow().format().name());
    assertEquals(Optional.of(acc("e4m7/c16")), Presets.get("acc12").arithmetic("x", Role.ACCUMULATOR, Product.FORWARD));
    assertEquals(Optional.empty(), Presets.get("acc12").arithmetic("x", Role.ACCUMULATOR, Product.BACKWARD_DATA));
    Policy sq = Presets.get("shiftquant4");
    assertEquals(Optional.of("shiftquant"), sq.option("error-quantizer"));
    assertEquals(Optional.of("4"), sq.option("shift-max"));
    assertEquals(IntFormat.signed(4), sq.lookup("x", Role.ERROR).orElseThrow().format());
    assertEquals(Optional.of("0"), Presets.get("shiftquant8").option("shift-max"));
    assertEquals(Formats.E5M2.bits(), Presets.get("fp8").lookup("x", Role.ERROR).orElseThrow().format().bits());
  }

  @ParameterizedTest
  @CsvSource(textBlock = """
      fp32,        32,   32,   32
      bf16,        16,   16,   16
      fp16,        16,   16,   16
      fp8,         8,    8,    8
      mxfp8,       8.25, 8.25, 8.25
      mxfp6,       6.25, 6.25, 6.25
      mxfp4,       4.25, 4.25, 6.25
      int8,        8,    8,    32
      dfp16,       16,   16,   16
      shiftquant4, 4,    4,    4
      shiftquant8, 8,    8,    8
      acc12,       32,   32,   32
      """)
  void bitsPerValueAsInTheReadmeTable(String name, double w, double a, double g) {
    assertEquals(new Policy.Bits(w, a, g), Presets.get(name).bits());
  }
}
