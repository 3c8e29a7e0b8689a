package dev.lowbit.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Finite-difference gradient checks. The loss is L = mean(proj ⊙ f(inputs)) for a random
 * projection; the reference derivative is a central difference of L evaluated in double from f's
 * outputs, compared with the tape's gradient.
 */
public final class GradCheck {

  private GradCheck() {}

  public static Var input(SplittableRandom r, int... shape) {
    Tensor t = Tensor.zeros(shape);
    for (int i = 0; i < t.size(); i++) t.data()[i] = (float) (r.nextDouble() * 2 - 1);
    return Var.parameter(t);
  }

  /** Checks up to {@code coords} coordinates of every input (all when the input is small). */
  public static void check(String what, Supplier<Var> f, List<Var> inputs, int coords, double h, double tol) {
    Tape.current().clear();
    for (Var v : inputs) v.zeroGrad();
    Var out = f.get();
    SplittableRandom r = new SplittableRandom(what.hashCode());
    float[] proj = new float[out.size()];
    for (int i = 0; i < proj.length; i++) proj[i] = (float) (r.nextDouble() * 2 - 1);
    Var loss = Ops.mean(Ops.mul(out, Var.constant(new Tensor(proj, out.shape()))));
    loss.backward();
    assertEquals(0, Tape.current().size(), "tape must be empty after backward");
    int checked = 0;
    for (int vi = 0; vi < inputs.size(); vi++) {
      Var v = inputs.get(vi);
      float[] g = v.grad() == null ? new float[v.size()] : v.grad().clone();
      float[] x = v.data();
      int n = x.length;
      int[] idx = n <= coords ? range(n) : sample(r, n, coords);
      for (int i : idx) {
        float keep = x[i];
        x[i] = (float) (keep + h);
        double plus = lossOf(f, proj);
        x[i] = (float) (keep - h);
        double minus = lossOf(f, proj);
        x[i] = keep;
        double fd = (plus - minus) / (2 * h);
        double err = Math.abs(fd - g[i]);
        assertTrue(err <= tol * (Math.abs(fd) + Math.abs(g[i])) + tol * 1e-2,
            what + ": input " + vi + " coordinate " + i + ": finite difference " + fd + " vs backward " + g[i]);
        checked++;
      }
    }
    assertTrue(checked > 0, what + ": nothing checked");
  }

  public static void check(String what, Supplier<Var> f, List<Var> inputs) {
    check(what, f, inputs, 40, 1e-3, 2e-2);
  }

  static double lossOf(Supplier<Var> f, float[] proj) {
    Var out = Tape.noGrad(f);
    double s = 0;
    float[] y = out.data();
    for (int i = 0; i < y.length; i++) s += (double) y[i] * proj[i];
    return s / y.length;
  }

  private static int[] range(int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) a[i] = i;
    return a;
  }

  private static int[] sample(SplittableRandom r, int n, int k) {
    int[] a = new int[k];
    for (int i = 0; i < k; i++) a[i] = r.nextInt(n);
    return a;
  }
}
