package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.autograd.Var;
import dev.lowbit.kernel.Pool;
import dev.lowbit.kernel.PoolSpec;
import dev.lowbit.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The pooling module passes count_include_pad through to the kernel; the default counts padding. */
class Pool2dTest {

  @Test
  void averagePoolingCanExcludeThePadding() {
    SplittableRandom r = new SplittableRandom(3);
    float[] x = new float[2 * 3 * 7 * 6];
    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
    Var in = Var.constant(new Tensor(x, 2, 3, 7, 6));
    float[] excl = Pool2d.avg(3, 2, 1, false).forward(in).data();
    float[] dflt = new Pool2d(Pool2d.Kind.AVG, 3, 2, 1).forward(in).data();
    float[] incl = Pool2d.avg(3, 2, 1, true).forward(in).data();
    PoolSpec s = new PoolSpec(2, 3, 7, 6, 3, 3, 2, 2, 1, 1, false);
    float[] want = new float[s.outputSize()];
    Pool.avgForward(s, x, want);
    assertArrayEquals(want, excl);
    Pool.avgForward(new PoolSpec(2, 3, 7, 6, 3, 3, 2, 2, 1, 1), x, want);
    assertArrayEquals(want, dflt);
    assertArrayEquals(dflt, incl);
    assertFalse(Arrays.equals(excl, dflt), "border windows divide by fewer elements");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Pool2d(Pool2d.Kind.MAX, 3, 2, 1, false));
    assertTrue(e.getMessage().contains("average pooling"), e.getMessage());
  }
}
