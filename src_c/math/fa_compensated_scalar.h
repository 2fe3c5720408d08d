/*
 * math/fa_compensated_scalar.h -- the scalar error-free transformations (no SIMD header
 * needed, so the dispatch-level code, e.g. losses/fa_loss_run.h's block totals, shares them
 * with the ISA units; math/fa_compensated.h includes this file):
 *   fa_two_sum_scalar_f64, fa_fast_two_sum_scalar_f64, fa_two_prod_scalar_f64, fa_two_sum_acc,
 *   fa_dd_renormalise, fa_dd_value
 * Sources: Knuth, TAOCP vol. 2, 4.2.2 (TwoSum); Dekker 1971 (Fast2Sum).
 */
#ifndef FA_COMPENSATED_SCALAR_H
#define FA_COMPENSATED_SCALAR_H

#include <math.h>

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

/* hi + lo = a*b exactly (the scalar fma: every variant has it, in hardware or libm) */
FA_INLINE double fa_two_prod_scalar_f64(double a, double b, double *lo)
{
    const double p = a * b;
    *lo = fma(a, b, -p);
    return p;
}

/* *s += v as a two-sum, the error accumulated in *err (a double-double accumulator) */
FA_INLINE void fa_two_sum_acc(double *s, double *err, double v)
{
    double e;
    *s = fa_two_sum_scalar_f64(*s, v, &e);
    *err += e;
}

/* A double-double accumulator (hi, lo) renormalised (Fast2Sum: the value hi + lo, its error
 * in *out_lo), or hi itself with *out_lo 0 where hi is not finite.  An infinite term (or a
 * sum that overflowed) leaves hi at +-inf, as a plain sum would, but makes every two-sum's
 * error inf - inf = NaN: hi + lo was NaN where the answer is inf (a probability target on a
 * -inf logit, a BCE loss of +inf; found by a differential fuzz, 2026-12-06).  A NaN term
 * leaves hi NaN either way. */
FA_INLINE double fa_dd_renormalise(double hi, double lo, double *out_lo)
{
    if (!(hi - hi == 0.0)) {
        *out_lo = 0.0;
        return hi;
    }
    return fa_fast_two_sum_scalar_f64(hi, lo, out_lo);
}

/* the value of a double-double accumulator: hi + lo, +-inf kept (fa_dd_renormalise) */
FA_INLINE double fa_dd_value(double hi, double lo)
{
    double unused;
    return fa_dd_renormalise(hi, lo, &unused);
}

#endif /* FA_COMPENSATED_SCALAR_H */
