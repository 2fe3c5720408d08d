/*
 * reductions/fa_short_rows.h -- short rows, a group of rows at a time.  float32: below;
 * float64: fa_short_group_f64 at the end (the float64 column blocks, LANEWISE, on a
 * transposed copy).
 *
 * Walked one row at a time, a row of 10-80 entries costs more in its horizontal reductions
 * and its two libm calls (the chunk factor's exp, l's log) than in its arithmetic (softmax
 * of (2^17, 16) float32 rows was 0.52x torch, log_softmax 0.31x).  float32 rows without
 * weights (a where= mask read as -inf entries) of at most FA_SHORT_ROWS_LIMIT(op) entries go
 * FA_SHORT_CLOSED_G rows at a time, in one of two layouts by length:
 *   - shorter than a vector (n < FA_LANES_F32): in closed form in float64 lanes, one lane per
 *     row (fa_short_closed.h: no shift to choose, no row left for a logits gap or a
 *     cancelling logsumexp);
 *   - a vector or longer (fa_short_group_rows_f32, below, FA_LANES_F32 rows at a time): each
 *     row in its own vectors (the tail masked), its max and its sum reduced across lanes for
 *     all the group's rows at once by the transpose-and-reduce trees of the SIMD layer
 *     (fa_hmax_rows_f32, fa_hsum_rows_f64), which leave row g's result in lane g; no
 *     transposed copy.
 * The rows layout's steps, per lane:
 *   1. the max M (NaN noted), the shift K = rint(M log2 e) - 1 (fa_short_shifts_f32);
 *      logsumexp rows that could cancel summed unshifted in the double-pair tier
 *      (fa_short_lse_unshifted_f32; normalised log-probabilities skip step 2);
 *   2. the terms e^(x - K ln2) (fa_stats_term_f32, the float32 rows' reduction) summed over
 *      x != M, with C the count of x == M; finished in float64 lanes (fa_short_finish_f32):
 *      T = sum * e^(K ln2 - M), softmax's factor e^(K ln2 - M) / (C + T) as a float32 pair,
 *      l = log1p(T + C - 1);
 *   3. the outputs: softmax term * (p1 + p2) (the maxima 1 / (C + T): a lone finite entry
 *      gives 1), log_softmax (x - M) - l, logsumexp M + l.
 * Every step of a lane reads that lane only, so a row's bits do not depend on the rows it is
 * grouped with (threads, Dask chunks, a one-row call all give the same bits).  A row whose
 * max is outside (FA_STATS_MAX_LO_F32, FA_STATS_MAX_HI_F32) is summed as x - M
 * (fa_short_shifts_f32).  A row with a NaN, a +inf or no finite entry, whose logits gap exceeds
 * ~41 (log_softmax and logsumexp: T < 2^-60, fa_sm_tiny_l_f32), or whose logsumexp cancels
 * beyond the double-pair tier's bound is left to the per-row code (the returned mask);
 * nothing of those is written here, so y may be x.
 * Accuracy as the float32 rows' e^(x - K ln2) path (terms <= 0.99 ULP, 0.55 with AVX-512's
 * table); the rows layout sums the terms in float64 lanes.  Measured max over the row kinds of
 * tests/test_reductions.py, n = 4 .. 256, 3 x 64 rows per kind, long double reference:
 * softmax 2.88 (SSE2) / 3.00 (AVX2) / 2.37 (AVX-512) ULP, log_softmax 1.36 / 1.96 / 1.96,
 * logsumexp 0.71 / 0.83 / 0.83.
 * Measured (2^21 float32 entries as rows of n, N(0, 3), one thread, AVX-512, medians, us;
 * per-row code -> a float32 transposed lanes layout (since replaced by fa_short_closed.h
 * below a vector) -> rows layout; torch 2.13 one thread beside):
 *   n = 16: softmax 5400 -> 2708 -> 1689 (torch ~2800), log_softmax 7700 -> 2849 -> 1886
 *           (~2500), logsumexp 7500 -> 2370 -> 2047 (~6000)
 *   n = 32: 2970 -> 2452 -> 1271, 3830 -> 2585 -> 1306, 3740 -> 1793 -> 1373
 *   n = 64: 1762 -> 1100-1400 (per-row -> rows), 2147 -> 1415, 1823 -> 1115
 * (fastact out= against torch.softmax / log_softmax / logsumexp on the same array, 21
 * interleaved rounds; `PYTHONPATH=. python benchmarks/bench_reductions.py --quick --dtypes
 * float32 --kinds normal3 --shapes 131072x16,65536x32,32768x64` gives the same within a few
 * percent.)  The limits (FA_SHORT_ROWS_LIMIT) are where the per-row code is as fast again.
 */
#ifndef FA_SHORT_ROWS_H
#define FA_SHORT_ROWS_H

#define FA_SHORT_ROWS_MAX 64           /* float64 rows; float32 logsumexp rows summed in lanes */
#define FA_SHORT_ROWS_MAX32 256        /* float32 logsumexp rows at most */
#if FA_LANES_F32 > 16
#error "FA_SHORT_ROWS_LIMIT: 16 lanes at most"
#endif
#define FA_SHORT_ROWS_SOFTMAX_MAX 80   /* float32 softmax and log_softmax rows */
/* the longest float32 rows that take it, per function and ISA: where the per-row code is
 * as fast again (2^21 entries, us, group / per-row): softmax AVX-512 n = 96 1468 / 1439,
 * SSE2 n = 64 4572 / 3784; logsumexp AVX-512 n = 256 746 / 854, AVX2 n = 128 1572 / 1452,
 * SSE2 n = 64 4315 / 4038 */
#define FA_SHORT_ROWS_LIMIT(op)                                                                   \
    ((op) == FA_SM_OP_LSE ? (FA_LANES_F32 >= 8 ? 16 * FA_LANES_F32 : 40)                           \
                          : (10 * FA_LANES_F32 < FA_SHORT_ROWS_SOFTMAX_MAX ? 10 * FA_LANES_F32 : FA_SHORT_ROWS_SOFTMAX_MAX))
#define FA_SHORT_ROWS_LIMIT64(op) ((op) == FA_SM_OP_LSE ? 40 : (op) == FA_SM_OP_LOG_SOFTMAX ? 24 : 20)
/* the short-row path exists where a vector holds several rows */
#define FA_SHORT_ROWS_ON (FA_LANES_F32 >= 4)

/* Step 2, shared by both layouts: each lane g (a row) finished in float64 lanes from its max
 * M, shift K, count C of entries equal to M and sum Tsum of the other terms e^(x - K ln2):
 * T = Tsum e^(K ln2 - M); softmax's factor e^(K ln2 - M) / (C + T) as the float32 pair
 * P1 + P2 and the maxima's output Q = 1 / (C + T); log_softmax and logsumexp's l = log1p(T + C
 * - 1) as P1 + P2, V = M + l, and Ts = T (the caller's test for a gap above ~41) */
FA_INLINE void fa_short_finish_f32(const float *Mb, const float *Ob, const float *Kb, const float *Cb,
                                   const double *Tsum, int op, float *P1, float *P2, float *Q, double *V, double *Ts)
{
    const ptrdiff_t L64 = FA_LANES_F64;
    for (ptrdiff_t k = 0; k < FA_LANES_F32; k += L64) {
        const fa_simd_f64 M = fa_loadu_f32_as_f64(Mb + k), K = fa_loadu_f32_as_f64(Kb + k);
        const fa_simd_f64 C = fa_loadu_f32_as_f64(Cb + k);
        const fa_simd_f64 F = fa_stats_shift_factor_f64(K, M);
        const fa_simd_f64 T = fa_mul_f64(fa_loadu_f64(Tsum + k), F);
        fa_simd_f64 f;
        if (op == FA_SM_OP_SOFTMAX) {
            const fa_simd_f64 S = fa_add_f64(T, C);
            f = fa_div_f64(F, S);
            fa_storeu_f64_as_f32(Q + k, fa_div_f64(fa_set1_f64(1.0), S));
        } else {
            f = fa_log1p_pos_f64(fa_add_f64(T, fa_sub_f64(C, fa_set1_f64(1.0))));
            fa_storeu_f64(V + k, fa_add_f64(fa_add_f64(M, fa_loadu_f32_as_f64(Ob + k)), f));   /* (M + O exact) */
            fa_storeu_f64(Ts + k, T);
        }
        fa_storeu_f64_as_f32(P1 + k, f);
        fa_storeu_f64_as_f32(P2 + k, fa_sub_f64(f, fa_loadu_f32_as_f64(P1 + k)));
    }
}

/* Step 1's decisions, shared: from the vector of the rows' maxima (NaN for a row with a NaN),
 * a row whose finite max lies outside (FA_STATS_MAX_LO_F32, FA_STATS_MAX_HI_F32), where the
 * exp's reduction of x itself is no longer exact, is summed as x - M with the shift of M = 0
 * (exact for every term that is not 0, by Sterbenz: |M| >= 260 and those x lie within 89 of
 * M; the long rows' fa_stats_chunk_f32 does the same): Mb 0 and its offset Ob = M, where the
 * others have Ob = 0 (logits at +-1000, log-likelihoods of -3000 took the per-row code at
 * 2.6-4.5x the time before).  A row with a NaN, a +inf or no finite max is left to the per-row
 * code (its bit set in *left, for g < rows) and computed from M = 0, harmlessly.  Mb, Ob, and
 * K, FA_STATS_MAGIC_F32(K), FA_STATS_LOW(K) of every lane (fa_stats_shifts_f32).  Returns 1
 * when every row is left. */
FA_INLINE int fa_short_shifts_f32(fa_simd_f32 M, ptrdiff_t rows, unsigned *left, float *Mb, float *Ob, float *Kb,
                                  float *MKb, float *LOWb)
{
    const fa_simd_f32 zero = fa_set1_f32(0.0f);
    const fa_mask_f32 ok = fa_mask_and_f32(fa_cmpgt_f32(M, fa_set1_f32(FA_STATS_MAX_LO_F32)),
                                           fa_cmplt_f32(M, fa_set1_f32(FA_STATS_MAX_HI_F32)));
    const fa_mask_f32 far = fa_mask_and_f32(fa_mask_not_f32(ok), fa_cmpeq_f32(fa_sub_f32(M, M), zero));   /* finite */
    const unsigned all = rows >= 32 ? ~0u : (1u << rows) - 1u;
    *left |= ~fa_mask_bits_f32(fa_mask_or_f32(ok, far)) & all;
    fa_storeu_f32(Ob, fa_select_f32(far, M, zero));
    M = fa_select_f32(ok, M, zero);
    fa_storeu_f32(Mb, M);
    fa_stats_shifts_f32(M, Kb, MKb, LOWb);
    return *left == all;
}

/* the group's rows [0, rows) of x copied transposed into xt (n x FA_LANES_F32: entry i of
 * every row in one vector), the entries mk leaves out (mk: NULL or the rows' mask) as -inf,
 * the idle lanes 0 */
FA_INLINE void fa_short_transpose_f32(const float *x, const unsigned char *mk, float *xt, ptrdiff_t rows, ptrdiff_t n)
{
    enum { G = FA_LANES_F32 };
    for (ptrdiff_t g = 0; g < G; g++)
        for (ptrdiff_t i = 0; i < n; i++)
            xt[i * G + g] = g >= rows ? 0.0f : mk && !mk[g * n + i] ? -INFINITY : x[g * n + i];
}

/* Which logsumexp rows of the rows layout are summed unshifted (fa_short_lse_unshifted_f32), a
 * rule read from the row alone: those whose max M lies in (-(log n + 2), 0), the only ones
 * whose M + l can cancel (l <= log n), before the shifted statistics, which they then skip. */
/* rows shorter than this take the double-double pass in the group's lanes, for all the
 * group's rows (SSE2's rows of 4 .. 7); longer rows leave the few that need it to the
 * per-row code (the lanes' pass for a whole group would cost more: (2^17, 16) 4.0 -> 5.1 ms) */
#define FA_SHORT_EXACT_LANES_N 8
FA_INLINE unsigned fa_short_lse_in_range_f32(ptrdiff_t rows, unsigned left, const float *Mb, ptrdiff_t n)
{
    const float lim = (float)-(log((double)n) + 2.0);
    unsigned in = 0;
    for (ptrdiff_t g = 0; g < rows; g++)
        in |= (unsigned)(Mb[g] < 0.0f && Mb[g] > lim) << g;
    return in & ~left;
}
/* Step 1b (or 2b) for logsumexp, shared: the rows in (as above) summed unshifted, in the
 * double-pair tier (the anchored sums of e^x, fa_lse_exact.h): over the transposed block xt (n x
 * FA_LANES_F32, filled here when have_xt is 0 and n <= FA_SHORT_ROWS_MAX; the column
 * blocks' sums, one lane per row), else row by row (fa_lse_pair_sum_f32, as the per-row
 * code).  A row whose sum is below 4 is finished from it, the logs in vector lanes
 * (fa_lse_from_exact_f64): its logsumexp written and its bit set in the returned mask.
 * Where the tier's bound fails, the double-double pass of fa_lse_exact.h: for n <
 * FA_SHORT_EXACT_LANES_N over the lanes too (fa_short_exact_sums_f32), else the per-row
 * code's (the row's bit set in *left).  The others (a sum >= 4: logsumexp >= log 4, nothing cancels) take the
 * shifted statistics.  Every decision reads the row alone. */
/* the double-double pass's sums (fa_lse_exact_step, m = n terms per lane) over the lanes of
 * the transposed block xt (n x FA_LANES_F32, every lane: the idle ones hold 0s), as H + E */
FA_INLINE void fa_short_exact_sums_f32(const float *xt, ptrdiff_t n, double *H, double *E)
{
    enum { G = FA_LANES_F32, NV = FA_LANES_F32 / FA_LANES_F64 };
    const ptrdiff_t L = FA_LANES_F64;
    fa_simd_f64 sh[NV], sl[NV];
    for (int j = 0; j < NV; j++)
        sh[j] = sl[j] = fa_set1_f64(0.0);
    for (ptrdiff_t i = 0; i < n; i++)
        for (int j = 0; j < NV; j++)
            fa_lse_exact_step(fa_loadu_f32_as_f64(xt + i * G + j * L), sh[j], 0, &sh[j], &sl[j]);
    for (int j = 0; j < NV; j++) {                      /* fa_lse_exact_total of one lane */
        const fa_simd_f64 hi = fa_add_f64(sh[j], sl[j]);
        fa_storeu_f64(H + j * L, hi);
        fa_storeu_f64(E + j * L, fa_sub_f64(sl[j], fa_sub_f64(hi, sh[j])));
    }
}

FA_INLINE unsigned fa_short_lse_unshifted_f32(const float *x, const unsigned char *mk, float *xt, int have_xt,
                                              ptrdiff_t rows, ptrdiff_t n, unsigned in, unsigned *left, float *out,
                                              float *sg)
{
    enum { G = FA_LANES_F32 };
    if (!in)
        return 0;
    double H[G], E[G], v[G];
    const int by_lanes = have_xt || n <= FA_SHORT_ROWS_MAX;
    if (by_lanes) {
        if (!have_xt)
            fa_short_transpose_f32(x, mk, xt, rows, n);
        /* all G lanes (the idle ones hold 0s): a constant width keeps the sums in registers */
        fa_sm_cols_block_pair_sums_f32(xt, NULL, n, G, G, 0, H, E);
    }
    unsigned small = 0;                                 /* the rows whose sum is below 4 */
    for (ptrdiff_t g = 0; g < G; g++) {
        double hi = 1.0, lo = 0.0;                      /* a harmless lane */
        if (in & (1u << g)) {
            if (by_lanes) {
                hi = H[g] + E[g];
                lo = E[g] - (hi - H[g]);
            } else if (!fa_lse_pair_sum_f32(x + g * n, n, 1, mk ? mk + g * n : NULL, &hi, &lo, NULL)) {
                hi = 4.0;                               /* a sum >= 4: the shifted statistics */
                lo = 0.0;
            }
            small |= (unsigned)(hi + lo < 4.0) << g;
        }
        H[g] = hi;
        E[g] = lo;
    }
    const fa_simd_f64 bound = fa_set1_f64(0x1p24 * fa_lse_pair_delta(n) + fa_lse_pair_delta(n));
    unsigned valid = 0, within = 0;
    for (ptrdiff_t k = 0; k < G; k += FA_LANES_F64) {
        fa_mask_f64 ok;
        const fa_simd_f64 l = fa_lse_from_exact_f64(fa_loadu_f64(H + k), fa_loadu_f64(E + k), &ok);
        valid |= fa_mask_bits_f64(ok) << k;
        within |= fa_mask_bits_f64(fa_cmpge_f64(fa_abs_f64(l), bound)) << k;
        fa_storeu_f64(v + k, l);
    }
    unsigned done = small & valid & within;
    const unsigned exact = small & valid & ~within;     /* below the tier's bound */
    if (exact && n < FA_SHORT_EXACT_LANES_N) {       /* n < FA_SHORT_ROWS_MAX: xt filled */
        double v2[G];
        unsigned valid2 = 0;
        fa_short_exact_sums_f32(xt, n, H, E);
        for (ptrdiff_t k = 0; k < G; k += FA_LANES_F64) {
            fa_mask_f64 ok;
            fa_storeu_f64(v2 + k, fa_lse_from_exact_f64(fa_loadu_f64(H + k), fa_loadu_f64(E + k), &ok));
            valid2 |= fa_mask_bits_f64(ok) << k;
        }
        for (ptrdiff_t g = 0; g < G; g++)
            if (exact & valid2 & (1u << g))
                v[g] = v2[g];
        done |= exact & valid2;
    }
    *left |= small & ~done;
    for (ptrdiff_t g = 0; g < rows; g++)
        if (done & (1u << g)) {
            out[g] = (float)v[g];
            if (sg) sg[g] = 1.0f;
        }
    return done;
}

/* Step 3 for logsumexp, shared: the rows not done (rows outside done | *left): a row whose
 * logits gap exceeds ~41 (T < 2^-60: the terms counted 0, below 2^-126.5 of the shift, can
 * matter to l = log1p(T)) is left to the per-row code (fa_sm_tiny_l_f32); the others get
 * M + l.  Returns the left rows. */
FA_INLINE unsigned fa_short_lse_out_f32(ptrdiff_t rows, unsigned left, unsigned done, const double *V,
                                        const double *Ts, float *out, float *sg)
{
    const unsigned all = rows >= 32 ? ~0u : (1u << rows) - 1u;
    unsigned tiny = 0;
    for (ptrdiff_t k = 0; k < FA_LANES_F32; k += FA_LANES_F64)   /* in vector lanes: no branch per row */
        tiny |= fa_mask_bits_f64(fa_cmplt_f64(fa_loadu_f64(Ts + k), fa_set1_f64(0x1p-60))) << k;
    left |= tiny & ~done & all;
    for (ptrdiff_t g = 0; g < rows; g++) {
        if ((left | done) & (1u << g))
            continue;
        out[g] = (float)V[g];
        if (sg) sg[g] = 1.0f;
    }
    return left;
}

/* the last vector of a row (tail lanes: fill); the group's last row reads no further than
 * its end, the others read into the next row and blend */
FA_INLINE fa_simd_f32 fa_short_last_f32(const float *p, ptrdiff_t tail, int at_end, float fill)
{
    if (tail == FA_LANES_F32)
        return fa_loadu_f32(p);
    if (at_end)
        return fa_load_tail_f32(p, tail, fill);
    return fa_select_f32(fa_tail_mask_f32(tail), fa_loadu_f32(p), fa_set1_f32(fill));
}
/* vector k of a row r (k <= last, the last one tail lanes long), the entries its mask m (or
 * NULL) leaves out and the lanes past the tail -inf */
FA_INLINE fa_simd_f32 fa_short_load_f32(const float *r, const unsigned char *m, ptrdiff_t k, ptrdiff_t last,
                                        ptrdiff_t tail, int at_end)
{
    if (k < last)
        return m ? fa_select_f32(fa_load_mask_u8_f32(m + k), fa_loadu_f32(r + k), fa_set1_f32(-INFINITY))
                 : fa_loadu_f32(r + k);
    const fa_simd_f32 v = fa_short_last_f32(r + k, tail, at_end, -INFINITY);
    if (!m)
        return v;
    return fa_select_f32(tail == FA_LANES_F32 ? fa_load_mask_u8_f32(m + k)   /* (tail < lanes, a power of 2) */
                                              : fa_load_tail_mask_u8_f32(m + k, tail & (FA_LANES_F32 - 1)),
                         v, fa_set1_f32(-INFINITY));
}
FA_INLINE void fa_short_store_last_f32(float *p, fa_simd_f32 v, ptrdiff_t tail)
{
    if (tail == FA_LANES_F32)
        fa_storeu_f32(p, v);
    else
        fa_store_tail_f32(p, v, tail);
}

/* Rows of at least a vector (FA_LANES_F32 <= n): each row in its own NV vectors (the tail
 * masked; NV a constant where the caller knows it, 0: from n), FA_LANES_F32 rows at a time;
 * each row's max and sum reduced across its lanes by the transpose-and-reduce trees
 * (fa_hmax_rows_f32, fa_hsum_rows_f64), so that lane g of the result is row g's, for the
 * the steps above.  The terms e^(x - K ln2) are summed in float64 lanes
 * (fa_add_widened_f32_f64: exact but for 2^-53 relative per addition); softmax keeps them in
 * a scratch block (the maxima marked -1, their output 1 / (C + T)), whose rows are padded by
 * a vector (rows 4 KiB apart would alias x's), and scales them into y.  Rows [0, rows) of x
 * (rows <= FA_LANES_F32): out = their rows of y (softmax, log_softmax) or their logsumexp
 * results with signs sg (may be NULL), for the rows it finishes; returns the bit mask of the
 * rows left to the per-row code. */
FA_INLINE unsigned fa_short_group_rows_f32(const float *x, const unsigned char *mk, float *out, float *sg,
                                           ptrdiff_t rows, ptrdiff_t n, int op, ptrdiff_t NV)
{
    enum { G = FA_LANES_F32 };
    const ptrdiff_t nv = NV ? NV : (n + G - 1) / G, tail = n - (nv - 1) * G, last = (nv - 1) * G;
    const fa_simd_f32 zero = fa_set1_f32(0.0f), minus1 = fa_set1_f32(-1.0f);
    fa_simd_f32 rmax[G];
    unsigned left = 0;
    for (ptrdiff_t g = 0; g < G; g++) {                 /* 1. each row's max, NaN noted */
        const ptrdiff_t g0 = (g < rows ? g : 0) * n;
        const float *r = x + g0;
        const unsigned char *rm = mk ? mk + g0 : NULL;
        fa_simd_f32 m = fa_short_load_f32(r, rm, last, last, tail, g >= rows - 1);
        fa_mask_f32 nan = fa_cmpunord_f32(m, m);
        for (ptrdiff_t k = 0; k < last; k += G) {
            const fa_simd_f32 v = fa_short_load_f32(r, rm, k, last, tail, 0);
            nan = fa_mask_or_f32(nan, fa_cmpunord_f32(v, v));
            m = fa_max_f32(v, m);
        }
        rmax[g] = fa_mask_any_f32(nan) ? fa_set1_f32(NAN) : m;   /* NaN through the tree */
    }
    float Mb[16], Ob[16], Kb[16], MKb[16], LOWb[16], Cb[16], P1[16], P2[16], Q[16];
    double Tsum[16], V[16], Ts[16];
    if (fa_short_shifts_f32(fa_hmax_rows_f32(rmax), rows, &left, Mb, Ob, Kb, MKb, LOWb))
        return left;
    unsigned done = 0;                                  /* logsumexp rows finished unshifted */
    if (op == FA_SM_OP_LSE) {
        float xt[FA_SHORT_ROWS_MAX * G] __attribute__((aligned(64)));
        done = fa_short_lse_unshifted_f32(x, mk, xt, 0, rows, n, fa_short_lse_in_range_f32(rows, left, Mb, n), &left,
                                          out, sg);
        if ((left | done) == (rows >= 32 ? ~0u : (1u << rows) - 1u))
            return left;
    }
    float et[G * (FA_SHORT_ROWS_SOFTMAX_MAX + 2 * G)] __attribute__((aligned(64)));   /* softmax's terms, a padded row each */
    fa_simd_f64 acc[G];
    for (ptrdiff_t g = 0; g < G; g++) {                 /* 2. each row's sum and count */
        fa_simd_f64 a = fa_set1_f64(0.0);
        int c = 0;
        if (g < rows && !((left | done) & (1u << g))) {
            const float *r = x + g * n;
            const unsigned char *rm = mk ? mk + g * n : NULL;
            const fa_simd_f32 M = fa_set1_f32(Mb[g]), magic_k = fa_set1_f32(MKb[g]), lo = fa_set1_f32(LOWb[g]);
            const fa_simd_f32 O = fa_set1_f32(Ob[g]);
            const int far = Ob[g] != 0.0f;
            for (ptrdiff_t k = 0; k <= last; k += G) {
                fa_simd_f32 v = fa_short_load_f32(r, rm, k, last, tail, g == rows - 1);
                if (far)
                    v = fa_sub_f32(v, O);               /* x - M: exact where the term is not 0 */
                const fa_simd_f32 e = fa_stats_term_f32(v, magic_k, lo);
                const fa_mask_f32 top = fa_cmpeq_f32(v, M);
                c += fa_mask_count_f32(top);
                a = fa_add_widened_f32_f64(a, fa_select_f32(top, zero, e));
                if (op == FA_SM_OP_SOFTMAX)
                    fa_storeu_f32(et + g * (nv + 1) * G + k, fa_select_f32(top, minus1, e));
            }
        }
        acc[g] = a;
        Cb[g] = (float)c;
    }
    for (ptrdiff_t k = 0; k < G; k += FA_LANES_F64)
        fa_storeu_f64(Tsum + k, fa_hsum_rows_f64(acc + k));
    fa_short_finish_f32(Mb, Ob, Kb, Cb, Tsum, op, P1, P2, Q, V, Ts);
    if (op == FA_SM_OP_LSE)
        return fa_short_lse_out_f32(rows, left, done, V, Ts, out, sg);
    for (ptrdiff_t g = 0; g < rows; g++) {              /* 3. the outputs */
        if (left & (1u << g))
            continue;
        if (op == FA_SM_OP_LOG_SOFTMAX && Ts[g] < 0x1p-60) {   /* see fa_short_lse_out_f32 */
            left |= 1u << g;
            continue;
        }
        const fa_simd_f32 p1 = fa_set1_f32(P1[g]);          /* log_softmax: l */
        float *yr = out + g * n;
        if (op == FA_SM_OP_SOFTMAX) {
            const fa_simd_f32 q = fa_set1_f32(Q[g]);
            const fa_simd_f32 p1u = fa_set1_f32(P1[g] * FA_SCALE_PAIR_UP), p2u = fa_set1_f32(P2[g] * FA_SCALE_PAIR_UP);
            for (ptrdiff_t k = 0; k <= last; k += G) {   /* (results below 2^-126 with no subnormal
                                                             intermediate: fa_scale_pair_f32) */
                const fa_simd_f32 e = fa_loadu_f32(et + g * (nv + 1) * G + k);
                const fa_simd_f32 o = fa_select_f32(fa_cmplt_f32(e, zero), q, fa_scale_pair_f32(e, p1u, p2u));
                if (k < last)
                    fa_storeu_f32(yr + k, o);
                else
                    fa_short_store_last_f32(yr + k, o, tail);
            }
        } else {
            const float *r = x + g * n;
            const unsigned char *rm = mk ? mk + g * n : NULL;
            const fa_simd_f32 M = fa_set1_f32(Mb[g] + Ob[g]);     /* (one of them is 0) */
            for (ptrdiff_t k = 0; k <= last; k += G) {
                const fa_simd_f32 v = fa_short_load_f32(r, rm, k, last, tail, 1);
                const fa_simd_f32 o = fa_sub_f32(fa_sub_f32(v, M), p1);
                if (k < last)
                    fa_storeu_f32(yr + k, o);
                else
                    fa_short_store_last_f32(yr + k, o, tail);
            }
        }
    }
    return left;
}

/* float32 rows of a vector or longer (FA_LANES_F32 <= n), FA_LANES_F32 at a time */
static unsigned fa_short_group_layout_f32(const float *x, const unsigned char *mk, float *out, float *sg,
                                          ptrdiff_t rows, ptrdiff_t n, int op)
{
    /* unmasked rows of up to 8 vectors: the vector count and the absent mask constants */
    switch (mk ? 0 : (n + FA_LANES_F32 - 1) / FA_LANES_F32) {
    case 1: return fa_short_group_rows_f32(x, NULL, out, sg, rows, n, op, 1);
    case 2: return fa_short_group_rows_f32(x, NULL, out, sg, rows, n, op, 2);
    case 3: return fa_short_group_rows_f32(x, NULL, out, sg, rows, n, op, 3);
    case 4: return fa_short_group_rows_f32(x, NULL, out, sg, rows, n, op, 4);
    case 5: return fa_short_group_rows_f32(x, NULL, out, sg, rows, n, op, 5);
    case 6: return fa_short_group_rows_f32(x, NULL, out, sg, rows, n, op, 6);
    case 7: return fa_short_group_rows_f32(x, NULL, out, sg, rows, n, op, 7);
    case 8: return fa_short_group_rows_f32(x, NULL, out, sg, rows, n, op, 8);
    default: return fa_short_group_rows_f32(x, mk, out, sg, rows, n, op, 0);
    }
}

/* float32 rows [0, rows) (rows <= FA_SHORT_CLOSED_G): rows of a few entries in closed form
 * (fa_short_closed.h), longer ones FA_LANES_F32 at a time */
static unsigned fa_short_group_f32(const float *x, const unsigned char *mk, float *out, float *sg, ptrdiff_t rows,
                                   ptrdiff_t n, int op, fa_short_deep *q)
{
    if (n <= FA_SHORT_CLOSED_MAX)
        return fa_short_group_closed_f32(x, mk, out, sg, rows, n, op, q);
    unsigned left = 0;
    for (ptrdiff_t g = 0; g < rows; g += FA_LANES_F32) {
        const ptrdiff_t r = rows - g < FA_LANES_F32 ? rows - g : FA_LANES_F32;
        left |= fa_short_group_layout_f32(x + g * n, mk ? mk + g * n : NULL, op == FA_SM_OP_LSE ? out + g : out + g * n,
                                          sg ? sg + g : NULL, r, n, op) << g;
    }
    return left;
}

/*
 * float64 rows of at most FA_SHORT_ROWS_MAX entries (no weights; a where= mask read as -inf
 * entries), FA_SM_BLOCK rows at a time: copied transposed into a scratch block whose columns are the rows, and computed by
 * the float64 column blocks (fa_columns_f64.h) with LANEWISE set, so that every row's result
 * reads that row alone (the clamp mode throughout, no block-wide unshifted logsumexp).  Rows
 * with a NaN, a +inf, no finite entry or a max beyond 2^16 are left to the per-row code (the
 * returned mask; their lanes get zeros), so the block is never declined.
 * 2^21 float64 entries, AVX-512, ms, per-row code -> this (limits FA_SHORT_ROWS_LIMIT64, from
 * where the per-row code was faster again, e.g. softmax of n = 32 4.3 -> 6.0):
 *   n = 2:  softmax 56.9 -> 7.7, log_softmax 96.8 -> 12.3, logsumexp 106.6 -> 23.4
 *   n = 16: 7.7 -> 5.4-5.9, 14.2 -> 5.7-6.1, 14.4 -> 4.5-5.8 (load ~1, noisy).
 */
/* float64 logsumexp rows of the group (the bits in) whose max lies in (-(log n + 2), 0), the
 * only ones whose M + l can cancel: their unshifted sums by the double-double pass of
 * fa_lse_exact.h in the transposed block's lanes (fa_sm64_cols_exact, one row per lane, m = n
 * terms), each finished by fa_lse_from_exact where its sum is below 4 (those rows skip the
 * column body's shifted pass, which would take the same pass after it for a cancelling
 * lane); returns the rows done, their results written.  A rule read from the row alone. */
/* float64 rows shorter than this keep the column body alone (its cancelling lanes take the
 * same double-double pass after the shifted one): for them the unshifted pass would cost more
 * than it saves ((2^19, 4) N(0, 3) 12.2 -> 17.1 ms); at n = 8 normalised rows go 10.9 -> 7.2
 * ms (torch 8.8) and N(0, 3) rows 6.2 -> 6.8 */
#define FA_SHORT_UNSHIFTED_N64 8
FA_INLINE unsigned fa_short_lse_unshifted_f64(const double *xt, ptrdiff_t rows, ptrdiff_t n, unsigned in, double *out,
                                              double *sg)
{
    enum { G = FA_SM_BLOCK };
    if (!in)
        return 0;
    ptrdiff_t wv[FA_SM_COLS];                           /* whole vectors: the block is full */
    for (int j = 0; j < FA_SM_COLS; j++)
        wv[j] = FA_LANES_F64;
    double H[G], E[G];
    fa_sm64_cols_exact(xt, NULL, n, G, wv, FA_SM_COLS, 1, 0, H, E);   /* the column blocks' sums */
    unsigned done = 0;
    for (ptrdiff_t g = 0; g < rows; g++) {
        double v, sign, hi = H[g] + E[g], lo = E[g] - (hi - H[g]);   /* fa_lse_exact_total of one lane */
        if ((in & (1u << g)) && hi + lo < 4.0 && fa_lse_from_exact(hi, lo, &v, &sign)) {
            out[g] = v;
            if (sg) sg[g] = sign;
            done |= 1u << g;
        }
    }
    return done;
}

static unsigned fa_short_group_f64(const double *x, const unsigned char *mk, double *out, double *sg, ptrdiff_t rows,
                                   ptrdiff_t n, int op, fa_short_deep *q)
{
    if (n == 2)                         /* in closed form (fa_short_closed.h) */
        return fa_short_group_pairs_f64(x, mk, out, sg, rows, op, q);
    if (n <= FA_SHORT_CLOSED_MAX64)
        return fa_short_group_closed_f64(x, mk, out, sg, rows, n, op, q);
    enum { G = FA_SM_BLOCK };
    double xt[FA_SHORT_ROWS_MAX * G] __attribute__((aligned(64)));
    double yt[FA_SHORT_ROWS_MAX * G] __attribute__((aligned(64)));
    double lt[G], st[G];
    const double lim = -(log((double)n) + 2.0);
    unsigned left = 0, in = 0;
    for (ptrdiff_t g = 0; g < G; g++) {
        int use = g < rows;
        if (use) {
            double m = -INFINITY;
            int bad = 0;
            for (ptrdiff_t i = 0; i < n; i++) {
                const double v = mk && !mk[g * n + i] ? -INFINITY : x[g * n + i];   /* left out: -inf */
                bad |= v != v || v == INFINITY;
                m = v > m ? v : m;
            }
            if (bad || !(fabs(m) < FA_SM64_DIRECT_LIMIT)) {
                left |= 1u << g;
                use = 0;
            }
            in |= (unsigned)(use && m < 0.0 && m > lim) << g;
        }
        for (ptrdiff_t i = 0; i < n; i++)
            xt[i * G + g] = !use ? 0.0 : mk && !mk[g * n + i] ? -INFINITY : x[g * n + i];
    }
    const unsigned all = rows >= 32 ? ~0u : (1u << rows) - 1u;
    const unsigned done = op == FA_SM_OP_LSE && n >= FA_SHORT_UNSHIFTED_N64 ? fa_short_lse_unshifted_f64(xt, rows, n, in, out, sg) : 0;
    if ((left | done) == all)
        return left;
    if (op == FA_SM_OP_SOFTMAX)
        fa_sm64_cols_block_body(xt, NULL, yt, lt, st, n, G, G, NULL, FA_SM_OP_SOFTMAX, 1, 0, 1, FA_COLS_PF_NEXT | FA_COLS_PF_NEXT2);
    else if (op == FA_SM_OP_LOG_SOFTMAX)
        fa_sm64_cols_block_body(xt, NULL, yt, lt, st, n, G, G, NULL, FA_SM_OP_LOG_SOFTMAX, 1, 0, 1, FA_COLS_PF_NEXT | FA_COLS_PF_NEXT2);
    else
        fa_sm64_cols_block_body(xt, NULL, yt, lt, st, n, G, G, NULL, FA_SM_OP_LSE, 1, 0, 1, FA_COLS_PF_NEXT | FA_COLS_PF_NEXT2);
    for (ptrdiff_t g = 0; g < rows; g++) {
        if ((left | done) & (1u << g))
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
