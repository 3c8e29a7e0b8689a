package dev.lowbit.onednn;

import static org.bytedeco.dnnl.global.dnnl.*;

import dev.lowbit.kernel.Kernels;
import dev.lowbit.settings.Settings;
import dev.lowbit.settings.SettingsTable;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantLock;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.dnnl.dnnl_version_t;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process-wide oneDNN runtime: loads the natives once, owns the CPU engine and its stream,
 * caches matmul primitives by shape and type, and runs them on native scratch buffers.
 *
 * <p>Thread safety: every native call runs under one lock. oneDNN already spreads one matmul over
 * all its OpenMP threads, so running two at once would buy nothing, and the lock makes the shared
 * stream and scratch buffers safe without per-thread copies.
 *
 * <p>Threads: the presets' oneDNN uses OpenMP (libgomp bundled in the jar). Its default team size
 * is the number of CPUs or {@code OMP_NUM_THREADS}; {@link #setThreads} (or the setting
 * {@code lowbit.onednn.threads}) overrides it by calling {@code omp_set_num_threads} on the calling
 * thread before each run, since that setting is per calling thread in libgomp.
 *
 * <p>OpenMP waiting: libgomp's default lets idle team threads spin for a while after each
 * parallel region, which takes a core from the Java threads that copy results out right after
 * (and from other processes). Unless {@code OMP_WAIT_POLICY} is already in the environment, the
 * runtime sets it to the setting {@code lowbit.onednn.waitPolicy} (default passive; empty keeps
 * libgomp's default) through libc's {@code setenv} before libgomp loads,
 * since libgomp reads it once at load.
 *
 * <p>Copies between Java arrays and native memory use JavaCPP's bulk {@code get/put} (JNI array
 * regions, measured faster than {@code MemorySegment.copy} into heap arrays here) and are split
 * across up to {@link #threads()} threads when large.
 */
public final class OneDnn {

  /** Copies below this many bytes run on the calling thread alone. */
  static final long PARALLEL_COPY_BYTES = 256 * 1024;

  private static final Logger LOG = LoggerFactory.getLogger(OneDnn.class);
  private static final Object INIT = new Object();
  private static volatile OneDnn instance;
  private static Throwable failure;

  final ReentrantLock lock = new ReentrantLock();
  private final dnnl_engine engine;
  private final dnnl_stream stream;
  private final String version;
  private final String isa;
  private final Map<MatmulKey, Matmul> cache = new ConcurrentHashMap<>();
  /** Shapes kept (matmuls, and conversions) before a cache is emptied and its primitives destroyed; tests lower it. */
  int maxCached = 256;
  /** Scratch slots: 0–7 for matmuls, {@link OneDnnConv}'s from {@value #CONV_SLOTS} on. */
  private final BytePointer[] buffers = new BytePointer[24];
  private final Buffer[] views = new Buffer[24];
  private final long[] bufferSizes = new long[24];
  static final int CONV_SLOTS = 8;
  private final MethodHandle ompSetNumThreads;
  private volatile int threads;

  private static volatile ExecutorService copyPool;
  private static volatile int copyPoolThreads;

  private OneDnn(Settings settings) {
    setWaitPolicy(settings.get(OneDnnSettings.WAIT_POLICY));
    threads = settings.get(OneDnnSettings.THREADS);
    Loader.load(org.bytedeco.dnnl.global.dnnl.class);
    engine = new dnnl_engine();
    check(dnnl_engine_create(engine, dnnl_cpu, 0), "dnnl_engine_create");
    stream = new dnnl_stream();
    check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "dnnl_stream_create");
    dnnl_version_t v = dnnl_version();
    version = v.major() + "." + v.minor() + "." + v.patch();
    isa = isaName(dnnl_get_effective_cpu_isa());
    ompSetNumThreads = findOmpSetNumThreads();
  }

  /** {@link #get(Settings)} with the settings in force ({@link Kernels#settings()}). */
  public static OneDnn get() {
    return get(Kernels.settings());
  }

  /**
   * The runtime, loading the natives on first use; the first load takes its OpenMP wait policy and
   * thread count from {@code settings}.
   *
   * @throws IllegalStateException naming the cause when the natives cannot load here (or are
   *     disabled by the setting {@code lowbit.onednn.disable}); the cause is remembered and thrown again
   */
  public static OneDnn get(Settings settings) {
    if (settings.get(OneDnnSettings.DISABLE)) {
      throw new IllegalStateException("oneDNN disabled by -D" + OneDnnSettings.DISABLE.key() + "=true");
    }
    OneDnn r = instance;
    if (r != null) return r;
    synchronized (INIT) {
      if (instance != null) return instance;
      if (failure != null) {
        throw new IllegalStateException("oneDNN natives did not load: " + failure, failure);
      }
      try {
        instance = new OneDnn(settings);
        LOG.debug("oneDNN {} loaded, ISA {}", instance.version, instance.isa);
        return instance;
      } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError, a failed dnnl call
        failure = t;
        throw new IllegalStateException("oneDNN natives did not load: " + t, t);
      }
    }
  }

  /** The oneDNN version, e.g. "3.11.0". */
  public String version() {
    return version;
  }

  /** The instruction set oneDNN dispatches to here, e.g. "avx512_core_amx". */
  public String isa() {
    return isa;
  }

  /**
   * Whether this CPU computes with bf16 natively (AVX512-BF16, AVX-NE-CONVERT, AMX; oneDNN's ISA
   * names avx512_core_bf16, avx512_core_fp16, avx2_vnni_2, avx10 and the AMX ones). On plain AVX-512 or
   * AVX2 oneDNN emulates bf16 with integer shifts: a bf16 convolution ran 2.5× the fp32 one and a
   * bf16 matmul 0.3× the Java fp32 GEMM, so the backend keeps bf16 products on fp32 kernels there.
   */
  public boolean nativeBf16() {
    return nativeBf16(isa);
  }

  /**
   * Whether oneDNN's int8 kernels sum exactly on this CPU: with VNNI (AVX512-VNNI or AVX-VNNI) or
   * AMX the products accumulate in int32 directly; older AVX-512 and AVX2 paths go through
   * saturating 16-bit pair sums. oneDNN names an ISA by its highest level, so every level above
   * VNNI counts too: avx512_core_bf16 (e.g. AMD Zen 4/5, which also has VNNI), avx512_core_fp16,
   * the AMX ones and avx10.
   */
  public boolean exactInt8() {
    return exactInt8(isa);
  }

  static boolean exactInt8(String isa) {
    return isa.contains("vnni") || isa.contains("amx") || isa.contains("fp16") || isa.contains("bf16")
        || isa.contains("avx10");
  }

  static boolean nativeBf16(String isa) {
    return isa.contains("bf16") || isa.contains("amx") || isa.contains("fp16") || isa.contains("vnni_2")
        || isa.contains("avx10");
  }

  /** OpenMP threads per oneDNN call; 0 keeps OpenMP's default. */
  public int threads() {
    return threads;
  }

  /** Sets the OpenMP team size for later calls (0 = OpenMP's default). */
  public void setThreads(int n) {
    if (n < 0) throw new IllegalArgumentException("oneDNN threads must be >= 0, got " + n);
    if (n > 0 && ompSetNumThreads == null) {
      LOG.warn("omp_set_num_threads not found; oneDNN keeps OpenMP's default thread count");
    }
    threads = n;
  }

  /** Primitives cached so far (for tests and logs). */
  public int cachedPrimitives() {
    return cache.size();
  }

  static void check(int status, String what) {
    if (status != dnnl_success) {
      throw new IllegalStateException(what + " failed with oneDNN status " + status);
    }
  }

  /** oneDNN's name of an ISA level (avx10 levels share their values with the older names). */
  static String isaName(int isa) {
    return switch (isa) {
      case dnnl_cpu_isa_avx10_2_512_amx_2 -> "avx10_2_512_amx_2";
      case dnnl_cpu_isa_avx10_2_512 -> "avx10_2_512";
      case dnnl_cpu_isa_avx512_core_amx_fp16 -> "avx512_core_amx_fp16";
      case dnnl_cpu_isa_avx512_core_amx -> "avx512_core_amx";
      case dnnl_cpu_isa_avx512_core_fp16 -> "avx512_core_fp16";
      case dnnl_cpu_isa_avx512_core_bf16 -> "avx512_core_bf16";
      case dnnl_cpu_isa_avx512_core_vnni -> "avx512_core_vnni";
      case dnnl_cpu_isa_avx512_core -> "avx512_core";
      case dnnl_cpu_isa_avx2_vnni_2 -> "avx2_vnni_2";
      case dnnl_cpu_isa_avx2_vnni -> "avx2_vnni";
      case dnnl_cpu_isa_avx2 -> "avx2";
      case dnnl_cpu_isa_avx -> "avx";
      case dnnl_cpu_isa_sse41 -> "sse41";
      default -> "isa#" + Integer.toHexString(isa);
    };
  }

  // libgomp is loaded by the presets as a dependency of libdnnl; look it up by its soname.
  private static MethodHandle findOmpSetNumThreads() {
    try {
      Linker linker = Linker.nativeLinker();
      Optional<MemorySegment> sym =
          SymbolLookup.loaderLookup().find("omp_set_num_threads")
              .or(() -> SymbolLookup.libraryLookup("libgomp.so.1", java.lang.foreign.Arena.global())
                  .find("omp_set_num_threads"));
      return sym.map(s -> linker.downcallHandle(s, FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT)))
          .orElse(null);
    } catch (RuntimeException | LinkageError e) {
      LOG.debug("omp_set_num_threads unavailable: {}", e.toString());
      return null;
    }
  }

  private static void setWaitPolicy(String policy) {
    if (policy.isEmpty() || System.getenv("OMP_WAIT_POLICY") != null) return;
    try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
      Linker linker = Linker.nativeLinker();
      MethodHandle setenv = linker.downcallHandle(linker.defaultLookup().find("setenv").orElseThrow(),
          FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
      int rc = (int) setenv.invokeExact(arena.allocateFrom("OMP_WAIT_POLICY"), arena.allocateFrom(policy), 0);
      LOG.debug("OMP_WAIT_POLICY={} (setenv rc {})", policy, rc);
    } catch (Throwable t) {
      LOG.debug("could not set OMP_WAIT_POLICY: {}", t.toString());
    }
  }

  /** Threads for copies and other Java-side work around a call: oneDNN's, else all processors. */
  int copyThreads() {
    int cpus = Runtime.getRuntime().availableProcessors();
    int t = threads;
    return Math.max(1, Math.min(t > 0 ? t : cpus, cpus));
  }

  /** Work on a range [from, to) of rows or elements. */
  @FunctionalInterface
  interface RangeTask {
    void run(int from, int to);
  }

  /**
   * Runs {@code task} over [0, count) in up to {@link #copyThreads()} contiguous parts, the first
   * on the calling thread; one part when {@code bytes} is small. Parts never overlap, so any
   * per-element work gives the same result however it is split.
   */
  void parallelFor(int count, long bytes, RangeTask task) {
    int parts = (int) Math.min(Math.min(copyThreads(), count), Math.max(1, bytes / PARALLEL_COPY_BYTES));
    if (parts <= 1) {
      task.run(0, count);
      return;
    }
    if (parts <= Runtime.getRuntime().availableProcessors()) {
      // the kernels' polling workers: a convolution makes several copies per pass, and waking a
      // parked pool thread for each cost tens of microseconds
      dev.lowbit.kernel.Parallel.forParts(parts, count, task::run);
      return;
    }
    ExecutorService pool = pool(parts - 1);
    @SuppressWarnings("unchecked")
    Future<?>[] fs = new Future<?>[parts - 1];
    for (int p = 1; p < parts; p++) {
      int from = (int) ((long) count * p / parts);
      int to = (int) ((long) count * (p + 1) / parts);
      fs[p - 1] = pool.submit(() -> task.run(from, to));
    }
    task.run(0, (int) ((long) count / parts));
    for (Future<?> f : fs) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while copying", e);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof RuntimeException r) throw r;
        throw new IllegalStateException(e.getCause());
      }
    }
  }

  private static ExecutorService pool(int threads) {
    ExecutorService p = copyPool;
    if (p != null && copyPoolThreads >= threads) return p;
    synchronized (INIT) {
      if (copyPool == null || copyPoolThreads < threads) {
        ExecutorService old = copyPool;
        copyPool = Executors.newFixedThreadPool(threads, r -> {
          Thread t = new Thread(r, "lowbit-onednn-copy");
          t.setDaemon(true);
          return t;
        });
        copyPoolThreads = threads;
        if (old != null) old.shutdown();
      }
      return copyPool;
    }
  }

  /** Copies {@code count} elements of {@code src} (byte[], short[] or float[]) from {@code off} to native element {@code index}. */
  static void copyIn(Object src, int off, long address, long index, int count) {
    Address at = new Address(address);
    switch (src) {
      case byte[] x -> new BytePointer(at).position(index).put(x, off, count);
      case short[] x -> new ShortPointer(at).position(index).put(x, off, count);
      case float[] x -> new FloatPointer(at).position(index).put(x, off, count);
      default -> throw new IllegalArgumentException("unsupported array " + src.getClass());
    }
  }

  /** Copies {@code count} elements from native element {@code index} into {@code dst} (int[], float[], byte[] or short[]) at {@code off}. */
  static void copyOut(long address, long index, Object dst, int off, int count) {
    Address at = new Address(address);
    switch (dst) {
      case int[] x -> new IntPointer(at).position(index).get(x, off, count);
      case float[] x -> new FloatPointer(at).position(index).get(x, off, count);
      case byte[] x -> new BytePointer(at).position(index).get(x, off, count);
      case short[] x -> new ShortPointer(at).position(index).get(x, off, count);
      default -> throw new IllegalArgumentException("unsupported array " + dst.getClass());
    }
  }

  private void applyThreads() {
    int n = threads;
    if (n > 0 && ompSetNumThreads != null) {
      try {
        ompSetNumThreads.invokeExact(n);
      } catch (Throwable t) {
        throw new IllegalStateException("omp_set_num_threads failed", t);
      }
    }
  }

  /**
   * A native buffer of at least {@code bytes}, 64-byte aligned, reused across calls. Slots keep
   * operands apart within one call. Call with the lock held.
   */
  Buffer buffer(int slot, long bytes) {
    if (bufferSizes[slot] < bytes) {
      if (buffers[slot] != null) buffers[slot].close();
      long size = Math.max(bytes, bufferSizes[slot] * 3 / 2);
      BytePointer p = new BytePointer(size + 64);
      long aligned = (p.address() + 63) & ~63L;
      buffers[slot] = p;
      views[slot] = new Buffer(new Address(aligned), MemorySegment.ofAddress(aligned).reinterpret(size));
      bufferSizes[slot] = size;
    }
    return views[slot];
  }

  /** A native scratch buffer seen both as a JavaCPP pointer (for oneDNN) and a memory segment. */
  record Buffer(Pointer pointer, MemorySegment segment) {}

  /** A pointer to the first 64-byte aligned address inside {@code p} (allocate 64 bytes extra). */
  static Pointer aligned(BytePointer p) {
    return new Address((p.address() + 63) & ~63L);
  }

  /** A JavaCPP pointer at a raw address, position 0 (the presets take Pointer for void*). */
  private static final class Address extends Pointer {
    Address(long address) {
      this.address = address;
    }
  }

  /** Shape, types and strides of one matmul; strides are in elements of each operand. */
  record MatmulKey(
      int srcType, int weiType, int dstType, int m, int n, int k,
      long aRowStride, long aColStride, long bRowStride, long bColStride, int quant) {

    MatmulKey(int srcType, int weiType, int dstType, int m, int n, int k,
        long aRowStride, long aColStride, long bRowStride, long bColStride) {
      this(srcType, weiType, dstType, m, n, k, aRowStride, aColStride, bRowStride, bColStride, 0);
    }
  }

  /** {@link MatmulKey#quant} bits: runtime weight scales per tensor / per column, src and dst zero points. */
  static final int Q_SCALE = 1, Q_SCALE_PER_COLUMN = 2, Q_SRC_ZP = 4, Q_DST_ZP = 8;

  /** A created matmul primitive (or the reason oneDNN declined to create one). */
  static final class Matmul {
    final dnnl_primitive primitive;
    final dnnl_memory_desc src;
    /** B as the caller lays it out (plain, strided). */
    final dnnl_memory_desc weiPlain;
    /** B as the primitive wants it: weiPlain, or oneDNN's blocked layout filled by {@link #reorder}. */
    final dnnl_memory_desc wei;
    final dnnl_primitive reorder;
    final long weiBytes;
    final dnnl_memory_desc dst;
    final String impl;
    final String declined;
    /** Descriptors of the runtime scale (f32) and zero-point (s32) arguments, or null. */
    dnnl_memory_desc scaleMd;
    dnnl_memory_desc zpMd;

    Matmul(dnnl_primitive p, dnnl_memory_desc s, dnnl_memory_desc wPlain, dnnl_memory_desc w,
        dnnl_primitive reorder, dnnl_memory_desc d, String impl) {
      this.primitive = p;
      this.src = s;
      this.weiPlain = wPlain;
      this.wei = w;
      this.reorder = reorder;
      this.weiBytes = dnnl_memory_desc_get_size(w);
      this.dst = d;
      this.impl = impl;
      this.declined = null;
    }

    Matmul(String declined) {
      this.primitive = this.reorder = null;
      this.src = this.weiPlain = this.wei = this.dst = null;
      this.weiBytes = 0;
      this.impl = null;
      this.declined = declined;
    }
  }

  /**
   * The primitive for a key: created on first use and cached; null when oneDNN has no
   * implementation for it (also cached, so the fallback is decided once per shape).
   */
  Matmul matmul(MatmulKey key) {
    Matmul mm = cache.get(key);
    if (mm == null) {
      if (cache.size() >= maxCached) { // bounded: shapes in a run are few
        cache.values().forEach(OneDnn::destroy);
        cache.clear();
      }
      mm = createMatmul(key);
      cache.put(key, mm);
      if (mm.declined == null) {
        LOG.debug("oneDNN matmul {}x{}x{} types {}/{}/{}: {}{}", key.m(), key.n(), key.k(),
            key.srcType(), key.weiType(), key.dstType(), mm.impl, mm.reorder != null ? " (B packed)" : "");
      } else {
        LOG.debug("oneDNN declined {}: {}", key, mm.declined);
      }
    }
    return mm.declined == null ? mm : null;
  }

  /** Frees a matmul's primitives and descriptors (lock held; it must not be used afterwards). */
  private static void destroy(Matmul mm) {
    if (mm.primitive != null) dnnl_primitive_destroy(mm.primitive);
    if (mm.reorder != null) dnnl_primitive_destroy(mm.reorder);
    for (dnnl_memory_desc d : new dnnl_memory_desc[] {mm.src, mm.weiPlain, mm.wei, mm.dst, mm.scaleMd, mm.zpMd}) {
      if (d != null) dnnl_memory_desc_destroy(d);
    }
  }

  private Matmul createMatmul(MatmulKey key) {
    if ((key.srcType() == dnnl_bf16 || key.weiType() == dnnl_bf16) && !nativeBf16()) {
      return new Matmul("no native bf16 on ISA " + isa + ": oneDNN would emulate it, slower than Java's fp32 GEMM");
    }
    long[] weiDims = {key.k(), key.n()};
    dnnl_memory_desc src = md(new long[] {key.m(), key.k()}, key.srcType(),
        new long[] {key.aRowStride(), key.aColStride()});
    dnnl_memory_desc weiPlain = md(weiDims, key.weiType(), new long[] {key.bRowStride(), key.bColStride()});
    dnnl_memory_desc weiAny = new dnnl_memory_desc();
    check(dnnl_memory_desc_create_with_tag(weiAny, 2, weiDims, key.weiType(), dnnl_format_tag_any),
        "dnnl_memory_desc_create_with_tag");
    dnnl_memory_desc dst = md(new long[] {key.m(), key.n()}, key.dstType(), new long[] {key.n(), 1});
    dnnl_primitive_desc pd = new dnnl_primitive_desc();
    dnnl_primitive_attr attr = quantAttr(key.quant());
    // B in oneDNN's own blocked layout: the path oneDNN's weight-prepacking users take
    int st = dnnl_matmul_primitive_desc_create(pd, engine, src, weiAny, null, dst, attr);
    dnnl_memory_desc_destroy(weiAny);
    if (attr != null) dnnl_primitive_attr_destroy(attr);
    if (st != dnnl_success) {
      dnnl_memory_desc_destroy(src);
      dnnl_memory_desc_destroy(weiPlain);
      dnnl_memory_desc_destroy(dst);
      return new Matmul("no oneDNN implementation (status " + st + ")");
    }
    try {
      Matmul mm = finishMatmul(pd, src, weiPlain, dst);
      if (mm.declined != null) { // only a reference implementation: nothing of it is kept
        dnnl_memory_desc_destroy(src);
        dnnl_memory_desc_destroy(weiPlain);
        dnnl_memory_desc_destroy(dst);
        return mm;
      }
      if (key.quant() != 0) {
        long scales = (key.quant() & Q_SCALE_PER_COLUMN) != 0 ? key.n() : 1;
        mm.scaleMd = md(new long[] {scales}, dnnl_f32, new long[] {1});
        mm.zpMd = md(new long[] {1}, dnnl_s32, new long[] {1});
      }
      return mm;
    } catch (IllegalStateException e) {
      dnnl_memory_desc_destroy(src);
      dnnl_memory_desc_destroy(weiPlain);
      dnnl_memory_desc_destroy(dst);
      return new Matmul(e.getMessage());
    }
  }

  private Matmul finishMatmul(dnnl_primitive_desc pd, dnnl_memory_desc src, dnnl_memory_desc weiPlain,
      dnnl_memory_desc dst) {
    dnnl_primitive_desc rpd = null;
    try {
      PointerPointer<BytePointer> info = new PointerPointer<>(1);
      check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, info), "query impl");
      String impl = info.get(BytePointer.class, 0).getString();
      if (impl.startsWith("ref")) {
        // oneDNN's reference loops (e.g. FP8 on CPUs without AMX-FP16) are slower than the Java kernels
        return new Matmul("only oneDNN's reference implementation (" + impl + ")");
      }
      dnnl_memory_desc wei = new dnnl_memory_desc();
      check(dnnl_memory_desc_clone(wei, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)),
          "dnnl_memory_desc_clone");
      dnnl_primitive reorder = null;
      if (dnnl_memory_desc_equal(wei, weiPlain) == 0) {
        rpd = new dnnl_primitive_desc();
        check(dnnl_reorder_primitive_desc_create(rpd, weiPlain, engine, wei, engine, null),
            "dnnl_reorder_primitive_desc_create");
        reorder = new dnnl_primitive();
        check(dnnl_primitive_create(reorder, rpd), "dnnl_primitive_create(reorder)");
      }
      dnnl_primitive prim = new dnnl_primitive();
      check(dnnl_primitive_create(prim, pd), "dnnl_primitive_create");
      return new Matmul(prim, src, weiPlain, wei, reorder, dst, impl);
    } finally {
      dnnl_primitive_desc_destroy(pd);
      if (rpd != null) dnnl_primitive_desc_destroy(rpd);
    }
  }

  /**
   * Attributes for a requantizing int8 matmul: weight scales set at run time (mask 0 per tensor,
   * mask 2 = per column of B), s32 zero points for src and dst (one each); null when none.
   */
  private static dnnl_primitive_attr quantAttr(int quant) {
    if (quant == 0) return null;
    dnnl_primitive_attr attr = new dnnl_primitive_attr();
    check(dnnl_primitive_attr_create(attr), "dnnl_primitive_attr_create");
    if ((quant & (Q_SCALE | Q_SCALE_PER_COLUMN)) != 0) {
      check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_WEIGHTS,
          (quant & Q_SCALE_PER_COLUMN) != 0 ? 1 << 1 : 0), "set_scales_mask");
    }
    if ((quant & Q_SRC_ZP) != 0) {
      check(dnnl_primitive_attr_set_zero_points_mask(attr, DNNL_ARG_SRC, 0), "set_zero_points_mask(src)");
    }
    if ((quant & Q_DST_ZP) != 0) {
      check(dnnl_primitive_attr_set_zero_points_mask(attr, DNNL_ARG_DST, 0), "set_zero_points_mask(dst)");
    }
    return attr;
  }

  static dnnl_memory_desc md(long[] dims, int type, long[] strides) {
    dnnl_memory_desc md = new dnnl_memory_desc();
    check(dnnl_memory_desc_create_with_strides(md, dims.length, dims, type, strides),
        "dnnl_memory_desc_create_with_strides");
    return md;
  }

  /**
   * Runs {@code mm} on native buffers: src, B in the caller's plain layout, dst. B is first packed
   * into oneDNN's layout in scratch slot {@value #PACK_SLOT} when the primitive wants that. Call
   * with the lock held.
   */
  void execute(Matmul mm, Pointer src, Pointer weiPlain, Pointer dst) {
    Pointer wei = weiPlain;
    if (mm.reorder != null) {
      wei = buffer(PACK_SLOT, mm.weiBytes).pointer();
      run(mm.reorder, DNNL_ARG_FROM, mm.weiPlain, weiPlain, DNNL_ARG_TO, mm.wei, wei, 0, null, null);
    }
    executePacked(mm, src, wei, dst);
  }

  /** Runs {@code mm} with B already in {@code mm.wei}'s layout (see {@link #pack}). Lock held. */
  void executePacked(Matmul mm, Pointer src, Pointer wei, Pointer dst) {
    run(mm.primitive, DNNL_ARG_SRC, mm.src, src, DNNL_ARG_WEIGHTS, mm.wei, wei, DNNL_ARG_DST, mm.dst, dst);
  }

  /**
   * As {@link #executePacked} for a requantizing matmul: {@code scales} (f32), {@code srcZp} and
   * {@code dstZp} (one s32 each) in native memory, null where the key has none. Lock held.
   */
  void executeQuantized(Matmul mm, Pointer src, Pointer wei, Pointer dst, Pointer scales,
      Pointer srcZp, Pointer dstZp) {
    int[] ids = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST,
        DNNL_ARG_ATTR_SCALES | DNNL_ARG_WEIGHTS, DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC,
        DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_DST};
    dnnl_memory_desc[] mds = {mm.src, mm.wei, mm.dst, mm.scaleMd, mm.zpMd, mm.zpMd};
    Pointer[] ptrs = {src, wei, dst, scales, srcZp, dstZp};
    int count = 0;
    for (int i = 0; i < ids.length; i++) {
      if (ptrs[i] != null) {
        ids[count] = ids[i];
        mds[count] = mds[i];
        ptrs[count] = ptrs[i];
        count++;
      }
    }
    runArgs(mm.primitive, count, ids, mds, ptrs);
  }

  /** Packs B (plain, {@code weiPlain}) into {@code packed}, sized {@code mm.weiBytes}. Lock held. */
  void pack(Matmul mm, Pointer weiPlain, Pointer packed) {
    if (mm.reorder == null) {
      Pointer.memcpy(packed, weiPlain, mm.weiBytes);
    } else {
      run(mm.reorder, DNNL_ARG_FROM, mm.weiPlain, weiPlain, DNNL_ARG_TO, mm.wei, packed, 0, null, null);
    }
  }

  static final int PACK_SLOT = 7;

  /** A cached element-type conversion of a compact m×n matrix (oneDNN reorder). */
  record Convert(dnnl_primitive reorder, dnnl_memory_desc from, dnnl_memory_desc to) {}

  private final Map<Long, Convert> converts = new ConcurrentHashMap<>();

  /**
   * Converts a compact row-major m×n matrix from {@code fromType} to {@code toType} natively
   * (oneDNN's reorder, run on its threads). Lock held.
   */
  void convert(int m, int n, int fromType, int toType, Pointer from, Pointer to) {
    long id = ((long) m << 32 | n) * 31 * 31 + fromType * 31L + toType;
    Convert c = converts.get(id);
    if (c == null) {
      if (converts.size() >= maxCached) {
        for (Convert x : converts.values()) {
          dnnl_primitive_destroy(x.reorder());
          dnnl_memory_desc_destroy(x.from());
          dnnl_memory_desc_destroy(x.to());
        }
        converts.clear();
      }
      dnnl_memory_desc f = md(new long[] {m, n}, fromType, new long[] {n, 1});
      dnnl_memory_desc t = md(new long[] {m, n}, toType, new long[] {n, 1});
      dnnl_primitive_desc rpd = new dnnl_primitive_desc();
      check(dnnl_reorder_primitive_desc_create(rpd, f, engine, t, engine, null), "reorder pd (convert)");
      dnnl_primitive r = new dnnl_primitive();
      try {
        check(dnnl_primitive_create(r, rpd), "dnnl_primitive_create(convert)");
      } finally {
        dnnl_primitive_desc_destroy(rpd);
      }
      c = new Convert(r, f, t);
      converts.put(id, c);
    }
    run(c.reorder(), DNNL_ARG_FROM, c.from(), from, DNNL_ARG_TO, c.to(), to, 0, null, null);
  }

  private void run(dnnl_primitive prim, int arg0, dnnl_memory_desc md0, Pointer p0,
      int arg1, dnnl_memory_desc md1, Pointer p1, int arg2, dnnl_memory_desc md2, Pointer p2) {
    runArgs(prim, md2 == null ? 2 : 3, new int[] {arg0, arg1, arg2},
        new dnnl_memory_desc[] {md0, md1, md2}, new Pointer[] {p0, p1, p2});
  }

  void runArgs(dnnl_primitive prim, int nargs, int[] argIds, dnnl_memory_desc[] mds, Pointer[] ptrs) {
    dnnl_memory[] mems = new dnnl_memory[nargs];
    try (dnnl_exec_arg_t args = new dnnl_exec_arg_t(nargs)) {
      for (int i = 0; i < nargs; i++) {
        mems[i] = new dnnl_memory();
        check(dnnl_memory_create(mems[i], mds[i], engine, ptrs[i]), "dnnl_memory_create");
        args.position(i).arg(argIds[i]).memory(mems[i]);
      }
      args.position(0);
      applyThreads();
      dev.lowbit.kernel.Parallel.nativeRunning(true);
      try {
        check(dnnl_primitive_execute(prim, stream, nargs, args), "dnnl_primitive_execute");
        check(dnnl_stream_wait(stream), "dnnl_stream_wait");
      } finally {
        dev.lowbit.kernel.Parallel.nativeRunning(false);
      }
    } finally {
      for (dnnl_memory m : mems) {
        if (m != null && !m.isNull()) dnnl_memory_destroy(m);
      }
    }
  }

  /** The engine, for callers that build their own primitives. */
  dnnl_engine engine() {
    return engine;
  }
}
