/*
 * fa_elu.h -- the ELU family, forwards and gradients, float32 and float64:
 *   elu(x; alpha)  = x > 0 ? x : alpha expm1(x)
 *   selu(x)        = scale (x > 0 ? x : alpha expm1(x))   (torch's constants)
 *   celu(x; alpha) = x > 0 ? x : alpha expm1(x/alpha)
 * Shared math: expm1 of the negative side (math/: fa_expm1_neg_f32, fa_expm1_neg_f64), one
 * core per dtype with (z, c, x-side) as parameters; the gradients are c e^z g through
 * fa_grad_exp_f64 (math/).
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

/* celu: alpha > 0 (the argument layer rejects the rest).  |x/alpha| < 2^-25: x itself
 * (alpha expm1(z) = x (1 + z/2 + ...) rounds there), so that a z rounded into the subnormals
 * (alpha = 1000, x = -9.3e-38: 86 ULP before) or alpha = +inf (z = -0: inf * -0 was NaN) give
 * the limit x. */
FA_INLINE fa_simd_f32 fa_celu_v_f32(fa_simd_f32 x, const fa_params *p)
{
    fa_simd_f32 alpha = fa_set1_f32((float)p->a), z = fa_div_f32(x, alpha);
    fa_simd_f32 em = fa_expm1_neg_f32(fa_negabs_clamped_f32(z));
    fa_mask_f32 neg = fa_mask_and_f32(fa_cmplt_f32(x, fa_set1_f32(0.0f)),
                                      fa_cmpge_f32(fa_abs_f32(z), fa_set1_f32(0x1p-25f)));
    return fa_select_f32(neg, fa_mul_f32(alpha, em), x);
}
FA_UNARY_KERNEL(celu, f32, fa_celu_v_f32)

/* The negative branch of the ELU family: c * expm1(min(z, 0)); x >= 0 (+-0 included) gives
 * xpos: c expm1(+-0) is xpos's +-0 there for a finite c > 0, and an infinite alpha (inf * -0 =
 * NaN before) gets the limit +-0, as the float32 kernels. */
FA_INLINE fa_simd_f64 fa_elu_core_f64(fa_simd_f64 x, fa_simd_f64 z, fa_simd_f64 c, fa_simd_f64 xpos)
{
    fa_simd_f64 zn = fa_min_f64(fa_set1_f64(0.0), z);
    fa_simd_f64 em = fa_expm1_neg_f64(zn);
    return fa_select_f64(fa_cmpge_f64(x, fa_set1_f64(0.0)), xpos, fa_mul_f64(c, em));
}

/* elu(x; alpha) = x > 0 ? x : alpha*expm1(x).  Measured max 1.07 ULP.  elu(-inf) = -alpha,
 * elu(-0.0) = -0.0 (alpha > 0). */
FA_INLINE fa_simd_f64 fa_elu_v_f64(fa_simd_f64 x, const fa_params *p)
{
    return fa_elu_core_f64(x, x, fa_set1_f64(p->a), x);
}

/*
 * The ELU family's gradients: g for x > 0 (times `scale` for selu), else c e^z g with
 * z = min(x, 0) (x/alpha for celu) through fa_grad_exp_f64.  At x = 0 torch's side:
 * elu'(0) = alpha, selu'(0) = scale alpha, celu'(0) = 1.  f'(-inf) = 0.
 */
FA_INLINE fa_simd_f64 fa_elu_grad_core_f64(fa_simd_f64 x, fa_simd_f64 z, fa_simd_f64 c, fa_simd_f64 ypos,
                                           fa_simd_f64 g)
{
    fa_simd_f64 zn = fa_min_f64(fa_set1_f64(0.0), z);
    fa_simd_f64 yneg = fa_grad_exp_f64(g, c, fa_exp_minus_abs_grad_f64(zn), zn, fa_set1_f64(0.0), 0);
    return fa_select_f64(fa_cmpgt_f64(x, fa_set1_f64(0.0)), ypos, yneg);
}
FA_INLINE fa_simd_f64 fa_elu_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    return fa_elu_grad_core_f64(x, x, fa_set1_f64(p->a), g, g);
}

/* selu(x) = scale*(x > 0 ? x : alpha*expm1(x)), scale*alpha as one constant (torch's
 * constants, product rounded once in mpmath).  Measured max 2.12 ULP. */
FA_INLINE fa_simd_f64 fa_selu_v_f64(fa_simd_f64 x, const fa_params *p)
{
    (void)p;
    const fa_simd_f64 scale = fa_set1_f64(0x1.0cfabd6a91132p+0);       /* 1.0507009873554804934 */
    const fa_simd_f64 scale_alpha = fa_set1_f64(0x1.c212cc640f031p+0); /* scale * 1.6732632423543772848 */
    return fa_elu_core_f64(x, x, scale_alpha, fa_mul_f64(scale, x));
}

FA_INLINE fa_simd_f64 fa_selu_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    const fa_simd_f64 scale = fa_set1_f64(0x1.0cfabd6a91132p+0);       /* as fa_selu_v_f64 */
    const fa_simd_f64 scale_alpha = fa_set1_f64(0x1.c212cc640f031p+0);
    return fa_elu_grad_core_f64(x, x, scale_alpha, fa_mul_f64(scale, g), g);
}

/* celu(x; alpha) = x > 0 ? x : alpha*expm1(x/alpha), alpha > 0.  Measured max 1.07 ULP
 * (alpha 1, 0.5), 2.00 for alpha 0.37, 3.7, 1000 (x/alpha rounded; every variant, 3000
 * points a binade sweep of x/alpha in [-745, -1e-300], mpmath).
 * |x/alpha| < 2^-54: x itself (as the float32 kernel: a subnormal z, alpha = +inf).  The
 * rounding of z = x/alpha is not amplified here (|z e^z / expm1(z)| <= 1 for z <= 0). */
FA_INLINE fa_simd_f64 fa_celu_v_f64(fa_simd_f64 x, const fa_params *p)
{
    fa_simd_f64 alpha = fa_set1_f64(p->a), z = fa_div_f64(x, alpha);
    return fa_select_f64(fa_cmplt_f64(fa_abs_f64(z), fa_set1_f64(0x1p-54)), x, fa_elu_core_f64(x, z, alpha, x));
}

/* celu_grad = g (x > 0), e^(x/alpha) g.  z = x/alpha is rounded (2^-53 |z|), and e^z carries
 * that |z| times: up to ~745 ULP where e^z is still normal (celu_grad(-0.5193, alpha=0.001)
 * was 385 ULP).  Its rounding error zl = (x - z alpha)/alpha (z alpha as an exact two-product,
 * x - hi exact by Sterbenz) enters as e^(z + zl) = e^z (1 + zl) (|zl| < 2^-43: the dropped
 * zl^2/2 is below 2^-87), and through fa_grad_exp_f64's zl where e^z is deep.  Measured max
 * 1.2 ULP for alpha 0.001, 0.37, 3.7, 1000 (every variant, the sweep above). */
FA_INLINE fa_simd_f64 fa_celu_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    const fa_simd_f64 alpha = fa_set1_f64(p->a), zero = fa_set1_f64(0.0);
    const fa_simd_f64 z = fa_div_f64(x, alpha);
    fa_simd_f64 plo, phi = fa_two_prod_f64(z, alpha, &plo);
    fa_simd_f64 zl = fa_div_f64(fa_sub_f64(fa_sub_f64(x, phi), plo), alpha);
    /* z in (-1024, 0) (|zl| < 2^-43; below, e^z is 0 anyway); x = -inf, 0, NaN: nothing to add */
    const fa_mask_f64 near = fa_mask_and_f64(fa_cmplt_f64(z, zero), fa_cmpgt_f64(z, fa_set1_f64(-1024.0)));
    zl = fa_select_f64(near, zl, zero);
    const fa_simd_f64 zn = fa_min_f64(zero, z), e = fa_exp_minus_abs_grad_f64(zn);
    const fa_simd_f64 yneg = fa_grad_exp_f64(g, fa_set1_f64(1.0), fa_fmadd_f64(e, zl, e), zn, zl, FA_EXP_LOW);
    return fa_select_f64(fa_cmpgt_f64(x, zero), g, yneg);
}

FA_UNARY_KERNEL(elu, f64, fa_elu_v_f64)
FA_BINARY_KERNEL(elu_grad, f64, fa_elu_grad_v_f64)
FA_UNARY_KERNEL(selu, f64, fa_selu_v_f64)
FA_BINARY_KERNEL(selu_grad, f64, fa_selu_grad_v_f64)
FA_UNARY_KERNEL(celu, f64, fa_celu_v_f64)
FA_BINARY_KERNEL(celu_grad, f64, fa_celu_grad_v_f64)

/* ==== float32 gradients in float32 lanes (the design: kernels/fa_map.h) ==================== */

/* ---- the ELU family ------------------------------------------------------------------------
 * g ypos for x > 0, else (c e^x) g with c = ch + cl a double constant split in two floats
 * (c e^x = e ch + e cl, one FMA: c's own rounding does not show).  x < -69: the rare path
 * (FA_ELU_GRAD_RARE_F32: e cl ~ 2^-24 e must stay off the subnormals, kernels/fa_map.h),
 * c e^x g in double (fa_elu_grad_tail_f64w).
 * At x = 0 torch's side (c g); f'(-inf) = 0.  Measured max (g = 1, every 211th float32 in
 * +-100): elu (alpha 1) and celu (alpha 1) 0.93 ULP (scalar, sse2), 0.99 (avx2), 0.56 (avx512:
 * the table exp); selu 1.80 (scalar, sse2), 1.55 (avx2), 1.43 (avx512). */
#define FA_ELU_GRAD_RARE_F32 (-69.0f)
FA_INLINE fa_simd_f32 fa_elu_grad_core_f32(fa_simd_f32 x, fa_simd_f32 g, double c, fa_simd_f32 ypos)
{
    float ch = (float)c, cl = isfinite(ch) ? (float)(c - (double)ch) : 0.0f;   /* alpha = inf: no inf - inf */
    fa_simd_f32 z = fa_max_f32(fa_set1_f32(FA_ELU_GRAD_RARE_F32), fa_min_f32(fa_set1_f32(0.0f), x));
    fa_simd_f32 e = fa_exp_neg_normal_f32(z);
    fa_simd_f32 ce = fa_fmadd_f32(e, fa_set1_f32(ch), fa_mul_f32(e, fa_set1_f32(cl)));
    return fa_select_f32(fa_cmpgt_f32(x, fa_set1_f32(0.0f)), ypos, fa_mul_f32(ce, g));
}

/* the rare lanes (x < -69): c e^x g in double, c = alpha, scale alpha (selu) or 1 (celu) */
FA_INLINE fa_simd_f64 fa_elu_grad_tail_f64w(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    return fa_grad_tail_exp_f64w(x, fa_mul_f64(fa_set1_f64(p->a), g));
}
FA_INLINE fa_simd_f64 fa_selu_grad_tail_f64w(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    return fa_grad_tail_exp_f64w(x, fa_mul_f64(fa_set1_f64(0x1.c212cc640f031p+0), g));
}
FA_INLINE fa_simd_f64 fa_celu1_grad_tail_f64w(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    return fa_grad_tail_exp_f64w(x, g);
}

/* elu_grad(x, g; alpha) = g (x > 0), alpha e^x g. */
FA_INLINE fa_simd_f32 fa_elu_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    fa_simd_f32 y = fa_elu_grad_core_f32(x, g, p->a, g);
    return fa_grad_rare_f32(fa_cmplt_f32(x, fa_set1_f32(FA_ELU_GRAD_RARE_F32)), y, x, g, p, fa_elu_grad_tail_f64w);
}
FA_BINARY_KERNEL(elu_grad, f32, fa_elu_grad_v_f32)

/* selu_grad(x, g) = scale g (x > 0, scale as two floats: g sh + g sl, g clamped to finite
 * in the small term, whose sign is opposite: an infinite g gave inf - inf, NaN, before
 * 2026-12-07), (scale alpha) e^x g (torch's constants as fa_selu_grad_v_f64). */
FA_INLINE fa_simd_f32 fa_selu_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    const double scale = 0x1.0cfabd6a91132p+0, scale_alpha = 0x1.c212cc640f031p+0;
    const float sh = (float)scale, sl = (float)(scale - (double)(float)scale);
    const fa_simd_f32 gfin = fa_min_f32(fa_set1_f32(0x1.fffffep127f), fa_max_f32(fa_set1_f32(-0x1.fffffep127f), g));  /* NaN kept */
    fa_simd_f32 ypos = fa_fmadd_f32(g, fa_set1_f32(sh), fa_mul_f32(gfin, fa_set1_f32(sl)));
    fa_simd_f32 y = fa_elu_grad_core_f32(x, g, scale_alpha, ypos);
    return fa_grad_rare_f32(fa_cmplt_f32(x, fa_set1_f32(FA_ELU_GRAD_RARE_F32)), y, x, g, p, fa_selu_grad_tail_f64w);
}
FA_BINARY_KERNEL(selu_grad, f32, fa_selu_grad_v_f32)

/* celu_grad(x, g; alpha) = g (x > 0), e^(x/alpha) g.  alpha = 1: native (x/alpha exact);
 * any other alpha: x/alpha rounded in float32 would be amplified |x/alpha| times, so the
 * float64 kernel runs. */
FA_INLINE fa_simd_f32 fa_celu1_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    fa_simd_f32 y = fa_elu_grad_core_f32(x, g, 1.0, g);
    return fa_grad_rare_f32(fa_cmplt_f32(x, fa_set1_f32(FA_ELU_GRAD_RARE_F32)), y, x, g, p, fa_celu1_grad_tail_f64w);
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
