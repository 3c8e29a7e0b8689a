package dev.lowbit.intonly.exec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** A returned array goes to the next request of its kind and length, once; others get fresh arrays. */
class ScratchTest {

  @Test
  void aReturnedArrayIsReusedOnlyForItsKindAndLength() {
    Scratch s = new Scratch();
    byte[] b = s.bytes(12);
    int[] i = s.ints(12);
    s.give(b);
    s.give(i);
    s.give(null);
    assertEquals(13, s.bytes(13).length);
    assertNotSame(i, s.ints(11));
    assertSame(b, s.bytes(12));
    assertNotSame(b, s.bytes(12), "handed out once");
    assertSame(i, s.ints(12));
    assertThrows(IllegalArgumentException.class, () -> s.give(new long[1]));
  }
}
