package dev.lowbit.numerics;

/**
 * How an op evaluates the forward values of its non-linear function (softmax, GELU, tanh, ReLU, a
 * norm). The op hands its exact fp32 code to {@link #of} and runs what comes back; {@link #EXACT}
 * gives that code back unchanged, so the default runs the op's code as it always was. An
 * approximation (the policy's function roles, {@code dev.lowbit.numerics.Approximation}) returns
 * other code, so an op never branches on which approximation it is given. Backward passes keep
 * the exact derivative, evaluated at the values the forward code saw (straight-through).
 */
@FunctionalInterface
public interface FunctionEval {

  /** The op's own fp32 code. */
  FunctionEval EXACT = exact -> exact;

  /** The code that computes the function's values, given its exact fp32 code. */
  Rows of(Rows exact);

  /**
   * y = f(x) for one op call: {@code rows × cols} values, {@code cols} the last dimension (the
   * row a softmax or layer norm reduces over; N·C × H·W for a batch norm). {@code y} does not
   * alias {@code x}.
   */
  @FunctionalInterface
  interface Rows {
    void apply(float[] x, float[] y, int rows, int cols);
  }

  /**
   * The exact code of a norm whose values end in a per-column affine map y = x̂·γ + β (a layer
   * norm): an approximation that computes the normalized x̂ its own way (I-LayerNorm) reads γ and β
   * here and applies the same affine map.
   */
  interface AffineRows extends Rows {
    /** γ, one per column. */
    float[] gamma();

    /** β, one per column. */
    float[] beta();

    /** {@code code} as affine rows with {@code gamma} and {@code beta}. */
    static AffineRows of(float[] gamma, float[] beta, Rows code) {
      return new AffineRows() {
        @Override
        public void apply(float[] x, float[] y, int rows, int cols) {
          code.apply(x, y, rows, cols);
        }

        @Override
        public float[] gamma() {
          return gamma;
        }

        @Override
        public float[] beta() {
          return beta;
        }
      };
    }
  }
}
