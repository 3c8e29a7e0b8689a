package dev.lowbit.intonly.exec;

import java.util.List;
import java.util.Objects;

/**
 * An integer-only program (I-ViT, Li &amp; Gu, ICCV 2023): the ops that take one batch of raw
 * pixels (0..255, value {@link #INPUT}) to one class index per image, with every tensor and
 * constant an integer. It is plain data: the compiler ({@code dev.lowbit.intonly}) builds it, the
 * executor ({@link IntExecutor}) runs it, {@code dev.lowbit.io.ProgramFile} saves and loads it.
 *
 * <p>Values are numbered; value 0 is the input, every op writes one new value {@code out} from
 * values written before it. Shapes are per sample (the batch is the leading dimension of every
 * value, implied). Layouts are row-major: a convolution's values are C×H×W, a token stream T×D.
 * Ops say what range their output takes (a requantization's clamp bounds), so the executor can
 * store an 8-bit value in bytes.
 *
 * <p>Rounding, everywhere: right shifts are arithmetic (floor), divisions are {@link
 * Math#floorDiv}, and a dyadic rescale adds half of its divisor before the shift (round half up).
 */
public record Program(String model, int channels, int height, int width, int classes, List<Op> ops) {

  /** The value number of the input: raw pixels 0..255, C×H×W per sample, real value pixel/255. */
  public static final int INPUT = 0;

  public Program {
    Objects.requireNonNull(model, "model");
    ops = List.copyOf(ops);
    if (channels <= 0 || height <= 0 || width <= 0 || classes <= 0) {
      throw new IllegalArgumentException("program shape must be positive: " + channels + "×" + height + "×" + width
          + ", " + classes + " classes");
    }
  }

  /** One step of a program. */
  public sealed interface Op {
    /** The value this op writes. */
    int out();

    /** The values this op reads, in order. */
    int[] inputs();
  }

  /**
   * A convolution's geometry for one sample: input inC×inH×inW, outC filters of k×k, stride, zero
   * padding. The output is outC×outH×outW.
   */
  public record ConvShape(int inC, int inH, int inW, int outC, int k, int stride, int pad) {
    public ConvShape {
      if (inC <= 0 || inH <= 0 || inW <= 0 || outC <= 0 || k <= 0 || stride <= 0 || pad < 0) {
        throw new IllegalArgumentException("bad convolution shape " + inC + "×" + inH + "×" + inW + " -> " + outC
            + " k" + k + " s" + stride + " p" + pad);
      }
    }

    public int outH() {
      return (inH + 2 * pad - k) / stride + 1;
    }

    public int outW() {
      return (inW + 2 * pad - k) / stride + 1;
    }
  }

  /**
   * Per-channel (or per-tensor) dyadic multipliers: element i of a sample belongs to channel
   * {@code (i / inner) % channels} and becomes round(z·m/2^k) = (z·m + 2^(k−1)) >> k, in long.
   * {@code m} and {@code k} have one entry (per tensor, {@code channels = 1}) or {@code channels}
   * entries. A negative m carries a negative scale (a layer norm's negative γ); 0 ≤ k ≤ 62.
   */
  public record Rescale(int[] m, int[] k, int channels, int inner) {
    public Rescale {
      if (m.length != k.length || (m.length != 1 && m.length != channels) || channels <= 0 || inner <= 0) {
        throw new IllegalArgumentException("rescale: " + m.length + " multipliers and " + k.length + " shifts for "
            + channels + " channels (inner " + inner + ")");
      }
      for (int s : k) {
        if (s < 0 || s > 62) throw new IllegalArgumentException("rescale: shift " + s + " outside 0..62");
      }
    }
  }

  /**
   * out = Σ w·x + bias (int32 accumulator, exact) over a zero-padded convolution; w is outC ×
   * (inC·k·k) in PyTorch's order (c, ky, kx), bias has outC entries.
   */
  public record Conv(int out, int in, ConvShape shape, byte[] weight, int[] bias) implements Op {
    @Override
    public int[] inputs() {
      return new int[] {in};
    }
  }

  /** out[r, o] = Σ_i w[o, i]·x[r, i] + bias[o] for each of {@code rows} rows: int32, exact. */
  public record Linear(int out, int in, int rows, int inF, int outF, byte[] weight, int[] bias) implements Op {
    @Override
    public int[] inputs() {
      return new int[] {in};
    }
  }

  /** out = clamp(rescale(in), lo, hi): to int8 (−128..127), int16, or with lo = 0 a fused ReLU. */
  public record Requant(int out, int in, Rescale rescale, int lo, int hi) implements Op {
    @Override
    public int[] inputs() {
      return new int[] {in};
    }
  }

  /** out = clamp(rescale_a(a) + rescale_b(b), lo, hi): a residual addition onto one scale. */
  public record Add(int out, int a, int b, Rescale ra, Rescale rb, int lo, int hi) implements Op {
    @Override
    public int[] inputs() {
      return new int[] {a, b};
    }
  }

  /** A constant, the same for every sample (a position embedding in the residual's scale). */
  public record Const(int out, int[] values) implements Op {
    @Override
    public int[] inputs() {
      return new int[0];
    }
  }

  /** Max pooling of c×h×w with a k×k window and stride (no padding). */
  public record MaxPool(int out, int in, int c, int h, int w, int k, int stride) implements Op {
    @Override
    public int[] inputs() {
      return new int[] {in};
    }
  }

  /**
   * out[o, j] = Σ_t in[o, t, j] for o &lt; outer, t &lt; count, j &lt; inner: the sum of an average
   * pool, whose 1/count the next rescale folds in (exact, no division).
   */
  public record Sum(int out, int in, int outer, int count, int inner) implements Op {
    @Override
    public int[] inputs() {
      return new int[] {in};
    }
  }

  /** out = inᵀ per sample: rows×cols becomes cols×rows (a patch embedding's D×T to T×D). */
  public record Transpose(int out, int in, int rows, int cols) implements Op {
    @Override
    public int[] inputs() {
      return new int[] {in};
    }
  }

  /**
   * I-LayerNorm over rows of {@code dim}: μ = round(mean), y = x − μ, σ = isqrt(Σy²) (at least 1),
   * z = floorDiv(y·floorDiv(2^31−1, σ), 2), out = z + bias[c] (int32; the real value is
   * out·√dim/2^30·γ_c, which the next rescale carries).
   */
  public record LayerNorm(int out, int in, int rows, int dim, int[] bias) implements Op {
    @Override
    public int[] inputs() {
      return new int[] {in};
    }
  }

  /** Attention scores per head: out[h, i, j] = Σ_d q[i, h·dh + d]·k[j, h·dh + d] (int32). */
  public record Scores(int out, int q, int k, int tokens, int heads, int headDim) implements Op {
    @Override
    public int[] inputs() {
      return new int[] {q, k};
    }
  }

  /** Attention context, heads merged: out[i, h·dh + d] = Σ_j p[h, i, j]·v[j, h·dh + d] (int32). */
  public record Context(int out, int p, int v, int tokens, int heads, int headDim) implements Op {
    @Override
    public int[] inputs() {
      return new int[] {p, v};
    }
  }

  /** Shiftmax over rows of {@code cols} (spec §2.4), output scale 2^−(kOut−1). */
  public record Shiftmax(int out, int in, int rows, int cols, int x0, int n, int kOut) implements Op {
    @Override
    public int[] inputs() {
      return new int[] {in};
    }
  }

  /**
   * ShiftGELU over rows of {@code cols} (spec §2.5): out = x·σ, σ in 0..2^(kOut−1)−1, output
   * scale S/2^(kOut−1); {@code precise} divides in long instead of by the reciprocal.
   */
  public record ShiftGelu(int out, int in, int rows, int cols, int x0, int n, int kOut, boolean precise)
      implements Op {
    @Override
    public int[] inputs() {
      return new int[] {in};
    }
  }

  /** The index of the first largest of {@code classes} values per sample. */
  public record Argmax(int out, int in, int classes) implements Op {
    @Override
    public int[] inputs() {
      return new int[] {in};
    }
  }
}
