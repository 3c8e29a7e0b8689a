package dev.lowbit.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds Fashion-MNIST (Xiao, Rasul &amp; Vollgraf, 2017; MIT license): a directory given by the
 * user, else Debian's {@code dataset-fashion-mnist} install, else the 2,000/500-image subset
 * embedded in the jar.
 */
public final class FashionMnist {

  public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");
  static final String EMBEDDED = "/dev/lowbit/data/fashion-mnist-subset/";

  /** The train and test sets and a sentence saying where they came from. */
  public record Splits(Dataset train, Dataset test, String source) {}

  private FashionMnist() {}

  /** Loads from {@code dir} when given (it must hold the four files), else Debian's, else embedded. */
  public static Splits load(Path dir) throws IOException {
    if (dir != null) {
      if (!Files.isDirectory(dir)) throw new IllegalArgumentException("--data " + dir + ": not a directory");
      return fromDir(dir);
    }
    if (Files.isDirectory(DEBIAN_DIR) && find(DEBIAN_DIR, "train-images-idx3-ubyte") != null) {
      return fromDir(DEBIAN_DIR);
    }
    return embedded();
  }

  /** Reads the four IDX files (raw or .gz) from a directory. */
  public static Splits fromDir(Path dir) throws IOException {
    Dataset train = pair(dir, "train");
    Dataset test = pair(dir, "t10k");
    checkSameGeometry(train, test);
    String src = "Fashion-MNIST from " + dir + " (" + train.size() + " train / " + test.size() + " test)";
    return new Splits(train, test, src);
  }

  private static Dataset pair(Path dir, String prefix) throws IOException {
    Path img = find(dir, prefix + "-images-idx3-ubyte");
    Path lab = find(dir, prefix + "-labels-idx1-ubyte");
    if (img == null || lab == null) {
      throw new IllegalArgumentException(dir + ": missing " + prefix + "-images-idx3-ubyte[.gz] or "
          + prefix + "-labels-idx1-ubyte[.gz]");
    }
    return Dataset.fromIdx(Idx.read(img), Idx.read(lab), 10, img.toString());
  }

  /** Train and test images must have one geometry (a model is built for one input size). */
  static void checkSameGeometry(Dataset train, Dataset test) {
    if (train.channels() != test.channels() || train.height() != test.height() || train.width() != test.width()) {
      throw new IllegalArgumentException(test.source() + ": images are " + geometry(test) + ", train images ("
          + train.source() + ") are " + geometry(train));
    }
  }

  /** H×W, with the channels in front when there is more than one. */
  public static String geometry(Dataset d) {
    return (d.channels() == 1 ? "" : d.channels() + "×") + d.height() + "×" + d.width();
  }

  private static Path find(Path dir, String base) {
    for (String s : new String[] {base + ".gz", base}) {
      Path p = dir.resolve(s);
      if (Files.isRegularFile(p)) return p;
    }
    return null;
  }

  /** The subset shipped in the jar: the first 2,000 training and first 500 test images. */
  public static Splits embedded() throws IOException {
    Dataset train = Dataset.fromIdx(resource("train-images-idx3-ubyte.gz"), resource("train-labels-idx1-ubyte.gz"),
        10, "embedded train subset");
    Dataset test = Dataset.fromIdx(resource("t10k-images-idx3-ubyte.gz"), resource("t10k-labels-idx1-ubyte.gz"),
        10, "embedded test subset");
    checkSameGeometry(train, test);
    return new Splits(train, test, "embedded Fashion-MNIST subset (first " + train.size() + " train / first "
        + test.size() + " test images; the full set was not found — pass --data DIR or install dataset-fashion-mnist)");
  }

  private static Idx.Array resource(String name) throws IOException {
    try (InputStream in = FashionMnist.class.getResourceAsStream(EMBEDDED + name)) {
      if (in == null) throw new IllegalStateException("embedded data set missing from the jar: " + name);
      return Idx.parse(in.readAllBytes(), "embedded " + name);
    }
  }
}
