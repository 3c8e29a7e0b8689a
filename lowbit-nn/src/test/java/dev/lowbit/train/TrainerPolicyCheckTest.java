package dev.lowbit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.lowbit.data.Dataset;
import dev.lowbit.data.FashionMnist;
import dev.lowbit.numerics.Policy;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer checks its policy against the model before the first step (issue 15). */
class TrainerPolicyCheckTest {

  @TempDir Path dir;

  @Test
  void anImpossibleGranularityFailsBeforeAnythingIsWritten() throws Exception {
    Path f = dir.resolve("pc.policy");
    Files.writeString(f, "*  weight  int8  per-channel(99)\n");
    Policy p = Policy.read(f, null);
    FashionMnist.Splits s = FashionMnist.embedded();
    Dataset train = s.train().head(64), test = s.test().head(32);
    Path out = dir.resolve("run");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Trainer t = new Trainer(TrainerTest.cfg("mlp", 1, out), p, new PrintStream(log), false);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.run(train, test, "t"));
    // before: "axis 99 is outside a tensor of rank 2", thrown by the first step, naming no rule
    assertEquals(f + ":1: per-channel(99): axis out of range for layer fc1 weight of rank 2 (valid axes: -2..1)",
        e.getMessage());
    assertFalse(Files.exists(out), "nothing is written for a policy that cannot run");
    assertEquals("", log.toString());
  }
}
