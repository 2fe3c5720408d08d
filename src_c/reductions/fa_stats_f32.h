/*
 * reductions/fa_stats_f32.h -- the statistics pass of float32 rows (contiguous, an optional
 * `where=` mask, no weights), in float32 lanes.  Included once per ISA after the math family
 * and the shared statistics record (fa_sm_stats, fa_sm_merge); calls nothing above it.
 *
 * Design.  A row is walked in chunks that fit in L1 (FA_SM_CHUNK_BYTES).  Per chunk:
 *   (a) fa_stats_max_f32: its max mx over the included entries (then re-read from L1);
 *   (b) fa_stats_sum_f32: with an integer shift K, t = sum over x < mx of e^(x - K ln2) and
 *       c = the number of x == mx, in one read.  The shift is folded into the exp's magic
 *       constant (fa_exp_reduce_shift_f32; on AVX-512 fa_exp_shift_lut16_keep_f32, 16-entry table
 *       and degree 3): no x - mx is formed, the Cody-Waite reduction of x itself is exact
 *       (|x| < 355: n ln2_hi exact even without FMA; the table's n = N/16 with FMA), each
 *       term is one float32 exp (0.99 ULP measured; 0.55 with the table); blocks of 4
 *       vectors (AVX2, AVX-512; pairs on SSE2 and scalar) are added in float32 (2^-23 of the
 *       block; pairs 2^-24) and summed in float64.  The entries at the max are kept apart (c),
 *       so a dominant entry's l = log1p(T) keeps T's relative accuracy from this one pass.
 * The chunk enters the row's (M, T, C), relative to e^M, as T_k = t e^(K ln2 - mx) (one
 * libm exp per chunk) through fa_sm_merge.  So N(0,3) - 20, + 100, a confident class and
 * uniform +-50 rows cost the same.  A chunk whose max lies outside (-260, 340)
 * (FA_STATS_MAX_LO_F32, FA_STATS_MAX_HI_F32, where the reduction of x itself stops being
 * exact) is summed as x - mx, one subtraction more per vector (fa_stats_chunk_f32; exact for
 * every term that is not 0): log-weights spread over +-800, logits at +-1000 or 1e30 took the
 * float64 lanes at 2.5-3.5x the time before 2026-12-06.  Only a row with +inf is declined
 * (0, for the special rows' path); -inf entries give 0 terms, NaN reaches T.
 * K = round(mx log2e) - 1: terms lie in (0, 2.9]; a term below 2^-126.5 (x below about
 * K ln2 - 87.7) counts as 0, which for a stored softmax term means an output below
 * 0.71 * 2^-126 (within one smallest normal, docs/SPEC.md section 6).  With the table exp
 * (AVX-512) terms below 2^-127 (x below about K ln2 - 88.0) are 0 and those in
 * [2^-127, 2^-126) a subnormal below them by less than 2^-127 (fa_exp_shift_lut16_keep_f32).
 * For a chunked (Dask) caller, (a) and (b) are the per-row max and the per-row sum of
 * e^(x - shift) for a given integer shift K (any real shift g: times e^(K ln2 - g)).
 */
#ifndef FA_STATS_F32_H
#define FA_STATS_F32_H

#define FA_STATS_MAX_HI_F32 340.0f    /* chunk max below: every x < 355, n = round(x log2e) < 2^9 */
#define FA_STATS_MAX_LO_F32 (-260.0f) /* and above: x >= mx - 88 > -355 wherever a term is not 0 */
/* a chunk max (or -inf: nothing included) whose entries the exp reduces as they are; other
 * finite maxima take x - mx in the lanes (fa_stats_sum_f32's SHIFTED) */
#define FA_STATS_NEAR_F32(mx) (((mx) > FA_STATS_MAX_LO_F32 && (mx) < FA_STATS_MAX_HI_F32) || (mx) == -INFINITY)

/* x[i .. i + L) as float32 lanes, those past n or left out by the mask mk (if any) as -inf */
FA_INLINE fa_simd_f32 fa_stats_load_f32(const float *x, const unsigned char *mk, ptrdiff_t i, ptrdiff_t n)
{
    const ptrdiff_t L = FA_LANES_F32, left = n - i;
    fa_simd_f32 v = left >= L ? fa_loadu_f32(x + i) : fa_load_tail_f32(x + i, left, -INFINITY);
    if (mk)
        v = fa_select_f32(left >= L ? fa_load_mask_u8_f32(mk + i) : fa_load_tail_mask_u8_f32(mk + i, left), v,
                          fa_set1_f32(-INFINITY));
    return v;
}

/* (a) max of the included entries of a chunk (NaN skipped; -inf if none) */
FA_INLINE float fa_stats_max_f32(const float *x, const unsigned char *mk, ptrdiff_t n)
{
    const ptrdiff_t L = FA_LANES_F32;
    const fa_simd_f32 ninf = fa_set1_f32(-INFINITY);
    fa_simd_f32 m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
    ptrdiff_t i = 0;
    if (!mk)
        for (; i + 4 * L <= n; i += 4 * L) {
            m0 = fa_max_f32(fa_loadu_f32(x + i), m0);
            m1 = fa_max_f32(fa_loadu_f32(x + i + L), m1);
            m2 = fa_max_f32(fa_loadu_f32(x + i + 2 * L), m2);
            m3 = fa_max_f32(fa_loadu_f32(x + i + 3 * L), m3);
        }
    else                                     /* a left-out entry keeps the lane's max */
        for (; i + 4 * L <= n; i += 4 * L) {
            m0 = fa_select_f32(fa_load_mask_u8_f32(mk + i), fa_max_f32(fa_loadu_f32(x + i), m0), m0);
            m1 = fa_select_f32(fa_load_mask_u8_f32(mk + i + L), fa_max_f32(fa_loadu_f32(x + i + L), m1), m1);
            m2 = fa_select_f32(fa_load_mask_u8_f32(mk + i + 2 * L), fa_max_f32(fa_loadu_f32(x + i + 2 * L), m2), m2);
            m3 = fa_select_f32(fa_load_mask_u8_f32(mk + i + 3 * L), fa_max_f32(fa_loadu_f32(x + i + 3 * L), m3), m3);
        }
    for (; i < n; i += L) {
        m0 = fa_max_f32(fa_stats_load_f32(x, mk, i, n), m0);
    }
    return fa_reduce_max_f32(fa_max_f32(fa_max_f32(m0, m1), fa_max_f32(m2, m3)));
}

/* e^(v - K ln2) (magic_k = FA_STATS_MAGIC_F32(K)), NaN kept (fa_max_f32 returns its second
 * operand for NaN).  v is clamped at low = FA_STATS_LOW(K), where the scale's exponent field
 * is 0 and the term exactly 0, so -inf, left-out and far entries give 0 with no select.
 * Degree-4 exp (fa_exp_reduce_shift_f32, magic_k = FA_EXP_MAGIC_F32 - K): low = (K - 127.25) ln2,
 * n - K = -127 there and for every v below low + 0.35 (terms under 2^-126.5 of the shift
 * count as 0).  Table exp (AVX-512, fa_exp_shift_lut16_keep_f32, magic_k = FA_EXP_MAGIC16_F32 - K):
 * low = (K - 127) ln2; v is clamped at low + ln2 instead and the terms below it masked to 0
 * by the exp's last FMA (NaN kept: the mask is "not below").  The sum pass over one L1
 * chunk of N(0,3) entries, AVX-512, measured 3.56 -> 3.44 ns per 16 entries with pairs,
 * 3.25 -> 3.08 with the blocks of 4 below. */
#if FA_EXP_LUT16_F32
#define FA_STATS_MAGIC0_F32 FA_EXP_MAGIC16_F32
#define FA_STATS_LOW_BIAS 127.0
/* (terms of v below low + ln2, under 2^-126, are 0: v is clamped there and the FMA masked,
 * fa_exp_shift_lut16_keep_f32; a stored softmax term there means an output below
 * 0.71 * 2^-126, as before) */
FA_INLINE fa_simd_f32 fa_stats_term_f32(fa_simd_f32 v, fa_simd_f32 magic_k, fa_simd_f32 low)
{
    const fa_simd_f32 low1 = fa_add_f32(low, fa_set1_f32(0x1.62e430p-1f));   /* (K - 126) ln2 */
    return fa_exp_shift_lut16_keep_f32(fa_max_f32(low1, v), magic_k, fa_mask_not_f32(fa_cmplt_f32(v, low1)), 1);
}
/* a term that is only summed (FA_STATS_TERMS_SUMMED / _LSE below): without the table's r_j,
 * 0.98 ULP */
FA_INLINE fa_simd_f32 fa_stats_term_sum_f32(fa_simd_f32 v, fa_simd_f32 magic_k, fa_simd_f32 low)
{
    const fa_simd_f32 low1 = fa_add_f32(low, fa_set1_f32(0x1.62e430p-1f));
    return fa_exp_shift_lut16_keep_f32(fa_max_f32(low1, v), magic_k, fa_mask_not_f32(fa_cmplt_f32(v, low1)), 0);
}
#else
#define FA_STATS_MAGIC0_F32 FA_EXP_MAGIC_F32
#define FA_STATS_LOW_BIAS 127.25
FA_INLINE fa_simd_f32 fa_stats_term_f32(fa_simd_f32 v, fa_simd_f32 magic_k, fa_simd_f32 low)
{
    fa_simd_f32 n, s;
    fa_simd_f32 m = fa_expm1_reduced_f32(fa_exp_reduce_shift_f32(fa_max_f32(low, v), magic_k, &n, &s));
    return fa_fmadd_f32(s, m, s);
}
#define fa_stats_term_sum_f32 fa_stats_term_f32
#endif

#define FA_STATS_MAGIC_F32(K) (FA_STATS_MAGIC0_F32 - (K))
#define FA_STATS_LOW(K) ((float)(((double)(K) - FA_STATS_LOW_BIAS) * 0x1.62e42fefa39efp-1))

/* a vector of maxima M: the shift K = rint(M log2 e) - 1 of each lane (M log2 e rounded to
 * float32, then to an integer by the 1.5 * 2^23 trick, ties to even as rintf: |M| < 2^21),
 * FA_STATS_MAGIC_F32(K) and FA_STATS_LOW(K), the same bits as the scalar macros, stored to
 * K, magic_k, low (FA_LANES_F32 floats each) */
FA_INLINE void fa_stats_shifts_f32(fa_simd_f32 M, float *K, float *magic_k, float *low)
{
    const fa_simd_f32 round = fa_set1_f32(0x1.8p23f);
    const fa_simd_f32 k = fa_sub_f32(fa_sub_f32(fa_add_f32(fa_mul_f32(M, fa_set1_f32(FA_LOG2E_F32)), round), round),
                                     fa_set1_f32(1.0f));
    fa_storeu_f32(K, k);
    fa_storeu_f32(magic_k, fa_sub_f32(fa_set1_f32(FA_STATS_MAGIC0_F32), k));
    for (ptrdiff_t j = 0; j < FA_LANES_F32; j += FA_LANES_F64)
        fa_storeu_f64_as_f32(low + j, fa_mul_f64(fa_sub_f64(fa_loadu_f32_as_f64(K + j), fa_set1_f64(FA_STATS_LOW_BIAS)),
                                                 fa_set1_f64(0x1.62e42fefa39efp-1)));
}

/* the term of one value, exactly as the vector pass computes it */
FA_INLINE double fa_stats_term1_f32(float v, float K)
{
    const fa_simd_f32 low = fa_set1_f32(FA_STATS_LOW(K));
    return (double)fa_reduce_max_f32(fa_stats_term_f32(fa_set1_f32(v), fa_set1_f32(FA_STATS_MAGIC_F32(K)), low));
}

/* A row whose statistics are known, waiting for its output, which is written chunk by chunk
 * inside the next row's statistics pass, so that its stores to memory overlap that row's exps
 * (fa_sm_log_rows_f32, fa_sm_softmax_rows_f32):
 *   x given: log_softmax, y = (x - M) - l (float32 lanes, as fa_out_row_f32 computes it),
 *            -inf where the mask mk (if given) leaves the entry out;
 *   x NULL:  softmax whose terms are stored in y, chunk k scaled in place by the float32 pair
 *            scale[2k] + scale[2k + 1] (as fa_sm_scale_pair_f32 does).
 * done: how many of its entries have been written. */
typedef struct fa_stats_pending_f32 {
    const float *x;
    const unsigned char *mk;
    float *y;
    double M, l;
    ptrdiff_t done;
    float scale[2 * FA_SM_STORE_CHUNKS];
} fa_stats_pending_f32;

/* one vector of a pending row's output at entry i (o: that row at the current chunk; fh, fl
 * the chunk's scale pair, oM, ol its M and l) */
FA_INLINE void fa_stats_pending_vec_f32(const fa_stats_pending_f32 *o, ptrdiff_t i, ptrdiff_t left,
                                        fa_simd_f32 oM, fa_simd_f32 ol, fa_simd_f32 fh, fa_simd_f32 fl)
{
    const ptrdiff_t L = FA_LANES_F32;
    fa_simd_f32 w;
    if (o->x) {
        w = left >= L ? fa_loadu_f32(o->x + i) : fa_load_tail_f32(o->x + i, left, 0.0f);
        w = fa_sub_f32(fa_sub_f32(w, oM), ol);
        if (o->mk)
            w = fa_select_f32(left >= L ? fa_load_mask_u8_f32(o->mk + i) : fa_load_tail_mask_u8_f32(o->mk + i, left),
                              w, fa_set1_f32(-INFINITY));
    } else {
        w = left >= L ? fa_loadu_f32(o->y + i) : fa_load_tail_f32(o->y + i, left, 0.0f);
        w = fa_scale_pair_f32(w, fh, fl);
    }
    if (left >= L) fa_storeu_f32(o->y + i, w); else fa_store_tail_f32(o->y + i, w, left);
}

/* Which exp the statistics' blocks of 4 vectors take (AVX-512; the other variants have one):
 *   FA_STATS_TERMS_OUT     the 0.55 ULP table exp: stored softmax terms and softmax's sum
 *                          (an output's error is its term's plus S's), cross-entropy's
 *                          smoothing and probability-target rows (fa_ce_stats_f32; its class
 *                          rows have their own pass, with the faster exp: fa_cross_entropy.h);
 *   FA_STATS_TERMS_SUMMED  fa_stats_term_sum_f32 (0.98 ULP): log_softmax, whose dominant
 *                          entry -log1p(T) then carries T's relative error: measured 2.09 ULP
 *                          on rows [0, c, ..., c] (1.50 with the 0.55 ULP exp), against a
 *                          bound of 4 (a bound from the errors' sizes alone, every term's at
 *                          its largest and of one sign, is ~4.5, as for the degree-4 exp of
 *                          the other variants);
 *   FA_STATS_TERMS_LSE     that exp where the chunk's max is >= 1, the 0.55 ULP one below:
 *                          logsumexp's v = M + l >= M >= 1 there, so T's relative error
 *                          (the exp's and the float32 block sums') enters v as an absolute
 *                          error of about an ULP of v at most (measured 1.01 ULP on rows
 *                          [M, c, ..., c] and [M, c, c + 0.37, ...], M in {1, 1.5, 2},
 *                          v in [1, 2 + log 2.7)); below, v can be l itself (M near 0, a
 *                          dominant entry), where the faster exp measured 2.09 ULP on rows
 *                          [0, c, ..., c] (bound 2).
 *   FA_STATS_TERMS_SOFTMAX the 0.55 ULP exp, every term stored (ystore) and summed, the max's
 *                          too: c stays 0 and the chunk's T is t / tm (tm the computed term of
 *                          its max, which so counts exactly 1, as the stored factors assume:
 *                          fa_out_stored_factors_f32).  softmax needs only S = C + T, not T
 *                          apart; without the compare, masked add and select per vector the
 *                          float32 (64, 50257) softmax took 716 -> 678 us (one thread, fresh
 *                          outputs, alternating builds), max error unchanged (every variant,
 *                          row kinds of 5 .. 70000 entries: 2.36 / 2.48 / 2.80 ULP avx512 /
 *                          avx2 / sse2 and scalar, against 2.36 / 2.50 / 2.83 before).
 * (1024, 1024) N(0,3) rows, us: logsumexp 305 -> 280, log_softmax 354 -> 321. */
enum { FA_STATS_TERMS_OUT = 0, FA_STATS_TERMS_SUMMED = 1, FA_STATS_TERMS_LSE = 2, FA_STATS_TERMS_SOFTMAX = 3 };

/* (b) *t = sum over the included x < mx of e^(x - K ln2), *c = the number of included x == mx
 * (mx the chunk's max, or -inf: then c counts nothing); ystore (if given) receives every
 * entry's term, 0 where left out.  K integer-valued with mx - K ln2 in [0, 1.05].  o (or
 * NULL): the pending row's output for the same n entries (its x and y at this chunk's offset),
 * written on the way. */
FA_INLINE void fa_stats_sum_f32(const float *x, const unsigned char *mk, ptrdiff_t n, float K, float mx,
                                double *t, double *c, float *ystore, const fa_stats_pending_f32 *o, int terms,
                                int SHIFTED, float sub)
{
    /* SHIFTED (a far chunk, fa_stats_row_f32): the caller's mx is 0 and K -1, and every
     * entry is taken as x - sub, sub the chunk's real max; its v = M + l has |v| >= 250, so
     * the summed-only exp serves logsumexp too */
    const int summed = !ystore && (terms == FA_STATS_TERMS_SUMMED ||
                                   (terms == FA_STATS_TERMS_LSE && (SHIFTED || mx >= 1.0f)));
    const int count = terms != FA_STATS_TERMS_SOFTMAX;   /* the entries at the max kept apart */
    const fa_simd_f32 subv = fa_set1_f32(sub);
    const fa_simd_f32 oM = fa_set1_f32(o ? (float)o->M : 0.0f), ol = fa_set1_f32(o ? (float)o->l : 0.0f);
    const fa_simd_f32 fh = fa_set1_f32(o ? o->scale[0] * FA_SCALE_PAIR_UP : 0.0f),   /* fa_scale_pair_f32 */
                      fl = fa_set1_f32(o ? o->scale[1] * FA_SCALE_PAIR_UP : 0.0f);
    const ptrdiff_t L = FA_LANES_F32;
    const fa_simd_f32 magic_k = fa_set1_f32(FA_STATS_MAGIC_F32(K));
    const fa_simd_f32 low = fa_set1_f32(FA_STATS_LOW(K));
    const fa_simd_f32 mxv = fa_set1_f32(mx == -INFINITY || !count ? NAN : mx);   /* NaN: nothing is equal */
    const fa_simd_f32 zero = fa_set1_f32(0.0f), one = fa_set1_f32(1.0f), ninf = fa_set1_f32(-INFINITY);
    fa_simd_f64 t0 = fa_set1_f64(0.0);
    fa_simd_f32 c0 = zero, c1 = zero;
    ptrdiff_t i = 0;
    /* blocks of 4 vectors on AVX2 and AVX-512 (the sum pass 9-11% faster than pairs); SSE2
     * (4% faster, but softmax's max error 2.97 -> 3.15 ULP in a sweep) and the scalar variant
     * (5% slower) keep pairs, as does what is left */
    for (; L >= 8 && i + 4 * L <= n; i += 4 * L) {
        /* the next chunk (the caller's, at the same offset) on its way into L1 while this one
         * is summed from L1: its max pass then reads cached lines (a prefetch never faults,
         * past the row's end it is only wasted) */
        fa_prefetch_f64((const double *)(x + n + i));
        fa_prefetch_f64((const double *)(x + n + i + L));
        fa_prefetch_f64((const double *)(x + n + i + 2 * L));
        fa_prefetch_f64((const double *)(x + n + i + 3 * L));
        if (ystore) {   /* and the lines its terms go to (from L3 or memory, for writing):
                         * (64, 50257) softmax 747 -> 655 us, rows of 4096 8% faster */
            fa_prefetchw_f64((double *)(ystore + n + i));
            fa_prefetchw_f64((double *)(ystore + n + i + L));
            fa_prefetchw_f64((double *)(ystore + n + i + 2 * L));
            fa_prefetchw_f64((double *)(ystore + n + i + 3 * L));
        }
        if (o) {
            if (o->x) {
                fa_stats_pending_vec_f32(o, i, L, oM, ol, fh, fl);
                fa_stats_pending_vec_f32(o, i + L, L, oM, ol, fh, fl);
                fa_stats_pending_vec_f32(o, i + 2 * L, L, oM, ol, fh, fl);
                fa_stats_pending_vec_f32(o, i + 3 * L, L, oM, ol, fh, fl);
                fa_prefetchw_f64((double *)(o->y + n + i));
                fa_prefetchw_f64((double *)(o->y + n + i + 2 * L));
            } else {
                fa_scale_pair4_f32(o->y + i, fh, fl);     /* one branch per block */
            }
        }
        fa_simd_f32 v0 = fa_loadu_f32(x + i), v1 = fa_loadu_f32(x + i + L);
        fa_simd_f32 v2 = fa_loadu_f32(x + i + 2 * L), v3 = fa_loadu_f32(x + i + 3 * L);
        if (mk) {
            v0 = fa_select_f32(fa_load_mask_u8_f32(mk + i), v0, ninf);
            v1 = fa_select_f32(fa_load_mask_u8_f32(mk + i + L), v1, ninf);
            v2 = fa_select_f32(fa_load_mask_u8_f32(mk + i + 2 * L), v2, ninf);
            v3 = fa_select_f32(fa_load_mask_u8_f32(mk + i + 3 * L), v3, ninf);
        }
        if (SHIFTED) {
            v0 = fa_sub_f32(v0, subv);
            v1 = fa_sub_f32(v1, subv);
            v2 = fa_sub_f32(v2, subv);
            v3 = fa_sub_f32(v3, subv);
        }
        fa_simd_f32 e0, e1, e2, e3;
        if (!summed) {
            e0 = fa_stats_term_f32(v0, magic_k, low);
            e1 = fa_stats_term_f32(v1, magic_k, low);
            e2 = fa_stats_term_f32(v2, magic_k, low);
            e3 = fa_stats_term_f32(v3, magic_k, low);
        } else {
            e0 = fa_stats_term_sum_f32(v0, magic_k, low);
            e1 = fa_stats_term_sum_f32(v1, magic_k, low);
            e2 = fa_stats_term_sum_f32(v2, magic_k, low);
            e3 = fa_stats_term_sum_f32(v3, magic_k, low);
        }
        if (ystore) {
            fa_storeu_f32(ystore + i, e0);
            fa_storeu_f32(ystore + i + L, e1);
            fa_storeu_f32(ystore + i + 2 * L, e2);
            fa_storeu_f32(ystore + i + 3 * L, e3);
        }
        if (!count) {
            t0 = fa_add_widened_f32_f64(t0, fa_add_f32(fa_add_f32(e0, e1), fa_add_f32(e2, e3)));
            continue;
        }
        fa_mask_f32 q0 = fa_cmpeq_f32(v0, mxv), q1 = fa_cmpeq_f32(v1, mxv);
        fa_mask_f32 q2 = fa_cmpeq_f32(v2, mxv), q3 = fa_cmpeq_f32(v3, mxv);
        c0 = fa_mask_add_f32(q0, c0, one);
        c1 = fa_mask_add_f32(q1, c1, one);
        c0 = fa_mask_add_f32(q2, c0, one);
        c1 = fa_mask_add_f32(q3, c1, one);
        /* a block of 4 added in float32 (two roundings, 2^-23 of the block), then widened */
        t0 = fa_add_widened_f32_f64(t0, fa_add_f32(fa_add_f32(fa_select_f32(q0, zero, e0), fa_select_f32(q1, zero, e1)),
                                                   fa_add_f32(fa_select_f32(q2, zero, e2), fa_select_f32(q3, zero, e3))));
    }
    for (; i + 2 * L <= n; i += 2 * L) {
        if (L >= 8) {                        /* not worth an instruction per scalar */
            fa_prefetch_f64((const double *)(x + n + i));
            fa_prefetch_f64((const double *)(x + n + i + L));
        }
        if (o) {
            fa_stats_pending_vec_f32(o, i, L, oM, ol, fh, fl);
            fa_stats_pending_vec_f32(o, i + L, L, oM, ol, fh, fl);
            if (L >= 8 && o->x)
                fa_prefetchw_f64((double *)(o->y + n + i));
        }
        fa_simd_f32 v0 = fa_loadu_f32(x + i), v1 = fa_loadu_f32(x + i + L);
        if (mk) {
            v0 = fa_select_f32(fa_load_mask_u8_f32(mk + i), v0, ninf);
            v1 = fa_select_f32(fa_load_mask_u8_f32(mk + i + L), v1, ninf);
        }
        if (SHIFTED) {
            v0 = fa_sub_f32(v0, subv);
            v1 = fa_sub_f32(v1, subv);
        }
        fa_simd_f32 e0 = fa_stats_term_f32(v0, magic_k, low), e1 = fa_stats_term_f32(v1, magic_k, low);
        if (ystore) {
            fa_storeu_f32(ystore + i, e0);
            fa_storeu_f32(ystore + i + L, e1);
        }
        if (!count) {
            t0 = fa_add_widened_f32_f64(t0, fa_add_f32(e0, e1));
            continue;
        }
        fa_mask_f32 q0 = fa_cmpeq_f32(v0, mxv), q1 = fa_cmpeq_f32(v1, mxv);
        c0 = fa_mask_add_f32(q0, c0, one);
        c1 = fa_mask_add_f32(q1, c1, one);
        /* a pair added in float32 (one rounding, 2^-24 of the pair), then widened */
        t0 = fa_add_widened_f32_f64(t0, fa_add_f32(fa_select_f32(q0, zero, e0), fa_select_f32(q1, zero, e1)));
    }
    for (; i < n; i += L) {
        const ptrdiff_t left = n - i;
        if (o)
            fa_stats_pending_vec_f32(o, i, left, oM, ol, fh, fl);
        fa_simd_f32 v = fa_stats_load_f32(x, mk, i, n);
        if (SHIFTED)
            v = fa_sub_f32(v, subv);
        fa_simd_f32 e = fa_stats_term_f32(v, magic_k, low);
        if (ystore) {
            if (left >= L) fa_storeu_f32(ystore + i, e); else fa_store_tail_f32(ystore + i, e, left);
        }
        fa_mask_f32 q = fa_cmpeq_f32(v, mxv);
        c0 = fa_mask_add_f32(q, c0, one);
        t0 = fa_add_widened_f32_f64(t0, fa_select_f32(q, zero, e));
    }
    *t = fa_reduce_add_f64(t0);
    *c = (double)fa_reduce_add_f32(fa_add_f32(c0, c1));
}

/* e^(K ln2 - m) for the chunk and row factors (K ln2 as hi + lo: K*hi exact) */
FA_INLINE double fa_stats_shift_factor(double K, double m)
{
    return fa_exp_scalar_f64((K * FA_LN2_HI_F64 - m) + K * FA_LN2_LO_F64);
}

/* the same per float64 lane (the column blocks and short rows: one K and m per lane, m - K ln2
 * in [0, 1.05]; K ln2_hi - m exact: Sterbenz, 32-bit ln2_hi), through fa_exp_pair_f64's high part */
FA_INLINE fa_simd_f64 fa_stats_shift_factor_f64(fa_simd_f64 K, fa_simd_f64 m)
{
    fa_simd_f64 lo, z = fa_fmadd_f64(K, fa_set1_f64(FA_LN2_LO_F64), fa_fmsub_f64(K, fa_set1_f64(FA_LN2_HI_F64), m));
    return fa_exp_pair_f64(z, &lo);
}

/* One chunk of the statistics, its max mx (< +inf, or -inf: nothing included) known: *T = the
 * sum of e^(x - mx) over its x < mx (of e^x where mx is -inf: 0, or NaN), *c = the number of x
 * == mx; ystore, o, terms as for fa_stats_sum_f32; Ks (if given) = (mx, the computed term of mx).
 * A chunk whose max lies outside (FA_STATS_MAX_LO_F32, FA_STATS_MAX_HI_F32) is summed as x - mx
 * (mx 0, K -1 in fa_stats_sum_f32): exact (Sterbenz) for every x whose term is not 0, which lie
 * within 89 of mx, |mx| >= 260; the rest (x - mx rounded, or -inf) stay far below, 0. */
FA_INLINE void fa_stats_chunk_f32(const float *x, const unsigned char *mk, ptrdiff_t len, float mx, double *T,
                                  double *c, float *ystore, double *Ks, const fa_stats_pending_f32 *o, int terms)
{
    const int far = !FA_STATS_NEAR_F32(mx);
    const float mxs = far ? 0.0f : mx;           /* the max as the terms see it */
    const float K = mx == -INFINITY ? 0.0f : rintf(mxs * FA_LOG2E_F32) - 1.0f;
    double t;
    if (far)
        fa_stats_sum_f32(x, mk, len, K, 0.0f, &t, c, ystore, o, terms, 1, mx);
    else
        fa_stats_sum_f32(x, mk, len, K, mx, &t, c, ystore, o, terms, 0, 0.0f);
    const double tm = mx == -INFINITY ? 0.0 : fa_stats_term1_f32(mxs, K);
    if (Ks) {
        Ks[0] = mx;
        Ks[1] = tm;
    }
    if (terms == FA_STATS_TERMS_SOFTMAX)         /* every term summed: the max's counts 1 */
        *T = mx == -INFINITY ? t : t / tm;
    else
        *T = mx == -INFINITY ? t : t * fa_stats_shift_factor(K, mxs);
}

/* The statistics (M, T, C) of a float32 row; ystore and Ks (if given: softmax rows that stay
 * in L2) keep every term and, per chunk, the max and the computed term of that max (Ks[2k],
 * Ks[2k + 1]; -inf and 0 for a chunk with nothing included).  o (or NULL): a pending
 * log_softmax row of the same length, written chunk by chunk (o->done updated).  terms:
 * FA_STATS_TERMS_OUT / _SUMMED / _LSE (above).
 * Returns 0 where a chunk's max is +inf (nothing usable; o->done tells how much of the
 * pending row was written). */
FA_INLINE int fa_stats_row_f32(const float *x, const unsigned char *mk, ptrdiff_t n, fa_sm_stats *s,
                               float *ystore, double *Ks, fa_stats_pending_f32 *o, int terms)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(float);
    s->M = -INFINITY; s->t = 0.0; s->C = 0.0; s->te = 0.0;
    for (ptrdiff_t c0 = 0, k = 0; c0 < n; c0 += chunk, k++) {
        const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;
        const float mx = fa_stats_max_f32(x + c0, mk ? mk + c0 : NULL, len);
        if (!(mx < INFINITY))
            return 0;
        fa_stats_pending_f32 oc;
        if (o) {
            oc.x = o->x ? o->x + c0 : NULL;
            oc.mk = o->mk ? o->mk + c0 : NULL;
            oc.y = o->y + c0;
            oc.M = o->M;
            oc.l = o->l;
            oc.scale[0] = o->x ? 0.0f : o->scale[2 * k];
            oc.scale[1] = o->x ? 0.0f : o->scale[2 * k + 1];
        }
        double T, c;
        fa_stats_chunk_f32(x + c0, mk ? mk + c0 : NULL, len, mx, &T, &c, ystore ? ystore + c0 : NULL,
                           Ks ? Ks + 2 * k : NULL, o ? &oc : NULL, terms);
        if (o)
            o->done = c0 + len;
        fa_sm_merge(s, mx, T, c);
    }
    return 1;
}

#endif /* FA_STATS_F32_H */
