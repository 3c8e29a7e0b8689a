package dev.lowbit.onednn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.kernel.LowPrecisionGemm;
import dev.lowbit.kernel.ScalarGemm;
import dev.lowbit.kernel.ScalarLowPrecisionGemm;
import dev.lowbit.settings.Settings;
import dev.lowbit.settings.SettingsTable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The provider finds the backend through ServiceLoader, and without natives everything runs on Java. */
class OneDnnBackendTest {

  @AfterEach
  void reset() {
    Kernels.configure(Settings.defaults());
    Kernels.useBackend("java");
  }

  private static int[] s8Product(Gemm g) {
    byte[] a = {1, -2, 3, -128, 127, 5};
    byte[] b = {-128, 2, 7, -1, 0, 127};
    int[] c = new int[4];
    g.gemmS8S8(false, false, 2, 2, 3, a, 0, 3, b, 0, 2, c, 0, 2);
    return c;
  }

  /** bf16 is computed natively on the ISAs that have bf16 instructions, emulated (so declined) elsewhere. */
  @Test
  void nativeBf16IsDecidedByTheIsa() {
    for (String isa : new String[] {"avx512_core_bf16", "avx512_core_fp16", "avx512_core_amx", "avx512_core_amx_fp16",
        "avx2_vnni_2", "avx10_1_512_amx"}) {
      assertTrue(OneDnn.nativeBf16(isa), isa);
    }
    for (String isa : new String[] {"avx512_core_vnni", "avx512_core", "avx2_vnni", "avx2", "sse41"}) {
      assertTrue(!OneDnn.nativeBf16(isa), isa);
    }
  }

  /** Exact int8 sums from VNNI upwards: AMD Zen 5 reports avx512_core_bf16, which includes VNNI. */
  @Test
  void exactInt8IsDecidedByTheIsa() {
    for (String isa : new String[] {"avx512_core_vnni", "avx512_core_bf16", "avx512_core_fp16", "avx512_core_amx",
        "avx2_vnni", "avx2_vnni_2", "avx10_1_512"}) {
      assertTrue(OneDnn.exactInt8(isa), isa);
    }
    for (String isa : new String[] {"avx512_core", "avx2", "sse41"}) {
      assertTrue(!OneDnn.exactInt8(isa), isa);
    }
  }

  /**
   * Every ISA level oneDNN reports has its name, so the decisions above see it: Zen 5's
   * avx512_core_bf16 once printed as "isa#e7", which kept bf16 off oneDNN and int8 off the exact list.
   */
  @Test
  void everyIsaLevelHasItsName() {
    int[] levels = {org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_sse41, org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx,
        org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx2, org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx2_vnni,
        org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx2_vnni_2, org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core,
        org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_vnni,
        org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_bf16,
        org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_fp16,
        org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_amx,
        org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_amx_fp16,
        org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx10_2_512,
        org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx10_2_512_amx_2};
    for (int level : levels) {
      assertTrue(!OneDnn.isaName(level).startsWith("isa#"), Integer.toHexString(level));
    }
    String zen5 = OneDnn.isaName(org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_bf16);
    assertTrue(OneDnn.nativeBf16(zen5) && OneDnn.exactInt8(zen5), zen5);
    String vnni = OneDnn.isaName(org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_vnni);
    assertTrue(!OneDnn.nativeBf16(vnni) && OneDnn.exactInt8(vnni), vnni);
  }

  @Test
  void serviceLoaderFindsOneDnnByNameAndByAuto() {
    Gemm named = Kernels.useBackend("onednn");
    assertInstanceOf(OneDnnGemm.class, named);
    assertSame(named, Kernels.gemm());
    assertSame(named, LowPrecisionGemm.of(Kernels.gemm()));
    assertTrue(named.name().startsWith("onednn-"), named.name());
    assertTrue(named.copiesOperands(), "chained int16 products must leave oneDNN for the Java kernel");
    assertTrue(!Kernels.javaGemm().copiesOperands());
    assertInstanceOf(OneDnnGemm.class, Kernels.useBackend("auto"));
    assertArrayEquals(s8Product(ScalarGemm.INSTANCE), s8Product(Kernels.gemm()));
    assertSame(Kernels.javaGemm(), Kernels.useBackend("java"));
  }

  @Test
  void withoutNativesAutoRunsOnJavaAndNamedOneDnnSaysWhy() {
    Kernels.configure(Settings.defaults().with(OneDnnSettings.DISABLE, true));
    Gemm auto = Kernels.useBackend("auto");
    assertSame(Kernels.javaGemm(), auto);
    assertSame(ScalarLowPrecisionGemm.INSTANCE, LowPrecisionGemm.of(auto));
    assertArrayEquals(s8Product(ScalarGemm.INSTANCE), s8Product(Kernels.gemm()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kernels.useBackend("onednn"));
    assertTrue(e.getMessage().contains("onednn") && e.getMessage().contains(OneDnnSettings.DISABLE.key()), e.getMessage());
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> Kernels.useBackend("cuda"));
    assertTrue(unknown.getMessage().contains("onednn"), unknown.getMessage());
  }
}
