/*
 * reductions/fa_columns_f64.h -- float64 columns (inner > 1) without weights, with or without
 * a where= mask: a block of FA_SM_BLOCK columns at a time, one float64 lane per column, the
 * float64 rows' direct reduction (fa_rows_f64.h) turned on its side.
 *   1. One read of the block for each column's max M and min (left-out entries skipped), a
 *      NaN noted.
 *   2. One read (from L1/L2) for U = sum of e^(x - K ln2), K = round(M log2e) per lane
 *      (fa_exp_shifted_f64: x - K ln2 is never formed; terms <= 1.35 ULP each): softmax over
 *      every entry, each term stored into y; log_softmax and logsumexp over x != M, with C the
 *      count of x == M.  Kahan-compensated per lane (the FA_SM_COLS vectors are independent
 *      chains).  Mode per block: every column's min >= M - 650 -> FA_SM64_DIRECT (every term
 *      normal), else FA_EXP_SHIFT_BIASED (the terms at the scale 2^(K - 600), every one
 *      from x >= M - 760 normal, the others and -inf entries 0; the bias comes out in the
 *      factor of step 3, or in softmax's product, fa_sm64_unbias_times).  Spread over
 *      its exps, this pass prefetches the lines of x two blocks ahead into L2, and those of y
 *      for writing (the rows are inner apart, too far for the hardware prefetchers; the
 *      write prefetch alone took (64, 50257) softmax from 4.2 to 2.8 ms and log_softmax from
 *      4.8 to 3.2 ms: the stores no longer wait for their lines).
 *   3. The lanes finished once per block in vector code: softmax 1/U as a double-double; the
 *      logs T = U e^(K ln2 - M) (the factor as a double-double through fa_exp_dd_f64, its
 *      argument K ln2_hi - M exact), S = C + T as a double-double and l = log(S_hi) + S_lo/S_hi
 *      (fa_log_f64), which keeps log1p(T)'s relative accuracy where one entry dominates.
 *   4. Outputs: softmax y *= 1/U in place (from L2: no second exp); log_softmax
 *      y = (x - M) - l, written inside the next block's sum pass; logsumexp M + l, where
 *      fa_sm_lse_value_f64's criterion says it cancels (M < 0 < l, |M + l| < 4l) either l as
 *      a pair (|M + l| >= 2, fa_lse_value_dd_l) or the unshifted double-double sum of
 *      fa_lse_exact.h, here one lane per column (fa_lse_exact_step) instead of a strided pass
 *      per column; a block whose maxima all allow that exact pass skips steps 2-3
 *      (fa_sm64_cols_lse_unshifted).
 * Code: fa_sm64_cols_block_body runs the steps in order, each its own function:
 * fa_sm64_cols_sum (step 2), fa_sm64_cols_softmax_scale / fa_sm64_cols_logs (3),
 * fa_sm64_cols_lse_out (4, logsumexp); fa_sm64_cols_softmax_raw folds steps 1 and 2 of
 * softmax into one read at row strides of a multiple of 1 KB.
 * Error, as the rows': terms 1.35u, U's Kahan sum u, so softmax <= 4.2 ULP in theory; the
 * dominant entry's log_softmax (l = log1p(T)) <= 3.35 + 0.5 ULP.  Measured (every row kind
 * of tests/test_reductions.py as 131 columns of 2 .. 1500, long double reference): softmax
 * 3.01 ULP (scalar, SSE2; 2.75 with FMA), log_softmax 1.32, logsumexp 1.00.
 * LANEWISE (the short float64 rows, fa_short_rows.h): every column computed from its own
 * entries alone: always the biased mode, no block-wide unshifted logsumexp.
 * Declined (returns 0 before anything is written, so y may be x): a column with a NaN, a
 * +inf, no finite max (all -inf or left out) or |M| >= 2^16 (FA_SM64_DIRECT_LIMIT): the generic
 * chunked code (fa_columns.h) takes those.  Tall blocks too (no size limit): a block beyond
 * L2 is read three times from L3 or memory, yet that measured 1.3-1.9x faster than the
 * generic code's chunks ((20000, 512) softmax 90 -> 52 ms, (100000, 64) 26 -> 20 ms) and
 * more accurate (SSE2 float64 softmax of 20000-entry columns 4.13 -> 2.20 ULP).  Both are
 * far from one read per pass: tall columns want the rows chunked outside the blocks.
 */
#ifndef FA_COLUMNS_F64_H
#define FA_COLUMNS_F64_H

/* one vector of a block's row: lanes in (where= true, inside the width) in *in, the others
 * replaced by fill */
FA_INLINE fa_simd_f64 fa_sm64_col_ld(const double *p, const unsigned char *m, ptrdiff_t w, int full,
                                     int HAS_MASK, fa_simd_f64 fill, fa_mask_f64 *in)
{
    const int whole = full || w >= FA_LANES_F64;
    fa_simd_f64 x = whole ? fa_loadu_f64(p) : fa_load_tail_f64(p, w, 0.0);
    fa_mask_f64 k = whole ? fa_cmpeq_f64(fill, fill) : fa_tail_mask_f64(w);   /* fill is never NaN */
    if (HAS_MASK)
        k = fa_mask_and_f64(k, whole ? fa_load_mask_u8_f64(m) : fa_load_tail_mask_u8_f64(m, w));
    *in = k;
    return HAS_MASK || !whole ? fa_select_f64(k, x, fill) : x;
}

FA_INLINE void fa_sm64_col_st(double *p, fa_simd_f64 v, ptrdiff_t w, int full)
{
    if (full || w >= FA_LANES_F64) fa_storeu_f64(p, v); else fa_store_tail_f64(p, v, w);
}

/* a whole block's log_softmax output y = (x - M) - l, still to write: written row by row
 * inside the next block's sum pass (the stores overlap its exps, as the rows' log_softmax
 * does; (1024, 1024) 1.31 -> 1.09 ms), or on its own (fa_sm64_cols_flush) */
typedef struct fa_sm64_cols_pending {
    const double *x;
    const unsigned char *mk;
    double *y;
    fa_simd_f64 M[FA_SM_COLS], l[FA_SM_COLS];
    int active;
    int raw_declined;     /* softmax: no raw pass (not FA_SM64_RAW, or a block of this call declined it) */
} fa_sm64_cols_pending;

/* row r of the pending block (at = r inner); -inf where left out */
FA_INLINE void fa_sm64_cols_pending_row(const fa_sm64_cols_pending *pd, ptrdiff_t at, int HAS_MASK)
{
    for (int v = 0; v < FA_SM_COLS; v++) {
        const ptrdiff_t a = at + v * FA_LANES_F64;
        fa_simd_f64 x = fa_loadu_f64(pd->x + a);
        if (HAS_MASK)
            x = fa_select_f64(fa_load_mask_u8_f64(pd->mk + a), x, fa_set1_f64(-INFINITY));
        fa_storeu_f64(pd->y + a, fa_sub_f64(fa_sub_f64(x, pd->M[v]), pd->l[v]));
    }
}

static void fa_sm64_cols_flush(fa_sm64_cols_pending *pd, ptrdiff_t n, ptrdiff_t inner)
{
    if (!pd->active)
        return;
    for (ptrdiff_t r = 0; r < n; r++)
        fa_sm64_cols_pending_row(pd, r * inner, pd->mk != NULL);
    pd->active = 0;
}

/* pass 2: per lane (t, tc) the Kahan sum of e^(x - K ln2) and c the count of x == M (the
 * logs: terms over x != M); softmax stores every term into y */
FA_INLINE void fa_sm64_cols_sum(const double *xs, const unsigned char *mk, double *ys, ptrdiff_t n,
                                ptrdiff_t inner, const ptrdiff_t *wv, int nv, const fa_simd_f64 *Mv,
                                const fa_simd_f64 *magic_k, const fa_simd_f64 *low, fa_simd_f64 *t,
                                fa_simd_f64 *tc, fa_simd_f64 *c, fa_sm64_cols_pending *pd, int op, int full,
                                int HAS_MASK, int mode, int pf)
{
    const int pending = pd && pd->active;
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 one = fa_set1_f64(1.0), zero = fa_set1_f64(0.0);
    for (ptrdiff_t r = 0; r < n; r++)
        for (int v = 0; v < nv; v++) {
            const ptrdiff_t at = r * inner + v * L;
            const int ahead = full && (pf & FA_COLS_PF_NEXT2);
            if (ahead)                /* the next block's entries of this row, spread over the exps */
                __builtin_prefetch(xs + at + 2 * FA_SM_BLOCK, 0, 2);
            if (ahead && op != FA_SM_OP_LSE)           /* and the lines of y it will store to */
                __builtin_prefetch(ys + at + 2 * FA_SM_BLOCK, 1, 2);
            if (ahead && HAS_MASK && v == 0)           /* and the mask's (32 bytes of a row) */
                __builtin_prefetch(mk + at + 2 * FA_SM_BLOCK, 0, 2);
            fa_mask_f64 in;
            fa_simd_f64 x = fa_sm64_col_ld(xs + at, HAS_MASK ? mk + at : NULL, wv[v], full, HAS_MASK, Mv[v], &in);
            fa_mask_f64 keep = in;
            if (op != FA_SM_OP_SOFTMAX) {
                const fa_mask_f64 top = fa_cmpeq_f64(x, Mv[v]);
                keep = fa_mask_and_f64(in, fa_mask_not_f64(top));
                c[v] = fa_add_f64(c[v], fa_select_f64(fa_mask_and_f64(in, top), one, zero));
            }
            const fa_simd_f64 e = fa_exp_shifted_f64(x, magic_k[v], low[v], keep, mode);
            if (op == FA_SM_OP_SOFTMAX)
                fa_sm64_col_st(ys + at, e, wv[v], full);
            fa_kahan_add_f64(&t[v], &tc[v], e);
            if (pending && v == nv - 1)
                fa_sm64_cols_pending_row(pd, r * inner, HAS_MASK);
        }
    if (pending)
        pd->active = 0;
}

/* the unshifted double-double sums of fa_lse_exact.h, one lane per column: column k's sum is
 * H[k] + E[k] */
FA_INLINE void fa_sm64_cols_exact(const double *xs, const unsigned char *mk, ptrdiff_t n, ptrdiff_t inner,
                                  const ptrdiff_t *wv, int nv, int full, int HAS_MASK, double *H, double *E)
{
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 ninf = fa_set1_f64(-INFINITY);
    fa_simd_f64 sh[FA_SM_COLS], sl[FA_SM_COLS];
    for (int v = 0; v < FA_SM_COLS; v++) {
        sh[v] = fa_set1_f64(0.0);
        sl[v] = sh[v];
    }
    for (ptrdiff_t r = 0; r < n; r++)
        for (int v = 0; v < nv; v++) {
            const ptrdiff_t at = r * inner + v * L;
            fa_mask_f64 in;
            fa_simd_f64 x = fa_sm64_col_ld(xs + at, HAS_MASK ? mk + at : NULL, wv[v], full, HAS_MASK, ninf, &in);
            fa_lse_exact_step(x, sh[v], 0, &sh[v], &sl[v]);
        }
    for (int v = 0; v < nv; v++) {
        fa_storeu_f64(H + v * L, sh[v]);
        fa_storeu_f64(E + v * L, sl[v]);
    }
}

/* logsumexp of a block whose every column could cancel, from the unshifted sums alone (no
 * shifted pass).  The rule reads only the maxima: l = log(C + T) <= log n, so the exact pass
 * of step 4 (|M + l| < 2 with M < 0 < l) is possible only for M in (-(log n + 2), 0); where
 * every column of the block lies there (normalised log-probabilities: M in (-log n, 0]),
 * v = log(sum e^x) comes straight from the double-double sum, as accurate as step 4's
 * (2^-81 absolute) for every column, cancelling or not.  Returns 0, nothing written, where a
 * column's maximum is outside that range or its sum is no good for fa_lse_from_exact. */
FA_INLINE int fa_sm64_cols_lse_unshifted(const double *xs, const unsigned char *mk, double *lse_out, double *sg,
                                         ptrdiff_t n, ptrdiff_t inner, ptrdiff_t width, const ptrdiff_t *wv,
                                         int nv, const fa_mask_f64 *valid, const fa_simd_f64 *Mv, int full,
                                         int HAS_MASK)
{
    const fa_simd_f64 lim = fa_set1_f64(-(log((double)n) + 2.0)), zero = fa_set1_f64(0.0);
    fa_mask_f64 far = fa_cmpneq_f64(zero, zero);
    for (int v = 0; v < nv; v++) {
        const fa_mask_f64 near = fa_mask_and_f64(fa_cmplt_f64(Mv[v], zero), fa_cmpgt_f64(Mv[v], lim));
        far = fa_mask_or_f64(far, fa_mask_and_f64(valid[v], fa_mask_not_f64(near)));
    }
    if (fa_mask_any_f64(far))
        return 0;
    double H[FA_SM_BLOCK], E[FA_SM_BLOCK], V[FA_SM_BLOCK];
    fa_sm64_cols_exact(xs, mk, n, inner, wv, nv, full, HAS_MASK, H, E);
    for (ptrdiff_t k = 0; k < width; k++) {
        double hi = H[k] + E[k], lo = E[k] - (hi - H[k]), se;
        if (!fa_lse_from_exact(hi, lo, &V[k], &se) || !(se > 0))
            return 0;
    }
    for (ptrdiff_t k = 0; k < width; k++) {
        lse_out[k] = V[k];
        if (sg) sg[k] = 1.0;
    }
    return 1;
}

/* softmax steps 3-4: y *= 1/U in place, y holding the block's terms e^(x - K ln2) (biased:
 * at the scale 2^(K - FA_EXP_SHIFT_BIAS)); U = t - tc per lane */
FA_INLINE void fa_sm64_cols_softmax_scale(double *ys, ptrdiff_t n, ptrdiff_t inner, const ptrdiff_t *wv, int nv,
                                          const fa_mask_f64 *valid, const fa_simd_f64 *Mv,
                                          const fa_simd_f64 *magic_k, const fa_simd_f64 *low, const fa_simd_f64 *t,
                                          const fa_simd_f64 *tc, int biased, int full, int pf)
{
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 zero = fa_set1_f64(0.0), one = fa_set1_f64(1.0);
    /* 3-4. y *= 1/U, 1/U = ih + il: ih = 1/uh, il = ih (1 - U ih) with U ih exact.  The
     * maxima's terms (tau, the same bits as pass 2's) give tau/U by a division instead,
     * so a lone finite entry is exactly 1 (the product reached 1 - 2^-53 without FMA) */
    fa_simd_f64 ih[FA_SM_COLS], il[FA_SM_COLS], tau[FA_SM_COLS], qv[FA_SM_COLS];
    const fa_mask_f64 all = fa_cmpeq_f64(one, one);
    for (int v = 0; v < nv; v++) {
        fa_simd_f64 ul, uh = fa_fast_two_sum_f64(t[v], fa_neg_f64(tc[v]), &ul), pl;
        uh = fa_select_f64(valid[v], uh, one);
        ul = fa_select_f64(valid[v], ul, zero);
        ih[v] = fa_div_f64(one, uh);
        const fa_simd_f64 ph = fa_two_prod_f64(uh, ih[v], &pl);
        il[v] = fa_mul_f64(fa_sub_f64(fa_sub_f64(fa_sub_f64(one, ph), pl), fa_mul_f64(ul, ih[v])), ih[v]);
        tau[v] = biased ? fa_exp_shifted_f64(Mv[v], magic_k[v], low[v], all, FA_EXP_SHIFT_BIASED)
                        : fa_exp_shifted_f64(Mv[v], magic_k[v], low[v], all, FA_SM64_DIRECT);
        const fa_simd_f64 q = fa_div_f64(tau[v], uh);
        qv[v] = fa_fnmadd_f64(q, fa_mul_f64(ul, ih[v]), q);       /* tau / (uh + ul) */
        if (biased) {             /* (exact) the factor of fa_sm64_unbias_times */
            ih[v] = fa_mul_f64(ih[v], fa_set1_f64(0x1p600));
            il[v] = fa_mul_f64(il[v], fa_set1_f64(0x1p600));
        }
    }
    for (ptrdiff_t r = 0; r < n; r++)
        for (int v = 0; v < nv; v++) {
            double *p = ys + r * inner + v * L;
            if (full && (pf & FA_COLS_PF_NEXT))     /* the next block's outputs of this row */
                __builtin_prefetch(p + FA_SM_BLOCK, 1, 3);
            const int whole = full || wv[v] >= L;
            fa_simd_f64 y = whole ? fa_loadu_f64(p) : fa_load_tail_f64(p, wv[v], 0.0);
            y = fa_select_f64(fa_cmpeq_f64(y, tau[v]), qv[v],
                              biased ? fa_sm64_unbias_times(y, ih[v], il[v]) : fa_fmadd_f64(y, ih[v], fa_mul_f64(y, il[v])));
            fa_sm64_col_st(p, y, wv[v], full);
        }
}

/* Softmax of a block in two reads instead of three ("raw"): one read gives each column's max
 * M, its least finite entry, a NaN, the Kahan sum U of e^x itself (K = 0: the max is not
 * needed first) and stores every term into y; steps 3-4 then scale y by 1/U as the shifted
 * sums' path does.  The same bits as that path: fa_exp_shifted_f64 reduces x itself, so each
 * term is the shifted one times 2^K exactly, and so are U and 1/U (sha256 of every output over
 * 14 shapes x 6 kinds x where= x 4 variants x 1-3 threads, against the three-read build).
 * Valid where every included finite entry lies in [max(M - 650, -700), M] and M <= 600 (each
 * term a normal number, the outputs >= 2^-962 as FA_SM64_DIRECT's; U below 2^900, which
 * 1/U's Dekker product splits without overflow on the variants without FMA), no NaN:
 * otherwise returns 0 having written y (never x: the caller takes this only for y != x) and
 * the block goes the three-read way (and the call's later blocks skip this pass).  Taken
 * (FA_SM64_RAW) where the block's reads would come from L3 anyway: at a row stride of a
 * multiple of 1 KB, where a block's rows share a few L1/L2 sets (axis 0, one thread,
 * medians of 11 interleaved runs against the three reads: (1024, 1024) 0.99 -> 0.87 ms
 * (N(0, 3); +100: 1.10 -> 0.85), (256, 4096) 0.84 -> 0.60, (100, 1024) 66 -> 50 us,
 * (1024, 4096) 8.1 -> 7.2 ms), and where the block's x and y (n rows of FA_SM_BLOCK
 * doubles each) pass 768 KB, beyond what L2 keeps (~1.15x at (2000, 500) and (4000, 250),
 * both orders of the two builds, 11 rounds each).  Elsewhere the block stays in L2 and the
 * max read costs less than it saves ((1000, 1000) ~1.04x, (100, 1000) ~1.03x slower with
 * it), so those keep the three reads. */
#define FA_SM64_RAW_LIMIT 700.0
#define FA_SM64_RAW_MAX 600.0   /* U < n 2^866: 1/U's two-product splits U without overflow (no FMA) */
#define FA_SM64_RAW(n, stride_bytes) \
    ((stride_bytes) % 1024 == 0 || 2 * (n) * FA_SM_BLOCK * (ptrdiff_t)sizeof(double) > 768 * 1024)
FA_INLINE int fa_sm64_cols_softmax_raw(const double *xs, const unsigned char *mk, double *ys, ptrdiff_t n,
                                       ptrdiff_t inner, const ptrdiff_t *wv, int nv, const fa_mask_f64 *valid,
                                       int full, int HAS_MASK, int pf)
{
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 zero = fa_set1_f64(0.0), ninf = fa_set1_f64(-INFINITY), pinf = fa_set1_f64(INFINITY);
    const fa_simd_f64 lo = fa_set1_f64(-FA_SM64_RAW_LIMIT), magic0 = fa_exp_shift_magic_f64(0.0);
    fa_simd_f64 mx[FA_SM_COLS], mn[FA_SM_COLS], t[FA_SM_COLS], tc[FA_SM_COLS], Mv[FA_SM_COLS];
    fa_simd_f64 magic_k[FA_SM_COLS], low[FA_SM_COLS];
    fa_mask_f64 nan = fa_cmpneq_f64(zero, zero);
    for (int v = 0; v < FA_SM_COLS; v++) {
        mx[v] = ninf; mn[v] = pinf; t[v] = zero; tc[v] = zero;
    }
    for (ptrdiff_t r = 0; r < n; r++)
        for (int v = 0; v < nv; v++) {
            const ptrdiff_t at = r * inner + v * L;
            const int ahead = full && (pf & FA_COLS_PF_NEXT2);
            if (ahead) {              /* as fa_sm64_cols_sum: x and y two blocks ahead */
                __builtin_prefetch(xs + at + 2 * FA_SM_BLOCK, 0, 2);
                __builtin_prefetch(ys + at + 2 * FA_SM_BLOCK, 1, 2);
                if (HAS_MASK && v == 0)
                    __builtin_prefetch(mk + at + 2 * FA_SM_BLOCK, 0, 2);
            }
            fa_mask_f64 in;
            const fa_simd_f64 x = fa_sm64_col_ld(xs + at, HAS_MASK ? mk + at : NULL, wv[v], full, HAS_MASK, ninf, &in);
            nan = fa_mask_or_f64(nan, fa_cmpunord_f64(x, x));
            mx[v] = fa_max_f64(x, mx[v]);
            mn[v] = fa_min_f64(fa_select_f64(fa_cmpeq_f64(x, ninf), pinf, x), mn[v]);
            const fa_simd_f64 e = fa_exp_shifted_f64(fa_max_f64(lo, x), magic0, lo, fa_cmpge_f64(x, lo),
                                                     FA_EXP_SHIFT_NORMAL);
            fa_sm64_col_st(ys + at, e, wv[v], full);
            fa_kahan_add_f64(&t[v], &tc[v], e);
        }
    fa_mask_f64 bad = nan;
    for (int v = 0; v < nv; v++) {
        /* lo <= mn (finite entries), M - 650 <= mn, lo <= M <= FA_SM64_RAW_MAX (an all -inf
         * column is declined: the specials' path), U finite */
        const fa_mask_f64 in_range = fa_mask_and_f64(fa_cmpge_f64(mx[v], lo), fa_cmple_f64(mx[v], fa_set1_f64(FA_SM64_RAW_MAX)));
        const fa_mask_f64 low_ok = fa_mask_and_f64(fa_cmpge_f64(mn[v], lo),
                                                   fa_cmpge_f64(mn[v], fa_sub_f64(mx[v], fa_set1_f64(650.0))));
        const fa_mask_f64 ok = fa_mask_and_f64(fa_mask_and_f64(in_range, low_ok),
                                               fa_cmplt_f64(fa_abs_f64(fa_sub_f64(t[v], tc[v])), pinf));
        bad = fa_mask_or_f64(bad, fa_mask_and_f64(valid[v], fa_mask_not_f64(ok)));
        Mv[v] = fa_select_f64(valid[v], mx[v], zero);
        magic_k[v] = magic0;
        low[v] = lo;
    }
    if (fa_mask_any_f64(bad))
        return 0;
    fa_sm64_cols_softmax_scale(ys, n, inner, wv, nv, valid, Mv, magic_k, low, t, tc, 0, full, pf);
    return 1;
}

/* step 3: per column l = log(C + T) (lv), T = U e^(K ln2 - M) as a double-double (Th + Tl);
 * the factor e^(K ln2 - M) through fa_exp_dd_f64, its argument K ln2_hi - M exact; S = C + T
 * as a double-double and l = log(S_hi) + S_lo/S_hi, which keeps log1p(T)'s relative accuracy
 * where one entry dominates.  c: the counts of x == M, set to 1 outside the block's width. */
FA_INLINE void fa_sm64_cols_logs(int nv, const fa_mask_f64 *valid, const fa_simd_f64 *Mv, const fa_simd_f64 *Kv,
                                 const fa_simd_f64 *t, const fa_simd_f64 *tc, fa_simd_f64 *c, int biased,
                                 fa_simd_f64 *lv, fa_simd_f64 *Th, fa_simd_f64 *Tl)
{
    const fa_simd_f64 one = fa_set1_f64(1.0);
    for (int v = 0; v < nv; v++) {
        fa_simd_f64 ae, a = fa_fnmadd_f64(Kv[v], fa_set1_f64(-FA_LN2_HI_F64), fa_neg_f64(Mv[v]));  /* exact */
        a = fa_two_sum_f64(a, fa_mul_f64(Kv[v], fa_set1_f64(FA_LN2_LO_F64)), &ae);
        fa_simd_f64 et, en, el, eh = fa_exp_dd_f64(a, &el, &et, &en);
        eh = fa_scale_exp_f64(eh, et, en);
        el = fa_scale_exp_f64(el, et, en);
        fa_simd_f64 fl, fh = fa_fast_two_sum_f64(eh, fa_fmadd_f64(eh, ae, fa_fmadd_f64(el, ae, el)), &fl);
        if (biased) {                 /* exact: fh ~ 1, fl ~ 2^-53 */
            fh = fa_mul_f64(fh, fa_set1_f64(0x1p-600));
            fl = fa_mul_f64(fl, fa_set1_f64(0x1p-600));
        }
        fa_simd_f64 ul, uh = fa_fast_two_sum_f64(t[v], fa_neg_f64(tc[v]), &ul), pl;
        const fa_simd_f64 ph = fa_two_prod_f64(uh, fh, &pl);
        Th[v] = ph;
        Tl[v] = fa_add_f64(pl, fa_fmadd_f64(uh, fl, fa_mul_f64(ul, fh)));
        const fa_simd_f64 C = fa_select_f64(valid[v], c[v], one);
        fa_simd_f64 sl, sh = fa_two_sum_f64(C, Th[v], &sl);
        sl = fa_add_f64(sl, Tl[v]);
        sh = fa_fast_two_sum_f64(sh, sl, &sl);
        lv[v] = fa_log_f64(sh, fa_div_f64(sl, sh));
        c[v] = C;
    }
}

/* step 4 of logsumexp: M + l per column, and where fa_sm_lse_value_f64's criterion says it
 * cancels (M < 0 < l, |M + l| < 4l) either l as a pair (|M + l| >= 2, fa_lse_value_dd_l) or
 * the unshifted double-double sums of fa_lse_exact.h, one lane per column (fa_sm64_cols_exact) */
FA_INLINE void fa_sm64_cols_lse_out(const double *xs, const unsigned char *mk, double *lse_out, double *sg,
                                    ptrdiff_t n, ptrdiff_t inner, ptrdiff_t width, const ptrdiff_t *wv, int nv,
                                    const fa_mask_f64 *valid, const fa_simd_f64 *Mv, const fa_simd_f64 *lv,
                                    const fa_simd_f64 *c, const fa_simd_f64 *Th, const fa_simd_f64 *Tl, int full,
                                    int HAS_MASK)
{
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 zero = fa_set1_f64(0.0);
    double Mo[FA_SM_BLOCK], lo_[FA_SM_BLOCK], Co[FA_SM_BLOCK], Tho[FA_SM_BLOCK], Tlo[FA_SM_BLOCK];
    int exact = 0, pair = 0;
    for (int v = 0; v < nv; v++) {
        const fa_simd_f64 s = fa_add_f64(Mv[v], lv[v]);
        const fa_mask_f64 cancel = fa_mask_and_f64(valid[v], fa_mask_and_f64(
            fa_cmplt_f64(Mv[v], zero), fa_mask_and_f64(fa_cmpgt_f64(lv[v], zero),
                                                        fa_cmplt_f64(fa_abs_f64(s), fa_mul_f64(fa_set1_f64(4.0), lv[v])))));
        const fa_mask_f64 small = fa_cmplt_f64(fa_abs_f64(s), fa_set1_f64(2.0));
        exact |= fa_mask_any_f64(fa_mask_and_f64(cancel, small));
        pair |= fa_mask_any_f64(fa_mask_and_f64(cancel, fa_mask_not_f64(small)));
        fa_storeu_f64(Mo + v * L, Mv[v]);
        fa_storeu_f64(lo_ + v * L, lv[v]);
        fa_storeu_f64(Co + v * L, c[v]);
        fa_storeu_f64(Tho + v * L, Th[v]);
        fa_storeu_f64(Tlo + v * L, Tl[v]);
    }
    double H[FA_SM_BLOCK], E[FA_SM_BLOCK];
    if (exact)
        fa_sm64_cols_exact(xs, mk, n, inner, wv, nv, full, HAS_MASK, H, E);
    for (ptrdiff_t k = 0; k < width; k++) {
        double v = Mo[k] + lo_[k];
        if ((exact || pair) && Mo[k] < 0 && lo_[k] > 0 && fabs(v) < 4.0 * lo_[k]) {
            if (fabs(v) >= 2.0) {
                const fa_sm_stats s = {Mo[k], Tho[k], Co[k], Tlo[k], 0.0};
                v = fa_lse_value_dd_l(&s);
            } else {
                double hi = H[k] + E[k], lo = E[k] - (hi - H[k]), ve, se;
                if (fa_lse_from_exact(hi, lo, &ve, &se) && se > 0)
                    v = ve;
            }
        }
        lse_out[k] = v;
        if (sg) sg[k] = 1.0;
    }
}

FA_INLINE int fa_sm64_cols_block_body(const double *xs, const unsigned char *mk, double *ys, double *lse_out,
                                      double *sg, ptrdiff_t n, ptrdiff_t inner, ptrdiff_t width,
                                      fa_sm64_cols_pending *pd, int op, int full, int HAS_MASK, int LANEWISE,
                                      int pf)
{
    const ptrdiff_t L = FA_LANES_F64;
    const int nv = full ? FA_SM_COLS : (int)((width + L - 1) / L);
    const fa_simd_f64 zero = fa_set1_f64(0.0);
    const fa_simd_f64 ninf = fa_set1_f64(-INFINITY), pinf = fa_set1_f64(INFINITY);
    fa_simd_f64 mx[FA_SM_COLS], mn[FA_SM_COLS];
    fa_mask_f64 nan = fa_cmpneq_f64(zero, zero), valid[FA_SM_COLS];
    ptrdiff_t wv[FA_SM_COLS];
    for (int v = 0; v < FA_SM_COLS; v++) {
        wv[v] = full ? L : width - v * L > L ? L : width - v * L;
        valid[v] = full || wv[v] >= L ? fa_cmpeq_f64(zero, zero) : fa_tail_mask_f64(wv[v] > 0 ? wv[v] : 0);
        mx[v] = ninf;
        mn[v] = pinf;
    }
    if (op == FA_SM_OP_SOFTMAX && !LANEWISE && pd && !pd->raw_declined && (const double *)ys != xs) {
        if (fa_sm64_cols_softmax_raw(xs, mk, ys, n, inner, wv, nv, valid, full, HAS_MASK, pf))
            return 1;
        pd->raw_declined = 1;
    }
    /* 1. max, min and NaN */
    for (ptrdiff_t r = 0; r < n; r++)
        for (int v = 0; v < nv; v++) {
            const double *p = xs + r * inner + v * L;
            fa_mask_f64 in;
            fa_simd_f64 x = fa_sm64_col_ld(p, HAS_MASK ? mk + (p - xs) : NULL, wv[v], full, HAS_MASK, ninf, &in);
            nan = fa_mask_or_f64(nan, fa_cmpunord_f64(x, x));
            mx[v] = fa_max_f64(x, mx[v]);
            mn[v] = fa_min_f64(HAS_MASK || !full ? fa_select_f64(in, x, pinf) : x, mn[v]);
        }
    fa_mask_f64 bad = nan, wide = fa_cmpneq_f64(zero, zero);   /* entries below M - 650 */
    fa_simd_f64 Mv[FA_SM_COLS], Kv[FA_SM_COLS], magic_k[FA_SM_COLS], low[FA_SM_COLS];
    for (int v = 0; v < FA_SM_COLS; v++) {
        const fa_mask_f64 ok = fa_cmplt_f64(fa_abs_f64(mx[v]), fa_set1_f64(FA_SM64_DIRECT_LIMIT));
        if (v < nv) {
            bad = fa_mask_or_f64(bad, fa_mask_and_f64(valid[v], fa_mask_not_f64(ok)));
            wide = fa_mask_or_f64(wide, fa_mask_and_f64(valid[v], fa_cmplt_f64(mn[v], fa_sub_f64(mx[v], fa_set1_f64(650.0)))));
        }
        Mv[v] = v < nv ? fa_select_f64(valid[v], mx[v], zero) : zero;
        Kv[v] = fa_sub_f64(fa_fmadd_f64(Mv[v], fa_set1_f64(FA_LOG2E_F64), fa_set1_f64(FA_MAGIC_F64)),
                           fa_set1_f64(FA_MAGIC_F64));
        magic_k[v] = fa_fnmadd_f64(Kv[v], fa_set1_f64(16.0), fa_set1_f64(FA_MAGIC_F64));   /* exact */
        low[v] = fa_sub_f64(Mv[v], fa_set1_f64(760.0));
    }
    if (fa_mask_any_f64(bad))
        return 0;
    if (op == FA_SM_OP_LSE && !LANEWISE && fa_sm64_cols_lse_unshifted(xs, mk, lse_out, sg, n, inner, width, wv, nv, valid, Mv,
                                                         full, HAS_MASK))
        return 1;
    /* 2. the sums */
    fa_simd_f64 t[FA_SM_COLS], tc[FA_SM_COLS], c[FA_SM_COLS];
    for (int v = 0; v < FA_SM_COLS; v++) {
        t[v] = zero; tc[v] = zero; c[v] = zero;
    }
    /* a block with entries below M - 650: its terms at the scale 2^(K - FA_EXP_SHIFT_BIAS), all
     * normal (FA_EXP_SHIFT_BIASED, no branch), the bias taken out in step 3 or 4 */
    const int biased = LANEWISE || fa_mask_any_f64(wide);
    if (biased) {
        for (int v = 0; v < FA_SM_COLS; v++)
            magic_k[v] = fa_add_f64(magic_k[v], fa_set1_f64(16.0 * FA_EXP_SHIFT_BIAS));   /* exact */
        fa_sm64_cols_sum(xs, mk, ys, n, inner, wv, nv, Mv, magic_k, low, t, tc, c, pd, op, full, HAS_MASK,
                         FA_EXP_SHIFT_BIASED, pf);
    } else
        fa_sm64_cols_sum(xs, mk, ys, n, inner, wv, nv, Mv, magic_k, low, t, tc, c, pd, op, full, HAS_MASK, FA_SM64_DIRECT, pf);
    if (op == FA_SM_OP_SOFTMAX) {
        fa_sm64_cols_softmax_scale(ys, n, inner, wv, nv, valid, Mv, magic_k, low, t, tc, biased, full, pf);
        return 1;
    }
    /* 3. l = log(C + T), T = U e^(K ln2 - M) */
    fa_simd_f64 lv[FA_SM_COLS], Th[FA_SM_COLS], Tl[FA_SM_COLS];
    fa_sm64_cols_logs(nv, valid, Mv, Kv, t, tc, c, biased, lv, Th, Tl);
    if (op == FA_SM_OP_LOG_SOFTMAX && full && pd) {
        /* 4. y = (x - M) - l, left for the next block's sum pass (or the flush) */
        for (int v = 0; v < FA_SM_COLS; v++) {
            pd->M[v] = Mv[v];
            pd->l[v] = lv[v];
        }
        pd->x = xs; pd->mk = mk; pd->y = ys; pd->active = 1;
        return 1;
    }
    if (op == FA_SM_OP_LOG_SOFTMAX) {
        /* 4. y = (x - M) - l; -inf where left out */
        for (ptrdiff_t r = 0; r < n; r++)
            for (int v = 0; v < nv; v++) {
                const ptrdiff_t at = r * inner + v * L;
                if (full && (pf & FA_COLS_PF_NEXT))
                    __builtin_prefetch(ys + at + FA_SM_BLOCK, 1, 3);
                fa_mask_f64 in;
                fa_simd_f64 x = fa_sm64_col_ld(xs + at, HAS_MASK ? mk + at : NULL, wv[v], full, HAS_MASK, ninf, &in);
                fa_sm64_col_st(ys + at, fa_sub_f64(fa_sub_f64(x, Mv[v]), lv[v]), wv[v], full);
            }
        return 1;
    }
    /* 4. logsumexp: M + l, the cancelling columns again */
    fa_sm64_cols_lse_out(xs, mk, lse_out, sg, n, inner, width, wv, nv, valid, Mv, lv, c, Th, Tl, full, HAS_MASK);
    return 1;
}

static int fa_sm64_cols_block(const double *xs, const unsigned char *mk, double *ys, double *lse_out, double *sg,
                              ptrdiff_t n, ptrdiff_t inner, ptrdiff_t width, fa_sm64_cols_pending *pd, int op, int pf)
{
#define FA__BODY(OP, FULL, MASK) fa_sm64_cols_block_body(xs, mk, ys, lse_out, sg, n, inner, width, pd, OP, FULL, MASK, 0, pf)
    FA_SM_COLS_BODY_DISPATCH(width == FA_SM_BLOCK)
#undef FA__BODY
}

/* float64 columns without weights (where= or not): each block through fa_sm64_cols_block; a
 * block it declines through the generic code of fa_columns.h
 * (exact differences, specials per docs/SPEC.md). */
static void fa_sm_cols_fast_f64(const double *x, double *y, double *sg, ptrdiff_t outer, ptrdiff_t n,
                                ptrdiff_t inner, ptrdiff_t cols, const unsigned char *mk, int op)
{
    fa_sm64_cols_pending pd;
    pd.x = NULL; pd.mk = NULL; pd.y = NULL;
    pd.active = 0;
    pd.raw_declined = !FA_SM64_RAW(n, inner * (ptrdiff_t)sizeof(double));
    for (ptrdiff_t o = 0; o < outer; o++) {
        const double *xs = x + o * n * inner;
        const unsigned char *ms = mk ? mk + o * n * inner : NULL;
        for (ptrdiff_t j = 0; j < cols; j += FA_SM_BLOCK) {
            const ptrdiff_t width = cols - j < FA_SM_BLOCK ? cols - j : FA_SM_BLOCK;
            double *ls = y + o * inner + j, *ss = sg ? sg + o * inner + j : NULL;
            const unsigned char *mj = ms ? ms + j : NULL;
            if (fa_sm64_cols_block(xs + j, mj, y + o * n * inner + j, ls, ss, n, inner, width,
                                   op == FA_SM_OP_LSE ? NULL : &pd, op, fa_cols_prefetch_bits(j, FA_SM_BLOCK, cols)))
                continue;
            fa_sm64_cols_flush(&pd, n, inner);
            if (op == FA_SM_OP_LSE)
                fa_sm_lse_cols_f64(xs + j, ls, 1, n, inner, width, mj, NULL, ss);
            else
                fa_sm_cols_f64(xs + j, y + o * n * inner + j, 1, n, inner, width, mj, op);
        }
        fa_sm64_cols_flush(&pd, n, inner);
    }
}

#endif /* FA_COLUMNS_F64_H */
