/** Modules (layers) with a PyTorch-like API. */
package dev.lowbit.nn;
