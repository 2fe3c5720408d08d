/*
 * reductions/fa_columns.h -- a non-last axis (inner > 1): what every column kernel shares
 * (the ops, the block widths, the prefetch rule, the per-(op, block, mask) body dispatch),
 * and the generic columns in float64 lanes (FA_SM_DEFINE_COLS: both dtypes, with or without
 * a where= mask and logsumexp weights).
 *
 * Design.  The statistics of the rows (fa_reductions.h), vectorised across `inner`.  A block
 * of FA_SM_COLS vectors of columns (FA_SM_BLOCK columns, one float64 lane each) is walked in
 * chunks of rows that fit in L1 (fa_sm_col_stats_T: chunk max, then chunk sums from L1);
 * each lane keeps its own (M, T, C), merged with one vector exp per chunk (the maxima's gap
 * as a two-sum, fa_sm_merge_lanes); the lanes are finished in scalar code (one log1p per
 * column).  Outputs: fa_sm_cols_T (softmax, log_softmax: one more read of the block),
 * fa_sm_lse_cols_T (logsumexp through fa_sm_lse_value_T: special, weighted and cancelling
 * columns).
 * Range: any.  Special columns (NaN, +inf, all -inf, all left out) as docs/SPEC.md
 * section 4.  Weighted logsumexp columns always come here; without weights the entries of
 * the dispatch table (fa_route.h) try the fast column blocks first, and only the blocks
 * they decline (specials; float64 maxima beyond +-2^16) come here:
 *   float32: fa_columns_f32.h (its stages fa_col_stats_f32.h, fa_col_lse_f32.h,
 *     fa_col_output_f32.h): whole reads of FA_SM_BLOCK32 columns in float32 lanes, finished
 *     in float64 lanes once per block;
 *   float64: fa_columns_f64.h, the rows' direct reduction across lanes.
 */
#ifndef FA_COLUMNS_H
#define FA_COLUMNS_H

/* what a column kernel computes */
enum { FA_SM_OP_SOFTMAX = 0, FA_SM_OP_LOG_SOFTMAX = 1, FA_SM_OP_LSE = 2 };

/* the generic and the float64 column blocks: FA_SM_COLS vectors of FA_LANES_F64 columns */
#define FA_SM_BLOCK (FA_SM_COLS * FA_LANES_F64)
/* float32 column blocks (fa_columns_f32.h): FA_SM_COLS vectors of FA_LANES_F32 columns */
#define FA_SM_BLOCK32 (FA_SM_COLS * FA_LANES_F32)

/* The column blocks prefetch the lines of x and y one block (FA_COLS_PF_NEXT) or two blocks
 * (FA_COLS_PF_NEXT2) ahead in the same rows, only where those blocks belong to this call's
 * columns [0, cols): past them the lines are another thread's when the call is one part of a
 * split by columns (fa_dispatch.c), and a write prefetch there took them from the core that
 * was writing them (float32 (1024, 1024) softmax along axis 0: 1.06x on 2 threads against
 * 1); with the whole rows, past the last block lies the next row's first block, done already. */
enum { FA_COLS_PF_NEXT = 1, FA_COLS_PF_NEXT2 = 2 };
FA_INLINE int fa_cols_prefetch_bits(ptrdiff_t j, ptrdiff_t block, ptrdiff_t cols)
{
    return (j + 2 * block <= cols ? FA_COLS_PF_NEXT : 0) | (j + 3 * block <= cols ? FA_COLS_PF_NEXT2 : 0);
}

/* a column block body instantiated per (op, whole block, mask): the loops of a whole block
 * unrolled with constant op and no mask tests; FA__BODY(OP, FULL, MASK) defined by the caller */
#define FA_SM_COLS_BODY_DISPATCH(WHOLE)                                                           \
    if ((WHOLE) && !mk) {                                                                         \
        if (op == FA_SM_OP_SOFTMAX) return FA__BODY(FA_SM_OP_SOFTMAX, 1, 0);                      \
        if (op == FA_SM_OP_LOG_SOFTMAX) return FA__BODY(FA_SM_OP_LOG_SOFTMAX, 1, 0);              \
        return FA__BODY(FA_SM_OP_LSE, 1, 0);                                                      \
    }                                                                                             \
    if (WHOLE) {                                                                                  \
        if (op == FA_SM_OP_SOFTMAX) return FA__BODY(FA_SM_OP_SOFTMAX, 1, 1);                      \
        if (op == FA_SM_OP_LOG_SOFTMAX) return FA__BODY(FA_SM_OP_LOG_SOFTMAX, 1, 1);              \
        return FA__BODY(FA_SM_OP_LSE, 1, 1);                                                      \
    }                                                                                             \
    return mk ? FA__BODY(op, 0, 1) : FA__BODY(op, 0, 0);

/* ---- the generic columns: float64 lanes, chunks of rows ---- */
/* e^(a - g) for a <= g (where `up`; else 1): a - g as a two-sum fed into the reduction.
 * float64 data: the maxima's difference rounds (~ulp(g) absolute), which e^ would turn into
 * ~ulp(g) relative error in every rescaled chunk sum (10 ULP of log_softmax's dominant entry
 * for maxima ~30); float32 data in float64 lanes: the difference is exact, the low part 0. */
FA_INLINE fa_simd_f64 fa_sm_exp_gap_f64(fa_simd_f64 a, fa_simd_f64 g, fa_mask_f64 up)
{
    const fa_simd_f64 zero = fa_set1_f64(0.0);
    fa_simd_f64 e, d = fa_two_sum_f64(a, fa_neg_f64(g), &e);
    d = fa_select_f64(up, d, zero);
    e = fa_select_f64(fa_mask_and_f64(up, fa_cmplt_f64(fa_abs_f64(d), fa_set1_f64(INFINITY))), e, zero);
    fa_simd_f64 t, n, em = fa_exp_neg_f64(d, e, FA_EXP_LOW, &t, &n);
    return fa_scale_exp_f64(em, t, n);
}

/* merge per-lane chunk statistics (mk, tk, ck) into (M, T, C); the additions into T are
 * compensated (Kahan, error in *Tc) so that many chunks keep T to ~1 ULP */
FA_INLINE void fa_sm_merge_lanes(fa_simd_f64 *M, fa_simd_f64 *T, fa_simd_f64 *Tc, fa_simd_f64 *C,
                                 fa_simd_f64 mk, fa_simd_f64 tk, fa_simd_f64 ck)
{
    const fa_simd_f64 zero = fa_set1_f64(0.0);
    fa_simd_f64 g = fa_max_f64(*M, mk);
    fa_mask_f64 upM = fa_cmplt_f64(*M, g), upk = fa_cmplt_f64(mk, g);
    fa_simd_f64 fM = fa_sm_exp_gap_f64(*M, g, upM);
    fa_simd_f64 fk = fa_sm_exp_gap_f64(mk, g, upk);
    fa_simd_f64 base = fa_sub_f64(*T, *Tc);
    *T = fa_select_f64(upM, fa_mul_f64(fa_add_f64(base, *C), fM), *T);
    *Tc = fa_select_f64(upM, zero, *Tc);
    fa_simd_f64 y = fa_sub_f64(fa_select_f64(upk, fa_mul_f64(fa_add_f64(tk, ck), fk), tk), *Tc);
    fa_simd_f64 t = fa_add_f64(*T, y);
    *Tc = fa_sub_f64(fa_sub_f64(t, *T), y);
    *T = t;
    *C = fa_add_f64(fa_select_f64(upM, zero, *C), fa_select_f64(upk, zero, ck));
    *M = g;
}

#define FA_SM_DEFINE_COLS(T)                                                                      \
/* entries of a row segment as float64 lanes: excluded ones -inf, `in` = included */             \
FA_INLINE fa_simd_f64 fa_sm_col_load_##T(const fa_scalar_##T *x, const unsigned char *mk,        \
                                         const fa_scalar_##T *b, ptrdiff_t at, ptrdiff_t width,   \
                                         fa_simd_f64 *w, fa_mask_f64 *in, int HAS_MASK, int HAS_B) \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    x += at;                                                                                      \
    if (HAS_MASK) mk += at;              /* mk and b may be NULL where not used */                \
    if (HAS_B) b += at;                                                                           \
    const int full = width >= L;                                                                  \
    fa_simd_f64 v = full ? fa_sm_ld_##T(x) : fa_sm_ldt_##T(x, width, -INFINITY);                  \
    fa_mask_f64 inc = full ? fa_cmpeq_f64(fa_set1_f64(0.0), fa_set1_f64(0.0)) : fa_tail_mask_f64(width); \
    *w = fa_set1_f64(1.0);                                                                        \
    if (HAS_B) {                                                                                  \
        *w = full ? fa_sm_ld_##T(b) : fa_sm_ldt_##T(b, width, 0.0);                               \
        inc = fa_mask_and_f64(inc, fa_cmpneq_f64(*w, fa_set1_f64(0.0)));                          \
    }                                                                                             \
    if (HAS_MASK)                                                                                 \
        inc = fa_mask_and_f64(inc, full ? fa_load_mask_u8_f64(mk) : fa_load_tail_mask_u8_f64(mk, width)); \
    *in = inc;                                                                                    \
    if (HAS_MASK || HAS_B)                                                                        \
        v = fa_select_f64(inc, v, fa_set1_f64(-INFINITY));                                        \
    return v;                                                                                     \
}                                                                                                 \
                                                                                                  \
/* statistics of columns [0, width) of an (n, inner) slab; results per column in the arrays */   \
static void fa_sm_col_stats_##T(const fa_scalar_##T *x, const unsigned char *mk,                  \
                                const fa_scalar_##T *b, ptrdiff_t n, ptrdiff_t inner,            \
                                ptrdiff_t width, double *Mo, double *To, double *Co,              \
                                int HAS_MASK, int HAS_B)                                          \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    const ptrdiff_t rows = FA_SM_CHUNK_BYTES / (FA_SM_BLOCK * (ptrdiff_t)sizeof(fa_scalar_##T)); \
    const ptrdiff_t nv = (width + L - 1) / L;                                                     \
    ptrdiff_t wv[FA_SM_COLS];                                                                     \
    fa_simd_f64 M[FA_SM_COLS], Ts[FA_SM_COLS], Tc[FA_SM_COLS], C[FA_SM_COLS];                     \
    for (int v = 0; v < FA_SM_COLS; v++) {                                                        \
        wv[v] = width - v * L > L ? L : width - v * L;                                            \
        M[v] = fa_set1_f64(-INFINITY); Ts[v] = fa_set1_f64(0.0); C[v] = Ts[v]; Tc[v] = Ts[v];     \
    }                                                                                             \
    for (ptrdiff_t r0 = 0; r0 < n; r0 += rows) {                                                  \
        const ptrdiff_t r1 = n - r0 < rows ? n : r0 + rows;                                       \
        fa_simd_f64 mx[FA_SM_COLS], ms[FA_SM_COLS], t[FA_SM_COLS], tc[FA_SM_COLS], c[FA_SM_COLS], w;              \
        fa_mask_f64 in;                                                                           \
        for (int v = 0; v < FA_SM_COLS; v++) {                                                    \
            mx[v] = fa_set1_f64(-INFINITY); t[v] = fa_set1_f64(0.0); c[v] = t[v]; tc[v] = t[v];                 \
        }                                                                                         \
        for (ptrdiff_t r = r0; r < r1; r++)                                                       \
            for (int v = 0; v < nv; v++) {                                                        \
                /* the next block's entries of this row (rows are inner apart: too far for   \
                 * the hardware prefetchers); a hint, harmless past the array */              \
                __builtin_prefetch(x + r * inner + v * L + FA_SM_BLOCK, 0, 3);                    \
                fa_simd_f64 e = fa_sm_col_load_##T(x, mk, b, r * inner + v * L, wv[v], &w, &in, HAS_MASK, HAS_B); \
                mx[v] = fa_max_f64(e, mx[v]);                                                     \
            }                                                                                     \
        for (int v = 0; v < nv; v++)                                                              \
            ms[v] = fa_select_f64(fa_cmpeq_f64(mx[v], fa_set1_f64(-INFINITY)), fa_set1_f64(0.0), mx[v]); \
        for (ptrdiff_t r = r0; r < r1; r++)                                                       \
            for (int v = 0; v < nv; v++) {                                                        \
                fa_simd_f64 e = fa_sm_col_load_##T(x, mk, b, r * inner + v * L, wv[v], &w, &in, HAS_MASK, HAS_B); \
                fa_sm_sum_step_##T(e, w, in, ms[v], &t[v], &tc[v], &c[v], 1, HAS_B);                      \
            }                                                                                     \
        for (int v = 0; v < nv; v++)                                                              \
            fa_sm_merge_lanes(&M[v], &Ts[v], &Tc[v], &C[v], mx[v], fa_sub_f64(t[v], tc[v]), c[v]);                         \
    }                                                                                             \
    for (int v = 0; v < nv; v++) {                                                                \
        fa_storeu_f64(Mo + v * L, M[v]);                                                          \
        fa_storeu_f64(To + v * L, fa_sub_f64(Ts[v], Tc[v]));                                      \
        fa_storeu_f64(Co + v * L, C[v]);                                                          \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
static void fa_sm_cols_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,            \
                           ptrdiff_t n, ptrdiff_t inner, ptrdiff_t cols, const unsigned char *mk, \
                           int LOG)                                                               \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    double Mo[FA_SM_BLOCK], To[FA_SM_BLOCK], Co[FA_SM_BLOCK], A1[FA_SM_BLOCK], A2[FA_SM_BLOCK], Sp[FA_SM_BLOCK]; \
    const fa_simd_f64 off = fa_set1_f64(LOG ? -INFINITY : 0.0), nan = fa_set1_f64(NAN);          \
    for (ptrdiff_t o = 0; o < outer; o++) {                                                       \
        const fa_scalar_##T *xs = x + o * n * inner;                                              \
        fa_scalar_##T *ys = y + o * n * inner;                                                    \
        const unsigned char *ms = mk ? mk + o * n * inner : NULL;                                 \
        for (ptrdiff_t j = 0; j < cols; j += FA_SM_BLOCK) {                                       \
            const ptrdiff_t width = cols - j < FA_SM_BLOCK ? cols - j : FA_SM_BLOCK;              \
            const ptrdiff_t nv = (width + L - 1) / L;                                             \
            if (ms) fa_sm_col_stats_##T(xs + j, ms + j, NULL, n, inner, width, Mo, To, Co, 1, 0); \
            else fa_sm_col_stats_##T(xs + j, NULL, NULL, n, inner, width, Mo, To, Co, 0, 0);      \
            for (ptrdiff_t k = 0; k < nv * L; k++) {                                              \
                fa_sm_stats s = {Mo[k], To[k], Co[k], 0.0};                                            \
                double l = 0, sign;                                                               \
                Sp[k] = k < width && fa_sm_finish(&s, &l, &sign) == FA_SM_SPECIAL;                \
                if (Sp[k] || k >= width) { Mo[k] = 0; l = 0; s.M = 0; s.t = 0; s.C = 1; }           \
                fa_sm_entry_params(&s, l, sizeof(fa_scalar_##T) == 8, &A1[k], &A2[k]);           \
                To[k] = l;                                                                        \
            }                                                                                     \
            fa_simd_f64 Mv[FA_SM_COLS], lv[FA_SM_COLS], a1[FA_SM_COLS], a2[FA_SM_COLS];           \
            fa_mask_f64 sp[FA_SM_COLS];                                                           \
            for (int v = 0; v < nv; v++) {                                                        \
                Mv[v] = fa_loadu_f64(Mo + v * L); lv[v] = fa_loadu_f64(To + v * L);               \
                a1[v] = fa_loadu_f64(A1 + v * L); a2[v] = fa_loadu_f64(A2 + v * L);               \
                sp[v] = fa_cmpneq_f64(fa_loadu_f64(Sp + v * L), fa_set1_f64(0.0));               \
            }                                                                                     \
            for (ptrdiff_t r = 0; r < n; r++)                                                     \
                for (int v = 0; v < nv; v++) {                                                    \
                    const ptrdiff_t at = r * inner + j + v * L;                                   \
                    const ptrdiff_t wd = width - v * L;                                           \
                    fa_simd_f64 e = wd >= L ? fa_sm_ld_##T(xs + at) : fa_sm_ldt_##T(xs + at, wd, 0.0); \
                    e = LOG ? fa_sub_f64(fa_sub_f64(e, Mv[v]), lv[v])                              \
                            : fa_sm_softmax_entry_##T(e, Mv[v], a1[v], a2[v]);                    \
                    e = fa_select_f64(sp[v], nan, e);                                             \
                    if (ms)                                                                       \
                        e = fa_select_f64(wd >= L ? fa_load_mask_u8_f64(ms + at)                  \
                                                  : fa_load_tail_mask_u8_f64(ms + at, wd), e, off); \
                    if (wd >= L) fa_sm_st_##T(ys + at, e); else fa_sm_stt_##T(ys + at, e, wd);   \
                }                                                                                 \
        }                                                                                         \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
static void fa_sm_lse_cols_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,        \
                               ptrdiff_t n, ptrdiff_t inner, ptrdiff_t cols, const unsigned char *mk, \
                               const fa_scalar_##T *b, fa_scalar_##T *sg)                         \
{                                                                                                 \
    double Mo[FA_SM_BLOCK], To[FA_SM_BLOCK], Co[FA_SM_BLOCK];                                     \
    for (ptrdiff_t o = 0; o < outer; o++) {                                                       \
        const ptrdiff_t base = o * n * inner;                                                     \
        for (ptrdiff_t j = 0; j < cols; j += FA_SM_BLOCK) {                                       \
            const ptrdiff_t width = cols - j < FA_SM_BLOCK ? cols - j : FA_SM_BLOCK;              \
            const fa_scalar_##T *xs = x + base + j;                                               \
            const unsigned char *ms = mk ? mk + base + j : NULL;                                  \
            const fa_scalar_##T *bs = b ? b + base + j : NULL;                                    \
            if (!ms && !bs) fa_sm_col_stats_##T(xs, NULL, NULL, n, inner, width, Mo, To, Co, 0, 0); \
            else if (!bs) fa_sm_col_stats_##T(xs, ms, NULL, n, inner, width, Mo, To, Co, 1, 0);   \
            else if (!ms) fa_sm_col_stats_##T(xs, NULL, bs, n, inner, width, Mo, To, Co, 0, 1);   \
            else fa_sm_col_stats_##T(xs, ms, bs, n, inner, width, Mo, To, Co, 1, 1);              \
            for (ptrdiff_t k = 0; k < width; k++) {                                               \
                fa_sm_stats s = {Mo[k], To[k], Co[k], 0.0};                                            \
                double sign;                                                                      \
                double v = fa_sm_lse_value_##T(&s, xs + k, n, inner, ms ? ms + k : NULL,          \
                                               bs ? bs + k : NULL, &sign);                        \
                if (sign < 0 && !sg) v = NAN;                                                     \
                y[o * inner + j + k] = (fa_scalar_##T)v;                                          \
                if (sg) sg[o * inner + j + k] = (fa_scalar_##T)sign;                              \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
}

FA_SM_DEFINE_COLS(f32)
FA_SM_DEFINE_COLS(f64)

#endif /* FA_COLUMNS_H */
