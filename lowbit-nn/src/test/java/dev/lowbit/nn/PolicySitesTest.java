package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.autograd.Ops;
import dev.lowbit.autograd.Var;
import dev.lowbit.models.Models;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Role;
import dev.lowbit.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Numerics#sites} lists what a model asks its policy, and {@link Policy#check} refuses a
 * policy that cannot apply to it before training (issue 15: per-channel(99) failed mid-run naming
 * no line; a rule that matched no layer was silently ignored).
 */
class PolicySitesTest {

  @TempDir Path dir;

  @AfterEach
  void clear() {
    Compute.setNumerics(null);
    Compute.observer = null;
  }

  /** Every quantized GEMM tensor of one training step is a site with its rank, and every GEMM-tensor site is used. */
  @Test
  void sitesAreWhatATrainingStepQuantizes() {
    for (String name : Models.NAMES) {
      Module model = Models.create(name, 1);
      Policy p = Policy.parse("*  weight,activation,error,weight-gradient  bf16\n", "all");
      Set<String> seen = new ConcurrentSkipListSet<>();
      Compute.setNumerics(new Numerics(p, 1));
      Compute.observer = (layer, product, role, values, shape) -> seen.add(layer + " " + role + " " + shape.length);
      float[] x = new float[2 * 28 * 28];
      SplittableRandom r = new SplittableRandom(3);
      for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
      Var logits = model.forward(Var.constant(new Tensor(x, 2, 1, 28, 28)));
      Ops.crossEntropy(logits, new int[] {1, 7}, 0f).backward();
      Compute.observer = null;
      Set<String> gemmSites = new TreeSet<>();
      for (Policy.Site s : Numerics.sites(model)) {
        if (s.role().isTensor() && s.role() != Role.MASTER_WEIGHT && s.role() != Role.OPTIMIZER_STATE) {
          gemmSites.add(s.layer() + " " + s.role() + " " + s.rank());
        }
      }
      assertEquals(gemmSites, new TreeSet<>(seen), name);
      assertTrue(gemmSites.size() >= 12, name + ": " + gemmSites);
    }
  }

  @Test
  void sitesHoldParametersInTheirOwnRank() {
    List<Policy.Site> cnn = Numerics.sites(Models.create("cnn", 1));
    assertTrue(cnn.contains(new Policy.Site("c1", Role.MASTER_WEIGHT, 4)), cnn.toString()); // c1.weight
    assertTrue(cnn.contains(new Policy.Site("c1", Role.MASTER_WEIGHT, 1)), cnn.toString()); // c1.bias
    assertTrue(cnn.contains(new Policy.Site("f2", Role.ACCUMULATOR, 0)), cnn.toString());
    List<Policy.Site> vit = Numerics.sites(Models.create("vit", 1));
    assertTrue(vit.stream().anyMatch(s -> s.layer().endsWith(".scores") && s.role() == Role.ACCUMULATOR), vit.toString());
  }

  @Test
  void anAxisOutsideAMatchedTensorIsRefusedNamingTheLine() throws Exception {
    Path f = dir.resolve("pc.policy");
    Files.writeString(f, "# per-channel over a weight axis that no GEMM operand has\n*  weight  int8  per-channel(99)\n");
    Policy p = Policy.read(f, null);
    List<Policy.Site> mlp = Numerics.sites(Models.create("mlp", 1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.check(mlp, "mlp", false));
    assertEquals(f + ":2: per-channel(99): axis out of range for layer fc1 weight of rank 2 (valid axes: -2..1)",
        e.getMessage());
    // negative axes count from the end; -3 is outside a matrix too
    Policy neg = Policy.parse("* error int8 per-channel(-3)\n", "n");
    e = assertThrows(IllegalArgumentException.class, () -> neg.check(mlp, "mlp", false));
    assertTrue(e.getMessage().startsWith("policy line 1: per-channel(-3): axis out of range for layer fc1 error of rank 2"),
        e.getMessage());
    Policy block = Policy.parse("* activation mxfp8 per-block(32,2)\n", "b");
    e = assertThrows(IllegalArgumentException.class, () -> block.check(mlp, "mlp", false));
    assertTrue(e.getMessage().contains("per-block(32,2): axis out of range for layer fc1 activation of rank 2"),
        e.getMessage());
    // a bias is a vector: per-channel(1) cannot quantize its master copy
    Policy master = Policy.parse("* master-weight int8 per-channel(1)\n", "m");
    e = assertThrows(IllegalArgumentException.class, () -> master.check(mlp, "mlp", false));
    assertTrue(e.getMessage().contains("axis out of range for layer fc1 master-weight of rank 1"), e.getMessage());
    // only the deciding (first) rule's granularity matters: fc1's weight is decided by line 1
    Policy shadow = Policy.parse("fc1 weight int8 per-channel(0)\nfc1 weight int8 per-channel(5)\n", "s");
    assertEquals(List.of(), shadow.check(mlp, "mlp", true));
    for (String preset : dev.lowbit.numerics.Presets.names()) {
      for (String model : Models.NAMES) {
        // lmul4-attn names only attention products: on a model without attention its rule matches
        // nothing, which is the documented warning (an error under --strict), checked below
        if (preset.equals("lmul4-attn") && !model.equals("vit")) continue;
        assertEquals(List.of(), dev.lowbit.numerics.Presets.get(preset).check(Numerics.sites(Models.create(model, 1)), model, true),
            preset + " on " + model);
      }
    }
    List<String> attnOnMlp = dev.lowbit.numerics.Presets.get("lmul4-attn").check(mlp, "mlp", false);
    assertEquals(1, attnOnMlp.size(), attnOnMlp.toString());
    assertTrue(attnOnMlp.get(0).contains("matches no layer of model mlp"), attnOnMlp.get(0));
  }

  @Test
  void aRuleThatMatchesNothingIsAWarningOrWithStrictAnError() throws Exception {
    Path f = dir.resolve("nm.policy");
    Files.writeString(f, "*  weight  int8\nconv1  activation  int8\nfc*  accumulator  int32\nfc2  master-weight  bf16\n");
    Policy p = Policy.read(f, null);
    List<Policy.Site> mlp = Numerics.sites(Models.create("mlp", 1));
    List<String> w = p.check(mlp, "mlp", false);
    assertEquals(List.of(f + ":2: rule 'conv1 activation int8 nearest-even per-tensor' matches no layer of model mlp "
        + "(layers with activation: fc1, fc2, fc3)"), w);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.check(mlp, "mlp", true));
    assertEquals(w.get(0) + "; without --strict this is a warning", e.getMessage());
    // a norm layer has no products: an accumulator rule for it does nothing
    Policy bn = Policy.parse("*bn*  accumulator  int32\n", "bn");
    List<String> wb = bn.check(Numerics.sites(Models.create("resnet", 1)), "resnet", false);
    assertEquals(1, wb.size(), wb.toString());
    assertTrue(wb.get(0).startsWith("policy line 1: rule '*bn* accumulator int32' matches no layer of model resnet"),
        wb.get(0));
  }
}
