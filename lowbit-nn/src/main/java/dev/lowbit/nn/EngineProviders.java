package dev.lowbit.nn;

import dev.lowbit.kernel.FloatKernels;
import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.numerics.Engine;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/** The {@link EngineProvider}s on the class path, loaded once, and the engines they offer. */
final class EngineProviders {

  private EngineProviders() {}

  private static final List<EngineProvider> PROVIDERS = load();

  private static List<EngineProvider> load() {
    List<EngineProvider> out = new ArrayList<>();
    ServiceLoader.load(EngineProvider.class, EngineProvider.class.getClassLoader()).forEach(out::add);
    out.sort(Comparator.comparing(p -> p.getClass().getName()));
    return List.copyOf(out);
  }

  /** The conv engines offered for {@code gemm} and {@code conv}, with the kernels they were made for. */
  private record Offer(Gemm gemm, FloatKernels conv, List<ConvEngine> engines) {}

  private static volatile Offer offer;

  /** The providers' convolution engines for the kernels in force, made once per change of kernels. */
  static List<ConvEngine> convEngines() {
    Gemm g = Kernels.gemm();
    FloatKernels k = Kernels.floatKernels();
    Offer o = offer;
    if (o != null && o.gemm() == g && o.conv() == k) return o.engines();
    List<ConvEngine> engines = new ArrayList<>();
    for (EngineProvider p : PROVIDERS) engines.addAll(p.convEngines(g, k));
    offer = new Offer(g, k, List.copyOf(engines));
    return offer.engines();
  }

  /** The providers' GEMM engines for one run's numerics. */
  static List<Engine> gemmEngines(Numerics q) {
    List<Engine> engines = new ArrayList<>();
    for (EngineProvider p : PROVIDERS) engines.addAll(p.gemmEngines(q));
    return engines;
  }
}
