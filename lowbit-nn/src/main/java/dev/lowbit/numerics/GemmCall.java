package dev.lowbit.numerics;

/**
 * The arrays of one matrix product C = op(A)·op(B) (+ C when {@code accumulate}): op(A) is m × k,
 * op(B) k × n, C m × n. Whether A and B are transposed is part of the product's {@link
 * ProductPlan.Site}, which does not change from call to call.
 */
public record GemmCall(int m, int n, int k, Matrix a, Matrix b, boolean accumulate, Matrix c) {

  /** A stored row-major matrix: its array, the offset of its first element and its leading dimension. */
  public record Matrix(float[] x, int off, int ld) {}
}
