package dev.lowbit.intonly;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.intonly.exec.IntExecutor;
import dev.lowbit.intonly.exec.IntMatmul;
import dev.lowbit.intonly.exec.Program;
import dev.lowbit.models.Models;
import dev.lowbit.nn.Module;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The integer program of a briefly trained model classifies as the float model does. */
class IntCompilerTest {

  /** Integer and float argmax agreement on the embedded test subset; prints the figures. */
  static double[] agreement(String name, Module m, Dataset calib, Dataset test, IntCompiler.Options opts) {
    int n = Math.min(512, calib.size());
    Program p = IntCompiler.compile(name, m, Training.images(calib, n), n, IntCompiler.Calibration.DEFAULT, opts);
    int t = test.size();
    int[] want = Training.argmax(Training.forward(m, test.images(), t, 784), 10);
    int[] got = new IntExecutor(IntMatmul.SCALAR, 2).classify(p, Training.pixels(test, t), 0, t);
    double agree = Training.agreement(got, want);
    double fAcc = Training.agreement(want, test.labels()), iAcc = Training.agreement(got, test.labels());
    System.out.printf("%s %s: agreement %.4f, float accuracy %.4f, integer %.4f%n", name, opts, agree, fAcc, iAcc);
    return new double[] {agree, fAcc, iAcc};
  }

  @ParameterizedTest
  @ValueSource(strings = {"mlp", "cnn"})
  void briefTrainingAgreesOnNinetySevenPercent(String name) throws Exception {
    var s = FashionMnist.embedded();
    Module m = Training.train(Models.create(name, 1), s.train(), 2, 2e-3, 1);
    double[] r = agreement(name, m, s.train(), s.test(), IntCompiler.Options.DEFAULT);
    assertTrue(r[1] > 0.7, name + " float accuracy " + r[1] + ": the training did not take");
    assertTrue(r[0] >= 0.97, name + ": integer and float argmax agree on " + r[0]);
  }
}
