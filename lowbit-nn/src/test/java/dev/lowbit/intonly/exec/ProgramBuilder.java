package dev.lowbit.intonly.exec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Builds small test programs op by op with random int8 weights; each requantization is
 * calibrated on the given images (through {@link LongReference}) so that its largest output is
 * near a target, and values stay in range without saturating everywhere.
 */
final class ProgramBuilder {

  final int channels, height, width;
  final List<Program.Op> ops = new ArrayList<>();
  private final byte[] pixels;
  private final int images;
  private final Random rnd;

  ProgramBuilder(int channels, int height, int width, byte[] pixels, int images, long seed) {
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.pixels = pixels;
    this.images = images;
    this.rnd = new Random(seed);
  }

  int next() {
    return ops.size() + 1;
  }

  int add(Program.Op op) {
    ops.add(op);
    return op.out();
  }

  byte[] weights(int n) {
    byte[] w = new byte[n];
    for (int i = 0; i < n; i++) w[i] = (byte) (rnd.nextInt(255) - 127);
    return w;
  }

  int[] ints(int n, int bound) {
    int[] v = new int[n];
    for (int i = 0; i < n; i++) v[i] = rnd.nextInt(2 * bound + 1) - bound;
    return v;
  }

  int linear(int in, int rows, int inF, int outF) {
    return add(new Program.Linear(next(), in, rows, inF, outF, weights(outF * inF), ints(outF, 500)));
  }

  int conv(int in, Program.ConvShape s) {
    return add(new Program.Conv(next(), in, s, weights(s.outC() * s.inC() * s.k() * s.k()), ints(s.outC(), 2000)));
  }

  /** A per-tensor requantization whose largest |output| over the images is about {@code target}. */
  int requant(int in, int target, int lo, int hi) {
    return add(new Program.Requant(next(), in, dyadic((double) target / Math.max(1, maxAbs(in, 1, 1)[0])), lo, hi));
  }

  /** A per-channel requantization (channel (i / inner) % channels), each channel to about {@code target}. */
  int requant(int in, int channels, int inner, int target, int lo, int hi) {
    long[] max = maxAbs(in, channels, inner);
    int[] m = new int[channels], k = new int[channels];
    for (int c = 0; c < channels; c++) {
      Program.Rescale r = dyadic(target / (double) Math.max(1, max[c]));
      m[c] = r.m()[0];
      k[c] = r.k()[0];
    }
    return add(new Program.Requant(next(), in, new Program.Rescale(m, k, channels, inner), lo, hi));
  }

  Program program(String name, int classes) {
    return new Program(name, channels, height, width, classes, ops);
  }

  /** The largest |value| of each channel over the images, from the ops so far. */
  long[] maxAbs(int value, int channels, int inner) {
    long[] max = new long[channels];
    Program prefix = new Program("prefix", this.channels, height, width, 1, ops);
    int size = this.channels * height * width;
    for (int b = 0; b < images; b++) {
      Map<Integer, long[]> v = LongReference.values(prefix, pixels, b * size);
      long[] x = v.get(value);
      for (int i = 0; i < x.length; i++) {
        int c = (i / inner) % channels;
        max[c] = Math.max(max[c], Math.abs(x[i]));
      }
    }
    return max;
  }

  /** r = f·2^e with f in [0.5, 1): m = round(f·2^31) (2^31 renormalised to 2^30), k = 31 − e (spec §2.3). */
  static Program.Rescale dyadic(double r) {
    int e = Math.getExponent(r) + 1;
    long m = Math.round(r / Math.scalb(1.0, e) * (1L << 31));
    if (m == 1L << 31) {
      m = 1L << 30;
      e++;
    }
    return new Program.Rescale(new int[] {(int) m}, new int[] {31 - e}, 1, 1);
  }
}
