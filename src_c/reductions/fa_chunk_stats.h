/*
 * reductions/fa_chunk_stats.h -- the per-chunk stages of a softmax / log_softmax / logsumexp
 * whose axis is split over chunks (the Dask path; interface and record: src_c/fa_chunk.h).
 * Included once per ISA by fa_isa_body.h after the reductions: every stage calls the
 * in-memory code, nothing here computes an exp or a sum of its own:
 *   statistics  fa_sm_row_stats_fast_T / fa_sm_row_stats_T (the rows' max + sum of
 *               w e^(x - M) pass, fa_rows.h, fa_stats_f32.h, fa_rows_f64.h) -> (M, C, t, te),
 *               S = C + t + te as a double-double; special rows (M = +inf) by
 *               fa_sm_lse_special_T; the exact shift-0 sum S0 by fa_lse_exact.h.
 *   output      fa_out_row_f32 (float32 rows with M in the float32 lanes' range),
 *               fa_sm_row_out_fast_f64 (float64 rows: the direct reduction)
 *               or fa_sm_row_out_T (x - M exact into the exp, 1/S as a double-double) from
 *               the slice's (M, S) -- the in-memory output pass, only the statistics differ.
 *   combine     M = max M_c; S = sum of S_c e^(M_c - M): M_c - M exact (two-sum, dh + dl),
 *               e^dh a double-double (fa_exp_dd_f64, 2^-81.5) times (1 + dl), S_c times it
 *               in double-double, added by two-sums: the combine loses nothing a float64
 *               result could see (unlike combining per-chunk log-sum-exps).
 *   logsumexp   M + log S with log S as a pair (fa_lse_value_dd_l); where M + log S
 *               lands in (-1, 1) (cancellation) and S0 was summed, log S0 (fa_lse_from_exact).
 * Special values as in memory (docs/SPEC.md section 4), with the chunks' flags: NaN -> NaN;
 * +inf entries -> logsumexp +inf (sign of their weights; both signs NaN), softmax NaN; all
 * -inf -> -inf (sign 0) / NaN; nothing kept -> -inf (sign 0) / softmax 0, log_softmax -inf.
 * Accuracy: the in-memory bounds (logsumexp <= 2 ULP, softmax / log_softmax <= 4 ULP; float64
 * logsumexp results below 2^-25 that cancel: ~2^-81 absolute, as in memory, docs/SPEC.md 6).
 * Measured max against mpmath at 50 digits (PYTHONPATH=.:tests, rows_matrix of
 * tests/test_chunk_stats.py for seeds 0..5 plus N(0, 30) rows, 40 entries in chunks of
 * 7, 13, 0, 20; every variant, the worst shown):
 *   float32  logsumexp 0.73  softmax 2.09  log_softmax 1.14 ULP
 *   float64  logsumexp 0.75  softmax 1.49  log_softmax 1.14 ULP
 */
#ifndef FA_CHUNK_STATS_H
#define FA_CHUNK_STATS_H

#include "fa_chunk.h"

/* log(hi + lo) of a positive double-double: log1p near 1 (hi - 1 exact), else log + lo/hi */
FA_INLINE double fa_chunk_dd_log(double hi, double lo)
{
    return hi >= 0.5 && hi <= 2.0 ? log1p((hi - 1.0) + lo) : log(hi) + lo / hi;
}

/* hi + lo = the double-double of a + b + c (two-sums) */
FA_INLINE void fa_chunk_dd3(double a, double b, double c, double *hi, double *lo)
{
    double H = 0.0, E = 0.0;
    fa_two_sum_acc(&H, &E, a);
    fa_two_sum_acc(&H, &E, b);
    *hi = fa_fast_two_sum_scalar_f64(H, E + c, lo);
}

/* (hi, lo) *= e^(Mc - M) for Mc <= M (or NaN), as a double-double */
FA_INLINE void fa_chunk_rescale(double Mc, double M, double *hi, double *lo)
{
    if (Mc == M)                        /* also both infinite: S_c is already relative to M */
        return;
    double dl, dh = fa_two_sum_scalar_f64(Mc, -M, &dl);
    if (!(dh > -1000.0)) {              /* Mc = -inf, NaN, or a factor below 2^-1440 */
        *hi = 0.0;
        *lo = 0.0;
        return;
    }
    double e[FA_LANES_F64], el[FA_LANES_F64];
    fa_simd_f64 t, n, vlo, vhi = fa_exp_dd_f64(fa_set1_f64(dh), &vlo, &t, &n);
    fa_storeu_f64(e, fa_scale_exp_f64(vhi, t, n));
    fa_storeu_f64(el, fa_scale_exp_f64(vlo, t, n));
    const double fh = e[0], fl = el[0] + e[0] * (isfinite(dl) ? dl : 0.0);   /* e^(dh + dl) */
    double pe, p = fa_two_prod_scalar_f64(*hi, fh, &pe);
    const double ql = pe + (*hi * fl + *lo * fh);
    *hi = fa_fast_two_sum_scalar_f64(p, ql, lo);
}

#define FA_CHUNK_DEFINE(T)                                                                        \
/* the record of one row; exact: also S0 where the row's logsumexp may cancel */                 \
static void fa_chunk_row_stats_##T(const fa_scalar_##T *x, const unsigned char *mk,              \
                                   const fa_scalar_##T *b, ptrdiff_t n, int exact, fa_chunk_rec *r) \
{                                                                                                 \
    fa_sm_stats s;                                                                                \
    int64_t count = n;                                                                            \
    int8_t flags = 0;                                                                             \
    r->hi0 = r->lo0 = NAN;                                                                        \
    if (b)                                                                                        \
        mk ? fa_sm_row_stats_##T(x, mk, b, n, &s, 1, 1) : fa_sm_row_stats_##T(x, NULL, b, n, &s, 0, 1); \
    else if (!fa_sm_row_stats_fast_##T(x, mk, n, &s, FA_STATS_TERMS_OUT))                                             \
        mk ? fa_sm_row_stats_##T(x, mk, NULL, n, &s, 1, 0) : fa_sm_row_stats_##T(x, NULL, NULL, n, &s, 0, 0); \
    if (mk || b) {                      /* the kept entries, and whether a kept weight is < 0 */  \
        count = 0;                                                                                \
        for (ptrdiff_t k = 0; k < n; k++) {                                                       \
            const int in = (!mk || mk[k]) && (!b || b[k] != 0);                                  \
            count += in;                                                                          \
            if (in && b && b[k] < 0) flags = 4;                                                   \
        }                                                                                         \
    }                                                                                             \
    r->count = count;                                                                             \
    r->M = s.M;                                                                                   \
    if (n == 0 || s.M == -INFINITY) {                                                             \
        r->M = s.t != s.t ? NAN : -INFINITY;      /* -inf with an infinite weight: NaN */         \
        r->hi = r->lo = 0.0;                                                                      \
        r->hi0 = r->lo0 = 0.0;                                                                    \
    } else if (s.M == INFINITY) {       /* NaN, or the signs of the +inf entries' weights */     \
        double sign;                                                                              \
        const double v = fa_sm_lse_special_##T(x, n, 1, mk, b, &sign);                            \
        r->M = v != v ? NAN : INFINITY;                                                           \
        flags |= sign > 0 ? 1 : (sign < 0 ? 2 : 0);                                               \
        r->hi = 1.0;                                                                              \
        r->lo = 0.0;                                                                              \
    } else if (s.t != s.t) {            /* a NaN entry or weight */                               \
        r->M = NAN;                                                                               \
        r->hi = r->lo = NAN;                                                                      \
    } else {                                                                                      \
        fa_chunk_dd3(s.C, s.t, s.te, &r->hi, &r->lo);                                             \
        /* S0 where the slice's logsumexp v may end in (-1, 1), where M + log S is off by S's    \
         * rounding (~2^-53 absolute in v, up to ~1200 ULP: fa_lse_choice's weighted rule).     \
         * Unweighted: v >= this chunk's own M + log S, so only M < 0 and M + log S < 1 can.     \
         * Weighted: any chunk, whatever its own entries (another chunk's negative weights can   \
         * take the total near 0): the double-double pass where e^x cannot overflow; without     \
         * negative weights and M + log S < -60, S e^M (within 2^-100 absolute) instead. */    \
        if (exact && b && !(flags & 4) && s.M + fa_chunk_dd_log(r->hi, r->lo) < -60.0) {         \
            r->hi0 = r->hi;                                                                       \
            r->lo0 = r->lo;                                                                       \
            fa_chunk_rescale(s.M, 0.0, &r->hi0, &r->lo0);                                         \
        } else if (exact && (b ? s.M <= 709.0                                                     \
                               : s.M < 0 && r->hi > 0 && s.M + fa_chunk_dd_log(r->hi, r->lo) < 1.0)) { \
            if (b)                                                                                \
                fa_lse_exact_sum_weighted_contig(x, b, mk, n, sizeof(fa_scalar_##T) == 4,         \
                                                 &r->hi0, &r->lo0);                               \
            else if (!mk)                                                                         \
                fa_lse_exact_sum_##T(x, n, &r->hi0, &r->lo0);                                     \
            else                                                                                  \
                fa_lse_exact_sum_strided_##T(x, n, 1, mk, NULL, &r->hi0, &r->lo0);                \
        }                                                                                         \
    }                                                                                             \
    r->infsign = flags;                                                                           \
}                                                                                                 \
                                                                                                  \
/* softmax (LOG = 0) / log_softmax (LOG = 1) of one row from its slice's record */               \
static void fa_chunk_row_out_##T(const fa_scalar_##T *x, const unsigned char *mk, fa_scalar_##T *y, \
                                 ptrdiff_t n, const fa_chunk_rec *r, int LOG)                     \
{                                                                                                 \
    const double M = r->M;                                                                        \
    if (!(M > -INFINITY && M < INFINITY) || !(r->hi > 0 && r->hi < INFINITY)) {                   \
        if (M == -INFINITY && r->count == 0)          /* nothing kept: 0 / -inf everywhere */     \
            for (ptrdiff_t k = 0; k < n; k++) y[k] = LOG ? -INFINITY : 0;                         \
        else                                                                                      \
            fa_sm_row_special_##T(y, mk, n, 1, LOG);                                              \
        return;                                                                                   \
    }                                                                                             \
    fa_sm_stats s = {M, r->lo, r->hi, 0.0, -INFINITY};                                            \
    double l = 0.0, sign;                                                                         \
    const int fast = sizeof(fa_scalar_##T) == 4 && M < FA_STATS_MAX_HI_F32 && M > FA_STATS_MAX_LO_F32; \
    if (LOG || !fast)                                                                             \
        fa_sm_finish(&s, &l, &sign);                                                              \
    if (fast)                                                                                     \
        fa_out_row_f32((const float *)x, mk, (float *)y, n, M, r->hi + r->lo, l, LOG);            \
    else if (mk)                                                                                  \
        fa_sm_row_out_##T(x, y, mk, n, &s, l, LOG, 1);                                            \
    else if (sizeof(fa_scalar_##T) == 8)      /* the in-memory float64 rows' direct reduction */  \
        fa_sm_row_out_fast_f64((const double *)x, NULL, (double *)y, n, &s, l, LOG);              \
    else                                                                                          \
        fa_sm_row_out_##T(x, y, NULL, n, &s, l, LOG, 0);                                          \
}                                                                                                 \
                                                                                                  \
static void fa_chunk_rows_##T(int stage, const fa_chunk_job *j)                                   \
{                                                                                                 \
    const fa_scalar_##T *x = (const fa_scalar_##T *)j->x, *b = (const fa_scalar_##T *)j->b;     \
    fa_scalar_##T *y = (fa_scalar_##T *)j->y;                                                     \
    const ptrdiff_t n = j->n;                                                                     \
    for (ptrdiff_t r = 0; r < j->rows; r++) {                                                     \
        const unsigned char *mr = j->mask ? j->mask + r * n : NULL;                               \
        if (stage == FA_CHUNK_STATS)                                                              \
            fa_chunk_row_stats_##T(x + r * n, mr, b ? b + r * n : NULL, n, j->exact, &j->rec[r]); \
        else                                                                                      \
            fa_chunk_row_out_##T(x + r * n, mr, y + r * n, n, &j->rec[r], stage == FA_CHUNK_LOG_SOFTMAX); \
    }                                                                                             \
}

FA_CHUNK_DEFINE(f32)
FA_CHUNK_DEFINE(f64)

/* the records of j->rows slices, each from its j->n chunk records (slice-major) */
static void fa_chunk_combine(const fa_chunk_job *j)
{
    for (ptrdiff_t r = 0; r < j->rows; r++) {
        const fa_chunk_rec *c = j->in + r * j->n;
        fa_chunk_rec *o = &j->rec[r];
        double M = -INFINITY, H = 0.0, E = 0.0, H0 = 0.0, E0 = 0.0;
        int64_t count = 0;
        int8_t flags = 0;
        for (ptrdiff_t k = 0; k < j->n; k++) {
            if (c[k].M != c[k].M || M != M)           /* NaN propagates, as np.max */
                M = NAN;
            else if (c[k].M > M)
                M = c[k].M;
            count += c[k].count;
            flags |= c[k].infsign;
        }
        for (ptrdiff_t k = 0; k < j->n; k++) {
            double hi = c[k].hi, lo = c[k].lo;
            fa_chunk_rescale(c[k].M, M, &hi, &lo);
            fa_two_sum_acc(&H, &E, hi);
            E += lo;
            fa_two_sum_acc(&H0, &E0, c[k].hi0);       /* NaN where a chunk did not sum S0 */
            E0 += c[k].lo0;
        }
        o->M = M;
        o->count = count;
        o->infsign = flags;
        o->hi = H + E;
        o->lo = E - (o->hi - H);
        o->hi0 = H0 + E0;
        o->lo0 = E0 - (o->hi0 - H0);
        if (!isfinite(o->lo)) o->lo = 0.0;
        if (!isfinite(o->lo0) && isfinite(o->hi0)) o->lo0 = 0.0;
    }
}

/* logsumexp and sign of j->rows slices from their records */
static void fa_chunk_lse(const fa_chunk_job *j)
{
    for (ptrdiff_t r = 0; r < j->rows; r++) {
        const fa_chunk_rec *c = &j->rec[r];
        const int inf = c->infsign & 3;
        double v, sign;
        if (c->M != c->M) {
            v = sign = NAN;
        } else if (c->M == INFINITY) {
            v = inf == 3 ? NAN : INFINITY;
            sign = inf == 3 ? NAN : (inf == 2 ? -1.0 : 1.0);
        } else if (c->M == -INFINITY || c->hi == 0.0) {
            v = -INFINITY;
            sign = 0.0;
        } else if (c->hi != c->hi) {
            v = sign = NAN;
        } else {
            sign = c->hi > 0 ? 1.0 : -1.0;
            const double a = fabs(c->hi), al = c->hi > 0 ? c->lo : -c->lo;
            if (a < INFINITY) {
                const fa_sm_stats s = {c->M, al, a, 0.0, 0.0};
                v = fa_lse_value_dd_l(&s);             /* M + log S, log S as a pair */
            } else {
                v = INFINITY;
            }
            double v0, s0;
            /* M + log S cancelled (|v| < 1, or M and log S of opposite signs: the in-memory
             * rule, fa_lse_choice, with float64's wider test): log S0, either sign */
            const int cancels = fabs(v) < 1.0 || fa_lse_choice(c->M, v - c->M, v, 0, 1) == FA_LSE_UNSHIFTED;
            if (cancels && fa_lse_from_exact(c->hi0, c->lo0, &v0, &s0) && s0 == sign)
                v = v0;
        }
        if (sign < 0 && !j->return_sign)
            v = NAN;
        j->v[r] = v;
        j->sign[r] = v != v ? NAN : sign;
    }
}

/* softmax_grad / log_softmax_grad blocks: the sum of each row (rec[r]), or its outputs from the
 * one record's s (reductions/fa_grad_rows.h; x: the forward's output, b: grad_output) */
static void fa_chunk_grad(int stage, int dt, const fa_chunk_job *j)
{
    /* exact (float64 log_softmax_grad whose sum of g reached 2^1000, fa_grad_rows.h's rescue):
     * the sum stage gives the rescue's A (hi, lo) and B (hi0), the output stage reads the
     * record's hi as s 2^-64 (FA_GR_LOG_SCALED) */
    const int LOG = stage == FA_CHUNK_LOG_GRAD_SUM || stage == FA_CHUNK_LOG_GRAD_OUT
                        ? (j->exact ? FA_GR_LOG_SCALED : 1) : 0;
    const int SUM = stage == FA_CHUNK_GRAD_SUM || stage == FA_CHUNK_LOG_GRAD_SUM;
    const ptrdiff_t n = j->n;
    for (ptrdiff_t r = 0; r < j->rows; r++) {
        const unsigned char *mr = j->mask ? j->mask + r * n : NULL;
        if (dt == FA_DT_f32) {
            const float *y = (const float *)j->x + r * n, *g = j->b ? (const float *)j->b + r * n : NULL;
            if (SUM)
                fa_gr_slice_sum_f32(y, g, mr, n, LOG, &j->rec[r].hi, &j->rec[r].lo);
            else
                fa_gr_slice_outs_f32(y, g, mr, (float *)j->y + r * n, n, LOG, j->rec->hi);
        } else {
            const double *y = (const double *)j->x + r * n, *g = j->b ? (const double *)j->b + r * n : NULL;
            if (SUM && LOG == FA_GR_LOG_SCALED)
                fa_gr_slice_rescue_f64(y, g, mr, n, &j->rec[r].hi, &j->rec[r].lo, &j->rec[r].hi0);
            else if (SUM)
                fa_gr_slice_sum_f64(y, g, mr, n, LOG, &j->rec[r].hi, &j->rec[r].lo);
            else
                fa_gr_slice_outs_f64(y, g, mr, (double *)j->y + r * n, n, LOG, j->rec->hi);
        }
    }
}

void FA_CHUNK_RUN(int stage, int dt, const fa_chunk_job *j)
{
    if (stage >= FA_CHUNK_GRAD_SUM)
        fa_chunk_grad(stage, dt, j);
    else if (stage == FA_CHUNK_COMBINE)
        fa_chunk_combine(j);
    else if (stage == FA_CHUNK_LSE)
        fa_chunk_lse(j);
    else if (dt == FA_DT_f32)
        fa_chunk_rows_f32(stage, j);
    else
        fa_chunk_rows_f64(stage, j);
}

#endif /* FA_CHUNK_STATS_H */
