package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernel.Kernels;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Normalization;
import dev.lowbit.numerics.Energy;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Presets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The energy estimate of issue [10]: operation counts of known models and policies, and their order. */
class EnergyEstimateTest {

  static final long FC1 = 784L * 256, FC2 = 256L * 256, FC3 = 256L * 10, MLP = FC1 + FC2 + FC3;
  static final int BATCH = 4;

  static Energy.Estimate estimate(String model, String preset) {
    Kernels.useBackend("java");
    Policy p = Presets.get(preset);
    var m = Models.create(model, 0, p.methods().l1Normalization() ? Normalization.L1 : Normalization.L2);
    return Plans.energy(m, p, BATCH, Models.inputShape(model), 0);
  }

  @Test
  void fp32MlpCountsOneFp32MultiplyAndAddPerMac() {
    Energy.Estimate e = estimate("mlp", "fp32");
    assertEquals(Map.of("fp_add_e8m23", MLP, "fp_mul_e8m23", MLP), e.inference().row());
    // a step: forward and backward-weight of every layer, backward-data of all but fc1 (its input takes no gradient)
    long step = BATCH * (2 * MLP + FC2 + FC3);
    assertEquals(Map.of("fp_add_e8m23", step, "fp_mul_e8m23", step), e.trainingStep().row());
    assertEquals(MLP * (3.7 + 0.9), e.inferencePj(), 1e-6 * MLP);
    assertEquals(step * (3.7 + 0.9), e.trainingStepPj(), 1e-6 * step);
  }

  @Test
  void lmul4AllCountsForwardMultipliesAsTwelveBitIntegerAdds() {
    Energy.Estimate e = estimate("mlp", "lmul4-all");
    // fp32 operands: 8 exponent bits + 4 mantissa bits added as one integer; fp32 sums
    assertEquals(Map.of("fp_add_e8m23", MLP, "lmul_int_add_12", MLP), e.inference().row());
    double lmul12 = 0.03 + 4 * 0.07 / 24; // int add, linear in bits between 8 (0.03 pJ) and 32 (0.1 pJ)
    assertEquals(lmul12, Energy.Table.HOROWITZ_45NM.pj(new Energy.Op(Energy.Kind.LMUL, 12, -1)), 1e-12);
    assertEquals(MLP * (lmul12 + 0.9), e.inferencePj(), 1e-6 * MLP);
    // the backward products stay exact fp32
    long backward = BATCH * (MLP + FC2 + FC3);
    assertEquals(backward, e.trainingStep().row().get("fp_mul_e8m23"));
    assertEquals(BATCH * MLP, e.trainingStep().row().get("lmul_int_add_12"));
  }

  @Test
  void int8CountsInt8MultipliesAndInt32AddsInTheForwardProducts() {
    Energy.Estimate e = estimate("mlp", "int8");
    assertEquals(Map.of("int_add_32", MLP, "int_mul_8", MLP), e.inference().row());
    assertEquals(MLP * (0.2 + 0.1), e.inferencePj(), 1e-6 * MLP);
  }

  @Test
  void bf16CountsBf16MultipliesWithFp32Sums() {
    Energy.Estimate e = estimate("mlp", "bf16");
    assertEquals(Map.of("fp_add_e8m23", MLP, "fp_mul_e8m7", MLP), e.inference().row());
  }

  @Test
  void tableHoldsHorowitzFiguresAtTheirWidths() {
    Energy.Table t = Energy.Table.HOROWITZ_45NM;
    assertEquals(0.03, t.pj(new Energy.Op(Energy.Kind.INT_ADD, 8, -1)), 1e-12);
    assertEquals(0.1, t.pj(new Energy.Op(Energy.Kind.INT_ADD, 32, -1)), 1e-12);
    assertEquals(0.2, t.pj(new Energy.Op(Energy.Kind.INT_MUL, 8, -1)), 1e-12);
    assertEquals(3.1, t.pj(new Energy.Op(Energy.Kind.INT_MUL, 32, -1)), 1e-12);
    assertEquals(0.4, t.pj(new Energy.Op(Energy.Kind.FP_ADD, 16, 10)), 1e-12);
    assertEquals(0.9, t.pj(new Energy.Op(Energy.Kind.FP_ADD, 32, 23)), 1e-12);
    assertEquals(1.1, t.pj(new Energy.Op(Energy.Kind.FP_MUL, 16, 10)), 1e-12);
    assertEquals(3.7, t.pj(new Energy.Op(Energy.Kind.FP_MUL, 32, 23)), 1e-12);
    // below the narrower anchor an add is proportional to its width, so it stays positive
    assertEquals(0.03 * 4 / 8, t.pj(new Energy.Op(Energy.Kind.INT_ADD, 4, -1)), 1e-12);
    assertTrue(t.pj(new Energy.Op(Energy.Kind.FP_ADD, 3, 1)) > 0);
  }

  @Test
  void cheaperFormatsCostLessPerInference() {
    double fp32 = estimate("mlp", "fp32").inferencePj(), bf16 = estimate("mlp", "bf16").inferencePj();
    double int8 = estimate("mlp", "int8").inferencePj();
    double lmul3 = estimate("mlp", "lmul3-all").inferencePj(), lmul4 = estimate("mlp", "lmul4-all").inferencePj();
    assertTrue(int8 < bf16 && bf16 < fp32, int8 + " < " + bf16 + " < " + fp32);
    assertTrue(lmul4 < fp32 && lmul3 < lmul4, lmul3 + " < " + lmul4 + " < " + fp32);
    // the paper's claim for dot products: about 80% less than fp32 multiply-adds (here 1 - 0.94/4.6)
    assertEquals(0.80, 1 - lmul4 / fp32, 0.03);
  }

  @Test
  void onTheVitLmul3AndInt8CostLessThanFp32() {
    Energy.Estimate fp32 = estimate("vit", "fp32"), lmul3 = estimate("vit", "lmul3-all"), int8 = estimate("vit", "int8");
    assertTrue(lmul3.inferencePj() < fp32.inferencePj(), lmul3.inferencePj() + " < " + fp32.inferencePj());
    assertTrue(int8.inferencePj() < fp32.inferencePj(), int8.inferencePj() + " < " + fp32.inferencePj());
    // lmul3-all: every forward product (linear, attention) multiplies by L-Mul, one 11-bit int add for each fp32 multiply
    long lmulOps = (Long) lmul3.inference().row().get("lmul_int_add_11");
    long fp32Muls = (Long) fp32.inference().row().get("fp_mul_e8m23");
    assertEquals(fp32Muls, lmulOps + (Long) lmul3.inference().row().getOrDefault("fp_mul_e8m23", 0L));
    // a training step costs more than BATCH inferences: its backward products come on top
    assertTrue(fp32.trainingStepPj() > 2 * BATCH * fp32.inferencePj(), fp32.trainingStepPj() + " vs " + fp32.inferencePj());
  }

  @Test
  void convolutionsAreCountedAsTheirGemms() {
    Energy.Estimate e = estimate("cnn", "fp32");
    // conv1 1→32 3×3 on 28×28 (same padding), conv2 32→64 3×3 on 14×14, fc 3136→128, fc 128→10
    long perImage = 32L * 9 * 28 * 28 + 64L * 32 * 9 * 14 * 14 + 3136L * 128 + 128L * 10;
    assertEquals(perImage, e.inference().row().get("fp_mul_e8m23"));
  }

  @Test
  void labelSaysEstimate() {
    Energy.Estimate e = estimate("mlp", "fp32");
    assertTrue(e.line().startsWith("estimated energy (45 nm, arithmetic only): "), e.line());
    assertTrue(e.line().contains("estimate"));
    assertTrue(String.valueOf(e.row().get("what")).startsWith("estimate"));
    assertEquals("µJ", e.row().get("unit"));
    assertEquals("horowitz-45nm", e.row().get("table"));
    assertEquals("Horowitz ISSCC 2014, 45 nm", e.row().get("table_name"));
  }
}
