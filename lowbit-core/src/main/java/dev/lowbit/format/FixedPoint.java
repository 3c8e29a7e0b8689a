package dev.lowbit.format;

/**
 * Fixed point: a {@code wordBits}-bit integer (two's complement or unsigned) with {@code
 * fractionBits} bits after the binary point, i.e. {@link IntFormat} with scale {@code
 * 2^-fractionBits}. Written {@code fixed<W,F>} / {@code ufixed<W,F>}: W 1..32, F at most W (a
 * negative F puts the binary point to the right of the word: steps of 2^-F).
 */
public record FixedPoint(int wordBits, int fractionBits, boolean signed) implements ElementFormat {

  public FixedPoint {
    if (wordBits < 1 || wordBits > 32) {
      throw new IllegalArgumentException(
          "fixed-point word width " + wordBits + " is impossible; valid widths are 1..32");
    }
    if (fractionBits < -127 || fractionBits > 149) {
      throw new IllegalArgumentException("fixed<" + wordBits + "," + fractionBits
          + ">: fraction bits " + fractionBits + " put its step outside float32; valid: -127..149");
    }
    if (fractionBits > wordBits) {
      // more fraction bits than the word holds: not a fixed-point format anyone means (the binary
      // point would sit outside the word)
      throw new IllegalArgumentException("fixed<" + wordBits + "," + fractionBits + ">: " + fractionBits
          + " fraction bits do not fit in a " + wordBits + "-bit word; valid: fraction bits <= word bits");
    }
    new IntFormat(wordBits, signed, Math.scalb(1f, -fractionBits)); // checks the range fits float32
  }

  /** The same grid as an integer format with scale 2^-fractionBits. */
  public IntFormat asInt() {
    return new IntFormat(wordBits, signed, Math.scalb(1f, -fractionBits));
  }

  @Override
  public String name() {
    return (signed ? "fixed<" : "ufixed<") + wordBits + "," + fractionBits + ">";
  }

  @Override
  public int bits() {
    return wordBits;
  }

  @Override
  public double maxFinite() {
    return asInt().maxFinite();
  }

  @Override
  public double minNormal() {
    return asInt().minNormal();
  }

  @Override
  public double minSubnormal() {
    return asInt().minSubnormal();
  }

  @Override
  public double epsilon() {
    return asInt().epsilon();
  }

  @Override
  public int precisionBits() {
    return asInt().precisionBits();
  }

  @Override
  public double roundValue(double v, Rounding r, double u) {
    return asInt().roundValue(v, r, u);
  }

  @Override
  public float decode(int code) {
    return asInt().decode(code);
  }

  @Override
  public int encodeValue(float value) {
    return asInt().encodeValue(value);
  }

  @Override
  public int codeAt(long i) {
    return asInt().codeAt(i);
  }
}
