package dev.lowbit.format;

import dev.lowbit.format.MiniFloat.Overflow;
import dev.lowbit.format.MiniFloat.Specials;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Named presets and the format-string parser used by the CLI and configs. */
public final class Formats {

  private Formats() {}

  /** IEEE binary32. */
  public static final MiniFloat FP32 = MiniFloat.ieee(8, 23);
  /** NVIDIA TensorFloat-32: FP32's range with 10 mantissa bits. */
  public static final MiniFloat TF32 = MiniFloat.ieee(8, 10);
  /** bfloat16. */
  public static final MiniFloat BF16 = MiniFloat.ieee(8, 7);
  /** IEEE binary16. */
  public static final MiniFloat FP16 = MiniFloat.ieee(5, 10);
  /** OCP FP8 E4M3 ("FN"): no infinity, NaN = 0x7F/0xFF, max 448, min subnormal 2^-9. */
  public static final MiniFloat E4M3 =
      new MiniFloat(4, 3, 7, true, Specials.FN, Overflow.NON_SATURATING);
  /** OCP FP8 E5M2: IEEE-like, max 57344, min subnormal 2^-16. */
  public static final MiniFloat E5M2 = MiniFloat.ieee(5, 2);
  /** OCP FP6 E3M2: no infinity or NaN, max 28. */
  public static final MiniFloat E3M2 = new MiniFloat(3, 2, 3, true, Specials.FINITE, Overflow.SATURATE);
  /** OCP FP6 E2M3: no infinity or NaN, max 7.5. */
  public static final MiniFloat E2M3 = new MiniFloat(2, 3, 1, true, Specials.FINITE, Overflow.SATURATE);
  /** OCP FP4 E2M1: no infinity or NaN, max 6. */
  public static final MiniFloat E2M1 = new MiniFloat(2, 1, 1, true, Specials.FINITE, Overflow.SATURATE);

  /** OCP MX block size. */
  public static final int MX_BLOCK = 32;

  /** MXINT8's element: 8-bit two's complement with an implicit scale of 2^-6. */
  public static final IntFormat MX_INT8_ELEMENT = new IntFormat(8, true, 0x1p-6f);

  public static final BlockFormat MXFP8_E4M3 = BlockFormat.mx(E4M3.withOverflow(Overflow.SATURATE), MX_BLOCK);
  public static final BlockFormat MXFP8_E5M2 = BlockFormat.mx(E5M2.withOverflow(Overflow.SATURATE), MX_BLOCK);
  public static final BlockFormat MXFP6_E3M2 = BlockFormat.mx(E3M2, MX_BLOCK);
  public static final BlockFormat MXFP6_E2M3 = BlockFormat.mx(E2M3, MX_BLOCK);
  public static final BlockFormat MXFP4 = BlockFormat.mx(E2M1, MX_BLOCK);
  public static final BlockFormat MXINT8 = BlockFormat.mx(MX_INT8_ELEMENT, MX_BLOCK);

  private static final Map<String, MiniFloat> FLOATS = new LinkedHashMap<>();
  private static final Map<String, BlockFormat> MX = new LinkedHashMap<>();

  static {
    FLOATS.put("fp32", FP32);
    FLOATS.put("tf32", TF32);
    FLOATS.put("bf16", BF16);
    FLOATS.put("fp16", FP16);
    FLOATS.put("e4m3", E4M3);
    FLOATS.put("e5m2", E5M2);
    FLOATS.put("e3m2", E3M2);
    FLOATS.put("e2m3", E2M3);
    FLOATS.put("e2m1", E2M1);
    MX.put("mxfp8", MXFP8_E4M3);
    MX.put("mxfp8e5m2", MXFP8_E5M2);
    MX.put("mxfp6", MXFP6_E2M3);
    MX.put("mxfp6e3m2", MXFP6_E3M2);
    MX.put("mxfp4", MXFP4);
    MX.put("mxint8", MXINT8);
  }

  private static final Map<String, String> ALIASES = Map.of(
      "e4m3fn", "e4m3", "fp8e4m3", "e4m3", "fp8e5m2", "e5m2", "fp4", "e2m1",
      "mxfp8e4m3", "mxfp8", "mxfp6e2m3", "mxfp6", "mxfp4e2m1", "mxfp4", "float32", "fp32",
      "half", "fp16");

  private static final String VALID = "int<N>, uint<N> (N 1..32, optional *SCALE), fixed<W,F>, "
      + "ufixed<W,F> (W 1..32, F <= W), fixed<W,F>:sym, e<E>m<M> (E 1..8, M 0..23) with options :ieee|:fn|:finite, :sat|:nonsat, "
      + ":nosub, :bias=B; presets " + String.join(", ", FLOATS.keySet()) + "; dfp<P>[/b<N>][/h<H>], "
      + "bfp<P>[/b<N>][:sym], " + String.join(", ", MX.keySet()) + " [/b<N>], mx<element>[/b<N>] (P 2..24, N >= 1)";

  private static final Pattern INT = Pattern.compile("(u?)int(\\d+)(?:\\*(.+))?");
  /** A decimal scale: digits with an optional point and exponent (no hex, NaN, Infinity or f/d suffix). */
  private static final Pattern DECIMAL = Pattern.compile("(?:\\d+\\.?\\d*|\\.\\d+)(?:e[-+]?\\d{1,4})?");

  /** Longer format strings are refused before any parsing (a format name is a few characters). */
  public static final int MAX_LENGTH = 200;
  private static final Pattern FIXED = Pattern.compile("(u?)fixed<(-?\\d+),(-?\\d+)>(:sym)?");
  private static final Pattern EM = Pattern.compile("e(\\d+)m(\\d+)((?::[a-z0-9=+-]+)*)");
  private static final Pattern BLOCK = Pattern.compile("(dfp|bfp)(\\d+)((?:/[bh]\\d+)*)(:sym)?");
  private static final Pattern MXP = Pattern.compile("(mx[a-z0-9]*|mx<.+>)((?:/b\\d+)?)");

  /** The presets shown by {@code lowbit formats}, in table order. */
  public static List<NumberFormat> presets() {
    List<NumberFormat> l = new ArrayList<>(FLOATS.values());
    l.add(IntFormat.signed(8));
    l.add(IntFormat.signed(4));
    l.add(IntFormat.unsigned(8));
    l.add(IntFormat.signed(16));
    l.add(new FixedPoint(16, 8, true));
    l.add(BlockFormat.dfp(16, 0, 0));
    l.add(BlockFormat.bfp(8, 16));
    l.addAll(MX.values());
    return l;
  }

  /**
   * Parses a format string (case-insensitive, spaces ignored).
   *
   * @throws IllegalArgumentException naming the string and what is valid
   */
  public static NumberFormat parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("empty format name; valid: " + VALID);
    }
    if (text.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("format '" + text.substring(0, 40) + "...' is " + text.length()
          + " characters long; format strings have at most " + MAX_LENGTH);
    }
    String s = text.trim().toLowerCase(Locale.ROOT).replace(" ", "").replace("_", "");
    s = ALIASES.getOrDefault(s, s);
    try {
      NumberFormat f = parseOrNull(s);
      if (f != null) return f;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("format '" + text + "': " + e.getMessage(), e);
    }
    throw new IllegalArgumentException("unknown format '" + text + "'; valid: " + VALID);
  }

  private static NumberFormat parseOrNull(String s) {
    MiniFloat preset = FLOATS.get(s);
    if (preset != null) return preset;
    Matcher m;
    if ((m = INT.matcher(s)).matches()) {
      int bits = parseInt(m.group(2), "integer width");
      float scale = IntFormat.DYNAMIC;
      if (m.group(3) != null) {
        if (!DECIMAL.matcher(m.group(3)).matches()) {
          throw new IllegalArgumentException("scale '" + m.group(3) + "' is not a decimal number");
        }
        scale = Float.parseFloat(m.group(3));
        if (!(scale > 0) || Float.isInfinite(scale)) {
          throw new IllegalArgumentException("scale " + m.group(3) + " is not a positive finite float32 number");
        }
      }
      return new IntFormat(bits, m.group(1).isEmpty(), scale);
    }
    if ((m = FIXED.matcher(s)).matches()) {
      return new FixedPoint(parseInt(m.group(2), "word width"), parseInt(m.group(3), "fraction bits"),
          m.group(1).isEmpty(), m.group(4) != null);
    }
    if ((m = EM.matcher(s)).matches()) {
      return miniFloat(parseInt(m.group(1), "exponent bits"), parseInt(m.group(2), "mantissa bits"),
          m.group(3));
    }
    int colon = s.indexOf(':');
    if (colon > 0 && FLOATS.containsKey(s.substring(0, colon))) {
      MiniFloat base = FLOATS.get(s.substring(0, colon));
      return applyOptions(base, s.substring(colon));
    }
    if ((m = BLOCK.matcher(s)).matches()) {
      int p = parseInt(m.group(2), "mantissa width");
      int block = 0, head = 0;
      boolean blockGiven = false, headGiven = false;
      for (String part : m.group(3).split("/")) {
        if (part.isEmpty()) continue;
        boolean isBlock = part.charAt(0) == 'b';
        if (isBlock ? blockGiven : headGiven) {
          throw new IllegalArgumentException((isBlock ? "block size" : "headroom") + " given twice");
        }
        if (isBlock) {
          block = blockSize(part.substring(1), " (leave /b out for one exponent per tensor)");
          blockGiven = true;
        } else {
          head = parseInt(part.substring(1), "headroom");
          headGiven = true;
        }
      }
      // dfp<P>:sym is dfp<P>: DFP mantissas are always symmetric
      return m.group(1).equals("dfp") ? BlockFormat.dfp(p, block, head) : BlockFormat.bfp(p, block, m.group(4) != null);
    }
    if ((m = MXP.matcher(s)).matches()) {
      String base = m.group(1);
      BlockFormat mx = MX.get(base);
      if (mx == null && base.startsWith("mx<") && base.endsWith(">")) {
        NumberFormat el = parse(base.substring(3, base.length() - 1));
        if (el instanceof MiniFloat mf) {
          el = mf.specials() == Specials.FINITE ? mf : mf.withOverflow(Overflow.SATURATE);
        }
        if (!(el instanceof ElementFormat ef)) {
          throw new IllegalArgumentException("MX elements must be element formats, not " + el.name());
        }
        mx = BlockFormat.mx(ef, MX_BLOCK);
      }
      if (mx == null) return null;
      if (!m.group(2).isEmpty()) {
        mx = BlockFormat.mx(mx.element(), blockSize(m.group(2).substring(2), " (MX default: /b" + MX_BLOCK + ")"));
      }
      return mx;
    }
    return null;
  }

  private static int parseInt(String s, String what) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      boolean digits = s.matches("[-+]?\\d+");
      throw new IllegalArgumentException(what + " '" + (s.length() > 20 ? s.substring(0, 20) + "..." : s)
          + (digits ? "' is out of range" : "' is not an integer"));
    }
  }

  /** A block size written in a format string: 1 .. {@link BlockFormat#MAX_BLOCK}. */
  private static int blockSize(String s, String hint) {
    int v = parseInt(s, "block size");
    if (v < 1 || v > BlockFormat.MAX_BLOCK) {
      throw new IllegalArgumentException("block size " + v + " is invalid; valid: 1.." + BlockFormat.MAX_BLOCK + hint);
    }
    return v;
  }

  private static MiniFloat miniFloat(int e, int m, String options) {
    MiniFloat base = FLOATS.get("e" + e + "m" + m);
    if (base == null) {
      if (e < 1 || e > 8 || m < 0 || m > 23) {
        throw new IllegalArgumentException("e" + e + "m" + m
            + " is impossible; valid: exponent bits 1..8, mantissa bits 0..23");
      }
      Specials sp = e == 1 ? Specials.FN : Specials.IEEE;
      if (e == 1 && m == 0) sp = Specials.FINITE;
      base = new MiniFloat(e, m, MiniFloat.defaultBias(e), true, sp,
          sp == Specials.FINITE ? Overflow.SATURATE : Overflow.NON_SATURATING);
    }
    return applyOptions(base, options);
  }

  private static MiniFloat applyOptions(MiniFloat b, String options) {
    int bias = b.bias();
    boolean sub = b.subnormals();
    Specials sp = b.specials();
    Overflow ov = b.overflow();
    boolean ovGiven = false;
    // each kind of option at most once: ':sat:nonsat' would otherwise mean whichever came last
    java.util.Set<String> given = new java.util.HashSet<>();
    for (String o : options.split(":")) {
      if (o.isEmpty()) continue;
      String kind = switch (o) {
        case "ieee", "fn", "finite" -> "specials";
        case "sat", "nonsat" -> "overflow";
        case "sub", "nosub" -> "subnormals";
        default -> o.startsWith("bias=") ? "bias" : "";
      };
      if (!kind.isEmpty() && !given.add(kind)) {
        throw new IllegalArgumentException("option ':" + o + "' sets the " + kind + " a second time");
      }
      switch (o) {
        case "ieee" -> sp = Specials.IEEE;
        case "fn" -> sp = Specials.FN;
        case "finite" -> sp = Specials.FINITE;
        case "sat" -> { ov = Overflow.SATURATE; ovGiven = true; }
        case "nonsat" -> { ov = Overflow.NON_SATURATING; ovGiven = true; }
        case "nosub" -> sub = false;
        case "sub" -> sub = true;
        default -> {
          if (o.startsWith("bias=")) {
            bias = parseInt(o.substring(5), "bias");
          } else {
            throw new IllegalArgumentException("unknown option ':" + o
                + "'; valid: :ieee, :fn, :finite, :sat, :nonsat, :nosub, :sub, :bias=B");
          }
        }
      }
    }
    if (sp == Specials.FINITE && !ovGiven) ov = Overflow.SATURATE;
    return new MiniFloat(b.exponentBits(), b.mantissaBits(), bias, sub, sp, ov);
  }

  /** Canonical name of a minifloat: a preset name, or eXmY plus the options that differ. */
  static String nameOf(MiniFloat f) {
    for (Map.Entry<String, MiniFloat> e : FLOATS.entrySet()) {
      if (e.getValue().equals(f)) return e.getKey();
    }
    String key = "e" + f.exponentBits() + "m" + f.mantissaBits();
    MiniFloat base = miniFloat(f.exponentBits(), f.mantissaBits(), "");
    StringBuilder sb = new StringBuilder(key);
    if (f.specials() != base.specials()) sb.append(':').append(f.specials().name().toLowerCase(Locale.ROOT));
    if (f.overflow() != base.overflow()) {
      sb.append(f.overflow() == Overflow.SATURATE ? ":sat" : ":nonsat");
    }
    if (f.subnormals() != base.subnormals()) sb.append(f.subnormals() ? ":sub" : ":nosub");
    if (f.bias() != base.bias()) sb.append(":bias=").append(f.bias());
    return sb.toString();
  }

  /** Canonical name of a block format. */
  static String nameOf(BlockFormat f) {
    return switch (f.kind()) {
      case DFP -> "dfp" + f.element().bits() + (f.blockSize() > 0 ? "/b" + f.blockSize() : "")
          + (f.headroom() > 0 ? "/h" + f.headroom() : "");
      case BFP -> "bfp" + f.element().bits() + (f.blockSize() > 0 ? "/b" + f.blockSize() : "")
          + (f.symmetric() ? ":sym" : "");
      case MX -> {
        String base = null;
        for (Map.Entry<String, BlockFormat> e : MX.entrySet()) {
          if (e.getValue().element().equals(f.element())) {
            base = e.getKey();
            break;
          }
        }
        if (base == null) base = "mx<" + f.element().name() + ">";
        yield f.blockSize() == MX_BLOCK ? base : base + "/b" + f.blockSize();
      }
    };
  }
}
