package dev.lowbit.train;

import dev.lowbit.autograd.Var;
import dev.lowbit.numerics.Policy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Loss scaling (Micikevicius et al., "Mixed Precision Training", ICLR 2018), as the policy option
 * {@code loss-scale none|dynamic|N} asks. The backward pass starts from {@code S·dLoss}, so every
 * error tensor the policy quantizes (and every weight-gradient product, which the fp16 recipe keeps
 * in fp16 too) holds the scaled values, out of the format's underflow range; before the optimizer
 * step the gradients are divided by S in fp32 (exact for the dynamic scale, a power of two). A step
 * whose gradients hold infinity or NaN is skipped (the optimizer does not run, its step count does
 * not advance).
 *
 * <p>Dynamic scaling follows PyTorch's {@code GradScaler} defaults: start at 2^16; halve on a
 * skipped step; double after {@value #GROWTH_INTERVAL} consecutive finite steps (not beyond the
 * float range). A static scale {@code N} never changes, but non-finite steps are skipped as well.
 * {@code none} does nothing: no scaling, no checks. The scale, the run of good steps and the count
 * of skipped steps are checkpoint state ({@link #save}, {@link #load}).
 */
public final class LossScaler {

  /** How the scale is chosen. */
  public enum Mode { NONE, STATIC, DYNAMIC }

  public static final float INITIAL_SCALE = 65536f;
  public static final int GROWTH_INTERVAL = 2000;
  public static final float GROWTH = 2f, BACKOFF = 0.5f;

  private final Mode mode;
  private final List<Var> params;
  private float scale;
  private int goodSteps;
  private long skipped;
  private boolean lastSkipped;

  /** A scaler in {@code mode} starting at {@code scale}, over the given parameters. */
  public LossScaler(Mode mode, float scale, Collection<Var> params) {
    if (!(scale > 0) || !Float.isFinite(scale)) {
      throw new IllegalArgumentException("loss scale must be a positive finite number, got " + scale);
    }
    this.mode = mode;
    this.scale = mode == Mode.NONE ? 1f : scale;
    this.params = new ArrayList<>(params);
  }

  /** The scaler the policy's {@code loss-scale} option asks for (none when it is absent). */
  public static LossScaler of(Policy policy, Collection<Var> params) {
    var ls = policy.methods().lossScale();
    return switch (ls.kind()) {
      case NONE -> new LossScaler(Mode.NONE, 1f, params);
      case DYNAMIC -> new LossScaler(Mode.DYNAMIC, INITIAL_SCALE, params);
      case STATIC -> {
        float s = (float) ls.value();
        if (!(s > 0) || !Float.isFinite(s)) {
          throw new IllegalArgumentException("option loss-scale " + ls.value() + " is outside float's range; valid: "
              + "a positive number up to " + Float.MAX_VALUE);
        }
        yield new LossScaler(Mode.STATIC, s, params);
      }
    };
  }

  public Mode mode() {
    return mode;
  }

  /** True unless the mode is {@link Mode#NONE}. */
  public boolean active() {
    return mode != Mode.NONE;
  }

  /** The current scale (1 when inactive). */
  public float scale() {
    return scale;
  }

  /** Steps skipped so far because a gradient was infinite or NaN. */
  public long skippedSteps() {
    return skipped;
  }

  /** Consecutive finite steps since the scale last changed. */
  public int goodSteps() {
    return goodSteps;
  }

  /** Whether the last {@link #unscaleAndUpdate} skipped its step. */
  public boolean lastSkipped() {
    return lastSkipped;
  }

  /** Backward from {@code scale · d loss}. */
  public void backward(Var loss) {
    if (active()) loss.backward(scale);
    else loss.backward();
  }

  /**
   * After {@link #backward}: divides every gradient by the scale, checks them and updates the
   * scale. Returns true when the optimizer should step, false when this step must be skipped.
   */
  public boolean unscaleAndUpdate() {
    if (!active()) return true;
    boolean finite = true;
    for (Var p : params) {
      float[] g = p.grad();
      if (g != null && !unscale(g, scale)) finite = false;
    }
    update(finite);
    return finite;
  }

  private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());

  /**
   * g /= scale in vectors (the scalar loop with its finiteness test stayed scalar: 3 % of an fp16
   * CNN step); whether every quotient is finite — v − v is +0 (all bits clear) exactly for finite v.
   */
  static boolean unscale(float[] g, float scale) {
    IntVector bad = IntVector.zero(IS);
    int i = 0, badScalar = 0;
    for (int bound = FS.loopBound(g.length); i < bound; i += FS.length()) {
      FloatVector v = FloatVector.fromArray(FS, g, i).div(scale);
      v.intoArray(g, i);
      bad = bad.or(v.sub(v).reinterpretAsInts());
    }
    for (; i < g.length; i++) {
      float v = g[i] / scale;
      g[i] = v;
      badScalar |= Float.floatToRawIntBits(v - v);
    }
    return badScalar == 0 && bad.reduceLanes(VectorOperators.OR) == 0;
  }

  /** The state machine alone: one step whose gradients were (not) all finite. */
  void update(boolean finite) {
    lastSkipped = !finite;
    if (!finite) {
      skipped++;
      goodSteps = 0;
      if (mode == Mode.DYNAMIC) scale = Math.max(scale * BACKOFF, Float.MIN_VALUE);
      return;
    }
    if (mode != Mode.DYNAMIC) return;
    if (++goodSteps >= GROWTH_INTERVAL) {
      goodSteps = 0;
      float grown = scale * GROWTH;
      if (Float.isFinite(grown)) scale = grown;
    }
  }

  /** Adds {@code loss_scale} and {@code skipped_steps} to a metrics or summary line when active. */
  public void log(Map<String, Object> m) {
    if (!active()) return;
    m.put("loss_scale", (double) scale);
    m.put("skipped_steps", skipped);
  }

  /** Writes the state into checkpoint metadata. */
  public void save(Map<String, String> meta) {
    if (!active()) return;
    meta.put("loss_scale", Float.toString(scale));
    meta.put("loss_scale_good_steps", Integer.toString(goodSteps));
    meta.put("loss_scale_skipped", Long.toString(skipped));
  }

  /**
   * Restores the state from checkpoint metadata.
   *
   * @throws IllegalArgumentException when the metadata lacks it or holds a bad value
   */
  public void load(Map<String, String> meta, String source) {
    if (!active()) return;
    String s = meta.get("loss_scale"), g = meta.get("loss_scale_good_steps"), k = meta.get("loss_scale_skipped");
    if (s == null || g == null || k == null) {
      throw new IllegalArgumentException(source + ": checkpoint has no loss-scaler state (loss_scale, "
          + "loss_scale_good_steps, loss_scale_skipped); it was not written by a loss-scaled run");
    }
    try {
      float sc = Float.parseFloat(s);
      int gs = Integer.parseInt(g);
      long sk = Long.parseLong(k);
      if (!(sc > 0) || !Float.isFinite(sc) || gs < 0 || sk < 0) throw new NumberFormatException();
      scale = sc;
      goodSteps = gs;
      skipped = sk;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(source + ": bad loss-scaler state: loss_scale " + s
          + ", loss_scale_good_steps " + g + ", loss_scale_skipped " + k, e);
    }
  }
}
