package dev.lowbit.onednn;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_equal;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Constant int8 weights (the B of {@code A · B}, k×n, signed) kept in native memory and packed
 * into oneDNN's blocked layout once per primitive layout, so repeated GEMMs against the same
 * weights (a linear layer at inference) skip the copy and the reorder. Made by
 * {@link OneDnnGemm#packInt8Weights}; the caller must not expect later changes to its array to
 * show. Close it to free the native memory early (else it is freed when collected).
 */
public final class PackedInt8Weights implements AutoCloseable {

  final int k;
  final int n;
  final boolean transB;
  private final BytePointer plain;
  private final List<Packed> packed = new ArrayList<>();

  private record Packed(org.bytedeco.dnnl.dnnl_memory_desc md, BytePointer data) {}

  PackedInt8Weights(boolean transB, int k, int n, byte[] b, int bOff, int ldb) {
    this.k = k;
    this.n = n;
    this.transB = transB;
    int rows = transB ? n : k;
    int cols = transB ? k : n;
    plain = new BytePointer(Math.max(1L, (long) rows * cols));
    MemorySegment seg = MemorySegment.ofAddress(plain.address()).reinterpret((long) rows * cols);
    for (int r = 0; r < rows; r++) {
      MemorySegment.copy(b, bOff + r * ldb, seg, JAVA_BYTE, (long) r * cols, cols);
    }
  }

  /** B in {@code mm}'s layout, packing it the first time this layout is asked for. Lock held. */
  Pointer forMatmul(OneDnn rt, OneDnn.Matmul mm) {
    if (mm.reorder == null) return plain;
    for (Packed p : packed) {
      if (dnnl_memory_desc_equal(p.md(), mm.wei) != 0) return p.data();
    }
    BytePointer data = new BytePointer(mm.weiBytes);
    rt.pack(mm, plain, data);
    packed.add(new Packed(mm.wei, data));
    return data;
  }

  /** The weights back as a compact Java array (op(B) row-major k×n, or n×k when transposed). */
  byte[] toArray() {
    byte[] out = new byte[Math.multiplyExact(k, n)];
    MemorySegment.copy(MemorySegment.ofAddress(plain.address()).reinterpret(out.length), JAVA_BYTE, 0, out, 0, out.length);
    return out;
  }

  @Override
  public void close() {
    OneDnn.get().lock.lock();
    try {
      plain.close();
      for (Packed p : packed) p.data().close();
      packed.clear();
    } finally {
      OneDnn.get().lock.unlock();
    }
  }
}
