package dev.lowbit.numerics;

import java.util.Locale;

/**
 * What a value is to a layer, for the {@link Policy}: the tensors that cross a layer boundary
 * ({@link #isTensor()}) are quantized by a {@link dev.lowbit.format.Quantizer}; the arithmetic roles
 * ({@link #MULTIPLIER}, {@link #ACCUMULATOR}) say how the layer's products are formed and summed;
 * the function roles ({@link #isFunction()}: softmax, gelu, tanh, relu, layernorm, batchnorm, exp)
 * say how a layer evaluates its non-linear functions, by an {@link Approximation}.
 */
public enum Role {
  /** A layer's weight as the forward and backward GEMMs see it. */
  WEIGHT("weight"),
  /** A layer's input activation. */
  ACTIVATION("activation"),
  /** The output gradient flowing back into a layer (dY), the "error" of the backward pass. */
  ERROR("error"),
  /** The gradient of a weight (dW) handed to the optimizer. */
  WEIGHT_GRADIENT("weight-gradient"),
  /** Optimizer state (momentum, Adam moments). */
  OPTIMIZER_STATE("optimizer-state"),
  /** The master copy of the weights the optimizer updates. */
  MASTER_WEIGHT("master-weight"),
  /** How a GEMM forms its products (exact, L-Mul). */
  MULTIPLIER("multiplier"),
  /** How a GEMM sums its products (fp32, int32, narrow float, chunked). */
  ACCUMULATOR("accumulator"),
  /** A softmax (an attention's, or a softmax layer's) as a whole. */
  SOFTMAX("softmax"),
  /** A GELU activation (erf or tanh form). */
  GELU("gelu"),
  /** A tanh activation. */
  TANH("tanh"),
  /** A ReLU activation. */
  RELU("relu"),
  /** A layer norm's forward values. */
  LAYERNORM("layernorm"),
  /** A batch norm's forward values. */
  BATCHNORM("batchnorm"),
  /** The exponentials a softmax computes. */
  EXP("exp");

  private final String label;

  Role(String label) {
    this.label = label;
  }

  /** The name used in policy files and JSON. */
  public String label() {
    return label;
  }

  /** True for the tensor roles, whose spec is a quantizer; false for arithmetic and function roles. */
  public boolean isTensor() {
    return this != MULTIPLIER && this != ACCUMULATOR && !isFunction();
  }

  /** True for the function roles, whose spec is an {@link Approximation}. */
  public boolean isFunction() {
    return ordinal() >= SOFTMAX.ordinal();
  }

  /**
   * Parses a role name ({@code weight-gradient} or {@code weight_gradient}, case-insensitive).
   *
   * @throws IllegalArgumentException naming the bad value and the valid ones
   */
  public static Role parse(String s) {
    if (s != null) {
      String k = s.trim().toLowerCase(Locale.ROOT).replace('_', '-');
      for (Role r : values()) {
        if (r.label.equals(k)) return r;
      }
    }
    throw new IllegalArgumentException("unknown role '" + s + "'; valid: " + validNames());
  }

  /** The valid role names, comma-separated. */
  public static String validNames() {
    StringBuilder sb = new StringBuilder();
    for (Role r : values()) {
      if (!sb.isEmpty()) sb.append(", ");
      sb.append(r.label);
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return label;
  }
}
