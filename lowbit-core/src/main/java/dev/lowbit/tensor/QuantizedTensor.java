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
 */
public record QuantizedTensor(Quantizer quantizer, float[] values, byte[] codes, float[] scales, int scaleAxis) {

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

  /** Whether the integer codes are here. */
  public boolean hasCodes() {
    return codes != null;
  }
}
