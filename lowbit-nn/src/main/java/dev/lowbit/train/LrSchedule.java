package dev.lowbit.train;

/** Learning rate as a function of the optimizer step (0-based), computed, not stateful. */
public sealed interface LrSchedule {

  double lr(long step);

  /** A fixed rate. */
  record Constant(double base) implements LrSchedule {
    public double lr(long step) {
      return base;
    }
  }

  /** base · gamma^(step / every): PyTorch's StepLR with the period in steps. */
  record Step(double base, long every, double gamma) implements LrSchedule {
    public Step {
      if (every <= 0) throw new IllegalArgumentException("step schedule period must be > 0, got " + every);
    }

    public double lr(long step) {
      return base * Math.pow(gamma, step / every);
    }
  }

  /**
   * Linear warmup from 0 over {@code warmup} steps, then cosine decay from base to {@code min} at
   * {@code total} steps (Loshchilov &amp; Hutter, SGDR, 2017, without restarts).
   */
  record CosineWarmup(double base, long warmup, long total, double min) implements LrSchedule {
    public CosineWarmup {
      if (warmup < 0 || total <= 0 || warmup > total) {
        throw new IllegalArgumentException("cosine schedule needs 0 <= warmup <= total, total > 0; got " + warmup + ", " + total);
      }
    }

    public double lr(long step) {
      if (step < warmup) return base * (step + 1) / warmup;
      double t = Math.min(1.0, (double) (step - warmup) / Math.max(1, total - warmup));
      return min + 0.5 * (base - min) * (1 + Math.cos(Math.PI * t));
    }
  }
}
