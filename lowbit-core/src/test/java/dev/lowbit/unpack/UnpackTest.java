package dev.lowbit.unpack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** UnpackRow, UnpackColumn, UnpackBoth and the digits, on the spec's examples (§1.4, §1.11) and edge cases. */
class UnpackTest {

  static final IntMatrix A = IntMatrix.of(new int[][] {{3, -20, 5}, {1, 2, -7}});
  static final IntMatrix B = IntMatrix.of(new int[][] {{2, 1}, {-3, 4}, {6, -9}});

  @Test
  void digitsUseFloorSemantics() {
    assertArrayEquals(new int[] {1, 1, 5}, Unpack.digits(329, 4));
    assertArrayEquals(new int[] {7, 6, -6}, Unpack.digits(-329, 4));
    assertArrayEquals(new int[] {4, -3}, Unpack.digits(-20, 4));
    assertArrayEquals(new int[] {0, -1}, Unpack.digits(-8, 4));
    assertArrayEquals(new int[] {0, 0, 1}, Unpack.digits(64, 4));
    assertArrayEquals(new int[] {0, 0, -1}, Unpack.digits(-64, 4));
    assertArrayEquals(new int[] {7}, Unpack.digits(7, 4));
    assertArrayEquals(new int[] {-7}, Unpack.digits(-7, 4));
    assertArrayEquals(new int[] {0}, Unpack.digits(0, 4));
  }

  @Test
  void digitsSumBackForAnyIntAndWidth() {
    Random r = new Random(11);
    int[] special = {Integer.MIN_VALUE, Integer.MAX_VALUE, -Integer.MAX_VALUE, -1, 1, -2, 2, -128, 127, 128};
    for (int bits = 2; bits <= 8; bits++) {
      int s = 1 << (bits - 1);
      for (int t = 0; t < 2000; t++) {
        int v = t < special.length ? special[t] : r.nextInt() >> r.nextInt(32);
        int[] d = Unpack.digits(v, bits);
        long sum = 0;
        for (int k = d.length - 1; k >= 0; k--) sum = sum * s + d[k];
        assertEquals(v, sum, "digits of " + v + " at b=" + bits);
        for (int k = 0; k < d.length - 1; k++) assertTrue(d[k] >= 0 && d[k] < s, "digit " + k + " of " + v);
        assertTrue(Math.abs(d[d.length - 1]) < s, "last digit of " + v);
        assertEquals(d.length, Unpack.levels(v, bits));
      }
    }
    assertEquals(32, Unpack.digits(Integer.MIN_VALUE, 2).length); // -2^31: 31 zeros, then -1
    assertEquals(-1, Unpack.digits(Integer.MIN_VALUE, 2)[31]);
  }

  @Test
  void unpackRowOnTheWorkedExample() {
    Unpacked a = Unpack.rows(A, 4);
    assertArrayEquals(new int[][] {{3, 4, 5}, {1, 2, -7}, {0, -3, 0}}, a.matrix().toArray());
    assertArrayEquals(new int[] {0, 1, 0}, a.rowOwner());
    assertArrayEquals(new int[] {0, 0, 1}, a.rowExponent());
    assertArrayEquals(new int[] {0, 1, 2}, a.columnSource());
    assertArrayEquals(new int[] {0, 0, 0}, a.columnExponent());
    Unpacked b = Unpack.rows(B.transpose(), 4);
    assertArrayEquals(new int[][] {{2, 1, 0}, {-3, 4, 0}, {6, 7, -2}}, b.matrix().toIntMatrix().transpose().toArray());
    assertArrayEquals(new int[] {0, 1, 1}, b.rowOwner());
    assertArrayEquals(new int[] {0, 0, 1}, b.rowExponent());
  }

  @Test
  void unpackColumnOnTheWorkedExampleCarriesTheInnerExponents() {
    Unpacked a1 = Unpack.columns(A, new int[3], 4);
    assertArrayEquals(new int[][] {{3, 4, 5, -3}, {1, 2, -7, 0}}, a1.matrix().toArray());
    assertArrayEquals(new int[] {0, 1, 2, 1}, a1.columnSource());
    assertArrayEquals(new int[] {0, 0, 0, 1}, a1.columnExponent());
    assertArrayEquals(new int[] {0, 1}, a1.rowOwner());
    IntMatrix bPrime = B.transpose().gatherColumns(a1.columnSource()).transpose();
    assertArrayEquals(new int[][] {{2, 1}, {-3, 4}, {6, -9}, {-3, 4}}, bPrime.toArray());
    Unpacked b2 = Unpack.columns(bPrime.transpose(), a1.columnExponent(), 4);
    assertArrayEquals(new int[][] {{2, 1}, {-3, 4}, {6, 7}, {-3, 4}, {0, -2}}, b2.matrix().toIntMatrix().transpose().toArray());
    assertArrayEquals(new int[] {0, 0, 0, 1, 1}, b2.columnExponent());
    assertArrayEquals(new int[] {0, 1, 2, 3, 2}, b2.columnSource());
  }

  @Test
  void unpackBothOnTheWorkedExampleSplitsTheRowOnATie() {
    Unpacked a = Unpack.both(A, new int[3], 4);
    assertArrayEquals(new int[][] {{3, 4, 5}, {1, 2, -7}, {0, -3, 0}}, a.matrix().toArray());
    assertArrayEquals(new int[] {0, 1, 0}, a.rowOwner());
    assertArrayEquals(new int[] {0, 0, 1}, a.rowExponent());
    assertArrayEquals(new int[] {0, 0, 0}, a.columnExponent());
  }

  @Test
  void unpackBothSplitsTheColumnWithMoreHeavyHitters() {
    // Column 0 holds two heavy hitters, every row one: the column goes first, then nothing is left.
    IntMatrix x = IntMatrix.of(new int[][] {{9, 1}, {-9, 2}});
    Unpacked u = Unpack.both(x, new int[] {0, 5}, 4);
    assertArrayEquals(new int[][] {{1, 1, 1}, {7, 2, -2}}, u.matrix().toArray());
    assertArrayEquals(new int[] {0, 1, 0}, u.columnSource());
    assertArrayEquals(new int[] {0, 5, 1}, u.columnExponent());
    assertArrayEquals(new int[] {0, 1}, u.rowOwner());
    Fixtures.assertReconstructs(x, new int[] {0, 5}, u);
  }

  @Test
  void unpackBothTakesTheFirstLineOnEqualCounts() {
    Unpacked rows = Unpack.both(IntMatrix.of(new int[][] {{1, 9}, {9, 1}}), new int[2], 4);
    assertArrayEquals(new int[][] {{1, 1}, {1, 1}, {0, 1}, {1, 0}}, rows.matrix().toArray());
    assertArrayEquals(new int[] {0, 1, 0, 1}, rows.rowOwner());
    Unpacked cols = Unpack.both(IntMatrix.of(new int[][] {{9, 9}, {9, 9}, {9, 9}}), new int[2], 4);
    assertArrayEquals(new int[] {0, 1, 0, 1}, cols.columnSource());
    assertArrayEquals(new int[] {0, 0, 1, 1}, cols.columnExponent());
    assertEquals(3, cols.matrix().rows());
  }

  @Test
  void minusTwoToTheBMinusOneIsAHeavyHitter() {
    IntMatrix x = IntMatrix.of(new int[][] {{-8, 7, -7}});
    Unpacked u = Unpack.rows(x, 4);
    assertArrayEquals(new int[][] {{0, 7, 1}, {-1, 0, -1}}, u.matrix().toArray());
    assertEquals(1, Unpack.rows(IntMatrix.of(new int[][] {{7, -7}}), 4).matrix().rows());
  }

  @Test
  void extremesAndDegenerateShapesUnpackAndReconstruct() {
    Random r = new Random(5);
    IntMatrix[] cases = {
      IntMatrix.of(new int[][] {{Integer.MIN_VALUE}}),
      IntMatrix.of(new int[][] {{Integer.MAX_VALUE, -Integer.MAX_VALUE, Integer.MIN_VALUE, 0}}),
      IntMatrix.of(new int[][] {{Integer.MIN_VALUE}, {Integer.MAX_VALUE}, {3}}),
      new IntMatrix(4, 5, new int[20]),
      new IntMatrix(0, 3, new int[0]),
      new IntMatrix(3, 0, new int[0]),
      Fixtures.heavyTailed(r, 9, 7),
    };
    for (IntMatrix x : cases) {
      for (int bits = 2; bits <= 8; bits++) {
        int[] tIn = new int[x.cols()];
        for (int j = 0; j < tIn.length; j++) tIn[j] = r.nextInt(3);
        Unpacked[] us = {Unpack.rows(x, bits), Unpack.columns(x, tIn, bits), Unpack.both(x, tIn, bits)};
        int[][] ins = {new int[x.cols()], tIn, tIn};
        for (int k = 0; k < us.length; k++) {
          Fixtures.assertFits(us[k]);
          Fixtures.assertReconstructs(x, ins[k], us[k]);
        }
      }
    }
  }

  @Test
  void allZerosStayAsTheyAre() {
    IntMatrix z = new IntMatrix(3, 4, new int[12]);
    for (Unpacked u : new Unpacked[] {Unpack.rows(z, 2), Unpack.columns(z, new int[4], 2), Unpack.both(z, new int[4], 2)}) {
      assertEquals(3, u.matrix().rows());
      assertEquals(4, u.matrix().cols());
    }
  }

  @Test
  void badArgumentsAreNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Unpack.rows(A, 9));
    assertTrue(e.getMessage().contains("9") && e.getMessage().contains("2..8"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Unpack.rows(A, 1));
    e = assertThrows(IllegalArgumentException.class, () -> Unpack.columns(A, new int[2], 4));
    assertTrue(e.getMessage().contains("2 inner exponents for 3 columns"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new IntMatrix(2, 2, new int[3]));
  }
}
