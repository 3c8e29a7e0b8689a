package dev.lowbit.data;

/**
 * An in-memory labelled image set: images as N×C×H×W floats, labels 0..classes−1, and where it came
 * from (for the run log).
 */
public record Dataset(float[] images, int[] labels, int channels, int height, int width, int classes, String source) {

  public Dataset {
    if (images.length != (long) labels.length * channels * height * width) {
      throw new IllegalArgumentException("dataset " + source + ": " + labels.length + " labels but "
          + images.length + " image values for " + channels + "×" + height + "×" + width);
    }
  }

  public int size() {
    return labels.length;
  }

  public int sampleSize() {
    return channels * height * width;
  }

  /** Builds a dataset from IDX images (N×H×W bytes) and labels (N bytes), scaled to [0, 1]. */
  public static Dataset fromIdx(Idx.Array images, Idx.Array labels, int classes, String source) {
    if (images.dims().length != 3) {
      throw new IllegalArgumentException(source + ": images must be a rank-3 IDX array, got rank " + images.dims().length);
    }
    if (labels.dims().length != 1 || labels.count() != images.count()) {
      throw new IllegalArgumentException(source + ": " + images.count() + " images but labels of shape "
          + java.util.Arrays.toString(labels.dims()));
    }
    byte[] px = images.data();
    float[] x = new float[px.length];
    for (int i = 0; i < px.length; i++) x[i] = (px[i] & 0xFF) / 255f;
    int[] y = new int[labels.count()];
    for (int i = 0; i < y.length; i++) {
      y[i] = labels.data()[i] & 0xFF;
      if (y[i] >= classes) throw new IllegalArgumentException(source + ": label " + y[i] + " at " + i + " is not below " + classes);
    }
    return new Dataset(x, y, 1, images.dims()[1], images.dims()[2], classes, source);
  }

  /** A copy normalized per channel: (x − mean) / std. */
  public Dataset normalized(float mean, float std) {
    if (!(std > 0)) throw new IllegalArgumentException("normalization std must be > 0, got " + std);
    float[] x = images.clone();
    for (int i = 0; i < x.length; i++) x[i] = (x[i] - mean) / std;
    return new Dataset(x, labels, channels, height, width, classes, source);
  }

  /** The first n samples. */
  public Dataset head(int n) {
    int m = Math.min(n, size());
    return new Dataset(java.util.Arrays.copyOf(images, m * sampleSize()), java.util.Arrays.copyOf(labels, m),
        channels, height, width, classes, source + " (first " + m + ")");
  }
}
