package dev.lowbit.kernel.intonly;

/**
 * Dyadic requantization (I-ViT §3.2): an integer z with one scale becomes round(z·m/2^k) with
 * another, computed as (z·m + 2^(k−1)) >> k in long (round half up; k = 0 multiplies only), then
 * clamped to the output's range.
 */
public final class Dyadic {

  private Dyadic() {}

  /**
   * Per-channel (or per-tensor) multipliers over one sample: element i belongs to channel
   * {@code (i / inner) % channels}. {@code m} and {@code k} have one entry (per tensor) or {@code
   * channels} entries; 0 ≤ k ≤ 62.
   */
  public record Scale(int[] m, int[] k, int channels, int inner) {
    public Scale {
      if (m.length != k.length || (m.length != 1 && m.length != channels) || channels <= 0 || inner <= 0) {
        throw new IllegalArgumentException("dyadic scale: " + m.length + " multipliers and " + k.length
            + " shifts for " + channels + " channels (inner " + inner + ")");
      }
      for (int s : k) {
        if (s < 0 || s > 62) throw new IllegalArgumentException("dyadic scale: shift " + s + " outside 0..62");
      }
    }

    /** A per-tensor scale of one multiplier and shift. */
    public static Scale of(int m, int k) {
      return new Scale(new int[] {m}, new int[] {k}, 1, 1);
    }

    /** The multiplier of channel {@code c}. */
    int mOf(int c) {
      return m.length == 1 ? m[0] : m[c];
    }

    /** The shift of channel {@code c}. */
    int kOf(int c) {
      return k.length == 1 ? k[0] : k[c];
    }
  }

  /** One operand of a rescale: {@code values} from {@code off} (the start of a sample), with its scale. */
  public record Term(int[] values, int off, Scale scale) {}

  /**
   * round(z·m/2^k) = (z·m + 2^(k−1)) >> k, in long, for 0 ≤ k ≤ 62; with k = 0 simply z·m. Branch-free, so that
   * C2 can vectorize the loops that call it: 2^k >> 1 is 2^(k−1), and 0 for k = 0.
   */
  public static long rescale(long z, int m, int k) {
    return (z * m + ((1L << k) >> 1)) >> k;
  }

  /** {@code v} clamped to [lo, hi]. */
  public static int clamp(long v, int lo, int hi) {
    return (int) Math.max(lo, Math.min(hi, v));
  }

  /** out[i] = clamp(rescale(in[i]), lo, hi) for i &lt; count, as int32. */
  public static void toInts(Term in, int lo, int hi, int[] out, int outOff, int count) {
    rescaleInto(in, lo, hi, out, null, outOff, count);
  }

  /**
   * out[i] = clamp(rescale(in[i]), lo, hi) for i &lt; count, stored in bytes: lo..hi must lie in
   * −128..127 or in 0..255 (then a byte holds the value's low 8 bits, read back as unsigned).
   */
  public static void toBytes(Term in, int lo, int hi, byte[] out, int outOff, int count) {
    checkByteRange(lo, hi);
    rescaleInto(in, lo, hi, null, out, outOff, count);
  }

  /**
   * The rescale into {@code ints}, or else {@code bytes}: one loop for a per-tensor scale; for
   * channels of one element (the columns of a row-major matrix) rows × channels with the
   * multipliers indexed by the inner loop; else one loop per channel run. Each loop stores one
   * kind and computes the shift branch-free, so that C2 can vectorize it.
   */
  private static void rescaleInto(Term in, int lo, int hi, int[] ints, byte[] bytes, int outOff, int count) {
    Scale s = in.scale();
    int[] z = in.values();
    int at = in.off();
    if (s.m.length == 1) {
      run(z, at, s.m[0], s.k[0], lo, hi, ints, bytes, outOff, count);
      return;
    }
    if (s.inner() == 1) {
      int channels = s.channels();
      for (int start = 0; start < count; start += channels) {
        int len = Math.min(channels, count - start);
        if (ints != null) columnsToInts(z, at + start, s.m, s.k, lo, hi, ints, outOff + start, len);
        else columnsToBytes(z, at + start, s.m, s.k, lo, hi, bytes, outOff + start, len);
      }
      return;
    }
    for (int start = 0; start < count; start += s.inner()) {
      int c = (start / s.inner()) % s.channels();
      int len = Math.min(count, start + s.inner()) - start;
      run(z, at + start, s.mOf(c), s.kOf(c), lo, hi, ints, bytes, outOff + start, len);
    }
  }

  /**
   * {@link #toInts} of in + bias: element i first gets bias[(i / inner) % bias.length] added,
   * exactly (ArithmeticException on overflow, as {@link Math#addExact}). The scale is per tensor,
   * or has the bias's channels and inner size (see {@link #takesBias}).
   */
  public static void biasedToInts(Term in, int[] bias, int inner, int lo, int hi, int[] out, int outOff, int count) {
    biasedInto(in, bias, inner, lo, hi, out, null, outOff, count);
  }

  /** {@link #biasedToInts} stored in bytes (the range rules of {@link #toBytes}). */
  public static void biasedToBytes(Term in, int[] bias, int inner, int lo, int hi, byte[] out, int outOff, int count) {
    checkByteRange(lo, hi);
    biasedInto(in, bias, inner, lo, hi, null, out, outOff, count);
  }

  /** Whether a bias of {@code channels} runs of {@code inner} elements can be added inside a rescale of {@code s}. */
  public static boolean takesBias(Scale s, int channels, int inner) {
    return s.m.length == 1 || (s.channels() == channels && s.inner() == inner);
  }

  /**
   * One loop per bias run, its bias, multiplier and shift fixed; the overflow test is one OR over
   * the run (as {@link IntLayout#addExact}), so the loop stays free of branches.
   */
  private static void biasedInto(Term in, int[] bias, int inner, int lo, int hi, int[] ints, byte[] bytes, int outOff,
      int count) {
    Scale s = in.scale();
    if (inner <= 0 || bias.length == 0 || !takesBias(s, bias.length, inner)) {
      throw new IllegalArgumentException("a bias of " + bias.length + " channels of " + inner
          + " does not match the scale's " + s.channels() + " of " + s.inner());
    }
    int[] z = in.values();
    int overflow = 0;
    for (int start = 0; start < count; start += inner) {
      int c = (start / inner) % bias.length, sc = s.m.length == 1 ? 0 : c;
      int m = s.m[sc], k = s.k[sc], b = bias[c], at = in.off() + start, to = outOff + start;
      int len = Math.min(count, start + inner) - start;
      if (ints != null) {
        for (int i = 0; i < len; i++) {
          int v = z[at + i], sum = v + b;
          overflow |= (v ^ sum) & (b ^ sum);
          ints[to + i] = clamp(rescale(sum, m, k), lo, hi);
        }
      } else {
        for (int i = 0; i < len; i++) {
          int v = z[at + i], sum = v + b;
          overflow |= (v ^ sum) & (b ^ sum);
          bytes[to + i] = (byte) clamp(rescale(sum, m, k), lo, hi);
        }
      }
    }
    if (overflow < 0) throw new ArithmeticException("integer overflow");
  }

  /** One multiplier and shift over {@code len} elements, into ints or else bytes. */
  private static void run(int[] z, int at, int m, int k, int lo, int hi, int[] ints, byte[] bytes, int outOff, int len) {
    if (ints != null) {
      for (int i = 0; i < len; i++) ints[outOff + i] = clamp(rescale(z[at + i], m, k), lo, hi);
    } else {
      for (int i = 0; i < len; i++) bytes[outOff + i] = (byte) clamp(rescale(z[at + i], m, k), lo, hi);
    }
  }

  /** Element j of one row with channel j's multiplier and shift, into ints. */
  private static void columnsToInts(int[] z, int at, int[] m, int[] k, int lo, int hi, int[] out, int outOff, int len) {
    for (int j = 0; j < len; j++) out[outOff + j] = clamp(rescale(z[at + j], m[j], k[j]), lo, hi);
  }

  /** Element j of one row with channel j's multiplier and shift, into bytes. */
  private static void columnsToBytes(int[] z, int at, int[] m, int[] k, int lo, int hi, byte[] out, int outOff, int len) {
    for (int j = 0; j < len; j++) out[outOff + j] = (byte) clamp(rescale(z[at + j], m[j], k[j]), lo, hi);
  }

  /**
   * The residual addition onto one scale: out[i] = clamp(rescale_a(a[i]) + rescale_b(b[i]), lo,
   * hi), each branch rounded on its own before the sum.
   */
  public static void add(Term a, Term b, int lo, int hi, int[] out, int outOff, int count) {
    if (perTensor(a, b)) {
      int ma = a.scale().m[0], ka = a.scale().k[0], mb = b.scale().m[0], kb = b.scale().k[0];
      int[] x = a.values(), y = b.values();
      for (int i = 0; i < count; i++) {
        out[outOff + i] = clamp(rescale(x[a.off() + i], ma, ka) + rescale(y[b.off() + i], mb, kb), lo, hi);
      }
      return;
    }
    long[] x = rescaled(a, count), y = rescaled(b, count);
    for (int i = 0; i < count; i++) out[outOff + i] = clamp(x[i] + y[i], lo, hi);
  }

  /** Elements 0..count of a term rescaled with their channels' multipliers, the channel stepping along. */
  private static long[] rescaled(Term t, int count) {
    Scale s = t.scale();
    long[] r = new long[count];
    for (int i = 0, c = 0, left = s.inner(); i < count; i++) {
      r[i] = rescale(t.values()[t.off() + i], s.mOf(c), s.kOf(c));
      if (--left == 0) {
        left = s.inner();
        if (++c == s.channels()) c = 0;
      }
    }
    return r;
  }

  /** Whether both terms have one multiplier and shift each. */
  private static boolean perTensor(Term a, Term b) {
    return a.scale().m.length == 1 && b.scale().m.length == 1;
  }

  /** Like {@link #add} with the result in bytes (the range rules of {@link #toBytes}). */
  public static void addToBytes(Term a, Term b, int lo, int hi, byte[] out, int outOff, int count) {
    checkByteRange(lo, hi);
    if (perTensor(a, b)) {
      int ma = a.scale().m[0], ka = a.scale().k[0], mb = b.scale().m[0], kb = b.scale().k[0];
      int[] x = a.values(), y = b.values();
      for (int i = 0; i < count; i++) {
        out[outOff + i] = (byte) clamp(rescale(x[a.off() + i], ma, ka) + rescale(y[b.off() + i], mb, kb), lo, hi);
      }
      return;
    }
    long[] x = rescaled(a, count), y = rescaled(b, count);
    for (int i = 0; i < count; i++) out[outOff + i] = (byte) clamp(x[i] + y[i], lo, hi);
  }

  /** Whether [lo, hi] fits a byte: signed int8, or unsigned 0..255. */
  public static boolean fitsByte(int lo, int hi) {
    return lo <= hi && ((lo >= -128 && hi <= 127) || (lo >= 0 && hi <= 255));
  }

  private static void checkByteRange(int lo, int hi) {
    if (!fitsByte(lo, hi)) {
      throw new IllegalArgumentException("range " + lo + ".." + hi + " does not fit a byte (−128..127 or 0..255)");
    }
  }
}
