package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.intonly.GemmIntMatmul;
import dev.lowbit.intonly.IntCompiler;
import dev.lowbit.intonly.exec.IntExecutor;
import dev.lowbit.intonly.exec.IntLayers;
import dev.lowbit.intonly.exec.IntMatmul;
import dev.lowbit.intonly.exec.Program;
import dev.lowbit.kernel.Kernels;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Module;
import dev.lowbit.onednn.OneDnnGemm;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The compiled CNN on oneDNN's int8 convolutions and packed linear layers gives the logits of the
 * scalar route bit for bit, at batch 1 and 128, on one and two threads; where oneDNN does not
 * load, the product falls back to the Java kernels and says so in its name.
 */
class IntLayersOnOneDnnTest {

  @Test
  void theCompiledCnnOnOneDnnEqualsTheScalarRoute() throws Exception {
    OneDnnGemm gemm;
    try {
      gemm = OneDnnGemm.create(Kernels.javaGemm());
    } catch (IllegalStateException e) {
      GemmIntMatmul java = new GemmIntMatmul(Kernels.javaGemm());
      assertTrue(!java.name().contains("onednn"), java.name());
      Assumptions.abort("no oneDNN natives here: " + e);
      return;
    }
    Module m = Models.create("cnn", 0);
    m.eval();
    FashionMnist.Splits data = FashionMnist.embedded();
    Dataset cal = data.train().head(64);
    Program p = IntCompiler.compile("cnn", m, cal.images(), cal.size(), new IntCompiler.Calibration(1, cal.size()));
    Dataset test = data.test();
    int images = 128, ss = test.sampleSize();
    byte[] pixels = new byte[images * ss];
    for (int i = 0; i < images; i++) test.copyPixels(i % test.size(), pixels, i * ss);
    int[] want = new IntExecutor(IntMatmul.SCALAR, IntLayers.NONE, 2).logits(p, pixels, 0, images);
    GemmIntMatmul mm = new GemmIntMatmul(gemm);
    assertTrue(mm.name().contains("onednn int8 conv"), mm.name());
    for (int threads : new int[] {1, 2}) {
      assertArrayEquals(want, new IntExecutor(mm, threads).logits(p, pixels, 0, images), threads + " threads");
      int[] one = new IntExecutor(mm, threads).logits(p, pixels, 5 * ss, 1);
      assertArrayEquals(java.util.Arrays.copyOfRange(want, 5 * p.classes(), 6 * p.classes()), one, "batch 1");
    }
  }
}
