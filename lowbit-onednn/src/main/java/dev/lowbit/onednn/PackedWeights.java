package dev.lowbit.onednn;

import static org.bytedeco.dnnl.global.dnnl.dnnl_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_clone;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_equal;
import static org.bytedeco.dnnl.global.dnnl.dnnl_s8;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;

/**
 * Constant weights (the B of {@code A · B}, k×n: int8, bf16 or fp16) kept in native memory and
 * packed into oneDNN's blocked layout once per primitive layout, so repeated GEMMs against the same
 * weights (a linear layer at inference) skip the copy and the reorder. Made by
 * {@link OneDnnGemm#packInt8Weights}, {@link OneDnnGemm#packBf16Weights} or
 * {@link OneDnnGemm#packF16Weights}; later changes to the caller's array do not show. Close it to
 * free the native memory early (else it is freed when collected).
 */
public final class PackedWeights implements AutoCloseable, dev.lowbit.kernel.Int8Layers.Prepared {

  final int k;
  final int n;
  final boolean transB;
  /** oneDNN data type: dnnl_s8, dnnl_bf16 or dnnl_f16. */
  final int type;
  private final BytePointer plain;
  private final List<Packed> packed = new ArrayList<>();
  /** Set by {@link #close()}; any later use throws instead of handing freed memory to oneDNN. */
  private volatile boolean closed;

  /** {@code data} owns the memory; {@code at} is its first 64-byte aligned address (AMX tile loads). */
  private record Packed(org.bytedeco.dnnl.dnnl_memory_desc md, BytePointer data, Pointer at) {}

  /** Copies op(B) compactly (row-major k×n, or n×k when transposed) from {@code b}, a byte[] or short[]. */
  PackedWeights(int type, boolean transB, int k, int n, Object b, int bOff, int ldb) {
    this.type = type;
    this.k = k;
    this.n = n;
    this.transB = transB;
    int rows = transB ? n : k;
    int cols = transB ? k : n;
    long elem = type == dnnl_s8 ? 1 : 2;
    plain = new BytePointer(Math.max(1L, elem * rows * cols));
    for (int r = 0; r < rows; r++) {
      OneDnn.copyIn(b, bOff + r * ldb, plain.address(), (long) r * cols, cols);
    }
  }

  /** The kernel these weights run on. */
  @Override
  public String impl() {
    return "onednn matmul, " + typeName() + " weights packed";
  }

  /** The weights' element type, e.g. "s8", "bf16", "f16". */
  public String typeName() {
    return type == dnnl_s8 ? "s8" : type == dnnl_bf16 ? "bf16" : type == dnnl_f16 ? "f16" : "type#" + type;
  }

  /** B in {@code mm}'s layout, packing it the first time this layout is asked for. Lock held. */
  Pointer forMatmul(OneDnn rt, OneDnn.Matmul mm) {
    checkOpen();
    if (mm.reorder == null) return plain;
    for (Packed p : packed) {
      if (dnnl_memory_desc_equal(p.md(), mm.wei) != 0) return p.at();
    }
    BytePointer data = new BytePointer(mm.weiBytes + 64);
    Pointer at = OneDnn.aligned(data);
    rt.pack(mm, plain, at);
    // a copy of the layout: the matmul's own descriptor dies with it when its cache is emptied
    org.bytedeco.dnnl.dnnl_memory_desc md = new org.bytedeco.dnnl.dnnl_memory_desc();
    OneDnn.check(dnnl_memory_desc_clone(md, mm.wei), "dnnl_memory_desc_clone");
    packed.add(new Packed(md, data, at));
    return at;
  }

  /** int8 weights back as a compact Java array (op(B) row-major k×n, or n×k when transposed). */
  byte[] toBytes() {
    checkOpen();
    byte[] out = new byte[Math.multiplyExact(k, n)];
    plain.position(0).get(out);
    return out;
  }

  /** 16-bit weights back as a compact Java array of bit patterns. */
  short[] toShorts() {
    checkOpen();
    short[] out = new short[Math.multiplyExact(k, n)];
    new ShortPointer(plain).position(0).get(out);
    return out;
  }

  private void checkOpen() {
    if (closed) throw new IllegalStateException("packed weights used after close()");
  }

  @Override
  public void close() {
    OneDnn.get().lock.lock();
    try {
      if (closed) return;
      closed = true;
      plain.close();
      for (Packed p : packed) {
        p.data().close();
        dnnl_memory_desc_destroy(p.md());
      }
      packed.clear();
    } finally {
      OneDnn.get().lock.unlock();
    }
  }
}
