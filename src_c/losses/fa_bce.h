/*
 * losses/fa_bce.h -- binary cross-entropy with logits and its gradient (included once per
 * ISA by fa_isa_body.h, after math/ and the activation families).  docs/SPEC.md section 9.
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
 * The float32 loss is computed in double: its inputs widened, float64 exp and log1p to
 * float32-level accuracy (fa_exp_neg_f64w, fa_log1p_unit_f64w: 2^-27 relative), one rounding
 * on the store.  (In float32 arithmetic log1p alone costs ~2.2 ULP and c L then reached
 * 4.3 ULP with pos_weight, over the bound; the double form is ~1.8x slower and 0.6 ULP.)
 * The float32 gradient is computed in float32 (16 lanes on AVX-512, ~2.4x faster than in
 * double): its error stays within the gradients' 8 ULP.  The float64 kernels compute in
 * double with the float64 family.  A weight multiplies each entry's value, and a weight of 0
 * gives 0 even where the loss is inf (the entry is left out).
 * Measured max error per entry (tools/bce_accuracy.py) against mpmath (6000 x: every binade
 * of both signs, +-inf and N(0, 5); y in {0, 1, 0.5, 0.1, 0.9, 1e-3, 0.999, 0.37}; pw absent,
 * 0.3, 4): loss float32 0.58 ULP, float64 2.51 ULP (every variant); gradient (in ULPs of its
 * larger term) float32 4.32 (scalar, sse2) / 3.85 (avx2, avx512), float64 3.24; 2^21 random
 * (x ~ N(0, 9), y uniform, pw 0.3 / 2.7) against a float64 reference: float32 loss 0.60,
 * gradient 4.91.  Bounds tested (registry BCE_LOSSES): 4 and 8.
 *
 * Reductions (MEAN, SUM): each block of FA_LOSS_BLOCK entries is summed per lane (float64: a
 * double-double per lane, TwoSum; float32 values, computed in double: plain double sums), its
 * lanes then summed in lane order; the blocks are summed in order, as double-doubles, by the
 * runner (losses/fa_loss_run.h).  The sum of the rounded entries is then exact to ~2^-100
 * relative (float64) or 2^-42 (float32; entries of one sign) before its final rounding.
 */
#ifndef FA_BCE_H
#define FA_BCE_H

/* e^-|x| and log1p(e) per kind M are the math family's fa_exp_minus_abs_M and
 * fa_log1p_unit_M: float64 to full precision (e subnormal where it is); float32 with the
 * float32 family (-|x| clamped to -110); f64w the float32 forward widened to double (see the
 * top: 2^-27 relative, one rounding to float32). */

/* l(x, y) (pw: the column's pos_weight, ignored when !has_pw) */
#define FA__BCE_LOSS_V(T, M)                                                               \
FA_INLINE fa_simd_##T fa_bce_loss_v_##M(fa_simd_##T x, fa_simd_##T y, fa_simd_##T pw, int has_pw) \
{                                                                                          \
    const fa_simd_##T zero = fa_set1_##T(0.0);                                             \
    fa_simd_##T L = fa_log1p_unit_##M(fa_exp_minus_abs_##M(x));                            \
    fa_simd_##T omy = fa_sub_##T(fa_set1_##T(1.0), y);                                     \
    fa_simd_##T py = has_pw ? fa_mul_##T(pw, y) : y;                                       \
    fa_simd_##T k = fa_select_##T(fa_cmpgt_##T(x, zero), omy, py);                        \
    fa_simd_##T lin = fa_select_##T(fa_cmpeq_##T(k, zero), zero, fa_mul_##T(fa_abs_##T(x), k)); \
    if (has_pw)                                                                            \
        L = fa_mul_##T(fa_add_##T(omy, py), L);                                            \
    return fa_add_##T(lin, L);                                                             \
}
FA__BCE_LOSS_V(f64, f64w)
FA__BCE_LOSS_V(f64, f64)

/* dl/dx (before grad_output, weight and scale) */
#define FA__BCE_GRAD_V(T)                                                                  \
FA_INLINE fa_simd_##T fa_bce_grad_v_##T(fa_simd_##T x, fa_simd_##T y, fa_simd_##T pw, int has_pw) \
{                                                                                          \
    const fa_simd_##T one = fa_set1_##T(1.0);                                              \
    fa_simd_##T e = fa_exp_minus_abs_##T(x);                                                \
    fa_simd_##T s = fa_div_##T(e, fa_add_##T(one, e));                                     \
    fa_simd_##T omy = fa_sub_##T(one, y);                                                  \
    fa_simd_##T py = has_pw ? fa_mul_##T(pw, y) : y;                                       \
    fa_simd_##T cs = has_pw ? fa_mul_##T(fa_add_##T(omy, py), s) : s;                      \
    return fa_select_##T(fa_cmpgt_##T(x, fa_set1_##T(0.0)), fa_sub_##T(omy, cs), fa_sub_##T(cs, py)); \
}
FA__BCE_GRAD_V(f32)
FA__BCE_GRAD_V(f64)

/* The float32 gradient of a vector with a lane at |x| >= 87 (sigmoid(-|x|) below 2^-125.5, in
 * the subnormals or 0 in float32): its cnt entries in double lanes, times the multipliers in
 * double, rounded once.  In float32 such a sigmoid kept a few bits (or none), and a
 * multiplier above 1 (grad_output, weight, the reduction's scale) brings the product into the
 * normal range: binary_cross_entropy_with_logits_grad(float32([-100]), float32([0]),
 * float32([1e30]), reduction='none') was 1.7% off (the differential fuzz of 2026-12-06); it
 * also spared the subnormal operations an assist each on Intel cores.  Rare: one compare
 * and a branch per vector for the others. */
FA_INLINE void fa_bce_grad_deep_f32(const float *x, const float *y, const float *pw, const float *g,
                                    const float *w, double scale, ptrdiff_t cnt, float *out)
{
    const ptrdiff_t L = FA_LANES_F64;
    const fa_simd_f64 one = fa_set1_f64(1.0), zero = fa_set1_f64(0.0);
    for (ptrdiff_t h = 0; h < cnt; h += L) {
        const ptrdiff_t c = cnt - h < L ? cnt - h : L;
#define FA__BCE_WIDE(p) (c == L ? fa_loadu_f32_as_f64((p) + h) : fa_load_tail_f32_as_f64((p) + h, c, 0.0))
        fa_simd_f64 v = fa_bce_grad_v_f64(FA__BCE_WIDE(x), FA__BCE_WIDE(y), pw ? FA__BCE_WIDE(pw) : one, pw != NULL);
        v = fa_mul_f64(v, g ? fa_mul_f64(fa_set1_f64(scale), FA__BCE_WIDE(g)) : fa_set1_f64(scale));
        if (w) {
            const fa_simd_f64 wv = FA__BCE_WIDE(w);
            v = fa_select_f64(fa_cmpeq_f64(wv, zero), zero, fa_mul_f64(v, wv));
        }
#undef FA__BCE_WIDE
        if (c == L) fa_storeu_f64_as_f32(out + h, v); else fa_store_tail_f64_as_f32(out + h, v, c);
    }
}
#define FA__BCE_DEEP_f32(xv, i, col, cnt)                                                     \
    if (FA_UNLIKELY(fa_mask_any_f32(fa_cmpge_f32(fa_abs_f32(xv), fa_set1_f32(87.0f))))) {      \
        fa_bce_grad_deep_f32(x + i, y + i, has_pw ? pw + col : NULL, g ? g + i : NULL, w ? w + i : NULL, \
                             j->scale, cnt, out + i);                                          \
        continue;                                                                              \
    }
#define FA__BCE_DEEP_NONE(xv, i, col, cnt)

/* cnt (1..lanes of V) entries of p (LD: T, or f32_as_f64 widening float32 to double); a
 * partial vector is filled with 0 */
#define FA__BCE_LOAD(V, LD, p, cnt) ((cnt) == FA_LANES_##V ? fa_loadu_##LD(p) : fa_load_tail_##LD(p, cnt, 0))
#define FA__BCE_STORE(V, ST, p, v, cnt) \
    do { if ((cnt) == FA_LANES_##V) fa_storeu_##ST(p, v); else fa_store_tail_##ST(p, v, cnt); } while (0)

/* The block sums, in double: float64 values as a double-double per lane (TwoSum), float32
 * values widened and added (2048 float32 values lose nothing that shows after the final
 * rounding to float32: 2^-42 relative for values of one sign) */
#define FA__BCE_ACC_f64(hi, lo, v)                                                         \
    do { fa_simd_f64 err_; hi = fa_two_sum_f64(hi, v, &err_); lo = fa_add_f64(lo, err_); } while (0)
#define FA__BCE_ACC_f32(hi, lo, v) (hi = fa_add_widened_f32_f64(hi, v))
#define FA__BCE_ACC_f64w(hi, lo, v) (hi = fa_add_f64(hi, v))      /* float32 values computed in double */

/* hi + lo of the lanes of (hi, lo), summed in lane order */
FA_INLINE void fa_bce_lanes_dd(fa_simd_f64 hi, fa_simd_f64 lo, double *sum)
{
    double s = 0.0, err = 0.0;
    fa_two_sum_acc_lanes_f64(&s, &err, hi, lo);
    sum[0] = fa_dd_renormalise(s, err, &sum[1]);            /* |s| >= |err|; +-inf kept */
}

/*
 * The loop both kernels share, over the flat entries [begin, end) (see fa_loss_job in
 * fa_common.h): row segments (a row's pw is contiguous), one vector of T at a time, the
 * last one of a segment partial.  VALUE(x, y, pw, has_pw) is the entry's value before the
 * weight; GRAD: multiply by grad_output and scale.  A block of a reduction (begin a multiple
 * of FA_LOSS_BLOCK) sums its values (partial vectors masked) into sums[2b], sums[2b+1], b
 * counted from begin's block.
 */
/* Rows shorter than FA_BCE_PW_TILE/4 with a pos_weight: the kernel works on "rows" of
 * period = a multiple of n near FA_BCE_PW_TILE entries, pw repeated to match (the column of
 * entry i is i % period % n = i % n), so the vectors stay full: (2^18, 3) float32 was ~5x
 * slower than without pos_weight, one partial vector per row. */
#define FA_BCE_PW_TILE 256
#define FA__BCE_KERNEL(fname, S, T, LD, ST, ACC, VALUE, GRAD, DEEP)                        \
static void fname(const fa_loss_job *j, ptrdiff_t begin, ptrdiff_t end)                    \
{                                                                                          \
    const ptrdiff_t L = FA_LANES_##T;                                                      \
    ptrdiff_t n = j->n;                                                                    \
    const S *x = j->x, *y = j->y, *w = j->w, *pw = j->pw, *g = j->g;                       \
    S *out = (S *)j->out;                                                                  \
    const int has_pw = pw != NULL;                                                         \
    S pw_tiled[FA_BCE_PW_TILE];                                                            \
    if (has_pw && n < FA_BCE_PW_TILE / 4) {          /* short rows: pw repeated, rows joined */ \
        const ptrdiff_t period = FA_BCE_PW_TILE / n * n;                                   \
        for (ptrdiff_t c = 0; c < period; c++)                                             \
            pw_tiled[c] = pw[c % n];                                                       \
        pw = pw_tiled;                                                                     \
        n = period;                                                                        \
    }                                                                                      \
    const fa_simd_##T zero = fa_set1_##T(0.0), one = fa_set1_##T(1.0);                     \
    const fa_simd_##T scale = fa_set1_##T(j->scale);                                       \
    ptrdiff_t b0 = begin;                                                                  \
    while (b0 < end) {                                                                     \
        ptrdiff_t b1 = end;                                                                \
        if (j->sums) {                                                                     \
            ptrdiff_t next = (b0 / FA_LOSS_BLOCK + 1) * FA_LOSS_BLOCK;                     \
            b1 = next < end ? next : end;                                                  \
        }                                                                                  \
        fa_simd_f64 hi = fa_set1_f64(0.0), lo = fa_set1_f64(0.0);                          \
        for (ptrdiff_t i = b0; i < b1;) {                                                  \
            ptrdiff_t col = has_pw ? i % n : 0;                                            \
            ptrdiff_t stop = has_pw && b1 - i > n - col ? i + (n - col) : b1;              \
            for (; i < stop; i += L, col += L) {                                           \
                ptrdiff_t cnt = stop - i < L ? stop - i : L;                               \
                const fa_simd_##T xv = FA__BCE_LOAD(T, LD, x + i, cnt);                        \
                DEEP(xv, i, col, cnt)            /* (float32 gradient: its deep lanes) */      \
                fa_simd_##T p = has_pw ? FA__BCE_LOAD(T, LD, pw + col, cnt) : one;             \
                fa_simd_##T v = VALUE(xv, FA__BCE_LOAD(T, LD, y + i, cnt), p, has_pw);         \
                if (GRAD)                                                                  \
                    v = fa_mul_##T(v, g ? fa_mul_##T(scale, FA__BCE_LOAD(T, LD, g + i, cnt)) : scale); \
                if (w) {                                                                   \
                    fa_simd_##T wv = FA__BCE_LOAD(T, LD, w + i, cnt);                          \
                    v = fa_select_##T(fa_cmpeq_##T(wv, zero), zero, fa_mul_##T(v, wv));    \
                }                                                                          \
                if (out) {                                                                 \
                    FA__BCE_STORE(T, ST, out + i, v, cnt);                                     \
                } else {                                                                   \
                    if (cnt < L)                                                           \
                        v = fa_select_##T(fa_tail_mask_##T(cnt), v, zero);                 \
                    FA__BCE_ACC_##ACC(hi, lo, v);                                            \
                }                                                                          \
            }                                                                              \
            i = stop;                                                                      \
        }                                                                                  \
        if (j->sums)                                                                       \
            fa_bce_lanes_dd(hi, lo, j->sums + 2 * ((b0 - begin) / FA_LOSS_BLOCK));         \
        b0 = b1;                                                                           \
    }                                                                                      \
}

/* float32: the loss computed in double (widened loads), the gradient in float32 */
FA__BCE_KERNEL(fa_k_bce_with_logits_f32, float, f64, f32_as_f64, f64_as_f32, f64w, fa_bce_loss_v_f64w, 0, FA__BCE_DEEP_NONE)
FA__BCE_KERNEL(fa_k_bce_with_logits_f64, double, f64, f64, f64, f64, fa_bce_loss_v_f64, 0, FA__BCE_DEEP_NONE)
FA__BCE_KERNEL(fa_k_bce_with_logits_grad_f32, float, f32, f32, f32, f32, fa_bce_grad_v_f32, 1, FA__BCE_DEEP_f32)
FA__BCE_KERNEL(fa_k_bce_with_logits_grad_f64, double, f64, f64, f64, f64, fa_bce_grad_v_f64, 1, FA__BCE_DEEP_NONE)

#endif /* FA_BCE_H */
