package dev.lowbit.data;

import java.util.Arrays;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * An in-memory labelled image set: images as N×C×H×W values, labels 0..classes−1, and where it came
 * from (for the run log).
 *
 * <p>Images read from 8-bit files stay 8-bit: the pixels are kept as bytes with a 256-entry table
 * of the float each byte stands for, and {@link #copySample} decodes one image at a time into the
 * batch. Fashion-MNIST's training set is then 47 MB instead of 188 MB as floats, for the same
 * values bit for bit (the table holds exactly what the float conversion computed). Datasets built
 * from floats keep their floats.
 */
public final class Dataset {

  private final float[] images; // null when stored as bytes
  private final byte[] pixels; // null when stored as floats
  private final float[] table; // pixels' values: table[p & 0xFF]
  // When the table is (p / 255f − sub) / div (at most one normalization), copySample computes that
  // directly: the same float operations as the table entries, in a loop C2 vectorizes (a table
  // lookup per pixel cost 7% of an MLP step).
  private final boolean affine;
  private final boolean shifted;
  private final float sub;
  private final float div;
  private final int[] labels;
  private final int channels;
  private final int height;
  private final int width;
  private final int classes;
  private final String source;

  /** A dataset over float images (N×C×H×W). */
  public Dataset(float[] images, int[] labels, int channels, int height, int width, int classes, String source) {
    this(images, null, null, false, false, 0f, 1f, labels, channels, height, width, classes, source);
  }

  private Dataset(float[] images, byte[] pixels, float[] table, boolean affine, boolean shifted, float sub, float div,
      int[] labels, int channels, int height, int width, int classes, String source) {
    long values = images != null ? images.length : pixels.length;
    if (values != (long) labels.length * channels * height * width) {
      throw new IllegalArgumentException("dataset " + source + ": " + labels.length + " labels but "
          + values + " image values for " + channels + "×" + height + "×" + width);
    }
    if (table != null && table.length != 256) {
      throw new IllegalArgumentException("dataset " + source + ": a byte table needs 256 values, got " + table.length);
    }
    this.images = images;
    this.pixels = pixels;
    this.table = table;
    this.affine = affine;
    this.shifted = shifted;
    this.sub = sub;
    this.div = div;
    this.labels = labels;
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.classes = classes;
    this.source = source;
  }

  /** The images as N×C×H×W floats: the stored array, or a decoded copy when stored as bytes. */
  public float[] images() {
    if (images != null) return images;
    float[] x = new float[pixels.length];
    for (int i = 0; i < x.length; i++) x[i] = table[pixels[i] & 0xFF];
    return x;
  }

  /** Writes sample {@code index}'s {@link #sampleSize()} values into {@code dst} at {@code off}. */
  public void copySample(int index, float[] dst, int off) {
    int ss = sampleSize();
    if (images != null) {
      System.arraycopy(images, index * ss, dst, off, ss);
      return;
    }
    int s = index * ss;
    if (!affine) {
      for (int i = 0; i < ss; i++) dst[off + i] = table[pixels[s + i] & 0xFF];
      return;
    }
    // C2 does not vectorize the scalar loop's byte → float conversion, leaving a scalar division
    // per pixel (7% of an MLP step): whole vectors of bytes, zero-extended, converted and divided
    // with the same float operations (so the same bits)
    float m = sub, d = div;
    int i = 0;
    if (VECTOR_DECODE) {
      FloatVector k = FloatVector.broadcast(FS, 255f);
      for (int bound = FS.loopBound(ss); i < bound; i += FS.length()) {
        FloatVector v = (FloatVector) ByteVector.fromArray(BS, pixels, s + i)
            .convertShape(VectorOperators.ZERO_EXTEND_B2I, IS, 0)
            .convert(VectorOperators.I2F, 0);
        v = v.div(k);
        if (shifted) v = v.sub(m).div(d);
        v.intoArray(dst, off + i);
      }
    }
    if (!shifted) {
      for (; i < ss; i++) dst[off + i] = (pixels[s + i] & 0xFF) / 255f;
    } else {
      for (; i < ss; i++) dst[off + i] = ((pixels[s + i] & 0xFF) / 255f - m) / d;
    }
  }

  /**
   * Writes sample {@code index}'s raw pixels, 0..255 as unsigned bytes, into {@code dst} at {@code
   * off}: the stored bytes of an 8-bit file unchanged; otherwise each value x (pixel/255) back as
   * rint(x·255), clamped to 0..255. An integer-only program reads these.
   */
  public void copyPixels(int index, byte[] dst, int off) {
    int ss = sampleSize();
    if (pixels != null && affine && !shifted) {
      System.arraycopy(pixels, index * ss, dst, off, ss);
      return;
    }
    for (int i = 0; i < ss; i++) {
      float x = images != null ? images[index * ss + i] : table[pixels[index * ss + i] & 0xFF];
      dst[off + i] = (byte) Math.max(0, Math.min(255, (int) Math.rint(x * 255.0)));
    }
  }

  private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
  /** Bytes with as many lanes as FS (64 bits at least, the smallest byte vector). */
  private static final VectorSpecies<Byte> BS =
      VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, FS.length() * 8)));
  private static final boolean VECTOR_DECODE = BS.length() == FS.length() && IS.length() == FS.length();

  /** Bytes the stored images take (for logs and memory accounting). */
  public long imageBytes() {
    return images != null ? 4L * images.length : pixels.length;
  }

  public int[] labels() {
    return labels;
  }

  public int channels() {
    return channels;
  }

  public int height() {
    return height;
  }

  public int width() {
    return width;
  }

  public int classes() {
    return classes;
  }

  public String source() {
    return source;
  }

  public int size() {
    return labels.length;
  }

  public int sampleSize() {
    return channels * height * width;
  }

  /**
   * Builds a dataset from IDX images (N×H×W bytes) and labels (N bytes), scaled to [0, 1]. Errors
   * name the file at fault: the images' for their shape, the labels' for theirs and for a label
   * outside 0..classes−1, both for counts that differ.
   */
  public static Dataset fromIdx(Idx.Array images, Idx.Array labels, int classes, String source) {
    if (images.dims().length != 3) {
      throw new IllegalArgumentException(images.name() + ": images must be a rank-3 IDX array (N×H×W), got rank "
          + images.dims().length + " " + Arrays.toString(images.dims()));
    }
    if (labels.dims().length != 1) {
      throw new IllegalArgumentException(labels.name() + ": labels must be a rank-1 IDX array (N), got rank "
          + labels.dims().length + " " + Arrays.toString(labels.dims()));
    }
    if (labels.count() != images.count()) {
      throw new IllegalArgumentException(images.name() + " holds " + images.count() + " images but "
          + labels.name() + " holds " + labels.count() + " labels");
    }
    float[] table = new float[256];
    for (int p = 0; p < 256; p++) table[p] = p / 255f;
    int[] y = new int[labels.count()];
    for (int i = 0; i < y.length; i++) {
      y[i] = labels.data()[i] & 0xFF;
      if (y[i] >= classes) {
        throw new IllegalArgumentException(labels.name() + ": label " + y[i] + " at index " + i + " is outside 0.."
            + (classes - 1));
      }
    }
    return new Dataset(null, images.data(), table, true, false, 0f, 1f, y, 1, images.dims()[1], images.dims()[2],
        classes, source);
  }

  /** A copy normalized per channel: (x − mean) / std. */
  public Dataset normalized(float mean, float std) {
    if (!(std > 0)) throw new IllegalArgumentException("normalization std must be > 0, got " + std);
    if (images == null) { // the same arithmetic on each of the 256 values the bytes stand for
      float[] t = table.clone();
      for (int i = 0; i < t.length; i++) t[i] = (t[i] - mean) / std;
      return new Dataset(null, pixels, t, affine && !shifted, affine && !shifted, mean, std, labels, channels, height,
          width, classes, source);
    }
    float[] x = images.clone();
    for (int i = 0; i < x.length; i++) x[i] = (x[i] - mean) / std;
    return new Dataset(x, labels, channels, height, width, classes, source);
  }

  /** The first n samples. */
  public Dataset head(int n) {
    int m = Math.min(n, size());
    int values = m * sampleSize();
    String src = source + " (first " + m + ")";
    return images != null
        ? new Dataset(Arrays.copyOf(images, values), Arrays.copyOf(labels, m), channels, height, width, classes, src)
        : new Dataset(null, Arrays.copyOf(pixels, values), table, affine, shifted, sub, div, Arrays.copyOf(labels, m),
            channels, height, width, classes, src);
  }

  @Override
  public String toString() {
    return "Dataset[" + size() + " × " + channels + "×" + height + "×" + width + ", " + classes + " classes, "
        + source + "]";
  }
}
