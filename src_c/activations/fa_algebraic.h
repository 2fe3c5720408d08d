/*
 * fa_algebraic.h -- the activations with no transcendental function, forwards and gradients,
 * float32 and float64 from one template FA_ALGEBRAIC(T): the piecewise-linear relu, relu6,
 * leaky_relu, hardtanh, hardsigmoid, the piecewise-quadratic hardswish, and the rational
 * softsign x/(1+|x|).  Shared math: max/min/compare-and-select and at most one division,
 * identical in both dtypes, so one macro body per function serves both.  Included once per
 * ISA (fa_isa_body.h); gradients use fa_grad_where/fa_inside (kernels/fa_map.h).
 * Accuracy bounds: docs/SPEC.md section 6; special values: section 4.
 *
 * relu, relu6, hardtanh: exact (max/min only).  leaky_relu: slope*x with the double slope
 * split in hi + lo of the dtype, x*hi + x*lo in one FMA.  Measured max (tools/ulp_report.py
 * leaky_relu --n 20000): float64 0.5 ULP on every variant; float32 0.6 ULP with FMA (0.68
 * where x*lo falls in the subnormals), 0.84 without FMA (scalar, SSE2: slope rounded to float32, then x*slope; adding x*lo
 * there would round twice and measured 1.2 near the smallest normal).  hardsigmoid (x+3)/6: x+3 is exact near -3 (Sterbenz), so <= 1 ULP.
 * hardswish x*(x+3)/6: <= 1.5 ULP.  softsign x/(1+|x|): <= 1.5 ULP.
 * NaN propagates everywhere: max/min are called as max(c, x), and x86 returns the
 * second operand when either is NaN.  relu(-0.0) = -0.0 (as torch; the sign of
 * zero is kept), leaky_relu(-0.0) = -0.0.  At the infinities: softsign(+-inf) = +-1,
 * hardswish(-inf) = 0, hardswish(+inf) = +inf (torch and JAX give NaN for both).
 *
 * Gradients <name>_grad(x, g) = f'(x) g, below each forward.  Kinks take torch's
 * convention (the *_backward of torch 2.x): relu'(0) = 0, relu6'(0) = relu6'(6) = 0,
 * leaky_relu'(0) = slope, hardtanh' = 0 at min_val and max_val, hardsigmoid'(+-3) = 0,
 * hardswish'(-3) = 0 and hardswish'(3) = 1 (torch 2.13's hardswish_backward).  Where f' is
 * 0 the result is +0.0 for any finite or infinite g (torch's select); NaN in x or g gives
 * NaN (torch gives g or 0 for NaN x).  relu, relu6, hardtanh, hardsigmoid: exact (g, or
 * g/6 rounded once).  leaky_relu: g*slope, slope rounded to T (<= 1 ULP).  hardswish:
 * g*((2x+3)/6), 2x+3 exact near its root -3/2 (Sterbenz), <= 1.5 ULP.  softsign:
 * (g/d)/d, d = 1+|x|, <= 2 ULP; 0 at +-inf (no overflow: d^2 is never formed).
 */

/* the forward kernel fa_k_NAME_T and the gradient kernel fa_k_NAME_grad_T of the vector
 * functions fa_NAME_v_T and fa_NAME_grad_v_T below */
#define FA_ALGEBRAIC_KERNELS(NAME, T)                                                       \
FA_UNARY_KERNEL(NAME, T, fa_##NAME##_v_##T)                                                \
FA_BINARY_KERNEL(NAME##_grad, T, fa_##NAME##_grad_v_##T)

#define FA_ALGEBRAIC(T)                                                                     \
FA_INLINE fa_simd_##T fa_relu_v_##T(fa_simd_##T x, const fa_params *p) {                  \
    (void)p;                                                                               \
    return fa_max_##T(fa_set1_##T(0), x);                                                  \
}                                                                                          \
FA_INLINE fa_simd_##T fa_relu_grad_v_##T(fa_simd_##T x, fa_simd_##T g, const fa_params *p) {\
    (void)p;                                                                               \
    return fa_grad_where_##T(fa_cmpgt_##T(x, fa_set1_##T(0)), g, x, g);                    \
}                                                                                          \
FA_INLINE fa_simd_##T fa_relu6_v_##T(fa_simd_##T x, const fa_params *p) {                 \
    (void)p;                                                                               \
    return fa_min_##T(fa_set1_##T(6), fa_max_##T(fa_set1_##T(0), x));                      \
}                                                                                          \
FA_INLINE fa_simd_##T fa_relu6_grad_v_##T(fa_simd_##T x, fa_simd_##T g, const fa_params *p) {\
    (void)p;                                                                               \
    return fa_grad_where_##T(fa_inside_##T(x, 0, 6), g, x, g);                             \
}                                                                                          \
FA_INLINE fa_simd_##T fa_leaky_relu_v_##T(fa_simd_##T x, const fa_params *p) {            \
    /* the slope is a double: with FMA, hi + lo carry it to ~2x the dtype's precision */ \
    const fa_scalar_##T hi = (fa_scalar_##T)p->a;                                         \
    /* an infinite hi (slope +-inf, or beyond the dtype's range): no lo (inf - inf), and */ \
    /* slope*0 is the limit +-0 (x times the slope's sign), not inf*0 = NaN */             \
    const int infinite = hi - hi != 0 && hi == hi;                                         \
    const fa_scalar_##T lo = infinite ? 0 : (fa_scalar_##T)(p->a - (double)hi);            \
    fa_simd_##T neg = fa_mul_##T(x, fa_set1_##T(hi));                                      \
    if (infinite)                                                                          \
        neg = fa_select_##T(fa_cmpeq_##T(x, fa_set1_##T(0)),                               \
                            fa_mul_##T(x, fa_set1_##T(hi > 0 ? 1 : -1)), neg);             \
    if (FA_HAVE_FMA && lo != 0) {                                                          \
        const fa_simd_##T xlo = fa_mul_##T(x, fa_set1_##T(lo));                            \
        fa_simd_##T fused = fa_fmadd_##T(x, fa_set1_##T(hi), xlo);                             \
        /* x = -0.0, or x*lo infinite (x = -inf, or a slope >= ~1e20 on a large x: x*lo of  */ \
        /* lo's sign overflowed, and inf of the wrong sign won; |x*hi| >= 2^24 |x*lo| is   */ \
        /* then infinite too): x*hi is right there */                                       \
        fa_mask_##T plain = fa_mask_or_##T(fa_cmpeq_##T(fa_abs_##T(xlo), fa_set1_##T(INFINITY)), \
                                           fa_cmpeq_##T(x, fa_set1_##T(0)));                  \
        neg = fa_select_##T(plain, neg, fused);                                            \
    }                                                                                      \
    return fa_select_##T(fa_cmpgt_##T(x, fa_set1_##T(0)), x, neg);                          \
}                                                                                          \
FA_INLINE fa_simd_##T fa_leaky_relu_grad_v_##T(fa_simd_##T x, fa_simd_##T g, const fa_params *p) {\
    fa_simd_##T neg = fa_mul_##T(g, fa_set1_##T((fa_scalar_##T)p->a));                     \
    fa_simd_##T y = fa_select_##T(fa_cmpgt_##T(x, fa_set1_##T(0)), g, neg);                \
    return fa_select_##T(fa_cmpunord_##T(x, x), x, y);          /* NaN x -> NaN */         \
}                                                                                          \
FA_INLINE fa_simd_##T fa_hardtanh_v_##T(fa_simd_##T x, const fa_params *p) {              \
    return fa_min_##T(fa_set1_##T((fa_scalar_##T)p->b),                                   \
                      fa_max_##T(fa_set1_##T((fa_scalar_##T)p->a), x));                    \
}                                                                                          \
FA_INLINE fa_simd_##T fa_hardtanh_grad_v_##T(fa_simd_##T x, fa_simd_##T g, const fa_params *p) {\
    return fa_grad_where_##T(fa_inside_##T(x, (fa_scalar_##T)p->a, (fa_scalar_##T)p->b), g, x, g);\
}                                                                                          \
FA_INLINE fa_simd_##T fa_hardsigmoid_v_##T(fa_simd_##T x, const fa_params *p) {           \
    (void)p;                                                                               \
    fa_simd_##T r = fa_min_##T(fa_set1_##T(6), fa_max_##T(fa_set1_##T(0),                  \
                                                          fa_add_##T(x, fa_set1_##T(3)))); \
    return fa_div_##T(r, fa_set1_##T(6));                                                  \
}                                                                                          \
FA_INLINE fa_simd_##T fa_hardsigmoid_grad_v_##T(fa_simd_##T x, fa_simd_##T g, const fa_params *p) {\
    (void)p;                                                                               \
    return fa_grad_where_##T(fa_inside_##T(x, -3, 3), fa_div_##T(g, fa_set1_##T(6)), x, g);\
}                                                                                          \
FA_INLINE fa_simd_##T fa_hardswish_v_##T(fa_simd_##T x, const fa_params *p) {             \
    (void)p;                                                                               \
    fa_simd_##T mid = fa_div_##T(fa_mul_##T(x, fa_add_##T(x, fa_set1_##T(3))), fa_set1_##T(6)); \
    fa_simd_##T y = fa_select_##T(fa_cmpge_##T(x, fa_set1_##T(3)), x, mid);               \
    return fa_select_##T(fa_cmple_##T(x, fa_set1_##T(-3)), fa_set1_##T(0), y);             \
}                                                                                          \
FA_INLINE fa_simd_##T fa_hardswish_grad_v_##T(fa_simd_##T x, fa_simd_##T g, const fa_params *p) {\
    (void)p;                                                                               \
    fa_simd_##T t = fa_add_##T(fa_add_##T(x, x), fa_set1_##T(3));                         /* 2x + 3 */\
    fa_simd_##T v = fa_mul_##T(g, fa_div_##T(t, fa_set1_##T(6)));                          \
    v = fa_select_##T(fa_cmpge_##T(x, fa_set1_##T(3)), g, v);                              \
    return fa_grad_where_##T(fa_cmpgt_##T(x, fa_set1_##T(-3)), v, x, g);                   \
}                                                                                          \
FA_INLINE fa_simd_##T fa_softsign_v_##T(fa_simd_##T x, const fa_params *p) {              \
    (void)p;                                                                               \
    fa_simd_##T ax = fa_abs_##T(x);                                                        \
    fa_simd_##T y = fa_div_##T(x, fa_add_##T(fa_set1_##T(1), ax));                         \
    /* |x| = inf: inf/inf would be NaN; the limit is copysign(1, x) */                     \
    fa_simd_##T one = fa_or_##T(fa_set1_##T(1), fa_and_##T(x, fa_set1_##T(-0.0)));        \
    return fa_select_##T(fa_cmpeq_##T(ax, fa_set1_##T(INFINITY)), one, y);                 \
}                                                                                          \
FA_INLINE fa_simd_##T fa_softsign_grad_v_##T(fa_simd_##T x, fa_simd_##T g, const fa_params *p) {\
    (void)p;                                                                               \
    fa_simd_##T d = fa_add_##T(fa_set1_##T(1), fa_abs_##T(x));                             \
    return fa_div_##T(fa_div_##T(g, d), d);                                                \
}                                                                                          \
FA_ALGEBRAIC_KERNELS(relu, T)                                                              \
FA_ALGEBRAIC_KERNELS(relu6, T)                                                             \
FA_ALGEBRAIC_KERNELS(leaky_relu, T)                                                        \
FA_ALGEBRAIC_KERNELS(hardtanh, T)                                                          \
FA_ALGEBRAIC_KERNELS(hardsigmoid, T)                                                       \
FA_ALGEBRAIC_KERNELS(hardswish, T)                                                         \
FA_ALGEBRAIC_KERNELS(softsign, T)

FA_ALGEBRAIC(f32)
FA_ALGEBRAIC(f64)
