/*
 * reductions/fa_output_f32.h -- the output pass of float32 rows (contiguous, an optional
 * `where=` mask), from the statistics of reductions/fa_stats_f32.h.  Calls only the math
 * family and the SIMD wrappers.
 *
 * Design.  softmax y = e^(x - M) / S, S = C + T:
 *   - rows that stay in L2 kept every term e^(x - K_k ln2) in y during the statistics pass
 *     (XNNPACK's "three passes with reloading": each exp once, y's lines to memory once);
 *     fa_out_scale_stored_f32 scales chunk k in place by e^(K_k ln2 - M) / S, a float32 pair;
 *   - longer rows recompute (fa_out_row_f32): y = 2^(n - K) (p f), p = e^t from the exact
 *     reduction of x, f = 2^(K - n_M) / (S p_M) as a float32 pair (= e^(K ln2 - M) / S
 *     with the max's own rounding, so the max entries get 1/S), K = round(M log2e), and
 *     2^(n - K) applied last (fa_ldexp_neg_f32), so a subnormal y is rounded once.
 * log_softmax y = (x - M) - l: x <= M and l >= 0, no cancellation; both roundings below half
 * an ULP of y.  Left-out entries get 0 (softmax) and -inf (log_softmax).
 * For a chunked (Dask) caller, fa_out_row_f32 is the output of a row given its (M, S, l).
 */
#ifndef FA_OUTPUT_F32_H
#define FA_OUTPUT_F32_H

/* y *= e^(mx_k - M) / (S tm_k) per chunk k, Ks = (mx_k, tm_k) pairs from fa_stats_row_f32
 * (tm_k: the stored term of the chunk max, as computed): an entry at the row max gets 1/S
 * to within 2^-48 (softmax([1.0]) is 1 exactly), the others the relative error of tm_k
 * (~0.6 ULP) on top of their own */
FA_INLINE double fa_out_stored_factor_f32(const double *Ks, ptrdiff_t k, double M, double S)
{
    return Ks[2 * k] == -INFINITY ? 0.0 : fa_exp_scalar_f64(Ks[2 * k] - M) / (S * Ks[2 * k + 1]);
}
FA_INLINE void fa_out_stored_factors_f32(ptrdiff_t n, const double *Ks, double M, double S, float *pairs)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(float);
    for (ptrdiff_t c0 = 0, k = 0; c0 < n; c0 += chunk, k++) {
        const double f = fa_out_stored_factor_f32(Ks, k, M, S);
        pairs[2 * k] = (float)f;
        pairs[2 * k + 1] = (float)(f - (double)(float)f);
    }
}

/* chunks from entry `from` (a chunk boundary) on scaled by their pairs */
FA_INLINE void fa_out_scale_chunks_f32(float *y, ptrdiff_t n, ptrdiff_t from, const float *pairs)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(float);
    for (ptrdiff_t c0 = from, k = from / chunk; c0 < n; c0 += chunk, k++)
        fa_sm_scale_pair_f32(y + c0, n - c0 < chunk ? n - c0 : chunk, pairs[2 * k], pairs[2 * k + 1]);
}

FA_INLINE void fa_out_scale_stored_f32(float *y, ptrdiff_t n, const double *Ks, double M, double S)
{
    float pairs[2 * FA_SM_STORE_CHUNKS];
    fa_out_stored_factors_f32(n, Ks, M, S, pairs);
    fa_out_scale_chunks_f32(y, n, 0, pairs);
}

/* softmax's output of one vector before its final scaling: *pf = p f (the pair's product), *nk
 * the scale n - K (0 where the lane is gone: -inf and entries below low), *gone */
FA_INLINE void fa_out_term_f32(fa_simd_f32 v, fa_simd_f32 Mv, fa_simd_f32 Kv, fa_simd_f32 low, fa_simd_f32 fh,
                               fa_simd_f32 fl, int SHIFT, fa_simd_f32 *pf, fa_simd_f32 *nk, fa_mask_f32 *gone)
{
    fa_simd_f32 nn, s;
    if (SHIFT)
        v = fa_sub_f32(v, Mv);
    const fa_simd_f32 p = fa_add_f32(fa_set1_f32(1.0f), fa_expm1_reduced_f32(fa_exp_reduce_f32(fa_max_f32(low, v), &nn, &s)));
    *gone = fa_cmplt_f32(v, low);           /* -inf and far entries: 0, scaled by 2^0 (not deep) */
    *pf = fa_fmadd_f32(p, fh, fa_mul_f32(p, fl));
    *nk = fa_select_f32(*gone, fa_set1_f32(0.0f), fa_sub_f32(nn, Kv));
}

/* the loop of fa_out_row_f32 (SHIFT: every x taken as x - M, then M 0 and K 0).  softmax
 * scales 4 vectors at a time with one branch for the 4 (fa_ldexp_neg_f32's test): rows with
 * subnormal outputs in a quarter of their vectors (uniform +-800, SHIFT) mispredicted a branch
 * per vector. */
FA_INLINE void fa_out_row_loop_f32(const float *x, const unsigned char *mk, float *y, ptrdiff_t n, float M,
                                   double K, double f, float l, int LOG, int SHIFT)
{
    const ptrdiff_t L = FA_LANES_F32;
    const fa_simd_f32 fh = fa_set1_f32((float)f), fl = fa_set1_f32((float)(f - (double)(float)f));
    const fa_simd_f32 Kv = fa_set1_f32((float)K), low = fa_set1_f32((float)(K * FA_LN2_HI_F64 - 104.0));
    const fa_simd_f32 Mv = fa_set1_f32(M), lv = fa_set1_f32(l), zero = fa_set1_f32(0.0f);
    const fa_simd_f32 fill = fa_set1_f32(LOG ? -INFINITY : 0.0f);
    ptrdiff_t i = 0;
    for (; !LOG && i + 4 * L <= n; i += 4 * L) {
        fa_simd_f32 pf[4], nk[4];
        fa_mask_f32 gone[4];
        for (int j = 0; j < 4; j++)           /* the folded load measured faster here (fa_simd_avx512.h) */
            fa_out_term_f32(fa_loadu_folded_f32(x + i + j * L), Mv, Kv, low, fh, fl, SHIFT, &pf[j], &nk[j], &gone[j]);
        const fa_simd_f32 nmin = fa_min_f32(fa_min_f32(nk[0], nk[1]), fa_min_f32(nk[2], nk[3]));
        const int deep = fa_mask_any_f32(fa_cmplt_f32(nmin, fa_set1_f32(-100.0f)));
        for (int j = 0; j < 4; j++) {
            fa_simd_f32 v = fa_select_f32(gone[j], zero, deep ? fa_ldexp_deep_f32(pf[j], nk[j]) : fa_ldexp_plain_f32(pf[j], nk[j]));
            if (mk)
                v = fa_select_f32(fa_load_mask_u8_f32(mk + i + j * L), v, fill);
            fa_storeu_f32(y + i + j * L, v);
        }
    }
    for (; i < n; i += L) {
        const ptrdiff_t left = n - i;
        fa_simd_f32 v = left >= L ? fa_loadu_f32(x + i) : fa_load_tail_f32(x + i, left, 0.0f);
        if (LOG) {
            v = fa_sub_f32(fa_sub_f32(v, Mv), lv);
        } else {
            fa_simd_f32 pf, nk;
            fa_mask_f32 gone;
            fa_out_term_f32(v, Mv, Kv, low, fh, fl, SHIFT, &pf, &nk, &gone);
            v = fa_select_f32(gone, zero, fa_ldexp_neg_f32(pf, nk));
        }
        if (mk)
            v = fa_select_f32(left >= L ? fa_load_mask_u8_f32(mk + i) : fa_load_tail_mask_u8_f32(mk + i, left), v, fill);
        if (left >= L) fa_storeu_f32(y + i, v); else fa_store_tail_f32(y + i, v, left);
    }
}

/* (c) softmax (LOG = 0) or log_softmax (LOG = 1) of a float32 row with statistics M, S, l
 * (M finite); mk: its mask or NULL.  softmax of a row whose M lies outside the exp's exact
 * reduction (FA_STATS_NEAR_F32) takes x - M in the lanes: exact (Sterbenz) for every x within
 * 104 of M there (|M| >= 260), and the others' outputs are 0 either way. */
FA_INLINE void fa_out_row_f32(const float *x, const unsigned char *mk, float *y, ptrdiff_t n,
                              double M, double S, double l, int LOG)
{
    if (LOG) {
        fa_out_row_loop_f32(x, mk, y, n, (float)M, 0.0, 0.0, (float)l, 1, 0);
        return;
    }
    if (!FA_STATS_NEAR_F32((float)M)) {
        fa_out_row_loop_f32(x, mk, y, n, (float)M, 0.0, 1.0 / S, 0.0f, 0, 1);
        return;
    }
    /* f = 2^(K - nM) / (S pM): the entries at the max get 1/S (see above) */
    const double K = rint(M * FA_LOG2E_F64);
    fa_simd_f32 nM, sM;
    const float pM = fa_reduce_max_f32(fa_add_f32(fa_set1_f32(1.0f),
        fa_expm1_reduced_f32(fa_exp_reduce_f32(fa_set1_f32((float)M), &nM, &sM))));
    const double f = fa_ldexp_scalar_f64(1.0 / (S * (double)pM), (int)K - (int)fa_reduce_max_f32(nM));
    fa_out_row_loop_f32(x, mk, y, n, (float)M, K, f, (float)l, 0, 0);
}

#endif /* FA_OUTPUT_F32_H */
