package dev.lowbit.codegen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes the generated regions of the main sources: the register-tiled micro-kernels of {@code
 * VectorGemm} (one template, instantiated per epilogue family and vector width) and the
 * constant-species copies of {@code FastQuantize}'s kernels (derived from the species-parameter
 * methods of the same file). Each region stands between a {@code // <generated: ...>} line and a
 * {@code // </generated>} line; everything outside the regions is left as it is.
 *
 * <p>The copies exist because C2 intrinsifies Vector API calls only when the species is a
 * compile-time constant: every copy names its species as a {@code static final} field, and each
 * holds the same operations in the same order. See {@code docs/kernels.md}.
 *
 * <p>Run from the repository root (no build needed, the JDK's source launcher compiles it):
 * <pre>java lowbit-core/src/test/java/dev/lowbit/codegen/GenerateKernels.java</pre>
 * {@code GeneratedKernelsTest} fails when a committed region differs from what this writes.
 */
public final class GenerateKernels {

  /** The command that regenerates the regions, as printed in the markers and by the check. */
  public static final String COMMAND =
      "java lowbit-core/src/test/java/dev/lowbit/codegen/GenerateKernels.java";

  static final String GEMM = "src/main/java/dev/lowbit/kernel/VectorGemm.java";
  static final String QUANTIZE = "src/main/java/dev/lowbit/format/FastQuantize.java";
  static final String LMUL = "src/main/java/dev/lowbit/kernel/LMulGemm.java";

  private GenerateKernels() {}

  public static void main(String[] args) throws IOException {
    Path module = args.length > 0 ? Path.of(args[0])
        : Files.isDirectory(Path.of("lowbit-core")) ? Path.of("lowbit-core") : Path.of("");
    for (Map.Entry<String, String> e : generate(module).entrySet()) {
      Path file = module.resolve(e.getKey());
      String old = Files.readString(file, StandardCharsets.UTF_8);
      if (old.equals(e.getValue())) {
        System.out.println("unchanged " + file);
      } else {
        Files.writeString(file, e.getValue(), StandardCharsets.UTF_8);
        System.out.println("wrote     " + file);
      }
    }
  }

  /** Each generated file (relative to the lowbit-core module) with its regions regenerated. */
  public static Map<String, String> generate(Path module) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    out.put(GEMM, replaceRegion(read(module, GEMM), "VectorGemm micro-kernels", t -> {
      checkTileShape(t);
      return gemmKernels();
    }));
    out.put(QUANTIZE, replaceRegion(read(module, QUANTIZE), "FastQuantize preferred-species kernels",
        GenerateKernels::quantizeCopies));
    out.put(LMUL, replaceRegion(read(module, LMUL), "LMulGemm micro-kernels", t -> {
      checkLMulTileShape(t);
      return lmulKernels();
    }));
    return out;
  }

  private static String read(Path module, String file) throws IOException {
    return Files.readString(module.resolve(file), StandardCharsets.UTF_8);
  }

  /**
   * Replaces the one region of {@code text} by its markers around {@code body(text outside)}; the
   * body sees the file without the old region, so a region derived from the file cannot feed on
   * itself.
   */
  static String replaceRegion(String text, String what, UnaryOperator<String> body) {
    int open = text.indexOf("// <generated:");
    int close = text.indexOf("// </generated>");
    if (open < 0 || close < open || text.indexOf("// <generated:", open + 1) >= 0) {
      throw new IllegalStateException(what + ": expected one '// <generated: ...>' ... '// </generated>' region");
    }
    int start = text.lastIndexOf('\n', open) + 1;
    int end = text.indexOf('\n', close) + 1;
    String indent = text.substring(start, open);
    String outside = text.substring(0, start) + text.substring(end);
    return text.substring(0, start)
        + indent + "// <generated: " + what + "; do not edit, run " + COMMAND + ">\n"
        + body.apply(outside)
        + indent + "// </generated>\n"
        + text.substring(end);
  }

  // ================================================================ VectorGemm micro-kernels

  /** Rows of the register tile (VectorGemm.MR) and vectors per row (VectorGemm's nr / lanes). */
  static final int ROWS = 8;
  static final int VECTORS = 2;
  static final int[] WIDTHS = {512, 256, 128};

  /**
   * One epilogue family of the micro-kernel: the lane type the products are summed in and how
   * the tile is written to C. In the store templates {@code $c} is an accumulator, {@code $o}
   * its offset in C and {@code $W} the vector width in bits.
   */
  record Family(
      String name, String vector, String element, String species, String cParams, String dispatchParams,
      String args, List<String> comment, boolean loopComment, String firstStore, String prelude,
      String store, String accumulate) {}

  static final List<Family> FAMILIES = List.of(
      new Family("F", "FloatVector", "float", "F",
          "float[] c, int cOff, int ldc, float alpha, float beta",
          "int kc, float[] ap, int ai, float[] bp, int bi,\n      float[] c, int cOff, int ldc, float alpha, float beta",
          "kc, ap, ai, bp, bi, c, cOff, ldc, alpha, beta",
          List.of(
              "Generated shape: MR=8 rows x 2 vectors; 16 accumulators + 2 B vectors + 1 broadcast fit",
              "the 32 vector registers of AVX-512. Everything stays in this one method so C2 keeps the",
              "vectors in registers (a vector handed to a non-inlined helper is boxed)."),
          true, "beta == 0f", "FloatVector bv = FloatVector.broadcast(s, beta);",
          "$c.mul(alpha).intoArray(c, $o);",
          "FloatVector.fromArray(s, c, $o).fma(bv, $c.mul(alpha)).intoArray(c, $o);"),
      new Family("I", "FloatVector", "float", "F",
          "int[] ci, int cOff, int ldc, boolean add",
          "int kc, float[] ap, int ai, float[] bp, int bi, int[] c, int cOff, int ldc, boolean add",
          "kc, ap, ai, bp, bi, c, cOff, ldc, add",
          List.of("As kernelF; int8 operands packed as floats: the chunk sums are exact integers."),
          true, "!add", null,
          "((IntVector) $c.convert(VectorOperators.F2I, 0)).intoArray(ci, $o);",
          "IntVector.fromArray(I$W, ci, $o).add($c.convert(VectorOperators.F2I, 0)).intoArray(ci, $o);"),
      new Family("D", "DoubleVector", "double", "D",
          "double[] c, int cOff, int ldc, boolean add",
          "int kc, double[] ap, int ai, double[] bp, int bi, double[] c, int cOff, int ldc, boolean add",
          "kc, ap, ai, bp, bi, c, cOff, ldc, add",
          List.of("Same register tile as kernelF in doubles: int16 products (|x| <= 2^30) summed exactly."),
          false, "!add", null,
          "$c.intoArray(c, $o);",
          "DoubleVector.fromArray(s, c, $o).add($c).intoArray(c, $o);"));

  /** The packing code outside the region must lay out panels for the tile the kernels compute. */
  static void checkTileShape(String gemm) {
    for (String decl : List.of("static final int MR = " + ROWS + ";",
        "this.nrF = " + VECTORS + " * (b / 32);", "this.nrD = " + VECTORS + " * (b / 64);")) {
      if (!gemm.contains(decl)) {
        throw new IllegalStateException("VectorGemm: expected '" + decl + "' to match the generated "
            + ROWS + " x " + VECTORS + "-vector tile");
      }
    }
  }

  static String gemmKernels() {
    StringBuilder b = new StringBuilder();
    for (Family f : FAMILIES) dispatch(b, f);
    for (Family f : FAMILIES) {
      for (int w : WIDTHS) kernel(b, f, w);
    }
    return b.toString();
  }

  /** The instance method that picks the kernel of this generator's width. */
  private static void dispatch(StringBuilder b, Family f) {
    b.append("  private void kernel").append(f.name()).append("(\n");
    b.append("      ").append(f.dispatchParams()).append(") {\n");
    b.append("    switch (bits) {\n");
    for (int i = 0; i < WIDTHS.length; i++) {
      String label = i < WIDTHS.length - 1 ? "case " + WIDTHS[i] : "default";
      b.append("      ").append(label).append(" -> kernel").append(f.name()).append(WIDTHS[i])
          .append('(').append(f.args()).append(");\n");
    }
    b.append("    }\n");
    b.append("  }\n\n");
  }

  private static String acc(int r, int v) {
    return "c" + r + v;
  }

  private static String plusLanes(String base, int v) {
    return v == 0 ? base : v == 1 ? base + " + l" : base + " + " + v + " * l";
  }

  /** One micro-kernel: ROWS x VECTORS accumulators over the packed panels, then the epilogue. */
  private static void kernel(StringBuilder b, Family f, int w) {
    String v = f.vector();
    for (String line : f.comment()) b.append("  // ").append(line).append('\n');
    b.append("  private static void kernel").append(f.name()).append(w).append("(\n");
    b.append("      int kc, ").append(f.element()).append("[] ap, int ai, ")
        .append(f.element()).append("[] bp, int bi,\n");
    b.append("      ").append(f.cParams()).append(") {\n");
    b.append("    final VectorSpecies<").append(f.element().equals("float") ? "Float" : "Double")
        .append("> s = ").append(f.species()).append(w).append(";\n");
    b.append("    final int l = s.length();\n");
    for (int r = 0; r < ROWS; r++) {
      List<String> zeros = new ArrayList<>();
      for (int j = 0; j < VECTORS; j++) zeros.add(acc(r, j) + " = " + v + ".zero(s)");
      b.append("    ").append(v).append(' ').append(String.join(", ", zeros)).append(";\n");
    }
    b.append("    for (int p = 0; p < kc; p++) {\n");
    if (f.loopComment()) {
      b.append("      // indices linear in p let C2 hoist the bounds checks out of the loop\n");
    }
    b.append("      final int pa = ai + p * MR;\n");
    b.append("      final int pb = bi + p * ").append(VECTORS).append(" * l;\n");
    for (int j = 0; j < VECTORS; j++) {
      b.append("      ").append(v).append(" b").append(j).append(" = ").append(v)
          .append(".fromArray(s, bp, ").append(plusLanes("pb", j)).append(");\n");
    }
    b.append("      ").append(v).append(" a;\n");
    for (int r = 0; r < ROWS; r++) {
      b.append("      a = ").append(v).append(".broadcast(s, ap[pa + ").append(r).append("]);\n");
      for (int j = 0; j < VECTORS; j++) {
        b.append("      ").append(acc(r, j)).append(" = a.fma(b").append(j).append(", ")
            .append(acc(r, j)).append(");\n");
      }
    }
    b.append("    }\n");
    b.append("    int o0;\n");
    b.append("    if (").append(f.firstStore()).append(") {\n");
    epilogue(b, f.store(), w);
    b.append("    } else {\n");
    if (f.prelude() != null) b.append("      ").append(f.prelude()).append('\n');
    epilogue(b, f.accumulate(), w);
    b.append("    }\n");
    b.append("  }\n\n");
  }

  private static void epilogue(StringBuilder b, String store, int w) {
    for (int r = 0; r < ROWS; r++) {
      b.append("      o0 = cOff + ").append(r).append(" * ldc;\n");
      for (int j = 0; j < VECTORS; j++) {
        b.append("      ").append(store.replace("$c", acc(r, j)).replace("$o", plusLanes("o0", j))
            .replace("$W", Integer.toString(w))).append('\n');
      }
    }
  }

  // ================================================================ LMulGemm micro-kernels

  /**
   * Vectors per row of the L-Mul tile at each width: 3 at 512 bits (24 accumulators + 3 B vectors
   * + 1 broadcast + 1 product of 32 registers; the broadcast of A serves three vectors), 2 below,
   * where AVX2 has 16 registers.
   */
  static int lmulVectors(int w) {
    return w == 512 ? 3 : VECTORS;
  }

  /** The packing of LMulGemm must lay out panels for the ROWS x lmulVectors(w) tiles generated here. */
  static void checkLMulTileShape(String lmul) {
    for (String decl : List.of("static final int MR = " + ROWS + ";",
        "return vectorBits == 512 ? " + lmulVectors(512) + " : " + lmulVectors(256) + ";")) {
      if (!lmul.contains(decl) || lmulVectors(256) != lmulVectors(128)) {
        throw new IllegalStateException("LMulGemm: expected '" + decl + "' to match the generated "
            + ROWS + " x " + lmulVectors(512) + "-vector (512-bit) and " + ROWS + " x " + lmulVectors(256)
            + "-vector tiles");
      }
    }
  }

  private static final String LMUL_LEAN_PARAMS =
      "int p0, int p1, int[] ap, int ai, int[] bp, int bi,\n"
          + "      float[] src, int sOff, int lds, float[] c, int cOff, int ldc";
  private static final String LMUL_LEAN_ARGS = "p0, p1, ap, ai, bp, bi, src, sOff, lds, c, cOff, ldc";
  private static final String LMUL_GUARDED_PARAMS =
      "int p0, int p1, int offset, int[] ap, int ai, int[] bp, int bi, int[] bHi, int bs,\n"
          + "      float[] src, int sOff, int lds, float[] c, int cOff, int ldc, int[] lanes";
  private static final String LMUL_GUARDED_ARGS =
      "p0, p1, offset, ap, ai, bp, bi, bHi, bs, src, sOff, lds, c, cOff, ldc, lanes";

  /**
   * The guarded lanes, one accumulator at a time ($W is the width): guards as masks for a normal A
   * operand, the scalar function for an inf or NaN one, nothing for a zero product.
   */
  private static final String LMUL_GUARDED = """
        // Generated: the guarded steps, one accumulator (row r, vector v) at a time along p; the
        // masks follow LMul.lmulBits for a normal A operand, an inf or NaN one takes the scalar
        // function lane by lane, and a zero A operand with finite B adds a zero, which is skipped.
        private static void kernelGuarded$W(
            $PARAMS) {
          final VectorSpecies<Integer> s = I$W;
          final VectorSpecies<Float> f = F$W;
          final int l = s.length();
          for (int v = 0; v < $V; v++) {
            for (int r = 0; r < MR; r++) {
              FloatVector acc = FloatVector.fromArray(f, src, sOff + r * lds + v * l);
              for (int p = p0; p < p1; p++) {
                int ab = ap[ai + p * MR + r] + offset;
                int am = ab & 0x7FFFFFFF;
                if (am < 0x00800000 && bHi[bs + p] < 0x7F800000) continue;
                int pb = bi + p * $V * l + v * l;
                IntVector prod;
                if (am >= 0x00800000 && am < 0x7F800000) {
                  IntVector by = IntVector.fromArray(s, bp, pb);
                  IntVector bm = by.and(0x7FFFFFFF);
                  IntVector sign = by.and(0x80000000).lanewise(VectorOperators.XOR, ab & 0x80000000);
                  IntVector mag = bm.add(am - offset);
                  VectorMask<Integer> inf = mag.compare(VectorOperators.GE, 0x7F800000)
                      .or(mag.compare(VectorOperators.LT, WRAP)).or(bm.compare(VectorOperators.EQ, 0x7F800000));
                  VectorMask<Integer> zero = mag.compare(VectorOperators.LT, 0x00800000)
                      .and(mag.compare(VectorOperators.GE, WRAP)).or(bm.compare(VectorOperators.LT, 0x00800000));
                  prod = sign.or(mag).blend(sign.or(0x7F800000), inf).blend(sign, zero)
                      .blend(0x7FC00000, bm.compare(VectorOperators.GT, 0x7F800000));
                } else {
                  for (int j = 0; j < l; j++) lanes[j] = LMul.lmulBits(ab, bp[pb + j], offset);
                  prod = IntVector.fromArray(s, lanes, 0);
                }
                acc = acc.add(prod.reinterpretAsFloats());
              }
              acc.intoArray(c, cOff + r * ldc + v * l);
            }
          }
        }

      """;

  static String lmulKernels() {
    StringBuilder b = new StringBuilder();
    lmulDispatch(b, "kernelLean", LMUL_LEAN_PARAMS, LMUL_LEAN_ARGS);
    lmulDispatch(b, "kernelGuarded", LMUL_GUARDED_PARAMS, LMUL_GUARDED_ARGS);
    for (int w : WIDTHS) lmulLean(b, w);
    for (int w : WIDTHS) {
      b.append(LMUL_GUARDED.replace("$PARAMS", LMUL_GUARDED_PARAMS).replace("$W", Integer.toString(w))
          .replace("$V", Integer.toString(lmulVectors(w))));
    }
    return b.toString();
  }

  private static void lmulDispatch(StringBuilder b, String name, String params, String args) {
    b.append("  private void ").append(name).append("(\n");
    b.append("      ").append(params).append(") {\n");
    b.append("    switch (bits) {\n");
    for (int i = 0; i < WIDTHS.length; i++) {
      String label = i < WIDTHS.length - 1 ? "case " + WIDTHS[i] : "default";
      b.append("      ").append(label).append(" -> ").append(name).append(WIDTHS[i])
          .append('(').append(args).append(");\n");
    }
    b.append("    }\n");
    b.append("  }\n\n");
  }

  /**
   * The lean micro-kernel: ROWS x VECTORS fp32 sums in registers; each product is the packed A
   * pattern (minus OFFSET) broadcast and added to the B pattern as ints, then added as a float.
   */
  private static void lmulLean(StringBuilder b, int w) {
    int nv = lmulVectors(w);
    b.append("  // Generated: MR=").append(ROWS).append(" rows x ").append(nv)
        .append(" vectors of fp32 sums; a product is one int add of bit patterns (lean steps only).\n");
    b.append("  private static void kernelLean").append(w).append("(\n");
    b.append("      ").append(LMUL_LEAN_PARAMS).append(") {\n");
    b.append("    final VectorSpecies<Integer> s = I").append(w).append(";\n");
    b.append("    final VectorSpecies<Float> f = F").append(w).append(";\n");
    b.append("    final int l = s.length();\n");
    for (int r = 0; r < ROWS; r++) {
      List<String> loads = new ArrayList<>();
      for (int j = 0; j < nv; j++) {
        loads.add(acc(r, j) + " = FloatVector.fromArray(f, src, " + plusLanes("sOff + " + r + " * lds", j) + ")");
      }
      b.append("    FloatVector ").append(String.join(", ", loads)).append(";\n");
    }
    b.append("    for (int p = p0; p < p1; p++) {\n");
    b.append("      final int pa = ai + p * MR;\n");
    b.append("      final int pb = bi + p * ").append(nv).append(" * l;\n");
    for (int j = 0; j < nv; j++) {
      b.append("      IntVector b").append(j).append(" = IntVector.fromArray(s, bp, ")
          .append(plusLanes("pb", j)).append(");\n");
    }
    b.append("      IntVector a;\n");
    for (int r = 0; r < ROWS; r++) {
      b.append("      a = IntVector.broadcast(s, ap[pa + ").append(r).append("]);\n");
      for (int j = 0; j < nv; j++) {
        b.append("      ").append(acc(r, j)).append(" = ").append(acc(r, j)).append(".add(b").append(j)
            .append(".add(a).reinterpretAsFloats());\n");
      }
    }
    b.append("    }\n");
    for (int r = 0; r < ROWS; r++) {
      for (int j = 0; j < nv; j++) {
        b.append("    ").append(acc(r, j)).append(".intoArray(c, ")
            .append(plusLanes("cOff + " + r + " * ldc", j)).append(");\n");
      }
    }
    b.append("  }\n\n");
  }

  // ================================================================ FastQuantize constant-species copies

  /** The species-parameter kernels of FastQuantize that get a copy on the constant species P. */
  static final List<String> QUANTIZE_KERNELS =
      List.of("amax", "absBits", "intKernel", "floatKernel", "mxKernel");
  /** How each template's parameter list ends (floatKernel has an overload that is not a template). */
  static final List<String> QUANTIZE_LAST_PARAMS =
      List.of("int len", "int i", "long hi", "MiniConsts k", "MiniConsts k");

  /**
   * The copies: each template method {@code name(VectorSpecies<Float> s, ...)} becomes {@code
   * nameP(...)} on the species {@code P}, with its leading {@code if (s == P)} hand-off to the
   * copy removed, and calls among the templates redirected to their copies. Public templates give
   * private copies. Only code is rewritten; comments are kept as they are.
   */
  static String quantizeCopies(String file) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < QUANTIZE_KERNELS.size(); i++) {
      String name = QUANTIZE_KERNELS.get(i);
      b.append(copyOnP(templateMethod(file, name, QUANTIZE_LAST_PARAMS.get(i)), name)).append('\n');
    }
    return b.substring(0, b.length() - 1);
  }

  /**
   * The text of the one method {@code name(VectorSpecies<Float> s, ... lastParam)}, from its
   * declaration (not its doc comment) to its closing brace.
   */
  static String templateMethod(String file, String name, String lastParam) {
    Pattern head = Pattern.compile("(?m)^  [a-z ]*static \\w+ " + Pattern.quote(name)
        + "\\(VectorSpecies<Float> s, [^)]*" + Pattern.quote(lastParam) + "\\) \\{$");
    Matcher m = head.matcher(file);
    String what = "FastQuantize: template " + name + "(VectorSpecies<Float> s, ..., " + lastParam + ")";
    if (!m.find()) throw new IllegalStateException(what + " not found");
    int start = m.start();
    if (m.find()) throw new IllegalStateException(what + " found twice");
    int end = file.indexOf("\n  }\n", start);
    return file.substring(start, end + "\n  }\n".length());
  }

  private static final Pattern SPECIES = Pattern.compile("\\bs\\b");

  static String copyOnP(String method, String name) {
    String[] lines = method.split("\n", -1);
    StringBuilder b = new StringBuilder();
    int skipDepth = -1;
    boolean first = true;
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (skipDepth < 0 && line.trim().equals("if (s == P) {")) {
        skipDepth = 1;
        continue;
      }
      if (skipDepth > 0) {
        skipDepth += count(line, '{') - count(line, '}');
        if (skipDepth == 0) skipDepth = -2; // the hand-off is gone; nothing more to skip
        continue;
      }
      if (first) {
        line = line.replace("public static", "private static")
            .replace(" " + name + "(VectorSpecies<Float> s, ", " " + name + "P(");
        first = false;
      } else {
        line = rewriteCode(line);
      }
      b.append(line);
      if (i < lines.length - 1) b.append('\n');
    }
    return b.toString();
  }

  /** Calls among the templates go to their copies; the species parameter becomes P (code only, not comments). */
  private static String rewriteCode(String line) {
    int comment = line.indexOf("//");
    String code = comment < 0 ? line : line.substring(0, comment);
    String rest = comment < 0 ? "" : line.substring(comment);
    for (String k : QUANTIZE_KERNELS) {
      code = code.replaceAll("\\b" + Pattern.quote(k) + "\\(s, ", Matcher.quoteReplacement(k + "P("));
    }
    code = SPECIES.matcher(code).replaceAll("P");
    return code + rest;
  }

  private static int count(String s, char c) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) if (s.charAt(i) == c) n++;
    return n;
  }
}
