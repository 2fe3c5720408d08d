/*
 * reductions/fa_col_stats_f32.h -- the statistics pass of the float32 column blocks
 * (fa_columns_f32.h: FA_SM_BLOCK32 columns of an (n, inner) slab, one float32 lane per
 * column, no weights, a where= mask or not): per column its max M and its sums, in one or
 * two reads of the whole column from L1/L2.  Also the lanes' load and two-sum, and what a
 * block passes to the next (fa_sm_cols_carry_f32).
 *
 * Design.
 *   (a) fa_sm_cols_block_max_read_f32: M (left-out entries -inf); softmax also notes a NaN
 *       and sums traw = e^x itself (no x - M) in the same read;
 *   (b) softmax after a shifted block (the hint) reads the max alone in (a), then the e^x
 *       sums only where every max lies in [FA_SM_ABS_OUT_LO, FA_SM_ABS_OUT_HI]
 *       (fa_sm_cols_block_abs_sum_f32: the same sums, the same bits); either way
 *       fa_sm_cols_block_abs_ok_f32 keeps traw where every column has its max in that range
 *       and traw in [FA_SM_ABS_TMIN, inf);
 *   (c) the logs, and the softmax blocks (b) rejects: a second read for T = the sum of the
 *       terms over the entries below M and C = the count of the entries equal to M
 *       (fa_sm_cols_block_shifts_f32 chooses each column's shift,
 *       fa_sm_cols_block_shifted_sums_f32 sums): the rows' e^(x - K ln2) where every max is
 *       finite, else e^(x - M) with x - M a two-sum; softmax stores those terms into y on
 *       the way where it can.
 * Every sum is compensated (Kahan) over the whole column, so T keeps ~float32 relative
 * accuracy for any n.  (a) or (c) prefetches the lines of x, y and the mask two blocks
 * ahead (FA_COLS_PF_NEXT2), spread over its exps.  A whole block's log_softmax output waits
 * in the carry and is written row by row inside the next block's (c) (its stores overlap
 * those exps), or by fa_sm_cols_flush_f32.
 * Special entries: -inf and left-out entries give terms of 0; a NaN reaches the sums (and
 * stops softmax from storing terms); a +inf or a column with no finite entry makes M or T
 * non-finite, and the finishing (fa_col_finish_f32.h) declines the block.
 */
#ifndef FA_COL_STATS_F32_H
#define FA_COL_STATS_F32_H

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

/* row r of a pending block (at = r inner) from its x, mask, y and per-lane M, l; -inf where
 * left out */
FA_INLINE void fa_sm_cols_pending_row_vals_f32(const float *x, const unsigned char *mk, float *y,
                                               const fa_simd_f32 *M, const fa_simd_f32 *l, ptrdiff_t at, int HAS_MASK)
{
    for (int v = 0; v < FA_SM_COLS; v++) {
        const ptrdiff_t a = at + v * FA_LANES_F32;
        fa_simd_f32 out = fa_sub_f32(fa_sub_f32(fa_loadu_f32(x + a), M[v]), l[v]);
        if (HAS_MASK)
            out = fa_select_f32(fa_load_mask_u8_f32(mk + a), out, fa_set1_f32(-INFINITY));
        fa_storeu_f32(y + a, out);
    }
}

/* row r of the carry's pending block */
FA_INLINE void fa_sm_cols_pending_row_f32(const fa_sm_cols_carry_f32 *cy, ptrdiff_t at, int HAS_MASK)
{
    fa_sm_cols_pending_row_vals_f32(cy->x, cy->mk, cy->y, cy->M, cy->l, at, HAS_MASK);
}

static void fa_sm_cols_flush_f32(fa_sm_cols_carry_f32 *cy, ptrdiff_t n, ptrdiff_t inner)
{
    if (!cy->pending)
        return;
    for (ptrdiff_t r = 0; r < n; r++)
        fa_sm_cols_pending_row_f32(cy, r * inner, cy->mk != NULL);
    cy->pending = 0;
}

/* ---- the passes ---- */
/* a block's FA_SM_COLS column vectors of one statistic (the max, a sum, its compensation, a
 * count), passed to the stages as a pointer to the body's array: indexed as (*a)[v], the
 * array itself after inlining, so that GCC sizes (and unrolls) the stages' loops over v as it
 * did the one-function body.  Through a plain pointer the address arithmetic counts against
 * the complete-unrolling limit (GCC 12, AVX2: the softmax max read estimated at 208 insns
 * unrolled, over --param max-completely-peeled-insns=200; 200 as one function), and that loop
 * stayed rolled with its sums in memory: float32 (1024, 1024) softmax along axis 0 1.2x
 * slower */
typedef fa_simd_f32 fa_sm_cols_vecs_f32[FA_SM_COLS];

/* (a) the max read: each column's max (left-out entries -inf); softmax also notes a NaN among
 * the entries in (*nan) and, with abs_sum, sums traw = e^x itself (Kahan, t and tc) in the
 * same read, and prefetches this row's entries two blocks ahead */
FA_INLINE void fa_sm_cols_block_max_read_f32(const float *xs, const unsigned char *mk, float *ys, ptrdiff_t n,
                                             ptrdiff_t inner, const ptrdiff_t *wv, int nv,
                                             const fa_sm_cols_carry_f32 *cy, fa_sm_cols_vecs_f32 *mx,
                                             fa_sm_cols_vecs_f32 *t, fa_sm_cols_vecs_f32 *tc, fa_mask_f32 *nan,
                                             int op, int abs_sum, int full, int HAS_MASK)
{
    const ptrdiff_t L = FA_LANES_F32;
    const fa_simd_f32 zero = fa_set1_f32(0.0f);
    for (ptrdiff_t r = 0; r < n; r++)
        for (int v = 0; v < nv; v++) {
            const float *p = xs + r * inner + v * L;
            /* softmax: this row's entries two blocks ahead, into L2 (the logs prefetch in
             * their shifted sums instead); also when the hint skips the e^x sums: a block
             * predicted shifted had no prefetch at all, its rows 200 KB apart out of the
             * hardware prefetchers' reach ((64, 50257) N(0, 3) + 100 columns 1.55x the
             * time of N(0, 3) ones) */
            if (full && op == FA_SM_OP_SOFTMAX && (cy->pf & FA_COLS_PF_NEXT2)) {
                __builtin_prefetch(p + 2 * FA_SM_BLOCK32, 0, 2);
                __builtin_prefetch(ys + (p - xs) + 2 * FA_SM_BLOCK32, 1, 2);  /* and the lines of y */
                if (HAS_MASK && v == 0)     /* and the mask's (one line: 64 bytes) */
                    __builtin_prefetch(mk + (p - xs) + 2 * FA_SM_BLOCK32, 0, 2);
            }
            fa_mask_f32 in;
            fa_simd_f32 xv = fa_sm_col_ldm_f32(p, NULL, wv[v], full, 0, 0.0f, &in);
            if (HAS_MASK) {                             /* left out: -inf for the max, 0 in the sum */
                in = full || wv[v] >= L ? fa_load_mask_u8_f32(mk + (p - xs))
                                        : fa_load_tail_mask_u8_f32(mk + (p - xs), wv[v]);
                const fa_simd_f32 xi = fa_select_f32(in, xv, fa_set1_f32(-INFINITY));
                (*mx)[v] = fa_max_f32(xi, (*mx)[v]);
                if (op == FA_SM_OP_SOFTMAX)
                    *nan = fa_mask_or_f32(*nan, fa_cmpunord_f32(xi, xi));
                if (abs_sum)
                    fa_kahan_add_f32(&(*t)[v], &(*tc)[v], fa_select_f32(in, fa_sm_expf_scaled(xv), zero));
                continue;
            }
            (*mx)[v] = fa_max_f32(xv, (*mx)[v]);
            if (op == FA_SM_OP_SOFTMAX)
                *nan = fa_mask_or_f32(*nan, fa_cmpunord_f32(xv, xv));
            if (abs_sum)
                fa_kahan_add_f32(&(*t)[v], &(*tc)[v], fa_sm_expf_scaled(xv));
        }
}

/* (b) softmax after a shifted block (the hint), the maxima known: 1 (to be summed shifted)
 * where a column's max lies beyond [FA_SM_ABS_OUT_LO, FA_SM_ABS_OUT_HI]; else 0 with traw,
 * the e^x sums the max read would have given (the same order, the same bits), from a second
 * read */
FA_INLINE int fa_sm_cols_block_abs_sum_f32(const float *xs, const unsigned char *mk, ptrdiff_t n, ptrdiff_t inner,
                                           const ptrdiff_t *wv, int nv, fa_sm_cols_vecs_f32 *mx,
                                           fa_sm_cols_vecs_f32 *t, fa_sm_cols_vecs_f32 *tc, int full, int HAS_MASK)
{
    const ptrdiff_t L = FA_LANES_F32;
    const fa_simd_f32 zero = fa_set1_f32(0.0f);
    fa_mask_f32 out = fa_cmpneq_f32(zero, zero);
    for (int v = 0; v < nv; v++)
        out = fa_mask_or_f32(out, fa_mask_not_f32(fa_mask_and_f32(
            fa_cmple_f32((*mx)[v], fa_set1_f32((float)FA_SM_ABS_OUT_HI)),
            fa_cmpge_f32((*mx)[v], fa_set1_f32((float)FA_SM_ABS_OUT_LO)))));
    const int shifted = fa_mask_any_f32(out);
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
            fa_kahan_add_f32(&(*t)[v], &(*tc)[v], xv);
        }
    return shifted;
}

/* softmax: the sum of e^x serves where every column has M in [-80, 64] and traw in
 * [2^-100, inf) (returns 1); otherwise the block is summed again shifted, as for the logs
 * (returns 0, the sums cleared for that pass) */
FA_INLINE int fa_sm_cols_block_abs_ok_f32(fa_sm_cols_vecs_f32 *mx, fa_sm_cols_vecs_f32 *t, fa_sm_cols_vecs_f32 *tc,
                                          int nv)
{
    const fa_simd_f32 zero = fa_set1_f32(0.0f);
    fa_mask_f32 bad = fa_cmpneq_f32(zero, zero);
    for (int v = 0; v < nv; v++) {
        const fa_simd_f32 tr = fa_sub_f32((*t)[v], (*tc)[v]);
        fa_mask_f32 ok = fa_mask_and_f32(fa_cmpge_f32(tr, fa_set1_f32((float)FA_SM_ABS_TMIN)),
                                         fa_cmplt_f32(tr, fa_set1_f32(INFINITY)));
        ok = fa_mask_and_f32(ok, fa_mask_and_f32(fa_cmple_f32((*mx)[v], fa_set1_f32((float)FA_SM_ABS_OUT_HI)),
                                                 fa_cmpge_f32((*mx)[v], fa_set1_f32((float)FA_SM_ABS_OUT_LO))));
        bad = fa_mask_or_f32(bad, fa_mask_not_f32(ok));
    }
    if (!fa_mask_any_f32(bad))
        return 1;
    for (int v = 0; v < FA_SM_COLS; v++) {
        (*t)[v] = zero; (*tc)[v] = zero;
    }
    return 0;
}

/* The shifted sums.  Every column's max finite (kpath): the rows' terms e^(x - K ln2),
 * K = round(M log2e) - 1 per column, the shift folded into the exp's magic constant
 * (fa_stats_term_f32: no x - M formed, a cheaper exp), T brought to e^M in the float64
 * finishing (fa_col_finish_f32.h).  A column whose max lies outside (FA_STATS_MAX_LO_F32,
 * FA_STATS_MAX_HI_F32), where the reduction of x itself is no longer exact, takes x - M
 * (Ob = M; exact where the term is not 0, by Sterbenz, as fa_stats_chunk_f32) with the shift
 * of M = 0, where such a block took the two-sum and the full exp ((1024, 1024) N(0, 3)
 * + 1000 columns: logsumexp 1.8 -> 1.2-1.7 ms, log_softmax 2.1 -> 1.95; softmax, bound by
 * its passes over the block, within noise).  Else (a column with no finite
 * entry) x - M as a two-sum and the full exp (declined in the finishing where M or T is not
 * finite). */

/* (c) the shifts of the shifted sums, per column from its max: Kb = K (in range; else -1),
 * Ob = M where far (else 0), and the exp's constants MKb = FA_STATS_MAGIC_F32(K),
 * LOWb = FA_STATS_LOW(K); lanes past the block as a max of 0.  Returns kpath (every column's
 * max finite); *anyfar: some column far */
FA_INLINE int fa_sm_cols_block_shifts_f32(fa_sm_cols_vecs_f32 *mx, ptrdiff_t width, int nv, float *Kb, float *Ob,
                                          float *MKb, float *LOWb, int *anyfar)
{
    const ptrdiff_t L = FA_LANES_F32;
    const fa_simd_f32 zero = fa_set1_f32(0.0f);
    float Mb[FA_SM_BLOCK32];
    for (int v = 0; v < FA_SM_COLS; v++)
        fa_storeu_f32(Mb + v * L, v < nv ? (*mx)[v] : zero);
    int kpath = 1;
    for (ptrdiff_t k = 0; k < nv * L; k++) {
        const float m = k < width ? Mb[k] : 0.0f;
        const int in_range = m > FA_STATS_MAX_LO_F32 && m < FA_STATS_MAX_HI_F32, far = !in_range && m - m == 0.0f;
        kpath &= in_range || far;
        *anyfar |= far;
        Ob[k] = far ? m : 0.0f;
        Kb[k] = in_range ? rintf(m * FA_LOG2E_F32) - 1.0f : -1.0f;
        MKb[k] = FA_STATS_MAGIC_F32(Kb[k]);
        LOWb[k] = FA_STATS_LOW(Kb[k]);
    }
    return kpath;
}

/* (c) the shifted sums, one read: per column t (Kahan, with tc) the sum of the terms over the
 * entries below M and c the count of the entries equal to M; kpath: the terms
 * e^(x - K ln2) (x - M where far), softmax with store: each term also stored into y (the
 * maxima marked -1); else e^(x - M) with x - M a two-sum.  A pending log_softmax block
 * (cy->pending) is written row by row on the way. */
FA_INLINE void fa_sm_cols_block_shifted_sums_f32(const float *xs, const unsigned char *mk, float *ys, ptrdiff_t n,
                                                 ptrdiff_t inner, const ptrdiff_t *wv, int nv,
                                                 fa_sm_cols_carry_f32 *cy, fa_sm_cols_vecs_f32 *mx,
                                                 const float *Ob, const float *MKb, const float *LOWb,
                                                 fa_sm_cols_vecs_f32 *t, fa_sm_cols_vecs_f32 *tc,
                                                 fa_sm_cols_vecs_f32 *c, int kpath,
                                                 int anyfar, int store, int op, int full, int HAS_MASK)
{
    const ptrdiff_t L = FA_LANES_F32;
    const fa_simd_f32 zero = fa_set1_f32(0.0f), one = fa_set1_f32(1.0f);
    const int pending = op == FA_SM_OP_LOG_SOFTMAX && cy->pending;
    fa_simd_f32 nM[FA_SM_COLS], magic_k[FA_SM_COLS], low[FA_SM_COLS], nO[FA_SM_COLS], Mr[FA_SM_COLS];
    for (int v = 0; v < FA_SM_COLS; v++) {
        nM[v] = fa_neg_f32(fa_select_f32(fa_cmpeq_f32((*mx)[v], fa_set1_f32(-INFINITY)), zero, (*mx)[v]));
        nO[v] = fa_neg_f32(v < nv ? fa_loadu_f32(Ob + v * L) : zero);
        Mr[v] = fa_add_f32((*mx)[v], nO[v]);     /* the max as the terms see it: 0 where far (exact) */
        magic_k[v] = v < nv ? fa_loadu_f32(MKb + v * L) : zero;
        low[v] = v < nv ? fa_loadu_f32(LOWb + v * L) : zero;
    }
    /* the sums, counts and the pending block's M and l in locals for the loop: reached through
     * the pointers, every float store (y, the pending output) may alias them (__m512 is
     * may_alias), and GCC kept them in memory, loaded and stored for each vector of each row:
     * (64, 50257) float32 log_softmax along axis 0 1243 -> 1150 us,
     * (1024, 1024) 445 -> 414 us, the same bits (2026-12-07) */
    fa_simd_f32 ts[FA_SM_COLS], tcs[FA_SM_COLS], cs[FA_SM_COLS], pM[FA_SM_COLS], pl[FA_SM_COLS];
    for (int v = 0; v < FA_SM_COLS; v++) {
        ts[v] = (*t)[v];
        tcs[v] = (*tc)[v];
        cs[v] = (*c)[v];
        pM[v] = pending ? cy->M[v] : zero;
        pl[v] = pending ? cy->l[v] : zero;
    }
    const float *px = pending ? cy->x : NULL;
    const unsigned char *pmk = pending ? cy->mk : NULL;
    float *py = pending ? cy->y : NULL;
    const int pf2 = cy->pf & FA_COLS_PF_NEXT2;
    /* unrolled over the block's vectors: GCC 12 kept this loop rolled (its estimated size over
     * the complete-unrolling limit), each vector's sums stored and reloaded per row (the
     * store-forwarding latency on the Kahan chain): (64, 50257) float32 along axis 0,
     * log_softmax 1189 -> 975 us, softmax of N(0, 3) + 100 columns 1666 -> 1433, the same
     * bits (Zen 5, medians of 4 alternating builds, 2026-12-07) */
    for (ptrdiff_t r = 0; r < n; r++)
        FA_UNROLL(FA_SM_COLS)
        for (int v = 0; v < FA_SM_COLS; v++) {   /* (a constant trip count: nv <= FA_SM_COLS) */
            if (v >= nv)
                break;
            const ptrdiff_t at = r * inner + v * L;
            if (full && op != FA_SM_OP_SOFTMAX && pf2) {   /* as the max read, spread over the exps */
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
                        if (pf2)
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
            fa_kahan_add_f32(&ts[v], &tcs[v], fa_select_f32(top, zero, e));
            cs[v] = fa_mask_add_f32(top, cs[v], one);
            if (pending && v == nv - 1)
                fa_sm_cols_pending_row_vals_f32(px, pmk, py, pM, pl, r * inner, HAS_MASK);
        }
    for (int v = 0; v < FA_SM_COLS; v++) {
        (*t)[v] = ts[v];
        (*tc)[v] = tcs[v];
        (*c)[v] = cs[v];
    }
    if (pending)
        cy->pending = 0;
}

#endif /* FA_COL_STATS_F32_H */
