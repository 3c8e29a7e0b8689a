package dev.lowbit.numerics;

import dev.lowbit.format.BlockFormat;
import dev.lowbit.format.Granularity;
import dev.lowbit.format.Granularity.PerBlock;
import dev.lowbit.format.Granularity.PerChannel;
import dev.lowbit.format.Granularity.PerTensor;
import dev.lowbit.format.Quantizer;
import dev.lowbit.format.Rounding;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The right-hand side of a policy rule: what happens to the values of the matched roles. */
public sealed interface Spec {

  /** The spec columns as written in a policy file (canonical form). */
  String text();

  /** Tensor roles stay fp32 (written {@code fp32}). */
  record Keep() implements Spec {
    @Override
    public String text() {
      return "fp32";
    }
  }

  /** Tensor roles are quantized by {@code quantizer}. */
  record Quantize(Quantizer quantizer) implements Spec {
    public Quantize {
      Objects.requireNonNull(quantizer, "quantizer");
    }

    @Override
    public String text() {
      return quantizer.format().name() + " " + quantizer.rounding().label() + " "
          + granularityText(quantizer.granularity());
    }
  }

  /**
   * A multiplier or accumulator rule, parsed once (exactly one of the two is set), applied to the
   * listed GEMMs of the layer.
   */
  record Arithmetic(dev.lowbit.kernel.Multiplier multiplier, dev.lowbit.kernel.Accumulator accumulator,
      Set<Product> products) implements Spec {
    public Arithmetic {
      if ((multiplier == null) == (accumulator == null)) {
        throw new IllegalArgumentException("an arithmetic rule is a multiplier or an accumulator");
      }
      if (products == null || products.isEmpty()) {
        throw new IllegalArgumentException("an arithmetic rule needs at least one product");
      }
      products = java.util.Collections.unmodifiableSet(EnumSet.copyOf(products));
    }

    /** A multiplier rule for all three GEMMs. */
    public static Arithmetic of(dev.lowbit.kernel.Multiplier m) {
      return new Arithmetic(m, null, EnumSet.allOf(Product.class));
    }

    /** An accumulator rule for all three GEMMs. */
    public static Arithmetic of(dev.lowbit.kernel.Accumulator a) {
      return new Arithmetic(null, a, EnumSet.allOf(Product.class));
    }

    /** The canonical string of the multiplier or accumulator. */
    public String spec() {
      return multiplier != null ? multiplier.spec() : accumulator.spec();
    }

    /** True when this rule applies to every product. */
    public boolean allProducts() {
      return products.size() == Product.values().length;
    }

    @Override
    public String text() {
      return allProducts() ? spec() : spec() + " " + productsText(products);
    }
  }

  /** A function role ({@link Role#isFunction()}) is evaluated by {@code approximation}. */
  record Approximate(Approximation approximation) implements Spec {
    public Approximate {
      Objects.requireNonNull(approximation, "approximation");
    }

    @Override
    public String text() {
      return approximation.text();
    }
  }

  /** {@code forward,backward-data} style list. */
  static String productsText(Set<Product> products) {
    StringBuilder sb = new StringBuilder();
    for (Product p : products) {
      if (!sb.isEmpty()) sb.append(',');
      sb.append(p.label());
    }
    return sb.toString();
  }

  /** Canonical text of a granularity: {@code per-tensor}, {@code per-channel(A)}, {@code per-block(S,A)}. */
  static String granularityText(Granularity g) {
    return switch (g) {
      case PerTensor t -> t.scaling() == Granularity.Scaling.AMAX ? "per-tensor(amax)" : "per-tensor";
      // plain decimal digits (never 1.0E-5), which the parser reads back
      case Granularity.Quantile q -> "per-tensor(quantile=" + java.math.BigDecimal.valueOf(q.beta()).toPlainString()
          + ",distinct=" + q.distinct() + ")";
      case PerChannel c -> "per-channel(" + c.axis() + ")";
      case PerBlock b -> "per-block(" + b.size() + "," + b.axis() + ")";
    };
  }

  String GRANULARITIES = "per-tensor, per-tensor(amax) (minifloats scaled by amax), per-tensor(quantile=B,distinct=D) "
      + "(integers scaled by the B-quantile of |x|, IM-Unpack's RTN), per-channel(AXIS) (AXIS default 0), per-block(SIZE[,AXIS]) "
      + "(AXIS default -1); also tensor, channel[:AXIS], block:SIZE[:AXIS]";

  Pattern PER_TENSOR_QUANTILE = Pattern.compile("per-tensor\\(quantile=([0-9]*\\.?[0-9]+),distinct=([0-9]{1,9})\\)");

  Pattern PER_CHANNEL = Pattern.compile("per-channel(?:\\((-?\\d+)\\))?");
  Pattern PER_BLOCK = Pattern.compile("per-block\\((\\d+)(?:,(-?\\d+))?\\)");

  /** True when {@code token} is meant as a granularity (it may still be malformed). */
  static boolean looksLikeGranularity(String token) {
    String t = token.toLowerCase(Locale.ROOT);
    return t.startsWith("per-") || t.startsWith("per_") || t.startsWith("tensor")
        || t.startsWith("channel") || t.startsWith("block");
  }

  /**
   * Parses a granularity in policy syntax or in {@link Granularity#parse} syntax.
   *
   * @throws IllegalArgumentException naming the bad value and what is valid
   */
  static Granularity parseGranularity(String token) {
    String t = token.trim().toLowerCase(Locale.ROOT).replace('_', '-').replace(" ", "");
    try {
      if (t.equals("per-tensor")) return Granularity.perTensor();
      if (t.equals("per-tensor(amax)")) return Granularity.perTensorAmax();
      Matcher q = PER_TENSOR_QUANTILE.matcher(t);
      if (q.matches()) return new Granularity.Quantile(Double.parseDouble(q.group(1)), Integer.parseInt(q.group(2)));
      if (t.startsWith("per-tensor(") && t.endsWith(")")) {
        throw new IllegalArgumentException("unknown per-tensor scaling '"
            + t.substring("per-tensor(".length(), t.length() - 1) + "' in '" + token
            + "'; valid: per-tensor, per-tensor(amax), per-tensor(quantile=B,distinct=D)");
      }
      Matcher m = PER_CHANNEL.matcher(t);
      if (m.matches()) return Granularity.perChannel(m.group(1) == null ? 0 : Integer.parseInt(m.group(1)));
      m = PER_BLOCK.matcher(t);
      if (m.matches()) {
        return Granularity.perBlock(Integer.parseInt(m.group(1)),
            m.group(2) == null ? -1 : Integer.parseInt(m.group(2)));
      }
      if (!t.startsWith("per-")) return Granularity.parse(t);
    } catch (NumberFormatException e) {
      // too many digits: reported below
    } catch (IllegalArgumentException e) {
      if (!e.getMessage().startsWith("unknown granularity")) {
        throw new IllegalArgumentException("granularity '" + token + "': " + e.getMessage(), e);
      }
    }
    throw new IllegalArgumentException("unknown granularity '" + token + "'; valid: " + GRANULARITIES);
  }

  /**
   * Parses the spec columns of a tensor rule: {@code FORMAT [ROUNDING] [GRANULARITY]} in any order
   * after the format; defaults nearest-even and the format's natural granularity (its blocks along
   * the last axis for block formats with a block size, else per tensor).
   */
  static Spec parseTensor(List<String> tokens) {
    if (tokens.isEmpty()) throw new IllegalArgumentException("missing format");
    dev.lowbit.format.NumberFormat format = dev.lowbit.format.NumberFormat.parse(tokens.get(0));
    if (format.equals(dev.lowbit.format.Formats.FP32)) {
      if (tokens.size() > 1) {
        throw new IllegalArgumentException("fp32 keeps values as they are, so '"
            + String.join(" ", tokens.subList(1, tokens.size())) + "' does not apply");
      }
      return new Keep();
    }
    Rounding rounding = null;
    Granularity granularity = null;
    for (String tok : tokens.subList(1, tokens.size())) {
      if (looksLikeGranularity(tok)) {
        if (granularity != null) {
          throw new IllegalArgumentException("two granularities: " + granularityText(granularity)
              + " and '" + tok + "'");
        }
        granularity = parseGranularity(tok);
      } else {
        Rounding r;
        try {
          r = Rounding.parse(tok);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("'" + tok + "' is neither a rounding nor a granularity; "
              + e.getMessage().replace("unknown rounding '" + tok + "'; valid: ", "valid roundings: ")
              + "; granularities: " + GRANULARITIES, e);
        }
        if (rounding != null) {
          throw new IllegalArgumentException("two roundings: " + rounding.label() + " and '" + tok + "'");
        }
        rounding = r;
      }
    }
    if (rounding == null) rounding = Rounding.NEAREST_EVEN;
    if (granularity == null) {
      granularity = format instanceof BlockFormat b && b.blockSize() > 0
          ? Granularity.perBlock(b.blockSize(), -1) : Granularity.perTensor();
    }
    return new Quantize(new Quantizer(format, rounding, granularity));
  }
}
