/** JMH benchmarks of lowbit's kernels. */
package dev.lowbit.bench;
