package dev.lowbit.autograd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;

/**
 * Recycles the large per-step arrays of a training loop: activations, im2col columns, pooling
 * indices and intermediate gradients. A training step allocates the same arrays every time (the
 * CNN about 150 MB at batch 128); allocating them fresh cost zeroing and garbage collection (16% of
 * the CNN's step in pauses alone) and let the heap grow far beyond what one step holds.
 *
 * <p>Use: the trainer calls {@link #beginStep()} at the start of every step, which hands every
 * array given out since the previous call back to the pool, and {@link #endSteps()} after the last
 * step of a run of steps, which empties the pool. Arrays handed out are therefore valid until the
 * next {@code beginStep}: through forward, backward, the optimizer step and the step's metrics.
 * Outside that window (no step begun on this thread, or under {@link Tape#noGrad}, i.e.
 * evaluation) {@link #floats} is plain {@code new float[n]}.
 *
 * <p>A pooled array's contents are whatever its last user left: callers must overwrite every
 * element they later read. Parameters' gradients never come from here ({@link #gradFor}), since
 * they outlive the step.
 */
public final class StepArena {

  private static final ThreadLocal<StepArena> CURRENT = new ThreadLocal<>();

  /** A step that holds more than this stops pooling (a loop that never begins a new step). */
  private static final long MAX_IN_USE_BYTES = Math.max(64L << 20, Runtime.getRuntime().maxMemory() / 2);

  private final HashMap<Integer, ArrayDeque<float[]>> freeFloats = new HashMap<>();
  private final HashMap<Integer, ArrayDeque<int[]>> freeInts = new HashMap<>();
  private final ArrayList<float[]> usedFloats = new ArrayList<>();
  private final ArrayList<int[]> usedInts = new ArrayList<>();
  private long inUseBytes;
  private long stamp;

  /** Source of {@link #stamp()} values: one per step begun on any thread. */
  private static final java.util.concurrent.atomic.AtomicLong STAMPS = new java.util.concurrent.atomic.AtomicLong();

  private StepArena() {
    stamp = STAMPS.incrementAndGet();
  }

  /** Starts a step on this thread: arrays handed out by the previous step become reusable. */
  public static void beginStep() {
    StepArena a = CURRENT.get();
    if (a == null) {
      CURRENT.set(new StepArena());
      return;
    }
    for (float[] x : a.usedFloats) a.freeFloats.computeIfAbsent(x.length, k -> new ArrayDeque<>()).push(x);
    for (int[] x : a.usedInts) a.freeInts.computeIfAbsent(x.length, k -> new ArrayDeque<>()).push(x);
    a.usedFloats.clear();
    a.usedInts.clear();
    a.inUseBytes = 0;
    a.stamp = STAMPS.incrementAndGet();
  }

  /**
   * Identifies the current step of this thread's arena while {@link #floats} pools (a fresh value
   * for every step begun), or 0 when it hands out fresh arrays. An array obtained under stamp s may
   * be handed out again once the stamp changes, so whoever keeps such an array across calls (a
   * cache) must drop it then.
   */
  public static long stamp() {
    StepArena a = active();
    return a == null ? 0 : a.stamp;
  }

  /** Ends pooling on this thread and lets the pooled arrays go (before evaluation, at the end of a run). */
  public static void endSteps() {
    CURRENT.remove();
  }

  /** True while a step is open on this thread and gradients are being recorded. */
  static StepArena active() {
    StepArena a = CURRENT.get();
    return a == null || !Tape.recording() || a.inUseBytes > MAX_IN_USE_BYTES ? null : a;
  }

  /**
   * An array of n floats valid until the next {@link #beginStep()}; its contents are arbitrary
   * inside a step (the caller overwrites all of it) and zero outside one.
   */
  public static float[] floats(int n) {
    return take(n, false);
  }

  /** As {@link #floats}, all zeros (a reused array is cleared; a fresh one already is). */
  public static float[] zeros(int n) {
    return take(n, true);
  }

  private static float[] take(int n, boolean zero) {
    StepArena a = active();
    if (a == null) return new float[n];
    ArrayDeque<float[]> q = a.freeFloats.get(n);
    float[] x;
    if (q == null || q.isEmpty()) {
      x = new float[n];
    } else {
      x = q.pop();
      if (zero) java.util.Arrays.fill(x, 0f);
    }
    a.usedFloats.add(x);
    a.inUseBytes += 4L * n;
    return x;
  }

  /** As {@link #floats} for ints. */
  public static int[] ints(int n) {
    StepArena a = active();
    if (a == null) return new int[n];
    ArrayDeque<int[]> q = a.freeInts.get(n);
    int[] x = q == null || q.isEmpty() ? new int[n] : q.pop();
    a.usedInts.add(x);
    a.inUseBytes += 4L * n;
    return x;
  }

  /**
   * An array for {@code v}'s first gradient, to be fully written and then installed with {@link
   * Var#setGrad}: pooled for intermediates, a fresh one for parameters (their gradients persist).
   */
  public static float[] gradFor(Var v) {
    return v.isParameter() ? new float[v.size()] : floats(v.size());
  }
}
