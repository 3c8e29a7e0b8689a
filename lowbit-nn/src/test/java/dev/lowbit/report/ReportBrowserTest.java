package dev.lowbit.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opens report.html in headless Chromium and checks that every embedded plot decoded. */
class ReportBrowserTest {

  static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  @Test
  void everyImageLoadsInChromium(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM),
        "skipped: " + CHROMIUM + " is not installed (.ci/run installs the Debian package chromium)");
    Report.write(ReportTest.sample(), dir);
    String html = Files.readString(dir.resolve("report.html"));
    int images = html.split("<img ", -1).length - 1;
    assertEquals(4, images);

    Path profile = Files.createDirectory(dir.resolve("profile"));
    Path dom = dir.resolve("dom.html");
    ProcessBuilder pb = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox",
        "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile,
        "--virtual-time-budget=10000", "--dump-dom", dir.resolve("report.html").toUri().toString())
        .redirectOutput(dom.toFile())
        .redirectError(dir.resolve("stderr.txt").toFile());
    Process p = pb.start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish in 120 s");
    }
    String out = Files.readString(dom, StandardCharsets.UTF_8);
    String err = Files.readString(dir.resolve("stderr.txt"), StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), "chromium failed: " + err);
    Matcher m = Pattern.compile("data-images-loaded=\"(\\d+)/(\\d+)\"").matcher(out);
    assertTrue(m.find(), "the page's load script did not run; DOM starts: "
        + out.substring(0, Math.min(300, out.length())) + "\nstderr: " + err);
    assertEquals(List.of(images, images), List.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))),
        "images decoded / images on the page");
  }
}
