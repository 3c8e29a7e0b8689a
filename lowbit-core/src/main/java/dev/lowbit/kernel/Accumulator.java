package dev.lowbit.kernel;

import java.util.Locale;

/**
 * How the products of a dot product are summed: the accumulator of every multiply-accumulate in an
 * {@link EmulatedGemm}. Values, parsed from short strings ({@link #parse}) and printed back by
 * {@link #spec()}.
 *
 * <p>Order (part of the definition, bit-exact): for each output, products are added one at a time
 * in ascending k; with {@link Chunked}, k ascending within a chunk, chunks ascending (the chunk
 * result is then added into the outer accumulator). The running sum starts at +0.
 *
 * <ul>
 *   <li>{@link Fp32Exact}: fp32 sum, one rounding per multiply-add (fma with an exact multiplier;
 *       with another multiplier the fp32 product is added with one fp32 rounding).
 *   <li>{@link Int32Exact}: the exact (unbounded) integer sum, stored wrapped to int32; counts one
 *       overflow per output whose exact sum lies outside int32.
 *   <li>{@link IntN}: an n-bit two's-complement register; every addition whose true result leaves
 *       [−2^(n−1), 2^(n−1)−1] wraps or saturates and counts one overflow.
 *   <li>{@link FloatAcc}: a minifloat FP(M, E, b) rounded after every addition (Blumenfeld, Hubara,
 *       Soudry, "Towards Cheaper Inference in Deep Networks with Lower Bit-Width Accumulators",
 *       ICLR 2024).
 *   <li>{@link Chunked}: sums chunks of C products in an inner accumulator, then adds each chunk
 *       result into an outer one.
 * </ul>
 *
 * Integer accumulators apply to integer GEMMs (int8/int16 operands); floating ones to fp32-operand
 * GEMMs.
 */
public sealed interface Accumulator {

  /** The canonical string form; {@code parse(spec())} gives back an equal value. */
  String spec();

  /** True for the integer family (int8/int16 operand GEMMs). */
  boolean isInteger();

  /** Exact fp32 accumulation (the ordinary sgemm chain: s = fma(a, b, s), k ascending). */
  record Fp32Exact() implements Accumulator {
    @Override
    public String spec() {
      return "fp32";
    }

    @Override
    public boolean isInteger() {
      return false;
    }
  }

  /** The exact integer sum wrapped to int32, counting outputs whose exact sum leaves int32. */
  record Int32Exact() implements Accumulator {
    @Override
    public String spec() {
      return "int32";
    }

    @Override
    public boolean isInteger() {
      return true;
    }
  }

  /** What an integer register does when an addition leaves its range. */
  enum OverflowMode {
    /** Keep the low n bits (two's complement), as a plain adder does. */
    WRAP,
    /** Clamp to the nearest end of the range. */
    SATURATE
  }

  /** An n-bit (2..32) signed integer accumulator; every out-of-range addition counts one overflow. */
  record IntN(int bits, OverflowMode mode) implements Accumulator {
    public IntN {
      if (bits < 2 || bits > 32) {
        throw new IllegalArgumentException(
            "integer accumulator width must be 2..32 bits, got " + bits);
      }
      if (mode == null) throw new IllegalArgumentException("overflow mode must be wrap or sat");
    }

    @Override
    public String spec() {
      return "int" + bits + (mode == OverflowMode.WRAP ? ":wrap" : ":sat");
    }

    @Override
    public boolean isInteger() {
      return true;
    }

    int min() {
      return bits == 32 ? Integer.MIN_VALUE : -(1 << (bits - 1));
    }

    int max() {
      return bits == 32 ? Integer.MAX_VALUE : (1 << (bits - 1)) - 1;
    }
  }

  /** Rounding of the floating accumulator after each addition. */
  enum AccRounding {
    /** Round to nearest, ties to even. */
    RNE,
    /** Truncate the magnitude (round toward zero): the cheapest adder, and the spec's default. */
    RTZ,
    /**
     * Stochastic: floor(y + u) on the mantissa, u uniform from a counter-based hash of (seed, output
     * index i·n + j, k) — never a shared generator, so results do not depend on threads.
     */
    STOCHASTIC
  }

  /**
   * A floating-point format FP(M, E, b) without subnormals, infinities or NaN codes: exponent codes
   * 1..2^E−1 are normal, value ±2^(f−b)·(1 + frac/2^M); code 0 is zero. Its exponents must lie
   * within those of fp32 (the emulation returns fp32 results: e8 with bias 127 reaches 2^128, which
   * a final result shows as ±inf).
   */
  record FloatFormat(int mantissaBits, int exponentBits, int bias) {
    public FloatFormat {
      if (mantissaBits < 0 || mantissaBits > 23) {
        throw new IllegalArgumentException(
            "mantissa bits must be 0..23, got " + mantissaBits);
      }
      if (exponentBits < 1 || exponentBits > 8) {
        throw new IllegalArgumentException("exponent bits must be 1..8, got " + exponentBits);
      }
      int maxExp = (1 << exponentBits) - 1 - bias;
      int minExp = 1 - bias;
      if (maxExp > 128 || minExp < -149) {
        throw new IllegalArgumentException(
            "bias " + bias + " puts e" + exponentBits + "m" + mantissaBits + " beyond the fp32"
                + " exponents (needs 1-bias >= -149 and 2^E-1-bias <= 128, i.e. bias in "
                + ((1 << exponentBits) - 129) + ".." + 150 + ")");
      }
    }

    /** The IEEE-style bias 2^(E−1) − 1. */
    public static int ieeeBias(int exponentBits) {
      return (1 << (exponentBits - 1)) - 1;
    }

    /** Largest finite value 2^(2^E−1−b)·(2 − 2^−M). */
    public double maxFinite() {
      return Math.scalb(2.0 - Math.scalb(1.0, -mantissaBits), (1 << exponentBits) - 1 - bias);
    }

    /** Smallest normal value 2^(1−b). */
    public double minNormal() {
      return Math.scalb(1.0, 1 - bias);
    }

    /** "e4m7", with ":b=N" appended when the bias is not the IEEE one. */
    String spec(String biasKey) {
      String s = "e" + exponentBits + "m" + mantissaBits;
      return bias == ieeeBias(exponentBits) ? s : s + ":" + biasKey + "=" + bias;
    }
  }

  /**
   * A floating accumulator FMAq: each product p = Q_prod(a·b) (round-to-nearest-even into
   * {@code product}, or to fp32 when {@code product} is null), then s = Q_acc(s + p) with the sum
   * s + p formed in double (exact whenever the two addends' exponents differ by at most 29, which
   * covers every case but a tiny addend far below the accumulator's ulp) and rounded once into
   * {@code format} by {@code rounding}.
   *
   * <p>Q(x): NaN stays NaN; 0 stays 0; |x| below minNormal is an underflow → signed 0 (counted) when
   * {@code underflowToZero}, else kept with M fraction bits at its own exponent; otherwise the
   * mantissa is rounded to M bits and a result above maxFinite (also ±inf) saturates to ±maxFinite
   * (counted as an overflow). A swamping event is p ≠ 0 leaving s unchanged with neither an overflow nor an underflow
   * at that step.
   */
  record FloatAcc(
      FloatFormat format, AccRounding rounding, boolean underflowToZero, FloatFormat product)
      implements Accumulator {
    public FloatAcc {
      if (format == null) throw new IllegalArgumentException("accumulator format missing");
      if (rounding == null) throw new IllegalArgumentException("rounding must be rne, rtz or sr");
    }

    /** eXmY with the IEEE bias, the given rounding, underflow to zero, fp32 products. */
    public static FloatAcc of(int exponentBits, int mantissaBits, AccRounding rounding) {
      return new FloatAcc(
          new FloatFormat(mantissaBits, exponentBits, FloatFormat.ieeeBias(exponentBits)),
          rounding, true, null);
    }

    @Override
    public String spec() {
      StringBuilder s = new StringBuilder(format.spec("b"));
      s.append(':').append(rounding.name().toLowerCase(Locale.ROOT).replace("stochastic", "sr"));
      if (!underflowToZero) s.append(":nouf");
      if (product != null) {
        s.append(":p=e").append(product.exponentBits()).append('m').append(product.mantissaBits());
        if (product.bias() != FloatFormat.ieeeBias(product.exponentBits())) {
          s.append(":pb=").append(product.bias());
        }
      }
      return s.toString();
    }

    @Override
    public boolean isInteger() {
      return false;
    }
  }

  /**
   * Chunk-based accumulation: each run of {@code chunkSize} products (k ascending) is summed in
   * {@code inner} from zero, and the chunk result is added into {@code outer} (chunks ascending).
   * Float chunk results pass to the outer accumulator as fp32 values.
   */
  record Chunked(Accumulator inner, int chunkSize, Accumulator outer) implements Accumulator {
    public Chunked {
      if (chunkSize < 1) {
        throw new IllegalArgumentException("chunk size must be >= 1, got " + chunkSize);
      }
      if (inner == null || outer == null) {
        throw new IllegalArgumentException("chunked accumulation needs inner and outer accumulators");
      }
      if (inner instanceof Chunked || outer instanceof Chunked) {
        throw new IllegalArgumentException("chunked accumulators do not nest: " + inner + ", " + outer);
      }
      if (inner.isInteger() != outer.isInteger()) {
        throw new IllegalArgumentException(
            "inner '" + inner.spec() + "' and outer '" + outer.spec()
                + "' accumulators must both be integer or both floating");
      }
      if (outer instanceof FloatAcc f && f.product() != null) {
        throw new IllegalArgumentException(
            "a product format applies to the inner accumulator only, not the outer '"
                + outer.spec() + "'");
      }
    }

    @Override
    public String spec() {
      return inner.spec() + "/c" + chunkSize + "/" + outer.spec();
    }

    @Override
    public boolean isInteger() {
      return inner.isInteger();
    }
  }

  /**
   * The accumulator exponent bias for chunk size C from the product bias:
   * b_acc = b_prod − round(½·log2 C) (half rounds up), after Blumenfeld et al.
   */
  static int chunkBias(int productBias, int chunkSize) {
    if (chunkSize < 1) throw new IllegalArgumentException("chunk size must be >= 1, got " + chunkSize);
    return productBias - (int) Math.round(0.5 * (Math.log(chunkSize) / Math.log(2)));
  }

  /**
   * Parses an accumulator:
   *
   * <pre>
   *   fp32 | int32 | intN[:wrap|:sat]            (N = 2..32; wrap is the default)
   *   eXmY or mYeX, then options :rtz|:rne|:sr  :b=BIAS  :nouf  :p=eXmY  :pb=BIAS
   *   INNER/cC[/OUTER]                           (chunks of C; OUTER defaults to fp32 or int32)
   * </pre>
   *
   * Float defaults: RTZ, IEEE bias 2^(E−1)−1, underflow to zero, fp32 products.
   *
   * @throws IllegalArgumentException naming the bad part and what is valid
   */
  static Accumulator parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("empty accumulator; expected e.g. fp32, int16:wrap, e4m7, e5m6/c16");
    }
    String t = text.trim().toLowerCase(Locale.ROOT);
    String[] parts = t.split("/", -1);
    if (parts.length == 1) return parseSimple(parts[0], text);
    if (parts.length > 3 || !parts[1].startsWith("c")) {
      throw new IllegalArgumentException(
          "bad chunked accumulator '" + text + "'; expected INNER/cC or INNER/cC/OUTER, e.g. e5m6/c16");
    }
    int c;
    try {
      c = Integer.parseInt(parts[1].substring(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "bad chunk size '" + parts[1] + "' in '" + text + "'; expected c followed by a positive integer");
    }
    Accumulator inner = parseSimple(parts[0], text);
    Accumulator outer = parts.length == 3
        ? parseSimple(parts[2], text)
        : inner.isInteger() ? new Int32Exact() : new Fp32Exact();
    return new Chunked(inner, c, outer);
  }

  private static Accumulator parseSimple(String s, String whole) {
    String[] opts = s.split(":", -1);
    String head = opts[0];
    if (head.equals("fp32") && opts.length == 1) return new Fp32Exact();
    if (head.equals("int32") && opts.length == 1) return new Int32Exact();
    if (head.startsWith("int")) {
      int bits;
      try {
        bits = Integer.parseInt(head.substring(3));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "bad integer accumulator '" + s + "' in '" + whole + "'; expected intN with N = 2..32");
      }
      OverflowMode mode = OverflowMode.WRAP;
      if (opts.length > 2) {
        throw new IllegalArgumentException("too many options in '" + s + "'; expected intN[:wrap|:sat]");
      }
      if (opts.length == 2) {
        mode = switch (opts[1]) {
          case "wrap" -> OverflowMode.WRAP;
          case "sat", "saturate" -> OverflowMode.SATURATE;
          default -> throw new IllegalArgumentException(
              "bad overflow mode '" + opts[1] + "' in '" + whole + "'; expected wrap or sat");
        };
      }
      return new IntN(bits, mode);
    }
    int[] em = parseEm(head, whole);
    if (em == null) {
      throw new IllegalArgumentException(
          "unknown accumulator '" + s + "' in '" + whole
              + "'; expected fp32, int32, intN[:wrap|:sat], eXmY or mYeX (e.g. e4m7), optionally /cC");
    }
    AccRounding rounding = AccRounding.RTZ;
    Integer bias = null;
    Integer productBias = null;
    int[] prod = null;
    boolean uf = true;
    for (int i = 1; i < opts.length; i++) {
      String o = opts[i];
      switch (o) {
        case "rtz" -> rounding = AccRounding.RTZ;
        case "rne" -> rounding = AccRounding.RNE;
        case "sr", "stochastic" -> rounding = AccRounding.STOCHASTIC;
        case "nouf" -> uf = false;
        case "uf" -> uf = true;
        default -> {
          if (o.startsWith("b=")) {
            bias = parseInt(o.substring(2), "bias", whole);
          } else if (o.startsWith("pb=")) {
            productBias = parseInt(o.substring(3), "product bias", whole);
          } else if (o.startsWith("p=")) {
            prod = parseEm(o.substring(2), whole);
            if (prod == null) {
              throw new IllegalArgumentException(
                  "bad product format '" + o.substring(2) + "' in '" + whole + "'; expected eXmY");
            }
          } else {
            throw new IllegalArgumentException(
                "unknown accumulator option '" + o + "' in '" + whole
                    + "'; valid: rtz, rne, sr, b=BIAS, nouf, p=eXmY, pb=BIAS");
          }
        }
      }
    }
    if (productBias != null && prod == null) {
      throw new IllegalArgumentException("pb= needs a product format p=eXmY in '" + whole + "'");
    }
    FloatFormat format = new FloatFormat(
        em[1], em[0], bias == null ? FloatFormat.ieeeBias(em[0]) : bias);
    FloatFormat product = prod == null ? null : new FloatFormat(
        prod[1], prod[0], productBias == null ? FloatFormat.ieeeBias(prod[0]) : productBias);
    return new FloatAcc(format, rounding, uf, product);
  }

  /** Returns {E, M} for "eXmY" or "mYeX", or null when it is neither. */
  private static int[] parseEm(String s, String whole) {
    java.util.regex.Matcher m1 = java.util.regex.Pattern.compile("e(\\d+)m(\\d+)").matcher(s);
    java.util.regex.Matcher m2 = java.util.regex.Pattern.compile("m(\\d+)e(\\d+)").matcher(s);
    try {
      if (m1.matches()) return new int[] {Integer.parseInt(m1.group(1)), Integer.parseInt(m1.group(2))};
      if (m2.matches()) return new int[] {Integer.parseInt(m2.group(2)), Integer.parseInt(m2.group(1))};
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("exponent/mantissa width too large in '" + whole + "'");
    }
    return null;
  }

  private static int parseInt(String v, String what, String whole) {
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "bad " + what + " '" + v + "' in '" + whole + "'; expected an integer");
    }
  }
}
