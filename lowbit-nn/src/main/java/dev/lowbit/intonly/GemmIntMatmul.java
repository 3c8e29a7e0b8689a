package dev.lowbit.intonly;

import dev.lowbit.intonly.exec.IntLayers;
import dev.lowbit.intonly.exec.IntMatmul;
import dev.lowbit.intonly.exec.Program;
import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Int8Layers;
import dev.lowbit.kernel.Kernels;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The integer executor's products on a {@link Gemm}: {@code gemmS8S8}, or {@code gemmU8S8} for
 * an unsigned A (the raw pixels), both exact int32. On {@link Kernels#gemm()} that is the Java
 * vector kernels, or oneDNN's VNNI/AMX kernels when that backend is in use. A native GEMM that
 * copies its operands ({@link Gemm#copiesOperands()}) spends a short product's time on the
 * copies (a reduction of at most {@link #SHORT_K}, or fewer than {@link #SMALL_MACS}
 * multiply-adds: attention heads, a first convolution over one channel), so those run on the
 * Java kernels; every GEMM gives the same int32 bits.
 *
 * <p>When the GEMM is also an {@link Int8Layers} (oneDNN), convolutions run on its direct int8
 * kernels and linear layers on its GEMM with packed weights ({@link IntLayers}; a short linear
 * product stays on the Java kernels as above): each op's weights are prepared (reordered into the
 * kernel's layout) once, on first use, and kept while the op is in use, keyed by the op; the int32
 * sums are exact, so the bits are those of im2col and the product.
 */
public final class GemmIntMatmul implements IntMatmul, IntLayers {

  /** Ops whose prepared weights are kept before the cache is emptied (programs in use are few). */
  static final int MAX_PREPARED = 64;

  /** The longest reduction that runs on the Java kernels beside a copying GEMM. */
  static final int SHORT_K = 32;
  /** Products of fewer multiply-adds run on the Java kernels beside a copying GEMM. */
  static final long SMALL_MACS = 1L << 18;

  private final Gemm gemm;
  /** The GEMM of short products: the Java kernels beside a copying GEMM, else {@link #gemm}. */
  private final Gemm small;
  /** The layers on prepared weights, or null. */
  private final Int8Layers layers;
  /** Per op (convolution or linear): its prepared weights, or empty when the backend declined it. */
  private final Map<Program.Op, Optional<Int8Layers.Prepared>> prepared = new ConcurrentHashMap<>();

  public GemmIntMatmul(Gemm gemm) {
    this(gemm, Objects.requireNonNull(gemm, "gemm").copiesOperands() ? Kernels.javaGemm() : gemm);
  }

  /** Products on {@code gemm}, the short ones on {@code small}. */
  GemmIntMatmul(Gemm gemm, Gemm small) {
    this.gemm = Objects.requireNonNull(gemm, "gemm");
    this.small = Objects.requireNonNull(small, "small");
    this.layers = gemm instanceof Int8Layers l ? l : null;
  }

  /** The products on the GEMM in use ({@link Kernels#gemm()}). */
  public static GemmIntMatmul inUse() {
    return new GemmIntMatmul(Kernels.gemm());
  }

  /** The GEMM's name, the short products' GEMM when that differs, and the convolutions' kernels when direct. */
  @Override
  public String name() {
    String name = small == gemm ? gemm.name() : gemm.name() + " (short products: " + small.name() + ")";
    return layers == null ? name : name + ", " + layers.int8LayersName();
  }

  @Override
  public boolean conv(Program.Conv op, int n, byte[] x, boolean unsignedX, int[] out) {
    if (layers == null) return false;
    Optional<Int8Layers.Prepared> w = weights(op, () -> layers.prepareConv(spec(op.shape()), unsignedX, op.weight()));
    return w.isPresent() && layers.int8Conv(w.get(), n, x, 0, out, 0);
  }

  /** On the packed weights, except a short product (see the class comment), which the executor sends to {@link #multiply}. */
  @Override
  public boolean linear(Program.Linear op, int rows, byte[] x, boolean unsignedX, int[] out) {
    if (layers == null || op.inF() <= SHORT_K || (long) rows * op.outF() * op.inF() < SMALL_MACS) return false;
    Optional<Int8Layers.Prepared> w = weights(op, () -> layers.prepareLinear(op.inF(), op.outF(), op.weight()));
    return w.isPresent() && layers.int8Linear(w.get(), rows, unsignedX, x, out);
  }

  /** The prepared weights of {@code op}, prepared on first use. */
  private Optional<Int8Layers.Prepared> weights(Program.Op op, java.util.function.Supplier<Int8Layers.Prepared> prepare) {
    Optional<Int8Layers.Prepared> w = prepared.get(op);
    if (w == null) {
      if (prepared.size() >= MAX_PREPARED) prepared.clear();
      w = Optional.ofNullable(prepare.get());
      prepared.put(op, w);
    }
    return w;
  }

  /** The geometry of one sample. */
  static ConvSpec spec(Program.ConvShape s) {
    return ConvSpec.of(1, s.inC(), s.inH(), s.inW(), s.outC(), s.k(), s.stride(), s.pad());
  }

  @Override
  public void multiply(Operands o, int[] c, int cOff, int ldc) {
    Gemm g = o.k() <= SHORT_K || (long) o.m() * o.n() * o.k() < SMALL_MACS ? small : gemm;
    if (o.unsignedA()) {
      g.gemmU8S8(false, o.transB(), o.m(), o.n(), o.k(), o.a(), o.aOff(), o.lda(), o.b(), o.bOff(), o.ldb(), c, cOff, ldc);
    } else {
      g.gemmS8S8(false, o.transB(), o.m(), o.n(), o.k(), o.a(), o.aOff(), o.lda(), o.b(), o.bOff(), o.ldb(), c, cOff, ldc);
    }
  }
}
