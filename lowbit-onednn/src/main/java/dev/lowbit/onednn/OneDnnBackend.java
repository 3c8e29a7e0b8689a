package dev.lowbit.onednn;

import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.GemmBackend;
import dev.lowbit.settings.Settings;
import dev.lowbit.settings.SettingsTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The "onednn" {@link GemmBackend}: registered in META-INF/services so that
 * {@code Kernels.useBackend("onednn" | "auto")} finds it. Loading fails with a readable message
 * when the natives are missing, unsupported here, or disabled by the setting {@code lowbit.onednn.disable}.
 */
public final class OneDnnBackend implements GemmBackend {

  private static final Logger LOG = LoggerFactory.getLogger(OneDnnBackend.class);

  @Override
  public String name() {
    return "onednn";
  }

  @Override
  public Gemm load(Gemm fallback, Settings settings) {
    OneDnnGemm g = OneDnnGemm.create(fallback, settings);
    OneDnn rt = g.runtime();
    LOG.info("oneDNN {} on ISA {}: int8 s8s8 {}, u8s8 {}, int16 by int8 digits {}, {} (Java where oneDNN"
            + " has only reference loops); fp32 convolutions on oneDNN's direct kernels{}; fp32 products"
            + " and declined calls on {}",
        rt.version(), rt.isa(),
        g.int8Native(false) ? "native (k <= " + OneDnnGemm.MAX_K_S8S8 + ")" : "Java (self-test failed)",
        g.int8Native(true) ? "native (k <= " + OneDnnGemm.MAX_K_U8S8 + ")" : "Java (self-test failed)",
        g.int8Native(false) && g.int8Native(true)
            ? "native (k <= " + OneDnnGemm.MAX_K_U8S8 + "; training's chained int16 products stay on Java)" : "Java",
        g.narrowSummary(),
        settings.get(SettingsTable.NATIVE_FLOAT) ? "" : " (off: -D" + SettingsTable.NATIVE_FLOAT.key() + "=false)",
        fallback.name());
    return g;
  }
}
