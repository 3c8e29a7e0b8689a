/**
 * IM-Unpack (Zeng, Sankaralingam, Singh, ICML 2024, arXiv 2403.07339): exact integer GEMM with
 * b-bit signed GEMMs only.
 *
 * <p>{@link dev.lowbit.unpack.Rtn} quantizes a float tensor the way the paper does (round to
 * nearest with a percentile scale, no clipping), so that most codes fit b bits and a few "heavy
 * hitters" ({@code |x| >= 2^(b-1)}, counted by {@link dev.lowbit.unpack.HeavyHitters}) do not.
 * {@link dev.lowbit.unpack.Unpack} rewrites whole rows or columns of an int32 matrix into base
 * {@code 2^(b-1)} digits on extra rows or columns (UnpackRow, UnpackColumn and the greedy
 * UnpackBoth), so that every entry satisfies {@code |x| <= 2^(b-1)-1}. {@link
 * dev.lowbit.unpack.UnpackedGemm} runs the unpacked product on the int8 kernel of {@code
 * dev.lowbit.kernel}, one GEMM per inner exponent, and recombines with shifts in int64, equal bit
 * for bit to {@link dev.lowbit.unpack.UnpackedGemm#referenceGemm}. The unpack ratio ({@code
 * n'·d'·m' / (n·d·m)}) measures the extra work.
 */
package dev.lowbit.unpack;
