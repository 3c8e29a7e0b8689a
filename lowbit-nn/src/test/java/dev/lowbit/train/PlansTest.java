package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.Kernels;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Normalization;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Presets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The planner's choice of engine for every preset × product on the MLP and the CNN (Java backend:
 * convolutions as im2col, so each of their products is planned as a GEMM). The table is the one
 * docs/engines.md explains; every layer of a model follows its preset's row.
 */
class PlansTest {

  /** preset: engine of forward | backward-data | backward-weight. */
  static final String TABLE = """
      fp32         fp32                 | fp32                 | fp32
      bf16         fake-quantized fp32  | fake-quantized fp32  | fake-quantized fp32
      fp16         fake-quantized fp32  | fake-quantized fp32  | fake-quantized fp32
      fp8          fake-quantized fp32  | fake-quantized fp32  | fake-quantized fp32
      mxfp8        fake-quantized fp32  | fake-quantized fp32  | fake-quantized fp32
      mxfp6        fake-quantized fp32  | fake-quantized fp32  | fake-quantized fp32
      mxfp4        fake-quantized fp32  | fake-quantized fp32  | fake-quantized fp32
      int8         integer chains       | fake-quantized fp32  | fake-quantized fp32
      dfp16        integer chains       | integer chains       | integer chains
      shiftquant4  integer              | shiftquant           | shiftquant
      shiftquant8  integer              | shiftquant           | shiftquant
      acc12        emulated             | fp32                 | fp32
      lmul4-attn   fp32                 | fp32                 | fp32
      lmul3-all    emulated             | fp32                 | fp32
      lmul4-all    emulated             | fp32                 | fp32
      lmul3-train  emulated             | emulated             | emulated
      lmul4-train  emulated             | emulated             | emulated
      unpack-int2  unpack               | unpack               | unpack
      unpack-int3  unpack               | unpack               | unpack
      unpack-int4  unpack               | unpack               | unpack
      unpack-int8  unpack               | unpack               | unpack
      """;

  @AfterEach
  void backend() {
    Kernels.useBackend("java");
  }

  static Map<String, String[]> table() {
    Map<String, String[]> t = new HashMap<>();
    for (String line : TABLE.strip().split("\n")) {
      String[] head = line.strip().split("\\s+", 2);
      String[] cols = head[1].split("\\|");
      for (int i = 0; i < cols.length; i++) cols[i] = cols[i].strip();
      t.put(head[0], cols);
    }
    return t;
  }

  @Test
  void everyPresetsProductsRunWhereTheTableSays() {
    Kernels.useBackend("java");
    Map<String, String[]> t = table();
    assertEquals(new java.util.TreeSet<>(Presets.names()), new java.util.TreeSet<>(t.keySet()), "the table covers every preset");
    List<String> products = List.of("forward", "backward-data", "backward-weight");
    for (String model : List.of("mlp", "cnn")) {
      for (String preset : Presets.names()) {
        List<Map<String, Object>> rows = plans(model, preset);
        // mlp: 3 layers, the first without backward-data; cnn: 4 layers likewise
        assertEquals(model.equals("mlp") ? 8 : 11, rows.size(), preset + " " + model + ": " + rows);
        for (Map<String, Object> r : rows) {
          String expected = t.get(preset)[products.indexOf((String) r.get("product"))];
          assertEquals(expected, r.get("engine"), preset + " " + model + " " + r.get("layer") + " " + r.get("product"));
          assertTrue(!((String) r.get("reason")).isBlank(), "a reason: " + r);
        }
      }
    }
  }

  @Test
  void rowsNameTheOperandsArithmeticAndTheReason() {
    Kernels.useBackend("java");
    Map<String, Object> bd = row(plans("cnn", "int8"), "c2", "backward-data");
    assertEquals("weight int8 nearest-even per-channel(0)", bd.get("a"));
    assertEquals("error fp32", bd.get("b"));
    assertTrue(((String) bd.get("reason")).startsWith("not integer: policy has no rule for errors (fp32)"), bd.toString());
    Map<String, Object> dfp = row(plans("mlp", "dfp16"), "fc2", "forward");
    assertEquals("int32:wrap/c256/int32", dfp.get("accumulator"));
    assertTrue(((String) dfp.get("reason")).contains("exact int32 chains of 256"), dfp.toString());
    Map<String, Object> sq = row(plans("mlp", "shiftquant4"), "fc2", "backward-data");
    assertEquals("shiftquant errors", sq.get("method"));
    Map<String, Object> acc = row(plans("mlp", "acc12"), "fc1", "forward");
    assertTrue(((String) acc.get("reason")).contains("emulated bit for bit"), acc.toString());
  }

  @Test
  void lmulPresetsOnTheVitSelectTheirProducts() {
    Kernels.useBackend("java");
    List<Map<String, Object>> attn = plans("vit", "lmul4-attn");
    List<Map<String, Object>> all = plans("vit", "lmul3-all");
    assertEquals(attn.size(), all.size());
    int lmulAttn = 0;
    for (int i = 0; i < attn.size(); i++) {
      Map<String, Object> r = attn.get(i);
      String layer = (String) r.get("layer");
      boolean forward = r.get("product").equals("forward");
      // only Q·Kᵀ and attention·V, never the q/k/v/proj Linears, the MLP or the head
      boolean attentionProduct = layer.endsWith(".attn.scores") || layer.endsWith(".attn.context");
      String what = "lmul4-attn " + layer + " " + r.get("product") + ": " + r;
      if (forward && attentionProduct) {
        lmulAttn++;
        assertEquals("emulated", r.get("engine"), what);
        assertTrue(((String) r.get("reason")).contains("multiplier lmul4:rne, accumulator fp32"), what);
      } else {
        assertEquals("fp32", r.get("engine"), what);
      }
      Map<String, Object> a = all.get(i);
      assertEquals(forward ? "emulated" : "fp32", a.get("engine"), "lmul3-all " + layer + " " + a.get("product"));
      if (forward) assertTrue(((String) a.get("reason")).contains("multiplier lmul3:rne"), a.toString());
    }
    assertTrue(lmulAttn >= 2 && lmulAttn % 2 == 0, "scores and context of every block: " + lmulAttn);
  }

  @Test
  void lmulTrainPresetsPutEveryProductOfTheVitOnLMul() {
    Kernels.useBackend("java");
    for (int m : new int[] {3, 4}) {
      List<Map<String, Object>> train = plans("vit", "lmul" + m + "-train");
      java.util.Set<Object> products = new java.util.TreeSet<>();
      for (Map<String, Object> r : train) {
        String what = "lmul" + m + "-train " + r.get("layer") + " " + r.get("product") + ": " + r;
        assertEquals("emulated", r.get("engine"), what);
        assertTrue(((String) r.get("reason")).contains("multiplier lmul" + m + ":rne, accumulator fp32"), what);
        products.add(r.get("product"));
      }
      assertEquals(java.util.Set.of("forward", "backward-data", "backward-weight"), products, "lmul" + m + "-train");
      assertEquals(plans("vit", "lmul3-all").size(), train.size(), "the same products as lmul3-all");
    }
  }

  @Test
  void planningChangesNoWeight() {
    Kernels.useBackend("java");
    Policy p = Presets.get("int8");
    var m = Models.create("cnn", 3, Normalization.L2);
    float[] before = m.parameters().get(0).data().clone();
    Plans.of(m, p, 2, Models.inputShape("cnn"), 0);
    assertTrue(java.util.Arrays.equals(before, m.parameters().get(0).data()));
    assertTrue(m.parameters().get(0).grad() == null || allZero(m.parameters().get(0).grad()));
  }

  private static boolean allZero(float[] g) {
    for (float v : g) if (v != 0) return false;
    return true;
  }

  static List<Map<String, Object>> plans(String model, String preset) {
    Policy p = Presets.get(preset);
    var m = Models.create(model, 0, p.methods().l1Normalization() ? Normalization.L1 : Normalization.L2);
    return Plans.of(m, p, 4, Models.inputShape(model), 0);
  }

  static Map<String, Object> row(List<Map<String, Object>> rows, String layer, String product) {
    for (Map<String, Object> r : rows) if (r.get("layer").equals(layer) && r.get("product").equals(product)) return r;
    throw new AssertionError("no row " + layer + " " + product + " in " + rows);
  }
}
