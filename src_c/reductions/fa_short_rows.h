/*
 * reductions/fa_short_rows.h -- short rows, a vector lane per row.  float32: below; float64:
 * fa_short_group_f64 at the end (the float64 column blocks, LANEWISE, on a transposed copy).
 *
 * float32 rows of at most FA_SHORT_ROWS_MAX entries
 * (contiguous, no mask, no weights): FA_LANES_F32 rows at a time, one vector lane per row.
 * A row of 10-64 entries is one to four vectors: walked one row at a time, its horizontal
 * reductions and two libm calls (the chunk factor's exp, l's log) cost more than its
 * arithmetic (softmax of (2^18, 16) rows was 0.52x torch, log_softmax 0.31x).
 *   1. The group is copied transposed into a scratch block (entry i of every row in one
 *      vector), so the row statistics are vertical: a max pass (NaN noted), a pass of the
 *      rows' terms e^(x - K ln2) (fa_stats_term_f32, K per lane from the lane's max, the
 *      float32 rows' reduction) summed per lane (Kahan) over x != M with C = the count of
 *      x == M; softmax keeps every term in a second scratch block.
 *   2. Each lane finished in float64 lanes: T = sum * e^(K ln2 - M) (fa_exp_pair_f64),
 *      softmax's factor e^(K ln2 - M) / (C + T) as a float32 pair, l = log1p(T + C - 1).
 *   3. Outputs computed vertically and copied back transposed: softmax term * (p1 + p2),
 *      log_softmax (x - M) - l, logsumexp M + l.
 * Every step of a lane reads that lane only, so a row's bits do not depend on the rows it is
 * grouped with (threads, Dask chunks, a one-row call all give the same bits).  A row whose
 * max is outside (FA_STATS_MAX_LO_F32, FA_STATS_MAX_HI_F32) or NaN, or whose logsumexp
 * cancels (M < 0, |M + l| < 1 and < l: the exact tiers), is left to the per-row code (the
 * returned mask), as are the logs of a row whose T < 2^-60 (a logit gap above ~41, where the
 * terms counted 0 can matter: fa_sm_tiny_l_f32); nothing of those is written here, so y may
 * be x.
 * Measured (2^21 float32 entries as rows of n, AVX-512, ms, per-row code -> this):
 *   n = 2:  softmax 43.7 -> 9.4, log_softmax 51.8 -> 11.4, logsumexp 68.9 -> 18.4
 *   n = 16: 5.4 -> 2.7, 7.7 -> 2.8, 7.5 -> 2.3;  n = 32: 2.97 -> 2.37, 3.83 -> 2.44, 3.74 -> 1.75.
 * torch (one thread) is 0.7-1.0x of that for n = 16 .. 64 (its kernels take 16-wide rows
 * whole) and 2-13x slower for n = 2 .. 10: the scalar transposes in and out are now the cost
 * (gathers would cut them).
 * Accuracy as the float32 column blocks' e^(x - K ln2) path (terms <= 0.99 ULP, 0.55 with
 * AVX-512's table; the header of fa_columns.h has the measured maxima).
 */
#ifndef FA_SHORT_ROWS_H
#define FA_SHORT_ROWS_H

#define FA_SHORT_ROWS_MAX 64
/* the longest rows that take it, per function: measured against the per-row code (2^21
 * float32 entries, AVX-512): softmax 2.28 / 2.33 ms at n = 48, log_softmax 2.85 / 2.39,
 * logsumexp 2.03 / 1.49 at n = 64; softmax at 64 was 1.81 / 2.39 (the transposes cost) */
#define FA_SHORT_ROWS_LIMIT(op) ((op) == FA_SM_OP_LSE ? 64 : (op) == FA_SM_OP_LOG_SOFTMAX ? 48 : 40)
#define FA_SHORT_ROWS_LIMIT64(op) ((op) == FA_SM_OP_LSE ? 40 : (op) == FA_SM_OP_LOG_SOFTMAX ? 24 : 20)
/* the short-row path exists where a vector holds several rows */
#define FA_SHORT_ROWS_ON (FA_LANES_F32 >= 4)

/* rows [0, rows) of x (rows <= FA_LANES_F32, n <= FA_SHORT_ROWS_MAX): out = their rows of y
 * (softmax, log_softmax) or their logsumexp results with signs sg (may be NULL), for the rows
 * it finishes; returns the bit mask of the rows left to the per-row code */
static unsigned fa_short_group_f32(const float *x, float *out, float *sg, ptrdiff_t rows, ptrdiff_t n, int op)
{
    enum { G = FA_LANES_F32 };
    const ptrdiff_t L64 = FA_LANES_F64;
    float xt[FA_SHORT_ROWS_MAX * G] __attribute__((aligned(64)));
    float et[FA_SHORT_ROWS_MAX * G] __attribute__((aligned(64)));
    for (ptrdiff_t g = 0; g < G; g++)                   /* transposed in; idle lanes 0 */
        for (ptrdiff_t i = 0; i < n; i++)
            xt[i * G + g] = g < rows ? x[g * n + i] : 0.0f;
    const fa_simd_f32 zero = fa_set1_f32(0.0f), one = fa_set1_f32(1.0f);
    fa_simd_f32 mx = fa_set1_f32(-INFINITY);
    fa_mask_f32 nan = fa_cmpneq_f32(zero, zero);
    for (ptrdiff_t i = 0; i < n; i++) {
        const fa_simd_f32 v = fa_loadu_f32(xt + i * G);
        nan = fa_mask_or_f32(nan, fa_cmpunord_f32(v, v));
        mx = fa_max_f32(v, mx);
    }
    const fa_mask_f32 okv = fa_mask_and_f32(fa_mask_not_f32(nan),
                                            fa_mask_and_f32(fa_cmpgt_f32(mx, fa_set1_f32(FA_STATS_MAX_LO_F32)),
                                                            fa_cmplt_f32(mx, fa_set1_f32(FA_STATS_MAX_HI_F32))));
    float Mb[G], Kb[G], MKb[G], LOWb[G], ok[G];
    fa_storeu_f32(Mb, mx);
    fa_storeu_f32(ok, fa_select_f32(okv, one, zero));
    unsigned left = 0;
    for (ptrdiff_t g = 0; g < G; g++) {
        if (g < rows && ok[g] == 0.0f)
            left |= 1u << g;
        if (ok[g] == 0.0f)
            Mb[g] = 0.0f;                               /* a harmless lane from here on */
        Kb[g] = rintf(Mb[g] * FA_LOG2E_F32) - 1.0f;
        MKb[g] = FA_STATS_MAGIC_F32(Kb[g]);
        LOWb[g] = FA_STATS_LOW(Kb[g]);
    }
    if (left == (rows >= 32 ? ~0u : (1u << rows) - 1u))
        return left;
    const fa_simd_f32 Mv = fa_loadu_f32(Mb), magic_k = fa_loadu_f32(MKb), low = fa_loadu_f32(LOWb);
    fa_simd_f32 t = zero, tc = zero, c = zero;
    for (ptrdiff_t i = 0; i < n; i++) {
        const fa_simd_f32 v = fa_select_f32(okv, fa_loadu_f32(xt + i * G), zero);
        const fa_simd_f32 e = fa_stats_term_f32(v, magic_k, low);
        const fa_mask_f32 top = fa_cmpeq_f32(v, Mv);
        if (op == FA_SM_OP_SOFTMAX)
            fa_storeu_f32(et + i * G, e);
        fa_kahan_add_f32(&t, &tc, fa_select_f32(top, zero, e));
        c = fa_mask_add_f32(top, c, one);
    }
    float Tb[G], Cb[G], P1[G], P2[G], Q[G];
    double V[G], Ts[G];
    fa_storeu_f32(Tb, fa_sub_f32(t, tc));
    fa_storeu_f32(Cb, c);
    for (ptrdiff_t k = 0; k < G; k += L64) {
        const fa_simd_f64 M = fa_loadu_f32_as_f64(Mb + k), K = fa_loadu_f32_as_f64(Kb + k);
        const fa_simd_f64 C = fa_loadu_f32_as_f64(Cb + k);
        const fa_simd_f64 F = fa_stats_shift_factor_f64(K, M);
        const fa_simd_f64 T = fa_mul_f64(fa_loadu_f32_as_f64(Tb + k), F);
        fa_simd_f64 f;
        if (op == FA_SM_OP_SOFTMAX) {
            const fa_simd_f64 S = fa_add_f64(T, C);
            f = fa_div_f64(F, S);
            fa_storeu_f64_as_f32(Q + k, fa_div_f64(fa_set1_f64(1.0), S));
        } else {
            f = fa_log1p_pos_f64(fa_add_f64(T, fa_sub_f64(C, fa_set1_f64(1.0))));
            fa_storeu_f64(V + k, fa_add_f64(M, f));
            fa_storeu_f64(Ts + k, T);
        }
        fa_storeu_f64_as_f32(P1 + k, f);
        fa_storeu_f64_as_f32(P2 + k, fa_sub_f64(f, fa_loadu_f32_as_f64(P1 + k)));
    }
    /* the logs of a row with a logit gap above ~41 (T < 2^-60): the terms below 2^-126.5 of
     * the shift, counted 0 here, can matter to l = log1p(T); the per-row code sums them
     * again (fa_sm_tiny_l_f32) */
    if (op != FA_SM_OP_SOFTMAX)
        for (ptrdiff_t g = 0; g < rows; g++)
            if (Ts[g] < 0x1p-60)
                left |= 1u << g;
    if (op == FA_SM_OP_LSE) {
        /* a cancelling row (fa_sm_lse_value_f32's criterion, l = P1 + P2 >= 0) is summed
         * unshifted in the double-pair tier, the scratch block's lanes as the column blocks'
         * (fa_sm_cols_block_lse_pair_f32); where its bound fails the row is left to the
         * double-double pass of the per-row code */
        unsigned char cancel[G], pair_ok[G];
        double vpair[G];
        int any = 0;
        for (ptrdiff_t g = 0; g < rows; g++) {
            cancel[g] = !(left & (1u << g)) && Mb[g] < 0.0f && fabs(V[g]) < 1.0
                        && fabs(V[g]) < (double)P1[g] + (double)P2[g];
            any |= cancel[g];
        }
        if (any)
            fa_sm_cols_block_lse_pair_f32(xt, NULL, n, G, rows, 0, vpair, pair_ok, cancel);
        for (ptrdiff_t g = 0; g < rows; g++) {
            if (left & (1u << g))
                continue;
            if (cancel[g] && !pair_ok[g]) {
                left |= 1u << g;
                continue;
            }
            out[g] = (float)(cancel[g] ? vpair[g] : V[g]);
            if (sg) sg[g] = 1.0f;
        }
        return left;
    }
    const fa_simd_f32 p1 = fa_loadu_f32(P1), p2 = fa_loadu_f32(P2);
    const fa_simd_f32 q = op == FA_SM_OP_SOFTMAX ? fa_loadu_f32(Q) : zero;
    for (ptrdiff_t i = 0; i < n; i++) {
        fa_simd_f32 o;
        if (op == FA_SM_OP_SOFTMAX) {       /* the max entries 1/(C + T) itself: a lone finite entry gives 1 */
            const fa_simd_f32 e = fa_loadu_f32(et + i * G);
            o = fa_fmadd_f32(e, p1, fa_mul_f32(e, p2));
            o = fa_select_f32(fa_cmpeq_f32(fa_loadu_f32(xt + i * G), Mv), q, o);
        } else {
            o = fa_sub_f32(fa_sub_f32(fa_loadu_f32(xt + i * G), Mv), p1);
        }
        fa_storeu_f32(et + i * G, o);
    }
    for (ptrdiff_t g = 0; g < rows; g++)                /* transposed out, the finished rows */
        if (!(left & (1u << g)))
            for (ptrdiff_t i = 0; i < n; i++)
                out[g * n + i] = et[i * G + g];
    return left;
}

/*
 * float64 rows of at most FA_SHORT_ROWS_MAX entries (no mask, no weights), FA_SM_BLOCK rows at
 * a time: copied transposed into a scratch block whose columns are the rows, and computed by
 * the float64 column blocks (fa_columns_f64.h) with LANEWISE set, so that every row's result
 * reads that row alone (the clamp mode throughout, no block-wide unshifted logsumexp).  Rows
 * with a NaN, a +inf, no finite entry or a max beyond 2^16 are left to the per-row code (the
 * returned mask; their lanes get zeros), so the block is never declined.
 * 2^21 float64 entries, AVX-512, ms, per-row code -> this (limits FA_SHORT_ROWS_LIMIT64, from
 * where the per-row code was faster again, e.g. softmax of n = 32 4.3 -> 6.0):
 *   n = 2:  softmax 56.9 -> 7.7, log_softmax 96.8 -> 12.3, logsumexp 106.6 -> 23.4
 *   n = 16: 7.7 -> 5.4-5.9, 14.2 -> 5.7-6.1, 14.4 -> 4.5-5.8 (load ~1, noisy).
 */
static unsigned fa_short_group_f64(const double *x, double *out, double *sg, ptrdiff_t rows, ptrdiff_t n, int op)
{
    enum { G = FA_SM_BLOCK };
    double xt[FA_SHORT_ROWS_MAX * G] __attribute__((aligned(64)));
    double yt[FA_SHORT_ROWS_MAX * G] __attribute__((aligned(64)));
    double lt[G], st[G];
    unsigned left = 0;
    for (ptrdiff_t g = 0; g < G; g++) {
        int use = g < rows;
        if (use) {
            double m = -INFINITY;
            int bad = 0;
            for (ptrdiff_t i = 0; i < n; i++) {
                const double v = x[g * n + i];
                bad |= v != v || v == INFINITY;
                m = v > m ? v : m;
            }
            if (bad || !(fabs(m) < FA_SM64_DIRECT_LIMIT)) {
                left |= 1u << g;
                use = 0;
            }
        }
        for (ptrdiff_t i = 0; i < n; i++)
            xt[i * G + g] = use ? x[g * n + i] : 0.0;
    }
    if (left == (rows >= 32 ? ~0u : (1u << rows) - 1u))
        return left;
    if (op == FA_SM_OP_SOFTMAX)
        fa_sm64_cols_block_body(xt, NULL, yt, lt, st, n, G, G, NULL, FA_SM_OP_SOFTMAX, 1, 0, 1);
    else if (op == FA_SM_OP_LOG_SOFTMAX)
        fa_sm64_cols_block_body(xt, NULL, yt, lt, st, n, G, G, NULL, FA_SM_OP_LOG_SOFTMAX, 1, 0, 1);
    else
        fa_sm64_cols_block_body(xt, NULL, yt, lt, st, n, G, G, NULL, FA_SM_OP_LSE, 1, 0, 1);
    for (ptrdiff_t g = 0; g < rows; g++) {
        if (left & (1u << g))
            continue;
        if (op == FA_SM_OP_LSE) {
            out[g] = lt[g];
            if (sg) sg[g] = st[g];
        } else {
            for (ptrdiff_t i = 0; i < n; i++)
                out[g * n + i] = yt[i * G + g];
        }
    }
    return left;
}

#endif /* FA_SHORT_ROWS_H */
