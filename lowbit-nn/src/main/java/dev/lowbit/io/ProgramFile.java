package dev.lowbit.io;

import dev.lowbit.intonly.exec.Program;
import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * An integer-only {@link Program} as a safetensors file ({@code *.lbi.safetensors}; the format is
 * documented in docs/intonly.md, "Program file"): the int8 weights and int32 biases and constants
 * are I8 and I32 tensors named {@code op.<index>.<field>}, and the header's {@code __metadata__}
 * holds the program's shape and one JSON object per op ({@code op.<index>}) with its kind, value
 * numbers, sizes and requantization constants.
 *
 * <p>An op's fields are its record components, under their Java names: an {@code int} is a JSON
 * integer, a {@code boolean} a JSON boolean, a {@link Program.ConvShape} or {@link
 * Program.Rescale} a JSON object of its own components (a rescale's arrays as JSON arrays), and an
 * op's own {@code byte[]} or {@code int[]} a tensor.
 *
 * <p>{@link #load} treats the file as hostile: the safetensors layer bounds the header and checks
 * the tensors tile the file; then every op field is checked for presence, type and range, every
 * tensor for dtype and shape, and the program as a whole by {@link #check} (values read only after
 * they are written, sizes that agree from op to op, a final argmax over the classes). Each defect
 * is one IllegalArgumentException naming the file, the op index and kind, and the field.
 */
public final class ProgramFile {

  /** The {@code format} metadata value of this version of the file. */
  public static final String FORMAT = "lowbit-int-program-1";

  /** The most ops a program file may hold (far above any model of the zoo). */
  public static final int MAX_OPS = 100_000;

  private ProgramFile() {}

  /** The kind names of the ops, as the files spell them: the record's simple name in lower case. */
  private static final Map<String, Class<?>> KINDS = kinds();

  private static Map<String, Class<?>> kinds() {
    LinkedHashMap<String, Class<?>> m = new LinkedHashMap<>();
    for (Class<?> c : Program.Op.class.getPermittedSubclasses()) m.put(kind(c), c);
    return m;
  }

  private static String kind(Class<?> c) {
    return c.getSimpleName().toLowerCase(Locale.ROOT);
  }

  /** The kind names, in the order Program declares them. */
  public static List<String> kindNames() {
    return List.copyOf(KINDS.keySet());
  }

  // ---- saving -----------------------------------------------------------------------------------

  /**
   * Writes {@code program} to {@code file} through a temporary file and a rename; a program that
   * fails {@link #check} is refused before anything is written.
   */
  public static void save(Path file, Program program) throws IOException {
    check(program);
    LinkedHashMap<String, String> meta = new LinkedHashMap<>();
    meta.put("format", FORMAT);
    meta.put("model", program.model());
    meta.put("channels", Integer.toString(program.channels()));
    meta.put("height", Integer.toString(program.height()));
    meta.put("width", Integer.toString(program.width()));
    meta.put("classes", Integer.toString(program.classes()));
    meta.put("ops", Integer.toString(program.ops().size()));
    LinkedHashMap<String, Safetensors.Stored> tensors = new LinkedHashMap<>();
    for (int i = 0; i < program.ops().size(); i++) {
      Program.Op op = program.ops().get(i);
      LinkedHashMap<String, Object> json = new LinkedHashMap<>();
      json.put("op", kind(op.getClass()));
      for (RecordComponent rc : op.getClass().getRecordComponents()) {
        Object v = get(rc, op);
        String name = tensorName(i, rc.getName());
        switch (v) {
          case byte[] b -> tensors.put(name, new Safetensors.I8(b, tensorShape(op, rc.getName(), b.length)));
          case int[] a -> tensors.put(name, new Safetensors.I32(a, tensorShape(op, rc.getName(), a.length)));
          default -> json.put(rc.getName(), toJson(v));
        }
      }
      meta.put("op." + i, Json.write(json));
    }
    Safetensors.writeTyped(file, tensors, meta);
  }

  private static String tensorName(int op, String field) {
    return "op." + op + "." + field;
  }

  /** A convolution's weight is outC×inC×k×k, a linear layer's outF×inF; every other array is flat. */
  private static int[] tensorShape(Program.Op op, String field, int length) {
    if (field.equals("weight")) {
      if (op instanceof Program.Conv c) return new int[] {c.shape().outC(), c.shape().inC(), c.shape().k(), c.shape().k()};
      if (op instanceof Program.Linear l) return new int[] {l.outF(), l.inF()};
    }
    return new int[] {length};
  }

  /** A nested record (a shape, a rescale) as a JSON object; ints, booleans and int arrays as they are. */
  private static Object toJson(Object v) {
    if (v instanceof Record r) {
      LinkedHashMap<String, Object> m = new LinkedHashMap<>();
      for (RecordComponent rc : r.getClass().getRecordComponents()) m.put(rc.getName(), toJson(get(rc, r)));
      return m;
    }
    return v;
  }

  private static Object get(RecordComponent rc, Object r) {
    try {
      return rc.getAccessor().invoke(r);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("reading " + rc, e);
    }
  }

  // ---- loading ----------------------------------------------------------------------------------

  /** Reads, validates and returns the program in {@code file}. */
  public static Program load(Path file) throws IOException {
    Safetensors.Header h = Safetensors.header(file);
    Map<String, String> meta = h.metadata();
    if (!FORMAT.equals(meta.get("format"))) {
      throw new IllegalArgumentException(file + ": not a lowbit integer program (metadata 'format' is "
          + (meta.get("format") == null ? "missing" : Safetensors.quote(meta.get("format"))) + ", expected '" + FORMAT
          + "')");
    }
    String model = meta.get("model");
    if (model == null || model.isBlank()) throw new IllegalArgumentException(file + ": metadata 'model' is missing");
    int channels = metaInt(file, meta, "channels", 1, 1 << 16);
    int height = metaInt(file, meta, "height", 1, 1 << 16);
    int width = metaInt(file, meta, "width", 1, 1 << 16);
    int classes = metaInt(file, meta, "classes", 1, 1 << 20);
    int count = metaInt(file, meta, "ops", 1, MAX_OPS);
    for (String key : meta.keySet()) {
      if (key.startsWith("op.") && !isOpKey(key, count)) {
        throw new IllegalArgumentException(file + ": unexpected metadata " + Safetensors.quote(key) + " (the program has "
            + count + " ops, op.0 to op." + (count - 1) + ")");
      }
    }
    Set<String> used = new HashSet<>();
    List<Program.Op> ops = new ArrayList<>(count);
    for (int i = 0; i < count; i++) ops.add(op(file, h, meta, i, used));
    for (String name : h.entries().keySet()) {
      if (!used.contains(name)) throw new IllegalArgumentException(file + ": unexpected tensor " + Safetensors.quote(name));
    }
    Program p;
    try {
      p = new Program(model, channels, height, width, classes, ops);
      check(p);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage());
    }
    return p;
  }

  private static boolean isOpKey(String key, int count) {
    String n = key.substring(3);
    if (!n.matches("0|[1-9][0-9]{0,8}")) return false;
    return Integer.parseInt(n) < count;
  }

  private static int metaInt(Path file, Map<String, String> meta, String key, int lo, int hi) {
    String s = meta.get(key);
    if (s == null) throw new IllegalArgumentException(file + ": metadata '" + key + "' is missing");
    try {
      int v = Integer.parseInt(s);
      if (v >= lo && v <= hi) return v;
    } catch (NumberFormatException e) {
      // the message below
    }
    throw new IllegalArgumentException(file + ": metadata '" + key + "' is " + Safetensors.quote(s) + ", expected an"
        + " integer in " + lo + ".." + hi);
  }

  /** Op {@code i} from its metadata object and its tensors; errors name the op and the field. */
  private static Program.Op op(Path file, Safetensors.Header h, Map<String, String> meta, int i, Set<String> used)
      throws IOException {
    String text = meta.get("op." + i);
    if (text == null) throw new IllegalArgumentException(file + ": op " + i + ": metadata 'op." + i + "' is missing");
    Object parsed;
    try {
      parsed = Json.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": op " + i + ": " + e.getMessage());
    }
    if (!(parsed instanceof Map<?, ?> json)) throw new IllegalArgumentException(file + ": op " + i + " is not a JSON object");
    if (!(json.get("op") instanceof String kind)) {
      throw new IllegalArgumentException(file + ": op " + i + ": missing field 'op' (the op's kind: "
          + String.join(", ", KINDS.keySet()) + ")");
    }
    Class<?> type = KINDS.get(kind);
    if (type == null) {
      throw new IllegalArgumentException(file + ": op " + i + ": unknown op " + Safetensors.quote(kind) + " (known: "
          + String.join(", ", KINDS.keySet()) + ")");
    }
    String where = file + ": op " + i + " (" + kind + ")";
    RecordComponent[] rcs = type.getRecordComponents();
    Set<String> fields = new HashSet<>();
    fields.add("op");
    Object[] args = new Object[rcs.length];
    for (int c = 0; c < rcs.length; c++) {
      RecordComponent rc = rcs[c];
      Class<?> t = rc.getType();
      if (t == byte[].class || t == int[].class) {
        String name = tensorName(i, rc.getName());
        if (!h.entries().containsKey(name)) {
          throw new IllegalArgumentException(where + ": missing tensor " + Safetensors.quote(name));
        }
        try {
          args[c] = t == byte[].class ? h.readI8(name) : h.readI32(name);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(where + ": " + e.getMessage().replace(file + ": ", ""));
        }
        used.add(name);
      } else {
        fields.add(rc.getName());
        args[c] = fromJson(where, rc.getName(), t, json.get(rc.getName()), json.containsKey(rc.getName()));
      }
    }
    for (Object k : json.keySet()) {
      if (!fields.contains(k)) throw new IllegalArgumentException(where + ": unknown field " + Safetensors.quote((String) k));
    }
    Program.Op op = (Program.Op) construct(where, type, rcs, args);
    for (int c = 0; c < rcs.length; c++) {
      int length = args[c] instanceof byte[] b ? b.length : args[c] instanceof int[] a ? a.length : -1;
      if (length < 0) continue;
      String name = tensorName(i, rcs[c].getName());
      int[] want = tensorShape(op, rcs[c].getName(), length);
      int[] got = h.entries().get(name).shape();
      if (!Arrays.equals(want, got)) {
        throw new IllegalArgumentException(where + ": tensor " + Safetensors.quote(name) + " has shape "
            + Arrays.toString(got) + ", the op's fields need " + Arrays.toString(want));
      }
    }
    return op;
  }

  /** One field's value from JSON: an int, a boolean, or a nested record (shape, rescale) of them. */
  private static Object fromJson(String where, String field, Class<?> type, Object v, boolean present) {
    if (!present) throw new IllegalArgumentException(where + ": missing field '" + field + "'");
    if (type == int.class) {
      if (!(v instanceof Long l) || l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(where + ": field '" + field + "' is " + show(v) + ", expected a 32-bit integer");
      }
      return (int) (long) l;
    }
    if (type == boolean.class) {
      if (!(v instanceof Boolean b)) {
        throw new IllegalArgumentException(where + ": field '" + field + "' is " + show(v) + ", expected true or false");
      }
      return b;
    }
    if (type == int[].class) { // inside a rescale
      if (!(v instanceof List<?> l)) {
        throw new IllegalArgumentException(where + ": field '" + field + "' is " + show(v) + ", expected an array of integers");
      }
      int[] a = new int[l.size()];
      for (int j = 0; j < a.length; j++) a[j] = (int) fromJson(where, field + "[" + j + "]", int.class, l.get(j), true);
      return a;
    }
    if (type.isRecord()) {
      if (!(v instanceof Map<?, ?> m)) {
        throw new IllegalArgumentException(where + ": field '" + field + "' is " + show(v) + ", expected an object");
      }
      RecordComponent[] rcs = type.getRecordComponents();
      Object[] args = new Object[rcs.length];
      Set<String> names = new HashSet<>();
      for (int c = 0; c < rcs.length; c++) {
        String name = rcs[c].getName();
        names.add(name);
        args[c] = fromJson(where, field + "." + name, rcs[c].getType(), m.get(name), m.containsKey(name));
      }
      for (Object k : m.keySet()) {
        if (!names.contains(k)) {
          throw new IllegalArgumentException(where + ": unknown field " + Safetensors.quote(field + "." + k));
        }
      }
      return construct(where + ": field '" + field + "'", type, rcs, args);
    }
    throw new IllegalStateException("no JSON form for " + type + " (field " + field + ")");
  }

  private static String show(Object v) {
    if (v == null) return "null";
    String s = v instanceof String str ? "\"" + str + "\"" : Json.write(v);
    return Json.clip(s, 40);
  }

  /** The record's canonical constructor on {@code args}; its refusal becomes one line under {@code where}. */
  private static Object construct(String where, Class<?> type, RecordComponent[] rcs, Object[] args) {
    try {
      Class<?>[] types = Arrays.stream(rcs).map(RecordComponent::getType).toArray(Class<?>[]::new);
      Constructor<?> ctor = type.getDeclaredConstructor(types);
      return ctor.newInstance(args);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof IllegalArgumentException iae) {
        throw new IllegalArgumentException(where + ": " + iae.getMessage());
      }
      throw new IllegalStateException("constructing " + type.getSimpleName(), e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("constructing " + type.getSimpleName(), e);
    }
  }

  // ---- the program as a whole -------------------------------------------------------------------

  /**
   * Checks that {@code p} is a program the executor can run: each op writes a new value (not 0, the
   * input), reads only the input or values written before it, with the element counts per sample
   * its fields say (a convolution's input inC·inH·inW, an addition's two operands alike, ...);
   * arrays have the lengths their op needs, clamps have lo ≤ hi, and the last op is an argmax over
   * the program's classes. A defect is an IllegalArgumentException naming the op and field.
   */
  public static void check(Program p) {
    int n = p.ops().size();
    if (n == 0) throw new IllegalArgumentException("the program has no ops");
    Map<Integer, Long> size = new HashMap<>(); // elements per sample of each value written so far
    size.put(Program.INPUT, (long) p.channels() * p.height() * p.width());
    for (int i = 0; i < n; i++) {
      Program.Op op = p.ops().get(i);
      String where = "op " + i + " (" + kind(op.getClass()) + ")";
      for (int v : op.inputs()) {
        if (!size.containsKey(v)) throw new IllegalArgumentException(where + ": reads value " + v + ", which no earlier op writes");
      }
      if (op.out() < 1) throw new IllegalArgumentException(where + ": field 'out' is " + op.out() + ", expected > 0 (0 is the input)");
      if (size.containsKey(op.out())) throw new IllegalArgumentException(where + ": field 'out': value " + op.out() + " is written twice");
      long out = outSize(where, op, size::get);
      if (out <= 0 || out > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(where + ": its output has " + out + " elements per sample, expected 1.."
            + Integer.MAX_VALUE);
      }
      size.put(op.out(), out);
    }
    if (!(p.ops().get(n - 1) instanceof Program.Argmax a) || a.classes() != p.classes()) {
      throw new IllegalArgumentException("op " + (n - 1) + " (" + kind(p.ops().get(n - 1).getClass())
          + "): the last op must be an argmax over the program's " + p.classes() + " classes");
    }
  }

  /** The op's output elements per sample, after checking its inputs' sizes and its arrays' lengths. */
  private static long outSize(String where, Program.Op op, java.util.function.IntFunction<Long> size) {
    return switch (op) {
      case Program.Conv c -> {
        Program.ConvShape s = c.shape();
        need(where, "in", size.apply(c.in()), (long) s.inC() * s.inH() * s.inW());
        if (s.inH() + 2 * s.pad() < s.k() || s.inW() + 2 * s.pad() < s.k()) {
          throw new IllegalArgumentException(where + ": field 'shape': kernel " + s.k() + " is larger than the padded input");
        }
        length(where, "weight", c.weight().length, (long) s.outC() * s.inC() * s.k() * s.k());
        length(where, "bias", c.bias().length, s.outC());
        yield (long) s.outC() * s.outH() * s.outW();
      }
      case Program.Linear l -> {
        positive(where, "rows", l.rows());
        positive(where, "inF", l.inF());
        positive(where, "outF", l.outF());
        need(where, "in", size.apply(l.in()), (long) l.rows() * l.inF());
        length(where, "weight", l.weight().length, (long) l.outF() * l.inF());
        length(where, "bias", l.bias().length, l.outF());
        yield (long) l.rows() * l.outF();
      }
      case Program.Requant r -> {
        clamp(where, r.lo(), r.hi());
        yield size.apply(r.in());
      }
      case Program.Add a -> {
        clamp(where, a.lo(), a.hi());
        need(where, "b", size.apply(a.b()), size.apply(a.a()));
        yield size.apply(a.a());
      }
      case Program.Const c -> c.values().length;
      case Program.MaxPool m -> {
        positive(where, "c", m.c());
        positive(where, "h", m.h());
        positive(where, "w", m.w());
        positive(where, "k", m.k());
        positive(where, "stride", m.stride());
        if (m.k() > m.h() || m.k() > m.w()) {
          throw new IllegalArgumentException(where + ": field 'k': window " + m.k() + " is larger than " + m.h() + "×" + m.w());
        }
        need(where, "in", size.apply(m.in()), (long) m.c() * m.h() * m.w());
        yield (long) m.c() * ((m.h() - m.k()) / m.stride() + 1) * ((m.w() - m.k()) / m.stride() + 1);
      }
      case Program.Sum s -> {
        positive(where, "outer", s.outer());
        positive(where, "count", s.count());
        positive(where, "inner", s.inner());
        need(where, "in", size.apply(s.in()), (long) s.outer() * s.count() * s.inner());
        yield (long) s.outer() * s.inner();
      }
      case Program.Transpose t -> {
        positive(where, "rows", t.rows());
        positive(where, "cols", t.cols());
        need(where, "in", size.apply(t.in()), (long) t.rows() * t.cols());
        yield size.apply(t.in());
      }
      case Program.LayerNorm l -> {
        positive(where, "rows", l.rows());
        positive(where, "dim", l.dim());
        need(where, "in", size.apply(l.in()), (long) l.rows() * l.dim());
        length(where, "bias", l.bias().length, l.dim());
        yield size.apply(l.in());
      }
      case Program.Scores s -> {
        positive(where, "tokens", s.tokens());
        positive(where, "heads", s.heads());
        positive(where, "headDim", s.headDim());
        long qk = (long) s.tokens() * s.heads() * s.headDim();
        need(where, "q", size.apply(s.q()), qk);
        need(where, "k", size.apply(s.k()), qk);
        yield (long) s.heads() * s.tokens() * s.tokens();
      }
      case Program.Context c -> {
        positive(where, "tokens", c.tokens());
        positive(where, "heads", c.heads());
        positive(where, "headDim", c.headDim());
        need(where, "p", size.apply(c.p()), (long) c.heads() * c.tokens() * c.tokens());
        need(where, "v", size.apply(c.v()), (long) c.tokens() * c.heads() * c.headDim());
        yield (long) c.tokens() * c.heads() * c.headDim();
      }
      case Program.Shiftmax s -> shifted(where, size.apply(s.in()), s.rows(), s.cols(), s.x0(), s.n(), s.kOut());
      case Program.ShiftGelu g -> shifted(where, size.apply(g.in()), g.rows(), g.cols(), g.x0(), g.n(), g.kOut());
      case Program.Argmax a -> {
        positive(where, "classes", a.classes());
        need(where, "in", size.apply(a.in()), a.classes());
        yield 1;
      }
    };
  }

  private static void need(String where, String field, long got, long want) {
    if (got != want) {
      throw new IllegalArgumentException(where + ": field '" + field + "' names a value of " + got
          + " elements per sample, the op's fields need " + want);
    }
  }

  private static void length(String where, String field, int got, long want) {
    if (got != want) {
      throw new IllegalArgumentException(where + ": field '" + field + "' has " + got + " entries, the op's fields need "
          + want);
    }
  }

  private static void positive(String where, String field, int v) {
    if (v <= 0) throw new IllegalArgumentException(where + ": field '" + field + "' is " + v + ", expected > 0");
  }

  private static void clamp(String where, int lo, int hi) {
    if (lo > hi) throw new IllegalArgumentException(where + ": field 'lo' (" + lo + ") is above field 'hi' (" + hi + ")");
  }

  /**
   * Shiftmax's and ShiftGELU's fields: rows of cols over an input of {@code in} elements, x0 &lt; 0
   * (−1/S), n of headroom bits, kOut output bits; the output has the input's size.
   */
  private static long shifted(String where, long in, int rows, int cols, int x0, int n, int kOut) {
    positive(where, "rows", rows);
    positive(where, "cols", cols);
    if (x0 >= 0) throw new IllegalArgumentException(where + ": field 'x0' is " + x0 + ", expected a negative integer");
    if (n < 0 || n > 62) throw new IllegalArgumentException(where + ": field 'n' is " + n + ", expected 0..62");
    if (kOut < 1 || kOut > 31) throw new IllegalArgumentException(where + ": field 'kOut' is " + kOut + ", expected 1..31");
    need(where, "in", in, (long) rows * cols);
    return in;
  }
}
