package dev.lowbit.tensor;

import dev.lowbit.format.Quantizer;
import java.util.Objects;

/**
 * A tensor after a {@link Quantizer}: the values it now holds (each a number of the quantizer's
 * format, as fp32), laid out exactly as the tensor it was made from, and, where the format has
 * integer codes and a product can use them, those codes as bytes with their scales (one per
 * tensor, {@code scaleAxis} -1, or one per row of the stored matrix, {@code scaleAxis} 0), such
 * that {@code values[i] == codes[i] * scale}. A layer quantizes an operand once and hands this to
 * every product that takes it (forward and backward), so nothing is quantized twice.
 *
 * <p>A method that quantizes a tensor its own way (ShiftQuant's errors, say) hands its codes to
 * its products as {@code methodCodes}; such a tensor is only for that method's engine, and its
 * values are the method's, not the quantizer's.
 */
public record QuantizedTensor(Quantizer quantizer, float[] values, byte[] codes, float[] scales, int scaleAxis,
    MethodCodes methodCodes) {

  /** A method's own codes of a tensor, read by the engine of that method only. */
  public interface MethodCodes {}

  /** The quantizer's values, and its integer codes and scales when not null. */
  public QuantizedTensor(Quantizer quantizer, float[] values, byte[] codes, float[] scales, int scaleAxis) {
    this(quantizer, values, codes, scales, scaleAxis, null);
  }

  public QuantizedTensor {
    Objects.requireNonNull(quantizer, "quantizer");
    Objects.requireNonNull(values, "values");
    if ((codes == null) != (scales == null)) throw new IllegalArgumentException("codes and scales come together");
    if (codes != null && codes.length != values.length) {
      throw new IllegalArgumentException(codes.length + " codes for " + values.length + " values");
    }
    if (scaleAxis < -1 || scaleAxis > 0) throw new IllegalArgumentException("scale axis " + scaleAxis + "; valid: -1, 0");
  }

  /** Values only (a format without integer codes, or codes no product asks for). */
  public static QuantizedTensor ofValues(Quantizer quantizer, float[] values) {
    return new QuantizedTensor(quantizer, values, null, null, -1);
  }

  /** A method's codes of the tensor quantized by {@code quantizer}, with the values they stand for. */
  public static QuantizedTensor ofMethod(Quantizer quantizer, float[] values, MethodCodes codes) {
    return new QuantizedTensor(quantizer, values, null, null, -1, Objects.requireNonNull(codes, "codes"));
  }

  /** Whether the integer codes are here. */
  public boolean hasCodes() {
    return codes != null;
  }
}
