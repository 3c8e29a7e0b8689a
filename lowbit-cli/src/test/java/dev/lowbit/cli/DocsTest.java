package dev.lowbit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The user's documentation stays true: the Java example in README.md compiles against the
 * library and runs, and every relative link in README.md, BENCHMARKS.md and docs/ points to a
 * file that exists (and, with a #fragment, to one of its headings).
 */
class DocsTest {

  /**
   * Pages the index links to that other branches of issue 16 add (the settings table, the kernel
   * generator, the function roles); remove this once they are merged.
   */
  /** The repository root: the nearest directory above the working directory holding README.md and docs/. */
  static Path root() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !(Files.isRegularFile(p.resolve("README.md")) && Files.isDirectory(p.resolve("docs")))) {
      p = p.getParent();
    }
    if (p == null) throw new IllegalStateException("no README.md with docs/ above " + Path.of("").toAbsolutePath());
    return p;
  }

  /** The single ```java block of a Markdown text. */
  static String javaBlock(String markdown) {
    Matcher m = Pattern.compile("(?ms)^```java\\s*\\n(.*?)^```").matcher(markdown);
    assertTrue(m.find(), "README.md has no ```java block");
    String code = m.group(1);
    assertTrue(!m.find(), "README.md has more than one ```java block");
    return code;
  }

  @Test
  void readmeJavaExampleCompilesAndRuns(@TempDir Path dir) throws Exception {
    String code = javaBlock(Files.readString(root().resolve("README.md")));
    Matcher cls = Pattern.compile("public class (\\w+)").matcher(code);
    assertTrue(cls.find(), "the example declares no public class");
    String name = cls.group(1);
    Path src = dir.resolve(name + ".java");
    Files.writeString(src, code);

    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
    int rc = javac.run(null, diagnostics, diagnostics, "-d", dir.toString(),
        "-cp", System.getProperty("java.class.path"), "--add-modules", "jdk.incubator.vector",
        "-proc:none", src.toString());
    assertEquals(0, rc, "the README's Java example does not compile:\n" + diagnostics.toString(StandardCharsets.UTF_8));

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream saved = System.out;
    try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
      Method main = loader.loadClass(name).getMethod("main", String[].class);
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      main.invoke(null, (Object) new String[0]);
    } finally {
      System.setOut(saved);
    }
    String printed = out.toString(StandardCharsets.UTF_8);
    assertTrue(printed.contains("int8 preset, fc1 weight: int8"), printed);
    Matcher mx = Pattern.compile("mxfp8: worst relative error (\\d+\\.\\d+)").matcher(printed);
    assertTrue(mx.find(), printed);
    // E4M3 keeps 3 mantissa bits: a normal element is within 2^-4 of its value
    assertTrue(Double.parseDouble(mx.group(1)) <= 0.0625 + 1e-4, printed);
    Matcher loss = Pattern.compile("mlp: loss (\\d+\\.\\d+) -> (\\d+\\.\\d+) after 20 steps").matcher(printed);
    assertTrue(loss.find(), printed);
    assertTrue(Double.parseDouble(loss.group(2)) < Double.parseDouble(loss.group(1)),
        "training on the example's separable data should lower the loss: " + printed);
  }

  /** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens. */
  static java.util.Set<String> anchors(String markdown) {
    String text = Pattern.compile("(?ms)^```.*?^```").matcher(markdown).replaceAll("");
    java.util.Set<String> out = new java.util.HashSet<>();
    Matcher h = Pattern.compile("(?m)^#+ (.*)$").matcher(text);
    while (h.find()) {
      out.add(h.group(1).strip().toLowerCase(java.util.Locale.ROOT)
          .replaceAll("(?U)[^\\w\\- ]", "").replace(' ', '-'));
    }
    return out;
  }

  @Test
  void relativeLinksResolve() throws IOException {
    Path root = root();
    List<Path> pages = new ArrayList<>(List.of(root.resolve("README.md"), root.resolve("BENCHMARKS.md")));
    try (Stream<Path> s = Files.walk(root.resolve("docs"))) {
      s.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
    }
    Pattern link = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    List<String> broken = new ArrayList<>();
    int checked = 0;
    for (Path page : pages) {
      String text = Pattern.compile("(?ms)^```.*?^```").matcher(Files.readString(page)).replaceAll("");
      Matcher m = link.matcher(text);
      while (m.find()) {
        String target = m.group(1);
        if (target.matches("[a-z]+:.*")) continue; // web links
        if (target.startsWith("#")) target = page.getFileName() + target; // same page
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        checked++;
        Path resolved = page.getParent().resolve(file).normalize();
        if (!Files.exists(resolved)) {
          broken.add(root.relativize(page) + " -> " + target);
        } else if (hash >= 0 && resolved.toString().endsWith(".md")
            && !anchors(Files.readString(resolved)).contains(target.substring(hash + 1))) {
          broken.add(root.relativize(page) + " -> " + target + " (no such heading)");
        }
      }
    }
    assertTrue(checked > 10, "expected the docs to link to each other; found " + checked + " relative links");
    assertTrue(broken.isEmpty(), "broken relative links:\n" + String.join("\n", broken));
  }
}
