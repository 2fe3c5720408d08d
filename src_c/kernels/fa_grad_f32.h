/*
 * fa_grad_f32.h -- native float32 gradient kernels y = f'(x) g (included once per ISA, after
 * fa_activations_f32.h and fa_activations_f64.h, whose float64 gradient vector functions
 * serve the rare path below).  Grouped per function; each group ends with its registration.
 *
 * Native float32 lanes: sigmoid, tanh, log_sigmoid, softplus (beta = 1), elu, selu,
 * celu (alpha = 1), logit, and silu on the FMA variants.  In double lanes but with
 * float32-level pieces (much cheaper than the float64 kernels' double-double): gelu_tanh,
 * gelu.  Still the float64 kernel, rounded once: softplus with beta != 1, celu with
 * alpha != 1 (an argument that is not exact in float32 is amplified in the exp tail), silu
 * on scalar and sse2, and mish (fa_activations_f64.h).
 *
 * The native kernels compute with the exp family of fa_math_f32.h
 * (fa_exp_neg_normal_f32: e^z for z in [-87, 0], ~1 ULP).  A lane whose exp argument is
 * below -87 (the derivative nears or enters the subnormals, and a large g may still make
 * the product normal) or infinite takes the float64 vector function of the float64 kernel,
 * rounded once (fa_grad_rare_f32): a vector holding such a lane (rare: never for inputs of
 * moderate size) pays a round trip through the stack, and the result is blended per lane,
 * so every lane's bits are the same whatever its neighbours.  The limits at +-inf, 0 g and
 * NaN for an infinite g where f' = 0, are then those of the float64 kernels.
 *
 * "Measured max": the largest error in ULPs against the float64 kernel (itself within ~2
 * float64 ULP of mpmath, so the reference is exact to float32 precision) over every k-th
 * float32 bit pattern of the range (k per kernel below; the registry's `ill` intervals left
 * out), g = 1, on each variant (scalar, sse2 without FMA; avx2, avx512):
 *     PYTHONPATH=. python tools/fit/grad_f32_sweep.py <name> --step k
 * and tests/test_gradients.py (mpmath, g over 2^+-40) on every variant.
 */

/* ---- shared pieces ------------------------------------------------------------------------ */

/* -|x| clamped to [-87, 0] (NaN kept: max(c, v) returns v when v is NaN). */
FA_INLINE fa_simd_f32 fa_grad_negabs_f32(fa_simd_f32 x)
{
    return fa_max_f32(fa_set1_f32(-87.0f), fa_or_f32(x, fa_set1_f32(-0.0f)));
}

typedef fa_simd_f64 (*fa_grad_v_f64_fn)(fa_simd_f64, fa_simd_f64, const fa_params *);

/* y, with the lanes in `rare` replaced by the float64 vector function fn of (x, g) rounded
 * once to float32 (the rare path: a branch on the whole vector; the lanes go through the
 * stack, FA_LANES_F64 at a time). */
FA_INLINE fa_simd_f32 fa_grad_rare_f32(fa_mask_f32 rare, fa_simd_f32 y, fa_simd_f32 x, fa_simd_f32 g,
                                       const fa_params *p, fa_grad_v_f64_fn fn)
{
    if (FA_LIKELY(!fa_mask_any_f32(rare)))
        return y;
    float xb[FA_LANES_F32], gb[FA_LANES_F32], yb[FA_LANES_F32];
    fa_storeu_f32(xb, x);
    fa_storeu_f32(gb, g);
    for (int k = 0; k < FA_LANES_F32; k += FA_LANES_F64)
        fa_storeu_f64_as_f32(yb + k, fn(fa_loadu_f32_as_f64(xb + k), fa_loadu_f32_as_f64(gb + k), p));
    return fa_select_f32(rare, fa_loadu_f32(yb), y);
}

/* ---- sigmoid -------------------------------------------------------------------------------
 * sigmoid_grad(x, g) = e/(1 + e)^2 g, e = e^-|x| (symmetric, no cancellation, no overflow;
 * (1 + e)^2 = 1 + e (2 + e) in one FMA).  |x| > 87: the rare path.  sigmoid'(+-inf) = 0
 * (0 g: NaN for an infinite g, as torch).  Measured max (g = 1, every 211th float32 in
 * +-100): 2.27 ULP (scalar, sse2), 2.24 (avx2, avx512); registry bound 3. */
FA_INLINE fa_simd_f32 fa_sigmoid_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    fa_simd_f32 e = fa_exp_neg_normal_f32(fa_grad_negabs_f32(x));
    fa_simd_f32 d2 = fa_fmadd_f32(e, fa_add_f32(fa_set1_f32(2.0f), e), fa_set1_f32(1.0f));
    fa_simd_f32 y = fa_mul_f32(fa_div_f32(e, d2), g);
    return fa_grad_rare_f32(fa_cmpgt_f32(fa_abs_f32(x), fa_set1_f32(87.0f)), y, x, g, p, fa_sigmoid_grad_v_f64);
}
FA_BINARY_KERNEL(sigmoid_grad, f32, fa_sigmoid_grad_v_f32)

/* ---- tanh ----------------------------------------------------------------------------------
 * tanh_grad(x, g) = 4e/(1 + e)^2 g, e = e^(-2|x|) (-2|x| exact; no cancellation, where
 * g (1 - y^2) from the output would cancel).  |x| > 43.5: the rare path.  tanh'(+-inf) = 0.
 * Measured max 2.22 ULP, every variant (g = 1, every 211th float32 in +-100). */
FA_INLINE fa_simd_f32 fa_tanh_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    fa_simd_f32 z = fa_mul_f32(fa_set1_f32(-2.0f), fa_abs_f32(x));
    fa_simd_f32 e = fa_exp_neg_normal_f32(fa_max_f32(fa_set1_f32(-87.0f), z));
    fa_simd_f32 d2 = fa_fmadd_f32(e, fa_add_f32(fa_set1_f32(2.0f), e), fa_set1_f32(1.0f));
    fa_simd_f32 y = fa_mul_f32(fa_div_f32(fa_mul_f32(fa_set1_f32(4.0f), e), d2), g);
    return fa_grad_rare_f32(fa_cmplt_f32(z, fa_set1_f32(-87.0f)), y, x, g, p, fa_tanh_grad_v_f64);
}
FA_BINARY_KERNEL(tanh_grad, f32, fa_tanh_grad_v_f32)

/* ---- log_sigmoid, softplus (beta = 1) ------------------------------------------------------
 * sigmoid(w) g for w = -x (log_sigmoid) or w = x (softplus): with e = e^-|w|, g/(1 + e)
 * (w > 0) or g e/(1 + e) (no cancellation).  w < -87: the rare path (w -> +inf gives g;
 * -inf: 0 g).  Measured max 2.22 ULP, every variant (log_sigmoid and softplus with beta 1,
 * g = 1, every 211th float32 in +-100). */
FA_INLINE fa_simd_f32 fa_sigmoid_times_f32(fa_simd_f32 w, fa_simd_f32 g)
{
    fa_simd_f32 e = fa_exp_neg_normal_f32(fa_grad_negabs_f32(w));
    fa_simd_f32 num = fa_select_f32(fa_cmpgt_f32(w, fa_set1_f32(0.0f)), fa_set1_f32(1.0f), e);
    return fa_mul_f32(fa_div_f32(num, fa_add_f32(fa_set1_f32(1.0f), e)), g);
}

/* log_sigmoid_grad(x, g) = sigmoid(-x) g.  log_sigmoid'(-inf) = 1, (+inf) = 0. */
FA_INLINE fa_simd_f32 fa_log_sigmoid_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    fa_simd_f32 y = fa_sigmoid_times_f32(fa_neg_f32(x), g);
    return fa_grad_rare_f32(fa_cmpgt_f32(x, fa_set1_f32(87.0f)), y, x, g, p, fa_log_sigmoid_grad_v_f64);
}
FA_BINARY_KERNEL(log_sigmoid_grad, f32, fa_log_sigmoid_grad_v_f32)

/* softplus_grad(x, g; beta = 1, threshold) = sigmoid(x) g, or g where x > threshold (p->b:
 * the float32 threshold, rounded down by fa_k_softplus_grad_f32 so that x > it exactly where
 * x > the double threshold).  Any other beta: beta x is not exact in float32 and its rounding
 * would be amplified |beta x| times in the e^z tail, so the float64 kernel (a two-product)
 * runs.  softplus'(+inf) = 1, (-inf) = 0. */
FA_INLINE fa_simd_f32 fa_softplus1_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    fa_simd_f32 y = fa_sigmoid_times_f32(x, g);
    y = fa_select_f32(fa_cmpgt_f32(x, fa_set1_f32((float)p->b)), g, y);
    return fa_grad_rare_f32(fa_cmplt_f32(x, fa_set1_f32(-87.0f)), y, x, g, p, fa_softplus_grad_v_f64);
}
FA_BINARY_KERNEL(softplus1_grad, f32, fa_softplus1_grad_v_f32)
FA_BINARY_KERNEL_F32_VIA_F64(softplus_beta_grad, fa_softplus_grad_v_f64)

static void fa_k_softplus_grad_f32(const float *x, const float *g, float *y, ptrdiff_t n, const fa_params *p)
{
    if (p->a != 1.0) {
        fa_k_softplus_beta_grad_f32(x, g, y, n, p);
        return;
    }
    float t = (float)p->b;                          /* the largest float32 <= threshold */
    if ((double)t > p->b)
        t = nextafterf(t, -INFINITY);
    fa_params q = *p;
    q.b = t;
    fa_k_softplus1_grad_f32(x, g, y, n, &q);
}

/* ---- the ELU family ------------------------------------------------------------------------
 * g ypos for x > 0, else (c e^x) g with c = ch + cl a double constant split in two floats
 * (c e^x = e ch + e cl, one FMA: c's own rounding does not show).  x < -87: the rare path.
 * At x = 0 torch's side (c g); f'(-inf) = 0.  Measured max (g = 1, every 211th float32 in
 * +-100): elu (alpha 1) and celu (alpha 1) 0.93 ULP (scalar, sse2), 0.99 (avx2, avx512);
 * selu 1.80 (scalar, sse2), 1.55 (avx2, avx512). */
FA_INLINE fa_simd_f32 fa_elu_grad_core_f32(fa_simd_f32 x, fa_simd_f32 g, double c, fa_simd_f32 ypos)
{
    float ch = (float)c, cl = (float)(c - (double)ch);
    fa_simd_f32 z = fa_max_f32(fa_set1_f32(-87.0f), fa_min_f32(fa_set1_f32(0.0f), x));
    fa_simd_f32 e = fa_exp_neg_normal_f32(z);
    fa_simd_f32 ce = fa_fmadd_f32(e, fa_set1_f32(ch), fa_mul_f32(e, fa_set1_f32(cl)));
    return fa_select_f32(fa_cmpgt_f32(x, fa_set1_f32(0.0f)), ypos, fa_mul_f32(ce, g));
}

/* elu_grad(x, g; alpha) = g (x > 0), alpha e^x g. */
FA_INLINE fa_simd_f32 fa_elu_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    fa_simd_f32 y = fa_elu_grad_core_f32(x, g, p->a, g);
    return fa_grad_rare_f32(fa_cmplt_f32(x, fa_set1_f32(-87.0f)), y, x, g, p, fa_elu_grad_v_f64);
}
FA_BINARY_KERNEL(elu_grad, f32, fa_elu_grad_v_f32)

/* selu_grad(x, g) = scale g (x > 0, scale as two floats), (scale alpha) e^x g (torch's
 * constants as fa_selu_grad_v_f64). */
FA_INLINE fa_simd_f32 fa_selu_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    const double scale = 0x1.0cfabd6a91132p+0, scale_alpha = 0x1.c212cc640f031p+0;
    const float sh = (float)scale, sl = (float)(scale - (double)(float)scale);
    fa_simd_f32 ypos = fa_fmadd_f32(g, fa_set1_f32(sh), fa_mul_f32(g, fa_set1_f32(sl)));
    fa_simd_f32 y = fa_elu_grad_core_f32(x, g, scale_alpha, ypos);
    return fa_grad_rare_f32(fa_cmplt_f32(x, fa_set1_f32(-87.0f)), y, x, g, p, fa_selu_grad_v_f64);
}
FA_BINARY_KERNEL(selu_grad, f32, fa_selu_grad_v_f32)

/* celu_grad(x, g; alpha) = g (x > 0), e^(x/alpha) g.  alpha = 1: native (x/alpha exact);
 * any other alpha: x/alpha rounded in float32 would be amplified |x/alpha| times, so the
 * float64 kernel runs. */
FA_INLINE fa_simd_f32 fa_celu1_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    fa_simd_f32 y = fa_elu_grad_core_f32(x, g, 1.0, g);
    return fa_grad_rare_f32(fa_cmplt_f32(x, fa_set1_f32(-87.0f)), y, x, g, p, fa_celu_grad_v_f64);
}
FA_BINARY_KERNEL(celu1_grad, f32, fa_celu1_grad_v_f32)
FA_BINARY_KERNEL_F32_VIA_F64(celu_alpha_grad, fa_celu_grad_v_f64)

static void fa_k_celu_grad_f32(const float *x, const float *g, float *y, ptrdiff_t n, const fa_params *p)
{
    if (p->a == 1.0)
        fa_k_celu1_grad_f32(x, g, y, n, p);
    else
        fa_k_celu_alpha_grad_f32(x, g, y, n, p);
}

/* ---- silu ----------------------------------------------------------------------------------
 * silu_grad(x, g) = s (1 + x (1 - s)) g, s = sigmoid(x); with e = e^-|x|:
 *   x > 0:  (1 + e (1 + x)) / (1 + e)^2      (x clamped to 87 there: e (1 + x) < 2^-119)
 *   x <= 0: e (1 + x + e) / (1 + e)^2
 * x < -87: the rare path.  silu'(+inf) = 1, (-inf) = 0.
 * FMA variants only (avx2, avx512): measured max 3.22 ULP at x = -0.84291 (g = 1, every 13th
 * float32 in +-100; bound 4).  Without FMA the same scheme measured 4.13 ULP (the products
 * and (1 + e)^2 round once more each), so scalar and sse2 keep the float64 evaluation.
 * The root of f' at x = -1.27846 (registry `ill` [-1.30, -1.26]) needs no special case: the
 * bracket is formed from exact s and 1 + x + s, and the errors stay below 2.9 ULP outside it. */
#if FA_HAVE_FMA
FA_INLINE fa_simd_f32 fa_silu_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    const fa_simd_f32 one = fa_set1_f32(1.0f);
    fa_simd_f32 n, s;                                   /* e = s (1 + m), s = 2^n */
    fa_simd_f32 m = fa_expm1_reduced_f32(fa_exp_reduce_f32(fa_grad_negabs_f32(x), &n, &s));
    fa_simd_f32 e = fa_fmadd_f32(s, m, s);
    fa_simd_f32 opx = fa_add_f32(one, fa_min_f32(fa_set1_f32(87.0f), x));
    /* (1 + e)^2 = dh^2 + 2 dh dl, 1 + e = dh + dl from s, m: dh = (1 + s) + s m rounded once
     * (1 + s exact), dl its exact residual (s m exact); d2 then carries one rounding, where
     * 1 + e (2 + e) in [1, 4] lost 2^-23 of e in 2 + e */
    fa_simd_f32 sm = fa_mul_f32(s, m);
    fa_simd_f32 ops = fa_add_f32(one, s);
    fa_simd_f32 dh = fa_add_f32(ops, sm);
    fa_simd_f32 dl = fa_sub_f32(sm, fa_sub_f32(dh, ops));
    fa_simd_f32 d2 = fa_fmadd_f32(dh, dh, fa_mul_f32(fa_add_f32(dh, dh), dl));
    /* x <= 0: e (1 + x + e) = s (1 + m) B, B = (1 + x + s) + s m, each in one rounding from
     * the exact s and m (not from the rounded e) */
    fa_simd_f32 b = fa_fmadd_f32(s, m, fa_add_f32(opx, s));
    fa_simd_f32 bs = fa_mul_f32(b, s);
    fa_mask_f32 pos = fa_cmpgt_f32(x, fa_set1_f32(0.0f));
    fa_simd_f32 num = fa_select_f32(pos, fa_fmadd_f32(e, opx, one), fa_fmadd_f32(bs, m, bs));
    fa_simd_f32 y = fa_mul_f32(fa_div_f32(num, d2), g);
    return fa_grad_rare_f32(fa_cmplt_f32(x, fa_set1_f32(-87.0f)), y, x, g, p, fa_silu_grad_v_f64);
}
FA_BINARY_KERNEL(silu_grad, f32, fa_silu_grad_v_f32)
#else
FA_BINARY_KERNEL_F32_VIA_F64(silu_grad, fa_silu_grad_v_f64)
#endif

/* ---- gelu_tanh -----------------------------------------------------------------------------
 * gelu_tanh_grad(x, g) for float32, in double lanes like the forward (fa_gelu_tanh_v_f64w),
 * but in plain double arithmetic (w = c1 x + c3 x^3, the float64 exp of fa_math_f64.h)
 * instead of the float64 kernel's double-double w, exp and sums, which only a float64 result
 * needs: with s = sigmoid(w), w' = c1 + 3 c3 x^2, e = e^-|w| (constants as the float64 kernel):
 *   x >= 0:  (1 + e + e x w') / (1 + e)^2
 *   x < 0:   e (1 + e + x w') / (1 + e)^2
 * Each in double carries ~2^-50 relative error, ~2^-44 at the edges of the registry's `ill`
 * interval around the root at x = -0.7523 (1 + e + x w' cancels; 1.4/|bracket| amplifies),
 * far below the final rounding to float32.  x is clamped to [-100, 100] for w (e = 0
 * beyond).  f'(+inf) = 1, f'(-inf) = -0.0 (0 g: NaN for an infinite g). */
FA_INLINE fa_simd_f64 fa_gelu_tanh_grad_v_f64w(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    const fa_simd_f64 one = fa_set1_f64(1.0);
    const double c1 = 0x1.9884533d43651p+0, c3 = 0x1.2444f2a4d8b4bp-4;
    fa_simd_f64 xw = fa_min_f64(fa_set1_f64(100.0), fa_max_f64(fa_set1_f64(-100.0), x));
    fa_simd_f64 x2 = fa_mul_f64(xw, xw);
    fa_simd_f64 w = fa_mul_f64(xw, fa_fmadd_f64(fa_set1_f64(c3), x2, fa_set1_f64(c1)));
    fa_simd_f64 e = fa_exp_minus_abs_f64(w);
    fa_simd_f64 xdw = fa_mul_f64(xw, fa_fmadd_f64(fa_set1_f64(3.0 * c3), x2, fa_set1_f64(c1)));
    fa_simd_f64 ope = fa_add_f64(one, e);
    fa_mask_f64 pos = fa_cmpge_f64(x, fa_set1_f64(0.0));
    fa_simd_f64 num = fa_select_f64(pos, fa_fmadd_f64(e, xdw, ope), fa_mul_f64(e, fa_add_f64(ope, xdw)));
    fa_simd_f64 d2 = fa_fmadd_f64(e, fa_add_f64(fa_set1_f64(2.0), e), one);
    return fa_mul_f64(fa_div_f64(num, d2), g);
}
FA_BINARY_KERNEL_F32_VIA_F64(gelu_tanh_grad, fa_gelu_tanh_grad_v_f64w)

/* ---- gelu ----------------------------------------------------------------------------------
 * gelu_grad(x, g) = (Phi(x) + x phi(x)) g for float32, in double lanes with the forward's
 * float32-level pieces (fa_gelu_v_f64w: erfc(a/sqrt2)/2 = t P(t) e^(-a^2/2)/2, a = |x|,
 * t = 1/(1 + 0.3 a/sqrt2), P relative error 2^-30.4; e^(-a^2/2) by fa_exp_neg_f64w, 2^-27,
 * a^2/2 exact in double) instead of the float64 kernel's double-double erfcx and exp:
 *   B = t P(t)/2 - a/sqrt(2 pi);  gelu' = G B (x < 0), 1 - G B (x >= 0), G = e^(-a^2/2).
 * B cancels at the root x = -0.75179 (registry `ill` [-0.76, -0.745]); at the interval's
 * edges it amplifies P's error ~45 times (2^-24.9), under the final rounding's order.
 * x < -14.5 (P is fitted up to a = 14.6; a large g can still make G B g normal there, down
 * to a ~ 19.6): those vectors take the float64 kernel's function (rare).  f'(+inf) = 1,
 * f'(-inf) = -0.0 (0 g). */
FA_INLINE fa_simd_f64 fa_gelu_grad_v_f64w(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    static const double c[11] = {                      /* as fa_gelu_v_f64w */
        0x1.5ab0362967ad6p-3, 0x1.59778d2ed42ecp-3, 0x1.5727d00c21a18p-3, 0x1.c4e4d1c60388bp-4,
        0x1.0ffd25970c71ap-2, -0x1.1dfbee9533906p-2, 0x1.8910616deb718p-1, -0x1.aba117085125ep-1,
        0x1.7b93b6aecb738p-1, -0x1.53d20f682fd2bp-2, 0x1.c74ec0b88fb44p-5};
    fa_simd_f64 a = fa_min_f64(fa_set1_f64(40.0), fa_abs_f64(x));     /* NaN kept */
    fa_simd_f64 t = fa_div_f64(fa_set1_f64(1.0), fa_fmadd_f64(a, fa_set1_f64(0.3 * 0.70710678118654752440),
                                                              fa_set1_f64(1.0)));
    fa_simd_f64 q = fa_set1_f64(c[10]);
    for (int k = 9; k >= 0; k--)
        q = fa_fmadd_f64(q, t, fa_set1_f64(c[k]));
    /* t P(t)/2 - a/sqrt(2 pi): the forward's (t/2) P, then one FMA */
    fa_simd_f64 b = fa_fmadd_f64(a, fa_set1_f64(-0x1.9884533d43651p-2), fa_mul_f64(fa_mul_f64(t, fa_set1_f64(0.5)), q));
    fa_simd_f64 gauss = fa_exp_neg_f64w(fa_max_f64(fa_set1_f64(-700.0), fa_mul_f64(fa_mul_f64(a, a), fa_set1_f64(-0.5))));
    fa_simd_f64 gb = fa_mul_f64(gauss, b);
    fa_simd_f64 y = fa_select_f64(fa_cmplt_f64(x, fa_set1_f64(0.0)), gb, fa_sub_f64(fa_set1_f64(1.0), gb));
    y = fa_mul_f64(y, g);
    fa_mask_f64 deep = fa_cmplt_f64(x, fa_set1_f64(-14.5));
    if (FA_UNLIKELY(fa_mask_any_f64(deep)))
        y = fa_select_f64(deep, fa_gelu_grad_v_f64(x, g, p), y);
    return y;
}
FA_BINARY_KERNEL_F32_VIA_F64(gelu_grad, fa_gelu_grad_v_f64w)

/* ---- logit ---------------------------------------------------------------------------------
 * logit_grad(p, g; eps) = g/(p (1 - p)) in float32: 1 - p exact for p >= 1/2, else rounded
 * once; subnormal p gives p (1 - p) = p exactly; +-inf at p = 0 and 1.  eps None (p->a < 0):
 * NaN outside [0, 1].  eps given: 0 outside [eps, 1 - eps] (torch's logit_backward), with
 * the double bounds turned into float32 ones by fa_k_logit_grad_f32 (p->c = eps rounded up,
 * p->d = 1 - eps rounded down: p >= eps exactly where p >= p->c), as the forward's clamp.
 * Measured max 2.04 ULP, every variant (g = 1, every 7th float32 in [0, 1]). */
FA_INLINE fa_simd_f32 fa_logit_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *prm)
{
    fa_simd_f32 y = fa_div_f32(g, fa_mul_f32(x, fa_sub_f32(fa_set1_f32(1.0f), x)));
    if (prm->a >= 0)
        return fa_grad_where_f32(fa_mask_and_f32(fa_cmpge_f32(x, fa_set1_f32((float)prm->c)),
                                                 fa_cmple_f32(x, fa_set1_f32((float)prm->d))), y, x, g);
    fa_mask_f32 out = fa_mask_or_f32(fa_cmplt_f32(x, fa_set1_f32(0.0f)), fa_cmpgt_f32(x, fa_set1_f32(1.0f)));
    return fa_select_f32(out, fa_set1_f32(NAN), y);
}
FA_BINARY_KERNEL(logit_grad_bounded, f32, fa_logit_grad_v_f32)

static void fa_k_logit_grad_f32(const float *x, const float *g, float *y, ptrdiff_t n, const fa_params *p)
{
    fa_params q = *p;
    if (p->a >= 0) {
        double hi_d = 1.0 - p->a;
        float lo = (float)p->a, hi = (float)hi_d;
        if ((double)lo < p->a)           /* round up */
            lo = nextafterf(lo, INFINITY);
        if ((double)hi > hi_d)           /* round down */
            hi = nextafterf(hi, -INFINITY);
        q.c = lo;
        q.d = hi;
    }
    fa_k_logit_grad_bounded_f32(x, g, y, n, &q);
}
