package dev.lowbit.unpack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Heavy-hitter counts (§1.3 of the spec): |x| >= 2^(b-1), the value -2^(b-1) included. */
class HeavyHittersTest {

  @Test
  void countsOverallPerRowAndPerColumn() {
    IntMatrix x = IntMatrix.of(new int[][] {{7, -8, 0}, {8, -7, 100}, {1, 2, 3}, {Integer.MIN_VALUE, 0, 0}});
    HeavyHitters h = HeavyHitters.of(x, 4);
    assertEquals(4, h.total());
    assertArrayEquals(new int[] {1, 2, 0, 1}, h.perRow());
    assertArrayEquals(new int[] {2, 1, 1}, h.perColumn());
    assertEquals(4 / 12.0, h.fraction(), 0);
    assertEquals(2 / 3.0, h.rowFraction(1), 0);
    assertEquals(2 / 4.0, h.columnFraction(0), 0);
    assertEquals(3, h.dirtyRows());
    assertEquals(3, h.dirtyColumns());
  }

  @Test
  void theInt32ExtremesAtThirtyTwoBits() {
    IntMatrix x = IntMatrix.of(new int[][] {{Integer.MIN_VALUE, Integer.MAX_VALUE, -Integer.MAX_VALUE}});
    assertEquals(1, HeavyHitters.of(x, 32).total()); // only -2^31
    assertEquals(3, HeavyHitters.of(x, 31).total());
    assertEquals(0, HeavyHitters.of(new IntMatrix(0, 0, new int[0]), 8).fraction(), 0);
    assertThrows(IllegalArgumentException.class, () -> HeavyHitters.of(x, 33));
  }

  @Test
  void aRowIsSplitExactlyWhenItHoldsAHeavyHitter() {
    IntMatrix x = Fixtures.heavyTailed(new java.util.Random(4), 10, 9);
    for (int bits = 2; bits <= 8; bits++) {
      HeavyHitters h = HeavyHitters.of(x, bits);
      int[] linesPerRow = new int[x.rows()];
      for (int owner : Unpack.rows(x, bits).rowOwner()) linesPerRow[owner]++;
      for (int i = 0; i < x.rows(); i++) {
        assertEquals(h.perRow()[i] > 0, linesPerRow[i] > 1, "row " + i + " at b=" + bits);
      }
      int[] linesPerColumn = new int[x.cols()];
      for (int source : Unpack.columns(x, new int[x.cols()], bits).columnSource()) linesPerColumn[source]++;
      for (int j = 0; j < x.cols(); j++) {
        assertEquals(h.perColumn()[j] > 0, linesPerColumn[j] > 1, "column " + j + " at b=" + bits);
      }
    }
  }
}
