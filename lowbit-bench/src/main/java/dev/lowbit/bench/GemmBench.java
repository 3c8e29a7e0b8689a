package dev.lowbit.bench;

import dev.lowbit.kernel.Gemm;
import dev.lowbit.kernel.ScalarGemm;
import dev.lowbit.kernel.VectorGemm;
import java.util.SplittableRandom;
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
 * The Java GEMM family on square n×n×n problems, the JMH twin of {@code lowbit bench gemm}.
 * Compare kernels as ratios of their scores to {@code sgemm} at the same n and threads (each op is
 * one GEMM of 2n³ operations). {@code impl=scalar} is the reference, for the small sizes only.
 *
 * <p>Run: {@code ./bench-jmh GemmBench -p n=1024 -p threads=2}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:+UseParallelGC"})
public class GemmBench {

  @Param({"256", "1024"})
  int n;

  @Param({"2"})
  int threads;

  /** "vector" (preferred width) or "vector-128/256/512", or "scalar". */
  @Param({"vector"})
  String impl;

  Gemm gemm;
  float[] a;
  float[] b;
  float[] c;
  byte[] a8;
  byte[] b8;
  short[] a16;
  short[] b16;
  int[] ci;

  @Setup
  public void setup() {
    gemm = switch (impl) {
      case "scalar" -> ScalarGemm.INSTANCE;
      case "vector" -> VectorGemm.ofBits(Math.min(512, VectorGemm.preferredBits()), threads);
      default -> VectorGemm.ofBits(Integer.parseInt(impl.substring("vector-".length())), threads);
    };
    int len = n * n;
    SplittableRandom r = new SplittableRandom(n);
    a = new float[len];
    b = new float[len];
    c = new float[len];
    a8 = new byte[len];
    b8 = new byte[len];
    a16 = new short[len];
    b16 = new short[len];
    ci = new int[len];
    for (int i = 0; i < len; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
      b[i] = (float) (r.nextDouble() * 2 - 1);
      a8[i] = (byte) r.nextInt(256);
      b8[i] = (byte) r.nextInt(256);
      a16[i] = (short) r.nextInt(65536);
      b16[i] = (short) r.nextInt(65536);
    }
  }

  @Benchmark
  public float[] sgemm() {
    gemm.sgemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
    return c;
  }

  @Benchmark
  public float[] sgemmTransB() {
    gemm.sgemm(false, true, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
    return c;
  }

  @Benchmark
  public int[] s8s8() {
    gemm.gemmS8S8(false, false, n, n, n, a8, 0, n, b8, 0, n, ci, 0, n);
    return ci;
  }

  @Benchmark
  public int[] u8s8() {
    gemm.gemmU8S8(false, false, n, n, n, a8, 0, n, b8, 0, n, ci, 0, n);
    return ci;
  }

  @Benchmark
  public int[] s16() {
    gemm.gemmS16(false, false, n, n, n, a16, 0, n, b16, 0, n, ci, 0, n, false);
    return ci;
  }

  @Benchmark
  public long s16CountOverflow() {
    return gemm.gemmS16(false, false, n, n, n, a16, 0, n, b16, 0, n, ci, 0, n, true);
  }
}
