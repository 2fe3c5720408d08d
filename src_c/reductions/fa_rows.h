/*
 * reductions/fa_rows.h -- rows (inner == 1): the float32 stages' adapters, the float64-lane
 * rows (masks, weights, float32 rows with +inf: FA_SM_DEFINE_ROWS),
 * and the per-row routing (small softmax rows stored once, statistics, outputs).
 */
#ifndef FA_ROWS_H
#define FA_ROWS_H

/* ---- float32 rows: the stages in reductions/ (statistics pass, output pass) ---- */

/*
 * Row paths per dtype, each returning 0 where the row is not theirs (the float64-lane path
 * of FA_SM_DEFINE_ROWS then takes it):
 *   fa_sm_row_stats_fast_T     the statistics (float32 lanes, or float64's direct
 *                              reduction below; both with or without a where= mask)
 *   fa_sm_row_out_fast_T       the outputs from those statistics
 *   fa_sm_row_softmax_small_T  softmax of a row that stays in L2, each exp once (stored,
 *                              then scaled): FA_SM_OK, FA_SM_SPECIAL, or FA_SM_DECLINED
 */
enum { FA_SM_DECLINED = 2 };
#define FA_SM64_STORE_CHUNKS 32
#define FA_SM_SMALL_BYTES_f32 (FA_SM_STORE_CHUNKS * FA_SM_CHUNK_BYTES)
#define FA_SM_SMALL_BYTES_f64 (FA_SM64_STORE_CHUNKS * FA_SM_CHUNK_BYTES)   /* 512 KB: x and y stay in L2 */
/* the float32 small path stores terms into y before it knows whether the row is declined
 * (which re-reads x): with y == x, rows go through statistics + output */
#define FA_SM_SMALL_IN_PLACE_f32 0
#define FA_SM_SMALL_IN_PLACE_f64 1
#define FA_SM_OVERLAP_BYTES 4096     /* float32 softmax rows up to this: fa_sm_softmax_rows_f32 below */

FA_INLINE int fa_sm_row_stats_fast_f32(const float *x, const unsigned char *mk, ptrdiff_t n, fa_sm_stats *s,
                                       int terms)
{
    return fa_stats_row_f32(x, mk, n, s, NULL, NULL, NULL, terms);
}

/* A float32 row with one dominant entry (C = 1) whose l = log1p(T) is below 2^-80: its
 * log_softmax there is -l, and the statistics pass counts terms below 2^-127.5 e^M as 0
 * (fa_stats_f32.h), up to n 2^-127.5 of T, many ULPs of such an l (a "spread" row: one logit
 * 60, the others below -40, measured 10.9 ULP).  Such rows (rare: a logit gap above ~55)
 * get T again, exactly enough: sum of e^(x - M) in double (fa_exp_scalar_f64, libm's, ~0.5 ULP) over
 * the entries below M, then l = log1p(T).  Only the terms within e^-100 of the largest one
 * (x2, the largest entry below M, read first) are summed: the others add at most n 2^-144 of
 * T, nothing at double precision, and so are those whose exp underflows to 0 (x - M < -746),
 * which libm reaches through its slow underflow path.  (Columns, where 64 entries uniform in
 * +-800 have such a gap 11% of the time, take fa_sm_cols_tiny_l_f32 instead: float64 lanes
 * over 8 columns.) */
#define FA_SM_TINY_L 0x1p-80
/* a slice whose l = log1p(T) gets T counted again: one entry at the max (C = 1), l below
 * FA_SM_TINY_L (rows here, columns in fa_sm_cols_tiny_l_f32) */
FA_INLINE int fa_sm_tiny_l_needed(double C, double l)
{
    return C == 1.0 && l >= 0 && l < FA_SM_TINY_L;
}
FA_INLINE double fa_sm_tiny_l_f32(const float *x, const unsigned char *mk, ptrdiff_t n, const fa_sm_stats *s,
                                  double l)
{
    const double M = s->M;
    if (!fa_sm_tiny_l_needed(s->C, l))
        return l;
    double x2 = -INFINITY, T = 0.0, err = 0.0;
    for (ptrdiff_t k = 0; k < n; k++) {
        const double v = (double)x[k];
        if ((!mk || mk[k]) && v < M && v > x2)
            x2 = v;
    }
    const double lo = fmax(x2 - M - 100.0, -746.0);
    for (ptrdiff_t k = 0; k < n; k++) {
        const double d = (double)x[k] - M;
        if ((!mk || mk[k]) && d < 0 && d >= lo)
            fa_two_sum_acc(&T, &err, fa_exp_scalar_f64(d));
    }
    return log1p(T + err);
}

FA_INLINE void fa_sm_row_out_fast_f32(const float *x, const unsigned char *mk, float *y, ptrdiff_t n,
                                      const fa_sm_stats *s, double l, int LOG)
{
    fa_out_row_f32(x, mk, y, n, s->M, s->C + (s->t + s->te), l, LOG);
}

FA_INLINE int fa_sm_row_softmax_small_f32(const float *x, const unsigned char *mk, float *y, ptrdiff_t n)
{
    double Ks[2 * FA_SM_STORE_CHUNKS];
    fa_sm_stats s;
    if (!fa_stats_row_f32(x, mk, n, &s, y, Ks, NULL, FA_STATS_TERMS_SOFTMAX))
        return FA_SM_DECLINED;
    if (!(s.M > -INFINITY && s.M < INFINITY) || s.t != s.t)
        return FA_SM_SPECIAL;
    fa_out_scale_stored_f32(y, n, Ks, s.M, s.C + (s.t + s.te));
    return FA_SM_OK;
}

/* float64 rows, with or without a mask: the direct reduction, below (after the generic path) */
static int fa_sm_row_softmax_small_f64(const double *x, const unsigned char *mk, double *y, ptrdiff_t n);
static int fa_sm_row_stats_fast_f64(const double *x, const unsigned char *mk, ptrdiff_t n, fa_sm_stats *s, int terms);
static void fa_sm_row_out_fast_f64(const double *x, const unsigned char *mk, double *y, ptrdiff_t n,
                                   const fa_sm_stats *s, double l, int LOG);

/*
 * Row kernels (inner == 1), per dtype T.  HAS_MASK / HAS_B are compile-time constants at
 * every call, so the common path carries no option code.
 */
#define FA_SM_DEFINE_ROWS(T)                                                                      \
FA_SM_DEFINE_SPECIAL(T)                                                                           \
/* max over included entries of a chunk (NaN skipped, -inf if none) */                          \
FA_INLINE double fa_sm_chunk_max_##T(const fa_scalar_##T *x, const unsigned char *mk,            \
                                     const fa_scalar_##T *b, ptrdiff_t n, int HAS_MASK, int HAS_B) \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_##T;                                                             \
    const fa_simd_##T ninf = fa_set1_##T(-INFINITY), zero = fa_set1_##T(0);                     \
    fa_simd_##T m0 = ninf, m1 = ninf;                                                             \
    ptrdiff_t i = 0;                                                                              \
    if (!HAS_MASK && !HAS_B) {                                                                    \
        fa_simd_##T m2 = ninf, m3 = ninf;                                                         \
        for (; i + 4 * L <= n; i += 4 * L) {                                                      \
            m0 = fa_max_##T(fa_loadu_##T(x + i), m0);                                             \
            m1 = fa_max_##T(fa_loadu_##T(x + i + L), m1);                                         \
            m2 = fa_max_##T(fa_loadu_##T(x + i + 2 * L), m2);                                     \
            m3 = fa_max_##T(fa_loadu_##T(x + i + 3 * L), m3);                                     \
        }                                                                                         \
        m0 = fa_max_##T(m0, m2);                                                                  \
        m1 = fa_max_##T(m1, m3);                                                                  \
    }                                                                                             \
    for (; i < n; i += L) {                                                                       \
        const ptrdiff_t left = n - i;                                                             \
        fa_simd_##T v = left >= L ? fa_loadu_##T(x + i) : fa_load_tail_##T(x + i, left, -INFINITY); \
        if (HAS_MASK)                                                                             \
            v = fa_select_##T(left >= L ? fa_load_mask_u8_##T(mk + i) : fa_load_tail_mask_u8_##T(mk + i, left), v, ninf); \
        if (HAS_B) {                                                                              \
            fa_simd_##T w = left >= L ? fa_loadu_##T(b + i) : fa_load_tail_##T(b + i, left, 0);  \
            v = fa_select_##T(fa_cmpneq_##T(w, zero), v, ninf);                                   \
        }                                                                                         \
        m0 = fa_max_##T(v, m0);                                                                   \
    }                                                                                             \
    return (double)fa_reduce_max_##T(fa_max_##T(m0, m1));                                         \
}                                                                                                 \
                                                                                                  \
/* one step of the chunk sum: v entries (float64 lanes), w weights, inc included */              \
FA_INLINE void fa_sm_sum_step_##T(fa_simd_f64 v, fa_simd_f64 w, fa_mask_f64 inc, fa_simd_f64 mkv, \
                                  fa_simd_f64 *t, fa_simd_f64 *tc, fa_simd_f64 *c, int HAS_MASK, int HAS_B) \
{                                                                                                 \
    fa_simd_f64 e = fa_sm_sum_exp_##T(v, mkv);                                                    \
    fa_mask_f64 at_max = fa_cmpeq_f64(v, mkv);                                                    \
    if (HAS_B)                                                                                    \
        e = fa_mul_f64(e, w);                                                                     \
    if (HAS_MASK || HAS_B) {                                                                      \
        e = fa_select_f64(inc, e, fa_set1_f64(0.0));                                              \
        at_max = fa_mask_and_f64(at_max, inc);                                                    \
    }                                                                                             \
    /* compensated (Kahan) addition: the terms are >= 0 (or b-weighted), *tc holds the error */ \
    fa_kahan_add_f64(t, tc, fa_select_f64(at_max, fa_set1_f64(0.0), e));                           \
    *c = fa_add_f64(*c, fa_select_f64(at_max, HAS_B ? w : fa_set1_f64(1.0), fa_set1_f64(0.0)));   \
}                                                                                                 \
                                                                                                  \
/* (t, c) of a chunk against its max mk; mk = -inf is replaced by 0 (entries are -inf or NaN) */ \
FA_INLINE void fa_sm_chunk_sum_##T(const fa_scalar_##T *x, const unsigned char *mk,              \
                                   const fa_scalar_##T *b, ptrdiff_t n, double mx,                \
                                   double *tk, double *ck, int HAS_MASK, int HAS_B)              \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    const fa_simd_f64 mkv = fa_set1_f64(mx == -INFINITY ? 0.0 : mx), one = fa_set1_f64(1.0);     \
    fa_simd_f64 t0 = fa_set1_f64(0.0), t1 = t0, c0 = t0, c1 = t0, e0 = t0, e1 = t0;               \
    const fa_mask_f64 all = fa_cmpeq_f64(one, one);                                               \
    ptrdiff_t i = 0;                                                                              \
    for (; i + 2 * L <= n; i += 2 * L) {                                                          \
        fa_simd_f64 w0 = one, w1 = one;                                                           \
        fa_mask_f64 in0 = all, in1 = all;                                                         \
        if (HAS_B) {                                                                              \
            w0 = fa_sm_ld_##T(b + i); w1 = fa_sm_ld_##T(b + i + L);                               \
            in0 = fa_cmpneq_f64(w0, fa_set1_f64(0.0)); in1 = fa_cmpneq_f64(w1, fa_set1_f64(0.0)); \
        }                                                                                         \
        if (HAS_MASK) {                                                                           \
            in0 = fa_mask_and_f64(in0, fa_load_mask_u8_f64(mk + i));                              \
            in1 = fa_mask_and_f64(in1, fa_load_mask_u8_f64(mk + i + L));                          \
        }                                                                                         \
        fa_sm_sum_step_##T(fa_sm_ld_##T(x + i), w0, in0, mkv, &t0, &e0, &c0, HAS_MASK, HAS_B);         \
        fa_sm_sum_step_##T(fa_sm_ld_##T(x + i + L), w1, in1, mkv, &t1, &e1, &c1, HAS_MASK, HAS_B);     \
    }                                                                                             \
    for (; i < n; i += L) {                                                                       \
        const ptrdiff_t left = n - i;                                                             \
        const int full = left >= L;                                                               \
        fa_simd_f64 v = full ? fa_sm_ld_##T(x + i) : fa_sm_ldt_##T(x + i, left, -INFINITY);       \
        fa_simd_f64 w = one;                                                                      \
        fa_mask_f64 in = full ? all : fa_tail_mask_f64(left);                                     \
        if (HAS_B) {                                                                              \
            w = full ? fa_sm_ld_##T(b + i) : fa_sm_ldt_##T(b + i, left, 0.0);                     \
            in = fa_mask_and_f64(in, fa_cmpneq_f64(w, fa_set1_f64(0.0)));                         \
        }                                                                                         \
        if (HAS_MASK)                                                                             \
            in = fa_mask_and_f64(in, full ? fa_load_mask_u8_f64(mk + i) : fa_load_tail_mask_u8_f64(mk + i, left)); \
        fa_sm_sum_step_##T(v, w, in, mkv, &t0, &e0, &c0, 1, HAS_B);                                    \
    }                                                                                             \
    *tk = fa_reduce_add_f64(fa_add_f64(fa_sub_f64(t0, e0), fa_sub_f64(t1, e1)));                  \
    *ck = fa_reduce_add_f64(fa_add_f64(c0, c1));                                                  \
}                                                                                                 \
                                                                                                  \
FA_INLINE void fa_sm_row_stats_##T(const fa_scalar_##T *x, const unsigned char *mk,              \
                                   const fa_scalar_##T *b, ptrdiff_t n, fa_sm_stats *s,           \
                                   int HAS_MASK, int HAS_B)                                       \
{                                                                                                 \
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(fa_scalar_##T);                            \
    s->M = -INFINITY; s->t = 0.0; s->C = 0.0; s->te = 0.0;                                                     \
    for (ptrdiff_t c0 = 0; c0 < n; c0 += chunk) {                                                 \
        const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;                                    \
        const double mx = fa_sm_chunk_max_##T(x + c0, mk + (HAS_MASK ? c0 : 0),                   \
                                              b + (HAS_B ? c0 : 0), len, HAS_MASK, HAS_B);        \
        double tk, ck;                                                                            \
        fa_sm_chunk_sum_##T(x + c0, mk + (HAS_MASK ? c0 : 0), b + (HAS_B ? c0 : 0), len, mx,      \
                            &tk, &ck, HAS_MASK, HAS_B);                                           \
        fa_sm_merge(s, mx, tk, ck);                                                               \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
/* y = softmax (LOG = 0) or log_softmax (LOG = 1) of one row with statistics M, l */             \
FA_INLINE void fa_sm_row_out_##T(const fa_scalar_##T *x, fa_scalar_##T *y, const unsigned char *mk, \
                                 ptrdiff_t n, const fa_sm_stats *s, double l, int LOG, int HAS_MASK) \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    double p1, p2;                                                                                \
    fa_sm_entry_params(s, l, sizeof(fa_scalar_##T) == 8, &p1, &p2);                               \
    const fa_simd_f64 Mv = fa_set1_f64(s->M), lv = fa_set1_f64(l);                                \
    const fa_simd_f64 a1 = fa_set1_f64(p1), a2 = fa_set1_f64(p2);                                 \
    const fa_simd_f64 off = fa_set1_f64(LOG ? -INFINITY : 0.0);                                   \
    ptrdiff_t i = 0;                                                                              \
    for (; i + 2 * L <= n; i += 2 * L) {                                                          \
        fa_simd_f64 v0 = fa_sm_ld_##T(x + i), v1 = fa_sm_ld_##T(x + i + L);                       \
        if (LOG) {                                                                                \
            v0 = fa_sub_f64(fa_sub_f64(v0, Mv), lv);                                              \
            v1 = fa_sub_f64(fa_sub_f64(v1, Mv), lv);                                              \
        } else {                                                                                  \
            v0 = fa_sm_softmax_entry_##T(v0, Mv, a1, a2);                                         \
            v1 = fa_sm_softmax_entry_##T(v1, Mv, a1, a2);                                         \
        }                                                                                         \
        if (HAS_MASK) {                                                                           \
            v0 = fa_select_f64(fa_load_mask_u8_f64(mk + i), v0, off);                             \
            v1 = fa_select_f64(fa_load_mask_u8_f64(mk + i + L), v1, off);                         \
        }                                                                                         \
        fa_sm_st_##T(y + i, v0);                                                                  \
        fa_sm_st_##T(y + i + L, v1);                                                              \
    }                                                                                             \
    for (; i < n; i += L) {                                                                       \
        const ptrdiff_t left = n - i;                                                             \
        fa_simd_f64 v = left >= L ? fa_sm_ld_##T(x + i) : fa_sm_ldt_##T(x + i, left, 0.0);        \
        v = LOG ? fa_sub_f64(fa_sub_f64(v, Mv), lv) : fa_sm_softmax_entry_##T(v, Mv, a1, a2);    \
        if (HAS_MASK)                                                                             \
            v = fa_select_f64(left >= L ? fa_load_mask_u8_f64(mk + i) : fa_load_tail_mask_u8_f64(mk + i, left), v, off); \
        if (left >= L) fa_sm_st_##T(y + i, v); else fa_sm_stt_##T(y + i, v, left);               \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
/* a special row: NaN where included, the masked value elsewhere */                              \
static void fa_sm_row_special_##T(fa_scalar_##T *y, const unsigned char *mk, ptrdiff_t n,        \
                                  ptrdiff_t stride, int LOG)                                      \
{                                                                                                 \
    for (ptrdiff_t k = 0; k < n; k++)                                                             \
        y[k * stride] = (mk && !mk[k * stride]) ? (LOG ? -INFINITY : 0) : NAN;                    \
}                                                                                                 \
                                                                                                  \
FA_INLINE void fa_sm_rows_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t rows, ptrdiff_t n, \
                              const unsigned char *mk, int LOG, int HAS_MASK)                     \
{                                                                                                 \
    /* softmax in place of rows the small path takes when y is not x, past the overlapped      \
     * rows (n * 4 > FA_SM_OVERLAP_BYTES): each row is copied to a scratch row first and read     \
     * from there, so that in place gives out-of-place's bits (it took statistics + output: 1-3   \
     * ULP apart, within the bound; third differential fuzz), and is faster ((64, 50257) 855 ->   \
     * 740 us).  Shorter rows keep statistics + output in place: the scratch row and the small   \
     * path measured 17% slower than that at (4096, 100) (the overlapped rows are faster still). */ \
    fa_scalar_##T *scratch = NULL;                                                                \
    if (!FA_SM_SMALL_IN_PLACE_##T && !LOG && (const void *)x == (const void *)y &&                \
        n * (ptrdiff_t)sizeof(fa_scalar_##T) > FA_SM_OVERLAP_BYTES &&                             \
        n * (ptrdiff_t)sizeof(fa_scalar_##T) <= FA_SM_SMALL_BYTES_##T)                            \
        scratch = (fa_scalar_##T *)malloc((size_t)n * sizeof(fa_scalar_##T));                    \
    for (ptrdiff_t r = 0; r < rows; r++) {                                                        \
        const fa_scalar_##T *xr = x + r * n;                                                      \
        fa_scalar_##T *yr = y + r * n;                                                            \
        if (scratch) {                                                                            \
            memcpy(scratch, xr, (size_t)n * sizeof(fa_scalar_##T));                               \
            xr = scratch;                                                                         \
        }                                                                                         \
        const unsigned char *mr = HAS_MASK ? mk + r * n : NULL;                                   \
        fa_sm_stats s;                                                                            \
        double l = 0, sign;                                                                       \
        if (!LOG && n * (ptrdiff_t)sizeof(fa_scalar_##T) <= FA_SM_SMALL_BYTES_##T &&               \
            (FA_SM_SMALL_IN_PLACE_##T || (const void *)xr != (const void *)yr)) {                 \
            const int st = fa_sm_row_softmax_small_##T(xr, mr, yr, n);                            \
            if (st == FA_SM_SPECIAL)                                                              \
                fa_sm_row_special_##T(yr, mr, n, 1, 0);                                           \
            if (st != FA_SM_DECLINED)                                                             \
                continue;                                                                         \
        }                                                                                         \
        const int fast = fa_sm_row_stats_fast_##T(xr, mr, n, &s,                                  \
                                                  LOG ? FA_STATS_TERMS_SUMMED : FA_STATS_TERMS_OUT);\
        if (!fast)                                                                                \
            fa_sm_row_stats_##T(xr, mr, NULL, n, &s, HAS_MASK, 0);                                \
        /* l: log_softmax, and the float32 softmax entries of the generic path (e^(x - M - l)) */ \
        if (fa_sm_finish(&s, LOG || !fast ? &l : NULL, &sign) == FA_SM_SPECIAL)                   \
            fa_sm_row_special_##T(yr, mr, n, 1, LOG);                                             \
        else if (fast)                                                                            \
            fa_sm_row_out_fast_##T(xr, mr, yr, n, &s,                                             \
                                   LOG && sizeof(fa_scalar_##T) == 4 ? fa_sm_tiny_l_f32((const float *)xr, mr, n, &s, l) : l, LOG); \
        else                                                                                      \
            fa_sm_row_out_##T(xr, yr, mr, n, &s, l, LOG, HAS_MASK);                               \
    }                                                                                             \
    free(scratch);                                                                                \
}                                                                                                 \
                                                                                                  \
/* logsumexp of contiguous rows.  A row's result is a function of that row alone (rows are        \
 * split over threads at any row): fa_sm_lse_value from the row's statistics.  Normalised         \
 * log-probabilities (EM, HMMs, "is this normalised?" checks) cancel row after row, and for       \
 * them fa_sm_lse_value sums the row again without a shift, so the statistics pass is wasted:     \
 * after a row that cancelled, the next row (without mask or weights) first takes                 \
 * fa_sm_lse_predicted: the unshifted sum by the same call fa_sm_lse_value would make (the        \
 * row's max M taken on the way), accepted only where fa_lse_choice picks that sum for every      \
 * (v, l) within the statistics' error bound of (ve, ve - M), i.e. where the statistics path      \
 * returns these very bits.  Otherwise (M >= 0, a result near a bound of the choice, a row        \
 * that does not cancel) the row takes the statistics, the unshifted sum spent.  The row          \
 * before decides only which path is tried first, never the bits. */                              \
FA_INLINE void fa_sm_lse_rows_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t rows,      \
                                  ptrdiff_t n, const unsigned char *mk, const fa_scalar_##T *b,  \
                                  fa_scalar_##T *sg, int HAS_MASK, int HAS_B)                     \
{                                                                                                 \
    int cancelled = 0;                                                                            \
    for (ptrdiff_t r = 0; r < rows; r++) {                                                        \
        const fa_scalar_##T *xr = x + r * n;                                                      \
        const unsigned char *mr = HAS_MASK ? mk + r * n : NULL;                                   \
        const fa_scalar_##T *br = HAS_B ? b + r * n : NULL;                                       \
        fa_sm_stats s;                                                                            \
        double sign, v;                                                                           \
        if (!HAS_MASK && !HAS_B && cancelled &&  /* the last row cancelled: this one may too */ \
            fa_sm_lse_predicted_##T(xr, n, &v)) {                                                 \
            cancelled = fabs(v) < 1.0;                                                            \
            y[r] = (fa_scalar_##T)v;                                                              \
            if (sg) sg[r] = 1;                                                                    \
            continue;                                                                             \
        }                                                                                         \
        if (HAS_B || !fa_sm_row_stats_fast_##T(xr, mr, n, &s, FA_STATS_TERMS_LSE))               \
            fa_sm_row_stats_##T(xr, mr, br, n, &s, HAS_MASK, HAS_B);                              \
        v = fa_sm_lse_value_##T(&s, xr, n, 1, mr, br, &sign);                                     \
        cancelled = sign > 0 && s.M < 0 && fabs(v) < 1.0;                                         \
        if (sign < 0 && !sg) v = NAN;                                                             \
        y[r] = (fa_scalar_##T)v;                                                                  \
        if (sg) sg[r] = (fa_scalar_##T)sign;                                                      \
    }                                                                                             \
}

FA_SM_DEFINE_ROWS(f32)
FA_SM_DEFINE_ROWS(f64)

/*
 * log_softmax of contiguous float32 rows, with a where= mask mk or without (NULL): row r's
 * output (x - M) - l is written inside row r+1's statistics pass, chunk by chunk
 * (fa_stats_pending_f32: the stores to memory overlap the exps, as fa_sm64_log_softmax_rows
 * does for float64); the same bits as the statistics-then-output path.  A row the float32
 * lanes decline finishes the pending one first, then takes the generic path; y may be x (row
 * r is written only after its statistics).
 */
static int fa_sm_log_rows_f32(const float *x, const unsigned char *mk, float *y, ptrdiff_t rows, ptrdiff_t n)
{
    fa_stats_pending_f32 p = {NULL, NULL, NULL, 0.0, 0.0, 0, {0}};
    int have = 0;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        const unsigned char *mr = mk ? mk + r * n : NULL;
        float *yr = y + r * n;
        fa_sm_stats s;
        double l, sign;
        p.done = 0;
        const int ok = fa_stats_row_f32(xr, mr, n, &s, NULL, NULL, have ? &p : NULL, FA_STATS_TERMS_SUMMED);
        if (have && p.done < n)              /* declined midway: the rest of the pending row */
            fa_out_row_f32(p.x + p.done, p.mk ? p.mk + p.done : NULL, p.y + p.done, n - p.done, p.M, 1.0, p.l, 1);
        have = 0;
        if (!ok) {
            if (mr)
                fa_sm_rows_f32(xr, yr, 1, n, mr, 1, 1);
            else
                fa_sm_rows_f32(xr, yr, 1, n, NULL, 1, 0);
            continue;
        }
        if (fa_sm_finish(&s, &l, &sign) == FA_SM_SPECIAL) {
            fa_sm_row_special_f32(yr, mr, n, 1, 1);
            continue;
        }
        p.x = xr;
        p.mk = mr;
        p.y = yr;
        p.M = s.M;
        p.l = fa_sm_tiny_l_f32(xr, mr, n, &s, l);
        have = 1;
    }
    if (have)
        fa_out_row_f32(p.x, p.mk, p.y, n, p.M, 1.0, p.l, 1);
    return 1;
}

/*
 * softmax of short contiguous float32 rows (n * 4 <= FA_SM_OVERLAP_BYTES), no mask, y not x:
 * every term is stored into y during the row's statistics pass (as
 * fa_sm_row_softmax_small_f32), and the scaling of row r runs inside row r+1's pass
 * (fa_stats_pending_f32 with x NULL), overlapping the exps; the same bits.  0: not these rows.
 * Measured (one thread, out=, min of 21x5 calls, alternating builds, AMD Zen 4): rows of 128,
 * 512, 1024 entries 6-10% faster ((1024, 1024) 380 -> 357 us); 2048 entries 7% slower, 4096 to
 * 50257 6-20% slower (the pending row's stores compete with the pass's own stored terms), so
 * there longer rows keep the statistics-then-scale order.  On Intel cores rows up to the
 * stored path's FA_SM_SMALL_BYTES_f32 overlap too, 4-8% faster (fa_tune_softmax_overlap,
 * fa_dispatch.c).
 */
static int fa_sm_softmax_rows_f32(const float *x, float *y, ptrdiff_t rows, ptrdiff_t n)
{
    const ptrdiff_t most = fa_tune_softmax_overlap ? FA_SM_SMALL_BYTES_f32 : FA_SM_OVERLAP_BYTES;
    if (n * (ptrdiff_t)sizeof(float) > most || (const void *)x == (const void *)y)
        return 0;
    fa_stats_pending_f32 p = {NULL, NULL, NULL, 0.0, 0.0, 0, {0}};
    int have = 0;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        double Ks[2 * FA_SM_STORE_CHUNKS];
        fa_sm_stats s;
        p.done = 0;
        const int ok = fa_stats_row_f32(xr, NULL, n, &s, yr, Ks, have ? &p : NULL, FA_STATS_TERMS_SOFTMAX);
        if (have && p.done < n)              /* declined midway: the rest of the pending row */
            fa_out_scale_chunks_f32(p.y, n, p.done, p.scale);
        have = 0;
        if (!ok) {
            fa_sm_rows_f32(xr, yr, 1, n, NULL, 0, 0);
            continue;
        }
        if (!(s.M > -INFINITY && s.M < INFINITY) || s.t != s.t) {
            fa_sm_row_special_f32(yr, NULL, n, 1, 0);
            continue;
        }
        fa_out_stored_factors_f32(n, Ks, s.M, s.C + (s.t + s.te), p.scale);
        p.x = NULL;
        p.y = yr;
        have = 1;
    }
    if (have)
        fa_out_scale_chunks_f32(p.y, n, 0, p.scale);
    return 1;
}

/* softmax of a float64 row in one chunk: e^(x - M) once (two-sum argument), stored,
 * compensated sum, then y *= 1/S (a double-double) in place.  The fallback of
 * fa_sm_row_softmax_small_f64 for rows the direct reduction does not take. */
static int fa_sm64_softmax_small_exact(const double *x, double *y, ptrdiff_t n)
{
    const ptrdiff_t L = FA_LANES_F64;
    const double mx = fa_sm_chunk_max_f64(x, NULL, NULL, n, 0, 0);
    if (!(mx > -INFINITY && mx < INFINITY))
        return FA_SM_SPECIAL;
    const fa_simd_f64 mkv = fa_set1_f64(mx), zero = fa_set1_f64(0.0), one = fa_set1_f64(1.0);
    fa_simd_f64 t0 = zero, t1 = zero, e0 = zero, e1 = zero, c0 = zero, c1 = zero;
    const fa_mask_f64 all = fa_cmpeq_f64(one, one);
    ptrdiff_t i = 0;
    for (; i + 2 * L <= n; i += 2 * L) {
        fa_simd_f64 v0 = fa_loadu_f64(x + i), v1 = fa_loadu_f64(x + i + L);
        fa_simd_f64 x0 = fa_sm_sum_exp_f64(v0, mkv), x1 = fa_sm_sum_exp_f64(v1, mkv);
        fa_storeu_f64(y + i, x0);
        fa_storeu_f64(y + i + L, x1);
        fa_sm_sum_step_store_f64(v0, x0, mkv, &t0, &e0, &c0);
        fa_sm_sum_step_store_f64(v1, x1, mkv, &t1, &e1, &c1);
    }
    for (; i < n; i += L) {
        const ptrdiff_t left = n - i;
        fa_simd_f64 v = left >= L ? fa_loadu_f64(x + i) : fa_load_tail_f64(x + i, left, -INFINITY);
        fa_simd_f64 xe = fa_select_f64(left >= L ? all : fa_tail_mask_f64(left), fa_sm_sum_exp_f64(v, mkv), zero);
        if (left >= L) fa_storeu_f64(y + i, xe); else fa_store_tail_f64(y + i, xe, left);
        fa_sm_sum_step_store_f64(v, xe, mkv, &t0, &e0, &c0);
    }
    fa_sm_stats s = {mx, fa_reduce_add_f64(fa_add_f64(fa_sub_f64(t0, e0), fa_sub_f64(t1, e1))),
                     fa_reduce_add_f64(fa_add_f64(c0, c1)), 0.0};
    if (s.t != s.t)
        return FA_SM_SPECIAL;
    double p1, p2;
    fa_sm_entry_params(&s, 0.0, 1, &p1, &p2);
    const fa_simd_f64 ih = fa_set1_f64(p1), il = fa_set1_f64(p2);
    for (i = 0; i + L <= n; i += L) {
        fa_simd_f64 v = fa_loadu_f64(y + i);
        fa_storeu_f64(y + i, fa_fmadd_f64(v, ih, fa_mul_f64(v, il)));
    }
    if (i < n) {
        fa_simd_f64 v = fa_load_tail_f64(y + i, n - i, 0.0);
        fa_store_tail_f64(y + i, fa_fmadd_f64(v, ih, fa_mul_f64(v, il)), n - i);
    }
    return FA_SM_OK;
}

#endif /* FA_ROWS_H */
