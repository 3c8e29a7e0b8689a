package dev.lowbit.numerics;

import dev.lowbit.kernel.IntOnlyConstants;
import dev.lowbit.kernel.intonly.IntLayerNorm;
import dev.lowbit.kernel.intonly.ShiftGelu;
import dev.lowbit.kernel.intonly.Shiftmax;
import dev.lowbit.numerics.FunctionEval.Rows;

/**
 * I-ViT's integer functions (Li &amp; Gu, ICCV 2023) as function-role approximations, fake-quantized:
 * the op's input is quantized per tensor (symmetric, S = max|x|/qmax, round half even), the
 * integer kernel of {@code dev.lowbit.kernel.intonly} runs on the codes, and its output is turned
 * back into floats with its scale (a NaN or infinite input gives NaN outputs). So a policy can train or fine-tune with the functions that the
 * integer-only program ({@code lowbit export --int-only}) computes, with the same constants.
 *
 * <ul>
 *   <li>{@code shiftmax} (softmax): int8 input, n = {@value #SOFTMAX_N}, k_out = {@value
 *       #SOFTMAX_BITS} (probabilities on a 1/2^(k_out−1) grid).
 *   <li>{@code shiftgelu}, {@code shiftgelu:precise} (gelu): int8 input, n = {@value #GELU_N}, k_out
 *       = {@value #GELU_BITS}; the precise mode divides exactly instead of by the reciprocal.
 *   <li>{@code ilayernorm} (layernorm): int16 input, I-LayerNorm's integer mean, square root and
 *       reciprocal; then the layer's own γ and β in float.
 * </ul>
 *
 * Backward passes stay the ops' exact derivatives (straight-through), as for every approximation.
 */
public record IntegerFunction(String text, Role role, boolean precise) implements Approximation {

  /** Shiftmax's shift budget n (spec §2.4: PyTorch ViT/DeiT use 15). */
  public static final int SOFTMAX_N = 15;
  /** Shiftmax's output bits: 8 keeps the attention probabilities int8 for the P·V product. */
  public static final int SOFTMAX_BITS = 8;
  /** ShiftGELU's shift budget (the released code's 23). */
  public static final int GELU_N = 23;
  /** ShiftGELU's σ bits (σ in 0..127). */
  public static final int GELU_BITS = 8;

  static final IntegerFunction SHIFTMAX = new IntegerFunction("shiftmax", Role.SOFTMAX, false);
  static final IntegerFunction SHIFTGELU = new IntegerFunction("shiftgelu", Role.GELU, false);
  static final IntegerFunction SHIFTGELU_PRECISE = new IntegerFunction("shiftgelu:precise", Role.GELU, true);
  static final IntegerFunction ILAYERNORM = new IntegerFunction("ilayernorm", Role.LAYERNORM, false);

  @Override
  public boolean fits(Role r) {
    return r == role;
  }

  @Override
  public float exp(float x) {
    throw new IllegalStateException(text + " approximates " + role.label() + ", not exp");
  }

  @Override
  public Rows of(Role r, Rows exact) {
    if (r != role) throw new IllegalStateException(text + " approximates " + role.label() + ", not " + r.label());
    return switch (role) {
      case SOFTMAX -> (x, y, rows, cols) -> {
        int[] q = new int[rows * cols], out = new int[rows * cols];
        double s = quantize(x, rows * cols, 127, q);
        if (Double.isNaN(s)) {
          java.util.Arrays.fill(y, 0, rows * cols, Float.NaN);
          return;
        }
        int x0 = IntOnlyConstants.shiftX0(s);
        for (int b = 0; b < rows * cols; b += cols) Shiftmax.row(q, b, cols, x0, SOFTMAX_N, SOFTMAX_BITS, out, b);
        float unit = 1f / (1 << (SOFTMAX_BITS - 1));
        for (int i = 0; i < rows * cols; i++) y[i] = out[i] * unit;
      };
      case GELU -> (x, y, rows, cols) -> {
        int[] q = new int[rows * cols], out = new int[rows * cols];
        double s = quantize(x, rows * cols, 127, q);
        if (Double.isNaN(s)) {
          java.util.Arrays.fill(y, 0, rows * cols, Float.NaN);
          return;
        }
        ShiftGelu.Params p = new ShiftGelu.Params(IntOnlyConstants.geluX0(s), GELU_N, GELU_BITS, precise);
        for (int b = 0; b < rows * cols; b += cols) ShiftGelu.row(q, b, cols, p, out, b);
        double unit = s / (1 << (GELU_BITS - 1));
        for (int i = 0; i < rows * cols; i++) y[i] = (float) (out[i] * unit);
      };
      case LAYERNORM -> {
        if (!(exact instanceof FunctionEval.AffineRows affine)) {
          throw new IllegalStateException("ilayernorm needs the layer norm's γ and β (FunctionEval.AffineRows)");
        }
        yield (x, y, rows, cols) -> {
          exact.apply(x, y, rows, cols); // the exact code keeps what its backward reads
          int[] q = new int[rows * cols], z = new int[rows * cols];
          if (Double.isNaN(quantize(x, rows * cols, 32767, q))) {
            java.util.Arrays.fill(y, 0, rows * cols, Float.NaN);
            return;
          }
          int[] zeroBias = new int[cols];
          double unit = IntOnlyConstants.layerNormScale(cols);
          float[] g = affine.gamma(), bt = affine.beta();
          for (int b = 0; b < rows * cols; b += cols) {
            IntLayerNorm.row(q, b, cols, zeroBias, z, b);
            for (int j = 0; j < cols; j++) y[b + j] = (float) (z[b + j] * unit) * g[j] + bt[j];
          }
        };
      }
      default -> throw new IllegalStateException(text + " has no code for " + role.label());
    };
  }

  /**
   * q = clamp(rint(x/S), −qmax, qmax) with S = max|x|/qmax (1 when every x is 0); returns S, or
   * NaN when an input is NaN or infinite (the callers then output NaN, as a diverged step would).
   */
  private static double quantize(float[] x, int n, int qmax, int[] q) {
    double max = 0;
    for (int i = 0; i < n; i++) {
      if (!Float.isFinite(x[i])) return Double.NaN;
      max = Math.max(max, Math.abs(x[i]));
    }
    double s = max > 0 ? max / qmax : 1;
    for (int i = 0; i < n; i++) q[i] = (int) Math.max(-qmax, Math.min(qmax, Math.rint(x[i] / s)));
    return s;
  }
}
