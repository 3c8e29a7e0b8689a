package dev.lowbit.bench;

import dev.lowbit.kernel.Accumulator;
import dev.lowbit.kernel.EmulatedGemm;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.kernel.Multiplier;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Emulated-arithmetic GEMMs against the exact GEMM of the same square shape, in the same run:
 * {@code sgemmExact} (Kernels.javaGemm().sgemm) is the reference for the float ones and
 * {@code s8Exact} (Kernels.javaGemm().gemmS8S8) for the integer one. Targets: narrow accumulator
 * ≤ 4×, L-Mul ≤ 3× the exact time.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class AccumulatorBench {

  @Param({"256", "512"})
  public int size;

  private float[] a;
  private float[] b;
  private float[] c;
  private byte[] a8;
  private byte[] b8;
  private int[] c8;
  private final EmulatedGemm fast = EmulatedGemm.fast();
  private final Multiplier exact = new Multiplier.Exact();
  private final Multiplier lmul3 = Multiplier.parse("lmul3");
  private final Accumulator fp32 = Accumulator.parse("fp32");
  private final Accumulator e4m7c16 = Accumulator.parse("e4m7:rne/c16");
  private final Accumulator e5m6 = Accumulator.parse("e5m6:rtz");
  private final Accumulator e4m7sr = Accumulator.parse("e4m7:sr/c16");
  private final Accumulator int16sat = Accumulator.parse("int16:sat");

  @Setup
  public void setup() {
    Random r = new Random(1);
    int n = size * size;
    a = new float[n];
    b = new float[n];
    c = new float[n];
    a8 = new byte[n];
    b8 = new byte[n];
    c8 = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) r.nextGaussian();
      b[i] = (float) r.nextGaussian() * 0.05f;
      a8[i] = (byte) r.nextInt(256);
      b8[i] = (byte) r.nextInt(256);
    }
  }

  @Benchmark
  public float[] sgemmExact() {
    Kernels.javaGemm().sgemm(false, false, size, size, size, 1f, a, 0, size, b, 0, size, 0f, c, 0, size);
    return c;
  }

  @Benchmark
  public Object emulatedFp32() {
    return fast.gemm(exact, fp32, false, false, size, size, size, a, 0, size, b, 0, size, c, 0, size, 1);
  }

  @Benchmark
  public Object narrowE4m7RneC16() {
    return fast.gemm(exact, e4m7c16, false, false, size, size, size, a, 0, size, b, 0, size, c, 0, size, 1);
  }

  @Benchmark
  public Object narrowE5m6Rtz() {
    return fast.gemm(exact, e5m6, false, false, size, size, size, a, 0, size, b, 0, size, c, 0, size, 1);
  }

  @Benchmark
  public Object narrowE4m7SrC16() {
    return fast.gemm(exact, e4m7sr, false, false, size, size, size, a, 0, size, b, 0, size, c, 0, size, 1);
  }

  @Benchmark
  public Object lmul3Fp32() {
    return fast.gemm(lmul3, fp32, false, false, size, size, size, a, 0, size, b, 0, size, c, 0, size, 1);
  }

  @Benchmark
  public int[] s8Exact() {
    Kernels.javaGemm().gemmS8S8(false, false, size, size, size, a8, 0, size, b8, 0, size, c8, 0, size);
    return c8;
  }

  @Benchmark
  public Object s8Int16Sat() {
    return fast.gemmS8(int16sat, false, false, size, size, size, a8, 0, size, b8, 0, size, c8, 0, size);
  }
}
