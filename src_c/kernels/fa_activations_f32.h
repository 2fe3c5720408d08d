/*
 * fa_activations_f32.h -- the float32 transcendental activations (included once per ISA,
 * after fa_math_f32.h).  Max errors quoted per kernel were measured on every variant
 * (scalar and sse2 have no FMA; avx2 and avx512 agree bit for bit) in two ways:
 *   S: PYTHONPATH=. python tools/ulp_report.py --dtype float32 --n 8000 <name>  (mpmath)
 *   D: every 16th float32 bit pattern (32nd where marked), both signs, 2.7e8 inputs, against
 *      a float64 reference (NumPy/SciPy formulas evaluated in double); D is the bound quoted.
 */

/* -|x| clamped to [-110, 0] (NaN kept: max(c, v) returns v when v is NaN).  Below -110
 * every e^z-based result here is 0 or rounds to it, and the clamp keeps inf out of the
 * range reduction. */
FA_INLINE fa_simd_f32 fa_negabs_clamped_f32(fa_simd_f32 x)
{
    return fa_max_f32(fa_set1_f32(-110.0f), fa_or_f32(x, fa_set1_f32(-0.0f)));
}

/* sigmoid(x) = 1/(1+e^-x), two formulas (the structure of silu below):
 *  x >= -87: 1/(1 + e^-x), one exp and one division, no select (e^-x <= e^87 < 2^126; -x
 *    is clamped to >= -80, where 1 + e^-x rounds to 1 already).
 *  x < -87: e/(1 + e) with e = e^x (subnormal or flushed: +0 for x < -87.3 without
 *    vscalefps, which SPEC 6 counts within one smallest normal).
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
    fa_simd_f32 z = fa_max_f32(fa_set1_f32(-80.0f), fa_neg_f32(x));
    fa_simd_f32 m = fa_expm1_reduced_f32(fa_exp_reduce_f32(z, &n, &s));
    fa_simd_f32 ratio = fa_div_f32(one, fa_fmadd_f32(s, m, fa_add_f32(s, one)));
    fa_mask_f32 deep = fa_cmplt_f32(x, lim);
    if (FA_LIKELY(!fa_mask_any_f32(deep)))
        return ratio;
    fa_simd_f32 q, e = fa_exp_neg_f32(fa_max_f32(fa_set1_f32(-110.0f), x), &n, &q);
    return fa_select_f32(deep, fa_div_f32(e, fa_add_f32(e, one)), ratio);
}
FA_UNARY_KERNEL(sigmoid, f32, fa_sigmoid_v_f32)

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
    return fa_select_f32(deep, fa_silu_deep_f32(x), fa_silu_ratio_f32(fa_max_f32(lim, x)));
}
FA_UNARY_KERNEL(silu, f32, fa_silu_v_f32)

/* softplus(x) = max(x, 0) + log1p(e^-|bx|)/b (b = beta > 0), and where b*x > threshold,
 * x (torch's cut-off; threshold = +inf when the user gave None: exact everywhere).
 * b = 1 (the default): in float32, log1p(e) with e = e^-|x| (flushed below 2^-126, where
 * the result is e itself, subnormal).  Any other b: in double (fa_softplus_v_f64w), since
 * the e^z tail would amplify the rounding of b*x, and of b itself, |bx| times, and the
 * division by b adds one more rounding.  Limits: softplus(+inf) = +inf, (-inf) = 0,
 * NaN -> NaN.  Max error, all variants: b = 1: D 2.66 ULP, S 1.99; b = 2: D 0.58, S 0.56;
 * b = 0.3: D(32) 0.61; b = 2, threshold 20: D(32) 0.58. */
FA_INLINE fa_simd_f32 fa_softplus1_v_f32(fa_simd_f32 x, const fa_params *p)
{
    fa_simd_f32 n, m;
    fa_simd_f32 e = fa_exp_neg_f32(fa_negabs_clamped_f32(x), &n, &m);
    fa_simd_f32 y = fa_add_f32(fa_max_f32(fa_set1_f32(0.0f), x), fa_log1p_unit_f32(e));
    return fa_select_f32(fa_cmpgt_f32(x, fa_set1_f32((float)p->b)), x, y);
}
FA_UNARY_KERNEL(softplus1, f32, fa_softplus1_v_f32)

/* max(beta x, 0)/beta: max(x, 0), or min(x, 0) for beta < 0 (shared with fa_activations_f64.h) */
FA_INLINE fa_simd_f64 fa_softplus_linear_part_f64(fa_simd_f64 x, double beta)
{
    return beta > 0 ? fa_max_f64(fa_set1_f64(0.0), x) : fa_min_f64(fa_set1_f64(0.0), x);
}

FA_INLINE fa_simd_f64 fa_softplus_v_f64w(fa_simd_f64 x, const fa_params *p)
{
    if (p->a == INFINITY || p->a == -INFINITY)   /* the limit beta -> +-inf: max(x, 0) / min(x, 0) */
        return fa_softplus_linear_part_f64(x, p->a);
    fa_simd_f64 beta = fa_set1_f64(p->a);
    fa_simd_f64 z = fa_mul_f64(beta, x);
    fa_simd_f64 e = fa_exp_neg_f64w(fa_max_f64(fa_set1_f64(-700.0), fa_or_f64(z, fa_set1_f64(-0.0))));
    fa_simd_f64 y = fa_add_f64(fa_softplus_linear_part_f64(x, p->a), fa_div_f64(fa_log1p_unit_f64w(e), beta));
    return fa_select_f64(fa_cmpgt_f64(z, fa_set1_f64(p->b)), x, y);
}
FA_UNARY_KERNEL_F32_VIA_F64(softplus_beta, fa_softplus_v_f64w)

static void fa_k_softplus_f32(const float *x, float *y, ptrdiff_t n, const fa_params *p)
{
    if (p->a == 1.0)
        fa_k_softplus1_f32(x, y, n, p);
    else
        fa_k_softplus_beta_f32(x, y, n, p);
}

/* log_sigmoid(x) = min(x, 0) - log1p(e^-|x|), computed as -(log1p(e) - min(x, 0)) so
 * log_sigmoid(+inf) = -0.0; (-inf) = -inf, NaN -> NaN.
 * Max error D 2.66 ULP (all variants); S 1.79. */
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
 * e = 2^n (1 + m) and x e is formed as (x + x m) 2^n, as in silu, so
 * the result stays accurate down to the subnormal range.  x < -110 behaves as -110 (the
 * result rounds to -0.0): mish(-inf) = -0.0, mish(+inf) = +inf, mish(-0.0) = -0.0.
 * Max error (bound 8) D 4.03 ULP (scalar, sse2), 3.99 (avx2, avx512); S 2.40, 2.39. */
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
    fa_simd_f32 xe = fa_ldexp_neg_f32(fa_fmadd_f32(z, m, z), n);       /* x e^x, x < 0 lanes */
    fa_simd_f32 num = fa_mul_f32(fa_select_f32(neg, ep2, a), fa_select_f32(neg, xe, x));
    fa_simd_f32 den = fa_select_f32(neg, fa_fmadd_f32(e, ep2, two), fa_fmadd_f32(fa_add_f32(e, e), e, a));
    return fa_div_f32(num, den);
}
FA_UNARY_KERNEL(mish, f32, fa_mish_v_f32)

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

/* The ELU family on expm1(x) for x < 0 (x kept as is elsewhere, so -0.0 and NaN pass
 * through): elu = alpha em, selu = (scale alpha) em or scale x (constants rounded once to
 * float32), celu = alpha expm1(x/alpha).  x < -110 behaves as -110 (em = -1 there).
 * Max errors, D(32) (scalar, sse2 / avx2, avx512): elu 0.94 / 0.98 ULP (alpha 1 and 0.5),
 * selu 1.92 / 1.97, celu 0.94 / 0.98 (alpha 1 and 0.5); S: 0.83 / 0.88, 1.54, 0.82 / 0.88. */
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

/* logit(p) = log(p/(1-p)) in float32 lanes, for normal p in (0, 1) (xs = p), or subnormal p
 * given as xs = p 2^24 with kofs = -24.
 *   |2p - 1| <= 1/3: 2 atanh(2p - 1); 2p - 1 is exact (p >= 1/4), so p near 1/2 keeps its
 *     relative accuracy (log1p quality).
 *   elsewhere: log(p/d), d = 1 - p, as k ln2 + 2 atanh(s) (fa_log_ratio_reduce_f32: one
 *     division, no rounded p/d).  d is exact for p >= 1/2; below, 1 - p = d + t with t exact
 *     (Fast2Sum), and log(1 - p) = log d + t/d, with t/d taken as t (1 + p) (p < 1/3: the
 *     neglected t p^2/(1 - p) is below 2^-27).
 * 2 atanh: fa_2atanh_small_f32 (fitted, 2^-27.6); ln2 split as in fa_exp_reduce_f32
 * (XNNPACK rr2: k ln2_hi exact).  The branches are blended with selects. */
FA_INLINE fa_simd_f32 fa_logit_core_f32(fa_simd_f32 x, fa_simd_f32 xs, fa_simd_f32 kofs)
{
    fa_simd_f32 one = fa_set1_f32(1.0f), zero = fa_set1_f32(0.0f);
    fa_simd_f32 d = fa_sub_f32(one, x);
    fa_simd_f32 t = fa_sub_f32(fa_sub_f32(one, d), x);
    fa_simd_f32 k;
    fa_simd_f32 s = fa_log_ratio_reduce_f32(xs, d, &k);
    fa_simd_f32 c = fa_mul_f32(t, fa_sub_f32(fa_set1_f32(-1.0f), x));
    fa_simd_f32 s_mid = fa_sub_f32(fa_add_f32(x, x), one);
    fa_mask_f32 mid = fa_cmple_f32(fa_abs_f32(s_mid), fa_set1_f32(0x1.555556p-2f));
    s = fa_select_f32(mid, s_mid, s);
    k = fa_select_f32(mid, zero, fa_add_f32(k, kofs));
    c = fa_fmadd_f32(k, fa_set1_f32(0x1.7F7D1Cp-20f), fa_select_f32(mid, zero, c));
    return fa_fmadd_f32(k, fa_set1_f32(0x1.62E400p-1f), fa_add_f32(fa_2atanh_small_f32(s), c));
}

/* logit(p) with eps = None (p->a < 0): fa_logit_core_f32; a vector holding a lane outside
 * [2^-126, 1) (rare) also takes the subnormal scaling and the special values:
 * logit(+-0) = -inf, logit(1) = +inf, p outside [0, 1] or NaN -> NaN (SciPy).
 * Max error 1.48 ULP (avx2, avx512), 1.47 (scalar, sse2): EVERY float32 in [0, 1] against
 * log(p/(1-p)) in double (1-p exact there); S 1.18 (avx2, avx512), 1.12 (scalar, sse2)
 * with --n 20000. */
FA_INLINE fa_simd_f32 fa_logit_v_f32(fa_simd_f32 x, const fa_params *p)
{
    (void)p;
    fa_simd_f32 one = fa_set1_f32(1.0f), zero = fa_set1_f32(0.0f), tiny = fa_set1_f32(0x1p-126f);
    fa_mask_f32 plain = fa_mask_and_f32(fa_cmpge_f32(x, tiny), fa_cmplt_f32(x, one));
    if (FA_LIKELY(!fa_mask_any_f32(fa_mask_not_f32(plain))))
        return fa_logit_core_f32(x, x, zero);
    fa_mask_f32 sub = fa_cmplt_f32(x, tiny);
    fa_simd_f32 r = fa_logit_core_f32(x, fa_select_f32(sub, fa_mul_f32(x, fa_set1_f32(0x1p24f)), x),
                                      fa_select_f32(sub, fa_set1_f32(-24.0f), zero));
    fa_simd_f32 inf = fa_set1_f32(INFINITY);
    fa_simd_f32 edge = fa_select_f32(fa_cmpeq_f32(x, zero), fa_neg_f32(inf),
                                     fa_select_f32(fa_cmpeq_f32(x, one), inf, fa_set1_f32(NAN)));
    return fa_select_f32(fa_mask_and_f32(fa_cmpgt_f32(x, zero), fa_cmplt_f32(x, one)), r, edge);
}
FA_UNARY_KERNEL(logit_unclamped, f32, fa_logit_v_f32)

/* logit(clamp(p, eps, 1 - eps)), eps in [0, 1/2) (the Python layer checks): the bounds are
 * doubles (1 - eps rounded, as the reference and torch), generally not float32, but p is:
 * p < eps exactly where p < lo (eps rounded up to float32), p > 1 - eps where p > hi (rounded
 * down), and there the result is logit of the double bound, computed once per call by the
 * float64 kernel and rounded (logit_lo, logit_hi).  Elsewhere fa_logit_v_f32 of p clamped
 * to [lo, hi] (same value; for eps > 0 keeps 0 and 1 off its rare path).  NaN -> NaN.  The four
 * constants (lo, hi, logit_lo, logit_hi) come in p->a .. p->d (filled by fa_k_logit_f32).
 * Max error: as eps = None inside [lo, hi], 0.5 ULP (+ the float64 kernel's) at the bounds;
 * measured 1.48 ULP (every float32 in [0, 1], eps = 1e-6; the same S figures as eps = None),
 * 0.83 within 6 floats of the bounds for 12 eps values (bounds float32 or not). */
FA_INLINE fa_simd_f32 fa_logit_clamped_v_f32(fa_simd_f32 x, const fa_params *p)
{
    fa_simd_f32 lo = fa_set1_f32((float)p->a), hi = fa_set1_f32((float)p->b);
    fa_simd_f32 r = fa_logit_v_f32(fa_min_f32(hi, fa_max_f32(lo, x)), p);
    r = fa_select_f32(fa_cmplt_f32(x, lo), fa_set1_f32((float)p->c), r);
    return fa_select_f32(fa_cmpgt_f32(x, hi), fa_set1_f32((float)p->d), r);
}
FA_UNARY_KERNEL(logit_clamped, f32, fa_logit_clamped_v_f32)

static void fa_k_logit_f64(const double *x, double *y, ptrdiff_t n, const fa_params *p);

static void fa_k_logit_f32(const float *x, float *y, ptrdiff_t n, const fa_params *p)
{
    if (p->a < 0) {
        fa_k_logit_unclamped_f32(x, y, n, p);
        return;
    }
    const fa_params unclamped = {-1.0, 0.0, 0.0, 0.0};
    double bound[2] = {p->a, 1.0 - p->a}, logit_bound[2];
    fa_k_logit_f64(bound, logit_bound, 2, &unclamped);
    float lo = (float)bound[0], hi = (float)bound[1];
    if ((double)lo < bound[0])       /* round up: lo >= 0 */
        lo = nextafterf(lo, INFINITY);
    if ((double)hi > bound[1])       /* round down: hi > 1/2 */
        hi = nextafterf(hi, 0.0f);
    const fa_params clamp = {lo, hi, (float)logit_bound[0], (float)logit_bound[1]};
    fa_k_logit_clamped_f32(x, y, n, &clamp);
}

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

/* gelu(x) = x Phi(x), Phi(x) = erfc(-x/sqrt2)/2.
 * FMA variants (avx2, avx512), in float32 lanes: with xc = x clamped to [-14.8, 14.8] and
 * Q = erfc(|xc|/sqrt2)/2 = E e^(-xc^2/2) (fa_half_erfcx_gauss_f32), H = xc Q is formed as
 * (xc E)(1 + m) 2^n, and gelu = H (x <= 0) or x - H (x > 0: H <= x/2, no cancellation).
 * Beyond 14.8, Q < 2^-150 (x < 0) or x Q < ulp(x) 2^-150.  gelu(-inf) = -0.0,
 * gelu(+inf) = +inf, gelu(-0.0) = -0.0, NaN -> NaN (the clamp keeps it).
 * Max error 3.28 ULP at x = -5.72424 over EVERY float32 in [-15, 15] (avx2 and avx512
 * agree bit for bit; beyond, every 97th pattern checked: within 4 ULP or one smallest
 * normal), against x/2 erfc(-x/sqrt2) in double (scipy); S 2.1 (--n 20000).  About 1.5x
 * faster than the double evaluation below (2^20 inputs, 1 thread, Zen 4: ~460 vs ~695 us;
 * torch's A&S erf ~270 us), which the variants without FMA keep: there the same float32
 * scheme measured 4.41 ULP (D(4)).  Speed is bound by the ~36 multiply/FMA-class ops per
 * vector (erfcx polynomial 12, exp 9, the r + tlo carry 5). */
#if FA_HAVE_FMA
FA_INLINE fa_simd_f32 fa_gelu_v_f32(fa_simd_f32 x, const fa_params *p)
{
    (void)p;
    fa_simd_f32 n, m;
    fa_simd_f32 xc = fa_min_f32(fa_set1_f32(14.8f), fa_max_f32(fa_set1_f32(-14.8f), x));
    fa_simd_f32 e = fa_half_erfcx_gauss_f32(fa_abs_f32(xc), &n, &m);
    fa_simd_f32 u = fa_mul_f32(xc, e);
    fa_simd_f32 h = fa_ldexp_neg_f32(fa_fmadd_f32(u, m, u), n);
    return fa_select_f32(fa_cmple_f32(x, fa_set1_f32(0.0f)), h, fa_sub_f32(x, h));
}
FA_UNARY_KERNEL(gelu, f32, fa_gelu_v_f32)
#else
/* gelu(x) = x Phi(x), Phi(x) = erfc(-x/sqrt2)/2, in double: h = erfc(|x|/sqrt2)/2 =
 * t P(t) e^(-x^2/2)/2, t = 1/(1 + 0.3 |x|/sqrt2), P of degree 10 fitted to erfcx(w)/t on
 * w in [0, 10.3] (Lawson minimax, relative error 2^-30.4; beyond, the result is below
 * 2^-149 for x < 0 and h is negligible for x > 0).  x^2/2 is exact in double, so neither
 * the division by sqrt 2 nor the square is amplified by the Gaussian tail (SPEC 6).
 * Phi = h (x < 0) or 1 - h.  x < -40 behaves as -40 (result -0.0: gelu(-inf) = -0.0);
 * gelu(+inf) = +inf, gelu(-0.0) = -0.0, NaN -> NaN.  Max error D(32) 0.58 ULP, S 0.55, all
 * variants.  Slow (double, degree-10 polynomial and a division per 8 lanes): a float32
 * P(a)/Q(a) was tried and measured 7 ULP (Horner rounding accumulates for large a). */
FA_INLINE fa_simd_f64 fa_gelu_v_f64w(fa_simd_f64 x, const fa_params *p)
{
    (void)p;
    x = fa_max_f64(fa_set1_f64(-40.0), x);
    fa_simd_f64 w = fa_mul_f64(fa_abs_f64(x), fa_set1_f64(0.3 * 0.70710678118654752440));
    fa_simd_f64 t = fa_div_f64(fa_set1_f64(1.0), fa_add_f64(w, fa_set1_f64(1.0)));
    static const double c[11] = {
        0x1.5ab0362967ad6p-3, 0x1.59778d2ed42ecp-3, 0x1.5727d00c21a18p-3, 0x1.c4e4d1c60388bp-4,
        0x1.0ffd25970c71ap-2, -0x1.1dfbee9533906p-2, 0x1.8910616deb718p-1, -0x1.aba117085125ep-1,
        0x1.7b93b6aecb738p-1, -0x1.53d20f682fd2bp-2, 0x1.c74ec0b88fb44p-5};
    fa_simd_f64 q = fa_set1_f64(c[10]);
    for (int k = 9; k >= 0; k--)
        q = fa_fmadd_f64(q, t, fa_set1_f64(c[k]));
    fa_simd_f64 g = fa_exp_neg_f64w(fa_max_f64(fa_set1_f64(-700.0), fa_mul_f64(fa_mul_f64(x, x), fa_set1_f64(-0.5))));
    fa_simd_f64 h = fa_mul_f64(fa_mul_f64(fa_mul_f64(t, fa_set1_f64(0.5)), q), g);
    fa_simd_f64 phi = fa_select_f64(fa_cmplt_f64(x, fa_set1_f64(0.0)), h, fa_sub_f64(fa_set1_f64(1.0), h));
    return fa_mul_f64(x, phi);
}
FA_UNARY_KERNEL_F32_VIA_F64(gelu, fa_gelu_v_f64w)

#endif
