package dev.lowbit.kernel;

/**
 * Counter-based random bits for stochastic rounding: a hash of (seed, output index, step), so a
 * value never depends on thread scheduling (the MurmurHash3 64-bit finaliser over a Weyl-style
 * combination of the counters).
 */
final class StochasticBits {

  static final long C_OUT = 0x9E3779B97F4A7C15L;
  static final long C_STEP = 0xD1B54A32D192ED03L;
  static final long M1 = 0xFF51AFD7ED558CCDL;
  static final long M2 = 0xC4CEB9FE1A85EC53L;
  /** Separates the outer (chunk-combining) accumulator's stream from the inner one's. */
  static final long OUTER_SALT = 0x6A09E667F3BCC909L;

  private StochasticBits() {}

  static long fmix64(long h) {
    h ^= h >>> 33;
    h *= M1;
    h ^= h >>> 33;
    h *= M2;
    h ^= h >>> 33;
    return h;
  }

  static long seedMix(long seed) {
    return fmix64(seed ^ 0x243F6A8885A308D3L);
  }

  /** 64 random bits for output {@code out} at step {@code step} under a mixed seed. */
  static long bits(long seedMix, long out, long step) {
    return fmix64(seedMix + out * C_OUT + step * C_STEP);
  }
}
