/**
 * Integer operator kernels of integer-only inference (I-ViT, Li &amp; Gu, ICCV 2023): dyadic
 * requantization, Shiftmax, ShiftGELU, I-LayerNorm, pooling, sums and the im2col of an integer
 * convolution. Every class here is float-free (a test reads the class files) and each method is a
 * plain reference that reads like the equations of the method; rounding is floor unless a method
 * says otherwise.
 */
package dev.lowbit.kernel.intonly;
