package dev.lowbit.intonly.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.intonly.scratch.Floaty;
import dev.lowbit.kernel.intonly.Dyadic;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The integer path is integer-only, structurally: the class files of {@code
 * dev.lowbit.intonly.exec} and {@code dev.lowbit.kernel.intonly} (the main classes, from where the
 * class loader found them) hold no floating-point instruction, no float or double in a
 * descriptor, and no call outside the two packages and a short list of JDK classes.
 */
class NoFloatTest {

  static final List<String> PACKAGES = List.of("dev/lowbit/intonly/exec/", "dev/lowbit/kernel/intonly/");

  @Test
  void theIntegerPackagesAreFloatFree() throws Exception {
    FloatFreeCheck check = new FloatFreeCheck(PACKAGES);
    List<String> bad = new ArrayList<>();
    int classes = 0;
    for (Class<?> anchor : new Class<?>[] {IntExecutor.class, Dyadic.class}) {
      for (byte[] c : classFiles(anchor)) {
        bad.addAll(check.check(c));
        classes++;
      }
    }
    assertTrue(classes >= 20, "found only " + classes + " class files");
    assertTrue(bad.isEmpty(), bad.size() + " violations:\n" + String.join("\n", bad));
  }

  /** The checker reports a float op, a double field, a float-typed call and calls out of bounds, and passes clean code. */
  @Test
  void theCheckCatchesFloatingPoint() throws IOException {
    byte[] floaty;
    try (InputStream in = Floaty.class.getResourceAsStream("Floaty.class")) {
      floaty = in.readAllBytes();
    }
    List<String> bad = new FloatFreeCheck(PACKAGES).check(floaty);
    String all = String.join("\n", bad);
    String cls = "dev/lowbit/intonly/scratch/Floaty";
    for (String want : new String[] {
        cls + " field half: type D",
        cls + ".scaled(I)I: FMUL (FLOAT)",
        cls + ".scaled(I)I: I2F",
        cls + ".scaled(I)I: F2I",
        cls + ".root(J)J: L2D",
        cls + ".root(J)J: INVOKESTATIC java/lang/Math.sqrt(D)D: float or double in the descriptor",
        cls + ".root(J)J: INVOKESTATIC java/lang/Math.sqrt(D)D: java/lang/Math.sqrt is not allowed",
        cls + ".random()I: NEW java/util/Random: class java/util/Random is not allowed",
        cls + ".gemmName()Ljava/lang/String;: INVOKESTATIC dev/lowbit/kernel/Kernels.gemm()Ldev/lowbit/kernel/Gemm;: lowbit class dev/lowbit/kernel/Kernels outside"}) {
      assertTrue(all.contains(want), "'" + want + "' in:\n" + all);
    }
    for (String line : bad) assertTrue(!line.contains(".clean("), "clean code reported: " + line);
    assertEquals(1, bad.stream().filter(l -> l.contains("field half")).count());
  }

  /** The class files of {@code anchor}'s package in the directory or jar it was loaded from (its own main classes only). */
  static List<byte[]> classFiles(Class<?> anchor) throws IOException, URISyntaxException {
    Path root = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
    String dir = anchor.getPackageName().replace('.', '/');
    if (Files.isDirectory(root)) return read(root.resolve(dir));
    try (FileSystem jar = FileSystems.newFileSystem(root, Map.of())) {
      return read(jar.getPath(dir));
    }
  }

  private static List<byte[]> read(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".class")).sorted().map(p -> {
        try {
          return Files.readAllBytes(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).toList();
    }
  }
}
