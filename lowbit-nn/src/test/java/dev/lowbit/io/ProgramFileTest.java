package dev.lowbit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.intonly.exec.IntExecutor;
import dev.lowbit.intonly.exec.IntMatmul;
import dev.lowbit.intonly.exec.Program;
import dev.lowbit.intonly.exec.Program.Rescale;
import java.io.RandomAccessFile;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Program files: every op kind round-trips; damaged files are refused with the field named. */
class ProgramFileTest {

  @TempDir Path dir;

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) b[i] = (byte) ((i * 37 + seed * 11) % 256 - 128);
    return b;
  }

  private static int[] ints(int n, int seed) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) a[i] = (i * 7919 + seed) * (i % 2 == 0 ? 1 : -1);
    return a;
  }

  /**
   * A small program with every op kind: a 1×4×4 input through a convolution, a max pool, a token
   * stream of 4×2 with a position constant, layer norm, one attention head, GELU, a mean pool
   * and a classifier over 3 classes.
   */
  static Program everyOp() {
    List<Program.Op> ops = List.of(
        new Program.Conv(1, 0, new Program.ConvShape(1, 4, 4, 2, 3, 1, 1), bytes(18, 1), new int[] {-100, 2000}),
        new Program.Requant(2, 1, new Rescale(new int[] {3, -5}, new int[] {4, 62}, 2, 16), -128, 127),
        new Program.MaxPool(3, 2, 2, 4, 4, 2, 2),
        new Program.Transpose(4, 3, 2, 4),
        new Program.Const(5, ints(8, 3)),
        new Program.Add(6, 4, 5, new Rescale(new int[] {1 << 20}, new int[] {20}, 1, 1),
            new Rescale(new int[] {7, 9}, new int[] {1, 2}, 2, 1), -32768, 32767),
        new Program.LayerNorm(7, 6, 4, 2, new int[] {-(1 << 20), 1 << 20}),
        new Program.Requant(8, 7, new Rescale(new int[] {12345}, new int[] {30}, 1, 1), -128, 127),
        new Program.Scores(9, 8, 8, 4, 1, 2),
        new Program.Shiftmax(10, 9, 4, 4, -13, 16, 8),
        new Program.Context(11, 10, 8, 4, 1, 2),
        new Program.ShiftGelu(12, 11, 4, 2, -12, 23, 8, true),
        new Program.Sum(13, 12, 1, 4, 2),
        new Program.Linear(14, 13, 1, 2, 3, bytes(6, 2), ints(3, 5)),
        new Program.Argmax(15, 14, 3));
    return new Program("test", 1, 4, 4, 3, ops);
  }

  /** A record as text with its arrays' contents, so that two programs compare by value. */
  static String describe(Object v) {
    return switch (v) {
      case byte[] b -> Arrays.toString(b);
      case int[] a -> Arrays.toString(a);
      case List<?> l -> l.stream().map(ProgramFileTest::describe).collect(Collectors.joining(",\n", "[", "]"));
      case Record r -> {
        StringBuilder sb = new StringBuilder(r.getClass().getSimpleName()).append('(');
        for (RecordComponent rc : r.getClass().getRecordComponents()) {
          try {
            sb.append(rc.getName()).append('=').append(describe(rc.getAccessor().invoke(r))).append(' ');
          } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
          }
        }
        yield sb.append(')').toString();
      }
      default -> String.valueOf(v);
    };
  }

  @Test
  void everyOpKindRoundTrips() throws Exception {
    Program p = everyOp();
    Set<String> kinds = p.ops().stream().map(o -> o.getClass().getSimpleName().toLowerCase()).collect(Collectors.toSet());
    assertEquals(new TreeSet<>(ProgramFile.kindNames()), new TreeSet<>(kinds), "the test program covers every op kind");
    Path f = dir.resolve("p.lbi.safetensors");
    ProgramFile.save(f, p);
    Program q = ProgramFile.load(f);
    assertEquals(describe(p), describe(q));
    assertEquals(describe(p.ops()), describe(q.ops()));
    // the tensors carry the integers in their own dtypes and shapes
    Safetensors.Header h = Safetensors.header(f);
    assertEquals("I8", h.entries().get("op.0.weight").dtype());
    assertArrayEquals(new int[] {2, 1, 3, 3}, h.entries().get("op.0.weight").shape());
    assertArrayEquals(new int[] {3, 2}, h.entries().get("op.13.weight").shape());
    assertEquals("I32", h.entries().get("op.4.values").dtype());
    assertArrayEquals(ints(8, 3), h.readI32("op.4.values"));
    assertEquals(ProgramFile.FORMAT, h.metadata().get("format"));
  }

  /** The loaded program computes what the saved one does: the same logits, bit for bit. */
  @Test
  void theLoadedProgramGivesTheSameLogits() throws Exception {
    Program p = everyOp();
    Path f = dir.resolve("p.lbi.safetensors");
    ProgramFile.save(f, p);
    byte[] pixels = bytes(5 * 16, 9);
    IntExecutor ex = new IntExecutor(IntMatmul.SCALAR, 1);
    int[] want = ex.logits(p, pixels, 0, 5);
    assertArrayEquals(want, ex.logits(ProgramFile.load(f), pixels, 0, 5));
    assertEquals(15, want.length);
  }

  /** The compiler's programs of every zoo model (seeded random weights) save, load and run alike. */
  @Test
  void everyCompiledZooModelRoundTrips() throws Exception {
    dev.lowbit.data.Dataset cal = dev.lowbit.data.FashionMnist.embedded().train().head(8);
    byte[] pixels = new byte[4 * cal.sampleSize()];
    for (int i = 0; i < 4; i++) cal.copyPixels(i, pixels, i * cal.sampleSize());
    IntExecutor ex = new IntExecutor(IntMatmul.SCALAR, 1);
    for (String name : dev.lowbit.models.Models.NAMES) {
      dev.lowbit.nn.Module m = dev.lowbit.models.Models.create(name, 1);
      m.eval();
      Program p = dev.lowbit.intonly.IntCompiler.compile(name, m, cal.images(), cal.size(),
          new dev.lowbit.intonly.IntCompiler.Calibration(1, 8));
      Path f = dir.resolve(name + ".lbi.safetensors");
      ProgramFile.save(f, p);
      Program q = ProgramFile.load(f);
      assertEquals(describe(p), describe(q), name);
      assertArrayEquals(ex.logits(p, pixels, 0, 4), ex.logits(q, pixels, 0, 4), name);
    }
  }

  @Test
  void integerTensorsKeepTheirExtremes() throws Exception {
    Path f = dir.resolve("t.safetensors");
    LinkedHashMap<String, Safetensors.Stored> t = new LinkedHashMap<>();
    t.put("a", new Safetensors.I8(new byte[] {-128, 127, 0, -1}, new int[] {2, 2}));
    t.put("b", new Safetensors.I32(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, -1}, new int[] {3}));
    Safetensors.writeTyped(f, t, Map.of());
    Safetensors.Header h = Safetensors.header(f);
    assertArrayEquals(new byte[] {-128, 127, 0, -1}, h.readI8("a"));
    assertArrayEquals(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, -1}, h.readI32("b"));
    assertEquals(4 + 12, Files.size(f) - h.dataStart(), "one byte per I8 element, four per I32");
    // a float reader refuses the integer dtypes instead of converting them
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, h::readAll);
    assertTrue(e.getMessage().contains("dtype I8 is not supported"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> h.readI32("a"));
    assertTrue(e.getMessage().contains("tensor 'a' has dtype I8, expected I32"), e.getMessage());
  }

  @Test
  void aSecondSaveGivesTheSameBytes() throws Exception {
    Path a = dir.resolve("a.lbi.safetensors"), b = dir.resolve("b.lbi.safetensors");
    ProgramFile.save(a, everyOp());
    ProgramFile.save(b, ProgramFile.load(a));
    assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
  }

  // ---- damaged files ----------------------------------------------------------------------------

  /** The good file's tensors and metadata, for a test to damage and write again. */
  private record Parts(LinkedHashMap<String, Safetensors.Stored> tensors, LinkedHashMap<String, String> meta) {}

  private Parts parts() throws Exception {
    Path f = dir.resolve("good.lbi.safetensors");
    ProgramFile.save(f, everyOp());
    Safetensors.Header h = Safetensors.header(f);
    LinkedHashMap<String, Safetensors.Stored> t = new LinkedHashMap<>();
    for (Safetensors.Entry e : h.entries().values()) {
      t.put(e.name(), e.dtype().equals("I8") ? new Safetensors.I8(h.readI8(e.name()), e.shape())
          : new Safetensors.I32(h.readI32(e.name()), e.shape()));
    }
    return new Parts(t, new LinkedHashMap<>(h.metadata()));
  }

  /** The one-line message loading the damaged file gives; it names the file. */
  private String refusal(Consumer<Parts> damage) throws Exception {
    Parts p = parts();
    damage.accept(p);
    Path f = dir.resolve("bad.lbi.safetensors");
    Safetensors.writeTyped(f, p.tensors(), p.meta());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProgramFile.load(f));
    Fuzz.assertOneLine(e.getMessage());
    assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    return e.getMessage();
  }

  /** Loading the damaged file fails with a message that contains {@code expected}. */
  private void refused(Consumer<Parts> damage, String expected) throws Exception {
    String m = refusal(damage);
    assertTrue(m.contains(expected), m);
  }

  private static void editOp(Parts p, int i, String from, String to) {
    String before = p.meta().get("op." + i);
    assertTrue(before.contains(from), before);
    p.meta().put("op." + i, before.replace(from, to));
  }

  @Test
  void aTruncatedFileIsRefused() throws Exception {
    Path f = dir.resolve("t.lbi.safetensors");
    ProgramFile.save(f, everyOp());
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.setLength(raf.length() - 5);
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProgramFile.load(f));
    assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void aMissingFieldIsNamedWithItsOp() throws Exception {
    refused(p -> editOp(p, 1, ",\"lo\":-128", ""), "op 1 (requant): missing field 'lo'");
    refused(p -> editOp(p, 0, ",\"stride\":1", ""), "op 0 (conv): missing field 'shape.stride'");
    refused(p -> p.tensors().remove("op.13.bias"), "op 13 (linear): missing tensor 'op.13.bias'");
    refused(p -> p.meta().remove("op.7"), "op 7: metadata 'op.7' is missing");
    refused(p -> p.meta().remove("classes"), "metadata 'classes' is missing");
    // an op count is bounded before anything is allocated for it, and every op it names must be there
    refused(p -> p.meta().put("ops", "2147483647"), "metadata 'ops' is '2147483647', expected an integer in 1..100000");
    refused(p -> p.meta().put("ops", "99999"), "op 15: metadata 'op.15' is missing");
  }

  @Test
  void aWrongDtypeIsNamed() throws Exception {
    String m = refusal(p -> {
      Safetensors.I8 w = (Safetensors.I8) p.tensors().get("op.0.weight");
      int[] wide = new int[w.data().length];
      for (int i = 0; i < wide.length; i++) wide[i] = w.data()[i];
      p.tensors().put("op.0.weight", new Safetensors.I32(wide, w.shape()));
    });
    assertTrue(m.contains("op 0 (conv): tensor 'op.0.weight' has dtype I32, expected I8"), m);
    refused(p -> editOp(p, 11, "\"precise\":true", "\"precise\":1"),
        "op 11 (shiftgelu): field 'precise' is 1, expected true or false");
    refused(p -> editOp(p, 2, "\"k\":2", "\"k\":2.5"), "op 2 (maxpool): field 'k' is 2.5, expected a 32-bit integer");
    refused(p -> editOp(p, 1, "\"m\":[3,-5]", "\"m\":[3,4294967296]"),
        "op 1 (requant): field 'rescale.m[1]' is 4294967296, expected a 32-bit integer");
  }

  @Test
  void aShapeThatDisagreesIsNamed() throws Exception {
    String m = refusal(p -> {
      Safetensors.I8 w = (Safetensors.I8) p.tensors().get("op.0.weight");
      p.tensors().put("op.0.weight", new Safetensors.I8(w.data(), new int[] {18}));
    });
    assertTrue(m.contains("op 0 (conv): tensor 'op.0.weight' has shape [18], the op's fields need [2, 1, 3, 3]"), m);
    // a classifier whose inputs no longer match the value it reads
    refused(p -> editOp(p, 13, "\"inF\":2", "\"inF\":4"), "op 13 (linear)");
    refused(p -> editOp(p, 5, "\"b\":5", "\"b\":1"),
        "op 5 (add): field 'b' names a value of 32 elements per sample, the op's fields need 8");
    refused(p -> editOp(p, 9, "\"in\":9", "\"in\":12"), "op 9 (shiftmax): reads value 12, which no earlier op writes");
    m = refusal(p -> editOp(p, 1, "\"channels\":2", "\"channels\":3"));
    assertTrue(m.contains("op 1 (requant): field 'rescale'") && m.contains("3 channels"), m);
    refused(p -> editOp(p, 14, "\"classes\":3", "\"classes\":4"), "op 14 (argmax)");
  }

  @Test
  void anUnknownOpOrFieldOrTensorIsNamed() throws Exception {
    String m = refusal(p -> editOp(p, 3, "\"op\":\"transpose\"", "\"op\":\"fft\""));
    assertTrue(m.contains("op 3: unknown op 'fft'") && m.contains("known: conv, linear"), m);
    refused(p -> editOp(p, 3, "\"rows\":2", "\"rows\":2,\"axes\":1"), "op 3 (transpose): unknown field 'axes'");
    refused(p -> p.tensors().put("op.3.extra", new Safetensors.I32(new int[] {1}, new int[] {1})),
        "unexpected tensor 'op.3.extra'");
    refused(p -> p.meta().put("op.15", p.meta().get("op.14")), "unexpected metadata 'op.15'");
    refused(p -> p.meta().put("format", "lowbit-checkpoint-1"), "not a lowbit integer program");
  }

  @Test
  void aFloatCheckpointIsNotAProgram() throws Exception {
    Path f = dir.resolve("ck.safetensors");
    Safetensors.write(f, Map.of("w", dev.lowbit.tensor.Tensor.zeros(2)), Map.of("format", "lowbit-checkpoint-1"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProgramFile.load(f));
    assertTrue(e.getMessage().contains("not a lowbit integer program (metadata 'format' is 'lowbit-checkpoint-1'"),
        e.getMessage());
  }

  // ---- nothing written on failure ---------------------------------------------------------------

  private List<String> files() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void anInvalidProgramIsNotWrittenAndAnOldFileSurvives() throws Exception {
    Path f = dir.resolve("p.lbi.safetensors");
    ProgramFile.save(f, everyOp());
    byte[] before = Files.readAllBytes(f);
    List<Program.Op> ops = new ArrayList<>(everyOp().ops());
    ops.remove(ops.size() - 1); // no final argmax
    Program bad = new Program("test", 1, 4, 4, 3, ops);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProgramFile.save(f, bad));
    assertTrue(e.getMessage().contains("the last op must be an argmax"), e.getMessage());
    assertArrayEquals(before, Files.readAllBytes(f));
    Path g = dir.resolve("new.lbi.safetensors");
    assertThrows(IllegalArgumentException.class, () -> ProgramFile.save(g, bad));
    assertFalse(Files.exists(g));
    assertEquals(List.of("p.lbi.safetensors"), files(), "no temporary file is left");
  }

  @Test
  void valuesMustBeWrittenOnceAndNotOverTheInput() {
    List<Program.Op> ops = new ArrayList<>(everyOp().ops());
    ops.set(3, new Program.Transpose(2, 3, 2, 4)); // writes value 2 again
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ProgramFile.check(new Program("t", 1, 4, 4, 3, ops)));
    assertEquals("op 3 (transpose): field 'out': value 2 is written twice", e.getMessage());
    ops.set(3, new Program.Transpose(0, 3, 2, 4));
    e = assertThrows(IllegalArgumentException.class, () -> ProgramFile.check(new Program("t", 1, 4, 4, 3, ops)));
    assertEquals("op 3 (transpose): field 'out' is 0, expected > 0 (0 is the input)", e.getMessage());
    // value numbers need not be consecutive: 99 is as good a name as 4
    ops.set(3, new Program.Transpose(99, 3, 2, 4));
    ops.set(5, new Program.Add(6, 99, 5, new Rescale(new int[] {1}, new int[] {0}, 1, 1),
        new Rescale(new int[] {1}, new int[] {0}, 1, 1), -32768, 32767));
    ProgramFile.check(new Program("t", 1, 4, 4, 3, ops));
  }
}
