/*
 * reductions/fa_col_finish_f32.h -- the finishing of a float32 column block: from the sums of
 * the statistics pass (fa_col_stats_f32.h), the column constants, once per block in float64
 * lanes (fa_sm_cols_block_finish_f32), for the output pass (fa_col_output_f32.h) and the
 * logsumexp results (fa_col_lse_f32.h).
 *
 * Design.  Per column, in float64 lanes:
 *   softmax from the e^x sums: 1/traw (= e^-M / S);
 *   the shifted sums: T = the sum times e^(K ln2 - M) (kpath: fa_stats_shift_factor_f64,
 *     K and the far columns' Ob from fa_sm_cols_block_shifts_f32), S = C + T;
 *     softmax 1/S, times e^(K ln2 - M) where its terms were stored (the maxima's output 1/S
 *     apart); the logs l = log1p(T + C - 1), which keeps its relative accuracy however
 *     small (a dominant entry, as the rows), logsumexp M + l, and a column that may cancel
 *     (M < 0, |M + l| < 1) noted for fa_col_lse_f32.h.
 * Each result leaves as a float32 pair P1 + P2 (P1 the rounded result).
 * Range: the block is declined (0 returned, nothing of it written) where a column's M or T
 * is not finite: a NaN, a +inf, no finite entry.
 * Exact path: a column whose l falls below 2^-80 sums its terms again in double
 * (fa_sm_cols_tiny_l_f32, float64 lanes over 8 neighbouring columns at a time).
 */
#ifndef FA_COL_FINISH_F32_H
#define FA_COL_FINISH_F32_H

/* one row's terms of fa_sm_cols_tiny_l_f32: e^(x - M) for w <= FA_LANES_F64 columns (x < M,
 * x - M >= -700; else 0), mk (or NULL) the row's mask */
FA_INLINE fa_simd_f64 fa_sm_cols_tiny_term_f32(const float *p, const unsigned char *mk, ptrdiff_t w, fa_simd_f64 M)
{
    const ptrdiff_t L64 = FA_LANES_F64;
    const fa_simd_f64 zero = fa_set1_f64(0.0), floor_d = fa_set1_f64(-700.0);
    fa_simd_f64 x = w == L64 ? fa_loadu_f32_as_f64(p) : fa_load_tail_f32_as_f64(p, w, -INFINITY);
    if (mk)
        x = fa_select_f64(w == L64 ? fa_load_mask_u8_f64(mk) : fa_load_tail_mask_u8_f64(mk, w), x,
                          fa_set1_f64(-INFINITY));
    const fa_simd_f64 d = fa_sub_f64(x, M);
    const fa_mask_f64 keep = fa_mask_and_f64(fa_cmplt_f64(d, zero), fa_cmpge_f64(d, floor_d));
    fa_simd_f64 t, nn, em = fa_exp_neg_f64(fa_max_f64(d, floor_d), zero, 0, &t, &nn);
    return fa_select_f64(keep, fa_scale_exp_plain_f64(em, t, nn), zero);
}

/* A column with one dominant entry (C = 1) and l = log1p(T) below 2^-80 (a logit gap above
 * ~55): the terms the statistics counted 0 (below 2^-127.5 of the shift) can be many ULPs of
 * l, the max entry's log_softmax -l and the logsumexp of a max near 0 (N(0, 3) columns with
 * one entry 80 above: 0.6% off before).  Such columns get T again, exactly enough, in float64
 * lanes: FA_LANES_F64 neighbouring columns at a time (those holding such a column), one pass
 * down the block, T = the sum of e^(x - M) over the entries below M (x - M in double;
 * fa_exp_neg_f64, 0.5 ULP + 2^-54.8; positive terms, two plain sums: T within n 2^-53
 * relative, l too, far below the float32 results' 2^-24), terms below e^-700 counted 0 (at
 * most n e^-700 of an l that is then below float32's least subnormal: -l and M + l round
 * alike), then l = log1p(T) and the column's P1 + P2 again.  It replaced a scalar pass per column (libm's
 * exp over the entries within e^-100 of the second largest): columns of 64 entries uniform in
 * +-800, 11% of them with such a gap, (64, 50257) float32 log_softmax along axis 0 1956 ->
 * 1708 us, logsumexp 1792 -> 1596 (N(0, 3) columns: 912, 772; Zen 5, medians of 3 alternating
 * builds, 2026-12-07): still the slowest column kind, the float64 exps of the recount its
 * cost (the float32 lanes' would need the second largest entry for their shift). */
FA_INLINE void fa_sm_cols_tiny_l_f32(const float *xs, const unsigned char *mk, ptrdiff_t n, ptrdiff_t inner,
                                     ptrdiff_t width, const float *Mo, const float *Co, double *Lo, float *P1,
                                     float *P2, int op, int HAS_MASK)
{
    const ptrdiff_t L64 = FA_LANES_F64;
    const fa_simd_f64 zero = fa_set1_f64(0.0);
    for (ptrdiff_t k = 0; k < width; k += L64) {
        const ptrdiff_t w = width - k < L64 ? width - k : L64;
        int any = 0;
        for (ptrdiff_t j = k; j < k + w; j++)
            any |= fa_sm_tiny_l_needed(Co[j], Lo[j]);
        if (!any)
            continue;
        const fa_simd_f64 M = fa_loadu_f32_as_f64(Mo + k);     /* Mo holds a whole block: k + L64 fits */
        fa_simd_f64 acc0 = zero, acc1 = zero;       /* rows r and r + 1: two chains of additions */
        ptrdiff_t r = 0;
        for (; r + 1 < n; r += 2) {
            acc0 = fa_add_f64(acc0, fa_sm_cols_tiny_term_f32(xs + r * inner + k, HAS_MASK ? mk + r * inner + k : NULL, w, M));
            acc1 = fa_add_f64(acc1, fa_sm_cols_tiny_term_f32(xs + (r + 1) * inner + k,
                                                             HAS_MASK ? mk + (r + 1) * inner + k : NULL, w, M));
        }
        if (r < n)
            acc0 = fa_add_f64(acc0, fa_sm_cols_tiny_term_f32(xs + r * inner + k, HAS_MASK ? mk + r * inner + k : NULL, w, M));
        double th[FA_LANES_F64];
        fa_storeu_f64(th, fa_add_f64(acc0, acc1));
        for (ptrdiff_t j = 0; j < w; j++) {
            const ptrdiff_t c = k + j;
            if (!fa_sm_tiny_l_needed(Co[c], Lo[c]))
                continue;
            Lo[c] = log1p(th[j]);
            const double f = op == FA_SM_OP_LSE ? Mo[c] + Lo[c] : Lo[c];
            P1[c] = (float)f;
            P2[c] = (float)(f - P1[c]);
        }
    }
}

/* (d) the column constants, once per block in float64 lanes, from the sums (mx, t - tc, c) of
 * the statistics pass; lanes past the block get harmless values (M = 0, traw = T = 16, C = 1).
 *   Mo, Co   M and C per column (float32);
 *   Td       T relative to e^M (kpath: the sum times e^(K ln2 - M), Kb and Ob the shifts);
 *   P1 + P2  the float32 pair of: softmax 1/traw (the e^x sums) or F/(C + T) (F = e^(K ln2 - M)
 *            where the terms are stored, else 1), log_softmax l = log1p(T + C - 1),
 *            logsumexp M + l;
 *   Q        softmax: 1/(C + T), the output of the maxima of the stored terms.
 * *cancel: some logsumexp column with M < 0 and |M + l| < 1.  Returns 0 (the block declined,
 * nothing written) where a column's M or T is not finite; l below 2^-80 is refined. */
FA_INLINE int fa_sm_cols_block_finish_f32(const float *xs, const unsigned char *mk, ptrdiff_t n, ptrdiff_t inner,
                                          ptrdiff_t width, int nv, fa_sm_cols_vecs_f32 *mx, fa_sm_cols_vecs_f32 *t,
                                          fa_sm_cols_vecs_f32 *tc, fa_sm_cols_vecs_f32 *c, const float *Kb,
                                          const float *Ob, int kpath, int shifted, int store, float *Mo, float *Co,
                                          double *Td, float *P1, float *P2, float *Q, int *cancel, int op,
                                          int HAS_MASK)
{
    const ptrdiff_t L = FA_LANES_F32, L64 = FA_LANES_F64;
    const fa_simd_f32 zero = fa_set1_f32(0.0f), one = fa_set1_f32(1.0f);
    float To[FA_SM_BLOCK32];
    for (int v = 0; v < FA_SM_COLS; v++) {
        fa_storeu_f32(Mo + v * L, v < nv ? (*mx)[v] : zero);
        fa_storeu_f32(To + v * L, v < nv ? fa_sub_f32((*t)[v], (*tc)[v]) : fa_set1_f32(16.0f));
        fa_storeu_f32(Co + v * L, v < nv ? (*c)[v] : one);
    }
    for (ptrdiff_t k = width; k < nv * L; k++) {
        Mo[k] = 0.0f;
        To[k] = 16.0f;
        Co[k] = 1.0f;
    }
    int tiny = 0;
    double Lo[FA_SM_BLOCK32];         /* the logs' l = log(C + T) */
    for (ptrdiff_t k = 0; k < nv * L; k += L64) {
        const fa_simd_f64 M = fa_loadu_f32_as_f64(Mo + k);
        fa_simd_f64 T = fa_loadu_f32_as_f64(To + k);
        fa_simd_f64 F = fa_set1_f64(1.0);
        if (kpath) {
            F = fa_stats_shift_factor_f64(fa_loadu_f32_as_f64(Kb + k), fa_sub_f64(M, fa_loadu_f32_as_f64(Ob + k)));
            T = fa_mul_f64(T, F);
        }
        fa_storeu_f64(Td + k, T);
        fa_mask_f64 ok;
        fa_simd_f64 f;
        if (op == FA_SM_OP_SOFTMAX && !shifted) {     /* checked (fa_sm_cols_block_abs_ok_f32) */
            ok = fa_cmpeq_f64(M, M);
            f = fa_div_f64(fa_set1_f64(1.0), T);
        } else if (op == FA_SM_OP_SOFTMAX) {          /* e^(x - M) / (C + T); stored terms: F / (C + T) */
            ok = fa_mask_and_f64(fa_cmplt_f64(T, fa_set1_f64(INFINITY)), fa_cmplt_f64(fa_abs_f64(M), fa_set1_f64(INFINITY)));
            const fa_simd_f64 S = fa_add_f64(T, fa_loadu_f32_as_f64(Co + k));
            f = fa_div_f64(store ? F : fa_set1_f64(1.0), S);
            fa_storeu_f64_as_f32(Q + k, fa_div_f64(fa_set1_f64(1.0), S));
        } else {
            ok = fa_mask_and_f64(fa_cmplt_f64(T, fa_set1_f64(INFINITY)), fa_cmplt_f64(fa_abs_f64(M), fa_set1_f64(INFINITY)));
            f = fa_log1p_pos_f64(fa_add_f64(T, fa_sub_f64(fa_loadu_f32_as_f64(Co + k), fa_set1_f64(1.0))));
            tiny |= fa_mask_any_f64(fa_cmplt_f64(f, fa_set1_f64(FA_SM_TINY_L)));
            fa_storeu_f64(Lo + k, f);
            if (op == FA_SM_OP_LSE) {
                f = fa_add_f64(M, f);
                *cancel |= fa_mask_any_f64(fa_mask_and_f64(fa_cmplt_f64(M, fa_set1_f64(0.0)),
                                                           fa_cmplt_f64(fa_abs_f64(f), fa_set1_f64(1.0))));
            }
        }
        if (fa_mask_any_f64(fa_mask_not_f64(ok)))
            return 0;
        fa_storeu_f64_as_f32(P1 + k, f);
        fa_storeu_f64_as_f32(P2 + k, fa_sub_f64(f, fa_loadu_f32_as_f64(P1 + k)));
    }
    if (tiny)
        fa_sm_cols_tiny_l_f32(xs, mk, n, inner, width, Mo, Co, Lo, P1, P2, op, HAS_MASK);
    return 1;
}

#endif /* FA_COL_FINISH_F32_H */
