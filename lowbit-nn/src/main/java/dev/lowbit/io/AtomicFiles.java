package dev.lowbit.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes a file through a temporary file in the same directory and a rename, so readers never see half a file. */
public final class AtomicFiles {

  private AtomicFiles() {}

  /** Writes {@code bytes} to {@code target}, replacing it atomically where the file system can. */
  public static void write(Path target, byte[] bytes) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
    try {
      Files.write(tmp, bytes);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Deletes the temporary files a killed write of {@code target} left beside it: {@code
   * .NAME<digits>.tmp} (this class) and {@code NAME<digits>.tmp} ({@link Safetensors#write}), the
   * names {@link Files#createTempFile} gives. Nothing else is touched. Call it only while no other
   * writer of {@code target} can be running (a run directory's {@code RunLock} held). Returns the
   * number of files removed.
   */
  public static int removeLeftovers(Path target) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    if (!Files.isDirectory(dir)) return 0;
    java.util.regex.Pattern leftover = java.util.regex.Pattern.compile(
        "\\.?" + java.util.regex.Pattern.quote(target.getFileName().toString()) + "[0-9]+\\.tmp");
    int n = 0;
    try (java.util.stream.Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        if (leftover.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p)
            && Files.deleteIfExists(p)) {
          n++;
        }
      }
    }
    return n;
  }

  /** {@link #write(Path, byte[])} of UTF-8 text. */
  public static void writeString(Path target, String text) throws IOException {
    write(target, text.getBytes(StandardCharsets.UTF_8));
  }
}
