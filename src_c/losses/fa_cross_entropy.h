/*
 * losses/fa_cross_entropy.h -- cross-entropy of rows of logits (class or probability
 * targets), its gradient, and nll_loss (included once per ISA by fa_isa_body.h, after
 * reductions/, whose row statistics it reuses).  docs/SPEC.md section 9.
 *
 * float32 rows with a class target and no smoothing (the common case) take their own one-pass
 * statistics, S = sum_{j != t} e^(x_j) with x_t left out, loss = log1p(S / e^(x_t)): no max
 * pass, no max count (fa_ce_class_stats_f32 below, where the design is).  Every other row:
 * Per row x (n logits), with M its max and l = log sum_j e^(x_j - M) (so lse = M + l), both
 * from the one statistics pass of reductions/ (fa_stats_row_f32: float32 lanes; float64: the
 * direct reduction; the float64-lane path where those decline: +inf, or in float32 class rows
 * a target logit outside (-260, 340)):
 *   class target t, class weights w (ones when absent), smoothing eps, C' the number of
 *   classes whose logit is not -inf ("unmasked"):
 *     loss = (1 - eps) w_t ((M - x_t) + l) + eps / C' sum_{j unmasked} w_j ((M - x_j) + l)
 *   (torch's definition; with no -inf logit C' = C and it is torch's value: the smoothing
 *   mean is over the unmasked classes only, where torch gives inf/NaN).
 *   probability targets p: p' = (1 - eps) p + eps / C' [j unmasked],
 *     loss = sum_j w_j p'_j ((M - x_j) + l), a p'_j of 0 contributing 0 (xlogy).
 * Every term is >= 0 (M - x_j >= 0, l >= 0, weights and targets >= 0): nothing cancels.  The
 * sums are accumulated in float64 lanes (float32 input widened: M - x exact), TwoSum-
 * compensated; log_softmax is never materialised and logits of 1e30 do not overflow (only
 * differences to M are formed).  A weight of 0 (or 1 - eps = 0) contributes 0 even next to an
 * infinite term.
 * Rows with +inf or NaN logits, or with every logit -inf (reductions' "special" rows): the
 * loss from lse computed by fa_sm_lse_special (NaN, or +-inf) in the same formula, in double
 * (NaN for every logit -inf, with any eps: 0.0 where 1 - eps = 0 before 2026-12-06), and a NaN
 * gradient row (torch gives NaN there too), except where every logit is -inf: every class is
 * masked, and masked classes get 0 (docs/SPEC.md section 9; the row was NaN before 2026-12-06).
 *
 * Gradient, times s = scale * grad_output[r]:
 *     d loss / d x_k = a softmax_k - w_k (bp p_k + c [k unmasked]) - b [k = t]
 *   class:  a = s ((1 - eps) w_t + eps W'/C'), b = s (1 - eps) w_t, bp = 0, c = s eps / C'
 *   prob:   a = s ((1 - eps) sum_j w_j p_j + eps W'/C'), b = 0, bp = s (1 - eps), c = s eps / C'
 * (W' = sum of the unmasked weights); masked classes get exactly 0.  softmax is written by
 * the reductions' output stage; float32 rows of at most 2^16 classes keep each exp from the
 * statistics pass (fa_stats_row_f32's stored terms) and fold a into the sum, so the logits are
 * read once for the statistics and the gradient is written once (then one more pass over the
 * row in cache when eps > 0 or for probability targets: the subtracted terms).
 * float32 rows take the smoothing / probability sums inside the statistics pass, per L1 chunk
 * (fa_ce_stats_sums_f32); float64 rows in a second pass over the row (in cache).
 * The forward's loss can be written by the gradient kernel from the same statistics
 * (cross_entropy(..., return_grad=True)).
 *
 * Accuracy (tests/test_losses.py against mpmath, per row, every variant; rows of N(0, 3),
 * shifted by -20 / +100, uniform +-50, 1e30, N(0, 300), tiny, confident, masked; weights,
 * smoothing 0.1 / 0.2 / 0.7, probability targets): max 0.53 ULP float32, 2.66 ULP float64;
 * bound 4 (registry LOSSES).  Float32 class rows without smoothing beyond the tests (a long
 * double reference; n = 61 x 20000 and n = 1000 x 3000 rows of N(0, 3), -20, uniform +-50, a
 * dominant target +12..32, one other logit near a dominant target, a target far above the
 * rest): max 2.11 ULP on AVX-512 (the dominant-target rows; 0.99 for plain N(0, 3); 2.0 with
 * the 0.55 ULP exp these rows took before 2026-12-05), 2.43 on AVX2 (degree-4 exp); rows
 * [0, c, ..., c] with target 0 (every term the same exp error, S's mantissa near 2): 2.19 on
 * AVX-512 (1.47 before).  Gradients: within 1e-7 of finite differences (float64) and a few
 * ULPs of the larger of a softmax_k and the subtracted term.
 */
#ifndef FA_CROSS_ENTROPY_H
#define FA_CROSS_ENTROPY_H

/* The statistics of a row: returns 1 with *l = log S where M is finite and nothing is NaN
 * (0: a special row).  *fast: taken by the fast path of its dtype; float32 with ystore/Ks:
 * the terms stored for fa_out_scale_stored_f32 (rows of at most FA_SM_SMALL_BYTES_f32). */
FA_INLINE int fa_ce_stats_f32(const float *x, ptrdiff_t n, fa_sm_stats *s, double *l, int *fast, float *ystore,
                              double *Ks)
{
    double sign;
    *fast = fa_stats_row_f32(x, NULL, n, s, ystore, Ks, NULL, FA_STATS_TERMS_OUT);
    if (!*fast)
        fa_sm_row_stats_f32(x, NULL, NULL, n, s, 0, 0);
    if (fa_sm_finish(s, l, &sign) == FA_SM_SPECIAL)
        return 0;
    if (*fast)                  /* a dominant class with l < 2^-80: T again, exactly (fa_rows.h) */
        *l = fa_sm_tiny_l_f32(x, NULL, n, s, *l);
    return 1;
}

FA_INLINE int fa_ce_stats_f64(const double *x, ptrdiff_t n, fa_sm_stats *s, double *l, int *fast, double *ystore,
                              double *Ks)
{
    double sign;
    (void)ystore;
    (void)Ks;
    *fast = fa_sm_row_stats_fast_f64(x, NULL, n, s, FA_STATS_TERMS_OUT);
    if (!*fast)
        fa_sm_row_stats_f64(x, NULL, NULL, n, s, 0, 0);
    return fa_sm_finish(s, l, &sign) != FA_SM_SPECIAL;
}

/* y = g e^(x - M) of a float32 row in double lanes, each entry rounded once to float32: the
 * gradient rows whose scale a is beyond 2^20 (g = a / S, S the sum relative to e^M).  Formed
 * in float32 at a 2^-m and brought up by 2^m, an entry that was subnormal there kept its few
 * bits in the normal range.  e^(x - M) is fa_exp_pair_f64's high part (x - M exact in double;
 * below e^-650 it counts as e^-650, whose product with |g| < 2^128 rounds to 0 in float32),
 * so every product is a normal double (no assist on Intel cores).  ~2 ns per entry: only these
 * rows (a loss scale above 2^20 with reduction='sum') take it. */
FA_INLINE void fa_ce_grad_row_wide_f32(const float *x, float *y, ptrdiff_t n, double M, double g)
{
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 Mv = fa_set1_f64(M), gv = fa_set1_f64(g);
    for (ptrdiff_t i = 0; i < n; i += L) {
        const ptrdiff_t left = n - i;
        fa_simd_f64 lo, v = left >= L ? fa_loadu_f32_as_f64(x + i) : fa_load_tail_f32_as_f64(x + i, left, 0.0);
        v = fa_mul_f64(fa_exp_pair_f64(fa_sub_f64(v, Mv), &lo), gv);
        if (left >= L) fa_storeu_f64_as_f32(y + i, v); else fa_store_tail_f64_as_f32(y + i, v, left);
    }
}

/* y = a softmax(x) where the output stage can fold a into the sum S (float32 fast paths, a
 * finite and non-zero): returns 1; else y = softmax(x), returns 0 (the caller multiplies).
 * A stored chunk (terms below 2^-126.5 of its shift counted 0, those below 2^-126 subnormal)
 * is scaled in place only where its factor is at most 1, so that what it lost stays below the
 * normal range (within one smallest normal, SPEC section 6); a larger factor (a > 1: 'sum'
 * with grad_output or weights above 1) recomputes the chunk from x (fa_out_row_f32, whose
 * outputs are rounded once, subnormal ones too): a softmax of e^-95 times a = 1e4 was 0. */
FA_INLINE int fa_ce_softmax_f32(const float *x, float *y, ptrdiff_t n, const fa_sm_stats *s, double l, int fast,
                                int stored, const double *Ks, double a)
{
    const double S = s->C + (s->t + s->te);
    if (fast && a - a == 0.0 && fabs(a) > 0x1p20) {     /* (folded into S it overflowed the scale) */
        fa_ce_grad_row_wide_f32(x, y, n, s->M, a / S);
        return 1;
    }
    const int fold = fast && a != 0.0 && a - a == 0.0;
    const double Se = fold ? S / a : S;
    if (fast && stored && fold && fabs(a) > 1.0) {
        const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(float);
        for (ptrdiff_t c0 = 0, k = 0; c0 < n; c0 += chunk, k++) {
            const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;
            const double f = fa_out_stored_factor_f32(Ks, k, s->M, Se);
            if (fabs(f) <= 1.0)
                fa_sm_scale_pair_f32(y + c0, len, (float)f, (float)(f - (double)(float)f));
            else
                fa_out_row_f32(x + c0, NULL, y + c0, len, s->M, Se, l, 0);
        }
    } else if (fast && stored) {
        fa_out_scale_stored_f32(y, n, Ks, s->M, Se);
    } else if (fast) {
        fa_out_row_f32(x, NULL, y, n, s->M, Se, l, 0);
    } else {
        fa_sm_row_out_f32(x, y, NULL, n, s, l, 0, 0);
    }
    return fold;
}

FA_INLINE int fa_ce_softmax_f64(const double *x, double *y, ptrdiff_t n, const fa_sm_stats *s, double l, int fast,
                                int stored, const double *Ks, double a)
{
    (void)stored;
    (void)Ks;
    /* a > 0 folded into the sum (S / a, one more rounding), as for float32: a separate pass
     * y *= a multiplied every subnormal y (a microcode assist each on Intel cores: rows of
     * logits spread over +-800 took 3x their N(0, 3) time) */
    const int fold = fast && a >= 0x1p-60 && a <= 0x1p20;
    if (fold) {
        const fa_sm_stats sa = {s->M, (s->C + s->t) / a, 0.0, 0.0, s->rmin};   /* S as the output takes it */
        fa_sm_row_out_fast_f64(x, NULL, y, n, &sa, l, 0);
    } else if (fast) {
        fa_sm_row_out_fast_f64(x, NULL, y, n, s, l, 0);
    } else {
        fa_sm_row_out_f64(x, y, NULL, n, s, l, 0, 0);
    }
    return fold;
}

/* The sums of one pass over a row (float64 lanes; HAS_W, HAS_P compile-time at each call):
 *   D = sum_{unmasked} w_j (M - x_j), E = sum_{unmasked} w_j, Cn = number unmasked,
 *   A = sum_{p_j != 0} w_j p_j (M - x_j), B = sum_j w_j p_j   (probability targets)
 * For float64 data all four are TwoSum-compensated (B and E were plain sums until 2026-12-06:
 * the loss A + B l of probability targets, and the smoothing term's D + E l, carry their
 * relative error, which reached 15-60 ULP on rows of 70000 classes); for float32 data (terms
 * computed exactly in double, all >= 0) plain double sums are exact to ~n 2^-53 relative, far
 * below float32's ULP.  An infinite A (a probability on a -inf logit) stays +inf (fa_dd_value). */
typedef struct fa_ce_sums {
    double D, E, Cn, A, B;
} fa_ce_sums;

/* a per-lane sum's value: the lanes two-summed in lane order with their errors (DD), or
 * the lanes' plain sum; +-inf kept (fa_dd_value) */
FA_INLINE double fa_ce_lanes_value(fa_simd_f64 s, fa_simd_f64 e, int DD)
{
    double hi = 0.0, lo = 0.0;
    if (!DD)
        return fa_reduce_add_f64(s);
    fa_two_sum_acc_lanes_f64(&hi, &lo, s, e);
    return fa_dd_value(hi, lo);
}

#define FA__CE_SUMS(T)                                                                            \
FA_INLINE void fa_ce_sums_##T(const fa_scalar_##T *x, const fa_scalar_##T *w, const fa_scalar_##T *p,     \
                              ptrdiff_t n, double M, int HAS_W, int HAS_P, fa_ce_sums *r)       \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    const int EXACT = sizeof(fa_scalar_##T) == 8;   /* float32 data: plain double sums suffice */ \
    const fa_simd_f64 zero = fa_set1_f64(0.0), one = fa_set1_f64(1.0), ninf = fa_set1_f64(-INFINITY); \
    const fa_simd_f64 Mv = fa_set1_f64(M);                                                        \
    fa_simd_f64 D = zero, De = zero, E = zero, Ee = zero, Cn = zero, A = zero, Ae = zero;         \
    fa_simd_f64 B = zero, Be = zero;                                                              \
    for (ptrdiff_t i = 0; i < n; i += L) {                                                        \
        const ptrdiff_t left = n - i;                                                             \
        const int full = left >= L;                                                               \
        fa_simd_f64 v = full ? fa_sm_ld_##T(x + i) : fa_sm_ldt_##T(x + i, left, -INFINITY);       \
        fa_simd_f64 wv = HAS_W ? (full ? fa_sm_ld_##T(w + i) : fa_sm_ldt_##T(w + i, left, 0.0)) : one; \
        fa_mask_f64 un = fa_cmpgt_f64(v, ninf);                                                   \
        fa_simd_f64 d = fa_sub_f64(Mv, v);                                                        \
        fa_simd_f64 wd = fa_select_f64(un, HAS_W ? fa_mul_f64(wv, d) : d, zero);                  \
        fa_sum_step_f64(&D, &De, wd, EXACT);                                                      \
        Cn = fa_add_f64(Cn, fa_select_f64(un, one, zero));                                        \
        if (HAS_W)                                                                                \
            fa_sum_step_f64(&E, &Ee, fa_select_f64(un, wv, zero), EXACT);                          \
        if (HAS_P) {                                                                              \
            fa_simd_f64 pv = full ? fa_sm_ld_##T(p + i) : fa_sm_ldt_##T(p + i, left, 0.0);        \
            fa_simd_f64 wp = HAS_W ? fa_mul_f64(wv, pv) : pv;                                     \
            fa_simd_f64 ad = fa_select_f64(fa_cmpeq_f64(wp, zero), zero, fa_mul_f64(wp, d));      \
            fa_sum_step_f64(&A, &Ae, ad, EXACT);                                                  \
            fa_sum_step_f64(&B, &Be, wp, EXACT);                                                  \
        }                                                                                         \
    }                                                                                             \
    r->D = fa_ce_lanes_value(D, De, 1);                                                           \
    r->Cn = fa_reduce_add_f64(Cn);                                                                \
    r->E = HAS_W ? fa_ce_lanes_value(E, Ee, EXACT) : r->Cn;                                       \
    r->A = HAS_P ? fa_ce_lanes_value(A, Ae, 1) : 0.0;                                             \
    r->B = HAS_P ? fa_ce_lanes_value(B, Be, EXACT) : 0.0;                                         \
}                                                                                                 \
                                                                                                  \
/* y = alpha y - w (bp p + c [x unmasked]) over a row (float64 lanes) */                         \
FA_INLINE void fa_ce_fix_##T(const fa_scalar_##T *x, const fa_scalar_##T *w, const fa_scalar_##T *p,      \
                             fa_scalar_##T *y, ptrdiff_t n, double alpha, double bp, double c)   \
{                                                                                                 \
    const ptrdiff_t L = FA_LANES_F64;                                                             \
    const fa_simd_f64 zero = fa_set1_f64(0.0), ninf = fa_set1_f64(-INFINITY);                     \
    const fa_simd_f64 av = fa_set1_f64(alpha), bv = fa_set1_f64(bp), cv = fa_set1_f64(c);         \
    for (ptrdiff_t i = 0; i < n; i += L) {                                                        \
        const ptrdiff_t left = n - i;                                                             \
        const int full = left >= L;                                                               \
        fa_simd_f64 yv = full ? fa_sm_ld_##T(y + i) : fa_sm_ldt_##T(y + i, left, 0.0);            \
        fa_simd_f64 sub = zero;                                                                   \
        if (c != 0.0) {                                                                           \
            fa_simd_f64 v = full ? fa_sm_ld_##T(x + i) : fa_sm_ldt_##T(x + i, left, -INFINITY);   \
            sub = fa_select_f64(fa_cmpgt_f64(v, ninf), cv, zero);                                 \
        }                                                                                         \
        if (p)                                                                                    \
            sub = fa_fmadd_f64(bv, full ? fa_sm_ld_##T(p + i) : fa_sm_ldt_##T(p + i, left, 0.0), sub); \
        if (w)                                                                                    \
            sub = fa_mul_f64(sub, full ? fa_sm_ld_##T(w + i) : fa_sm_ldt_##T(w + i, left, 0.0));  \
        if (alpha != 1.0)   /* (folded: y * 1 would still take an assist where y is subnormal) */ \
            yv = fa_mul_f64(av, yv);                                                              \
        yv = fa_sub_f64(yv, sub);                                                                 \
        if (full) fa_sm_st_##T(y + i, yv); else fa_sm_stt_##T(y + i, yv, left);                   \
    }                                                                                             \
}
FA__CE_SUMS(f32)
FA__CE_SUMS(f64)

/*
 * float32 rows: the statistics pass of fa_stats_row_f32 (per L1 chunk: its max, then its sum of
 * exps) with the smoothing / probability sums of the same chunk taken while it is in L1, so a
 * row is read from memory once.  Each chunk's sums are relative to its own max mx_k and
 * rebased on the running reference R (D += E (R' - R), A += B (R' - R): terms >= 0, the
 * differences of float32 values exact in double), then to the row max M.  A chunk with every
 * logit -inf adds its A (inf where a probability sits on -inf, else 0) and B as they are.
 * Returns 0 where fa_stats_row_f32 would decline (+inf: the caller then takes the generic paths).
 */
FA_INLINE int fa_ce_stats_sums_f32(const float *x, const float *w, const float *p, ptrdiff_t n, fa_sm_stats *s,
                                   float *ystore, double *Ks, int HAS_W, int HAS_P, fa_ce_sums *r)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(float);
    fa_ce_sums tot = {0.0, 0.0, 0.0, 0.0, 0.0};
    double R = 0.0;
    int have = 0;
    s->M = -INFINITY; s->t = 0.0; s->C = 0.0; s->te = 0.0;
    for (ptrdiff_t c0 = 0, k = 0; c0 < n; c0 += chunk, k++) {
        const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;
        const float mx = fa_stats_max_f32(x + c0, NULL, len);
        if (!(mx < INFINITY))
            return 0;
        double T, c;
        fa_stats_chunk_f32(x + c0, NULL, len, mx, &T, &c, ystore ? ystore + c0 : NULL, Ks ? Ks + 2 * k : NULL, NULL,
                           FA_STATS_TERMS_OUT);
        fa_sm_merge(s, mx, T, c);
        fa_ce_sums ck;
        const double rk = mx == -INFINITY ? 0.0 : (double)mx;
        if (HAS_W && HAS_P) fa_ce_sums_f32(x + c0, w + c0, p + c0, len, rk, 1, 1, &ck);
        else if (HAS_P) fa_ce_sums_f32(x + c0, NULL, p + c0, len, rk, 0, 1, &ck);
        else if (HAS_W) fa_ce_sums_f32(x + c0, w + c0, NULL, len, rk, 1, 0, &ck);
        else fa_ce_sums_f32(x + c0, NULL, NULL, len, rk, 0, 0, &ck);
        if (mx == -INFINITY) {                 /* nothing unmasked: D, E, Cn are 0 */
            tot.A += ck.A;
            tot.B += ck.B;
            continue;
        }
        if (!have) {
            R = rk;
            have = 1;
        } else if (rk > R) {                   /* the running sums onto the new reference */
            tot.D += tot.E * (rk - R);
            tot.A += tot.B * (rk - R);
            R = rk;
        } else {                               /* the chunk's sums onto the reference */
            ck.D += ck.E * (R - rk);
            ck.A += ck.B * (R - rk);
        }
        tot.D += ck.D; tot.E += ck.E; tot.Cn += ck.Cn; tot.A += ck.A; tot.B += ck.B;
    }
    if (have && s->M > R) {                    /* R is the largest chunk max: R == M unless NaN */
        tot.D += tot.E * (s->M - R);
        tot.A += tot.B * (s->M - R);
    }
    *r = tot;
    return 1;
}

/* (1 - eps) v, 0 where 1 - eps (or the factor k) is 0 even for an infinite v */
FA_INLINE double fa_ce_part(double k, double v) { return k == 0.0 ? 0.0 : k * v; }

/*
 * float32 rows, a class target t, no smoothing (the common case; docs/SPEC.md section 9):
 *     loss = -log softmax(x)_t = log1p(S / u),  S = sum_{j != t} e^(x_j),  u = e^(x_t)
 * for every row, dominant target or not (no max entries counted apart).  The row is read once,
 * in L1 chunks, each in ONE pass (no max pass): the terms e^(x - K ln2) (fa_stats_term_f32, the
 * exact Cody-Waite reduction of x with the shift K folded into the exp's magic constant) with
 * K from x_t (K = round(x_t log2e) - 1, so u's term is in (1.4, 2.9]), x_t left out, and the
 * chunk's max on the side; where that max is more than 87 above K ln2 (a term could overflow)
 * the chunk, still in L1, is summed again with K from its max.  S += 2^K_k t_k exactly;
 * u = e^(x_t) in double.  Blocks of 4 vectors of terms are added in float32 (two roundings,
 * 2^-23 of the block), then in float64.  Entries below K ln2 - 88 give 0 (2^-126.5 of u's
 * term and less: negligible unless S / u < 2^-80, where the terms are summed again in
 * double, as fa_sm_tiny_l_f32 does).  The rows are prefetched FA_CE_AHEAD_BYTES ahead of the
 * terms; x_t is left out in registers (its lane set to -inf, no copy of its block).
 * Leaving x_t out of the sum (not subtracting it after) keeps S / u's relative accuracy where
 * t dominates: ~1 ULP per term (fa_stats_term_sum_f32: 0.98 measured on AVX-512, the table
 * exp without its second lookup; 0.99 elsewhere, the degree-4 exp), plus the additions.  Where
 * t dominates the loss is log1p(S / u) ~ S / u, so it carries S's relative error: with every
 * term's error at its largest and of one sign, and S's mantissa where an ULP is smallest, a
 * bound from the sizes alone is ~4.5 ULP on every variant (3.6 with the 0.55 ULP exp, which
 * AVX-512 took here before 2026-12-05); measured: the header's figures (2.19 at most).  The
 * faster exp took (4096, 1000) N(0, 3) rows in cache 930 -> 805 us, (64, 50257) 650 -> 550 us,
 * and the forward + gradient 1500 -> 1260 us and 920 -> 850 us.
 * The gradient from the same statistics: the rows that fit in L2 keep every term in the
 * gradient row during the pass, then chunk k is scaled by a 2^K_k / (S + u) (a float32 pair)
 * and y_t = -a S / (S + u) is written directly (no 1 - softmax_t cancelling); longer rows
 * recompute the softmax (fa_out_row_f32).  Declined rows (x_t or a chunk max outside
 * (FA_STATS_MAX_LO_F32, FA_STATS_MAX_HI_F32), +inf, NaN, all -inf) take the generic paths.
 */

/* How far ahead of the terms being summed the rows are prefetched into L1, one prefetch per
 * cache line (one per two lines measured slower): (4096, 1000) logits evicted from the caches
 * between calls (benchmarks/bench_losses.py --quick) measured 1300-1540 -> 1100-1170 us with it,
 * (64, 50257) unchanged, and in L2 ~1% slower; why the hardware prefetcher alone leaves the
 * short rows waiting was not measured. */
#define FA_CE_AHEAD_BYTES 4096

/* v with lane k left out (-inf), 0 <= k < FA_LANES_F32 */
FA_INLINE fa_simd_f32 fa_ce_drop_lane_f32(fa_simd_f32 v, ptrdiff_t k)
{
    return fa_select_f32(fa_mask_andnot_f32(fa_tail_mask_f32(k), fa_tail_mask_f32(k + 1)), fa_set1_f32(-INFINITY), v);
}

/* The terms e[0..4) = e^(x - K ln2) of a block of 4 vectors at src: its first `left` entries
 * (left < 4 L: the chunk's tail; the rest count as -inf, terms 0), src[skip] left out (-inf)
 * where 0 <= skip < 4 L.  *mx: the running max; ystore: every term (0 at skip). */
FA_INLINE void fa_ce_block4_f32(const float *src, ptrdiff_t left, ptrdiff_t skip, fa_simd_f32 magic_k,
                                fa_simd_f32 low, fa_simd_f32 *mx, float *ystore, fa_simd_f32 e[4])
{
    const ptrdiff_t L = FA_LANES_F32;
    fa_simd_f32 v[4];
    for (int k = 0; k < 4; k++) {
        const ptrdiff_t r = left - k * L;
        v[k] = r >= L ? fa_loadu_f32(src + k * L) : r > 0 ? fa_load_tail_f32(src + k * L, r, -INFINITY)
                                                          : fa_set1_f32(-INFINITY);
    }
    if ((size_t)skip < (size_t)(4 * L))
        for (int k = 0; k < 4; k++)            /* constant indices: v stays in registers */
            if (skip / L == k)
                v[k] = fa_ce_drop_lane_f32(v[k], skip % L);
    *mx = fa_max_f32(fa_max_f32(v[0], v[1]), fa_max_f32(fa_max_f32(v[2], v[3]), *mx));   /* NaN skipped */
    for (int k = 0; k < 4; k++)                /* a tail's empty vectors: no exps */
        e[k] = left > k * L ? fa_stats_term_sum_f32(v[k], magic_k, low) : fa_set1_f32(0.0f);
    if (ystore)
        for (int k = 0; k < 4; k++) {
            const ptrdiff_t r = left - k * L;
            if (r >= L) fa_storeu_f32(ystore + k * L, e[k]); else if (r > 0) fa_store_tail_f32(ystore + k * L, e[k], r);
        }
}

/* sum of e^(x - K ln2) over a chunk but its entry `skip` (-1: none), *mx the max of the others
 * (NaN skipped, -inf if none); ystore: every term, 0 at skip.  Whole blocks of 4 vectors, each
 * added in float32 then in float64; the tail's vectors (one more block, its missing entries
 * -inf) each added in float64. */
FA_INLINE double fa_ce_chunk_sum_f32(const float *x, ptrdiff_t len, float K, ptrdiff_t skip, float *ystore,
                                     float *mx)
{
    const ptrdiff_t L = FA_LANES_F32, B = 4 * L;
    const fa_simd_f32 magic_k = fa_set1_f32(FA_STATS_MAGIC_F32(K)), low = fa_set1_f32(FA_STATS_LOW(K));
    fa_simd_f64 acc = fa_set1_f64(0.0);
    fa_simd_f32 m = fa_set1_f32(-INFINITY);
    ptrdiff_t i = 0;
    fa_simd_f32 e[4];
    for (; i + B <= len; i += B) {
        for (ptrdiff_t q = 0; q < B; q += 64 / (ptrdiff_t)sizeof(float))   /* each cache line once */
            fa_prefetch_f32((const float *)((uintptr_t)(x + i + q) + FA_CE_AHEAD_BYTES));
        fa_ce_block4_f32(x + i, B, skip - i, magic_k, low, &m, ystore ? ystore + i : NULL, e);
        acc = fa_add_widened_f32_f64(acc, fa_add_f32(fa_add_f32(e[0], e[1]), fa_add_f32(e[2], e[3])));
    }
    if (i < len) {
        fa_ce_block4_f32(x + i, len - i, skip - i, magic_k, low, &m, ystore ? ystore + i : NULL, e);
        for (int k = 0; k < 4 && i + k * L < len; k++)
            acc = fa_add_widened_f32_f64(acc, e[k]);
    }
    *mx = fa_reduce_max_f32(m);
    return fa_reduce_add_f64(acc);
}

/* K of a chunk whose terms are taken relative to v: round(v log2e) - 1 */
FA_INLINE float fa_ce_shift_f32(float v) { return rintf(v * FA_LOG2E_F32) - 1.0f; }

/* The statistics of a float32 row against class t: *S = sum_{j != t} e^(x_j) (every chunk's
 * terms scaled by 2^K_k; Kk[k] = K_k where given), *M the row max.  Returns 0 (declined: the
 * generic paths) where x_t or a chunk max is outside (FA_STATS_MAX_LO_F32, FA_STATS_MAX_HI_F32)
 * (+inf included) or the sum is NaN. */
FA_INLINE int fa_ce_class_stats_f32(const float *x, ptrdiff_t n, ptrdiff_t t, float *ystore, double *Kk,
                                    double *S, double *M)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(float);
    const float xt = x[t];
    if (!(xt > FA_STATS_MAX_LO_F32 && xt < FA_STATS_MAX_HI_F32))
        return 0;
    const float K0 = fa_ce_shift_f32(xt);
    double sum = 0.0;
    float top = xt;
    for (ptrdiff_t c0 = 0, k = 0; c0 < n; c0 += chunk, k++) {
        const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;
        const ptrdiff_t skip = t >= c0 && t < c0 + len ? t - c0 : -1;
        float *ys = ystore ? ystore + c0 : NULL, mx, K = K0;
        double tk = fa_ce_chunk_sum_f32(x + c0, len, K, skip, ys, &mx);
        if (!(mx < FA_STATS_MAX_HI_F32))       /* +inf; NaN is skipped by the max, reaches tk */
            return 0;
        if ((double)mx - (double)K * FA_LN2_HI_F64 > 87.0) {   /* terms could overflow: again */
            K = fa_ce_shift_f32(mx);
            tk = fa_ce_chunk_sum_f32(x + c0, len, K, skip, ys, &mx);
        }
        sum += fa_ldexp_scalar_f64(tk, (int)K);
        if (Kk)
            Kk[k] = K;
        top = mx > top ? mx : top;
    }
    *S = sum;
    *M = top;
    return sum == sum;
}

/* r = S / u, u = e^(x_t) (S from fa_ce_class_stats_f32); where r < 2^-80 the terms again in
 * double (those below 2^-126.5 of u's term were counted 0; the loss may be subnormal) */
FA_INLINE double fa_ce_class_ratio_f32(const float *x, ptrdiff_t n, ptrdiff_t t, double S)
{
    const double xt = x[t], r = S / fa_exp_scalar_f64(xt);
    if (r < 0x1p-80) {
        double T = 0.0, err = 0.0;
        for (ptrdiff_t k = 0; k < n; k++)
            if (k != t)
                fa_two_sum_acc(&T, &err, fa_exp_scalar_f64((double)x[k] - xt));
        return T + err;
    }
    return r;
}

/* -log softmax(x)_t = log1p(r) (fa_log1p_pos_f64, as the forward's batched rows: the same
 * bits either way), or log S - x_t where r is huge (u may underflow) */
FA_INLINE double fa_ce_class_loss_f32(const float *x, ptrdiff_t t, double S, double r)
{
    double v[FA_LANES_F64];
    if (!(r < 0x1p52))
        return log(S) - (double)x[t];
    fa_storeu_f64(v, fa_log1p_pos_f64(fa_set1_f64(r)));
    return v[0];
}

/* The forward's float32 class-row losses w log1p(r) wait here and are computed FA_LANES_F64
 * rows at a time (fa_log1p_pos_f64; a scalar log1p per row was 7.7% of a (4096, 1000)
 * forward).  Each lane is computed alone, so the bits do not depend on the grouping (or the
 * threads). */
typedef struct fa_ce_pending {
    int k;
    ptrdiff_t row[FA_LANES_F64];
    double r[FA_LANES_F64], w[FA_LANES_F64];
} fa_ce_pending;

FA_INLINE void fa_ce_flush_f32(fa_ce_pending *p, float *loss)
{
    double v[FA_LANES_F64];
    if (p->k == 0)
        return;
    for (int i = p->k; i < FA_LANES_F64; i++)
        p->r[i] = 0.0;
    fa_storeu_f64(v, fa_log1p_pos_f64(fa_loadu_f64(p->r)));
    for (int i = 0; i < p->k; i++)
        loss[p->row[i]] = (float)fa_ce_part(p->w[i], v[i]);
    p->k = 0;
}

/* the loss w log1p(r) of row `row` into the pending group (flushed when full) */
FA_INLINE void fa_ce_defer_f32(fa_ce_pending *p, float *loss, ptrdiff_t row, double r, double w)
{
    p->row[p->k] = row;
    p->r[p->k] = r;
    p->w[p->k] = w;
    if (++p->k == FA_LANES_F64)
        fa_ce_flush_f32(p, loss);
}

/* The gradient row a softmax(x) - a [k = t] from fa_ce_class_stats_f32's S, M, r and, where
 * `stored`, the terms kept in y with their shifts Kk (a finite, non-zero):
 * y_t = -a r / (1 + r), no cancellation */
FA_INLINE void fa_ce_class_grad_f32(const float *x, float *y, ptrdiff_t n, ptrdiff_t t, double S, double M,
                                    double r, int stored, const double *Kk, double a)
{
    const ptrdiff_t chunk = FA_SM_CHUNK_BYTES / sizeof(float);
    const double Z = S + fa_exp_scalar_f64((double)x[t]);
    if (stored) {
        for (ptrdiff_t c0 = 0, k = 0; c0 < n; c0 += chunk, k++) {
            /* the chunk's factor f = a 2^Kk / Z as fa_scale_pair_f32 takes it, f 2^100 split in
             * double, where 2^-47 <= |f| < 2^26: then the products of a normal stored term stay
             * normal (w fl: |fl| >= 2^-53 f 2^100).  A smaller f (the chunk's shift, the target's, far below the row
             * max: f as a float32 had lost its bits, 2% off, and the products went subnormal,
             * an assist each on Intel cores) or a larger one: the chunk recomputed from x at
             * the row max (fa_out_row_f32, as the rows past the stored path). */
            const ptrdiff_t len = n - c0 < chunk ? n - c0 : chunk;
            const double f = fa_ldexp_scalar_f64(a / Z, (int)Kk[k] + 100);
            if (fabs(f) >= 0x1p53 && fabs(f) <= 0x1p100)   /* the factor <= 1: see fa_ce_softmax_f32 */
                fa_sm_scale_pair_up_f32(y + c0, len, (float)f, (float)(f - (double)(float)f));
            else
                fa_out_row_f32(x + c0, NULL, y + c0, len, M, Z * fa_exp_scalar_f64(-M) / a, 0.0, 0);
        }
    } else {
        fa_out_row_f32(x, NULL, y, n, M, Z * fa_exp_scalar_f64(-M) / a, 0.0, 0);
    }
    y[t] = (float)(-a * (r / (1.0 + r)));
}

/* fa_ce_class_grad_f32 for any finite a != 0: beyond 2^20 the row in double lanes
 * (fa_ce_grad_row_wide_f32, g = a e^M / Z), as a folded into the output pass's scale
 * overflowed it (float32 cross_entropy_grad(..., reduction='sum', grad_output=4e8) gave +inf:
 * the differential fuzz of 2026-12-06), and a row formed at a 2^-m, then brought up by 2^m,
 * kept the few bits of its subnormal entries */
FA_INLINE void fa_ce_class_grad_scaled_f32(const float *x, float *y, ptrdiff_t n, ptrdiff_t t, double S, double M,
                                           double r, int stored, const double *Kk, double a)
{
    if (!(fabs(a) > 0x1p20)) {
        fa_ce_class_grad_f32(x, y, n, t, S, M, r, stored, Kk, a);
        return;
    }
    fa_ce_grad_row_wide_f32(x, y, n, M, a / ((S + fa_exp_scalar_f64((double)x[t])) * fa_exp_scalar_f64(-M)));
    y[t] = (float)(-a * (r / (1.0 + r)));
}

/*
 * The row loop of every kernel of this file, per dtype.  GRAD: write the gradient rows (and
 * the losses where j->loss); PROB: probability targets j->p instead of class targets.
 */
#define FA__CE_ROWS(T, S)                                                                         \
FA_INLINE void fa_ce_rows_##T(const fa_ce_job *j, ptrdiff_t r0, ptrdiff_t r1, int GRAD, int PROB) \
{                                                                                                 \
    const ptrdiff_t n = j->n;                                                                     \
    const S *x = (const S *)j->x, *w = (const S *)j->w, *g = (const S *)j->g, *pp = (const S *)j->p; \
    S *loss = (S *)j->loss, *grad = (S *)j->grad;                                                 \
    const double eps = j->smoothing, keep = 1.0 - eps;                                            \
    double Ks[2 * FA_SM_STORE_CHUNKS];                                                            \
    const int store = GRAD && sizeof(S) == 4 && n * (ptrdiff_t)sizeof(S) <= FA_SM_SMALL_BYTES_f32; \
    fa_ce_pending pend = {0, {0}, {0}, {0}};                                                      \
    for (ptrdiff_t r = r0; r < r1; r++) {                                                         \
        const S *xr = x + r * n, *pr = PROB ? pp + r * n : NULL;                                  \
        S *yr = GRAD ? grad + r * n : NULL;                                                       \
        const double sr = GRAD ? j->scale * (g ? (double)g[r] : 1.0) : 0.0;                       \
        int64_t t = -1;                                                                           \
        double wt = 1.0;                                                                          \
        if (!PROB) {                                                                              \
            t = j->target[r];                                                                     \
            if (t == j->ignore_index) {                                                           \
                if (loss) loss[r] = 0;                                                            \
                if (GRAD) memset(yr, 0, (size_t)n * sizeof(S));                                   \
                continue;                                                                         \
            }                                                                                     \
            wt = w ? (double)w[t] : 1.0;                                                          \
        }                                                                                         \
        int have_loss = 0;                                                                        \
        if (sizeof(S) == 4 && !PROB && eps == 0.0) {   /* float32 class rows, see above */        \
            const float *xf = (const float *)xr;                                                  \
            double Sx, Mx, Kk[FA_SM_STORE_CHUNKS];  /* the shifts only where stored: longer rows \
                                                        have more chunks (they overran it) */    \
            if (fa_ce_class_stats_f32(xf, n, (ptrdiff_t)t, store ? (float *)yr : NULL, store ? Kk : NULL, &Sx, &Mx)) { \
                const double ratio = fa_ce_class_ratio_f32(xf, n, (ptrdiff_t)t, Sx);              \
                if (loss && !GRAD && ratio < 0x1p52)   /* log1p(ratio) with the next rows' */    \
                    fa_ce_defer_f32(&pend, (float *)loss, r, ratio, wt);                          \
                else if (loss)                                                                    \
                    loss[r] = (S)fa_ce_part(wt, fa_ce_class_loss_f32(xf, (ptrdiff_t)t, Sx, ratio));  \
                const double a = sr * wt;                                                         \
                if (!GRAD)                                                                        \
                    continue;                                                                     \
                if (a != 0.0 && a - a == 0.0) {                                                   \
                    fa_ce_class_grad_scaled_f32(xf, (float *)yr, n, (ptrdiff_t)t, Sx, Mx, ratio, store, Kk, a); \
                    continue;                                                                     \
                }                                                                                 \
                have_loss = 1;                 /* a of 0 or inf: the generic gradient below */    \
            }                                                                                     \
        }                                                                                         \
        fa_sm_stats st;                                                                           \
        double l = 0.0, sign;                                                                     \
        int fast = 0, ok, summed = 0;                                                             \
        fa_ce_sums sm = {0.0, 0.0, 0.0, 0.0, 0.0};                                                \
        if (sizeof(S) == 4 && (PROB || eps != 0.0)) {   /* float32: the sums fused, see above */  \
            float *ys = store ? (float *)yr : NULL;                                               \
            const float *wf = (const float *)w, *pf = (const float *)pr;                          \
            const float *xf = (const float *)xr;                                                  \
            double *ks = store ? Ks : NULL;                                                       \
            fast = w && PROB ? fa_ce_stats_sums_f32(xf, wf, pf, n, &st, ys, ks, 1, 1, &sm)        \
                 : PROB ? fa_ce_stats_sums_f32(xf, NULL, pf, n, &st, ys, ks, 0, 1, &sm)           \
                 : w ? fa_ce_stats_sums_f32(xf, wf, NULL, n, &st, ys, ks, 1, 0, &sm)              \
                 : fa_ce_stats_sums_f32(xf, NULL, NULL, n, &st, ys, ks, 0, 0, &sm);               \
            ok = fast && fa_sm_finish(&st, &l, &sign) != FA_SM_SPECIAL;                           \
            if (ok)                                                                               \
                l = fa_sm_tiny_l_f32(xf, NULL, n, &st, l);                                        \
            summed = ok;                                                                          \
            if (!fast)                  /* the terms stored again where this pass takes the row */ \
                ok = fa_ce_stats_##T(xr, n, &st, &l, &fast, store ? yr : NULL, store ? Ks : NULL); \
        } else {                                                                                  \
            ok = fa_ce_stats_##T(xr, n, &st, &l, &fast, store ? yr : NULL, store ? Ks : NULL);    \
        }                                                                                         \
        double M = st.M;                                                                          \
        if (!ok) {                      /* special row: lse in full, l = 0 below */                \
            M = fa_sm_lse_special_##T(xr, n, 1, NULL, NULL, &sign);                               \
            l = 0.0;                                                                              \
        }                                                                                         \
        if ((PROB || eps != 0.0) && !summed) {                                                    \
            if (w && PROB) fa_ce_sums_##T(xr, w, pr, n, M, 1, 1, &sm);                            \
            else if (PROB) fa_ce_sums_##T(xr, NULL, pr, n, M, 0, 1, &sm);                         \
            else if (w) fa_ce_sums_##T(xr, w, NULL, n, M, 1, 0, &sm);                             \
            else fa_ce_sums_##T(xr, NULL, NULL, n, M, 0, 0, &sm);                                 \
        }                                                                                         \
        const double ec = eps != 0.0 && sm.Cn > 0 ? eps / sm.Cn : 0.0;                            \
        if (loss && !have_loss) {                                                                 \
            double v = PROB ? fa_ce_part(keep, sm.A + sm.B * l)                                   \
                            : fa_ce_part(keep * wt, (M - (double)xr[t]) + l);                     \
            if (ec != 0.0)                                                                        \
                v += ec * (sm.D + sm.E * l);                                                      \
            if (!ok && M == -INFINITY)  /* every logit -inf: NaN, also where 1 - eps is 0 */      \
                v = NAN;                                                                          \
            loss[r] = (S)v;                                                                       \
        }                                                                                         \
        if (!GRAD)                                                                                \
            continue;                                                                             \
        if (!ok) {   /* every logit -inf: every class masked, 0; a class target of weight 0 (or  \
                        1 - eps = 0) without smoothing, whose loss is 0 even beside NaN or inf: 0 \
                        (NaN before 2026-12-07, while the loss was 0); else NaN */                \
            const int zero = M == -INFINITY || (!PROB && ec == 0.0 && keep * wt == 0.0);          \
            for (ptrdiff_t k = 0; k < n; k++) yr[k] = zero ? (S)0 : (S)NAN;                       \
            continue;                                                                             \
        }                                                                                         \
        const double a = sr * ((PROB ? keep * sm.B : keep * wt) + ec * sm.E);                     \
        const double c = sr * ec, bp = PROB ? sr * keep : 0.0;                                    \
        const int folded = fa_ce_softmax_##T(xr, yr, n, &st, l, fast, store, Ks, a);              \
        if (!folded || c != 0.0 || PROB)                                                          \
            fa_ce_fix_##T(xr, w, pr, yr, n, folded ? 1.0 : a, bp, c);                             \
        if (!PROB)                                                                                \
            yr[t] = (S)((double)yr[t] - sr * keep * wt);                                          \
    }                                                                                             \
    if (sizeof(S) == 4)                                                                           \
        fa_ce_flush_f32(&pend, (float *)loss);                                                    \
}
FA__CE_ROWS(f32, float)
FA__CE_ROWS(f64, double)

/* nll_loss: -w_t x[r, t], 0 where ignored or the weight is 0 */
#define FA__NLL_ROWS(T, S)                                                                        \
static void fa_k_nll_loss_##T(const fa_ce_job *j, ptrdiff_t r0, ptrdiff_t r1)                     \
{                                                                                                 \
    const S *x = (const S *)j->x, *w = (const S *)j->w;                                           \
    S *loss = (S *)j->loss;                                                                       \
    for (ptrdiff_t r = r0; r < r1; r++) {                                                         \
        const int64_t t = j->target[r];                                                           \
        const S wt = t == j->ignore_index ? 0 : (w ? w[t] : 1);                                   \
        loss[r] = wt == 0 ? 0 : -(wt * x[r * j->n + t]);                                          \
    }                                                                                             \
}
FA__NLL_ROWS(f32, float)
FA__NLL_ROWS(f64, double)

#define FA__CE_KERNELS(T)                                                                         \
static void fa_k_cross_entropy_##T(const fa_ce_job *j, ptrdiff_t r0, ptrdiff_t r1)                \
{ fa_ce_rows_##T(j, r0, r1, 0, 0); }                                                              \
static void fa_k_cross_entropy_grad_##T(const fa_ce_job *j, ptrdiff_t r0, ptrdiff_t r1)           \
{ fa_ce_rows_##T(j, r0, r1, 1, 0); }                                                              \
static void fa_k_cross_entropy_prob_##T(const fa_ce_job *j, ptrdiff_t r0, ptrdiff_t r1)           \
{ fa_ce_rows_##T(j, r0, r1, 0, 1); }                                                              \
static void fa_k_cross_entropy_prob_grad_##T(const fa_ce_job *j, ptrdiff_t r0, ptrdiff_t r1)      \
{ fa_ce_rows_##T(j, r0, r1, 1, 1); }
FA__CE_KERNELS(f32)
FA__CE_KERNELS(f64)

#endif /* FA_CROSS_ENTROPY_H */
