/*
 * reductions/fa_col_output_f32.h -- the output pass of the float32 column blocks (softmax,
 * log_softmax), from the column constants of fa_col_finish_f32.h (M, and p1 + p2 per
 * column as a float32 pair).
 *
 * Design.  One of, by how the block was summed:
 *   softmax, its terms stored into y by the shifted sums: y *= p1 + p2 in place, from L1/L2
 *     (fa_sm_cols_block_scale_stored_f32, fa_scale_pair_f32: no third read of x, no second
 *     exp); the maxima's output 1/(C + T) apart;
 *   softmax summed shifted, not stored: y = e^(x - M) (p1 + p2), x - M a two-sum
 *     (fa_sm_cols_block_shifted_out_f32);
 *   softmax from the e^x sums: y = e^r (p1 + p2) 2^n, p1 + p2 = e^-M / S first brought to
 *     [1, 2) (fa_sm_cols_block_out_f32);
 *   log_softmax: y = (x - M) - l (x <= M and l >= 0: no cancellation), a whole block's
 *     left in the carry (fa_sm_cols_carry_f32) for the next block's shifted sums
 *     (fa_sm_cols_block_out_f32).
 * The exps never round e^r alone (fa_sm_expf_times_pair), and the power of two is applied
 * last, so a subnormal y is rounded once.  Left-out entries: softmax 0, log_softmax -inf.
 * fa_sm_cols_block_out_f32 prefetches the next block's outputs of each row
 * (FA_COLS_PF_NEXT).
 */
#ifndef FA_COL_OUTPUT_F32_H
#define FA_COL_OUTPUT_F32_H

/* softmax of a block whose terms were stored into y by the shifted sums: y *= p1 + p2 in
 * place, from L1/L2 (fa_scale_pair_f32); the maxima, marked -1, get Q = 1/(C + T) */
FA_INLINE void fa_sm_cols_block_scale_stored_f32(float *ys, ptrdiff_t n, ptrdiff_t inner, const ptrdiff_t *wv, int nv,
                                                 const float *P1, const float *P2, const float *Q, int full)
{
    const ptrdiff_t L = FA_LANES_F32;
    const fa_simd_f32 zero = fa_set1_f32(0.0f);
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

/* the outputs read from x again: log_softmax y = (x - M) - l (-inf where left out; a whole
 * block's left in cy, written inside the next block's shifted sums or by
 * fa_sm_cols_flush_f32), and softmax from the e^x sums, y = e^r (p1 + p2) 2^n (0 where left
 * out), p1 + p2 = 1/traw */
FA_INLINE void fa_sm_cols_block_out_f32(const float *xs, const unsigned char *mk, float *ys, ptrdiff_t n,
                                        ptrdiff_t inner, const ptrdiff_t *wv, int nv, const float *Mo,
                                        const float *P1, const float *P2, fa_sm_cols_carry_f32 *cy, int op,
                                        int full, int HAS_MASK)
{
    const ptrdiff_t L = FA_LANES_F32;
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
        return;
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
}

#endif /* FA_COL_OUTPUT_F32_H */
