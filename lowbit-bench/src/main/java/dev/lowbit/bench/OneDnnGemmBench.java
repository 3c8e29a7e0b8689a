package dev.lowbit.bench;

import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.kernel.ScalarLowPrecisionGemm;
import dev.lowbit.onednn.OneDnnGemm;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * oneDNN GEMMs through lowbit's array API (operands copied to native memory and back on every
 * call) next to the pure-Java kernel of the same contract, square n×n×n. Time per call: GOP/s =
 * 2n³ / time. Example: {@code ./bench-jmh OneDnnGemmBench -p n=1024}. oneDNN uses OpenMP's default
 * team (all CPUs) unless {@code -p threads=N}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
public class OneDnnGemmBench {

  @Param({"1024"})
  int n;

  /** oneDNN's OpenMP threads; 0 keeps OpenMP's default. */
  @Param({"0"})
  int threads;

  OneDnnGemm onednn;
  Gemm java;
  byte[] a8;
  byte[] b8;
  short[] a16;
  short[] b16;
  short[] aBf16;
  short[] bBf16;
  int[] c;
  float[] cf;
  byte[] cq;
  short[] cBf16;
  float[] qScale;
  dev.lowbit.onednn.PackedWeights packed;
  dev.lowbit.onednn.PackedWeights packedBf16;

  @Setup(Level.Trial)
  public void setup() {
    onednn = OneDnnGemm.create(Kernels.javaGemm());
    onednn.runtime().setThreads(threads);
    java = Kernels.javaGemm();
    Random r = new Random(7);
    int len = n * n;
    a8 = new byte[len];
    b8 = new byte[len];
    r.nextBytes(a8);
    r.nextBytes(b8);
    a16 = new short[len];
    b16 = new short[len];
    aBf16 = new short[len];
    bBf16 = new short[len];
    for (int i = 0; i < len; i++) {
      a16[i] = (short) r.nextInt();
      b16[i] = (short) r.nextInt();
      aBf16[i] = ScalarLowPrecisionGemm.floatToBf16((float) r.nextGaussian());
      bBf16[i] = ScalarLowPrecisionGemm.floatToBf16((float) r.nextGaussian());
    }
    c = new int[len];
    cf = new float[len];
    cq = new byte[len];
    cBf16 = new short[len];
    qScale = new float[] {(float) (127.0 / (3 * 74 * 74 * Math.sqrt(n)))};
    packed = onednn.packInt8Weights(true, n, n, b8, 0, n);
    packedBf16 = onednn.packBf16Weights(false, n, n, bBf16, 0, n);
  }

  /** As {@link #int8U8S8OneDnn} with the weights packed once, as PyTorch's linear_prepack does. */
  @Benchmark
  public int[] int8U8S8PackedOneDnn() {
    onednn.gemmInt8Packed(true, false, n, a8, 0, n, packed, c, 0, n);
    return c;
  }

  /**
   * The whole of PyTorch's static quantized.linear: u8 input with zero point 128, packed s8
   * weights, per-tensor multiplier, requantized u8 output with zero point 128 (m×n bytes back).
   */
  @Benchmark
  public byte[] int8U8S8RequantizedPackedOneDnn() {
    onednn.linearU8S8Packed(n, a8, 0, n, 128, packed, qScale, 128, false, cq, 0, n);
    return cq;
  }

  /** Like PyTorch's static quantized linear: u8 activations × s8 weights (weights transposed). */
  @Benchmark
  public int[] int8U8S8OneDnn() {
    onednn.gemmU8S8(false, true, n, n, n, a8, 0, n, b8, 0, n, c, 0, n);
    return c;
  }

  @Benchmark
  public int[] int8S8S8OneDnn() {
    onednn.gemmS8S8(false, false, n, n, n, a8, 0, n, b8, 0, n, c, 0, n);
    return c;
  }

  /** Exact int16 GEMM by int8 digits on oneDNN. */
  @Benchmark
  public int[] int16DigitsOneDnn() {
    onednn.gemmS16(false, false, n, n, n, a16, 0, n, b16, 0, n, c, 0, n, false);
    return c;
  }

  /** The pure-Java int16 kernel behind Kernels.javaGemm() (the reference for the ratio). */
  @Benchmark
  public int[] int16Java() {
    java.gemmS16(false, false, n, n, n, a16, 0, n, b16, 0, n, c, 0, n, false);
    return c;
  }

  /** As {@link #bf16OneDnn} with the weights packed once. */
  @Benchmark
  public float[] bf16PackedOneDnn() {
    onednn.gemmBf16Packed(false, n, aBf16, 0, n, packedBf16, cf, 0, n);
    return cf;
  }

  /** bf16 × packed bf16 weights with bf16 output, as PyTorch's bf16 matmul returns. */
  @Benchmark
  public short[] bf16Bf16OutPackedOneDnn() {
    onednn.gemmBf16PackedBf16Out(false, n, aBf16, 0, n, packedBf16, cBf16, 0, n);
    return cBf16;
  }

  @Benchmark
  public float[] bf16OneDnn() {
    onednn.gemmBf16(false, false, n, n, n, aBf16, 0, n, bBf16, 0, n, cf, 0, n);
    return cf;
  }
}
