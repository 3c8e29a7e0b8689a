package dev.lowbit.cli;

import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.kernel.LowPrecisionGemm;
import dev.lowbit.onednn.OneDnn;
import dev.lowbit.onednn.OneDnnGemm;
import dev.lowbit.settings.SettingsTable;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lowbit backend}: which GEMM backend runs here, and which kernels it runs natively. */
@Command(
    name = "backend",
    description = "Show the GEMM backend chosen by --backend and what it runs natively, or (--settings) the"
        + " settings table with the values in force.",
    mixinStandardHelpOptions = true)
public final class BackendCommand implements Runnable {

  @Mixin BackendOption backend;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--settings", description = "Print every setting (-Dlowbit.*) with its value in force, whether"
      + " that is the default, and its help; loads no backend.")
  boolean settings;

  @Option(names = "--markdown", description = "With --settings: the table as markdown (docs/settings.md).")
  boolean markdown;

  @Override
  public void run() {
    PrintWriter out = Main.out(spec);
    if (markdown && !settings) throw new IllegalArgumentException("--markdown goes with --settings");
    if (settings) {
      out.print(markdown ? SettingsText.markdown() : SettingsText.table(Kernels.settings()));
      out.flush();
      return;
    }
    Gemm g = backend.apply();
    out.println("requested:        " + backend.backend());
    out.println("GEMM:             " + g.name());
    out.println("low-precision:    " + LowPrecisionGemm.of(g).name());
    if (g instanceof OneDnnGemm d) {
      OneDnn rt = d.runtime();
      out.println("oneDNN:           " + rt.version() + ", ISA " + rt.isa()
          + ", threads " + (rt.threads() == 0 ? "OpenMP default" : rt.threads()));
      out.println("int8 s8*s8:       " + (d.int8Native(false) ? "oneDNN for k <= " + OneDnnGemm.MAX_K_S8S8 + ", else Java" : "Java (self-test failed)"));
      out.println("int8 u8*s8:       " + (d.int8Native(true) ? "oneDNN for k <= " + OneDnnGemm.MAX_K_U8S8 + ", else Java" : "Java (self-test failed)"));
      out.println("int16 (digits):   " + (d.int8Native(false) && d.int8Native(true) ? "oneDNN for k <= " + OneDnnGemm.MAX_K_U8S8 + ", else Java" : "Java"));
      out.println("bf16/fp16/fp8:    " + d.narrowSummary()
          + " (Java: oneDNN has only reference loops on this CPU; the operands are decoded to fp32 for Java's GEMM)");
      out.println("fp32 GEMM:        Java");
      out.println("convolutions:     " + (Kernels.floatKernels() != null
          ? "oneDNN direct fp32 (training's Conv2d where the policy allows; int8 forward for the int8 preset)"
          : "Java im2col + GEMM (-D" + SettingsTable.NATIVE_FLOAT.key() + "=false)"));
    } else {
      out.println("all kernels:      Java");
    }
    out.flush();
  }
}
