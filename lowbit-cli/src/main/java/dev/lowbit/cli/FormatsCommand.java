package dev.lowbit.cli;

import dev.lowbit.format.BlockFormat;
import dev.lowbit.format.ElementFormat;
import dev.lowbit.format.FixedPoint;
import dev.lowbit.format.Formats;
import dev.lowbit.format.NumberFormat;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lowbit formats}: the table of number-format presets, or every code of one format. */
@Command(
    name = "formats",
    mixinStandardHelpOptions = true,
    description = {
      "Print the number-format presets: bits, largest value, smallest normal and subnormal,",
      "epsilon and decimal digits. With --format, one format (any format string) and, for fixed",
      "point and block formats, its range (two's complement, or symmetric with :sym, e.g.",
      "fixed<8,4>:sym, bfp8/b16:sym); with --codes, every code of it and its value."
    })
public final class FormatsCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--format", paramLabel = "FORMAT",
      description = "A format string, e.g. e4m3, int8, fixed<16,8>, fixed<8,4>:sym, e3m4:fn:sat, mxfp4, dfp16/b64, "
          + "bfp8/b16:sym.")
  String format;

  @Option(names = "--codes", description = "List every code of --format and its value (formats of at most 16 bits).")
  boolean codes;

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    if (codes && format == null) {
      throw new IllegalArgumentException("--codes needs --format, e.g. --format e4m3 --codes");
    }
    List<NumberFormat> list = format == null ? Formats.presets() : List.of(NumberFormat.parse(format));
    if (!codes) {
      out.printf(Locale.ROOT, "%-14s %5s %9s %13s %13s %13s %11s %7s%n", "format", "bits", "bits/val",
          "max", "min normal", "min subnormal", "epsilon", "digits");
      for (NumberFormat f : list) {
        out.printf(Locale.ROOT, "%-14s %5d %9.3f %13.6g %13.6g %13.6g %11.4g %7.2f%n", f.name(), f.bits(),
            f.bitsPerValue(), f.maxFinite(), f.minNormal(), f.minSubnormal(), f.epsilon(), f.decimalDigits());
      }
      if (format != null) {
        NumberFormat f = list.get(0);
        if (f instanceof FixedPoint fp) {
          float step = fp.asInt().effectiveScale();
          out.printf(Locale.ROOT, "range: %s .. %s (codes %d .. %d, %s)%n", formatValue((float) (fp.minCode() * (double) step)),
              formatValue((float) fp.maxFinite()), fp.minCode(), fp.maxCode(),
              !fp.signed() ? "unsigned" : fp.symmetric() ? "symmetric" : "two's complement");
        } else if (f instanceof BlockFormat b && b.kind() != BlockFormat.Kind.MX) {
          out.printf(Locale.ROOT, "range: mantissas %d .. %d (%s) times the block's shared scale 2^e%n",
              b.minMantissa(), b.maxMantissa(), b.symmetric() ? "symmetric" : "two's complement");
        }
      }
      if (list.stream().anyMatch(f -> f instanceof dev.lowbit.format.MiniFloat)) {
        out.println("minifloats scaled per tensor (granularity tensor:amax, in policies per-tensor(amax)):"
            + " s*Q(x/s), s = amax/max in fp32, so the range above moves with each tensor");
      }
      out.flush();
      return;
    }
    NumberFormat f = list.get(0);
    ElementFormat el = f instanceof BlockFormat b ? b.element() : (ElementFormat) f;
    if (el.bits() > 16) {
      throw new IllegalArgumentException("--codes lists formats of at most 16 bits; " + el.name()
          + " has " + el.bits());
    }
    if (f instanceof BlockFormat b) {
      out.println("# element codes of " + b.name() + " (" + el.name()
          + "); each value is multiplied by the block's shared scale 2^e");
    }
    // DFP/BFP: the mantissas the block format produces (a symmetric one has no -2^(P-1))
    long lo = Long.MIN_VALUE, hi = Long.MAX_VALUE;
    if (f instanceof BlockFormat b && b.kind() != BlockFormat.Kind.MX) {
      lo = b.minMantissa();
      hi = b.maxMantissa();
    }
    int hexDigits = (el.bits() + 3) / 4;
    out.printf(Locale.ROOT, "%-8s %-" + Math.max(4, el.bits()) + "s %s%n", "code", "bits", "value");
    for (long i = 0; i < el.codeCount(); i++) {
      int c = el.codeAt(i);
      if (c < lo || c > hi) continue;
      long raw = el.bits() == 32 ? c & 0xFFFFFFFFL : c & ((1L << el.bits()) - 1);
      String bin = String.format("%" + el.bits() + "s", Long.toBinaryString(raw)).replace(' ', '0');
      String hex = String.format(Locale.ROOT, "0x%0" + hexDigits + "X", raw);
      out.printf(Locale.ROOT, "%-8s %-" + Math.max(4, el.bits()) + "s %s%n", hex, bin,
          formatValue(el.decode(c)));
    }
    out.flush();
  }

  private static String formatValue(float v) {
    if (Float.isNaN(v)) return "NaN";
    if (Float.isInfinite(v)) return v > 0 ? "+inf" : "-inf";
    if (v == 0) return (Float.floatToRawIntBits(v) < 0 ? "-" : "") + "0";
    double a = Math.abs(v);
    if (a >= 1e-4 && a < 1e7) return new java.math.BigDecimal(v).stripTrailingZeros().toPlainString();
    return String.format(Locale.ROOT, "%.9g", (double) v);
  }
}
