package dev.lowbit.onednn;

import static org.bytedeco.dnnl.global.dnnl.*;

import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.kernel.FloatKernels;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * fp32 convolutions on oneDNN's direct convolution primitives (forward, backward data, backward
 * weights with bias), the kernels PyTorch's CPU training runs on. Tensors arrive plain (NCHW,
 * OIHW) in Java arrays; each pass copies them into native scratch, lets oneDNN reorder them into
 * the blocked layouts its fastest kernels want ({@code format_tag_any}), runs, and reorders and
 * copies the result back. Primitives are created once per geometry and cached; a geometry for
 * which oneDNN offers only its reference loops is declined (the Java im2col path is faster).
 *
 * <p>Summation order is oneDNN's: deterministic for one machine, geometry and thread count, but
 * not the Java kernels' order, so results differ from {@code --backend java} in the last bits.
 *
 * <p>A geometry also has bf16-operand primitives (callers guarantee the operands are bf16 numbers,
 * so the conversion in the reorder is exact; results stay fp32) for layers with at least {@link
 * #MIN_BF16_CHANNELS} input channels, and an int8 forward primitive. Operands may be transformed
 * (quantized) on their way into native memory ({@link FloatKernels.Transform}).
 */
final class OneDnnConv {

  private static final Logger LOG = LoggerFactory.getLogger(OneDnnConv.class);
  // scratch slots (OneDnn.CONV_SLOTS + …), distinct within one call
  private static final int X = 0, XR = 1, W = 2, WR = 3, B = 4, Y = 5, YR = 6, DYW = 7, DW = 8,
      DWP = 9, DX = 10, DXP = 11;

  private final OneDnn rt;
  /** Whether bf16-operand convolutions may run on bf16 kernels (else they decline): setting {@code lowbit.onednn.bf16Conv}. */
  private final boolean bf16Allowed;
  /** Primitives (and their layouts) are looked up, created and destroyed under the runtime's lock. */
  private final Map<Key, Prims> cache = new ConcurrentHashMap<>();

  /** Input channels per group below which bf16 operands go to the fp32 kernels (products exact either way). */
  static final int MIN_BF16_CHANNELS = 16;

  /** A geometry and whether its operands (src, weights, diff_dst) are bf16. */
  private record Key(ConvSpec s, boolean bf16) {}
  /** Geometries kept before the caches are emptied (their primitives destroyed); tests lower it. */
  int maxCached = 256;

  OneDnnConv(OneDnn rt, boolean bf16Allowed) {
    this.rt = rt;
    this.bf16Allowed = bf16Allowed;
  }

  /** A reorder between a plain and a blocked layout, or none when oneDNN chose the plain one. */
  private record Reorder(dnnl_primitive prim, dnnl_memory_desc from, dnnl_memory_desc to, long toBytes) {}

  /** The three primitives of one geometry and the layouts they chose. */
  private static final class Prims {
    String declined;
    String impl;
    dnnl_memory_desc xPlain, wPlain, bias, yPlain;
    // forward
    dnnl_primitive fwd;
    Port fX, fW, fY;
    // backward data: dy -> dx
    dnnl_primitive bwdD;
    Port dDy, dW, dDx;
    // backward weights: x, dy -> dw, db
    dnnl_primitive bwdW;
    Port wX, wDy, wDw;
    /** Whether both backward passes want dy in the same layout: reordered once for both. */
    boolean sameDy;
  }

  private Prims prims(ConvSpec s) {
    return prims(s, false);
  }

  private Prims prims(ConvSpec s, boolean bf16) {
    Key key = new Key(s, bf16);
    Prims p = cache.get(key);
    if (p == null) {
      if (cache.size() >= maxCached) { // bounded: geometries in a run are few
        cache.values().forEach(OneDnnConv::destroy);
        cache.clear();
      }
      p = create(s, bf16);
      cache.put(key, p);
      String what = bf16 ? "bf16" : "fp32";
      if (p.declined == null) LOG.debug("oneDNN {} convolution {}: {}", what, s, p.impl);
      else LOG.debug("oneDNN declined {} convolution {}: {}", what, s, p.declined);
    }
    return p.declined == null ? p : null;
  }

  /**
   * The three primitives of a geometry. With {@code bf16} the operands (forward: src and weights;
   * backward data: diff_dst and weights; backward weights: src and diff_dst) are bf16 in the
   * primitives' layouts — the reorders from the plain fp32 tensors convert them, exactly when their
   * values are bf16 values — and every result (dst, diff_src, diff_weights, diff_bias) is fp32.
   */
  private Prims create(ConvSpec s, boolean bf16) {
    Prims p = new Prims();
    if (bf16 && !bf16Allowed) {
      return declined(p, "lowbit.onednn.bf16Conv=false");
    }
    if (bf16 && !rt.nativeBf16()) {
      return declined(p, "no native bf16 on ISA " + rt.isa() + ": oneDNN would emulate it, slower than fp32");
    }
    if (bf16 && s.inC() / s.groups() < MIN_BF16_CHANNELS) {
      // the CNN's first layer (1 channel): AMX forward and weight gradient 2.5 ms against fp32's
      // 1.9, and its NHWC output's reorder 1.5 ms against 1.05 from fp32's blocked layout
      return declined(p, "fewer than " + MIN_BF16_CHANNELS + " input channels per group: fp32 kernels are faster");
    }
    Dims d = dims(s);
    long[] xd = d.x(), yd = d.y(), wd = d.w();
    p.xPlain = tagged(xd, dnnl_nchw);
    p.yPlain = tagged(yd, dnnl_nchw);
    p.wPlain = tagged(wd, d.wTag());
    p.bias = tagged(new long[] {s.outC()}, dnnl_x);
    long[] strides = {s.strideH(), s.strideW()};
    long[] dil = {s.dilH() - 1, s.dilW() - 1};
    long[] padL = {s.padH(), s.padW()};
    long[] padR = padRight(s);
    dnnl_engine engine = rt.engine();
    dnnl_memory_desc xa = tagged(xd, dnnl_format_tag_any);
    dnnl_memory_desc ya = tagged(yd, dnnl_format_tag_any);
    // the forward output of a layer with few input channels in NCHW: oneDNN then takes its GEMM
    // convolution (CNN's first layer: 1.16 ms against 0.92 for the direct one) but the 1.0 ms
    // reorder of the blocked output to NCHW goes; its backward passes keep the blocked layouts (the
    // GEMM convolution's weight gradient took 22 ms against 0.6)
    dnnl_memory_desc yf = plainForwardOutput(s) ? p.yPlain : ya;
    dnnl_memory_desc wa = tagged(wd, dnnl_format_tag_any);
    // operands: the same descriptors in fp32, bf16 ones otherwise
    dnnl_memory_desc xo = bf16 ? tagged(xd, dnnl_format_tag_any, dnnl_bf16) : xa;
    dnnl_memory_desc yo = bf16 ? tagged(yd, dnnl_format_tag_any, dnnl_bf16) : ya;
    dnnl_memory_desc wo = bf16 ? tagged(wd, dnnl_format_tag_any, dnnl_bf16) : wa;
    dnnl_primitive_desc fpd = new dnnl_primitive_desc();
    dnnl_primitive_desc dpd = null, wpd = null;
    try {
      int st = dnnl_convolution_forward_primitive_desc_create(fpd, engine, dnnl_forward_training,
          dnnl_convolution_direct, xo, wo, p.bias, yf, strides, dil, padL, padR, null);
      if (st != dnnl_success) return declined(p, "no forward implementation (status " + st + ")");
      dpd = new dnnl_primitive_desc();
      st = dnnl_convolution_backward_data_primitive_desc_create(dpd, engine, dnnl_convolution_direct,
          xa, wo, yo, strides, dil, padL, padR, fpd, null);
      if (st != dnnl_success) {
        dpd = null;
        return declined(p, "no backward-data implementation (status " + st + ")");
      }
      wpd = new dnnl_primitive_desc();
      st = dnnl_convolution_backward_weights_primitive_desc_create(wpd, engine, dnnl_convolution_direct,
          xo, wa, p.bias, yo, strides, dil, padL, padR, fpd, null);
      if (st != dnnl_success) {
        wpd = null;
        return declined(p, "no backward-weights implementation (status " + st + ")");
      }
      String fi = impl(fpd), di = impl(dpd), wi = impl(wpd);
      p.impl = "forward " + fi + ", backward data " + di + ", backward weights " + wi;
      if (fi.startsWith("ref") || di.startsWith("ref") || wi.startsWith("ref")) {
        return declined(p, "only oneDNN's reference loops (" + p.impl + ")");
      }
      p.fX = input(fpd, dnnl_query_src_md, p.xPlain);
      p.fW = input(fpd, dnnl_query_weights_md, p.wPlain);
      p.fY = output(fpd, dnnl_query_dst_md, p.yPlain);
      p.dDy = input(dpd, dnnl_query_diff_dst_md, p.yPlain);
      p.dW = input(dpd, dnnl_query_weights_md, p.wPlain);
      p.dDx = output(dpd, dnnl_query_diff_src_md, p.xPlain);
      p.wX = input(wpd, dnnl_query_src_md, p.xPlain);
      p.wDy = input(wpd, dnnl_query_diff_dst_md, p.yPlain);
      p.wDw = output(wpd, dnnl_query_diff_weights_md, p.wPlain);
      p.sameDy = dnnl_memory_desc_equal(p.wDy.md(), p.dDy.md()) != 0;
      p.fwd = primitive(fpd);
      p.bwdD = primitive(dpd);
      p.bwdW = primitive(wpd);
      return p;
    } catch (IllegalStateException e) {
      return declined(p, e.getMessage());
    } finally {
      dnnl_primitive_desc_destroy(fpd);
      if (dpd != null) dnnl_primitive_desc_destroy(dpd);
      if (wpd != null) dnnl_primitive_desc_destroy(wpd);
      dnnl_memory_desc_destroy(xa);
      dnnl_memory_desc_destroy(ya);
      dnnl_memory_desc_destroy(wa);
      if (bf16) {
        dnnl_memory_desc_destroy(xo);
        dnnl_memory_desc_destroy(yo);
        dnnl_memory_desc_destroy(wo);
      }
    }
  }

  /** Fewer input channels per group than this: the forward pass writes NCHW (see {@link #create}). */
  static final int PLAIN_FORWARD_BELOW_CHANNELS = 16;

  private static boolean plainForwardOutput(ConvSpec s) {
    return s.inC() / s.groups() < PLAIN_FORWARD_BELOW_CHANNELS;
  }

  /** oneDNN's dimensions of input, output and weight (groups as a leading weight dimension) and the weight's plain tag. */
  private record Dims(long[] x, long[] y, long[] w, int wTag) {}

  private static Dims dims(ConvSpec s) {
    int g = s.groups();
    long[] w = g == 1
        ? new long[] {s.outC(), s.inC(), s.kH(), s.kW()}
        : new long[] {g, s.outC() / g, s.inC() / g, s.kH(), s.kW()};
    return new Dims(new long[] {s.batch(), s.inC(), s.inH(), s.inW()},
        new long[] {s.batch(), s.outC(), s.outH(), s.outW()}, w, g == 1 ? dnnl_oihw : dnnl_goihw);
  }

  private static void destroy(Prims p) {
    destroyAll(p.fwd, p.bwdD, p.bwdW);
    destroyAll(p.fX, p.fW, p.fY, p.dDy, p.dW, p.dDx, p.wX, p.wDy, p.wDw);
    destroyAll(p.xPlain, p.wPlain, p.bias, p.yPlain);
  }

  private static void destroy(S8Prims p) {
    destroyAll(p.fwd);
    destroyAll(p.fX, p.fW, p.fY);
    destroyAll(p.xPlain, p.wPlain, p.bias, p.yPlain, p.srcScale, p.weiScale);
  }

  private static void destroyAll(dnnl_primitive... prims) {
    for (dnnl_primitive x : prims) if (x != null) dnnl_primitive_destroy(x);
  }

  /** A port's layout and reorder primitive (its reorder's descriptors are the port's and a plain one). */
  private static void destroyAll(Port... ports) {
    for (Port x : ports) {
      if (x == null) continue;
      if (x.reorder() != null) dnnl_primitive_destroy(x.reorder().prim());
      dnnl_memory_desc_destroy(x.md());
    }
  }

  private static void destroyAll(dnnl_memory_desc... mds) {
    for (dnnl_memory_desc x : mds) if (x != null) dnnl_memory_desc_destroy(x);
  }

  private static Prims declined(Prims p, String why) {
    p.declined = why;
    return p;
  }

  private static dnnl_memory_desc tagged(long[] dims, int tag) {
    return tagged(dims, tag, dnnl_f32);
  }

  private static dnnl_memory_desc tagged(long[] dims, int tag, int type) {
    dnnl_memory_desc md = new dnnl_memory_desc();
    OneDnn.check(dnnl_memory_desc_create_with_tag(md, dims.length, dims, type, tag),
        "dnnl_memory_desc_create_with_tag");
    return md;
  }

  private static String impl(dnnl_primitive_desc pd) {
    PointerPointer<BytePointer> info = new PointerPointer<>(1);
    OneDnn.check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, info), "query impl");
    return info.get(BytePointer.class, 0).getString();
  }

  private static dnnl_memory_desc chosen(dnnl_primitive_desc pd, int what) {
    dnnl_memory_desc md = new dnnl_memory_desc();
    OneDnn.check(dnnl_memory_desc_clone(md, dnnl_primitive_desc_query_md(pd, what, 0)), "dnnl_memory_desc_clone");
    return md;
  }

  private static dnnl_primitive primitive(dnnl_primitive_desc pd) {
    dnnl_primitive prim = new dnnl_primitive();
    OneDnn.check(dnnl_primitive_create(prim, pd), "dnnl_primitive_create");
    return prim;
  }

  private Reorder reorder(dnnl_memory_desc from, dnnl_memory_desc to) {
    if (dnnl_memory_desc_equal(from, to) != 0) return null;
    dnnl_primitive_desc rpd = new dnnl_primitive_desc();
    OneDnn.check(dnnl_reorder_primitive_desc_create(rpd, from, rt.engine(), to, rt.engine(), null),
        "dnnl_reorder_primitive_desc_create");
    try {
      return new Reorder(primitive(rpd), from, to, dnnl_memory_desc_get_size(to));
    } finally {
      dnnl_primitive_desc_destroy(rpd);
    }
  }

  /** A tensor as a primitive wants it: its layout and the reorder from or to the plain one (null when equal). */
  private record Port(dnnl_memory_desc md, Reorder reorder) {}

  private Port input(dnnl_primitive_desc pd, int what, dnnl_memory_desc plain) {
    dnnl_memory_desc md = chosen(pd, what);
    return new Port(md, reorder(plain, md));
  }

  private Port output(dnnl_primitive_desc pd, int what, dnnl_memory_desc plain) {
    dnnl_memory_desc md = chosen(pd, what);
    return new Port(md, reorder(md, plain));
  }

  // ---------------------------------------------------------------- int8 forward

  /**
   * An int8 forward primitive: per-tensor or per-output-channel weight scales, or with {@code sums}
   * the int32 sums of int8 or ({@code unsigned}) uint8 input.
   */
  private record S8Key(ConvSpec s, boolean perChannel, boolean sums, boolean unsigned) {}

  private static final class S8Prims {
    String declined;
    String impl;
    dnnl_primitive fwd;
    dnnl_memory_desc xPlain, wPlain, bias, yPlain, srcScale, weiScale;
    Port fX, fW, fY;
  }

  private final Map<S8Key, S8Prims> s8Cache = new ConcurrentHashMap<>();

  /** Whether oneDNN's int8 kernels here sum exactly ({@link OneDnn#exactInt8()}). */
  private boolean exactInt8() {
    return rt.exactInt8();
  }

  private S8Prims s8(ConvSpec s, boolean perChannel) {
    return int8Prims(new S8Key(s, perChannel, false, false));
  }

  /** The int8 primitives of a key (scaled fp32 output, or with {@code sums} the int32 sums), made once. */
  private S8Prims int8Prims(S8Key key) {
    S8Prims p = s8Cache.get(key);
    if (p == null) {
      if (s8Cache.size() >= maxCached) {
        s8Cache.values().forEach(OneDnnConv::destroy);
        s8Cache.clear();
      }
      if (!exactInt8()) {
        p = new S8Prims();
        p.declined = "no VNNI/AMX on " + rt.isa() + ": int8 sums could saturate";
      } else {
        p = key.sums() ? createS32(key.s(), key.unsigned()) : createS8(key.s(), key.perChannel());
      }
      s8Cache.put(key, p);
      String what = key.sums() ? "int8 (int32 sums)" : "int8";
      if (p.declined == null) LOG.debug("oneDNN {} convolution {}: {}", what, key.s(), p.impl);
      else LOG.debug("oneDNN declined {} convolution {}: {}", what, key.s(), p.declined);
    }
    return p.declined == null ? p : null;
  }

  /** The ports (layouts and reorders) and the primitive of an accepted descriptor. */
  private S8Prims finish(S8Prims p, dnnl_primitive_desc pd) {
    p.fX = input(pd, dnnl_query_src_md, p.xPlain);
    p.fW = input(pd, dnnl_query_weights_md, p.wPlain);
    p.fY = output(pd, dnnl_query_dst_md, p.yPlain);
    p.fwd = primitive(pd);
    return p;
  }

  private S8Prims createS8(ConvSpec s, boolean perChannel) {
    S8Prims p = new S8Prims();
    if ((long) s.inC() / s.groups() * s.kH() * s.kW() > OneDnnGemm.MAX_K_S8S8) {
      p.declined = "more than " + OneDnnGemm.MAX_K_S8S8 + " products per output: int32 could overflow";
      return p;
    }
    Dims d = dims(s);
    long[] xd = d.x(), yd = d.y(), wd = d.w();
    int g = s.groups();
    p.xPlain = tagged(xd, dnnl_nchw, dnnl_s8);
    p.wPlain = tagged(wd, d.wTag(), dnnl_s8);
    p.yPlain = tagged(yd, dnnl_nchw);
    p.bias = tagged(new long[] {s.outC()}, dnnl_x);
    p.srcScale = tagged(new long[] {1}, dnnl_x);
    p.weiScale = tagged(new long[] {perChannel ? s.outC() : 1}, dnnl_x);
    dnnl_memory_desc xa = tagged(xd, dnnl_format_tag_any, dnnl_s8);
    dnnl_memory_desc wa = tagged(wd, dnnl_format_tag_any, dnnl_s8);
    dnnl_memory_desc ya = tagged(yd, dnnl_format_tag_any);
    dnnl_primitive_attr attr = new dnnl_primitive_attr();
    OneDnn.check(dnnl_primitive_attr_create(attr), "dnnl_primitive_attr_create");
    dnnl_primitive_desc pd = new dnnl_primitive_desc();
    boolean made = false;
    try {
      OneDnn.check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_SRC, 0), "set_scales_mask(src)");
      // per output channel: dimension 0 of OIHW, dimensions 0 and 1 of GOIHW
      OneDnn.check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_WEIGHTS,
          perChannel ? (g == 1 ? 1 : 3) : 0), "set_scales_mask(weights)");
      int st = dnnl_convolution_forward_primitive_desc_create(pd, rt.engine(), dnnl_forward_inference,
          dnnl_convolution_direct, xa, wa, p.bias, ya, new long[] {s.strideH(), s.strideW()},
          new long[] {s.dilH() - 1, s.dilW() - 1}, new long[] {s.padH(), s.padW()}, padRight(s), attr);
      if (st != dnnl_success) {
        p.declined = "no int8 forward implementation (status " + st + ")";
        return p;
      }
      made = true;
      p.impl = impl(pd);
      if (p.impl.startsWith("ref")) {
        p.declined = "only oneDNN's reference loops (" + p.impl + ")";
        return p;
      }
      return finish(p, pd);
    } catch (IllegalStateException e) {
      p.declined = e.getMessage();
      return p;
    } finally {
      if (made) dnnl_primitive_desc_destroy(pd);
      dnnl_primitive_attr_destroy(attr);
      dnnl_memory_desc_destroy(xa);
      dnnl_memory_desc_destroy(wa);
      dnnl_memory_desc_destroy(ya);
    }
  }

  // ---------------------------------------------------------------- int8 sums (integer-only inference)

  /**
   * A layer's int8 weights in native memory (OIHW), with their copies in each blocked layout a
   * primitive asked for, reordered once (a layer's batch sizes share one layout in practice).
   */
  static final class S32Weights implements dev.lowbit.kernel.Int8Layers.Prepared {
    final ConvSpec perSample;
    final boolean unsigned;
    final String impl;
    private final BytePointer plain;
    /** Layouts and their data; {@code owners} keep the memory alive. */
    private final java.util.List<dnnl_memory_desc> layouts = new java.util.ArrayList<>();
    private final java.util.List<Pointer> packed = new java.util.ArrayList<>();
    private final java.util.List<BytePointer> owners = new java.util.ArrayList<>();

    S32Weights(ConvSpec perSample, boolean unsigned, byte[] w, String impl) {
      this.perSample = perSample;
      this.unsigned = unsigned;
      this.impl = impl;
      plain = new BytePointer(Math.max(1, w.length));
      OneDnn.copyIn(w, 0, plain.address(), 0, w.length);
    }

    @Override
    public String impl() {
      return impl;
    }

    /** The weights in {@code p}'s layout, reordered the first time that layout is asked for. Lock held. */
    Pointer forPrimitive(OneDnn rt, S8Prims p) {
      if (p.fW.reorder() == null) return plain;
      for (int i = 0; i < layouts.size(); i++) {
        if (dnnl_memory_desc_equal(layouts.get(i), p.fW.md()) != 0) return packed.get(i);
      }
      BytePointer data = new BytePointer(p.fW.reorder().toBytes() + 64);
      Pointer at = OneDnn.aligned(data);
      rt.runArgs(p.fW.reorder().prim(), 2, new int[] {DNNL_ARG_FROM, DNNL_ARG_TO},
          new dnnl_memory_desc[] {p.fW.reorder().from(), p.fW.reorder().to()}, new Pointer[] {plain, at});
      dnnl_memory_desc md = new dnnl_memory_desc();
      OneDnn.check(dnnl_memory_desc_clone(md, p.fW.md()), "dnnl_memory_desc_clone");
      layouts.add(md);
      packed.add(at);
      owners.add(data);
      return at;
    }
  }

  private S8Prims s32(ConvSpec s, boolean unsigned) {
    return int8Prims(new S8Key(s, false, true, unsigned));
  }

  /**
   * src u8 or s8 and weights s8 in the layouts oneDNN picks, dst s32; no bias, scales or post-ops.
   * With few input channels the sums are asked for in NCHW first (the first layer's blocked output
   * cost more to reorder than the product itself, as for the fp32 forward pass), and in the layout
   * oneDNN picks where NCHW has only its reference loops.
   */
  private S8Prims createS32(ConvSpec s, boolean unsigned) {
    S8Prims p = new S8Prims();
    if (!dev.lowbit.kernel.Int8Layers.exactlyBounded(s, unsigned)) {
      p.declined = "sums could exceed 2^24 (" + (long) s.inC() / s.groups() * s.kH() * s.kW() + " products per output)";
      return p;
    }
    int xType = unsigned ? dnnl_u8 : dnnl_s8;
    Dims d = dims(s);
    p.xPlain = tagged(d.x(), dnnl_nchw, xType);
    p.wPlain = tagged(d.w(), d.wTag(), dnnl_s8);
    p.yPlain = tagged(d.y(), dnnl_nchw, dnnl_s32);
    dnnl_memory_desc xa = tagged(d.x(), dnnl_format_tag_any, xType);
    dnnl_memory_desc wa = tagged(d.w(), dnnl_format_tag_any, dnnl_s8);
    dnnl_memory_desc ya = tagged(d.y(), dnnl_format_tag_any, dnnl_s32);
    dnnl_primitive_desc pd = null;
    try {
      for (dnnl_memory_desc y : plainForwardOutput(s) ? new dnnl_memory_desc[] {p.yPlain, ya} : new dnnl_memory_desc[] {ya}) {
        if (pd != null) dnnl_primitive_desc_destroy(pd);
        pd = new dnnl_primitive_desc();
        int st = dnnl_convolution_forward_primitive_desc_create(pd, rt.engine(), dnnl_forward_inference,
            dnnl_convolution_direct, xa, wa, null, y, new long[] {s.strideH(), s.strideW()},
            new long[] {s.dilH() - 1, s.dilW() - 1}, new long[] {s.padH(), s.padW()}, padRight(s), null);
        if (st != dnnl_success) {
          pd = null;
          p.declined = "no int8 forward implementation (status " + st + ")";
          continue;
        }
        p.impl = impl(pd);
        p.declined = p.impl.startsWith("ref") ? "only oneDNN's reference loops (" + p.impl + ")" : null;
        if (p.declined == null) break;
      }
      if (p.declined != null) return p;
      return finish(p, pd);
    } catch (IllegalStateException e) {
      p.declined = e.getMessage();
      return p;
    } finally {
      if (pd != null) dnnl_primitive_desc_destroy(pd);
      dnnl_memory_desc_destroy(xa);
      dnnl_memory_desc_destroy(wa);
      dnnl_memory_desc_destroy(ya);
    }
  }

  /** The weights of a layer for {@link #forwardS32}, or null when its geometry is declined (tried at batch 1). */
  S32Weights prepareS32(ConvSpec perSample, boolean unsigned, byte[] w) {
    if (w.length != perSample.weightSize()) {
      throw new IllegalArgumentException("weights: " + perSample.weightSize() + " bytes expected, got " + w.length);
    }
    rt.lock.lock();
    try {
      S8Prims p = s32(perSample.withBatch(1), unsigned);
      return p == null ? null : new S32Weights(perSample.withBatch(1), unsigned, w, p.impl);
    } finally {
      rt.lock.unlock();
    }
  }

  /** y = the exact int32 sums of {@code batch} samples (NCHW in and out); false when declined. */
  boolean forwardS32(S32Weights w, int batch, byte[] x, int xOff, int[] y, int yOff) {
    ConvSpec s = w.perSample.withBatch(batch);
    rt.lock.lock();
    try {
      S8Prims p = s32(s, w.unsigned);
      if (p == null) return false;
      Pointer plainX = scratch(X, s.inputSize());
      long xa = plainX.address();
      rt.parallelFor(s.inputSize(), s.inputSize(), (from, to) -> OneDnn.copyIn(x, xOff + from, xa, from, to - from));
      Pointer xp = convert(plainX, p.fX.reorder(), XR);
      Pointer wp = w.forPrimitive(rt, p);
      Pointer yp = result(p.fY, Y, YR, s.outputSize()); // int32: 4 bytes an element, as fp32
      rt.runArgs(p.fwd, 3, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST},
          new dnnl_memory_desc[] {p.fX.md(), p.fW.md(), p.fY.md()}, new Pointer[] {xp, wp, yp});
      long ya = convert(yp, p.fY.reorder(), Y).address();
      rt.parallelFor(s.outputSize(), 4L * s.outputSize(), (from, to) -> OneDnn.copyOut(ya, from, y, yOff + from, to - from));
      return true;
    } finally {
      rt.lock.unlock();
    }
  }

  private static long[] padRight(ConvSpec s) {
    return new long[] {
      (long) (s.outH() - 1) * s.strideH() + (long) (s.kH() - 1) * s.dilH() + 1 - s.inH() - s.padH(),
      (long) (s.outW() - 1) * s.strideW() + (long) (s.kW() - 1) * s.dilW() + 1 - s.inW() - s.padW()
    };
  }

  boolean supportsS8(ConvSpec s) {
    rt.lock.lock();
    try {
      // layers taken by the fp32 route need no int8 primitives (exact on any ISA)
      if (codesThroughFloat(s)) return prims(s) != null;
      return s8(s, true) != null && s8(s, false) != null;
    } finally {
      rt.lock.unlock();
    }
  }

  boolean forwardS8(ConvSpec s, byte[] x, float xScale, byte[] w, float[] wScales, float[] bias, float[] y) {
    boolean perChannel = wScales.length != 1;
    if (perChannel && wScales.length != s.outC()) {
      throw new IllegalArgumentException("weight scales: 1 or " + s.outC() + " expected, got " + wScales.length);
    }
    if (codesThroughFloat(s)) return forwardS8ThroughFloat(s, x, xScale, w, wScales, bias, y);
    rt.lock.lock();
    try {
      S8Prims p = s8(s, perChannel);
      if (p == null) return false;
      Pointer xp = inBytes(X, x, s.inputSize(), p.fX.reorder(), XR);
      Pointer wp = inBytes(W, w, s.weightSize(), p.fW.reorder(), WR);
      Pointer bp = biasIn(bias, s.outC());
      Pointer sx = in(DW, new float[] {xScale}, 1, null, 0);
      Pointer sw = in(DWP, wScales, wScales.length, null, 0);
      Pointer yp = result(p.fY, Y, YR, s.outputSize());
      rt.runArgs(p.fwd, 6, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST,
              DNNL_ARG_ATTR_SCALES | DNNL_ARG_SRC, DNNL_ARG_ATTR_SCALES | DNNL_ARG_WEIGHTS},
          new dnnl_memory_desc[] {p.fX.md(), p.fW.md(), p.bias, p.fY.md(), p.srcScale, p.weiScale},
          new Pointer[] {xp, wp, bp, yp, sx, sw});
      out(yp, p.fY.reorder(), Y, y, s.outputSize());
      return true;
    } finally {
      rt.lock.unlock();
    }
  }

  /**
   * Whether {@link #forwardS8} runs the codes through the fp32 convolution instead of an int8 one:
   * with fewer than 16 input channels per group oneDNN's AMX/VNNI int8 kernel was slower than its
   * fp32 one (the CNN's first layer: 1.18 vs 1.00 ms) and wrote NHWC, whose reorder to NCHW took
   * 2.0 ms against 1.1 ms from the fp32 kernel's blocked layout. The sums stay exact integers in
   * fp32 in any order while K·128·128 < 2^24 (K = C/g·KH·KW ≤ 1023): each product is at most 2^14.
   */
  static boolean codesThroughFloat(ConvSpec s) {
    long k = (long) s.inC() / s.groups() * s.kH() * s.kW();
    return s.inC() / s.groups() < 16 && k * 128 * 128 < (1L << 24);
  }

  /** {@link #forwardS8} on the fp32 convolution: exact integer sums of the codes, then scale and bias. */
  private boolean forwardS8ThroughFloat(ConvSpec s, byte[] x, float xScale, byte[] w, float[] wScales,
      float[] bias, float[] y) {
    float[] xf = new float[s.inputSize()], wf = new float[s.weightSize()];
    for (int i = 0; i < xf.length; i++) xf[i] = x[i];
    for (int i = 0; i < wf.length; i++) wf[i] = w[i];
    int oc = s.outC(), plane = s.outH() * s.outW(), planes = s.batch() * oc;
    rt.lock.lock();
    try {
      Prims p = prims(s);
      if (p == null) return false;
      long address = convert(runForward(p, s, xf, null, wf, null), p.fY.reorder(), Y).address();
      // copied out a few planes at a time and scaled while they are in cache (a separate pass over
      // the first layer's output cost as much again)
      rt.parallelFor(planes, 4L * planes * plane, (p0, p1) -> {
        for (int q0 = p0; q0 < p1; q0 += EPILOGUE_PLANES) {
          int q1 = Math.min(p1, q0 + EPILOGUE_PLANES);
          OneDnn.copyOut(address, (long) q0 * plane, y, q0 * plane, (q1 - q0) * plane);
          for (int q = q0; q < q1; q++) {
            int c = q % oc;
            float scale = xScale * wScales[wScales.length == 1 ? 0 : c], b = bias == null ? 0f : bias[c];
            for (int i = q * plane, end = i + plane; i < end; i++) y[i] = y[i] * scale + b;
          }
        }
      });
      return true;
    } finally {
      rt.lock.unlock();
    }
  }

  /** Output planes copied and scaled per round of {@link #forwardS8ThroughFloat} (16 of 28×28: 50 KB). */
  private static final int EPILOGUE_PLANES = 16;

  /** As {@link #in} for int8 codes. */
  private Pointer inBytes(int slot, byte[] a, int count, Reorder r, int rSlot) {
    Pointer plainPtr = scratch(slot, count);
    long address = plainPtr.address();
    rt.parallelFor(count, count, (from, to) -> OneDnn.copyIn(a, from, address, from, to - from));
    return convert(plainPtr, r, rSlot);
  }

  // ---------------------------------------------------------------- passes

  boolean supports(ConvSpec s) {
    rt.lock.lock();
    try {
      return prims(s) != null;
    } finally {
      rt.lock.unlock();
    }
  }

  /** Whether the geometry has bf16-operand primitives (not only oneDNN's reference loops). */
  boolean supportsBf16(ConvSpec s) {
    rt.lock.lock();
    try {
      return prims(s, true) != null;
    } finally {
      rt.lock.unlock();
    }
  }

  boolean forward(ConvSpec s, float[] x, float[] w, float[] bias, float[] y) {
    return forward(s, x, null, w, bias, y, false);
  }

  /**
   * The forward pass on x transformed by xT (null: as it is) while it is copied in; with {@code
   * bf16} on bf16 operands (x after xT, and w, must hold bf16 values).
   */
  boolean forward(ConvSpec s, float[] x, FloatKernels.Transform xT, float[] w, float[] bias, float[] y, boolean bf16) {
    rt.lock.lock();
    try {
      Prims p = prims(s, bf16);
      if (p == null) return false;
      out(runForward(p, s, x, xT, w, bias), p.fY.reorder(), Y, y, s.outputSize());
      return true;
    } finally {
      rt.lock.unlock();
    }
  }

  /** Runs the fp32 forward primitive (lock held); returns its result, in the primitive's layout. */
  private Pointer runForward(Prims p, ConvSpec s, float[] x, FloatKernels.Transform xT, float[] w, float[] bias) {
    Pointer xp = in(X, x, s.inputSize(), s.inH() * s.inW(), xT, p.fX.reorder(), XR);
    Pointer wp = in(W, w, s.weightSize(), p.fW.reorder(), WR);
    Pointer bp = biasIn(bias, s.outC());
    Pointer yp = result(p.fY, Y, YR, s.outputSize());
    rt.runArgs(p.fwd, 4, new int[] {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST},
        new dnnl_memory_desc[] {p.fX.md(), p.fW.md(), p.bias, p.fY.md()}, new Pointer[] {xp, wp, bp, yp});
    return yp;
  }

  boolean backward(ConvSpec s, float[] x, float[] w, float[] dy, float[] dx, float[] dw, float[] db) {
    return backward(s, x, null, w, dy, null, dx, dw, db, false);
  }

  /**
   * The backward passes on x and dy transformed by xT and dyT (null: as they are) while they are
   * copied in; with {@code bf16} on bf16 operands (x, w and dy after the transforms must hold bf16 values).
   */
  boolean backward(ConvSpec s, float[] x, FloatKernels.Transform xT, float[] w, float[] dy,
      FloatKernels.Transform dyT, float[] dx, float[] dw, float[] db, boolean bf16) {
    rt.lock.lock();
    try {
      Prims p = prims(s, bf16);
      if (p == null) return false;
      Pointer dyPlain = in(Y, dy, s.outputSize(), s.outH() * s.outW(), dyT, null, 0);
      Pointer dyReordered = null; // dy in the weight pass's layout, when that pass ran
      if (dw != null || db != null) {
        Pointer xp = in(X, x, s.inputSize(), s.inH() * s.inW(), xT, p.wX.reorder(), XR);
        Pointer dyp = convert(dyPlain, p.wDy.reorder(), DYW);
        dyReordered = dyp;
        Pointer dwp = result(p.wDw, DWP, DW, s.weightSize());
        Pointer dbp = scratch(B, 4L * s.outC());
        rt.runArgs(p.bwdW, 4,
            new int[] {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_BIAS},
            new dnnl_memory_desc[] {p.wX.md(), p.wDy.md(), p.wDw.md(), p.bias}, new Pointer[] {xp, dyp, dwp, dbp});
        if (dw != null) addOut(dwp, p.wDw.reorder(), DWP, dw, s.weightSize());
        if (db != null) addOut(dbp, null, 0, db, s.outC());
      }
      if (dx != null) {
        // the weight pass only reads dy (its slot DYW is not written by anything in between)
        Pointer dyp = dyReordered != null && p.sameDy ? dyReordered : convert(dyPlain, p.dDy.reorder(), DYW);
        Pointer wp = in(W, w, s.weightSize(), p.dW.reorder(), WR);
        Pointer dxp = result(p.dDx, DXP, DX, s.inputSize());
        rt.runArgs(p.bwdD, 3, new int[] {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC},
            new dnnl_memory_desc[] {p.dDy.md(), p.dW.md(), p.dDx.md()}, new Pointer[] {dyp, wp, dxp});
        out(dxp, p.dDx.reorder(), DXP, dx, s.inputSize());
      }
      return true;
    } finally {
      rt.lock.unlock();
    }
  }

  /** The bias in native memory, or zeros (every primitive was created with a bias). */
  private Pointer biasIn(float[] bias, int oc) {
    if (bias != null) return in(B, bias, oc, null, 0);
    Pointer zeros = scratch(B, 4L * oc);
    Pointer.memset(zeros, 0, 4L * oc);
    return zeros;
  }

  /**
   * Where a primitive writes a result of {@code count} floats: straight into the plain slot when
   * its layout is plain, else into {@code blockedSlot} (reordered into the plain slot by {@link #out}).
   */
  private Pointer result(Port port, int plainSlot, int blockedSlot, int count) {
    return port.reorder() == null ? scratch(plainSlot, 4L * count)
        : scratch(blockedSlot, dnnl_memory_desc_get_size(port.md()));
  }

  private Pointer scratch(int slot, long bytes) {
    return rt.buffer(OneDnn.CONV_SLOTS + slot, bytes).pointer();
  }

  /** Copies a plain Java tensor into slot {@code slot} and, when {@code r} is set, reorders it into {@code rSlot}. */
  private Pointer in(int slot, float[] a, int count, Reorder r, int rSlot) {
    Pointer plainPtr = scratch(slot, 4L * count);
    long address = plainPtr.address();
    rt.parallelFor(count, 4L * count, (from, to) -> OneDnn.copyIn(a, from, address, from, to - from));
    return convert(plainPtr, r, rSlot);
  }

  /** Floats transformed per round of {@link #in} with a transform (whole planes, at least one): 64 KB, in L2. */
  private static final int TRANSFORM_FLOATS = 1 << 14;

  private static final ThreadLocal<float[][]> TRANSFORMED = ThreadLocal.withInitial(() -> new float[1][0]);

  /**
   * As {@link #in}, with {@code t} (when not null) applied on the way: a few planes at a time into
   * a per-thread buffer, then copied into native memory — one pass over the Java array instead of
   * a transformed copy and a copy of that.
   */
  private Pointer in(int slot, float[] a, int count, int plane, FloatKernels.Transform t, Reorder r, int rSlot) {
    if (t == null) return in(slot, a, count, r, rSlot);
    Pointer plainPtr = scratch(slot, 4L * count);
    long address = plainPtr.address();
    int planes = count / plane, per = Math.max(1, TRANSFORM_FLOATS / plane);
    rt.parallelFor(planes, 4L * count, (p0, p1) -> {
      float[][] holder = TRANSFORMED.get();
      if (holder[0].length < per * plane) holder[0] = new float[per * plane];
      float[] tmp = holder[0];
      for (int q0 = p0; q0 < p1; q0 += per) {
        int from = q0 * plane, len = (Math.min(p1, q0 + per) - q0) * plane;
        t.apply(a, from, len, tmp, 0);
        OneDnn.copyIn(tmp, 0, address, from, len);
      }
    });
    return convert(plainPtr, r, rSlot);
  }

  private Pointer convert(Pointer from, Reorder r, int slot) {
    if (r == null) return from;
    Pointer to = scratch(slot, r.toBytes());
    rt.runArgs(r.prim(), 2, new int[] {DNNL_ARG_FROM, DNNL_ARG_TO},
        new dnnl_memory_desc[] {r.from(), r.to()}, new Pointer[] {from, to});
    return to;
  }

  /** Reorders a result to plain (when {@code r} is set) and copies it into {@code a}. */
  private void out(Pointer result, Reorder r, int plainSlot, float[] a, int count) {
    Pointer plainPtr = convert(result, r, plainSlot);
    long address = plainPtr.address();
    rt.parallelFor(count, 4L * count, (from, to) -> OneDnn.copyOut(address, from, a, from, to - from));
  }

  /** As {@link #out} but adds the result into {@code a} (gradients accumulate). */
  private void addOut(Pointer result, Reorder r, int plainSlot, float[] a, int count) {
    float[] t = new float[count];
    out(result, r, plainSlot, t, count);
    for (int i = 0; i < count; i++) a[i] += t[i];
  }
}
