package dev.lowbit.bench;

import dev.lowbit.format.NumberFormat;
import dev.lowbit.format.Quantizer;
import dev.lowbit.format.Rounding;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Tensor quantization throughput (elements/s, one thread) per format and rounding, next to a plain
 * array copy of the same size ({@link #copy}) measured in the same run.
 * Run: {@code ./bench-jmh QuantizeBench -f 1 -wi 3 -i 5}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
public class QuantizeBench {

  static final int N = 1 << 20;

  @Param({"int8", "e4m3", "e5m2", "mxfp8", "mxint8", "mxfp4", "bf16", "dfp16/b64"})
  public String format;

  @Param({"nearest-even", "stochastic"})
  public String rounding;

  float[] x = new float[N];
  float[] y = new float[N];
  int[] shape = {N};
  Quantizer q;
  long step;

  @Setup
  public void setup() {
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < N; i++) x[i] = (float) r.nextGaussian();
    q = Quantizer.of(NumberFormat.parse(format), Rounding.parse(rounding));
  }

  /** Elements per second of one whole-tensor quantization. */
  @Benchmark
  @OperationsPerInvocation(N)
  public float[] quantize() {
    q.quantize(x, shape, y, 1, step++);
    return y;
  }

  /** The reference: elements per second of System.arraycopy of the same size. */
  @Benchmark
  @OperationsPerInvocation(N)
  public float[] copy() {
    System.arraycopy(x, 0, y, 0, N);
    return y;
  }
}
