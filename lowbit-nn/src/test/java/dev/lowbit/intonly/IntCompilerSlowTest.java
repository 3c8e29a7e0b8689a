package dev.lowbit.intonly;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Module;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each model of the zoo, trained briefly on up to 10,000 Fashion-MNIST images, keeps its test
 * accuracy as an integer program: within 0.5 point of float for mlp, cnn and resnet, 1.0 for vit.
 */
@Tag("slow")
class IntCompilerSlowTest {

  @ParameterizedTest
  @CsvSource({"mlp, 2, 0.005", "cnn, 1, 0.005", "resnet, 1, 0.005", "vit, 3, 0.010"})
  void integerAccuracyStaysWithinItsMargin(String name, int epochs, double margin) throws Exception {
    FashionMnist.Splits s = FashionMnist.load(null);
    Dataset train = s.train().head(Math.min(10_000, s.train().size()));
    Dataset test = s.test().head(Math.min(2_000, s.test().size()));
    // on the embedded subset (fewer images) as many steps as on 10,000, so the training takes there too
    int scaled = epochs * (int) Math.ceil(10_000.0 / train.size());
    long t0 = System.nanoTime();
    Module m = Training.train(Models.create(name, 1), train, scaled, name.equals("vit") ? 1e-3 : 2e-3, 1);
    long t1 = System.nanoTime();
    double[] r = IntCompilerTest.agreement(name, m, train, test, IntCompiler.Options.DEFAULT);
    System.out.printf("%s: trained %.1f s, compiled and ran %.1f s%n", name, (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
    assertTrue(r[1] > 0.65, name + " float accuracy " + r[1] + ": the training did not take");
    assertTrue(r[2] >= r[1] - margin, name + ": integer accuracy " + r[2] + " vs float " + r[1]);
  }
}
