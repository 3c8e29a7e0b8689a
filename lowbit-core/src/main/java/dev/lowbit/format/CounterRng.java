package dev.lowbit.format;

/**
 * Counter-based random numbers for stochastic rounding: the draw for element {@code index} of
 * stream {@code stream} under {@code seed} is a pure function of those three numbers, so results do
 * not depend on threads, chunking or call order. The mixer is SplitMix64's finalizer (Steele, Lea
 * and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014) applied to a key
 * derived from (seed, stream) plus the golden-ratio increment times the index.
 */
public final class CounterRng {

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private CounterRng() {}

  /** SplitMix64's output function. */
  public static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** The per-(seed, stream) key; compute once per tensor, then call {@link #uniform(long, long)}. */
  public static long key(long seed, long stream) {
    return mix64(mix64(seed + GOLDEN) ^ (stream * 0xD1B54A32D192ED03L + 0x632BE59BD9B4E019L));
  }

  /** 24 uniform random bits for element {@code index} under {@code key}. */
  public static int bits24(long key, long index) {
    return (int) (mix64(key + GOLDEN * (index + 1)) >>> 40);
  }

  /** A uniform draw in [0, 1) with 24 random bits for element {@code index} under {@code key}. */
  public static double uniform(long key, long index) {
    return bits24(key, index) * 0x1p-24;
  }

  /** {@link #uniform(long, long)} with the key derived from (seed, stream). */
  public static double uniform(long seed, long stream, long index) {
    return uniform(key(seed, stream), index);
  }
}
