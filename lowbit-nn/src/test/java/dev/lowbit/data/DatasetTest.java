package dev.lowbit.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DatasetTest {

  /** Every byte value, three images of 2×2 plus a partial: bytes kept as bytes decode exactly as floats would. */
  private static Dataset bytes() {
    byte[] px = new byte[256 + 4];
    for (int i = 0; i < px.length; i++) px[i] = (byte) (i * 37 + 11);
    int n = px.length / 4;
    byte[] lab = new byte[n];
    for (int i = 0; i < n; i++) lab[i] = (byte) (i % 10);
    return Dataset.fromIdx(new Idx.Array(new int[] {n, 2, 2}, px), new Idx.Array(new int[] {n}, lab), 10, "test");
  }

  private static float[] floats(Dataset d) {
    // the conversion the float-backed loader used: (byte & 0xFF) / 255f
    byte[] px = new byte[d.size() * 4];
    for (int i = 0; i < px.length; i++) px[i] = (byte) (i * 37 + 11);
    float[] x = new float[px.length];
    for (int i = 0; i < x.length; i++) x[i] = (px[i] & 0xFF) / 255f;
    return x;
  }

  @Test
  void byteStorageDecodesBitForBitAndTakesAQuarterOfTheMemory() {
    Dataset d = bytes();
    float[] want = floats(d);
    assertArrayEquals(want, d.images());
    assertEquals(want.length, d.imageBytes());
    float[] got = new float[4];
    for (int s = 0; s < d.size(); s++) {
      d.copySample(s, got, 0);
      for (int i = 0; i < 4; i++) assertEquals(Float.floatToRawIntBits(want[s * 4 + i]), Float.floatToRawIntBits(got[i]));
    }
  }

  @Test
  void normalizedAndHeadMatchTheFloatDataset() {
    Dataset d = bytes();
    Dataset f = new Dataset(floats(d), d.labels(), 1, 2, 2, 10, "floats");
    assertArrayEquals(f.normalized(0.2860f, 0.3530f).images(), d.normalized(0.2860f, 0.3530f).images());
    assertArrayEquals(f.head(7).images(), d.head(7).images());
    // the direct decode (plain and normalized once) and the table (normalized twice) agree with floats
    for (Dataset[] pair : new Dataset[][] {{f, d}, {f.normalized(0.3f, 0.7f), d.normalized(0.3f, 0.7f)},
        {f.normalized(0.3f, 0.7f).normalized(-1f, 3f), d.normalized(0.3f, 0.7f).normalized(-1f, 3f)}}) {
      float[] want = new float[4], got = new float[4];
      for (int s = 0; s < d.size(); s++) {
        pair[0].copySample(s, want, 0);
        pair[1].copySample(s, got, 0);
        assertArrayEquals(want, got);
      }
    }
    assertArrayEquals(f.head(7).labels(), d.head(7).labels());
    DataLoader a = new DataLoader(d.normalized(0.5f, 0.25f), 8, true, 3, 1, true);
    DataLoader b = new DataLoader(f.normalized(0.5f, 0.25f), 8, true, 3, 1, true);
    for (int bi = 0; bi < a.batchesPerEpoch(); bi++) {
      assertArrayEquals(b.batch(1, bi).x().data(), a.batch(1, bi).x().data());
    }
  }

  @Test
  void wholeImagesDecodeAsTheScalarDefinition() {
    // 28×28 images (the vector loop's whole vectors and a tail) over every byte value
    int n = 3, ss = 28 * 28;
    byte[] px = new byte[n * ss];
    for (int i = 0; i < px.length; i++) px[i] = (byte) (i * 97 + 5);
    Dataset d = Dataset.fromIdx(new Idx.Array(new int[] {n, 28, 28}, px), new Idx.Array(new int[] {n}, new byte[n]), 10, "bytes");
    for (float[] norm : new float[][] {null, {0.2860f, 0.3530f}}) {
      Dataset e = norm == null ? d : d.normalized(norm[0], norm[1]);
      float[] got = new float[ss + 3];
      for (int s = 0; s < n; s++) {
        e.copySample(s, got, 3);
        for (int i = 0; i < ss; i++) {
          float v = (px[s * ss + i] & 0xFF) / 255f;
          if (norm != null) v = (v - norm[0]) / norm[1];
          assertEquals(Float.floatToRawIntBits(v), Float.floatToRawIntBits(got[3 + i]), "sample " + s + " pixel " + i);
        }
      }
    }
  }

  /** The raw pixels come back from bytes as stored and from floats (pixel/255) by rounding, for every byte value. */
  @Test
  void copyPixelsGivesTheRawBytesWhateverTheStorage() {
    Dataset b = bytes();
    Dataset f = new Dataset(floats(b), b.labels(), 1, 2, 2, 10, "floats");
    byte[] px = new byte[b.size() * 4];
    for (int i = 0; i < px.length; i++) px[i] = (byte) (i * 37 + 11);
    byte[] fromBytes = new byte[px.length], fromFloats = new byte[px.length];
    for (int i = 0; i < b.size(); i++) {
      b.copyPixels(i, fromBytes, i * 4);
      f.copyPixels(i, fromFloats, i * 4);
    }
    assertArrayEquals(px, fromBytes);
    assertArrayEquals(px, fromFloats);
    // out-of-range floats clamp to the pixel range
    Dataset odd = new Dataset(new float[] {-0.5f, 2f, 0.5f, 1f}, new int[] {0}, 1, 2, 2, 10, "odd");
    byte[] o = new byte[4];
    odd.copyPixels(0, o, 0);
    assertArrayEquals(new byte[] {0, (byte) 255, (byte) 128, (byte) 255}, o);
  }
}
