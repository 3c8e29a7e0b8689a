package dev.lowbit.kernel;

/**
 * Geometry of a 2-D convolution over an NCHW batch: input N×C×H×W, weights OC×(C/groups)×KH×KW,
 * output N×OC×OH×OW. Sizes follow PyTorch: OH = (H + 2·padH − dilH·(KH−1) − 1) / strideH + 1.
 */
public record ConvSpec(
    int batch, int inC, int inH, int inW, int outC, int kH, int kW,
    int strideH, int strideW, int padH, int padW, int dilH, int dilW, int groups) {

  public ConvSpec {
    if (batch < 0 || inC <= 0 || inH <= 0 || inW <= 0 || outC <= 0 || kH <= 0 || kW <= 0) {
      throw new IllegalArgumentException("convolution sizes must be positive: " + describe(batch, inC, inH, inW, outC, kH, kW, strideH, strideW, padH, padW, dilH, dilW));
    }
    if (strideH <= 0 || strideW <= 0 || dilH <= 0 || dilW <= 0 || padH < 0 || padW < 0) {
      throw new IllegalArgumentException(
          "stride and dilation must be >= 1 and padding >= 0: " + describe(batch, inC, inH, inW, outC, kH, kW, strideH, strideW, padH, padW, dilH, dilW));
    }
    if (groups <= 0 || inC % groups != 0 || outC % groups != 0) {
      throw new IllegalArgumentException(
          "groups=" + groups + " must divide inC=" + inC + " and outC=" + outC);
    }
    if (inH + 2 * padH - dilH * (kH - 1) - 1 < 0 || inW + 2 * padW - dilW * (kW - 1) - 1 < 0) {
      throw new IllegalArgumentException("kernel larger than padded input: " + describe(batch, inC, inH, inW, outC, kH, kW, strideH, strideW, padH, padW, dilH, dilW));
    }
  }

  // the fields are not assigned yet inside the compact constructor, so messages use the parameters
  private static String describe(int batch, int inC, int inH, int inW, int outC, int kH, int kW,
      int strideH, int strideW, int padH, int padW, int dilH, int dilW) {
    return "batch=" + batch + " inC=" + inC + " input=" + inH + "x" + inW + " outC=" + outC
        + " kernel=" + kH + "x" + kW + " stride=" + strideH + "x" + strideW + " padding=" + padH + "x" + padW
        + " dilation=" + dilH + "x" + dilW;
  }

  /** Square kernel, same stride/padding both ways, no dilation, one group. */
  public static ConvSpec of(int batch, int inC, int inH, int inW, int outC, int k, int stride, int pad) {
    return new ConvSpec(batch, inC, inH, inW, outC, k, k, stride, stride, pad, pad, 1, 1, 1);
  }

  /** The same geometry for another batch size. */
  public ConvSpec withBatch(int n) {
    return new ConvSpec(n, inC, inH, inW, outC, kH, kW, strideH, strideW, padH, padW, dilH, dilW, groups);
  }

  public int outH() {
    return (inH + 2 * padH - dilH * (kH - 1) - 1) / strideH + 1;
  }

  public int outW() {
    return (inW + 2 * padW - dilW * (kW - 1) - 1) / strideW + 1;
  }

  /** Rows of the im2col matrix: C·KH·KW (all groups stacked). */
  public int colRows() {
    return inC * kH * kW;
  }

  /**
   * True when every input element lands in at least one column of the im2col matrix (no stride or
   * dilation skips a row or column of the input): then the column matrix holds exactly the input's
   * values plus padding zeros, so its largest magnitude is the input's.
   */
  public boolean everyInputUsed() {
    return covers(inH, outH(), kH, strideH, padH, dilH) && covers(inW, outW(), kW, strideW, padW, dilW);
  }

  private static boolean covers(int in, int out, int k, int stride, int pad, int dil) {
    boolean[] seen = new boolean[in];
    for (int o = 0; o < out; o++) {
      for (int t = 0; t < k; t++) {
        int i = o * stride - pad + t * dil;
        if (i >= 0 && i < in) seen[i] = true;
      }
    }
    for (boolean b : seen) if (!b) return false;
    return true;
  }

  /** Columns of the im2col matrix: N·OH·OW. */
  public int colCols() {
    return batch * outH() * outW();
  }

  public int inputSize() {
    return batch * inC * inH * inW;
  }

  public int outputSize() {
    return batch * outC * outH() * outW();
  }

  public int weightSize() {
    return outC * (inC / groups) * kH * kW;
  }

  public int colSize() {
    return Math.multiplyExact(colRows(), colCols());
  }
}
