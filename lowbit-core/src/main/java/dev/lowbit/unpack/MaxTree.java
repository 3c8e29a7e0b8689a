package dev.lowbit.unpack;

import java.util.Arrays;

/**
 * Non-negative counts that grow by appending, with the largest count and the first index holding
 * it in O(1) and updates in O(log n): a segment tree of maxima over a power-of-two capacity.
 */
final class MaxTree {

  private int size;
  private int cap;
  /** tree[1] is the root, leaves at cap..2cap-1; unused leaves hold -1. */
  private int[] tree;

  MaxTree(int[] counts) {
    cap = 1;
    while (cap < Math.max(1, counts.length)) cap <<= 1;
    build(counts, counts.length);
  }

  private void build(int[] counts, int n) {
    tree = new int[2 * cap];
    Arrays.fill(tree, cap, 2 * cap, -1);
    System.arraycopy(counts, 0, tree, cap, n);
    size = n;
    for (int p = cap - 1; p >= 1; p--) tree[p] = Math.max(tree[2 * p], tree[2 * p + 1]);
  }

  int size() {
    return size;
  }

  int get(int i) {
    return tree[cap + i];
  }

  /** The largest count, 0 when empty. */
  int max() {
    return Math.max(0, tree[1]);
  }

  /** The first index holding {@link #max()}; only when not empty. */
  int argmax() {
    int p = 1;
    while (p < cap) p = tree[2 * p] == tree[p] ? 2 * p : 2 * p + 1;
    return p - cap;
  }

  void set(int i, int value) {
    int p = cap + i;
    tree[p] = value;
    for (p >>= 1; p >= 1; p >>= 1) tree[p] = Math.max(tree[2 * p], tree[2 * p + 1]);
  }

  void add(int i, int delta) {
    set(i, get(i) + delta);
  }

  void append(int value) {
    if (size == cap) {
      int[] old = Arrays.copyOfRange(tree, cap, cap + size);
      cap <<= 1;
      build(old, size);
    }
    set(size++, value);
  }
}
