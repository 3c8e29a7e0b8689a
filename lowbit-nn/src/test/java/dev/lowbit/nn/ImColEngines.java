package dev.lowbit.nn;

import dev.lowbit.kernel.FloatKernels;
import dev.lowbit.kernel.Gemm;
import java.util.List;

/**
 * The test backend's engine provider: {@link ImColFloatBackend}'s kernels, when they are in force,
 * get the native convolution engines, as a real backend registers them (test resources'
 * META-INF/services).
 */
public final class ImColEngines implements EngineProvider {
  @Override
  public List<ConvEngine> convEngines(Gemm gemm, FloatKernels conv) {
    if (!(conv instanceof ImColFloatBackend.Kernels k)) return List.of();
    return List.of(NativeConvEngines.fp32(k), NativeConvEngines.int8(k));
  }
}
