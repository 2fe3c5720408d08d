/*
 * reductions/fa_grad_rows.h -- the gradients of softmax and log_softmax along the middle
 * axis of a C-contiguous (outer, n, inner) block (kind FA_ROWWISE_GRAD, fastact_kinds.h),
 * over the SIMD wrappers and the float64 exp of the math family.
 *
 * Design.  opts->b holds grad_output g (x's shape; NULL: ones), opts->mask is where=
 * (0 = left out: gradient 0, out of the sum):
 *   softmax_grad      x = y, softmax's output:      out = y (g - s),      s = sum(g y)
 *   log_softmax_grad  x = y, log_softmax's output:  out = g - e^y s,      s = sum(g)
 * The sum runs in float64 lanes: float64 data compensated per lane (TwoSum, and the
 * product's TwoProd error), the lanes added as a double-double, so s is within ~1 ULP of
 * the exact sum plus ~2^-106 of the sum of |terms| (the compensations are summed plainly: a
 * slice of +-1e300 beside ordinary entries keeps that much; a review, 2026-12-07); float32 data widened on load (g y is then exact) and summed
 * plainly in float64 (error ~n 2^-53 of the sum of |terms|, far below float32's ULP).  The output pass runs in float64 lanes,
 * rounded once on the store, except for a contiguous float32 slice whose |s| is within
 * float32's range: float32 lanes, with s rounded to float32 (y (g - s); g - e^y s as one FMA, e^y from fa_exp_neg_normal_f32).  e^y: fa_exp_minus_f64 (0.5 ULP
 * + 2^-54.8 relative) with s multiplied in before the one scaling by 2^n, so e^y s is
 * rounded once even where it is subnormal; y is taken as a log-probability (y <= 709).
 * Float32 data: e^y from fa_exp_neg_f64w (2^-27 relative, y clamped to [-700, 700]),
 * enough for the one rounding to float32.
 *   Contiguous slices (inner == 1): lanes along the slice, two passes (sum, output).
 *   inner > 1: one lane per column, each its own slice, in strips of up to FA_GR_STRIP
 *   columns walked row by row (contiguous loads), the sums first, then the outputs.
 * NaN in a slice gives NaN for the slice; a fully masked slice gives 0 everywhere.
 * out may be x or g (in place): each entry is read before it is written, and the second
 * pass reads only entries it has not yet written.
 * Accuracy (tests/test_reduction_gradients.py: torch, finite differences, every variant):
 * within 4 ULP of the larger of the two terms (y g and y s, or g and e^y s): the roundings
 * of s, of the difference and of the product (tests/test_reduction_gradients.py, mpmath).
 */
#ifndef FA_GRAD_ROWS_H
#define FA_GRAD_ROWS_H

/* Loads and stores of T data in float64 lanes (float32 widened, rounded once on the store). */
#define FA_GR_LOAD_f64(p) fa_loadu_f64(p)
#define FA_GR_LOAD_TAIL_f64(p, k) fa_load_tail_f64(p, k, 0.0)
#define FA_GR_STORE_f64(p, v) fa_storeu_f64(p, v)
#define FA_GR_STORE_TAIL_f64(p, v, k) fa_store_tail_f64(p, v, k)
#define FA_GR_LOAD_f32(p) fa_loadu_f32_as_f64(p)
#define FA_GR_LOAD_TAIL_f32(p, k) fa_load_tail_f32_as_f64(p, k, 0.0)
#define FA_GR_STORE_f32(p, v) fa_storeu_f64_as_f32(p, v)
#define FA_GR_STORE_TAIL_f32(p, v, k) fa_store_tail_f64_as_f32(p, v, k)

/* hi + lo = g y exactly: fa_two_prod_f64, whose Dekker splitting (no FMA: scalar, SSE2)
 * overflows for |g| >= 2^995 and made the slice NaN (softmax_grad of float64 g ~ 1e300, the
 * differential fuzz of 2026-12-06); there g is split at 2^-64 and the error brought back
 * exactly (y <= 1, and y < 2^-900 only as y 2^600: the scaled error stays normal) */
FA_INLINE fa_simd_f64 fa_gr_two_prod_f64(fa_simd_f64 g, fa_simd_f64 y, fa_simd_f64 *lo)
{
#if FA_HAVE_FMA
    return fa_two_prod_f64(g, y, lo);
#else
    const fa_mask_f64 big = fa_cmpge_f64(fa_abs_f64(g), fa_set1_f64(0x1p995));
    if (FA_LIKELY(!fa_mask_any_f64(big)))
        return fa_two_prod_f64(g, y, lo);
    fa_simd_f64 l;
    (void)fa_two_prod_f64(fa_select_f64(big, fa_mul_f64(g, fa_set1_f64(0x1p-64)), g), y, &l);
    *lo = fa_select_f64(big, fa_mul_f64(l, fa_set1_f64(0x1p64)), l);
    return fa_mul_f64(g, y);
#endif
}

/* ---- float64 log_softmax_grad: sums of g at the edge of the range (the "rescue") ----
 * out = g - e^y s needs s = sum(g) as a number, and the plain sums give NaN or inf where it
 * (or a lane's partial sum) overflows, and em s overflows for a finite s near DBL_MAX (em up
 * to 2.05): log_softmax_grad(log([.5, .5]), [1e308, 1e308]) was NaN, ([.6, .4] logs,
 * [1.5e308, .2e308]) -inf (differential fuzz and a review, 2026-12-06/07).  Where a slice's
 * (or a column's) plain sum s is not below FA_GR_LOG_BIG = 2^1000, its g is summed again in two
 * accumulators per lane, A = sum of g 2^-64 over |g| >= 2^-900 (compensated) and B = sum of the
 * others (plain: each below 2^-900), so that neither overflows nor loses a tiny g to 2^-64:
 *   - A 2^64 + B below 2^1000 (the lanes overflowed, the total did not): the plain formula
 *     with s = A 2^64 + B;
 *   - else the scaled formula with s' = A + B 2^-64 = s 2^-64: out = g - (e^y s') 2^64 where
 *     |e^y s'| < 2^959 (one rounding of e^y s' and one of the difference, as the plain
 *     formula), else 2^64 (g 2^-64 - e^y s') (|e^y s| >= 2^1023: g's bits lost below 2^-1010
 *     are far below the result's ULP).
 * Lanes whose plain sum was below 2^1000 keep the plain formula and their bits: a column's
 * result never depends on its neighbours' (an overflowing or NaN neighbour once made the whole
 * group scaled).  A NaN or inf in the slice gives NaN as before (A's compensation is NaN).
 * float32 data widened cannot reach 2^1000. */
#include "fa_chunk.h"                     /* FA_GR_LOG_BIG, _UP, _DOWN, fa_gr_rescue_pick_scalar */
#define FA_GR_LOG_SCALED 2                /* LOG for the rescue's outputs */
#define FA_GR_TINY_G 0x1p-900
/* the lanes of the plain sums s that need the rescue */
FA_INLINE fa_mask_f64 fa_gr_log_big(fa_simd_f64 s)
{
    return fa_mask_not_f64(fa_cmplt_f64(fa_abs_f64(s), fa_set1_f64(FA_GR_LOG_BIG)));
}
/* the rescue's accumulators (A, its compensation cA, B) += the lane group's g terms v */
FA_INLINE void fa_gr_rescue_add(fa_simd_f64 v, fa_simd_f64 *a, fa_simd_f64 *ca, fa_simd_f64 *b)
{
    const fa_simd_f64 zero = fa_set1_f64(0.0);
    const fa_mask_f64 large = fa_cmpge_f64(fa_abs_f64(v), fa_set1_f64(FA_GR_TINY_G));   /* NaN: into B */
    fa_simd_f64 e;
    *a = fa_two_sum_f64(*a, fa_select_f64(large, fa_mul_f64(v, fa_set1_f64(FA_GR_LOG_DOWN)), zero), &e);
    *ca = fa_add_f64(*ca, e);
    *b = fa_add_f64(*b, fa_select_f64(large, zero, v));
}
/* per lane, from the plain sums s and the rescue's A, B: *sp the sum for the plain formula,
 * *s2 the scaled one; returns the lanes that take the scaled formula */
FA_INLINE fa_mask_f64 fa_gr_rescue_pick(fa_simd_f64 s, fa_simd_f64 A, fa_simd_f64 B, fa_simd_f64 *sp, fa_simd_f64 *s2)
{
    const fa_simd_f64 again = fa_add_f64(fa_mul_f64(A, fa_set1_f64(FA_GR_LOG_UP)), B);
    const fa_mask_f64 plain = fa_mask_not_f64(fa_gr_log_big(s)), small = fa_mask_not_f64(fa_gr_log_big(again));
    *sp = fa_select_f64(plain, s, again);
    *s2 = fa_add_f64(A, fa_mul_f64(B, fa_set1_f64(FA_GR_LOG_DOWN)));
    return fa_mask_not_f64(fa_mask_or_f64(plain, small));
}

/* e^y s up for lanes with y < -760, where the exp's clamp (fa_exp_minus_f64) gives e^-760 s:
 * not 0 once |s| >= 2^21 (log_softmax_grad(log([.5, .5, 0]), [5e9, 5e9, 0])[2] was -8.6e-321,
 * and -1.7e-22 in the rescue: a review, 2026-12-07).  e^y = (e^(y/4))^4 (y/4 exact, >= -708:
 * normal), e^(y/4) as a double-double (fa_exp_neg_dd_f64, 2^-58) at the scale 2^200, s times it
 * four times in double-double arithmetic (the products exact by fa_gr_two_prod_f64), then one
 * multiplication by up 2^-800: one rounding (two where the result is subnormal).  A first version
 * with four rounded factors reached 4.97 ULP (y = -1416.14, s = 1.7e308: the review).  Below
 * y = -2832 (and at -inf) the result is 0 for any |s| < 2^1030.  Callers test y < -760 only
 * where some |s| of the slice or group is >= 2^21 (FA_GR_DEEP_S). */
#define FA_GR_DEEP_S 0x1p21
FA_COLD fa_simd_f64 fa_gr_exp_times_deep(fa_simd_f64 y, fa_simd_f64 s, fa_simd_f64 p, fa_mask_f64 deep, double up)
{
    fa_simd_f64 t, n, el;
    const fa_simd_f64 h = fa_max_f64(fa_mul_f64(y, fa_set1_f64(0.25)), fa_set1_f64(-708.0));
    fa_simd_f64 eh = fa_exp_neg_dd_f64(h, fa_set1_f64(0.0), FA_EXP_M1, &t, &n, &el);   /* sets t, n */
    const fa_simd_f64 k = fa_set1_f64(16.0 * 200);
    t = fa_add_f64(t, k);
    n = fa_add_f64(n, k);
    eh = fa_scale_exp_f64(eh, t, n);
    el = fa_scale_exp_f64(el, t, n);
    fa_simd_f64 qh = s, ql = fa_set1_f64(0.0);
    for (int i = 0; i < 4; i++) {
        fa_simd_f64 lo, hi = fa_gr_two_prod_f64(qh, eh, &lo);
        lo = fa_add_f64(lo, fa_fmadd_f64(qh, el, fa_mul_f64(ql, eh)));
        qh = fa_add_f64(hi, lo);
        ql = fa_sub_f64(lo, fa_sub_f64(qh, hi));
    }
    fa_simd_f64 q = fa_mul_f64(fa_add_f64(qh, ql), fa_set1_f64(up * 0x1p-800));
    q = fa_select_f64(fa_cmplt_f64(y, fa_set1_f64(-2832.0)), fa_mul_f64(s, fa_set1_f64(0.0)), q);
    return fa_select_f64(deep, q, p);
}
/* e^y s up rounded once (em, t, nn: fa_exp_minus_f64's parts of e^y; up 1, or 2^64 for the
 * rescue's s' = s 2^-64: e^y s' is then normal wherever it is used, since the scaled lanes have
 * |s'| >= ~2^936 and y >= -760 outside the deep path, so e^y s' >= 2^-161 and times 2^64 is
 * exact); deep: some |s| of the group >= 2^21 */
FA_INLINE fa_simd_f64 fa_gr_exp_times(fa_simd_f64 em, fa_simd_f64 t, fa_simd_f64 nn, fa_simd_f64 y, fa_simd_f64 s,
                                      int deep, double up)
{
    fa_simd_f64 p = fa_scale_exp_f64(fa_mul_f64(em, s), t, nn);
    if (up != 1.0)
        p = fa_mul_f64(p, fa_set1_f64(up));
    if (deep) {
        const fa_mask_f64 d = fa_cmplt_f64(y, fa_set1_f64(-760.0));
        if (FA_UNLIKELY(fa_mask_any_f64(d)))
            p = fa_gr_exp_times_deep(y, s, p, d, up);
    }
    return p;
}

/* One lane group's term of the sum: g y (LOG = 0) or g (LOG = 1), 0 where masked out;
 * *lo gets the product's rounding error (float64 data; 0 for float32, where g y is exact). */
FA_INLINE fa_simd_f64 fa_gr_term(fa_simd_f64 y, fa_simd_f64 g, int LOG, int exact_prod, fa_simd_f64 *lo)
{
    *lo = fa_set1_f64(0.0);
    if (LOG)
        return g;
    if (exact_prod)
        return fa_mul_f64(g, y);
    return fa_gr_two_prod_f64(g, y, lo);
}

/* v = y (g - s) with the lanes where d = g - s overflowed (|g| and |s| near DBL_MAX, of
 * opposite signs, s finite) taken as y (g/2 - s/2) 2: the halvings exact, one rounding of the
 * difference and one of the product (y <= 1), as y (g - s) with an unbounded exponent; the
 * product of a probability and such a d is finite (float64 softmax_grad gave +-inf, the
 * differential fuzz of 2026-12-06) */
/* Taken only where some |s| of the slice or strip is >= 2^969 (FA_GR_BIG_S; below, |g - s| <=
 * DBL_MAX + 2^969 rounds to DBL_MAX at most): the callers decide once per slice or strip, as a
 * test of d per vector cost softmax_grad 9-20% at (1024, 1024) */
#define FA_GR_BIG_S 0x1p969
FA_COLD fa_simd_f64 fa_gr_wide_diff_f64(fa_simd_f64 v, fa_simd_f64 y, fa_simd_f64 g, fa_simd_f64 s, fa_simd_f64 d)
{
    const fa_mask_f64 ovf = fa_cmpeq_f64(fa_abs_f64(d), fa_set1_f64(INFINITY));
    if (!fa_mask_any_f64(ovf))
        return v;
    const fa_simd_f64 h = fa_set1_f64(0.5);
    const fa_simd_f64 w = fa_mul_f64(fa_mul_f64(y, fa_sub_f64(fa_mul_f64(g, h), fa_mul_f64(s, h))), fa_set1_f64(2.0));
    return fa_select_f64(ovf, w, v);
}

/* The output of one lane group from its sum s (a vector: per column, or the slice's);
 * wide: float32 data, whose e^y needs only fa_exp_neg_f64w's 2^-27 (y clamped to +-700);
 * big: softmax_grad, some |s| >= FA_GR_BIG_S; log_softmax_grad (float64), some |s| >=
 * FA_GR_DEEP_S.  LOG = FA_GR_LOG_SCALED (the rescue): the lanes of `scaled` from s2 = s 2^-64 */
FA_INLINE fa_simd_f64 fa_gr_out(fa_simd_f64 y, fa_simd_f64 g, fa_simd_f64 s, int LOG, int wide, int big,
                                fa_simd_f64 s2, fa_mask_f64 scaled)
{
    if (!LOG) {
        const fa_simd_f64 d = fa_sub_f64(g, s);
        return wide || !big ? fa_mul_f64(y, d) : fa_gr_wide_diff_f64(fa_mul_f64(y, d), y, g, s, d);
    }
    if (wide) {
        fa_simd_f64 yc = fa_max_f64(fa_set1_f64(-700.0), fa_min_f64(fa_set1_f64(700.0), y));
        return fa_fnmadd_f64(fa_exp_neg_f64w(yc), s, g);
    }
    fa_simd_f64 t, nn;
    fa_simd_f64 em = fa_exp_minus_f64(fa_neg_f64(y), fa_set1_f64(0.0), 0, &t, &nn);
    fa_simd_f64 v = fa_sub_f64(g, fa_gr_exp_times(em, t, nn, y, s, big, 1.0));
    if (LOG == FA_GR_LOG_SCALED) {
        /* near: g - e^y s (e^y s = e^y s' 2^64 rounded once, below 2^1023); far: 2^64 (g 2^-64 - e^y s') */
        const fa_simd_f64 ps = fa_gr_exp_times(em, t, nn, y, s2, 1, 1.0), up = fa_set1_f64(FA_GR_LOG_UP);
        const fa_mask_f64 in_range = fa_cmplt_f64(fa_abs_f64(ps), fa_set1_f64(0x1p959));
        const fa_simd_f64 near = fa_sub_f64(g, fa_gr_exp_times(em, t, nn, y, s2, 1, FA_GR_LOG_UP));
        const fa_simd_f64 far = fa_mul_f64(fa_sub_f64(fa_mul_f64(g, fa_set1_f64(FA_GR_LOG_DOWN)), ps), up);
        v = fa_select_f64(scaled, fa_select_f64(in_range, near, far), v);
    }
    return v;
}

/* (s, c) += v (+ vlo), lane by lane: TwoSum, the errors into c; plain: s += v only */
FA_INLINE void fa_gr_acc(fa_simd_f64 *s, fa_simd_f64 *c, fa_simd_f64 v, fa_simd_f64 vlo, int plain)
{
    fa_simd_f64 e;
    if (plain) {
        *s = fa_add_f64(*s, v);
        return;
    }
    *s = fa_two_sum_f64(*s, v, &e);
    *c = fa_add_f64(*c, fa_add_f64(e, vlo));
}

/* The float32 output passes' rare lanes (entries whose float32 product would touch the
 * subnormals, where an Intel core takes a microcode assist per instruction:
 * math/fa_math_f32.h), in float64 lanes through fa_grad_rare_f32 (kernels/fa_map.h), rounded
 * once to float32 on the way back (the conversion takes no assist):
 *   fa_gr_product_v_f64   y (g - s): the float64 product of two floats is exact, so its one
 *                         rounding gives the float32 product's bits
 *   fa_gr_log_term_v_f64  g - e^y s (s = p->a), e^y by fa_exp_neg_f64w (2^-27 relative;
 *                         y >= -700 there) */
FA_INLINE fa_simd_f64 fa_gr_product_v_f64(fa_simd_f64 y, fa_simd_f64 d, const fa_params *p)
{
    (void)p;
    return fa_mul_f64(y, d);
}
/*   fa_gr_softmax_term_v_f64  y (g - s) (s = p->a) where the float32 g - s overflowed */
FA_INLINE fa_simd_f64 fa_gr_softmax_term_v_f64(fa_simd_f64 y, fa_simd_f64 g, const fa_params *p)
{
    return fa_mul_f64(y, fa_sub_f64(g, fa_set1_f64(p->a)));
}
FA_INLINE fa_simd_f64 fa_gr_log_term_v_f64(fa_simd_f64 y, fa_simd_f64 g, const fa_params *p)
{
    return fa_fnmadd_f64(fa_exp_neg_f64w(fa_max_f64(fa_set1_f64(-700.0), y)), fa_set1_f64(p->a), g);
}

/* the lanes of fa_gr_softmax_out_f32 whose g - s overflowed, in float64 lanes (out of line:
 * taken only for |s| >= 2^102) */
FA_COLD fa_simd_f32 fa_gr_softmax_big_f32(fa_simd_f32 v, fa_simd_f32 yv, fa_simd_f32 gv, fa_simd_f32 d,
                                          const fa_params *ps)
{
    return fa_grad_rare_f32(fa_cmpeq_f32(fa_abs_f32(d), fa_set1_f32(INFINITY)), v, yv, gv, ps,
                            fa_gr_softmax_term_v_f64);
}

/* softmax_grad's output pass of a contiguous float32 slice in float32 lanes:
 * out = y (g - s), s rounded to float32 (the roundings of s, the difference and the
 * product); lanes with 0 < |y| < 2^-90 (far-off entries' probabilities) through
 * fa_gr_product_v_f64, the same bits without a subnormal product; lanes whose g - s
 * overflows (|g|, |s| near 3.4e38, opposite signs) through fa_gr_softmax_term_v_f64 */
/* softmax_grad's output pass over pairs of full vectors, out = y (g - s) (y, g, out, n, sv and
 * i of the caller; V the lanes' type), one RARE(y) test per pair: the loop stops at the first
 * pair with such a lane and leaves i there for the caller's general loop */
#define FA_GR_SOFTMAX_PAIRS(V, RARE)                                                              \
    for (; i + 2 * L <= n; i += 2 * L) {                                                          \
        const fa_simd_##V y0 = fa_loadu_##V(y + i), y1 = fa_loadu_##V(y + i + L);                \
        const fa_simd_##V d0 = fa_sub_##V(fa_loadu_##V(g + i), sv), d1 = fa_sub_##V(fa_loadu_##V(g + i + L), sv); \
        if (FA_UNLIKELY(fa_mask_any_##V(fa_mask_or_##V(RARE(y0), RARE(y1)))))                    \
            break;                                                                                \
        fa_storeu_##V(out + i, fa_mul_##V(y0, d0));                                               \
        fa_storeu_##V(out + i + L, fa_mul_##V(y1, d1));                                          \
    }

/* the low lanes (0 < |y| < 2^-90) of a float32 vector */
FA_INLINE fa_mask_f32 fa_gr_low_f32(fa_simd_f32 yv)
{
    return fa_mask_and_f32(fa_cmplt_f32(fa_abs_f32(yv), fa_set1_f32(0x1p-90f)), fa_cmpneq_f32(yv, fa_set1_f32(0.0f)));
}
FA_INLINE void fa_gr_softmax_out_f32(const float *y, const float *g, const unsigned char *mk,
                                     float *out, ptrdiff_t n, double s)
{
    const ptrdiff_t L = FA_LANES_F32;
    const fa_simd_f32 sv = fa_set1_f32((float)s), one = fa_set1_f32(1.0f), zero = fa_set1_f32(0.0f);
    const fa_params none = {0.0, 0.0, 0.0, 0.0}, ps = {s, 0.0, 0.0, 0.0};
    const int big_s = fabs(s) >= 0x1p102;
    ptrdiff_t i = 0;
    /* The common case first: grad_output, no mask, |s| < 2^102, two full vectors at a time with
     * one test for low lanes per pair (the general loop below takes over from the first pair
     * that has one).  The general loop's tests of g, mk, big_s and the tail per vector made it
     * ~27 instructions per vector: float32 softmax_grad of (1024, 1024) rows 0.19 ms against
     * torch's 0.12, the same ~190 ns per row with the rows in L2 (2026-12-06). */
    if (g && !mk && !big_s)
        FA_GR_SOFTMAX_PAIRS(f32, fa_gr_low_f32);
    for (; i < n; i += L) {
        const ptrdiff_t k = n - i;
        fa_simd_f32 yv = k >= L ? fa_loadu_f32(y + i) : fa_load_tail_f32(y + i, k, 0.0f);
        fa_simd_f32 gv = !g ? one : k >= L ? fa_loadu_f32(g + i) : fa_load_tail_f32(g + i, k, 0.0f);
        const fa_mask_f32 low = fa_gr_low_f32(yv);
        const fa_simd_f32 d = fa_sub_f32(gv, sv);
        fa_simd_f32 v;
        if (FA_LIKELY(!fa_mask_any_f32(low)))
            v = fa_mul_f32(yv, d);
        else
            v = fa_grad_rare_f32(low, fa_mul_f32(fa_select_f32(low, zero, yv), d), yv, d, &none, fa_gr_product_v_f64);
        /* g - s beyond float32's range (|g|, |s| near 3.4e38, opposite signs): float64 lanes;
         * impossible for |s| < 2^102 (|g - s| <= FLT_MAX + 2^102 rounds to FLT_MAX at most) */
        if (FA_UNLIKELY(big_s))
            v = fa_gr_softmax_big_f32(v, yv, gv, d, &ps);
        if (mk)
            v = fa_select_f32(k >= L ? fa_load_mask_u8_f32(mk + i) : fa_load_tail_mask_u8_f32(mk + i, k), v, zero);
        if (k >= L) fa_storeu_f32(out + i, v); else fa_store_tail_f32(out + i, v, k);
    }
}

/* log_softmax_grad's output pass of a contiguous float32 slice in float32 lanes:
 * out = g - e^y s as one fused multiply-add, e^y from fa_exp_neg_normal_f32 (~1 ULP) with y
 * clamped to [-87, 88] (e^y normal; a log-probability is <= 0), s rounded to float32;
 * lanes with y < -87 (e^y s near or in the subnormals) through fa_gr_log_term_v_f64 */
/* the lanes y < -87 of one vector of it: -inf (e^y s = 0 s) and the rest through
 * fa_gr_log_term_v_f64 */
FA_INLINE fa_simd_f32 fa_gr_log_low_f32(fa_mask_f32 low, fa_simd_f32 v, fa_simd_f32 yv, fa_simd_f32 gv,
                                        fa_simd_f32 sv, const fa_params *ps)
{
    const fa_mask_f32 ninf = fa_cmpeq_f32(yv, fa_set1_f32(-INFINITY));
    v = fa_select_f32(ninf, fa_fnmadd_f32(fa_set1_f32(0.0f), sv, gv), v);
    low = fa_mask_and_f32(low, fa_cmpneq_f32(yv, fa_set1_f32(-INFINITY)));
    if (fa_mask_any_f32(low))
        v = fa_grad_rare_f32(low, v, yv, gv, ps, fa_gr_log_term_v_f64);
    return v;
}
/* one vector of it: g - e^y s, e^y by fa_exp_neg_normal_f32 (y clamped to [-87, 88]: e^y
 * normal, the bits of fa_exp_neg_f32 there), one test for the lanes below -87 (-inf included) */
FA_INLINE fa_simd_f32 fa_gr_log_term_f32(fa_simd_f32 yv, fa_simd_f32 gv, fa_simd_f32 sv, const fa_params *ps)
{
    const fa_simd_f32 lo = fa_set1_f32(-87.0f), hi = fa_set1_f32(88.0f);
    const fa_simd_f32 e = fa_exp_neg_normal_f32(fa_min_f32(hi, fa_max_f32(lo, yv)));
    const fa_simd_f32 v = fa_fnmadd_f32(e, sv, gv);
    const fa_mask_f32 low = fa_cmplt_f32(yv, lo);
    if (FA_UNLIKELY(fa_mask_any_f32(low)))
        return fa_gr_log_low_f32(low, v, yv, gv, sv, ps);
    return v;
}
FA_INLINE void fa_gr_log_softmax_out_f32(const float *y, const float *g, const unsigned char *mk,
                                         float *out, ptrdiff_t n, double s)
{
    const ptrdiff_t L = FA_LANES_F32;
    const fa_simd_f32 sv = fa_set1_f32((float)s), one = fa_set1_f32(1.0f), zero = fa_set1_f32(0.0f);
    const fa_params ps = {(double)(float)s, 0.0, 0.0, 0.0};
    ptrdiff_t i = 0;
    if (g && !mk)         /* the common case without the per-vector tests of g, mk and the tail */
        for (; i + L <= n; i += L)
            fa_storeu_f32(out + i, fa_gr_log_term_f32(fa_loadu_f32(y + i), fa_loadu_f32(g + i), sv, &ps));
    for (; i < n; i += L) {
        const ptrdiff_t k = n - i;
        fa_simd_f32 yv = k >= L ? fa_loadu_f32(y + i) : fa_load_tail_f32(y + i, k, 0.0f);
        fa_simd_f32 gv = !g ? one : k >= L ? fa_loadu_f32(g + i) : fa_load_tail_f32(g + i, k, 0.0f);
        fa_simd_f32 v = fa_gr_log_term_f32(yv, gv, sv, &ps);
        if (mk)
            v = fa_select_f32(k >= L ? fa_load_mask_u8_f32(mk + i) : fa_load_tail_mask_u8_f32(mk + i, k), v, zero);
        if (k >= L) fa_storeu_f32(out + i, v); else fa_store_tail_f32(out + i, v, k);
    }
}

/* The sum s of a contiguous float32 slice without a mask: g y (softmax_grad; y without g) or
 * g (log_softmax_grad; n without g) widened to float64, where the product of two floats is
 * exact, so the fused multiply-add rounds once, as the sum alone would; four accumulators (the
 * add latency, not the loads, bounded the two of the masked loop: 16 entries per 3 cycles) and
 * the lanes added plainly at the end (error ~n 2^-53 of the sum of |terms|, far below float32's
 * ULP, as the general loop's; the output rounds s to float32). */
FA_INLINE double fa_gr_sum_f32(const float *y, const float *g, ptrdiff_t n, int LOG)
{
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 zero = fa_set1_f64(0.0);
    const float *v = LOG ? g : y;                 /* the one operand of a plain sum */
    fa_simd_f64 a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    ptrdiff_t i = 0;
    if (LOG && !g)
        return (double)n;
    if (LOG || !g) {
        for (; i + 4 * L <= n; i += 4 * L) {
            a0 = fa_add_f64(a0, fa_loadu_f32_as_f64(v + i));
            a1 = fa_add_f64(a1, fa_loadu_f32_as_f64(v + i + L));
            a2 = fa_add_f64(a2, fa_loadu_f32_as_f64(v + i + 2 * L));
            a3 = fa_add_f64(a3, fa_loadu_f32_as_f64(v + i + 3 * L));
        }
        for (; i < n; i += L)
            a0 = fa_add_f64(a0, n - i >= L ? fa_loadu_f32_as_f64(v + i) : fa_load_tail_f32_as_f64(v + i, n - i, 0.0));
    } else {
        for (; i + 4 * L <= n; i += 4 * L) {
            a0 = fa_fmadd_f64(fa_loadu_f32_as_f64(g + i), fa_loadu_f32_as_f64(y + i), a0);
            a1 = fa_fmadd_f64(fa_loadu_f32_as_f64(g + i + L), fa_loadu_f32_as_f64(y + i + L), a1);
            a2 = fa_fmadd_f64(fa_loadu_f32_as_f64(g + i + 2 * L), fa_loadu_f32_as_f64(y + i + 2 * L), a2);
            a3 = fa_fmadd_f64(fa_loadu_f32_as_f64(g + i + 3 * L), fa_loadu_f32_as_f64(y + i + 3 * L), a3);
        }
        for (; i < n; i += L) {
            const ptrdiff_t k = n - i;
            a0 = fa_fmadd_f64(k >= L ? fa_loadu_f32_as_f64(g + i) : fa_load_tail_f32_as_f64(g + i, k, 0.0),
                              k >= L ? fa_loadu_f32_as_f64(y + i) : fa_load_tail_f32_as_f64(y + i, k, 0.0), a0);
        }
    }
    const double s = fa_reduce_add_f64(fa_add_f64(fa_add_f64(a0, a1), fa_add_f64(a2, a3)));
    return s + (s - s);        /* an infinite sum is NaN, as the compensated sums of the other paths make it */
}

/*
 * softmax_grad of a contiguous float64 slice without subnormal operands or results.  A
 * softmax of log-weights spread over +-800 has many y in the subnormals, and on an Intel core
 * every product taking or making one costs a microcode assist (~150 cycles): such slices took
 * 2x their N(0, 3) time.  Lanes with 0 < |y| < 2^-900 ("deep", a branch per vector) are
 * carried at y 2^600, exact and normal: y 2^600 for a normal y, m 2^-474 for a subnormal
 * y = m 2^-1074 (m its mantissa bits, exact as a double: (bits | 2^52's) - 2^52).  Their
 * products g (y 2^600) go, TwoProd-exact, into accumulators of their own, added to s at
 * 2^-600 once per slice; their outputs (y 2^600)(g - s), rounded, are brought down by 2^-600
 * on the integer side where the result is subnormal (a second rounding: within one
 * subnormal spacing), by an exact product where it is normal.  The other lanes are as in
 * fa_gr_slice (y 0 in the deep lanes).  A |g| below 2^-60 beside a y near 2^-900 may still
 * form a subnormal product (exact, only slower).
 */
FA_INLINE fa_mask_f64 fa_gr_deep_f64(fa_simd_f64 y)
{
    const fa_simd_f64 a = fa_abs_f64(y);
    return fa_mask_and_f64(fa_cmplt_f64(a, fa_set1_f64(0x1p-900)), fa_cmpgt_f64(a, fa_set1_f64(0.0)));
}

/* y 2^600 for the lanes `deep` (0 elsewhere), no subnormal operand */
FA_INLINE fa_simd_f64 fa_gr_up600_f64(fa_simd_f64 y, fa_mask_f64 deep)
{
    const fa_simd_f64 zero = fa_set1_f64(0.0), two52 = fa_set1_f64(0x1p52);
    const fa_simd_f64 a = fa_select_f64(deep, fa_abs_f64(y), zero), sign = fa_and_f64(y, fa_set1_f64(-0.0));
    const fa_mask_f64 sub = fa_cmplt_f64(a, fa_set1_f64(0x1p-1022));
    const fa_simd_f64 m = fa_sub_f64(fa_or_f64(fa_select_f64(sub, a, zero), two52), two52);
    const fa_simd_f64 up = fa_select_f64(sub, fa_mul_f64(m, fa_set1_f64(0x1p-474)),
                                         fa_mul_f64(fa_select_f64(sub, zero, a), fa_set1_f64(0x1p600)));
    return fa_or_f64(up, sign);
}

/* w 2^-600 rounded once from a normal (or 0) w: |w| 2^474 rounded to an integer where the
 * result is subnormal, else the exact product */
FA_INLINE fa_simd_f64 fa_gr_down600_f64(fa_simd_f64 w)
{
    const fa_simd_f64 sign = fa_and_f64(w, fa_set1_f64(-0.0));
    const fa_simd_f64 a = fa_abs_f64(w), zero = fa_set1_f64(0.0);
    const fa_mask_f64 sub = fa_cmplt_f64(a, fa_set1_f64(0x1p-422));
    const fa_simd_f64 tiny = fa_subnormal_from_f64(fa_mul_f64(fa_select_f64(sub, a, zero), fa_set1_f64(0x1p474)));
    const fa_simd_f64 normal = fa_mul_f64(fa_select_f64(sub, zero, a), fa_set1_f64(0x1p-600));
    return fa_or_f64(fa_select_f64(sub, tiny, normal), sign);
}

/* below: they load through fa_gr_load_f64 */
FA_INLINE void fa_gr_softmax_sum_f64(const double *y, const double *g, const unsigned char *mk, ptrdiff_t n,
                                     double *hi, double *lo);
FA_INLINE void fa_gr_softmax_outs_f64(const double *y, const double *g, const unsigned char *mk, double *out,
                                      ptrdiff_t n, double s);

/* a column lane's sum from its accumulator pair (fa_gr_acc).  float32 data sums plainly (c stays
 * 0), so an infinite sum would stay +-inf and the column's other entries come out +-inf, its own
 * NaN, where a row (fa_gr_sum_f32, the masked loop's TwoSums) and a long slice make every entry
 * NaN: s + (s - s) turns an infinite sum into NaN and leaves a finite one as it is (never -0.0:
 * the sums start at +0.0).  float64's compensation c is already NaN there. */
FA_INLINE fa_simd_f64 fa_gr_column_total(fa_simd_f64 s, fa_simd_f64 c, int F32)
{
    if (F32)
        return fa_add_f64(s, fa_sub_f64(s, s));
    return fa_add_f64(s, c);
}

/* columns per strip of the inner > 1 layout (a multiple of every FA_LANES_F64): its float64
 * accumulator pairs take 2 FA_GR_STRIP doubles on the stack */
#define FA_GR_STRIP 512
/* Strips or register pairs (fa_gr_column_pair, one 16-column block walked down at a time):
 * at a row stride of a multiple of 1 KB a block's lines fall into a few cache sets, and from 32
 * rows on they evict each other before the second pass; at other strides the pairs are as
 * fast or faster (their accumulators stay in registers).  Zen 4, one thread, axis 0, float32
 * softmax_grad / log_softmax_grad, pairs -> strips: (1024, 1024) 1647 -> 298 / 1165 -> 452 us,
 * (100, 1024) 62 -> 25 / 38 -> 41, (2, 128, 4096) axis 1 1031 -> 332 / 868 -> 457; (1024, 1000)
 * 311 -> 298 / 402 -> 440, (100, 1000) 20 -> 19 / 37 -> 37, so those stay pairs. */
#define FA_GR_STRIPS(n, stride_bytes) ((n) >= 32 && (stride_bytes) % 1024 == 0)

#define FA_SM_DEFINE_GRADS(T)                                                                     \
/* y[i .. i + k) as float64 lanes, and g's into *gv (1 without g) */                              \
FA_INLINE fa_simd_f64 fa_gr_load_##T(const fa_scalar_##T *y, const fa_scalar_##T *g, ptrdiff_t i, \
                                     ptrdiff_t k, fa_simd_f64 *gv)                                \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    *gv = !g ? fa_set1_f64(1.0) : k >= L ? FA_GR_LOAD_##T(g + i) : FA_GR_LOAD_TAIL_##T(g + i, k); \
    return k >= L ? FA_GR_LOAD_##T(y + i) : FA_GR_LOAD_TAIL_##T(y + i, k);                        \
}                                                                                                 \
/* a contiguous slice of n entries: lanes along it (two accumulator pairs, then the tail) */ \
FA_INLINE fa_simd_f64 fa_gr_slice_term_##T(const fa_scalar_##T *y, const fa_scalar_##T *g,         \
                                          const unsigned char *mk, ptrdiff_t i, ptrdiff_t k,      \
                                          int LOG, fa_simd_f64 *lo)                               \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    const fa_simd_f64 zero = fa_set1_f64(0.0);                                                    \
    fa_simd_f64 gv, yv = fa_gr_load_##T(y, g, i, k, &gv);                                         \
    fa_simd_f64 v = fa_gr_term(yv, gv, LOG, sizeof(fa_scalar_##T) == sizeof(float), lo);          \
    if (k < L) {                                                                                  \
        v = fa_select_f64(fa_tail_mask_f64(k), v, zero);                                          \
        *lo = fa_select_f64(fa_tail_mask_f64(k), *lo, zero);                                      \
    }                                                                                             \
    if (mk) {                                                                                     \
        fa_mask_f64 keep = k >= L ? fa_load_mask_u8_f64(mk + i) : fa_load_tail_mask_u8_f64(mk + i, k); \
        v = fa_select_f64(keep, v, zero);                                                         \
        *lo = fa_select_f64(keep, *lo, zero);                                                     \
    }                                                                                             \
    return v;                                                                                     \
}                                                                                                 \
FA_INLINE void fa_gr_slice_out_##T(const fa_scalar_##T *y, const fa_scalar_##T *g,                \
                                   const unsigned char *mk, fa_scalar_##T *out, ptrdiff_t i,      \
                                   ptrdiff_t k, fa_simd_f64 sv, int LOG, int big,                 \
                                   fa_simd_f64 s2, fa_mask_f64 sm)                                \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    fa_simd_f64 gv, yv = fa_gr_load_##T(y, g, i, k, &gv);                                         \
    fa_simd_f64 v = fa_gr_out(yv, gv, sv, LOG, sizeof(fa_scalar_##T) == sizeof(float), big, s2, sm); \
    if (mk)                                                                                       \
        v = fa_select_f64(k >= L ? fa_load_mask_u8_f64(mk + i) : fa_load_tail_mask_u8_f64(mk + i, k), v, fa_set1_f64(0.0)); \
    if (k >= L) FA_GR_STORE_##T(out + i, v); else FA_GR_STORE_TAIL_##T(out + i, v, k);            \
}                                                                                                 \
/* the sum s of a contiguous slice of n entries, as hi + lo: lanes along it (two      \
 * accumulator pairs, then the tail); float64 softmax_grad through fa_gr_softmax_sum_f64 */      \
FA_INLINE void fa_gr_slice_sum_##T(const fa_scalar_##T *y, const fa_scalar_##T *g,                \
                                   const unsigned char *mk, ptrdiff_t n, int LOG, double *hi,      \
                                   double *lo)                                                    \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    const int F32 = sizeof(fa_scalar_##T) == sizeof(float);                                       \
    const fa_simd_f64 zero = fa_set1_f64(0.0);                                                    \
    fa_simd_f64 s0 = zero, c0 = zero, s1 = zero, c1 = zero, elo;                                  \
    ptrdiff_t i = 0;                                                                              \
    if (!F32 && !LOG) {                                                                           \
        fa_gr_softmax_sum_f64((const double *)y, (const double *)g, mk, n, hi, lo);              \
        return;                                                                                   \
    }                                                                                             \
    if (F32 && !mk) {                                                                             \
        *hi = fa_gr_sum_f32((const float *)y, (const float *)g, n, LOG);                          \
        *lo = 0.0;                                                                                \
        return;                                                                                   \
    }                                                                                             \
    for (; i + 2 * L <= n; i += 2 * L) {                                                          \
        fa_simd_f64 v = fa_gr_slice_term_##T(y, g, mk, i, L, LOG, &elo);                          \
        fa_gr_acc(&s0, &c0, v, elo, F32);                                                         \
        v = fa_gr_slice_term_##T(y, g, mk, i + L, L, LOG, &elo);                                  \
        fa_gr_acc(&s1, &c1, v, elo, F32);                                                         \
    }                                                                                             \
    for (; i < n; i += L) {                                                                       \
        fa_simd_f64 v = fa_gr_slice_term_##T(y, g, mk, i, n - i < L ? n - i : L, LOG, &elo);      \
        fa_gr_acc(&s0, &c0, v, elo, F32);                                                         \
    }                                                                                             \
    double tot = 0.0, err = 0.0;                                                                  \
    fa_two_sum_acc_lanes_f64(&tot, &err, s0, c0);                                                 \
    fa_two_sum_acc_lanes_f64(&tot, &err, s1, c1);                                                 \
    *hi = tot;                                                                                    \
    *lo = err;                                                                                    \
}                                                                                                 \
/* the output pass of a contiguous slice from its sum s */                                        \
FA_INLINE void fa_gr_slice_outs_##T(const fa_scalar_##T *y, const fa_scalar_##T *g,               \
                                    const unsigned char *mk, fa_scalar_##T *out, ptrdiff_t n,     \
                                    int LOG, double s)                                            \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    const int F32 = sizeof(fa_scalar_##T) == sizeof(float);                                       \
    ptrdiff_t i;                                                                                  \
    if (!F32 && !LOG) {                                                                           \
        fa_gr_softmax_outs_f64((const double *)y, (const double *)g, mk, (double *)out, n, s);   \
        return;                                                                                   \
    }                                                                                             \
    if (F32 && !(fabs(s) > 0x1.fffffep127)) {    /* s beyond float32: the float64 lanes below */ \
        if (LOG)                                                                                  \
            fa_gr_log_softmax_out_f32((const float *)y, (const float *)g, mk, (float *)out, n, s); \
        else                                                                                      \
            fa_gr_softmax_out_f32((const float *)y, (const float *)g, mk, (float *)out, n, s);    \
        return;                                                                                   \
    }                                                                                             \
    /* here LOG, or float32 data in float64 lanes: no g - s to overflow; LOG = FA_GR_LOG_SCALED: \
     * s is the rescue's s 2^-64, every lane scaled */                                            \
    const fa_simd_f64 sv = fa_set1_f64(s);                                                        \
    const fa_mask_f64 sm = fa_cmpeq_f64(fa_set1_f64(0.0), fa_set1_f64(0.0));      /* every lane */ \
    if (!F32 && (LOG == FA_GR_LOG_SCALED || !(fabs(s) < FA_GR_DEEP_S))) {  /* y < -760 tested */ \
        for (i = 0; i + L <= n; i += L)                                                           \
            fa_gr_slice_out_##T(y, g, mk, out, i, L, sv, LOG, 1, sv, sm);                         \
    } else {                                                                                      \
        for (i = 0; i + L <= n; i += L)                                                           \
            fa_gr_slice_out_##T(y, g, mk, out, i, L, sv, LOG, 0, sv, sm);                         \
    }                                                                                             \
    if (i < n)                                                                                    \
        fa_gr_slice_out_##T(y, g, mk, out, i, n - i, sv, LOG, !F32, sv, sm);                      \
}                                                                                                 \
/* the rescue's sums of a contiguous float64 slice (fa_gr_rescue_add): A as *ahi + *alo, B */     \
FA_INLINE void fa_gr_slice_rescue_##T(const fa_scalar_##T *y, const fa_scalar_##T *g,             \
                                      const unsigned char *mk, ptrdiff_t n, double *ahi,          \
                                      double *alo, double *b)                                     \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    const fa_simd_f64 zero = fa_set1_f64(0.0);                                                    \
    fa_simd_f64 a = zero, ca = zero, bv = zero, lo;                                               \
    for (ptrdiff_t i = 0; i < n; i += L)                                                          \
        fa_gr_rescue_add(fa_gr_slice_term_##T(y, g, mk, i, n - i < L ? n - i : L, 1, &lo), &a, &ca, &bv); \
    double tot = 0.0, err = 0.0;                                                                  \
    fa_two_sum_acc_lanes_f64(&tot, &err, a, ca);                                                  \
    *ahi = tot;                                                                                   \
    *alo = err;                                                                                   \
    *b = fa_reduce_add_f64(bv);                                                                   \
}                                                                                                 \
/* float64 log_softmax_grad of a contiguous slice whose sum reached 2^1000: the rescue (out of   \
 * line, as the strips' and pairs': the hot functions stay as compact as before it) */           \
FA_COLD void fa_gr_slice_rescued_##T(const fa_scalar_##T *y, const fa_scalar_##T *g,              \
                                     const unsigned char *mk, fa_scalar_##T *out, ptrdiff_t n)    \
{                                                                                                 \
    double ahi, alo, b, s;                                                                        \
    fa_gr_slice_rescue_##T(y, g, mk, n, &ahi, &alo, &b);                                          \
    if (fa_gr_rescue_pick_scalar(ahi + alo, b, &s))                                               \
        fa_gr_slice_outs_##T(y, g, mk, out, n, FA_GR_LOG_SCALED, s);                              \
    else                                                                                          \
        fa_gr_slice_outs_##T(y, g, mk, out, n, 1, s);                                             \
}                                                                                                 \
/* a contiguous slice: the sum, then the outputs (out may be y or g: the sum pass reads        \
 * everything first, the output pass each entry before writing it) */                             \
FA_INLINE void fa_gr_slice_##T(const fa_scalar_##T *y, const fa_scalar_##T *g,                    \
                               const unsigned char *mk, fa_scalar_##T *out, ptrdiff_t n, int LOG) \
{                                                                                                 \
    double hi, lo;                                                                                \
    fa_gr_slice_sum_##T(y, g, mk, n, LOG, &hi, &lo);                                              \
    if (sizeof(fa_scalar_##T) == sizeof(double) && LOG && !(fabs(hi + lo) < FA_GR_LOG_BIG))       \
        fa_gr_slice_rescued_##T(y, g, mk, out, n);                                                \
    else                                                                                          \
        fa_gr_slice_outs_##T(y, g, mk, out, n, LOG, hi + lo);                                     \
}                                                                                                 \
/* columns [0, w) of one (n, inner) block, w <= FA_GR_STRIP: one lane per column, each column   \
 * summed in order k = 0 .. n-1 as a contiguous slice's lane is; the strip is walked row by     \
 * row (contiguous loads of w entries), its accumulators kept in arrays.  One lane group of 16   \
 * columns at a time (the loop before 2026-12-06) read each row's entries at inner's stride:    \
 * at (1024, 1024) float32 every access a new line of the same few L1 and L2 sets, 1.7 ms.     \
 * float64 log_softmax_grad columns whose sum reaches 2^1000: the rescue, per column (above). */ \
/* the strip's rescue (float64 log_softmax_grad, some column's sum at 2^1000): s holds the plain \
 * sums of the ceil(w / L) lane groups and is overwritten; also the pairs' (w <= 2 L) */                                                                     \
FA_COLD void fa_gr_strip_rescued_##T(const fa_scalar_##T *y, const fa_scalar_##T *g,             \
                                     const unsigned char *mk, fa_scalar_##T *out, ptrdiff_t n,    \
                                     ptrdiff_t inner, ptrdiff_t w, fa_simd_f64 *s)                \
{                                                                                                 \
    enum { G = FA_GR_STRIP / FA_LANES_F64 };                                                      \
    const ptrdiff_t L = FA_LANES_F64, groups = (w + L - 1) / L;                                   \
    const fa_simd_f64 zero = fa_set1_f64(0.0);                                                    \
    fa_simd_f64 a[G], ca[G], b[G], s2[G], lo;                                                     \
    fa_mask_f64 sm[G];                                                                            \
    for (ptrdiff_t j = 0; j < groups; j++)                                                        \
        a[j] = ca[j] = b[j] = zero;                                                               \
    for (ptrdiff_t k = 0; k < n; k++)                                                             \
        for (ptrdiff_t j = 0; j < groups; j++) {                                                  \
            const ptrdiff_t left = w - j * L;                                                     \
            fa_gr_rescue_add(fa_gr_slice_term_##T(y, g, mk, k * inner + j * L, left < L ? left : L, 1, &lo), \
                             &a[j], &ca[j], &b[j]);                                               \
        }                                                                                         \
    for (ptrdiff_t j = 0; j < groups; j++)                                                        \
        sm[j] = fa_gr_rescue_pick(s[j], fa_add_f64(a[j], ca[j]), b[j], &s[j], &s2[j]);            \
    for (ptrdiff_t k = 0; k < n; k++)                                                             \
        for (ptrdiff_t j = 0; j < groups; j++) {                                                  \
            const ptrdiff_t left = w - j * L;                                                     \
            fa_gr_slice_out_##T(y, g, mk, out, k * inner + j * L, left < L ? left : L, s[j],     \
                                FA_GR_LOG_SCALED, 1, s2[j], sm[j]);                               \
        }                                                                                         \
}                                                                                                 \
FA_INLINE void fa_gr_column_strip_##T(const fa_scalar_##T *y, const fa_scalar_##T *g,             \
                                      const unsigned char *mk, fa_scalar_##T *out, ptrdiff_t n,   \
                                      ptrdiff_t inner, ptrdiff_t w, int LOG)                      \
{                                                                                                 \
    enum { G = FA_GR_STRIP / FA_LANES_F64 };                                                      \
    const ptrdiff_t L = FA_LANES_F64, groups = (w + L - 1) / L;                                   \
    const int F32 = sizeof(fa_scalar_##T) == sizeof(float);                                       \
    const fa_simd_f64 zero = fa_set1_f64(0.0);                                                    \
    fa_simd_f64 s[G], c[G], lo;                                                                   \
    fa_mask_f64 bigm = fa_cmpneq_f64(zero, zero), rescue = bigm;                                  \
    for (ptrdiff_t j = 0; j < groups; j++)                                                        \
        s[j] = c[j] = zero;                                                                       \
    for (ptrdiff_t k = 0; k < n; k++) {                                                           \
        const ptrdiff_t i = k * inner;                                                            \
        for (ptrdiff_t j = 0; j < groups; j++) {                                                  \
            const ptrdiff_t left = w - j * L;                                                     \
            fa_simd_f64 v = fa_gr_slice_term_##T(y, g, mk, i + j * L, left < L ? left : L, LOG, &lo); \
            fa_gr_acc(&s[j], &c[j], v, lo, F32);                                                  \
        }                                                                                         \
    }                                                                                             \
    const fa_simd_f64 big_lim = fa_set1_f64(LOG ? FA_GR_DEEP_S : FA_GR_BIG_S);                    \
    for (ptrdiff_t j = 0; j < groups; j++) {                                                      \
        s[j] = fa_gr_column_total(s[j], c[j], F32);                                               \
        bigm = fa_mask_or_f64(bigm, fa_mask_not_f64(fa_cmplt_f64(fa_abs_f64(s[j]), big_lim)));   \
        if (!F32 && LOG)                                                                          \
            rescue = fa_mask_or_f64(rescue, fa_gr_log_big(s[j]));                                 \
    }                                                                                             \
    if (!F32 && LOG && fa_mask_any_f64(rescue)) {      /* a column's sum at the range's edge */   \
        fa_gr_strip_rescued_##T(y, g, mk, out, n, inner, w, s);                                   \
        return;                                                                                   \
    }                                                                                             \
    const int big = fa_mask_any_f64(bigm);                                                        \
    for (ptrdiff_t k = 0; k < n; k++) {                                                           \
        const ptrdiff_t i = k * inner;                                                            \
        for (ptrdiff_t j = 0; j < groups; j++) {                                                  \
            const ptrdiff_t left = w - j * L;                                                     \
            fa_gr_slice_out_##T(y, g, mk, out, i + j * L, left < L ? left : L, s[j], LOG, big, s[j], bigm); \
        }                                                                                         \
    }                                                                                             \
}                                                                                                 \
/* columns [c0, c0 + w) of one (n, inner) block, w <= 2 FA_LANES_F64: one lane per column,  \
 * two vectors (a float32 cache line on AVX-512), walked down the column: short columns */                                               \
FA_INLINE void fa_gr_column_pair_##T(const fa_scalar_##T *y, const fa_scalar_##T *g,              \
                                     const unsigned char *mk, fa_scalar_##T *out, ptrdiff_t n,    \
                                     ptrdiff_t inner, ptrdiff_t w, int LOG)                       \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64, w0 = w < FA_LANES_F64 ? w : FA_LANES_F64, w1 = w - w0;      \
    const int F32 = sizeof(fa_scalar_##T) == sizeof(float);                                       \
    const fa_simd_f64 zero = fa_set1_f64(0.0);                                                    \
    fa_simd_f64 s0 = zero, c0 = zero, s1 = zero, c1 = zero, lo;                                   \
    for (ptrdiff_t k = 0; k < n; k++) {                                                           \
        const ptrdiff_t i = k * inner;                                                            \
        fa_simd_f64 v = fa_gr_slice_term_##T(y, g, mk, i, w0, LOG, &lo);                          \
        fa_gr_acc(&s0, &c0, v, lo, F32);                                                          \
        if (w1 > 0) {                                                                             \
            v = fa_gr_slice_term_##T(y, g, mk, i + L, w1, LOG, &lo);                              \
            fa_gr_acc(&s1, &c1, v, lo, F32);                                                      \
        }                                                                                         \
    }                                                                                             \
    fa_simd_f64 sv0 = fa_gr_column_total(s0, c0, F32), sv1 = fa_gr_column_total(s1, c1, F32);    \
    if (!F32 && LOG && fa_mask_any_f64(fa_mask_or_f64(fa_gr_log_big(sv0), fa_gr_log_big(sv1)))) { \
        fa_simd_f64 sv[2] = {sv0, sv1};          /* the strip's rescue: these are its <= 2 groups */ \
        fa_gr_strip_rescued_##T(y, g, mk, out, n, inner, w, sv);                                  \
        return;                                                                                   \
    }                                                                                             \
    const fa_simd_f64 big_lim = fa_set1_f64(LOG ? FA_GR_DEEP_S : FA_GR_BIG_S);                    \
    const fa_mask_f64 b0m = fa_mask_not_f64(fa_cmplt_f64(fa_abs_f64(sv0), big_lim));              \
    const int big = fa_mask_any_f64(fa_mask_or_f64(b0m, fa_mask_not_f64(fa_cmplt_f64(fa_abs_f64(sv1), big_lim)))); \
    for (ptrdiff_t k = 0; k < n; k++) {                                                           \
        const ptrdiff_t i = k * inner;                                                            \
        fa_gr_slice_out_##T(y, g, mk, out, i, w0, sv0, LOG, big, sv0, b0m);                       \
        if (w1 > 0)                                                                               \
            fa_gr_slice_out_##T(y, g, mk, out, i + L, w1, sv1, LOG, big, sv1, b0m);               \
    }                                                                                             \
}                                                                                                 \
static void fa_sm_grad_##T(const fa_scalar_##T *y, fa_scalar_##T *out, ptrdiff_t outer,          \
                           ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o, int LOG)          \
{                                                                                                 \
    const fa_scalar_##T *g = o ? (const fa_scalar_##T *)o->b : NULL;                              \
    const unsigned char *mk = o ? o->mask : NULL;                                                 \
    const ptrdiff_t cols = o && o->cols ? o->cols : inner;                                        \
    for (ptrdiff_t r = 0; r < outer; r++) {                                                       \
        const ptrdiff_t base = r * n * inner;                                                     \
        if (inner == 1) {                                                                         \
            fa_gr_slice_##T(y + base, g ? g + base : NULL, mk ? mk + base : NULL, out + base, n, LOG); \
            continue;                                                                             \
        }                                                                                         \
        if (cols <= 2 * FA_LANES_F64 || !FA_GR_STRIPS(n, inner * (ptrdiff_t)sizeof(fa_scalar_##T))) { \
            for (ptrdiff_t c0 = 0; c0 < cols; c0 += 2 * FA_LANES_F64) {                           \
                const ptrdiff_t b = base + c0, w = cols - c0;                                     \
                fa_gr_column_pair_##T(y + b, g ? g + b : NULL, mk ? mk + b : NULL, out + b, n,    \
                                      inner, w < 2 * FA_LANES_F64 ? w : 2 * FA_LANES_F64, LOG);   \
            }                                                                                     \
            continue;                                                                             \
        }                                                                                         \
        for (ptrdiff_t c0 = 0; c0 < cols; c0 += FA_GR_STRIP) {                                    \
            const ptrdiff_t b = base + c0, w = cols - c0;                                         \
            fa_gr_column_strip_##T(y + b, g ? g + b : NULL, mk ? mk + b : NULL, out + b, n, inner, \
                                   w < FA_GR_STRIP ? w : FA_GR_STRIP, LOG);                       \
        }                                                                                         \
    }                                                                                             \
}                                                                                                 \
FA_SM_DEFINE_PAIR(T, softmax_grad, log_softmax_grad, fa_sm_grad)

FA_SM_DEFINE_GRADS(f32)
FA_SM_DEFINE_GRADS(f64)

FA_INLINE void fa_gr_softmax_sum_f64(const double *y, const double *g, const unsigned char *mk, ptrdiff_t n,
                                     double *hi, double *lo)
{
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 zero = fa_set1_f64(0.0);
    fa_simd_f64 s0 = zero, c0 = zero, s1 = zero, c1 = zero, sd = zero, cd = zero, plo;
    int any_deep = 0;
    ptrdiff_t i = 0;
    if (g && !mk)     /* the common case: pairs of full vectors, one deep test per pair (the loop */
        for (; i + 2 * L <= n; i += 2 * L) {                     /* below from the first deep one) */
            const fa_simd_f64 y0 = fa_loadu_f64(y + i), y1 = fa_loadu_f64(y + i + L);
            if (FA_UNLIKELY(fa_mask_any_f64(fa_mask_or_f64(fa_gr_deep_f64(y0), fa_gr_deep_f64(y1)))))
                break;
            fa_simd_f64 lo0, lo1;
            const fa_simd_f64 v0 = fa_gr_two_prod_f64(fa_loadu_f64(g + i), y0, &lo0);
            const fa_simd_f64 v1 = fa_gr_two_prod_f64(fa_loadu_f64(g + i + L), y1, &lo1);
            fa_gr_acc(&s0, &c0, v0, lo0, 0);
            fa_gr_acc(&s1, &c1, v1, lo1, 0);
        }
    for (; i < n; i += L) {                  /* vectors alternate between two accumulator pairs, */
        const ptrdiff_t k = n - i < L ? n - i : L;        /* the tail into the first (as fa_gr_slice) */
        fa_simd_f64 gv, yv = fa_gr_load_f64(y, g, i, k, &gv);
        if (mk) {                                        /* entries left out: 0 g 0 */
            const fa_mask_f64 keep = k >= L ? fa_load_mask_u8_f64(mk + i) : fa_load_tail_mask_u8_f64(mk + i, k);
            yv = fa_select_f64(keep, yv, zero);
            gv = fa_select_f64(keep, gv, zero);
        }
        const fa_mask_f64 deep = fa_gr_deep_f64(yv);
        if (FA_UNLIKELY(fa_mask_any_f64(deep))) {
            any_deep = 1;
            fa_simd_f64 dlo, dv = fa_gr_two_prod_f64(gv, fa_gr_up600_f64(yv, deep), &dlo);
            fa_gr_acc(&sd, &cd, dv, dlo, 0);
            yv = fa_select_f64(deep, zero, yv);
        }
        fa_simd_f64 v = fa_gr_two_prod_f64(gv, yv, &plo);
        if (((i / L) & 1) && k == L) fa_gr_acc(&s1, &c1, v, plo, 0); else fa_gr_acc(&s0, &c0, v, plo, 0);
    }
    double tot = 0.0, err = 0.0;
    fa_two_sum_acc_lanes_f64(&tot, &err, s0, c0);
    fa_two_sum_acc_lanes_f64(&tot, &err, s1, c1);
    if (any_deep) {                      /* the deep products at 2^-600 (scalar, once) */
        double dh = 0.0, de = 0.0;
        fa_two_sum_acc_lanes_f64(&dh, &de, sd, cd);
        fa_two_sum_acc(&tot, &err, (dh + de) * 0x1p-600);
    }
    *hi = tot;
    *lo = err;
}

FA_INLINE void fa_gr_softmax_outs_f64(const double *y, const double *g, const unsigned char *mk, double *out,
                                      ptrdiff_t n, double s)
{
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 zero = fa_set1_f64(0.0), sv = fa_set1_f64(s);
    const int big_s = fabs(s) >= FA_GR_BIG_S;      /* g - s may overflow: fa_gr_wide_diff_f64 */
    ptrdiff_t i = 0;
    if (g && !mk && !big_s)     /* the common case, as fa_gr_softmax_out_f32's */
        FA_GR_SOFTMAX_PAIRS(f64, fa_gr_deep_f64);
    for (; i < n; i += L) {
        const ptrdiff_t k = n - i < L ? n - i : L;
        fa_simd_f64 gv, yv = fa_gr_load_f64(y, g, i, k, &gv);
        const fa_simd_f64 d = fa_sub_f64(gv, sv);
        const fa_mask_f64 deep = fa_gr_deep_f64(yv);
        fa_simd_f64 v;
        if (FA_UNLIKELY(fa_mask_any_f64(deep))) {
            const fa_simd_f64 w = fa_gr_down600_f64(fa_mul_f64(fa_gr_up600_f64(yv, deep), d));
            v = fa_select_f64(deep, w, fa_mul_f64(fa_select_f64(deep, zero, yv), d));
        } else {
            v = fa_mul_f64(yv, d);
        }
        if (FA_UNLIKELY(big_s))
            v = fa_gr_wide_diff_f64(v, yv, gv, sv, d);
        if (mk)
            v = fa_select_f64(k >= L ? fa_load_mask_u8_f64(mk + i) : fa_load_tail_mask_u8_f64(mk + i, k), v, zero);
        if (k >= L) fa_storeu_f64(out + i, v); else fa_store_tail_f64(out + i, v, k);
    }
}

#endif /* FA_GRAD_ROWS_H */
