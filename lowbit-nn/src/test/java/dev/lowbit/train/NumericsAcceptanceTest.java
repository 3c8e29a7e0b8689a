package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.io.Json;
import dev.lowbit.numerics.Presets;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The low-precision presets against fp32 on the CNN and the full Fashion-MNIST test set, with the
 * issue's margins (dfp16 0.5 point, int8 / fp8 / mxfp8 1.0, shiftquant4 2.0), reduced to three
 * epochs on the first 20,000 training images to fit the slow budget. The learning rate follows a
 * cosine schedule to zero: at a constant rate the test accuracy of one epoch swings by about a point
 * from step to step (fp32 0.806 and fp8 0.822 after one epoch), more than the margins being
 * tested. The 5-epoch, full-data runs of the recipe are in scripts/reproduce-numerics.sh
 * (REPRODUCTIONS.md).
 */
@Tag("slow")
class NumericsAcceptanceTest {

  @TempDir Path dir;

  @Test
  void cnnPresetsStayWithinTheirMarginsOfFp32() throws Exception {
    AcceptanceTest.requireData();
    FashionMnist.Splits data = FashionMnist.load(null);
    Dataset train = data.train().head(20_000);
    Dataset test = data.test();
    Map<String, Double> margin = new LinkedHashMap<>();
    margin.put("fp32", 0.0);
    margin.put("dfp16", 0.005);
    margin.put("int8", 0.010);
    margin.put("fp8", 0.010);
    margin.put("mxfp8", 0.010);
    margin.put("shiftquant4", 0.020);
    Map<String, Double> acc = new LinkedHashMap<>();
    for (String p : margin.keySet()) {
      TrainConfig cfg = new TrainConfig("cnn", 3, 128, null, 0, 2, dir.resolve(p), null, null, null, "cosine", -1,
          0, false, 0, 0, 50);
      acc.put(p, new Trainer(cfg, Presets.get(p), new PrintStream(System.err), false)
          .run(train, test, "first 20000 training images").testAccuracy());
    }
    double ref = acc.get("fp32");
    assertTrue(ref > 0.85, "fp32 CNN accuracy after three epochs on 20k images: " + ref);
    for (var e : margin.entrySet()) {
      double a = acc.get(e.getKey());
      assertTrue(a >= ref - e.getValue(), e.getKey() + " " + a + " vs fp32 " + ref + " (margin " + e.getValue() + "); all: " + acc);
    }
    // the integer presets really ran on the integer kernels
    for (String p : new String[] {"dfp16", "int8", "shiftquant4"}) {
      Object s = Json.parse(Files.readString(dir.resolve(p).resolve("summary.json")));
      Number n = (Number) ((Map<?, ?>) s).get("integer_gemms");
      assertTrue(n != null && n.longValue() > 0, p + ": no integer GEMMs in summary.json");
    }
  }
}
