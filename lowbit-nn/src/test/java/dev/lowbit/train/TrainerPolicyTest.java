package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.format.Quantizer;
import dev.lowbit.io.Json;
import dev.lowbit.io.Safetensors;
import dev.lowbit.nn.Compute;
import dev.lowbit.numerics.Policy;
import dev.lowbit.numerics.Presets;
import dev.lowbit.numerics.Role;
import dev.lowbit.report.RunReader;
import dev.lowbit.report.RunResult;
import dev.lowbit.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training under a numerics policy: fp32 unchanged, the policy recorded, master weights quantized. */
class TrainerPolicyTest {

  static Dataset train, test;

  @TempDir Path dir;

  @BeforeAll
  static void data() throws Exception {
    FashionMnist.Splits s = FashionMnist.embedded();
    train = s.train().head(256);
    test = s.test().head(100);
  }

  static Trainer.Summary run(Path out, Policy policy) throws Exception {
    TrainConfig cfg = TrainerTest.cfg("mlp", 1, out);
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    Trainer t = policy == null ? new Trainer(cfg, quiet, false) : new Trainer(cfg, policy, quiet, false);
    return t.run(train, test, "test subset");
  }

  @Test
  void fp32PolicyTrainsBitIdentically() throws Exception {
    run(dir.resolve("plain"), null);
    run(dir.resolve("fp32"), Presets.get("fp32"));
    assertEquals(TrainerTest.metrics(dir.resolve("plain")), TrainerTest.metrics(dir.resolve("fp32")));
    Map<String, Tensor> a = Safetensors.read(dir.resolve("plain").resolve(Trainer.CHECKPOINT)).tensors();
    Map<String, Tensor> b = Safetensors.read(dir.resolve("fp32").resolve(Trainer.CHECKPOINT)).tensors();
    assertEquals(a.keySet(), b.keySet());
    for (String k : a.keySet()) assertArrayEquals(a.get(k).data(), b.get(k).data(), k);
    assertEquals(null, Compute.numerics(), "the trainer leaves no policy installed");
  }

  @Test
  void policyIsRecordedAndReadBack() throws Exception {
    Path out = dir.resolve("int8");
    Trainer.Summary s = run(out, Presets.get("int8"));
    @SuppressWarnings("unchecked")
    Map<String, Object> sum = (Map<String, Object>) Json.parse(Files.readString(out.resolve("summary.json")));
    assertEquals("int8", sum.get("policy"));
    assertEquals(Presets.get("int8"), Policy.parse((String) sum.get("policy_text"), "int8"));
    assertTrue(((Number) sum.get("quantized_tensors")).longValue() > 0);
    assertTrue(((Number) sum.get("integer_gemms")).longValue() > 0, "int8 forward products run on the integer kernels");
    assertEquals(Map.of("int32_accumulator", 0L), sum.get("overflows"));
    RunResult r = RunReader.read(out, Json::parse);
    assertEquals("int8", r.policy());
    assertEquals(8, r.bitsWeight());
    assertEquals(8, r.bitsActivation());
    assertEquals(32, r.bitsGradient());
    assertEquals(3, r.seed());
    assertEquals(Map.of("int32_accumulator", 0L), r.overflows());
    assertEquals(1, r.epochs().size());
    assertEquals(s.testAccuracy(), r.finalTestAccuracy(), 1e-12);
    double fp32 = run(dir.resolve("fp32"), null).testAccuracy();
    assertTrue(Math.abs(s.testAccuracy() - fp32) < 0.1, "int8 accuracy " + s.testAccuracy() + ", fp32 " + fp32);
    // a checkpoint of another policy does not resume
    TrainConfig again = TrainerTest.cfg("mlp", 2, dir.resolve("resumed")).withOut(dir.resolve("resumed"), out);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(again,
        Presets.get("bf16"), new PrintStream(new ByteArrayOutputStream()), false).run(train, test, "t"));
    assertTrue(e.getMessage().contains("differ"), e.getMessage());
  }

  @Test
  void masterWeightsAndOptimizerStateAreQuantized() throws Exception {
    Policy p = Policy.parse("*  master-weight,optimizer-state  e4m3  rne\n", "e4m3-master");
    Path out = dir.resolve("master");
    run(out, p);
    Map<String, Tensor> ck = Safetensors.read(out.resolve(Trainer.CHECKPOINT)).tensors();
    Quantizer q = p.lookup("fc1", Role.MASTER_WEIGHT).orElseThrow();
    int checked = 0;
    for (var e : ck.entrySet()) {
      float[] v = e.getValue().data(), again = new float[v.length];
      q.quantizeReference(v, e.getValue().shape(), again, 0, 0);
      assertArrayEquals(v, again, e.getKey() + " holds values outside e4m3");
      checked++;
    }
    assertTrue(checked >= 12, "weights and momentum buffers: " + ck.keySet());
    Path plain = dir.resolve("plain");
    run(plain, null);
    assertNotEquals(TrainerTest.metrics(plain), TrainerTest.metrics(out));
  }

  @Test
  void stochasticRoundingAppliesToMasterWeightsAndOptimizerState() throws Exception {
    for (String role : new String[] {"master-weight", "optimizer-state"}) {
      Policy sr = Policy.parse("*  " + role + "  e5m2  sr\n", "sr");
      Policy rne = Policy.parse("*  " + role + "  e5m2  rne\n", "rne");
      run(dir.resolve(role + "-sr"), sr);
      run(dir.resolve(role + "-rne"), rne);
      Map<String, Tensor> a = Safetensors.read(dir.resolve(role + "-sr").resolve(Trainer.CHECKPOINT)).tensors();
      Map<String, Tensor> b = Safetensors.read(dir.resolve(role + "-rne").resolve(Trainer.CHECKPOINT)).tensors();
      Quantizer q = rne.lookup("fc1", Role.parse(role)).orElseThrow();
      int checked = 0;
      for (var e : a.entrySet()) {
        boolean state = e.getKey().startsWith(Trainer.OPT_PREFIX);
        if (state != role.equals("optimizer-state")) continue;
        float[] v = e.getValue().data(), again = new float[v.length];
        q.quantizeReference(v, e.getValue().shape(), again, 0, 0);
        assertArrayEquals(v, again, e.getKey() + " under sr holds values outside e5m2");
        checked++;
      }
      assertTrue(checked >= 6, role + ": " + checked);
      // rne keeps an update below half a step from moving the weight; sr moves it with that probability
      assertNotEquals(TrainerTest.metrics(dir.resolve(role + "-sr")), TrainerTest.metrics(dir.resolve(role + "-rne")), role);
      int differ = 0;
      for (String k : a.keySet()) if (!java.util.Arrays.equals(a.get(k).data(), b.get(k).data())) differ++;
      assertTrue(differ >= 6, role + ": sr and rne runs differ in only " + differ + " tensors");
    }
  }
}
