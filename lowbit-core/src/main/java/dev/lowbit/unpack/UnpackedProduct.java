package dev.lowbit.unpack;

import java.util.Arrays;
import java.util.Objects;

/**
 * A product {@code C = A·B} (A n×d, B d×m, int32) unpacked for b-bit GEMMs (IM-Unpack, Zeng et al.,
 * ICML 2024): {@code left} is A'' (n'×d'') with its rows' owners in 0..n and exponents; {@code
 * rightT} is B''ᵀ (m'×d'') with its rows' owners in 0..m (B's columns) and exponents; both carry
 * the same inner exponents and sources (their column exponents and sources). Then
 *
 * <pre>
 * C[i][k] = Σ over (r, c, q) with left.rowOwner[r] = i and rightT.rowOwner[c] = k of
 *           2^((b-1)·(left.rowExponent[r] + rightT.rowExponent[c] + inner[q])) · A''[r][q] · B''ᵀ[c][q]
 * </pre>
 *
 * which {@link UnpackedGemm#multiply} evaluates with one b-bit GEMM per inner exponent.
 */
public record UnpackedProduct(Strategy strategy, int bits, int n, int d, int m, Unpacked left, Unpacked rightT) {

  public UnpackedProduct {
    Objects.requireNonNull(strategy, "strategy");
    if (left.bits() != bits || rightT.bits() != bits) {
      throw new IllegalArgumentException("operands unpacked for " + left.bits() + " and " + rightT.bits()
          + " bits, product for " + bits);
    }
    if (left.matrix().cols() != rightT.matrix().cols()
        || !Arrays.equals(left.columnExponent(), rightT.columnExponent())) {
      throw new IllegalArgumentException("the operands' inner dimensions differ: " + left.matrix().cols() + " and "
          + rightT.matrix().cols() + " columns, or their inner exponents");
    }
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
    return rightT.matrix().rows();
  }

  /** The unpack ratio {@code n'·d''·m' / (n·d·m)}: b-bit multiply-adds per original one (1 when empty). */
  public double ratio() {
    double orig = (double) n * d * m;
    return orig == 0 ? 1 : (double) unpackedN() * unpackedD() * unpackedM() / orig;
  }
}
