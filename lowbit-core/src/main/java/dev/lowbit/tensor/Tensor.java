package dev.lowbit.tensor;

import java.util.Arrays;

/**
 * A dense row-major float32 tensor: a shape and one contiguous array. Reshaping shares the array;
 * nothing else is shared or strided.
 */
public final class Tensor {

  private final int[] shape;
  private final float[] data;

  /** Wraps {@code data} (not copied) with the given shape; the sizes must agree. */
  public Tensor(float[] data, int... shape) {
    long n = checkShape(shape);
    if (data.length != n) {
      throw new IllegalArgumentException(
          "tensor data has " + data.length + " values but shape " + Arrays.toString(shape)
              + " needs " + n);
    }
    this.data = data;
    this.shape = shape.clone();
  }

  /** A tensor of zeros. */
  public static Tensor zeros(int... shape) {
    return new Tensor(new float[Math.toIntExact(checkShape(shape))], shape);
  }

  /** The number of elements a shape holds. */
  public static int numel(int... shape) {
    return Math.toIntExact(checkShape(shape));
  }

  private static long checkShape(int[] shape) {
    long n = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n *= d;
    }
    return n;
  }

  public float[] data() {
    return data;
  }

  public int[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  /** Dimension {@code i}; negative i counts from the end. */
  public int dim(int i) {
    return shape[i < 0 ? shape.length + i : i];
  }

  public int size() {
    return data.length;
  }

  /** Same data, new shape (one dimension may be -1 and is inferred). */
  public Tensor reshape(int... newShape) {
    int[] s = newShape.clone();
    int infer = -1;
    long known = 1;
    for (int i = 0; i < s.length; i++) {
      if (s[i] == -1) {
        if (infer >= 0) throw new IllegalArgumentException("more than one -1 in " + Arrays.toString(newShape));
        infer = i;
      } else {
        known *= s[i];
      }
    }
    if (infer >= 0) {
      if (known == 0 || data.length % known != 0) {
        throw new IllegalArgumentException(
            "cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
      }
      s[infer] = (int) (data.length / known);
    }
    if (checkShape(s) != data.length) {
      throw new IllegalArgumentException(
          "cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
    }
    return new Tensor(data, s);
  }

  public Tensor copy() {
    return new Tensor(data.clone(), shape);
  }

  public boolean sameShape(Tensor o) {
    return Arrays.equals(shape, o.shape);
  }

  public String shapeString() {
    return Arrays.toString(shape);
  }

  @Override
  public String toString() {
    return "Tensor" + Arrays.toString(shape);
  }
}
