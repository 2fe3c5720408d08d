/*
 * kernels/fa_grad_from_output.h -- the gradients of sigmoid and tanh from the forward's
 * OUTPUT y (kind FA_BINARY: x = y, g = grad_output; torch's sigmoid_backward and
 * tanh_backward), both dtypes in their own lanes.  Plain arithmetic, no exp: the cheap
 * backward for code that keeps the forward's output.
 *
 *   sigmoid_grad_from_output  y (1 - y) g     1 - y is exact for y in [1/2, 2] (Sterbenz) and
 *                                              within 1 ULP below: <= 2 ULP of the exact
 *                                              y (1 - y) (measured 1.38 float32, 1.25 float64)
 *   tanh_grad_from_output     (1 - y)(1 + y) g  each factor exact or within 1 ULP: <= 3 ULP
 *                                              (measured 1.5 both dtypes), no cancellation
 *                                              near |y| = 1 as 1 - y*y would have
 * Measured on every variant over every binade of y's range (a 16-per-binade sweep against
 * mpmath, 2026-12-04; tests/test_grad_from_output.py asserts the bounds), g = ones; times g
 * half an ULP more.
 * The error is against the exact function of the GIVEN y: y carries the forward's rounding,
 * which the derivative from y amplifies where it is ill-conditioned (y near 1 for sigmoid,
 * |y| near 1 for tanh: x of a few units and beyond); the x-based sigmoid_grad / tanh_grad are
 * accurate there.  Any y is accepted (the polynomial, NaN propagating); g NULL = ones.
 */
#ifndef FA_GRAD_FROM_OUTPUT_H
#define FA_GRAD_FROM_OUTPUT_H

#define FA_GRAD_FROM_OUTPUT(T)                                                             \
FA_INLINE fa_simd_##T fa_sigmoid_grad_from_output_v_##T(fa_simd_##T y, fa_simd_##T g,     \
                                                         const fa_params *p) {             \
    (void)p;                                                                               \
    return fa_mul_##T(fa_mul_##T(y, fa_sub_##T(fa_set1_##T(1), y)), g);                    \
}                                                                                          \
FA_INLINE fa_simd_##T fa_tanh_grad_from_output_v_##T(fa_simd_##T y, fa_simd_##T g,        \
                                                      const fa_params *p) {                \
    (void)p;                                                                               \
    const fa_simd_##T one = fa_set1_##T(1);                                                \
    return fa_mul_##T(fa_mul_##T(fa_sub_##T(one, y), fa_add_##T(one, y)), g);              \
}                                                                                          \
FA_BINARY_KERNEL(sigmoid_grad_from_output, T, fa_sigmoid_grad_from_output_v_##T)           \
FA_BINARY_KERNEL(tanh_grad_from_output, T, fa_tanh_grad_from_output_v_##T)

FA_GRAD_FROM_OUTPUT(f32)
FA_GRAD_FROM_OUTPUT(f64)

#endif /* FA_GRAD_FROM_OUTPUT_H */
