/*
 * losses/fa_bce.h -- binary cross-entropy with logits and its gradient (included once per
 * ISA by fa_isa_body.h, after math/ and kernels/fa_activations_f64.h).  docs/SPEC.md section 9.
 *
 * Per entry, with x the logit, y the target (soft targets in [0, 1]), pw the pos_weight of
 * the entry's column (1 when absent), and c = (1 - y) + pw y:
 *     l(x, y) = (1 - y) x + c softplus(-x)          (torch's definition, pw y log sigmoid(x) +
 *                                                    (1 - y) log(1 - sigmoid(x)), negated)
 * written with L = log1p(e), e = e^-|x| in (0, 1], as a sum of terms that are all >= 0 for
 * y in [0, 1] and pw >= 0 (so nothing cancels):
 *     x > 0:  l = x (1 - y) + c L
 *     x <= 0: l = |x| pw y  + c L                    (softplus(-x) = |x| + L, and c|x| - (1-y)|x|)
 * Without pos_weight c = 1 exactly: l = max(x, 0) - x y + L, the stable form.
 * The linear term is 0 where its factor (1 - y or pw y) is 0, so the limits at x = +-inf are
 * exact: l(+inf, 1) = 0, l(+inf, 0) = inf, l(-inf, 0) = 0, l(-inf, 1) = inf; never NaN from
 * inf * 0.  Logits like 1e30 just give the linear term.  NaN in x or y gives NaN.
 * Targets outside [0, 1] (or a negative pw) use the same exact identity; the terms may then
 * cancel, and the bound below does not hold.
 *
 * Gradient: dl/dx = c sigmoid(x) - pw y, written with s = sigmoid(-|x|) = e/(1 + e):
 *     x > 0:  (1 - y) - c s          x <= 0:  c s - pw y
 * (limits: 1 - y at +inf, -pw y at -inf), times grad_output, weight and the caller's scale.
 * It cancels only where sigmoid(x) is close to pw y / c, i.e. where the result is small
 * against its terms: there the error is a few ULPs of the larger term.
 *
 * Both kernels compute in double: a float32 call widens its inputs, uses float64 exp and
 * log1p to float32-level accuracy (fa_exp_neg_f64w, fa_log1p_unit_f64w: 2^-27 relative)
 * and rounds once on the store.  A weight multiplies each entry's loss, and a weight of 0
 * gives 0 even where the loss is inf (the entry is left out).
 * Measured max error per entry against mpmath (6000 x: every binade of both signs, +-inf and
 * N(0, 5); y in {0, 1, 0.5, 0.1, 0.9, 1e-3, 0.999, 0.37}; pw absent, 0.3, 4; the same on every
 * variant): loss float32 0.58 ULP, float64 2.51 ULP; gradient (in ULPs of its larger term)
 * float32 0.56, float64 3.24.  Bounds tested (registry BCE_LOSSES): 4 and 8.
 *
 * Reductions (MEAN, SUM): each block of FA_LOSS_BLOCK entries is summed per lane as a
 * double-double (two-sum), its lanes then summed in lane order; the blocks are summed in
 * order, as double-doubles, by the runner (losses/fa_loss_run.h): the sum of the rounded
 * entries is exact to ~2^-100 relative before its final rounding.
 */
#ifndef FA_BCE_H
#define FA_BCE_H

/* e^-|x| and log1p(e) in double: float64 calls to full precision (subnormal e where it is);
 * float32 calls (widened) to 2^-27, enough for the one rounding to float32 */
FA_INLINE fa_simd_f64 fa_bce_exp_f64(fa_simd_f64 x) { return fa_exp_minus_abs_f64(x); }
FA_INLINE fa_simd_f64 fa_bce_log1p_f64(fa_simd_f64 e) { return fa_log1p_unit_f64(e); }
FA_INLINE fa_simd_f64 fa_bce_exp_f32(fa_simd_f64 x)
{
    return fa_exp_neg_f64w(fa_max_f64(fa_set1_f64(-700.0), fa_neg_abs_f64(x)));   /* NaN kept */
}
FA_INLINE fa_simd_f64 fa_bce_log1p_f32(fa_simd_f64 e) { return fa_log1p_unit_f64w(e); }

/* l(x, y) (pw: the column's pos_weight, ignored when !has_pw) */
#define FA__BCE_LOSS_V(T)                                                                  \
FA_INLINE fa_simd_f64 fa_bce_loss_v_##T(fa_simd_f64 x, fa_simd_f64 y, fa_simd_f64 pw, int has_pw) \
{                                                                                          \
    const fa_simd_f64 zero = fa_set1_f64(0.0);                                             \
    fa_simd_f64 L = fa_bce_log1p_##T(fa_bce_exp_##T(x));                                   \
    fa_simd_f64 omy = fa_sub_f64(fa_set1_f64(1.0), y);                                     \
    fa_simd_f64 py = has_pw ? fa_mul_f64(pw, y) : y;                                       \
    fa_simd_f64 k = fa_select_f64(fa_cmpgt_f64(x, zero), omy, py);                        \
    fa_simd_f64 lin = fa_select_f64(fa_cmpeq_f64(k, zero), zero, fa_mul_f64(fa_abs_f64(x), k)); \
    if (has_pw)                                                                            \
        L = fa_mul_f64(fa_add_f64(omy, py), L);                                            \
    return fa_add_f64(lin, L);                                                             \
}
FA__BCE_LOSS_V(f32)
FA__BCE_LOSS_V(f64)

/* dl/dx (before grad_output, weight and scale) */
#define FA__BCE_GRAD_V(T)                                                                  \
FA_INLINE fa_simd_f64 fa_bce_grad_v_##T(fa_simd_f64 x, fa_simd_f64 y, fa_simd_f64 pw, int has_pw) \
{                                                                                          \
    fa_simd_f64 e = fa_bce_exp_##T(x);                                                     \
    fa_simd_f64 s = fa_div_f64(e, fa_add_f64(fa_set1_f64(1.0), e));                        \
    fa_simd_f64 omy = fa_sub_f64(fa_set1_f64(1.0), y);                                     \
    fa_simd_f64 py = has_pw ? fa_mul_f64(pw, y) : y;                                       \
    fa_simd_f64 cs = has_pw ? fa_mul_f64(fa_add_f64(omy, py), s) : s;                      \
    return fa_select_f64(fa_cmpgt_f64(x, fa_set1_f64(0.0)), fa_sub_f64(omy, cs), fa_sub_f64(cs, py)); \
}
FA__BCE_GRAD_V(f32)
FA__BCE_GRAD_V(f64)

/* cnt (1..lanes) entries of p as doubles; a partial vector is filled with 0 */
#define FA__BCE_LOAD(LD, p, cnt) ((cnt) == FA_LANES_F64 ? fa_loadu_##LD(p) : fa_load_tail_##LD(p, cnt, 0))
#define FA__BCE_STORE(ST, p, v, cnt) \
    do { if ((cnt) == FA_LANES_F64) fa_storeu_##ST(p, v); else fa_store_tail_##ST(p, v, cnt); } while (0)

/* hi + lo of the lanes of (hi, lo), summed in lane order */
FA_INLINE void fa_bce_lanes_dd(fa_simd_f64 hi, fa_simd_f64 lo, double *sum)
{
    double h[FA_LANES_F64], l[FA_LANES_F64], s = 0.0, err = 0.0;
    fa_storeu_f64(h, hi);
    fa_storeu_f64(l, lo);
    for (int k = 0; k < FA_LANES_F64; k++) {
        fa_two_sum_acc(&s, &err, h[k]);
        err += l[k];
    }
    sum[0] = s + err;                      /* renormalised (Fast2Sum: |s| >= |err|) */
    sum[1] = err - (sum[0] - s);
}

/*
 * The loop both kernels share, over the flat entries [begin, end) (see fa_loss_job in
 * fa_common.h): row segments (a row's pw is contiguous), FA_LANES_F64 entries at a time, the
 * last one of a segment partial.  VALUE(x, y, pw, has_pw) is the entry's value before the
 * weight; GRAD: multiply by grad_output and scale.  A block of a reduction (begin a multiple
 * of FA_LOSS_BLOCK) sums its values (partial vectors masked) into sums[2b], sums[2b+1], b
 * counted from begin's block.
 */
#define FA__BCE_KERNEL(fname, S, T, LD, ST, VALUE, GRAD)                                   \
static void fname(const fa_loss_job *j, ptrdiff_t begin, ptrdiff_t end)                    \
{                                                                                          \
    const ptrdiff_t L = FA_LANES_F64, n = j->n;                                            \
    const S *x = (const S *)j->x, *y = (const S *)j->y, *w = (const S *)j->w;              \
    const S *pw = (const S *)j->pw, *g = (const S *)j->g;                                  \
    S *out = (S *)j->out;                                                                  \
    const int has_pw = pw != NULL;                                                         \
    const fa_simd_f64 zero = fa_set1_f64(0.0), one = fa_set1_f64(1.0);                     \
    const fa_simd_f64 scale = fa_set1_f64(j->scale);                                       \
    ptrdiff_t b0 = begin;                                                                  \
    while (b0 < end) {                                                                     \
        ptrdiff_t b1 = end;                                                                \
        if (j->sums) {                                                                     \
            ptrdiff_t next = (b0 / FA_LOSS_BLOCK + 1) * FA_LOSS_BLOCK;                     \
            b1 = next < end ? next : end;                                                  \
        }                                                                                  \
        fa_simd_f64 hi = zero, lo = zero;                                                  \
        for (ptrdiff_t i = b0; i < b1;) {                                                  \
            ptrdiff_t col = has_pw ? i % n : 0;                                            \
            ptrdiff_t stop = has_pw && b1 - i > n - col ? i + (n - col) : b1;              \
            for (; i < stop; i += L, col += L) {                                           \
                ptrdiff_t cnt = stop - i < L ? stop - i : L;                               \
                fa_simd_f64 p = has_pw ? FA__BCE_LOAD(LD, pw + col, cnt) : one;            \
                fa_simd_f64 v = VALUE(FA__BCE_LOAD(LD, x + i, cnt), FA__BCE_LOAD(LD, y + i, cnt), p, has_pw); \
                if (GRAD) {                                                                \
                    fa_simd_f64 f = g ? fa_mul_f64(scale, FA__BCE_LOAD(LD, g + i, cnt)) : scale; \
                    v = fa_mul_f64(v, f);                                                  \
                }                                                                          \
                if (w) {                                                                   \
                    fa_simd_f64 wv = FA__BCE_LOAD(LD, w + i, cnt);                         \
                    v = fa_select_f64(fa_cmpeq_f64(wv, zero), zero, fa_mul_f64(v, wv));    \
                }                                                                          \
                if (out) {                                                                 \
                    FA__BCE_STORE(ST, out + i, v, cnt);                                    \
                } else {                                                                   \
                    fa_simd_f64 err;                                                       \
                    if (cnt < L)                                                           \
                        v = fa_select_f64(fa_tail_mask_f64(cnt), v, zero);                 \
                    hi = fa_two_sum_f64(hi, v, &err);                                      \
                    lo = fa_add_f64(lo, err);                                              \
                }                                                                          \
            }                                                                              \
            i = stop;                                                                      \
        }                                                                                  \
        if (j->sums)                                                                       \
            fa_bce_lanes_dd(hi, lo, j->sums + 2 * ((b0 - begin) / FA_LOSS_BLOCK));         \
        b0 = b1;                                                                           \
    }                                                                                      \
}

FA__BCE_KERNEL(fa_k_bce_with_logits_f32, float, f32, f32_as_f64, f64_as_f32, fa_bce_loss_v_f32, 0)
FA__BCE_KERNEL(fa_k_bce_with_logits_f64, double, f64, f64, f64, fa_bce_loss_v_f64, 0)
FA__BCE_KERNEL(fa_k_bce_with_logits_grad_f32, float, f32, f32_as_f64, f64_as_f32, fa_bce_grad_v_f32, 1)
FA__BCE_KERNEL(fa_k_bce_with_logits_grad_f64, double, f64, f64, f64, fa_bce_grad_v_f64, 1)

#endif /* FA_BCE_H */
