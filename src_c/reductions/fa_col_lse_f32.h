/*
 * reductions/fa_col_lse_f32.h -- logsumexp of the float32 column blocks: the results of a
 * finished block, and the columns whose M + l cancels summed again without a shift by the
 * tiers of fa_lse_exact.h, one float64 lane per column (a block of cancelling columns in
 * vector lanes rather than column by column).
 *
 * Design.  M + l cancels where M < 0 and the result v is near 0 (normalised
 * log-probabilities along axis 0): l's rounding is then many ULPs of v.
 *   - Before the shifted pass: a block whose maxima all lie in (-(log n + 2), 0) (l <= log n,
 *     so every column could cancel) takes the exact tiers alone
 *     (fa_sm_cols_block_lse_unshifted_f32; the float64 blocks' rule), unless a column's
 *     unshifted sum is no good.
 *   - After the finishing (fa_col_finish_f32.h): M + l, where some column has M < 0 and
 *     |M + l| < 1 the block summed in the double-pair tier (fa_sm_cols_block_lse_pair_f32:
 *     anchored double pairs, fa_lse_pair_step) and each such column taken from it where the
 *     tier's bound holds (|v| >= 2^24 delta(n) + delta(n), about 2^-31), else from its
 *     double-double pass (fa_sm_lse_value_f32) (fa_sm_cols_block_lse_out_f32).
 * Error: fa_lse_exact.h's, float32 results within 2 ULP for |v| >= 2^-50.
 * fa_sm_cols_block_pair_sums_f32 also sums the short float32 rows' cancelling groups
 * (fa_short_rows.h, a transposed group as columns).
 */
#ifndef FA_COL_LSE_F32_H
#define FA_COL_LSE_F32_H

/* the anchored sums of fa_sm_cols_block_lse_pair_f32 (below) as H + E per column, exact */
FA_INLINE void fa_sm_cols_block_pair_sums_f32(const float *xs, const unsigned char *mk, ptrdiff_t n, ptrdiff_t inner,
                                              ptrdiff_t width, int HAS_MASK, double *H, double *E)
{
    enum { NV = FA_SM_BLOCK32 / FA_LANES_F64 };
    const ptrdiff_t L = FA_LANES_F64;
    const int nv = (int)((width + L - 1) / L);
    const fa_simd_f64 anchor = fa_set1_f64(FA_LSE_PAIR_ANCHOR), zero = fa_set1_f64(0.0);
    fa_simd_f64 ah[NV], al[NV];
    for (int j = 0; j < NV; j++) {
        ah[j] = anchor;
        al[j] = zero;
    }
    for (ptrdiff_t r = 0; r < n; r++)
        for (int j = 0; j < nv; j++) {
            const ptrdiff_t at = r * inner + j * L, w = width - j * L;
            fa_simd_f64 x = w >= L ? fa_loadu_f32_as_f64(xs + at) : fa_load_tail_f32_as_f64(xs + at, w, -INFINITY);
            if (HAS_MASK)
                x = fa_select_f64(w >= L ? fa_load_mask_u8_f64(mk + at) : fa_load_tail_mask_u8_f64(mk + at, w),
                                  x, fa_set1_f64(-INFINITY));
            fa_lse_pair_step(x, &ah[j], &al[j]);
        }
    for (int j = 0; j < nv; j++) {
        fa_storeu_f64(H + j * L, fa_sub_f64(ah[j], anchor));   /* exact: ah in [A, 2A] */
        fa_storeu_f64(E + j * L, al[j]);
    }
}
/* logsumexp of a float32 block's columns in the float32 tier of fa_lse_exact.h (the unshifted
 * sum of e^x as anchored double pairs, fa_lse_pair_step), one float64 lane per column, so a
 * block of cancelling columns (normalised log-probabilities along axis 0) is summed in
 * vector lanes instead of column by column.  *ok[k] = 1 with v[k] set where the column's
 * sum is good (below 4 once the anchor is off, finite) and the tier's bound holds
 * (|v| >= 2^24 delta(n) + delta(n), delta of fa_lse_pair_delta: one lane holds n terms);
 * the other columns are left to fa_sm_lse_value_f32 (the double-double pass). */
static void fa_sm_cols_block_lse_pair_f32(const float *xs, const unsigned char *mk, ptrdiff_t n,
                                          ptrdiff_t inner, ptrdiff_t width, int HAS_MASK, double *v,
                                          unsigned char *ok)
{
    double H[FA_SM_BLOCK32], E[FA_SM_BLOCK32];
    fa_sm_cols_block_pair_sums_f32(xs, mk, n, inner, width, HAS_MASK, H, E);
    const double delta = fa_lse_pair_delta(n);
    for (ptrdiff_t k = 0; k < width; k++) {
        double hi = H[k] + E[k], lo = E[k] - (hi - H[k]), sign;
        ok[k] = hi + lo < 4.0 && fa_lse_from_exact(hi, lo, &v[k], &sign)
                && fabs(v[k]) >= 0x1p24 * delta + delta;
    }
}

/* logsumexp of a float32 block whose every column could cancel, from the unshifted sums alone
 * (no shifted pass; the float64 blocks' rule, fa_sm64_cols_lse_unshifted): every column's max
 * M in (-(log n + 2), 0), where l <= log n makes the exact tiers possible.  The double-pair
 * tier where its bound holds, else the double-double pass of that column; returns 0 with
 * nothing written where a column's unshifted sum is no good (a NaN, or out of range). */
static int fa_sm_cols_block_lse_unshifted_f32(const float *xs, const unsigned char *mk, float *lse_out, float *sg,
                                              ptrdiff_t n, ptrdiff_t inner, ptrdiff_t width, const float *Mo,
                                              int HAS_MASK)
{
    const float lim = (float)-(log((double)n) + 2.0);
    for (ptrdiff_t k = 0; k < width; k++)
        if (!(Mo[k] < 0.0f && Mo[k] > lim))
            return 0;
    double v[FA_SM_BLOCK32];
    unsigned char ok[FA_SM_BLOCK32];
    fa_sm_cols_block_lse_pair_f32(xs, mk, n, inner, width, HAS_MASK, v, ok);
    for (ptrdiff_t k = 0; k < width; k++) {
        double hi, lo, sign;
        if (ok[k])
            continue;
        fa_lse_exact_sum_strided_f32(xs + k, n, inner, HAS_MASK ? mk + k : NULL, NULL, &hi, &lo);
        if (!fa_lse_from_exact(hi, lo, &v[k], &sign) || !(sign > 0))
            return 0;
    }
    for (ptrdiff_t k = 0; k < width; k++) {
        lse_out[k] = (float)v[k];
        if (sg) sg[k] = 1.0f;
    }
    return 1;
}

/* the logsumexp results of a finished block (every column valid): M + l as the pair P1 + P2,
 * rounded; with cancel (fa_sm_cols_block_finish_f32), a column with M < 0 and |M + l| < 1
 * from the double-pair tier where its bound holds (fa_sm_cols_block_lse_pair_f32, the
 * block's cancelling columns in one pass), else from fa_sm_lse_value_f32 (the double-double
 * pass of that column, its sign) */
FA_INLINE void fa_sm_cols_block_lse_out_f32(const float *xs, const unsigned char *mk, float *lse_out, float *sg,
                                            ptrdiff_t n, ptrdiff_t inner, ptrdiff_t width, const float *Mo,
                                            const float *Co, const double *Td, const float *P1, const float *P2,
                                            int cancel, int HAS_MASK)
{
    if (!cancel) {      /* M + l alone: a loop of its own (a copy GCC vectorises; the loop below,
                         * with its accesses through pointers, is too big to unswitch on cancel:
                         * float32 (64, 50257) axis 0 logsumexp 1.04x slower on AVX2) */
        for (ptrdiff_t k = 0; k < width; k++) {
            lse_out[k] = P1[k];
            if (sg) sg[k] = 1.0f;
        }
        return;
    }
    double vpair[FA_SM_BLOCK32];
    unsigned char pair_ok[FA_SM_BLOCK32];
    if (cancel)
        fa_sm_cols_block_lse_pair_f32(xs, mk, n, inner, width, HAS_MASK, vpair, pair_ok);
    for (ptrdiff_t k = 0; k < width; k++) {
        float v = P1[k], sign = 1.0f;
        if (cancel && Mo[k] < 0.0f && fabs((double)P1[k] + (double)P2[k]) < 1.0 && pair_ok[k]) {
            v = (float)vpair[k];
        } else if (cancel && Mo[k] < 0.0f && fabs((double)P1[k] + (double)P2[k]) < 1.0) {
            fa_sm_stats st = {Mo[k], Td[k], Co[k], 0.0};
            double sgn = 1.0;
            v = (float)fa_sm_lse_value_f32(&st, xs + k, n, inner, HAS_MASK ? mk + k : NULL, NULL, &sgn);
            sign = (float)sgn;
        }
        lse_out[k] = v;
        if (sg) sg[k] = sign;
    }
}

#endif /* FA_COL_LSE_F32_H */
