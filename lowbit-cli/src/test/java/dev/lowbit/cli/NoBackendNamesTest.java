package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * lowbit-core and lowbit-nn hold no backend names in their code: a backend registers its kernels
 * ({@code GemmBackend}) and its settings ({@code SettingsProvider}) itself, and engines name the
 * backend they run on by asking it. Comments may mention one; string literals may not.
 */
class NoBackendNamesTest {

  private static final Pattern LITERAL = Pattern.compile("\"(?:[^\"\\\\\\n]|\\\\.)*\"");
  private static final Pattern BACKEND = Pattern.compile("(?i)onednn|dnnl|mkldnn");

  /** String literals naming a backend, as "file:line: literal", outside comments. */
  static List<String> backendLiterals(Path root) throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
        List<String> lines = Files.readAllLines(f);
        boolean inComment = false;
        for (int i = 0; i < lines.size(); i++) {
          String code = lines.get(i);
          if (inComment) {
            int end = code.indexOf("*/");
            if (end < 0) continue;
            code = code.substring(end + 2);
            inComment = false;
          }
          for (int open = code.indexOf("/*"); open >= 0; open = code.indexOf("/*")) {
            int end = code.indexOf("*/", open + 2);
            if (end < 0) {
              code = code.substring(0, open);
              inComment = true;
              break;
            }
            code = code.substring(0, open) + code.substring(end + 2);
          }
          int line = code.indexOf("//");
          Matcher m = LITERAL.matcher(code);
          while (m.find()) {
            if (line >= 0 && m.start() > line) break;
            if (BACKEND.matcher(m.group()).find()) out.add(root.relativize(f) + ":" + (i + 1) + ": " + m.group());
          }
        }
      }
    }
    return out;
  }

  @Test
  void coreAndNnNameNoBackend() throws IOException {
    for (String module : new String[] {"lowbit-core", "lowbit-nn"}) {
      Path src = Path.of("..", module, "src", "main", "java");
      assertTrue(Files.isDirectory(src), src.toString());
      assertEquals(List.of(), backendLiterals(src), module + " names a backend in its code");
    }
  }

  @Test
  void theScanFindsALiteralAndSkipsComments(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("A.java"), """
        /** uses "onednn" in a comment */
        class A {
          // "oneDNN" here too
          /* and "dnnl"
             over "lines" */
          String b = "java";
          String n = "onednn"; // named
        }
        """);
    assertEquals(List.of("A.java:7: \"onednn\""), backendLiterals(dir));
  }
}
