package dev.lowbit.kernel;

import java.util.Random;

/** Random operands for the emulated-GEMM tests, with extreme values mixed in. */
final class GemmData {

  private GemmData() {}

  /** Mostly N(0,1); sometimes zero, ±0, subnormal, huge, tiny, max, inf or NaN. */
  static float extremeFloat(Random r) {
    int pick = r.nextInt(100);
    return switch (pick) {
      case 0 -> 0f;
      case 1 -> -0f;
      case 2 -> Float.MIN_VALUE * (1 + r.nextInt(1000)) * (r.nextBoolean() ? 1 : -1);
      case 3 -> (float) (r.nextGaussian() * 1e30);
      case 4 -> (float) (r.nextGaussian() * 1e-30);
      case 5 -> r.nextBoolean() ? Float.MAX_VALUE : -Float.MAX_VALUE;
      case 6 -> r.nextInt(20) == 0 ? Float.NaN : r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
      case 7, 8 -> (float) (r.nextGaussian() * 1000);
      default -> (float) r.nextGaussian();
    };
  }

  /** Finite, mostly N(0, scale²), with some zeros and a few larger values (no inf/NaN). */
  static float finiteFloat(Random r, double scale) {
    int pick = r.nextInt(50);
    return switch (pick) {
      case 0 -> 0f;
      case 1 -> (float) (r.nextGaussian() * scale * 30);
      case 2 -> (float) (r.nextGaussian() * scale * 1e-4);
      default -> (float) (r.nextGaussian() * scale);
    };
  }

  static float[] floats(Random r, int len, boolean extreme, double scale) {
    float[] v = new float[len];
    for (int i = 0; i < len; i++) v[i] = extreme ? extremeFloat(r) : finiteFloat(r, scale);
    return v;
  }

  static byte[] bytes(Random r, int len) {
    byte[] v = new byte[len];
    for (int i = 0; i < len; i++) {
      v[i] = switch (r.nextInt(10)) {
        case 0 -> -128;
        case 1 -> 127;
        default -> (byte) r.nextInt(256);
      };
    }
    return v;
  }

  static short[] shorts(Random r, int len) {
    short[] v = new short[len];
    for (int i = 0; i < len; i++) {
      v[i] = switch (r.nextInt(10)) {
        case 0 -> -32768;
        case 1 -> 32767;
        case 2, 3 -> (short) (r.nextInt(256) - 128);
        default -> (short) r.nextInt(65536);
      };
    }
    return v;
  }
}
