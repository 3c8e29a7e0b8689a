package dev.lowbit.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast pure-Java {@link Gemm}: packed panels, cache blocking and a register-tiled micro-kernel
 * on Vector API FMA (after Goto and van de Geijn, "Anatomy of High-Performance Matrix
 * Multiplication", 2008, and the BLIS loop structure), multithreaded over output tiles.
 *
 * <p>The integer kernels are exact without integer multiplies: int8 operands are packed as floats
 * and multiplied on the fp32 FMA pipe in depth chunks of at most {@value #KC} (every partial sum
 * stays below 2^24, so float arithmetic is exact), chunk sums are added in int32 (wrapping, as
 * the contract says); int16 operands are packed as doubles (products below 2^30, sums below 2^53
 * for any depth up to 2^23), so the true sum is known and overflow counting is free.
 *
 * <p>Work is split statically by output rows or columns, never by depth, and every output element
 * is computed by the same sequence of operations whatever the split: results do not depend on the
 * thread count (integer results are also independent of the vector width).
 */
public final class VectorGemm implements Gemm {

  /** Rows of the register tile; columns are two vectors. */
  static final int MR = 8;
  /** Depth block: B micro-panel (KC x 2 vectors) stays in L1, and int8 chunk sums stay exact. */
  static final int KC = 256;
  /** Rows of A packed per block (kept in L2). */
  static final int MC = 256;
  /** Columns of B packed per block. */
  static final int NC = 4096;
  /** Rows and columns of the int16 double-sum block kept in L2 (128 · 512 · 8 bytes = 512 KiB). */
  static final int MC_D = 128;
  static final int NC_D = 512;
  /** Largest int16 B panel packed for all depths at once, in doubles (32 MiB). */
  static final long B_PACK_ONCE_MAX = 1L << 22;
  /** Below this many multiply-adds, handing work to another thread costs more than it saves. */
  static final long PARALLEL_MIN_MACS = 1L << 20;
  /** Deepest int16 product whose double sum is still exact: 2^23 · 2^30 = 2^53. */
  static final int S16_MAX_EXACT_K = 1 << 23;

  // One micro-kernel per width, each on a static final species: C2 intrinsifies Vector API calls
  // only when the species is a compile-time constant (with the species as a parameter the kernel
  // ran 60x slower, every vector boxed). The copies differ only in the constant; they are written
  // by GenerateKernels from one template (docs/kernels.md).
  private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
  private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> F128 = FloatVector.SPECIES_128;
  private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
  private static final VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
  private static final VectorSpecies<Integer> I128 = IntVector.SPECIES_128;
  private static final VectorSpecies<Double> D512 = DoubleVector.SPECIES_512;
  private static final VectorSpecies<Double> D256 = DoubleVector.SPECIES_256;
  private static final VectorSpecies<Double> D128 = DoubleVector.SPECIES_128;

  private static final int F_STORE = 0;
  private static final int I_STORE = 1;
  private static final int I_ADD = 2;

  private final int bits;
  private final int threads;
  private final int nrF;
  private final int nrD;

  /**
   * A GEMM on vectors of {@code species}' width (128, 256 or 512 bits) using up to {@code threads}
   * threads.
   *
   * @throws IllegalArgumentException when threads is below 1 or the species is narrower than 128
   *     bits
   */
  public VectorGemm(VectorSpecies<Float> species, int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    int b = species.vectorBitSize();
    if (b != 128 && b != 256 && b != 512) {
      throw new IllegalArgumentException(
          "vector species must be 128, 256 or 512 bits wide, got " + b);
    }
    this.bits = b;
    this.threads = threads;
    this.nrF = 2 * (b / 32);
    this.nrD = 2 * (b / 64);
  }

  /** A GEMM on vectors of the given width in bits (128, 256 or 512). */
  public static VectorGemm ofBits(int bits, int threads) {
    VectorShape shape =
        switch (bits) {
          case 128 -> VectorShape.S_128_BIT;
          case 256 -> VectorShape.S_256_BIT;
          case 512 -> VectorShape.S_512_BIT;
          default ->
              throw new IllegalArgumentException(
                  "vector width must be 128, 256 or 512 bits, got " + bits);
        };
    return new VectorGemm(VectorSpecies.of(float.class, shape), threads);
  }

  /** Width in bits of the JVM's preferred float vector species (what C2 emits best here). */
  public static int preferredBits() {
    return FloatVector.SPECIES_PREFERRED.vectorBitSize();
  }

  /** Vector width in bits. */
  public int vectorBits() {
    return bits;
  }

  /** The most threads one call uses. */
  public int threads() {
    return threads;
  }

  @Override
  public String name() {
    return "vector-" + bits + "x" + threads;
  }

  @Override
  public String toString() {
    return name();
  }

  // ---------------------------------------------------------------- public kernels

  @Override
  public void sgemm(
      boolean transA, boolean transB, int m, int n, int k,
      float alpha, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
      float beta, float[] c, int cOff, int ldc) {
    ScalarGemm.checkShape(m, n, k);
    if (m == 0 || n == 0) return;
    if (k == 0) { // nothing to multiply: the reference's beta/alpha handling of an empty sum
      ScalarGemm.INSTANCE.sgemm(transA, transB, m, n, 0, alpha, a, aOff, lda, b, bOff, ldb,
          beta, c, cOff, ldc);
      return;
    }
    checkLd(transA, transB, m, n, k, lda, ldb, ldc);
    Src sa = new Src(a, aOff, lda, transA, Src.F32);
    Src sb = new Src(b, bOff, ldb, !transB, Src.F32);
    parallel(m, n, k, nrF, (i0, i1, j0, j1) -> {
      blockedF(sa, sb, i0, i1, j0, j1, k, c, null, cOff, ldc, alpha, beta, false);
      return 0;
    });
  }

  @Override
  public void gemmS8S8(
      boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
    int8(transA, transB, m, n, k, a, aOff, lda, false, b, bOff, ldb, c, cOff, ldc);
  }

  @Override
  public void gemmU8S8(
      boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, byte[] b, int bOff, int ldb, int[] c, int cOff, int ldc) {
    int8(transA, transB, m, n, k, a, aOff, lda, true, b, bOff, ldb, c, cOff, ldc);
  }

  private void int8(
      boolean transA, boolean transB, int m, int n, int k,
      byte[] a, int aOff, int lda, boolean unsignedA, byte[] b, int bOff, int ldb,
      int[] c, int cOff, int ldc) {
    ScalarGemm.checkShape(m, n, k);
    if (m == 0 || n == 0) return;
    if (k == 0) {
      zero(c, cOff, ldc, m, n);
      return;
    }
    checkLd(transA, transB, m, n, k, lda, ldb, ldc);
    // |u8 · s8| <= 255·128 < 2^15 and KC = 256 = 2^8: chunk sums stay below 2^23, exact in fp32.
    Src sa = new Src(a, aOff, lda, transA, unsignedA ? Src.U8 : Src.S8);
    Src sb = new Src(b, bOff, ldb, !transB, Src.S8);
    parallel(m, n, k, nrF, (i0, i1, j0, j1) -> {
      blockedF(sa, sb, i0, i1, j0, j1, k, null, c, cOff, ldc, 1f, 0f, true);
      return 0;
    });
  }

  @Override
  public long gemmS16(
      boolean transA, boolean transB, int m, int n, int k,
      short[] a, int aOff, int lda, short[] b, int bOff, int ldb, int[] c, int cOff, int ldc,
      boolean countOverflow) {
    ScalarGemm.checkShape(m, n, k);
    if (m == 0 || n == 0) return 0;
    if (k == 0) {
      zero(c, cOff, ldc, m, n);
      return 0;
    }
    if (k > S16_MAX_EXACT_K) { // a double sum would no longer be exact; never seen in practice
      return ScalarGemm.INSTANCE.gemmS16(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb,
          c, cOff, ldc, countOverflow);
    }
    checkLd(transA, transB, m, n, k, lda, ldb, ldc);
    Src sa = new Src(a, aOff, lda, transA, Src.S16);
    Src sb = new Src(b, bOff, ldb, !transB, Src.S16);
    long over = parallel(m, n, k, nrD, (i0, i1, j0, j1) ->
        blockedD(sa, sb, i0, i1, j0, j1, k, c, cOff, ldc, countOverflow));
    return countOverflow ? over : 0;
  }

  // ---------------------------------------------------------------- checks

  private static void checkLd(
      boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc) {
    int needA = transA ? m : k;
    int needB = transB ? k : n;
    if (lda < needA) {
      throw new IllegalArgumentException(
          "lda=" + lda + " is smaller than a row of " + (transA ? "A (m=" : "A (k=") + needA
              + "); lda must be >= " + needA);
    }
    if (ldb < needB) {
      throw new IllegalArgumentException(
          "ldb=" + ldb + " is smaller than a row of " + (transB ? "B (k=" : "B (n=") + needB
              + "); ldb must be >= " + needB);
    }
    if (ldc < n) {
      throw new IllegalArgumentException(
          "ldc=" + ldc + " is smaller than a row of C (n=" + n + "); ldc must be >= " + n);
    }
  }

  private static void zero(int[] c, int cOff, int ldc, int m, int n) {
    for (int i = 0; i < m; i++) {
      java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0);
    }
  }

  // ---------------------------------------------------------------- threading

  @FunctionalInterface
  private interface RangeTask {
    long run(int i0, int i1, int j0, int j1);
  }

  /**
   * Daemon threads shared by all instances, for calls that cannot have the polling {@link Workers}
   * team (another caller holds it, or the call comes from one of its parts); the calling thread
   * always runs one part itself.
   */
  private static final class Pool {
    static final ExecutorService EXEC =
        Executors.newFixedThreadPool(
            Math.max(1, Runtime.getRuntime().availableProcessors()),
            r -> {
              Thread t = new Thread(r, "lowbit-gemm");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Splits C into at most {@code threads} contiguous row (or column) ranges aligned to the
   * register tile and sums the parts' results. The split depends only on the shape and the
   * thread count, never on timing.
   */
  private long parallel(int m, int n, int k, int nr, RangeTask task) {
    long macs = (long) m * n * k;
    int rowPanels = (m + MR - 1) / MR;
    int colPanels = (n + nr - 1) / nr;
    int parts = threads;
    if (parts <= 1 || macs < PARALLEL_MIN_MACS || Math.max(rowPanels, colPanels) < 2) {
      return task.run(0, m, 0, n);
    }
    boolean byRows = splitByRows(m, n, k, nr, rowPanels, colPanels, parts);
    int panels = byRows ? rowPanels : colPanels;
    int unit = byRows ? MR : nr;
    parts = Math.min(parts, panels);
    int per = (panels + parts - 1) / parts;
    int extent = byRows ? m : n;
    final int nParts = parts, perUnits = per * unit;
    long[] sum = {0};
    if (Workers.tryInvoke(nParts, t -> {
      int lo = Math.min(extent, t * perUnits), hi = Math.min(extent, (t + 1) * perUnits);
      if (lo >= hi) return 0;
      return byRows ? task.run(lo, hi, 0, n) : task.run(0, m, lo, hi);
    }, sum)) {
      return sum[0];
    }
    // the team is busy (another caller) or this is one of its parts: the executor's threads
    List<Future<Long>> futures = new ArrayList<>(parts - 1);
    long total = 0;
    RuntimeException failure = null;
    // parts 1..parts-1 go to the pool, part 0 runs here
    for (int t = 1; t < parts; t++) {
      int lo = Math.min(extent, t * per * unit);
      int hi = Math.min(extent, (t + 1) * per * unit);
      if (lo >= hi) break;
      futures.add(Pool.EXEC.submit(() -> byRows ? task.run(lo, hi, 0, n) : task.run(0, m, lo, hi)));
    }
    int hi0 = Math.min(extent, per * unit);
    try {
      total += byRows ? task.run(0, hi0, 0, n) : task.run(0, m, 0, hi0);
    } catch (RuntimeException e) {
      failure = e;
    }
    boolean interrupted = false;
    for (Future<Long> f : futures) {
      while (true) {
        try {
          total += f.get();
          break;
        } catch (InterruptedException e) {
          interrupted = true; // finish waiting: the workers write into the caller's arrays
        } catch (ExecutionException e) {
          if (failure == null) {
            failure = e.getCause() instanceof RuntimeException re ? re
                : new IllegalStateException("GEMM worker failed", e.getCause());
          }
          break;
        }
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
    if (failure != null) throw failure;
    return total;
  }

  /**
   * Whether to split C by rows rather than columns: each part packs its own share of the split
   * operand and all of the other, so the split that packs fewer elements in total wins (a row
   * split of a wide product, e.g. a convolution's 32 × 100,352 forward, had every thread pack all
   * of B and took longer packing than multiplying). Either split computes every element alike.
   */
  static boolean splitByRows(int m, int n, int k, int nr, int rowPanels, int colPanels, int parts) {
    if (rowPanels < parts || colPanels < parts) {
      return rowPanels >= parts || (colPanels < parts && rowPanels >= colPanels);
    }
    long nPad = (long) colPanels * nr, mPad = (long) rowPanels * MR;
    // A is packed again for every NC-wide column block of a part
    long rowsCost = nPad * k + (mPad / parts) * k * ((nPad + NC - 1) / NC);
    long colsCost = (nPad / parts) * k + mPad * k * ((nPad / parts + NC - 1) / NC);
    return rowsCost <= colsCost;
  }

  // ---------------------------------------------------------------- scratch and packing

  /** Per-thread packing buffers, grown on demand and reused across calls. */
  private static final class Scratch {
    float[] af = new float[0];
    float[] bf = new float[0];
    float[] tileF = new float[0];
    float[] rowsF = new float[0];
    double[] ad = new double[0];
    double[] bd = new double[0];
    double[] tileD = new double[0];
    double[] cd = new double[0];
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private static float[] grow(float[] x, int size) {
    return x.length >= size ? x : new float[size];
  }

  private static double[] grow(double[] x, int size) {
    return x.length >= size ? x : new double[size];
  }

  /**
   * One operand seen as a matrix X(i, p) to be packed into panels of w consecutive i by kc
   * consecutive p: X(i, p) = arr[off + i·ld + p], or arr[off + p·ld + i] when {@code strided}.
   * For A, i is the row of op(A); for B, i is the column of op(B) (so strided = !transB).
   */
  private record Src(Object arr, int off, int ld, boolean strided, int kind) {
    static final int F32 = 0;
    static final int S8 = 1;
    static final int U8 = 2;
    static final int S16 = 3;

    /**
     * Packs X(i0 .. i0+len, p0 .. p0+kc) as panels dst[(panel·kc + p)·w + r], zero-padded; rows
     * are transposed on vectors of {@code bits} bits, int8 rows after widening into {@code tmp}
     * (at least w·kc floats).
     */
    void packF(float[] dst, int i0, int len, int p0, int kc, int w, int bits, float[] tmp) {
      for (int i = 0, base = 0; i < len; i += w, base += kc * w) {
        int rows = Math.min(w, len - i);
        if (rows < w) {
          // One fill for the whole padded panel (the rows are overwritten below): a fill per
          // depth step cost more than the copying for narrow operands.
          java.util.Arrays.fill(dst, base, base + kc * w, 0f);
        }
        if (!strided) {
          // the transposing case: a scalar loop storing with stride w took a quarter of CNN
          // training time, so whole row groups go through vector transposes first (int8 rows
          // widened to floats in tmp first, a loop C2 vectorizes)
          int r0;
          if (kind == F32) {
            r0 = transposeF(
                (float[]) arr, off + (i0 + i) * ld + p0, ld, dst, base, rows, kc, w, bits);
          } else {
            byte[] x = (byte[]) arr;
            for (int r = 0; r < rows; r++) {
              int s = off + (i0 + i + r) * ld + p0;
              int t = r * kc;
              if (kind == S8) {
                for (int p = 0; p < kc; p++) tmp[t + p] = x[s + p];
              } else {
                for (int p = 0; p < kc; p++) tmp[t + p] = x[s + p] & 0xFF;
              }
            }
            r0 = transposeF(tmp, 0, kc, dst, base, rows, kc, w, bits);
          }
          for (int r = r0; r < rows; r++) {
            int s = off + (i0 + i + r) * ld + p0;
            int d = base + r;
            switch (kind) {
              case F32 -> {
                float[] x = (float[]) arr;
                for (int p = 0; p < kc; p++, d += w) dst[d] = x[s + p];
              }
              case S8 -> {
                byte[] x = (byte[]) arr;
                for (int p = 0; p < kc; p++, d += w) dst[d] = x[s + p];
              }
              default -> {
                byte[] x = (byte[]) arr;
                for (int p = 0; p < kc; p++, d += w) dst[d] = x[s + p] & 0xFF;
              }
            }
          }
        } else {
          for (int p = 0; p < kc; p++) {
            int s = off + (p0 + p) * ld + i0 + i;
            int d = base + p * w;
            switch (kind) {
              case F32 -> System.arraycopy((float[]) arr, s, dst, d, rows);
              case S8 -> {
                byte[] x = (byte[]) arr;
                for (int r = 0; r < rows; r++) dst[d + r] = x[s + r];
              }
              default -> {
                byte[] x = (byte[]) arr;
                for (int r = 0; r < rows; r++) dst[d + r] = x[s + r] & 0xFF;
              }
            }
          }
        }
      }
    }

    /** As {@link #packF} for int16 operands packed as doubles. */
    void packD(double[] dst, int dOff, int i0, int len, int p0, int kc, int w) {
      short[] x = (short[]) arr;
      for (int i = 0, base = dOff; i < len; i += w, base += kc * w) {
        int rows = Math.min(w, len - i);
        if (!strided) {
          for (int r = 0; r < rows; r++) {
            int s = off + (i0 + i + r) * ld + p0;
            int d = base + r;
            for (int p = 0; p < kc; p++, d += w) dst[d] = x[s + p];
          }
        } else {
          for (int p = 0; p < kc; p++) {
            int s = off + (p0 + p) * ld + i0 + i;
            int d = base + p * w;
            for (int r = 0; r < rows; r++) dst[d + r] = x[s + r];
          }
        }
        if (rows < w) {
          for (int p = 0; p < kc; p++) {
            java.util.Arrays.fill(dst, base + p * w + rows, base + (p + 1) * w, 0d);
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- transposing pack

  // Interleaving index vectors for selectFrom(a, b) (lane l of b is index lanes + l): LO = a0 b0
  // a1 b1 .. of the low halves, HI of the high halves. One such "perfect shuffle" of the pairs
  // (v[j], v[j + n/2]) rotates the bits of an element's (vector, lane) address by one, so
  // log2(lanes) of them transpose a square block (8 rows x 16 of width 512: three). After Stone,
  // "Parallel Processing with the Perfect Shuffle", IEEE Trans. Computers, 1971.
  private static final FloatVector LO512 = shuffleIndex(F512, 0);
  private static final FloatVector HI512 = shuffleIndex(F512, 1);
  private static final FloatVector LO256 = shuffleIndex(F256, 0);
  private static final FloatVector HI256 = shuffleIndex(F256, 1);
  private static final FloatVector LO128 = shuffleIndex(F128, 0);
  private static final FloatVector HI128 = shuffleIndex(F128, 1);

  private static FloatVector shuffleIndex(VectorSpecies<Float> sp, int half) {
    int n = sp.length();
    float[] ix = new float[n];
    for (int q = 0; q < n; q++) ix[q] = (q & 1) * n + half * (n / 2) + (q >> 1);
    return FloatVector.fromArray(sp, ix, 0);
  }

  /**
   * Packs dst[d + p·w + r] = x[s + r·ld + p] for p below kc and as many of the first
   * {@code rows} r as whole vector blocks (or, at 512 bits, a masked gather) cover; returns how
   * many rows that was (the caller packs the rest with scalars). Pure data movement: the panel is
   * the same whichever path wrote it, so results do not depend on it.
   */
  private static int transposeF(
      float[] x, int s, int ld, float[] dst, int d, int rows, int kc, int w, int bits) {
    switch (bits) {
      case 512 -> {
        if (w % 16 == 0) {
          // 16 rows per gather, one contiguous store per depth: on this CPU (AVX-512) faster
          // than 16 x 16 shuffle transposes for the 32-wide B panels
          int n = rows / 16 * 16;
          int[] idx = new int[16];
          for (int r = 0; r < 16; r++) idx[r] = r * ld;
          for (int h = 0; h < n; h += 16) gather512(x, s + h * ld, idx, 16, dst, d + h, kc, w);
          if (n < rows) {
            // the last rows of a partial panel (a convolution's 9 filter taps in a 32-wide
            // panel): a masked gather whose idle lanes read nothing and store the padding zeros
            int left = rows - n;
            for (int r = left; r < 16; r++) idx[r] = 0;
            gather512(x, s + n * ld, idx, left, dst, d + n, kc, w);
          }
          return rows;
        }
        if (w == 8 && rows == 8) {
          transpose8x16(x, s, ld, dst, d, kc);
          return 8;
        }
      }
      case 256 -> {
        if (w % 8 == 0) {
          int n = rows / 8 * 8;
          for (int h = 0; h < n; h += 8) transpose8x8(x, s + h * ld, ld, dst, d + h, kc, w);
          return n;
        }
      }
      case 128 -> {
        if (w % 4 == 0) {
          int n = rows / 4 * 4;
          for (int h = 0; h < n; h += 4) transpose4x4(x, s + h * ld, ld, dst, d + h, kc, w);
          return n;
        }
      }
      default -> { }
    }
    return 0;
  }

  /**
   * dst[d + p·w + r] = x[s + idx[r] + p] for r below {@code rows} (at most 16), zeros for the
   * other lanes, by one gather per depth step. Full and partial panels share this one masked
   * loop, so the first partial panel runs compiled code (a separate method stayed in C1, 20x
   * slower, for the first hundred or so small products).
   */
  private static void gather512(
      float[] x, int s, int[] idx, int rows, float[] dst, int d, int kc, int w) {
    VectorMask<Float> m = F512.indexInRange(0, rows);
    for (int p = 0; p < kc; p++, d += w) {
      FloatVector.fromArray(F512, x, s + p, idx, 0, m).intoArray(dst, d);
    }
  }

  /** 8 rows into a panel 8 wide: blocks of 16 depths become 8 vectors of (2 depths x 8 rows). */
  private static void transpose8x16(float[] x, int s, int ld, float[] dst, int d, int kc) {
    FloatVector lo = LO512;
    FloatVector hi = HI512;
    int pb = 0;
    for (; pb + 16 <= kc; pb += 16) {
      int q = s + pb;
      FloatVector v0 = FloatVector.fromArray(F512, x, q);
      FloatVector v1 = FloatVector.fromArray(F512, x, q + ld);
      FloatVector v2 = FloatVector.fromArray(F512, x, q + 2 * ld);
      FloatVector v3 = FloatVector.fromArray(F512, x, q + 3 * ld);
      FloatVector v4 = FloatVector.fromArray(F512, x, q + 4 * ld);
      FloatVector v5 = FloatVector.fromArray(F512, x, q + 5 * ld);
      FloatVector v6 = FloatVector.fromArray(F512, x, q + 6 * ld);
      FloatVector v7 = FloatVector.fromArray(F512, x, q + 7 * ld);
      for (int st = 0; st < 3; st++) {
        FloatVector n0 = lo.selectFrom(v0, v4);
        FloatVector n1 = hi.selectFrom(v0, v4);
        FloatVector n2 = lo.selectFrom(v1, v5);
        FloatVector n3 = hi.selectFrom(v1, v5);
        FloatVector n4 = lo.selectFrom(v2, v6);
        FloatVector n5 = hi.selectFrom(v2, v6);
        FloatVector n6 = lo.selectFrom(v3, v7);
        FloatVector n7 = hi.selectFrom(v3, v7);
        v0 = n0; v1 = n1; v2 = n2; v3 = n3; v4 = n4; v5 = n5; v6 = n6; v7 = n7;
      }
      int e = d + pb * 8;
      v0.intoArray(dst, e);
      v1.intoArray(dst, e + 16);
      v2.intoArray(dst, e + 32);
      v3.intoArray(dst, e + 48);
      v4.intoArray(dst, e + 64);
      v5.intoArray(dst, e + 80);
      v6.intoArray(dst, e + 96);
      v7.intoArray(dst, e + 112);
    }
    transposeTail(x, s, ld, dst, d, 8, pb, kc, 8);
  }

  /** 8 rows on 256-bit vectors: 8 x 8 blocks. */
  private static void transpose8x8(float[] x, int s, int ld, float[] dst, int d, int kc, int w) {
    FloatVector lo = LO256;
    FloatVector hi = HI256;
    int pb = 0;
    for (; pb + 8 <= kc; pb += 8) {
      int q = s + pb;
      FloatVector v0 = FloatVector.fromArray(F256, x, q);
      FloatVector v1 = FloatVector.fromArray(F256, x, q + ld);
      FloatVector v2 = FloatVector.fromArray(F256, x, q + 2 * ld);
      FloatVector v3 = FloatVector.fromArray(F256, x, q + 3 * ld);
      FloatVector v4 = FloatVector.fromArray(F256, x, q + 4 * ld);
      FloatVector v5 = FloatVector.fromArray(F256, x, q + 5 * ld);
      FloatVector v6 = FloatVector.fromArray(F256, x, q + 6 * ld);
      FloatVector v7 = FloatVector.fromArray(F256, x, q + 7 * ld);
      for (int st = 0; st < 3; st++) {
        FloatVector n0 = lo.selectFrom(v0, v4);
        FloatVector n1 = hi.selectFrom(v0, v4);
        FloatVector n2 = lo.selectFrom(v1, v5);
        FloatVector n3 = hi.selectFrom(v1, v5);
        FloatVector n4 = lo.selectFrom(v2, v6);
        FloatVector n5 = hi.selectFrom(v2, v6);
        FloatVector n6 = lo.selectFrom(v3, v7);
        FloatVector n7 = hi.selectFrom(v3, v7);
        v0 = n0; v1 = n1; v2 = n2; v3 = n3; v4 = n4; v5 = n5; v6 = n6; v7 = n7;
      }
      int e = d + pb * w;
      v0.intoArray(dst, e);
      v1.intoArray(dst, e + w);
      v2.intoArray(dst, e + 2 * w);
      v3.intoArray(dst, e + 3 * w);
      v4.intoArray(dst, e + 4 * w);
      v5.intoArray(dst, e + 5 * w);
      v6.intoArray(dst, e + 6 * w);
      v7.intoArray(dst, e + 7 * w);
    }
    transposeTail(x, s, ld, dst, d, 8, pb, kc, w);
  }

  /** 4 rows on 128-bit vectors: 4 x 4 blocks. */
  private static void transpose4x4(float[] x, int s, int ld, float[] dst, int d, int kc, int w) {
    FloatVector lo = LO128;
    FloatVector hi = HI128;
    int pb = 0;
    for (; pb + 4 <= kc; pb += 4) {
      int q = s + pb;
      FloatVector v0 = FloatVector.fromArray(F128, x, q);
      FloatVector v1 = FloatVector.fromArray(F128, x, q + ld);
      FloatVector v2 = FloatVector.fromArray(F128, x, q + 2 * ld);
      FloatVector v3 = FloatVector.fromArray(F128, x, q + 3 * ld);
      for (int st = 0; st < 2; st++) {
        FloatVector n0 = lo.selectFrom(v0, v2);
        FloatVector n1 = hi.selectFrom(v0, v2);
        FloatVector n2 = lo.selectFrom(v1, v3);
        FloatVector n3 = hi.selectFrom(v1, v3);
        v0 = n0; v1 = n1; v2 = n2; v3 = n3;
      }
      int e = d + pb * w;
      v0.intoArray(dst, e);
      v1.intoArray(dst, e + w);
      v2.intoArray(dst, e + 2 * w);
      v3.intoArray(dst, e + 3 * w);
    }
    transposeTail(x, s, ld, dst, d, 4, pb, kc, w);
  }

  /** The depths from p0 that whole blocks left over, row by row. */
  private static void transposeTail(
      float[] x, int s, int ld, float[] dst, int d, int rows, int p0, int kc, int w) {
    for (int r = 0; r < rows; r++) {
      int q = s + r * ld;
      for (int p = p0, e = d + p0 * w + r; p < kc; p++, e += w) dst[e] = x[q + p];
    }
  }

  private static int roundUp(int x, int unit) {
    return (x + unit - 1) / unit * unit;
  }

  // ---------------------------------------------------------------- blocked drivers

  /**
   * C[i0..i1, j0..j1] for the float micro-kernel: fp32 (alpha/beta into c) or int8 packed as
   * floats (exact chunk sums stored, then added, into ci).
   */
  private void blockedF(
      Src a, Src b, int i0, int i1, int j0, int j1, int k,
      float[] c, int[] ci, int cOff, int ldc, float alpha, float beta, boolean intOut) {
    Scratch sc = SCRATCH.get();
    final int nr = nrF;
    sc.tileF = grow(sc.tileF, MR * nr);
    float[] tile = sc.tileF;
    sc.rowsF = grow(sc.rowsF, nr * KC); // int8 rows widened for the transposing pack
    float[] tmp = sc.rowsF;
    for (int jc = j0; jc < j1; jc += NC) {
      int nc = Math.min(NC, j1 - jc);
      for (int pc = 0; pc < k; pc += KC) {
        int kc = Math.min(KC, k - pc);
        sc.bf = grow(sc.bf, roundUp(nc, nr) * kc);
        float[] bp = sc.bf;
        b.packF(bp, jc, nc, pc, kc, nr, bits, tmp);
        int mode = intOut ? (pc == 0 ? I_STORE : I_ADD) : F_STORE;
        float bt = pc == 0 ? beta : 1f; // later depth blocks add onto what the first one wrote
        for (int ic = i0; ic < i1; ic += MC) {
          int mc = Math.min(MC, i1 - ic);
          sc.af = grow(sc.af, roundUp(mc, MR) * kc);
          float[] ap = sc.af;
          a.packF(ap, ic, mc, pc, kc, MR, bits, tmp);
          for (int jr = 0; jr < nc; jr += nr) {
            int nw = Math.min(nr, nc - jr);
            int bi = jr * kc;
            for (int ir = 0; ir < mc; ir += MR) {
              int mh = Math.min(MR, mc - ir);
              int ai = ir * kc;
              int co = cOff + (ic + ir) * ldc + jc + jr;
              if (mh == MR && nw == nr) {
                if (intOut) {
                  kernelI(kc, ap, ai, bp, bi, ci, co, ldc, mode == I_ADD);
                } else {
                  kernelF(kc, ap, ai, bp, bi, c, co, ldc, alpha, bt);
                }
              } else {
                kernelF(kc, ap, ai, bp, bi, tile, 0, nr, 1f, 0f);
                edgeF(tile, nr, mh, nw, c, ci, co, ldc, alpha, bt, mode);
              }
            }
          }
        }
      }
    }
  }

  /** The micro-kernel's epilogue for a partial tile, lane for lane the same arithmetic. */
  private static void edgeF(
      float[] tile, int nr, int mh, int nw,
      float[] c, int[] ci, int co, int ldc, float alpha, float beta, int mode) {
    for (int r = 0; r < mh; r++) {
      for (int j = 0; j < nw; j++) {
        float s = tile[r * nr + j];
        int x = co + r * ldc + j;
        switch (mode) {
          case F_STORE -> c[x] = beta == 0f ? s * alpha : Math.fma(c[x], beta, s * alpha);
          case I_STORE -> ci[x] = (int) s;
          default -> ci[x] += (int) s;
        }
      }
    }
  }

  /**
   * C[i0..i1, j0..j1] = op(A)·op(B) for int16 in exact double sums, then wrapped to int32; returns
   * how many true sums left the int32 range. Unlike the float driver, the depth loop runs inside
   * the row-block loop, so each MC_D × NC_D block of double sums stays in L2 until it is
   * narrowed (B is packed once per column block, all depths at once).
   */
  private long blockedD(
      Src a, Src b, int i0, int i1, int j0, int j1, int k,
      int[] c, int cOff, int ldc, boolean countOverflow) {
    Scratch sc = SCRATCH.get();
    final int nr = nrD;
    sc.tileD = grow(sc.tileD, MR * nr);
    double[] tile = sc.tileD;
    long over = 0;
    for (int jc = j0; jc < j1; jc += NC_D) {
      int nc = Math.min(NC_D, j1 - jc);
      int ncp = roundUp(nc, nr);
      // all depths of B at once unless that would take more than 32 MiB (very deep products):
      // then B is packed again for every row block, one depth block at a time
      boolean packOnce = (long) ncp * k <= B_PACK_ONCE_MAX;
      sc.bd = grow(sc.bd, packOnce ? ncp * k : ncp * Math.min(KC, k));
      double[] bp = sc.bd;
      for (int pc = 0; packOnce && pc < k; pc += KC) {
        b.packD(bp, pc * ncp, jc, nc, pc, Math.min(KC, k - pc), nr);
      }
      for (int ic = i0; ic < i1; ic += MC_D) {
        int mc = Math.min(MC_D, i1 - ic);
        sc.cd = grow(sc.cd, mc * nc);
        double[] cd = sc.cd;
        for (int pc = 0; pc < k; pc += KC) {
          int kc = Math.min(KC, k - pc);
          sc.ad = grow(sc.ad, roundUp(mc, MR) * kc);
          double[] ap = sc.ad;
          a.packD(ap, 0, ic, mc, pc, kc, MR);
          if (!packOnce) b.packD(bp, 0, jc, nc, pc, kc, nr);
          int bBase = packOnce ? pc * ncp : 0;
          boolean add = pc > 0;
          for (int jr = 0; jr < nc; jr += nr) {
            int nw = Math.min(nr, nc - jr);
            int bi = bBase + jr * kc;
            for (int ir = 0; ir < mc; ir += MR) {
              int mh = Math.min(MR, mc - ir);
              int ai = ir * kc;
              int co = ir * nc + jr;
              if (mh == MR && nw == nr) {
                kernelD(kc, ap, ai, bp, bi, cd, co, nc, add);
              } else {
                kernelD(kc, ap, ai, bp, bi, tile, 0, nr, false);
                for (int r = 0; r < mh; r++) {
                  for (int j = 0; j < nw; j++) {
                    int x = co + r * nc + j;
                    cd[x] = add ? cd[x] + tile[r * nr + j] : tile[r * nr + j];
                  }
                }
              }
            }
          }
        }
        for (int r = 0; r < mc; r++) {
          int d = r * nc;
          int o = cOff + (ic + r) * ldc + jc;
          for (int j = 0; j < nc; j++) {
            long sum = (long) cd[d + j]; // exact: an integer below 2^53 in magnitude
            int w = (int) sum;
            if (countOverflow && sum != w) over++;
            c[o + j] = w;
          }
        }
      }
    }
    return over;
  }

  // ---------------------------------------------------------------- micro-kernels

  // The float and int epilogues live in separate kernels: one method holding both was too big
  // for C1 ("out of virtual registers"), which left it stuck in slow tier-2 code, never reaching C2.
  // <generated: VectorGemm micro-kernels; do not edit, run java lowbit-core/src/test/java/dev/lowbit/codegen/GenerateKernels.java>
  private void kernelF(
      int kc, float[] ap, int ai, float[] bp, int bi,
      float[] c, int cOff, int ldc, float alpha, float beta) {
    switch (bits) {
      case 512 -> kernelF512(kc, ap, ai, bp, bi, c, cOff, ldc, alpha, beta);
      case 256 -> kernelF256(kc, ap, ai, bp, bi, c, cOff, ldc, alpha, beta);
      default -> kernelF128(kc, ap, ai, bp, bi, c, cOff, ldc, alpha, beta);
    }
  }

  private void kernelI(
      int kc, float[] ap, int ai, float[] bp, int bi, int[] c, int cOff, int ldc, boolean add) {
    switch (bits) {
      case 512 -> kernelI512(kc, ap, ai, bp, bi, c, cOff, ldc, add);
      case 256 -> kernelI256(kc, ap, ai, bp, bi, c, cOff, ldc, add);
      default -> kernelI128(kc, ap, ai, bp, bi, c, cOff, ldc, add);
    }
  }

  private void kernelD(
      int kc, double[] ap, int ai, double[] bp, int bi, double[] c, int cOff, int ldc, boolean add) {
    switch (bits) {
      case 512 -> kernelD512(kc, ap, ai, bp, bi, c, cOff, ldc, add);
      case 256 -> kernelD256(kc, ap, ai, bp, bi, c, cOff, ldc, add);
      default -> kernelD128(kc, ap, ai, bp, bi, c, cOff, ldc, add);
    }
  }

  // Generated shape: MR=8 rows x 2 vectors; 16 accumulators + 2 B vectors + 1 broadcast fit
  // the 32 vector registers of AVX-512. Everything stays in this one method so C2 keeps the
  // vectors in registers (a vector handed to a non-inlined helper is boxed).
  private static void kernelF512(
      int kc, float[] ap, int ai, float[] bp, int bi,
      float[] c, int cOff, int ldc, float alpha, float beta) {
    final VectorSpecies<Float> s = F512;
    final int l = s.length();
    FloatVector c00 = FloatVector.zero(s), c01 = FloatVector.zero(s);
    FloatVector c10 = FloatVector.zero(s), c11 = FloatVector.zero(s);
    FloatVector c20 = FloatVector.zero(s), c21 = FloatVector.zero(s);
    FloatVector c30 = FloatVector.zero(s), c31 = FloatVector.zero(s);
    FloatVector c40 = FloatVector.zero(s), c41 = FloatVector.zero(s);
    FloatVector c50 = FloatVector.zero(s), c51 = FloatVector.zero(s);
    FloatVector c60 = FloatVector.zero(s), c61 = FloatVector.zero(s);
    FloatVector c70 = FloatVector.zero(s), c71 = FloatVector.zero(s);
    for (int p = 0; p < kc; p++) {
      // indices linear in p let C2 hoist the bounds checks out of the loop
      final int pa = ai + p * MR;
      final int pb = bi + p * 2 * l;
      FloatVector b0 = FloatVector.fromArray(s, bp, pb);
      FloatVector b1 = FloatVector.fromArray(s, bp, pb + l);
      FloatVector a;
      a = FloatVector.broadcast(s, ap[pa + 0]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(s, ap[pa + 1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(s, ap[pa + 2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(s, ap[pa + 3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(s, ap[pa + 4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(s, ap[pa + 5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
      a = FloatVector.broadcast(s, ap[pa + 6]);
      c60 = a.fma(b0, c60);
      c61 = a.fma(b1, c61);
      a = FloatVector.broadcast(s, ap[pa + 7]);
      c70 = a.fma(b0, c70);
      c71 = a.fma(b1, c71);
    }
    int o0;
    if (beta == 0f) {
      o0 = cOff + 0 * ldc;
      c00.mul(alpha).intoArray(c, o0);
      c01.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 1 * ldc;
      c10.mul(alpha).intoArray(c, o0);
      c11.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 2 * ldc;
      c20.mul(alpha).intoArray(c, o0);
      c21.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 3 * ldc;
      c30.mul(alpha).intoArray(c, o0);
      c31.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 4 * ldc;
      c40.mul(alpha).intoArray(c, o0);
      c41.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 5 * ldc;
      c50.mul(alpha).intoArray(c, o0);
      c51.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 6 * ldc;
      c60.mul(alpha).intoArray(c, o0);
      c61.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 7 * ldc;
      c70.mul(alpha).intoArray(c, o0);
      c71.mul(alpha).intoArray(c, o0 + l);
    } else {
      FloatVector bv = FloatVector.broadcast(s, beta);
      o0 = cOff + 0 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c00.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c01.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 1 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c10.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c11.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 2 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c20.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c21.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 3 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c30.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c31.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 4 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c40.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c41.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 5 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c50.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c51.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 6 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c60.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c61.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 7 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c70.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c71.mul(alpha)).intoArray(c, o0 + l);
    }
  }

  // Generated shape: MR=8 rows x 2 vectors; 16 accumulators + 2 B vectors + 1 broadcast fit
  // the 32 vector registers of AVX-512. Everything stays in this one method so C2 keeps the
  // vectors in registers (a vector handed to a non-inlined helper is boxed).
  private static void kernelF256(
      int kc, float[] ap, int ai, float[] bp, int bi,
      float[] c, int cOff, int ldc, float alpha, float beta) {
    final VectorSpecies<Float> s = F256;
    final int l = s.length();
    FloatVector c00 = FloatVector.zero(s), c01 = FloatVector.zero(s);
    FloatVector c10 = FloatVector.zero(s), c11 = FloatVector.zero(s);
    FloatVector c20 = FloatVector.zero(s), c21 = FloatVector.zero(s);
    FloatVector c30 = FloatVector.zero(s), c31 = FloatVector.zero(s);
    FloatVector c40 = FloatVector.zero(s), c41 = FloatVector.zero(s);
    FloatVector c50 = FloatVector.zero(s), c51 = FloatVector.zero(s);
    FloatVector c60 = FloatVector.zero(s), c61 = FloatVector.zero(s);
    FloatVector c70 = FloatVector.zero(s), c71 = FloatVector.zero(s);
    for (int p = 0; p < kc; p++) {
      // indices linear in p let C2 hoist the bounds checks out of the loop
      final int pa = ai + p * MR;
      final int pb = bi + p * 2 * l;
      FloatVector b0 = FloatVector.fromArray(s, bp, pb);
      FloatVector b1 = FloatVector.fromArray(s, bp, pb + l);
      FloatVector a;
      a = FloatVector.broadcast(s, ap[pa + 0]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(s, ap[pa + 1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(s, ap[pa + 2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(s, ap[pa + 3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(s, ap[pa + 4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(s, ap[pa + 5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
      a = FloatVector.broadcast(s, ap[pa + 6]);
      c60 = a.fma(b0, c60);
      c61 = a.fma(b1, c61);
      a = FloatVector.broadcast(s, ap[pa + 7]);
      c70 = a.fma(b0, c70);
      c71 = a.fma(b1, c71);
    }
    int o0;
    if (beta == 0f) {
      o0 = cOff + 0 * ldc;
      c00.mul(alpha).intoArray(c, o0);
      c01.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 1 * ldc;
      c10.mul(alpha).intoArray(c, o0);
      c11.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 2 * ldc;
      c20.mul(alpha).intoArray(c, o0);
      c21.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 3 * ldc;
      c30.mul(alpha).intoArray(c, o0);
      c31.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 4 * ldc;
      c40.mul(alpha).intoArray(c, o0);
      c41.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 5 * ldc;
      c50.mul(alpha).intoArray(c, o0);
      c51.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 6 * ldc;
      c60.mul(alpha).intoArray(c, o0);
      c61.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 7 * ldc;
      c70.mul(alpha).intoArray(c, o0);
      c71.mul(alpha).intoArray(c, o0 + l);
    } else {
      FloatVector bv = FloatVector.broadcast(s, beta);
      o0 = cOff + 0 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c00.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c01.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 1 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c10.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c11.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 2 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c20.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c21.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 3 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c30.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c31.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 4 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c40.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c41.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 5 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c50.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c51.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 6 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c60.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c61.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 7 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c70.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c71.mul(alpha)).intoArray(c, o0 + l);
    }
  }

  // Generated shape: MR=8 rows x 2 vectors; 16 accumulators + 2 B vectors + 1 broadcast fit
  // the 32 vector registers of AVX-512. Everything stays in this one method so C2 keeps the
  // vectors in registers (a vector handed to a non-inlined helper is boxed).
  private static void kernelF128(
      int kc, float[] ap, int ai, float[] bp, int bi,
      float[] c, int cOff, int ldc, float alpha, float beta) {
    final VectorSpecies<Float> s = F128;
    final int l = s.length();
    FloatVector c00 = FloatVector.zero(s), c01 = FloatVector.zero(s);
    FloatVector c10 = FloatVector.zero(s), c11 = FloatVector.zero(s);
    FloatVector c20 = FloatVector.zero(s), c21 = FloatVector.zero(s);
    FloatVector c30 = FloatVector.zero(s), c31 = FloatVector.zero(s);
    FloatVector c40 = FloatVector.zero(s), c41 = FloatVector.zero(s);
    FloatVector c50 = FloatVector.zero(s), c51 = FloatVector.zero(s);
    FloatVector c60 = FloatVector.zero(s), c61 = FloatVector.zero(s);
    FloatVector c70 = FloatVector.zero(s), c71 = FloatVector.zero(s);
    for (int p = 0; p < kc; p++) {
      // indices linear in p let C2 hoist the bounds checks out of the loop
      final int pa = ai + p * MR;
      final int pb = bi + p * 2 * l;
      FloatVector b0 = FloatVector.fromArray(s, bp, pb);
      FloatVector b1 = FloatVector.fromArray(s, bp, pb + l);
      FloatVector a;
      a = FloatVector.broadcast(s, ap[pa + 0]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(s, ap[pa + 1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(s, ap[pa + 2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(s, ap[pa + 3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(s, ap[pa + 4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(s, ap[pa + 5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
      a = FloatVector.broadcast(s, ap[pa + 6]);
      c60 = a.fma(b0, c60);
      c61 = a.fma(b1, c61);
      a = FloatVector.broadcast(s, ap[pa + 7]);
      c70 = a.fma(b0, c70);
      c71 = a.fma(b1, c71);
    }
    int o0;
    if (beta == 0f) {
      o0 = cOff + 0 * ldc;
      c00.mul(alpha).intoArray(c, o0);
      c01.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 1 * ldc;
      c10.mul(alpha).intoArray(c, o0);
      c11.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 2 * ldc;
      c20.mul(alpha).intoArray(c, o0);
      c21.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 3 * ldc;
      c30.mul(alpha).intoArray(c, o0);
      c31.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 4 * ldc;
      c40.mul(alpha).intoArray(c, o0);
      c41.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 5 * ldc;
      c50.mul(alpha).intoArray(c, o0);
      c51.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 6 * ldc;
      c60.mul(alpha).intoArray(c, o0);
      c61.mul(alpha).intoArray(c, o0 + l);
      o0 = cOff + 7 * ldc;
      c70.mul(alpha).intoArray(c, o0);
      c71.mul(alpha).intoArray(c, o0 + l);
    } else {
      FloatVector bv = FloatVector.broadcast(s, beta);
      o0 = cOff + 0 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c00.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c01.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 1 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c10.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c11.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 2 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c20.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c21.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 3 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c30.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c31.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 4 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c40.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c41.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 5 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c50.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c51.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 6 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c60.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c61.mul(alpha)).intoArray(c, o0 + l);
      o0 = cOff + 7 * ldc;
      FloatVector.fromArray(s, c, o0).fma(bv, c70.mul(alpha)).intoArray(c, o0);
      FloatVector.fromArray(s, c, o0 + l).fma(bv, c71.mul(alpha)).intoArray(c, o0 + l);
    }
  }

  // As kernelF; int8 operands packed as floats: the chunk sums are exact integers.
  private static void kernelI512(
      int kc, float[] ap, int ai, float[] bp, int bi,
      int[] ci, int cOff, int ldc, boolean add) {
    final VectorSpecies<Float> s = F512;
    final int l = s.length();
    FloatVector c00 = FloatVector.zero(s), c01 = FloatVector.zero(s);
    FloatVector c10 = FloatVector.zero(s), c11 = FloatVector.zero(s);
    FloatVector c20 = FloatVector.zero(s), c21 = FloatVector.zero(s);
    FloatVector c30 = FloatVector.zero(s), c31 = FloatVector.zero(s);
    FloatVector c40 = FloatVector.zero(s), c41 = FloatVector.zero(s);
    FloatVector c50 = FloatVector.zero(s), c51 = FloatVector.zero(s);
    FloatVector c60 = FloatVector.zero(s), c61 = FloatVector.zero(s);
    FloatVector c70 = FloatVector.zero(s), c71 = FloatVector.zero(s);
    for (int p = 0; p < kc; p++) {
      // indices linear in p let C2 hoist the bounds checks out of the loop
      final int pa = ai + p * MR;
      final int pb = bi + p * 2 * l;
      FloatVector b0 = FloatVector.fromArray(s, bp, pb);
      FloatVector b1 = FloatVector.fromArray(s, bp, pb + l);
      FloatVector a;
      a = FloatVector.broadcast(s, ap[pa + 0]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(s, ap[pa + 1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(s, ap[pa + 2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(s, ap[pa + 3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(s, ap[pa + 4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(s, ap[pa + 5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
      a = FloatVector.broadcast(s, ap[pa + 6]);
      c60 = a.fma(b0, c60);
      c61 = a.fma(b1, c61);
      a = FloatVector.broadcast(s, ap[pa + 7]);
      c70 = a.fma(b0, c70);
      c71 = a.fma(b1, c71);
    }
    int o0;
    if (!add) {
      o0 = cOff + 0 * ldc;
      ((IntVector) c00.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c01.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 1 * ldc;
      ((IntVector) c10.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c11.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 2 * ldc;
      ((IntVector) c20.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c21.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 3 * ldc;
      ((IntVector) c30.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c31.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 4 * ldc;
      ((IntVector) c40.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c41.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 5 * ldc;
      ((IntVector) c50.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c51.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 6 * ldc;
      ((IntVector) c60.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c61.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 7 * ldc;
      ((IntVector) c70.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c71.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
    } else {
      o0 = cOff + 0 * ldc;
      IntVector.fromArray(I512, ci, o0).add(c00.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I512, ci, o0 + l).add(c01.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 1 * ldc;
      IntVector.fromArray(I512, ci, o0).add(c10.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I512, ci, o0 + l).add(c11.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 2 * ldc;
      IntVector.fromArray(I512, ci, o0).add(c20.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I512, ci, o0 + l).add(c21.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 3 * ldc;
      IntVector.fromArray(I512, ci, o0).add(c30.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I512, ci, o0 + l).add(c31.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 4 * ldc;
      IntVector.fromArray(I512, ci, o0).add(c40.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I512, ci, o0 + l).add(c41.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 5 * ldc;
      IntVector.fromArray(I512, ci, o0).add(c50.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I512, ci, o0 + l).add(c51.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 6 * ldc;
      IntVector.fromArray(I512, ci, o0).add(c60.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I512, ci, o0 + l).add(c61.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 7 * ldc;
      IntVector.fromArray(I512, ci, o0).add(c70.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I512, ci, o0 + l).add(c71.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
    }
  }

  // As kernelF; int8 operands packed as floats: the chunk sums are exact integers.
  private static void kernelI256(
      int kc, float[] ap, int ai, float[] bp, int bi,
      int[] ci, int cOff, int ldc, boolean add) {
    final VectorSpecies<Float> s = F256;
    final int l = s.length();
    FloatVector c00 = FloatVector.zero(s), c01 = FloatVector.zero(s);
    FloatVector c10 = FloatVector.zero(s), c11 = FloatVector.zero(s);
    FloatVector c20 = FloatVector.zero(s), c21 = FloatVector.zero(s);
    FloatVector c30 = FloatVector.zero(s), c31 = FloatVector.zero(s);
    FloatVector c40 = FloatVector.zero(s), c41 = FloatVector.zero(s);
    FloatVector c50 = FloatVector.zero(s), c51 = FloatVector.zero(s);
    FloatVector c60 = FloatVector.zero(s), c61 = FloatVector.zero(s);
    FloatVector c70 = FloatVector.zero(s), c71 = FloatVector.zero(s);
    for (int p = 0; p < kc; p++) {
      // indices linear in p let C2 hoist the bounds checks out of the loop
      final int pa = ai + p * MR;
      final int pb = bi + p * 2 * l;
      FloatVector b0 = FloatVector.fromArray(s, bp, pb);
      FloatVector b1 = FloatVector.fromArray(s, bp, pb + l);
      FloatVector a;
      a = FloatVector.broadcast(s, ap[pa + 0]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(s, ap[pa + 1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(s, ap[pa + 2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(s, ap[pa + 3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(s, ap[pa + 4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(s, ap[pa + 5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
      a = FloatVector.broadcast(s, ap[pa + 6]);
      c60 = a.fma(b0, c60);
      c61 = a.fma(b1, c61);
      a = FloatVector.broadcast(s, ap[pa + 7]);
      c70 = a.fma(b0, c70);
      c71 = a.fma(b1, c71);
    }
    int o0;
    if (!add) {
      o0 = cOff + 0 * ldc;
      ((IntVector) c00.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c01.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 1 * ldc;
      ((IntVector) c10.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c11.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 2 * ldc;
      ((IntVector) c20.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c21.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 3 * ldc;
      ((IntVector) c30.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c31.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 4 * ldc;
      ((IntVector) c40.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c41.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 5 * ldc;
      ((IntVector) c50.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c51.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 6 * ldc;
      ((IntVector) c60.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c61.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 7 * ldc;
      ((IntVector) c70.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c71.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
    } else {
      o0 = cOff + 0 * ldc;
      IntVector.fromArray(I256, ci, o0).add(c00.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I256, ci, o0 + l).add(c01.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 1 * ldc;
      IntVector.fromArray(I256, ci, o0).add(c10.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I256, ci, o0 + l).add(c11.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 2 * ldc;
      IntVector.fromArray(I256, ci, o0).add(c20.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I256, ci, o0 + l).add(c21.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 3 * ldc;
      IntVector.fromArray(I256, ci, o0).add(c30.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I256, ci, o0 + l).add(c31.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 4 * ldc;
      IntVector.fromArray(I256, ci, o0).add(c40.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I256, ci, o0 + l).add(c41.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 5 * ldc;
      IntVector.fromArray(I256, ci, o0).add(c50.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I256, ci, o0 + l).add(c51.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 6 * ldc;
      IntVector.fromArray(I256, ci, o0).add(c60.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I256, ci, o0 + l).add(c61.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 7 * ldc;
      IntVector.fromArray(I256, ci, o0).add(c70.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I256, ci, o0 + l).add(c71.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
    }
  }

  // As kernelF; int8 operands packed as floats: the chunk sums are exact integers.
  private static void kernelI128(
      int kc, float[] ap, int ai, float[] bp, int bi,
      int[] ci, int cOff, int ldc, boolean add) {
    final VectorSpecies<Float> s = F128;
    final int l = s.length();
    FloatVector c00 = FloatVector.zero(s), c01 = FloatVector.zero(s);
    FloatVector c10 = FloatVector.zero(s), c11 = FloatVector.zero(s);
    FloatVector c20 = FloatVector.zero(s), c21 = FloatVector.zero(s);
    FloatVector c30 = FloatVector.zero(s), c31 = FloatVector.zero(s);
    FloatVector c40 = FloatVector.zero(s), c41 = FloatVector.zero(s);
    FloatVector c50 = FloatVector.zero(s), c51 = FloatVector.zero(s);
    FloatVector c60 = FloatVector.zero(s), c61 = FloatVector.zero(s);
    FloatVector c70 = FloatVector.zero(s), c71 = FloatVector.zero(s);
    for (int p = 0; p < kc; p++) {
      // indices linear in p let C2 hoist the bounds checks out of the loop
      final int pa = ai + p * MR;
      final int pb = bi + p * 2 * l;
      FloatVector b0 = FloatVector.fromArray(s, bp, pb);
      FloatVector b1 = FloatVector.fromArray(s, bp, pb + l);
      FloatVector a;
      a = FloatVector.broadcast(s, ap[pa + 0]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(s, ap[pa + 1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(s, ap[pa + 2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(s, ap[pa + 3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(s, ap[pa + 4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(s, ap[pa + 5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
      a = FloatVector.broadcast(s, ap[pa + 6]);
      c60 = a.fma(b0, c60);
      c61 = a.fma(b1, c61);
      a = FloatVector.broadcast(s, ap[pa + 7]);
      c70 = a.fma(b0, c70);
      c71 = a.fma(b1, c71);
    }
    int o0;
    if (!add) {
      o0 = cOff + 0 * ldc;
      ((IntVector) c00.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c01.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 1 * ldc;
      ((IntVector) c10.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c11.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 2 * ldc;
      ((IntVector) c20.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c21.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 3 * ldc;
      ((IntVector) c30.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c31.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 4 * ldc;
      ((IntVector) c40.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c41.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 5 * ldc;
      ((IntVector) c50.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c51.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 6 * ldc;
      ((IntVector) c60.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c61.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 7 * ldc;
      ((IntVector) c70.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      ((IntVector) c71.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
    } else {
      o0 = cOff + 0 * ldc;
      IntVector.fromArray(I128, ci, o0).add(c00.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I128, ci, o0 + l).add(c01.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 1 * ldc;
      IntVector.fromArray(I128, ci, o0).add(c10.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I128, ci, o0 + l).add(c11.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 2 * ldc;
      IntVector.fromArray(I128, ci, o0).add(c20.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I128, ci, o0 + l).add(c21.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 3 * ldc;
      IntVector.fromArray(I128, ci, o0).add(c30.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I128, ci, o0 + l).add(c31.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 4 * ldc;
      IntVector.fromArray(I128, ci, o0).add(c40.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I128, ci, o0 + l).add(c41.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 5 * ldc;
      IntVector.fromArray(I128, ci, o0).add(c50.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I128, ci, o0 + l).add(c51.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 6 * ldc;
      IntVector.fromArray(I128, ci, o0).add(c60.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I128, ci, o0 + l).add(c61.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
      o0 = cOff + 7 * ldc;
      IntVector.fromArray(I128, ci, o0).add(c70.convert(VectorOperators.F2I, 0)).intoArray(ci, o0);
      IntVector.fromArray(I128, ci, o0 + l).add(c71.convert(VectorOperators.F2I, 0)).intoArray(ci, o0 + l);
    }
  }

  // Same register tile as kernelF in doubles: int16 products (|x| <= 2^30) summed exactly.
  private static void kernelD512(
      int kc, double[] ap, int ai, double[] bp, int bi,
      double[] c, int cOff, int ldc, boolean add) {
    final VectorSpecies<Double> s = D512;
    final int l = s.length();
    DoubleVector c00 = DoubleVector.zero(s), c01 = DoubleVector.zero(s);
    DoubleVector c10 = DoubleVector.zero(s), c11 = DoubleVector.zero(s);
    DoubleVector c20 = DoubleVector.zero(s), c21 = DoubleVector.zero(s);
    DoubleVector c30 = DoubleVector.zero(s), c31 = DoubleVector.zero(s);
    DoubleVector c40 = DoubleVector.zero(s), c41 = DoubleVector.zero(s);
    DoubleVector c50 = DoubleVector.zero(s), c51 = DoubleVector.zero(s);
    DoubleVector c60 = DoubleVector.zero(s), c61 = DoubleVector.zero(s);
    DoubleVector c70 = DoubleVector.zero(s), c71 = DoubleVector.zero(s);
    for (int p = 0; p < kc; p++) {
      final int pa = ai + p * MR;
      final int pb = bi + p * 2 * l;
      DoubleVector b0 = DoubleVector.fromArray(s, bp, pb);
      DoubleVector b1 = DoubleVector.fromArray(s, bp, pb + l);
      DoubleVector a;
      a = DoubleVector.broadcast(s, ap[pa + 0]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = DoubleVector.broadcast(s, ap[pa + 1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = DoubleVector.broadcast(s, ap[pa + 2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = DoubleVector.broadcast(s, ap[pa + 3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = DoubleVector.broadcast(s, ap[pa + 4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = DoubleVector.broadcast(s, ap[pa + 5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
      a = DoubleVector.broadcast(s, ap[pa + 6]);
      c60 = a.fma(b0, c60);
      c61 = a.fma(b1, c61);
      a = DoubleVector.broadcast(s, ap[pa + 7]);
      c70 = a.fma(b0, c70);
      c71 = a.fma(b1, c71);
    }
    int o0;
    if (!add) {
      o0 = cOff + 0 * ldc;
      c00.intoArray(c, o0);
      c01.intoArray(c, o0 + l);
      o0 = cOff + 1 * ldc;
      c10.intoArray(c, o0);
      c11.intoArray(c, o0 + l);
      o0 = cOff + 2 * ldc;
      c20.intoArray(c, o0);
      c21.intoArray(c, o0 + l);
      o0 = cOff + 3 * ldc;
      c30.intoArray(c, o0);
      c31.intoArray(c, o0 + l);
      o0 = cOff + 4 * ldc;
      c40.intoArray(c, o0);
      c41.intoArray(c, o0 + l);
      o0 = cOff + 5 * ldc;
      c50.intoArray(c, o0);
      c51.intoArray(c, o0 + l);
      o0 = cOff + 6 * ldc;
      c60.intoArray(c, o0);
      c61.intoArray(c, o0 + l);
      o0 = cOff + 7 * ldc;
      c70.intoArray(c, o0);
      c71.intoArray(c, o0 + l);
    } else {
      o0 = cOff + 0 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c00).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c01).intoArray(c, o0 + l);
      o0 = cOff + 1 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c10).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c11).intoArray(c, o0 + l);
      o0 = cOff + 2 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c20).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c21).intoArray(c, o0 + l);
      o0 = cOff + 3 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c30).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c31).intoArray(c, o0 + l);
      o0 = cOff + 4 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c40).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c41).intoArray(c, o0 + l);
      o0 = cOff + 5 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c50).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c51).intoArray(c, o0 + l);
      o0 = cOff + 6 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c60).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c61).intoArray(c, o0 + l);
      o0 = cOff + 7 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c70).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c71).intoArray(c, o0 + l);
    }
  }

  // Same register tile as kernelF in doubles: int16 products (|x| <= 2^30) summed exactly.
  private static void kernelD256(
      int kc, double[] ap, int ai, double[] bp, int bi,
      double[] c, int cOff, int ldc, boolean add) {
    final VectorSpecies<Double> s = D256;
    final int l = s.length();
    DoubleVector c00 = DoubleVector.zero(s), c01 = DoubleVector.zero(s);
    DoubleVector c10 = DoubleVector.zero(s), c11 = DoubleVector.zero(s);
    DoubleVector c20 = DoubleVector.zero(s), c21 = DoubleVector.zero(s);
    DoubleVector c30 = DoubleVector.zero(s), c31 = DoubleVector.zero(s);
    DoubleVector c40 = DoubleVector.zero(s), c41 = DoubleVector.zero(s);
    DoubleVector c50 = DoubleVector.zero(s), c51 = DoubleVector.zero(s);
    DoubleVector c60 = DoubleVector.zero(s), c61 = DoubleVector.zero(s);
    DoubleVector c70 = DoubleVector.zero(s), c71 = DoubleVector.zero(s);
    for (int p = 0; p < kc; p++) {
      final int pa = ai + p * MR;
      final int pb = bi + p * 2 * l;
      DoubleVector b0 = DoubleVector.fromArray(s, bp, pb);
      DoubleVector b1 = DoubleVector.fromArray(s, bp, pb + l);
      DoubleVector a;
      a = DoubleVector.broadcast(s, ap[pa + 0]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = DoubleVector.broadcast(s, ap[pa + 1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = DoubleVector.broadcast(s, ap[pa + 2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = DoubleVector.broadcast(s, ap[pa + 3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = DoubleVector.broadcast(s, ap[pa + 4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = DoubleVector.broadcast(s, ap[pa + 5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
      a = DoubleVector.broadcast(s, ap[pa + 6]);
      c60 = a.fma(b0, c60);
      c61 = a.fma(b1, c61);
      a = DoubleVector.broadcast(s, ap[pa + 7]);
      c70 = a.fma(b0, c70);
      c71 = a.fma(b1, c71);
    }
    int o0;
    if (!add) {
      o0 = cOff + 0 * ldc;
      c00.intoArray(c, o0);
      c01.intoArray(c, o0 + l);
      o0 = cOff + 1 * ldc;
      c10.intoArray(c, o0);
      c11.intoArray(c, o0 + l);
      o0 = cOff + 2 * ldc;
      c20.intoArray(c, o0);
      c21.intoArray(c, o0 + l);
      o0 = cOff + 3 * ldc;
      c30.intoArray(c, o0);
      c31.intoArray(c, o0 + l);
      o0 = cOff + 4 * ldc;
      c40.intoArray(c, o0);
      c41.intoArray(c, o0 + l);
      o0 = cOff + 5 * ldc;
      c50.intoArray(c, o0);
      c51.intoArray(c, o0 + l);
      o0 = cOff + 6 * ldc;
      c60.intoArray(c, o0);
      c61.intoArray(c, o0 + l);
      o0 = cOff + 7 * ldc;
      c70.intoArray(c, o0);
      c71.intoArray(c, o0 + l);
    } else {
      o0 = cOff + 0 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c00).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c01).intoArray(c, o0 + l);
      o0 = cOff + 1 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c10).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c11).intoArray(c, o0 + l);
      o0 = cOff + 2 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c20).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c21).intoArray(c, o0 + l);
      o0 = cOff + 3 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c30).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c31).intoArray(c, o0 + l);
      o0 = cOff + 4 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c40).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c41).intoArray(c, o0 + l);
      o0 = cOff + 5 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c50).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c51).intoArray(c, o0 + l);
      o0 = cOff + 6 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c60).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c61).intoArray(c, o0 + l);
      o0 = cOff + 7 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c70).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c71).intoArray(c, o0 + l);
    }
  }

  // Same register tile as kernelF in doubles: int16 products (|x| <= 2^30) summed exactly.
  private static void kernelD128(
      int kc, double[] ap, int ai, double[] bp, int bi,
      double[] c, int cOff, int ldc, boolean add) {
    final VectorSpecies<Double> s = D128;
    final int l = s.length();
    DoubleVector c00 = DoubleVector.zero(s), c01 = DoubleVector.zero(s);
    DoubleVector c10 = DoubleVector.zero(s), c11 = DoubleVector.zero(s);
    DoubleVector c20 = DoubleVector.zero(s), c21 = DoubleVector.zero(s);
    DoubleVector c30 = DoubleVector.zero(s), c31 = DoubleVector.zero(s);
    DoubleVector c40 = DoubleVector.zero(s), c41 = DoubleVector.zero(s);
    DoubleVector c50 = DoubleVector.zero(s), c51 = DoubleVector.zero(s);
    DoubleVector c60 = DoubleVector.zero(s), c61 = DoubleVector.zero(s);
    DoubleVector c70 = DoubleVector.zero(s), c71 = DoubleVector.zero(s);
    for (int p = 0; p < kc; p++) {
      final int pa = ai + p * MR;
      final int pb = bi + p * 2 * l;
      DoubleVector b0 = DoubleVector.fromArray(s, bp, pb);
      DoubleVector b1 = DoubleVector.fromArray(s, bp, pb + l);
      DoubleVector a;
      a = DoubleVector.broadcast(s, ap[pa + 0]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = DoubleVector.broadcast(s, ap[pa + 1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = DoubleVector.broadcast(s, ap[pa + 2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = DoubleVector.broadcast(s, ap[pa + 3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = DoubleVector.broadcast(s, ap[pa + 4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = DoubleVector.broadcast(s, ap[pa + 5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
      a = DoubleVector.broadcast(s, ap[pa + 6]);
      c60 = a.fma(b0, c60);
      c61 = a.fma(b1, c61);
      a = DoubleVector.broadcast(s, ap[pa + 7]);
      c70 = a.fma(b0, c70);
      c71 = a.fma(b1, c71);
    }
    int o0;
    if (!add) {
      o0 = cOff + 0 * ldc;
      c00.intoArray(c, o0);
      c01.intoArray(c, o0 + l);
      o0 = cOff + 1 * ldc;
      c10.intoArray(c, o0);
      c11.intoArray(c, o0 + l);
      o0 = cOff + 2 * ldc;
      c20.intoArray(c, o0);
      c21.intoArray(c, o0 + l);
      o0 = cOff + 3 * ldc;
      c30.intoArray(c, o0);
      c31.intoArray(c, o0 + l);
      o0 = cOff + 4 * ldc;
      c40.intoArray(c, o0);
      c41.intoArray(c, o0 + l);
      o0 = cOff + 5 * ldc;
      c50.intoArray(c, o0);
      c51.intoArray(c, o0 + l);
      o0 = cOff + 6 * ldc;
      c60.intoArray(c, o0);
      c61.intoArray(c, o0 + l);
      o0 = cOff + 7 * ldc;
      c70.intoArray(c, o0);
      c71.intoArray(c, o0 + l);
    } else {
      o0 = cOff + 0 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c00).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c01).intoArray(c, o0 + l);
      o0 = cOff + 1 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c10).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c11).intoArray(c, o0 + l);
      o0 = cOff + 2 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c20).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c21).intoArray(c, o0 + l);
      o0 = cOff + 3 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c30).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c31).intoArray(c, o0 + l);
      o0 = cOff + 4 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c40).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c41).intoArray(c, o0 + l);
      o0 = cOff + 5 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c50).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c51).intoArray(c, o0 + l);
      o0 = cOff + 6 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c60).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c61).intoArray(c, o0 + l);
      o0 = cOff + 7 * ldc;
      DoubleVector.fromArray(s, c, o0).add(c70).intoArray(c, o0);
      DoubleVector.fromArray(s, c, o0 + l).add(c71).intoArray(c, o0 + l);
    }
  }

  // </generated>
}
