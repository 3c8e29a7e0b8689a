package dev.lowbit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * C = op(A)·op(B) with L-Mul products (Luo and Sun 2024, arXiv 2410.00907; see {@link LMul}) summed
 * in fp32, packed and register-tiled like {@link VectorGemm}: every output is still one chain
 * s = s + L-Mul(a_p, b_p) over p ascending from s = +0, so C equals {@link ScalarEmulatedGemm}'s
 * with an fp32 accumulator bit for bit (NaN payloads aside), at every width, tiling and thread
 * count.
 *
 * <p>Operands are rounded to the m-bit grid once, while packing; A is packed as its bit pattern
 * minus OFFSET(m). Where every operand of a depth step of a tile is normal and every magnitude sum
 * stays in the normal range (known exactly from each packed panel's smallest and largest magnitude
 * per step), a product is one integer add of the two patterns: the 31-bit magnitudes add without
 * reaching bit 31, where the two signs add to their xor. Other steps take the guarded lanes
 * (masks and blends for zero, subnormal, inf, NaN, overflow and underflow) and, for an inf or NaN
 * A operand, the scalar function. A product with a zero result is skipped when B is finite: s
 * starts at +0 and round-to-nearest never makes it −0, so s + ±0 = s.
 */
public final class LMulGemm {

  /** Rows of the register tile; columns are {@link #vectors} vectors. */
  static final int MR = 8;
  /** Depth block: the B micro-panel stays in L1; partial sums go through C between blocks. */
  static final int KC = 256;
  /** Rows of A packed per block. */
  static final int MC = 256;
  /** Columns of B packed per block. */
  static final int NC = 4096;
  /** Below this many products one thread does the whole product. */
  static final long PARALLEL_MIN = 1L << 18;
  /** An int magnitude sum below this has wrapped past 2^31 (true sums are at least −OFFSET). */
  static final int WRAP = -0x3F800000;

  private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
  private static final VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
  private static final VectorSpecies<Integer> I128 = IntVector.SPECIES_128;
  private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
  private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
  private static final VectorSpecies<Float> F128 = FloatVector.SPECIES_128;

  /** The preferred width, on which packB rounds whole panel rows in vectors (constant species, see VectorGemm). */
  private static final VectorSpecies<Integer> IP = IntVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Float> FP = FloatVector.SPECIES_PREFERRED;

  /** The widest nr (512 bits). */
  private static final int NR_MAX = 3 * 16;
  /** Zero start values for a first depth block (MR × the widest nr). */
  private static final float[] ZEROS = new float[MR * NR_MAX];

  private final int bits;
  private final int threads;
  private final int nr;

  /**
   * @param vectorBits 128, 256 or 512
   * @param threads the most threads one call uses, at least 1
   */
  public LMulGemm(int vectorBits, int threads) {
    if (vectorBits != 128 && vectorBits != 256 && vectorBits != 512) {
      throw new IllegalArgumentException("vector width must be 128, 256 or 512 bits, got " + vectorBits);
    }
    if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    this.bits = vectorBits;
    this.threads = threads;
    this.nr = vectors(vectorBits) * (vectorBits / 32);
  }

  /** Vectors per row of the register tile at a width (the generated kernels' shape). */
  static int vectors(int vectorBits) {
    return vectorBits == 512 ? 3 : 2;
  }

  public String name() {
    return "lmul-" + bits + "x" + threads;
  }

  /**
   * C = op(A)·op(B), m × n, overwritten; row-major with offsets and leading dimensions as in
   * {@link Gemm}.
   */
  public void gemm(Multiplier.LMul mul, boolean transA, boolean transB, int m, int n, int k,
      float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
    ScalarGemm.checkShape(m, n, k);
    if (mul == null) throw new IllegalArgumentException("multiplier missing");
    if (m == 0 || n == 0) return;
    if (k == 0) {
      for (int i = 0; i < m; i++) java.util.Arrays.fill(c, cOff + i * ldc, cOff + i * ldc + n, 0f);
      return;
    }
    Args g = new Args(mul.mantissaBits(), mul.rounding(), LMul.offset(mul.mantissaBits()),
        transA, transB, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    int rowPanels = (m + MR - 1) / MR;
    int colPanels = (n + nr - 1) / nr;
    long work = (long) m * n * k;
    int parts = (int) Math.min(threads, Math.max(1, work / PARALLEL_MIN));
    // rows when there are enough row panels for every part (each part packs all of B), else columns
    boolean byRows = rowPanels >= parts || rowPanels >= colPanels;
    int panels = byRows ? rowPanels : colPanels;
    parts = Math.min(parts, panels);
    int unit = byRows ? MR : nr;
    int per = (panels + parts - 1) / parts;
    int nParts = (panels + per - 1) / per;
    Parallel.forParts(nParts, nParts, (lo, hi) -> {
      for (int t = lo; t < hi; t++) {
        int from = t * per * unit;
        int to = Math.min(byRows ? m : n, (t + 1) * per * unit);
        if (byRows) blocked(g, from, to, 0, n); else blocked(g, 0, m, from, to);
      }
    });
  }

  /** The call's operands and L-Mul constants. */
  private record Args(int mBits, Multiplier.OperandRounding rounding, int offset, boolean transA,
      boolean transB, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c,
      int cOff, int ldc) {

    int aBits(int i, int p) {
      float v = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
      return LMul.roundOperandBits(Float.floatToRawIntBits(v), mBits, rounding);
    }

    int bBits(int p, int j) {
      float v = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
      return LMul.roundOperandBits(Float.floatToRawIntBits(v), mBits, rounding);
    }
  }

  /** Per-thread packing buffers, grown on demand. */
  private static final class Scratch {
    int[] ap = new int[0];
    int[] bp = new int[0];
    int[] aLo = new int[0];
    int[] aHi = new int[0];
    int[] bLo = new int[0];
    int[] bHi = new int[0];
    /** Each panel's smallest and largest magnitude over the whole depth block. */
    int[] aBlockLo = new int[0];
    int[] aBlockHi = new int[0];
    int[] bBlockLo = new int[0];
    int[] bBlockHi = new int[0];
    /** One row of A's (or column of B's) depth block, rounded, before it is spread over its panel. */
    final int[] row = new int[KC];
    final float[] tile = new float[MR * NR_MAX];
    final int[] lanes = new int[16];
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private static int[] grow(int[] x, int size) {
    return x.length >= size ? x : new int[size];
  }

  /** C[i0..i1, j0..j1]. */
  private void blocked(Args g, int i0, int i1, int j0, int j1) {
    Scratch sc = SCRATCH.get();
    int k = g.k();
    for (int jc = j0; jc < j1; jc += NC) {
      int nc = Math.min(NC, j1 - jc);
      int bPanels = (nc + nr - 1) / nr;
      for (int pc = 0; pc < k; pc += KC) {
        int kc = Math.min(KC, k - pc);
        sc.bp = grow(sc.bp, bPanels * nr * kc);
        sc.bLo = grow(sc.bLo, bPanels * kc);
        sc.bHi = grow(sc.bHi, bPanels * kc);
        sc.bBlockLo = grow(sc.bBlockLo, bPanels);
        sc.bBlockHi = grow(sc.bBlockHi, bPanels);
        packB(g, jc, nc, pc, kc, sc);
        for (int ic = i0; ic < i1; ic += MC) {
          int mc = Math.min(MC, i1 - ic);
          int aPanels = (mc + MR - 1) / MR;
          sc.ap = grow(sc.ap, aPanels * MR * kc);
          sc.aLo = grow(sc.aLo, aPanels * kc);
          sc.aHi = grow(sc.aHi, aPanels * kc);
          sc.aBlockLo = grow(sc.aBlockLo, aPanels);
          sc.aBlockHi = grow(sc.aBlockHi, aPanels);
          packA(g, ic, mc, pc, kc, sc);
          for (int jp = 0; jp < bPanels; jp++) {
            int nw = Math.min(nr, nc - jp * nr);
            for (int ip = 0; ip < aPanels; ip++) {
              int mh = Math.min(MR, mc - ip * MR);
              tile(g, sc, ip, jp, kc, pc > 0, mh, nw, g.cOff() + (ic + ip * MR) * g.ldc() + jc + jp * nr);
            }
          }
        }
      }
    }
  }

  /**
   * Packs op(B)[pc..pc+kc, jc..jc+nc] as panels bp[(panel·kc + p)·nr + j] of rounded bit patterns
   * (zero-padded), with each panel step's smallest and largest magnitude.
   */
  private void packB(Args g, int jc, int nc, int pc, int kc, Scratch sc) {
    // rows of op(B) are contiguous when B is not transposed: full panel rows go through vectors
    boolean vec = nr % IP.length() == 0;
    for (int jp = 0, base = 0; jp * nr < nc; jp++, base += kc * nr) {
      int w = Math.min(nr, nc - jp * nr);
      if (g.transB()) {
        // a column of op(B) is contiguous along the depth
        int s0 = jp * kc;
        java.util.Arrays.fill(sc.bLo, s0, s0 + kc, Integer.MAX_VALUE);
        java.util.Arrays.fill(sc.bHi, s0, s0 + kc, 0);
        if (w < nr) java.util.Arrays.fill(sc.bp, base, base + kc * nr, 0);
        for (int j = 0; j < w; j++) {
          packRun(g, g.b(), g.bOff() + (jc + jp * nr + j) * g.ldb() + pc, kc, 0, sc.bp, base + j, nr,
              sc.bLo, sc.bHi, s0, sc.row);
        }
        blockBounds(sc.bLo, sc.bHi, s0, kc, sc.bBlockLo, sc.bBlockHi, jp);
        continue;
      }
      for (int p = 0; p < kc; p++) {
        if (vec && w == nr) {
          packRow(g, g.bOff() + (pc + p) * g.ldb() + jc + jp * nr, sc, base + p * nr, jp * kc + p);
          continue;
        }
        int lo = Integer.MAX_VALUE;
        int hi = 0;
        int d = base + p * nr;
        for (int j = 0; j < w; j++) {
          int v = g.bBits(pc + p, jc + jp * nr + j);
          sc.bp[d + j] = v;
          int mag = v & 0x7FFFFFFF;
          lo = Math.min(lo, mag);
          hi = Math.max(hi, mag);
        }
        for (int j = w; j < nr; j++) sc.bp[d + j] = 0;
        sc.bLo[jp * kc + p] = lo;
        sc.bHi[jp * kc + p] = hi;
      }
      blockBounds(sc.bLo, sc.bHi, jp * kc, kc, sc.bBlockLo, sc.bBlockHi, jp);
    }
  }

  /** The smallest and largest of the step bounds lo/hi[from..from+kc) into blockLo/blockHi[panel]. */
  private static void blockBounds(int[] lo, int[] hi, int from, int kc, int[] blockLo, int[] blockHi, int panel) {
    int l = Integer.MAX_VALUE, h = 0;
    for (int p = from; p < from + kc; p++) {
      l = Math.min(l, lo[p]);
      h = Math.max(h, hi[p]);
    }
    blockLo[panel] = l;
    blockHi[panel] = h;
  }

  /**
   * One full panel row of B (nr contiguous values from b[src], a whole number of preferred
   * vectors) rounded as {@link LMul#roundOperandBits} does, into bp[dst..dst+nr), with its smallest
   * and largest magnitude.
   */
  private void packRow(Args g, int src, Scratch sc, int dst, int step) {
    int l = IP.length();
    IntVector lo = IntVector.broadcast(IP, Integer.MAX_VALUE);
    IntVector hi = IntVector.zero(IP);
    for (int j = 0; j < nr; j += l) {
      IntVector x = FloatVector.fromArray(FP, g.b(), src + j).reinterpretAsInts();
      IntVector r = roundedMagnitude(x, g);
      x.and(0x80000000).or(r).intoArray(sc.bp, dst + j);
      lo = lo.min(r);
      hi = hi.max(r);
    }
    sc.bLo[step] = lo.reduceLanes(VectorOperators.MIN);
    sc.bHi[step] = hi.reduceLanes(VectorOperators.MAX);
  }

  /**
   * |x| on the m-bit grid (d = 23 − m dropped bits), lane for lane as {@link
   * LMul#roundOperandBits}; NaN magnitudes stay as they are.
   */
  private static IntVector roundedMagnitude(IntVector x, Args g) {
    int d = 23 - g.mBits();
    IntVector mag = x.and(0x7FFFFFFF);
    if (d == 0) return mag;
    int keep = ~((1 << d) - 1);
    IntVector r = g.rounding() == Multiplier.OperandRounding.RNE
        ? mag.add(mag.lanewise(VectorOperators.LSHR, d).and(1)).add((1 << (d - 1)) - 1).and(keep)
        : mag.and(keep);
    return r.blend(mag, mag.compare(VectorOperators.GT, 0x7F800000));
  }

  /**
   * Packs op(A)[ic..ic+mc, pc..pc+kc] as panels ap[(panel·kc + p)·MR + r] of rounded bit patterns
   * minus OFFSET (padded rows hold −OFFSET), with each panel step's smallest and largest magnitude.
   */
  private static void packA(Args g, int ic, int mc, int pc, int kc, Scratch sc) {
    int offset = g.offset();
    for (int ip = 0, base = 0; ip * MR < mc; ip++, base += kc * MR) {
      int rows = Math.min(MR, mc - ip * MR);
      int s0 = ip * kc;
      java.util.Arrays.fill(sc.aLo, s0, s0 + kc, Integer.MAX_VALUE);
      java.util.Arrays.fill(sc.aHi, s0, s0 + kc, 0);
      if (rows < MR) java.util.Arrays.fill(sc.ap, base, base + kc * MR, -offset);
      if (g.transA() && rows == MR && FP.length() >= MR) {
        // a step of a full panel of op(Aᵀ) is MR contiguous values: one 256-bit vector
        packStep(g, g.aOff() + pc * g.lda() + ic + ip * MR, kc, offset, sc.ap, base, sc.aLo, sc.aHi, s0);
        blockBounds(sc.aLo, sc.aHi, s0, kc, sc.aBlockLo, sc.aBlockHi, ip);
        continue;
      }
      for (int r = 0; r < rows; r++) {
        int i = ic + ip * MR + r;
        if (!g.transA()) {
          // a row of op(A) is contiguous along the depth
          packRun(g, g.a(), g.aOff() + i * g.lda() + pc, kc, offset, sc.ap, base + r, MR, sc.aLo, sc.aHi, s0, sc.row);
          continue;
        }
        for (int p = 0; p < kc; p++) {
          int v = g.aBits(i, pc + p);
          sc.ap[base + p * MR + r] = v - offset;
          int mag = v & 0x7FFFFFFF;
          sc.aLo[s0 + p] = Math.min(sc.aLo[s0 + p], mag);
          sc.aHi[s0 + p] = Math.max(sc.aHi[s0 + p], mag);
        }
      }
      blockBounds(sc.aLo, sc.aHi, s0, kc, sc.aBlockLo, sc.aBlockHi, ip);
    }
  }

  /**
   * Transposed A, a full panel: step p's MR values a[src + p·lda ..] rounded as {@link
   * LMul#roundOperandBits} does, minus offset, into ap[base + p·MR ..], with the step's bounds.
   */
  private static void packStep(Args g, int src, int kc, int offset, int[] ap, int base, int[] lo, int[] hi, int s0) {
    for (int p = 0; p < kc; p++) {
      IntVector v = FloatVector.fromArray(F256, g.a(), src + p * g.lda()).reinterpretAsInts();
      IntVector mag = roundedMagnitude(v, g);
      v.and(0x80000000).or(mag).sub(offset).intoArray(ap, base + p * MR);
      lo[s0 + p] = mag.reduceLanes(VectorOperators.MIN);
      hi[s0 + p] = mag.reduceLanes(VectorOperators.MAX);
    }
  }

  /**
   * The kc values x[src..src+kc), one per depth step, rounded as {@link LMul#roundOperandBits}
   * does, minus sub, into dst[d0 + p·stride], each widening its step's bounds lo/hi[s0 + p]:
   * whole vectors of steps are rounded in lanes (through row), the rest one by one.
   */
  private static void packRun(Args g, float[] x, int src, int kc, int sub, int[] dst, int d0, int stride,
      int[] lo, int[] hi, int s0, int[] row) {
    int l = IP.length();
    int kv = kc - kc % l;
    for (int p = 0; p < kv; p += l) {
      IntVector v = FloatVector.fromArray(FP, x, src + p).reinterpretAsInts();
      IntVector mag = roundedMagnitude(v, g);
      v.and(0x80000000).or(mag).sub(sub).intoArray(row, p);
      IntVector.fromArray(IP, lo, s0 + p).min(mag).intoArray(lo, s0 + p);
      IntVector.fromArray(IP, hi, s0 + p).max(mag).intoArray(hi, s0 + p);
    }
    for (int p = 0; p < kv; p++) dst[d0 + p * stride] = row[p];
    for (int p = kv; p < kc; p++) {
      int v = LMul.roundOperandBits(Float.floatToRawIntBits(x[src + p]), g.mBits(), g.rounding());
      dst[d0 + p * stride] = v - sub;
      int mag = v & 0x7FFFFFFF;
      lo[s0 + p] = Math.min(lo[s0 + p], mag);
      hi[s0 + p] = Math.max(hi[s0 + p], mag);
    }
  }

  /**
   * One MR × nr tile over a depth block: in one lean run when the panels' block-wide bounds make
   * every step lean (the usual case), else in runs of steps that are all lean (one integer add per
   * product) or all guarded; the sums pass through C (or the edge buffer) between runs and blocks.
   */
  private void tile(Args g, Scratch sc, int ip, int jp, int kc, boolean load, int mh, int nw, int co) {
    float[] c = g.c();
    int ldc = g.ldc();
    boolean full = mh == MR && nw == nr;
    float[] dst = full ? c : sc.tile;
    int dOff = full ? co : 0;
    int ldd = full ? ldc : nr;
    if (!full && load) {
      for (int r = 0; r < mh; r++) System.arraycopy(c, co + r * ldc, sc.tile, r * nr, nw);
    }
    int ai = ip * kc * MR;
    int bi = jp * kc * nr;
    int as = ip * kc;
    int bs = jp * kc;
    long low = 0x00800000L + g.offset();
    long high = 0x7F800000L + g.offset();
    float[] src = load ? dst : ZEROS;
    int sOff = load ? dOff : 0;
    int lds = load ? ldd : nr;
    if (lean(sc.aBlockLo[ip], sc.aBlockHi[ip], sc.bBlockLo[jp], sc.bBlockHi[jp], low, high)) {
      kernelLean(0, kc, sc.ap, ai, sc.bp, bi, src, sOff, lds, dst, dOff, ldd);
    } else {
      boolean lean = leanStep(sc, as, bs, low, high);
      for (int p = 0; p < kc; ) {
        // each step's lean-ness is decided once: the step that ends a run starts the next one
        int q = p + 1;
        boolean next = false;
        while (q < kc && (next = leanStep(sc, as + q, bs + q, low, high)) == lean) q++;
        if (lean) {
          kernelLean(p, q, sc.ap, ai, sc.bp, bi, src, sOff, lds, dst, dOff, ldd);
        } else {
          kernelGuarded(p, q, g.offset(), sc.ap, ai, sc.bp, bi, sc.bHi, bs, src, sOff, lds, dst, dOff, ldd, sc.lanes);
        }
        src = dst;
        sOff = dOff;
        lds = ldd;
        lean = next;
        p = q;
      }
    }
    if (!full) {
      for (int r = 0; r < mh; r++) System.arraycopy(sc.tile, r * nr, c, co + r * ldc, nw);
    }
  }

  /** Whether the products of one tile depth step are all lean (see {@link #lean}). */
  private static boolean leanStep(Scratch sc, int sa, int sb, long low, long high) {
    return lean(sc.aLo[sa], sc.aHi[sa], sc.bLo[sb], sc.bHi[sb], low, high);
  }

  /**
   * Whether every product a·b with aLo ≤ |a| ≤ aHi and bLo ≤ |b| ≤ bHi is a normal number from
   * normal operands: the magnitude sum is monotone in each operand, so the bounds bound all of them
   * (bounds over a whole depth block included, which are looser than each step's).
   */
  private static boolean lean(int aLo, int aHi, int bLo, int bHi, long low, long high) {
    return aLo >= 0x00800000 && bLo >= 0x00800000 && aHi < 0x7F800000 && bHi < 0x7F800000
        && (long) aLo + bLo >= low && (long) aHi + bHi < high;
  }

  // <generated: LMulGemm micro-kernels; do not edit, run java lowbit-core/src/test/java/dev/lowbit/codegen/GenerateKernels.java>
  private void kernelLean(
      int p0, int p1, int[] ap, int ai, int[] bp, int bi,
      float[] src, int sOff, int lds, float[] c, int cOff, int ldc) {
    switch (bits) {
      case 512 -> kernelLean512(p0, p1, ap, ai, bp, bi, src, sOff, lds, c, cOff, ldc);
      case 256 -> kernelLean256(p0, p1, ap, ai, bp, bi, src, sOff, lds, c, cOff, ldc);
      default -> kernelLean128(p0, p1, ap, ai, bp, bi, src, sOff, lds, c, cOff, ldc);
    }
  }

  private void kernelGuarded(
      int p0, int p1, int offset, int[] ap, int ai, int[] bp, int bi, int[] bHi, int bs,
      float[] src, int sOff, int lds, float[] c, int cOff, int ldc, int[] lanes) {
    switch (bits) {
      case 512 -> kernelGuarded512(p0, p1, offset, ap, ai, bp, bi, bHi, bs, src, sOff, lds, c, cOff, ldc, lanes);
      case 256 -> kernelGuarded256(p0, p1, offset, ap, ai, bp, bi, bHi, bs, src, sOff, lds, c, cOff, ldc, lanes);
      default -> kernelGuarded128(p0, p1, offset, ap, ai, bp, bi, bHi, bs, src, sOff, lds, c, cOff, ldc, lanes);
    }
  }

  // Generated: MR=8 rows x 3 vectors of fp32 sums; a product is one int add of bit patterns (lean steps only).
  private static void kernelLean512(
      int p0, int p1, int[] ap, int ai, int[] bp, int bi,
      float[] src, int sOff, int lds, float[] c, int cOff, int ldc) {
    final VectorSpecies<Integer> s = I512;
    final VectorSpecies<Float> f = F512;
    final int l = s.length();
    FloatVector c00 = FloatVector.fromArray(f, src, sOff + 0 * lds), c01 = FloatVector.fromArray(f, src, sOff + 0 * lds + l), c02 = FloatVector.fromArray(f, src, sOff + 0 * lds + 2 * l);
    FloatVector c10 = FloatVector.fromArray(f, src, sOff + 1 * lds), c11 = FloatVector.fromArray(f, src, sOff + 1 * lds + l), c12 = FloatVector.fromArray(f, src, sOff + 1 * lds + 2 * l);
    FloatVector c20 = FloatVector.fromArray(f, src, sOff + 2 * lds), c21 = FloatVector.fromArray(f, src, sOff + 2 * lds + l), c22 = FloatVector.fromArray(f, src, sOff + 2 * lds + 2 * l);
    FloatVector c30 = FloatVector.fromArray(f, src, sOff + 3 * lds), c31 = FloatVector.fromArray(f, src, sOff + 3 * lds + l), c32 = FloatVector.fromArray(f, src, sOff + 3 * lds + 2 * l);
    FloatVector c40 = FloatVector.fromArray(f, src, sOff + 4 * lds), c41 = FloatVector.fromArray(f, src, sOff + 4 * lds + l), c42 = FloatVector.fromArray(f, src, sOff + 4 * lds + 2 * l);
    FloatVector c50 = FloatVector.fromArray(f, src, sOff + 5 * lds), c51 = FloatVector.fromArray(f, src, sOff + 5 * lds + l), c52 = FloatVector.fromArray(f, src, sOff + 5 * lds + 2 * l);
    FloatVector c60 = FloatVector.fromArray(f, src, sOff + 6 * lds), c61 = FloatVector.fromArray(f, src, sOff + 6 * lds + l), c62 = FloatVector.fromArray(f, src, sOff + 6 * lds + 2 * l);
    FloatVector c70 = FloatVector.fromArray(f, src, sOff + 7 * lds), c71 = FloatVector.fromArray(f, src, sOff + 7 * lds + l), c72 = FloatVector.fromArray(f, src, sOff + 7 * lds + 2 * l);
    for (int p = p0; p < p1; p++) {
      final int pa = ai + p * MR;
      final int pb = bi + p * 3 * l;
      IntVector b0 = IntVector.fromArray(s, bp, pb);
      IntVector b1 = IntVector.fromArray(s, bp, pb + l);
      IntVector b2 = IntVector.fromArray(s, bp, pb + 2 * l);
      IntVector a;
      a = IntVector.broadcast(s, ap[pa + 0]);
      c00 = c00.add(b0.add(a).reinterpretAsFloats());
      c01 = c01.add(b1.add(a).reinterpretAsFloats());
      c02 = c02.add(b2.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 1]);
      c10 = c10.add(b0.add(a).reinterpretAsFloats());
      c11 = c11.add(b1.add(a).reinterpretAsFloats());
      c12 = c12.add(b2.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 2]);
      c20 = c20.add(b0.add(a).reinterpretAsFloats());
      c21 = c21.add(b1.add(a).reinterpretAsFloats());
      c22 = c22.add(b2.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 3]);
      c30 = c30.add(b0.add(a).reinterpretAsFloats());
      c31 = c31.add(b1.add(a).reinterpretAsFloats());
      c32 = c32.add(b2.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 4]);
      c40 = c40.add(b0.add(a).reinterpretAsFloats());
      c41 = c41.add(b1.add(a).reinterpretAsFloats());
      c42 = c42.add(b2.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 5]);
      c50 = c50.add(b0.add(a).reinterpretAsFloats());
      c51 = c51.add(b1.add(a).reinterpretAsFloats());
      c52 = c52.add(b2.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 6]);
      c60 = c60.add(b0.add(a).reinterpretAsFloats());
      c61 = c61.add(b1.add(a).reinterpretAsFloats());
      c62 = c62.add(b2.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 7]);
      c70 = c70.add(b0.add(a).reinterpretAsFloats());
      c71 = c71.add(b1.add(a).reinterpretAsFloats());
      c72 = c72.add(b2.add(a).reinterpretAsFloats());
    }
    c00.intoArray(c, cOff + 0 * ldc);
    c01.intoArray(c, cOff + 0 * ldc + l);
    c02.intoArray(c, cOff + 0 * ldc + 2 * l);
    c10.intoArray(c, cOff + 1 * ldc);
    c11.intoArray(c, cOff + 1 * ldc + l);
    c12.intoArray(c, cOff + 1 * ldc + 2 * l);
    c20.intoArray(c, cOff + 2 * ldc);
    c21.intoArray(c, cOff + 2 * ldc + l);
    c22.intoArray(c, cOff + 2 * ldc + 2 * l);
    c30.intoArray(c, cOff + 3 * ldc);
    c31.intoArray(c, cOff + 3 * ldc + l);
    c32.intoArray(c, cOff + 3 * ldc + 2 * l);
    c40.intoArray(c, cOff + 4 * ldc);
    c41.intoArray(c, cOff + 4 * ldc + l);
    c42.intoArray(c, cOff + 4 * ldc + 2 * l);
    c50.intoArray(c, cOff + 5 * ldc);
    c51.intoArray(c, cOff + 5 * ldc + l);
    c52.intoArray(c, cOff + 5 * ldc + 2 * l);
    c60.intoArray(c, cOff + 6 * ldc);
    c61.intoArray(c, cOff + 6 * ldc + l);
    c62.intoArray(c, cOff + 6 * ldc + 2 * l);
    c70.intoArray(c, cOff + 7 * ldc);
    c71.intoArray(c, cOff + 7 * ldc + l);
    c72.intoArray(c, cOff + 7 * ldc + 2 * l);
  }

  // Generated: MR=8 rows x 2 vectors of fp32 sums; a product is one int add of bit patterns (lean steps only).
  private static void kernelLean256(
      int p0, int p1, int[] ap, int ai, int[] bp, int bi,
      float[] src, int sOff, int lds, float[] c, int cOff, int ldc) {
    final VectorSpecies<Integer> s = I256;
    final VectorSpecies<Float> f = F256;
    final int l = s.length();
    FloatVector c00 = FloatVector.fromArray(f, src, sOff + 0 * lds), c01 = FloatVector.fromArray(f, src, sOff + 0 * lds + l);
    FloatVector c10 = FloatVector.fromArray(f, src, sOff + 1 * lds), c11 = FloatVector.fromArray(f, src, sOff + 1 * lds + l);
    FloatVector c20 = FloatVector.fromArray(f, src, sOff + 2 * lds), c21 = FloatVector.fromArray(f, src, sOff + 2 * lds + l);
    FloatVector c30 = FloatVector.fromArray(f, src, sOff + 3 * lds), c31 = FloatVector.fromArray(f, src, sOff + 3 * lds + l);
    FloatVector c40 = FloatVector.fromArray(f, src, sOff + 4 * lds), c41 = FloatVector.fromArray(f, src, sOff + 4 * lds + l);
    FloatVector c50 = FloatVector.fromArray(f, src, sOff + 5 * lds), c51 = FloatVector.fromArray(f, src, sOff + 5 * lds + l);
    FloatVector c60 = FloatVector.fromArray(f, src, sOff + 6 * lds), c61 = FloatVector.fromArray(f, src, sOff + 6 * lds + l);
    FloatVector c70 = FloatVector.fromArray(f, src, sOff + 7 * lds), c71 = FloatVector.fromArray(f, src, sOff + 7 * lds + l);
    for (int p = p0; p < p1; p++) {
      final int pa = ai + p * MR;
      final int pb = bi + p * 2 * l;
      IntVector b0 = IntVector.fromArray(s, bp, pb);
      IntVector b1 = IntVector.fromArray(s, bp, pb + l);
      IntVector a;
      a = IntVector.broadcast(s, ap[pa + 0]);
      c00 = c00.add(b0.add(a).reinterpretAsFloats());
      c01 = c01.add(b1.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 1]);
      c10 = c10.add(b0.add(a).reinterpretAsFloats());
      c11 = c11.add(b1.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 2]);
      c20 = c20.add(b0.add(a).reinterpretAsFloats());
      c21 = c21.add(b1.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 3]);
      c30 = c30.add(b0.add(a).reinterpretAsFloats());
      c31 = c31.add(b1.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 4]);
      c40 = c40.add(b0.add(a).reinterpretAsFloats());
      c41 = c41.add(b1.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 5]);
      c50 = c50.add(b0.add(a).reinterpretAsFloats());
      c51 = c51.add(b1.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 6]);
      c60 = c60.add(b0.add(a).reinterpretAsFloats());
      c61 = c61.add(b1.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 7]);
      c70 = c70.add(b0.add(a).reinterpretAsFloats());
      c71 = c71.add(b1.add(a).reinterpretAsFloats());
    }
    c00.intoArray(c, cOff + 0 * ldc);
    c01.intoArray(c, cOff + 0 * ldc + l);
    c10.intoArray(c, cOff + 1 * ldc);
    c11.intoArray(c, cOff + 1 * ldc + l);
    c20.intoArray(c, cOff + 2 * ldc);
    c21.intoArray(c, cOff + 2 * ldc + l);
    c30.intoArray(c, cOff + 3 * ldc);
    c31.intoArray(c, cOff + 3 * ldc + l);
    c40.intoArray(c, cOff + 4 * ldc);
    c41.intoArray(c, cOff + 4 * ldc + l);
    c50.intoArray(c, cOff + 5 * ldc);
    c51.intoArray(c, cOff + 5 * ldc + l);
    c60.intoArray(c, cOff + 6 * ldc);
    c61.intoArray(c, cOff + 6 * ldc + l);
    c70.intoArray(c, cOff + 7 * ldc);
    c71.intoArray(c, cOff + 7 * ldc + l);
  }

  // Generated: MR=8 rows x 2 vectors of fp32 sums; a product is one int add of bit patterns (lean steps only).
  private static void kernelLean128(
      int p0, int p1, int[] ap, int ai, int[] bp, int bi,
      float[] src, int sOff, int lds, float[] c, int cOff, int ldc) {
    final VectorSpecies<Integer> s = I128;
    final VectorSpecies<Float> f = F128;
    final int l = s.length();
    FloatVector c00 = FloatVector.fromArray(f, src, sOff + 0 * lds), c01 = FloatVector.fromArray(f, src, sOff + 0 * lds + l);
    FloatVector c10 = FloatVector.fromArray(f, src, sOff + 1 * lds), c11 = FloatVector.fromArray(f, src, sOff + 1 * lds + l);
    FloatVector c20 = FloatVector.fromArray(f, src, sOff + 2 * lds), c21 = FloatVector.fromArray(f, src, sOff + 2 * lds + l);
    FloatVector c30 = FloatVector.fromArray(f, src, sOff + 3 * lds), c31 = FloatVector.fromArray(f, src, sOff + 3 * lds + l);
    FloatVector c40 = FloatVector.fromArray(f, src, sOff + 4 * lds), c41 = FloatVector.fromArray(f, src, sOff + 4 * lds + l);
    FloatVector c50 = FloatVector.fromArray(f, src, sOff + 5 * lds), c51 = FloatVector.fromArray(f, src, sOff + 5 * lds + l);
    FloatVector c60 = FloatVector.fromArray(f, src, sOff + 6 * lds), c61 = FloatVector.fromArray(f, src, sOff + 6 * lds + l);
    FloatVector c70 = FloatVector.fromArray(f, src, sOff + 7 * lds), c71 = FloatVector.fromArray(f, src, sOff + 7 * lds + l);
    for (int p = p0; p < p1; p++) {
      final int pa = ai + p * MR;
      final int pb = bi + p * 2 * l;
      IntVector b0 = IntVector.fromArray(s, bp, pb);
      IntVector b1 = IntVector.fromArray(s, bp, pb + l);
      IntVector a;
      a = IntVector.broadcast(s, ap[pa + 0]);
      c00 = c00.add(b0.add(a).reinterpretAsFloats());
      c01 = c01.add(b1.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 1]);
      c10 = c10.add(b0.add(a).reinterpretAsFloats());
      c11 = c11.add(b1.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 2]);
      c20 = c20.add(b0.add(a).reinterpretAsFloats());
      c21 = c21.add(b1.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 3]);
      c30 = c30.add(b0.add(a).reinterpretAsFloats());
      c31 = c31.add(b1.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 4]);
      c40 = c40.add(b0.add(a).reinterpretAsFloats());
      c41 = c41.add(b1.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 5]);
      c50 = c50.add(b0.add(a).reinterpretAsFloats());
      c51 = c51.add(b1.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 6]);
      c60 = c60.add(b0.add(a).reinterpretAsFloats());
      c61 = c61.add(b1.add(a).reinterpretAsFloats());
      a = IntVector.broadcast(s, ap[pa + 7]);
      c70 = c70.add(b0.add(a).reinterpretAsFloats());
      c71 = c71.add(b1.add(a).reinterpretAsFloats());
    }
    c00.intoArray(c, cOff + 0 * ldc);
    c01.intoArray(c, cOff + 0 * ldc + l);
    c10.intoArray(c, cOff + 1 * ldc);
    c11.intoArray(c, cOff + 1 * ldc + l);
    c20.intoArray(c, cOff + 2 * ldc);
    c21.intoArray(c, cOff + 2 * ldc + l);
    c30.intoArray(c, cOff + 3 * ldc);
    c31.intoArray(c, cOff + 3 * ldc + l);
    c40.intoArray(c, cOff + 4 * ldc);
    c41.intoArray(c, cOff + 4 * ldc + l);
    c50.intoArray(c, cOff + 5 * ldc);
    c51.intoArray(c, cOff + 5 * ldc + l);
    c60.intoArray(c, cOff + 6 * ldc);
    c61.intoArray(c, cOff + 6 * ldc + l);
    c70.intoArray(c, cOff + 7 * ldc);
    c71.intoArray(c, cOff + 7 * ldc + l);
  }

  // Generated: the guarded steps, one accumulator (row r, vector v) at a time along p; the
  // masks follow LMul.lmulBits for a normal A operand, an inf or NaN one takes the scalar
  // function lane by lane, and a zero A operand with finite B adds a zero, which is skipped.
  private static void kernelGuarded512(
      int p0, int p1, int offset, int[] ap, int ai, int[] bp, int bi, int[] bHi, int bs,
      float[] src, int sOff, int lds, float[] c, int cOff, int ldc, int[] lanes) {
    final VectorSpecies<Integer> s = I512;
    final VectorSpecies<Float> f = F512;
    final int l = s.length();
    for (int v = 0; v < 3; v++) {
      for (int r = 0; r < MR; r++) {
        FloatVector acc = FloatVector.fromArray(f, src, sOff + r * lds + v * l);
        for (int p = p0; p < p1; p++) {
          int ab = ap[ai + p * MR + r] + offset;
          int am = ab & 0x7FFFFFFF;
          if (am < 0x00800000 && bHi[bs + p] < 0x7F800000) continue;
          int pb = bi + p * 3 * l + v * l;
          IntVector prod;
          if (am >= 0x00800000 && am < 0x7F800000) {
            IntVector by = IntVector.fromArray(s, bp, pb);
            IntVector bm = by.and(0x7FFFFFFF);
            IntVector sign = by.and(0x80000000).lanewise(VectorOperators.XOR, ab & 0x80000000);
            IntVector mag = bm.add(am - offset);
            VectorMask<Integer> inf = mag.compare(VectorOperators.GE, 0x7F800000)
                .or(mag.compare(VectorOperators.LT, WRAP)).or(bm.compare(VectorOperators.EQ, 0x7F800000));
            VectorMask<Integer> zero = mag.compare(VectorOperators.LT, 0x00800000)
                .and(mag.compare(VectorOperators.GE, WRAP)).or(bm.compare(VectorOperators.LT, 0x00800000));
            prod = sign.or(mag).blend(sign.or(0x7F800000), inf).blend(sign, zero)
                .blend(0x7FC00000, bm.compare(VectorOperators.GT, 0x7F800000));
          } else {
            for (int j = 0; j < l; j++) lanes[j] = LMul.lmulBits(ab, bp[pb + j], offset);
            prod = IntVector.fromArray(s, lanes, 0);
          }
          acc = acc.add(prod.reinterpretAsFloats());
        }
        acc.intoArray(c, cOff + r * ldc + v * l);
      }
    }
  }

  // Generated: the guarded steps, one accumulator (row r, vector v) at a time along p; the
  // masks follow LMul.lmulBits for a normal A operand, an inf or NaN one takes the scalar
  // function lane by lane, and a zero A operand with finite B adds a zero, which is skipped.
  private static void kernelGuarded256(
      int p0, int p1, int offset, int[] ap, int ai, int[] bp, int bi, int[] bHi, int bs,
      float[] src, int sOff, int lds, float[] c, int cOff, int ldc, int[] lanes) {
    final VectorSpecies<Integer> s = I256;
    final VectorSpecies<Float> f = F256;
    final int l = s.length();
    for (int v = 0; v < 2; v++) {
      for (int r = 0; r < MR; r++) {
        FloatVector acc = FloatVector.fromArray(f, src, sOff + r * lds + v * l);
        for (int p = p0; p < p1; p++) {
          int ab = ap[ai + p * MR + r] + offset;
          int am = ab & 0x7FFFFFFF;
          if (am < 0x00800000 && bHi[bs + p] < 0x7F800000) continue;
          int pb = bi + p * 2 * l + v * l;
          IntVector prod;
          if (am >= 0x00800000 && am < 0x7F800000) {
            IntVector by = IntVector.fromArray(s, bp, pb);
            IntVector bm = by.and(0x7FFFFFFF);
            IntVector sign = by.and(0x80000000).lanewise(VectorOperators.XOR, ab & 0x80000000);
            IntVector mag = bm.add(am - offset);
            VectorMask<Integer> inf = mag.compare(VectorOperators.GE, 0x7F800000)
                .or(mag.compare(VectorOperators.LT, WRAP)).or(bm.compare(VectorOperators.EQ, 0x7F800000));
            VectorMask<Integer> zero = mag.compare(VectorOperators.LT, 0x00800000)
                .and(mag.compare(VectorOperators.GE, WRAP)).or(bm.compare(VectorOperators.LT, 0x00800000));
            prod = sign.or(mag).blend(sign.or(0x7F800000), inf).blend(sign, zero)
                .blend(0x7FC00000, bm.compare(VectorOperators.GT, 0x7F800000));
          } else {
            for (int j = 0; j < l; j++) lanes[j] = LMul.lmulBits(ab, bp[pb + j], offset);
            prod = IntVector.fromArray(s, lanes, 0);
          }
          acc = acc.add(prod.reinterpretAsFloats());
        }
        acc.intoArray(c, cOff + r * ldc + v * l);
      }
    }
  }

  // Generated: the guarded steps, one accumulator (row r, vector v) at a time along p; the
  // masks follow LMul.lmulBits for a normal A operand, an inf or NaN one takes the scalar
  // function lane by lane, and a zero A operand with finite B adds a zero, which is skipped.
  private static void kernelGuarded128(
      int p0, int p1, int offset, int[] ap, int ai, int[] bp, int bi, int[] bHi, int bs,
      float[] src, int sOff, int lds, float[] c, int cOff, int ldc, int[] lanes) {
    final VectorSpecies<Integer> s = I128;
    final VectorSpecies<Float> f = F128;
    final int l = s.length();
    for (int v = 0; v < 2; v++) {
      for (int r = 0; r < MR; r++) {
        FloatVector acc = FloatVector.fromArray(f, src, sOff + r * lds + v * l);
        for (int p = p0; p < p1; p++) {
          int ab = ap[ai + p * MR + r] + offset;
          int am = ab & 0x7FFFFFFF;
          if (am < 0x00800000 && bHi[bs + p] < 0x7F800000) continue;
          int pb = bi + p * 2 * l + v * l;
          IntVector prod;
          if (am >= 0x00800000 && am < 0x7F800000) {
            IntVector by = IntVector.fromArray(s, bp, pb);
            IntVector bm = by.and(0x7FFFFFFF);
            IntVector sign = by.and(0x80000000).lanewise(VectorOperators.XOR, ab & 0x80000000);
            IntVector mag = bm.add(am - offset);
            VectorMask<Integer> inf = mag.compare(VectorOperators.GE, 0x7F800000)
                .or(mag.compare(VectorOperators.LT, WRAP)).or(bm.compare(VectorOperators.EQ, 0x7F800000));
            VectorMask<Integer> zero = mag.compare(VectorOperators.LT, 0x00800000)
                .and(mag.compare(VectorOperators.GE, WRAP)).or(bm.compare(VectorOperators.LT, 0x00800000));
            prod = sign.or(mag).blend(sign.or(0x7F800000), inf).blend(sign, zero)
                .blend(0x7FC00000, bm.compare(VectorOperators.GT, 0x7F800000));
          } else {
            for (int j = 0; j < l; j++) lanes[j] = LMul.lmulBits(ab, bp[pb + j], offset);
            prod = IntVector.fromArray(s, lanes, 0);
          }
          acc = acc.add(prod.reinterpretAsFloats());
        }
        acc.intoArray(c, cOff + r * ldc + v * l);
      }
    }
  }

  // </generated>
}
