/*
 * fa_logit.h -- logit(p; eps) = log(p/(1-p)) (the inverse of sigmoid) and its gradient,
 * float64 and float32.  Shared math: one division p/(1-p) reduced to 2^k m with k read
 * off the bits, and 2 atanh(s) (math/: fa_2atanh_poly_f64, fa_2atanh_small_f32); the
 * float32 kernel with eps computes its two bound values with the float64 kernel, so the
 * float64 kernel comes first here.
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

/*
 * logit(p; eps) = log(p/(1-p)) with one division and no separate log reduction:
 * p/(1-p) = 2^k m, m in [sqrt(1/2), sqrt(2)], k read off the bits of a seed p * rcp(1-p)
 * (fa_rcp_approx_f64: 2^-11), so that logit(p) = k ln2 + 2 atanh(s) with
 *   s = (p 2^-k - (1-p))/(p 2^-k + (1-p)),  |s| <= 0.1719 (0.17158 + the seed's slack),
 * 2 atanh(s) = 2s + s z P(z), z = s^2 (fa_2atanh_poly_f64, 2^-57.5).
 * Numerator and denominator:
 *   FMA: p (2^-k + 1) - 1 and p (2^-k - 1) + 1, one rounding each (exact products);
 *   no FMA: with omp = fl(1-p), 1 - p = omp + l (l exact), p 2^-k on the bits:
 *     p 2^-k - omp - l (the difference exact by Sterbenz; l = 0 for p >= 1/2), and
 *     1 + (p 2^-k - p) for p < 1/2 (k <= 0; exact inner difference for k = 0, -1),
 *     p 2^-k + omp for p >= 1/2 (omp exact).
 * Either way, for k = 0 (p in [0.41, 0.59]) s = 2p - 1 over exactly 1: no rounding near
 * p = 1/2, where logit(p) ~ 4(p - 1/2) is small.  k ln2 + 2s is a Fast2Sum pair (ln2 =
 * hi + lo, k hi exact).  For |k| = 1 the roundings of the division and of numerator and
 * denominator pass into the result almost whole (|2s| ~ |logit| at s = -+0.17).
 * Measured max, every variant: 0.82 ULP (tools/ulp_report.py --n 20000 logit); 1.50 ULP
 * (1.495 at p = 0.41205, FMA variants; 1.502 at p = 0.58853, scalar and sse2) over 8.4e7
 * random p (all binades, around 1/2, around 1) against long double (log1pl((2p-1)/(1-p))
 * on [1/4, 3/4], logl(p/(1-p)) elsewhere).  The former kernel (log(q) + c, q = p/(1-p)
 * with its rounding error c, fa_log_f64: three divisions) had 0.85.
 * Outside [2^-1000, 1 - 2^-52]: p in (0, 2^-1000) goes through the core as p 2^200 with
 * 200 ln2 taken off k (its 1 - p rounds to 1 either way), p = 1 - 2^-53 as -logit(2^-53);
 * logit(0) = -inf, logit(1) = +inf, outside [0, 1] or NaN -> NaN.  A vector takes that
 * path only if one of its lanes needs it (every lane gets the same bits either way): the
 * same core plus a dozen selects, not a second algorithm.
 * ns per element, C loop over 2^18 (min of 60), former kernel -> this one: uniform p in
 * [0, 1): avx512 0.88 -> 0.52, avx2 1.83 -> 1.29, sse2 5.46 -> 3.39, scalar 9.2 -> 8.1;
 * standard normal * 3 (87% outside [0, 1], every vector on the rare path): avx512 0.88 ->
 * 0.86, avx2 1.81 -> 2.03, sse2 5.46 -> 6.10, scalar 9.35 -> 9.32.
 */
/* p in [2^-1000, 1 - 2^-52]; the result is logit(p) + (FA_MAGIC_F64 + 1023 - kbias) ln2 */
FA_INLINE fa_simd_f64 fa_logit_core_f64(fa_simd_f64 p, fa_simd_f64 kbias)
{
    const fa_simd_f64 one = fa_set1_f64(1.0);
    fa_simd_f64 omp = fa_sub_f64(one, p);
    fa_simd_f64 seed = fa_mul_f64(p, fa_rcp_approx_f64(omp));
    /* the bits of seed plus this: exponent field k + 1023 with seed 2^-k in [sqrt(1/2), sqrt(2)) */
    fa_simd_f64 u = fa_bits_add_f64(seed, fa_set1_bits_f64(0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull));
    fa_simd_f64 kfield = fa_and_f64(u, fa_set1_bits_f64(0x7ff0000000000000ull));
    fa_simd_f64 k = fa_sub_f64(fa_or_f64(fa_bits_srl_f64(u, 52), fa_set1_f64(FA_MAGIC_F64)), kbias);
#if FA_HAVE_FMA
    /* num = p (2^-k + 1) - 1, den = p (2^-k - 1) + 1, each rounded once: 2^-k +- 1 is exact
     * for k in [-52, 52] (p <= 1 - 2^-52 keeps k <= 52; below -52, |logit| > 36 and the
     * rounding of 2^-k +- 1 is far below its ULP) */
    fa_simd_f64 pow2 = fa_bits_sub_f64(fa_set1_bits_f64(0x7fe0000000000000ull), kfield);    /* 2^-k */
    fa_simd_f64 num = fa_fmadd_f64(p, fa_add_f64(pow2, one), fa_set1_f64(-1.0));
    fa_simd_f64 den = fa_fmadd_f64(p, fa_sub_f64(pow2, one), one);
#else
    fa_simd_f64 l = fa_sub_f64(fa_sub_f64(one, omp), p);            /* 1 - p = omp + l */
    fa_simd_f64 pk = fa_bits_sub_f64(fa_bits_add_f64(p, fa_set1_bits_f64(0x3ff0000000000000ull)), kfield);
    fa_simd_f64 num = fa_sub_f64(fa_sub_f64(pk, omp), l);
    fa_simd_f64 den = fa_select_f64(fa_cmplt_f64(p, fa_set1_f64(0.5)),
                                    fa_add_f64(one, fa_sub_f64(pk, p)), fa_add_f64(pk, omp));
#endif
    fa_simd_f64 s = fa_div_f64(num, den);
    fa_simd_f64 z = fa_mul_f64(s, s);
    fa_simd_f64 two_s = fa_add_f64(s, s);
    const fa_simd_f64 ln2_hi = fa_set1_f64(FA_LN2_HI_F64);        /* k ln2_hi is exact */
    fa_simd_f64 hi = fa_fmadd_f64(k, ln2_hi, two_s);
    fa_simd_f64 lo = fa_add_f64(fa_fmsub_f64(k, ln2_hi, hi), two_s); /* |k ln2| > |2s| or k = 0 */
    lo = fa_fmadd_f64(k, fa_set1_f64(FA_LN2_LO_F64), lo);
    return fa_add_f64(hi, fa_fmadd_f64(fa_mul_f64(s, z), fa_2atanh_poly_f64(z), lo));
}
FA_INLINE fa_simd_f64 fa_logit_v_f64(fa_simd_f64 x, const fa_params *prm)
{
    const fa_simd_f64 one = fa_set1_f64(1.0);
    if (prm->a >= 0)
        x = fa_min_f64(fa_set1_f64(1.0 - prm->a), fa_max_f64(fa_set1_f64(prm->a), x));
    fa_mask_f64 core = fa_cmpge_f64(fa_min_f64(fa_mul_f64(x, fa_set1_f64(0x1p948)), fa_sub_f64(one, x)),
                                    fa_set1_f64(0x1p-52));             /* false for NaN */
    const fa_simd_f64 kbias = fa_set1_f64(FA_MAGIC_F64 + 1023);
    if (FA_LIKELY(!fa_mask_any_f64(fa_mask_not_f64(core))))
        return fa_logit_core_f64(x, kbias);
    /* p < 2^-1000: p 2^200 through the core, 200 ln2 taken off k (1 - p and 1 - p 2^200 both
     * round to 1); p > 1 - 2^-52: -logit(1 - p) (1 - p exact).  Lanes outside (0, 1) and NaN
     * go through the core as 1/2 (no NaN, inf or underflow in it: those cost time) and are
     * overwritten by -inf (p = 0), +inf (p = 1) or NaN */
    fa_mask_f64 tiny = fa_cmplt_f64(x, fa_set1_f64(0x1p-1000));
    fa_mask_f64 top = fa_cmpgt_f64(x, fa_set1_f64(0x1.ffffffffffffep-1));   /* 1 - 2^-52 */
    fa_mask_f64 inside = fa_mask_and_f64(fa_cmpgt_f64(x, fa_set1_f64(0.0)), fa_cmplt_f64(x, one));
    fa_simd_f64 arg = fa_select_f64(tiny, fa_mul_f64(x, fa_set1_f64(0x1p200)),
                                    fa_select_f64(top, fa_sub_f64(one, x), x));
    arg = fa_select_f64(inside, arg, fa_set1_f64(0.5));
    fa_simd_f64 y = fa_logit_core_f64(arg, fa_select_f64(tiny, fa_set1_f64(FA_MAGIC_F64 + 1223), kbias));
    y = fa_select_f64(top, fa_neg_f64(y), y);
    fa_simd_f64 edge = fa_select_f64(fa_cmpeq_f64(x, fa_set1_f64(0.0)), fa_set1_f64(-INFINITY),
                                     fa_select_f64(fa_cmpeq_f64(x, one), fa_set1_f64(INFINITY), fa_set1_f64(NAN)));
    return fa_select_f64(inside, y, edge);
}

/*
 * logit_grad(p, g; eps) = g/(p (1 - p)) (1 - p exact for p >= 1/2, else rounded: <= 2 ULP);
 * +-inf at p = 0 and 1.  eps given (prm->a >= 0): 0 outside [eps, 1 - eps] (torch's
 * logit_backward; the bounds as the forward's clamp); eps None: NaN outside [0, 1].
 */
FA_INLINE fa_simd_f64 fa_logit_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *prm)
{
    fa_simd_f64 y = fa_div_f64(g, fa_mul_f64(x, fa_sub_f64(fa_set1_f64(1.0), x)));
    if (prm->a >= 0)
        return fa_grad_where_f64(fa_mask_and_f64(fa_cmpge_f64(x, fa_set1_f64(prm->a)),
                                                 fa_cmple_f64(x, fa_set1_f64(1.0 - prm->a))), y, x, g);
    fa_mask_f64 out = fa_mask_or_f64(fa_cmplt_f64(x, fa_set1_f64(0.0)), fa_cmpgt_f64(x, fa_set1_f64(1.0)));
    return fa_select_f64(out, fa_set1_f64(NAN), y);
}

FA_UNARY_KERNEL(logit, f64, fa_logit_v_f64)
FA_BINARY_KERNEL(logit_grad, f64, fa_logit_grad_v_f64)

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

/* ==== float32 gradients in float32 lanes (the design: kernels/fa_map.h) ==================== */

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
