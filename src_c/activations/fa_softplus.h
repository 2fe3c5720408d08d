/*
 * fa_softplus.h -- the log1p(e^-|x|) family, forwards and gradients, float32 and float64:
 *   softplus(x; beta, threshold) = max(x, 0) + log1p(e^-|beta x|)/beta
 *   log_sigmoid(x)               = -softplus(-x) = min(x, 0) - log1p(e^-|x|)
 *   mish(x)                      = x tanh(softplus(x))
 * Shared math: e = e^-|z| in (0, 1] (nothing overflows), log1p on [0, 1] (math/), and the
 * tails where e is subnormal handled on e's mantissa before the final 2^n scaling; the
 * gradients (sigmoid(beta x), sigmoid(-x), mish') go through fa_grad_exp_f64 (math/).
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

/* |x| above this: e = e^-|x| < 2^-40, so log1p(e) = e (1 - e/2 + ...) lies within 2^-41 of
 * the float32 e, which is then its rounding (and x + e rounds to x): the float32 kernels take
 * e or x there, from the selects alone.  The general path's t^3 underflows for e below
 * ~2^-42, t^2 below 2^-63, and e itself is subnormal below 2^-126; an instruction with a subnormal
 * operand or result takes a microcode assist of ~150 cycles on Intel cores with FTZ off
 * (2^20 float32 x = -50: log_sigmoid 15.2 ms; x uniform in (-120, 0): log_sigmoid 29.6 ms,
 * softplus 29.3, mish 23.0; against ~0.5 for N(0, 3)). */
#define FA_TINY_X_F32 28.0f
/* float64: e < 2^-57.7 beyond |x| = 40, log1p(e) within 2^-58 of e: rounds to e (t^3 in
 * fa_log1p_unit_f64 underflows from e ~ 2^-340, e itself from 2^-1022) */
#define FA_TINY_X_F64 40.0

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
    fa_mask_f32 tiny = fa_cmpgt_f32(fa_abs_f32(x), fa_set1_f32(FA_TINY_X_F32));
    fa_simd_f32 y;
    if (FA_LIKELY(!fa_mask_any_f32(tiny))) {
        y = fa_add_f32(fa_max_f32(fa_set1_f32(0.0f), x), fa_log1p_unit_f32(e));
    } else {             /* |x| > 28: log1p(e) rounds to e; e itself where x < 0 */
        y = fa_add_f32(fa_max_f32(fa_set1_f32(0.0f), x), fa_log1p_unit_f32(fa_select_f32(tiny, fa_set1_f32(0.0f), e)));
        y = fa_select_f32(fa_mask_and_f32(tiny, fa_cmplt_f32(x, fa_set1_f32(0.0f))), e, y);
    }
    return fa_select_f32(fa_cmpgt_f32(x, fa_set1_f32((float)p->b)), x, y);
}
FA_UNARY_KERNEL(softplus1, f32, fa_softplus1_v_f32)

/* max(beta x, 0)/beta: max(x, 0), or min(x, 0) for beta < 0 (the float32 and float64 softplus below) */
FA_INLINE fa_simd_f64 fa_softplus_linear_part_f64(fa_simd_f64 x, double beta)
{
    return beta > 0 ? fa_max_f64(fa_set1_f64(0.0), x) : fa_min_f64(fa_set1_f64(0.0), x);
}

FA_INLINE fa_simd_f64 fa_softplus_v_f64w(fa_simd_f64 x, const fa_params *p)
{
    if (p->a == INFINITY || p->a == -INFINITY)   /* the limit beta -> +-inf: max(x, 0) / min(x, 0) */
        return fa_softplus_linear_part_f64(x, p->a);
    fa_simd_f64 beta = fa_set1_f64(p->a);
    fa_simd_f64 z = fa_mul_f64(beta, x), nz = fa_or_f64(z, fa_set1_f64(-0.0));
    fa_simd_f64 e = fa_exp_neg_f64w(fa_max_f64(fa_set1_f64(-700.0), nz));
    /* -|beta x| < -700: e^-|beta x| / beta is below the float32 range for every beta that can
     * get there (|beta| >= 700 / 3.4e38, so the quotient is < 5e-269): 0.  The clamped e over a
     * tiny beta gave garbage (softplus(-inf, beta=1e-300) was 9.9e-5). */
    e = fa_select_f64(fa_cmplt_f64(nz, fa_set1_f64(-700.0)), fa_set1_f64(0.0), e);
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

/*
 * softplus(x; beta, threshold) = max(x, 0) + log1p(e^-|beta*x|)/beta; beta*x is a
 * two-product (its rounding would be amplified |beta*x| times in the e^z tail).  In the
 * tail (beta*x < -700) log1p(e) = e and the division by beta happens on e's mantissa,
 * before the final scaling, so a result above the subnormals keeps full precision.
 * Where beta*x > threshold (torch's rule; threshold = +inf: never) the result is x.
 * beta < 0 (torch computes it too): max(beta x, 0)/beta is min(x, 0), the rest unchanged.
 * Measured max 1.45 ULP (beta 1, 2; threshold None, 20).  softplus(+inf) = +inf,
 * softplus(-inf) = 0 (beta < 0: 0 and -inf).  beta = 0 is refused by the Python layer.
 */

/* The float64 softplus and its gradient share e = e^-|beta x|: beta x = z + zl as a
 * two-product (its rounding would be amplified |beta x| times in the e^z tail), nz = -|z|,
 * nzl the low part of -|z + zl| (zl kept only where nz > -800: elsewhere it may be inf - inf
 * or a split overflow, and it matters only in the tail), em and 2^n (t, n) from
 * fa_exp_neg_f64, e = em 2^n. */
typedef struct { fa_simd_f64 z, nz, nzl, em, t, n, e; } fa_softplus_terms_f64_t;
FA_INLINE fa_softplus_terms_f64_t fa_softplus_terms_f64(fa_simd_f64 beta, fa_simd_f64 x)
{
    fa_softplus_terms_f64_t s;
    fa_simd_f64 zl;
    s.z = fa_two_prod_f64(beta, x, &zl);
    s.nz = fa_neg_abs_f64(s.z);
    zl = fa_select_f64(fa_cmpgt_f64(s.nz, fa_set1_f64(-800.0)), zl, fa_set1_f64(0.0));
    s.nzl = fa_select_f64(fa_cmpge_f64(s.z, fa_set1_f64(0.0)), fa_neg_f64(zl), zl);   /* -|z + zl| = nz + nzl */
    s.em = fa_exp_neg_f64(s.nz, s.nzl, FA_EXP_LOW, &s.t, &s.n);
    s.e = fa_scale_exp_f64(s.em, s.t, s.n);
    return s;
}

/* The tail past fa_exp_neg_f64's clamp (-|beta x| < -750): e^nz / beta is not 0 where |beta|
 * is tiny (beta = 1e-50, x = -8e52: 3.7e-298; the clamped exp gave 8.6e-281 for every x below,
 * -inf included).  It is sign(beta) e^(nz - ln|beta|), ln|beta| = lh + ll as a double-double
 * (ll from one Newton step, |beta| e^-lh - 1: 2^-53 absolute) and nz - lh a two-sum, so that
 * the exponent keeps its low part (|w| up to ~760: rounded, it would cost ~2^9 ULP).  Where
 * |beta| > e^-10 the result is 0 or subnormal as before. */
FA_INLINE fa_simd_f64 fa_softplus_deep_f64(fa_simd_f64 x, double beta)
{
    const double ab = fabs(beta), lh = log(ab), ll = ab * exp(-lh) - 1.0;
    const fa_simd_f64 zero = fa_set1_f64(0.0);
    /* -|beta x| = nz + nzl again, its low part kept here down to -1500 (fa_softplus_terms_f64
     * drops it below -800, where beta >= e^-10 makes the result 0; below -1500 the result is 0
     * for every beta, as |beta| >= 760 / DBL_MAX there, and the low part may be huge or, as for
     * x = +-inf or a split overflow without FMA, not finite) */
    fa_simd_f64 zl, z = fa_two_prod_f64(fa_set1_f64(beta), x, &zl);
    zl = fa_select_f64(fa_cmplt_f64(fa_abs_f64(z), fa_set1_f64(1500.0)), zl, zero);
    const fa_simd_f64 nz = fa_neg_abs_f64(z), nzl = fa_select_f64(fa_cmpge_f64(z, zero), fa_neg_f64(zl), zl);
    fa_simd_f64 t, n, werr, wh = fa_two_sum_f64(nz, fa_set1_f64(-lh), &werr);
    fa_simd_f64 wl = fa_sub_f64(fa_add_f64(werr, nzl), fa_set1_f64(ll));
    /* below -800 (and nz = -inf) e^w rounds to 0 and the exp clamps w: its low part would not fit */
    wl = fa_select_f64(fa_cmpgt_f64(wh, fa_set1_f64(-800.0)), wl, zero);
    const fa_simd_f64 em = fa_exp_neg_f64(wh, wl, FA_EXP_LOW, &t, &n);
    const fa_simd_f64 e = fa_scale_exp_f64(em, t, n);
    return beta < 0 ? fa_neg_f64(e) : e;
}

FA_INLINE fa_simd_f64 fa_softplus_v_f64(fa_simd_f64 x, const fa_params *p)
{
    if (p->a == INFINITY || p->a == -INFINITY)   /* the limit beta -> +-inf: max(x, 0) / min(x, 0) */
        return fa_softplus_linear_part_f64(x, p->a);
    fa_simd_f64 beta = fa_set1_f64(p->a);
    fa_softplus_terms_f64_t s = fa_softplus_terms_f64(beta, x);
    fa_mask_f64 tail = fa_cmplt_f64(s.nz, fa_set1_f64(-700.0));
    /* |beta x| > 40: log1p(e) rounds to e (FA_TINY_X_F64), taken without arithmetic on e */
    fa_mask_f64 small = fa_cmplt_f64(s.nz, fa_set1_f64(-FA_TINY_X_F64));
    fa_simd_f64 lg = fa_select_f64(small, s.e, fa_log1p_unit_f64(fa_select_f64(small, fa_set1_f64(0.0), s.e)));
    fa_simd_f64 l = fa_div_f64(fa_select_f64(tail, s.em, lg), beta);
    l = fa_select_f64(tail, fa_scale_exp_f64(fa_select_f64(tail, l, fa_set1_f64(0.0)), s.t, s.n), l);   /* (the
                                 other lanes' l 2^n would underflow: e^-500 e^-500) */
    fa_simd_f64 lin = fa_softplus_linear_part_f64(x, p->a);
    fa_simd_f64 y = fa_add_f64(lin, fa_select_f64(tail, fa_set1_f64(0.0), l));
    y = fa_select_f64(fa_mask_and_f64(tail, fa_cmpeq_f64(lin, fa_set1_f64(0.0))), l, y);   /* 0 + l, l subnormal */
    const fa_mask_f64 deep = fa_cmplt_f64(s.nz, fa_set1_f64(-750.0));
    if (FA_UNLIKELY(fa_mask_any_f64(deep))) {
        /* deep lanes all below -800 with |beta| >= 2^-20 (-inf entries, masked logits): e^nz /
         * beta < 2^-1134 rounds to 0 of beta's sign there, fa_softplus_deep_f64's value, without
         * its double-double exp (2^16 in cache with 10% -inf, Intel Xeon: 261 -> 192 us, N(0, 3) 142-148) */
        if (fabs(p->a) >= 0x1p-20 && !fa_mask_any_f64(fa_mask_and_f64(deep, fa_cmpge_f64(s.nz, fa_set1_f64(-800.0)))))
            y = fa_select_f64(deep, fa_add_f64(lin, fa_set1_f64(p->a < 0 ? -0.0 : 0.0)), y);
        else
            y = fa_select_f64(deep, fa_add_f64(lin, fa_softplus_deep_f64(x, p->a)), y);
    }
    return fa_select_f64(fa_cmpgt_f64(s.z, fa_set1_f64(p->b)), x, y);
}

/*
 * softplus_grad(x, g; beta, threshold) = sigmoid(beta x) g, beta x = z + zl a two-product
 * (as the forward: in the tail sigmoid(z) ~ e^z turns an error of z into a relative one);
 * with e = e^-|z + zl|: g/(1 + e) for z > 0, g e/(1 + e) otherwise.  Where z > threshold
 * (torch's rule, the rounded z as the forward) the result is g.  softplus'(+inf) = 1,
 * (-inf) = 0 (beta > 0).
 */
FA_INLINE fa_simd_f64 fa_softplus_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    const fa_simd_f64 one = fa_set1_f64(1.0), zero = fa_set1_f64(0.0);
    fa_softplus_terms_f64_t s = fa_softplus_terms_f64(fa_set1_f64(p->a), x);
    fa_mask_f64 pos = fa_cmpgt_f64(s.z, zero);
    fa_simd_f64 y = fa_grad_exp_f64(g, fa_div_f64(one, fa_add_f64(one, s.e)), fa_select_f64(pos, one, s.e),
                                    fa_select_f64(pos, zero, s.nz), fa_select_f64(pos, zero, s.nzl), FA_EXP_LOW);
    return fa_select_f64(fa_cmpgt_f64(s.z, fa_set1_f64(p->b)), g, y);
}

FA_UNARY_KERNEL(softplus, f64, fa_softplus_v_f64)
FA_BINARY_KERNEL(softplus_grad, f64, fa_softplus_grad_v_f64)

/* log_sigmoid(x) = min(x, 0) - log1p(e^-|x|), computed as -(log1p(e) - min(x, 0)) so
 * log_sigmoid(+inf) = -0.0; (-inf) = -inf, NaN -> NaN.
 * Max error D 2.66 ULP (all variants); S 1.79. */
FA_INLINE fa_simd_f32 fa_log_sigmoid_v_f32(fa_simd_f32 x, const fa_params *p)
{
    (void)p;
    fa_simd_f32 n, m;
    fa_simd_f32 e = fa_exp_neg_f32(fa_negabs_clamped_f32(x), &n, &m);
    fa_mask_f32 tiny = fa_cmpgt_f32(fa_abs_f32(x), fa_set1_f32(FA_TINY_X_F32));
    if (FA_LIKELY(!fa_mask_any_f32(tiny)))
        return fa_neg_f32(fa_sub_f32(fa_log1p_unit_f32(e), fa_min_f32(fa_set1_f32(0.0f), x)));
    /* |x| > 28: x itself where x < 0 (e is far below its ULP), -e where x > 0 */
    fa_simd_f32 y = fa_neg_f32(fa_sub_f32(fa_log1p_unit_f32(fa_select_f32(tiny, fa_set1_f32(0.0f), e)),
                                          fa_min_f32(fa_set1_f32(0.0f), x)));
    return fa_select_f32(fa_mask_and_f32(tiny, fa_cmpgt_f32(x, fa_set1_f32(0.0f))), fa_neg_f32(e), y);
}
FA_UNARY_KERNEL(log_sigmoid, f32, fa_log_sigmoid_v_f32)

/*
 * log_sigmoid(x) = -(log1p(e) - min(x, 0)), e = e^-|x| (no cancellation: both terms
 * have the same sign).  Measured max 1.55 ULP.  log_sigmoid(+inf) = -0.0, (-inf) = -inf.
 */
FA_INLINE fa_simd_f64 fa_log_sigmoid_v_f64(fa_simd_f64 x, const fa_params *p)
{
    (void)p;
    fa_simd_f64 e = fa_exp_minus_abs_f64(x);
    fa_mask_f64 small = fa_cmpgt_f64(fa_abs_f64(x), fa_set1_f64(FA_TINY_X_F64));
    fa_simd_f64 y = fa_neg_f64(fa_sub_f64(fa_log1p_unit_f64(fa_select_f64(small, fa_set1_f64(0.0), e)),
                                          fa_min_f64(fa_set1_f64(0.0), x)));
    /* |x| > 40: x where x < 0 (e far below its ULP), -e where x > 0 (FA_TINY_X_F64) */
    return fa_select_f64(fa_mask_and_f64(small, fa_cmpgt_f64(x, fa_set1_f64(0.0))), fa_neg_f64(e), y);
}

/*
 * log_sigmoid_grad(x, g) = sigmoid(-x) g = g/(1 + e) (x <= 0) or g e/(1 + e) (x > 0),
 * e = e^-|x| (no cancellation).  log_sigmoid'(-inf) = 1, (+inf) = 0.
 */
FA_INLINE fa_simd_f64 fa_log_sigmoid_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    const fa_simd_f64 one = fa_set1_f64(1.0);
    fa_simd_f64 e = fa_exp_minus_abs_grad_f64(x);
    fa_mask_f64 pos = fa_cmpgt_f64(x, fa_set1_f64(0.0));
    return fa_grad_exp_f64(g, fa_div_f64(one, fa_add_f64(one, e)), fa_select_f64(pos, e, one),
                           fa_select_f64(pos, fa_neg_abs_f64(x), fa_set1_f64(0.0)), fa_set1_f64(0.0), 0);
}

FA_UNARY_KERNEL(log_sigmoid, f64, fa_log_sigmoid_v_f64)
FA_BINARY_KERNEL(log_sigmoid_grad, f64, fa_log_sigmoid_grad_v_f64)

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
    fa_simd_f32 xe = fa_ldexp_neg_f32(fa_fmadd_f32(z, m, z), n);       /* x e^x, x < 0 lanes */
    fa_mask_f32 tiny = fa_cmpgt_f32(fa_abs_f32(x), fa_set1_f32(86.6f));
    if (FA_UNLIKELY(fa_mask_any_f32(tiny))) {
        /* |x| > 86.6 (e < 2^-125): mish(x) rounds to x e^x (x < 0) or x (x > 0); the ratio
         * below is formed from e = 0 and x e^x = 1 there, so that nothing in it is subnormal
         * (FA_TINY_X_F32) */
        fa_simd_f32 tail = fa_select_f32(neg, xe, x);
        e = fa_select_f32(tiny, fa_set1_f32(0.0f), e);
        xe = fa_select_f32(tiny, fa_set1_f32(1.0f), xe);
        fa_simd_f32 ep2 = fa_add_f32(e, two), a = fa_fmadd_f32(two, e, fa_set1_f32(1.0f));
        fa_simd_f32 num = fa_mul_f32(fa_select_f32(neg, ep2, a), fa_select_f32(neg, xe, x));
        fa_simd_f32 den = fa_select_f32(neg, fa_fmadd_f32(e, ep2, two), fa_fmadd_f32(fa_add_f32(e, e), e, a));
        return fa_select_f32(fa_cmpunord_f32(x, x), x, fa_select_f32(tiny, tail, fa_div_f32(num, den)));
    }
    fa_simd_f32 ep2 = fa_add_f32(e, two);
    fa_simd_f32 a = fa_fmadd_f32(two, e, fa_set1_f32(1.0f));          /* 1 + 2e */
    fa_simd_f32 num = fa_mul_f32(fa_select_f32(neg, ep2, a), fa_select_f32(neg, xe, x));
    fa_simd_f32 den = fa_select_f32(neg, fa_fmadd_f32(e, ep2, two), fa_fmadd_f32(fa_add_f32(e, e), e, a));
    return fa_select_f32(fa_cmpunord_f32(x, x), x, fa_div_f32(num, den));   /* NaN: x's own bits, whichever
                                      operand order the compiler gave each copy of the loop */
}
FA_UNARY_KERNEL(mish, f32, fa_mish_v_f32)

/*
 * mish(x) = x*tanh(softplus(x)).  With e = e^-|x|:
 *   x <= 0:  tanh(log1p(e)) = n/(n + 2), n = e*(e + 2)       (all terms positive)
 *   x > 0:   tanh(log1p(1/e)) = 1 - q,  q = 2e^2/(1 + 2e(1 + e))
 * Below x = -708 (e subnormal; a rare branch) x*n is formed on e's mantissa and scaled
 * last, so the result is accurate down to the smallest normal.  Measured max 2.94 ULP.
 * mish(-inf) = -0.0, mish(+inf) = +inf, mish(-0.0) = -0.0.
 */
FA_INLINE fa_simd_f64 fa_mish_v_f64(fa_simd_f64 x, const fa_params *p)
{
    (void)p;
    const fa_simd_f64 one = fa_set1_f64(1.0), two = fa_set1_f64(2.0);
    fa_simd_f64 t, n;
    fa_simd_f64 em = fa_exp_neg_f64(fa_neg_abs_f64(x), fa_set1_f64(0.0), 0, &t, &n);
    fa_simd_f64 e = fa_scale_exp_f64(em, t, n);
    /* |x| > 40 (FA_TINY_X_F64): mish(x) rounds to x e^x (x < 0) or x (x > 0), the ratios
     * below taken with e = 0 there, so that e^2 (underflowing from |x| = 354) and subnormal
     * e never enter an instruction (a microcode assist each on Intel cores, FTZ off) */
    fa_mask_f64 small = fa_cmpgt_f64(fa_abs_f64(x), fa_set1_f64(FA_TINY_X_F64));
    fa_mask_f64 deep = fa_cmplt_f64(x, fa_set1_f64(-708.0));
    fa_simd_f64 es = fa_select_f64(small, fa_set1_f64(0.0), e);
    fa_simd_f64 e2 = fa_add_f64(es, two);
    fa_simd_f64 den = fa_fmadd_f64(es, e2, two);
    /* x <= 0 */
    fa_simd_f64 yneg = fa_div_f64(fa_mul_f64(x, fa_mul_f64(es, e2)), den);
    yneg = fa_select_f64(small, fa_mul_f64(x, fa_select_f64(fa_cmplt_f64(fa_abs_f64(x), fa_set1_f64(708.0)), e,
                                                             fa_set1_f64(0.0))), yneg);
    /* x > 0 */
    fa_simd_f64 q = fa_div_f64(fa_mul_f64(two, fa_mul_f64(es, es)),
                               fa_fmadd_f64(fa_mul_f64(two, es), fa_add_f64(one, es), one));
    fa_simd_f64 y = fa_select_f64(fa_cmpgt_f64(x, fa_set1_f64(0.0)), fa_mul_f64(x, fa_sub_f64(one, q)), yneg);
    if (fa_mask_any_f64(deep)) {        /* e subnormal: x*n on e's mantissa, scaled last */
        /* (deep lanes all below -760, -inf entries: x e^x rounds to -0.0 there, as below;
         * 2^16 in cache with 10% -inf, Intel Xeon: 107 -> 88 us, N(0, 3) 67) */
        if (!fa_mask_any_f64(fa_mask_and_f64(deep, fa_cmpge_f64(x, fa_set1_f64(-760.0)))))
            return fa_select_f64(deep, fa_set1_f64(-0.0), y);
        fa_simd_f64 xc = fa_max_f64(fa_set1_f64(-760.0), x);
        yneg = fa_div_f64(fa_mul_f64(xc, fa_mul_f64(em, e2)), den);
        y = fa_select_f64(deep, fa_scale_exp_f64(yneg, t, n), y);
    }
    return y;
}

/*
 * mish_grad(x, g) = (tanh(sp) + x sech^2(sp) sigmoid(x)) g, sp = softplus(x); with
 * e = e^-|x|, n = e (e + 2) (as the forward):
 *   x <= 0:  e ((e + 2)(n + 2) + 4x (1 + e)) / (n + 2)^2   (e through fa_grad_exp_f64)
 *   x > 0:   1 + 2e^2 (2x (1 + e) - D) / D^2,  D = 1 + 2e (1 + e)   (>= 0.6: no cancellation)
 * x clamped to [-800, 800] in the brackets.  f' has a root at x = -1.19240 where the first
 * bracket cancels (ill-conditioned there).  mish'(0) = 0.6, (+inf) = 1, (-inf) = -0.0.
 */
FA_INLINE fa_simd_f64 fa_mish_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    const fa_simd_f64 one = fa_set1_f64(1.0), two = fa_set1_f64(2.0), zero = fa_set1_f64(0.0);
    fa_simd_f64 t, n, el;
    fa_simd_f64 em = fa_exp_neg_dd_f64(fa_max_f64(fa_set1_f64(FA_GRAD_DEEP_F64), fa_neg_abs_f64(x)), zero,
                                       FA_EXP_M1, &t, &n, &el);      /* e normal (fa_grad_exp_f64) */
    fa_simd_f64 e = fa_scale_exp_f64(em, t, n), elo = fa_scale_exp_f64(el, t, n);
    fa_simd_f64 xc = fa_min_f64(fa_set1_f64(800.0), fa_max_f64(fa_set1_f64(-800.0), x));
    /* x > 0 side from e floored at 2^-400 (e^2 stays off the subnormals; 2 e^2 r far below
     * ulp(1) there either way) */
    fa_simd_f64 ep = fa_max_f64(e, fa_set1_f64(0x1p-400));
    fa_simd_f64 ope = fa_add_f64(one, ep), e2 = fa_add_f64(e, two);
    fa_simd_f64 n2 = fa_fmadd_f64(e, e2, two);                                    /* n + 2 */
    /* x <= 0: (e + 2)(n + 2) + 4x (1 + e) = ((e + 4) e + 6 + 4x) e + 4 + 4x, Horner in
     * double-double on e + elo (it cancels at the root; 4x, 6 + 4x and 4 + 4x are exact
     * there) */
    fa_simd_f64 x4 = fa_mul_f64(fa_set1_f64(4.0), xc);
    fa_simd_f64 al, ah = fa_two_sum_f64(e, fa_set1_f64(4.0), &al);
    al = fa_add_f64(al, elo);
    fa_simd_f64 bl, bh = fa_two_prod_f64(ah, e, &bl);
    bl = fa_add_f64(bl, fa_fmadd_f64(al, e, fa_mul_f64(ah, elo)));
    fa_simd_f64 cl, ch = fa_two_sum_f64(bh, fa_add_f64(fa_set1_f64(6.0), x4), &cl);
    cl = fa_add_f64(cl, bl);
    fa_simd_f64 dl, dh = fa_two_prod_f64(ch, e, &dl);
    dl = fa_add_f64(dl, fa_fmadd_f64(cl, e, fa_mul_f64(ch, elo)));
    fa_simd_f64 fl, fh = fa_two_sum_f64(dh, fa_add_f64(fa_set1_f64(4.0), x4), &fl);
    fa_simd_f64 cneg = fa_div_f64(fa_add_f64(fh, fa_add_f64(fl, dl)), fa_mul_f64(n2, n2));
    fa_simd_f64 d = fa_fmadd_f64(fa_mul_f64(two, ep), ope, one);
    fa_simd_f64 r = fa_div_f64(fa_fmsub_f64(fa_add_f64(xc, xc), ope, d), fa_mul_f64(d, d));
    fa_simd_f64 cpos = fa_fmadd_f64(fa_mul_f64(two, fa_mul_f64(ep, ep)), r, one);
    fa_mask_f64 pos = fa_cmpgt_f64(x, zero);
    return fa_grad_exp_f64(g, fa_select_f64(pos, cpos, cneg), fa_select_f64(pos, one, e),
                           fa_select_f64(pos, zero, fa_neg_abs_f64(x)), zero, 0);
}

FA_UNARY_KERNEL(mish, f64, fa_mish_v_f64)
FA_BINARY_KERNEL(mish_grad, f64, fa_mish_grad_v_f64)

/* ==== float32 gradients in float32 lanes (the design: kernels/fa_map.h) ==================== */

/* ---- log_sigmoid, softplus (beta = 1) ------------------------------------------------------
 * sigmoid(w) g for w = -x (log_sigmoid) or w = x (softplus): with e = e^-|w|, g/(1 + e)
 * (w > 0) or g e/(1 + e) (no cancellation).  w < -80: the rare path (w -> +inf gives g;
 * -inf: 0 g).  Measured max 2.22 ULP, every variant (log_sigmoid and softplus with beta 1,
 * g = 1, every 211th float32 in +-100). */
FA_INLINE fa_simd_f32 fa_sigmoid_times_f32(fa_simd_f32 w, fa_simd_f32 g)
{
    fa_simd_f32 e = fa_exp_neg_normal_f32(fa_grad_negabs_f32(w));
    fa_simd_f32 num = fa_select_f32(fa_cmpgt_f32(w, fa_set1_f32(0.0f)), fa_set1_f32(1.0f), e);
    return fa_mul_f32(fa_div_f32(num, fa_add_f32(fa_set1_f32(1.0f), e)), g);
}

/* the rare lanes: sigmoid(w) g = e^w g to float32 precision (w < -80) in double;
 * log_sigmoid w = -x; softplus w = x, or g where x > the threshold (p->b: a float32) */
FA_INLINE fa_simd_f64 fa_log_sigmoid_grad_tail_f64w(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    return fa_grad_tail_exp_f64w(fa_neg_f64(x), g);
}
FA_INLINE fa_simd_f64 fa_softplus1_grad_tail_f64w(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    return fa_select_f64(fa_cmpgt_f64(x, fa_set1_f64(p->b)), g, fa_grad_tail_exp_f64w(x, g));
}

/* log_sigmoid_grad(x, g) = sigmoid(-x) g.  log_sigmoid'(-inf) = 1, (+inf) = 0. */
FA_INLINE fa_simd_f32 fa_log_sigmoid_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    fa_simd_f32 y = fa_sigmoid_times_f32(fa_neg_f32(x), g);
    return fa_grad_rare_f32(fa_cmpgt_f32(x, fa_set1_f32(FA_GRAD_RARE_F32)), y, x, g, p, fa_log_sigmoid_grad_tail_f64w);
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
    return fa_grad_rare_f32(fa_cmplt_f32(x, fa_set1_f32(-FA_GRAD_RARE_F32)), y, x, g, p, fa_softplus1_grad_tail_f64w);
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

/* ---- mish ----------------------------------------------------------------------------------
 * mish_grad(x, g) = (tanh(sp) + x sech^2(sp) sigmoid(x)) g in float32 lanes, with
 * e = e^-|x| (|x| clamped to 87), n + 2 = e^2 + 2e + 2 and D = 1 + 2e (1 + e):
 *   x <= 0:  e ((e + 2)(n + 2) + 4x (1 + e)) / (n + 2)^2      (the float64 kernel's form;
 *            bracket and (n + 2)^2 in Horner form in e, e = 2^k (1 + m) multiplied in as
 *            2^k (bracket (1 + m)) so e's rounding does not add)
 *   x > 0:   (D (1 + 2e) + 4x e^2 (1 + e)) / D^2                (the float64 kernel's
 *            1 + 2e^2 (2x (1 + e) - D)/D^2 over one denominator: D^2 - 2e^2 D = D (1 + 2e),
 *            all terms positive; x clamped to 87, where e^2 is 0)
 * one division for both.  The x <= 0 bracket cancels towards the root x0 = -1.19243 (at
 * -0.596 and -2.385 the terms are ~1.8 times the sum), so on [2 x0h, x0h/2] =
 * [-2.3849, -0.5962] mish' = d R(u) (fa_grad_near_root_f32; R of degree 11 fitted relative,
 * 2^-29.1: python tools/fit/fit_grad_root_f32.py mish --degree 11), accurate through the root.
 * x < -80 (mish' ~ x e^x nears the subnormals; a large g may still make it normal) and -inf:
 * the rare path, mish' = e^x (1 + x) there to 2^-115 relative, in double
 * (fa_silu_grad_tail_f64w).  mish'(0) = 0.6, (+inf) = 1, (-inf) = -0.0
 * (0 g).  Measured max: against mpmath (tests/test_gradients.py's sweep, 9699 points, g = 1)
 * 2.58 ULP (avx2, avx512), 3.18 (scalar, sse2), 1.75 inside `ill`; against the float64 kernel
 * over 4e6 random float32 in [-10, 2]: 3.79 at x = -0.1926 (avx512), 4.93 at x = -0.1705
 * (sse2); bound 8.  2.8x faster than the float64 kernel it replaced (2^20, avx512). */
static const float fa_mish_grad_root_c_f32[13] = {
    0x1.115accp-2f, -0x1.647f20p-27f, 0x1.a34a26p-3f, 0x1.574f14p-5f, -0x1.4c2304p-6f, -0x1.03378ap-6f,
    -0x1.b847b0p-9f, 0x1.1f065ep-10f, 0x1.025688p-10f, 0x1.001ef4p-12f, -0x1.5a0c30p-15f, -0x1.674486p-15f,
    -0x1.22d580p-17f};
#define FA_MISH_GRAD_ROOT_HI_F32 (-0x1.31432cp+0f)      /* mish' root -1.1924312145154952121 */
#define FA_MISH_GRAD_ROOT_LO_F32 (-0x1.a25b08p-29f)
FA_INLINE fa_simd_f32 fa_mish_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    const fa_simd_f32 one = fa_set1_f32(1.0f), two = fa_set1_f32(2.0f), four = fa_set1_f32(4.0f);
    fa_simd_f32 k, s;                                   /* e = s (1 + m), s = 2^k */
    fa_simd_f32 m = fa_expm1_reduced_f32(fa_exp_reduce_f32(fa_grad_negabs_f32(x), &k, &s));
    fa_simd_f32 e = fa_fmadd_f32(s, m, s);
    fa_simd_f32 x4 = fa_mul_f32(four, fa_max_f32(fa_set1_f32(-FA_GRAD_RARE_F32),
                                                 fa_min_f32(fa_set1_f32(87.0f), x)));   /* NaN kept; y finite at -inf */
    /* x <= 0, in Horner form: bracket = ((e + 4) e + 6 + 4x) e + 4 + 4x, e times it as
     * s (bracket + bracket m) (e's own rounding left out), (n + 2)^2 = (((e + 4) e + 8) e + 8) e + 4 */
    fa_simd_f32 ep4 = fa_add_f32(e, four);
    fa_simd_f32 bracket = fa_fmadd_f32(fa_fmadd_f32(ep4, e, fa_add_f32(fa_set1_f32(6.0f), x4)), e, fa_add_f32(four, x4));
    fa_simd_f32 num_neg = fa_mul_f32(s, fa_fmadd_f32(bracket, m, bracket));
    fa_simd_f32 eight = fa_set1_f32(8.0f);
    fa_simd_f32 den_neg = fa_fmadd_f32(fa_fmadd_f32(fa_fmadd_f32(ep4, e, eight), e, eight), e, four);
    /* x > 0 */
    fa_simd_f32 ep = fa_max_f32(e, fa_set1_f32(0x1p-40f));     /* e^2 off the subnormals (x > 27.7: y = 1 either way) */
    fa_simd_f32 d = fa_fmadd_f32(fa_add_f32(ep, ep), fa_add_f32(one, ep), one);
    fa_simd_f32 num_pos = fa_fmadd_f32(d, fa_fmadd_f32(two, ep, one), fa_mul_f32(fa_mul_f32(x4, ep), fa_fmadd_f32(ep, ep, ep)));
    fa_mask_f32 pos = fa_cmpgt_f32(x, fa_set1_f32(0.0f));
    fa_simd_f32 y = fa_div_f32(fa_select_f32(pos, num_pos, num_neg), fa_select_f32(pos, fa_mul_f32(d, d), den_neg));
    y = fa_grad_near_root_f32(y, x, FA_MISH_GRAD_ROOT_HI_F32, FA_MISH_GRAD_ROOT_LO_F32, fa_mish_grad_root_c_f32, 13);
    y = fa_mul_f32(y, g);
    return fa_grad_rare_f32(fa_cmplt_f32(x, fa_set1_f32(-FA_GRAD_RARE_F32)), y, x, g, p, fa_silu_grad_tail_f64w);
}
FA_BINARY_KERNEL(mish_grad, f32, fa_mish_grad_v_f32)
