package dev.lowbit.onednn;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.bytedeco.dnnl.global.dnnl.*;

import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.kernel.DecodingLowPrecisionGemm;
import dev.lowbit.kernel.FloatKernels;
import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Int8Layers;
import dev.lowbit.kernel.LowPrecisionGemm;
import dev.lowbit.kernel.QuantizedLinear;
import dev.lowbit.kernel.ScalarGemm;
import dev.lowbit.kernel.ScalarLowPrecisionGemm;
import dev.lowbit.settings.Settings;
import dev.lowbit.settings.SettingsTable;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Gemm} and {@link LowPrecisionGemm} on oneDNN's matmul, for the calls whose numerics it
 * reproduces; every other call goes to the pure-Java fallback.
 *
 * <p>What runs natively, and why it is exact:
 * <ul>
 *   <li>int8 (s8×s8, u8×s8 → s32): natively only while no int32 sum can overflow, i.e.
 *       k·128·128 ≤ 2³¹−1 (k ≤ {@value #MAX_K_S8S8}) for s8×s8 and k·255·128 ≤ 2³¹−1
 *       (k ≤ {@value #MAX_K_U8S8}) for u8×s8. Below these bounds every order of summation gives
 *       the exact sum, so there is nothing to reproduce; above them the Java reference wraps while
 *       oneDNN may saturate or convert through fp32, so those calls are declined. At load a
 *       self-test on extreme operands (all −128, 255×127 pairs, k at the bound) compares each kernel
 *       with {@link ScalarGemm}; a kernel that differs (e.g. a saturating VNNI-less path) is never
 *       used.
 *   <li>int16 (DFP16) by digits: each int16 splits into a signed high byte and an unsigned low byte,
 *       a = 2⁸·a_h + a_l; b's low byte is shifted to signed, b_l = b_l' + 128, so two int8 GEMMs,
 *       [A_h] and [A_l] times [B_h | B_l'], give every digit product, and
 *       C = 2¹⁶·A_h·B_h + 2⁸·(A_h·B_l' + A_l·B_h) + A_l·B_l' + 128·rowsum(A), recombined in int64:
 *       exact by construction (the identity IM-Unpack uses, Zeng et al. 2024), so overflow counts
 *       are exact too. Declined for k > {@value #MAX_K_U8S8} (digit sums could overflow int32).
 *   <li>bf16, fp16, FP8 → fp32: oneDNN's order of summation differs from the reference, so results
 *       agree within {@link LowPrecisionGemm#reassociationBound} (not bit for bit); AMX also flushes
 *       subnormals. Shapes or types for which oneDNN offers only its reference loops (FP8 on CPUs
 *       without AMX-FP16, mixed E5M2×E4M3) are declined: the Java reference is as fast.
 *   <li>fp32 {@code sgemm} always goes to the fallback: the project's fp32 semantics are the Java
 *       kernels'.
 * </ul>
 */
public final class OneDnnGemm implements Gemm, LowPrecisionGemm, FloatKernels, Int8Layers {

  /** Largest k for which k·128·128 fits int32: s8×s8 sums can never overflow. */
  public static final int MAX_K_S8S8 = (int) (Integer.MAX_VALUE / (128L * 128));
  /** Largest k for which k·255·128 fits int32: u8×s8 sums can never overflow. */
  public static final int MAX_K_U8S8 = (int) (Integer.MAX_VALUE / (255L * 128));

  private static final Logger LOG = LoggerFactory.getLogger(OneDnnGemm.class);

  private final OneDnn rt;
  private final Gemm fallback;
  private final LowPrecisionGemm lowFallback;
  private final boolean s8s8;
  private final boolean u8s8;
  private final AtomicLong nativeCalls = new AtomicLong();
  private final AtomicLong declinedCalls = new AtomicLong();
  /**
   * Integer products smaller than this many multiply-adds stay on Java: a oneDNN call costs
   * copies in and out and a lock, which dwarf tiny products such as attention's per-head ones
   * (setting {@code lowbit.onednn.minMacs}).
   */
  private volatile long minNativeMacs;
  /** Whether convolutions of bf16 operands may run on bf16 kernels (setting {@code lowbit.onednn.bf16Conv}). */
  private final boolean bf16Conv;

  OneDnnGemm(OneDnn rt, Gemm fallback, LowPrecisionGemm lowFallback, Settings settings) {
    this.rt = rt;
    this.fallback = fallback;
    this.lowFallback = lowFallback;
    this.minNativeMacs = settings.get(OneDnnSettings.MIN_MACS);
    this.bf16Conv = settings.get(OneDnnSettings.BF16_CONV);
    this.s8s8 = selfTest(false);
    this.u8s8 = selfTest(true);
  }

  /**
   * The backend over the loaded runtime, falling back to {@code fallback}; narrow-float products
   * oneDNN declines run as fp32 products of the decoded operands on {@code fallback}.
   */
  public static OneDnnGemm create(Gemm fallback) {
    return create(fallback, dev.lowbit.kernel.Kernels.settings());
  }

  /** As {@link #create(Gemm)}, tuned by {@code settings} (the oneDNN entries of the settings table). */
  public static OneDnnGemm create(Gemm fallback, Settings settings) {
    return new OneDnnGemm(OneDnn.get(settings), fallback, new DecodingLowPrecisionGemm(fallback), settings);
  }

  /** A representative shape for {@link #runsNatively}: oneDNN picks its kernels per ISA, not per size. */
  private static final int PROBE = 256;

  /**
   * Whether this CPU runs the kernel natively: oneDNN has a non-reference implementation of it
   * for a dense {@value #PROBE}³ product (oneDNN's reference loops are declined, and those calls
   * run on the Java fallback). bf16 needs AVX-512 (fast with AVX512-BF16 or AMX), fp16 AVX512-FP16
   * or AMX-FP16, FP8 AMX-FP16; int8 the load-time self-test. Tests and {@code lowbit bench gemm}
   * ask this instead of assuming a CPU model.
   */
  public boolean runsNatively(NarrowKind kind) {
    int t = switch (kind) {
      case BF16 -> dnnl_bf16;
      case F16 -> dnnl_f16;
      case F8_E4M3 -> dnnl_f8_e4m3;
      case F8_E5M2 -> dnnl_f8_e5m2;
    };
    if (kind == NarrowKind.BF16 && !rt.nativeBf16()) return false;
    rt.lock.lock();
    try {
      return rt.matmul(key(t, t, dnnl_f32, false, false, PROBE, PROBE, PROBE, PROBE)) != null;
    } finally {
      rt.lock.unlock();
    }
  }

  /** One line: which narrow-float kernels run natively on this CPU, e.g. "bf16 native, fp16 Java, ...". */
  public String narrowSummary() {
    StringBuilder b = new StringBuilder();
    for (NarrowKind k : NarrowKind.values()) {
      if (b.length() > 0) b.append(", ");
      b.append(k.label).append(runsNatively(k) ? " native" : " Java");
    }
    return b.toString();
  }

  /** The narrow-float kernels whose native support {@link #runsNatively} reports. */
  public enum NarrowKind {
    BF16("bf16"),
    F16("fp16"),
    F8_E4M3("fp8 e4m3"),
    F8_E5M2("fp8 e5m2");

    final String label;

    NarrowKind(String label) {
      this.label = label;
    }
  }

  @Override
  public String name() {
    return "onednn-" + rt.version() + "-" + rt.isa() + "+" + fallback.name();
  }

  /** Every native call copies its operands into oneDNN's memory and the result back. */
  @Override
  public boolean copiesOperands() {
    return true;
  }

  /** The runtime under this backend. */
  public OneDnn runtime() {
    return rt;
  }

  /** Calls run natively so far. */
  public long nativeCalls() {
    return nativeCalls.get();
  }

  /** Calls handed to the fallback so far (declined, or no oneDNN implementation). */
  public long declinedCalls() {
    return declinedCalls.get();
  }

  /** Whether the int8 kernels passed the load-time self-test here. */
  public boolean int8Native(boolean unsignedA) {
    return unsignedA ? u8s8 : s8s8;
  }

  private boolean selfTest(boolean unsignedA) {
    Random r = new Random(42);
    boolean ok = true;
    // 1) a mid-size shape of extreme values, 2) one dot product at the largest allowed k
    int[][] shapes = {{37, 45, 4099}, {2, 3, unsignedA ? MAX_K_U8S8 : MAX_K_S8S8}};
    for (int[] s : shapes) {
      int m = s[0], n = s[1], k = s[2];
      byte[] a = new byte[m * k];
      byte[] b = new byte[k * n];
      boolean big = k > 10_000;
      for (int i = 0; i < a.length; i++) {
        a[i] = (byte) (big ? (unsignedA ? 255 : -128) : extreme(r, unsignedA));
      }
      for (int i = 0; i < b.length; i++) b[i] = (byte) (big ? (i % n == 0 ? 127 : -128) : extreme(r, false));
      int[] want = new int[m * n];
      int[] got = new int[m * n];
      if (unsignedA) {
        ScalarGemm.INSTANCE.gemmU8S8(false, false, m, n, k, a, 0, k, b, 0, n, want, 0, n);
      } else {
        ScalarGemm.INSTANCE.gemmS8S8(false, false, m, n, k, a, 0, k, b, 0, n, want, 0, n);
      }
      boolean ran = runInt8(unsignedA ? dnnl_u8 : dnnl_s8, false, false, m, n, k,
          a, 0, k, b, 0, n, got, 0, n);
      if (!ran || !java.util.Arrays.equals(want, got)) {
        ok = false;
        LOG.warn("oneDNN {} int8 GEMM {} the Java reference at {}x{}x{} on ISA {}; using Java for it",
            unsignedA ? "u8s8" : "s8s8", ran ? "differs from" : "has no implementation matching",
            m, n, k, rt.isa());
        break;
      }
    }
    return ok;
  }

  private static int extreme(Random r, boolean unsigned) {
    int[] pool = unsigned ? new int[] {0, 1, 127, 128, 254, 255} : new int[] {-128, -127, -1, 0, 1, 126, 127};
    return r.nextInt(4) == 0 ? r.nextInt(256) - (unsigned ? 0 : 128) : pool[r.nextInt(pool.length)];
  }

  // ---------------------------------------------------------------- fp32: Java semantics

  @Override
  public void sgemm(
      boolean transA, boolean transB, int m, int n, int k,
      float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
      float beta, float[] c, int cOff, int ldc) {
    fallback.sgemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
  }

  // ---------------------------------------------------------------- fp32 convolutions

  private volatile OneDnnConv conv;

  OneDnnConv conv() {
    OneDnnConv c = conv;
    if (c == null) {
      synchronized (this) {
        if (conv == null) conv = new OneDnnConv(rt, bf16Conv);
        c = conv;
      }
    }
    return c;
  }

  @Override
  public boolean supportsS8(ConvSpec s) {
    return conv().supportsS8(s);
  }

  @Override
  public boolean convForwardS8(ConvSpec s, byte[] x, float xScale, byte[] w, float[] wScales, float[] bias, float[] y) {
    return conv().forwardS8(s, x, xScale, w, wScales, bias, y);
  }

  @Override
  public String int8LayersName() {
    return "onednn int8 conv + packed linear";
  }

  @Override
  public Int8Layers.Prepared prepareConv(ConvSpec perSample, boolean unsignedX, byte[] weight) {
    return conv().prepareS32(perSample, unsignedX, weight);
  }

  @Override
  public boolean int8Conv(Int8Layers.Prepared w, int batch, byte[] x, int xOff, int[] y, int yOff) {
    if (!(w instanceof OneDnnConv.S32Weights s)) {
      throw new IllegalArgumentException("convolution weights prepared by another backend: " + w);
    }
    return conv().forwardS32(s, batch, x, xOff, y, yOff);
  }

  /** Packed once ({@link #packInt8Weights}); declined where this CPU's int8 sums are not exact. */
  @Override
  public Int8Layers.Prepared prepareLinear(int inF, int outF, byte[] weight) {
    if (!s8s8 || !u8s8 || inF > MAX_K_U8S8) return null;
    return packInt8Weights(true, inF, outF, weight, 0, inF);
  }

  @Override
  public boolean int8Linear(Int8Layers.Prepared w, int rows, boolean unsignedX, byte[] x, int[] y) {
    if (!(w instanceof PackedWeights p)) {
      throw new IllegalArgumentException("linear weights prepared by another backend: " + w);
    }
    gemmInt8Packed(unsignedX, false, rows, x, 0, p.k, p, y, 0, p.n);
    return true;
  }

  @Override
  public boolean supports(ConvSpec s) {
    return conv().supports(s);
  }

  @Override
  public boolean convForward(ConvSpec s, float[] x, float[] w, float[] bias, float[] y) {
    return conv().forward(s, x, w, bias, y);
  }

  @Override
  public boolean convBackward(ConvSpec s, float[] x, float[] w, float[] dy, float[] dx, float[] dw, float[] db) {
    return conv().backward(s, x, w, dy, dx, dw, db);
  }

  @Override
  public boolean convForward(ConvSpec s, float[] x, Transform xT, float[] w, float[] bias, float[] y, boolean bf16) {
    return conv().forward(s, x, xT, w, bias, y, bf16);
  }

  @Override
  public boolean convBackward(ConvSpec s, float[] x, Transform xT, float[] w, float[] dy, Transform dyT,
      float[] dx, float[] dw, float[] db, boolean bf16) {
    return conv().backward(s, x, xT, w, dy, dyT, dx, dw, db, bf16);
  }

  @Override
  public boolean supportsBf16(ConvSpec s) {
    return conv().supportsBf16(s);
  }

  @Override
  public boolean convForwardBf16(ConvSpec s, float[] x, float[] w, float[] bias, float[] y) {
    return conv().forward(s, x, null, w, bias, y, true);
  }

  @Override
  public boolean convBackwardBf16(ConvSpec s, float[] x, float[] w, float[] dy, float[] dx, float[] dw, float[] db) {
    return conv().backward(s, x, null, w, dy, null, dx, dw, db, true);
  }

  // ---------------------------------------------------------------- int8

  @Override
  public void gemmS8S8(
      boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
    checkShape(m, n, k);
    if (s8s8 && k <= MAX_K_S8S8 && worthNative(m, n, k) && runInt8(dnnl_s8, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc)) {
      nativeCalls.incrementAndGet();
      return;
    }
    declinedCalls.incrementAndGet();
    fallback.gemmS8S8(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
  }

  /** The native result is shifted and added into C as it is copied out: no int32 result array between. */
  @Override
  public void gemmS8S8AddShifted(
      boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int shift, int[] c, int cOff, int ldc) {
    checkShape(m, n, k);
    if (shift < 0 || shift > 31) throw new IllegalArgumentException("shift " + shift + "; valid: 0..31");
    if (s8s8 && k <= MAX_K_S8S8 && worthNative(m, n, k) && !degenerate(m, n, k)) {
      OneDnn.MatmulKey key = key(dnnl_s8, dnnl_s8, dnnl_s32, transA, transB, m, n, k, compactA(transA, k, lda));
      if (runByteOperands(key, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb,
          bc -> addOut(bc, m, n, shift, c, cOff, ldc))) {
        nativeCalls.incrementAndGet();
        return;
      }
    }
    declinedCalls.incrementAndGet();
    fallback.gemmS8S8AddShifted(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, shift, c, cOff, ldc);
  }

  /** Adds a compact m×n native int32 result, shifted left by {@code shift}, into {@code c} (row stride ldc). */
  private void addOut(OneDnn.Buffer src, int m, int n, int shift, int[] c, int cOff, int ldc) {
    rangeCheck(c.length, cOff, span(m, n, ldc), "C");
    MemorySegment s = src.segment();
    rt.parallelFor(m, 8L * m * n, (i0, i1) -> {
      for (int i = i0; i < i1; i++) {
        long from = (long) i * n;
        int to = cOff + i * ldc;
        for (int j = 0; j < n; j++) c[to + j] += s.getAtIndex(JAVA_INT, from + j) << shift;
      }
    });
  }

  @Override
  public void gemmU8S8(
      boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
    checkShape(m, n, k);
    if (u8s8 && k <= MAX_K_U8S8 && worthNative(m, n, k) && runInt8(dnnl_u8, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc)) {
      nativeCalls.incrementAndGet();
      return;
    }
    declinedCalls.incrementAndGet();
    fallback.gemmU8S8(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
  }

  private static void checkShape(int m, int n, int k) {
    if (m < 0 || n < 0 || k < 0) {
      throw new IllegalArgumentException(
          "GEMM dimensions must be non-negative, got m=" + m + " n=" + n + " k=" + k);
    }
  }

  /** Elements a row-major view with these rows, columns and leading dimension spans. */
  private static long span(int rows, int cols, int ld) {
    return rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
  }

  private static boolean degenerate(int m, int n, int k) {
    return m == 0 || n == 0 || k == 0;
  }

  /** Whether an integer product is big enough to be worth a native call. */
  private boolean worthNative(int m, int n, int k) {
    return (long) m * n * k >= minNativeMacs;
  }

  /** Sets the smallest integer product (in multiply-adds) run natively; tests use 0. */
  void setMinNativeMacs(long macs) {
    if (macs < 0) throw new IllegalArgumentException("minimum native multiply-adds must be >= 0, got " + macs);
    minNativeMacs = macs;
  }

  /**
   * The matmul for op(A) (strided as the caller lays it out) times a dense op(B): B is always
   * copied compactly (row-major k×n, or n×k when transposed), because oneDNN has no reorder into
   * its blocked weight layout from arbitrary strides.
   */
  private OneDnn.MatmulKey key(int srcT, int weiT, int dstT, boolean transA, boolean transB,
      int m, int n, int k, int lda) {
    return new OneDnn.MatmulKey(srcT, weiT, dstT, m, n, k,
        transA ? 1 : lda, transA ? lda : 1, transB ? 1 : n, transB ? k : 1);
  }

  /**
   * Copies {@code rows} × {@code cols} elements of {@code src} (byte[] or short[], row stride
   * {@code ld}) compactly to native memory, split across the copy threads when large.
   */
  private void copyIn(Object src, int off, int ld, int rows, int cols, int elemBytes, OneDnn.Buffer dst) {
    long address = dst.segment().address();
    long bytes = (long) elemBytes * rows * cols;
    if (ld == cols || rows == 1) {
      int total = Math.multiplyExact(rows, cols);
      rt.parallelFor(total, bytes, (from, to) -> OneDnn.copyIn(src, off + from, address, from, to - from));
    } else {
      rt.parallelFor(rows, bytes, (r0, r1) -> {
        for (int r = r0; r < r1; r++) OneDnn.copyIn(src, off + r * ld, address, (long) r * cols, cols);
      });
    }
  }

  /** Copies a compact m×n native result into {@code c} (int[] or float[], row stride ldc). */
  private void copyOut(OneDnn.Buffer src, int m, int n, Object c, int cLength, int cOff, int ldc) {
    copyOut(src, m, n, 4, c, cLength, cOff, ldc);
  }

  /** As above for any element size (byte[] 1, short[] 2, int[]/float[] 4). */
  private void copyOut(OneDnn.Buffer src, int m, int n, int elemBytes, Object c, int cLength, int cOff, int ldc) {
    rangeCheck(cLength, cOff, span(m, n, ldc), "C");
    long address = src.segment().address();
    long bytes = (long) elemBytes * m * n;
    if (ldc == n || m == 1) {
      rt.parallelFor(m * n, bytes, (from, to) -> OneDnn.copyOut(address, from, c, cOff + from, to - from));
    } else {
      rt.parallelFor(m, bytes, (i0, i1) -> {
        for (int i = i0; i < i1; i++) OneDnn.copyOut(address, (long) i * n, c, cOff + i * ldc, n);
      });
    }
  }

  /**
   * The leading dimension of A in the matmul: a byte A (not transposed) whose rows are longer than
   * k (k columns out of a wider matrix, e.g. one inner group of IM-Unpack's A'') is copied
   * compactly, k bytes a row, rather than its whole strided span; else A's own.
   */
  private static int compactA(boolean transA, int k, int lda) {
    return !transA && lda > k ? k : lda;
  }

  /** A as the matmul key describes it: its whole span, strides kept (oneDNN reads it strided). */
  private void copyInA(Object a, int aOff, long spanA, int elemBytes, OneDnn.Buffer dst) {
    copyIn(a, aOff, (int) spanA, 1, (int) spanA, elemBytes, dst);
  }

  private boolean runInt8(int srcType, boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
    if (degenerate(m, n, k)) {
      fallback.gemmS8S8(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
      return true; // exact and cheap either way (zeros, or nothing)
    }
    OneDnn.MatmulKey key = key(srcType, dnnl_s8, dnnl_s32, transA, transB, m, n, k, compactA(transA, k, lda));
    return runByteOperands(key, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb,
        bc -> copyOut(bc, m, n, c, c.length, cOff, ldc));
  }

  /**
   * Copies constant int8 weights B (op(B) is k×n) to native memory for {@link #gemmInt8Packed}.
   */
  public PackedWeights packInt8Weights(boolean transB, int k, int n, byte[] b, int bOff, int ldb) {
    checkShape(1, n, k);
    rangeCheck(b.length, bOff, transB ? span(n, k, ldb) : span(k, n, ldb), "B");
    return new PackedWeights(dnnl_s8, transB, k, n, b, bOff, ldb);
  }

  /** Copies constant bf16 weights B (op(B) is k×n) to native memory for {@link #gemmBf16Packed}. */
  public PackedWeights packBf16Weights(boolean transB, int k, int n, short[] b, int bOff, int ldb) {
    checkShape(1, n, k);
    rangeCheck(b.length, bOff, transB ? span(n, k, ldb) : span(k, n, ldb), "B");
    return new PackedWeights(dnnl_bf16, transB, k, n, b, bOff, ldb);
  }

  /** Copies constant fp16 weights B (op(B) is k×n) to native memory for {@link #gemmF16Packed}. */
  public PackedWeights packF16Weights(boolean transB, int k, int n, short[] b, int bOff, int ldb) {
    checkShape(1, n, k);
    rangeCheck(b.length, bOff, transB ? span(n, k, ldb) : span(k, n, ldb), "B");
    return new PackedWeights(dnnl_f16, transB, k, n, b, bOff, ldb);
  }

  private static void checkType(PackedWeights w, int type, String what) {
    if (w.type != type) {
      throw new IllegalArgumentException("a " + what + " GEMM needs weights packed as " + what
          + ", got " + w.typeName());
    }
  }

  /**
   * C = op(A) · B for packed int8 weights B: A is u8 ({@code unsignedA}) or s8; the same contract
   * and exactness as {@link #gemmU8S8}/{@link #gemmS8S8}, and the same fallback when declined.
   */
  public void gemmInt8Packed(boolean unsignedA, boolean transA, int m, byte[] a, int aOff, int lda,
      PackedWeights w, int[] c, int cOff, int ldc) {
    int n = w.n, k = w.k;
    checkShape(m, n, k);
    checkType(w, dnnl_s8, "s8");
    boolean ok = (unsignedA ? u8s8 && k <= MAX_K_U8S8 : s8s8 && k <= MAX_K_S8S8) && !degenerate(m, n, k);
    if (ok && runPacked(unsignedA ? dnnl_u8 : dnnl_s8, dnnl_s32, 1, transA, m, a, a.length, aOff, lda,
        w, c, c.length, cOff, ldc)) {
      return;
    }
    declinedCalls.incrementAndGet();
    byte[] b = w.toBytes();
    int ldb = w.transB ? k : n;
    if (unsignedA) {
      fallback.gemmU8S8(transA, w.transB, m, n, k, a, aOff, lda, b, 0, ldb, c, cOff, ldc);
    } else {
      fallback.gemmS8S8(transA, w.transB, m, n, k, a, aOff, lda, b, 0, ldb, c, cOff, ldc);
    }
  }

  /**
   * C = op(A) · B for packed bf16 weights B: the same contract and bound as {@link #gemmBf16}; the
   * same primitive runs on the same operands, so results equal the unpacked call's bit for bit.
   */
  public void gemmBf16Packed(boolean transA, int m, short[] a, int aOff, int lda, PackedWeights w,
      float[] c, int cOff, int ldc) {
    checkType(w, dnnl_bf16, "bf16");
    gemmFloat16Packed(transA, m, a, aOff, lda, w, c, cOff, ldc);
  }

  /** C = op(A) · B for packed fp16 weights B: as {@link #gemmBf16Packed} for IEEE binary16. */
  public void gemmF16Packed(boolean transA, int m, short[] a, int aOff, int lda, PackedWeights w,
      float[] c, int cOff, int ldc) {
    checkType(w, dnnl_f16, "f16");
    gemmFloat16Packed(transA, m, a, aOff, lda, w, c, cOff, ldc);
  }

  private void gemmFloat16Packed(boolean transA, int m, short[] a, int aOff, int lda, PackedWeights w,
      float[] c, int cOff, int ldc) {
    int n = w.n, k = w.k;
    checkShape(m, n, k);
    if (!degenerate(m, n, k)
        && runPacked(w.type, dnnl_f32, 2, transA, m, a, a.length, aOff, lda, w, c, c.length, cOff, ldc)) {
      return;
    }
    declinedCalls.incrementAndGet();
    short[] b = w.toShorts();
    int ldb = w.transB ? k : n;
    if (w.type == dnnl_bf16) {
      lowFallback.gemmBf16(transA, w.transB, m, n, k, a, aOff, lda, b, 0, ldb, c, cOff, ldc);
    } else {
      lowFallback.gemmF16(transA, w.transB, m, n, k, a, aOff, lda, b, 0, ldb, c, cOff, ldc);
    }
  }

  /**
   * C = bf16(op(A) · B) for packed bf16 weights: the fp32 accumulation of {@link #gemmBf16Packed}
   * rounded once to bf16, nearest even, inside oneDNN's epilogue (C holds bf16 bit patterns).
   * Guarantee: C[i, j] = {@link ScalarLowPrecisionGemm#floatToBf16}(z) for an fp32 z that is
   * within {@link LowPrecisionGemm#reassociationBound} of the Java reference's fp32 result (the
   * fallback computes exactly that with z = the reference). Tested: equal bit for bit to the bf16
   * rounding of this backend's own fp32 result for the same call. Exception: z in fp32's subnormal
   * range may come back as ±0 (the conversion instruction, VCVTNEPS2BF16, flushes subnormals; not
   * exercised by the tests). Runs as the fp32-output matmul plus a native f32 → bf16 reorder.
   */
  public void gemmBf16PackedBf16Out(boolean transA, int m, short[] a, int aOff, int lda,
      PackedWeights w, short[] c, int cOff, int ldc) {
    checkType(w, dnnl_bf16, "bf16");
    int n = w.n, k = w.k;
    checkShape(m, n, k);
    if (!degenerate(m, n, k) && runPackedBf16ViaF32(transA, m, a, aOff, lda, w, c, cOff, ldc)) {
      return;
    }
    declinedCalls.incrementAndGet();
    rangeCheck(c.length, cOff, span(m, n, ldc), "C");
    float[] f = new float[m * n];
    lowFallback.gemmBf16(transA, w.transB, m, n, k, a, aOff, lda, w.toShorts(), 0, w.transB ? k : n, f, 0, n);
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) c[cOff + i * ldc + j] = ScalarLowPrecisionGemm.floatToBf16(f[i * n + j]);
    }
  }

  /**
   * bf16 output through the fp32-output matmul and a native f32 → bf16 reorder: oneDNN 3.11's
   * matmul with a bf16 destination ran slower here (1.25 vs 0.87 ms at 1024³, 2 threads) than the
   * fp32 one plus the conversion.
   */
  private boolean runPackedBf16ViaF32(boolean transA, int m, short[] a, int aOff, int lda,
      PackedWeights w, short[] c, int cOff, int ldc) {
    int n = w.n, k = w.k;
    long spanA = transA ? span(k, m, lda) : span(m, k, lda);
    rangeCheck(a.length, aOff, spanA, "A");
    rangeCheck(c.length, cOff, span(m, n, ldc), "C");
    OneDnn.MatmulKey key = key(dnnl_bf16, dnnl_bf16, dnnl_f32, transA, w.transB, m, n, k, lda);
    rt.lock.lock();
    try {
      OneDnn.Matmul mm = rt.matmul(key);
      if (mm == null) return false;
      OneDnn.Buffer ba = rt.buffer(0, 2 * spanA);
      OneDnn.Buffer bf = rt.buffer(2, 4L * m * n);
      OneDnn.Buffer bc = rt.buffer(3, 2L * m * n);
      copyInA(a, aOff, spanA, 2, ba);
      rt.executePacked(mm, ba.pointer(), w.forMatmul(rt, mm), bf.pointer());
      rt.convert(m, n, dnnl_f32, dnnl_bf16, bf.pointer(), bc.pointer());
      copyOut(bc, m, n, 2, c, c.length, cOff, ldc);
      nativeCalls.incrementAndGet();
      return true;
    } finally {
      rt.lock.unlock();
    }
  }

  /**
   * The requantizing int8 linear layer of {@link QuantizedLinear#linearU8S8} on packed s8 weights,
   * bit for bit: u8 A (m×k, row stride lda) with zero point {@code aZeroPoint}, output multiplier
   * {@code scale} (1 entry or n), output zero point, u8 or s8 ({@code signedOut}) result written to
   * {@code c}. Runs as one oneDNN matmul with run-time weight scales and src/dst zero points, so
   * only the m×n bytes come back; declined (Java reference) for k > {@value #MAX_K_U8S8} or when
   * the u8×s8 kernel failed its self-test.
   */
  public void linearU8S8Packed(int m, byte[] a, int aOff, int lda, int aZeroPoint, PackedWeights w,
      float[] scale, int outZeroPoint, boolean signedOut, byte[] c, int cOff, int ldc) {
    int n = w.n, k = w.k;
    checkType(w, dnnl_s8, "s8");
    QuantizedLinear.check(m, n, k, aZeroPoint, scale, outZeroPoint, signedOut);
    if (u8s8 && k <= MAX_K_U8S8 && !degenerate(m, n, k)
        && runQuantized(m, a, aOff, lda, aZeroPoint, w, scale, outZeroPoint, signedOut, c, cOff, ldc)) {
      return;
    }
    declinedCalls.incrementAndGet();
    QuantizedLinear.linearU8S8(m, n, k, a, aOff, lda, aZeroPoint, w.transB, w.toBytes(), 0,
        w.transB ? k : n, scale, outZeroPoint, signedOut, c, cOff, ldc);
  }

  private boolean runQuantized(int m, byte[] a, int aOff, int lda, int aZeroPoint, PackedWeights w,
      float[] scale, int outZeroPoint, boolean signedOut, byte[] c, int cOff, int ldc) {
    int n = w.n, k = w.k;
    long spanA = span(m, k, lda);
    rangeCheck(a.length, aOff, spanA, "A");
    rangeCheck(c.length, cOff, span(m, n, ldc), "C");
    boolean perColumn = scale.length != 1;
    int quant = (perColumn ? OneDnn.Q_SCALE_PER_COLUMN : OneDnn.Q_SCALE)
        | (aZeroPoint != 0 ? OneDnn.Q_SRC_ZP : 0) | (outZeroPoint != 0 ? OneDnn.Q_DST_ZP : 0);
    OneDnn.MatmulKey key = new OneDnn.MatmulKey(dnnl_u8, dnnl_s8, signedOut ? dnnl_s8 : dnnl_u8,
        m, n, k, lda, 1, w.transB ? 1 : n, w.transB ? k : 1, quant);
    rt.lock.lock();
    try {
      OneDnn.Matmul mm = rt.matmul(key);
      if (mm == null) return false;
      OneDnn.Buffer ba = rt.buffer(0, spanA);
      OneDnn.Buffer bc = rt.buffer(2, (long) m * n);
      OneDnn.Buffer bs = rt.buffer(3, 4L * scale.length);
      OneDnn.Buffer za = rt.buffer(4, 4);
      OneDnn.Buffer zc = rt.buffer(5, 4);
      MemorySegment.copy(scale, 0, bs.segment(), JAVA_FLOAT, 0, scale.length);
      za.segment().set(JAVA_INT, 0, aZeroPoint);
      zc.segment().set(JAVA_INT, 0, outZeroPoint);
      copyInA(a, aOff, spanA, 1, ba);
      rt.executeQuantized(mm, ba.pointer(), w.forMatmul(rt, mm), bc.pointer(), bs.pointer(),
          aZeroPoint != 0 ? za.pointer() : null, outZeroPoint != 0 ? zc.pointer() : null);
      copyOut(bc, m, n, 1, c, c.length, cOff, ldc);
      nativeCalls.incrementAndGet();
      return true;
    } finally {
      rt.lock.unlock();
    }
  }

  /** Runs op(A) · packed B natively into an s32 or f32 C; false when oneDNN has no implementation for the shape. */
  private boolean runPacked(int srcType, int dstType, int elemBytes, boolean transA, int m,
      Object a, int aLength, int aOff, int lda, PackedWeights w, Object c, int cLength, int cOff, int ldc) {
    int n = w.n, k = w.k;
    long spanA = transA ? span(k, m, lda) : span(m, k, lda);
    rangeCheck(aLength, aOff, spanA, "A");
    rangeCheck(cLength, cOff, span(m, n, ldc), "C");
    OneDnn.MatmulKey key = key(srcType, w.type, dstType, transA, w.transB, m, n, k, lda);
    rt.lock.lock();
    try {
      OneDnn.Matmul mm = rt.matmul(key);
      if (mm == null) return false;
      OneDnn.Buffer ba = rt.buffer(0, elemBytes * spanA);
      OneDnn.Buffer bc = rt.buffer(2, 4L * m * n);
      copyInA(a, aOff, spanA, elemBytes, ba);
      rt.executePacked(mm, ba.pointer(), w.forMatmul(rt, mm), bc.pointer());
      copyOut(bc, m, n, 4, c, cLength, cOff, ldc);
      nativeCalls.incrementAndGet();
      return true;
    } finally {
      rt.lock.unlock();
    }
  }

  private static void rangeCheck(int length, int off, long span, String what) {
    if (off < 0 || off + span > length) {
      throw new ArrayIndexOutOfBoundsException(what + " needs elements [" + off + ", "
          + (off + span) + ") but has " + length);
    }
  }

  // ---------------------------------------------------------------- int16 by int8 digits

  @Override
  public long gemmS16(
      boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, int[] c, int cOff, int ldc,
      boolean countOverflow) {
    checkShape(m, n, k);
    if (!degenerate(m, n, k) && worthNative(m, n, k) && s8s8 && u8s8 && k <= MAX_K_U8S8) {
      long[] overflows = new long[1];
      if (runS16(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, countOverflow, overflows)) {
        nativeCalls.incrementAndGet();
        return overflows[0];
      }
    }
    declinedCalls.incrementAndGet();
    return fallback.gemmS16(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, countOverflow);
  }

  private boolean runS16(boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, int[] c, int cOff, int ldc,
      boolean countOverflow, long[] overflows) {
    rangeCheck(a.length, aOff, transA ? span(k, m, lda) : span(m, k, lda), "A");
    rangeCheck(b.length, bOff, transB ? span(n, k, ldb) : span(k, n, ldb), "B");
    rangeCheck(c.length, cOff, span(m, n, ldc), "C");
    int n2 = 2 * n;
    OneDnn.MatmulKey hiKey = key(dnnl_s8, dnnl_s8, dnnl_s32, false, false, m, n2, k, k);
    OneDnn.MatmulKey loKey = key(dnnl_u8, dnnl_s8, dnnl_s32, false, false, m, n2, k, k);
    rt.lock.lock();
    try {
      OneDnn.Matmul hi = rt.matmul(hiKey);
      OneDnn.Matmul lo = rt.matmul(loKey);
      if (hi == null || lo == null) return false;
      OneDnn.Buffer ah = rt.buffer(0, (long) m * k);
      OneDnn.Buffer al = rt.buffer(3, (long) m * k);
      OneDnn.Buffer bd = rt.buffer(1, (long) k * n2);
      OneDnn.Buffer ph = rt.buffer(2, 4L * m * n2);
      OneDnn.Buffer pl = rt.buffer(4, 4L * m * n2);
      long[] rowSum = splitA(transA, m, k, a, aOff, lda, ah.segment(), al.segment());
      splitB(transB, k, n, b, bOff, ldb, bd.segment());
      // both digit GEMMs share B: reorder it once when they want the same layout
      Pointer packedB = bd.pointer();
      boolean shared = hi.reorder != null && dnnl_memory_desc_equal(hi.wei, lo.wei) != 0;
      if (shared) {
        packedB = rt.buffer(5, hi.weiBytes).pointer();
        rt.pack(hi, bd.pointer(), packedB);
        rt.executePacked(hi, ah.pointer(), packedB, ph.pointer());
        rt.executePacked(lo, al.pointer(), packedB, pl.pointer());
      } else {
        rt.execute(hi, ah.pointer(), bd.pointer(), ph.pointer());
        rt.execute(lo, al.pointer(), bd.pointer(), pl.pointer());
      }
      overflows[0] = combine(m, n, ph.segment(), pl.segment(), rowSum, c, cOff, ldc, countOverflow);
      return true;
    } finally {
      rt.lock.unlock();
    }
  }

  /** A's digits, row-major m×k: high (signed) byte and low (unsigned) byte; returns row sums of A. */
  private long[] splitA(boolean transA, int m, int k, short[] a, int aOff, int lda,
      MemorySegment hi, MemorySegment lo) {
    long[] rowSum = new long[m];
    rt.parallelFor(m, 2L * m * k, (i0, i1) -> {
      byte[] h = new byte[k];
      byte[] l = new byte[k];
      for (int i = i0; i < i1; i++) {
        long s = 0;
        for (int p = 0; p < k; p++) {
          int v = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
          h[p] = (byte) (v >> 8);
          l[p] = (byte) v;
          s += v;
        }
        rowSum[i] = s;
        MemorySegment.copy(h, 0, hi, JAVA_BYTE, (long) i * k, k);
        MemorySegment.copy(l, 0, lo, JAVA_BYTE, (long) i * k, k);
      }
    });
    return rowSum;
  }

  /** B's digits side by side, row-major k×2n: [B_h | B_l − 128], both signed. */
  private void splitB(boolean transB, int k, int n, short[] b, int bOff, int ldb, MemorySegment dst) {
    rt.parallelFor(k, 2L * k * n, (p0, p1) -> {
      byte[] row = new byte[2 * n];
      for (int p = p0; p < p1; p++) {
        for (int j = 0; j < n; j++) {
          int v = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
          row[j] = (byte) (v >> 8);
          row[n + j] = (byte) ((v & 0xFF) - 128);
        }
        MemorySegment.copy(row, 0, dst, JAVA_BYTE, (long) p * 2 * n, 2 * n);
      }
    });
  }

  private long combine(int m, int n, MemorySegment ph, MemorySegment pl, long[] rowSum,
      int[] c, int cOff, int ldc, boolean countOverflow) {
    AtomicLong overflows = new AtomicLong();
    int n2 = 2 * n;
    rt.parallelFor(m, 16L * m * n, (i0, i1) -> {
      long over = 0;
      int[] hiRow = new int[n2];
      int[] loRow = new int[n2];
      for (int i = i0; i < i1; i++) {
        MemorySegment.copy(ph, JAVA_INT, 4L * i * n2, hiRow, 0, n2);
        MemorySegment.copy(pl, JAVA_INT, 4L * i * n2, loRow, 0, n2);
        long bias = 128 * rowSum[i];
        int base = cOff + i * ldc;
        for (int j = 0; j < n; j++) {
          long v = ((long) hiRow[j] << 16) + (((long) hiRow[n + j] + loRow[j]) << 8) + loRow[n + j] + bias;
          int w = (int) v;
          if (countOverflow && v != w) over++;
          c[base + j] = w;
        }
      }
      overflows.addAndGet(over);
    });
    return overflows.get();
  }

  // ---------------------------------------------------------------- narrow floats → fp32

  @Override
  public void gemmBf16(
      boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
    checkShape(m, n, k);
    if (!degenerate(m, n, k) && runFloat16(dnnl_bf16, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc)) {
      nativeCalls.incrementAndGet();
      return;
    }
    declinedCalls.incrementAndGet();
    lowFallback.gemmBf16(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
  }

  @Override
  public void gemmF16(
      boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
    checkShape(m, n, k);
    if (!degenerate(m, n, k) && runFloat16(dnnl_f16, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc)) {
      nativeCalls.incrementAndGet();
      return;
    }
    declinedCalls.incrementAndGet();
    lowFallback.gemmF16(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
  }

  @Override
  public void gemmF8(
      Fp8 aFormat, Fp8 bFormat, boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
    checkShape(m, n, k);
    if (aFormat == null || bFormat == null) {
      throw new IllegalArgumentException(
          "FP8 formats must be E4M3 or E5M2, got a=" + aFormat + " b=" + bFormat);
    }
    if (!degenerate(m, n, k) && runFp8(aFormat, bFormat, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc)) {
      nativeCalls.incrementAndGet();
      return;
    }
    declinedCalls.incrementAndGet();
    lowFallback.gemmF8(aFormat, bFormat, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
  }

  private static int type(Fp8 f) {
    return f == Fp8.E4M3 ? dnnl_f8_e4m3 : dnnl_f8_e5m2;
  }

  private boolean runFloat16(int type, boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
    OneDnn.MatmulKey key = key(type, type, dnnl_f32, transA, transB, m, n, k, lda);
    long spanA = transA ? span(k, m, lda) : span(m, k, lda);
    long spanB = transB ? span(n, k, ldb) : span(k, n, ldb);
    rangeCheck(a.length, aOff, spanA, "A");
    rangeCheck(b.length, bOff, spanB, "B");
    rt.lock.lock();
    try {
      OneDnn.Matmul mm = rt.matmul(key);
      if (mm == null) return false;
      OneDnn.Buffer ba = rt.buffer(0, 2 * spanA);
      OneDnn.Buffer bb = rt.buffer(1, 2L * k * n);
      OneDnn.Buffer bc = rt.buffer(2, 4L * m * n);
      copyInA(a, aOff, spanA, 2, ba);
      copyIn(b, bOff, ldb, transB ? n : k, transB ? k : n, 2, bb);
      rt.execute(mm, ba.pointer(), bb.pointer(), bc.pointer());
      copyOut(bc, m, n, c, c.length, cOff, ldc);
      return true;
    } finally {
      rt.lock.unlock();
    }
  }

  private boolean runFp8(Fp8 af, Fp8 bf, boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
    OneDnn.MatmulKey key = key(type(af), type(bf), dnnl_f32, transA, transB, m, n, k, compactA(transA, k, lda));
    return runByteOperands(key, transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb,
        bc -> copyOut(bc, m, n, c, c.length, cOff, ldc));
  }

  /**
   * One matmul on byte operands (int8 or FP8) with a 4-byte-per-element result, which
   * {@code copyOut} moves into the caller's array; false when oneDNN has no implementation.
   */
  private boolean runByteOperands(OneDnn.MatmulKey key, boolean transA, boolean transB, int m, int n,
      int k, byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb,
      java.util.function.Consumer<OneDnn.Buffer> copyOut) {
    long spanA = transA ? span(k, m, lda) : span(m, k, lda);
    long spanB = transB ? span(n, k, ldb) : span(k, n, ldb);
    rangeCheck(a.length, aOff, spanA, "A");
    rangeCheck(b.length, bOff, spanB, "B");
    rt.lock.lock();
    try {
      OneDnn.Matmul mm = rt.matmul(key);
      if (mm == null) return false;
      boolean compact = compactA(transA, k, lda) != lda;
      OneDnn.Buffer ba = rt.buffer(0, compact ? (long) m * k : spanA);
      OneDnn.Buffer bb = rt.buffer(1, (long) k * n);
      OneDnn.Buffer bc = rt.buffer(2, 4L * m * n);
      if (compact) {
        copyIn(a, aOff, lda, m, k, 1, ba);
      } else {
        copyInA(a, aOff, spanA, 1, ba);
      }
      copyIn(b, bOff, ldb, transB ? n : k, transB ? k : n, 1, bb);
      rt.execute(mm, ba.pointer(), bb.pointer(), bc.pointer());
      copyOut.accept(bc);
      return true;
    } finally {
      rt.lock.unlock();
    }
  }

  /** The implementation oneDNN picked for an int8 GEMM of this shape (for logs and benchmarks). */
  public String implementation(boolean unsignedA, boolean transA, boolean transB, int m, int n, int k, int lda, int ldb) {
    rt.lock.lock();
    try {
      OneDnn.Matmul mm = rt.matmul(key(unsignedA ? dnnl_u8 : dnnl_s8, dnnl_s8, dnnl_s32, transA, transB, m, n, k, lda));
      return mm == null ? "none" : mm.impl;
    } finally {
      rt.lock.unlock();
    }
  }
}
