package dev.lowbit.nn;

import dev.lowbit.format.Quantizer;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Product;
import dev.lowbit.numerics.Role;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The numerics a run applies in {@link Compute}: a {@link Policy}, the run's seed and the current
 * step (stochastic rounding draws from (seed, a stream keyed by layer, role, operand offset and
 * step), so runs are deterministic), and counters of what was quantized. Install with {@link
 * Compute#setNumerics}; none installed means plain fp32.
 */
public final class Numerics {

  /** Sees every operand and result after quantization (tests check the values are representable). */
  interface Observer {
    void tensor(String layer, Product product, Role role, float[] values, int[] shape);
  }

  private final Policy policy;
  private final long seed;
  private volatile long step;
  private final AtomicLong quantizedTensors = new AtomicLong();

  public Numerics(Policy policy, long seed) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.seed = seed;
  }

  public Policy policy() {
    return policy;
  }

  public long seed() {
    return seed;
  }

  /** Sets the training step that keys stochastic rounding (the trainer calls this every step). */
  public void setStep(long step) {
    this.step = step;
  }

  public long step() {
    return step;
  }

  /** How many tensors (GEMM operands and weight-gradient results) were quantized so far. */
  public long quantizedTensors() {
    return quantizedTensors.get();
  }

  /** The quantizer for (layer, role), or empty (fp32) for a null role. */
  Optional<Quantizer> lookup(String layer, Role role) {
    return role == null ? Optional.empty() : policy.lookup(layer, role);
  }

  /**
   * A compact (rows × cols) copy of the stored matrix at {@code src[off…]} with leading dimension
   * {@code ld}, quantized. The stored layout (not the transposed view) is what gets quantized, so
   * an operand quantizes the same way in every product that uses it (W in forward and
   * backward-data, X in forward and backward-weight, dY in both backward products).
   */
  float[] quantize(Quantizer q, String layer, Role role, float[] src, int off, int ld, int rows, int cols) {
    float[] x = new float[rows * cols];
    for (int r = 0; r < rows; r++) System.arraycopy(src, off + r * ld, x, r * cols, cols);
    q.quantize(x, new int[] {rows, cols}, x, seed, stream(layer, role, off));
    quantizedTensors.incrementAndGet();
    return x;
  }

  /** Quantizes a compact (rows × cols) result in place. */
  void quantizeInPlace(Quantizer q, String layer, Role role, float[] x, int off, int rows, int cols) {
    q.quantize(x, new int[] {rows, cols}, x, seed, stream(layer, role, off));
    quantizedTensors.incrementAndGet();
  }

  /** A quantizer stream id from (layer, role, offset, step); String.hashCode is specified, so stable. */
  public long stream(String layer, Role role, int off) {
    long h = layer.hashCode() * 0x9E3779B97F4A7C15L;
    h ^= (role.ordinal() + 1L) * 0xC2B2AE3D27D4EB4FL;
    h = Long.rotateLeft(h, 29) ^ off * 0x165667B19E3779F9L;
    return Long.rotateLeft(h, 17) ^ step * 0xD6E8FEB86659FD93L;
  }
}
