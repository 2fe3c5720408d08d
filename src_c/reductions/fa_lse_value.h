/*
 * reductions/fa_lse_value.h -- logsumexp of a slice from its statistics, per dtype (macro
 * FA_SM_DEFINE_SPECIAL, instantiated by fa_rows.h): special slices (docs/SPEC.md section 4),
 * weighted slices that overflow or carry infinite weights (SciPy's rules), and slices whose
 * M + l cancels (summed again by fa_lse_exact.h).
 */
#ifndef FA_LSE_VALUE_H
#define FA_LSE_VALUE_H

/* M + log(S), S = C + t + te > 0, with log(S) carried as a pair (l_hi, l_lo): l_hi = log(hi)
 * (libm), l_lo = S e^(-l_hi) - 1 (|l_lo| ~ 2^-52, its square dropped), e^(-l_hi) a
 * double-double (fa_exp_dd_f64, 2^-81.5), S e^(-l_hi) a two-product; then M + l_hi + l_lo by
 * a two-sum.  Only the rounding of the statistics stays (the terms' exps and the merges,
 * ~2^-53 S relative, so ~2^-53 absolute in the result): float64 results with |v| >= 2 keep
 * <= 1.5 ULP without the second pass of fa_lse_exact.h (N(0,3) - 20 rows: v ~ -4.7,
 * M ~ -10, l ~ 5.3, formerly summed twice). */
FA_INLINE double fa_lse_value_dd_l(const fa_sm_stats *s)
{
    double hi = 0.0, lo = 0.0;
    fa_two_sum_acc(&hi, &lo, s->C);
    fa_two_sum_acc(&hi, &lo, s->t);
    lo += s->te;
    double Sl, S = fa_fast_two_sum_scalar_f64(hi, lo, &Sl);
    const double l_hi = log(S);
    double e[FA_LANES_F64], el[FA_LANES_F64];
    fa_simd_f64 t, n, vlo, vhi = fa_exp_dd_f64(fa_set1_f64(-l_hi), &vlo, &t, &n);
    fa_storeu_f64(e, fa_scale_exp_f64(vhi, t, n));
    fa_storeu_f64(el, fa_scale_exp_f64(vlo, t, n));
    double pl, p = fa_two_prod_scalar_f64(S, e[0], &pl);         /* S e_hi exactly: p + pl */
    const double l_lo = ((p - 1.0) + pl) + (S * el[0] + Sl * e[0]); /* p - 1 exact (Sterbenz) */
    double err, v = fa_two_sum_scalar_f64(s->M, l_hi, &err);
    return v + (err + l_lo);
}

/* The value fa_sm_lse_value gives a slice of positive sum, from its M, l = log(S) and
 * v = M + l (F32: float32 data; weighted: b given).  M + l is ill-conditioned where it
 * cancels (M and l of opposite signs, result near 0): l carries the sum's absolute error
 * (float32 data: ~2^-26 from the float32 terms; float64: ~2^-53 l), ~l/|v| ULPs of the
 * result.  Such slices are summed again without a shift (FA_LSE_UNSHIFTED, fa_lse_exact.h:
 * float32 unweighted data in the double-pair tier where its bound allows, else double-double
 * terms, ~2^-81 absolute): float32 data where |v| < 1 and |v| < |l|, float64 data where
 * |v| < 4|l| and |v| < 2; unweighted float64 slices with 2 <= |v| < 4|l| take l as a pair
 * (FA_LSE_PAIR_L, fa_lse_value_dd_l); the others keep M + l (FA_LSE_SHIFTED).  Inputs spread
 * over +-50 never get there unless the result lands in (-1, 1).
 * Weighted slices with |v| < 1 are summed again whatever the signs: S = sum w e^(x - M)
 * may lie near 1 (weights below 1), where l = log S carries S's rounding, ~2^-53 absolute, as
 * l and M of one sign add up to a v near 0 without cancelling (logsumexp([-0.01, -0.94],
 * b=[0.78, 0.55]) was 10 ULP off, up to ~20 near +-0.03; found by a differential fuzz,
 * 2026-12-06).  Unweighted slices have S >= 1 and l = log1p(T) relative to T, so no such case.
 * Weighted float32 slices too (their statistics run in float64 lanes, but M + l kept only
 * ~2^-40 absolute: rows of 100 with signed weights measured 5.7 ULP at v = -0.0015, 0.50 after;
 * the second fuzz, 2026-12-06). */
enum { FA_LSE_SHIFTED = 0, FA_LSE_PAIR_L = 1, FA_LSE_UNSHIFTED = 2 };
FA_INLINE int fa_lse_choice(double M, double l, double v, int F32, int weighted)
{
    if (weighted && fabs(v) < 1.0)
        return FA_LSE_UNSHIFTED;
    if (!(M * l < 0))                        /* no cancellation (weights may make l < 0 < M) */
        return FA_LSE_SHIFTED;
    if (F32 ? !(fabs(v) < 1.0 && fabs(v) < fabs(l)) : !(fabs(v) < 4.0 * fabs(l)))
        return FA_LSE_SHIFTED;
    if (!F32 && !weighted && fabs(v) >= 2.0) /* l as a pair is enough */
        return FA_LSE_PAIR_L;
    return FA_LSE_UNSHIFTED;
}

/* logsumexp of a slice whose M is not finite (or whose T is NaN): scalar, per docs/SPEC.md 4. */
#define FA_SM_DEFINE_SPECIAL(T)                                                                   \
static double fa_sm_lse_special_##T(const fa_scalar_##T *x, ptrdiff_t n, ptrdiff_t stride,        \
                                    const unsigned char *mask, const fa_scalar_##T *b, double *sign) \
{                                                                                                 \
    int pos = 0, neg = 0;                                                                         \
    for (ptrdiff_t k = 0; k < n; k++) {                                                           \
        const ptrdiff_t at = k * stride;                                                          \
        const double w = b ? (double)b[at] : 1.0;                                                 \
        if ((mask && !mask[at]) || w == 0.0)                                                      \
            continue;                                                                             \
        const double v = (double)x[at];                                                           \
        if (v != v || w != w || (v == -INFINITY && (w == INFINITY || w == -INFINITY))) {         \
            *sign = NAN;                                                                          \
            return NAN;                                                                           \
        }                                                                                         \
        if (v == INFINITY) {                                                                      \
            if (w > 0) pos = 1; else neg = 1;                                                     \
        }                                                                                         \
    }                                                                                             \
    if (pos && neg) { *sign = NAN; return NAN; }                                                 \
    if (pos || neg) { *sign = pos ? 1.0 : -1.0; return INFINITY; }                               \
    *sign = 0.0;                                                                                  \
    return -INFINITY;                                                                             \
}                                                                                                 \
                                                                                                  \
/* logsumexp of a weighted slice whose statistics overflowed or met infinite weights (l not     \
 * finite): SciPy's rules, with the weights scaled by their largest magnitude B so that a sum   \
 * beyond DBL_MAX still gives a finite log (logsumexp([0, 0], b=[1e308]*2) = 709.89):           \
 * NaN in x or w -> NaN; an infinite weight on -inf -> NaN; +inf entries -> fa_sm_lse_special;  \
 * infinite weights (on finite x) -> +inf with their sign, NaN if both signs occur; otherwise   \
 * M + log B + log|sum (w/B) e^(x - M)|, the sum compensated (a scalar pass: rare slices). */   \
static double fa_sm_lse_weighted_##T(const fa_scalar_##T *x, ptrdiff_t n, ptrdiff_t stride,       \
                                     const unsigned char *mask, const fa_scalar_##T *b, double *sign) \
{                                                                                                 \
    double M = -INFINITY, B = 0.0, sum = 0.0, err = 0.0;                                          \
    int pos_inf = 0, neg_inf = 0;                                                                 \
    for (ptrdiff_t k = 0; k < n; k++) {                                                           \
        const ptrdiff_t at = k * stride;                                                          \
        const double w = (double)b[at], v = (double)x[at];                                        \
        if ((mask && !mask[at]) || w == 0.0)                                                      \
            continue;                                                                             \
        if (v != v || w != w || (v == -INFINITY && isinf(w))) {                                   \
            *sign = NAN;                                                                          \
            return NAN;                                                                           \
        }                                                                                         \
        if (v == -INFINITY)                                                                       \
            continue;                                                                             \
        pos_inf |= w == INFINITY;                                                                 \
        neg_inf |= w == -INFINITY;                                                                \
        M = v > M ? v : M;                                                                        \
        B = fabs(w) > B ? fabs(w) : B;                                                            \
    }                                                                                             \
    if (M == INFINITY)                                                                            \
        return fa_sm_lse_special_##T(x, n, stride, mask, b, sign);                                \
    if (pos_inf || neg_inf) {                                                                     \
        *sign = pos_inf && neg_inf ? NAN : (pos_inf ? 1.0 : -1.0);                                \
        return pos_inf && neg_inf ? NAN : INFINITY;                                               \
    }                                                                                             \
    for (ptrdiff_t k = 0; k < n && M > -INFINITY; k++) {                                          \
        const ptrdiff_t at = k * stride;                                                          \
        const double w = (double)b[at];                                                           \
        if ((mask && !mask[at]) || w == 0.0)                                                      \
            continue;                                                                             \
        fa_two_sum_acc(&sum, &err, (w / B) * fa_exp_scalar_f64((double)x[at] - M));               \
    }                                                                                             \
    sum += err;                                                                                   \
    if (sum == 0.0) {                                                                             \
        *sign = 0.0;                                                                              \
        return -INFINITY;                                                                         \
    }                                                                                             \
    *sign = sum > 0 ? 1.0 : -1.0;                                                                 \
    return M + (log(B) + log(fabs(sum)));                                                         \
}                                                                                                 \
                                                                                                  \
/* the unshifted value of a slice that cancels (fa_lse_exact.h): float32 unweighted data in       \
 * the float32 tier first (fa_lse_cancel_f32), else the double-double sum; 1 with *ve set, 0      \
 * where the sum is no good (the caller keeps M + l).  mx (or NULL; contiguous slices without     \
 * options only) receives the slice's max, from the sum's own loads. */                           \
FA_INLINE int fa_sm_lse_unshifted_##T(const fa_scalar_##T *x, ptrdiff_t n, ptrdiff_t stride,    \
                                      const unsigned char *mask, const fa_scalar_##T *b,          \
                                      double *ve, double *mx, double want_sign)                   \
{                                                                                                 \
    double hi, lo, se;                                                                            \
    if (sizeof(fa_scalar_##T) == 4 && !b)                                                         \
        return fa_lse_cancel_f32((const float *)x, n, stride, mask, ve, mx);                      \
    if (stride == 1 && !mask && !b)                                                               \
        fa_lse_exact_sum_contig(x, n, sizeof(fa_scalar_##T) == 4, &hi, &lo, mx);                  \
    else                                                                                          \
        fa_lse_exact_sum_strided_##T(x, n, stride, mask, b, &hi, &lo);                            \
    return fa_lse_from_exact(hi, lo, ve, &se) && se == want_sign;                                 \
}                                                                                                 \
                                                                                                  \
/* logsumexp of a slice from its statistics: M + l, or what fa_lse_choice picks instead */        \
static double fa_sm_lse_value_##T(const fa_sm_stats *s, const fa_scalar_##T *x, ptrdiff_t n,      \
                                  ptrdiff_t stride, const unsigned char *mask,                    \
                                  const fa_scalar_##T *b, double *sign)                           \
{                                                                                                 \
    double l, ve;                                                                                 \
    const int special = fa_sm_finish(s, &l, sign) == FA_SM_SPECIAL;                               \
    if (b && (special || !(l > -INFINITY && l < INFINITY)))                                       \
        return fa_sm_lse_weighted_##T(x, n, stride, mask, b, sign);                               \
    if (special)                                                                                  \
        return fa_sm_lse_special_##T(x, n, stride, mask, b, sign);                                \
    const double v = s->M + l;                                                                    \
    /* a negative total (signed weights): l = log|S|, M + l cancels as for a positive one */      \
    if (!(*sign > 0) && !(b && *sign < 0))                                                        \
        return v;                                                                                 \
    const int choice = fa_lse_choice(s->M, l, v, sizeof(fa_scalar_##T) == 4, b != NULL);         \
    if (choice == FA_LSE_PAIR_L)                                                                  \
        return fa_lse_value_dd_l(s);                                                              \
    if (choice == FA_LSE_UNSHIFTED)                                                               \
        return fa_sm_lse_unshifted_##T(x, n, stride, mask, b, &ve, NULL, *sign) ? ve : v;         \
    return v;                                                                                     \
}                                                                                                 \
                                                                                                  \
/* logsumexp of a contiguous row without options that is predicted to cancel (the row before      \
 * it did), without its statistics: 1 with *v the bits fa_sm_lse_value gives the row, 0 where     \
 * that is not certain (the caller takes the statistics).  ve, the row's unshifted value,         \
 * comes from the call fa_sm_lse_value makes for the row (same function, same arguments: the      \
 * same bits; the row's max M taken from its loads), and ve is fa_sm_lse_value's result           \
 * exactly where fa_lse_choice picks FA_LSE_UNSHIFTED from the statistics' l_s and                \
 * v_s = M + l_s.  These lie within e of l = ve - M and ve, e a bound (times 2^6 or more) of      \
 * |l_s - l'| + |ve - v'| and the roundings, l' and v' the exact values (u = 2^-53):              \
 *   float32 data: T's float32 exps and block sums 2^-22 T (so 2^-22 l in l, as                   \
 *     T/S <= 1 - e^-l <= l), 4u per chunk merge, terms below 2^-126.5 e^M counted as 0           \
 *     (n 2^-126); ve within the tier's delta(n) (fa_lse_exact.h) or 2^-81 (the double-double     \
 *     pass), + u |ve|:  e = (2^-16 + n 2^-56) l + 2^-40 |ve| + 2^-48 + 4 delta(n);               \
 *   float64 data: T within 3.35u (fa_rows_f64.h) + 4u per chunk merge, log's rounding; ve        \
 *     within 2^-81.5 + m^2 2^-106 (m <= n terms per lane) + u |ve|:                              \
 *     e = (2^-44 + n 2^-56) (l + |ve|) + 2^-60 + n^2 2^-100.                                     \
 * For a fixed M < 0 the (v, l) where fa_lse_choice picks FA_LSE_UNSHIFTED form a convex set      \
 * (M l < 0 holds on a half-line of l; |v| below 1, 2, l or 4l are convex conditions): where      \
 * the four corners of [ve - e, ve + e] x [l - e, l + e] are in it, so is (v_s, l_s), and ve is   \
 * the row's result.  Elsewhere (M >= 0: the statistics keep M + l; a result within e of a        \
 * bound of the choice; an unshifted sum that is no good) the row goes to the statistics. */      \
static int fa_sm_lse_predicted_##T(const fa_scalar_##T *x, ptrdiff_t n, double *v)              \
{                                                                                                 \
    const int F32 = sizeof(fa_scalar_##T) == 4;                                                   \
    const double m = (double)n;                                                                   \
    double ve, M;                                                                                 \
    if (!fa_sm_lse_unshifted_##T(x, n, 1, NULL, NULL, &ve, &M, 1.0) || !(M < 0 && M > -INFINITY)) \
        return 0;                                                                                 \
    const double l = ve - M;                                                                      \
    const double e = F32 ? (0x1p-16 + m * 0x1p-56) * l + 0x1p-40 * fabs(ve) + 0x1p-48            \
                               + 4.0 * fa_lse_pair_delta(n)                                       \
                         : (0x1p-44 + m * 0x1p-56) * (l + fabs(ve)) + 0x1p-60 + m * m * 0x1p-100; \
    for (int corner = 0; corner < 4; corner++)                                                    \
        if (fa_lse_choice(M, corner & 1 ? l + e : l - e, corner & 2 ? ve + e : ve - e, F32, 0)    \
            != FA_LSE_UNSHIFTED)                                                                  \
            return 0;                                                                             \
    *v = ve;                                                                                      \
    return 1;                                                                                     \
}

#endif /* FA_LSE_VALUE_H */
