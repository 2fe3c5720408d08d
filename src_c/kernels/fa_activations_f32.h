/*
 * fa_activations_f32.h -- the float32 transcendental activations (included once per ISA,
 * after fa_math_f32.h).  Max errors quoted per kernel were measured on every variant
 * (scalar, sse2, avx2, avx512) with
 *     PYTHONPATH=. python tools/ulp_report.py --dtype float32 --n 4000 <name>
 */

/* -|x| clamped to [-110, 0] (NaN kept: max(c, v) returns v when v is NaN).  Below -110
 * every e^z-based result here is 0 or rounds to it, and the clamp keeps inf out of the
 * range reduction. */
FA_INLINE fa_simd_f32 fa_negabs_clamped_f32(fa_simd_f32 x)
{
    return fa_max_f32(fa_set1_f32(-110.0f), fa_or_f32(x, fa_set1_f32(-0.0f)));
}

/* sigmoid(x) = 1/(1+e^-x), as num/(1+e) with e = e^-|x| and num = e (x < 0) or 1 (x >= 0):
 * no cancellation, one division.  +-inf give 1 and +0, NaN gives NaN.
 * Max error 2.34 ULP (avx2, avx512), 2.98 ULP (scalar, sse2). */
FA_INLINE fa_simd_f32 fa_sigmoid_v_f32(fa_simd_f32 x, const fa_params *p)
{
    (void)p;
    fa_simd_f32 n, q;  /* e = 2^n (1 + q) */
    fa_simd_f32 e = fa_exp_neg_f32(fa_negabs_clamped_f32(x), &n, &q);
    fa_simd_f32 num = fa_select_f32(fa_cmplt_f32(x, fa_set1_f32(0.0f)), e, fa_set1_f32(1.0f));
    return fa_div_f32(num, fa_add_f32(e, fa_set1_f32(1.0f)));
}
FA_UNARY_KERNEL(sigmoid, f32, fa_sigmoid_v_f32)

/* silu(x) = x*sigmoid(x).  x >= 0: x/(1+e), e = e^-x.  x < 0: with e = q 2^n, the result
 * is ((x q)/(1+e)) 2^n, so x e^x stays accurate where e^x alone is already subnormal
 * (x in [-92, -87.3] still has a normal result); the scaling is exact unless the result
 * is subnormal.  x is clamped to >= -110 first (silu(-110) already rounds to -0.0), so
 * silu(-inf) = -0.0; silu(-0.0) = -0.0, silu(+inf) = +inf, NaN -> NaN.
 * Max error 2.73 ULP (avx2, avx512), 2.54 ULP (scalar, sse2). */
FA_INLINE fa_simd_f32 fa_silu_v_f32(fa_simd_f32 x, const fa_params *p)
{
    (void)p;
    fa_simd_f32 n, q;  /* e = 2^n (1 + q) */
    fa_simd_f32 z = fa_negabs_clamped_f32(x);          /* on the x < 0 lanes: max(x, -110) */
    fa_simd_f32 e = fa_exp_neg_f32(z, &n, &q);
    fa_mask_f32 neg = fa_cmplt_f32(x, fa_set1_f32(0.0f));
    fa_simd_f32 num = fa_select_f32(neg, fa_fmadd_f32(z, q, z), x);
    fa_simd_f32 r = fa_div_f32(num, fa_add_f32(e, fa_set1_f32(1.0f)));
    return fa_ldexp_neg_f32(r, fa_select_f32(neg, n, fa_set1_f32(0.0f)));
}
FA_UNARY_KERNEL(silu, f32, fa_silu_v_f32)

/* softplus(x) = max(x, 0) + log1p(e^-|bx|)/b (b = beta > 0), and where b*x > threshold,
 * x (torch's cut-off; threshold = +inf when the user gave None: exact everywhere).
 * b*x is carried as a two-product zh + zl: e^z's tail would amplify the rounding of b*x
 * |bx| times (87x at the underflow end).  Limits: softplus(+inf) = +inf, (-inf) = 0,
 * NaN -> NaN.  Max error: see the commit table. */
FA_INLINE fa_simd_f32 fa_softplus_v_f32(fa_simd_f32 x, const fa_params *p)
{
    fa_simd_f32 beta = fa_set1_f32((float)p->a);
    fa_simd_f32 zh = fa_mul_f32(beta, x);
    fa_simd_f32 zl = fa_two_prod_lo_f32(beta, x, zh);
    zl = fa_select_f32(fa_cmplt_f32(fa_abs_f32(zh), fa_set1_f32(128.0f)), zl, fa_set1_f32(0.0f));
    /* -|zh + zl| = -|zh| + (zh > 0 ? -zl : zl) */
    zl = fa_xor_f32(zl, fa_andnot_f32(zh, fa_set1_f32(-0.0f)));
    fa_simd_f32 n, m;
    fa_simd_f32 e = fa_exp_neg_lo_f32(fa_negabs_clamped_f32(zh), zl, &n, &m);
    fa_simd_f32 y = fa_add_f32(fa_max_f32(fa_set1_f32(0.0f), x), fa_div_f32(fa_log1p_unit_f32(e), beta));
    return fa_select_f32(fa_cmpgt_f32(zh, fa_set1_f32((float)p->b)), x, y);
}
FA_UNARY_KERNEL(softplus, f32, fa_softplus_v_f32)

/* log_sigmoid(x) = min(x, 0) - log1p(e^-|x|), computed as -(log1p(e) - min(x, 0)) so
 * log_sigmoid(+inf) = -0.0; (-inf) = -inf, NaN -> NaN.  Max error: see the commit table. */
FA_INLINE fa_simd_f32 fa_log_sigmoid_v_f32(fa_simd_f32 x, const fa_params *p)
{
    (void)p;
    fa_simd_f32 n, m;
    fa_simd_f32 e = fa_exp_neg_f32(fa_negabs_clamped_f32(x), &n, &m);
    return fa_neg_f32(fa_sub_f32(fa_log1p_unit_f32(e), fa_min_f32(fa_set1_f32(0.0f), x)));
}
FA_UNARY_KERNEL(log_sigmoid, f32, fa_log_sigmoid_v_f32)

/* mish(x) = x tanh(log1p(e^x)) = x w/(w + 2), w = e^x (e^x + 2); with e = e^-|x| no term
 * cancels: x >= 0: x (1 + 2e)/(1 + 2e + 2e^2); x < 0: x e (e + 2)/(e (e + 2) + 2), where
 * e = 2^n (1 + m) and x e is formed as (x + x m) 2^n after the division, as in silu, so
 * the result stays accurate down to the subnormal range.  x < -110 behaves as -110 (the
 * result rounds to -0.0): mish(-inf) = -0.0, mish(+inf) = +inf, mish(-0.0) = -0.0.
 * Max error: see the commit table. */
FA_INLINE fa_simd_f32 fa_mish_v_f32(fa_simd_f32 x, const fa_params *p)
{
    (void)p;
    fa_simd_f32 n, m;
    fa_simd_f32 z = fa_negabs_clamped_f32(x);          /* on the x < 0 lanes: max(x, -110) */
    fa_simd_f32 e = fa_exp_neg_f32(z, &n, &m);
    fa_mask_f32 neg = fa_cmplt_f32(x, fa_set1_f32(0.0f));
    fa_simd_f32 two = fa_set1_f32(2.0f);
    fa_simd_f32 ep2 = fa_add_f32(e, two);
    fa_simd_f32 a = fa_fmadd_f32(two, e, fa_set1_f32(1.0f));          /* 1 + 2e */
    fa_simd_f32 num = fa_mul_f32(fa_select_f32(neg, ep2, a), fa_select_f32(neg, fa_fmadd_f32(z, m, z), x));
    fa_simd_f32 den = fa_select_f32(neg, fa_fmadd_f32(e, ep2, two), fa_fmadd_f32(fa_add_f32(e, e), e, a));
    return fa_ldexp_neg_f32(fa_div_f32(num, den), fa_select_f32(neg, n, fa_set1_f32(0.0f)));
}
FA_UNARY_KERNEL(mish, f32, fa_mish_v_f32)

/* tanh(x) = sign(x) |em/(2 + em)|, em = expm1(-2|x|) (-2|x| clamped to -110; exact
 * doubling): no cancellation near 0, tanh(+-0) = +-0, tanh(+-inf) = +-1, NaN -> NaN.
 * Max error: see the commit table. */
FA_INLINE fa_simd_f32 fa_tanh_v_f32(fa_simd_f32 x, const fa_params *p)
{
    (void)p;
    fa_simd_f32 z = fa_max_f32(fa_set1_f32(-110.0f), fa_mul_f32(fa_set1_f32(-2.0f), fa_abs_f32(x)));
    fa_simd_f32 em = fa_expm1_neg_f32(z);
    fa_simd_f32 r = fa_abs_f32(fa_div_f32(em, fa_add_f32(em, fa_set1_f32(2.0f))));
    return fa_or_f32(r, fa_and_f32(x, fa_set1_f32(-0.0f)));
}
FA_UNARY_KERNEL(tanh, f32, fa_tanh_v_f32)

/* The ELU family on expm1(x) for x < 0 (x kept as is elsewhere, so -0.0 and NaN pass
 * through): elu = alpha em, selu = (scale alpha) em or scale x (constants rounded once to
 * float32), celu = alpha expm1(x/alpha).  x < -110 behaves as -110 (em = -1 there).
 * Max errors: see the commit table. */
FA_INLINE fa_simd_f32 fa_elu_v_f32(fa_simd_f32 x, const fa_params *p)
{
    fa_simd_f32 em = fa_expm1_neg_f32(fa_negabs_clamped_f32(x));
    return fa_select_f32(fa_cmplt_f32(x, fa_set1_f32(0.0f)), fa_mul_f32(fa_set1_f32((float)p->a), em), x);
}
FA_UNARY_KERNEL(elu, f32, fa_elu_v_f32)

FA_INLINE fa_simd_f32 fa_selu_v_f32(fa_simd_f32 x, const fa_params *p)
{
    (void)p;
    fa_simd_f32 em = fa_expm1_neg_f32(fa_negabs_clamped_f32(x));
    return fa_select_f32(fa_cmplt_f32(x, fa_set1_f32(0.0f)),
                         fa_mul_f32(fa_set1_f32((float)(1.0507009873554804934 * 1.6732632423543772848)), em),
                         fa_mul_f32(fa_set1_f32((float)1.0507009873554804934), x));
}
FA_UNARY_KERNEL(selu, f32, fa_selu_v_f32)

FA_INLINE fa_simd_f32 fa_celu_v_f32(fa_simd_f32 x, const fa_params *p)
{
    fa_simd_f32 alpha = fa_set1_f32((float)p->a);
    fa_simd_f32 em = fa_expm1_neg_f32(fa_negabs_clamped_f32(fa_div_f32(x, alpha)));
    return fa_select_f32(fa_cmplt_f32(x, fa_set1_f32(0.0f)), fa_mul_f32(alpha, em), x);
}
FA_UNARY_KERNEL(celu, f32, fa_celu_v_f32)
