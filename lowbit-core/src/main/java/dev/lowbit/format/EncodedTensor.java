package dev.lowbit.format;

/**
 * A tensor in real storage: one integer code per element (row-major, like the float tensor it came
 * from) plus what the elements share. For block formats {@code exponents[s]} is slice {@code s}'s
 * shared exponent (DFP/BFP: value = mantissa · 2^e; MX: the E8M0 scale exponent); for integers
 * with a dynamic scale {@code scales[s]} is slice {@code s}'s scale; for minifloats scaled per
 * tensor by amax ({@link Granularity.Scaling#AMAX}) {@code scales[0]} is the fp32 scale and the
 * codes are bit patterns (value = decode(code) · scale). Slices are numbered as in
 * {@link Quantizer#sliceOf}. Element codes follow {@link ElementFormat}: integer values for
 * integers and DFP/BFP mantissas, bit patterns for minifloats.
 */
public record EncodedTensor(NumberFormat format, int[] shape, Granularity granularity, int[] codes,
    int[] exponents, float[] scales) {

  /** Codes narrowed to bytes (int8 GEMM input). */
  public byte[] codesAsBytes() {
    byte[] b = new byte[codes.length];
    for (int i = 0; i < codes.length; i++) {
      int c = codes[i];
      if (c < -128 || c > 255) {
        throw new IllegalArgumentException("code " + c + " at " + i + " does not fit in a byte");
      }
      b[i] = (byte) c;
    }
    return b;
  }

  /** Codes narrowed to shorts (int16 GEMM input, e.g. DFP16 mantissas). */
  public short[] codesAsShorts() {
    short[] s = new short[codes.length];
    for (int i = 0; i < codes.length; i++) {
      int c = codes[i];
      if (c < -32768 || c > 65535) {
        throw new IllegalArgumentException("code " + c + " at " + i + " does not fit in 16 bits");
      }
      s[i] = (short) c;
    }
    return s;
  }

  /** The element codes bit-packed, {@link NumberFormat#bits()} bits each (see {@link Packing}). */
  public byte[] packed() {
    return Packing.pack(codes, format.bits());
  }
}
