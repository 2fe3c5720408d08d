/*
 * reductions/fa_lanes.h -- building blocks of the reductions on float64 lanes and per dtype:
 * softmax entries, loads and stores of a dtype as float64 lanes, y *= a scale pair,
 * log_softmax's y = (x - M) - l, a chunk's max and min.
 */
#ifndef FA_LANES_H
#define FA_LANES_H

/* ---- softmax entries; their exps (fa_sm_exp_*) are in math/fa_math_f64.h, fa_math_f32.h ---- */

/* softmax entry for float64 data: e^(x - M) * (ih + il), ih + il = 1/S as a double-double,
 * 2^floor(n/16) applied last.  (Folding l = log S into the exponent instead would cost the
 * rounding of l, up to 2 ULP once l > 4.) */
FA_INLINE fa_simd_f64 fa_sm_softmax_entry_f64(fa_simd_f64 x, fa_simd_f64 M, fa_simd_f64 ih, fa_simd_f64 il)
{
    fa_simd_f64 t, n, em = fa_sm_exp_diff_f64(x, M, &t, &n);
    return fa_scale_exp_f64(fa_fmadd_f64(em, ih, fa_mul_f64(em, il)), t, n);
}

/* the two per-slice constants of a softmax entry: float64 data (ih, il) = 1/(C + T) as a
 * double-double; float32 data (l, unused) */
FA_INLINE void fa_sm_entry_params(const void *stats, double l, int is_f64, double *a1, double *a2);

/* softmax entry for float32 data: x - M is exact in float64, (x - M) - l rounds at 2^-53. */
FA_INLINE fa_simd_f64 fa_sm_softmax_entry_f32(fa_simd_f64 x, fa_simd_f64 M, fa_simd_f64 l, fa_simd_f64 unused)
{
    (void)unused;
    return fa_sm_exp_lo_f64(fa_sub_f64(fa_sub_f64(x, M), l));
}

/* ---- loads and stores of a data type as float64 lanes ---- */
FA_INLINE fa_simd_f64 fa_sm_ld_f32(const float *p) { return fa_loadu_f32_as_f64(p); }
FA_INLINE fa_simd_f64 fa_sm_ld_f64(const double *p) { return fa_loadu_f64(p); }
FA_INLINE fa_simd_f64 fa_sm_ldt_f32(const float *p, ptrdiff_t n, double fill) { return fa_load_tail_f32_as_f64(p, n, fill); }
FA_INLINE fa_simd_f64 fa_sm_ldt_f64(const double *p, ptrdiff_t n, double fill) { return fa_load_tail_f64(p, n, fill); }
FA_INLINE void fa_sm_st_f32(float *p, fa_simd_f64 v) { fa_storeu_f64_as_f32(p, v); }
FA_INLINE void fa_sm_st_f64(double *p, fa_simd_f64 v) { fa_storeu_f64(p, v); }
FA_INLINE void fa_sm_stt_f32(float *p, fa_simd_f64 v, ptrdiff_t n) { fa_store_tail_f64_as_f32(p, v, n); }
FA_INLINE void fa_sm_stt_f64(double *p, fa_simd_f64 v, ptrdiff_t n) { fa_store_tail_f64(p, v, n); }
/* e^(x - m) for the sums, with the relative accuracy of each term (l = log1p(T/C)
 * needs it when one entry dominates).  float32 data: x - m is exact in float64 and a
 * float32-accurate exp suffices.  float64 data: x - m as a two-sum fed into the reduction. */
FA_INLINE fa_simd_f64 fa_sm_sum_exp_f32(fa_simd_f64 x, fa_simd_f64 m) { return fa_sm_exp_lo_f64(fa_sub_f64(x, m)); }
FA_INLINE fa_simd_f64 fa_sm_sum_exp_f64(fa_simd_f64 x, fa_simd_f64 m)
{
    fa_simd_f64 t, n, em = fa_sm_exp_diff_f64(x, m, &t, &n);
    return fa_scale_exp_f64(em, t, n);
}

/* t += term (Kahan, error in *tc) unless x is at the max, where c += 1 instead */
FA_INLINE void fa_sm_sum_step_store_f64(fa_simd_f64 x, fa_simd_f64 term, fa_simd_f64 mkv,
                                        fa_simd_f64 *t, fa_simd_f64 *tc, fa_simd_f64 *c)
{
    fa_mask_f64 at = fa_cmpeq_f64(x, mkv);
    fa_kahan_add_f64(t, tc, fa_select_f64(at, fa_set1_f64(0.0), term));
    *c = fa_add_f64(*c, fa_select_f64(at, fa_set1_f64(1.0), fa_set1_f64(0.0)));
}

/* y *= (hi + lo), in place: a scale factor carried as a pair, one rounding per entry.
 * float32 (stored softmax terms w in [2^-126.5, 2.9] or 0, times hi + lo ~ 1/S): the products
 * are formed 2^100 higher, fh = hi 2^100 and fl = lo 2^100 (fa_scale_pair_f32), so that w lo
 * never underflows, and p = w fh + w fl (one rounding) is brought down by 2^-100 (exact: the
 * same bits as w hi + w lo) unless it lands below 2^-126.  Those results are subnormal: an
 * instruction forming one takes a microcode assist of ~150 cycles on Intel cores with FTZ
 * off (a float32 softmax of uniform +-50 rows of 1024, 13% of them below 2^-126: 8.4 ms
 * against 0.5 ms for N(0, 3) rows; torch 9.9 ms), so a vector holding one (a branch) has
 * them built on the integer side: p 2^49 (exact) rounded to an integer by adding 2^23, its
 * bits less 2^23's.  That rounds p a second time: within one subnormal spacing (2^-149),
 * where SPEC section 6 asks one smallest normal.  The whole-row scaling decides once per 4
 * vectors (fa_scale_pair4_f32): uniform +-50 rows, (1024, 1024) 0.9 -> 0.53 ms, (64, 50257)
 * 2.9 -> 1.5 ms, N(0, 3) rows unchanged (0.44, 1.6), the same bits. */
#define FA_SCALE_PAIR_UP 0x1p100f
/* p (w fh + w fl, 2^100 high) brought down, the lanes below 2^-126 (p < 2^-26) on the
 * integer side, with no branch */
FA_INLINE fa_simd_f32 fa_scale_pair_down_f32(fa_simd_f32 p)
{
    const fa_simd_f32 two23 = fa_set1_f32(0x1p23f);
    fa_mask_f32 low = fa_cmplt_f32(p, fa_set1_f32(0x1p-26f));              /* 0 included: 0 */
    fa_simd_f32 tiny = fa_bits_sub_f32(fa_fmadd_f32(p, fa_set1_f32(0x1p49f), two23), two23);
    fa_simd_f32 plain = fa_mul_f32(fa_select_f32(low, fa_set1_f32(1.0f), p), fa_set1_f32(0x1p-100f));
    return fa_select_f32(low, tiny, plain);
}

/* lanes of p whose result is subnormal (0 < p < 2^-26) */
FA_INLINE fa_mask_f32 fa_scale_pair_deep_f32(fa_simd_f32 p)
{
    return fa_mask_and_f32(fa_cmplt_f32(p, fa_set1_f32(0x1p-26f)), fa_cmpgt_f32(p, fa_set1_f32(0.0f)));
}

FA_INLINE fa_simd_f32 fa_scale_pair_f32(fa_simd_f32 w, fa_simd_f32 fh, fa_simd_f32 fl)
{
    fa_simd_f32 p = fa_fmadd_f32(w, fh, fa_mul_f32(w, fl));
    if (FA_LIKELY(!fa_mask_any_f32(fa_scale_pair_deep_f32(p))))
        return fa_mul_f32(p, fa_set1_f32(0x1p-100f));
    return fa_scale_pair_down_f32(p);
}

/* the same for 4 vectors at y (in place), one branch for the 4: rows with many subnormal
 * results (uniform +-50: 13% of them, in most vectors) took a mispredicted branch per vector,
 * 2x the time of N(0, 3) rows; with one per block the branch goes the same way for most blocks
 * of such rows, and the N(0, 3) rows keep the single multiply */
FA_INLINE void fa_scale_pair4_f32(float *y, fa_simd_f32 fh, fa_simd_f32 fl)
{
    const ptrdiff_t L = FA_LANES_F32;
    fa_simd_f32 p[4];
    for (int k = 0; k < 4; k++) {
        const fa_simd_f32 w = fa_loadu_f32(y + k * L);
        p[k] = fa_fmadd_f32(w, fh, fa_mul_f32(w, fl));
    }
    const fa_mask_f32 deep = fa_mask_or_f32(fa_mask_or_f32(fa_scale_pair_deep_f32(p[0]), fa_scale_pair_deep_f32(p[1])),
                                            fa_mask_or_f32(fa_scale_pair_deep_f32(p[2]), fa_scale_pair_deep_f32(p[3])));
    if (FA_LIKELY(!fa_mask_any_f32(deep)))
        for (int k = 0; k < 4; k++)
            fa_storeu_f32(y + k * L, fa_mul_f32(p[k], fa_set1_f32(0x1p-100f)));
    else
        for (int k = 0; k < 4; k++)
            fa_storeu_f32(y + k * L, fa_scale_pair_down_f32(p[k]));
}

/* y *= f in place, f given as fh + fl = f 2^100 (two floats) */
FA_INLINE void fa_sm_scale_pair_up_f32(float *y, ptrdiff_t len, float fh_up, float fl_up)
{
    const ptrdiff_t L = FA_LANES_F32;
    const fa_simd_f32 fh = fa_set1_f32(fh_up), fl = fa_set1_f32(fl_up);
    ptrdiff_t i = 0;
    for (; i + 4 * L <= len; i += 4 * L)
        fa_scale_pair4_f32(y + i, fh, fl);
    for (; i < len; i += L) {
        const ptrdiff_t left = len - i;
        fa_simd_f32 v = left >= L ? fa_loadu_f32(y + i) : fa_load_tail_f32(y + i, left, 0);
        v = fa_scale_pair_f32(v, fh, fl);
        if (left >= L) fa_storeu_f32(y + i, v); else fa_store_tail_f32(y + i, v, left);
    }
}

FA_INLINE void fa_sm_scale_pair_f32(float *y, ptrdiff_t len, float hi, float lo)
{
    fa_sm_scale_pair_up_f32(y, len, hi * FA_SCALE_PAIR_UP, lo * FA_SCALE_PAIR_UP);
}

/* y = (x - M) - l over a row (log_softmax's output pass: x <= M and l >= 0, no cancellation) */
#define FA_SM_DEFINE_LOG_OUT(T)                                                                   \
FA_INLINE void fa_sm_log_out_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t n,          \
                                 fa_scalar_##T M, fa_scalar_##T l)                                \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_##T;                                                             \
    const fa_simd_##T Mv = fa_set1_##T(M), lv = fa_set1_##T(l);                                   \
    ptrdiff_t i = 0;                                                                              \
    for (; i + 2 * L <= n; i += 2 * L) {                                                          \
        fa_storeu_##T(y + i, fa_sub_##T(fa_sub_##T(fa_loadu_##T(x + i), Mv), lv));                \
        fa_storeu_##T(y + i + L, fa_sub_##T(fa_sub_##T(fa_loadu_##T(x + i + L), Mv), lv));        \
    }                                                                                             \
    for (; i < n; i += L) {                                                                       \
        const ptrdiff_t left = n - i;                                                             \
        fa_simd_##T v = left >= L ? fa_loadu_##T(x + i) : fa_load_tail_##T(x + i, left, 0);       \
        v = fa_sub_##T(fa_sub_##T(v, Mv), lv);                                                    \
        if (left >= L) fa_storeu_##T(y + i, v); else fa_store_tail_##T(y + i, v, left);           \
    }                                                                                             \
}
FA_SM_DEFINE_LOG_OUT(f32)
FA_SM_DEFINE_LOG_OUT(f64)

/* max and min of a chunk (NaN skipped) over the entries the where= mask mk keeps (NULL: all;
 * -inf and +inf if none) */
#define FA_SM_DEFINE_MAX_MIN(T)                                                                   \
FA_INLINE void fa_sm_chunk_max_min_##T(const fa_scalar_##T *x, const unsigned char *mk, ptrdiff_t n,   \
                                       double *mx, double *mn)                                    \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_##T;                                                             \
    const fa_simd_##T ninf = fa_set1_##T(-INFINITY), pinf = fa_set1_##T(INFINITY);                \
    fa_simd_##T a0 = ninf, a1 = a0, b0 = pinf, b1 = b0;                                           \
    ptrdiff_t i = 0;                                                                              \
    for (; i + 2 * L <= n; i += 2 * L) {                                                          \
        fa_simd_##T v0 = fa_loadu_##T(x + i), v1 = fa_loadu_##T(x + i + L);                       \
        if (mk) {                                                                                 \
            const fa_mask_##T in0 = fa_load_mask_u8_##T(mk + i), in1 = fa_load_mask_u8_##T(mk + i + L); \
            a0 = fa_max_##T(fa_select_##T(in0, v0, ninf), a0);                                    \
            a1 = fa_max_##T(fa_select_##T(in1, v1, ninf), a1);                                    \
            b0 = fa_min_##T(fa_select_##T(in0, v0, pinf), b0);                                    \
            b1 = fa_min_##T(fa_select_##T(in1, v1, pinf), b1);                                    \
        } else {                                                                                  \
            a0 = fa_max_##T(v0, a0); a1 = fa_max_##T(v1, a1);                                     \
            b0 = fa_min_##T(v0, b0); b1 = fa_min_##T(v1, b1);                                     \
        }                                                                                         \
    }                                                                                             \
    for (; i < n; i += L) {                                                                       \
        const ptrdiff_t left = n - i;                                                             \
        if (mk) {                                                                                 \
            const fa_mask_##T in = left >= L ? fa_load_mask_u8_##T(mk + i) : fa_load_tail_mask_u8_##T(mk + i, left); \
            const fa_simd_##T v = left >= L ? fa_loadu_##T(x + i) : fa_load_tail_##T(x + i, left, 0); \
            a0 = fa_max_##T(fa_select_##T(in, v, ninf), a0);                                      \
            b0 = fa_min_##T(fa_select_##T(in, v, pinf), b0);                                      \
        } else {                                                                                  \
            a0 = fa_max_##T(left >= L ? fa_loadu_##T(x + i) : fa_load_tail_##T(x + i, left, -INFINITY), a0); \
            b0 = fa_min_##T(left >= L ? fa_loadu_##T(x + i) : fa_load_tail_##T(x + i, left, INFINITY), b0); \
        }                                                                                         \
    }                                                                                             \
    *mx = fa_reduce_max_##T(fa_max_##T(a0, a1));                                                  \
    *mn = -fa_reduce_max_##T(fa_neg_##T(fa_min_##T(b0, b1)));                                     \
}
FA_SM_DEFINE_MAX_MIN(f32)
FA_SM_DEFINE_MAX_MIN(f64)

#endif /* FA_LANES_H */
