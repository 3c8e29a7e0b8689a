package dev.lowbit.nn;

import dev.lowbit.numerics.GemmCall;
import dev.lowbit.numerics.ProductPlan;

/**
 * Sees every matrix product as it enters {@link Compute#gemm}, before it runs: the site (layer,
 * product, transposes) and the call (shapes and operand arrays). The arrays are the layer's own
 * and live in reused step arenas, so an observer that keeps them must copy them. While one is
 * installed, convolutions run as im2col GEMMs so that they pass here too.
 */
@FunctionalInterface
public interface ProductObserver {
  void product(ProductPlan.Site site, GemmCall call);
}
