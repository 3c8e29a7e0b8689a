package dev.lowbit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.io.Json;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Presets;
import dev.lowbit.numerics.Role;
import dev.lowbit.train.TrainConfig;
import dev.lowbit.train.Trainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fp16 training on real Fashion-MNIST images: without loss scaling the small errors underflow to
 * zero in fp16, with the fp16 preset's dynamic loss scaling they do not (Micikevicius et al., ICLR
 * 2018). The reference for "how many errors are zero anyway" (ReLU zeros, exact zeros) is the same
 * recipe with errors in e8m10: fp16's precision with fp32's exponent range, so nothing underflows.
 */
class LossScalingTrainTest {

  static Dataset train, test;

  @TempDir Path dir;

  @BeforeAll
  static void data() throws Exception {
    FashionMnist.Splits s = FashionMnist.embedded();
    train = s.train().head(1024);
    test = s.test().head(200);
  }

  @AfterEach
  void clear() {
    Compute.observer = null;
  }

  record Outcome(double zeroFraction, Trainer.Summary summary, Map<?, ?> json) {}

  Outcome run(String name, Policy p) throws Exception {
    AtomicLong zeros = new AtomicLong(), total = new AtomicLong();
    Compute.observer = (layer, product, role, values, shape) -> {
      if (role != Role.ERROR) return;
      long z = 0;
      for (float v : values) if (v == 0) z++;
      zeros.addAndGet(z);
      total.addAndGet(values.length);
    };
    Path out = dir.resolve(name);
    TrainConfig cfg = new TrainConfig("mlp", 3, 64, null, 5, 2, out, null, null, null, null, -1, 0, false, 0, 0, 4);
    Trainer.Summary s = new Trainer(cfg, p, new PrintStream(new ByteArrayOutputStream()), false).run(train, test, "t");
    Compute.observer = null;
    Map<?, ?> json = (Map<?, ?>) Json.parse(Files.readString(out.resolve("summary.json")));
    return new Outcome((double) zeros.get() / total.get(), s, json);
  }

  static Policy fp16(String lossScale, String errorFormat) {
    return Policy.parse(Presets.text("fp16").replace("option loss-scale dynamic", "option loss-scale " + lossScale)
        .replace("*  weight,activation,error,weight-gradient  fp16  rne",
            "*  weight,activation,weight-gradient  fp16  rne\n*  error  " + errorFormat + "  rne"), "fp16x");
  }

  @Test
  void fp16TrainsWithDynamicLossScalingAndLogsTheScale() throws Exception {
    Outcome wide = run("wide", fp16("none", "e8m10"));
    Outcome scaled = run("scaled", Presets.get("fp16"));
    double fp32 = run("fp32", Presets.get("fp32")).summary().testAccuracy();
    assertTrue(scaled.summary().testAccuracy() > 0.6, "fp16 accuracy " + scaled.summary().testAccuracy());
    assertEquals(fp32, scaled.summary().testAccuracy(), 0.03, "fp16 vs fp32");
    assertEquals(wide.summary().testAccuracy(), scaled.summary().testAccuracy(), 0.03, "fp16 vs e8m10 errors");
    assertEquals(65536.0, ((Number) scaled.json().get("loss_scale")).doubleValue());
    assertEquals(0L, ((Number) scaled.json().get("skipped_steps")).longValue());
    assertTrue(Files.readAllLines(dir.resolve("scaled").resolve("metrics.jsonl")).stream()
        .filter(l -> l.contains("\"event\":\"step\"")).allMatch(l -> l.contains("\"loss_scale\":65536")));
    assertTrue(wide.json().get("loss_scale") == null, "no loss scale, no field");
    // the bare fp16 run's errors sit partly in fp16's subnormals, where they lose bits; scaled ones do not
    assertTrue(wide.zeroFraction() > 0.2, "ReLU zeros: " + wide.zeroFraction());

    // at the trained weights, one backward over a large batch: errors are (p - y)/1024 and smaller
    Map<String, dev.lowbit.tensor.Tensor> ck = dev.lowbit.io.Safetensors.read(
        dir.resolve("scaled").resolve(Trainer.CHECKPOINT)).tensors();
    java.util.List<float[]> w = errors(ck, fp16("none", "e8m10"), 1f);
    java.util.List<float[]> b = errors(ck, fp16("none", "fp16"), 1f);
    java.util.List<float[]> s = errors(ck, Presets.get("fp16"), 65536f);
    assertEquals(w.size(), s.size());
    long nonzero = 0, flushed = 0, flushedScaled = 0, exact = 0, subnormal = 0;
    for (int t = 0; t < w.size(); t++) {
      for (int i = 0; i < w.get(t).length; i++) {
        float wv = w.get(t)[i];
        // scaled by 2^16 the fp16 errors are the wide-range errors, bit for bit, down to fp16's
        // smallest normal (below it, 2^-30 unscaled, they keep fewer bits but are rarely lost)
        if (Math.abs(wv * 65536f) >= 0x1p-14f) {
          assertEquals(wv * 65536f, s.get(t)[i], 0f, "error tensor " + t + " element " + i);
          exact++;
        }
        if (wv != 0) {
          nonzero++;
          if (b.get(t)[i] == 0) flushed++;
          else if (Math.abs(b.get(t)[i]) < 0x1p-14f) subnormal++;
          if (s.get(t)[i] == 0) flushedScaled++;
        }
      }
    }
    System.out.printf("nonzero errors %d (%d compared bit for bit); flushed to zero: unscaled fp16 %d, "
        + "loss-scaled fp16 %d; in fp16's subnormals unscaled %d%n", nonzero, exact, flushed, flushedScaled, subnormal);
    assertTrue(exact > nonzero / 2, exact + " of " + nonzero);
    assertTrue(subnormal > nonzero / 10, "unscaled fp16 kept only " + subnormal + " errors in its subnormals");
    assertTrue(flushed > nonzero / 1000, "unscaled fp16 flushed only " + flushed + " of " + nonzero);
    assertTrue(flushedScaled * 20 < flushed, "loss-scaled fp16 flushed " + flushedScaled + ", unscaled " + flushed);
  }

  /** Every error tensor one forward and backward over the whole training subset sees (policy order). */
  java.util.List<float[]> errors(Map<String, dev.lowbit.tensor.Tensor> state, Policy p, float lossScale) {
    java.util.List<float[]> out = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    Module model = dev.lowbit.models.Models.create("mlp", 5);
    java.util.LinkedHashMap<String, dev.lowbit.tensor.Tensor> ms = new java.util.LinkedHashMap<>();
    for (var e : state.entrySet()) if (!e.getKey().startsWith("optimizer/")) ms.put(e.getKey(), e.getValue());
    model.loadStateDict(ms, "ck");
    Numerics before = Compute.numerics();
    Compute.setNumerics(new Numerics(p, 5));
    Compute.observer = (layer, product, role, values, shape) -> {
      if (role == Role.ERROR && product == dev.lowbit.numerics.Product.BACKWARD_DATA) out.add(values.clone());
    };
    try {
      dev.lowbit.data.DataLoader.Batch batch = new dev.lowbit.data.DataLoader(train, train.size(), false, 0).batch(0, 0);
      dev.lowbit.autograd.Var loss = dev.lowbit.autograd.Ops.crossEntropy(
          model.forward(dev.lowbit.autograd.Var.constant(batch.x())), batch.labels(), 0f);
      loss.backward(lossScale);
    } finally {
      Compute.observer = null;
      Compute.setNumerics(before);
    }
    return out;
  }
}
