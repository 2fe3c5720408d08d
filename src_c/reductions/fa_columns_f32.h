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
 * The stages, one file each (fa_reductions.h includes them before this one):
 *   fa_col_stats_f32.h   the statistics pass: the max read (softmax: with the e^x sums),
 *                        the shifted sums; the lanes' loads, the carry between blocks
 *   fa_col_finish_f32.h  the column constants in float64 lanes, the block declined or not
 *   fa_col_lse_f32.h     logsumexp results, the cancelling columns summed unshifted
 *   fa_col_output_f32.h  the softmax and log_softmax outputs
 * This file runs them per block (fa_sm_cols_block_abs_body_f32) and walks the blocks.
 */
#ifndef FA_COLUMNS_F32_H
#define FA_COLUMNS_F32_H

/* one block, its stages in order: (a) the max read (softmax: with the e^x sums, or (b) those
 * after it where the hint predicts a shifted block), logsumexp blocks that may cancel summed
 * unshifted alone, the e^x sums checked, (c) the shifted sums, (d) the column constants
 * (declined there), then the outputs */
FA_INLINE int fa_sm_cols_block_abs_body_f32(const float *xs, const unsigned char *mk, float *ys,
                                            float *lse_out, float *sg, ptrdiff_t n, ptrdiff_t inner,
                                            ptrdiff_t width, fa_sm_cols_carry_f32 *cy, int op, int full, int HAS_MASK)
{
    const ptrdiff_t L = FA_LANES_F32;
    const int nv = full ? FA_SM_COLS : (int)((width + L - 1) / L);
    /* softmax: the block before was summed shifted (cy->hint): its neighbour likely is too,
     * so the first read takes the max alone, and the e^x sum is read only where the maxima
     * allow it (the same sum, the same bits: the hint changes the speed only) */
    const int predicted = op == FA_SM_OP_SOFTMAX && cy->hint;
    const int abs_sum = op == FA_SM_OP_SOFTMAX && !predicted;
    const fa_simd_f32 zero = fa_set1_f32(0.0f);
    fa_sm_cols_vecs_f32 mx, t, tc, c;               /* per lane: the max, the sum (Kahan: tc), the count */
    fa_mask_f32 nan = fa_cmpneq_f32(zero, zero);     /* softmax: a NaN among the entries in */
    ptrdiff_t wv[FA_SM_COLS];
    for (int v = 0; v < FA_SM_COLS; v++) {
        wv[v] = full ? L : width - v * L > L ? L : width - v * L;
        mx[v] = fa_set1_f32(-INFINITY); t[v] = zero; tc[v] = zero; c[v] = zero;
    }
    fa_sm_cols_block_max_read_f32(xs, mk, ys, n, inner, wv, nv, cy, &mx, &t, &tc, &nan, op, abs_sum, full, HAS_MASK);
    int shifted = op != FA_SM_OP_SOFTMAX;
    if (predicted)
        shifted = fa_sm_cols_block_abs_sum_f32(xs, mk, n, inner, wv, nv, &mx, &t, &tc, full, HAS_MASK);
    if (op == FA_SM_OP_LSE) {
        float Mb[FA_SM_BLOCK32];
        for (int v = 0; v < FA_SM_COLS; v++)
            fa_storeu_f32(Mb + v * L, v < nv ? mx[v] : zero);
        if (fa_sm_cols_block_lse_unshifted_f32(xs, mk, lse_out, sg, n, inner, width, Mb, HAS_MASK))
            return 1;
    }
    if (!shifted)
        shifted = !fa_sm_cols_block_abs_ok_f32(&mx, &t, &tc, nv);
    cy->hint = shifted;
    int kpath = 0, store = 0, anyfar = 0;
    float Kb[FA_SM_BLOCK32], Ob[FA_SM_BLOCK32];
    if (shifted) {
        float MKb[FA_SM_BLOCK32], LOWb[FA_SM_BLOCK32];
        kpath = fa_sm_cols_block_shifts_f32(&mx, width, nv, Kb, Ob, MKb, LOWb, &anyfar);
        /* softmax with the rows' terms: each stored into y while summing, y scaled in place
         * afterwards (no third read, no second exp); only without NaN, whose block is
         * declined below, after y would have been written (y may be x) */
        store = op == FA_SM_OP_SOFTMAX && kpath && !fa_mask_any_f32(nan);
        fa_sm_cols_block_shifted_sums_f32(xs, mk, ys, n, inner, wv, nv, cy, &mx, Ob, MKb, LOWb, &t, &tc, &c,
                                          kpath, anyfar, store, op, full, HAS_MASK);
    }
    float Mo[FA_SM_BLOCK32], Co[FA_SM_BLOCK32], P1[FA_SM_BLOCK32], P2[FA_SM_BLOCK32];
    float Q[FA_SM_BLOCK32];           /* stored softmax terms: 1/(C + T), the maxima's output */
    double Td[FA_SM_BLOCK32];         /* T relative to e^M (kpath: the sum times e^(K ln2 - M)) */
    int cancel = 0;
    if (!fa_sm_cols_block_finish_f32(xs, mk, n, inner, width, nv, &mx, &t, &tc, &c, Kb, Ob, kpath, shifted, store,
                                     Mo, Co, Td, P1, P2, Q, &cancel, op, HAS_MASK))
        return 0;
    if (op == FA_SM_OP_LSE)                            /* every column is valid: write the results */
        fa_sm_cols_block_lse_out_f32(xs, mk, lse_out, sg, n, inner, width, Mo, Co, Td, P1, P2, cancel, HAS_MASK);
    else if (op == FA_SM_OP_SOFTMAX && store)          /* y *= p1 + p2, from L1/L2 */
        fa_sm_cols_block_scale_stored_f32(ys, n, inner, wv, nv, P1, P2, Q, full);
    else if (op == FA_SM_OP_SOFTMAX && shifted)
        fa_sm_cols_block_shifted_out_f32(xs, mk, ys, n, inner, Mo, P1, P2, wv, nv, full, HAS_MASK);
    else
        fa_sm_cols_block_out_f32(xs, mk, ys, n, inner, wv, nv, Mo, P1, P2, cy, op, full, HAS_MASK);
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
