package dev.lowbit.intonly.exec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.intonly.GemmIntMatmul;
import dev.lowbit.kernel.Kernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The executor on hand-built programs against {@link LongReference}, exactly, on 1 and 3 threads,
 * on the scalar products, on the GEMM in use and on direct-loop layers ({@link DirectLayers}); and malformed programs rejected with the op.
 */
class IntExecutorTest {

  /** More than two runs of {@link IntExecutor#RUN}, so that three threads share them. */
  static final int IMAGES = 2 * IntExecutor.RUN + 7;

  static byte[] pixels(int size, long seed) {
    byte[] p = new byte[IMAGES * size + 5];
    new Random(seed).nextBytes(p);
    return p;
  }

  /** conv (uint8 pixels) → ReLU requant to 0..255 → max pool → conv (unsigned A) → int8 → linear → argmax. */
  static Program cnn(byte[] pixels) {
    ProgramBuilder b = new ProgramBuilder(2, 6, 6, pixels, IMAGES, 1);
    int c1 = b.conv(Program.INPUT, new Program.ConvShape(2, 6, 6, 3, 3, 1, 1));
    int r1 = b.requant(c1, 3, 36, 300, 0, 255);
    int p1 = b.add(new Program.MaxPool(b.next(), r1, 3, 6, 6, 2, 2));
    int c2 = b.conv(p1, new Program.ConvShape(3, 3, 3, 4, 2, 1, 0));
    int r2 = b.requant(c2, 120, -128, 127);
    int fc = b.linear(r2, 1, 16, 5);
    b.add(new Program.Argmax(b.next(), fc, 5));
    return b.program("cnn", 5);
  }

  /**
   * One transformer block over 4 tokens of 6 pixels (2 heads of 4): embedding, position constant,
   * LayerNorm, Q/K/V, scores, Shiftmax, context, projection, residual, LayerNorm, fc1, ShiftGELU,
   * fc2, residual, transpose, token sum, head, argmax. {@code kOut} 16 keeps the probabilities in
   * ints (the context then takes the long-sum path).
   */
  static Program attention(byte[] pixels, int kOut, boolean precise) {
    int t = 4, d = 8, heads = 2, dh = 4, hidden = 16;
    ProgramBuilder b = new ProgramBuilder(1, t, 6, pixels, IMAGES, 2);
    int lo16 = -32768, hi16 = 32767;
    int emb = b.requant(b.linear(Program.INPUT, t, 6, d), 3000, lo16, hi16);
    int pos = b.add(new Program.Const(b.next(), b.ints(t * d, 300)));
    Program.Rescale one = new Program.Rescale(new int[] {1}, new int[] {0}, 1, 1);
    Program.Rescale half = new Program.Rescale(new int[] {1 << 30}, new int[] {31}, 1, 1);
    int x = b.add(new Program.Add(b.next(), emb, pos, one, half, lo16, hi16));
    int ln1 = b.requant(b.add(new Program.LayerNorm(b.next(), x, t, d, b.ints(d, 1 << 28))), d, 1, 100, -128, 127);
    int q = b.requant(b.linear(ln1, t, d, d), 100, -128, 127);
    int k = b.requant(b.linear(ln1, t, d, d), 100, -128, 127);
    int v = b.requant(b.linear(ln1, t, d, d), 100, -128, 127);
    int s = b.requant(b.add(new Program.Scores(b.next(), q, k, t, heads, dh)), 100, -128, 127);
    int p = b.add(new Program.Shiftmax(b.next(), s, heads * t, t, -13, 15, kOut));
    int ctx = b.requant(b.add(new Program.Context(b.next(), p, v, t, heads, dh)), 100, -128, 127);
    int proj = b.requant(b.linear(ctx, t, d, d), 2000, lo16, hi16);
    int x2 = b.add(new Program.Add(b.next(), x, proj, one, one, lo16, hi16));
    int ln2 = b.requant(b.add(new Program.LayerNorm(b.next(), x2, t, d, b.ints(d, 1 << 28))), d, 1, 100, -128, 127);
    int h = b.requant(b.linear(ln2, t, d, hidden), 80, -128, 127);
    int g = b.requant(b.add(new Program.ShiftGelu(b.next(), h, t, hidden, -12, 23, 8, precise)), 100, -128, 127);
    int mlp = b.requant(b.linear(g, t, hidden, d), 2000, lo16, hi16);
    int x3 = b.add(new Program.Add(b.next(), x2, mlp, one, one, lo16, hi16));
    int tr = b.add(new Program.Transpose(b.next(), x3, t, d));
    int pooled = b.requant(b.add(new Program.Sum(b.next(), tr, d, t, 1)), 100, -128, 127);
    int logits = b.linear(pooled, 1, d, 3);
    b.add(new Program.Argmax(b.next(), logits, 3));
    return b.program("attention", 3);
  }

  /**
   * The paths the two models above leave out: convolution, pooling and linear layers on int
   * values (the long-sum products), a transpose of bytes, a requantization of bytes, a residual
   * into bytes from an unsigned and a signed value, scores with an unsigned Q, a sum with an inner
   * axis.
   */
  static Program lessTravelled(byte[] pixels) {
    ProgramBuilder b = new ProgramBuilder(1, 6, 6, pixels, IMAGES, 3);
    int wide = b.requant(b.conv(Program.INPUT, new Program.ConvShape(1, 6, 6, 2, 3, 1, 1)), 2000, -32768, 32767);
    int pooled = b.add(new Program.MaxPool(b.next(), wide, 2, 6, 6, 2, 2));
    int c2 = b.requant(b.conv(pooled, new Program.ConvShape(2, 3, 3, 3, 2, 1, 0)), 120, -128, 127);
    int tr = b.add(new Program.Transpose(b.next(), c2, 3, 4));
    int u = b.requant(tr, 200, 0, 255);
    int lin = b.requant(b.linear(pooled, 2, 9, 6), 100, -128, 127);
    Program.Rescale half = new Program.Rescale(new int[] {1 << 30}, new int[] {31}, 1, 1);
    int sum = b.add(new Program.Add(b.next(), u, lin, half, half, -128, 127));
    int scores = b.add(new Program.Scores(b.next(), u, sum, 4, 1, 3));
    int pooledScores = b.requant(b.add(new Program.Sum(b.next(), scores, 1, 4, 4)), 100, -128, 127);
    int logits = b.linear(pooledScores, 1, 4, 3);
    b.add(new Program.Argmax(b.next(), logits, 3));
    return b.program("less travelled", 3);
  }

  @Test
  void theLessTravelledPathsMatchTheLongReference() {
    byte[] pixels = pixels(6 * 6, 40);
    Program p = lessTravelled(pixels);
    Plan plan = new Plan(p);
    assertEquals(List.of(Plan.Kind.INT, Plan.Kind.INT, Plan.Kind.INT, Plan.Kind.INT, Plan.Kind.S8, Plan.Kind.S8, Plan.Kind.U8),
        Arrays.asList(plan.kind).subList(1, 8), "conv, int16, pool of ints, conv, int8, transpose of bytes, uint8");
    assertEquals(Plan.Kind.S8, plan.kind[indexOf(p, Program.Add.class) + 1]);
    assertMatchesReference(p, pixels);
  }

  /** The executor's logits and classes equal the long reference for every image, on every matmul and thread count. */
  static void assertMatchesReference(Program program, byte[] pixels) {
    int size = program.channels() * program.height() * program.width();
    int[] wantLogits = new int[IMAGES * program.classes()], wantClasses = new int[IMAGES];
    for (int i = 0; i < IMAGES; i++) {
      long[] r = LongReference.run(program, pixels, 5 + i * size);
      for (int c = 0; c < program.classes(); c++) wantLogits[i * program.classes() + c] = Math.toIntExact(r[c]);
      wantClasses[i] = (int) r[program.classes()];
    }
    Set<String> distinct = new HashSet<>();
    for (int i = 0; i < IMAGES; i++) {
      distinct.add(Arrays.toString(Arrays.copyOfRange(wantLogits, i * program.classes(), (i + 1) * program.classes())));
    }
    assertEquals(IMAGES, distinct.size(), "the images give distinct logits (the test sees the data)");
    for (boolean layerwise : new boolean[] {true, false}) {
      String way = layerwise ? ", layer-wise" : ", run-parallel";
      for (IntMatmul mm : new IntMatmul[] {IntMatmul.SCALAR, GemmIntMatmul.inUse()}) {
        for (int threads : new int[] {1, 3}) {
          IntExecutor ex = new IntExecutor(mm, mm instanceof IntLayers l ? l : IntLayers.NONE, threads, 0, layerwise ? 1 : 0);
          String where = program.model() + " on " + mm.name() + ", " + threads + " threads" + way;
          assertArrayEquals(wantLogits, ex.logits(program, pixels, 5, IMAGES), where);
          assertArrayEquals(wantClasses, ex.classify(program, pixels, 5, IMAGES), where);
        }
      }
      for (int threads : new int[] {1, 3}) {
        DirectLayers layers = new DirectLayers();
        IntExecutor ex = new IntExecutor(IntMatmul.SCALAR, layers, threads, 0, layerwise ? 1 : 0);
        String where = program.model() + " on " + layers.name() + ", " + threads + " threads" + way;
        assertArrayEquals(wantLogits, ex.logits(program, pixels, 5, IMAGES), where);
        assertArrayEquals(wantClasses, ex.classify(program, pixels, 5, IMAGES), where);
      }
    }
  }

  @Test
  void aConvNetMatchesTheLongReference() {
    byte[] pixels = pixels(2 * 6 * 6, 10);
    Program p = cnn(pixels);
    assertMatchesReference(p, pixels);
    Plan plan = new Plan(p);
    assertEquals(List.of(Plan.Kind.U8, Plan.Kind.INT, Plan.Kind.U8, Plan.Kind.U8, Plan.Kind.INT, Plan.Kind.S8),
        Arrays.asList(plan.kind).subList(0, 6), "pixels, conv, ReLU requant, pool, conv, int8 requant");
    assertEquals(2, plan.poolAfter[1], "the ReLU requant runs after the pool");
    assertTrue(plan.pooled[2]);
    assertTrue(IntExecutor.layerwise(p), "a program without attention runs layer-wise");
  }

  /** Negative multipliers make the requantization non-increasing: it must not move after the pool. */
  @Test
  void aRequantWithNegativeMultipliersStaysBeforeThePool() {
    byte[] pixels = pixels(2 * 6 * 6, 11);
    Program p = edit(cnn(pixels), 1, op -> {
      Program.Requant r = (Program.Requant) op;
      int[] m = r.rescale().m().clone();
      m[1] = -m[1];
      return new Program.Requant(r.out(), r.in(), new Program.Rescale(m, r.rescale().k(), 3, 36), -128, 127);
    });
    assertEquals(-1, new Plan(p).poolAfter[1]);
    assertMatchesReference(p, pixels);
  }

  @Test
  void anAttentionBlockMatchesTheLongReference() {
    byte[] pixels = pixels(4 * 6, 20);
    Program p = attention(pixels, 8, false);
    assertEquals(Plan.Kind.S8, new Plan(p).kind[indexOf(p, Program.Shiftmax.class) + 1], "8-bit probabilities in bytes");
    assertTrue(!IntExecutor.layerwise(p), "an attention block runs run-parallel");
    assertMatchesReference(p, pixels);
  }

  /** 16-bit probabilities do not fit a byte: the context's product runs on long sums, and must agree all the same. */
  @Test
  void sixteenBitProbabilitiesTakeTheLongPath() {
    byte[] pixels = pixels(4 * 6, 30);
    Program p = attention(pixels, 16, true);
    assertEquals(Plan.Kind.INT, new Plan(p).kind[indexOf(p, Program.Shiftmax.class) + 1]);
    assertMatchesReference(p, pixels);
  }

  @Test
  void anEmptyBatchGivesNoResults() {
    byte[] pixels = pixels(2 * 6 * 6, 10);
    assertEquals(0, new IntExecutor(IntMatmul.SCALAR, 2).classify(cnn(pixels), pixels, 0, 0).length);
  }

  static int indexOf(Program p, Class<? extends Program.Op> type) {
    for (int i = 0; i < p.ops().size(); i++) {
      if (type.isInstance(p.ops().get(i))) return i;
    }
    throw new AssertionError("no " + type.getSimpleName());
  }

  // ---- malformed programs ----

  static Program edit(Program p, int at, UnaryOperator<Program.Op> f) {
    List<Program.Op> ops = new ArrayList<>(p.ops());
    ops.set(at, f.apply(ops.get(at)));
    return new Program(p.model(), p.channels(), p.height(), p.width(), p.classes(), ops);
  }

  static void assertRejected(Program p, String... parts) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new IntExecutor(IntMatmul.SCALAR, 1).classify(p, new byte[p.channels() * p.height() * p.width()], 0, 1));
    for (String part : parts) assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
  }

  @Test
  void malformedProgramsAreRejectedNamingTheOpAndField() {
    Program p = cnn(pixels(2 * 6 * 6, 10));
    assertRejected(edit(p, 2, op -> new Program.MaxPool(op.out(), 9, 3, 6, 6, 2, 2)),
        "op 2 (MaxPool)", "field in", "value 9 is read before it is written");
    assertRejected(edit(p, 3, op -> {
      Program.Conv c = (Program.Conv) op;
      return new Program.Conv(c.out(), c.in(), c.shape(), new byte[7], c.bias());
    }), "op 3 (Conv)", "field weight", "7 entries, needs 48");
    assertRejected(edit(p, 5, op -> {
      Program.Linear l = (Program.Linear) op;
      return new Program.Linear(l.out(), l.in(), l.rows(), 15, l.outF(), new byte[15 * l.outF()], l.bias());
    }), "op 5 (Linear)", "field in", "16 elements per sample, the op needs 15");
    assertRejected(edit(p, 1, op -> {
      Program.Requant r = (Program.Requant) op;
      return new Program.Requant(r.out(), r.in(), new Program.Rescale(new int[] {1, 1, 1, 1, 1}, new int[5], 5, 36), 0, 255);
    }), "op 1 (Requant)", "field rescale", "5 channels of 36 do not tile 108");
    assertRejected(edit(p, 4, op -> new Program.Requant(1, ((Program.Requant) op).in(), ((Program.Requant) op).rescale(), -128, 127)),
        "op 4 (Requant)", "field out", "value 1 is already written");
    assertRejected(edit(p, 6, op -> new Program.Argmax(op.out(), 6, 4)), "op 6 (Argmax)", "field in", "the op needs 4");
    assertRejected(edit(p, 6, op -> new Program.Transpose(op.out(), 6, 1, 5)), "the last op must be an Argmax");
  }

  @Test
  void badConstantsAndPixelCountsAreRejected() {
    byte[] pixels = pixels(4 * 6, 20);
    Program p = attention(pixels, 8, false);
    int at = indexOf(p, Program.Shiftmax.class);
    assertRejected(edit(p, at, op -> {
      Program.Shiftmax s = (Program.Shiftmax) op;
      return new Program.Shiftmax(s.out(), s.in(), s.rows(), s.cols(), 5, s.n(), s.kOut());
    }), "op " + at + " (Shiftmax)", "field x0/n/kOut", "x0");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new IntExecutor(IntMatmul.SCALAR, 1).classify(p, pixels, 0, IMAGES + 1));
    assertTrue(e.getMessage().contains("pixels"), e.getMessage());
  }
}
