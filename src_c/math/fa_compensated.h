/*
 * math/fa_compensated.h -- the one set of error-free transformations and compensated sums
 * every kernel uses (included once per ISA, before the math family):
 *   fa_two_prod_f64      hi + lo = a*b exactly (FMA, or Dekker's splitting without it)
 *   fa_two_sum_f64       hi + lo = a + b exactly (Knuth's TwoSum, any magnitudes)
 *   fa_fast_two_sum_f64  the same when |a| >= |b| (Dekker's Fast2Sum, 3 operations)
 *   fa_kahan_add_f64     t += v with the running error in *c (Kahan)
 *   fa_two_sum_acc       scalar s += v with the rounding error added into *err (a
 *                        double-double accumulator s + err)
 *   fa_two_sum_acc_lanes_f64  the same accumulator fed the lanes of a per-lane double-double
 *   fa_two_sum_f32, fa_fast_two_sum_f32, fa_kahan_add_f32   float32-lane twins
 *   fa_two_sum_scalar_f64, fa_fast_two_sum_scalar_f64, fa_two_prod_scalar_f64   scalar twins
 *                        (per-slice factors and renormalisations)
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

/* hi + lo = a + b exactly (Knuth's TwoSum, any magnitudes). */
FA_INLINE fa_simd_f64 fa_two_sum_f64(fa_simd_f64 a, fa_simd_f64 b, fa_simd_f64 *lo)
{
    fa_simd_f64 s = fa_add_f64(a, b);
    fa_simd_f64 bb = fa_sub_f64(s, a);
    *lo = fa_add_f64(fa_sub_f64(a, fa_sub_f64(s, bb)), fa_sub_f64(b, bb));
    return s;
}

/* hi + lo = a + b exactly for |a| >= |b| (or a == 0) */
FA_INLINE fa_simd_f64 fa_fast_two_sum_f64(fa_simd_f64 a, fa_simd_f64 b, fa_simd_f64 *lo)
{
    fa_simd_f64 s = fa_add_f64(a, b);
    *lo = fa_sub_f64(b, fa_sub_f64(s, a));
    return s;
}

/* *t += v (Kahan): *c holds the error, t - c the compensated sum */
FA_INLINE void fa_kahan_add_f64(fa_simd_f64 *t, fa_simd_f64 *c, fa_simd_f64 v)
{
    fa_simd_f64 y = fa_sub_f64(v, *c);
    fa_simd_f64 s = fa_add_f64(*t, y);
    *c = fa_sub_f64(fa_sub_f64(s, *t), y);
    *t = s;
}

/* *s += v as a two-sum, the error accumulated in *err (scalar) */
FA_INLINE void fa_two_sum_acc(double *s, double *err, double v)
{
    double sum = *s + v, bb = sum - *s;
    *err += (*s - (sum - bb)) + (v - bb);
    *s = sum;
}

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

/* ---- float32 lanes ---- */

/* hi + lo = a + b exactly (TwoSum) */
FA_INLINE fa_simd_f32 fa_two_sum_f32(fa_simd_f32 a, fa_simd_f32 b, fa_simd_f32 *lo)
{
    fa_simd_f32 s = fa_add_f32(a, b);
    fa_simd_f32 bb = fa_sub_f32(s, a);
    *lo = fa_add_f32(fa_sub_f32(a, fa_sub_f32(s, bb)), fa_sub_f32(b, bb));
    return s;
}

/* hi + lo = a + b exactly for |a| >= |b| (or where the exponent of a bounds b's: Fast2Sum) */
FA_INLINE fa_simd_f32 fa_fast_two_sum_f32(fa_simd_f32 a, fa_simd_f32 b, fa_simd_f32 *lo)
{
    fa_simd_f32 s = fa_add_f32(a, b);
    *lo = fa_sub_f32(b, fa_sub_f32(s, a));
    return s;
}

/* *t += v (Kahan): *c holds the error, t - c the compensated sum */
FA_INLINE void fa_kahan_add_f32(fa_simd_f32 *t, fa_simd_f32 *c, fa_simd_f32 v)
{
    fa_simd_f32 y = fa_sub_f32(v, *c);
    fa_simd_f32 s = fa_add_f32(*t, y);
    *c = fa_sub_f32(fa_sub_f32(s, *t), y);
    *t = s;
}

/* ---- scalars ---- */

/* hi + lo = a + b exactly (TwoSum) */
FA_INLINE double fa_two_sum_scalar_f64(double a, double b, double *lo)
{
    const double s = a + b, bb = s - a;
    *lo = (a - (s - bb)) + (b - bb);
    return s;
}

/* hi + lo = a + b exactly for |a| >= |b| (Fast2Sum; renormalises a double-double) */
FA_INLINE double fa_fast_two_sum_scalar_f64(double a, double b, double *lo)
{
    const double s = a + b;
    *lo = b - (s - a);
    return s;
}

/* hi + lo = a*b exactly (FMA; every variant has the scalar fma) */
FA_INLINE double fa_two_prod_scalar_f64(double a, double b, double *lo)
{
    const double p = a * b;
    *lo = fma(a, b, -p);
    return p;
}

#endif /* FA_COMPENSATED_H */
