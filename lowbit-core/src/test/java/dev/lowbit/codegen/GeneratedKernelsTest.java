package dev.lowbit.codegen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The generated-kernel check: the committed regions are what {@link GenerateKernels} writes. */
class GeneratedKernelsTest {

  // surefire runs in the module directory
  private static final Path MODULE = Path.of("");

  @Test
  void committedRegionsMatchTheGenerator() throws Exception {
    for (Map.Entry<String, String> e : GenerateKernels.generate(MODULE).entrySet()) {
      String committed = Files.readString(MODULE.resolve(e.getKey()), StandardCharsets.UTF_8);
      if (!committed.equals(e.getValue())) {
        fail(e.getKey() + " differs from its generator (line " + firstDifferentLine(committed, e.getValue())
            + "): a generated region was edited by hand, or the generator changed without a rerun."
            + " Regenerate from the repository root with: " + GenerateKernels.COMMAND);
      }
    }
  }

  @Test
  void everyKernelOfTheTemplateIsGenerated() {
    String kernels = GenerateKernels.gemmKernels();
    for (String family : new String[] {"F", "I", "D"}) {
      for (int w : GenerateKernels.WIDTHS) {
        assertTrue(kernels.contains("private static void kernel" + family + w + "("), family + w);
      }
    }
    // the widest tile: 8 rows of 2 accumulators, each updated once per step
    assertEquals(GenerateKernels.ROWS * GenerateKernels.VECTORS * 9, count(kernels, "= a.fma(b"));
  }

  @Test
  void aTileThePackingDoesNotMatchIsRefused() throws Exception {
    String gemm = Files.readString(MODULE.resolve(GenerateKernels.GEMM), StandardCharsets.UTF_8);
    GenerateKernels.checkTileShape(gemm);
    assertThrows(IllegalStateException.class,
        () -> GenerateKernels.checkTileShape(gemm.replace("static final int MR = 8;", "static final int MR = 6;")));
  }

  @Test
  void theCopyOnTheConstantSpeciesDropsTheHandOffAndTheParameter() {
    String template = """
          static void intKernel(VectorSpecies<Float> s, float[] x, int len) {
            if (s == P) {
              intKernelP(x, len);
              return;
            }
            int n = s.length(); // the species's lanes
            IntVector m = absBits(s, x, 0);
          }
        """;
    String copy = GenerateKernels.copyOnP(
        GenerateKernels.templateMethod(template, "intKernel", "int len"), "intKernel");
    assertEquals("""
          static void intKernelP(float[] x, int len) {
            int n = P.length(); // the species's lanes
            IntVector m = absBitsP(x, 0);
          }
        """, copy);
  }

  @Test
  void aFileWithoutOneRegionIsRefused() {
    assertThrows(IllegalStateException.class,
        () -> GenerateKernels.replaceRegion("class A {}\n", "test", t -> ""));
    assertThrows(IllegalStateException.class, () -> GenerateKernels.replaceRegion(
        "// <generated: a>\n// </generated>\n// <generated: b>\n// </generated>\n", "test", t -> ""));
  }

  private static int firstDifferentLine(String a, String b) {
    String[] x = a.split("\n", -1), y = b.split("\n", -1);
    int i = 0;
    while (i < x.length && i < y.length && x[i].equals(y[i])) i++;
    return i + 1;
  }

  private static int count(String s, String part) {
    int n = 0;
    for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) n++;
    return n;
  }
}
