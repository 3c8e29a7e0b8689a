package dev.lowbit.settings;

import java.util.List;

/**
 * Every tuning knob of lowbit, in one place (after microxcaling's {@code MxSpecs}). The command
 * line reads them from {@code -Dkey=value} system properties; {@code lowbit backend --settings}
 * prints them with the values in force, docs/settings.md lists them (generated from this table),
 * and a run's summary.json records the ones not at their default. None of them changes a result
 * bit for bit except where the help says so: they choose where and on how many threads a product
 * runs.
 */
public final class SettingsTable {

  private SettingsTable() {}

  /** Threads of the Java GEMM and of the parallel loops. */
  public static final Setting<Integer> THREADS = new Setting<>("lowbit.threads", Setting.integer(0), 0,
      "threads of the Java kernels and loops; 0: all processors (a command's --threads overrides it)");

  /** Whether a native backend runs training's fp32 convolutions. */
  public static final Setting<Boolean> NATIVE_FLOAT = new Setting<>("lowbit.nativeFloat", Setting.bool(), true,
      "run training's fp32 convolutions on a native backend's kernels; false: im2col and the Java GEMM");

  /** Training's int8 products smaller than this stay on the Java int8 kernel under a native backend. */
  public static final Setting<Long> INT8_MIN_NATIVE_MACS = new Setting<>("lowbit.int8.minNativeMacs",
      Setting.longInteger(0), 1L << 26,
      "training's int8 products with fewer multiply-adds per call run on the Java int8 kernel under a native"
          + " backend (a new weight every call: its copies cost more than the product); exact either way");

  /** Behave as if oneDNN's natives were missing. */
  public static final Setting<Boolean> ONEDNN_DISABLE = new Setting<>("lowbit.onednn.disable", Setting.bool(), false,
      "behave as if oneDNN's natives were missing: --backend auto runs on Java, --backend onednn fails");

  /** OpenMP threads of a oneDNN call. */
  public static final Setting<Integer> ONEDNN_THREADS = new Setting<>("lowbit.onednn.threads", Setting.integer(0), 0,
      "OpenMP threads of a oneDNN call; 0: OpenMP's default (all processors, or OMP_NUM_THREADS)");

  /** OMP_WAIT_POLICY to set before oneDNN loads. */
  public static final Setting<String> ONEDNN_WAIT_POLICY = new Setting<>("lowbit.onednn.waitPolicy",
      Setting.choice(List.of("passive", "active", "")), "passive",
      "OMP_WAIT_POLICY set before oneDNN loads unless the environment has one; empty keeps libgomp's"
          + " default (idle threads spin)");

  /** Integer products smaller than this stay on Java under oneDNN. */
  public static final Setting<Long> ONEDNN_MIN_MACS = new Setting<>("lowbit.onednn.minMacs", Setting.longInteger(0),
      1L << 18, "integer products with fewer multiply-adds run on Java under oneDNN (a native call's copies"
          + " cost more); exact either way");

  /** Whether convolutions of bf16 operands may run on oneDNN's bf16 kernels. */
  public static final Setting<Boolean> ONEDNN_BF16_CONV = new Setting<>("lowbit.onednn.bf16Conv", Setting.bool(), true,
      "run convolutions whose operands are bf16 numbers on oneDNN's bf16 kernels (fp32 sums in another order;"
          + " fp32-subnormal operands read as zero); false: oneDNN's fp32 kernels");

  /** The table, in the order it is printed. */
  public static final List<Setting<?>> ALL = List.of(THREADS, NATIVE_FLOAT, INT8_MIN_NATIVE_MACS, ONEDNN_DISABLE,
      ONEDNN_THREADS, ONEDNN_WAIT_POLICY, ONEDNN_MIN_MACS, ONEDNN_BF16_CONV);

  /** The entry with this key, or null. */
  public static Setting<?> find(String key) {
    for (Setting<?> s : ALL) {
      if (s.key().equals(key)) return s;
    }
    return null;
  }
}
