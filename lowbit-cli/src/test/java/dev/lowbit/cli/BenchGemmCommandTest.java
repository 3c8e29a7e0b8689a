package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.Kernels;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class BenchGemmCommandTest {

  @AfterEach
  void reset() {
    Kernels.useBackend("java");
  }

  private static String[] run(String... args) {
    CommandLine cl = Main.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int rc = cl.execute(args);
    return new String[] {String.valueOf(rc), out.toString(), err.toString()};
  }

  @Test
  void javaBackendTimesOnlyJavaKernels() {
    String[] r = run("bench", "gemm", "--backend", "java", "--sizes", "8", "--min-time", "0.01",
        "--kernels", "u8s8,bf16");
    assertEquals("0", r[0], r[2]);
    assertTrue(r[1].contains("need a native backend"), r[1]);
    assertTrue(r[1].lines().anyMatch(l -> l.matches("u8s8 +java .*")), r[1]);
    assertFalse(r[1].contains("onednn "), r[1]);
  }

  @Test
  void oneDnnBackendTimesNativeKernelsAgainstTheirJavaTwins() {
    String[] r = run("bench", "gemm", "--backend", "onednn", "--sizes", "8", "--min-time", "0.01",
        "--kernels", "u8s8,bf16-packed,u8s8-q8-packed,bf16-bf16out-packed");
    assertEquals("0", r[0], r[2]);
    String native8 = r[1].lines().filter(l -> l.matches("u8s8 +onednn .*")).findFirst().orElseThrow(() -> new AssertionError(r[1]));
    assertTrue(native8.trim().endsWith("x") && native8.split("x").length >= 2, native8); // vs sgemm and vs java
    assertTrue(r[1].lines().anyMatch(l -> l.matches("bf16-packed +onednn .*")), r[1]);
    assertTrue(r[1].lines().anyMatch(l -> l.matches("bf16-packed +onednn .*") && l.trim().endsWith("x")), r[1]);
    for (String fused : new String[] {"u8s8-q8-packed", "bf16-bf16out-packed"}) {
      assertTrue(r[1].lines().anyMatch(l -> l.matches(fused + " +onednn .*x")), r[1]);
    }
  }
}
