package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.io.Json;
import dev.lowbit.kernel.Kernels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code lowbit plan}: the products of the CNN under int8, dfp16 and mxfp8, where they run and why. */
class PlanCommandTest {

  @AfterEach
  void javaBackend() {
    Kernels.useBackend("java");
  }

  private static String[] run(String... args) {
    CommandLine cl = Main.commandLine();
    StringWriter out = new StringWriter(), err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int rc = cl.execute(args);
    return new String[] {String.valueOf(rc), out.toString(), err.toString()};
  }

  /** The table's line for (layer, product), or a failure naming the output. */
  private static String line(String out, String layer, String product) {
    for (String l : out.lines().toList()) {
      String[] c = l.trim().split("\\s+");
      if (c.length > 2 && c[0].equals(layer) && c[1].equals(product)) return l;
    }
    throw new AssertionError("no line for " + layer + " " + product + " in\n" + out);
  }

  @Test
  void int8OnTheCnn() {
    String[] r = run("plan", "--model", "cnn", "--policy", "int8", "--backend", "java", "--batch", "2");
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].startsWith("plan of policy int8 on cnn (GEMM backend vector-"), r[1]);
    assertTrue(r[1].contains("11 products"), r[1]);
    String fwd = line(r[1], "c2", "forward");
    assertTrue(fwd.contains("weight int8 nearest-even per-channel(0) × activation int8") && fwd.contains("integer chains")
        && fwd.contains("integer codes (8×8 bits), exact int32 sums"), fwd);
    String bd = line(r[1], "c2", "backward-data");
    assertTrue(bd.contains("× error fp32") && bd.contains("fake-quantized fp32")
        && bd.contains("not integer: policy has no rule for errors (fp32)"), bd);
    // the last line: the estimate at --batch, labelled as one
    String last = r[1].strip().lines().reduce((x, y) -> y).orElseThrow();
    assertTrue(last.matches("estimated energy \\(45 nm, arithmetic only\\): [0-9.e+-]+ µJ per inference, "
        + "[0-9.e+-]+ µJ per training step \\(batch 2\\) — an estimate, see docs/methods/lmul.md"), last);
  }

  @Test
  void dfp16OnTheCnn() {
    String[] r = run("plan", "--model", "cnn", "--policy", "dfp16", "--backend", "java", "--batch", "2");
    assertEquals("0", r[0], r[2]);
    for (String p : List.of("forward", "backward-data", "backward-weight")) {
      String l = line(r[1], "c2", p);
      assertTrue(l.contains("integer chains") && l.contains("exact, int32:wrap/c256/int32")
          && l.contains("exact int32 chains of 256"), l);
    }
  }

  @Test
  void mxfp8OnTheCnnAsJson() {
    String[] r = run("plan", "--model", "cnn", "--policy", "mxfp8", "--backend", "java", "--batch", "2", "--json");
    assertEquals("0", r[0], r[2]);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> rows = (List<Map<String, Object>>) Json.parse(r[1].strip());
    assertEquals(11, rows.size());
    for (Map<String, Object> m : rows) {
      assertEquals("fake-quantized fp32", m.get("engine"), m.toString());
      assertTrue(((String) m.get("a") + m.get("b")).contains("mxfp8"), m.toString());
    }
  }

  /** On any backend the CNN has 11 products (its first layer takes no backward-data), each on a known engine. */
  @Test
  void int8OnTheCnnOnTheDefaultBackend() {
    String[] r = run("plan", "--model", "cnn", "--policy", "int8", "--batch", "2", "--json");
    assertEquals("0", r[0], r[2]);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> rows = (List<Map<String, Object>>) Json.parse(r[1].strip());
    assertEquals(11, rows.size(), rows.toString());
    List<String> engines = List.of("native int8 conv", "native conv (dequantized int8 operands)", "integer chains",
        "fake-quantized fp32");
    for (Map<String, Object> m : rows) assertTrue(engines.contains(m.get("engine")), m.toString());
    boolean native8 = rows.stream().anyMatch(m -> m.get("engine").equals("native int8 conv"));
    assertEquals(native8, Kernels.floatKernels() != null && rows.stream()
        .anyMatch(m -> m.get("layer").equals("c2") && ((String) m.get("engine")).startsWith("native")), rows.toString());
  }

  @Test
  void theEnergyEstimateDoesNotDependOnTheBackend() {
    // the default backend may run the CNN's int8 convolutions natively; the estimate counts their GEMMs all the same
    String java = run("plan", "--model", "cnn", "--policy", "int8", "--batch", "2", "--backend", "java")[1];
    String auto = run("plan", "--model", "cnn", "--policy", "int8", "--batch", "2")[1];
    String estimate = java.strip().lines().reduce((x, y) -> y).orElseThrow();
    assertTrue(estimate.startsWith("estimated energy"), java);
    assertEquals(estimate, auto.strip().lines().reduce((x, y) -> y).orElseThrow(), auto);
  }

  @Test
  void aBadPolicyIsOneLine() {
    String[] r = run("plan", "--model", "cnn", "--policy", "int9x");
    assertEquals("2", r[0]);
    assertEquals(1, r[2].strip().lines().count(), r[2]);
  }
}
