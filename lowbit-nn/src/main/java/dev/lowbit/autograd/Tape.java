package dev.lowbit.autograd;

import java.util.ArrayList;
import java.util.function.Supplier;

/**
 * The reverse-mode tape: operations append their backward step while running forward; {@link
 * #backward} replays the steps newest first and then clears the tape. One tape per thread.
 */
public final class Tape {

  /** One recorded operation: its output and the closure that pushes the output's gradient back. */
  private record Entry(Var out, Runnable back) {}

  private static final ThreadLocal<Tape> CURRENT = ThreadLocal.withInitial(Tape::new);

  private final ArrayList<Entry> entries = new ArrayList<>();
  private boolean enabled = true;

  private Tape() {}

  public static Tape current() {
    return CURRENT.get();
  }

  /** True when an op with these inputs must record a backward step. */
  public static boolean needsGrad(Var... inputs) {
    Tape t = current();
    if (!t.enabled) return false;
    for (Var v : inputs) if (v != null && v.requiresGrad()) return true;
    return false;
  }

  /** Records {@code back}, which reads {@code out.grad()} and accumulates into the inputs. */
  public static void record(Var out, Runnable back) {
    current().entries.add(new Entry(out, back));
  }

  /** Runs {@code body} without recording (evaluation). */
  public static <T> T noGrad(Supplier<T> body) {
    Tape t = current();
    boolean was = t.enabled;
    t.enabled = false;
    try {
      return body.get();
    } finally {
      t.enabled = was;
    }
  }

  /** False inside {@link #noGrad}. */
  boolean recording() {
    return enabled;
  }

  /** Number of recorded operations (tests, leak checks). */
  public int size() {
    return entries.size();
  }

  /** Discards the recorded operations without running them. */
  public void clear() {
    entries.clear();
  }

  void backward(Var loss) {
    if (loss.size() != 1) {
      throw new IllegalArgumentException("backward() needs a scalar loss, got " + loss.value().shapeString());
    }
    if (!loss.requiresGrad()) {
      throw new IllegalArgumentException("backward() on a value that does not require a gradient");
    }
    loss.gradForAccumulation()[0] += 1f;
    try {
      for (int i = entries.size() - 1; i >= 0; i--) {
        Entry e = entries.get(i);
        if (e.out.grad() != null) e.back.run();
        // Intermediate gradients are no longer needed once pushed to the inputs.
        if (e.out != loss) e.out.dropGrad();
      }
    } finally {
      entries.clear();
    }
  }
}
