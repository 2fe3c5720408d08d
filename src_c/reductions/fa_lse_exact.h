/*
 * reductions/fa_lse_exact.h -- the unshifted sums of logsumexp for slices whose M + l
 * cancels: S0 = sum of w_k e^(x_k) with no shift, in two tiers chosen per slice by a proven
 * error bound.  Included once per ISA by the reductions; calls only the math family (no
 * include of, and no call into, the other reduction stages).
 *
 * Design.  logsumexp = M + l cancels where M < 0 < l and the result v is near 0 (normalised
 * log-probabilities: EM, HMM forward-backward, "is this normalised?" checks): l carries the
 * sum's rounding, ~2^-53 l absolute, which is ~l/|v| ULPs of v.  Where v is near 0 the
 * unshifted sum S0 = e^v is near 1, so no shift is needed: v = log1p((hi - 1) + lo) keeps
 * v's relative accuracy down to the sum's absolute error.
 *   float32 tier (float32 data, unweighted): each term a double pair (fa_exp_pair_parts_f64,
 *     2^-56), both parts added by anchored Fast2Sums per lane; |log S0' - log S0| <=
 *     delta(n) ~ 2^-55, so the slice is done where |v| >= 2^24 delta(n) + delta(n) (~2^-31;
 *     the derivation is above FA_LSE_PAIR_ANCHOR).  ~27 vector operations per 8 entries (no
 *     subnormal test since the exp counts terms below e^-650 as e^-650, and its reduction
 *     forms n/16 directly): ~0.42 ns per entry on AVX-512 on the first Zen 4 (2026-12-07
 *     morning); 0.73 on the family 25 model 17 Zen 4 VM, where shortening each term's chain
 *     (the parts added unnormalised, the scaling before the polynomial, Estrin's q: the same
 *     operation count) took 6-7% off, so latency, not only the FP pipes, bounds it there.
 *   double-double pass (float64 data, float32 results below the tier's threshold, weights):
 *     each term fa_exp_dd_f64 (2^-81.5 relative), two-sums per lane; the absolute error of
 *     v is 2^-81.5 + m^2 2^-106 (m terms per lane; measured <= 2^-81.6 against mpmath on
 *     normalised rows of 2 .. 4100 entries, every variant).  ~0.7 ns per entry unweighted
 *     (AVX-512, Zen 4, 2026-12-07; fa_exp_dd_scaled_f64: no subnormal test), ~1 weighted.
 *   - float32 data: within 2 ULP for |v| >= 2^-50 (absolute ~2^-80 below);
 *   - float64 data: within 2 ULP for |v| >= 2^-25 (2^-27 for m <= 2^12); below, an
 *     absolute error of about 2^-81 (the former long double pass reached 2^-64).  A float64
 *     result of 2^-1000 to 2 ULP would need the sum to 2^-1050: no fixed-precision pass
 *     gets there.
 * No long double anywhere (docs/SPEC.md section 10).  Vectorised over contiguous rows; strided slices and
 * rows with a mask or weights go through a small gather buffer, the arithmetic the same.
 * Terms whose e^x underflows (x < -745) count as 0: with weights above 2^970 on such
 * entries the caller's shifted result is kept instead (fa_lse_from_exact returns 0).
 */
#ifndef FA_LSE_EXACT_H
#define FA_LSE_EXACT_H

/* (sh, sl) += w * e^v per lane, w = 1 when !HAS_W */
FA_INLINE void fa_lse_exact_step(fa_simd_f64 v, fa_simd_f64 w, int HAS_W, fa_simd_f64 *sh, fa_simd_f64 *sl)
{
    fa_simd_f64 lo, hi;
    if (!HAS_W) {       /* terms below e^-650 count as e^-650 (fa_exp_dd_scaled_f64): no subnormal test */
        hi = fa_exp_dd_scaled_f64(v, &lo);
    } else {            /* a weight up to 2^1023 may lift a term from anywhere: exact to e^-760 */
        fa_simd_f64 t, n;
        hi = fa_exp_dd_f64(v, &lo, &t, &n);
        hi = fa_scale_exp_f64(hi, t, n);
        lo = fa_scale_exp_f64(lo, t, n);
        fa_simd_f64 pl, ph = fa_two_prod_f64(w, hi, &pl);
        lo = fa_fmadd_f64(w, lo, pl);
        hi = ph;
    }
    fa_simd_f64 err, u = fa_two_sum_f64(*sh, hi, &err);
    *sl = fa_add_f64(*sl, fa_add_f64(err, lo));
    *sh = u;
}

/* the lanes' pairs summed into one double-double */
FA_INLINE void fa_lse_exact_total(fa_simd_f64 sh, fa_simd_f64 sl, double *hi, double *lo)
{
    double h[FA_LANES_F64], l[FA_LANES_F64], H = 0.0, E = 0.0;
    fa_storeu_f64(h, sh);
    fa_storeu_f64(l, sl);
    for (int j = 0; j < FA_LANES_F64; j++) {
        fa_two_sum_acc(&H, &E, h[j]);
        E += l[j];
    }
    *hi = H + E;
    *lo = E - (*hi - H);
}

/* entries i .. i + L - 1 of a contiguous float32 (F32) or float64 row as float64 lanes, the
 * ones past n as -inf (terms 0) */
FA_INLINE fa_simd_f64 fa_lse_exact_load(const void *x, ptrdiff_t i, ptrdiff_t n, int F32)
{
    const ptrdiff_t left = n - i;
    if (F32)
        return left >= FA_LANES_F64 ? fa_loadu_f32_as_f64((const float *)x + i)
                                    : fa_load_tail_f32_as_f64((const float *)x + i, left, -INFINITY);
    return left >= FA_LANES_F64 ? fa_loadu_f64((const double *)x + i)
                                : fa_load_tail_f64((const double *)x + i, left, -INFINITY);
}

/* S0 of a contiguous row without options, two accumulator pairs.  mx (or NULL) receives the
 * row's max (NaN skipped, -inf if none), taken from the same loads: the sum's operations are
 * the same with or without it. */
FA_INLINE void fa_lse_exact_sum_contig(const void *x, ptrdiff_t n, int F32, double *hi, double *lo, double *mx)
{
    const ptrdiff_t L = FA_LANES_F64;
    fa_simd_f64 sh0 = fa_set1_f64(0.0), sl0 = sh0, sh1 = sh0, sl1 = sh0;
    fa_simd_f64 m0 = fa_set1_f64(-INFINITY), m1 = m0;
    ptrdiff_t i = 0;
    for (; i + 2 * L <= n; i += 2 * L) {
        const fa_simd_f64 v0 = fa_lse_exact_load(x, i, n, F32), v1 = fa_lse_exact_load(x, i + L, n, F32);
        if (mx) {
            m0 = fa_max_f64(v0, m0);
            m1 = fa_max_f64(v1, m1);
        }
        fa_lse_exact_step(v0, sh0, 0, &sh0, &sl0);
        fa_lse_exact_step(v1, sh0, 0, &sh1, &sl1);
    }
    for (; i < n; i += L) {
        const fa_simd_f64 v = fa_lse_exact_load(x, i, n, F32);
        if (mx)
            m0 = fa_max_f64(v, m0);
        fa_lse_exact_step(v, sh0, 0, &sh0, &sl0);
    }
    fa_simd_f64 err, u = fa_two_sum_f64(sh0, sh1, &err);
    fa_lse_exact_total(u, fa_add_f64(err, fa_add_f64(sl0, sl1)), hi, lo);
    if (mx)
        *mx = fa_reduce_max_f64(fa_max_f64(m0, m1));
}

FA_INLINE void fa_lse_exact_sum_f32(const float *x, ptrdiff_t n, double *hi, double *lo)
{
    fa_lse_exact_sum_contig(x, n, 1, hi, lo, NULL);
}

FA_INLINE void fa_lse_exact_sum_f64(const double *x, ptrdiff_t n, double *hi, double *lo)
{
    fa_lse_exact_sum_contig(x, n, 0, hi, lo, NULL);
}

/* S0 = sum of w_k e^(x_k) of a contiguous weighted row, mask (NULL or uint8, 0 = left out)
 * optional; float32 (F32) or float64 x and w: the strided pass's arithmetic (fa_lse_exact_step
 * with weights) on vector loads, two accumulator pairs.  An entry left out (w = 0 or masked)
 * becomes x = -inf, w = 0 (term 0 whatever x and w are), as in the gather.  ~1 ns per entry
 * against the gather's ~2.5-3 (AVX-512; the weighted chunk statistics' S0). */
FA_INLINE void fa_lse_exact_load_xw(const void *x, const void *w, const unsigned char *mask, ptrdiff_t i,
                                    ptrdiff_t n, int F32, fa_simd_f64 *xv, fa_simd_f64 *wv)
{
    const ptrdiff_t left = n - i;
    const fa_simd_f64 zero = fa_set1_f64(0.0);
    fa_simd_f64 wl;
    if (F32)
        wl = left >= FA_LANES_F64 ? fa_loadu_f32_as_f64((const float *)w + i)
                                  : fa_load_tail_f32_as_f64((const float *)w + i, left, 0.0);
    else
        wl = left >= FA_LANES_F64 ? fa_loadu_f64((const double *)w + i)
                                  : fa_load_tail_f64((const double *)w + i, left, 0.0);
    fa_mask_f64 in = fa_cmpneq_f64(wl, zero);
    if (mask)
        in = fa_mask_and_f64(in, left >= FA_LANES_F64 ? fa_load_mask_u8_f64(mask + i)
                                                      : fa_load_tail_mask_u8_f64(mask + i, left));
    *xv = fa_select_f64(in, fa_lse_exact_load(x, i, n, F32), fa_set1_f64(-INFINITY));
    *wv = fa_select_f64(in, wl, zero);
}

FA_INLINE void fa_lse_exact_sum_weighted_contig(const void *x, const void *w, const unsigned char *mask,
                                                ptrdiff_t n, int F32, double *hi, double *lo)
{
    const ptrdiff_t L = FA_LANES_F64;
    fa_simd_f64 sh0 = fa_set1_f64(0.0), sl0 = sh0, sh1 = sh0, sl1 = sh0, v0, w0, v1, w1;
    ptrdiff_t i = 0;
    for (; i + 2 * L <= n; i += 2 * L) {
        fa_lse_exact_load_xw(x, w, mask, i, n, F32, &v0, &w0);
        fa_lse_exact_load_xw(x, w, mask, i + L, n, F32, &v1, &w1);
        fa_lse_exact_step(v0, w0, 1, &sh0, &sl0);
        fa_lse_exact_step(v1, w1, 1, &sh1, &sl1);
    }
    for (; i < n; i += L) {
        fa_lse_exact_load_xw(x, w, mask, i, n, F32, &v0, &w0);
        fa_lse_exact_step(v0, w0, 1, &sh0, &sl0);
    }
    fa_simd_f64 err, u = fa_two_sum_f64(sh0, sh1, &err);
    fa_lse_exact_total(u, fa_add_f64(err, fa_add_f64(sl0, sl1)), hi, lo);
}

/* S0 of a strided slice with an optional mask and weights (left-out entries: x -> -inf,
 * w -> 0), through a gather buffer of one vector */
#define FA_LSE_DEFINE_EXACT_STRIDED(T)                                                             \
FA_INLINE void fa_lse_exact_sum_strided_##T(const fa_scalar_##T *x, ptrdiff_t n, ptrdiff_t stride, \
                                            const unsigned char *mask, const fa_scalar_##T *b,     \
                                            double *hi, double *lo)                                \
{                                                                                                  \
    const ptrdiff_t L = FA_LANES_F64;                                                              \
    double xb[FA_LANES_F64], wb[FA_LANES_F64];                                                     \
    fa_simd_f64 sh = fa_set1_f64(0.0), sl = sh;                                                    \
    for (ptrdiff_t i = 0; i < n; i += L) {                                                         \
        for (ptrdiff_t j = 0; j < L; j++) {                                                        \
            const ptrdiff_t at = (i + j) * stride;                                                 \
            const int in = i + j < n && (!mask || mask[at]) && (!b || b[at] != 0);                 \
            xb[j] = in ? (double)x[at] : -INFINITY;                                                \
            wb[j] = in ? (b ? (double)b[at] : 1.0) : 0.0;                                          \
        }                                                                                          \
        fa_lse_exact_step(fa_loadu_f64(xb), fa_loadu_f64(wb), b != NULL, &sh, &sl);                \
    }                                                                                              \
    fa_lse_exact_total(sh, sl, hi, lo);                                                            \
}
FA_LSE_DEFINE_EXACT_STRIDED(f32)
FA_LSE_DEFINE_EXACT_STRIDED(f64)

/* ---- the float32 tier: terms as double pairs, an anchored sum --------------------------------
 * S0 = sum of e^(x_k) for float32 data (x_k exact in double), each term fa_exp_pair_parts_f64's
 * t + u (relative error eps = FA_EXP_PAIR_REL_ERR = 2^-56, every variant).  Per lane both
 * parts go into an accumulator that starts at the anchor A = 8: the terms are >= 0 and
 * |u| < t/16, so the accumulator never drops below A, and where every term is <= A (checked
 * at the end: the lanes' sums, hence every term, below 4 once the anchors are taken off)
 * Fast2Sum is exact (3 operations in place of a two-sum's 6); its two errors per term
 * (<= ulp(16)/2 = 2^-49 each, conservatively: ah < 16 gives 2^-50) are added, then added
 * plainly into a second accumulator.
 * Error of S0, with m <= n the terms of a lane: eps S0 from the terms, and the second
 * accumulator's plain additions, m of magnitude <= m 2^-48 and m sums of two errors,
 * rounded at 2^-53: <= (m^2 + m) 2^-101 <= m^2 2^-100 (the lanes' two-sums at the end are
 * exact up to 2^-104 S0).  With S0 in [1/2, 4) this is an absolute error of log(S0) of at
 * most
 *   delta(n) = 2 (2^-56 + n^2 2^-100) + 2^-104       (1/S0 <= 2)
 * plus log1p's own rounding (<= 1 ULP of v in double).  v's float32 rounding adds 1/2 ULP,
 * so the result is within 1.5 ULP + 2^-29 ULP wherever delta(n) <= 2^-24 |v| (ulp32(v) >
 * 2^-24 |v|); the computed v' differs from v by delta(n), so the tier accepts a slice where
 *   |v'| >= 2^24 delta(n) + delta(n)   (2^-31.0 up to n = 2^17, 2^-30.91 at n = 2^20)
 * and hands the others on to the double-double pass.  float32 log_softmax rows have
 * |v| ~ 2^-23 .. 2^-30: almost all stop here (bench rows: 0.3% of 1024-wide ones go on). */
#define FA_LSE_PAIR_ANCHOR 8.0

/* (ah, al) += e^v per lane (v float32 data as double, or -inf): the term's two parts t + u
 * (fa_exp_pair_parts_f64, not renormalised) each added to ah by an anchored Fast2Sum, their
 * errors to al.  (Renormalising t + u first and adding its low part plainly took as many
 * operations, but 3 more dependent ones on each term's chain: 5% slower on Zen 4.) */
FA_INLINE void fa_lse_pair_step(fa_simd_f64 v, fa_simd_f64 *ah, fa_simd_f64 *al)
{
    fa_simd_f64 u, t = fa_exp_pair_parts_f64(v, &u), e1, e2;
    *ah = fa_fast_two_sum_f64(*ah, t, &e1);
    *ah = fa_fast_two_sum_f64(*ah, u, &e2);
    *al = fa_add_f64(*al, fa_add_f64(e1, e2));
}

/* delta(n): the bound on |log(S0') - log(S0)| above */
FA_INLINE double fa_lse_pair_delta(ptrdiff_t n)
{
    const double m = (double)n;
    return 2.0 * (FA_EXP_PAIR_REL_ERR + m * m * 0x1p-100) + 0x1p-104;
}

/* S0 of a float32 slice in the float32 tier, as hi + lo; the slice x[k stride], mask and
 * unweighted (mask 0: left out).  Returns 0 where a lane's anchored sum leaves [A, A + 4)
 * or is not finite (a term above A, a NaN, +inf: the caller takes another path).  mx (or
 * NULL; contiguous rows without a mask only) receives the row's max as
 * fa_lse_exact_sum_contig's does. */
FA_INLINE int fa_lse_pair_sum_f32(const float *x, ptrdiff_t n, ptrdiff_t stride, const unsigned char *mask,
                                  double *hi, double *lo, double *mx)
{
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 anchor = fa_set1_f64(FA_LSE_PAIR_ANCHOR), zero = fa_set1_f64(0.0);
    fa_simd_f64 ah0 = anchor, al0 = zero, ah1 = anchor, al1 = zero;
    fa_simd_f64 m0 = fa_set1_f64(-INFINITY), m1 = m0;
    ptrdiff_t i = 0;
    if (stride == 1 && !mask) {
        for (; i + 2 * L <= n; i += 2 * L) {
            const fa_simd_f64 v0 = fa_loadu_f32_as_f64(x + i), v1 = fa_loadu_f32_as_f64(x + i + L);
            if (mx) {
                m0 = fa_max_f64(v0, m0);
                m1 = fa_max_f64(v1, m1);
            }
            fa_lse_pair_step(v0, &ah0, &al0);
            fa_lse_pair_step(v1, &ah1, &al1);
        }
        for (; i < n; i += L) {
            const fa_simd_f64 v = fa_lse_exact_load(x, i, n, 1);
            if (mx)
                m0 = fa_max_f64(v, m0);
            fa_lse_pair_step(v, &ah0, &al0);
        }
        if (mx)
            *mx = fa_reduce_max_f64(fa_max_f64(m0, m1));
    } else {
        double xb[FA_LANES_F64];
        for (; i < n; i += L) {
            for (ptrdiff_t j = 0; j < L; j++) {
                const ptrdiff_t at = (i + j) * stride;
                xb[j] = i + j < n && (!mask || mask[at]) ? (double)x[at] : -INFINITY;
            }
            fa_lse_pair_step(fa_loadu_f64(xb), &ah0, &al0);
        }
    }
    /* ah - A is exact for ah in [A, 2A] (Sterbenz); a total below 4 bounds every lane's sum,
     * hence every term, so then each step's Fast2Sum and these subtractions were exact */
    fa_simd_f64 err, u = fa_two_sum_f64(fa_sub_f64(ah0, anchor), fa_sub_f64(ah1, anchor), &err);
    fa_lse_exact_total(u, fa_add_f64(err, fa_add_f64(al0, al1)), hi, lo);
    return *hi + *lo < 4.0;                    /* NaN fails too */
}

/* v = log(hi + lo) with v's relative accuracy kept near 0, and its sign; returns 0 (nothing
 * set) where the unshifted sum is no good (not finite, above 2^1000: a term was clamped at
 * e^709, or below 2^-800: terms lost to underflow, or the float32 tier's terms counted as
 * e^-650, could matter; such a sum's v, below -554, does not cancel: M + l is kept) */
FA_INLINE int fa_lse_from_exact(double hi, double lo, double *v, double *sign)
{
    const double a = fabs(hi), al = hi > 0 ? lo : -lo;
    if (!(a >= 0x1p-800 && a < 0x1p1000))   /* a term above e^709 was clamped */
        return 0;
    *sign = hi > 0 ? 1.0 : -1.0;
    if (a >= 0.5 && a <= 2.0)
        *v = log1p((a - 1.0) + al);          /* a - 1 exact (Sterbenz) */
    else
        *v = log(a) + al / a;
    return 1;
}

/* fa_lse_from_exact over FA_LANES_F64 lanes of positive sums hi + lo (the sums of e^x): v =
 * log(hi + lo) in vector lanes, log1p((hi - 1) + lo) for hi in [0.5, 2] (hi - 1 exact), as
 * log(u) + e/u with u + e = 1 + ((hi - 1) + lo) a two-sum (fa_log_f64: about 1 ULP of a
 * double; not the scalar twin's libm bits); *ok false where the sum is no good (not in
 * [2^-800, 2^1000), NaN) */
FA_INLINE fa_simd_f64 fa_lse_from_exact_f64(fa_simd_f64 hi, fa_simd_f64 lo, fa_mask_f64 *ok)
{
    const fa_simd_f64 one = fa_set1_f64(1.0);
    *ok = fa_mask_and_f64(fa_cmpge_f64(hi, fa_set1_f64(0x1p-800)), fa_cmplt_f64(hi, fa_set1_f64(0x1p1000)));
    const fa_mask_f64 near1 = fa_mask_and_f64(fa_cmpge_f64(hi, fa_set1_f64(0.5)), fa_cmple_f64(hi, fa_set1_f64(2.0)));
    fa_simd_f64 e, u = fa_two_sum_f64(one, fa_add_f64(fa_sub_f64(hi, one), lo), &e);
    u = fa_select_f64(near1, u, hi);
    e = fa_select_f64(near1, e, lo);
    return fa_log_f64(u, fa_div_f64(e, u));
}

/* logsumexp of a float32 slice (x[k stride], mask, unweighted) whose M + l cancels or is
 * predicted to: the float32 tier, then the double-double pass where the tier's bound does
 * not reach 2 ULP of the result.  Returns 1 with *v set; 0 where the unshifted sum is no
 * good (not below 4: the slice does not cancel; NaN; below 2^-800).  mx: as
 * fa_lse_pair_sum_f32's (set where 1 is returned). */
FA_INLINE int fa_lse_cancel_f32(const float *x, ptrdiff_t n, ptrdiff_t stride, const unsigned char *mask,
                                double *v, double *mx)
{
    double hi, lo, sign;
    if (!fa_lse_pair_sum_f32(x, n, stride, mask, &hi, &lo, mx) || !fa_lse_from_exact(hi, lo, v, &sign))
        return 0;
    const double delta = fa_lse_pair_delta(n);
    if (fabs(*v) >= 0x1p24 * delta + delta)
        return 1;
    if (stride == 1 && !mask)
        fa_lse_exact_sum_f32(x, n, &hi, &lo);
    else
        fa_lse_exact_sum_strided_f32(x, n, stride, mask, NULL, &hi, &lo);
    return fa_lse_from_exact(hi, lo, v, &sign);
}

#endif /* FA_LSE_EXACT_H */
