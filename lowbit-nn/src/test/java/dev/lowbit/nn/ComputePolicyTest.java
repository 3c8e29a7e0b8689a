package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.format.Quantizer;
import dev.lowbit.kernel.ConvSpec;
import dev.lowbit.numerics.Engine;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Presets;
import dev.lowbit.numerics.GemmCall;
import dev.lowbit.numerics.Product;
import dev.lowbit.numerics.ProductPlan;
import dev.lowbit.numerics.Role;
import dev.lowbit.tensor.Tensor;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The policy hooks of {@link Compute}: each role's values are really in its format; fp32 is untouched. */
class ComputePolicyTest {

  record Seen(String layer, Product product, Role role, float[] values, int[] shape) {}

  final List<Seen> seen = new ArrayList<>();

  @AfterEach
  void clear() {
    Compute.setNumerics(null);
    Compute.observer = null;
    Compute.integerPathOff = false;
    Compute.earlyQuantizationOff = false;
  }

  /** Runs forward and backward of a Linear and a Conv2d; returns every output and gradient, concatenated. */
  static float[] forwardBackward(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    Var w = Var.parameter(randn(r, 6, 12)), b = Var.parameter(randn(r, 6));
    ConvSpec spec = new ConvSpec(2, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    Var cw = Var.parameter(randn(r, 4, 3, 3, 3)), cb = Var.parameter(randn(r, 4));
    Var x = new Var(randn(r, 5, 12), true);
    Var xi = new Var(randn(r, 2, 3, 6, 6), true);
    Var y = Compute.linear("fc1", x, w, b);
    Var z = Compute.conv2d("conv1", xi, cw, cb, spec);
    Var loss = Ops.add(Ops.mse(y, new Tensor(new float[y.size()], y.shape())),
        Ops.mse(z, new Tensor(new float[z.size()], z.shape())));
    loss.backward();
    List<float[]> parts = List.of(y.data(), z.data(), x.grad(), xi.grad(), w.grad(), b.grad(), cw.grad(), cb.grad());
    int n = 0;
    for (float[] p : parts) n += p.length;
    float[] all = new float[n];
    int o = 0;
    for (float[] p : parts) {
      System.arraycopy(p, 0, all, o, p.length);
      o += p.length;
    }
    return all;
  }

  static Tensor randn(SplittableRandom r, int... shape) {
    int n = 1;
    for (int d : shape) n *= d;
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * (1 + 3 * r.nextDouble()));
    return new Tensor(v, shape);
  }

  @Test
  void fp32PolicyIsBitIdenticalToNoPolicy() {
    float[] plain = forwardBackward(7);
    Numerics n = new Numerics(Presets.get("fp32"), 1);
    Compute.setNumerics(n);
    float[] withFp32 = forwardBackward(7);
    assertEquals(plain.length, withFp32.length);
    for (int i = 0; i < plain.length; i++) {
      assertEquals(Float.floatToRawIntBits(plain[i]), Float.floatToRawIntBits(withFp32[i]), "element " + i);
    }
    assertEquals(0, n.quantizedTensors());
  }

  @Test
  void everyRoleIsRepresentableInE4m3() {
    Policy p = Policy.parse("*  weight,activation,error,weight-gradient  e4m3  rne\n", "e4m3-all");
    Compute.setNumerics(new Numerics(p, 1));
    Compute.observer = (layer, product, role, values, shape) -> seen.add(new Seen(layer, product, role, values.clone(), shape));
    float[] quantized = forwardBackward(7);
    Compute.setNumerics(null);
    float[] plain = forwardBackward(7);
    assertFalse(java.util.Arrays.equals(plain, quantized), "quantization changed nothing");
    Set<Role> roles = EnumSet.noneOf(Role.class);
    Set<Product> products = EnumSet.noneOf(Product.class);
    for (Seen s : seen) {
      roles.add(s.role);
      products.add(s.product);
      Quantizer q = p.lookup(s.layer, s.role).orElseThrow();
      float[] again = new float[s.values.length];
      q.quantizeReference(s.values, s.shape, again, 0, 0);
      assertArrayEquals(s.values, again, s.layer + " " + s.product + " " + s.role + " holds values outside e4m3");
    }
    assertEquals(EnumSet.of(Role.WEIGHT, Role.ACTIVATION, Role.ERROR, Role.WEIGHT_GRADIENT), roles);
    assertEquals(EnumSet.allOf(Product.class), products);
    // each layer's products: forward sees W and X, backward-data W and dY, backward-weight dY, X and dW
    assertEquals(2 * 2 + 2 * 2 + 2 * 3, seen.size());
  }

  @Test
  void convQuantizingItsOwnColumnsOrInputGivesTheCachedPathsBits() {
    // bf16 (fixed grid) and fp8 (E4M3 scaled by the tensor's amax): with round-to-nearest,
    // quantizing the input and then forming columns is the same as quantizing the columns
    // mxfp8 (blocks along the columns' rows) cannot move before im2col: it quantizes the columns
    // in place, with the stream and so the bits of the cached path
    for (String preset : List.of("bf16", "fp8", "mxfp8")) {
      Numerics early = new Numerics(Presets.get(preset), 3);
      Compute.setNumerics(early);
      Compute.observer = (layer, product, role, values, shape) -> seen.add(new Seen(layer, product, role, values.clone(), shape));
      float[] a = forwardBackward(11);
      ConvSpec spec = new ConvSpec(2, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1);
      assertEquals(!preset.equals("mxfp8"), beforeIm2col(early, spec).isPresent(), preset);
      assertTrue(early.quantizesItself("conv1", Role.ACTIVATION, spec).isPresent(), preset);
      assertTrue(early.quantizesItself("conv1", Role.ERROR, spec).isPresent(), preset);
      List<Seen> earlySeen = List.copyOf(seen);
      seen.clear();
      Numerics late = new Numerics(Presets.get(preset), 3);
      Compute.setNumerics(late);
      Compute.earlyQuantizationOff = true;
      float[] b = forwardBackward(11);
      Compute.earlyQuantizationOff = false;
      for (int i = 0; i < a.length; i++) {
        assertEquals(Float.floatToRawIntBits(b[i]), Float.floatToRawIntBits(a[i]), preset + " element " + i);
      }
      assertEquals(late.quantizedTensors(), early.quantizedTensors(), preset + " quantized tensor count");
      assertEquals(seen.size(), earlySeen.size());
      for (int i = 0; i < seen.size(); i++) {
        assertArrayEquals(seen.get(i).values, earlySeen.get(i).values, preset + " operand " + i + " " + seen.get(i).role);
      }
      seen.clear();
    }
  }

  /**
   * A fully-connected layer quantizes each operand of its fake-quantized products once per step and
   * hands the copy to each of them: the same bits, counts and operands as quantizing per product
   * through the cache — with stochastic rounding too (a second quantization would draw other random
   * numbers), MX blocks that do not fill a row, and int8 (integer forward, fake-quantized backward).
   */
  @Test
  void fullyConnectedOperandsQuantizedOnceGiveThePerProductBits() {
    List<Policy> policies = List.of(Presets.get("fp16"), Presets.get("mxfp4"), Presets.get("int8"),
        // stochastic rounding on fc1 only (the flag also moves the convolution's quantization,
        // which with stochastic rounding changes its bits)
        Policy.parse("fc1  weight,activation,error  bf16  sr\n", "bf16-sr"),
        Policy.parse("fc1  weight,activation,error  e4m3  sr  per-tensor(amax)\n", "e4m3-sr-amax"));
    for (Policy p : policies) {
      Numerics once = new Numerics(p, 3);
      Compute.setNumerics(once);
      Compute.observer = (layer, product, role, values, shape) -> seen.add(new Seen(layer, product, role, values.clone(), shape));
      float[] a = forwardBackward(17);
      List<Seen> onceSeen = List.copyOf(seen);
      seen.clear();
      Numerics perProduct = new Numerics(p, 3);
      Compute.setNumerics(perProduct);
      Compute.earlyQuantizationOff = true;
      float[] b = forwardBackward(17);
      Compute.earlyQuantizationOff = false;
      for (int i = 0; i < a.length; i++) {
        assertEquals(Float.floatToRawIntBits(b[i]), Float.floatToRawIntBits(a[i]), p.name() + " element " + i);
      }
      assertEquals(perProduct.quantizedTensors(), once.quantizedTensors(), p.name() + " quantized tensor count");
      assertTrue(once.quantizedOnce.get() > 0, p.name() + ": operands quantized on the tape");
      assertEquals(0, perProduct.quantizedOnce.get(), p.name() + ": nothing on the tape with the switch off");
      // int8: the integer forward product took the input's and the weight's codes from the tape
      // (whose values the backward products take), for both layers
      assertEquals(p.name().equals("int8") ? 4 : 0, once.codesTaken.get(), p.name() + " codes taken from the tape");
      assertEquals(seen.size(), onceSeen.size());
      for (int i = 0; i < seen.size(); i++) {
        assertArrayEquals(seen.get(i).values, onceSeen.get(i).values, p.name() + " operand " + i + " " + seen.get(i).role);
      }
      seen.clear();
    }
    // what each product's engine takes of an operand quantized once (docs/engines.md)
    Numerics int8 = new Numerics(Presets.get("int8"), 3);
    assertEquals(Engine.Takes.CODES, takes(int8, new ProductPlan.Site("fc1", Product.FORWARD, Role.ACTIVATION,
        Role.WEIGHT, null, false, true)), "int8's forward takes the integer codes");
    assertEquals(Engine.Takes.VALUES, takes(int8, new ProductPlan.Site("fc1", Product.BACKWARD_WEIGHT, Role.ERROR,
        Role.ACTIVATION, Role.WEIGHT_GRADIENT, true, false)), "int8's fp32 errors: fake-quantized backward");
    Numerics dfp16 = new Numerics(Presets.get("dfp16"), 3);
    assertEquals(Engine.Takes.NOTHING, takes(dfp16, new ProductPlan.Site("fc1", Product.BACKWARD_DATA, Role.ERROR,
        Role.WEIGHT, null, false, false)), "dfp16 codes take the chained path, which encodes the raw operands");
  }

  /**
   * A deep stack of convolutions: each layer's backward-weight product sees exactly the columns its
   * forward product saw. With stochastic rounding a second quantization of the already quantized
   * columns (a forgotten mark) would draw new random numbers and change them.
   */
  @Test
  void deepConvStacksUseTheSameQuantizedColumnsForwardAndBackward() {
    Policy p = Policy.parse("*  activation  e5m2  sr\n", "e5m2-sr");
    Compute.setNumerics(new Numerics(p, 5));
    java.util.Map<String, float[]> forward = new java.util.HashMap<>();
    List<String> checked = new ArrayList<>();
    Compute.observer = (layer, product, role, values, shape) -> {
      if (role != Role.ACTIVATION) return;
      if (product == Product.FORWARD) forward.put(layer, values.clone());
      if (product == Product.BACKWARD_WEIGHT) {
        assertArrayEquals(forward.get(layer), values, layer + ": backward-weight columns differ from forward");
        checked.add(layer);
      }
    };
    SplittableRandom r = new SplittableRandom(21);
    ConvSpec spec = new ConvSpec(2, 3, 6, 6, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    Var z = new Var(randn(r, 2, 3, 6, 6), true);
    for (int layer = 0; layer < 12; layer++) z = Compute.conv2d("conv" + layer, z, Var.parameter(randn(r, 3, 3, 3, 3)), null, spec);
    Ops.mse(z, new Tensor(new float[z.size()], z.shape())).backward();
    assertEquals(12, checked.size());
  }

  private static Engine.Takes takes(Numerics n, ProductPlan.Site site) {
    ProductPlan p = n.plan(site);
    return p.engine().takes(p);
  }

  /** The activation quantizer a convolution applies to its input before im2col, if any. */
  static java.util.Optional<Quantizer> beforeIm2col(Numerics n, ConvSpec s) {
    return n.quantizesItself("conv1", Role.ACTIVATION, s).filter(q -> Numerics.commutesWithIm2col(q, s));
  }

  @Test
  void amaxScaledInputsAreNotQuantizedEarlyWhenStridesSkipElements() {
    Numerics n = new Numerics(Presets.get("fp8"), 3);
    // a 1×1 kernel with stride 2 never reads odd rows and columns: their values must not set the scale
    assertTrue(beforeIm2col(n, new ConvSpec(2, 3, 6, 6, 4, 1, 1, 2, 2, 0, 0, 1, 1, 1)).isEmpty());
    assertTrue(beforeIm2col(n, new ConvSpec(2, 3, 6, 6, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1)).isPresent());
    Numerics bf = new Numerics(Presets.get("bf16"), 3); // a fixed grid needs no scale: any geometry
    assertTrue(beforeIm2col(bf, new ConvSpec(2, 3, 6, 6, 4, 1, 1, 2, 2, 0, 0, 1, 1, 1)).isPresent());
    for (String integer : List.of("int8", "dfp16")) {
      assertTrue(new Numerics(Presets.get(integer), 3).quantizesItself("conv1", Role.ACTIVATION,
          new ConvSpec(2, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1)).isEmpty(), integer + " takes the integer kernels");
    }
  }

  @Test
  void int8PresetGivesAtMost255LevelsPerScale() {
    Policy p = Presets.get("int8");
    Compute.setNumerics(new Numerics(p, 1));
    Compute.observer = (layer, product, role, values, shape) -> seen.add(new Seen(layer, product, role, values.clone(), shape));
    forwardBackward(3);
    Set<Role> roles = EnumSet.noneOf(Role.class);
    for (Seen s : seen) {
      roles.add(s.role);
      Quantizer q = p.lookup(s.layer, s.role).orElseThrow();
      int slices = q.sliceCount(s.shape);
      List<Set<Float>> levels = new ArrayList<>();
      float[] amax = new float[slices];
      for (int i = 0; i < slices; i++) levels.add(new HashSet<>());
      for (int i = 0; i < s.values.length; i++) {
        int sl = q.sliceOf(s.shape, i);
        levels.get(sl).add(s.values[i]);
        amax[sl] = Math.max(amax[sl], Math.abs(s.values[i]));
      }
      for (int sl = 0; sl < slices; sl++) {
        assertTrue(levels.get(sl).size() <= 255, s.role + " slice " + sl + " has " + levels.get(sl).size() + " levels");
        float step = amax[sl] / 127;
        for (float v : levels.get(sl)) {
          double k = v / step;
          assertEquals(Math.rint(k), k, 1e-3, s.layer + " " + s.role + ": " + v + " is not a multiple of " + step);
        }
      }
    }
    assertEquals(EnumSet.of(Role.WEIGHT, Role.ACTIVATION), roles); // int8 keeps gradients fp32
  }

  @Test
  void stochasticRoundingAppliesToEachComputeRoleAlone() {
    for (Role role : List.of(Role.WEIGHT, Role.ACTIVATION, Role.ERROR, Role.WEIGHT_GRADIENT)) {
      List<List<Seen>> runs = new ArrayList<>();
      for (String rounding : List.of("sr", "rne")) {
        Policy p = Policy.parse("*  " + role.label() + "  e5m2  " + rounding + "\n", "x");
        List<Seen> mine = new ArrayList<>();
        Compute.setNumerics(new Numerics(p, 3));
        Compute.observer = (layer, product, r, values, shape) -> mine.add(new Seen(layer, product, r, values.clone(), shape));
        forwardBackward(11);
        runs.add(mine);
      }
      List<Seen> sr = runs.get(0), rne = runs.get(1);
      assertEquals(rne.size(), sr.size(), role.label());
      assertFalse(sr.isEmpty(), role.label());
      Quantizer e5m2 = Policy.parse("* weight e5m2 rne\n", "y").lookup("l", Role.WEIGHT).orElseThrow();
      int differ = 0, total = 0;
      for (int t = 0; t < sr.size(); t++) {
        Seen a = sr.get(t), b = rne.get(t);
        assertEquals(role, a.role);
        float[] again = new float[a.values.length];
        e5m2.quantizeReference(a.values, a.shape, again, 0, 0);
        assertArrayEquals(a.values, again, role.label() + " under sr holds values outside e5m2");
        for (int i = 0; i < a.values.length; i++) {
          total++;
          if (a.values[i] != b.values[i]) {
            differ++;
            // the two roundings of one value are neighbours on the e5m2 grid
            assertTrue(Math.abs(a.values[i] - b.values[i]) <= 0.5 * Math.max(Math.abs(a.values[i]), Math.abs(b.values[i])),
                role.label() + ": sr " + a.values[i] + " vs rne " + b.values[i]);
          }
        }
      }
      // with 2 mantissa bits about a quarter of the values round the other way under sr
      assertTrue(differ > total / 10, role.label() + ": sr changed only " + differ + " of " + total);
    }
  }

  @Test
  void stochasticRoundingIsKeyedBySeedAndStep() {
    Policy p = Policy.parse("*  weight,activation,error  e5m2  sr\n", "sr");
    Numerics n = new Numerics(p, 5);
    Compute.setNumerics(n);
    float[] a = forwardBackward(9);
    float[] b = forwardBackward(9);
    assertArrayEquals(a, b);
    n.setStep(1);
    assertFalse(java.util.Arrays.equals(a, forwardBackward(9)), "another step drew the same random numbers");
    Compute.setNumerics(new Numerics(p, 6));
    assertFalse(java.util.Arrays.equals(a, forwardBackward(9)), "another seed drew the same random numbers");
  }

  @Test
  void int8ForwardRunsOnTheIntegerKernelsAndMatchesFakeQuantization() {
    Numerics n = new Numerics(Presets.get("int8"), 1);
    Compute.setNumerics(n);
    float[] integer = forwardBackward(11);
    assertEquals(2, n.integerGemms(), "linear and conv forward");
    assertEquals(0, n.int32Overflows());
    Compute.integerPathOff = true;
    Numerics fake = new Numerics(Presets.get("int8"), 1);
    Compute.setNumerics(fake);
    float[] fq = forwardBackward(11);
    assertEquals(0, fake.integerGemms());
    assertClose(fq, integer, 1e-5);
    Compute.setNumerics(null);
    float[] plain = forwardBackward(11);
    assertFalse(java.util.Arrays.equals(plain, integer), "int8 changed nothing");
  }

  @Test
  void int16PathCountsInt32Overflows() {
    Policy p = Policy.parse("*  weight,activation  int16  rne\n", "int16");
    Numerics n = new Numerics(p, 1);
    Compute.setNumerics(n);
    float[] moderate = forwardBackward(4);
    assertEquals(2, n.integerGemms());
    assertEquals(0, n.int32Overflows(), "random data stays well inside int32");
    Compute.integerPathOff = true;
    Compute.setNumerics(new Numerics(p, 1));
    assertClose(forwardBackward(4), moderate, 1e-5);
    Compute.integerPathOff = false;
    // every code at the top of the range: 12 products of 32767² each overflow int32
    Compute.setNumerics(n);
    float[] ones = new float[5 * 12], w = new float[6 * 12], y = new float[5 * 6];
    java.util.Arrays.fill(ones, 1f);
    java.util.Arrays.fill(w, 1f);
    Compute.gemm(new ProductPlan.Site("fc1", Product.FORWARD, Role.ACTIVATION, Role.WEIGHT, null, false, true),
        new GemmCall(5, 6, 12, new GemmCall.Matrix(ones, 0, 12), new GemmCall.Matrix(w, 0, 12),
            false, new GemmCall.Matrix(y, 0, 6)));
    assertEquals(3, n.integerGemms());
    assertEquals(30, n.int32Overflows());
  }

  static void assertClose(float[] expected, float[] actual, double rel) {
    assertEquals(expected.length, actual.length);
    double scale = 0;
    for (float v : expected) scale = Math.max(scale, Math.abs(v));
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], rel * scale + 1e-30, "element " + i);
    }
  }
}
