package dev.lowbit.nn;

import dev.lowbit.autograd.Var;
import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.kernel.FloatKernels;
import dev.lowbit.numerics.Engine.Verdict;
import dev.lowbit.numerics.Product;

/**
 * The convolution engines a native backend offers through its {@link EngineProvider}, over its own
 * {@link FloatKernels}: its fp32 convolution with the operands quantized around it, and its int8
 * forward convolution (the int8 preset) with fp32 backward passes on the dequantized operands. The
 * quantization, tape and gradient handling are lowbit's and identical for every backend; the
 * kernels decide only what geometry they take.
 */
public final class NativeConvEngines {

  private NativeConvEngines() {}

  /** The backend's fp32 convolution, operands quantized around it ({@link ConvEngines#nativeConvolution}). */
  public static ConvEngine fp32(FloatKernels kernels) {
    return new Fp32(kernels);
  }

  /** The backend's int8 forward convolution ({@link ConvEngines#int8Convolution}). */
  public static ConvEngine int8(FloatKernels kernels) {
    return new Int8(kernels);
  }

  private record Fp32(FloatKernels k) implements ConvEngine {
    @Override
    public String name() {
      return "native conv (" + k.name() + ")";
    }

    @Override
    public Verdict accepts(Numerics q, String layer, ConvSpec s) {
      if (Compute.observer != null || Compute.productObserver != null) return Verdict.no("observed: products as GEMMs");
      if (q != null && !ConvEngines.nativeConvolution(q, layer, s)) return Verdict.no("the policy's quantizers need im2col");
      if (!k.supports(s)) return Verdict.no("the backend declines " + s);
      return Verdict.yes(q == null || q.quantizesNothing(layer)
          ? "fp32 on the backend's convolutions" : "operands quantized around the backend's fp32 convolutions");
    }

    @Override
    public Var run(Numerics q, String layer, Var x, Var w, Var b, ConvSpec s) {
      return Compute.directConv2d(k, layer, q, x, w, b, s);
    }
  }

  private record Int8(FloatKernels k) implements ConvEngine {
    @Override
    public String name() {
      return "native int8 conv";
    }

    @Override
    public Verdict accepts(Numerics q, String layer, ConvSpec s) {
      if (q == null) return Verdict.no("no policy");
      if (Compute.observer != null || Compute.integerPathOff) return Verdict.no("observed or integer engines off (tests)");
      // as the fp32 engine: an observer of products (the energy estimate's count) must see this layer's GEMMs
      if (Compute.productObserver != null) return Verdict.no("observed: products as GEMMs");
      if (!ConvEngines.int8Convolution(q, layer, s)) return Verdict.no("not int8 activation and weight codes with exact sums");
      if (!k.supports(s) || !k.supportsS8(s)) return Verdict.no("the backend declines int8 " + s);
      return Verdict.yes("int8 codes of input and weight, exact int32 sums on the backend's int8 convolution;"
          + " backward in fp32 on the dequantized operands");
    }

    @Override
    public Var run(Numerics q, String layer, Var x, Var w, Var b, ConvSpec s) {
      return Compute.directInt8Conv2d(k, layer, q, x, w, b, s);
    }

    @Override
    public String engineOf(Product product) {
      return product == Product.FORWARD ? name() : "native conv (dequantized int8 operands)";
    }

    @Override
    public String reasonOf(Product product, String accepted) {
      return product == Product.FORWARD ? accepted
          : "backward of the native int8 conv: fp32 convolutions on the dequantized input and weight";
    }
  }
}
