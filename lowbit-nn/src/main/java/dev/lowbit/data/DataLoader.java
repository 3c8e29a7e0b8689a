package dev.lowbit.data;

import dev.lowbit.kernel.Parallel;
import dev.lowbit.tensor.Tensor;
import java.util.SplittableRandom;

/**
 * Batches of a {@link Dataset}: shuffled per epoch by a generator keyed by (seed, epoch), so any
 * epoch's order can be recomputed (resuming needs no saved generator state), with optional random
 * crop (zero padding) and horizontal flip. Batch buffers are reused between calls.
 */
public final class DataLoader {

  /** One batch: x is B×C×H×W, labels has B entries. Valid until the next call to {@link #batch}. */
  public record Batch(Tensor x, int[] labels) {
    public int size() {
      return labels.length;
    }
  }

  private final Dataset data;
  private final int batchSize;
  private final boolean shuffle;
  private final long seed;
  private final int cropPad;
  private final boolean flip;
  private int[] order;
  private long orderEpoch = Long.MIN_VALUE;
  private Batch full, tail;
  private float[] sample; // one decoded image for augmentation

  public DataLoader(Dataset data, int batchSize, boolean shuffle, long seed, int cropPad, boolean flip) {
    if (batchSize <= 0) throw new IllegalArgumentException("batch size must be > 0, got " + batchSize);
    if (cropPad < 0) throw new IllegalArgumentException("crop padding must be >= 0, got " + cropPad);
    this.data = data;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = seed;
    this.cropPad = cropPad;
    this.flip = flip;
  }

  public DataLoader(Dataset data, int batchSize, boolean shuffle, long seed) {
    this(data, batchSize, shuffle, seed, 0, false);
  }

  public int batchesPerEpoch() {
    return (data.size() + batchSize - 1) / batchSize;
  }

  public Dataset dataset() {
    return data;
  }

  /** The sample order of an epoch: a seeded Fisher–Yates shuffle, or 0..N−1. */
  public int[] order(long epoch) {
    if (orderEpoch != epoch) {
      int n = data.size();
      order = new int[n];
      for (int i = 0; i < n; i++) order[i] = i;
      if (shuffle) {
        SplittableRandom r = new SplittableRandom(mix(seed, epoch));
        for (int i = n - 1; i > 0; i--) {
          int j = r.nextInt(i + 1);
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
      }
      orderEpoch = epoch;
    }
    return order;
  }

  /** Batch {@code index} of {@code epoch}. */
  public Batch batch(long epoch, int index) {
    int[] ord = order(epoch);
    int start = index * batchSize;
    if (index < 0 || start >= ord.length) throw new IllegalArgumentException("batch " + index + " out of range");
    int b = Math.min(batchSize, ord.length - start);
    Batch out = b == batchSize ? (full == null ? full = alloc(b) : full) : (tail == null || tail.size() != b ? tail = alloc(b) : tail);
    int ss = data.sampleSize();
    float[] x = out.x().data();
    boolean augment = cropPad > 0 || flip;
    if (!augment) { // images decode independently: split across the threads (each writes its own rows)
      for (int i = 0; i < b; i++) out.labels()[i] = data.labels()[ord[start + i]];
      Parallel.forRange(b, ss, (lo, hi) -> {
        for (int i = lo; i < hi; i++) data.copySample(ord[start + i], x, i * ss);
      });
      return out;
    }
    for (int i = 0; i < b; i++) {
      int src = ord[start + i];
      out.labels()[i] = data.labels()[src];
      SplittableRandom r = new SplittableRandom(mix(mix(seed, epoch) ^ 0x5DEECE66DL, start + i));
      augmentInto(src, x, i * ss, r);
    }
    return out;
  }

  private void augmentInto(int src, float[] x, int dst, SplittableRandom r) {
    int c = data.channels(), h = data.height(), w = data.width();
    int dy = cropPad > 0 ? r.nextInt(2 * cropPad + 1) - cropPad : 0;
    int dx = cropPad > 0 ? r.nextInt(2 * cropPad + 1) - cropPad : 0;
    boolean mirror = flip && r.nextBoolean();
    if (sample == null) sample = new float[c * h * w];
    float[] img = sample;
    data.copySample(src, img, 0);
    int base = 0;
    for (int ch = 0; ch < c; ch++)
      for (int y = 0; y < h; y++)
        for (int xx = 0; xx < w; xx++) {
          int sy = y + dy, sx = (mirror ? w - 1 - xx : xx) + dx;
          x[dst + (ch * h + y) * w + xx] = sy >= 0 && sy < h && sx >= 0 && sx < w ? img[base + (ch * h + sy) * w + sx] : 0f;
        }
  }

  private Batch alloc(int b) {
    return new Batch(Tensor.zeros(b, data.channels(), data.height(), data.width()), new int[b]);
  }

  static long mix(long a, long b) {
    long z = a * 0x9E3779B97F4A7C15L + b + 0x632BE59BD9B4E019L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
