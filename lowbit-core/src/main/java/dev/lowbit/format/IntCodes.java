package dev.lowbit.format;

/**
 * Fast encoding of a strided fp32 matrix into compact int16 or int8 codes for the integer GEMMs,
 * for nearest-even quantizers with one scale (or shared exponent) per tensor, per row or per
 * column. The codes equal those of {@link Quantizer#encode} on the compact matrix bit for bit
 * (tests hold them to it); the loops are plain Java that C2 auto-vectorizes (multiply or divide,
 * clamp, 1.5·2^23 magic-number rounding, narrowing store), rows split over the loop threads, and
 * write into caller-owned buffers.
 *
 * <p>DFP (Das et al., ICLR 2018): {@code I = clamp(rint(x · 2^-Es), ±(2^(P-1) - 1))} with
 * {@code Es} from {@link BlockFormat#sharedExponent}. Dynamic integers: {@code code =
 * clamp(rint(x / scale))} with {@code scale = amax / (2^(b-1) - 1)} (float division, as {@link
 * Quantizer#encode}).
 */
public final class IntCodes {

  private IntCodes() {}

  private static final float MAGIC = 12582912f; // 1.5·2^23: (v + MAGIC) - MAGIC = rint(v) for |v| <= 2^22

  /** Largest |x| of a rows × cols matrix at {@code x[off…]} with leading dimension ld; NaN if any is NaN. */
  public static float amax(float[] x, int off, int ld, int rows, int cols) {
    float[] rowMax = new float[rows]; // rows split over threads; the maximum does not depend on the split
    LoopRunner.get().forRange(rows, cols, (r0, r1) -> {
      for (int r = r0; r < r1; r++) rowMax[r] = FastQuantize.amax(FastQuantize.PREFERRED, x, off + r * ld, cols);
    });
    float m = 0;
    for (float a : rowMax) {
      if (a != a) return Float.NaN;
      if (a > m) m = a;
    }
    return m;
  }

  /**
   * DFP codes of the whole matrix with the shared exponent of its largest magnitude; returns the
   * exponent, or {@link BlockFormat#NAN_EXPONENT} (nothing written) when the matrix holds NaN or an
   * infinity.
   *
   * @throws IllegalArgumentException when the format is not DFP with at most 16-bit mantissas
   */
  public static int encodeDfp(BlockFormat f, float[] x, int off, int ld, int rows, int cols, short[] dst) {
    if (f.kind() != BlockFormat.Kind.DFP || f.bits() > 16) {
      throw new IllegalArgumentException("encodeDfp needs a DFP format of at most 16 bits, not " + f.name());
    }
    float amax = amax(x, off, ld, rows, cols);
    int e = f.sharedExponent(amax);
    if (e == BlockFormat.NAN_EXPONENT || amax == Float.POSITIVE_INFINITY) return BlockFormat.NAN_EXPONENT;
    float hi = f.maxMantissa(), lo = -hi;
    if (-e >= -149 && -e <= 127) {
      float mul = Math.scalb(1f, -e); // exact power of two: x·mul is x·2^-Es correctly rounded
      LoopRunner.get().forRange(rows, cols, (r0, r1) -> {
        for (int r = r0; r < r1; r++) mulRow(x, off + r * ld, cols, mul, lo, hi, dst, r * cols);
      });
    } else { // 2^-Es is no float (|x| below 2^-113): the scalar definition
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          dst[r * cols + c] = (short) f.encodeWithExponent(x[off + r * ld + c], e, Rounding.NEAREST_EVEN, 0);
        }
      }
    }
    return e;
  }

  private static void mulRow(float[] x, int s, int n, float mul, float lo, float hi, short[] dst, int d) {
    for (int c = 0; c < n; c++) {
      float v = Math.min(hi, Math.max(lo, x[s + c] * mul));
      dst[d + c] = (short) (int) ((v + MAGIC) - MAGIC);
    }
  }

  /** The dynamic scale of {@link Quantizer#dynamicScale} for the largest magnitude {@code amax}. */
  public static float scale(IntFormat f, float amax) {
    return Quantizer.dynamicScale(f, amax);
  }

  /**
   * Codes {@code clamp(rint(x / scale[slice]))} of a dynamic signed integer format of at most 16
   * bits, where the slice is 0 ({@code axis} -1: one scale), the row ({@code axis} 0) or the column
   * ({@code axis} 1). The scales (one per slice) are written to {@code scales}. Returns false
   * (codes unspecified) when a slice holds NaN or an infinity.
   */
  public static boolean encodeInt(IntFormat f, int axis, float[] x, int off, int ld, int rows, int cols,
      short[] dst, float[] scales) {
    if (!f.signed() || !f.isDynamic() || f.bits() > 16) {
      throw new IllegalArgumentException("encodeInt needs a dynamic signed integer of at most 16 bits, not " + f.name());
    }
    float lo = f.minCode(), hi = f.maxCode();
    switch (axis) {
      case -1 -> {
        float s = scale(f, amax(x, off, ld, rows, cols));
        if (!Float.isFinite(s)) return false;
        scales[0] = s;
        LoopRunner.get().forRange(rows, cols, (r0, r1) -> {
          for (int r = r0; r < r1; r++) divRow(x, off + r * ld, cols, s, lo, hi, dst, r * cols);
        });
      }
      case 0 -> {
        boolean[] nonFinite = new boolean[1]; // parts only ever set it
        LoopRunner.get().forRange(rows, 2L * cols, (r0, r1) -> {
          for (int r = r0; r < r1; r++) {
            float s = scale(f, FastQuantize.amax(FastQuantize.PREFERRED, x, off + r * ld, cols));
            scales[r] = s;
            if (!Float.isFinite(s)) {
              nonFinite[0] = true;
              return;
            }
            divRow(x, off + r * ld, cols, s, lo, hi, dst, r * cols);
          }
        });
        if (nonFinite[0]) return false;
      }
      case 1 -> {
        java.util.Arrays.fill(scales, 0, cols, 0f);
        for (int r = 0; r < rows; r++) {
          int s = off + r * ld;
          for (int c = 0; c < cols; c++) {
            float a = Math.abs(x[s + c]);
            if (!(a <= Float.MAX_VALUE)) return false;
            if (a > scales[c]) scales[c] = a;
          }
        }
        for (int c = 0; c < cols; c++) scales[c] = scale(f, scales[c]);
        for (int r = 0; r < rows; r++) {
          int s = off + r * ld, d = r * cols;
          for (int c = 0; c < cols; c++) {
            float v = Math.min(hi, Math.max(lo, x[s + c] / scales[c]));
            dst[d + c] = (short) (int) ((v + MAGIC) - MAGIC);
          }
        }
      }
      default -> throw new IllegalArgumentException("axis " + axis + " is invalid; valid: -1, 0, 1");
    }
    return true;
  }

  private static void divRow(float[] x, int s, int n, float div, float lo, float hi, short[] dst, int d) {
    for (int c = 0; c < n; c++) {
      float v = Math.min(hi, Math.max(lo, x[s + c] / div));
      dst[d + c] = (short) (int) ((v + MAGIC) - MAGIC);
    }
  }

  /**
   * Per-tensor codes of a dynamic signed integer format of at most 8 bits for the contiguous rows ×
   * cols matrix x, written as bytes, and, when {@code values} is not null, the values they stand
   * for (code · scale: what {@link Quantizer#quantize} gives for x, bit for bit) — one pass for an
   * integer convolution's input and its dequantized copy. Returns the scale, or NaN (nothing
   * specified) when x holds NaN or an infinity.
   */
  public static float encodeInt8(IntFormat f, float[] x, int rows, int cols, byte[] codes, float[] values) {
    float[] scale = new float[1];
    return encodeInt8(f, -1, x, 0, cols, rows, cols, codes, scale, values) ? scale[0] : Float.NaN;
  }

  /**
   * Codes of a dynamic signed integer format of at most 8 bits for the strided rows × cols matrix
   * at {@code x[off…]} (leading dimension ld), one scale per tensor ({@code axis} -1) or per row
   * ({@code axis} 0), written compactly as bytes — the codes and scales of {@link #encodeInt}
   * without its int16 buffer and narrowing pass — and, when {@code values} is not null, the values
   * they stand for (code · scale, compact: {@link Quantizer#quantize}'s bits for the matrix).
   * Returns false (nothing specified) when a slice holds NaN or an infinity.
   */
  public static boolean encodeInt8(IntFormat f, int axis, float[] x, int off, int ld, int rows, int cols,
      byte[] codes, float[] scales, float[] values) {
    if (!f.signed() || !f.isDynamic() || f.bits() > 8) {
      throw new IllegalArgumentException("encodeInt8 needs a dynamic signed integer of at most 8 bits, not " + f.name());
    }
    if (axis != -1 && axis != 0) throw new IllegalArgumentException("axis " + axis + " is invalid; valid: -1, 0");
    float lo = f.minCode(), hi = f.maxCode();
    float tensorScale = axis == -1 ? scale(f, amax(x, off, ld, rows, cols)) : 0f;
    if (axis == -1) {
      if (!Float.isFinite(tensorScale)) return false;
      scales[0] = tensorScale;
    }
    if (axis == -1 && ld == cols) {
      // contiguous with one scale: long runs instead of rows (a convolution's rows are single
      // planes of 196 or 784 values, where the vector loop's set-up and scalar tail cost as much
      // as its body)
      long n = (long) rows * cols;
      int chunks = (int) ((n + RUN - 1) / RUN);
      LoopRunner.get().forRange(chunks, 2L * RUN, (c0, c1) -> {
        int from = c0 * RUN, to = (int) Math.min(n, (long) c1 * RUN);
        byteRun(x, off + from, to - from, tensorScale, lo, hi, codes, values, from);
      });
      return true;
    }
    boolean[] nonFinite = new boolean[1]; // parts only ever set it
    LoopRunner.get().forRange(rows, 2L * cols, (r0, r1) -> {
      for (int r = r0; r < r1; r++) {
        float s = tensorScale;
        if (axis == 0) {
          s = scale(f, FastQuantize.amax(FastQuantize.PREFERRED, x, off + r * ld, cols));
          scales[r] = s;
          if (!Float.isFinite(s)) {
            nonFinite[0] = true;
            return;
          }
        }
        byteRun(x, off + r * ld, cols, s, lo, hi, codes, values, r * cols);
      }
    });
    return !nonFinite[0];
  }

  /** Values per part of a contiguous per-tensor encoding. */
  private static final int RUN = 1 << 14;

  /**
   * Codes (and values, when not null) of x[xs, xs + n) into codes and values from index d: the
   * loop with one index for source and values when they line up, else the strided one.
   */
  private static void byteRun(float[] x, int xs, int n, float div, float lo, float hi, byte[] codes, float[] values,
      int d) {
    if (values == null) byteRow(x, xs, n, div, lo, hi, codes, d);
    else if (xs == d) byteRow(x, d, d + n, div, lo, hi, codes, values);
    else byteRowStrided(x, xs, n, div, lo, hi, codes, values, d);
  }

  // one loop per method, as divRow: C2 vectorizes these (inside the lambda the loops ran scalar)
  private static void byteRow(float[] x, int s, int n, float div, float lo, float hi, byte[] dst, int d) {
    for (int c = 0; c < n; c++) {
      float v = Math.min(hi, Math.max(lo, x[s + c] / div));
      dst[d + c] = (byte) (int) ((v + MAGIC) - MAGIC);
    }
  }

  /**
   * Codes and values of x[from, to) at the same positions: one index for x and values (two float
   * arrays C2 cannot tell apart) keeps the loop vectorized — with distinct offsets it ran 10× slower.
   */
  private static void byteRow(float[] x, int from, int to, float div, float lo, float hi, byte[] dst, float[] values) {
    for (int i = from; i < to; i++) {
      float v = Math.min(hi, Math.max(lo, x[i] / div));
      float q = (v + MAGIC) - MAGIC;
      dst[i] = (byte) (int) q;
      values[i] = q * div;
    }
  }

  private static void byteRowStrided(float[] x, int s, int n, float div, float lo, float hi, byte[] dst,
      float[] values, int d) {
    for (int c = 0; c < n; c++) {
      float v = Math.min(hi, Math.max(lo, x[s + c] / div));
      float q = (v + MAGIC) - MAGIC;
      dst[d + c] = (byte) (int) q;
      values[d + c] = q * div;
    }
  }

  /** The low bytes of {@code src[0, n)} (int8 codes held in shorts) into {@code dst}. */
  public static void narrow(short[] src, int n, byte[] dst) {
    int chunk = 1 << 14;
    LoopRunner.get().forRange((n + chunk - 1) / chunk, chunk, (c0, c1) -> {
      for (int i = c0 * chunk, end = (int) Math.min(n, (long) c1 * chunk); i < end; i++) dst[i] = (byte) src[i];
    });
  }
}
