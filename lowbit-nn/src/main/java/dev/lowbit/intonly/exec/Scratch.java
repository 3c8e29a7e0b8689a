package dev.lowbit.intonly.exec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The arrays of values nobody reads any more, handed to later values of the same kind and length,
 * in one thread's runs. A taken array holds old contents: every op overwrites its output whole.
 */
final class Scratch {

  private final Map<Integer, List<byte[]>> bytes = new HashMap<>();
  private final Map<Integer, List<int[]>> ints = new HashMap<>();

  /** A byte array of {@code length}, a returned one when there is one. */
  byte[] bytes(int length) {
    List<byte[]> free = bytes.get(length);
    return free == null || free.isEmpty() ? new byte[length] : free.remove(free.size() - 1);
  }

  /** An int array of {@code length}, a returned one when there is one. */
  int[] ints(int length) {
    List<int[]> free = ints.get(length);
    return free == null || free.isEmpty() ? new int[length] : free.remove(free.size() - 1);
  }

  /** Hands back the storage of a value (byte[] or int[]; null is ignored) for a later one. */
  void give(Object array) {
    switch (array) {
      case byte[] b -> free(bytes, b.length).add(b);
      case int[] i -> free(ints, i.length).add(i);
      case null -> {}
      default -> throw new IllegalArgumentException("not a value's storage: " + array.getClass().getName());
    }
  }

  private static <T> List<T> free(Map<Integer, List<T>> pool, int length) {
    List<T> l = pool.get(length);
    if (l == null) {
      l = new ArrayList<>();
      pool.put(length, l);
    }
    return l;
  }
}
