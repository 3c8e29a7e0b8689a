package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.Kernels;
import dev.lowbit.onednn.OneDnnGemm;
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

  /** Runs lowbit with {@code args}: exit code, standard output, standard error. */
  static String[] run(String... args) {
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
        "--kernels", "u8s8,bf16-packed,u8s8-q8-packed,bf16-bf16out-packed,f16");
    assertEquals("0", r[0], r[2]);
    String u8 = r[1].lines().filter(l -> l.matches("u8s8 +onednn .*")).findFirst().orElseThrow(() -> new AssertionError(r[1]));
    assertTrue(u8.matches(".*x +[0-9.]+x.*"), u8); // vs sgemm and vs java
    // 8³ is below the backend's cutoff for integer products: every call ran on Java, and the row says so
    assertTrue(u8.contains("calls declined to Java: not a native figure"), u8);
    OneDnnGemm d = (OneDnnGemm) dev.lowbit.kernel.Kernels.useBackend("onednn");
    try {
      // timed where this CPU runs the kernel natively, reported as not native (and not timed) elsewhere
      for (String k : new String[] {"bf16-packed", "bf16-bf16out-packed", "f16"}) {
        boolean nat = d.runsNatively(k.equals("f16") ? OneDnnGemm.NarrowKind.F16 : OneDnnGemm.NarrowKind.BF16);
        String row = r[1].lines().filter(l -> l.matches(k + " +onednn .*")).findFirst()
            .orElseThrow(() -> new AssertionError(k + " missing: " + r[1]));
        if (nat) {
          assertTrue(row.matches(".*[0-9]x$"), row);
        } else {
          assertTrue(row.contains("not native on " + d.runtime().isa()), row);
        }
      }
      assertTrue(r[1].lines().anyMatch(l -> l.matches("u8s8-q8-packed +onednn .*x")), r[1]);
    } finally {
      dev.lowbit.kernel.Kernels.useBackend("java");
    }
  }

  @Test
  void lmulKernelsAreTimedOnJavaAgainstSgemm() {
    String[] r = run("bench", "gemm", "--backend", "java", "--sizes", "16", "--min-time", "0.01",
        "--kernels", "sgemm,lmul3,lmul4:trunc");
    assertEquals("0", r[0], r[2]);
    assertFalse(r[1].contains("need a native backend"), r[1]);
    for (String k : new String[] {"sgemm", "lmul3", "lmul4:trunc"}) {
      assertTrue(r[1].lines().anyMatch(l -> l.matches(k + " +java +16 .*x *")), k + ": " + r[1]);
    }
    String[] bad = run("bench", "gemm", "--sizes", "8", "--kernels", "lmul0");
    assertEquals("2", bad[0], bad[1] + bad[2]);
    assertTrue(bad[2].contains("lmulM[:rne|:trunc]"), bad[2]);
  }
}
