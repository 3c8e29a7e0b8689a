package dev.lowbit.unpack;

import java.util.Arrays;
import java.util.Objects;

/**
 * A product {@code C = A·B} (A n×d, B d×m, int32) unpacked for b-bit GEMMs (IM-Unpack, Zeng et al.,
 * ICML 2024): {@code left} is A'' (n'×d'') with its rows' owners in 0..n and exponents; {@code
 * right} is B'' (d''×m'), row-major as int8 GEMM kernels take B, with its columns' owners in 0..m
 * (B's columns, {@code right.columnSource}) and exponents ({@code right.columnExponent}); A''s
 * columns and B''s rows are the same d'' inner indices, with the same sources and exponents
 * (left's column sources and exponents, right's row owners and exponents). Then
 *
 * <pre>
 * C[i][k] = Σ over (r, c, q) with left.rowOwner[r] = i and right.columnSource[c] = k of
 *           2^((b-1)·(left.rowExponent[r] + right.columnExponent[c] + inner[q])) · A''[r][q] · B''[q][c]
 * </pre>
 *
 * which {@link UnpackedGemm#multiply} evaluates with one b-bit GEMM per inner exponent.
 */
public record UnpackedProduct(Strategy strategy, int bits, int n, int d, int m, Unpacked left, Unpacked right) {

  public UnpackedProduct {
    Objects.requireNonNull(strategy, "strategy");
    if (left.bits() != bits || right.bits() != bits) {
      throw new IllegalArgumentException("operands unpacked for " + left.bits() + " and " + right.bits()
          + " bits, product for " + bits);
    }
    if (left.matrix().cols() != right.matrix().rows()
        || !Arrays.equals(left.columnExponent(), right.rowExponent())) {
      throw new IllegalArgumentException("the operands' inner dimensions differ: " + left.matrix().cols()
          + " columns and " + right.matrix().rows() + " rows, or their inner exponents");
    }
  }

  /**
   * B''ᵀ (m'×d''), {@link #right} transposed (a new copy): its rows' owners and exponents are B''s
   * columns', its columns' sources and exponents the inner ones.
   */
  public Unpacked rightT() {
    return right.transpose();
  }

  /** The inner exponent of each of the d'' inner indices. */
  public int[] innerExponent() {
    return left.columnExponent();
  }

  /** n' (rows of A''). */
  public int unpackedN() {
    return left.matrix().rows();
  }

  /** d'' (the unpacked inner dimension). */
  public int unpackedD() {
    return left.matrix().cols();
  }

  /** m' (columns of B''). */
  public int unpackedM() {
    return right.matrix().cols();
  }

  /** The unpack ratio {@code n'·d''·m' / (n·d·m)}: b-bit multiply-adds per original one (1 when empty). */
  public double ratio() {
    double orig = (double) n * d * m;
    return orig == 0 ? 1 : (double) unpackedN() * unpackedD() * unpackedM() / orig;
  }
}
