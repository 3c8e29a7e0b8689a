package dev.lowbit.nn;

import dev.lowbit.autograd.StepArena;
import dev.lowbit.format.Quantizer;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Remembers the quantized copies {@link Numerics#quantize} made, so that an operand quantized for
 * one product of a step is not quantized again for the next (W in forward and backward-data, X in
 * forward and backward-weight, dY in both backward products). A hit needs the same source array,
 * offset, layout, quantizer and rounding stream (which includes the step), and a source whose
 * current bits equal the bits it had when quantized (the entry keeps a compact copy and compares
 * it bytewise): the quantization is a pure function of those, so a hit returns exactly what
 * quantizing again would. An entry is dropped at its first hit (operands are used twice), when a
 * newer step begins, or when the cache outgrows {@link #MAX_FLOATS}.
 *
 * <p>Inside a training step ({@link StepArena#stamp()} ≠ 0) both copies are the step's arena arrays,
 * which the arena hands out again in the next step: an entry made under another stamp is never a
 * hit, and its arrays are not kept as spares. Allocating these copies fresh (the convolutions'
 * im2col operands are 29 MB per step) made the bf16 CNN spend a fifth of its time in GC.
 */
final class QuantCache {

  /** Floats (raw copies plus quantized copies) the cache holds at most: 64 MiB each way. */
  static final long MAX_FLOATS = 1L << 25;

  /** Floats of spare raw-copy arrays kept for reuse: 32 MiB. */
  static final long MAX_SPARE = 1L << 23;

  private record Key(float[] src, int off, int ld, int rows, int cols, Quantizer q, long stream) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && k.src == src && k.off == off && k.ld == ld && k.rows == rows && k.cols == cols
          && k.stream == stream && k.q.equals(q);
    }

    @Override
    public int hashCode() {
      int h = System.identityHashCode(src);
      h = 31 * h + off;
      h = 31 * h + ld;
      h = 31 * h + rows;
      h = 31 * h + cols;
      h = 31 * h + Long.hashCode(stream);
      return 31 * h + q.hashCode();
    }
  }

  private record Entry(float[] raw, float[] quantized, long step, long stamp) {}

  private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>();
  /** The step and stamp of every entry in {@link #entries} (put drops the others when they change). */
  private long entriesStep = Long.MIN_VALUE, entriesStamp = Long.MIN_VALUE;
  private final List<float[]> spare = new ArrayList<>(); // raw copies of dropped entries, for reuse
  private long floats, spareFloats;

  /** The cached quantized copy, or null; a hit removes the entry. */
  synchronized float[] take(float[] src, int off, int ld, int rows, int cols, Quantizer q, long stream, long stamp) {
    Key key = new Key(src, off, ld, rows, cols, q, stream);
    Entry e = entries.get(key);
    if (e == null) return null;
    entries.remove(key);
    floats -= 2L * e.raw.length;
    if (e.stamp != stamp) { // its arena arrays may belong to someone else by now
      recycle(e);
      return null;
    }
    boolean same = true;
    MemorySegment s = MemorySegment.ofArray(src), r = MemorySegment.ofArray(e.raw);
    for (int i = 0; i < rows && same; i++) {
      long from = 4L * (off + (long) i * ld), to = 4L * i * cols;
      same = MemorySegment.mismatch(s, from, from + 4L * cols, r, to, to + 4L * cols) == -1;
    }
    recycle(e);
    return same ? e.quantized : null;
  }

  /**
   * A compact rows × cols copy of the source: from the step's arena when {@code stamp} ≠ 0, else in
   * a recycled array when one of that size is spare.
   */
  synchronized float[] copy(float[] src, int off, int ld, int rows, int cols, long stamp) {
    int size = rows * cols;
    float[] x = stamp != 0 ? StepArena.floats(size) : null;
    for (int i = spare.size() - 1; i >= 0 && x == null; i--) {
      if (spare.get(i).length == size) {
        x = spare.remove(i);
        spareFloats -= size;
        break;
      }
    }
    if (x == null) x = new float[size];
    if (ld == cols) {
      System.arraycopy(src, off, x, 0, size);
    } else {
      for (int r = 0; r < rows; r++) System.arraycopy(src, off + r * ld, x, r * cols, cols);
    }
    return x;
  }

  /** Stores a quantized copy made from {@code raw} (the compact source, now owned by the cache). */
  synchronized void put(float[] src, int off, int ld, int rows, int cols, Quantizer q, long stream, long step,
      long stamp, float[] raw, float[] quantized) {
    if (step != entriesStep || stamp != entriesStamp) {
      // an earlier step's operands are never asked for again; every entry is of the previous
      // (step, stamp), so this scan runs once per step, not once per put (the ViT's attention
      // puts thousands of slices per step)
      for (Iterator<Map.Entry<Key, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
        Entry e = it.next().getValue();
        it.remove();
        floats -= 2L * e.raw.length;
        recycle(e);
      }
      entriesStep = step;
      entriesStamp = stamp;
    }
    long need = 2L * raw.length;
    Entry entry = new Entry(raw, quantized, step, stamp);
    if (need > MAX_FLOATS) {
      recycle(entry);
      return;
    }
    for (Iterator<Entry> it = entries.values().iterator(); it.hasNext() && floats + need > MAX_FLOATS; ) {
      Entry e = it.next();
      it.remove();
      floats -= 2L * e.raw.length;
    }
    entries.put(new Key(src, off, ld, rows, cols, q, stream), entry);
    floats += need;
  }

  /** Keeps a dropped entry's raw copy as a spare, unless the arena owns it. */
  private void recycle(Entry e) {
    float[] raw = e.raw;
    if (e.stamp != 0 || raw.length > MAX_SPARE) return;
    while (!spare.isEmpty() && spareFloats + raw.length > MAX_SPARE) spareFloats -= spare.remove(0).length;
    spare.add(raw);
    spareFloats += raw.length;
  }

  /** Drops everything (tests). */
  synchronized void clear() {
    entries.clear();
    entriesStep = entriesStamp = Long.MIN_VALUE;
    spare.clear();
    floats = 0;
    spareFloats = 0;
  }
}
