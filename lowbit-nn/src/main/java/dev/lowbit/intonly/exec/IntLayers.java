package dev.lowbit.intonly.exec;

/**
 * Layers with constant int8 weights run whole by a backend that prepares each op's weights once
 * (oneDNN's direct int8 convolution, and its GEMM on weights packed once per program), instead of the
 * executor's own route (im2col for a convolution, then {@link IntMatmul}). Implementations live outside this package
 * and must give the bits of that route with {@link IntMatmul#SCALAR}: exact int32 sums. {@link
 * #NONE} declines every layer.
 */
public interface IntLayers {

  /** A short name for logs ("onednn int8 conv"). */
  String name();

  /**
   * out (n samples of outC×outH×outW, int32, from 0) = Σ w·patch over the zero-padded x (n samples
   * of inC×inH×inW bytes from 0, read as 0..255 when {@code unsignedX}), without the bias; false
   * when declined (out untouched).
   */
  boolean conv(Program.Conv op, int n, byte[] x, boolean unsignedX, int[] out);

  /**
   * out[r, o] = Σ_i w[o, i]·x[r, i] for {@code rows} rows of x (bytes from 0, read as 0..255 when
   * {@code unsignedX}), without the bias; false when declined (out untouched).
   */
  boolean linear(Program.Linear op, int rows, byte[] x, boolean unsignedX, int[] out);

  /** Declines every layer. */
  IntLayers NONE = new IntLayers() {
    @Override
    public String name() {
      return "none";
    }

    @Override
    public boolean conv(Program.Conv op, int n, byte[] x, boolean unsignedX, int[] out) {
      return false;
    }

    @Override
    public boolean linear(Program.Linear op, int rows, byte[] x, boolean unsignedX, int[] out) {
      return false;
    }
  };
}
