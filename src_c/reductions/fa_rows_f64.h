/*
 * reductions/fa_rows_f64.h -- float64 rows, with or without a where= mask: the direct
 * reduction (statistics pass, outputs, log_softmax rows overlapped with the next row's sums).
 */
#ifndef FA_ROWS_F64_H
#define FA_ROWS_F64_H

/*
 * ---- float64 data without options: the direct reduction ----
 * x - m is never formed.  Per chunk (FA_SM_CHUNK_BYTES) with max mk and K = round(mk log2e):
 *   e^(x - K ln2) = 2^(j/16) 2^(floor(n/16) - K) e^r,  n = round(16 x log2e), j = n mod 16,
 *   r = (x - (n/16) ln2_hi) - (n/16) ln2_lo, |r| <= 0.0217 (the math family's
 *   fa_exp_shifted_f64: Tang's table and degree-4 q; 2^(j/16) 2^(floor(n/16) - K) built exactly
 *   by one integer addition, the result THI (1 + p + tlo/thi) rounded once).
 * x - (n/16) ln2_hi is exact with or without FMA: (n/16) ln2_hi is a double (ln2_hi has 32
 * significant bits, |n| < 2^21) within ln2/32 of x, so Sterbenz applies (n = 0 below
 * ln2/32); the ln2_lo product rounds at 2^-68, the hi/lo split error is 2^-86 |n/16|, and r
 * rounds at 2^-59: the exact difference of the old path (a two-sum of x - m) bought nothing
 * more.  Each term: one rounding (2^-53 relative) + q's 2^-54.8, so <= 1.35 u (u = 2^-53).
 * The chunks' sums are added at the integer shift of the row's max (exact powers of 2:
 * fa_sm64_acc), and scaled once per row by e^(K ln2 - M) as a double-double (fa_sm64_exp_dd:
 * Taylor, 2^-60).
 * Sums: 4 interleaved Kahan accumulators (the chain is 4 dependent additions), kept as
 * (t, c) and added as double-doubles (no final rounding): <= u + O(n u^2) of the sum.  The
 * statistics add two vectors first (FA_SM64_PAIRS_STATS, ~8% faster): + u.  Worst case for T
 * (entries below the max): 1.35u + u + u = 3.35u relative, so where one entry dominates
 * (l = log1p(T), the max entry's log_softmax -l) <= 3.35 + 0.5 ULP; softmax (no pairs):
 * stored term 1.35u, S <= 2.35u, y = term * (1/S as a double-double) rounded: <= 4.2 ULP in
 * theory, the errors' sizes alone (every one at its largest and of one sign).  Measured,
 * every variant, row kinds of 4100 .. 70000 entries with and without where= (2026-12-07):
 * softmax 2.17 (AVX-512, AVX2) / 2.52 (SSE2, scalar), log_softmax 1.16, logsumexp 0.61 ULP;
 * 2.9-3.6 before fa_sm64_acc (the rescaling of earlier chunks by a rounded e^(M_old - mx) at
 * each new max; tests/test_reductions.py::test_masked_rows_whole_chunks_and_junk).
 * Masked rows (where=): the max and min over the entries kept, the entries left out replaced
 * by the chunk max before the exp and given 0 (a NaN or inf there is never read into the
 * result), C counted over the entries kept; a chunk the mask leaves out entirely adds nothing
 * (softmax: zeros).  (1024, 1024) masked float64 softmax 2.64 -> 1.26 ms, log_softmax 1.79 ->
 * 1.30 ms, logsumexp 1.97 -> 1.06 ms (they took the float64-lane path with x - m as a two-sum).
 * The max entries are left out of T by the zero-masked integer addition (x == mk) and the
 * others counted by popcount.  Modes per chunk from its max and min (fa_sm64_mode):
 *   FA_SM64_DIRECT  |mk| < 2^16 and min >= mk - 650: every scaled term is a normal number,
 *                   and softmax's outputs e^(x - M) / S >= 2^-962 unless ln S > 16 (the
 *                   rare case fa_sm64_times_factor's deep lanes take: 650 rather than 700,
 *                   where rows spread over 667-700 sent a fifth of their vectors there).
 *   FA_SM64_WIDE    |mk| < 2^16, entries below mk - 650: the terms at the scale
 *                   2^(K - FA_EXP_SHIFT_BIAS) (FA_EXP_SHIFT_BIASED: x clamped at mk - 760, whose
 *                   terms are 0, -inf giving no NaN; every other term a normal number, with no
 *                   branch), the bias taken out with the chunk's factor (the statistics) or by
 *                   fa_sm64_unbias_times (softmax's outputs, rounded into the subnormals on the
 *                   integer side).  They took a vector branch into a subnormal scaling before
 *                   (vscalefpd: a microcode assist on Intel cores); uniform +-800 (1024, 1024)
 *                   rows, one thread: logsumexp 1.60 -> 0.85 ms, log_softmax 1.98 -> 0.95,
 *                   softmax 2.36 -> 1.15 (N(0, 3): 0.80 / 0.88 / 0.98).
 *   FA_SM64_EXACT   anything else (huge |mk|, +inf, an all -inf chunk): the exact-difference
 *                   code (fa_sm_chunk_sum_f64, fa_sm64_softmax_small_exact).
 * softmax of rows up to FA_SM64_STORE_CHUNKS chunks stores e^(x - Kk ln2) while summing and
 * scales chunk k by 2^(Kk - Kmax) / U (no exp at all: e^(K ln2 - M) cancels); longer rows
 * recompute the terms (fa_sm_row_out_fast_f64).  log_softmax writes row r's output inside
 * row r+1's chunk sums (fa_sm64_log_softmax_rows), and every chunk sum prefetches the next
 * chunk for its max pass.
 * Speed against torch 2.13, one thread, this shared Zen 5 (medians of interleaved runs, the
 * lead's command): (1024, 1024) softmax 2.35x, log_softmax 2.69x, logsumexp 5.4x (before:
 * 1.40x, 1.46x, 3.25x); (64, 50257) 2.0x, 2.2x, 6.5x (before 1.2x, 1.2x, 3.0x); one row of
 * 10^6: 1.9x, 2.3x, 6.0x (before 1.1x, 1.4x, 3.2x).
 */
#define FA_SM64_DIRECT_LIMIT 0x1p16
enum { FA_SM64_EXACT = 0, FA_SM64_DIRECT = FA_EXP_SHIFT_NORMAL, FA_SM64_WIDE = FA_EXP_SHIFT_BIASED };

FA_INLINE int fa_sm64_mode(double m, double mn)
{
    if (!(m > -FA_SM64_DIRECT_LIMIT && m < FA_SM64_DIRECT_LIMIT))
        return FA_SM64_EXACT;
    return mn >= m - 650.0 ? FA_SM64_DIRECT : FA_SM64_WIDE;
}

/* K = an integer near m log2e (any such integer keeps the terms below e^0.36) */
FA_INLINE double fa_sm64_shift(double m)
{
    return (m * FA_LOG2E_F64 + FA_MAGIC_F64) - FA_MAGIC_F64;
}

/* e^(K ln2 - m) as hi + lo (K = fa_sm64_shift(m)): the factor from sum e^(x - K ln2) to
 * sum e^(x - m).  K ln2_hi - m is exact (Sterbenz, as in the vector reduction). */
FA_INLINE void fa_sm64_rel_factor(double m, double K, double *hi, double *lo)
{
    double a = K * FA_LN2_HI_F64 - m, ae = 0.0;
    fa_two_sum_acc(&a, &ae, K * FA_LN2_LO_F64);
    fa_sm64_exp_dd(a, ae, hi, lo);
}



/* sum over k < FA_SM64_ACCS of t[k] - c[k] over every lane, as a double-double: a vector
 * two-sum tree, then the lanes */
#define FA_SM64_ACCS 4
enum { FA_SM64_PAIRS_STATS = 1, FA_SM64_PAIRS_SOFTMAX = 0 };   /* PAIRS per caller (measured) */
FA_INLINE void fa_sm64_kahan_total(const fa_simd_f64 *t, const fa_simd_f64 *c, double *hi, double *lo)
{
    double h = 0.0, l = 0.0;
    fa_simd_f64 e01, e23, e;
    fa_simd_f64 s01 = fa_two_sum_f64(t[0], t[1], &e01), s23 = fa_two_sum_f64(t[2], t[3], &e23);
    fa_simd_f64 s = fa_two_sum_f64(s01, s23, &e);
    e = fa_add_f64(fa_add_f64(e, e01), e23);
    e = fa_sub_f64(e, fa_add_f64(fa_add_f64(c[0], c[1]), fa_add_f64(c[2], c[3])));
    fa_two_sum_acc_lanes_f64(&h, &l, s, e);
    *hi = fa_fast_two_sum_scalar_f64(h, l, lo);
}

/* one vector of fa_sm64_chunk_sum: the term of v (in: the lanes that count when !full or
 * MASKED), stored into ystore if given; EXCL: entries equal to mk give 0 and the others are
 * counted in *kept (C = entries - kept; NaN entries count as kept).  MASKED: the lanes out of
 * `in` (a where= mask) are replaced by mk before the exp (so a NaN or inf there does no harm),
 * give 0, and the lanes in are counted in *nin. */
FA_INLINE fa_simd_f64 fa_sm64_sum_term(fa_simd_f64 v, fa_mask_f64 in, int full, double *ystore, ptrdiff_t left,
                                       fa_simd_f64 mkv, fa_simd_f64 Kv, fa_simd_f64 low, int mode, int EXCL,
                                       ptrdiff_t *kept, int MASKED, ptrdiff_t *nin)
{
    fa_mask_f64 keep = in;
    if (MASKED) {
        v = fa_select_f64(in, v, mkv);
        if (EXCL)
            *nin += fa_mask_count_f64(in);
    }
    if (EXCL) {
        keep = fa_cmpneq_f64(v, mkv);    /* MASKED: the lanes out are mk, so out of keep */
        if (!full)
            keep = fa_mask_and_f64(keep, in);
        *kept += fa_mask_count_f64(keep);
    }
    fa_simd_f64 e = fa_exp_shifted_f64(v, Kv, low, keep, mode);
    if (ystore) {
        if (full) fa_storeu_f64(ystore, e); else fa_store_tail_f64(ystore, e, left);
    }
    return e;
}

/*
 * sum of e^(x - K ln2) over a chunk whose max is mk: over x != mk with the count of x == mk
 * in *ck (EXCL, the statistics: l = log1p(T) needs T without the max entries), or over
 * every x (softmax), each term also stored into ystore if given.  Kahan-compensated in
 * FA_SM64_ACCS interleaved accumulators (the Kahan chain is 4 dependent additions); PAIRS:
 * two vectors added first (one rounding, relative 2^-53 of the pair) per Kahan step.
 */
/* one vector of log_softmax's output y = (x - M) - l, entries i .. i + min(left, L); MASKED:
 * -inf where the where= mask msk leaves the entry out */
FA_INLINE fa_simd_f64 fa_sm64_log_vec(const double *x, const unsigned char *msk, ptrdiff_t i, ptrdiff_t left,
                                      fa_simd_f64 Mv, fa_simd_f64 lv, int MASKED)
{
    const ptrdiff_t L = FA_LANES_F64;
    fa_simd_f64 v = left >= L ? fa_loadu_f64(x + i) : fa_load_tail_f64(x + i, left, 0.0);
    v = fa_sub_f64(fa_sub_f64(v, Mv), lv);
    if (MASKED)
        v = fa_select_f64(left >= L ? fa_load_mask_u8_f64(msk + i) : fa_load_tail_mask_u8_f64(msk + i, left), v,
                          fa_set1_f64(-INFINITY));
    return v;
}

/* log_softmax's output with a where= mask: y = (x - M) - l where kept, -inf elsewhere */
FA_INLINE void fa_sm64_log_out_masked(const double *x, const unsigned char *msk, double *y, ptrdiff_t n, double M,
                                      double l)
{
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 Mv = fa_set1_f64(M), lv = fa_set1_f64(l);
    for (ptrdiff_t i = 0; i < n; i += L) {
        const ptrdiff_t left = n - i;
        const fa_simd_f64 v = fa_sm64_log_vec(x, msk, i, left, Mv, lv, 1);
        if (left >= L) fa_storeu_f64(y + i, v); else fa_store_tail_f64(y + i, v, left);
    }
}

/* a log_softmax row whose statistics are known and whose output y = (x - M) - l (-inf where
 * its mask mk, if given, leaves the entry out) is written inside the next row's chunk sum
 * (the stores then overlap the exps) */
/* (softmax rows, fa_sm64_softmax_rows: sc is the pending row's scaling of this chunk, whose
 * stored terms y are scaled in place instead; x its entries for the deep lanes, mk NULL) */
struct fa_sm64_scale_chunk;
typedef struct fa_sm64_pending {
    const double *x;
    const unsigned char *mk;
    double *y;
    double M, l;
    const struct fa_sm64_scale_chunk *sc;
} fa_sm64_pending;
FA_INLINE void fa_sm64_scale_vec(const struct fa_sm64_scale_chunk *sc, const double *x, double *y, ptrdiff_t i,
                                 ptrdiff_t left);

FA_INLINE void fa_sm64_chunk_sum(const double *x, const unsigned char *msk, ptrdiff_t n, double mk, double K,
                                 int mode, int EXCL, int PAIRS, double *ystore, double *uh, double *ul, double *ck,
                                 const fa_sm64_pending *o, int MASKED)
{
    const fa_simd_f64 oM = fa_set1_f64(o ? o->M : 0.0), ol = fa_set1_f64(o ? o->l : 0.0);
    const ptrdiff_t L = FA_LANES_F64, A = FA_SM64_ACCS, V = PAIRS ? 2 * FA_SM64_ACCS : FA_SM64_ACCS;
    const fa_simd_f64 mkv = fa_set1_f64(mk), Kv = fa_exp_shift_magic_f64(K), low = fa_set1_f64(mk - 760.0);
    const fa_mask_f64 all = fa_cmpeq_f64(mkv, mkv);
    fa_simd_f64 t[FA_SM64_ACCS], c[FA_SM64_ACCS];
    ptrdiff_t kept = 0, nin = 0;
    ptrdiff_t i = 0;
    for (int k = 0; k < A; k++)
        t[k] = c[k] = fa_set1_f64(0.0);
#define FA_SM64_TERM(j) fa_sm64_sum_term(fa_loadu_f64(x + i + (j) * L), MASKED ? fa_load_mask_u8_f64(msk + i + (j) * L) : all, \
                                         1, ystore ? ystore + i + (j) * L : NULL, L, mkv, Kv, low, mode, EXCL, &kept, \
                                         MASKED, &nin)
    for (; i + V * L <= n; i += V * L) {
        for (int k = 0; k < A; k++) {
            fa_simd_f64 e = PAIRS ? fa_add_f64(FA_SM64_TERM(2 * k), FA_SM64_TERM(2 * k + 1)) : FA_SM64_TERM(k);
            fa_kahan_add_f64(&t[k], &c[k], e);
        }
        if (o && o->sc)    /* a softmax row's stored terms, scaled */
            for (ptrdiff_t j = i; j < i + V * L; j += L)
                fa_sm64_scale_vec(o->sc, o->x, o->y, j, L);
        else if (o)        /* (the pending row has a mask exactly when this one has) */
            for (ptrdiff_t j = i; j < i + V * L; j += L)
                fa_storeu_f64(o->y + j, fa_sm64_log_vec(o->x, o->mk, j, L, oM, ol, MASKED));
        for (ptrdiff_t j = i; j < i + V * L; j += 64 / (ptrdiff_t)sizeof(double)) {
            fa_prefetch_f64(x + n + j);    /* the next chunk (or row) for its max pass; a hint past the end */
            if (ystore)
                fa_prefetchw_f64(ystore + n + j);
            if (o) {                       /* the pending row's next chunk */
                fa_prefetch_f64(o->x + n + j);
                fa_prefetchw_f64(o->y + n + j);
            }
        }
    }
    for (int k = 0; i < n; i += L, k = (k + 1) % FA_SM64_ACCS) {
        const ptrdiff_t left = n - i;
        if (o && o->sc) {
            fa_sm64_scale_vec(o->sc, o->x, o->y, i, left);
        } else if (o) {
            const fa_simd_f64 v = fa_sm64_log_vec(o->x, o->mk, i, left, oM, ol, MASKED);
            if (left >= L) fa_storeu_f64(o->y + i, v); else fa_store_tail_f64(o->y + i, v, left);
        }
        fa_simd_f64 e = left >= L ? FA_SM64_TERM(0)
                                  : fa_sm64_sum_term(fa_load_tail_f64(x + i, left, mk),
                                                     MASKED ? fa_load_tail_mask_u8_f64(msk + i, left) : fa_tail_mask_f64(left),
                                                     0, ystore ? ystore + i : NULL, left, mkv, Kv, low, mode, EXCL, &kept,
                                                     MASKED, &nin);
        fa_kahan_add_f64(&t[k], &c[k], e);
    }
#undef FA_SM64_TERM
    fa_sm64_kahan_total(t, c, uh, ul);
    *ck = EXCL ? (double)((MASKED ? nin : n) - kept) : 0.0;
}


/*
 * The statistics of a row's DIRECT and WIDE chunks, accumulated at the integer shift of the row
 * max so far: U = the sum of the terms below the max, as a double-double, at the scale
 * 2^(K - FA_EXP_SHIFT_BIAS) (K = fa_sm64_shift(M); biased, so that terms down to e^-1000
 * below M stay normal), C = the entries at M.  A chunk's sum (at its own 2^Kc or 2^(Kc - bias))
 * enters times a power of 2, exactly; when a larger max arrives U is rescaled by a power of 2
 * and the former max entries become terms c e^(m - K ln2) (libm's exp of a two-sum argument:
 * 0.5 ULP of that share).  One e^(K ln2 - M) per row at the end (fa_sm64_acc_finish, a
 * double-double).  Formerly every chunk entered relative to its own max (a double-double
 * factor) and fa_sm_merge multiplied the running sum by a rounded e^(M_old - mx) at each new
 * max, ~1.5 ULP each time, compounding: softmax of rows of 70000 entries (past the stored
 * path) measured 2.9-3.6 ULP, every entry of a row off alike (the sum's error).
 */
typedef struct fa_sm64_acc {
    double M, K, Uh, Ul, C;
} fa_sm64_acc;
#define FA_SM64_ACC_INIT {-INFINITY, 0.0, 0.0, 0.0, 0.0}

/* U += c e^(m - K ln2) 2^bias: m a chunk max below the row max, its c entries terms */
FA_INLINE void fa_sm64_acc_max_terms(fa_sm64_acc *a, double m, double c)
{
    const double Kb = a->K - FA_EXP_SHIFT_BIAS;
    double e1, e2, d = fa_two_sum_scalar_f64(m, -(Kb * FA_LN2_HI_F64), &e1);   /* Kb ln2_hi exact */
    d = fa_two_sum_scalar_f64(d, -(Kb * FA_LN2_LO_F64), &e2);                 /* e1 + e2 ~ 2^-53 d */
    fa_two_sum_acc(&a->Uh, &a->Ul, c * (fa_exp_scalar_f64(d) * (1.0 + (e1 + e2))));
}

/* a chunk: max mx, shift Kc = fa_sm64_shift(mx), its sum uh + ul over the entries below mx at
 * the scale 2^Ks (Kc, or Kc - bias for a WIDE chunk), ck entries at mx */
FA_INLINE void fa_sm64_acc_add(fa_sm64_acc *a, double mx, double Kc, double Ks, double uh, double ul, double ck)
{
    if (mx > a->M) {
        const double Mo = a->M, Co = a->C;
        if (Mo > -INFINITY) {                /* 2^(K_old - Kc) <= 1: exact (or far below, 0) */
            const int d = (int)(a->K - Kc);
            a->Uh = fa_ldexp_scalar_f64(a->Uh, d);
            a->Ul = fa_ldexp_scalar_f64(a->Ul, d);
        }
        a->M = mx;
        a->K = Kc;
        a->C = ck;
        if (Mo > -INFINITY && Co != 0.0)
            fa_sm64_acc_max_terms(a, Mo, Co);
    } else if (mx == a->M) {
        a->C += ck;
    } else {
        fa_sm64_acc_max_terms(a, mx, ck);
    }
    const int d = (int)(Ks - (a->K - FA_EXP_SHIFT_BIAS));
    fa_two_sum_acc(&a->Uh, &a->Ul, fa_ldexp_scalar_f64(uh, d));
    a->Ul += fa_ldexp_scalar_f64(ul, d);
}

/* the accumulated chunks into s: T = U e^(K ln2 - M) 2^-bias, the factor a double-double */
FA_INLINE void fa_sm64_acc_finish(fa_sm_stats *s, const fa_sm64_acc *a)
{
    if (!(a->M > -INFINITY))
        return;
    double fh, fl, tl;
    fa_sm64_rel_factor(a->M, a->K, &fh, &fl);
    fh = fa_ldexp_scalar_f64(fh, -FA_EXP_SHIFT_BIAS);   /* exact: fh ~ 1, fl ~ 2^-53 */
    fl = fa_ldexp_scalar_f64(fl, -FA_EXP_SHIFT_BIAS);
    const double tk = fa_two_prod_scalar_f64(a->Uh, fh, &tl), before = s->M;
    tl += a->Uh * fl + a->Ul * fh;
    fa_sm_merge(s, a->M, tk, a->C);
    if (a->M >= before)              /* tk entered at scale 1 (below, tl is under 2^-53 of it) */
        s->te += tl;
}

/* one chunk (max mx, min mn over the entries msk keeps, if given) into a (DIRECT and WIDE
 * chunks) or merged into s (the rest); a pending output o (or NULL) is written on the way */
FA_INLINE void fa_sm64_stats_chunk(fa_sm_stats *s, fa_sm64_acc *a, const double *x, const unsigned char *msk,
                                   ptrdiff_t len, double mx, double mn, const fa_sm64_pending *o)
{
    const int mode = fa_sm64_mode(mx, mn);
    double tk, ck;
    if (mode == FA_SM64_EXACT) {
        if (o && o->mk)
            fa_sm64_log_out_masked(o->x, o->mk, o->y, len, o->M, o->l);
        else if (o)
            fa_sm_log_out_f64(o->x, o->y, len, o->M, o->l);
        if (msk)
            fa_sm_chunk_sum_f64(x, msk, NULL, len, mx, &tk, &ck, 1, 0);
        else
            fa_sm_chunk_sum_f64(x, NULL, NULL, len, mx, &tk, &ck, 0, 0);
        fa_sm_merge(s, mx, tk, ck);
        return;
    }
    /* a chunk with entries below mx - 650 is summed at the scale 2^(K - FA_EXP_SHIFT_BIAS), where
     * none of its terms is subnormal (FA_EXP_SHIFT_BIASED), and scaled back by the factor */
    const double K = fa_sm64_shift(mx), Kb = K - FA_EXP_SHIFT_BIAS;
    double uh, ul;
    if (msk && mode == FA_SM64_DIRECT)
        fa_sm64_chunk_sum(x, msk, len, mx, K, FA_SM64_DIRECT, 1, FA_SM64_PAIRS_STATS, NULL, &uh, &ul, &ck, o, 1);
    else if (msk)
        fa_sm64_chunk_sum(x, msk, len, mx, Kb, FA_SM64_WIDE, 1, FA_SM64_PAIRS_STATS, NULL, &uh, &ul, &ck, o, 1);
    else if (mode == FA_SM64_DIRECT)
        fa_sm64_chunk_sum(x, NULL, len, mx, K, FA_SM64_DIRECT, 1, FA_SM64_PAIRS_STATS, NULL, &uh, &ul, &ck, o, 0);
    else
        fa_sm64_chunk_sum(x, NULL, len, mx, Kb, FA_SM64_WIDE, 1, FA_SM64_PAIRS_STATS, NULL, &uh, &ul, &ck, o, 0);
    fa_sm64_acc_add(a, mx, K, mode == FA_SM64_WIDE ? Kb : K, uh, ul, ck);
}

/* t the rounded sum (the callers' S = C + t), te the rest */
FA_INLINE void fa_sm64_stats_normalize(fa_sm_stats *s)
{
    const double t = s->t + s->te;
    s->te -= t - s->t;
    s->t = t;
}

static int fa_sm_row_stats_fast_f64(const double *x, const unsigned char *mk, ptrdiff_t n, fa_sm_stats *s,
                                    int terms)
{
    (void)terms;                     /* one exp in float64 (the float32 rows' FA_STATS_TERMS_*) */
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(double);
    double *rmin = &s->rmin;
    fa_sm64_acc a = FA_SM64_ACC_INIT;
    s->M = -INFINITY; s->t = 0.0; s->C = 0.0; s->te = 0.0;
    *rmin = INFINITY;
    for (ptrdiff_t c0 = 0; c0 < n; c0 += chunk) {
        const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;
        const unsigned char *mc = mk ? mk + c0 : NULL;
        double mx, mn;
        fa_sm_chunk_max_min_f64(x + c0, mc, len, &mx, &mn);
        *rmin = mn < *rmin ? mn : *rmin;
        fa_sm64_stats_chunk(s, &a, x + c0, mc, len, mx, mn, NULL);
    }
    fa_sm64_acc_finish(s, &a);
    fa_sm64_stats_normalize(s);
    return 1;
}

/*
 * log_softmax of contiguous float64 rows, with a where= mask mk or without (NULL): row r's
 * output pass runs inside row r+1's chunk sums, chunk by chunk (the stores to memory overlap
 * the exps).  y may be x.
 */
FA_INLINE void fa_sm64_log_softmax_rows_T(const double *x, const unsigned char *mk, double *y, ptrdiff_t rows,
                                          ptrdiff_t n, int MASKED)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(double);
    const double *px = NULL;
    const unsigned char *pmk = NULL;
    double *py = NULL, pM = 0.0, pl = 0.0;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const double *xr = x + r * n;
        const unsigned char *mr = MASKED ? mk + r * n : NULL;
        fa_sm_stats s = {-INFINITY, 0.0, 0.0, 0.0};
        fa_sm64_acc a = FA_SM64_ACC_INIT;
        double l, sign;
        for (ptrdiff_t c0 = 0; c0 < n; c0 += chunk) {
            const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;
            const unsigned char *mc = MASKED ? mr + c0 : NULL;
            const fa_sm64_pending o = {py ? px + c0 : NULL, MASKED && pmk ? pmk + c0 : NULL, py ? py + c0 : NULL, pM, pl,
                                       NULL};
            double mx, mn;
            fa_sm_chunk_max_min_f64(xr + c0, mc, len, &mx, &mn);
            fa_sm64_stats_chunk(&s, &a, xr + c0, mc, len, mx, mn, py ? &o : NULL);
        }
        fa_sm64_acc_finish(&s, &a);
        fa_sm64_stats_normalize(&s);
        py = NULL;
        if (fa_sm_finish(&s, &l, &sign) == FA_SM_SPECIAL) {
            fa_sm_row_special_f64(y + r * n, mr, n, 1, 1);
            continue;
        }
        px = xr; pmk = mr; py = y + r * n; pM = s.M; pl = l;
    }
    if (py && MASKED)
        fa_sm64_log_out_masked(px, pmk, py, n, pM, pl);
    else if (py)
        fa_sm_log_out_f64(px, py, n, pM, pl);
}

/* one function per case, each with its own copy of the loop (one function holding both
 * measured the unmasked rows ~10% slower) */
static void fa_sm64_log_softmax_rows_masked(const double *x, const unsigned char *mk, double *y, ptrdiff_t rows,
                                            ptrdiff_t n)
{
    fa_sm64_log_softmax_rows_T(x, mk, y, rows, n, 1);
}

static void fa_sm64_log_softmax_rows_plain(const double *x, double *y, ptrdiff_t rows, ptrdiff_t n)
{
    fa_sm64_log_softmax_rows_T(x, NULL, y, rows, n, 0);
}

static int fa_sm64_log_softmax_rows(const double *x, const unsigned char *mk, double *y, ptrdiff_t rows,
                                    ptrdiff_t n)
{
    if (mk)
        fa_sm64_log_softmax_rows_masked(x, mk, y, rows, n);
    else
        fa_sm64_log_softmax_rows_plain(x, y, rows, n);
    return 1;
}

/*
 * softmax's outputs y = v (gh + gl), v = e^(x - K ln2) (stored by the chunk sums, or just
 * computed), without a subnormal operand or result: on an Intel core every such product takes
 * a microcode assist (~150 cycles), and rows of log-weights spread over more than ~700 (a
 * particle filter's, an importance sampler's) have many entries there (uniform +-800 float64
 * rows: softmax 5x slower than N(0, 3) rows before).  Lanes with v >= thr = 2^-962 / gh take
 * the product (v gh >= 2^-962, v gl >= 2^-1022: gl is 0 or >= 2^-60 gh); the lanes with
 * 0 < v < thr (a branch, rare: a DIRECT chunk's with ln S > 16 or far below the row's max, a
 * WIDE chunk's 64 binades or more below it; WIDE rows' outputs take fa_sm64_unbias_times) are
 * recomputed from x at the row's common
 * scale (K, dh + dl) by fa_exp_shifted_times_f64, which rounds into the subnormals on the
 * integer side.  0 (masked, -inf and dead lanes) and NaN stay as they are.
 */
typedef struct fa_sm64_factor {
    fa_simd_f64 gh, gl, thr;        /* the product's factor (a stored chunk's: scaled by 2^(Kk - Kmax)) */
    fa_simd_f64 magic_k, low, dh, dl;   /* the row's scale K and factor, for the deep lanes */
} fa_sm64_factor;

/* gh + gl as the product takes it: gl below 2^-60 gh dropped (<= 2^-60 relative, so that
 * v gl stays normal), and nothing at all below 2^-1000 (every v > 0 is then deep) */
FA_INLINE void fa_sm64_factor_set(fa_sm64_factor *f, double gh, double gl)
{
    const int tiny = !(gh >= 0x1p-1000);
    f->gh = fa_set1_f64(tiny ? 0.0 : gh);
    f->gl = fa_set1_f64(tiny || fabs(gl) < 0x1p-60 * gh ? 0.0 : gl);
    f->thr = fa_set1_f64(tiny ? INFINITY : 0x1p-962 / gh);
}

/* the row's scale: y = e^(x - K ln2) (dh + dl), x below K ln2 - 760 giving 0 */
FA_INLINE void fa_sm64_factor_row(fa_sm64_factor *f, double K, double dh, double dl)
{
    f->magic_k = fa_exp_shift_magic_f64(K);
    f->low = fa_set1_f64(K * FA_LN2_HI_F64 - 760.0);
    f->dh = fa_set1_f64(dh);
    f->dl = fa_set1_f64(fabs(dl) < 0x1p-60 * dh ? 0.0 : dl);
}

/* v (gh + gl): the product of the lanes that are not deep */
FA_INLINE fa_simd_f64 fa_sm64_product(fa_simd_f64 v, const fa_sm64_factor *f)
{
    return fa_fmadd_f64(v, f->gh, fa_mul_f64(v, f->gl));
}

/* the deep lanes of v: 0 < v < thr */
FA_INLINE fa_mask_f64 fa_sm64_deep(fa_simd_f64 v, const fa_sm64_factor *f)
{
    return fa_mask_and_f64(fa_cmplt_f64(v, f->thr), fa_cmpgt_f64(v, fa_set1_f64(0.0)));
}

/* a vector with deep lanes: those recomputed from x at the row's scale, the others the product */
FA_INLINE fa_simd_f64 fa_sm64_times_factor_deep(fa_simd_f64 v, fa_simd_f64 x, fa_mask_f64 deep,
                                                const fa_sm64_factor *f)
{
    const fa_simd_f64 d = fa_exp_shifted_times_f64(x, f->magic_k, f->low, f->dh, f->dl);
    return fa_select_f64(deep, d, fa_sm64_product(fa_select_f64(deep, fa_set1_f64(0.0), v), f));
}

FA_INLINE fa_simd_f64 fa_sm64_times_factor(fa_simd_f64 v, fa_simd_f64 x, const fa_sm64_factor *f)
{
    const fa_mask_f64 deep = fa_sm64_deep(v, f);
    if (FA_UNLIKELY(fa_mask_any_f64(deep)))
        return fa_sm64_times_factor_deep(v, x, deep, f);
    return fa_sm64_product(v, f);
}

/*
 * y = v (gh + gl) 2^-FA_EXP_SHIFT_BIAS rounded once, for v a term of FA_EXP_SHIFT_BIASED (0,
 * or in [2^-497, 2^601]) and gh in [2^-100, 2^400] (gl 0 or ~2^-53 gh; the callers' gh: 1/S
 * and cross-entropy's a/S, a <= 2^20): a = v (gh + gl), a
 * normal number, is y 2^600; y normal (a >= 2^-422) is a 2^-600 exactly, y subnormal is a 2^474
 * (< 2^52, exact) rounded to an integer on the integer side (fa_subnormal_from_f64).  Both are
 * formed from a clamped to their side of 2^-422 and selected, so that no instruction underflows
 * (a microcode assist per instruction on Intel cores) and there is no branch: the rows with
 * entries more than 700 below the max (log-weights) have subnormal outputs in a fifth to a third
 * of their vectors.  Error: a's two roundings (v gl, the FMA), then y's one.  NaN is kept.
 */
FA_INLINE fa_simd_f64 fa_sm64_unbias_times(fa_simd_f64 v, fa_simd_f64 gh, fa_simd_f64 gl)
{
    const fa_simd_f64 cut = fa_set1_f64(0x1p-422);
    const fa_simd_f64 a = fa_fmadd_f64(v, gh, fa_mul_f64(v, gl));
    const fa_simd_f64 yn = fa_mul_f64(fa_max_f64(cut, a), fa_set1_f64(0x1p-600));   /* (max keeps NaN) */
    const fa_simd_f64 ys = fa_subnormal_from_f64(fa_mul_f64(fa_min_f64(a, cut), fa_set1_f64(0x1p474)));
    return fa_select_f64(fa_cmplt_f64(a, cut), ys, yn);
}

/* softmax's output pass of the direct reduction: y = 2^(J - K) (p (gh + gl)); MASKED: 0
 * where msk leaves the entry out (the entry replaced by M before the exp) */
FA_INLINE void fa_sm64_softmax_out_direct(const double *x, const unsigned char *msk, double *y, ptrdiff_t n,
                                          double M, int mode, double K, double gh, double gl, int MASKED)
{
    const ptrdiff_t L = FA_LANES_F64;
    /* WIDE rows: the terms at the scale 2^(K - FA_EXP_SHIFT_BIAS), all normal, unbiased by
     * fa_sm64_unbias_times (no branch); the others: the product, deep lanes recomputed */
    const fa_simd_f64 low = fa_set1_f64(M - 760.0), Mv = fa_set1_f64(M);
    const fa_simd_f64 Kv = fa_exp_shift_magic_f64(mode == FA_SM64_WIDE ? K - FA_EXP_SHIFT_BIAS : K);
    const fa_simd_f64 ghv = fa_set1_f64(gh), glv = fa_set1_f64(gl);
    fa_sm64_factor f;
    fa_sm64_factor_set(&f, gh, gl);
    fa_sm64_factor_row(&f, K, gh, gl);
    const fa_mask_f64 all = fa_cmpeq_f64(Mv, Mv);
    for (ptrdiff_t i = 0; i < n; i += L) {
        const ptrdiff_t left = n - i;
        fa_simd_f64 v = left >= L ? fa_loadu_f64(x + i) : fa_load_tail_f64(x + i, left, M);
        fa_mask_f64 in = all;
        if (MASKED) {
            in = left >= L ? fa_load_mask_u8_f64(msk + i) : fa_load_tail_mask_u8_f64(msk + i, left);
            v = fa_select_f64(in, v, Mv);
        }
        if (mode == FA_SM64_DIRECT)
            v = fa_sm64_times_factor(fa_exp_shifted_f64(v, Kv, low, in, FA_SM64_DIRECT), v, &f);
        else
            v = fa_sm64_unbias_times(fa_exp_shifted_f64(v, Kv, low, in, FA_EXP_SHIFT_BIASED), ghv, glv);
        if (left >= L) fa_storeu_f64(y + i, v); else fa_store_tail_f64(y + i, v, left);
    }
}

/* chunk y's stored terms scaled in place (BIASED a constant once inlined): terms stored by
 * FA_EXP_SHIFT_BIASED times (gh + gl) 2^-FA_EXP_SHIFT_BIAS (fa_sm64_unbias_times: x and f
 * unread), the others times the factor f (fa_sm64_times_factor: x, the chunk's entries, for
 * its deep lanes; gh and gl unread) */
FA_INLINE fa_simd_f64 fa_sm64_out_vec(fa_simd_f64 v, const double *x, ptrdiff_t left, const fa_sm64_factor *f,
                                      int BIASED, fa_simd_f64 ghv, fa_simd_f64 glv)
{
    const ptrdiff_t L = FA_LANES_F64;
    if (BIASED)
        return fa_sm64_unbias_times(v, ghv, glv);
    /* fa_sm64_times_factor with x read only for a vector with a deep lane (rows past L2 would
     * fetch it again: (64, 50257) rows with -inf 5% slower when x was read for every vector) */
    const fa_mask_f64 deep = fa_sm64_deep(v, f);
    if (FA_UNLIKELY(fa_mask_any_f64(deep)))
        return fa_sm64_times_factor_deep(v, left >= L ? fa_loadu_f64(x) : fa_load_tail_f64(x, left, 0.0), deep, f);
    return fa_sm64_product(v, f);
}
/* Whether no stored term of a chunk can be deep (0 < v < 2^-962 / gh, fa_sm64_times_factor):
 * its terms v = e^(x - Kc ln2) (Kc its scale, biased or not) over the entries it keeps, whose
 * least is mn (-inf: some entry is -inf, its term 0, and the least finite one unknown: no), are
 * at least e^(mn - Kc ln2) rounded (within 2^-50: halved for the margin).  N(0, 3) and shifted
 * rows: every chunk; the product then skips two compares and a branch per vector ((64, 50257)
 * float64 softmax of N(0, 3) rows 1572 -> 1400 us, (1024, 1024) 445 -> 407; 2026-12-07). */
FA_INLINE int fa_sm64_no_deep_lanes(double mn, double Kc, double gh)
{
    if (!(mn > -INFINITY) || !(gh >= 0x1p-1000))
        return 0;
    const double vmin = 0.5 * fa_exp_scalar_f64((mn - Kc * FA_LN2_HI_F64) - Kc * FA_LN2_LO_F64);
    return vmin >= 0x1p-962 / gh;
}

/* (PLAIN: the caller knows no lane is deep, fa_sm64_no_deep_lanes: the product alone) */
FA_INLINE void fa_sm64_scale_out(const double *x, double *y, ptrdiff_t len, const fa_sm64_factor *f, int BIASED,
                                 double gh, double gl, int PLAIN)
{
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 ghv = fa_set1_f64(gh), glv = fa_set1_f64(gl);
    ptrdiff_t i = 0;
    for (; PLAIN && !BIASED && i + 2 * L <= len; i += 2 * L) {
        const fa_simd_f64 v0 = fa_loadu_f64(y + i), v1 = fa_loadu_f64(y + i + L);
        fa_storeu_f64(y + i, fa_sm64_product(v0, f));
        fa_storeu_f64(y + i + L, fa_sm64_product(v1, f));
    }
    for (; i + 2 * L <= len; i += 2 * L) {
        const fa_simd_f64 v0 = fa_loadu_f64(y + i), v1 = fa_loadu_f64(y + i + L);
        fa_storeu_f64(y + i, fa_sm64_out_vec(v0, x + i, L, f, BIASED, ghv, glv));
        fa_storeu_f64(y + i + L, fa_sm64_out_vec(v1, x + i + L, L, f, BIASED, ghv, glv));
    }
    for (; i < len; i += L) {
        const ptrdiff_t left = len - i;
        fa_simd_f64 v = left >= L ? fa_loadu_f64(y + i) : fa_load_tail_f64(y + i, left, 0.0);
        v = fa_sm64_out_vec(v, x + i, left, f, BIASED, ghv, glv);
        if (left >= L) fa_storeu_f64(y + i, v); else fa_store_tail_f64(y + i, v, left);
    }
}

/* log_softmax: y = (x - M) - l; softmax of rows past the stored path: e^(x - M) / S recomputed
 * with the direct reduction, y = 2^(J - K) (p (gh + gl)), gh + gl = e^(K ln2 - M) / S.
 * mk (a where= mask, or NULL): softmax 0 and log_softmax -inf where it leaves entries out. */
static void fa_sm_row_out_fast_f64(const double *x, const unsigned char *mk, double *y, ptrdiff_t n,
                                   const fa_sm_stats *st, double l, int LOG)
{
    const double M = st->M, rmin = st->rmin, S = st->C + st->t;
    if (LOG) {
        if (mk)
            fa_sm64_log_out_masked(x, mk, y, n, M, l);
        else
            fa_sm_log_out_f64(x, y, n, M, l);
        return;
    }
    const int mode = fa_sm64_mode(M, rmin);
    if (mode == FA_SM64_EXACT) {
        const fa_sm_stats s = {M, 0.0, S, 0.0};
        if (mk)
            fa_sm_row_out_f64(x, y, mk, n, &s, l, 0, 1);
        else
            fa_sm_row_out_f64(x, y, NULL, n, &s, l, 0, 0);
        return;
    }
    const double K = fa_sm64_shift(M);
    double fh, fl;
    fa_sm64_rel_factor(M, K, &fh, &fl);
    const double gh = fh / S, gl = (fma(-gh, S, fh) + fl) / S;
    if (mk)
        fa_sm64_softmax_out_direct(x, mk, y, n, M, mode, K, gh, gl, 1);
    else
        fa_sm64_softmax_out_direct(x, NULL, y, n, M, mode, K, gh, gl, 0);
}

/* whether every finite entry (kept by mk) lies within 600 of the row's max: then every
 * output e^(x - M) / S >= 2^-866 / n is made by the product alone (fa_sm64_times_factor
 * never needs x); NaN gives 1 (the row is special).  -inf entries are skipped, unlike
 * fa_sm_chunk_max_min_f64's min: their output is 0 whatever the path */
FA_INLINE int fa_sm64_row_narrow(const double *x, const unsigned char *mk, ptrdiff_t n)
{
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 ninf = fa_set1_f64(-INFINITY), pinf = fa_set1_f64(INFINITY);
    fa_simd_f64 mx = ninf, mn = pinf;
    for (ptrdiff_t i = 0; i < n; i += L) {
        const ptrdiff_t left = n - i;
        fa_simd_f64 v = left >= L ? fa_loadu_f64(x + i) : fa_load_tail_f64(x + i, left, -INFINITY);
        if (mk)
            v = fa_select_f64(left >= L ? fa_load_mask_u8_f64(mk + i) : fa_load_tail_mask_u8_f64(mk + i, left),
                              v, ninf);
        mx = fa_max_f64(mx, v);
        mn = fa_min_f64(mn, fa_select_f64(fa_cmpgt_f64(v, ninf), v, pinf));
    }
    const double M = fa_reduce_max_f64(mx), m = -fa_reduce_max_f64(fa_neg_f64(mn));
    return !(m < M - 600.0);
}

/*
 * softmax of a float64 row of up to FA_SM64_STORE_CHUNKS chunks (x and y stay in L2): per
 * chunk e^(x - Kk ln2) is stored into y while summed (no statistics needed: the factor
 * e^(K ln2 - M) cancels between the entries and S), then chunk k is scaled in place by
 * 2^(Kk - Kmax) / U, U = sum_k Uk 2^(Kk - Kmax), as a double-double.  Rows with a chunk the
 * direct reduction does not take go through fa_sm64_softmax_small_exact.  In two stages:
 * fa_sm64_small_terms (the stored terms and U, in fa_sm64_small_row) and the scaling, chunk
 * by chunk (fa_sm64_chunk_scaling, fa_sm64_small_scale); fa_sm64_softmax_rows runs a row's
 * scaling inside the next row's terms (Intel cores, fa_tune_softmax_overlap).
 */
typedef struct fa_sm64_small_row {
    int nc;
    double Kmax, ih, il;
    double Ks[FA_SM64_STORE_CHUNKS], mins[FA_SM64_STORE_CHUNKS];
    char biased[FA_SM64_STORE_CHUNKS];     /* a WIDE chunk: stored at 2^(Kk - FA_EXP_SHIFT_BIAS) */
} fa_sm64_small_row;

/* how chunk c of a row is scaled (fa_sm64_scale_out's arguments, per vector in
 * fa_sm64_scale_vec): skip (a chunk the mask leaves out: zeros already), the factor, BIASED
 * (fa_sm64_unbias_times with gh, gl) and PLAIN (no deep lane: the product alone) */
typedef struct fa_sm64_scale_chunk {
    fa_sm64_factor f;
    fa_simd_f64 ghv, glv;
    double gh, gl;
    int skip, biased, plain;
} fa_sm64_scale_chunk;

FA_INLINE void fa_sm64_chunk_scaling(const fa_sm64_small_row *R, int c, fa_sm64_scale_chunk *sc)
{
    sc->skip = R->Ks[c] != R->Ks[c];
    if (sc->skip)
        return;
    fa_sm64_factor_row(&sc->f, R->Kmax, R->ih, R->il);
    const int d = (int)(R->Ks[c] - R->Kmax);
    sc->biased = 0;
    sc->plain = 0;
    sc->gh = sc->gl = 0.0;
    if (R->biased[c] && d >= -64) {         /* (then gh >= 2^-82: U < 2^18) */
        /* a chunk biased for its -inf entries alone, likely: the product with the factor
         * 2^-600 lower, the deep lanes (none, unless the chunk is spread too) recomputed
         * (fa_sm64_times_factor: 5 operations per vector rather than 11); the same bits
         * wherever nothing is subnormal.  (64, 50257) rows with 10% -inf: 1549 -> 1475 us,
         * (1024, 1024) 505 -> 454 (2026-12-07) */
        if (R->mins[c] == -INFINITY) {
            fa_sm64_factor_set(&sc->f, fa_ldexp_scalar_f64(R->ih, d - FA_EXP_SHIFT_BIAS),
                               fa_ldexp_scalar_f64(R->il, d - FA_EXP_SHIFT_BIAS));
        } else {
            sc->biased = 1;
            sc->gh = fa_ldexp_scalar_f64(R->ih, d);
            sc->gl = fa_ldexp_scalar_f64(R->il, d);
        }
    } else {
        const int db = d - (R->biased[c] ? FA_EXP_SHIFT_BIAS : 0);   /* far below the max: the product, deep lanes from x */
        const double gh = fa_ldexp_scalar_f64(R->ih, db);
        fa_sm64_factor_set(&sc->f, gh, fa_ldexp_scalar_f64(R->il, db));
        sc->plain = fa_sm64_no_deep_lanes(R->mins[c], R->Ks[c] - (R->biased[c] ? FA_EXP_SHIFT_BIAS : 0), gh);
    }
    sc->ghv = fa_set1_f64(sc->gh);
    sc->glv = fa_set1_f64(sc->gl);
}

/* one vector of a chunk's scaling (entries i .. i + min(left, L) of the chunk's x and y):
 * the per-vector step of fa_sm64_scale_out, so the same bits */
FA_INLINE void fa_sm64_scale_vec(const struct fa_sm64_scale_chunk *sc, const double *x, double *y, ptrdiff_t i,
                                 ptrdiff_t left)
{
    const ptrdiff_t L = FA_LANES_F64;
    if (sc->skip)
        return;
    fa_simd_f64 v = left >= L ? fa_loadu_f64(y + i) : fa_load_tail_f64(y + i, left, 0.0);
    v = sc->plain ? fa_sm64_product(v, &sc->f) : fa_sm64_out_vec(v, x + i, left, &sc->f, sc->biased, sc->ghv, sc->glv);
    if (left >= L) fa_storeu_f64(y + i, v); else fa_store_tail_f64(y + i, v, left);
}

/* the scaling of chunks from..nc - 1 of a row whose terms are stored in y */
static void fa_sm64_small_scale(const fa_sm64_small_row *R, const double *x, double *y, ptrdiff_t n, int from)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(double);
    for (int c = from; c < R->nc; c++) {
        fa_sm64_scale_chunk sc;
        fa_sm64_chunk_scaling(R, c, &sc);
        if (sc.skip)
            continue;
        const ptrdiff_t c0 = c * chunk, len = n - c0 < chunk ? n - c0 : chunk;
        if (sc.biased)
            fa_sm64_scale_out(x + c0, y + c0, len, &sc.f, 1, sc.gh, sc.gl, 0);
        else
            fa_sm64_scale_out(x + c0, y + c0, len, &sc.f, 0, 0.0, 0.0, sc.plain);
    }
}

enum { FA_SM64_SMALL_EXACT = 3 };   /* a chunk the direct reduction does not take (no mask) */

/* the stored terms and U of a row (R); P (or NULL): a pending row (its x px and y py) whose
 * chunk c is scaled inside this row's chunk c, *done receiving how many of its chunks were.
 * Returns FA_SM_OK, FA_SM_SPECIAL (NaN, or nothing left in), FA_SM_DECLINED (a chunk the
 * direct reduction does not take, with a mask) or FA_SM64_SMALL_EXACT (the same without one) */
FA_INLINE int fa_sm64_small_terms(const double *x, const unsigned char *mk, double *y, ptrdiff_t n,
                                  fa_sm64_small_row *R, const fa_sm64_small_row *P, const double *px, double *py,
                                  int *done)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(double);
    double uh[FA_SM64_STORE_CHUNKS], ul[FA_SM64_STORE_CHUNKS];
    double Kmax = -INFINITY;
    int nc = 0;
    *done = 0;
    for (ptrdiff_t c0 = 0; c0 < n; c0 += chunk, nc++) {
        const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;
        const unsigned char *mc = mk ? mk + c0 : NULL;
        double mx, mn, ck;
        fa_sm_chunk_max_min_f64(x + c0, mc, len, &mx, &mn);
        const int mode = fa_sm64_mode(mx, mn);
        if (mode == FA_SM64_EXACT && mk && mx == -INFINITY && !(mn < INFINITY)) {
            /* every entry left out: zeros, no part of the sum */
            memset(y + c0, 0, (size_t)len * sizeof(double));
            R->Ks[nc] = NAN;
            continue;
        }
        if (mode == FA_SM64_EXACT)
            return mk ? FA_SM_DECLINED : FA_SM64_SMALL_EXACT;
        fa_sm64_scale_chunk sc;
        fa_sm64_pending o = {px ? px + c0 : NULL, NULL, py ? py + c0 : NULL, 0.0, 0.0, &sc};
        if (P) {
            fa_sm64_chunk_scaling(P, nc, &sc);
            *done = nc + 1;
        }
        const fa_sm64_pending *op = P ? &o : NULL;
        R->Ks[nc] = fa_sm64_shift(mx);
        R->mins[nc] = mn;
        Kmax = R->Ks[nc] > Kmax ? R->Ks[nc] : Kmax;
        R->biased[nc] = mode == FA_SM64_WIDE;
        const double Kb = R->Ks[nc] - FA_EXP_SHIFT_BIAS;
        if (mk && mode == FA_SM64_DIRECT)
            fa_sm64_chunk_sum(x + c0, mc, len, mx, R->Ks[nc], FA_SM64_DIRECT, 0, FA_SM64_PAIRS_SOFTMAX, y + c0, &uh[nc], &ul[nc], &ck, NULL, 1);
        else if (mk)
            fa_sm64_chunk_sum(x + c0, mc, len, mx, Kb, FA_SM64_WIDE, 0, FA_SM64_PAIRS_SOFTMAX, y + c0, &uh[nc], &ul[nc], &ck, NULL, 1);
        else if (mode == FA_SM64_DIRECT)
            fa_sm64_chunk_sum(x + c0, NULL, len, mx, R->Ks[nc], FA_SM64_DIRECT, 0, FA_SM64_PAIRS_SOFTMAX, y + c0, &uh[nc], &ul[nc], &ck, op, 0);
        else
            fa_sm64_chunk_sum(x + c0, NULL, len, mx, Kb, FA_SM64_WIDE, 0, FA_SM64_PAIRS_SOFTMAX, y + c0, &uh[nc], &ul[nc], &ck, op, 0);
    }
    R->nc = nc;
    R->Kmax = Kmax;
    double U = 0.0, Ue = 0.0;
    for (int c = 0; c < nc; c++) {           /* 2^(Kk - Kmax) is exact (or the chunk is negligible) */
        if (R->Ks[c] != R->Ks[c])
            continue;                        /* a chunk the mask leaves out */
        const int d = (int)(R->Ks[c] - Kmax) - (R->biased[c] ? FA_EXP_SHIFT_BIAS : 0);
        fa_two_sum_acc(&U, &Ue, fa_ldexp_scalar_f64(uh[c], d));
        Ue += fa_ldexp_scalar_f64(ul[c], d);
    }
    if (U != U || !(U > 0))                  /* NaN, or nothing left in (fully masked: 0s, NaN elsewhere) */
        return FA_SM_SPECIAL;
    R->ih = 1.0 / U;
    R->il = (fma(-U, R->ih, 1.0) - Ue * R->ih) * R->ih;
    return FA_SM_OK;
}

static int fa_sm_row_softmax_small_f64(const double *x, const unsigned char *mk, double *y, ptrdiff_t n)
{
    /* in place, the terms overwrite x, which the outputs below ~2^-962 are recomputed from:
     * such rows take the statistics and the direct output pass (reads x before writing y) */
    if ((const void *)x == (const void *)y && !fa_sm64_row_narrow(x, mk, n))
        return FA_SM_DECLINED;
    fa_sm64_small_row R;
    int done;
    const int st = fa_sm64_small_terms(x, mk, y, n, &R, NULL, NULL, NULL, &done);
    if (st == FA_SM64_SMALL_EXACT)
        return fa_sm64_softmax_small_exact(x, y, n);
    if (st != FA_SM_OK)
        return st;
    fa_sm64_small_scale(&R, x, y, n, 0);
    return FA_SM_OK;
}

/*
 * softmax of contiguous float64 rows of one chunk (16 KB), no mask, y not x, on Intel cores
 * (fa_tune_softmax_overlap): row r's scaling runs inside row r+1's stored terms (fa_sm64_pending
 * with sc), so that the stores to memory overlap the exps, as the float32 rows do
 * (fa_sm_softmax_rows_f32); the same bits as each row alone.  0: not these rows.  Intel Xeon,
 * out=, medians of 7 interleaved rounds of both settings: (1024, 1024) 640 -> 587 us, (2048,
 * 2048) 2957 -> 2677, (4096, 1000) 2566 -> 2444, (16384, 128) 4200 -> 3780; rows of 2 chunks
 * and more measured 1-3% slower ((1024, 4096), (256, 16384), (64, 50257)), 24% at 512 KB
 * ((128, 65536): two rows' x and y fill the L2), so they keep the two stages.  The code takes
 * rows of any number of chunks (the chunk of row r+1 scales chunk k of row r).
 */
#define FA_SM64_OVERLAP_BYTES FA_SM_CHUNK_BYTES
static int fa_sm64_softmax_rows(const double *x, double *y, ptrdiff_t rows, ptrdiff_t n)
{
    if (!fa_tune_softmax_overlap || (const void *)x == (const void *)y ||
        n * (ptrdiff_t)sizeof(double) > FA_SM64_OVERLAP_BYTES)
        return 0;
    fa_sm64_small_row R[2];
    int cur = 0, have = 0;
    const double *px = NULL;
    double *py = NULL;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const double *xr = x + r * n;
        double *yr = y + r * n;
        int done;
        const int st = fa_sm64_small_terms(xr, NULL, yr, n, &R[cur], have ? &R[1 - cur] : NULL, px, py, &done);
        if (have)                            /* what this row's terms did not reach */
            fa_sm64_small_scale(&R[1 - cur], px, py, n, done);
        have = 0;
        if (st == FA_SM64_SMALL_EXACT && fa_sm64_softmax_small_exact(xr, yr, n) == FA_SM_OK)
            continue;
        if (st != FA_SM_OK) {                /* (SPECIAL, or the exact path's) */
            fa_sm_row_special_f64(yr, NULL, n, 1, 0);
            continue;
        }
        px = xr;
        py = yr;
        have = 1;
        cur = 1 - cur;
    }
    if (have)
        fa_sm64_small_scale(&R[1 - cur], px, py, n, 0);
    return 1;
}

#endif /* FA_ROWS_F64_H */
