/*
 * reductions/fa_columns_f32.h -- float32 columns (inner > 1) without weights, with or without
 * a where= mask: a block of FA_SM_BLOCK32 columns at a time (FA_SM_COLS vectors of
 * FA_LANES_F32 columns, one float32 lane per column), each column read whole (no chunks),
 * finished in float64 lanes once per block.  fa_sm_cols_fast_f32 walks the blocks (op:
 * FA_SM_OP_*; logsumexp: y gets outer*inner results, sg the signs or NULL); a block that
 * fa_sm_cols_block_abs_f32 declines takes the generic columns of fa_columns.h.
 *
 * Design.  One block of columns [j, j + width) of an (n, inner) float32 slab, the block's
 * reads in L1/L2 (the exp passes prefetch the lines of x, y and the mask two blocks ahead:
 * the rows are inner apart, too far for the hardware prefetchers).  Per column, in float64
 * lanes once per block:
 *   softmax: one read gives M and traw = the Kahan sum of e^x itself (no x - M), and
 *     y = e^x / traw (= e^(x - M)/S); valid while M in [-80, 64] and traw in [2^-100, inf)
 *     (no NaN, +inf or all -inf column); a block after a shifted one reads the max alone
 *     first (the hint in fa_sm_cols_carry_f32; the same sums, the same bits);
 *   log_softmax, logsumexp (and softmax blocks beyond that range): a read for M, a read for
 *     T = the Kahan sum of the terms over the entries below M and C = the count of entries
 *     equal to M.  The terms: with every M in (-260, 340) the rows' e^(x - K ln2) (K per
 *     column, fa_stats_term_f32; T times e^(K ln2 - M) in the finishing: (1024, 1024)
 *     logsumexp 0.51 -> 0.39 ms, log_softmax 0.58 -> 0.51 ms), else e^(x - M) with x - M a
 *     two-sum (lanes have different maxima: fa_sm_diff_f32).  The per-lane sums are
 *     compensated (Kahan) over the whole column, so T keeps ~float32 relative accuracy for
 *     any n.  l = log1p(T + C - 1) keeps its relative accuracy however small (a dominant
 *     entry, as the rows); valid while M and T are finite.  logsumexp columns whose M + l
 *     cancels (M < 0, |M + l| < 1) are finished by the exact tiers; logsumexp blocks whose
 *     maxima all lie in (-(log n + 2), 0) skip the shifted pass: the exact tiers alone
 *     (fa_sm_cols_block_lse_unshifted_f32; normalised columns (1024, 1024) 1.44 -> 0.99 ms).
 *     log_softmax's output is written inside the next block's sum pass.
 *   softmax blocks summed with those terms store them into y on the way and scale y in place
 *     after (no third read: N(0,3)+100 columns (64, 50257) 2.7 -> 1.9 ms); other softmax
 *     outputs are e^r (p1 + p2) 2^n with e^r never rounded alone (fa_sm_expf_times_pair).
 * Measured max ULP (tests/test_reductions.py's row kinds as 131 columns of 2 .. 1500, every
 * variant): softmax 2.85, log_softmax 1.69, logsumexp 1.24.
 * Otherwise (a column with a NaN, a +inf, no finite max (all -inf or left out), or T not
 * finite) fa_sm_cols_block_abs_f32 returns 0 having written nothing of the block, and the
 * block takes the exact-difference path (fa_columns.h: special columns per docs/SPEC.md).
 * full: width == FA_SM_BLOCK32 (the loops unrolled, in registers).
 */
#ifndef FA_COLUMNS_F32_H
#define FA_COLUMNS_F32_H

/* ---- float32 lanes of the column blocks ---- */
/* d + e = x - m exactly in float32 lanes (a two-sum of x and negm = -m: the column blocks'
 * lanes have different maxima), d clamped at -110 and e zeroed there (inf - inf; e^-110 is 0
 * in float32). */
FA_INLINE fa_simd_f32 fa_sm_diff_f32(fa_simd_f32 x, fa_simd_f32 negm, fa_simd_f32 *e)
{
    fa_simd_f32 err, d = fa_two_sum_f32(x, negm, &err);
    *e = fa_select_f32(fa_cmplt_f32(d, fa_set1_f32(-110.0f)), fa_set1_f32(0.0f), err);
    return fa_max_f32(fa_set1_f32(-110.0f), d);
}

/* float32 column blocks (fa_sm_cols_block_abs_f32, fa_sm_cols_fast_f32): softmax
 * takes the sum of e^x itself where it is >= FA_SM_ABS_TMIN and finite and M in
 * [FA_SM_ABS_OUT_LO, FA_SM_ABS_OUT_HI] (e^x <= 2^92.4; e^-M/S a normal float32); other blocks
 * are summed again shifted, as the logs are. */
#define FA_SM_ABS_TMIN 0x1p-100
#define FA_SM_ABS_OUT_LO (-80.0)
#define FA_SM_ABS_OUT_HI 64.0

/* the entries of a column vector that are in (where= true, inside the block): *in; x itself
 * (left-out lanes are whatever the caller fills them with) */
FA_INLINE fa_simd_f32 fa_sm_col_ldm_f32(const float *p, const unsigned char *m, ptrdiff_t w, int full,
                                        int HAS_MASK, float fill, fa_mask_f32 *in)
{
    const int whole = full || w >= FA_LANES_F32;
    fa_simd_f32 x = whole ? fa_loadu_f32(p) : fa_load_tail_f32(p, w, fill);
    if (HAS_MASK) {
        *in = whole ? fa_load_mask_u8_f32(m) : fa_load_tail_mask_u8_f32(m, w);
        x = fa_select_f32(*in, x, fa_set1_f32(fill));
    }
    return x;
}

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

/* softmax output of a block summed shifted: y = e^(x - M) (p1 + p2), x - M a two-sum, the
 * power of two applied last (one rounding where y is subnormal) */
FA_INLINE void fa_sm_cols_block_shifted_out_f32(const float *xs, const unsigned char *mk, float *ys,
                                                ptrdiff_t n, ptrdiff_t inner, const float *Mo,
                                                const float *P1, const float *P2, const ptrdiff_t *wv,
                                                int nv, int full, int HAS_MASK)
{
    const ptrdiff_t L = FA_LANES_F32;
    fa_simd_f32 nM[FA_SM_COLS], p1[FA_SM_COLS], p2[FA_SM_COLS];
    for (int v = 0; v < FA_SM_COLS; v++) {
        nM[v] = fa_neg_f32(fa_loadu_f32(Mo + v * L));
        p1[v] = fa_loadu_f32(P1 + v * L);
        p2[v] = fa_loadu_f32(P2 + v * L);
    }
    for (ptrdiff_t r = 0; r < n; r++)
        for (int v = 0; v < nv; v++) {
            const ptrdiff_t at = r * inner + v * L;
            fa_mask_f32 in;
            fa_simd_f32 xv = fa_sm_col_ldm_f32(xs + at, HAS_MASK ? mk + at : NULL, wv[v], full, HAS_MASK, -INFINITY, &in), e, nn;
            fa_simd_f32 d = fa_sm_diff_f32(xv, nM[v], &e);
            fa_simd_f32 red = fa_add_f32(fa_sm_expf_reduce(d, &nn), e);
            fa_simd_f32 out = fa_ldexp_neg_f32(fa_sm_expf_times_pair(red, p1[v], p2[v]), nn);
            if (HAS_MASK)
                out = fa_select_f32(in, out, fa_set1_f32(0.0f));
            if (full || wv[v] >= L) fa_storeu_f32(ys + at, out); else fa_store_tail_f32(ys + at, out, wv[v]);
        }
}

/* what one float32 column block passes to the next: softmax's hint (the block was summed
 * shifted), and a whole block's log_softmax output y = (x - M) - l still to write, written
 * row by row inside the next block's shifted pass (the stores overlap its exps, as the
 * float64 blocks and the rows do) or on its own (fa_sm_cols_flush_f32) */
typedef struct fa_sm_cols_carry_f32 {
    int hint, pending;
    int pf;             /* FA_COLS_PF_NEXT / _NEXT2: the blocks this one may prefetch (fa_cols_prefetch_bits) */
    const float *x;
    const unsigned char *mk;
    float *y;
    fa_simd_f32 M[FA_SM_COLS], l[FA_SM_COLS];
} fa_sm_cols_carry_f32;

/* row r of the pending block (at = r inner); -inf where left out */
FA_INLINE void fa_sm_cols_pending_row_f32(const fa_sm_cols_carry_f32 *cy, ptrdiff_t at, int HAS_MASK)
{
    for (int v = 0; v < FA_SM_COLS; v++) {
        const ptrdiff_t a = at + v * FA_LANES_F32;
        fa_simd_f32 out = fa_sub_f32(fa_sub_f32(fa_loadu_f32(cy->x + a), cy->M[v]), cy->l[v]);
        if (HAS_MASK)
            out = fa_select_f32(fa_load_mask_u8_f32(cy->mk + a), out, fa_set1_f32(-INFINITY));
        fa_storeu_f32(cy->y + a, out);
    }
}

static void fa_sm_cols_flush_f32(fa_sm_cols_carry_f32 *cy, ptrdiff_t n, ptrdiff_t inner)
{
    if (!cy->pending)
        return;
    for (ptrdiff_t r = 0; r < n; r++)
        fa_sm_cols_pending_row_f32(cy, r * inner, cy->mk != NULL);
    cy->pending = 0;
}

FA_INLINE int fa_sm_cols_block_abs_body_f32(const float *xs, const unsigned char *mk, float *ys,
                                            float *lse_out, float *sg, ptrdiff_t n, ptrdiff_t inner,
                                            ptrdiff_t width, fa_sm_cols_carry_f32 *cy, int op, int full, int HAS_MASK)
{
    const ptrdiff_t L = FA_LANES_F32, L64 = FA_LANES_F64;
    const int nv = full ? FA_SM_COLS : (int)((width + L - 1) / L);
    /* softmax: the block before was summed shifted (cy->hint): its neighbour likely is too,
     * so the first read takes the max alone, and the e^x sum is read only where the maxima
     * allow it (the same sum, the same bits: the hint changes the speed only) */
    const int predicted = op == FA_SM_OP_SOFTMAX && cy->hint;
    const int abs_sum = op == FA_SM_OP_SOFTMAX && !predicted;
    const fa_simd_f32 zero = fa_set1_f32(0.0f), one = fa_set1_f32(1.0f);
    fa_simd_f32 mx[FA_SM_COLS], t[FA_SM_COLS], tc[FA_SM_COLS], c[FA_SM_COLS];
    fa_mask_f32 nan = fa_cmpneq_f32(zero, zero);     /* softmax: a NaN among the entries in */
    ptrdiff_t wv[FA_SM_COLS];
    for (int v = 0; v < FA_SM_COLS; v++) {
        wv[v] = full ? L : width - v * L > L ? L : width - v * L;
        mx[v] = fa_set1_f32(-INFINITY); t[v] = zero; tc[v] = zero; c[v] = zero;
    }
    for (ptrdiff_t r = 0; r < n; r++)
        for (int v = 0; v < nv; v++) {
            const float *p = xs + r * inner + v * L;
            if (full && abs_sum && (cy->pf & FA_COLS_PF_NEXT2)) {   /* this row's entries two blocks ahead, into L2 */
                __builtin_prefetch(p + 2 * FA_SM_BLOCK32, 0, 2);
                if (op == FA_SM_OP_SOFTMAX) /* and the lines of y to be written */
                    __builtin_prefetch(ys + (p - xs) + 2 * FA_SM_BLOCK32, 1, 2);
                if (HAS_MASK && v == 0)     /* and the mask's (one line: 64 bytes) */
                    __builtin_prefetch(mk + (p - xs) + 2 * FA_SM_BLOCK32, 0, 2);
            }
            fa_mask_f32 in;
            fa_simd_f32 xv = fa_sm_col_ldm_f32(p, NULL, wv[v], full, 0, 0.0f, &in);
            if (HAS_MASK) {                             /* left out: -inf for the max, 0 in the sum */
                in = full || wv[v] >= L ? fa_load_mask_u8_f32(mk + (p - xs))
                                        : fa_load_tail_mask_u8_f32(mk + (p - xs), wv[v]);
                const fa_simd_f32 xi = fa_select_f32(in, xv, fa_set1_f32(-INFINITY));
                mx[v] = fa_max_f32(xi, mx[v]);
                if (op == FA_SM_OP_SOFTMAX)
                    nan = fa_mask_or_f32(nan, fa_cmpunord_f32(xi, xi));
                if (abs_sum)
                    fa_kahan_add_f32(&t[v], &tc[v], fa_select_f32(in, fa_sm_expf_scaled(xv), zero));
                continue;
            }
            mx[v] = fa_max_f32(xv, mx[v]);
            if (op == FA_SM_OP_SOFTMAX)
                nan = fa_mask_or_f32(nan, fa_cmpunord_f32(xv, xv));
            if (abs_sum)
                fa_kahan_add_f32(&t[v], &tc[v], fa_sm_expf_scaled(xv));
        }
    int shifted = op != FA_SM_OP_SOFTMAX;
    if (predicted) {
        fa_mask_f32 out = fa_cmpneq_f32(zero, zero);
        for (int v = 0; v < nv; v++)
            out = fa_mask_or_f32(out, fa_mask_not_f32(fa_mask_and_f32(
                fa_cmple_f32(mx[v], fa_set1_f32((float)FA_SM_ABS_OUT_HI)),
                fa_cmpge_f32(mx[v], fa_set1_f32((float)FA_SM_ABS_OUT_LO)))));
        shifted = fa_mask_any_f32(out);
        for (ptrdiff_t r = 0; r < n && !shifted; r++)     /* the e^x sum of the first read */
            for (int v = 0; v < nv; v++) {
                fa_mask_f32 in;
                const float *p = xs + r * inner + v * L;
                fa_simd_f32 xv = fa_sm_col_ldm_f32(p, NULL, wv[v], full, 0, 0.0f, &in);
                if (HAS_MASK) {
                    in = full || wv[v] >= L ? fa_load_mask_u8_f32(mk + (p - xs))
                                            : fa_load_tail_mask_u8_f32(mk + (p - xs), wv[v]);
                    xv = fa_select_f32(in, fa_sm_expf_scaled(xv), zero);
                } else {
                    xv = fa_sm_expf_scaled(xv);
                }
                fa_kahan_add_f32(&t[v], &tc[v], xv);
            }
    }
    if (op == FA_SM_OP_LSE) {
        float Mb[FA_SM_BLOCK32];
        for (int v = 0; v < FA_SM_COLS; v++)
            fa_storeu_f32(Mb + v * L, v < nv ? mx[v] : zero);
        if (fa_sm_cols_block_lse_unshifted_f32(xs, mk, lse_out, sg, n, inner, width, Mb, HAS_MASK))
            return 1;
    }
    /* softmax: the sum of e^x serves where every column has M in [-80, 64] and traw in
     * [2^-100, inf); otherwise the block is summed again shifted, as for the logs */
    if (!shifted) {
        fa_mask_f32 bad = fa_cmpneq_f32(zero, zero);
        for (int v = 0; v < nv; v++) {
            const fa_simd_f32 tr = fa_sub_f32(t[v], tc[v]);
            fa_mask_f32 ok = fa_mask_and_f32(fa_cmpge_f32(tr, fa_set1_f32((float)FA_SM_ABS_TMIN)),
                                             fa_cmplt_f32(tr, fa_set1_f32(INFINITY)));
            ok = fa_mask_and_f32(ok, fa_mask_and_f32(fa_cmple_f32(mx[v], fa_set1_f32((float)FA_SM_ABS_OUT_HI)),
                                                     fa_cmpge_f32(mx[v], fa_set1_f32((float)FA_SM_ABS_OUT_LO))));
            bad = fa_mask_or_f32(bad, fa_mask_not_f32(ok));
        }
        if (fa_mask_any_f32(bad)) {
            shifted = 1;
            for (int v = 0; v < FA_SM_COLS; v++) {
                t[v] = zero; tc[v] = zero;
            }
        }
    }
    cy->hint = shifted;
    /* the shifted sums.  Every column's max finite (kpath): the rows' terms e^(x - K ln2),
     * K = round(M log2e) - 1 per column, the shift folded into the exp's magic constant
     * (fa_stats_term_f32: no x - M formed, a cheaper exp), T brought to e^M in the float64
     * finishing below.  A column whose max lies outside (FA_STATS_MAX_LO_F32,
     * FA_STATS_MAX_HI_F32), where the reduction of x itself is no longer exact, takes x - M
     * (Ob = M; exact where the term is not 0, by Sterbenz, as fa_stats_chunk_f32) with the shift
     * of M = 0, where such a block took the two-sum and the full exp ((1024, 1024) N(0, 3)
     * + 1000 columns: logsumexp 1.8 -> 1.2-1.7 ms, log_softmax 2.1 -> 1.95; softmax, bound by
     * its passes over the block, within noise).  Else (a column with no finite
     * entry) x - M as a two-sum and the full exp (declined further down where M or T is not
     * finite). */
    int kpath = 0, store = 0, anyfar = 0;
    float Kb[FA_SM_BLOCK32], Ob[FA_SM_BLOCK32];
    if (shifted) {
        const int pending = op == FA_SM_OP_LOG_SOFTMAX && cy->pending;
        float Mb[FA_SM_BLOCK32], MKb[FA_SM_BLOCK32], LOWb[FA_SM_BLOCK32];
        for (int v = 0; v < FA_SM_COLS; v++)
            fa_storeu_f32(Mb + v * L, v < nv ? mx[v] : zero);
        kpath = 1;
        for (ptrdiff_t k = 0; k < nv * L; k++) {
            const float m = k < width ? Mb[k] : 0.0f;
            const int in_range = m > FA_STATS_MAX_LO_F32 && m < FA_STATS_MAX_HI_F32, far = !in_range && m - m == 0.0f;
            kpath &= in_range || far;
            anyfar |= far;
            Ob[k] = far ? m : 0.0f;
            Kb[k] = in_range ? rintf(m * FA_LOG2E_F32) - 1.0f : -1.0f;
            MKb[k] = FA_STATS_MAGIC_F32(Kb[k]);
            LOWb[k] = FA_STATS_LOW(Kb[k]);
        }
        /* softmax with the rows' terms: each stored into y while summing, y scaled in place
         * afterwards (no third read, no second exp); only without NaN, whose block is
         * declined below, after y would have been written (y may be x) */
        store = op == FA_SM_OP_SOFTMAX && kpath && !fa_mask_any_f32(nan);
        fa_simd_f32 nM[FA_SM_COLS], magic_k[FA_SM_COLS], low[FA_SM_COLS], nO[FA_SM_COLS], Mr[FA_SM_COLS];
        for (int v = 0; v < FA_SM_COLS; v++) {
            nM[v] = fa_neg_f32(fa_select_f32(fa_cmpeq_f32(mx[v], fa_set1_f32(-INFINITY)), zero, mx[v]));
            nO[v] = fa_neg_f32(v < nv ? fa_loadu_f32(Ob + v * L) : zero);
            Mr[v] = fa_add_f32(mx[v], nO[v]);     /* the max as the terms see it: 0 where far (exact) */
            magic_k[v] = v < nv ? fa_loadu_f32(MKb + v * L) : zero;
            low[v] = v < nv ? fa_loadu_f32(LOWb + v * L) : zero;
        }
        for (ptrdiff_t r = 0; r < n; r++)
            for (int v = 0; v < nv; v++) {
                const ptrdiff_t at = r * inner + v * L;
                if (full && op != FA_SM_OP_SOFTMAX && (cy->pf & FA_COLS_PF_NEXT2)) {   /* as above, spread over the exps */
                    __builtin_prefetch(xs + at + 2 * FA_SM_BLOCK32, 0, 2);
                    if (op == FA_SM_OP_LOG_SOFTMAX)
                        __builtin_prefetch(ys + at + 2 * FA_SM_BLOCK32, 1, 2);
                    if (HAS_MASK && v == 0)
                        __builtin_prefetch(mk + at + 2 * FA_SM_BLOCK32, 0, 2);
                }
                fa_mask_f32 in, top;
                fa_simd_f32 xv = fa_sm_col_ldm_f32(xs + at, HAS_MASK ? mk + at : NULL, wv[v], full, HAS_MASK, -INFINITY, &in), e;
                if (kpath) {
                    if (anyfar)
                        xv = fa_add_f32(xv, nO[v]);      /* x - M where far, x + 0 = x elsewhere */
                    top = fa_cmpeq_f32(xv, Mr[v]);
                    e = fa_stats_term_f32(xv, magic_k[v], low[v]);
                    if (store) {        /* left out: x = -inf, a term of 0; the maxima marked -1 */
                        const fa_simd_f32 st = fa_select_f32(top, fa_set1_f32(-1.0f), e);
                        if (full) {
                            if (cy->pf & FA_COLS_PF_NEXT2)
                                __builtin_prefetch(ys + at + 2 * FA_SM_BLOCK32, 1, 2);
                            fa_storeu_f32(ys + at, st);
                        } else if (wv[v] >= L) {
                            fa_storeu_f32(ys + at, st);
                        } else {
                            fa_store_tail_f32(ys + at, st, wv[v]);
                        }
                    }
                } else {
                    fa_simd_f32 d = fa_sm_diff_f32(xv, nM[v], &e);
                    top = fa_cmpeq_f32(d, zero);
                    e = fa_sm_expf_full(d, e);
                }
                fa_kahan_add_f32(&t[v], &tc[v], fa_select_f32(top, zero, e));
                c[v] = fa_mask_add_f32(top, c[v], one);
                if (pending && v == nv - 1)
                    fa_sm_cols_pending_row_f32(cy, r * inner, HAS_MASK);
            }
        if (pending)
            cy->pending = 0;
    }
    /* the column constants, once per block in float64 lanes; lanes past the block get
     * harmless values (M = 0, traw = T = 16, C = 1) */
    float Mo[FA_SM_BLOCK32], To[FA_SM_BLOCK32], Co[FA_SM_BLOCK32], P1[FA_SM_BLOCK32], P2[FA_SM_BLOCK32];
    float Q[FA_SM_BLOCK32];           /* stored softmax terms: 1/(C + T), the maxima's output */
    for (int v = 0; v < FA_SM_COLS; v++) {
        fa_storeu_f32(Mo + v * L, v < nv ? mx[v] : zero);
        fa_storeu_f32(To + v * L, v < nv ? fa_sub_f32(t[v], tc[v]) : fa_set1_f32(16.0f));
        fa_storeu_f32(Co + v * L, v < nv ? c[v] : one);
    }
    for (ptrdiff_t k = width; k < nv * L; k++) {
        Mo[k] = 0.0f;
        To[k] = 16.0f;
        Co[k] = 1.0f;
    }
    int cancel = 0, tiny = 0;
    double Td[FA_SM_BLOCK32];         /* T relative to e^M (kpath: the sum times e^(K ln2 - M)) */
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
        if (op == FA_SM_OP_SOFTMAX && !shifted) {     /* checked above */
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
            tiny |= fa_mask_any_f64(fa_cmplt_f64(f, fa_set1_f64(0x1p-80)));
            fa_storeu_f64(Lo + k, f);
            if (op == FA_SM_OP_LSE) {
                f = fa_add_f64(M, f);
                cancel |= fa_mask_any_f64(fa_mask_and_f64(fa_cmplt_f64(M, fa_set1_f64(0.0)),
                                                          fa_cmplt_f64(fa_abs_f64(f), fa_set1_f64(1.0))));
            }
        }
        if (fa_mask_any_f64(fa_mask_not_f64(ok)))
            return 0;
        fa_storeu_f64_as_f32(P1 + k, f);
        fa_storeu_f64_as_f32(P2 + k, fa_sub_f64(f, fa_loadu_f32_as_f64(P1 + k)));
    }
    /* a column with one dominant entry and l = log1p(T) below 2^-80 (a logit gap above ~55):
     * the terms counted 0 (below 2^-127.5 of the shift) can be many ULPs of l, the max
     * entry's log_softmax -l and the logsumexp of a max near 0 (N(0, 3) columns with one entry
     * 80 above: 0.6% off before); such a column gets T again, exactly enough, as the rows do
     * (fa_sm_tiny_l_strided_f32: libm's exp in double, one column at a time: rare) */
    for (ptrdiff_t k = 0; tiny && k < width; k++) {
        const double l = fa_sm_tiny_l_strided_f32(xs + k, HAS_MASK ? mk + k : NULL, n, inner, Mo[k], Co[k], Lo[k]);
        if (l == Lo[k])
            continue;
        const double f = op == FA_SM_OP_LSE ? Mo[k] + l : l;
        P1[k] = (float)f;
        P2[k] = (float)(f - P1[k]);
    }
    if (op == FA_SM_OP_LSE) {                           /* every column is valid: write the results */
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
        return 1;
    }
    if (op == FA_SM_OP_SOFTMAX && store) {           /* y *= p1 + p2, from L1/L2 */
        for (ptrdiff_t r = 0; r < n; r++)
            for (int v = 0; v < nv; v++) {
                float *py = ys + r * inner + v * L;
                const fa_simd_f32 up = fa_set1_f32(FA_SCALE_PAIR_UP);    /* fa_scale_pair_f32: results */
                const fa_simd_f32 p1 = fa_mul_f32(fa_loadu_f32(P1 + v * L), up);   /* below 2^-126 with */
                const fa_simd_f32 p2 = fa_mul_f32(fa_loadu_f32(P2 + v * L), up);   /* no subnormal step */
                const fa_simd_f32 q = fa_loadu_f32(Q + v * L);
                const int whole = full || wv[v] >= L;
                const fa_simd_f32 e = whole ? fa_loadu_f32(py) : fa_load_tail_f32(py, wv[v], 0.0f);
                const fa_simd_f32 o = fa_select_f32(fa_cmplt_f32(e, zero), q, fa_scale_pair_f32(e, p1, p2));
                if (whole) fa_storeu_f32(py, o); else fa_store_tail_f32(py, o, wv[v]);
            }
        return 1;
    }
    if (op == FA_SM_OP_SOFTMAX && shifted) {
        fa_sm_cols_block_shifted_out_f32(xs, mk, ys, n, inner, Mo, P1, P2, wv, nv, full, HAS_MASK);
        return 1;
    }
    fa_simd_f32 Mv[FA_SM_COLS], p1[FA_SM_COLS], p2[FA_SM_COLS];
    for (int v = 0; v < FA_SM_COLS; v++) {
        Mv[v] = fa_loadu_f32(Mo + v * L);
        p1[v] = fa_loadu_f32(P1 + v * L);
        p2[v] = fa_loadu_f32(P2 + v * L);
    }
    if (op == FA_SM_OP_LOG_SOFTMAX && full) {     /* written inside the next block's sums */
        for (int v = 0; v < FA_SM_COLS; v++) {
            cy->M[v] = Mv[v];
            cy->l[v] = p1[v];
        }
        cy->x = xs; cy->mk = mk; cy->y = ys; cy->pending = 1;
        return 1;
    }
    /* softmax: p1 + p2 = e^-M / S (a normal float32, down to ~2^-92) brought to [1, 2) by its
     * exponent e1, which goes to the final scaling instead (exact), so that fa_ldexp_neg_f32
     * sees the whole scale in n and builds results below 2^-126 on the integer side rather
     * than underflowing in its product (uniform +-50 columns: 8.4 ms against 1.5 for N(0,3)) */
    fa_simd_f32 e1[FA_SM_COLS];
    if (op == FA_SM_OP_SOFTMAX)
        for (int v = 0; v < FA_SM_COLS; v++) {
            const fa_simd_f32 bits = fa_bits_srl_f32(p1[v], 23);             /* p1 > 0, normal */
            e1[v] = fa_sub_f32(fa_cvt_i32_f32(bits), fa_set1_f32(127.0f));
            const fa_simd_f32 down = fa_pow2i_f32(fa_neg_f32(e1[v]));
            p1[v] = fa_mul_f32(p1[v], down);
            p2[v] = fa_mul_f32(p2[v], down);
        }
    for (ptrdiff_t r = 0; r < n; r++)
        for (int v = 0; v < nv; v++) {
            const ptrdiff_t at = r * inner + v * L;
            if (full && (cy->pf & FA_COLS_PF_NEXT))     /* the next block's outputs of this row */
                __builtin_prefetch(ys + at + FA_SM_BLOCK32, 1, 3);
            fa_mask_f32 in;
            fa_simd_f32 xv = fa_sm_col_ldm_f32(xs + at, HAS_MASK ? mk + at : NULL, wv[v], full, HAS_MASK, 0.0f, &in), out, nn;
            if (op == FA_SM_OP_LOG_SOFTMAX) {
                out = fa_sub_f32(fa_sub_f32(xv, Mv[v]), p1[v]);
                if (HAS_MASK) out = fa_select_f32(in, out, fa_set1_f32(-INFINITY));
            } else {
                /* x below M - 110 (-inf included) gives 0, scaled by 2^0 (the clamp was -150,
                 * absolute: with M in [-80, -44] an entry below -150 was given e^(-150 - M),
                 * e.g. e^-81 for e^-82) */
                const fa_simd_f32 lowv = fa_sub_f32(Mv[v], fa_set1_f32(110.0f));
                fa_simd_f32 red = fa_sm_expf_reduce(fa_max_f32(lowv, xv), &nn);
                const fa_mask_f32 gone = fa_cmplt_f32(xv, lowv);
                out = fa_ldexp_neg_f32(fa_sm_expf_times_pair(red, p1[v], p2[v]),
                                       fa_select_f32(gone, fa_set1_f32(0.0f), fa_add_f32(nn, e1[v])));
                out = fa_select_f32(gone, fa_set1_f32(0.0f), out);
                if (HAS_MASK) out = fa_select_f32(in, out, fa_set1_f32(0.0f));
            }
            if (full || wv[v] >= L) fa_storeu_f32(ys + at, out); else fa_store_tail_f32(ys + at, out, wv[v]);
        }
    return 1;
}

static int fa_sm_cols_block_abs_f32(const float *xs, const unsigned char *mk, float *ys, float *lse_out,
                                    float *sg, ptrdiff_t n, ptrdiff_t inner, ptrdiff_t width, fa_sm_cols_carry_f32 *cy,
                                    int op)
{
#define FA__BODY(OP, FULL, MASK) fa_sm_cols_block_abs_body_f32(xs, mk, ys, lse_out, sg, n, inner, width, cy, OP, FULL, MASK)
    FA_SM_COLS_BODY_DISPATCH(width == FA_SM_BLOCK32)
#undef FA__BODY
}

/* float32 columns without weights (where= or not): each block through fa_sm_cols_block_abs_f32; a block it
 * declines (NaN, +inf, all -inf or left-out columns) through the generic float64-lane
 * columns of fa_columns.h (exact differences, specials per docs/SPEC.md). */
static void fa_sm_cols_fast_f32(const float *x, float *y, float *sg, ptrdiff_t outer, ptrdiff_t n,
                                ptrdiff_t inner, ptrdiff_t cols, const unsigned char *mk, int op)
{
    fa_sm_cols_carry_f32 cy;
    cy.hint = 0; cy.pending = 0; cy.pf = 0; cy.x = NULL; cy.mk = NULL; cy.y = NULL;
    for (ptrdiff_t o = 0; o < outer; o++) {
        const float *xs = x + o * n * inner;
        const unsigned char *ms = mk ? mk + o * n * inner : NULL;
        for (ptrdiff_t j = 0; j < cols; j += FA_SM_BLOCK32) {
            const ptrdiff_t width = cols - j < FA_SM_BLOCK32 ? cols - j : FA_SM_BLOCK32;
            float *ls = y + o * inner + j, *ss = sg ? sg + o * inner + j : NULL;
            const unsigned char *mj = ms ? ms + j : NULL;
            cy.pf = fa_cols_prefetch_bits(j, FA_SM_BLOCK32, cols);
            if (fa_sm_cols_block_abs_f32(xs + j, mj, y + o * n * inner + j, ls, ss, n, inner, width, &cy, op))
                continue;
            fa_sm_cols_flush_f32(&cy, n, inner);
            if (op == FA_SM_OP_LSE)
                fa_sm_lse_cols_f32(xs + j, ls, 1, n, inner, width, mj, NULL, ss);
            else
                fa_sm_cols_f32(xs + j, y + o * n * inner + j, 1, n, inner, width, mj, op);
        }
        fa_sm_cols_flush_f32(&cy, n, inner);
    }
}

#endif /* FA_COLUMNS_F32_H */
