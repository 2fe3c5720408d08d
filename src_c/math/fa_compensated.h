/*
 * math/fa_compensated.h -- the one set of error-free transformations and compensated sums
 * every kernel uses (included once per ISA, before the math family):
 *   fa_two_prod_f64      hi + lo = a*b exactly (FMA, or Dekker's splitting without it)
 *   fa_two_sum_T         hi + lo = a + b exactly (Knuth's TwoSum, any magnitudes), T = f32, f64
 *   fa_fast_two_sum_T    the same when |a| >= |b| (Dekker's Fast2Sum, 3 operations)
 *   fa_kahan_add_T       t += v with the running error in *c (Kahan)
 *   fa_two_sum_scalar_f64, fa_fast_two_sum_scalar_f64, fa_two_prod_scalar_f64   the scalar
 *                        twins (per-slice factors, renormalisations)
 *   fa_two_sum_acc       scalar s += v with the rounding error added into *err (a
 *                        double-double accumulator s + err)
 *   fa_two_sum_acc_lanes_f64  the same accumulator fed the lanes of a per-lane double-double
 * Sources: Knuth, TAOCP vol. 2, 4.2.2 (TwoSum); Dekker 1971 (Fast2Sum, the splitting
 * product); Kahan 1965 (compensated summation).
 */
#ifndef FA_COMPENSATED_H
#define FA_COMPENSATED_H

/* hi + lo = a*b exactly (no overflow: |a|, |b| < 2^995 without FMA). */
FA_INLINE fa_simd_f64 fa_two_prod_f64(fa_simd_f64 a, fa_simd_f64 b, fa_simd_f64 *lo)
{
    fa_simd_f64 hi = fa_mul_f64(a, b);
#if FA_HAVE_FMA
    *lo = fa_fmsub_f64(a, b, hi);
#else
    const fa_simd_f64 split = fa_set1_f64(0x1.0000002p27);     /* Dekker: 2^27 + 1 */
    fa_simd_f64 ca = fa_mul_f64(a, split), cb = fa_mul_f64(b, split);
    fa_simd_f64 ah = fa_sub_f64(ca, fa_sub_f64(ca, a)), al = fa_sub_f64(a, ah);
    fa_simd_f64 bh = fa_sub_f64(cb, fa_sub_f64(cb, b)), bl = fa_sub_f64(b, bh);
    fa_simd_f64 e = fa_sub_f64(fa_mul_f64(ah, bh), hi);
    e = fa_add_f64(e, fa_mul_f64(ah, bl));
    e = fa_add_f64(e, fa_mul_f64(al, bh));
    *lo = fa_add_f64(e, fa_mul_f64(al, bl));
#endif
    return hi;
}

/* TwoSum, Fast2Sum and Kahan's step on the lanes of type T (f32, f64) */
#define FA_DEFINE_COMPENSATED(T)                                                                  \
/* hi + lo = a + b exactly (Knuth's TwoSum, any magnitudes) */                                    \
FA_INLINE fa_simd_##T fa_two_sum_##T(fa_simd_##T a, fa_simd_##T b, fa_simd_##T *lo)               \
{                                                                                                 \
    fa_simd_##T s = fa_add_##T(a, b);                                                             \
    fa_simd_##T bb = fa_sub_##T(s, a);                                                            \
    *lo = fa_add_##T(fa_sub_##T(a, fa_sub_##T(s, bb)), fa_sub_##T(b, bb));                        \
    return s;                                                                                     \
}                                                                                                 \
/* hi + lo = a + b exactly for |a| >= |b| or a == 0 (Dekker's Fast2Sum, 3 operations; exact */   \
/* too wherever the exponent of a is at least that of b) */                                       \
FA_INLINE fa_simd_##T fa_fast_two_sum_##T(fa_simd_##T a, fa_simd_##T b, fa_simd_##T *lo)          \
{                                                                                                 \
    fa_simd_##T s = fa_add_##T(a, b);                                                             \
    *lo = fa_sub_##T(b, fa_sub_##T(s, a));                                                        \
    return s;                                                                                     \
}                                                                                                 \
/* *t += v (Kahan): *c holds the error, t - c the compensated sum */                              \
FA_INLINE void fa_kahan_add_##T(fa_simd_##T *t, fa_simd_##T *c, fa_simd_##T v)                    \
{                                                                                                 \
    fa_simd_##T y = fa_sub_##T(v, *c);                                                            \
    fa_simd_##T s = fa_add_##T(*t, y);                                                            \
    *c = fa_sub_##T(fa_sub_##T(s, *t), y);                                                        \
    *t = s;                                                                                       \
}                                                                                                 \
/* *s += v; with EXACT (a compile-time constant at the call) TwoSum's error added into *e, so */ \
/* that s + e is the sum to ~2^-106 relative plus n u^2; else a plain addition (e untouched) */  \
FA_INLINE void fa_sum_step_##T(fa_simd_##T *s, fa_simd_##T *e, fa_simd_##T v, int EXACT)          \
{                                                                                                 \
    if (EXACT) {                                                                                  \
        fa_simd_##T err;                                                                          \
        *s = fa_two_sum_##T(*s, v, &err);                                                         \
        *e = fa_add_##T(*e, err);                                                                 \
    } else {                                                                                      \
        *s = fa_add_##T(*s, v);                                                                   \
    }                                                                                             \
}
FA_DEFINE_COMPENSATED(f32)
FA_DEFINE_COMPENSATED(f64)

/* ---- scalars: math/fa_compensated_scalar.h (also used outside the ISA units) ---- */
#include "fa_compensated_scalar.h"

/* (*s, *err) += the lanes of the per-lane double-double (hi, lo), in lane order: hi's lanes by
 * two-sums, lo's added to *err */
FA_INLINE void fa_two_sum_acc_lanes_f64(double *s, double *err, fa_simd_f64 hi, fa_simd_f64 lo)
{
    double h[FA_LANES_F64], l[FA_LANES_F64];
    fa_storeu_f64(h, hi);
    fa_storeu_f64(l, lo);
    for (int k = 0; k < FA_LANES_F64; k++) {
        fa_two_sum_acc(s, err, h[k]);
        *err += l[k];
    }
}

#endif /* FA_COMPENSATED_H */
