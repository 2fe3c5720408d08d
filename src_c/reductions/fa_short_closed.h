/*
 * reductions/fa_short_closed.h -- float32 rows of 2 .. FA_SHORT_CLOSED_MAX entries in closed
 * form, one row per float64 lane, FA_SHORT_CLOSED_G rows at a time (a binary classifier's two
 * logits, a few classes, attention over a handful of keys; entries a where= mask leaves out
 * read as -inf); float64 rows of 2 likewise (fa_short_group_pairs_f64, at the end); the queue
 * of both dtypes' cancelling logsumexp rows for the double-double pass (fa_short_deep).
 *
 * Why float64 lanes.  The float32 statistics (a shift K, terms e^(x - K ln2) in float32) leave
 * two kinds of short rows to the per-row code, one row at a time: a logits gap above ~41 (the
 * terms counted 0 can matter to l = log1p(T)) and logsumexp rows that cancel (normalised
 * log-probabilities).  Rows of 3 had them as 0.67x torch (normalised) and 0.82x (uniform
 * +-50).  In float64 lanes no term is lost and no row needs a second pass of another kind.
 *
 * Layout.  The group's rows are copied transposed into a scratch block xt (entry i of every
 * row in one row of FA_SHORT_CLOSED_G floats); rows of 2 split by fa_deinterleave2_f32, the
 * others by a copy unrolled for each n.  Each stage runs over the group's FA_SHORT_CLOSED_G / FA_LANES_F64
 * vectors of rows in turn, so that several rows' exps and logs are in flight at once (a group
 * of one vector of rows left the core waiting on one exp-then-log chain: rows of 2, logsumexp
 * 4.4 ns per row).
 *
 * logsumexp, unshifted where it could cancel: S0 = sum of e^(x_i - K) in the float32 tier of
 * fa_lse_exact.h (each term fa_exp_pair_parts_f64's t + u, 2^-56; two anchored Fast2Sums per
 * term in each lane),
 * v = K + log(S0) (fa_lse_from_exact_f64), K = 0 for rows whose max M lies in [-(log n + 2),
 * FA_SHORT_CLOSED_SHIFT], K = M outside (no overflow above; below, terms lost to the anchor's
 * ulp or to underflow: there v <= M + log n < -2, so nothing cancels, and x_i - M is exact in
 * double or its term below e^-300 of the max's).  With K = 0 nothing cancels either: where v
 * is near 0, S0 is near 1 and v = log1p((hi - 1) + lo) keeps v's relative accuracy.
 *   - S0 < 4: the tier's proof (every Fast2Sum and hi - A exact; |log S0' - log S0| <=
 *     delta(n)) holds; v is taken where |v| >= 2^24 delta(n) + delta(n) (~2^-31), within
 *     1.5 ULP + 2^-29 ULP (measured 0.51); the rows below that bound (a quarter of normalised
 *     rows of 2, 1/15 of rows of 8) are packed into the first lanes and take the double-double
 *     pass of fa_lse_exact.h (2^-81.5 relative per term): 2 ULP, or 2^-80 absolute.
 *   - S0 >= 4: v >= log 4; the sum's relative error is at most n 2^-51 (2n Fast2Sums, which may be
 *     inexact beyond S0 = 8, each error still <= ulp(ah)/2), far below a float32 ULP of v.
 *   - K = M: S in [1, n], v = M + log(S), |v| >= 2: an absolute error ~2^-51.
 * softmax and log_softmax, shifted by the row's max M (exact in double): E_i = e^(x_i - M)
 * (fa_exp_minus_abs_f64, 0.5 ULP + 2^-54.8), T = the sum of E_i over x_i != M, C the count of
 * x_i == M:
 *   softmax     y_i = E_i / (C + T), rounded once to float32 (the max entries get 1 / (C + T));
 *   log_softmax y_i = (x_i - M) - log1p(T + C - 1) (x_i - M <= 0 and -l <= 0: no cancellation;
 *               the max entries -l keep l's relative accuracy when T is tiny).
 *   Rows of 2 take one exp: E = e^(min - M), S = 1 + E (a tie too), softmax 1 / S and E / S,
 *   log_softmax -l and (min - M) - l.
 * Each result is computed in double and rounded once: within 0.5 ULP + a hair (measured
 * in tests/test_reductions.py, test_float32_short_rows_in_closed_form).
 * Rows with no entry above -inf (and no NaN) are finished in place: logsumexp -inf, sign 0;
 * softmax and log_softmax NaN at the entries kept, 0 and -inf at those left out (the per-row
 * code's, SciPy's).  Rows with a NaN or a +inf (and, for logsumexp, a sum out of
 * fa_lse_from_exact_f64's range) are left to the per-row code: their bits in the returned
 * mask, nothing of them written (y may be x).  Every decision reads the row's own lane, so a
 * row's bits do not depend on the rows grouped with it (threads, Dask chunks, one-row calls).
 */
#ifndef FA_SHORT_CLOSED_H
#define FA_SHORT_CLOSED_H

#define FA_SHORT_CLOSED_G 32            /* rows per group (the returned masks are 32 bits) */
#define FA_SHORT_CLOSED_SHIFT 512.0     /* logsumexp rows shifted by their max beyond this */
/* the longest rows that take it: the rows a vector of float32 lanes cannot hold at once */
#ifndef FA_SHORT_CLOSED_MAX
#define FA_SHORT_CLOSED_MAX (FA_LANES_F32 - 1 > 2 ? FA_LANES_F32 - 1 : 2)
#endif

FA_INLINE void fa_short_closed_transpose_f32(const float *flat, float *xt, ptrdiff_t n)
{
    enum { G = FA_SHORT_CLOSED_G };
    for (ptrdiff_t g = 0; g < G; g++)
        for (ptrdiff_t i = 0; i < n; i++)
            xt[i * G + g] = flat[g * n + i];
}

/* the group's rows [0, rows) copied transposed into xt (n x G: entry i of row g at xt[i G +
 * g]); entries mk leaves out (mk: NULL or the rows' mask) as -inf, the idle lanes 0 */
FA_INLINE void fa_short_closed_load_f32(const float *x, const unsigned char *mk, float *xt, ptrdiff_t rows,
                                        ptrdiff_t n)
{
    enum { G = FA_SHORT_CLOSED_G, L = FA_LANES_F32 };
    const ptrdiff_t m = rows * n;
    if (n == 2) {                       /* two vectors of pairs -> a vector of a's and one of b's */
        for (ptrdiff_t g = 0; g < G; g += L) {
            const ptrdiff_t i = 2 * g;
            const fa_simd_f32 v0 = i < m ? fa_stats_load_f32(x, mk, i, m) : fa_set1_f32(0.0f);
            const fa_simd_f32 v1 = i + L < m ? fa_stats_load_f32(x, mk, i + L, m) : fa_set1_f32(0.0f);
            fa_simd_f32 a, b;
            fa_deinterleave2_f32(v0, v1, &a, &b);
            fa_storeu_f32(xt + g, a);
            fa_storeu_f32(xt + G + g, b);
        }
        for (ptrdiff_t g = rows; g < G; g++)            /* the idle lanes 0 (the loads gave -inf) */
            xt[g] = xt[G + g] = 0.0f;
        return;
    }
    float flat[FA_SHORT_CLOSED_G * FA_SHORT_CLOSED_MAX + FA_LANES_F32];
    for (ptrdiff_t i = 0; i < m; i += L)                /* the mask applied a vector at a time */
        fa_storeu_f32(flat + i, fa_stats_load_f32(x, mk, i, m));
    for (ptrdiff_t i = m; i < G * n; i++)               /* the idle lanes 0 */
        flat[i] = 0.0f;
    switch (n) {                        /* a constant n: the copy unrolled */
#define FA_SHORT_CLOSED_T(N) case N: if (N <= FA_SHORT_CLOSED_MAX) fa_short_closed_transpose_f32(flat, xt, N); break;
    FA_SHORT_CLOSED_T(3) FA_SHORT_CLOSED_T(4) FA_SHORT_CLOSED_T(5) FA_SHORT_CLOSED_T(6) FA_SHORT_CLOSED_T(7)
    FA_SHORT_CLOSED_T(8) FA_SHORT_CLOSED_T(9) FA_SHORT_CLOSED_T(10) FA_SHORT_CLOSED_T(11) FA_SHORT_CLOSED_T(12)
    FA_SHORT_CLOSED_T(13) FA_SHORT_CLOSED_T(14) FA_SHORT_CLOSED_T(15)
#undef FA_SHORT_CLOSED_T
    default: fa_short_closed_transpose_f32(flat, xt, n);
    }
}

/* the outputs yt (n x G, as xt) of the rows [0, rows) not in left written back row by row */
FA_INLINE void fa_short_closed_store_f32(const float *yt, float *out, ptrdiff_t rows, ptrdiff_t n, unsigned left)
{
    enum { G = FA_SHORT_CLOSED_G, L = FA_LANES_F32 };
    if (n == 2 && !left) {
        const ptrdiff_t m = 2 * rows;
        for (ptrdiff_t g = 0; g < G && 2 * g < m; g += L) {
            fa_simd_f32 o0, o1;
            const ptrdiff_t i = 2 * g;
            fa_interleave2_f32(fa_loadu_f32(yt + g), fa_loadu_f32(yt + G + g), &o0, &o1);
            if (i + L <= m) fa_storeu_f32(out + i, o0); else fa_store_tail_f32(out + i, o0, m - i);
            if (i + 2 * L <= m) fa_storeu_f32(out + i + L, o1);
            else if (i + L < m) fa_store_tail_f32(out + i + L, o1, m - i - L);
        }
        return;
    }
    for (ptrdiff_t g = 0; g < rows; g++)
        if (!(left & (1u << g)))
            for (ptrdiff_t i = 0; i < n; i++)
                out[g * n + i] = yt[i * G + g];
}

/* the max of the lanes' rows (the column block at xt, n entries FA_SHORT_CLOSED_G apart) as
 * float64, NaN entries skipped and noted in *nan; -inf where a row has no entry above -inf */
FA_INLINE fa_simd_f64 fa_short_closed_max_f64(const float *xt, ptrdiff_t n, fa_mask_f64 *nan)
{
    const fa_simd_f64 zero = fa_set1_f64(0.0);
    fa_simd_f64 M = fa_set1_f64(-INFINITY);
    *nan = fa_cmpneq_f64(zero, zero);
    for (ptrdiff_t i = 0; i < n; i++) {
        const fa_simd_f64 a = fa_loadu_f32_as_f64(xt + i * FA_SHORT_CLOSED_G);
        *nan = fa_mask_or_f64(*nan, fa_cmpunord_f64(a, a));
        M = fa_max_f64(a, M);
    }
    return M;
}

/* The double-double pass of fa_lse_exact.h over c queued rows, each in a lane: xt (n x
 * FA_SHORT_QUEUE rows, entry i of row k at xt[i FA_SHORT_QUEUE + k]; the last vector's idle
 * lanes set to harmless 0s here), v[k] = log of row k's unshifted sum, or fallback[k] where the
 * sum is out of fa_lse_from_exact_f64's range (never: the queued rows' sums lie near 1).  Both
 * dtypes' queues: the rows whose logsumexp cancels, queued across groups (one isolated
 * double-double vector per group left the core waiting on its exp-then-log chain: float32
 * normalised rows of 2, 3.8 ms of 9.8), flushed when full and by the caller at the end. */
#define FA_SHORT_QUEUE 32
FA_INLINE void fa_short_deep_sums(double *xt, ptrdiff_t n, int c, const double *fallback, double *v)
{
    enum { Q = FA_SHORT_QUEUE, L = FA_LANES_F64 };
    for (int k = c; k % L; k++)
        for (ptrdiff_t i = 0; i < n; i++)
            xt[i * Q + k] = 0.0;
    const fa_simd_f64 zero = fa_set1_f64(0.0);
    for (int j = 0; j < c; j += L) {
        fa_simd_f64 sh = zero, sl = zero;
        for (ptrdiff_t i = 0; i < n; i++)
            fa_lse_exact_step(fa_loadu_f64(xt + i * Q + j), zero, 0, &sh, &sl);
        const fa_simd_f64 hi = fa_add_f64(sh, sl);      /* fa_lse_exact_total of one lane */
        fa_mask_f64 ok;
        const fa_simd_f64 l = fa_lse_from_exact_f64(hi, fa_sub_f64(sl, fa_sub_f64(hi, sh)), &ok);
        fa_storeu_f64(v + j, fa_select_f64(ok, l, fa_loadu_f64(fallback + j)));
    }
}

/* the queue (either dtype; float32 entries are exact in double): the rows' entries, the value
 * kept where the pass fails (the tier's, or M + l), where each result (and float32's sign)
 * goes */
#define FA_SHORT_QUEUE_N (FA_SHORT_CLOSED_MAX > 8 ? FA_SHORT_CLOSED_MAX : 8)   /* longest rows */
typedef struct {
    double xt[FA_SHORT_QUEUE_N * FA_SHORT_QUEUE];
    double fallback[FA_SHORT_QUEUE];
    void *dst[FA_SHORT_QUEUE];
    float *sgd[FA_SHORT_QUEUE];
    int c;
} fa_short_deep;

FA_INLINE void fa_short_deep_flush(fa_short_deep *q, ptrdiff_t n, int F32)
{
    double v[FA_SHORT_QUEUE];
    if (!q->c)
        return;
    fa_short_deep_sums(q->xt, n, q->c, q->fallback, v);
    for (int k = 0; k < q->c; k++) {
        if (!F32) {
            *(double *)q->dst[k] = v[k];
            continue;
        }
        *(float *)q->dst[k] = (float)v[k];
        if (q->sgd[k]) *q->sgd[k] = 1.0f;
    }
    q->c = 0;
}

/* row g of a transposed block xt (n x G) queued (float32 or float64 entries), its result
 * already written as `fallback` */
#define FA_SHORT_DEFINE_PUSH(T, F32)                                                              \
FA_INLINE void fa_short_deep_push_##T(fa_short_deep *q, const fa_scalar_##T *xt, ptrdiff_t G, ptrdiff_t g, \
                                      ptrdiff_t n, double fallback, fa_scalar_##T *dst, float *sgd) \
{                                                                                                 \
    const int c = q->c;                                                                           \
    for (ptrdiff_t i = 0; i < n; i++)                                                             \
        q->xt[i * FA_SHORT_QUEUE + c] = (double)xt[i * G + g];                                    \
    q->fallback[c] = fallback;                                                                    \
    q->dst[c] = dst;                                                                              \
    q->sgd[c] = sgd;                                                                              \
    if (++q->c == FA_SHORT_QUEUE)                                                                 \
        fa_short_deep_flush(q, n, F32);                                                           \
}
FA_SHORT_DEFINE_PUSH(f32, 1)
FA_SHORT_DEFINE_PUSH(f64, 0)

/* logsumexp of the transposed rows (above); returns the rows left to the per-row code */
FA_INLINE unsigned fa_short_closed_lse_f32(const float *xt, ptrdiff_t rows, ptrdiff_t n, float *out, float *sg,
                                           fa_short_deep *q)
{
    enum { G = FA_SHORT_CLOSED_G, L64 = FA_LANES_F64, NV = FA_SHORT_CLOSED_G / FA_LANES_F64 };
    const fa_simd_f64 anchor = fa_set1_f64(FA_LSE_PAIR_ANCHOR), zero = fa_set1_f64(0.0);
    const fa_simd_f64 bound = fa_set1_f64(0x1p24 * fa_lse_pair_delta(n) + fa_lse_pair_delta(n));
    double V[G];
    fa_simd_f64 Kv[NV];
    unsigned bad = 0, deep = 0, empty = 0;
    const fa_simd_f64 lim = fa_set1_f64(-(log((double)n) + 2.0));
    for (int j = 0; j < NV; j++) {      /* the shift: 0, or the max M where M > 512 or M + log n < -2 */
        fa_mask_f64 nan;
        const fa_simd_f64 M = fa_short_closed_max_f64(xt + j * L64, n, &nan);
        /* no entry above -inf (and no NaN): -inf, sign 0 (an all -inf row, or every entry left out) */
        empty |= (unsigned)fa_mask_bits_f64(fa_mask_andnot_f64(nan, fa_cmpeq_f64(M, fa_set1_f64(-INFINITY)))) << (j * L64);
        const fa_mask_f64 far = fa_mask_or_f64(fa_cmpgt_f64(M, fa_set1_f64(FA_SHORT_CLOSED_SHIFT)), fa_cmplt_f64(M, lim));
        Kv[j] = fa_select_f64(far, M, zero);
    }
    for (int j = 0; j < NV; j++) {      /* S0 in the float32 tier, v = K + log(S0) */
        fa_simd_f64 ah = anchor, al = zero;
        for (ptrdiff_t i = 0; i < n; i++)
            fa_lse_pair_step(fa_sub_f64(fa_loadu_f32_as_f64(xt + i * G + j * L64), Kv[j]), &ah, &al);
        fa_mask_f64 ok;
        const fa_simd_f64 l = fa_lse_from_exact_f64(fa_sub_f64(ah, anchor), al, &ok);
        bad |= (unsigned)fa_mask_bits_f64(fa_mask_not_f64(ok)) << (j * L64);
        const fa_mask_f64 near0 = fa_mask_and_f64(fa_cmplt_f64(fa_abs_f64(l), bound), fa_cmpeq_f64(Kv[j], zero));
        deep |= (unsigned)fa_mask_bits_f64(fa_mask_and_f64(ok, near0)) << (j * L64);
        fa_storeu_f64(V + j * L64, fa_add_f64(Kv[j], l));
    }
    const unsigned all = rows >= 32 ? ~0u : (1u << rows) - 1u;
    deep &= all;
    bad &= all & ~empty;
    if (!bad && !empty && rows == G) {  /* the whole group: vector stores */
        for (int j = 0; j < NV; j++) {
            fa_storeu_f64_as_f32(out + j * L64, fa_loadu_f64(V + j * L64));
            if (sg) fa_storeu_f64_as_f32(sg + j * L64, fa_set1_f64(1.0));
        }
    } else {
        for (ptrdiff_t g = 0; g < rows; g++)
            if (!(bad & (1u << g))) {
                const int none = (empty >> g) & 1u;
                out[g] = none ? -INFINITY : (float)V[g];
                if (sg) sg[g] = none ? 0.0f : 1.0f;
            }
    }
    /* below the tier's bound: queued for the double-double pass (K = 0 there); their results
     * were written above with the tier's value, and are again at the flush */
    for (unsigned d = deep; d; d &= d - 1) {
        const int g = __builtin_ctz(d);
        fa_short_deep_push_f32(q, xt, G, g, n, V[g], out + g, sg ? sg + g : NULL);
    }
    return bad;
}

/* softmax (op FA_SM_OP_SOFTMAX) or log_softmax of the transposed rows into yt (n x G);
 * returns the rows left to the per-row code */
FA_INLINE unsigned fa_short_closed_sm_f32(const float *xt, float *yt, ptrdiff_t rows, ptrdiff_t n, int op,
                                          unsigned *empty)
{
    enum { G = FA_SHORT_CLOSED_G, L64 = FA_LANES_F64, NV = FA_SHORT_CLOSED_G / FA_LANES_F64 };
    double et[FA_SHORT_CLOSED_MAX * FA_SHORT_CLOSED_G] __attribute__((aligned(64)));
    const fa_simd_f64 zero = fa_set1_f64(0.0), one = fa_set1_f64(1.0);
    fa_simd_f64 Mv[NV], Pv[NV];
    unsigned bad = 0;
    *empty = 0;
    for (int j = 0; j < NV; j++) {      /* the max M, NaN noted */
        fa_mask_f64 nan;
        const fa_simd_f64 M = fa_short_closed_max_f64(xt + j * L64, n, &nan);
        const fa_mask_f64 ok = fa_mask_and_f64(fa_mask_not_f64(nan), fa_mask_and_f64(fa_cmpgt_f64(M, fa_set1_f64(-INFINITY)),
                                                                                     fa_cmplt_f64(M, fa_set1_f64(INFINITY))));
        const fa_mask_f64 none = fa_mask_andnot_f64(nan, fa_cmpeq_f64(M, fa_set1_f64(-INFINITY)));
        bad |= (unsigned)fa_mask_bits_f64(fa_mask_andnot_f64(none, fa_mask_not_f64(ok))) << (j * L64);
        *empty |= (unsigned)fa_mask_bits_f64(none) << (j * L64);
        Mv[j] = fa_select_f64(ok, M, zero);
    }
    if (n == 2) {                       /* one exp per row: E = e^(min - M), S = 1 + E (a tie too) */
        for (int j = 0; j < NV; j++) {
            const fa_simd_f64 a = fa_loadu_f32_as_f64(xt + j * L64), b = fa_loadu_f32_as_f64(xt + G + j * L64);
            const fa_mask_f64 a_top = fa_cmpge_f64(a, b);
            const fa_simd_f64 D = fa_sub_f64(fa_select_f64(a_top, b, a), Mv[j]);
            const fa_simd_f64 E = fa_exp_minus_abs_f64(D);
            fa_simd_f64 top, other;
            if (op == FA_SM_OP_SOFTMAX) {
                top = fa_div_f64(one, fa_add_f64(one, E));
                other = fa_mul_f64(E, top);
            } else {
                top = fa_sub_f64(zero, fa_log1p_pos_f64(E));
                other = fa_add_f64(D, top);
            }
            fa_storeu_f64_as_f32(yt + j * L64, fa_select_f64(a_top, top, other));
            fa_storeu_f64_as_f32(yt + G + j * L64, fa_select_f64(a_top, other, top));
        }
        const unsigned all = rows >= 32 ? ~0u : (1u << rows) - 1u;
        return bad & all;
    }
    for (int j = 0; j < NV; j++) {      /* the terms, T and C; softmax's 1 / (C + T), log_softmax's l */
        fa_simd_f64 T = zero, C = zero;
        for (ptrdiff_t i = 0; i < n; i++) {
            const fa_simd_f64 a = fa_loadu_f32_as_f64(xt + i * G + j * L64);
            const fa_simd_f64 e = fa_exp_minus_abs_f64(fa_sub_f64(a, Mv[j]));
            const fa_mask_f64 top = fa_cmpeq_f64(a, Mv[j]);
            T = fa_add_f64(T, fa_select_f64(top, zero, e));
            C = fa_add_f64(C, fa_select_f64(top, one, zero));
            if (op == FA_SM_OP_SOFTMAX)
                fa_storeu_f64(et + i * G + j * L64, e);
        }
        Pv[j] = op == FA_SM_OP_SOFTMAX ? fa_div_f64(one, fa_add_f64(C, T))
                                       : fa_log1p_pos_f64(fa_add_f64(T, fa_sub_f64(C, one)));
    }
    for (int j = 0; j < NV; j++)        /* the outputs, rounded once */
        for (ptrdiff_t i = 0; i < n; i++) {
            const ptrdiff_t at = i * G + j * L64;
            const fa_simd_f64 y = op == FA_SM_OP_SOFTMAX
                                      ? fa_mul_f64(fa_loadu_f64(et + at), Pv[j])
                                      : fa_sub_f64(fa_sub_f64(fa_loadu_f32_as_f64(xt + at), Mv[j]), Pv[j]);
            fa_storeu_f64_as_f32(yt + at, y);
        }
    const unsigned all = rows >= 32 ? ~0u : (1u << rows) - 1u;
    return bad & all;
}

/* float32 rows [0, rows) of x (rows <= FA_SHORT_CLOSED_G, 2 <= n <= FA_SHORT_CLOSED_MAX):
 * out = their rows of y (softmax, log_softmax) or their logsumexp results with signs sg (may
 * be NULL), for the rows it finishes (logsumexp rows queued in q final at its flush); returns
 * the bit mask of the rows left to the per-row code */
static unsigned fa_short_group_closed_f32(const float *x, const unsigned char *mk, float *out, float *sg,
                                          ptrdiff_t rows, ptrdiff_t n, int op, fa_short_deep *q)
{
    float xt[FA_SHORT_CLOSED_MAX * FA_SHORT_CLOSED_G] __attribute__((aligned(64)));
    fa_short_closed_load_f32(x, mk, xt, rows, n);
    if (op == FA_SM_OP_LSE)
        return fa_short_closed_lse_f32(xt, rows, n, out, sg, q);
    float yt[FA_SHORT_CLOSED_MAX * FA_SHORT_CLOSED_G] __attribute__((aligned(64)));
    unsigned empty;
    const unsigned left = fa_short_closed_sm_f32(xt, yt, rows, n, op, &empty);
    fa_short_closed_store_f32(yt, out, rows, n, left);
    /* rows with no entry above -inf (rare): NaN at the entries kept, as SciPy's e^(-inf - -inf),
     * and those a mask leaves out 0 (softmax) or -inf (log_softmax) */
    for (unsigned e = empty & (rows >= 32 ? ~0u : (1u << rows) - 1u); e; e &= e - 1) {
        const ptrdiff_t g = __builtin_ctz(e);
        for (ptrdiff_t i = 0; i < n; i++)
            out[g * n + i] = mk && !mk[g * n + i] ? (op == FA_SM_OP_SOFTMAX ? 0.0f : -INFINITY) : NAN;
    }
    return left;
}

/*
 * float64 rows of 2 in closed form, one row per lane, FA_SM_BLOCK rows at a time (the pairs
 * split by fa_deinterleave2_f64, joined back by fa_interleave2_f64; entries a where= mask
 * leaves out read as -inf).  With M = max(a, b), D + dl = min - M exactly (a two-sum), E =
 * e^(D + dl) (fa_exp_neg_f64 with the low part, 0.5 ULP + 2^-54.8), l = log1p(E)
 * (fa_log1p_pos_f64, ~1 ULP):
 *   softmax     1 / (1 + E) at the max, E / (1 + E) at the other;
 *   log_softmax -l at the max, (D - l) + dl at the other (no cancellation);
 *   logsumexp   M + l, where it cannot cancel: M >= 0, or |M + l| >= 2 l (then l's error,
 *               <= 1.5 ulp(l): E's 0.53 ULP carried once, log1p's ~1, is within an ULP of
 *               the result; for M >= 0 the estimate is 0.5 + 1.5 = 2.0 ULP, measured 1.39
 *               on SSE2, 1.26 on AVX-512); the others (M < 0 and the
 *               result near 0: normalised log-probabilities) queued across groups
 *               (fa_short_deep) and summed unshifted by the double-double pass of
 *               fa_lse_exact.h, as the other float64 paths do (2 ULP where |v| >= 2^-25,
 *               ~2^-81 absolute below).
 * Rows with no entry above -inf: logsumexp -inf, sign 0; softmax / log_softmax NaN at the
 * entries kept, 0 / -inf at those left out.  Rows with a NaN or a +inf go to the per-row code
 * (the returned mask, nothing of them written: y may be x).  Each lane reads its row alone.
 * (2^20, 2) float64, ms, the column blocks on a transposed copy -> this: see
 * test_float64_short_rows_in_closed_form (n = 2) and the README.
 */
/* Both float64 closed forms' ends.  logsumexp: the rows [0, rows) not in bad written from V
 * (-inf and sign 0 for the rows in empty), then those in deep queued for the double-double
 * pass (their entries in xt, n x G).  softmax / log_softmax: the outputs yt (n x G) written
 * back, the rows in empty NaN where kept and 0 / -inf where mk leaves them out (SciPy's
 * -inf - -inf).  The rows in bad are not touched. */
FA_INLINE void fa_short_end_lse_f64(const double *V, const double *xt, ptrdiff_t G, ptrdiff_t rows, ptrdiff_t n,
                                    unsigned bad, unsigned empty, unsigned deep, double *out, double *sg,
                                    fa_short_deep *q)
{
    for (ptrdiff_t g = 0; g < rows; g++)
        if (!(bad & (1u << g))) {
            const int none = (empty >> g) & 1u;
            out[g] = none ? -INFINITY : V[g];
            if (sg) sg[g] = none ? 0.0 : 1.0;
        }
    for (unsigned d = deep; d; d &= d - 1) {            /* written above with M + l */
        const int g = __builtin_ctz(d);
        fa_short_deep_push_f64(q, xt, G, g, n, V[g], out + g, NULL);
    }
}
FA_INLINE void fa_short_end_rows_f64(const double *yt, ptrdiff_t G, ptrdiff_t rows, ptrdiff_t n, const unsigned char *mk,
                                     int op, unsigned bad, unsigned empty, double *out)
{
    for (ptrdiff_t g = 0; g < rows; g++) {
        if (bad & (1u << g))
            continue;
        if (empty & (1u << g)) {
            const double fill = op == FA_SM_OP_SOFTMAX ? 0.0 : -INFINITY;
            for (ptrdiff_t i = 0; i < n; i++)
                out[g * n + i] = mk && !mk[g * n + i] ? fill : NAN;
            continue;
        }
        for (ptrdiff_t i = 0; i < n; i++)
            out[g * n + i] = yt[i * G + g];
    }
}

/* A vector of rows (lanes k ..) by their max M and NaN lanes: returns ok (M finite, no NaN);
 * the rows with no entry above -inf (and no NaN) into *empty, the others (a NaN or a +inf:
 * the per-row code's) into *bad, at bit k + lane */
FA_INLINE fa_mask_f64 fa_short_classify_f64(fa_simd_f64 M, fa_mask_f64 nan, ptrdiff_t k, unsigned *bad,
                                            unsigned *empty)
{
    const fa_simd_f64 ninf = fa_set1_f64(-INFINITY);
    const fa_mask_f64 none = fa_mask_andnot_f64(nan, fa_cmpeq_f64(M, ninf));
    const fa_mask_f64 ok = fa_mask_andnot_f64(nan, fa_mask_and_f64(fa_cmpgt_f64(M, ninf),
                                                                  fa_cmplt_f64(M, fa_set1_f64(INFINITY))));
    *bad |= (unsigned)fa_mask_bits_f64(fa_mask_andnot_f64(none, fa_mask_not_f64(ok))) << k;
    *empty |= (unsigned)fa_mask_bits_f64(none) << k;
    return ok;
}

FA_INLINE fa_simd_f64 fa_short_pair_load_f64(const double *x, const unsigned char *mk, ptrdiff_t i, ptrdiff_t m)
{
    const ptrdiff_t L = FA_LANES_F64, left = m - i;
    if (left <= 0)
        return fa_set1_f64(0.0);                        /* idle lanes */
    fa_simd_f64 v = left >= L ? fa_loadu_f64(x + i) : fa_load_tail_f64(x + i, left, 0.0);
    if (mk)
        v = fa_select_f64(left >= L ? fa_load_mask_u8_f64(mk + i) : fa_load_tail_mask_u8_f64(mk + i, left), v,
                          fa_set1_f64(-INFINITY));
    return v;
}

static unsigned fa_short_group_pairs_f64(const double *x, const unsigned char *mk, double *out, double *sg,
                                         ptrdiff_t rows, int op, fa_short_deep *q)
{
    enum { G = FA_SM_BLOCK, L = FA_LANES_F64 };
    const ptrdiff_t m = 2 * rows;
    const fa_simd_f64 zero = fa_set1_f64(0.0), one = fa_set1_f64(1.0);
    double Y[2 * G], V[G], AB[2 * G];       /* Y: the outputs, AB: the rows' a, then their b (n x G) */
    unsigned bad = 0, empty = 0, deep = 0;
    for (ptrdiff_t k = 0; k < G; k += L) {
        fa_simd_f64 a, b;
        fa_deinterleave2_f64(fa_short_pair_load_f64(x, mk, 2 * k, m), fa_short_pair_load_f64(x, mk, 2 * k + L, m), &a, &b);
        const fa_mask_f64 nan = fa_mask_or_f64(fa_cmpunord_f64(a, a), fa_cmpunord_f64(b, b));
        const fa_mask_f64 a_top = fa_cmpge_f64(a, b);
        const fa_simd_f64 M = fa_select_f64(a_top, a, b), lo = fa_select_f64(a_top, b, a);
        const fa_mask_f64 ok = fa_short_classify_f64(M, nan, k, &bad, &empty);
        const fa_simd_f64 Ms = fa_select_f64(ok, M, zero);
        fa_simd_f64 dl, D = fa_two_sum_f64(fa_select_f64(ok, lo, fa_set1_f64(-1.0)), fa_neg_f64(Ms), &dl);
        const fa_mask_f64 near = fa_cmpgt_f64(D, fa_set1_f64(-800.0));   /* e^D > 0 */
        dl = fa_select_f64(near, dl, zero);             /* (-inf - M's two-sum gives NaN) */
        fa_simd_f64 t, n;
        const fa_simd_f64 em = fa_exp_neg_f64(fa_max_f64(D, fa_set1_f64(-800.0)), dl, FA_EXP_LOW, &t, &n);
        const fa_simd_f64 E = fa_scale_exp_f64(em, t, n);
        fa_simd_f64 top, other;
        if (op == FA_SM_OP_SOFTMAX) {
            top = fa_div_f64(one, fa_add_f64(one, E));
            other = fa_mul_f64(E, top);
        } else {
            const fa_simd_f64 l = fa_log1p_pos_f64(E);
            if (op == FA_SM_OP_LSE) {
                const fa_mask_f64 cancel = fa_mask_and_f64(fa_mask_and_f64(ok, fa_cmplt_f64(Ms, zero)),
                                                           fa_cmplt_f64(fa_abs_f64(fa_add_f64(Ms, l)), fa_add_f64(l, l)));
                deep |= (unsigned)fa_mask_bits_f64(cancel) << k;
                fa_storeu_f64(AB + k, a);
                fa_storeu_f64(AB + G + k, b);
                const fa_simd_f64 v = fa_add_f64(Ms, l);
                fa_storeu_f64(V + k, v);
                continue;
            }
            top = fa_sub_f64(zero, l);
            other = fa_add_f64(fa_sub_f64(D, l), dl);
        }
        fa_storeu_f64(Y + k, fa_select_f64(a_top, top, other));
        fa_storeu_f64(Y + G + k, fa_select_f64(a_top, other, top));
    }
    const unsigned all = rows >= 32 ? ~0u : (1u << rows) - 1u;
    bad &= all;
    empty &= all;
    if (op == FA_SM_OP_LSE) {
        fa_short_end_lse_f64(V, AB, G, rows, 2, bad, empty, deep & all, out, sg, q);
        return bad;
    }
    if (!bad && !empty) {
        for (ptrdiff_t k = 0; k < G && 2 * k < m; k += L) {
            fa_simd_f64 o0, o1;
            const ptrdiff_t i = 2 * k;
            fa_interleave2_f64(fa_loadu_f64(Y + k), fa_loadu_f64(Y + G + k), &o0, &o1);
            if (i + L <= m) fa_storeu_f64(out + i, o0); else fa_store_tail_f64(out + i, o0, m - i);
            if (i + 2 * L <= m) fa_storeu_f64(out + i + L, o1);
            else if (i + L < m) fa_store_tail_f64(out + i + L, o1, m - i - L);
        }
        return 0;
    }
    fa_short_end_rows_f64(Y, G, rows, 2, mk, op, bad, empty, out);
    return bad;
}

/*
 * float64 rows of 3 .. FA_SHORT_CLOSED_MAX64 entries in closed form, one row per float64
 * lane, FA_SM_BLOCK rows at a time: the design of the rows of 2 (above) for n entries, where
 * these rows took the float64 column blocks on a transposed copy (logsumexp of (2^19, 4)
 * 0.87-1.3x torch).  Per lane: M the row's max, D_i + dl_i = x_i - M (TwoSum, exact; -inf
 * and entries 800 below M give 0 terms), E_i = e^(D_i + dl_i) = em_i 2^k_i (fa_exp_neg_f64,
 * FA_EXP_LOW: 0.5 ULP + 2^-54.8), T the sum of the E_i of the entries below M, TwoSum-
 * compensated (Th + Tl, ~1 ULP of T for n <= 8), plus C - 1 for C entries equal to M:
 *   softmax      y_i = (em_i / (1 + T)) 2^k_i, scaled once by fa_scale_exp_f64 (a subnormal
 *                y_i built on the integer side: no assist); the max entries 1 / (1 + T);
 *   log_softmax  y_i = (D_i - l) + dl_i (no cancellation: both <= 0), the max entries -l,
 *                l = log1p(Th) + Tl / (1 + Th) (l's relative accuracy kept for a tiny T);
 *   logsumexp    M + l where it cannot cancel (M >= 0, or |M + l| >= 2 l: l's ~1.5 ULP within
 *                an ULP of the result), the rest queued for the double-double pass of
 *                fa_lse_exact.h (fa_short_deep), as the rows of 2.
 * Rows with no entry above -inf: logsumexp -inf, sign 0; softmax / log_softmax NaN at the
 * entries kept, 0 / -inf at those left out.  Rows with a NaN or a +inf go to the per-row code
 * (the returned mask, nothing of them written: y may be x).  Each lane reads its row alone.
 * Measured max against long double (every row kind, ties, far-off entries; every variant but
 * scalar, which keeps the per-row code): logsumexp 1.53 ULP, softmax 2.31, log_softmax 1.74
 * (tests/test_reductions.py test_float64_short_rows_in_closed_form, n = 3, 4, 5, 8).
 */
#define FA_SHORT_CLOSED_MAX64 8

/* a full group's rows r (G x n, row after row) to the transposed block t (n x G: entry i of
 * row g at t[i G + g]) when to_t, else back; n a constant in each unrolled case (r is only
 * read when to_t) */
FA_INLINE void fa_short_transpose_f64(double *r, double *t, ptrdiff_t n, int to_t)
{
    enum { G = FA_SM_BLOCK };
    switch (n) {
#define FA_SHORT_T64(N) case N: {                                                                 \
        for (ptrdiff_t g = 0; g < G; g++) {                                                        \
            for (ptrdiff_t i = 0; i < N; i++) {                                                    \
                if (to_t) t[i * G + g] = r[g * N + i]; else r[g * N + i] = t[i * G + g];           \
            }                                                                                      \
        }                                                                                          \
    } break;
    FA_SHORT_T64(3) FA_SHORT_T64(4) FA_SHORT_T64(5) FA_SHORT_T64(6) FA_SHORT_T64(7) FA_SHORT_T64(8)
#undef FA_SHORT_T64
    }
}

static unsigned fa_short_group_closed_f64(const double *x, const unsigned char *mk, double *out, double *sg,
                                          ptrdiff_t rows, ptrdiff_t n, int op, fa_short_deep *q)
{
    enum { G = FA_SM_BLOCK, L = FA_LANES_F64, NM = FA_SHORT_CLOSED_MAX64 };
    double xt[NM * G] __attribute__((aligned(64)));
    double at[NM * G] __attribute__((aligned(64)));    /* softmax: em_i; log_softmax: D_i */
    double bt[NM * G] __attribute__((aligned(64)));    /* softmax: t_i;  log_softmax: dl_i */
    double ct[NM * G] __attribute__((aligned(64)));    /* softmax: k_i (the exp's n) */
    double V[G];
    const fa_simd_f64 zero = fa_set1_f64(0.0), one = fa_set1_f64(1.0), ninf = fa_set1_f64(-INFINITY);
    if (!mk && rows == G) {
        fa_short_transpose_f64((double *)x, xt, n, 1);
    } else {                                           /* left out: -inf; idle lanes 0 */
        for (ptrdiff_t g = 0; g < G; g++)
            for (ptrdiff_t i = 0; i < n; i++)
                xt[i * G + g] = g >= rows ? 0.0 : mk && !mk[g * n + i] ? -INFINITY : x[g * n + i];
    }
    unsigned bad = 0, empty = 0, deep = 0;
    for (ptrdiff_t k = 0; k < G; k += L) {
        fa_simd_f64 M = ninf;
        fa_mask_f64 nan = fa_cmpneq_f64(zero, zero);
        for (ptrdiff_t i = 0; i < n; i++) {
            const fa_simd_f64 a = fa_loadu_f64(xt + i * G + k);
            nan = fa_mask_or_f64(nan, fa_cmpunord_f64(a, a));
            M = fa_max_f64(a, M);
        }
        const fa_mask_f64 ok = fa_short_classify_f64(M, nan, k, &bad, &empty);
        const fa_simd_f64 Ms = fa_select_f64(ok, M, zero);
        fa_simd_f64 th = zero, tl = zero, c = zero;
        for (ptrdiff_t i = 0; i < n; i++) {
            const fa_simd_f64 a = fa_select_f64(ok, fa_loadu_f64(xt + i * G + k), fa_set1_f64(-1.0));
            fa_simd_f64 dl, D = fa_two_sum_f64(a, fa_neg_f64(Ms), &dl);
            const fa_mask_f64 near = fa_cmpgt_f64(D, fa_set1_f64(-800.0));   /* e^D > 0 */
            dl = fa_select_f64(near, dl, zero);         /* (-inf - M's two-sum gives NaN) */
            const fa_mask_f64 top = fa_cmpeq_f64(D, zero);
            fa_simd_f64 t, kk, e;
            const fa_simd_f64 em = fa_exp_neg_f64(fa_max_f64(D, fa_set1_f64(-800.0)), dl, FA_EXP_LOW, &t, &kk);
            const fa_simd_f64 E = fa_select_f64(top, zero, fa_scale_exp_f64(em, t, kk));
            c = fa_add_f64(c, fa_select_f64(top, one, zero));
            th = fa_two_sum_f64(th, E, &e);
            tl = fa_add_f64(tl, e);
            if (op == FA_SM_OP_SOFTMAX) {
                fa_storeu_f64(at + i * G + k, em);
                fa_storeu_f64(bt + i * G + k, t);
                fa_storeu_f64(ct + i * G + k, kk);
            } else if (op == FA_SM_OP_LOG_SOFTMAX) {
                fa_storeu_f64(at + i * G + k, D);
                fa_storeu_f64(bt + i * G + k, dl);
            }
        }
        fa_simd_f64 e, Th = fa_two_sum_f64(fa_sub_f64(c, one), th, &e);   /* T + C - 1 (ties) */
        const fa_simd_f64 Tl = fa_add_f64(tl, e);
        if (op == FA_SM_OP_SOFTMAX) {
            fa_simd_f64 dl, dh = fa_two_sum_f64(one, Th, &dl);            /* 1 + T, one rounding */
            const fa_simd_f64 den = fa_add_f64(dh, fa_add_f64(dl, Tl));
            for (ptrdiff_t i = 0; i < n; i++) {
                const ptrdiff_t o = i * G + k;
                fa_storeu_f64(xt + o, fa_scale_exp_f64(fa_div_f64(fa_loadu_f64(at + o), den), fa_loadu_f64(bt + o),
                                                       fa_loadu_f64(ct + o)));
            }
            continue;
        }
        const fa_simd_f64 ope = fa_add_f64(one, Th);
        const fa_simd_f64 l = fa_add_f64(fa_log1p_pos_f64(Th), fa_div_f64(Tl, ope));
        if (op == FA_SM_OP_LSE) {
            const fa_simd_f64 v = fa_add_f64(Ms, l);
            const fa_mask_f64 cancel = fa_mask_and_f64(fa_mask_and_f64(ok, fa_cmplt_f64(Ms, zero)),
                                                       fa_cmplt_f64(fa_abs_f64(v), fa_add_f64(l, l)));
            deep |= (unsigned)fa_mask_bits_f64(cancel) << k;
            fa_storeu_f64(V + k, v);
            continue;
        }
        for (ptrdiff_t i = 0; i < n; i++) {
            const ptrdiff_t o = i * G + k;
            fa_storeu_f64(xt + o, fa_add_f64(fa_sub_f64(fa_loadu_f64(at + o), l), fa_loadu_f64(bt + o)));
        }
    }
    const unsigned all = rows >= 32 ? ~0u : (1u << rows) - 1u;
    bad &= all;
    empty &= all;
    if (op == FA_SM_OP_LSE) {
        fa_short_end_lse_f64(V, xt, G, rows, n, bad, empty, deep & all, out, sg, q);
        return bad;
    }
    if (!bad && !empty && rows == G) {                 /* the outputs (in xt) written back */
        fa_short_transpose_f64(out, xt, n, 0);
        return 0;
    }
    fa_short_end_rows_f64(xt, G, rows, n, mk, op, bad, empty, out);
    return bad;
}

#endif /* FA_SHORT_CLOSED_H */
