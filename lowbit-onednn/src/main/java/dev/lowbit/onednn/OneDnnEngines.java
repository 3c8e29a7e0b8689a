package dev.lowbit.onednn;

import dev.lowbit.kernel.FloatKernels;
import dev.lowbit.kernel.Gemm;
import dev.lowbit.nn.ConvEngine;
import dev.lowbit.nn.EngineProvider;
import dev.lowbit.nn.NativeConvEngines;
import java.util.List;

/**
 * oneDNN's engines for the planner: when oneDNN's kernels are in force, its fp32 convolution (the
 * operands quantized around it) and its int8 forward convolution. Its GEMMs need no engine of their
 * own: lowbit's fp32 and integer engines run on the {@link Gemm} that {@link OneDnnBackend}
 * installs.
 */
public final class OneDnnEngines implements EngineProvider {
  @Override
  public List<ConvEngine> convEngines(Gemm gemm, FloatKernels conv) {
    if (!(conv instanceof OneDnnGemm k)) return List.of();
    return List.of(NativeConvEngines.fp32(k), NativeConvEngines.int8(k));
  }
}
