/*
 * fa_sigmoid.h -- the x*sigmoid(w) family, forwards and gradients, float32 and float64:
 *   sigmoid(x)   = 1/(1 + e^-x)                      (x*sigmoid(w) with x = 1, w = x)
 *   silu(x)      = x sigmoid(x)                      (w = x)
 *   tanh(x)      = 2 sigmoid(2x) - 1                 (float64 on expm1(-2|x|); float32 a fit)
 *   gelu_tanh(x) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3)   (torch's 'tanh' gelu)
 * and, at the end, sigmoid's and tanh's gradients from their output y (no exp).
 * Shared math: one exp per element (math/: e^-w, or e = e^-|w| in (0, 1]), the ratio
 * x/(1 + e^-w) with a rare branch where e^-w overflows and the result nears the
 * subnormals (fa_x_sigmoid_f64; the float32 sigmoid and silu take the same two formulas),
 * and for the gradients e/(1 + e)^2 with the deep tail through fa_grad_exp_f64 (math/).
 * Errors quoted: float64 "Measured max" = the largest error in ULPs over the whole range, the
 * same or nearly on every variant (scalar, sse2 without FMA; avx2, avx512), from
 *     PYTHONPATH=. python tools/ulp_report.py --dtype float64 --n 20000 <name>
 * plus dense sweeps of the tails; float32 S = tools/ulp_report.py --dtype float32 --n 8000
 * <name> (mpmath), D = every 16th float32 bit pattern (32nd where marked D(32)), both signs,
 * against a float64 reference (NumPy/SciPy formulas in double): D is the bound quoted.
 * Each function: float32 forward, float64 forward, float64 gradient, then its registration
 * lines (loops: kernels/fa_map.h); at the end, the float32 gradients in float32 lanes (a
 * float32 gradient registered "_F32_VIA_F64" evaluates the float64 vector function on the
 * widened input and rounds once).  Accuracy bounds: docs/SPEC.md
 * section 6; special values: section 4.  Included once per ISA (fa_isa_body.h), after math/.
 */

/* x*sigmoid(w) for x of the sign of w (wl: low part of w), the shared tail of silu and
 * gelu_tanh (opts: FA_EXP_LOW if wl is used): x/(1 + E), E = e^-w without the table's
 * low part (FA_EXP_NO_TLO: 11% faster in cache, E within 1 ULP).
 * Below w = -708, E overflows and the result (x*e^w) is near the subnormals, so a vector
 * holding such a lane (rare: branch) recomputes it as x*e/(1 + e), e = e^w, with x*e
 * formed on e's mantissa and scaled after the division: accurate down to the smallest
 * normal; x below -760 (and -inf) gives -0.0 there, as the exact value rounds. */
FA_INLINE fa_simd_f64 fa_x_sigmoid_f64(fa_simd_f64 x, fa_simd_f64 w, fa_simd_f64 wl, int opts)
{
    const fa_simd_f64 one = fa_set1_f64(1.0);
    fa_simd_f64 t, n;
    /* w >= -708 in the general formula (x/(1 + e^-w) stays normal); below, x e^w rounded
     * once from em (1 + e^w is 1 there).  No instruction has a subnormal operand or result
     * (a microcode assist each on Intel cores with FTZ off: 2^20 float64 sigmoid with 10%
     * -inf took 18.7 ms against 2.0 for N(0, 3)) */
    fa_simd_f64 em = fa_exp_minus_f64(fa_max_f64(fa_set1_f64(-708.0), w), wl, opts | FA_EXP_NO_TLO, &t, &n);
    fa_simd_f64 y = fa_div_f64(x, fa_add_f64(one, fa_scale_exp_f64(em, t, n)));
    fa_mask_f64 deep = fa_cmplt_f64(w, fa_set1_f64(-708.0));
    if (fa_mask_any_f64(deep)) {
        /* deep lanes all below w = -760 (-inf entries, masked logits): x e^w rounds to 0 there
         * (|x| <= |w| or x = 1; gelu_tanh's |x| < |w|), 0 of x's sign, as below: no second exp
         * (2^16 float64 sigmoid with 10% -inf 56.7 -> 34.8 us, N(0, 3) 33; gelu_tanh uniform +-800
         * 142 -> 96; Intel Xeon, medians of 5 interleaved builds) */
        if (!fa_mask_any_f64(fa_mask_and_f64(deep, fa_cmpge_f64(w, fa_set1_f64(-760.0)))))
            return fa_select_f64(deep, fa_select_f64(fa_cmplt_f64(x, fa_set1_f64(0.0)), fa_set1_f64(-0.0),
                                                     fa_set1_f64(0.0)), y);
        em = fa_exp_neg_f64(w, wl, opts, &t, &n);
        fa_simd_f64 xc = fa_max_f64(fa_set1_f64(-760.0), x);
        y = fa_select_f64(deep, fa_scale_exp_f64(fa_mul_f64(xc, em), t, n), y);
    }
    return y;
}

/* sigmoid(x) = 1/(1+e^-x), two formulas (the structure of silu below):
 *  x >= -87: 1/(1 + e^-x), one exp and one division, no select (e^-x <= e^87 < 2^126; -x
 *    is clamped to >= -80, where 1 + e^-x rounds to 1 already).
 *  x < -87: e/(1 + e) with e = e^x (subnormal or flushed: +0 for x < -87.3 without
 *    vscalefps, which docs/SPEC.md section 6 counts within one smallest normal).
 * A vector takes the second only when one of its lanes needs it (blended, so every lane's
 * bits are the same whatever its neighbours).  +inf gives 1, -inf +0, NaN NaN.  ~12% faster
 * than the former e^-|x| form with its sign select (2^20 elements, avx512: 134 vs 143 us).
 * Max error D 2.34 ULP (all variants; every 16th float32 bit pattern in +-104 against
 * double); S 1.88 (tools/ulp_report.py --n 20000). */
FA_INLINE fa_simd_f32 fa_sigmoid_v_f32(fa_simd_f32 x, const fa_params *p)
{
    (void)p;
    const fa_simd_f32 lim = fa_set1_f32(-87.0f), one = fa_set1_f32(1.0f);
    fa_simd_f32 n, s;  /* e^-x = s (1 + m) */
    fa_mask_f32 deep = fa_cmplt_f32(x, lim);
    if (FA_LIKELY(!fa_mask_any_f32(deep))) {
        fa_simd_f32 z = fa_max_f32(fa_set1_f32(-80.0f), fa_neg_f32(x));
        fa_simd_f32 m = fa_expm1_reduced_f32(fa_exp_reduce_f32(z, &n, &s));
        return fa_div_f32(one, fa_fmadd_f32(s, m, fa_add_f32(s, one)));
    }
    /* x < -87: e^x/(1 + e^x) rounds to e^x (e^x < 2^-125.5), which fa_exp_neg_f32 builds
     * without a subnormal intermediate; the other lanes' ratio from max(x, -87), whose
     * 1/(1 + e^-x) stays normal: no instruction here has a subnormal operand or result (a
     * microcode assist each on Intel cores with FTZ off: 2^20 lanes with 10% -inf 5.5 ms,
     * x uniform in (-120, 0) 9.1 ms, against 0.35 for N(0, 3)) */
    fa_simd_f32 z = fa_max_f32(fa_set1_f32(-80.0f), fa_neg_f32(fa_max_f32(lim, x)));
    fa_simd_f32 m = fa_expm1_reduced_f32(fa_exp_reduce_f32(z, &n, &s));
    const fa_simd_f32 ratio = fa_div_f32(one, fa_fmadd_f32(s, m, fa_add_f32(s, one)));
    /* deep lanes all below -104 (e^x < 2^-150 rounds to +0: -inf entries, masked logits):
     * no second exp (2^16 lanes with 10% -inf 30.8 -> 16.1 us, N(0, 3) 14; Intel Xeon) */
    if (!fa_mask_any_f32(fa_mask_and_f32(deep, fa_cmpge_f32(x, fa_set1_f32(-104.0f)))))
        return fa_select_f32(deep, fa_set1_f32(0.0f), ratio);
    fa_simd_f32 q, e = fa_exp_neg_f32(fa_max_f32(fa_set1_f32(-110.0f), x), &n, &q);
    return fa_select_f32(deep, e, ratio);
}
FA_UNARY_KERNEL(sigmoid, f32, fa_sigmoid_v_f32)

/*
 * sigmoid(x) = 1/(1 + E), E = e^-x (fa_x_sigmoid_f64 with x = 1; below x = -708 the
 * rare branch gives e^x/(1 + e^x), subnormal results rounded once).
 * Measured max 2.11 ULP.  sigmoid(+inf) = 1, sigmoid(-inf) = 0; NaN -> NaN.
 */
FA_INLINE fa_simd_f64 fa_sigmoid_v_f64(fa_simd_f64 x, const fa_params *p)
{
    (void)p;
    return fa_x_sigmoid_f64(fa_set1_f64(1.0), x, fa_set1_f64(0.0), 0);
}

/*
 * sigmoid_grad(x, g) = sigmoid'(x) g = e/(1 + e)^2 g, e = e^-|x| (symmetric in x: no
 * cancellation, no overflow, e/(1 + e)^2 <= 1/4; torch's g s (1 - s) cancels for large x),
 * (1 + e)^2 = 1 + e (2 + e) in one FMA.  |x| > 708, where e nears or enters the
 * subnormals (a rare branch): (e1 g) e1 with e1 = e^(-|x|/2) normal, so a large g still
 * gets its normal result; |x| = inf gives 0 g (NaN for an infinite g, as torch).
 * float32: fa_sigmoid_grad_v_f32 (end of this file); this function serves its rare lanes.
 * Measured max against mpmath (ulp.sweep, 20000 points, g = 1 and g = +-2^[-40, 40]):
 * float64 2.04 ULP (scalar, sse2) / 1.80 (avx2, avx512) for g = 1, 2.38 with g (all).
 * NaN in x or g -> NaN.
 */
FA_INLINE fa_simd_f64 fa_sigmoid_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    const fa_simd_f64 one = fa_set1_f64(1.0);
    fa_simd_f64 e = fa_exp_minus_abs_grad_f64(x);
    fa_simd_f64 d2 = fa_fmadd_f64(e, fa_add_f64(fa_set1_f64(2.0), e), one);   /* (1 + e)^2 */
    /* g (e/d2): c = 1 (d2 = 1 wherever fa_grad_exp_f64's deep branch takes over) */
    return fa_grad_exp_f64(g, one, fa_div_f64(e, d2), fa_neg_abs_f64(x), fa_set1_f64(0.0), 0);
}

FA_UNARY_KERNEL(sigmoid, f64, fa_sigmoid_v_f64)
FA_BINARY_KERNEL(sigmoid_grad, f64, fa_sigmoid_grad_v_f64)

/* silu(x) = x*sigmoid(x), two formulas:
 *  x >= -87: x/(1 + e^-x), one exp and one division, no select: e^-x is at most e^87 <
 *    2^126 (2^n from the bits), and -x is clamped to >= -80 (x above 80 gives x/1 = x, the
 *    rounded silu(x), on any ISA without flushing e^-x).
 *  x < -87: silu(x) = x e^x to float32 precision (1 + e^x rounds to 1), with e^x = 2^n (1 + q)
 *    formed as (x + x q) 2^n, scaled by fa_ldexp_neg_f32 (exact unless the product is
 *    subnormal), so it stays accurate where e^x alone is already subnormal ([-92, -87.3]
 *    still has a normal result); x is clamped to >= -110 there (silu(-110) rounds to -0.0).
 * A vector takes the second formula only when one of its lanes needs it (never for
 * standard-normal inputs): both are computed and blended, so every lane's bits are the same
 * whatever its neighbours.  The first alone is ~22% faster than the former single formula
 * (x e^x/(1 + e^x) on x < 0: sign select, 2^n scaling of the numerator; 2^20 elements,
 * avx512: 126 vs 163 us); vectors of x < -87 only are no slower than before.
 * silu(-inf) = -0.0, silu(-0.0) = -0.0 (-0.0/2), silu(+inf) = +inf, NaN -> NaN.
 * Max error D 2.31 ULP (all variants; at x = -16.77), S 2.05 (--n 20000). */
FA_INLINE fa_simd_f32 fa_silu_ratio_f32(fa_simd_f32 x)
{
    fa_simd_f32 n, s;  /* e^-x = s (1 + m) */
    fa_simd_f32 z = fa_max_f32(fa_set1_f32(-80.0f), fa_neg_f32(x));
    fa_simd_f32 m = fa_expm1_reduced_f32(fa_exp_reduce_f32(z, &n, &s));
    return fa_div_f32(x, fa_fmadd_f32(s, m, fa_add_f32(s, fa_set1_f32(1.0f))));
}
FA_INLINE fa_simd_f32 fa_silu_deep_f32(fa_simd_f32 x)
{
    fa_simd_f32 n, s;  /* e^z = 2^n (1 + q) */
    fa_simd_f32 z = fa_min_f32(fa_set1_f32(-87.0f), fa_max_f32(fa_set1_f32(-110.0f), x));
    fa_simd_f32 q = fa_expm1_reduced_f32(fa_exp_reduce_f32(z, &n, &s));
    return fa_ldexp_neg_f32(fa_fmadd_f32(z, q, z), n);
}
FA_INLINE fa_simd_f32 fa_silu_v_f32(fa_simd_f32 x, const fa_params *p)
{
    (void)p;
    const fa_simd_f32 lim = fa_set1_f32(-87.0f);
    fa_mask_f32 deep = fa_cmplt_f32(x, lim);
    if (FA_LIKELY(!fa_mask_any_f32(deep)))
        return fa_silu_ratio_f32(x);
    const fa_simd_f32 ratio = fa_silu_ratio_f32(fa_max_f32(lim, x));
    /* deep lanes all below -110 (x e^x rounds to -0.0: -inf entries, masked logits): no
     * second exp (2^16 lanes with 10% -inf 29.0 -> 16.2 us, N(0, 3) 14; Intel Xeon) */
    if (!fa_mask_any_f32(fa_mask_and_f32(deep, fa_cmpge_f32(x, fa_set1_f32(-110.0f)))))
        return fa_select_f32(deep, fa_set1_f32(-0.0f), ratio);
    return fa_select_f32(deep, fa_silu_deep_f32(x), ratio);
}
FA_UNARY_KERNEL(silu, f32, fa_silu_v_f32)

/*
 * silu(x) = x*sigmoid(x) (fa_x_sigmoid_f64 with w = x).  Measured max 1.79 ULP.
 * silu(-inf) = -0.0, silu(+inf) = +inf, silu(-0.0) = -0.0.
 */
FA_INLINE fa_simd_f64 fa_silu_v_f64(fa_simd_f64 x, const fa_params *p)
{
    (void)p;
    return fa_x_sigmoid_f64(x, x, fa_set1_f64(0.0), 0);
}

/*
 * silu_grad(x, g) = silu'(x) g = s (1 + x (1 - s)) g, s = sigmoid(x), with e = e^-|x|:
 *   x > 0:  (1 + e (1 + x)) / (1 + e)^2          (all terms positive)
 *   x <= 0: e (1 + x + e) / (1 + e)^2           (e through fa_grad_exp_f64)
 * x clamped to [-800, 800] in the bracket (e = 0 beyond).  f' has a root at x = -1.27846
 * where 1 + x + e cancels (ill-conditioned there).  silu'(+inf) = 1, silu'(-inf) = -0.0.
 */
FA_INLINE fa_simd_f64 fa_silu_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    const fa_simd_f64 one = fa_set1_f64(1.0), zero = fa_set1_f64(0.0);
    fa_simd_f64 e = fa_exp_minus_abs_grad_f64(x);
    fa_simd_f64 xc = fa_min_f64(fa_set1_f64(800.0), fa_max_f64(fa_set1_f64(-800.0), x));
    fa_simd_f64 opx = fa_add_f64(one, xc);
    fa_simd_f64 d2 = fa_fmadd_f64(e, fa_add_f64(fa_set1_f64(2.0), e), one);      /* (1 + e)^2 */
    fa_mask_f64 pos = fa_cmpgt_f64(x, zero);
    fa_simd_f64 num = fa_select_f64(pos, fa_fmadd_f64(e, opx, one), fa_add_f64(opx, e));
    return fa_grad_exp_f64(g, fa_div_f64(num, d2), fa_select_f64(pos, one, e),
                           fa_select_f64(pos, zero, fa_neg_abs_f64(x)), zero, 0);
}

FA_UNARY_KERNEL(silu, f64, fa_silu_v_f64)
FA_BINARY_KERNEL(silu_grad, f64, fa_silu_grad_v_f64)

/* tanh(x) = 2GQ/(Q^2 + G^2), G/Q ~ t = tanh(x/2) (the doubling formula 2t/(1 + t^2)), with
 * G = x P(w), Q(w), w = x^2, P of degree 2 and Q of degree 3, x clamped to +-C = 9.02 + 2 ulps
 * (float32 tanh rounds to +-1 from 9.011 on; C is the first float32 from 9.02 on where the
 * formula gives exactly 1, with and without FMA).  A relative error e in G/Q reaches the
 * result as e/cosh(x), so at large |x| neither the fit nor the roundings of G and Q matter,
 * where a plain x P/Q rational piles up Horner roundings at w ~ 81 (5-6 ULP measured).
 * P, Q: rational minimax (Loeb + Lawson) of tanh(x/2)/x on [0, C] weighted by 1/cosh(x),
 * against mpmath, scaled by K = 237/256 (P(0) = K, Q(0) = 2K: the formula is homogeneous in
 * G, Q; K just below 1 puts Q and Q^2 + G^2 just below a power of 2 near 0, where rounding
 * costs least; K picked by exhaustive runs), rounded to float32 one at a time with refits:
 * 2^-26.9 relative in exact arithmetic.  tools/fit/fit_tanh_f32.py re-derives P, Q, C.
 * One division and 13 other operations.  Without FMA, Q*Q + G*G (two roundings) can fall
 * below 2GQ, so scalar/SSE2 clamp y to [-1, 1]; with FMA |y| <= 1 holds (checked on every
 * input).  tanh(+-0) = +-0, tanh(+-inf) = +-1, NaN -> NaN (the clamp keeps it).
 * Max error over EVERY float32 in [0, 9.1] against float64 np.tanh (odd symmetry exact,
 * |x| > 9.1 all +-1): 3.00 ULP (avx2, avx512), 3.47 (scalar, sse2):
 *   PYTHONPATH=. python tools/fit/fit_tanh_f32.py --exhaustive
 * S (tools/ulp_report.py, mpmath): 2.27 (avx2, avx512), 2.51 (scalar, sse2). */
FA_INLINE fa_simd_f32 fa_tanh_v_f32(fa_simd_f32 x, const fa_params *p)
{
    (void)p;
    fa_simd_f32 c = fa_set1_f32(0x1.20a3dcp+3f);
    x = fa_min_f32(c, fa_max_f32(fa_neg_f32(c), x));   /* NaN kept (see fa_min/fa_max) */
    fa_simd_f32 w = fa_mul_f32(x, x);
    fa_simd_f32 g = fa_fmadd_f32(fa_set1_f32(0x1.bbf492p-14f), w, fa_set1_f32(0x1.c3aa02p-6f));
    g = fa_mul_f32(x, fa_fmadd_f32(g, w, fa_set1_f32(0x1.da0000p-1f)));
    fa_simd_f32 q = fa_fmadd_f32(fa_set1_f32(0x1.31d704p-19f), w, fa_set1_f32(0x1.24e84ap-9f));
    q = fa_fmadd_f32(q, w, fa_set1_f32(0x1.acea78p-3f));
    q = fa_fmadd_f32(q, w, fa_set1_f32(0x1.da0000p+0f));
    fa_simd_f32 den = fa_fmadd_f32(q, q, fa_mul_f32(g, g));
    fa_simd_f32 y = fa_div_f32(fa_mul_f32(fa_add_f32(g, g), q), den);
#if !FA_HAVE_FMA
    /* Q*Q + G*G rounded twice can fall below 2GQ near |y| = 1: keep |y| <= 1 */
    y = fa_min_f32(fa_set1_f32(1.0f), fa_max_f32(fa_set1_f32(-1.0f), y));
#endif
    return y;
}
FA_UNARY_KERNEL(tanh, f32, fa_tanh_v_f32)

/*
 * tanh(x) = sign(x) * |em/(2 + em)|, em = expm1(-2|x|) in (-1, 0] (no overflow, no
 * cancellation).  Measured max 2.4 ULP.  tanh(+-inf) = +-1, tanh(-0.0) = -0.0.
 */
FA_INLINE fa_simd_f64 fa_tanh_v_f64(fa_simd_f64 x, const fa_params *p)
{
    (void)p;
    fa_simd_f64 ax = fa_abs_f64(x);
    fa_simd_f64 em = fa_expm1_neg_f64(fa_mul_f64(fa_set1_f64(-2.0), ax));
    fa_simd_f64 t = fa_abs_f64(fa_div_f64(em, fa_add_f64(fa_set1_f64(2.0), em)));
    return fa_or_f64(t, fa_xor_f64(x, ax));                        /* x ^ |x|: sign of x */
}

/*
 * tanh_grad(x, g) = (1 - tanh^2 x) g = 4e/(1 + e)^2 g, e = e^(-2|x|) (no cancellation,
 * no overflow; g (1 - y^2) from the output cancels for large |x|).  tanh'(+-inf) = 0.
 */
FA_INLINE fa_simd_f64 fa_tanh_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    fa_simd_f64 z = fa_mul_f64(fa_set1_f64(-2.0), fa_abs_f64(x));
    fa_simd_f64 e = fa_exp_minus_abs_grad_f64(z);
    fa_simd_f64 d2 = fa_fmadd_f64(e, fa_add_f64(fa_set1_f64(2.0), e), fa_set1_f64(1.0));   /* (1 + e)^2 */
    return fa_grad_exp_f64(g, fa_div_f64(fa_set1_f64(4.0), d2), e, z, fa_set1_f64(0.0), 0);
}

FA_UNARY_KERNEL(tanh, f64, fa_tanh_v_f64)
FA_BINARY_KERNEL(tanh_grad, f64, fa_tanh_grad_v_f64)

/* gelu 'tanh' = x/2 (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3),
 * in double: 2u is exact to 2^-50, so the e^(2u) tail does not amplify its rounding;
 * then as sigmoid: x num/(1 + e), e = e^-|2u| (clamped to e^-120), num = e (u < 0) or 1.
 * x < -1e4 behaves as -1e4 in the numerator (result -0.0, so gelu(-inf) = -0.0);
 * gelu(+inf) = +inf, gelu(-0.0) = -0.0, NaN -> NaN.
 * Max error (bound 8) D(32) 0.57 ULP, S 0.54, all variants. */
FA_INLINE fa_simd_f64 fa_gelu_tanh_v_f64w(fa_simd_f64 x, const fa_params *p)
{
    (void)p;
    const double a = 1.5957691216057307117597842397375;   /* 2 sqrt(2/pi) */
    fa_simd_f64 v = fa_mul_f64(x, fa_fmadd_f64(fa_mul_f64(x, x), fa_set1_f64(a * 0.044715), fa_set1_f64(a)));
    fa_simd_f64 e = fa_exp_neg_f64w(fa_max_f64(fa_set1_f64(-120.0), fa_or_f64(v, fa_set1_f64(-0.0))));
    fa_simd_f64 xe = fa_mul_f64(fa_max_f64(fa_set1_f64(-1e4), x), e);
    fa_simd_f64 num = fa_select_f64(fa_cmplt_f64(v, fa_set1_f64(0.0)), xe, x);
    return fa_div_f64(num, fa_add_f64(e, fa_set1_f64(1.0)));
}
FA_UNARY_KERNEL_F32_VIA_F64(gelu_tanh, fa_gelu_tanh_v_f64w)

/* w = 2u = x (c1 + c3 x^2) as the double-double wh + wl, for the float64 gelu_tanh and
 * its gradient: c1 = 2 sqrt(2/pi), c3 = c1 * 0.044715 with 0.044715 the double nearest it (as
 * torch multiplies), each hi + lo from mpmath (tools/fit/check_constants.py); x clamped to
 * [-100, 100] (xw).  The gradient reuses xw, x2h = fl(x^2) and c3 x^2 = bh + bl. */
#define FA_GELU_TANH_C1H_F64 0x1.9884533d43651p+0
#define FA_GELU_TANH_C1L_F64 -0x1.cbc0d30ebfd15p-54
#define FA_GELU_TANH_C3H_F64 0x1.2444f2a4d8b4bp-4
#define FA_GELU_TANH_C3L_F64 -0x1.3023b0e5fbc6ep-58
typedef struct { fa_simd_f64 xw, x2h, bh, bl, wh, wl; } fa_gelu_tanh_w_f64_t;
FA_INLINE fa_gelu_tanh_w_f64_t fa_gelu_tanh_w_f64(fa_simd_f64 x)
{
    const fa_simd_f64 c1h = fa_set1_f64(FA_GELU_TANH_C1H_F64), c1l = fa_set1_f64(FA_GELU_TANH_C1L_F64);
    const fa_simd_f64 c3h = fa_set1_f64(FA_GELU_TANH_C3H_F64), c3l = fa_set1_f64(FA_GELU_TANH_C3L_F64);
    fa_gelu_tanh_w_f64_t w;
    fa_simd_f64 x2l, sl, sh;
    w.xw = fa_min_f64(fa_set1_f64(100.0), fa_max_f64(fa_set1_f64(-100.0), x));
    w.x2h = fa_two_prod_f64(w.xw, w.xw, &x2l);
    w.bh = fa_two_prod_f64(c3h, w.x2h, &w.bl);                                /* c3*x^2 */
    w.bl = fa_add_f64(w.bl, fa_fmadd_f64(c3h, x2l, fa_mul_f64(c3l, w.x2h)));
    sh = fa_two_sum_f64(c1h, w.bh, &sl);                                      /* c1 + c3*x^2 */
    sl = fa_add_f64(sl, fa_add_f64(c1l, w.bl));
    w.wh = fa_two_prod_f64(w.xw, sh, &w.wl);                                  /* x*(c1 + c3*x^2) */
    w.wl = fa_fmadd_f64(w.xw, sl, w.wl);
    return w;
}

/*
 * gelu_tanh(x) = x/2*(1 + tanh(u)) = x*sigmoid(w), w = 2u = c1*x + c3*x^3,
 * c1 = 2*sqrt(2/pi), c3 = c1*0.044715 with 0.044715 the double nearest it, as torch multiplies
 * (each as a double-double from mpmath; tools/fit/check_constants.py checks them).  w is computed in double-double (two-products, TwoSum): in the tail
 * sigmoid(w) ~ e^w turns an absolute error of w into a relative one, and |w| reaches
 * 708 there.  x is clamped to [-100, 100] for w only (w beyond +-70000 changes nothing;
 * x^3 cannot overflow).  Measured max 1.97 ULP.  gelu_tanh(-inf) = -0.0,
 * (+inf) = +inf, (-0.0) = -0.0.
 */
FA_INLINE fa_simd_f64 fa_gelu_tanh_v_f64(fa_simd_f64 x, const fa_params *p)
{
    (void)p;
    fa_gelu_tanh_w_f64_t w = fa_gelu_tanh_w_f64(x);
    return fa_x_sigmoid_f64(x, w.wh, w.wl, FA_EXP_LOW);
}

/*
 * gelu_tanh_grad(x, g) = (s + x s (1 - s) w') g with s = sigmoid(w), w = 2u as the forward
 * (double-double, x clamped to [-100, 100]), w' = c1 + 3 c3 x^2; with e = e^-|w|:
 *   x >= 0:  (1 + e + e x w') / (1 + e)^2
 *   x < 0:   e (1 + e + x w') / (1 + e)^2     (e through fa_grad_exp_f64)
 * f' has a root at x = -0.75 where 1 + e + x w' cancels (ill-conditioned there).
 * f'(+inf) = 1, f'(-inf) = -0.0.
 */
FA_INLINE fa_simd_f64 fa_gelu_tanh_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    const fa_simd_f64 one = fa_set1_f64(1.0), zero = fa_set1_f64(0.0);
    const fa_simd_f64 c1h = fa_set1_f64(FA_GELU_TANH_C1H_F64), c3h = fa_set1_f64(FA_GELU_TANH_C3H_F64);
    fa_gelu_tanh_w_f64_t w = fa_gelu_tanh_w_f64(x);
    const fa_simd_f64 xw = w.xw, x2h = w.x2h, bh = w.bh, bl = w.bl, wh = w.wh, wl = w.wl;
    fa_simd_f64 nw = fa_neg_abs_f64(wh);
    fa_simd_f64 nwl = fa_select_f64(fa_cmpge_f64(wh, zero), fa_neg_f64(wl), wl);
    fa_simd_f64 t, n, el;
    fa_mask_f64 far = fa_cmplt_f64(nw, fa_set1_f64(FA_GRAD_DEEP_F64));   /* e normal (fa_grad_exp_f64) */
    fa_simd_f64 em = fa_exp_neg_dd_f64(fa_max_f64(fa_set1_f64(FA_GRAD_DEEP_F64), nw),
                                       fa_select_f64(far, zero, nwl), FA_EXP_LOW | FA_EXP_M1, &t, &n, &el);
    fa_simd_f64 e = fa_scale_exp_f64(em, t, n);
    fa_simd_f64 xdw = fa_mul_f64(xw, fa_fmadd_f64(fa_mul_f64(fa_set1_f64(3.0), c3h), x2h, c1h));  /* x w' */
    fa_simd_f64 ope = fa_add_f64(one, e);
    /* x < 0: 1 + e + x w' = 1 + e + w + 2 (c3 x^2) x summed as a double-double (it cancels
     * at the root; e's low part from the exp) */
    fa_simd_f64 pl, ph = fa_two_prod_f64(bh, xw, &pl);                /* c3 x^3 */
    pl = fa_fmadd_f64(bl, xw, pl);
    fa_simd_f64 s1l, s1 = fa_two_sum_f64(wh, fa_add_f64(ph, ph), &s1l);
    fa_simd_f64 s2l, s2 = fa_two_sum_f64(s1, e, &s2l);
    fa_simd_f64 s3l, s3 = fa_two_sum_f64(s2, one, &s3l);
    fa_simd_f64 lo = fa_add_f64(fa_add_f64(s1l, s2l), fa_add_f64(s3l, wl));
    lo = fa_add_f64(lo, fa_add_f64(fa_scale_exp_f64(el, t, n), fa_add_f64(pl, pl)));
    fa_mask_f64 pos = fa_cmpge_f64(x, zero);
    fa_simd_f64 num = fa_select_f64(pos, fa_fmadd_f64(e, xdw, ope), fa_add_f64(s3, lo));
    fa_simd_f64 d2 = fa_fmadd_f64(e, fa_add_f64(fa_set1_f64(2.0), e), one);
    return fa_grad_exp_f64(g, fa_div_f64(num, d2), fa_select_f64(pos, one, e), fa_select_f64(pos, zero, nw),
                           fa_select_f64(pos, zero, nwl), FA_EXP_LOW);
}

FA_UNARY_KERNEL(gelu_tanh, f64, fa_gelu_tanh_v_f64)
FA_BINARY_KERNEL(gelu_tanh_grad, f64, fa_gelu_tanh_grad_v_f64)

/*
 * ---- sigmoid and tanh: the gradients from the forward's OUTPUT y (kind FA_BINARY: x = y,
 * g = grad_output; torch's sigmoid_backward and tanh_backward), both dtypes in their own lanes.  Plain arithmetic, no exp: the cheap
 * backward for code that keeps the forward's output.
 *
 *   sigmoid_grad_from_output  y (1 - y) g     1 - y is exact for y in [1/2, 2] (Sterbenz) and
 *                                              within 1 ULP below: <= 2 ULP of the exact
 *                                              y (1 - y) (measured 1.38 float32, 1.25 float64)
 *   tanh_grad_from_output     (1 - y)(1 + y) g  each factor exact or within 1 ULP: <= 3 ULP
 *                                              (measured 1.5 both dtypes), no cancellation
 *                                              near |y| = 1 as 1 - y*y would have
 * Measured on every variant over every binade of y's range (a 16-per-binade sweep against
 * mpmath, 2026-12-04; tests/test_grad_from_output.py asserts the bounds), g = ones; times g
 * half an ULP more.
 * The error is against the exact function of the GIVEN y: y carries the forward's rounding,
 * which the derivative from y amplifies where it is ill-conditioned (y near 1 for sigmoid,
 * |y| near 1 for tanh: x of a few units and beyond); the x-based sigmoid_grad / tanh_grad are
 * accurate there.  Any y is accepted (the polynomial, NaN propagating); g NULL = ones.
 */
#define FA_GRAD_FROM_OUTPUT(T)                                                             \
FA_INLINE fa_simd_##T fa_sigmoid_grad_from_output_v_##T(fa_simd_##T y, fa_simd_##T g,     \
                                                         const fa_params *p) {             \
    (void)p;                                                                               \
    return fa_mul_##T(fa_mul_##T(y, fa_sub_##T(fa_set1_##T(1), y)), g);                    \
}                                                                                          \
FA_INLINE fa_simd_##T fa_tanh_grad_from_output_v_##T(fa_simd_##T y, fa_simd_##T g,        \
                                                      const fa_params *p) {                \
    (void)p;                                                                               \
    const fa_simd_##T one = fa_set1_##T(1);                                                \
    return fa_mul_##T(fa_mul_##T(fa_sub_##T(one, y), fa_add_##T(one, y)), g);              \
}                                                                                          \
FA_BINARY_KERNEL(sigmoid_grad_from_output, T, fa_sigmoid_grad_from_output_v_##T)           \
FA_BINARY_KERNEL(tanh_grad_from_output, T, fa_tanh_grad_from_output_v_##T)

FA_GRAD_FROM_OUTPUT(f32)
FA_GRAD_FROM_OUTPUT(f64)

/* ==== float32 gradients in float32 lanes (the design: kernels/fa_map.h) ==================== */

/* ---- sigmoid -------------------------------------------------------------------------------
 * sigmoid_grad(x, g) = e/(1 + e)^2 g, e = e^-|x| (symmetric, no cancellation, no overflow;
 * (1 + e)^2 = 1 + e (2 + e) in one FMA).  |x| > 80: the rare path.  sigmoid'(+-inf) = 0
 * (0 g: NaN for an infinite g, as torch).  Measured max (g = 1, every 211th float32 in
 * +-100): 2.27 ULP (scalar, sse2), 2.24 (avx2, avx512); every 7th with g over 2^+-40: 3.30,
 * every variant (a review, 2026-12-07: f' g just below a power of two); registry bound 4. */
/* |x| > 80: e^-|x| g (the rest of f', (1 + e)^-2, is 1 - 2^-114 or closer) */
FA_INLINE fa_simd_f64 fa_sigmoid_grad_tail_f64w(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    return fa_grad_tail_exp_f64w(fa_neg_abs_f64(x), g);
}
FA_INLINE fa_simd_f32 fa_sigmoid_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    fa_simd_f32 z = fa_grad_negabs_f32(x);            /* -|x| clamped at -80: the rare lanes' test too */
    fa_simd_f32 e = fa_exp_neg_normal_f32(z);
    fa_simd_f32 d2 = fa_fmadd_f32(e, fa_add_f32(fa_set1_f32(2.0f), e), fa_set1_f32(1.0f));
    fa_simd_f32 y = fa_mul_f32(fa_div_f32(e, d2), g);
    return fa_grad_rare_f32(fa_cmple_f32(z, fa_set1_f32(-FA_GRAD_RARE_F32)), y, x, g, p, fa_sigmoid_grad_tail_f64w);
}
FA_BINARY_KERNEL(sigmoid_grad, f32, fa_sigmoid_grad_v_f32)

/* ---- tanh ----------------------------------------------------------------------------------
 * tanh_grad(x, g) = 4e/(1 + e)^2 g, e = e^(-2|x|) (-2|x| exact; no cancellation, where
 * g (1 - y^2) from the output would cancel).  |x| > 40: the rare path.  tanh'(+-inf) = 0.
 * Measured max 2.22 ULP, every variant (g = 1, every 211th float32 in +-100). */
/* 2|x| > 80: 4 e^-2|x| g */
FA_INLINE fa_simd_f64 fa_tanh_grad_tail_f64w(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    return fa_grad_tail_exp_f64w(fa_mul_f64(fa_set1_f64(-2.0), fa_abs_f64(x)), fa_mul_f64(fa_set1_f64(4.0), g));
}
FA_INLINE fa_simd_f32 fa_tanh_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    fa_simd_f32 z = fa_mul_f32(fa_set1_f32(-2.0f), fa_abs_f32(x));
    fa_simd_f32 e = fa_exp_neg_normal_f32(fa_max_f32(fa_set1_f32(-FA_GRAD_RARE_F32), z));
    fa_simd_f32 d2 = fa_fmadd_f32(e, fa_add_f32(fa_set1_f32(2.0f), e), fa_set1_f32(1.0f));
    fa_simd_f32 y = fa_mul_f32(fa_div_f32(fa_mul_f32(fa_set1_f32(4.0f), e), d2), g);
    return fa_grad_rare_f32(fa_cmplt_f32(z, fa_set1_f32(-FA_GRAD_RARE_F32)), y, x, g, p, fa_tanh_grad_tail_f64w);
}
FA_BINARY_KERNEL(tanh_grad, f32, fa_tanh_grad_v_f32)

/* ---- silu ----------------------------------------------------------------------------------
 * silu_grad(x, g) = s (1 + x (1 - s)) g, s = sigmoid(x); with e = e^-|x|:
 *   x > 0:  (1 + e (1 + x)) / (1 + e)^2      (x clamped to 87 there: e (1 + x) < 2^-119)
 *   x <= 0: e (1 + x + e) / (1 + e)^2
 * x < -80: the rare path.  silu'(+inf) = 1, (-inf) = 0.
 * FMA variants only (avx2, avx512): measured max 3.22 ULP at x = -0.84291 (g = 1, every 13th
 * float32 in +-100; bound 4).  Without FMA the same scheme measured 4.13 ULP (the products
 * and (1 + e)^2 round once more each), so scalar and sse2 keep the float64 evaluation.
 * The root of f' at x = -1.27846 (registry `ill` [-1.30, -1.26]) needs no special case: the
 * bracket is formed from exact s and 1 + x + s, and the errors stay below 2.9 ULP outside it. */
/* x < -80: e^x (1 + x) g (silu' and mish' alike: the rest is within e^x of 1 relative) */
FA_INLINE fa_simd_f64 fa_silu_grad_tail_f64w(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    return fa_grad_tail_exp_f64w(x, fa_mul_f64(fa_add_f64(fa_set1_f64(1.0), x), g));
}
#if FA_HAVE_FMA
FA_INLINE fa_simd_f32 fa_silu_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    const fa_simd_f32 one = fa_set1_f32(1.0f);
    fa_simd_f32 n, s;                                   /* e = s (1 + m), s = 2^n */
    fa_simd_f32 m = fa_expm1_reduced_f32(fa_exp_reduce_f32(fa_grad_negabs_f32(x), &n, &s));
    fa_simd_f32 e = fa_fmadd_f32(s, m, s);
    fa_simd_f32 opx = fa_add_f32(one, fa_max_f32(fa_set1_f32(-FA_GRAD_RARE_F32),
                                                 fa_min_f32(fa_set1_f32(87.0f), x)));   /* y finite at -inf */
    /* (1 + e)^2 = dh^2 + 2 dh dl, 1 + e = dh + dl from s, m: dh = (1 + s) + s m rounded once
     * (1 + s exact), dl its exact residual (s m exact); d2 then carries one rounding, where
     * 1 + e (2 + e) in [1, 4] lost 2^-23 of e in 2 + e */
    fa_simd_f32 sm = fa_mul_f32(s, m);
    fa_simd_f32 ops = fa_add_f32(one, s);
    fa_simd_f32 dl, dh = fa_fast_two_sum_f32(ops, sm, &dl);     /* ops >= 1 > |sm| */
    fa_simd_f32 d2 = fa_fmadd_f32(dh, dh, fa_mul_f32(fa_add_f32(dh, dh), dl));
    /* x <= 0: e (1 + x + e) = s (1 + m) B, B = (1 + x + s) + s m, each in one rounding from
     * the exact s and m (not from the rounded e) */
    fa_simd_f32 b = fa_fmadd_f32(s, m, fa_add_f32(opx, s));
    fa_simd_f32 bs = fa_mul_f32(b, s);
    fa_mask_f32 pos = fa_cmpgt_f32(x, fa_set1_f32(0.0f));
    fa_simd_f32 num = fa_select_f32(pos, fa_fmadd_f32(e, opx, one), fa_fmadd_f32(bs, m, bs));
    fa_simd_f32 y = fa_mul_f32(fa_div_f32(num, d2), g);
    return fa_grad_rare_f32(fa_cmplt_f32(x, fa_set1_f32(-FA_GRAD_RARE_F32)), y, x, g, p, fa_silu_grad_tail_f64w);
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
    /* e from |w| clamped to 680 and set to 0 beyond: e^-680 (2^-981) stays clear of the
     * exp's deep (subnormal) scaling (fa_scale_exp_f64: from 2^-1000), a branch per vector
     * that -inf entries (|x| clamped to 100, |w| ~ 71000) took; beyond, e and every result
     * it feeds (|x w'| < 2^18, |g| < 2^128) round to 0 in float32 */
    fa_simd_f64 aw = fa_abs_f64(w);
    fa_simd_f64 e = fa_exp_minus_abs_f64(fa_min_f64(fa_set1_f64(680.0), aw));
    e = fa_select_f64(fa_cmpgt_f64(aw, fa_set1_f64(680.0)), fa_set1_f64(0.0), e);
    fa_simd_f64 xdw = fa_mul_f64(xw, fa_fmadd_f64(fa_set1_f64(3.0 * c3), x2, fa_set1_f64(c1)));
    fa_simd_f64 ope = fa_add_f64(one, e);
    fa_mask_f64 pos = fa_cmpge_f64(x, fa_set1_f64(0.0));
    fa_simd_f64 num = fa_select_f64(pos, fa_fmadd_f64(e, xdw, ope), fa_mul_f64(e, fa_add_f64(ope, xdw)));
    fa_simd_f64 d2 = fa_fmadd_f64(e, fa_add_f64(fa_set1_f64(2.0), e), one);
    return fa_mul_f64(fa_div_f64(num, d2), g);
}
FA_BINARY_KERNEL_F32_VIA_F64(gelu_tanh_grad, fa_gelu_tanh_grad_v_f64w)
