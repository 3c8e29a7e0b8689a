package dev.lowbit.onednn;

import dev.lowbit.settings.Setting;
import dev.lowbit.settings.SettingsProvider;
import java.util.List;

/** The oneDNN backend's entries of the settings table, registered through {@link SettingsProvider}. */
public final class OneDnnSettings implements SettingsProvider {

  /** Behave as if oneDNN's natives were missing. */
  public static final Setting<Boolean> DISABLE = new Setting<>("lowbit.onednn.disable", Setting.bool(), false,
      "behave as if oneDNN's natives were missing: --backend auto runs on Java, --backend onednn fails");

  /** OpenMP threads of a oneDNN call. */
  public static final Setting<Integer> THREADS = new Setting<>("lowbit.onednn.threads", Setting.integer(0), 0,
      "OpenMP threads of a oneDNN call; 0: OpenMP's default (all processors, or OMP_NUM_THREADS)");

  /** OMP_WAIT_POLICY to set before oneDNN loads. */
  public static final Setting<String> WAIT_POLICY = new Setting<>("lowbit.onednn.waitPolicy",
      Setting.choice(List.of("passive", "active", "")), "passive",
      "OMP_WAIT_POLICY set before oneDNN loads unless the environment has one; empty keeps libgomp's"
          + " default (idle threads spin)");

  /** Integer products smaller than this stay on Java under oneDNN. */
  public static final Setting<Long> MIN_MACS = new Setting<>("lowbit.onednn.minMacs", Setting.longInteger(0),
      1L << 18, "integer products with fewer multiply-adds run on Java under oneDNN (a native call's copies"
          + " cost more); exact either way");

  /** Whether convolutions of bf16 operands may run on oneDNN's bf16 kernels. */
  public static final Setting<Boolean> BF16_CONV = new Setting<>("lowbit.onednn.bf16Conv", Setting.bool(), true,
      "run convolutions whose operands are bf16 numbers on oneDNN's bf16 kernels (fp32 sums in another order;"
          + " fp32-subnormal operands read as zero); false: oneDNN's fp32 kernels");

  @Override
  public List<Setting<?>> settings() {
    return List.of(DISABLE, THREADS, WAIT_POLICY, MIN_MACS, BF16_CONV);
  }
}
