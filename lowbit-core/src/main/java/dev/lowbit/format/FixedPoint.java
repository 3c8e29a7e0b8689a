package dev.lowbit.format;

/**
 * Fixed point: a {@code wordBits}-bit integer (two's complement or unsigned) with {@code
 * fractionBits} bits after the binary point, i.e. {@link IntFormat} with scale {@code
 * 2^-fractionBits}. Written {@code fixed<W,F>} / {@code ufixed<W,F>}: W 1..32, F at most W (a
 * negative F puts the binary point to the right of the word: steps of 2^-F).
 *
 * <p>Signed fixed point covers [-2^(W-F-1), 2^(W-F-1) - 2^-F] by default. With {@link
 * #symmetric()} ({@code fixed<W,F>:sym}) the range is [-max, max], max = 2^(W-F-1) - 2^-F: the
 * code -2^(W-1) is dropped, as QPyTorch's {@code fixed_point_quantize(..., symmetric=True)} does;
 * values below -max clamp to -max, and -2^(W-F-1) can neither be encoded nor decoded.
 */
public record FixedPoint(int wordBits, int fractionBits, boolean signed, boolean symmetric)
    implements ElementFormat {

  /** Fixed point with the full two's complement (or unsigned) range. */
  public FixedPoint(int wordBits, int fractionBits, boolean signed) {
    this(wordBits, fractionBits, signed, false);
  }

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
    if (symmetric && !signed) {
      throw new IllegalArgumentException("ufixed<" + wordBits + "," + fractionBits
          + ">:sym: symmetric clamping needs a signed format (fixed<W,F>:sym)");
    }
    if (symmetric && wordBits < 2) {
      throw new IllegalArgumentException("fixed<1," + fractionBits
          + ">:sym would hold only 0; symmetric fixed point needs a word width of 2..32");
    }
    new IntFormat(wordBits, signed, Math.scalb(1f, -fractionBits)); // checks the range fits float32
  }

  /** The same grid as an integer format with scale 2^-fractionBits (two's complement range). */
  public IntFormat asInt() {
    return new IntFormat(wordBits, signed, Math.scalb(1f, -fractionBits));
  }

  /** Smallest code: -(2^(W-1) - 1) when symmetric, else the integer format's. */
  public long minCode() {
    return symmetric ? -asInt().maxCode() : asInt().minCode();
  }

  /** Largest code. */
  public long maxCode() {
    return asInt().maxCode();
  }

  @Override
  public String name() {
    return (signed ? "fixed<" : "ufixed<") + wordBits + "," + fractionBits + ">" + (symmetric ? ":sym" : "");
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
    double q = asInt().roundValue(v, r, u);
    // the two's complement result is on the grid; symmetric only moves -2^(W-F-1) up to -max
    return symmetric && q < -maxFinite() ? -maxFinite() : q;
  }

  @Override
  public float decode(int code) {
    if (symmetric && code == asInt().minCode()) {
      throw new IllegalArgumentException("code " + code + " is outside " + name() + "'s range "
          + minCode() + ".." + maxCode());
    }
    return asInt().decode(code);
  }

  @Override
  public int encodeValue(float value) {
    int c = asInt().encodeValue(value);
    if (symmetric && c == asInt().minCode()) {
      // above 24 bits float cannot tell -2^(W-1) from -(2^(W-1) - 1) steps: then it is -max's value
      if ((float) (minCode() * (double) asInt().effectiveScale()) == value) return (int) minCode();
      throw new IllegalArgumentException("value " + value + " is not representable in " + name());
    }
    return c;
  }

  @Override
  public long codeCount() {
    return symmetric ? (1L << wordBits) - 1 : 1L << wordBits;
  }

  @Override
  public int codeAt(long i) {
    return asInt().codeAt(symmetric ? i + 1 : i);
  }
}
