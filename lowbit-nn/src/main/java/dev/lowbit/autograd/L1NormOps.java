package dev.lowbit.autograd;

import dev.lowbit.numerics.FunctionEval;
import dev.lowbit.tensor.Tensor;

/**
 * L1 normalization (Guo et al., arXiv 2411.10948, "fully-quantized L1 normalization layers"; the
 * formula is <b>reconstructed</b> in spec training-numerics §2.5 and implemented as written there):
 * the standard deviation of batch / layer norm is replaced by the mean absolute deviation,
 *
 * <pre>
 *   μ = mean(x)   d = x − μ   σ1 = mean|d|   y = c·d / (σ1 + ε)   z = γ·y + β
 * </pre>
 *
 * with backward (gy = γ·c·gz, s = σ1 + ε, ŷ = d / s)
 *
 * <pre>
 *   gd = (gy − sign(d)·mean(gy·ŷ)) / s      gx = gd − mean(gd)      gγ = Σ gz·y   gβ = Σ gz
 * </pre>
 *
 * Unlike L2 norm the correction term sign(d)·mean(gy·ŷ) does not sum to zero, so the final mean
 * subtraction stays. sign(0) = 0. Forward and backward sit side by side as in {@link Ops}.
 */
public final class L1NormOps {

  /** sqrt(π/2): std / MAD of a Gaussian, the c that makes L1 norm match L2 norm on Gaussian data. */
  public static final float GAUSSIAN_C = (float) Math.sqrt(Math.PI / 2);

  private L1NormOps() {}

  /** L1 layer norm over the last dimension of {@code a}, scale {@code c}, ε inside the division. */
  public static Var layerNorm(Var a, Var gamma, Var beta, float eps, float c) {
    return layerNorm(a, gamma, beta, eps, c, FunctionEval.EXACT);
  }

  /**
   * {@link #layerNorm(Var, Var, Var, float, float)} whose forward values {@code f} computes; the
   * backward is the exact derivative at the input the exact code was given (straight-through).
   */
  public static Var layerNorm(Var a, Var gamma, Var beta, float eps, float c, FunctionEval f) {
    int d = a.dim(-1), rows = a.size() / d;
    if (gamma.size() != d || beta.size() != d) throw new IllegalArgumentException("l1LayerNorm: γ/β must have " + d + " values");
    float[] z = new float[a.size()], yhat = new float[a.size()];
    float[] inv = new float[rows];
    float[] gm = gamma.data(), bt = beta.data();
    f.of((x, zz, rs, cs) -> {
      for (int r = 0; r < rows; r++) {
        int o = r * d;
        double mu = 0;
        for (int j = 0; j < d; j++) mu += x[o + j];
        mu /= d;
        double mad = 0;
        for (int j = 0; j < d; j++) mad += Math.abs(x[o + j] - mu);
        mad /= d;
        double s = 1 / (mad + eps);
        inv[r] = (float) s;
        for (int j = 0; j < d; j++) {
          yhat[o + j] = (float) ((x[o + j] - mu) * s); // ŷ = d / s
          zz[o + j] = c * yhat[o + j] * gm[j] + bt[j];
        }
      }
    }).apply(a.data(), z, rows, d);
    Var o = Ops.out(new Tensor(z, a.shape()), a, gamma, beta);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad();
        if (gamma.requiresGrad() || beta.requiresGrad()) {
          double[] sg = new double[d], sb = new double[d];
          for (int r = 0; r < rows; r++)
            for (int j = 0; j < d; j++) {
              sg[j] += (double) g[r * d + j] * c * yhat[r * d + j];
              sb[j] += g[r * d + j];
            }
          if (gamma.requiresGrad()) Ops.addInto(gamma.gradForAccumulation(), sg);
          if (beta.requiresGrad()) Ops.addInto(beta.gradForAccumulation(), sb);
        }
        if (a.requiresGrad()) {
          float[] ga = a.gradForAccumulation();
          double[] gd = new double[d];
          for (int r = 0; r < rows; r++) {
            int ro = r * d;
            double m1 = 0;
            for (int j = 0; j < d; j++) m1 += (double) g[ro + j] * gm[j] * c * yhat[ro + j];
            m1 /= d;
            double mean = 0;
            for (int j = 0; j < d; j++) {
              double gy = (double) g[ro + j] * gm[j] * c;
              gd[j] = (gy - Math.signum(yhat[ro + j]) * m1) * inv[r];
              mean += gd[j];
            }
            mean /= d;
            for (int j = 0; j < d; j++) ga[ro + j] += (float) (gd[j] - mean);
          }
        }
      });
    }
    return o;
  }

  /**
   * L1 batch norm over channel dimension 1 of N×C (1-d) or N×C×H×W (2-d) inputs. Training uses
   * the batch statistics and updates {@code runMean} and {@code runSigma1} (exponential moving
   * averages with {@code momentum}, like BN; σ1 is not bias-corrected); evaluation uses them.
   */
  public static Var batchNorm(Var a, Var gamma, Var beta, float[] runMean, float[] runSigma1,
      boolean training, float momentum, float eps, float c) {
    return batchNorm(a, new Ops.BatchNormState(gamma, beta, runMean, runSigma1, training, momentum, eps), c,
        FunctionEval.EXACT);
  }

  /**
   * {@link #batchNorm(Var, Var, Var, float[], float[], boolean, float, float, float)} whose forward
   * values {@code f} computes; {@code st.runVar()} holds the running σ1. The backward is the exact
   * derivative at the input the exact code was given (straight-through).
   */
  public static Var batchNorm(Var a, Ops.BatchNormState st, float c, FunctionEval f) {
    Var gamma = st.gamma(), beta = st.beta();
    float[] runMean = st.runMean(), runSigma1 = st.runVar();
    boolean training = st.training();
    float momentum = st.momentum(), eps = st.eps();
    int n = a.dim(0), ch = a.dim(1), l = a.size() / Math.max(1, n * ch);
    if (gamma.size() != ch || beta.size() != ch) {
      throw new IllegalArgumentException("l1BatchNorm: γ/β must have " + ch + " values, have " + gamma.size() + "/" + beta.size());
    }
    float[] z = new float[a.size()], yhat = new float[a.size()];
    float[] mean = new float[ch], inv = new float[ch];
    long cnt = (long) n * l;
    float[] gm = gamma.data(), bt = beta.data();
    f.of((x, zz, rs, cs) -> {
      for (int k = 0; k < ch; k++) {
        double mu, mad;
        if (training) {
          double s = 0;
          for (int i = 0; i < n; i++) for (int j = 0, b = (i * ch + k) * l; j < l; j++) s += x[b + j];
          mu = s / cnt;
          double sa = 0;
          for (int i = 0; i < n; i++) for (int j = 0, b = (i * ch + k) * l; j < l; j++) sa += Math.abs(x[b + j] - mu);
          mad = sa / cnt;
          runMean[k] = (float) ((1 - momentum) * runMean[k] + momentum * mu);
          runSigma1[k] = (float) ((1 - momentum) * runSigma1[k] + momentum * mad);
        } else {
          mu = runMean[k];
          mad = runSigma1[k];
        }
        mean[k] = (float) mu;
        inv[k] = (float) (1 / (mad + eps));
      }
      for (int i = 0; i < n; i++)
        for (int k = 0; k < ch; k++) {
          int b = (i * ch + k) * l;
          for (int j = 0; j < l; j++) {
            yhat[b + j] = (x[b + j] - mean[k]) * inv[k];
            zz[b + j] = c * yhat[b + j] * gm[k] + bt[k];
          }
        }
    }).apply(a.data(), z, n * ch, l);
    Var o = Ops.out(new Tensor(z, a.shape()), a, gamma, beta);
    if (o.requiresGrad()) {
      Tape.record(o, () -> {
        float[] g = o.grad();
        double[] sg = new double[ch], sb = new double[ch];
        for (int i = 0; i < n; i++)
          for (int k = 0; k < ch; k++) {
            int b = (i * ch + k) * l;
            for (int j = 0; j < l; j++) {
              sg[k] += (double) g[b + j] * c * yhat[b + j];
              sb[k] += g[b + j];
            }
          }
        if (gamma.requiresGrad()) Ops.addInto(gamma.gradForAccumulation(), sg);
        if (beta.requiresGrad()) Ops.addInto(beta.gradForAccumulation(), sb);
        if (!a.requiresGrad()) return;
        float[] ga = a.gradForAccumulation();
        for (int k = 0; k < ch; k++) {
          double gc = (double) gm[k] * c, s = inv[k];
          if (!training) {
            for (int i = 0; i < n; i++) for (int j = 0, b = (i * ch + k) * l; j < l; j++) ga[b + j] += (float) (gc * g[b + j] * s);
            continue;
          }
          // m1 = mean(gy·ŷ) = gc·sg/c / cnt; then gd and its mean over the set
          double m1 = gc * sg[k] / c / cnt;
          double sumGd = 0;
          for (int i = 0; i < n; i++)
            for (int j = 0, b = (i * ch + k) * l; j < l; j++) sumGd += (gc * g[b + j] - Math.signum(yhat[b + j]) * m1) * s;
          double meanGd = sumGd / cnt;
          for (int i = 0; i < n; i++)
            for (int j = 0, b = (i * ch + k) * l; j < l; j++) {
              ga[b + j] += (float) ((gc * g[b + j] - Math.signum(yhat[b + j]) * m1) * s - meanGd);
            }
        }
      });
    }
    return o;
  }
}
