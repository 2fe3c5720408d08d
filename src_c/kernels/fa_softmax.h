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
 * Lanes and exps: float32 data without mask/weights runs in float32 lanes (rr2 Cody-Waite,
 * degree-6 fit, 2^-26.5); masked/weighted float32 data and float64 columns run in float64
 * lanes (degree 11, 2^-56; float32-accurate degree 6 for float32 data).  float64 rows
 * without mask/weights take the direct reduction (below, "float64 data without options"):
 * e^(x - K ln2) from x itself, no x - m, scaled once per chunk.
 * float32 rows without options, the e^x pass: one pass gives a chunk's max and the sum of
 * e^x itself, reduced from x directly (the rr2 reduction is exact on x, so nothing is lost
 * by not forming x - mk), scaled by e^-mk once in double.  The max entries stay inside
 * that sum, which is as accurate as keeping them apart while S >= 4; rows with a smaller
 * S (dominant entries: l = log1p(T) needs T exactly), chunks whose sum is below 2^-100 or
 * not finite (entries far below the max, -inf, NaN) or whose max is above 64, and softmax
 * rows with M < 0 (stored e^x could be subnormal) are summed again by the exact-difference
 * path.  Long softmax rows with M in [-80, 64] write y = 2^n (p e^-M/S) the same way.
 * float32 rows with a `where=` mask (no weights) take the same e^x pass, the left-out
 * entries selected away (fa_sm_row_stats_masked_f32, fa_sm_row_out_masked_f32); the rows
 * it does not take run in float64 lanes.
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
 * logsumexp is M + l with l's absolute error ~1 ULP of l: when M + l cancels (M < 0,
 * result near 0) or |result| < 1, the error in ULPs of the result grows (ill-conditioned
 * step; inputs spread over +-50 never get there).
 */
#ifndef FA_SOFTMAX_H
#define FA_SOFTMAX_H
#include <math.h>

#define FA_SM_CHUNK_BYTES 16384
#define FA_SM_COLS 4           /* column vectors per block when inner > 1 */

#define FA_SM_LOG2E 0x1.71547652b82fep+0
#define FA_SM_LN2 0x1.62e42fefa39efp-1
#define FA_SM_LN2_HI32 0x1.62e42fee00000p-1   /* ln 2 rounded down to a multiple of 2^-32 */
#define FA_SM_LN2_LO32 0x1.a39ef35793c76p-33  /* ln 2 - FA_SM_LN2_HI32 */
#define FA_SM_ROUND_MAGIC 0x1.8p52            /* (v + magic) - magic rounds |v| < 2^51 */

/* ---- exp building blocks on float64 lanes ---- */

/* 2^n for integral n in [-1022, 1023], built from the exponent bits. */
FA_INLINE fa_simd_f64 fa_sm_exp2i_f64(fa_simd_f64 n)
{
    fa_simd_f64 biased = fa_add_f64(n, fa_set1_f64(FA_SM_ROUND_MAGIC));
    return fa_bits_shl_f64(fa_bits_add_f64(biased, fa_set1_bits_f64(1023)), 52);
}

/* p * 2^n for integral n in [-1100, 0]: vscalefpd, or two exact-range steps elsewhere
 * (the second multiply is the only rounding; subnormal results may round twice). */
FA_INLINE fa_simd_f64 fa_sm_ldexp_f64(fa_simd_f64 p, fa_simd_f64 n)
{
#if FA_HAVE_SCALEF
    return fa_scalef_f64(p, n);
#else
    fa_simd_f64 n1 = fa_max_f64(n, fa_set1_f64(-1020.0));
    fa_simd_f64 n2 = fa_sub_f64(n, n1);
    return fa_mul_f64(fa_mul_f64(p, fa_sm_exp2i_f64(n1)), fa_sm_exp2i_f64(n2));
#endif
}

/* n = nearest integer to v*log2(e) (ties either way) */
FA_INLINE fa_simd_f64 fa_sm_round_log2e_f64(fa_simd_f64 v)
{
    fa_simd_f64 magic = fa_set1_f64(FA_SM_ROUND_MAGIC);
    return fa_sub_f64(fa_fmadd_f64(v, fa_set1_f64(FA_SM_LOG2E), magic), magic);
}

/* exp(r) for |r| <= ln2/2 + 1e-3, relative error 2^-27.5 (enough for float32 results):
 * 1 + r*q(r), q a degree-5 Chebyshev fit of expm1(r)/r (mpmath chebyfit; re-derived by
 * tools/fit/fit_exp_log_f64.py). */
FA_INLINE fa_simd_f64 fa_sm_poly6_f64(fa_simd_f64 r)
{
    fa_simd_f64 q = fa_set1_f64(0x1.6d44d2021d74fp-10);
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.123f3edb3b42bp-7));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.5554e7cfb8dd9p-5));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.55547a2eed730p-3));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.0000000bc3067p-1));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.0000002f1229fp+0));
    return fa_fmadd_f64(q, r, fa_set1_f64(1.0));
}

/* exp(r) for |r| <= ln2/2 + 1e-3, relative error 2^-56 (float64 results): degree 11,
 * 1 + r*q(r), q a degree-10 Chebyshev fit of expm1(r)/r (mpmath chebyfit). */
FA_INLINE fa_simd_f64 fa_sm_poly11_f64(fa_simd_f64 r)
{
    fa_simd_f64 r2 = fa_mul_f64(r, r);
    /* Estrin on pairs, then Horner in r^2: shorter dependency chain than plain Horner */
    fa_simd_f64 c10 = fa_set1_f64(0x1.af4f375ba602bp-26);
    fa_simd_f64 p98 = fa_fmadd_f64(fa_set1_f64(0x1.28a3d9bc20371p-22), r, fa_set1_f64(0x1.71de0190b33a1p-19));
    fa_simd_f64 p76 = fa_fmadd_f64(fa_set1_f64(0x1.a019a55b9796dp-16), r, fa_set1_f64(0x1.a01a01ac1adebp-13));
    fa_simd_f64 p54 = fa_fmadd_f64(fa_set1_f64(0x1.6c16c17f994b9p-10), r, fa_set1_f64(0x1.111111111007ep-7));
    fa_simd_f64 p32 = fa_fmadd_f64(fa_set1_f64(0x1.5555555551f75p-5), r, fa_set1_f64(0x1.5555555555557p-3));
    fa_simd_f64 p10 = fa_fmadd_f64(fa_set1_f64(0x1.0000000000005p-1), r, fa_set1_f64(0x1.0000000000000p+0));
    fa_simd_f64 q = fa_fmadd_f64(c10, r2, p98);
    q = fa_fmadd_f64(q, r2, p76);
    q = fa_fmadd_f64(q, r2, p54);
    q = fa_fmadd_f64(q, r2, p32);
    q = fa_fmadd_f64(q, r2, p10);
    return fa_fmadd_f64(q, r, fa_set1_f64(1.0));
}

/* exp(d) for d <= ~0, float32 accuracy; d < -110 gives ~1e-48 (0 once rounded to
 * float32); NaN stays NaN.  Single-constant ln 2 (|n| <= 159: error < 2^-44). */
FA_INLINE fa_simd_f64 fa_sm_exp_lo_f64(fa_simd_f64 d)
{
    d = fa_max_f64(fa_set1_f64(-110.0), d);
    fa_simd_f64 n = fa_sm_round_log2e_f64(d);
    fa_simd_f64 r = fa_fnmadd_f64(n, fa_set1_f64(FA_SM_LN2), d);
    return fa_mul_f64(fa_sm_poly6_f64(r), fa_sm_exp2i_f64(n));
}

/* exp(d) for d <= ~0, float64 accuracy (Cody-Waite ln2 hi/lo); d < -750 gives 0; NaN stays NaN. */
FA_INLINE fa_simd_f64 fa_sm_exp_hi_f64(fa_simd_f64 d)
{
    d = fa_max_f64(fa_set1_f64(-750.0), d);
    fa_simd_f64 n = fa_sm_round_log2e_f64(d);
    fa_simd_f64 r = fa_fnmadd_f64(n, fa_set1_f64(FA_SM_LN2_HI32), d);
    r = fa_fnmadd_f64(n, fa_set1_f64(FA_SM_LN2_LO32), r);
    return fa_sm_ldexp_f64(fa_sm_poly11_f64(r), n);
}

/* softmax entry for float64 data: exp(x - M) * (ih + il), x - M as a two-sum (d + e) fed
 * into the Cody-Waite reduction, ih + il = 1/S as a double-double.  (Folding l = log S
 * into the exponent instead would cost the rounding of l, up to 2 ULP once l > 4.) */
FA_INLINE fa_simd_f64 fa_sm_softmax_entry_f64(fa_simd_f64 x, fa_simd_f64 M, fa_simd_f64 ih, fa_simd_f64 il)
{
    fa_simd_f64 d = fa_sub_f64(x, M);
    fa_simd_f64 bb = fa_sub_f64(d, x);
    fa_simd_f64 e = fa_add_f64(fa_sub_f64(x, fa_sub_f64(d, bb)), fa_sub_f64(fa_neg_f64(M), bb));
    e = fa_select_f64(fa_cmplt_f64(d, fa_set1_f64(-740.0)), fa_set1_f64(0.0), e);   /* inf - inf */
    d = fa_max_f64(fa_set1_f64(-750.0), d);
    fa_simd_f64 n = fa_sm_round_log2e_f64(d);
    fa_simd_f64 r = fa_fnmadd_f64(n, fa_set1_f64(FA_SM_LN2_HI32), d);
    r = fa_add_f64(fa_fnmadd_f64(n, fa_set1_f64(FA_SM_LN2_LO32), r), e);
    fa_simd_f64 p = fa_sm_poly11_f64(r);
    return fa_sm_ldexp_f64(fa_fmadd_f64(p, ih, fa_mul_f64(p, il)), n);
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
    fa_simd_f64 d = fa_sub_f64(x, m);
    fa_simd_f64 bb = fa_sub_f64(d, x);
    fa_simd_f64 e = fa_add_f64(fa_sub_f64(x, fa_sub_f64(d, bb)), fa_sub_f64(fa_neg_f64(m), bb));
    e = fa_select_f64(fa_cmplt_f64(d, fa_set1_f64(-740.0)), fa_set1_f64(0.0), e);
    d = fa_max_f64(fa_set1_f64(-750.0), d);
    fa_simd_f64 n = fa_sm_round_log2e_f64(d);
    fa_simd_f64 r = fa_fnmadd_f64(n, fa_set1_f64(FA_SM_LN2_HI32), d);
    r = fa_add_f64(fa_fnmadd_f64(n, fa_set1_f64(FA_SM_LN2_LO32), r), e);
    return fa_sm_ldexp_f64(fa_sm_poly11_f64(r), n);
}

/* t += term (Kahan, error in *tc) unless x is at the max, where c += 1 instead */
FA_INLINE void fa_sm_sum_step_store_f64(fa_simd_f64 x, fa_simd_f64 term, fa_simd_f64 mkv,
                                        fa_simd_f64 *t, fa_simd_f64 *tc, fa_simd_f64 *c)
{
    fa_mask_f64 at = fa_cmpeq_f64(x, mkv);
    fa_simd_f64 y_ = fa_sub_f64(fa_select_f64(at, fa_set1_f64(0.0), term), *tc);
    fa_simd_f64 s_ = fa_add_f64(*t, y_);
    *tc = fa_sub_f64(fa_sub_f64(s_, *t), y_);
    *t = s_;
    *c = fa_add_f64(*c, fa_select_f64(at, fa_set1_f64(1.0), fa_set1_f64(0.0)));
}

/* ---- the statistics of a slice: running max M, T = sum_{x<M} w e^(x-M), C = sum_{x==M} w ---- */
typedef struct fa_sm_stats {
    double M, t, C, te;    /* te: rounding error of the additions into t (t + te is the sum) */
} fa_sm_stats;

/* s += v as a two-sum, the error kept in *err */
FA_INLINE void fa_sm_add2(double *s, double *err, double v)
{
    double sum = *s + v, bb = sum - *s;
    *err += (*s - (sum - bb)) + (v - bb);
    *s = sum;
}

/* merge a chunk's (mk, tk, ck) into s (scalar; once per chunk) */
FA_INLINE void fa_sm_merge(fa_sm_stats *s, double mk, double tk, double ck)
{
    if (mk > s->M) {
        if (s->M == -INFINITY) {             /* the first chunk (or all -inf so far) */
            fa_sm_add2(&s->t, &s->te, tk);
        } else {
            s->t = (s->t + s->te + s->C) * exp(s->M - mk) + tk;
            s->te = 0.0;
        }
        s->C = ck;
        s->M = mk;
    } else if (mk == s->M) {
        fa_sm_add2(&s->t, &s->te, tk);
        s->C += ck;
    } else {
        fa_sm_add2(&s->t, &s->te, (tk + ck) * exp(mk - s->M));  /* mk = -inf: tk is 0 or NaN, kept */
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
        fa_sm_add2(&hi, &lo, C);
        fa_sm_add2(&hi, &lo, T);
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
    fa_sm_add2(&hi, &lo, s->C);
    fa_sm_add2(&hi, &lo, s->t);
    fa_sm_add2(&hi, &lo, s->te);
    const double ih = 1.0 / hi;
    const double rem = fma(-hi, ih, 1.0) - lo * ih;     /* 1 - S * ih, S = hi + lo */
    *a1 = ih;
    *a2 = rem * ih;
}

/*
 * S = sum of e^x over a contiguous float32 row as a double-double (*hi + *lo), each term to
 * ~2^-56 relative: for the logsumexp rows that cancel (M < 0, result v = log S in (-1, 1),
 * so S is in (0.36, 2.8) and no shift by M is needed); v = log1p((hi - 1) + lo) then has an
 * absolute error ~2^-56, below half a float32 ULP of any |v| >= 2^-30.
 * Per term: x (exact in double, clamped at -800) = k ln2 + r, r = x - k ln2_hi exact
 * (ln2_hi has 32 bits, so k ln2_hi is exact and r a multiple of 2^-32 below 0.35 + ulp, or
 * |k| <= 1 by Sterbenz), rl = -k ln2_lo; e^r = 1 + r + r^2 q(r) summed by two Fast2Sums
 * (r^2 a two-product; q = Taylor of (e^r - 1 - r)/r^2 to degree 11, truncation 2^-54.5 of q
 * times r^2 <= 0.125: 2^-57.5; q's roundings likewise below 2^-56); times (1 + rl); 2^k
 * exact (e^x >= 2^-1075 is a normal double or 0 here).  Terms are added by two-sums.
 */
FA_INLINE void fa_sm_sum_exp_dd_f32(const float *x, ptrdiff_t n, double *hi, double *lo)
{
    static const double q_coef[12] = {   /* 1/(j+2)!, j = 11 .. 0 */
        1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
        1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5};
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 one = fa_set1_f64(1.0);
    fa_simd_f64 sh = fa_set1_f64(0.0), sl = sh;
    for (ptrdiff_t i = 0; i < n; i += L) {
        const ptrdiff_t left = n - i;
        fa_simd_f64 v = left >= L ? fa_sm_ld_f32(x + i) : fa_sm_ldt_f32(x + i, left, -INFINITY);
        v = fa_max_f64(fa_set1_f64(-800.0), v);
        fa_simd_f64 k = fa_sm_round_log2e_f64(v);
        fa_simd_f64 r = fa_fnmadd_f64(k, fa_set1_f64(FA_SM_LN2_HI32), v);       /* exact */
        fa_simd_f64 rl = fa_mul_f64(k, fa_set1_f64(-FA_SM_LN2_LO32));
        fa_simd_f64 q = fa_set1_f64(q_coef[0]);
        for (int j = 1; j < 12; j++)
            q = fa_fmadd_f64(q, r, fa_set1_f64(q_coef[j]));
        fa_simd_f64 r2l, r2h = fa_two_prod_f64(r, r, &r2l);
        fa_simd_f64 t = fa_fmadd_f64(r2h, q, fa_mul_f64(r2l, q));
        fa_simd_f64 s1 = fa_add_f64(one, r);                                     /* Fast2Sum(1, r) */
        fa_simd_f64 e1 = fa_sub_f64(r, fa_sub_f64(s1, one));
        fa_simd_f64 h = fa_add_f64(s1, t);                                        /* Fast2Sum(s1, t) */
        fa_simd_f64 e2 = fa_sub_f64(t, fa_sub_f64(h, s1));
        fa_simd_f64 l = fa_fmadd_f64(h, rl, fa_add_f64(e1, e2));
        h = fa_sm_ldexp_f64(h, k);
        l = fa_sm_ldexp_f64(l, k);
        fa_simd_f64 u = fa_add_f64(sh, h), bb = fa_sub_f64(u, sh);               /* two-sum */
        sl = fa_add_f64(sl, fa_add_f64(fa_add_f64(fa_sub_f64(sh, fa_sub_f64(u, bb)), fa_sub_f64(h, bb)), l));
        sh = u;
    }
    double lanes_h[FA_LANES_F64], lanes_l[FA_LANES_F64], H = 0.0, E = 0.0;
    fa_storeu_f64(lanes_h, sh);
    fa_storeu_f64(lanes_l, sl);
    for (ptrdiff_t j = 0; j < L; j++) {
        fa_sm_add2(&H, &E, lanes_h[j]);
        E += lanes_l[j];
    }
    *hi = H;
    *lo = E;
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
/* M + log(sum of w*e^(x - M)) summed again, for the slices where M + l cancels               \
 * (fa_sm_lse_value): in long double (x87: 64-bit significand), or, for float32 data whose   \
 * result is not tiny, in double with a compensated sum (libm exp: ~10x faster than expl;     \
 * contiguous rows without options: fa_sm_sum_exp_dd_f32, vectorised double-double). */         \
static double fa_sm_lse_exact_##T(const fa_scalar_##T *x, ptrdiff_t n, ptrdiff_t stride,          \
                                  const unsigned char *mask, const fa_scalar_##T *b, double M,    \
                                  double estimate)                                                \
{                                                                                                 \
    /* float32 contiguous rows: double-double, judged by its own result (the estimate carries    \
     * ~2^-26 absolute error) */                                                                  \
    if (sizeof(fa_scalar_##T) == 4 && stride == 1 && !mask && !b) {                               \
        double hi, lo;                                                                            \
        fa_sm_sum_exp_dd_f32((const float *)x, n, &hi, &lo);                                      \
        const double v = log1p((hi - 1.0) + lo);           /* ~2^-56 absolute */                  \
        if (fabs(v) >= 0x1p-30)                                                                   \
            return v;                                                                             \
    }                                                                                             \
    /* float32 data, double: l = log(sum) has an absolute error ~(|M| + 1) 2^-52; 2^-20 leaves  \
     * room for the estimate's error */                                                          \
    if (sizeof(fa_scalar_##T) == 4 && fabs(estimate) >= 0x1p-20) {                                \
        double sum = 0.0, err = 0.0;                                                              \
        for (ptrdiff_t k = 0; k < n; k++) {                                                       \
            const ptrdiff_t at = k * stride;                                                      \
            const double w = b ? (double)b[at] : 1.0;                                             \
            if ((mask && !mask[at]) || w == 0.0)                                                  \
                continue;                                                                         \
            fa_sm_add2(&sum, &err, w * exp((double)x[at] - M));                                   \
        }                                                                                         \
        return M + log(sum + err);                                                                \
    }                                                                                             \
    long double sum = 0.0L;                                                                       \
    for (ptrdiff_t k = 0; k < n; k++) {                                                           \
        const ptrdiff_t at = k * stride;                                                          \
        const long double w = b ? (long double)b[at] : 1.0L;                                      \
        if ((mask && !mask[at]) || w == 0.0L)                                                     \
            continue;                                                                             \
        sum += w * expl((long double)x[at] - (long double)M);                                     \
    }                                                                                             \
    return (double)((long double)M + logl(sum));                                                  \
}                                                                                                 \
                                                                                                  \
/* logsumexp of a slice from its statistics.  M + l is ill-conditioned where it cancels        \
 * (M < 0 < l, result near 0): l carries the sum's absolute error, ~2^-53 (each exp term is     \
 * rounded), which is ~1/|M + l| ULPs of the result.  So where |M + l| < 1 and < l the slice is  \
 * summed again (fa_sm_lse_exact: a scalar pass in double or long double), and where     \
 * only |M + l| < 4 l (float64 data) l is taken again as logl of the sum, one libm call.  Below  \
 * |result| ~ 2^-11 (float64) even long double runs short: the absolute error is then ~2^-64.  \
 * Other slices keep the fast result; neither refinement occurs for inputs spread over +-50    \
 * unless the result lands in (-1, 1). */                                                       \
static double fa_sm_lse_value_##T(const fa_sm_stats *s, const fa_scalar_##T *x, ptrdiff_t n,      \
                                  ptrdiff_t stride, const unsigned char *mask,                    \
                                  const fa_scalar_##T *b, double *sign)                           \
{                                                                                                 \
    double l;                                                                                     \
    if (fa_sm_finish(s, &l, sign) == FA_SM_SPECIAL)                                               \
        return fa_sm_lse_special_##T(x, n, stride, mask, b, sign);                                \
    double v = s->M + l;                                                                          \
    if (!(*sign > 0) || !(s->M < 0))   /* no cancellation (and l = log1p(T) stays as it is) */    \
        return v;                                                                                 \
    if (fabs(v) < 1.0 && fabs(v) < l)                                                             \
        return fa_sm_lse_exact_##T(x, n, stride, mask, b, s->M, v);                               \
    if (sizeof(fa_scalar_##T) == 8 && fabs(v) < 4.0 * fabs(l))                                    \
        v = (double)((long double)s->M + logl((long double)s->C + (long double)s->t + (long double)s->te)); \
    return v;                                                                                     \
}

/* ---- float32 lanes, for float32 data without mask or weights (the common path) ---- */
#define FA_SM_LN2_HI_F32 0x1.62e400p-1f    /* XNNPACK rr2: 15 significant bits, n*hi exact for |n| < 2^9 */
#define FA_SM_LN2_LO_F32 0x1.7f7d1cp-20f
#define FA_SM_MAGIC_F32 0x1.8p23f

/*
 * exp(d + e) = 2^n * p, returned as (p, n): d in [-130, 88.7] (the callers clamp; NaN
 * stays NaN; -130 gives 0 once scaled), e a small correction (the two-sum error of d) or 0.
 * Cody-Waite with XNNPACK's rr2 ln2 hi/lo, p = 1 + r*q(r) with q a degree-5 Chebyshev
 * fit of expm1(r)/r rounded to float32 (relative error 2^-26.5 on |r| <= ln2/2 + 2e-3,
 * measured with mpmath); p is rounded once by the last FMA.
 * r1 = d - n*ln2_hi is exact for |d| <= 350: n*ln2_hi is (|n| < 2^9, 15-bit ln2_hi), and
 * the difference is a multiple of min(ulp(d), 2^-15) below 0.35 + 2^-9 in magnitude, with
 * |n| <= 1 (Sterbenz) wherever ulp(d) < 2^-24.  So the reduction adds one rounding,
 * 2^-26 absolute on r, whether or not an FMA is available.
 */
FA_INLINE fa_simd_f32 fa_sm_expf_reduce(fa_simd_f32 d, fa_simd_f32 *n_out)
{
    fa_simd_f32 magic = fa_set1_f32(FA_SM_MAGIC_F32);
    fa_simd_f32 n = fa_sub_f32(fa_fmadd_f32(d, fa_set1_f32(0x1.715476p+0f), magic), magic);
    fa_simd_f32 r = fa_fnmadd_f32(n, fa_set1_f32(FA_SM_LN2_HI_F32), d);
    *n_out = n;
    return fa_fnmadd_f32(n, fa_set1_f32(FA_SM_LN2_LO_F32), r);
}

FA_INLINE fa_simd_f32 fa_sm_expf_poly(fa_simd_f32 r)
{
    fa_simd_f32 q = fa_set1_f32(0x1.6d4690p-10f);
    q = fa_fmadd_f32(q, r, fa_set1_f32(0x1.1240fep-7f));
    q = fa_fmadd_f32(q, r, fa_set1_f32(0x1.5554e6p-5f));
    q = fa_fmadd_f32(q, r, fa_set1_f32(0x1.555478p-3f));
    q = fa_fmadd_f32(q, r, fa_set1_f32(0.5f));
    q = fa_fmadd_f32(q, r, fa_set1_f32(1.0f));
    return fa_fmadd_f32(q, r, fa_set1_f32(1.0f));
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

/* (t, c) of a float32 chunk against its max: exp(x - mk) with the exact difference fed
 * into the reduction (the terms keep their relative accuracy, which l = log1p(T/C)
 * needs when one entry dominates); pairs of vectors added in float32 (one rounding,
 * 2^-25) and accumulated in float64; c counted exactly. */
FA_INLINE void fa_sm_chunk_sum_fast_f32(const float *x, ptrdiff_t n, double mx, double mn,
                                        double *tk, double *ck, int mode, float *ystore)
{
    const ptrdiff_t L = FA_LANES_F32;
    const float m = mx == -INFINITY ? 0.0f : (float)mx;
    const fa_simd_f32 mkv = fa_set1_f32(m), negm = fa_set1_f32(-m), low = fa_set1_f32((float)(m - 128.0));
    const fa_simd_f32 zero = fa_set1_f32(0.0f), one = fa_set1_f32(1.0f);
    fa_simd_f64 t = fa_set1_f64(0.0);
    fa_simd_f32 c0 = zero, c1 = zero, nn, e;
    ptrdiff_t i = 0;
    (void)mn;
    for (; i + 2 * L <= n; i += 2 * L) {
        fa_simd_f32 v0 = fa_loadu_f32(x + i), v1 = fa_loadu_f32(x + i + L);
        fa_simd_f32 d0 = fa_sm_diff_f32(v0, mkv, negm, low, &e, mode);
        fa_simd_f32 e0 = fa_sm_expf_parts(d0, e, &nn);
        e0 = fa_ldexp_neg_f32(e0, nn);
        fa_simd_f32 d1 = fa_sm_diff_f32(v1, mkv, negm, low, &e, mode);
        fa_simd_f32 e1 = fa_sm_expf_parts(d1, e, &nn);
        e1 = fa_ldexp_neg_f32(e1, nn);
        if (ystore) {
            fa_storeu_f32(ystore + i, e0);
            fa_storeu_f32(ystore + i + L, e1);
        }
        fa_mask_f32 q0 = fa_cmpeq_f32(v0, mkv), q1 = fa_cmpeq_f32(v1, mkv);
        c0 = fa_mask_add_f32(q0, c0, one);
        c1 = fa_mask_add_f32(q1, c1, one);
        t = fa_add_widened_f32_f64(t, fa_add_f32(fa_select_f32(q0, zero, e0), fa_select_f32(q1, zero, e1)));
    }
    for (; i < n; i += L) {
        const ptrdiff_t left = n - i;
        fa_simd_f32 v = left >= L ? fa_loadu_f32(x + i) : fa_load_tail_f32(x + i, left, -INFINITY);
        fa_simd_f32 d = fa_sm_diff_f32(v, mkv, negm, low, &e, mode);
        fa_simd_f32 ex = fa_sm_expf_parts(d, e, &nn);
        ex = fa_ldexp_neg_f32(ex, nn);
        if (left < L)      /* the -inf fill was clamped at low: exp(-128) is 0, but be exact */
            ex = fa_select_f32(fa_tail_mask_f32(left), ex, zero);
        if (ystore) {
            if (left >= L) fa_storeu_f32(ystore + i, ex); else fa_store_tail_f32(ystore + i, ex, left);
        }
        fa_mask_f32 q = fa_cmpeq_f32(v, mkv);
        c0 = fa_mask_add_f32(q, c0, one);
        t = fa_add_widened_f32_f64(t, fa_select_f32(q, zero, ex));
    }
    *tk = fa_reduce_add_f64(t);
    *ck = (double)fa_reduce_add_f32(fa_add_f32(c0, c1));
}

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

/*
 * One pass over a float32 chunk: its max *mx (NaN skipped) and t = sum of e^(x - mx) over
 * ALL entries, the terms being e^x itself: no x - mx is formed, since the reduction of x is
 * exact (fa_sm_expf_reduce), so a term is as accurate as with the exact difference.  Terms
 * are added in pairs in float32 and accumulated in float64, then scaled by e^-mx once, in
 * double.  The max entries are not kept apart (c = 0): callers that need l = log1p(T) with
 * T's relative accuracy (a dominant entry) check S and redo the row otherwise.
 * Terms below 2^-126 are subnormal or 0 (absolute error <= 2^-150 each, 2^-138 for the
 * chunk): negligible while the raw sum is >= FA_SM_ABS_TMIN.  Returns 0 (t, ystore
 * undefined) when it is not, or not finite (NaN entries, -inf ones with vscalefps), or when
 * mx > FA_SM_ABS_HI (the terms may have overflowed); for data in [-69, 64] that never
 * happens.
 * ystore (if given) receives e^x.
 */
#define FA_SM_ABS_TMIN 0x1p-100
#define FA_SM_ABS_OUT_LO (-80.0)     /* softmax written as 2^n (p e^-M/S): e^-M/S a normal float32 */
#define FA_SM_ABS_OUT_HI 64.0
#define FA_SM_ABS_HI 64.0          /* e^x <= 2^92.4; above, 2^n may not be representable */
FA_INLINE int fa_sm_chunk_sum_abs_f32(const float *x, const unsigned char *mk, ptrdiff_t n, double *mx,
                                      double *tk, float *ystore)
{
    const ptrdiff_t L = FA_LANES_F32;
    const fa_simd_f32 ninf = fa_set1_f32(-INFINITY), zero = fa_set1_f32(0.0f);
    fa_simd_f32 m0 = ninf, m1 = m0;
    fa_simd_f64 t = fa_set1_f64(0.0);
    ptrdiff_t i = 0;
    for (; i + 2 * L <= n; i += 2 * L) {
        fa_simd_f32 v0 = fa_loadu_f32(x + i), v1 = fa_loadu_f32(x + i + L);
        fa_simd_f32 e0 = fa_sm_expf_scaled(v0), e1 = fa_sm_expf_scaled(v1);
        if (mk) {                            /* left-out entries: no part in the max or the sum */
            fa_mask_f32 q0 = fa_load_mask_u8_f32(mk + i), q1 = fa_load_mask_u8_f32(mk + i + L);
            v0 = fa_select_f32(q0, v0, ninf);
            v1 = fa_select_f32(q1, v1, ninf);
            e0 = fa_select_f32(q0, e0, zero);
            e1 = fa_select_f32(q1, e1, zero);
        }
        m0 = fa_max_f32(v0, m0);
        m1 = fa_max_f32(v1, m1);
        if (ystore) {
            fa_storeu_f32(ystore + i, e0);
            fa_storeu_f32(ystore + i + L, e1);
        }
        t = fa_add_widened_f32_f64(t, fa_add_f32(e0, e1));
    }
    for (; i < n; i += L) {
        const ptrdiff_t left = n - i;
        fa_simd_f32 v = left >= L ? fa_loadu_f32(x + i) : fa_load_tail_f32(x + i, left, -INFINITY);
        fa_simd_f32 ex = fa_sm_expf_scaled(v);
        if (left < L)
            ex = fa_select_f32(fa_tail_mask_f32(left), ex, zero);
        if (mk) {
            fa_mask_f32 q = left >= L ? fa_load_mask_u8_f32(mk + i) : fa_load_tail_mask_u8_f32(mk + i, left);
            v = fa_select_f32(q, v, ninf);
            ex = fa_select_f32(q, ex, zero);
        }
        m0 = fa_max_f32(v, m0);
        if (ystore) {
            if (left >= L) fa_storeu_f32(ystore + i, ex); else fa_store_tail_f32(ystore + i, ex, left);
        }
        t = fa_add_widened_f32_f64(t, ex);
    }
    const double traw = fa_reduce_add_f64(t);
    *mx = fa_reduce_max_f32(fa_max_f32(m0, m1));
    if (!(traw >= FA_SM_ABS_TMIN && traw < INFINITY && *mx <= FA_SM_ABS_HI))
        return 0;
    *tk = traw * exp(-*mx);
    return 1;
}

/* max mx, a lower bound mn of the entries, and (t, c) relative to mx of a float32 chunk:
 * with ABS, through the e^x pass where the chunk allows (c = 0: the max entries are in t;
 * mn = -inf, not known), else with the exact difference x - mx and the max entries apart;
 * *yoff is the offset of what ystore got (ystore holds e^(x - *yoff)).  Returns 1 if the
 * e^x pass was taken. */
FA_INLINE int fa_sm_chunk_stats_f32(const float *x, ptrdiff_t n, double *mx, double *mn,
                                     double *tk, double *ck, double *yoff, float *ystore, int ABS)
{
    if (ABS && fa_sm_chunk_sum_abs_f32(x, NULL, n, mx, tk, ystore)) {
        *mn = -INFINITY;
        *ck = 0.0;
        *yoff = 0.0;
        return 1;
    }
    fa_sm_chunk_max_min_f32(x, n, mx, mn);
    *yoff = *mx;
#define FA_SM_CALL(md) fa_sm_chunk_sum_fast_f32(x, n, *mx, *mn, tk, ck, md, ystore)
    FA_SM_WITH_MODE(fa_sm_diff_mode(*mx, *mn), FA_SM_CALL)
#undef FA_SM_CALL
    return 0;
}

/* the row statistics for float32 data without options, and the row min */
/* the row statistics for float32 data without options, and a lower bound of the row min.
 * The e^x pass keeps the max entries inside T; that is as accurate as keeping them apart
 * while S = C + T >= FA_SM_ABS_SMIN (then l = log S >= 1.38 and its absolute error, that
 * of S relative, stays below ~2 ULP of l); rows with a smaller S (one or a few dominant
 * entries, where l = log1p(T) needs T exactly) are summed again with the max apart. */
#define FA_SM_ABS_SMIN 4.0
FA_INLINE void fa_sm_row_stats_fast_f32(const float *x, ptrdiff_t n, fa_sm_stats *s, double *rmin)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(float);
    for (int allow_abs = 1; ; allow_abs = 0) {
        int used_abs = 0;
        s->M = -INFINITY; s->t = 0.0; s->C = 0.0; s->te = 0.0;
        *rmin = INFINITY;
        for (ptrdiff_t c0 = 0; c0 < n; c0 += chunk) {
            const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;
            double mx, mn, tk, ck, yoff;
            used_abs |= fa_sm_chunk_stats_f32(x + c0, len, &mx, &mn, &tk, &ck, &yoff, NULL, allow_abs);
            fa_sm_merge(s, mx, tk, ck);
            *rmin = mn < *rmin ? mn : *rmin;
        }
        if (!used_abs || !(s->t + s->te + s->C < FA_SM_ABS_SMIN))
            return;
    }
}

/* The statistics of a float32 row with a `where=` mask (no weights), through the e^x pass
 * (left-out entries take no part; C = 0).  Returns 0 (s undefined) where that pass does not
 * take a chunk, or, with need_log, where S < FA_SM_ABS_SMIN: the caller then runs the
 * generic (float64-lane) statistics. */
FA_INLINE int fa_sm_row_stats_masked_f32(const float *x, const unsigned char *mk, ptrdiff_t n,
                                         fa_sm_stats *s, int need_log)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(float);
    s->M = -INFINITY; s->t = 0.0; s->C = 0.0; s->te = 0.0;
    for (ptrdiff_t c0 = 0; c0 < n; c0 += chunk) {
        const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;
        double mx, tk;
        if (!fa_sm_chunk_sum_abs_f32(x + c0, mk + c0, len, &mx, &tk, NULL))
            return 0;
        fa_sm_merge(s, mx, tk, 0.0);
    }
    return !need_log || s->t + s->te >= FA_SM_ABS_SMIN;
}

/* The outputs of a float32 row (mk: its `where=` mask, or NULL) from e^x-pass statistics:
 * softmax y = 2^n (p f), e^x = 2^n p reduced from x itself (exact), f = e^-M/S (in
 * [2^-112, 2^116] for M in [-80, 64]; other M: returns 0, nothing written) as a float32 pair;
 * 2^n is applied last, so a subnormal y is rounded once; x is clamped at -150 (-inf
 * entries give 0).  log_softmax y = (x - M) - l.  Left-out entries get 0 and -inf. */
FA_INLINE int fa_sm_row_out_masked_f32(const float *x, const unsigned char *mk, float *y, ptrdiff_t n,
                                       double M, double S, double l, int LOG)
{
    const ptrdiff_t L = FA_LANES_F32;
    if (!LOG && !(M >= FA_SM_ABS_OUT_LO && M <= FA_SM_ABS_OUT_HI))
        return 0;
    const double f = exp(-M) / S;
    const fa_simd_f32 fh = fa_set1_f32((float)f), fl = fa_set1_f32((float)(f - (double)(float)f));
    const fa_simd_f32 low = fa_set1_f32(-150.0f), Mv = fa_set1_f32((float)M), lv = fa_set1_f32((float)l);
    const fa_simd_f32 out_fill = fa_set1_f32(LOG ? -INFINITY : 0.0f);
    for (ptrdiff_t i = 0; i < n; i += L) {
        const ptrdiff_t left = n - i;
        fa_simd_f32 v = left >= L ? fa_loadu_f32(x + i) : fa_load_tail_f32(x + i, left, 0.0f), nn;
        if (LOG) {
            v = fa_sub_f32(fa_sub_f32(v, Mv), lv);
        } else {
            fa_simd_f32 p = fa_sm_expf_poly(fa_sm_expf_reduce(fa_max_f32(low, v), &nn));
            v = fa_ldexp_neg_f32(fa_fmadd_f32(p, fh, fa_mul_f32(p, fl)), nn);
        }
        if (mk)
            v = fa_select_f32(left >= L ? fa_load_mask_u8_f32(mk + i) : fa_load_tail_mask_u8_f32(mk + i, left),
                              v, out_fill);
        if (left >= L) fa_storeu_f32(y + i, v); else fa_store_tail_f32(y + i, v, left);
    }
    return 1;
}

/* softmax / log_softmax of a float32 row in float32 lanes.
 * softmax: y = 2^n * (p * (1/S)) with x - M exact (fa_sm_diff_f32) fed into the reduction
 * and 1/S as a float32 pair (ih + il): y is rounded twice (p, then p * 1/S) plus the
 * error of S.  log_softmax: y = (x - M) - l, both roundings below half an ULP of y. */
FA_INLINE fa_simd_f32 fa_sm_softmax_entry_fast_f32(fa_simd_f32 x, fa_simd_f32 M, fa_simd_f32 negM,
                                                   fa_simd_f32 low, fa_simd_f32 ih, fa_simd_f32 il, int mode)
{
    fa_simd_f32 e, n;
    fa_simd_f32 d = fa_sm_diff_f32(x, M, negM, low, &e, mode);
    fa_simd_f32 p = fa_sm_expf_parts(d, e, &n);
    return fa_ldexp_neg_f32(fa_fmadd_f32(p, ih, fa_mul_f32(p, il)), n);
}

FA_INLINE void fa_sm_row_softmax_fast_f32(const float *x, float *y, ptrdiff_t n, float M, double S, int mode)
{
    const ptrdiff_t L = FA_LANES_F32;
    const double inv = 1.0 / S;
    const fa_simd_f32 Mv = fa_set1_f32(M), negM = fa_set1_f32(-M), low = fa_set1_f32((float)((double)M - 128.0));
    const fa_simd_f32 ih = fa_set1_f32((float)inv), il = fa_set1_f32((float)(inv - (double)(float)inv));
    ptrdiff_t i = 0;
    for (; i + 2 * L <= n; i += 2 * L) {
        fa_simd_f32 v0 = fa_loadu_f32(x + i), v1 = fa_loadu_f32(x + i + L);
        fa_storeu_f32(y + i, fa_sm_softmax_entry_fast_f32(v0, Mv, negM, low, ih, il, mode));
        fa_storeu_f32(y + i + L, fa_sm_softmax_entry_fast_f32(v1, Mv, negM, low, ih, il, mode));
    }
    for (; i < n; i += L) {
        const ptrdiff_t left = n - i;
        fa_simd_f32 v = left >= L ? fa_loadu_f32(x + i) : fa_load_tail_f32(x + i, left, M);
        v = fa_sm_softmax_entry_fast_f32(v, Mv, negM, low, ih, il, mode);
        if (left >= L) fa_storeu_f32(y + i, v); else fa_store_tail_f32(y + i, v, left);
    }
}

FA_INLINE void fa_sm_row_out_fast_f32(const float *x, float *y, ptrdiff_t n, double M, double rmin,
                                      double S, double l, int LOG)
{
    if (!LOG) {
        if (fa_sm_row_out_masked_f32(x, NULL, y, n, M, S, 0.0, 0))     /* M in [-80, 64] */
            return;
        if (rmin == -INFINITY) {             /* the statistics pass did not look for the min */
            double mx;
            fa_sm_chunk_max_min_f32(x, n, &mx, &rmin);
        }
#define FA_SM_CALL(md) fa_sm_row_softmax_fast_f32(x, y, n, (float)M, S, md)
        FA_SM_WITH_MODE(fa_sm_diff_mode(M, rmin), FA_SM_CALL)
#undef FA_SM_CALL
        return;
    }
    fa_sm_log_out_f32(x, y, n, (float)M, (float)l);
}
/*
 * softmax of a float32 row of up to FA_SM_STORE_CHUNKS chunks (it stays in L2): each exp is
 * computed once, stored into y (relative to its chunk's max) while summing, then every
 * chunk is scaled in place by exp(mk - M) / S as a float32 pair (XNNPACK's three passes
 * "with reloading"; y's cache lines go back to memory once).  Returns FA_SM_SPECIAL
 * (y then undefined) for rows that fa_sm_row_special must write.
 */
#define FA_SM_STORE_CHUNKS 16


FA_INLINE int fa_sm_row_softmax_small_f32(const float *x, float *y, ptrdiff_t n)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(float);
    double yoffs[FA_SM_STORE_CHUNKS];
    fa_sm_stats s;
    int nc;
    for (int allow_abs = 1; ; allow_abs = 0) {
        int used_abs = 0;
        s.M = -INFINITY; s.t = 0.0; s.C = 0.0; s.te = 0.0;
        nc = 0;
        for (ptrdiff_t c0 = 0; c0 < n; c0 += chunk, nc++) {
            const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;
            double mx, mn, tk, ck;
            used_abs |= fa_sm_chunk_stats_f32(x + c0, len, &mx, &mn, &tk, &ck, &yoffs[nc], y + c0, allow_abs);
            if (mx == INFINITY)
                return FA_SM_SPECIAL;
            fa_sm_merge(&s, mx, tk, ck);
        }
        /* stored e^x below 2^-126 lost bits; with M >= 0 the y they give are subnormal anyway */
        if (!used_abs || s.M >= 0.0)
            break;
    }
    if (!(s.M > -INFINITY) || s.t != s.t)
        return FA_SM_SPECIAL;
    const double inv = 1.0 / (s.C + (s.t + s.te));
    for (int c = 0; c < nc; c++) {
        const ptrdiff_t c0 = c * chunk, len = n - c0 < chunk ? n - c0 : chunk;
        const double f = exp(yoffs[c] - s.M) * inv;   /* yoff = -inf: 0 */
        fa_sm_scale_pair_f32(y + c0, len, (float)f, (float)(f - (double)(float)f));
    }
    return FA_SM_OK;
}
static int fa_sm_row_softmax_small_f64(const double *x, double *y, ptrdiff_t n);   /* below */

#define FA_SM_HAS_SMALL_f32 1
/* fa_sm_row_softmax_small_f32 stores e^x into y before it knows whether the row needs the
 * exact-difference pass, which re-reads x: with y == x, rows go through statistics + output */
#define FA_SM_SMALL_IN_PLACE_f32 0
#define FA_SM_SMALL_IN_PLACE_f64 1
/* never called: float64 rows with a mask take the generic path */
FA_INLINE int fa_sm_row_stats_masked_f64(const double *x, const unsigned char *mk, ptrdiff_t n,
                                         fa_sm_stats *s, int need_log)
{ (void)x; (void)mk; (void)n; (void)s; (void)need_log; return 0; }
FA_INLINE int fa_sm_row_out_masked_f64(const double *x, const unsigned char *mk, double *y, ptrdiff_t n,
                                       double M, double S, double l, int LOG)
{ (void)x; (void)mk; (void)y; (void)n; (void)M; (void)S; (void)l; (void)LOG; return 0; }
#define FA_SM_SMALL_BYTES_f32 (FA_SM_STORE_CHUNKS * FA_SM_CHUNK_BYTES)
#define FA_SM_SMALL_BYTES_f64 (FA_SM64_STORE_CHUNKS * FA_SM_CHUNK_BYTES)   /* 512 KB: x and y stay in L2 */
#define FA_SM64_STORE_CHUNKS 32
#define FA_SM_HAS_SMALL_f64 1
#define FA_SM_HAS_FAST_f32 1
#define FA_SM_HAS_FAST_f64 1
/* float64 data without options: the direct reduction, below (after the generic f64 path it falls back to) */
static void fa_sm_row_stats_fast_f64(const double *x, ptrdiff_t n, fa_sm_stats *s, double *rmin);
static void fa_sm_row_out_fast_f64(const double *x, double *y, ptrdiff_t n, double M, double rmin,
                                   double S, double l, int LOG);

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
    fa_simd_f64 y_ = fa_sub_f64(fa_select_f64(at_max, fa_set1_f64(0.0), e), *tc);                 \
    fa_simd_f64 s_ = fa_add_f64(*t, y_);                                                          \
    *tc = fa_sub_f64(fa_sub_f64(s_, *t), y_);                                                     \
    *t = s_;                                                                                      \
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
        const unsigned char *mr = HAS_MASK ? mk + r * n : NULL;                                   \
        fa_sm_stats s;                                                                            \
        double l, sign, rmin = 0;                                                                 \
        if (FA_SM_HAS_SMALL_##T && !HAS_MASK && !LOG &&                                           \
            n * (ptrdiff_t)sizeof(fa_scalar_##T) <= FA_SM_SMALL_BYTES_##T &&                      \
            (FA_SM_SMALL_IN_PLACE_##T || (const void *)xr != (const void *)(y + r * n))) {        \
            if (fa_sm_row_softmax_small_##T(xr, y + r * n, n) != FA_SM_OK)                        \
                fa_sm_row_special_##T(y + r * n, NULL, n, 1, 0);                                  \
            continue;                                                                             \
        }                                                                                         \
        const int masked_fast = HAS_MASK && sizeof(fa_scalar_##T) == 4 &&                         \
                                fa_sm_row_stats_masked_##T(xr, mr, n, &s, LOG);                   \
        if (FA_SM_HAS_FAST_##T && !HAS_MASK)                                                      \
            fa_sm_row_stats_fast_##T(xr, n, &s, &rmin);                                           \
        else if (!masked_fast)                                                                    \
            fa_sm_row_stats_##T(xr, mr, NULL, n, &s, HAS_MASK, 0);                                \
        const int want_l = LOG || (sizeof(fa_scalar_##T) == 4 && HAS_MASK);                       \
        l = 0;                                                                                    \
        if (fa_sm_finish(&s, want_l ? &l : NULL, &sign) == FA_SM_SPECIAL)                         \
            fa_sm_row_special_##T(y + r * n, mr, n, 1, LOG);                                      \
        else if (masked_fast && fa_sm_row_out_masked_##T(xr, mr, y + r * n, n, s.M, s.t + s.te, l, LOG)) \
            ;                                                                                     \
        else if (FA_SM_HAS_FAST_##T && !HAS_MASK)                                                 \
            fa_sm_row_out_fast_##T(xr, y + r * n, n, s.M, rmin, s.C + s.t, l, LOG);               \
        else                                                                                      \
            fa_sm_row_out_##T(xr, y + r * n, mr, n, &s, l, LOG, HAS_MASK);                        \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
FA_INLINE void fa_sm_lse_rows_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t rows,      \
                                  ptrdiff_t n, const unsigned char *mk, const fa_scalar_##T *b,  \
                                  fa_scalar_##T *sg, int HAS_MASK, int HAS_B)                     \
{                                                                                                 \
    for (ptrdiff_t r = 0; r < rows; r++) {                                                        \
        const fa_scalar_##T *xr = x + r * n;                                                      \
        const unsigned char *mr = HAS_MASK ? mk + r * n : NULL;                                   \
        const fa_scalar_##T *br = HAS_B ? b + r * n : NULL;                                       \
        fa_sm_stats s;                                                                            \
        double sign, v, rmin;                                                                     \
        if (FA_SM_HAS_FAST_##T && !HAS_MASK && !HAS_B)                                            \
            fa_sm_row_stats_fast_##T(xr, n, &s, &rmin);                                           \
        else if (!(HAS_MASK && !HAS_B && sizeof(fa_scalar_##T) == 4 &&                            \
                   fa_sm_row_stats_masked_##T(xr, mr, n, &s, 1)))                                 \
            fa_sm_row_stats_##T(xr, mr, br, n, &s, HAS_MASK, HAS_B);                              \
        v = fa_sm_lse_value_##T(&s, xr, n, 1, mr, br, &sign);                                     \
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
    return (m * FA_SM_LOG2E + FA_SM_ROUND_MAGIC) - FA_SM_ROUND_MAGIC;
}

/*
 * e^(x - K ln2), n = round(16 x log2e), j = n mod 16, in Tang's 16-entry scheme of the math core
 * (fa_exp_reduce_f64: tables fa_exp2_16_hi/lo, the degree-4 q of its exp branch, 2^-54.8
 * against 1 + p) with another magic number, Kmagic = 0x1.8p48 - K: it rounds x log2e to a
 * multiple of 1/16, so tn - Kmagic is n/16 itself, the table index is still the low 4 bits of
 * tn, and tn's bits hold 0x1.8p48's bits + m, m = n - 16 K.  |n| < 2^21 keeps (n/16) ln2_hi exact.
 * r = (x - (n/16) ln2_hi) - (n/16) ln2_lo, p = r + r^2 q(r) = expm1(r).
 * FA_SM64_DIRECT (the result normal): THI = 2^(j/16) 2^floor(m/16) exactly, an integer addition
 * of m << 48 to fa_sm64_exp2_16_adj[j] (the bits of fa_exp2_16_hi[j] minus j << 48), zero where
 * keep is false; the result is THI (1 + (p + tlo/thi)), one rounding.
 * FA_SM64_CLAMP: em = thi + (thi p + tlo) in [0.97, 2.05], scaled by vscalefpd by tn - 0x1.8p48
 * = n/16 - K (it floors), or in two products below 2^-1000 (fa_scale_exp_f64's steps).
 */
#define FA_SM64_MAGIC16 0x1.8p48
static const double fa_sm64_exp2_16_adj[16] __attribute__((aligned(64))) = {  /* bits(hi[j]) - j << 48 */
    0x1.0000000000000p+0, 0x1.fb5586cf9890fp-1, 0x1.f72b83c7d517bp-1, 0x1.f387a6e756238p-1,
    0x1.f06fe0a31b715p-1, 0x1.edea64c123422p-1, 0x1.ebfdad5362a27p-1, 0x1.eab07dd485429p-1,
    0x1.ea09e667f3bcdp-1, 0x1.ea11473eb0187p-1, 0x1.eace5422aa0dbp-1, 0x1.ec49182a3f090p-1,
    0x1.ee89f995ad3adp-1, 0x1.f199bdd85529cp-1, 0x1.f5818dcfba487p-1, 0x1.fa4afa2a490dap-1};
static const double fa_sm64_exp2_16_rt[16] __attribute__((aligned(64))) = {   /* lo[j] / hi[j] rounded */
    0x0.0p+0, 0x1.79aa65d837b6dp-54, -0x1.01b15eaa59348p-55, 0x1.68efde3a8a894p-54,
    0x1.34d754db0abb6p-55, 0x1.59f48a72a4c6dp-55, 0x1.690cebb7aafb0p-56, 0x1.063e1e21c5409p-54,
    -0x1.3b3efbf5e2229p-54, -0x1.b32dcb94da51dp-56, 0x1.db72fc1f0eab5p-55, 0x1.1affc2b91ce27p-56,
    0x1.c1a7792cb3386p-55, 0x1.36eae30af0cb3p-56, 0x1.4a385a63d07a8p-56, -0x1.ff7128fd391f0p-55};

FA_INLINE fa_simd_f64 fa_sm64_term(fa_simd_f64 x, fa_simd_f64 Kmagic, fa_simd_f64 low, fa_mask_f64 keep, int mode)
{
    if (mode == FA_SM64_CLAMP)
        x = fa_max_f64(low, x);              /* keeps NaN */
    fa_simd_f64 tn = fa_fmadd_f64(x, fa_set1_f64(FA_LOG2E_F64), Kmagic);
    fa_simd_f64 n16 = fa_sub_f64(tn, Kmagic);
    fa_simd_f64 r = fa_fnmadd_f64(n16, fa_set1_f64(FA_LN2_HI_F64), x);
    r = fa_fnmadd_f64(n16, fa_set1_f64(FA_LN2_LO_F64), r);
    fa_simd_f64 q = fa_set1_f64(0x1.6c17c334f5083p-10);     /* fa_exp_reduce_f64, exp branch */
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.111212da060e8p-7));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.555555551573cp-5));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.55555554d5922p-3));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.0p-1));
    fa_simd_f64 r2 = fa_mul_f64(r, r);
    if (mode == FA_SM64_DIRECT) {
        fa_simd_f64 T = fa_bits_add_maskz_f64(keep, fa_lut16_f64(fa_sm64_exp2_16_adj, tn), fa_bits_shl_f64(tn, 48));
        fa_simd_f64 p = fa_fmadd_f64(r2, q, fa_add_f64(r, fa_lut16_f64(fa_sm64_exp2_16_rt, tn)));
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

/* e^(ah + al) as hi + lo, |ah| <= 0.37, |al| <= 2^-40: 1 + a + a^2/2 + a^3 w(a) with the first
 * three terms as double-doubles and w = sum_{k>=3} a^(k-3)/k! (Taylor to a^15, remainder
 * < 2^-64; w's rounding weighs a^3/6 < 2^-7): relative error < 2^-60. */
FA_INLINE void fa_sm64_exp_dd(double ah, double al, double *hi, double *lo)
{
    static const double inv_fact[13] = {   /* 1/k!, k = 15 .. 3, rounded to nearest (Python Fraction) */
        0x1.ae7f3e733b81fp-41, 0x1.93974a8c07c9dp-37, 0x1.6124613a86d09p-33, 0x1.1eed8eff8d898p-29,
        0x1.ae64567f544e4p-26, 0x1.27e4fb7789f5cp-22, 0x1.71de3a556c734p-19, 0x1.a01a01a01a01ap-16,
        0x1.a01a01a01a01ap-13, 0x1.6c16c16c16c17p-10, 0x1.1111111111111p-7, 0x1.5555555555555p-5,
        0x1.5555555555555p-3};
    double w = inv_fact[0];
    for (int k = 1; k < 13; k++)
        w = w * ah + inv_fact[k];
    const double sq = ah * ah, sq_err = fma(ah, ah, -sq);            /* ah^2 exactly */
    double s = 1.0 + ah, err = ah - (s - 1.0);                        /* Fast2Sum: |ah| < 1 */
    fa_sm_add2(&s, &err, 0.5 * sq);
    err += 0.5 * sq_err + sq * ah * w + al * (1.0 + ah + 0.5 * sq);
    *hi = s + err;
    *lo = err - (*hi - s);
}

/* e^(K ln2 - m) as hi + lo (K = fa_sm64_shift(m)): the factor from sum e^(x - K ln2) to
 * sum e^(x - m).  K ln2_hi - m is exact (Sterbenz, as in the vector reduction). */
FA_INLINE void fa_sm64_rel_factor(double m, double K, double *hi, double *lo)
{
    double a = K * FA_SM_LN2_HI32 - m, ae = 0.0;
    fa_sm_add2(&a, &ae, K * FA_SM_LN2_LO32);
    fa_sm64_exp_dd(a, ae, hi, lo);
}


/* t += v, Kahan: the sum is t - c */
FA_INLINE void fa_sm64_kahan(fa_simd_f64 *t, fa_simd_f64 *c, fa_simd_f64 v)
{
    fa_simd_f64 y = fa_sub_f64(v, *c);
    fa_simd_f64 s = fa_add_f64(*t, y);
    *c = fa_sub_f64(fa_sub_f64(s, *t), y);
    *t = s;
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
        fa_sm_add2(&h, &l, a[k]);
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
            fa_sm64_kahan(&t[k], &c[k], e);
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
        fa_sm64_kahan(&t[k], &c[k], e);
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

static void fa_sm_row_stats_fast_f64(const double *x, ptrdiff_t n, fa_sm_stats *s, double *rmin)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(double);
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
static void fa_sm_row_out_fast_f64(const double *x, double *y, ptrdiff_t n, double M, double rmin,
                                   double S, double l, int LOG)
{
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
static int fa_sm_row_softmax_small_f64(const double *x, double *y, ptrdiff_t n)
{
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
        fa_sm_add2(&U, &Ue, fa_sm64_ldexp(uh[c], d));
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

#include "fa_softmax_cols.h"

/* ---- the kernels in the dispatch table ---- */
#define FA_SM_COLS_FAST_f32 fa_sm_cols_fast_f32
/* log_softmax rows (inner == 1, no mask): 0 where not handled */
#define FA_SM_LOG_ROWS_FAST_f32(x, y, rows, n) 0
#define FA_SM_LOG_ROWS_FAST_f64 fa_sm64_log_softmax_rows
/* float64 columns: no separate fast path, the generic code */
#define FA_SM_COLS_FAST_f64(x, y, sg, outer, n, inner, op)                                        \
    ((op) == 2 ? fa_sm_lse_cols_f64(x, y, outer, n, inner, NULL, NULL, sg)                        \
               : fa_sm_cols_f64(x, y, outer, n, inner, NULL, op))
#define FA_SM_DEFINE_KERNELS(T)                                                                   \
/* softmax (LOG = 0) and log_softmax (LOG = 1) */                                              \
static void fa_sm_rowwise_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,         \
                              ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o, int LOG)       \
{                                                                                                 \
    const unsigned char *mk = o ? o->mask : NULL;                                                 \
    if (n <= 0 || outer <= 0 || inner <= 0) return;                                              \
    if (inner > 1 && FA_SM_HAS_FAST_##T && !mk) FA_SM_COLS_FAST_##T(x, y, NULL, outer, n, inner, LOG); \
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
    if (inner > 1 && FA_SM_HAS_FAST_##T && !mk && !b) FA_SM_COLS_FAST_##T(x, y, sg, outer, n, inner, 2); \
    else if (inner > 1) fa_sm_lse_cols_##T(x, y, outer, n, inner, mk, b, sg);                     \
    else if (!mk && !b) fa_sm_lse_rows_##T(x, y, outer, n, NULL, NULL, sg, 0, 0);                 \
    else if (!b) fa_sm_lse_rows_##T(x, y, outer, n, mk, NULL, sg, 1, 0);                          \
    else if (!mk) fa_sm_lse_rows_##T(x, y, outer, n, NULL, b, sg, 0, 1);                          \
    else fa_sm_lse_rows_##T(x, y, outer, n, mk, b, sg, 1, 1);                                     \
}

FA_SM_DEFINE_KERNELS(f32)
FA_SM_DEFINE_KERNELS(f64)

/*
 * Gradients along the middle axis (axis kernels; opts->b holds grad_output g, of x's
 * shape; opts->mask is where=: 0 = left out, gradient 0 and out of the sum):
 *   softmax_grad      x = y, softmax's output:      out = y (g - sum(g y))
 *   log_softmax_grad  x = y, log_softmax's output:  out = g - e^y sum(g)
 * Per slice one pass sums (in float64 with Neumaier's compensation, for both dtypes),
 * a second pass writes out in float64 and rounds once.  e^y: libm exp (double).  NaN in
 * a slice gives NaN for the slice; a fully masked slice gives 0; g NULL counts as ones.
 * The slice is walked with stride `inner` (no separate column path: the Python layer
 * lays a non-last axis out as it does for the forwards).  out may be x or g (in place):
 * each entry is read before it is written.
 */
#define FA_SM_DEFINE_GRADS(T)                                                                     \
static void fa_sm_grad_##T(const fa_scalar_##T *y, fa_scalar_##T *out, ptrdiff_t outer,          \
                           ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o, int LOG)          \
{                                                                                                 \
    const fa_scalar_##T *g = o ? (const fa_scalar_##T *)o->b : NULL;                              \
    const unsigned char *mk = o ? o->mask : NULL;                                                 \
    for (ptrdiff_t r = 0; r < outer; r++) {                                                       \
        for (ptrdiff_t c = 0; c < inner; c++) {                                                   \
            const ptrdiff_t base = r * n * inner + c;                                             \
            double s = 0.0, comp = 0.0;                                                           \
            for (ptrdiff_t k = 0; k < n; k++) {                                                   \
                const ptrdiff_t i = base + k * inner;                                             \
                if (mk && !mk[i]) continue;                                                       \
                double gv = g ? (double)g[i] : 1.0;                                               \
                double term = LOG ? gv : gv * (double)y[i];                                       \
                double t = s + term;                                                              \
                comp += fabs(s) >= fabs(term) ? (s - t) + term : (term - t) + s;                  \
                s = t;                                                                            \
            }                                                                                     \
            s += comp;                                                                            \
            for (ptrdiff_t k = 0; k < n; k++) {                                                   \
                const ptrdiff_t i = base + k * inner;                                             \
                double gv = g ? (double)g[i] : 1.0, yv = (double)y[i];                            \
                double v = LOG ? gv - exp(yv) * s : yv * (gv - s);                                \
                out[i] = (mk && !mk[i]) ? (fa_scalar_##T)0 : (fa_scalar_##T)v;                    \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
}                                                                                                 \
static void fa_k_softmax_grad_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,     \
                                  ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o)            \
{ fa_sm_grad_##T(x, y, outer, n, inner, o, 0); }                                                  \
static void fa_k_log_softmax_grad_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer, \
                                      ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o)        \
{ fa_sm_grad_##T(x, y, outer, n, inner, o, 1); }

FA_SM_DEFINE_GRADS(f32)
FA_SM_DEFINE_GRADS(f64)

#endif /* FA_SOFTMAX_H */
