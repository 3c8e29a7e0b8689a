package dev.lowbit.kernel;

/**
 * Events counted by an {@link EmulatedGemm}: overflows (integer wrap/saturation events, float
 * saturations, and for {@link Accumulator.Int32Exact} outputs whose exact sum leaves int32),
 * underflows (nonzero values flushed to zero, in the product or the accumulator) and swamping
 * events (a nonzero addend that left the float accumulator unchanged without saturating).
 */
public record GemmStats(long overflows, long underflows, long swamps) {

  public static final GemmStats ZERO = new GemmStats(0, 0, 0);

  public GemmStats plus(GemmStats o) {
    return new GemmStats(overflows + o.overflows, underflows + o.underflows, swamps + o.swamps);
  }
}
