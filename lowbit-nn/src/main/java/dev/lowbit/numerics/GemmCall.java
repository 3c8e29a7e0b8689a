package dev.lowbit.numerics;

import dev.lowbit.tensor.QuantizedTensor;

/**
 * The arrays of one matrix product C = op(A)·op(B) (+ C when {@code accumulate}): op(A) is m × k,
 * op(B) k × n, C m × n. Whether A and B are transposed is part of the product's {@link
 * ProductPlan.Site}, which does not change from call to call.
 */
public record GemmCall(int m, int n, int k, Matrix a, Matrix b, boolean accumulate, Matrix c) {

  /**
   * A stored row-major matrix: its array, the offset of its first element and its leading
   * dimension; and, when the layer has already quantized it as the policy says for its role (an
   * op on the tape, made once for every product that uses the operand), that {@link
   * QuantizedTensor}, whose arrays are laid out as {@code x} (the same offset and leading
   * dimension). Engines that work on quantized values take it instead of quantizing again;
   * engines that encode raw operands themselves read {@code x}.
   */
  public record Matrix(float[] x, int off, int ld, QuantizedTensor quantized) {

    public Matrix(float[] x, int off, int ld) {
      this(x, off, ld, null);
    }

    /** This operand's quantized tensor when it was made by {@code q}, else null. */
    public QuantizedTensor quantizedBy(dev.lowbit.format.Quantizer q) {
      return quantized != null && quantized.methodCodes() == null && quantized.quantizer().equals(q) ? quantized : null;
    }
  }
}
