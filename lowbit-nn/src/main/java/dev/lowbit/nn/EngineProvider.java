package dev.lowbit.nn;

import dev.lowbit.kernel.FloatKernels;
import dev.lowbit.kernel.Gemm;
import dev.lowbit.numerics.Engine;
import java.util.List;

/**
 * Engines that a module beside the core contributes to the planner, found with {@link
 * java.util.ServiceLoader} (list the class in {@code META-INF/services/dev.lowbit.nn.EngineProvider}).
 * A native backend registers its convolution engines here when its kernels are the ones in force
 * ({@code lowbit-onednn} does); a method module can add GEMM engines. Provided engines are planned
 * before lowbit's own (which end with ones that accept every plan), in the order of the providers'
 * class names and then the order each returns them, so a plan records the same engines on every run.
 */
public interface EngineProvider {

  /**
   * The convolution engines this provider offers when {@code gemm} and {@code conv} (null: the
   * backend has no convolutions) are the kernels in force; none when they are not its own.
   */
  default List<ConvEngine> convEngines(Gemm gemm, FloatKernels conv) {
    return List.of();
  }

  /** GEMM engines for one run's numerics, planned before lowbit's own. */
  default List<Engine> gemmEngines(Numerics q) {
    return List.of();
  }
}
