package dev.lowbit.onednn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.kernel.ScalarGemm;
import dev.lowbit.nn.ConvEngine;
import dev.lowbit.nn.EngineProvider;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** lowbit-onednn registers its convolution engines with the planner through its {@link EngineProvider}. */
class OneDnnEnginesTest {

  @AfterEach
  void reset() {
    Kernels.useBackend("java");
  }

  @Test
  void theProviderIsFoundAndOffersEnginesOnlyForOneDnnKernels() {
    List<EngineProvider> found = ServiceLoader.load(EngineProvider.class).stream().map(ServiceLoader.Provider::get)
        .filter(p -> p instanceof OneDnnEngines).toList();
    assertEquals(1, found.size(), "META-INF/services lists OneDnnEngines");
    EngineProvider p = found.get(0);
    assertEquals(List.of(), p.convEngines(ScalarGemm.INSTANCE, null), "no engines over the Java kernels");

    OneDnnGemm k = Natives.loadOrSkip(ScalarGemm.INSTANCE);
    List<ConvEngine> engines = p.convEngines(k, k);
    assertEquals(List.of("native conv (" + k.name() + ")", "native int8 conv"), engines.stream().map(ConvEngine::name).toList());
    ConvSpec s = ConvSpec.of(2, 3, 8, 8, 4, 3, 1, 1);
    assertTrue(engines.get(0).accepts(null, "conv", s).accepted(), "a plain fp32 convolution runs on oneDNN");
    assertTrue(!engines.get(1).accepts(null, "conv", s).accepted(), "no int8 convolution without a policy");
  }
}
