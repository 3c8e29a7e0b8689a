package dev.lowbit.train;

import dev.lowbit.data.Dataset;
import java.util.Locale;

/**
 * What a checkpoint was trained on: a 64-bit hash of the training set's images (the float values
 * the batches are made of, so 8-bit and float storage of one set agree) and labels, with its
 * size and geometry. {@code --resume} compares it so that a run is not continued on other data.
 * Not a cryptographic hash: it tells data sets apart, it does not defend against forgery.
 */
record DataFingerprint(String hash, int count, int channels, int height, int width, String source) {

  /** Checkpoint metadata keys. */
  static final String HASH_KEY = "data_fingerprint";
  static final String DESCRIPTION_KEY = "data_description";

  static DataFingerprint of(Dataset d) {
    int ss = d.sampleSize();
    float[] x = new float[ss];
    long h = 0x243F6A8885A308D3L ^ ((long) d.size() << 32) ^ ((long) d.channels() << 24) ^ ((long) d.height() << 12)
        ^ d.width();
    int[] labels = d.labels();
    for (int i = 0; i < d.size(); i++) {
      d.copySample(i, x, 0);
      for (float v : x) h = (h ^ Float.floatToIntBits(v)) * 0x100000001B3L + 0x9E3779B97F4A7C15L;
      h = (h ^ labels[i]) * 0x100000001B3L;
    }
    return new DataFingerprint(String.format(Locale.ROOT, "%016x", mix(h)), d.size(), d.channels(), d.height(),
        d.width(), d.source());
  }

  /** MurmurHash3's 64-bit finalizer: every input bit reaches every output bit. */
  private static long mix(long h) {
    h ^= h >>> 33;
    h *= 0xFF51AFD7ED558CCDL;
    h ^= h >>> 33;
    h *= 0xC4CEB9FE1A85EC53L;
    return h ^ (h >>> 33);
  }

  /** "60000 images 1×28×28 from SOURCE", for the checkpoint and error messages. */
  String description() {
    return count + " images " + channels + "×" + height + "×" + width + " from " + source;
  }
}
