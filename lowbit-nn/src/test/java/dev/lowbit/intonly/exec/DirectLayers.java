package dev.lowbit.intonly.exec;

/**
 * A test {@link IntLayers}: convolutions as direct loops over the padded input (no im2col) and
 * linear layers as plain sums, declining every other call so the executor's own route runs beside it.
 */
final class DirectLayers implements IntLayers {

  private int calls;

  @Override
  public String name() {
    return "direct loops (every other call)";
  }

  @Override
  public boolean conv(Program.Conv op, int n, byte[] x, boolean unsignedX, int[] out) {
    if (calls++ % 2 == 1) return false;
    Program.ConvShape s = op.shape();
    int mask = unsignedX ? 0xFF : -1, oh = s.outH(), ow = s.outW(), k = s.k();
    for (int b = 0; b < n; b++) {
      for (int o = 0; o < s.outC(); o++) {
        for (int oy = 0; oy < oh; oy++) {
          for (int ox = 0; ox < ow; ox++) {
            int sum = 0;
            for (int c = 0; c < s.inC(); c++) {
              for (int i = 0; i < k; i++) {
                for (int j = 0; j < k; j++) {
                  int iy = oy * s.stride() - s.pad() + i, ix = ox * s.stride() - s.pad() + j;
                  if (iy < 0 || iy >= s.inH() || ix < 0 || ix >= s.inW()) continue;
                  sum += (x[((b * s.inC() + c) * s.inH() + iy) * s.inW() + ix] & mask) * op.weight()[((o * s.inC() + c) * k + i) * k + j];
                }
              }
            }
            out[((b * s.outC() + o) * oh + oy) * ow + ox] = sum;
          }
        }
      }
    }
    return true;
  }

  @Override
  public boolean linear(Program.Linear op, int rows, byte[] x, boolean unsignedX, int[] out) {
    if (calls++ % 2 == 1) return false;
    int mask = unsignedX ? 0xFF : -1;
    for (int r = 0; r < rows; r++) {
      for (int o = 0; o < op.outF(); o++) {
        int sum = 0;
        for (int i = 0; i < op.inF(); i++) sum += (x[r * op.inF() + i] & mask) * op.weight()[o * op.inF() + i];
        out[r * op.outF() + o] = sum;
      }
    }
    return true;
  }
}
