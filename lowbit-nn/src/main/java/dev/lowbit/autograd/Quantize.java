package dev.lowbit.autograd;

import dev.lowbit.tensor.QuantizedTensor;
import dev.lowbit.tensor.Tensor;
import java.util.List;
import java.util.Objects;

/**
 * Quantization as an op on the tape: a tensor goes in, its {@link QuantizedTensor} (values, and
 * codes with scales where the format has them) comes out as a {@link Var} of its own, which every
 * product of the step then uses — the forward product, and the backward products that need the
 * same operand (the weight in backward-data, the input in backward-weight), which therefore never
 * quantize it again. The op's backward is straight-through (Bengio et al., 2013: the gradient of
 * the quantized values is the gradient of the source) unless the caller supplies another {@link
 * Backward}; a backward may also push gradients to the quantizer's parameters, given as {@code
 * Var}s (a learned scale or bit length), which is how a method learns them through this op.
 */
public final class Quantize {

  private Quantize() {}

  /** How the source's values become a quantized tensor (format, rounding stream, codes: the numerics decide). */
  @FunctionalInterface
  public interface Quantizing {
    QuantizedTensor apply(float[] source);
  }

  /** Pushes the gradient of the op's output to its source and to the quantizer's parameters. */
  @FunctionalInterface
  public interface Backward {
    void run(Var source, Quantized out, List<Var> parameters);
  }

  /** The straight-through estimator: the source's gradient is the output's, handed over without a copy where it can be. */
  public static final Backward STRAIGHT_THROUGH = (source, out, parameters) -> {
    if (!source.requiresGrad()) return;
    float[] g = out.var().grad();
    if (source.isParameter()) { // its gradient persists across steps: never an arena array
      float[] dst = source.gradForOverwrite();
      if (dst != null) System.arraycopy(g, 0, dst, 0, g.length);
      else Ops.addInto(source.gradForAccumulation(), g);
    } else if (source.grad() == null) {
      source.setGrad(g); // the tape drops the output's gradient right after this step
    } else {
      Ops.addInto(source.gradForAccumulation(), g);
    }
  };

  /** The op's output: the quantized values as a {@code Var} (shaped as the source) and the quantized tensor. */
  public record Quantized(Var var, QuantizedTensor tensor) {

    public float[] values() {
      return tensor.values();
    }
  }

  /** The source quantized, with a straight-through backward. */
  public static Quantized apply(Var source, Quantizing how) {
    return apply(source, how, STRAIGHT_THROUGH, List.of());
  }

  /**
   * The source quantized by {@code how}; when the source or a parameter takes a gradient, {@code
   * back} is recorded on the tape.
   */
  public static Quantized apply(Var source, Quantizing how, Backward back, List<Var> parameters) {
    Objects.requireNonNull(back, "backward");
    QuantizedTensor t = how.apply(source.data());
    if (t.values().length != source.size()) {
      throw new IllegalStateException("quantized " + t.values().length + " values of a tensor of " + source.size());
    }
    boolean grad = Tape.needsGrad(source) || Tape.needsGrad(parameters.toArray(Var[]::new));
    Quantized out = new Quantized(new Var(new Tensor(t.values(), source.shape()), grad), t);
    if (grad) {
      List<Var> params = List.copyOf(parameters);
      Tape.record(out.var(), () -> back.run(source, out, params));
    }
    return out;
  }
}
