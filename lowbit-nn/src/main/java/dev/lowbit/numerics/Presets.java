package dev.lowbit.numerics;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Named policies from the literature, kept as policy text (the data below is what {@code lowbit
 * train --policy NAME} uses). Each text opens with one comment line naming the paper. Only the
 * numerics are recorded here; method machinery (loss scaling, ShiftQuant's shifted scales, L1
 * normalization, staged fine-tuning) is named by options and carried out by the trainer.
 */
public final class Presets {

  private Presets() {}

  private static final Map<String, String> TEXT = new LinkedHashMap<>();

  static {
    TEXT.put("fp32", """
        # Baseline: every tensor, product and sum in IEEE binary32.
        policy fp32
        """);
    TEXT.put("bf16", """
        # Kalamkar et al., "A Study of BFLOAT16 for Deep Learning Training", arXiv 1905.12322 (2019).
        # bf16 GEMM operands; fp32 sums, weight gradients, master weights and optimizer state.
        policy bf16
        *  weight,activation,error  bf16  rne
        """);
    TEXT.put("fp16", """
        # Micikevicius et al., "Mixed Precision Training", ICLR 2018.
        # fp16 weights, activations and gradients; fp32 master weights; dynamic loss scaling (the
        # errors and fp16 weight gradients hold S·gradient; unscaled in fp32 before the update).
        policy fp16
        option loss-scale dynamic
        *  weight,activation,error,weight-gradient  fp16  rne
        """);
    TEXT.put("fp8", """
        # Micikevicius et al., "FP8 Formats for Deep Learning", arXiv 2209.05433 (2022).
        # E4M3 forward (weights, activations), E5M2 backward (errors); each tensor scaled by one
        # fp32 factor amax/maxFinite (current amax, no history) so its largest value lands on 448
        # (E4M3) or 57344 (E5M2); fp32 products, sums, weight gradients and master weights.
        policy fp8
        *  weight,activation  e4m3  rne  per-tensor(amax)
        *  error              e5m2  rne  per-tensor(amax)
        """);
    TEXT.put("mxfp8", """
        # Rouhani et al., "Microscaling Data Formats for Deep Learning", arXiv 2310.10537 (2023).
        # MXFP8: E4M3 weights and activations, E5M2 errors, one E8M0 scale per 32 values.
        policy mxfp8
        *  weight,activation  mxfp8      rne  per-block(32,-1)
        *  error              mxfp8e5m2  rne  per-block(32,-1)
        """);
    TEXT.put("mxfp6", """
        # Rouhani et al., "Microscaling Data Formats for Deep Learning", arXiv 2310.10537 (2023).
        # MXFP6: E2M3 weights and activations, E3M2 errors, one E8M0 scale per 32 values.
        policy mxfp6
        *  weight,activation  mxfp6      rne  per-block(32,-1)
        *  error              mxfp6e3m2  rne  per-block(32,-1)
        """);
    TEXT.put("mxfp4", """
        # Rouhani et al., "Microscaling Data Formats for Deep Learning", arXiv 2310.10537 (2023).
        # MXFP4 (E2M1) weights and activations; errors in MXFP6 E3M2 (our choice, unverified).
        policy mxfp4
        *  weight,activation  mxfp4      rne  per-block(32,-1)
        *  error              mxfp6e3m2  rne  per-block(32,-1)
        """);
    TEXT.put("int8", """
        # Jacob et al., "Quantization and Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference", CVPR 2018.
        # int8 weights per output channel, int8 activations per tensor, int32 sums of the forward
        # GEMM; gradients, master weights and optimizer state fp32.
        policy int8
        *  weight       int8   rne  per-channel(0)
        *  activation   int8   rne  per-tensor
        *  accumulator  int32  forward
        """);
    TEXT.put("dfp16", """
        # Das et al., "Mixed Precision Training of Convolutional Neural Networks using Integer Operations", ICLR 2018 (spec §1).
        # DFP16 (int16 mantissas, one shared exponent per tensor, 2 headroom bits as the reference sample) for weights,
        # activations and errors in all three GEMMs; int16 products summed in int32 chains of at
        # most 256 products, chains summed exactly; master weights, BN, loss and SGD fp32. The
        # spec keeps the first layer fp32: add e.g. 'c1  weight,activation,error  fp32' first.
        policy dfp16
        *  weight,activation,error  dfp16/h2  rne  per-tensor
        *  accumulator              int32:wrap/c256
        """);
    TEXT.put("shiftquant4", """
        # Guo et al., ShiftQuant and L1 normalization for sub-8-bit integer training, arXiv 2411.10948 (2024; spec §2, reconstructed).
        # 4-bit per-tensor weights and activations (RNE); 4-bit errors with stochastic rounding and
        # per-channel scales restricted to s0·2^-k, k <= K = 8 - 4 (the per-channel int4 rule
        # below is what ShiftQuant approximates); L1 norm layers; int8 GEMMs into int32.
        policy shiftquant4
        option error-quantizer shiftquant
        option shift-max 4
        option normalization l1
        *  weight,activation  int4   rne         per-tensor
        *  error              int4   stochastic  per-channel(-1)
        *  accumulator        int32
        """);
    TEXT.put("shiftquant8", """
        # Guo et al., ShiftQuant and L1 normalization for sub-8-bit integer training, arXiv 2411.10948 (2024; spec §2, reconstructed).
        # 8-bit variant: K = 8 - b = 0 in an int8 container, so the errors' scale is per tensor;
        # raise shift-max only with an int16 GEMM container.
        policy shiftquant8
        option error-quantizer shiftquant
        option shift-max 0
        option normalization l1
        *  weight,activation  int8   rne         per-tensor
        *  error              int8   stochastic  per-channel(-1)
        *  accumulator        int32
        """);
    TEXT.put("acc12", """
        # Blumenfeld, Hubara, Soudry, "Towards Cheaper Inference in Deep Networks with Lower Bit-Width Accumulators", ICLR 2024 (spec §3).
        # 12-bit float accumulator M7E4 (truncating) in chunks of 16, forward GEMMs only;
        # fine-tune first with underflow off, then on.
        policy acc12
        option accumulator-stages underflow-off-then-on
        *  accumulator  e4m7/c16  forward
        """);
  }

  static {
    TEXT.put("lmul4-attn", """
        # Luo and Sun, "Addition is All You Need for Energy-efficient Language Models", arXiv 2410.00907 (2024).
        # L-Mul with 4-bit mantissas (operands rounded to nearest even) in the attention's two
        # products only, Q·Kᵀ (LAYER.scores) and attention·V (LAYER.context), forward; fp32 sums;
        # every other product, and the backward products, exact.
        policy lmul4-attn
        *.scores,*.context  multiplier  lmul4  forward
        """);
    TEXT.put("lmul3-all", """
        # Luo and Sun, "Addition is All You Need for Energy-efficient Language Models", arXiv 2410.00907 (2024).
        # L-Mul with 3-bit mantissas (operands rounded to nearest even) in every forward product
        # (linear, convolution, attention); fp32 sums; backward products exact.
        policy lmul3-all
        *  multiplier  lmul3  forward
        """);
    TEXT.put("lmul4-all", """
        # Luo and Sun, "Addition is All You Need for Energy-efficient Language Models", arXiv 2410.00907 (2024).
        # L-Mul with 4-bit mantissas (operands rounded to nearest even) in every forward product;
        # fp32 sums; backward products exact.
        policy lmul4-all
        *  multiplier  lmul4  forward
        """);
    for (int m : new int[] {3, 4}) {
      TEXT.put("lmul" + m + "-train", """
          # Luo and Sun, "Addition is All You Need for Energy-efficient Language Models", arXiv 2410.00907 (2024).
          # L-Mul with %d-bit mantissas (operands rounded to nearest even) in every product, forward,
          # backward-data and backward-weight (the paper's fine-tuning with L-Mul); fp32 sums.
          policy lmul%d-train
          *  multiplier  lmul%d
          """.formatted(m, m, m));
    }
  }

  static {
    // IM-Unpack at the widths of its low-bit kernels (2, 4, 8) and 3; the RTN grid matched to the
    // engine (D = 2^b - 1 values up to the 0.95-quantile), the paper's inference configuration
    for (int b : new int[] {2, 3, 4, 8}) {
      TEXT.put("unpack-int" + b, """
          # Zeng, Sankaralingam, Singh, "IM-Unpack: Training and Inference with Arbitrarily Low Precision Integers", ICML 2024.
          # Every GEMM on integers: both operands of each forward product and the output gradient
          # RTN-quantized per tensor (0.95-quantile, %d values, no clipping, int32 codes); every
          # product exact on %d-bit GEMMs after unpacking its heavy hitters (the same bits as exact
          # int64 sums).
          policy unpack-int%d
          option unpack-bits %d
          *  weight,activation,error  int32  rne  per-tensor(quantile=0.95,distinct=%d)
          """.formatted((1 << b) - 1, b, b, b, (1 << b) - 1));
    }
  }

  /** The preset names, in table order. */
  public static List<String> names() {
    return List.copyOf(TEXT.keySet());
  }

  /**
   * The preset policy.
   *
   * @throws IllegalArgumentException for an unknown name, listing the known ones
   */
  public static Policy get(String name) {
    return Policy.parse(text(name), name);
  }

  /** The preset's policy text, comments included. */
  public static String text(String name) {
    String t = TEXT.get(name);
    if (t == null) {
      throw new IllegalArgumentException("unknown policy preset '" + name + "'; known: " + String.join(", ", TEXT.keySet()));
    }
    return t;
  }

  /** The preset's first comment line (the paper), without the '#'. */
  public static String description(String name) {
    String first = text(name).lines().findFirst().orElse("");
    return first.startsWith("#") ? first.substring(1).strip() : first;
  }
}
