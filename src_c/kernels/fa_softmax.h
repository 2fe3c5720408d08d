/*
 * fa_softmax.h -- logsumexp, softmax, log_softmax along the middle axis of a
 * C-contiguous (outer, n, inner) block (included once per ISA).
 *
 * Statistics of a slice (x read once from memory): the slice is cut into chunks that fit
 * in L1 (FA_SM_CHUNK_BYTES).  Per chunk: pass 1 the chunk max mk (and min), pass 2
 * (re-reading L1) t = sum over x < mk of w*exp(x - mk) and c = sum over x == mk of w
 * (w = b or 1); the chunk is merged into the running (M, T, C) with one exp.  x - mk is
 * computed exactly (two-sum, Fast2Sum, or in float64 for float32 data) and fed into the
 * exp's Cody-Waite reduction, and the terms equal to the max are kept apart, so that
 * l = log1p(T) keeps its relative accuracy when one entry dominates (SciPy PR #21597:
 * logsumexp([0, -40]) = 4.248e-18, log_softmax([0,-40])[0] = -4.248e-18); otherwise
 * l = log(C + T) with C + T as a double-double.  Sums are compensated (Kahan / two-sum)
 * or, for float32 terms, added in float64.
 *   logsumexp   M + l, one result per slice.
 *   log_softmax y = (x - M) - l: x <= M and l >= 0, so there is no cancellation and the
 *               rounding of x - M is below half an ULP of y.
 *   softmax     y = exp(x - M) * (1/S), S = C + T, x - M exact into the reduction, 1/S
 *               as a pair (float32: two floats; float64: a double-double), no division.
 *               Rows that stay in L1/L2 compute each exp once: stored into y while
 *               summing, then scaled in place per chunk (XNNPACK's "three passes with
 *               reloading"; y's lines go to memory once).  Longer rows recompute the exp
 *               in a second pass over x (two reads of x, one write of y).  (Non-temporal
 *               stores for outputs >= 16 MB, from a scratch row, measured slower on Zen 4:
 *               (4096, 4096) 1.67x np.copyto against 1.51x.)
 *   inner > 1   the same, vectorised across `inner` (fa_softmax_cols.h): blocks of
 *               FA_SM_COLS vectors of columns, walked in chunks of rows that fit in L1,
 *               per-lane (M, T, C) merged with one vector exp per chunk.
 * Stages (reductions/): float32 rows, with or without a mask, run in float32 lanes
 * (fa_stats_f32.h: per-chunk max, then e^(x - K ln2) with the shift folded into the exp's
 * magic constant, the max entries counted apart, one read per chunk, any row max in
 * (-260, 340); fa_output_f32.h: the outputs); the cancelling logsumexp slices are summed
 * again without a shift in double-double (fa_lse_exact.h).  float64 rows without a mask
 * take the direct reduction (below, "float64 data without options"): e^(x - K ln2) from x
 * itself, no x - m, scaled once per chunk.  Everything else (weights, float64 masks,
 * float32 rows beyond the range, columns with a mask) runs in float64 lanes with x - m as a
 * two-sum fed into the reduction.  Every exp is the math family's (math/fa_math_f32.h,
 * fa_math_f64.h), every compensated sum math/fa_compensated.h's.
 * Options (fa_axis_opts, each may be NULL): mask (0 = left out: max and sum skip it,
 * softmax 0, log_softmax -inf), b (logsumexp weights; b == 0 leaves the entry out even
 * where x is inf or NaN; a negative total gives NaN, or |total| and sign -1 with `sign`),
 * sign (logsumexp: +1, -1, or 0 for an empty or all -inf slice).
 * Special slices (SPEC.md section 4): NaN anywhere -> NaN; +inf -> logsumexp +inf,
 * softmax/log_softmax NaN; all -inf -> logsumexp -inf (sign 0), softmax/log_softmax NaN;
 * fully masked -> logsumexp -inf, softmax 0, log_softmax -inf.
 * Measured max error against mpmath / long double (PYTHONPATH=.:tests python
 * tests/test_reductions.py; rows of 1 .. 10^6 entries uniform in +-50, last axis and
 * axis 0, every variant; 10^5 and 10^6 on AVX-512 only):
 *   float32  logsumexp 0.50  softmax 2.51  log_softmax 1.45 ULP
 *   float64  logsumexp 0.50  softmax 3.35  log_softmax 1.72 ULP   (softmax: axis 0, the
 *            column path; the last axis alone: logsumexp 0.50, softmax 2.10, log_softmax 1.72)
 * logsumexp is M + l with l's absolute error ~1 ULP of l: where M + l cancels (M and l of
 * opposite signs, result near 0) the slice is summed again (fa_lse_exact.h: 2 ULP for
 * float32 results >= 2^-50 and float64 results >= 2^-25 in magnitude, ~2^-76 absolute below).
 * Row kinds of tests/test_reductions.py::test_ulp_row_kinds (shifted, peaked, normalised,
 * -inf, subnormal outputs, masked; 1 .. 4100 entries, every variant) stay within the bounds.
 */
#ifndef FA_SOFTMAX_H
#define FA_SOFTMAX_H
#include <math.h>
#include "../reductions/fa_lse_exact.h"

#define FA_SM_CHUNK_BYTES 16384
#define FA_SM_COLS 4           /* column vectors per block when inner > 1 */

/* ---- exps on float64 lanes: the math family (math/fa_math_f64.h, fa_math_f32.h) ---- */

/* exp(d) for d <= ~0, float32 accuracy (fa_exp_neg_f64w, 2^-27); d < -110 counts as -110
 * (0 once rounded to float32); NaN stays NaN */
FA_INLINE fa_simd_f64 fa_sm_exp_lo_f64(fa_simd_f64 d)
{
    return fa_exp_neg_f64w(fa_max_f64(fa_set1_f64(-110.0), d));
}

/* exp(d) for d <= ~0, float64 accuracy (fa_exp_neg_f64, scaled once); d < -760 gives 0 */
FA_INLINE fa_simd_f64 fa_sm_exp_hi_f64(fa_simd_f64 d)
{
    fa_simd_f64 t, n, em = fa_exp_neg_f64(d, fa_set1_f64(0.0), 0, &t, &n);
    return fa_scale_exp_f64(em, t, n);
}

/* e^(x - m) for x <= m as 2^floor(n/16) * em: x - m as a two-sum (d + e) fed into the
 * reduction (FA_EXP_LOW), the expm1-grade polynomial (FA_EXP_M1, 2^-58.7) */
FA_INLINE fa_simd_f64 fa_sm_exp_diff_f64(fa_simd_f64 x, fa_simd_f64 m, fa_simd_f64 *t, fa_simd_f64 *n)
{
    fa_simd_f64 e, d = fa_two_sum_f64(x, fa_neg_f64(m), &e);
    e = fa_select_f64(fa_cmplt_f64(d, fa_set1_f64(-740.0)), fa_set1_f64(0.0), e);   /* inf - inf */
    return fa_exp_neg_f64(d, e, FA_EXP_LOW | FA_EXP_M1, t, n);
}

/* softmax entry for float64 data: exp(x - M) * (ih + il), ih + il = 1/S as a double-double,
 * 2^floor(n/16) applied last.  (Folding l = log S into the exponent instead would cost the
 * rounding of l, up to 2 ULP once l > 4.) */
FA_INLINE fa_simd_f64 fa_sm_softmax_entry_f64(fa_simd_f64 x, fa_simd_f64 M, fa_simd_f64 ih, fa_simd_f64 il)
{
    fa_simd_f64 t, n, em = fa_sm_exp_diff_f64(x, M, &t, &n);
    return fa_scale_exp_f64(fa_fmadd_f64(em, ih, fa_mul_f64(em, il)), t, n);
}

/* the two per-slice constants of a softmax entry: float64 data (ih, il) = 1/(C + T) as a
 * double-double; float32 data (l, unused) */
FA_INLINE void fa_sm_entry_params(const void *stats, double l, int is_f64, double *a1, double *a2);

/* softmax entry for float32 data: x - M is exact in float64, (x - M) - l rounds at 2^-53. */
FA_INLINE fa_simd_f64 fa_sm_softmax_entry_f32(fa_simd_f64 x, fa_simd_f64 M, fa_simd_f64 l, fa_simd_f64 unused)
{
    (void)unused;
    return fa_sm_exp_lo_f64(fa_sub_f64(fa_sub_f64(x, M), l));
}

/* ---- loads and stores of a data type as float64 lanes ---- */
FA_INLINE fa_simd_f64 fa_sm_ld_f32(const float *p) { return fa_loadu_f32_as_f64(p); }
FA_INLINE fa_simd_f64 fa_sm_ld_f64(const double *p) { return fa_loadu_f64(p); }
FA_INLINE fa_simd_f64 fa_sm_ldt_f32(const float *p, ptrdiff_t n, double fill) { return fa_load_tail_f32_as_f64(p, n, fill); }
FA_INLINE fa_simd_f64 fa_sm_ldt_f64(const double *p, ptrdiff_t n, double fill) { return fa_load_tail_f64(p, n, fill); }
FA_INLINE void fa_sm_st_f32(float *p, fa_simd_f64 v) { fa_storeu_f64_as_f32(p, v); }
FA_INLINE void fa_sm_st_f64(double *p, fa_simd_f64 v) { fa_storeu_f64(p, v); }
FA_INLINE void fa_sm_stt_f32(float *p, fa_simd_f64 v, ptrdiff_t n) { fa_store_tail_f64_as_f32(p, v, n); }
FA_INLINE void fa_sm_stt_f64(double *p, fa_simd_f64 v, ptrdiff_t n) { fa_store_tail_f64(p, v, n); }
/* exp(x - m) for the sums, with the relative accuracy of each term (l = log1p(T/C)
 * needs it when one entry dominates).  float32 data: x - m is exact in float64 and a
 * float32-accurate exp suffices.  float64 data: x - m as a two-sum fed into the reduction. */
FA_INLINE fa_simd_f64 fa_sm_sum_exp_f32(fa_simd_f64 x, fa_simd_f64 m) { return fa_sm_exp_lo_f64(fa_sub_f64(x, m)); }
FA_INLINE fa_simd_f64 fa_sm_sum_exp_f64(fa_simd_f64 x, fa_simd_f64 m)
{
    fa_simd_f64 t, n, em = fa_sm_exp_diff_f64(x, m, &t, &n);
    return fa_scale_exp_f64(em, t, n);
}

/* t += term (Kahan, error in *tc) unless x is at the max, where c += 1 instead */
FA_INLINE void fa_sm_sum_step_store_f64(fa_simd_f64 x, fa_simd_f64 term, fa_simd_f64 mkv,
                                        fa_simd_f64 *t, fa_simd_f64 *tc, fa_simd_f64 *c)
{
    fa_mask_f64 at = fa_cmpeq_f64(x, mkv);
    fa_kahan_add_f64(t, tc, fa_select_f64(at, fa_set1_f64(0.0), term));
    *c = fa_add_f64(*c, fa_select_f64(at, fa_set1_f64(1.0), fa_set1_f64(0.0)));
}

/* ---- the statistics of a slice: running max M, T = sum_{x<M} w e^(x-M), C = sum_{x==M} w ---- */
typedef struct fa_sm_stats {
    double M, t, C, te;    /* te: rounding error of the additions into t (t + te is the sum) */
    double rmin;           /* float64 direct-reduction rows: a lower bound of the entries */
} fa_sm_stats;


/* e^(a - b) with the rounding error of a - b folded in (float64 maxima: 30 - 3.x rounds, and
 * 2^-49 of a dominant entry's T is 8 ULP of its log_softmax) */
FA_INLINE double fa_sm_exp_diff(double a, double b)
{
    const double d = a - b;
    if (!(d > -INFINITY && d < INFINITY))
        return exp(d);
    const double bb = d - a, err = (a - (d - bb)) + (-b - bb);
    return exp(d) * (1.0 + err);
}

/* merge a chunk's (mk, tk, ck) into s (scalar; once per chunk) */
FA_INLINE void fa_sm_merge(fa_sm_stats *s, double mk, double tk, double ck)
{
    if (mk > s->M) {
        if (s->M == -INFINITY) {             /* the first chunk (or all -inf so far) */
            fa_two_sum_acc(&s->t, &s->te, tk);
        } else {
            s->t = (s->t + s->te + s->C) * fa_sm_exp_diff(s->M, mk) + tk;
            s->te = 0.0;
        }
        s->C = ck;
        s->M = mk;
    } else if (mk == s->M) {
        fa_two_sum_acc(&s->t, &s->te, tk);
        s->C += ck;
    } else {
        fa_two_sum_acc(&s->t, &s->te, (tk + ck) * fa_sm_exp_diff(mk, s->M));  /* mk = -inf: tk is 0 or NaN, kept */
    }
}

enum { FA_SM_OK = 0, FA_SM_SPECIAL = 1 };

/* l = log(C + T) and the sign of C + T; FA_SM_SPECIAL when M is not finite or T NaN. */
FA_INLINE int fa_sm_finish(const fa_sm_stats *s, double *l, double *sign)
{
    if (!(s->M > -INFINITY && s->M < INFINITY) || s->t != s->t)
        return FA_SM_SPECIAL;
    double C = s->C, T = s->t + s->te, S = C + T;
    if (!l) {                                /* softmax: only the sum is needed */
        *sign = 1.0;
        return FA_SM_OK;
    }
    if (C == 1.0 && T >= 0 && T < 0.5) {      /* a dominant entry: l = log1p(T) keeps l's relative accuracy */
        *l = log1p(T);
        *sign = 1.0;
    } else if (C > 0 && S > 0) {             /* S >= 1.5: log of S as a double-double, one libm call */
        double hi = 0.0, lo = 0.0;
        fa_two_sum_acc(&hi, &lo, C);
        fa_two_sum_acc(&hi, &lo, T);
        *l = log(hi) + lo / hi;
        *sign = 1.0;
    } else if (S > 0) {
        *l = log(S);
        *sign = 1.0;
    } else if (S < 0) {
        *l = (C < 0 && S < 0) ? (C == -1.0 ? 0.0 : log(-C)) + log1p(T / C) : log(-S);
        *sign = -1.0;
    } else if (S == 0) {
        *l = -INFINITY;
        *sign = 0.0;
    } else {
        *l = S;                              /* NaN: inf - inf among the weights */
        *sign = S;
    }
    return FA_SM_OK;
}

FA_INLINE void fa_sm_entry_params(const void *stats, double l, int is_f64, double *a1, double *a2)
{
    const fa_sm_stats *s = (const fa_sm_stats *)stats;
    if (!is_f64) {
        *a1 = l;
        *a2 = 0.0;
        return;
    }
    double hi = 0.0, lo = 0.0;       /* C + (t + te) as a double-double */
    fa_two_sum_acc(&hi, &lo, s->C);
    fa_two_sum_acc(&hi, &lo, s->t);
    fa_two_sum_acc(&hi, &lo, s->te);
    const double ih = 1.0 / hi;
    const double rem = fma(-hi, ih, 1.0) - lo * ih;     /* 1 - S * ih, S = hi + lo */
    *a1 = ih;
    *a2 = rem * ih;
}

/* logsumexp of a slice whose M is not finite (or whose T is NaN): scalar, per SPEC.md 4. */
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
        fa_two_sum_acc(&sum, &err, (w / B) * exp((double)x[at] - M));                                 \
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
/* logsumexp of a slice from its statistics.  M + l is ill-conditioned where it cancels        \
 * (M and l of opposite signs, result near 0): l carries the sum's absolute error (float32 data: ~2^-26 from   \
 * the float32 terms; float64: ~2^-53 l), ~l/|M + l| ULPs of the result.  Such slices are      \
 * summed again without a shift (reductions/fa_lse_exact.h: double-double terms, ~2^-76     \
 * absolute): float32 data where |M + l| < 1 and < |l|, float64 data where |M + l| < 4|l|.     \
 * Inputs spread over +-50 never get there unless the result lands in (-1, 1). */             \
static double fa_sm_lse_value_##T(const fa_sm_stats *s, const fa_scalar_##T *x, ptrdiff_t n,      \
                                  ptrdiff_t stride, const unsigned char *mask,                    \
                                  const fa_scalar_##T *b, double *sign)                           \
{                                                                                                 \
    double l, hi, lo, ve, se;                                                                     \
    const int special = fa_sm_finish(s, &l, sign) == FA_SM_SPECIAL;                               \
    if (b && (special || !(l > -INFINITY && l < INFINITY)))                                       \
        return fa_sm_lse_weighted_##T(x, n, stride, mask, b, sign);                               \
    if (special)                                                                                  \
        return fa_sm_lse_special_##T(x, n, stride, mask, b, sign);                                \
    const double v = s->M + l;                                                                    \
    if (!(*sign > 0) || !(s->M * l < 0))   /* no cancellation (weights may make l < 0 < M) */ \
        return v;                                                                                 \
    if (sizeof(fa_scalar_##T) == 4 ? !(fabs(v) < 1.0 && fabs(v) < fabs(l)) : !(fabs(v) < 4.0 * fabs(l))) \
        return v;                                                                                 \
    if (stride == 1 && !mask && !b)                                                               \
        fa_lse_exact_sum_##T(x, n, &hi, &lo);                                                     \
    else                                                                                          \
        fa_lse_exact_sum_strided_##T(x, n, stride, mask, b, &hi, &lo);                            \
    return fa_lse_from_exact(hi, lo, &ve, &se) && se > 0 ? ve : v;                                \
}

/* ---- float32 lanes of the column blocks (fa_softmax_cols.h) ---- */
/* the float32 exp of the column blocks, from the math family: d = n ln2 + r (Cody-Waite rr2,
 * fa_exp_reduce_f32), p = e^r = 1 + fa_expm1_reduced_f32(r) (2^-27.4) */
FA_INLINE fa_simd_f32 fa_sm_expf_reduce(fa_simd_f32 d, fa_simd_f32 *n_out)
{
    fa_simd_f32 s;
    return fa_exp_reduce_f32(d, n_out, &s);
}

FA_INLINE fa_simd_f32 fa_sm_expf_poly(fa_simd_f32 r)
{
    return fa_add_f32(fa_set1_f32(1.0f), fa_expm1_reduced_f32(r));
}

FA_INLINE fa_simd_f32 fa_sm_expf_parts(fa_simd_f32 d, fa_simd_f32 e, fa_simd_f32 *n_out)
{
    return fa_sm_expf_poly(fa_add_f32(fa_sm_expf_reduce(d, n_out), e));
}

/*
 * d + e = x - m exactly, for x <= m, in float32 lanes.  Fast2Sum(a, b) is exact when the
 * exponent of a is at least that of b.  The mode is chosen per chunk or row from its max
 * m and min (after clamping x at low, below):
 *   FA_SM_FAST2SUM_X  m <= 0, so |x| >= |m|: Fast2Sum(x, -m), 2 operations
 *   FA_SM_FAST2SUM_M  m > 0 and every x > -2^k with 2^(k-1) <= m < 2^k, so exponent(x) <=
 *                     exponent(m): Fast2Sum(-m, x), 2 operations
 * In both modes x is first clamped at low = about m - 128 (|m| <= 2^20, so d stays in
 * [-129, 0] with no inf or NaN from -inf entries; exp(-128) is 0 in float32).
 *   FA_SM_TWOSUM      anything else (huge |m|, or entries below -2^k): a full two-sum,
 *                     d clamped at -110 and e zeroed there (inf - inf).
 */
enum { FA_SM_TWOSUM = 0, FA_SM_FAST2SUM_X = 1, FA_SM_FAST2SUM_M = 2,
       FA_SM_NOCLAMP = 4 /* or-ed into a Fast2Sum mode: no entry below low, skip the clamp */ };

FA_INLINE int fa_sm_diff_mode(double m, double mn)
{
    if (!(m > -0x1p20 && m < 0x1p20))
        return FA_SM_TWOSUM;
    const double low = m - 127.0;            /* (float)(m - 128) <= low: the clamp is a no-op above */
    const int noclamp = mn > low ? FA_SM_NOCLAMP : 0;
    if (m <= 0)
        return FA_SM_FAST2SUM_X | noclamp;
    uint64_t u;                              /* top = 2^k with 2^(k-1) <= m < 2^k (m normal) */
    memcpy(&u, &m, 8);
    u = (u & 0x7ff0000000000000ull) + 0x0010000000000000ull;
    double top;
    memcpy(&top, &u, 8);
    return (mn > m - 128.0 ? mn : m - 128.0) > -top ? FA_SM_FAST2SUM_M | noclamp : FA_SM_TWOSUM;
}

/* CALL(mode) with mode a compile-time constant, for each value fa_sm_diff_mode returns */
#define FA_SM_WITH_MODE(mode, CALL)                                                   \
    switch (mode) {                                                                   \
    case FA_SM_FAST2SUM_X: CALL(FA_SM_FAST2SUM_X); break;                             \
    case FA_SM_FAST2SUM_X | FA_SM_NOCLAMP: CALL(FA_SM_FAST2SUM_X | FA_SM_NOCLAMP); break; \
    case FA_SM_FAST2SUM_M: CALL(FA_SM_FAST2SUM_M); break;                             \
    case FA_SM_FAST2SUM_M | FA_SM_NOCLAMP: CALL(FA_SM_FAST2SUM_M | FA_SM_NOCLAMP); break; \
    default: CALL(FA_SM_TWOSUM); break;                                               \
    }

FA_INLINE fa_simd_f32 fa_sm_diff_f32(fa_simd_f32 x, fa_simd_f32 m, fa_simd_f32 negm, fa_simd_f32 low,
                                     fa_simd_f32 *e, int mode)
{
    if (mode == FA_SM_TWOSUM) {
        fa_simd_f32 d = fa_sub_f32(x, m);
        fa_simd_f32 bb = fa_sub_f32(d, x);
        fa_simd_f32 err = fa_add_f32(fa_sub_f32(x, fa_sub_f32(d, bb)), fa_sub_f32(negm, bb));
        fa_mask_f32 far = fa_cmplt_f32(d, fa_set1_f32(-110.0f));
        *e = fa_select_f32(far, fa_set1_f32(0.0f), err);
        return fa_max_f32(fa_set1_f32(-110.0f), d);
    }
    if (!(mode & FA_SM_NOCLAMP))
        x = fa_max_f32(low, x);              /* keeps NaN */
    fa_simd_f32 d = fa_sub_f32(x, m);
    *e = (mode & FA_SM_FAST2SUM_X) ? fa_sub_f32(negm, fa_sub_f32(d, x)) : fa_sub_f32(x, fa_add_f32(d, m));
    return d;
}

/* y *= (hi + lo), in place: a scale factor carried as a pair, one rounding per entry */
#define FA_SM_DEFINE_SCALE(T)                                                                     \
FA_INLINE void fa_sm_scale_pair_##T(fa_scalar_##T *y, ptrdiff_t len, fa_scalar_##T hi, fa_scalar_##T lo) \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_##T;                                                             \
    const fa_simd_##T fh = fa_set1_##T(hi), fl = fa_set1_##T(lo);                                 \
    ptrdiff_t i = 0;                                                                              \
    for (; i + 2 * L <= len; i += 2 * L) {                                                        \
        fa_simd_##T v0 = fa_loadu_##T(y + i), v1 = fa_loadu_##T(y + i + L);                       \
        fa_storeu_##T(y + i, fa_fmadd_##T(v0, fh, fa_mul_##T(v0, fl)));                           \
        fa_storeu_##T(y + i + L, fa_fmadd_##T(v1, fh, fa_mul_##T(v1, fl)));                       \
    }                                                                                             \
    for (; i < len; i += L) {                                                                     \
        const ptrdiff_t left = len - i;                                                           \
        fa_simd_##T v = left >= L ? fa_loadu_##T(y + i) : fa_load_tail_##T(y + i, left, 0);       \
        v = fa_fmadd_##T(v, fh, fa_mul_##T(v, fl));                                               \
        if (left >= L) fa_storeu_##T(y + i, v); else fa_store_tail_##T(y + i, v, left);           \
    }                                                                                             \
}
FA_SM_DEFINE_SCALE(f32)
FA_SM_DEFINE_SCALE(f64)

/* y = (x - M) - l over a row (log_softmax's output pass: x <= M and l >= 0, no cancellation) */
#define FA_SM_DEFINE_LOG_OUT(T)                                                                   \
FA_INLINE void fa_sm_log_out_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t n,          \
                                 fa_scalar_##T M, fa_scalar_##T l)                                \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_##T;                                                             \
    const fa_simd_##T Mv = fa_set1_##T(M), lv = fa_set1_##T(l);                                   \
    ptrdiff_t i = 0;                                                                              \
    for (; i + 2 * L <= n; i += 2 * L) {                                                          \
        fa_storeu_##T(y + i, fa_sub_##T(fa_sub_##T(fa_loadu_##T(x + i), Mv), lv));                \
        fa_storeu_##T(y + i + L, fa_sub_##T(fa_sub_##T(fa_loadu_##T(x + i + L), Mv), lv));        \
    }                                                                                             \
    for (; i < n; i += L) {                                                                       \
        const ptrdiff_t left = n - i;                                                             \
        fa_simd_##T v = left >= L ? fa_loadu_##T(x + i) : fa_load_tail_##T(x + i, left, 0);       \
        v = fa_sub_##T(fa_sub_##T(v, Mv), lv);                                                    \
        if (left >= L) fa_storeu_##T(y + i, v); else fa_store_tail_##T(y + i, v, left);           \
    }                                                                                             \
}
FA_SM_DEFINE_LOG_OUT(f32)
FA_SM_DEFINE_LOG_OUT(f64)

/* max and min of a chunk (NaN skipped) */
#define FA_SM_DEFINE_MAX_MIN(T)                                                                   \
FA_INLINE void fa_sm_chunk_max_min_##T(const fa_scalar_##T *x, ptrdiff_t n, double *mx, double *mn) \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_##T;                                                             \
    fa_simd_##T a0 = fa_set1_##T(-INFINITY), a1 = a0, b0 = fa_set1_##T(INFINITY), b1 = b0;         \
    ptrdiff_t i = 0;                                                                              \
    for (; i + 2 * L <= n; i += 2 * L) {                                                          \
        fa_simd_##T v0 = fa_loadu_##T(x + i), v1 = fa_loadu_##T(x + i + L);                       \
        a0 = fa_max_##T(v0, a0); a1 = fa_max_##T(v1, a1);                                         \
        b0 = fa_min_##T(v0, b0); b1 = fa_min_##T(v1, b1);                                         \
    }                                                                                             \
    for (; i < n; i += L) {                                                                       \
        const ptrdiff_t left = n - i;                                                             \
        a0 = fa_max_##T(left >= L ? fa_loadu_##T(x + i) : fa_load_tail_##T(x + i, left, -INFINITY), a0); \
        b0 = fa_min_##T(left >= L ? fa_loadu_##T(x + i) : fa_load_tail_##T(x + i, left, INFINITY), b0); \
    }                                                                                             \
    *mx = fa_reduce_max_##T(fa_max_##T(a0, a1));                                                  \
    *mn = -fa_reduce_max_##T(fa_neg_##T(fa_min_##T(b0, b1)));                                     \
}
FA_SM_DEFINE_MAX_MIN(f32)
FA_SM_DEFINE_MAX_MIN(f64)

/* e^x for x <= 88 (NaN stays NaN): subnormal and zero results are right.  With vscalefps any
 * x below works (-inf gives NaN, the reduction being inf - inf); elsewhere x is clamped at
 * -150 first (fa_ldexp_neg_f32 takes n >= -240), so -inf gives 0. */
FA_INLINE fa_simd_f32 fa_sm_expf_scaled(fa_simd_f32 x)
{
#if !FA_HAVE_SCALEF
    x = fa_max_f32(fa_set1_f32(-150.0f), x);
#endif
    fa_simd_f32 n, r = fa_sm_expf_reduce(x, &n);
    return fa_ldexp_neg_f32(fa_sm_expf_poly(r), n);
}

/* ---- float32 rows: the stages in reductions/ (statistics pass, output pass) ---- */
#include "../reductions/fa_stats_f32.h"
#include "../reductions/fa_output_f32.h"

/*
 * Row paths per dtype, each returning 0 where the row is not theirs (the float64-lane path
 * of FA_SM_DEFINE_ROWS then takes it):
 *   fa_sm_row_stats_fast_T     the statistics (float32: with or without a mask; float64:
 *                              without one, the direct reduction below)
 *   fa_sm_row_out_fast_T       the outputs from those statistics
 *   fa_sm_row_softmax_small_T  softmax of a row that stays in L2, each exp once (stored,
 *                              then scaled): FA_SM_OK, FA_SM_SPECIAL, or FA_SM_DECLINED
 */
enum { FA_SM_DECLINED = 2 };
#define FA_SM_STORE_CHUNKS 16
#define FA_SM64_STORE_CHUNKS 32
#define FA_SM_SMALL_BYTES_f32 (FA_SM_STORE_CHUNKS * FA_SM_CHUNK_BYTES)
#define FA_SM_SMALL_BYTES_f64 (FA_SM64_STORE_CHUNKS * FA_SM_CHUNK_BYTES)   /* 512 KB: x and y stay in L2 */
/* the float32 small path stores terms into y before it knows whether the row is declined
 * (which re-reads x): with y == x, rows go through statistics + output */
#define FA_SM_SMALL_IN_PLACE_f32 0
#define FA_SM_SMALL_IN_PLACE_f64 1

FA_INLINE int fa_sm_row_stats_fast_f32(const float *x, const unsigned char *mk, ptrdiff_t n, fa_sm_stats *s)
{
    return fa_stats_row_f32(x, mk, n, s, NULL, NULL);
}

FA_INLINE void fa_sm_row_out_fast_f32(const float *x, const unsigned char *mk, float *y, ptrdiff_t n,
                                      const fa_sm_stats *s, double l, int LOG)
{
    fa_out_row_f32(x, mk, y, n, s->M, s->C + (s->t + s->te), l, LOG);
}

FA_INLINE int fa_sm_row_softmax_small_f32(const float *x, const unsigned char *mk, float *y, ptrdiff_t n)
{
    double Ks[2 * FA_SM_STORE_CHUNKS];
    fa_sm_stats s;
    if (!fa_stats_row_f32(x, mk, n, &s, y, Ks))
        return FA_SM_DECLINED;
    if (!(s.M > -INFINITY && s.M < INFINITY) || s.t != s.t)
        return FA_SM_SPECIAL;
    fa_out_scale_stored_f32(y, n, Ks, s.M, s.C + (s.t + s.te));
    return FA_SM_OK;
}

/* float64 rows without a mask: the direct reduction, below (after the generic path) */
static int fa_sm_row_softmax_small_f64(const double *x, const unsigned char *mk, double *y, ptrdiff_t n);
static int fa_sm_row_stats_fast_f64(const double *x, const unsigned char *mk, ptrdiff_t n, fa_sm_stats *s);
static void fa_sm_row_out_fast_f64(const double *x, const unsigned char *mk, double *y, ptrdiff_t n,
                                   const fa_sm_stats *s, double l, int LOG);

/*
 * Row kernels (inner == 1), per dtype T.  HAS_MASK / HAS_B are compile-time constants at
 * every call, so the common path carries no option code.
 */
#define FA_SM_DEFINE_ROWS(T)                                                                      \
FA_SM_DEFINE_SPECIAL(T)                                                                           \
/* max over included entries of a chunk (NaN skipped, -inf if none) */                          \
FA_INLINE double fa_sm_chunk_max_##T(const fa_scalar_##T *x, const unsigned char *mk,            \
                                     const fa_scalar_##T *b, ptrdiff_t n, int HAS_MASK, int HAS_B) \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_##T;                                                             \
    const fa_simd_##T ninf = fa_set1_##T(-INFINITY), zero = fa_set1_##T(0);                     \
    fa_simd_##T m0 = ninf, m1 = ninf;                                                             \
    ptrdiff_t i = 0;                                                                              \
    if (!HAS_MASK && !HAS_B) {                                                                    \
        fa_simd_##T m2 = ninf, m3 = ninf;                                                         \
        for (; i + 4 * L <= n; i += 4 * L) {                                                      \
            m0 = fa_max_##T(fa_loadu_##T(x + i), m0);                                             \
            m1 = fa_max_##T(fa_loadu_##T(x + i + L), m1);                                         \
            m2 = fa_max_##T(fa_loadu_##T(x + i + 2 * L), m2);                                     \
            m3 = fa_max_##T(fa_loadu_##T(x + i + 3 * L), m3);                                     \
        }                                                                                         \
        m0 = fa_max_##T(m0, m2);                                                                  \
        m1 = fa_max_##T(m1, m3);                                                                  \
    }                                                                                             \
    for (; i < n; i += L) {                                                                       \
        const ptrdiff_t left = n - i;                                                             \
        fa_simd_##T v = left >= L ? fa_loadu_##T(x + i) : fa_load_tail_##T(x + i, left, -INFINITY); \
        if (HAS_MASK)                                                                             \
            v = fa_select_##T(left >= L ? fa_load_mask_u8_##T(mk + i) : fa_load_tail_mask_u8_##T(mk + i, left), v, ninf); \
        if (HAS_B) {                                                                              \
            fa_simd_##T w = left >= L ? fa_loadu_##T(b + i) : fa_load_tail_##T(b + i, left, 0);  \
            v = fa_select_##T(fa_cmpneq_##T(w, zero), v, ninf);                                   \
        }                                                                                         \
        m0 = fa_max_##T(v, m0);                                                                   \
    }                                                                                             \
    return (double)fa_reduce_max_##T(fa_max_##T(m0, m1));                                         \
}                                                                                                 \
                                                                                                  \
/* one step of the chunk sum: v entries (float64 lanes), w weights, inc included */              \
FA_INLINE void fa_sm_sum_step_##T(fa_simd_f64 v, fa_simd_f64 w, fa_mask_f64 inc, fa_simd_f64 mkv, \
                                  fa_simd_f64 *t, fa_simd_f64 *tc, fa_simd_f64 *c, int HAS_MASK, int HAS_B) \
{                                                                                                 \
    fa_simd_f64 e = fa_sm_sum_exp_##T(v, mkv);                                                    \
    fa_mask_f64 at_max = fa_cmpeq_f64(v, mkv);                                                    \
    if (HAS_B)                                                                                    \
        e = fa_mul_f64(e, w);                                                                     \
    if (HAS_MASK || HAS_B) {                                                                      \
        e = fa_select_f64(inc, e, fa_set1_f64(0.0));                                              \
        at_max = fa_mask_and_f64(at_max, inc);                                                    \
    }                                                                                             \
    /* compensated (Kahan) addition: the terms are >= 0 (or b-weighted), *tc holds the error */ \
    fa_kahan_add_f64(t, tc, fa_select_f64(at_max, fa_set1_f64(0.0), e));                           \
    *c = fa_add_f64(*c, fa_select_f64(at_max, HAS_B ? w : fa_set1_f64(1.0), fa_set1_f64(0.0)));   \
}                                                                                                 \
                                                                                                  \
/* (t, c) of a chunk against its max mk; mk = -inf is replaced by 0 (entries are -inf or NaN) */ \
FA_INLINE void fa_sm_chunk_sum_##T(const fa_scalar_##T *x, const unsigned char *mk,              \
                                   const fa_scalar_##T *b, ptrdiff_t n, double mx,                \
                                   double *tk, double *ck, int HAS_MASK, int HAS_B)              \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    const fa_simd_f64 mkv = fa_set1_f64(mx == -INFINITY ? 0.0 : mx), one = fa_set1_f64(1.0);     \
    fa_simd_f64 t0 = fa_set1_f64(0.0), t1 = t0, c0 = t0, c1 = t0, e0 = t0, e1 = t0;               \
    const fa_mask_f64 all = fa_cmpeq_f64(one, one);                                               \
    ptrdiff_t i = 0;                                                                              \
    for (; i + 2 * L <= n; i += 2 * L) {                                                          \
        fa_simd_f64 w0 = one, w1 = one;                                                           \
        fa_mask_f64 in0 = all, in1 = all;                                                         \
        if (HAS_B) {                                                                              \
            w0 = fa_sm_ld_##T(b + i); w1 = fa_sm_ld_##T(b + i + L);                               \
            in0 = fa_cmpneq_f64(w0, fa_set1_f64(0.0)); in1 = fa_cmpneq_f64(w1, fa_set1_f64(0.0)); \
        }                                                                                         \
        if (HAS_MASK) {                                                                           \
            in0 = fa_mask_and_f64(in0, fa_load_mask_u8_f64(mk + i));                              \
            in1 = fa_mask_and_f64(in1, fa_load_mask_u8_f64(mk + i + L));                          \
        }                                                                                         \
        fa_sm_sum_step_##T(fa_sm_ld_##T(x + i), w0, in0, mkv, &t0, &e0, &c0, HAS_MASK, HAS_B);         \
        fa_sm_sum_step_##T(fa_sm_ld_##T(x + i + L), w1, in1, mkv, &t1, &e1, &c1, HAS_MASK, HAS_B);     \
    }                                                                                             \
    for (; i < n; i += L) {                                                                       \
        const ptrdiff_t left = n - i;                                                             \
        const int full = left >= L;                                                               \
        fa_simd_f64 v = full ? fa_sm_ld_##T(x + i) : fa_sm_ldt_##T(x + i, left, -INFINITY);       \
        fa_simd_f64 w = one;                                                                      \
        fa_mask_f64 in = full ? all : fa_tail_mask_f64(left);                                     \
        if (HAS_B) {                                                                              \
            w = full ? fa_sm_ld_##T(b + i) : fa_sm_ldt_##T(b + i, left, 0.0);                     \
            in = fa_mask_and_f64(in, fa_cmpneq_f64(w, fa_set1_f64(0.0)));                         \
        }                                                                                         \
        if (HAS_MASK)                                                                             \
            in = fa_mask_and_f64(in, full ? fa_load_mask_u8_f64(mk + i) : fa_load_tail_mask_u8_f64(mk + i, left)); \
        fa_sm_sum_step_##T(v, w, in, mkv, &t0, &e0, &c0, 1, HAS_B);                                    \
    }                                                                                             \
    *tk = fa_reduce_add_f64(fa_add_f64(fa_sub_f64(t0, e0), fa_sub_f64(t1, e1)));                  \
    *ck = fa_reduce_add_f64(fa_add_f64(c0, c1));                                                  \
}                                                                                                 \
                                                                                                  \
FA_INLINE void fa_sm_row_stats_##T(const fa_scalar_##T *x, const unsigned char *mk,              \
                                   const fa_scalar_##T *b, ptrdiff_t n, fa_sm_stats *s,           \
                                   int HAS_MASK, int HAS_B)                                       \
{                                                                                                 \
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(fa_scalar_##T);                            \
    s->M = -INFINITY; s->t = 0.0; s->C = 0.0; s->te = 0.0;                                                     \
    for (ptrdiff_t c0 = 0; c0 < n; c0 += chunk) {                                                 \
        const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;                                    \
        const double mx = fa_sm_chunk_max_##T(x + c0, mk + (HAS_MASK ? c0 : 0),                   \
                                              b + (HAS_B ? c0 : 0), len, HAS_MASK, HAS_B);        \
        double tk, ck;                                                                            \
        fa_sm_chunk_sum_##T(x + c0, mk + (HAS_MASK ? c0 : 0), b + (HAS_B ? c0 : 0), len, mx,      \
                            &tk, &ck, HAS_MASK, HAS_B);                                           \
        fa_sm_merge(s, mx, tk, ck);                                                               \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
/* y = softmax (LOG = 0) or log_softmax (LOG = 1) of one row with statistics M, l */             \
FA_INLINE void fa_sm_row_out_##T(const fa_scalar_##T *x, fa_scalar_##T *y, const unsigned char *mk, \
                                 ptrdiff_t n, const fa_sm_stats *s, double l, int LOG, int HAS_MASK) \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    double p1, p2;                                                                                \
    fa_sm_entry_params(s, l, sizeof(fa_scalar_##T) == 8, &p1, &p2);                               \
    const fa_simd_f64 Mv = fa_set1_f64(s->M), lv = fa_set1_f64(l);                                \
    const fa_simd_f64 a1 = fa_set1_f64(p1), a2 = fa_set1_f64(p2);                                 \
    const fa_simd_f64 off = fa_set1_f64(LOG ? -INFINITY : 0.0);                                   \
    ptrdiff_t i = 0;                                                                              \
    for (; i + 2 * L <= n; i += 2 * L) {                                                          \
        fa_simd_f64 v0 = fa_sm_ld_##T(x + i), v1 = fa_sm_ld_##T(x + i + L);                       \
        if (LOG) {                                                                                \
            v0 = fa_sub_f64(fa_sub_f64(v0, Mv), lv);                                              \
            v1 = fa_sub_f64(fa_sub_f64(v1, Mv), lv);                                              \
        } else {                                                                                  \
            v0 = fa_sm_softmax_entry_##T(v0, Mv, a1, a2);                                         \
            v1 = fa_sm_softmax_entry_##T(v1, Mv, a1, a2);                                         \
        }                                                                                         \
        if (HAS_MASK) {                                                                           \
            v0 = fa_select_f64(fa_load_mask_u8_f64(mk + i), v0, off);                             \
            v1 = fa_select_f64(fa_load_mask_u8_f64(mk + i + L), v1, off);                         \
        }                                                                                         \
        fa_sm_st_##T(y + i, v0);                                                                  \
        fa_sm_st_##T(y + i + L, v1);                                                              \
    }                                                                                             \
    for (; i < n; i += L) {                                                                       \
        const ptrdiff_t left = n - i;                                                             \
        fa_simd_f64 v = left >= L ? fa_sm_ld_##T(x + i) : fa_sm_ldt_##T(x + i, left, 0.0);        \
        v = LOG ? fa_sub_f64(fa_sub_f64(v, Mv), lv) : fa_sm_softmax_entry_##T(v, Mv, a1, a2);    \
        if (HAS_MASK)                                                                             \
            v = fa_select_f64(left >= L ? fa_load_mask_u8_f64(mk + i) : fa_load_tail_mask_u8_f64(mk + i, left), v, off); \
        if (left >= L) fa_sm_st_##T(y + i, v); else fa_sm_stt_##T(y + i, v, left);               \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
/* a special row: NaN where included, the masked value elsewhere */                              \
static void fa_sm_row_special_##T(fa_scalar_##T *y, const unsigned char *mk, ptrdiff_t n,        \
                                  ptrdiff_t stride, int LOG)                                      \
{                                                                                                 \
    for (ptrdiff_t k = 0; k < n; k++)                                                             \
        y[k * stride] = (mk && !mk[k * stride]) ? (LOG ? -INFINITY : 0) : NAN;                    \
}                                                                                                 \
                                                                                                  \
FA_INLINE void fa_sm_rows_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t rows, ptrdiff_t n, \
                              const unsigned char *mk, int LOG, int HAS_MASK)                     \
{                                                                                                 \
    for (ptrdiff_t r = 0; r < rows; r++) {                                                        \
        const fa_scalar_##T *xr = x + r * n;                                                      \
        fa_scalar_##T *yr = y + r * n;                                                            \
        const unsigned char *mr = HAS_MASK ? mk + r * n : NULL;                                   \
        fa_sm_stats s;                                                                            \
        double l = 0, sign;                                                                       \
        if (!LOG && n * (ptrdiff_t)sizeof(fa_scalar_##T) <= FA_SM_SMALL_BYTES_##T &&               \
            (FA_SM_SMALL_IN_PLACE_##T || (const void *)xr != (const void *)yr)) {                 \
            const int st = fa_sm_row_softmax_small_##T(xr, mr, yr, n);                            \
            if (st == FA_SM_SPECIAL)                                                              \
                fa_sm_row_special_##T(yr, mr, n, 1, 0);                                           \
            if (st != FA_SM_DECLINED)                                                             \
                continue;                                                                         \
        }                                                                                         \
        const int fast = fa_sm_row_stats_fast_##T(xr, mr, n, &s);                                 \
        if (!fast)                                                                                \
            fa_sm_row_stats_##T(xr, mr, NULL, n, &s, HAS_MASK, 0);                                \
        /* l: log_softmax, and the float32 softmax entries of the generic path (e^(x - M - l)) */ \
        if (fa_sm_finish(&s, LOG || !fast ? &l : NULL, &sign) == FA_SM_SPECIAL)                   \
            fa_sm_row_special_##T(yr, mr, n, 1, LOG);                                             \
        else if (fast)                                                                            \
            fa_sm_row_out_fast_##T(xr, mr, yr, n, &s, l, LOG);                                    \
        else                                                                                      \
            fa_sm_row_out_##T(xr, yr, mr, n, &s, l, LOG, HAS_MASK);                               \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
FA_INLINE void fa_sm_lse_rows_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t rows,      \
                                  ptrdiff_t n, const unsigned char *mk, const fa_scalar_##T *b,  \
                                  fa_scalar_##T *sg, int HAS_MASK, int HAS_B)                     \
{                                                                                                 \
    int cancelled = 0;                                                                            \
    for (ptrdiff_t r = 0; r < rows; r++) {                                                        \
        const fa_scalar_##T *xr = x + r * n;                                                      \
        const unsigned char *mr = HAS_MASK ? mk + r * n : NULL;                                   \
        const fa_scalar_##T *br = HAS_B ? b + r * n : NULL;                                       \
        fa_sm_stats s;                                                                            \
        double sign, v, hi, lo;                                                                   \
        if (!HAS_MASK && !HAS_B && cancelled) {  /* the last row cancelled: sum this one exactly */ \
            fa_lse_exact_sum_##T(xr, n, &hi, &lo);                                                \
            if (fa_lse_from_exact(hi, lo, &v, &sign) && sign > 0) {                               \
                cancelled = fabs(v) < 1.0;                                                        \
                y[r] = (fa_scalar_##T)v;                                                          \
                if (sg) sg[r] = 1;                                                                \
                continue;                                                                         \
            }                                                                                     \
        }                                                                                         \
        if (HAS_B || !fa_sm_row_stats_fast_##T(xr, mr, n, &s))                                   \
            fa_sm_row_stats_##T(xr, mr, br, n, &s, HAS_MASK, HAS_B);                              \
        v = fa_sm_lse_value_##T(&s, xr, n, 1, mr, br, &sign);                                     \
        cancelled = sign > 0 && s.M < 0 && fabs(v) < 1.0;                                         \
        if (sign < 0 && !sg) v = NAN;                                                             \
        y[r] = (fa_scalar_##T)v;                                                                  \
        if (sg) sg[r] = (fa_scalar_##T)sign;                                                      \
    }                                                                                             \
}

FA_SM_DEFINE_ROWS(f32)
FA_SM_DEFINE_ROWS(f64)

/* softmax of a float64 row in one chunk: exp(x - M) once (two-sum argument), stored,
 * compensated sum, then y *= 1/S (a double-double) in place.  The fallback of
 * fa_sm_row_softmax_small_f64 for rows the direct reduction does not take. */
static int fa_sm64_softmax_small_exact(const double *x, double *y, ptrdiff_t n)
{
    const ptrdiff_t L = FA_LANES_F64;
    const double mx = fa_sm_chunk_max_f64(x, NULL, NULL, n, 0, 0);
    if (!(mx > -INFINITY && mx < INFINITY))
        return FA_SM_SPECIAL;
    const fa_simd_f64 mkv = fa_set1_f64(mx), zero = fa_set1_f64(0.0), one = fa_set1_f64(1.0);
    fa_simd_f64 t0 = zero, t1 = zero, e0 = zero, e1 = zero, c0 = zero, c1 = zero;
    const fa_mask_f64 all = fa_cmpeq_f64(one, one);
    ptrdiff_t i = 0;
    for (; i + 2 * L <= n; i += 2 * L) {
        fa_simd_f64 v0 = fa_loadu_f64(x + i), v1 = fa_loadu_f64(x + i + L);
        fa_simd_f64 x0 = fa_sm_sum_exp_f64(v0, mkv), x1 = fa_sm_sum_exp_f64(v1, mkv);
        fa_storeu_f64(y + i, x0);
        fa_storeu_f64(y + i + L, x1);
        fa_sm_sum_step_store_f64(v0, x0, mkv, &t0, &e0, &c0);
        fa_sm_sum_step_store_f64(v1, x1, mkv, &t1, &e1, &c1);
    }
    for (; i < n; i += L) {
        const ptrdiff_t left = n - i;
        fa_simd_f64 v = left >= L ? fa_loadu_f64(x + i) : fa_load_tail_f64(x + i, left, -INFINITY);
        fa_simd_f64 xe = fa_select_f64(left >= L ? all : fa_tail_mask_f64(left), fa_sm_sum_exp_f64(v, mkv), zero);
        if (left >= L) fa_storeu_f64(y + i, xe); else fa_store_tail_f64(y + i, xe, left);
        fa_sm_sum_step_store_f64(v, xe, mkv, &t0, &e0, &c0);
    }
    fa_sm_stats s = {mx, fa_reduce_add_f64(fa_add_f64(fa_sub_f64(t0, e0), fa_sub_f64(t1, e1))),
                     fa_reduce_add_f64(fa_add_f64(c0, c1)), 0.0};
    if (s.t != s.t)
        return FA_SM_SPECIAL;
    double p1, p2;
    fa_sm_entry_params(&s, 0.0, 1, &p1, &p2);
    const fa_simd_f64 ih = fa_set1_f64(p1), il = fa_set1_f64(p2);
    for (i = 0; i + L <= n; i += L) {
        fa_simd_f64 v = fa_loadu_f64(y + i);
        fa_storeu_f64(y + i, fa_fmadd_f64(v, ih, fa_mul_f64(v, il)));
    }
    if (i < n) {
        fa_simd_f64 v = fa_load_tail_f64(y + i, n - i, 0.0);
        fa_store_tail_f64(y + i, fa_fmadd_f64(v, ih, fa_mul_f64(v, il)), n - i);
    }
    return FA_SM_OK;
}

/*
 * ---- float64 data without options: the direct reduction ----
 * x - m is never formed.  Per chunk (FA_SM_CHUNK_BYTES) with max mk and K = round(mk log2e):
 *   e^(x - K ln2) = 2^(j/16) 2^(floor(n/16) - K) e^r,  n = round(16 x log2e), j = n mod 16,
 *   r = (x - (n/16) ln2_hi) - (n/16) ln2_lo, |r| <= 0.0217 (fa_sm64_term: Tang's table and
 *   degree-4 q of the math core; 2^(j/16) 2^(floor(n/16) - K) built exactly by one integer
 *   addition, the result THI (1 + p + tlo/thi) rounded once; vscalefpd only for FA_SM64_CLAMP).
 * x - (n/16) ln2_hi is exact with or without FMA: (n/16) ln2_hi is a double (ln2_hi has 32
 * significant bits, |n| < 2^21) within ln2/32 of x, so Sterbenz applies (n = 0 below
 * ln2/32); the ln2_lo product rounds at 2^-68, the hi/lo split error is 2^-86 |n/16|, and r
 * rounds at 2^-59: the exact difference of the old path (a two-sum of x - m) bought nothing
 * more.  Each term: one rounding (2^-53 relative) + q's 2^-54.8, so <= 1.35 u (u = 2^-53).
 * The chunk's sum is scaled once, in scalar, by e^(K ln2 - mk) as a double-double
 * (fa_sm64_exp_dd: Taylor, 2^-60), giving sum e^(x - mk) for fa_sm_merge.
 * Sums: 4 interleaved Kahan accumulators (the chain is 4 dependent additions), kept as
 * (t, c) and added as double-doubles (no final rounding): <= u + O(n u^2) of the sum.  The
 * statistics add two vectors first (FA_SM64_PAIRS_STATS, ~8% faster): + u.  Worst case for T
 * (entries below the max): 1.35u + u + u = 3.35u relative, so where one entry dominates
 * (l = log1p(T), the max entry's log_softmax -l) <= 3.35 + 0.5 ULP (rows of several chunks:
 * plus fa_sm_merge's rescaling of the earlier chunks when the max grows); softmax (no pairs):
 * stored term 1.35u, S <= 2.35u, y = term * (1/S as a double-double) rounded: <= 4.2 ULP in
 * theory (the old path had the same structure), measured 2.1 (header).
 * The max entries are left out of T by the zero-masked integer addition (x == mk) and the
 * others counted by popcount.  Modes per chunk from its max and min (fa_sm64_mode):
 *   FA_SM64_DIRECT  |mk| < 2^16 and min >= mk - 700: every scaled term is a normal number.
 *   FA_SM64_CLAMP   |mk| < 2^16, entries below mk - 700: x clamped at mk - 760 (terms there
 *                   scale to 0; -inf gives no NaN), scaled by vscalefpd or in two products.
 *   FA_SM64_EXACT   anything else (huge |mk|, +inf, an all -inf chunk): the exact-difference
 *                   code (fa_sm_chunk_sum_f64, fa_sm64_softmax_small_exact).
 * softmax of rows up to FA_SM64_STORE_CHUNKS chunks stores e^(x - Kk ln2) while summing and
 * scales chunk k by 2^(Kk - Kmax) / U (no exp at all: e^(K ln2 - M) cancels); longer rows
 * recompute the terms (fa_sm_row_out_fast_f64).  log_softmax writes row r's output inside
 * row r+1's chunk sums (fa_sm64_log_softmax_rows), and every chunk sum prefetches the next
 * chunk for its max pass.
 * Speed against torch 2.13, one thread, this shared Zen 5 (medians of interleaved runs, the
 * lead's command): (1024, 1024) softmax 2.35x, log_softmax 2.69x, logsumexp 5.4x (before:
 * 1.40x, 1.46x, 3.25x); (64, 50257) 2.0x, 2.2x, 6.5x (before 1.2x, 1.2x, 3.0x); one row of
 * 10^6: 1.9x, 2.3x, 6.0x (before 1.1x, 1.4x, 3.2x).
 */
#define FA_SM64_DIRECT_LIMIT 0x1p16
enum { FA_SM64_EXACT = 0, FA_SM64_DIRECT = 1, FA_SM64_CLAMP = 2 };

FA_INLINE int fa_sm64_mode(double m, double mn)
{
    if (!(m > -FA_SM64_DIRECT_LIMIT && m < FA_SM64_DIRECT_LIMIT))
        return FA_SM64_EXACT;
    return mn >= m - 700.0 ? FA_SM64_DIRECT : FA_SM64_CLAMP;
}

/* K = an integer near m log2e (any such integer keeps the terms below e^0.36) */
FA_INLINE double fa_sm64_shift(double m)
{
    return (m * FA_LOG2E_F64 + FA_MAGIC_F64) - FA_MAGIC_F64;
}

/*
 * e^(x - K ln2), n = round(16 x log2e), j = n mod 16, in Tang's 16-entry scheme of the math core
 * (fa_exp_reduce_f64: tables fa_exp2_16_hi/lo, the degree-4 q of its exp branch, 2^-54.8
 * against 1 + p) with another magic number, Kmagic = 0x1.8p48 - K: it rounds x log2e to a
 * multiple of 1/16, so tn - Kmagic is n/16 itself, the table index is still the low 4 bits of
 * tn, and tn's bits hold 0x1.8p48's bits + m, m = n - 16 K.  |n| < 2^21 keeps (n/16) ln2_hi exact.
 * r = (x - (n/16) ln2_hi) - (n/16) ln2_lo, p = r + r^2 q(r) = expm1(r).
 * FA_SM64_DIRECT (the result normal): THI = 2^(j/16) 2^floor(m/16) exactly, an integer addition
 * of m << 48 to fa_exp2_16_adj[j] (the bits of fa_exp2_16_hi[j] minus j << 48), zero where
 * keep is false; the result is THI (1 + (p + tlo/thi)), one rounding.
 * FA_SM64_CLAMP: em = thi + (thi p + tlo) in [0.97, 2.05], scaled by vscalefpd by tn - 0x1.8p48
 * = n/16 - K (it floors), or in two products below 2^-1000 (fa_scale_exp_f64's steps).
 */
#define FA_SM64_MAGIC16 0x1.8p48
FA_INLINE fa_simd_f64 fa_sm64_term(fa_simd_f64 x, fa_simd_f64 Kmagic, fa_simd_f64 low, fa_mask_f64 keep, int mode)
{
    if (mode == FA_SM64_CLAMP)
        x = fa_max_f64(low, x);              /* keeps NaN */
    fa_simd_f64 tn = fa_fmadd_f64(x, fa_set1_f64(FA_LOG2E_F64), Kmagic);
    fa_simd_f64 n16 = fa_sub_f64(tn, Kmagic);
    fa_simd_f64 r = fa_fnmadd_f64(n16, fa_set1_f64(FA_LN2_HI_F64), x);
    r = fa_fnmadd_f64(n16, fa_set1_f64(FA_LN2_LO_F64), r);
    fa_simd_f64 q = fa_exp_q4_f64(r, 1.0);
    fa_simd_f64 r2 = fa_mul_f64(r, r);
    if (mode == FA_SM64_DIRECT) {
        fa_simd_f64 T = fa_bits_add_maskz_f64(keep, fa_lut16_f64(fa_exp2_16_adj, tn), fa_bits_shl_f64(tn, 48));
        fa_simd_f64 p = fa_fmadd_f64(r2, q, fa_add_f64(r, fa_lut16_f64(fa_exp2_16_rt, tn)));
        return fa_fmadd_f64(T, p, T);
    }
    fa_simd_f64 p = fa_fmadd_f64(r2, q, r);
    fa_simd_f64 thi = fa_lut16_f64(fa_exp2_16_hi, tn), tlo = fa_lut16_f64(fa_exp2_16_lo, tn);
    fa_simd_f64 em = fa_add_f64(thi, fa_fmadd_f64(thi, p, tlo));
#if FA_HAVE_SCALEF
    em = fa_scalef_f64(em, fa_sub_f64(tn, fa_set1_f64(FA_SM64_MAGIC16)));
#else
    fa_mask_f64 deep = fa_cmplt_f64(tn, fa_set1_f64(FA_SM64_MAGIC16 - 1000.0));
    tn = fa_select_f64(deep, fa_add_f64(tn, fa_set1_f64(200.0)), tn);
    em = fa_mul_f64(em, fa_select_f64(deep, fa_set1_f64(0x1p-200), fa_set1_f64(1.0)));
    em = fa_mul_f64(em, fa_pow2_n16_f64(tn));
#endif
    return fa_select_f64(keep, em, fa_set1_f64(0.0));
}

/* e^(ah + al) as hi + lo, |ah| <= 0.37, |al| <= 2^-40: the math family's double-double exp
 * (fa_exp_dd_f64, ~2^-77) of ah, times 1 + al (al^2/2 < 2^-81) */
FA_INLINE void fa_sm64_exp_dd(double ah, double al, double *hi, double *lo)
{
    fa_simd_f64 t, n, l, h = fa_exp_dd_f64(fa_set1_f64(ah), &l, &t, &n);
    h = fa_scale_exp_f64(h, t, n);
    l = fa_scale_exp_f64(l, t, n);
    const double H = fa_reduce_max_f64(h), Lo = fa_reduce_max_f64(l);   /* every lane alike */
    const double pl = fma(H, al, Lo + Lo * al);
    *hi = H + pl;
    *lo = pl - (*hi - H);
}

/* e^(K ln2 - m) as hi + lo (K = fa_sm64_shift(m)): the factor from sum e^(x - K ln2) to
 * sum e^(x - m).  K ln2_hi - m is exact (Sterbenz, as in the vector reduction). */
FA_INLINE void fa_sm64_rel_factor(double m, double K, double *hi, double *lo)
{
    double a = K * FA_LN2_HI_F64 - m, ae = 0.0;
    fa_two_sum_acc(&a, &ae, K * FA_LN2_LO_F64);
    fa_sm64_exp_dd(a, ae, hi, lo);
}



/* sum over k < FA_SM64_ACCS of t[k] - c[k] over every lane, as a double-double: a vector
 * two-sum tree, then the lanes */
#define FA_SM64_ACCS 4
#ifndef FA_SM64_PAIRS_STATS
#define FA_SM64_PAIRS_STATS 1
#endif
#ifndef FA_SM64_PAIRS_SOFTMAX
#define FA_SM64_PAIRS_SOFTMAX 0
#endif
FA_INLINE void fa_sm64_kahan_total(const fa_simd_f64 *t, const fa_simd_f64 *c, double *hi, double *lo)
{
    double a[FA_LANES_F64], b[FA_LANES_F64], h = 0.0, l = 0.0;
    fa_simd_f64 e01, e23, e;
    fa_simd_f64 s01 = fa_two_sum_f64(t[0], t[1], &e01), s23 = fa_two_sum_f64(t[2], t[3], &e23);
    fa_simd_f64 s = fa_two_sum_f64(s01, s23, &e);
    e = fa_add_f64(fa_add_f64(e, e01), e23);
    e = fa_sub_f64(e, fa_add_f64(fa_add_f64(c[0], c[1]), fa_add_f64(c[2], c[3])));
    fa_storeu_f64(a, s);
    fa_storeu_f64(b, e);
    for (int k = 0; k < FA_LANES_F64; k++) {
        fa_two_sum_acc(&h, &l, a[k]);
        l += b[k];
    }
    *hi = h + l;
    *lo = l - (*hi - h);
}

/* one vector of fa_sm64_chunk_sum: the term of v (in: the lanes that count when !full),
 * stored into ystore if given; EXCL: entries equal to mk give 0 and the others are counted
 * in *kept (C = entries - kept; NaN entries count as kept) */
FA_INLINE fa_simd_f64 fa_sm64_sum_term(fa_simd_f64 v, fa_mask_f64 in, int full, double *ystore, ptrdiff_t left,
                                       fa_simd_f64 mkv, fa_simd_f64 Kv, fa_simd_f64 low, int mode, int EXCL,
                                       ptrdiff_t *kept)
{
    fa_mask_f64 keep = in;
    if (EXCL) {
        keep = fa_cmpneq_f64(v, mkv);
        if (!full)
            keep = fa_mask_and_f64(keep, in);
        *kept += fa_mask_count_f64(keep);
    }
    fa_simd_f64 e = fa_sm64_term(v, Kv, low, keep, mode);
    if (ystore) {
        if (full) fa_storeu_f64(ystore, e); else fa_store_tail_f64(ystore, e, left);
    }
    return e;
}

/*
 * sum of e^(x - K ln2) over a chunk whose max is mk: over x != mk with the count of x == mk
 * in *ck (EXCL, the statistics: l = log1p(T) needs T without the max entries), or over
 * every x (softmax), each term also stored into ystore if given.  Kahan-compensated in
 * FA_SM64_ACCS interleaved accumulators (the Kahan chain is 4 dependent additions); PAIRS:
 * two vectors added first (one rounding, relative 2^-53 of the pair) per Kahan step.
 */
/* a log_softmax row whose statistics are known and whose output y = (x - M) - l is written
 * inside the next row's chunk sum (the stores then overlap the exps); y = NULL: none */
typedef struct fa_sm64_pending {
    const double *x;
    double *y;
    double M, l;
} fa_sm64_pending;

FA_INLINE void fa_sm64_chunk_sum(const double *x, ptrdiff_t n, double mk, double K, int mode, int EXCL,
                                 int PAIRS, double *ystore, double *uh, double *ul, double *ck,
                                 const fa_sm64_pending *o)
{
    const fa_simd_f64 oM = fa_set1_f64(o ? o->M : 0.0), ol = fa_set1_f64(o ? o->l : 0.0);
    const ptrdiff_t L = FA_LANES_F64, A = FA_SM64_ACCS, V = PAIRS ? 2 * FA_SM64_ACCS : FA_SM64_ACCS;
    const fa_simd_f64 mkv = fa_set1_f64(mk), Kv = fa_set1_f64(FA_SM64_MAGIC16 - K), low = fa_set1_f64(mk - 760.0);
    const fa_mask_f64 all = fa_cmpeq_f64(mkv, mkv);
    fa_simd_f64 t[FA_SM64_ACCS], c[FA_SM64_ACCS];
    ptrdiff_t kept = 0;
    ptrdiff_t i = 0;
    for (int k = 0; k < A; k++)
        t[k] = c[k] = fa_set1_f64(0.0);
#define FA_SM64_TERM(j) fa_sm64_sum_term(fa_loadu_f64(x + i + (j) * L), all, 1, ystore ? ystore + i + (j) * L : NULL, \
                                         L, mkv, Kv, low, mode, EXCL, &kept)
    for (; i + V * L <= n; i += V * L) {
        for (int k = 0; k < A; k++) {
            fa_simd_f64 e = PAIRS ? fa_add_f64(FA_SM64_TERM(2 * k), FA_SM64_TERM(2 * k + 1)) : FA_SM64_TERM(k);
            fa_kahan_add_f64(&t[k], &c[k], e);
        }
        if (o)
            for (ptrdiff_t j = i; j < i + V * L; j += L)
                fa_storeu_f64(o->y + j, fa_sub_f64(fa_sub_f64(fa_loadu_f64(o->x + j), oM), ol));
        for (ptrdiff_t j = i; j < i + V * L; j += 64 / (ptrdiff_t)sizeof(double)) {
            fa_prefetch_f64(x + n + j);    /* the next chunk (or row) for its max pass; a hint past the end */
            if (ystore)
                fa_prefetchw_f64(ystore + n + j);
            if (o) {                       /* the pending row's next chunk */
                fa_prefetch_f64(o->x + n + j);
                fa_prefetchw_f64(o->y + n + j);
            }
        }
    }
    for (int k = 0; i < n; i += L, k = (k + 1) % FA_SM64_ACCS) {
        const ptrdiff_t left = n - i;
        if (o) {
            fa_simd_f64 v = left >= L ? fa_loadu_f64(o->x + i) : fa_load_tail_f64(o->x + i, left, 0.0);
            v = fa_sub_f64(fa_sub_f64(v, oM), ol);
            if (left >= L) fa_storeu_f64(o->y + i, v); else fa_store_tail_f64(o->y + i, v, left);
        }
        fa_simd_f64 e = left >= L ? FA_SM64_TERM(0)
                                  : fa_sm64_sum_term(fa_load_tail_f64(x + i, left, mk), fa_tail_mask_f64(left), 0,
                                                     ystore ? ystore + i : NULL, left, mkv, Kv, low, mode, EXCL, &kept);
        fa_kahan_add_f64(&t[k], &c[k], e);
    }
#undef FA_SM64_TERM
    fa_sm64_kahan_total(t, c, uh, ul);
    *ck = EXCL ? (double)(n - kept) : 0.0;
}


/* one chunk (max mx, min mn) merged into s; a pending output o (or NULL) is written on the way */
FA_INLINE void fa_sm64_stats_chunk(fa_sm_stats *s, const double *x, ptrdiff_t len, double mx, double mn,
                                   const fa_sm64_pending *o)
{
    const int mode = fa_sm64_mode(mx, mn);
    double tk, ck;
    if (mode == FA_SM64_EXACT) {
        if (o)
            fa_sm_log_out_f64(o->x, o->y, len, o->M, o->l);
        fa_sm_chunk_sum_f64(x, NULL, NULL, len, mx, &tk, &ck, 0, 0);
        fa_sm_merge(s, mx, tk, ck);
        return;
    }
    const double K = fa_sm64_shift(mx), before = s->M;
    double uh, ul, fh, fl;
    if (mode == FA_SM64_DIRECT)
        fa_sm64_chunk_sum(x, len, mx, K, FA_SM64_DIRECT, 1, FA_SM64_PAIRS_STATS, NULL, &uh, &ul, &ck, o);
    else
        fa_sm64_chunk_sum(x, len, mx, K, FA_SM64_CLAMP, 1, FA_SM64_PAIRS_STATS, NULL, &uh, &ul, &ck, o);
    fa_sm64_rel_factor(mx, K, &fh, &fl);
    tk = uh * fh;
    const double tl = fma(uh, fh, -tk) + (uh * fl + ul * fh);
    fa_sm_merge(s, mx, tk, ck);
    if (mx >= before)                /* tk entered at scale 1 (below, tl is under 2^-53 of it) */
        s->te += tl;
}

/* t the rounded sum (the callers' S = C + t), te the rest */
FA_INLINE void fa_sm64_stats_normalize(fa_sm_stats *s)
{
    const double t = s->t + s->te;
    s->te -= t - s->t;
    s->t = t;
}

static int fa_sm_row_stats_fast_f64(const double *x, const unsigned char *mk, ptrdiff_t n, fa_sm_stats *s)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(double);
    double *rmin = &s->rmin;
    if (mk)
        return 0;
    s->M = -INFINITY; s->t = 0.0; s->C = 0.0; s->te = 0.0;
    *rmin = INFINITY;
    for (ptrdiff_t c0 = 0; c0 < n; c0 += chunk) {
        const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;
        double mx, mn;
        fa_sm_chunk_max_min_f64(x + c0, len, &mx, &mn);
        *rmin = mn < *rmin ? mn : *rmin;
        fa_sm64_stats_chunk(s, x + c0, len, mx, mn, NULL);
    }
    fa_sm64_stats_normalize(s);
    return 1;
}

/*
 * log_softmax of contiguous float64 rows, no mask: row r's output pass runs inside row r+1's
 * chunk sums, chunk by chunk (the stores to memory overlap the exps).  y may be x.
 */
static int fa_sm64_log_softmax_rows(const double *x, double *y, ptrdiff_t rows, ptrdiff_t n)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(double);
    const double *px = NULL;
    double *py = NULL, pM = 0.0, pl = 0.0;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const double *xr = x + r * n;
        fa_sm_stats s = {-INFINITY, 0.0, 0.0, 0.0};
        double l, sign;
        for (ptrdiff_t c0 = 0; c0 < n; c0 += chunk) {
            const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;
            const fa_sm64_pending o = {py ? px + c0 : NULL, py ? py + c0 : NULL, pM, pl};
            double mx, mn;
            fa_sm_chunk_max_min_f64(xr + c0, len, &mx, &mn);
            fa_sm64_stats_chunk(&s, xr + c0, len, mx, mn, py ? &o : NULL);
        }
        fa_sm64_stats_normalize(&s);
        py = NULL;
        if (fa_sm_finish(&s, &l, &sign) == FA_SM_SPECIAL) {
            fa_sm_row_special_f64(y + r * n, NULL, n, 1, 1);
            continue;
        }
        px = xr; py = y + r * n; pM = s.M; pl = l;
    }
    if (py)
        fa_sm_log_out_f64(px, py, n, pM, pl);
    return 1;
}

/* log_softmax: y = (x - M) - l; softmax of rows past the stored path: e^(x - M) / S recomputed
 * with the direct reduction, y = 2^(J - K) (p (gh + gl)), gh + gl = e^(K ln2 - M) / S. */
static void fa_sm_row_out_fast_f64(const double *x, const unsigned char *mk, double *y, ptrdiff_t n,
                                   const fa_sm_stats *st, double l, int LOG)
{
    const double M = st->M, rmin = st->rmin, S = st->C + st->t;
    (void)mk;                            /* NULL: masked rows are not taken by the statistics */
    const ptrdiff_t L = FA_LANES_F64;
    ptrdiff_t i = 0;
    if (LOG) {
        fa_sm_log_out_f64(x, y, n, M, l);
        return;
    }
    const int mode = fa_sm64_mode(M, rmin);
    if (mode == FA_SM64_EXACT) {
        const fa_sm_stats s = {M, 0.0, S, 0.0};
        fa_sm_row_out_f64(x, y, NULL, n, &s, l, 0, 0);
        return;
    }
    const double K = fa_sm64_shift(M);
    double fh, fl;
    fa_sm64_rel_factor(M, K, &fh, &fl);
    const double gh = fh / S, gl = (fma(-gh, S, fh) + fl) / S;
    const fa_simd_f64 Kv = fa_set1_f64(FA_SM64_MAGIC16 - K), ghv = fa_set1_f64(gh), glv = fa_set1_f64(gl);
    const fa_simd_f64 low = fa_set1_f64(M - 760.0);
    const fa_mask_f64 all = fa_cmpeq_f64(ghv, ghv);
    for (; i < n; i += L) {
        const ptrdiff_t left = n - i;
        fa_simd_f64 v = left >= L ? fa_loadu_f64(x + i) : fa_load_tail_f64(x + i, left, M);
        v = mode == FA_SM64_DIRECT ? fa_sm64_term(v, Kv, low, all, FA_SM64_DIRECT)
                                   : fa_sm64_term(v, Kv, low, all, FA_SM64_CLAMP);
        v = fa_fmadd_f64(v, ghv, fa_mul_f64(v, glv));
        if (left >= L) fa_storeu_f64(y + i, v); else fa_store_tail_f64(y + i, v, left);
    }
}

/* v 2^d for d <= 0: one exact product while 2^d is normal, libm below (rare) */
FA_INLINE double fa_sm64_ldexp(double v, int d)
{
    if (d == 0)
        return v;
    if (d < -1022)
        return ldexp(v, d);
    const uint64_t u = (uint64_t)(d + 1023) << 52;
    double p;
    memcpy(&p, &u, 8);
    return v * p;
}

/*
 * softmax of a float64 row of up to FA_SM64_STORE_CHUNKS chunks (x and y stay in L2): per
 * chunk e^(x - Kk ln2) is stored into y while summed (no statistics needed: the factor
 * e^(K ln2 - M) cancels between the entries and S), then chunk k is scaled in place by
 * 2^(Kk - Kmax) / U, U = sum_k Uk 2^(Kk - Kmax), as a double-double.  Rows with a chunk the
 * direct reduction does not take go through fa_sm64_softmax_small_exact.
 */
static int fa_sm_row_softmax_small_f64(const double *x, const unsigned char *mk, double *y, ptrdiff_t n)
{
    if (mk)
        return FA_SM_DECLINED;
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(double);
    double Ks[FA_SM64_STORE_CHUNKS], uh[FA_SM64_STORE_CHUNKS], ul[FA_SM64_STORE_CHUNKS];
    double Kmax = -INFINITY;
    int nc = 0;
    for (ptrdiff_t c0 = 0; c0 < n; c0 += chunk, nc++) {
        const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;
        double mx, mn, ck;
        fa_sm_chunk_max_min_f64(x + c0, len, &mx, &mn);
        const int mode = fa_sm64_mode(mx, mn);
        if (mode == FA_SM64_EXACT)
            return fa_sm64_softmax_small_exact(x, y, n);
        Ks[nc] = fa_sm64_shift(mx);
        Kmax = Ks[nc] > Kmax ? Ks[nc] : Kmax;
        if (mode == FA_SM64_DIRECT)
            fa_sm64_chunk_sum(x + c0, len, mx, Ks[nc], FA_SM64_DIRECT, 0, FA_SM64_PAIRS_SOFTMAX, y + c0, &uh[nc], &ul[nc], &ck, NULL);
        else
            fa_sm64_chunk_sum(x + c0, len, mx, Ks[nc], FA_SM64_CLAMP, 0, FA_SM64_PAIRS_SOFTMAX, y + c0, &uh[nc], &ul[nc], &ck, NULL);
    }
    double U = 0.0, Ue = 0.0;
    for (int c = 0; c < nc; c++) {           /* 2^(Kk - Kmax) is exact (or the chunk is negligible) */
        const int d = (int)(Ks[c] - Kmax);
        fa_two_sum_acc(&U, &Ue, fa_sm64_ldexp(uh[c], d));
        Ue += fa_sm64_ldexp(ul[c], d);
    }
    if (U != U)
        return FA_SM_SPECIAL;
    const double ih = 1.0 / U, il = (fma(-U, ih, 1.0) - Ue * ih) * ih;
    for (int c = 0; c < nc; c++) {
        const ptrdiff_t c0 = c * chunk, len = n - c0 < chunk ? n - c0 : chunk;
        const int d = (int)(Ks[c] - Kmax);
        fa_sm_scale_pair_f64(y + c0, len, fa_sm64_ldexp(ih, d), fa_sm64_ldexp(il, d));
    }
    return FA_SM_OK;
}

/* what a column kernel computes (fa_softmax_cols.h) */
enum { FA_SM_OP_SOFTMAX = 0, FA_SM_OP_LOG_SOFTMAX = 1, FA_SM_OP_LSE = 2 };
#include "fa_softmax_cols.h"

/* ---- the kernels in the dispatch table ---- */
#define FA_SM_COLS_FAST_f32 fa_sm_cols_fast_f32
/* log_softmax rows (inner == 1, no mask): 0 where not handled */
#define FA_SM_LOG_ROWS_FAST_f32(x, y, rows, n) 0
#define FA_SM_LOG_ROWS_FAST_f64 fa_sm64_log_softmax_rows
/* float64 columns: no separate fast path, the generic code */
#define FA_SM_COLS_FAST_f64(x, y, sg, outer, n, inner, op)                                        \
    ((op) == FA_SM_OP_LSE ? fa_sm_lse_cols_f64(x, y, outer, n, inner, NULL, NULL, sg)                        \
               : fa_sm_cols_f64(x, y, outer, n, inner, NULL, op))
#define FA_SM_DEFINE_KERNELS(T)                                                                   \
/* softmax (LOG = 0) and log_softmax (LOG = 1) */                                              \
static void fa_sm_rowwise_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,         \
                              ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o, int LOG)       \
{                                                                                                 \
    const unsigned char *mk = o ? o->mask : NULL;                                                 \
    if (n <= 0 || outer <= 0 || inner <= 0) return;                                              \
    if (inner > 1 && !mk) FA_SM_COLS_FAST_##T(x, y, NULL, outer, n, inner, LOG);              \
    else if (inner > 1) fa_sm_cols_##T(x, y, outer, n, inner, mk, LOG);                           \
    else if (mk) fa_sm_rows_##T(x, y, outer, n, mk, LOG, 1);                                      \
    else if (!LOG || !FA_SM_LOG_ROWS_FAST_##T(x, y, outer, n)) fa_sm_rows_##T(x, y, outer, n, NULL, LOG, 0); \
}                                                                                                 \
static void fa_k_softmax_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,          \
                             ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o)                 \
{ fa_sm_rowwise_##T(x, y, outer, n, inner, o, 0); }                                               \
static void fa_k_log_softmax_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,      \
                                 ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o)             \
{ fa_sm_rowwise_##T(x, y, outer, n, inner, o, 1); }                                               \
static void fa_k_logsumexp_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,        \
                               ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o)               \
{                                                                                                 \
    const unsigned char *mk = o ? o->mask : NULL;                                                 \
    const fa_scalar_##T *b = o ? (const fa_scalar_##T *)o->b : NULL;                              \
    fa_scalar_##T *sg = o ? (fa_scalar_##T *)o->sign : NULL;                                      \
    if (outer <= 0 || inner <= 0) return;                                                         \
    if (n <= 0) {                                                                                 \
        for (ptrdiff_t i = 0; i < outer * inner; i++) {                                           \
            y[i] = -INFINITY;                                                                     \
            if (sg) sg[i] = 0;                                                                    \
        }                                                                                         \
        return;                                                                                   \
    }                                                                                             \
    if (inner > 1 && !mk && !b) FA_SM_COLS_FAST_##T(x, y, sg, outer, n, inner, FA_SM_OP_LSE); \
    else if (inner > 1) fa_sm_lse_cols_##T(x, y, outer, n, inner, mk, b, sg);                     \
    else if (!mk && !b) fa_sm_lse_rows_##T(x, y, outer, n, NULL, NULL, sg, 0, 0);                 \
    else if (!b) fa_sm_lse_rows_##T(x, y, outer, n, mk, NULL, sg, 1, 0);                          \
    else if (!mk) fa_sm_lse_rows_##T(x, y, outer, n, NULL, b, sg, 0, 1);                          \
    else fa_sm_lse_rows_##T(x, y, outer, n, mk, b, sg, 1, 1);                                     \
}

FA_SM_DEFINE_KERNELS(f32)
FA_SM_DEFINE_KERNELS(f64)

#endif /* FA_SOFTMAX_H */
