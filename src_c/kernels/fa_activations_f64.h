/*
 * fa_activations_f64.h -- float64 transcendental activations over fa_math_f64.h.
 * Included once per ISA.  "Measured max": the largest error in ULPs, the same or nearly
 * on every variant (scalar, sse2 without FMA; avx2, avx512), over the whole float64
 * range, from
 *     PYTHONPATH=. python tools/ulp_report.py --dtype float64 --n 20000 <name>
 * plus dense sweeps of the tails (x*e^x near -708, e^-x near 700, gelu_tanh's w near -708).
 * (logit and gelu: the registry's mpmath reference raises at p = 0, 1 and at |x| > ~1e150,
 * so those points were checked against their exact values instead.)
 *
 * Most kernels use e = e^(-|x|) in (0, 1] (fa_exp_neg_f64), so nothing overflows; silu,
 * sigmoid and gelu_tanh use x/(1 + e^-w) with e^-w up to e^709, and a rare branch for
 * w < -708 where the result (x*e^w) nears the subnormals.
 */

/* -|x| */
FA_INLINE fa_simd_f64 fa_neg_abs_f64(fa_simd_f64 x) { return fa_or_f64(x, fa_set1_f64(-0.0)); }

/* e^(-|x|) rounded (subnormal where it is), NaN propagates. */
FA_INLINE fa_simd_f64 fa_exp_minus_abs_f64(fa_simd_f64 x)
{
    fa_simd_f64 t, n;
    fa_simd_f64 em = fa_exp_neg_f64(fa_neg_abs_f64(x), fa_set1_f64(0.0), 0, &t, &n);
    return fa_scale_exp_f64(em, t, n);
}

/* Gradients: the tail shared by those whose derivative is c e^z, z <= 0.
 * g c e with e = e^(z + zl) already rounded (main path: g (c e)).  Where z < -708 (e near
 * or in the subnormals; a rare branch) ((g e1) c) e1 with e1 = e^((z + zl)/2) normal, so a
 * large g still gets its normal result; z below -1520 and z = -inf give 0 g (NaN for an
 * infinite g, as torch).  opts: as for fa_exp_neg_f64 (FA_EXP_LOW if zl is used). */
FA_INLINE fa_simd_f64 fa_grad_exp_f64(fa_simd_f64 g, fa_simd_f64 c, fa_simd_f64 e, fa_simd_f64 z, fa_simd_f64 zl,
                                      int opts)
{
    fa_simd_f64 y = fa_mul_f64(g, fa_mul_f64(c, e));
    fa_mask_f64 deep = fa_cmplt_f64(z, fa_set1_f64(-708.0));
    if (FA_UNLIKELY(fa_mask_any_f64(deep))) {
        const fa_simd_f64 half = fa_set1_f64(0.5);
        fa_simd_f64 t, n;
        fa_simd_f64 em = fa_exp_neg_f64(fa_mul_f64(z, half), fa_mul_f64(zl, half), opts, &t, &n);
        fa_simd_f64 e1 = fa_scale_exp_f64(em, t, n);
        y = fa_select_f64(deep, fa_mul_f64(fa_mul_f64(fa_mul_f64(g, e1), c), e1), y);
    }
    return y;
}

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
    fa_simd_f64 em = fa_exp_minus_f64(w, wl, opts | FA_EXP_NO_TLO, &t, &n);
    fa_simd_f64 y = fa_div_f64(x, fa_add_f64(one, fa_scale_exp_f64(em, t, n)));
    fa_mask_f64 deep = fa_cmplt_f64(w, fa_set1_f64(-708.0));
    if (fa_mask_any_f64(deep)) {
        em = fa_exp_neg_f64(w, wl, opts, &t, &n);
        fa_simd_f64 d = fa_add_f64(one, fa_scale_exp_f64(em, t, n));
        fa_simd_f64 xc = fa_max_f64(fa_set1_f64(-760.0), x);
        y = fa_select_f64(deep, fa_scale_exp_f64(fa_div_f64(fa_mul_f64(xc, em), d), t, n), y);
    }
    return y;
}

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
    fa_simd_f64 e = fa_exp_minus_abs_f64(x);
    fa_simd_f64 xc = fa_min_f64(fa_set1_f64(800.0), fa_max_f64(fa_set1_f64(-800.0), x));
    fa_simd_f64 opx = fa_add_f64(one, xc);
    fa_simd_f64 d2 = fa_fmadd_f64(e, fa_add_f64(fa_set1_f64(2.0), e), one);      /* (1 + e)^2 */
    fa_mask_f64 pos = fa_cmpgt_f64(x, zero);
    fa_simd_f64 num = fa_select_f64(pos, fa_fmadd_f64(e, opx, one), fa_add_f64(opx, e));
    return fa_grad_exp_f64(g, fa_div_f64(num, d2), fa_select_f64(pos, one, e),
                           fa_select_f64(pos, zero, fa_neg_abs_f64(x)), zero, 0);
}

/*
 * log_sigmoid(x) = -(log1p(e) - min(x, 0)), e = e^-|x| (no cancellation: both terms
 * have the same sign).  Measured max 1.55 ULP.  log_sigmoid(+inf) = -0.0, (-inf) = -inf.
 */
FA_INLINE fa_simd_f64 fa_log_sigmoid_v_f64(fa_simd_f64 x, const fa_params *p)
{
    (void)p;
    fa_simd_f64 e = fa_exp_minus_abs_f64(x);
    return fa_neg_f64(fa_sub_f64(fa_log1p_unit_f64(e), fa_min_f64(fa_set1_f64(0.0), x)));
}

/*
 * log_sigmoid_grad(x, g) = sigmoid(-x) g = g/(1 + e) (x <= 0) or g e/(1 + e) (x > 0),
 * e = e^-|x| (no cancellation).  log_sigmoid'(-inf) = 1, (+inf) = 0.
 */
FA_INLINE fa_simd_f64 fa_log_sigmoid_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    const fa_simd_f64 one = fa_set1_f64(1.0);
    fa_simd_f64 e = fa_exp_minus_abs_f64(x);
    fa_mask_f64 pos = fa_cmpgt_f64(x, fa_set1_f64(0.0));
    return fa_grad_exp_f64(g, fa_div_f64(one, fa_add_f64(one, e)), fa_select_f64(pos, e, one),
                           fa_select_f64(pos, fa_neg_abs_f64(x), fa_set1_f64(0.0)), fa_set1_f64(0.0), 0);
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

FA_INLINE fa_simd_f64 fa_softplus_v_f64(fa_simd_f64 x, const fa_params *p)
{
    if (p->a == INFINITY || p->a == -INFINITY)   /* the limit beta -> +-inf: max(x, 0) / min(x, 0) */
        return fa_softplus_linear_part_f64(x, p->a);
    fa_simd_f64 beta = fa_set1_f64(p->a);
    fa_simd_f64 zl;
    fa_simd_f64 z = fa_two_prod_f64(beta, x, &zl);
    fa_simd_f64 nz = fa_neg_abs_f64(z);
    /* zl matters only in the tail; elsewhere it may be inf - inf or a split overflow */
    zl = fa_select_f64(fa_cmpgt_f64(nz, fa_set1_f64(-800.0)), zl, fa_set1_f64(0.0));
    fa_simd_f64 t, n;
    fa_simd_f64 nzl = fa_select_f64(fa_cmpge_f64(z, fa_set1_f64(0.0)), fa_neg_f64(zl), zl);   /* -|z + zl| */
    fa_simd_f64 em = fa_exp_neg_f64(nz, nzl, FA_EXP_LOW, &t, &n);
    fa_simd_f64 e = fa_scale_exp_f64(em, t, n);
    fa_mask_f64 tail = fa_cmplt_f64(nz, fa_set1_f64(-700.0));
    fa_simd_f64 l = fa_div_f64(fa_select_f64(tail, em, fa_log1p_unit_f64(e)), beta);
    l = fa_select_f64(tail, fa_scale_exp_f64(l, t, n), l);
    fa_simd_f64 y = fa_add_f64(fa_softplus_linear_part_f64(x, p->a), l);
    return fa_select_f64(fa_cmpgt_f64(z, fa_set1_f64(p->b)), x, y);
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
    fa_simd_f64 zl;
    fa_simd_f64 z = fa_two_prod_f64(fa_set1_f64(p->a), x, &zl);
    fa_simd_f64 nz = fa_neg_abs_f64(z);
    zl = fa_select_f64(fa_cmpgt_f64(nz, fa_set1_f64(-800.0)), zl, zero);
    fa_simd_f64 nzl = fa_select_f64(fa_cmpge_f64(z, zero), fa_neg_f64(zl), zl);   /* -|z + zl| = nz + nzl */
    fa_simd_f64 t, n;
    fa_simd_f64 em = fa_exp_neg_f64(nz, nzl, FA_EXP_LOW, &t, &n);       /* sets t, n */
    fa_simd_f64 e = fa_scale_exp_f64(em, t, n);
    fa_mask_f64 pos = fa_cmpgt_f64(z, zero);
    fa_simd_f64 y = fa_grad_exp_f64(g, fa_div_f64(one, fa_add_f64(one, e)), fa_select_f64(pos, one, e),
                                    fa_select_f64(pos, zero, nz), fa_select_f64(pos, zero, nzl), FA_EXP_LOW);
    return fa_select_f64(fa_cmpgt_f64(z, fa_set1_f64(p->b)), g, y);
}

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
    fa_simd_f64 e2 = fa_add_f64(e, two);
    fa_simd_f64 den = fa_fmadd_f64(e, e2, two);
    /* x <= 0 */
    fa_simd_f64 yneg = fa_div_f64(fa_mul_f64(x, fa_mul_f64(e, e2)), den);
    /* x > 0 */
    fa_simd_f64 q = fa_div_f64(fa_mul_f64(two, fa_mul_f64(e, e)),
                               fa_fmadd_f64(fa_mul_f64(two, e), fa_add_f64(one, e), one));
    fa_simd_f64 y = fa_select_f64(fa_cmpgt_f64(x, fa_set1_f64(0.0)), fa_mul_f64(x, fa_sub_f64(one, q)), yneg);
    fa_mask_f64 deep = fa_cmplt_f64(x, fa_set1_f64(-708.0));
    if (fa_mask_any_f64(deep)) {        /* e subnormal: x*n on e's mantissa, scaled last */
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
    fa_simd_f64 em = fa_exp_neg_dd_f64(fa_neg_abs_f64(x), zero, FA_EXP_M1, &t, &n, &el);   /* sets t, n */
    fa_simd_f64 e = fa_scale_exp_f64(em, t, n), elo = fa_scale_exp_f64(el, t, n);
    fa_simd_f64 xc = fa_min_f64(fa_set1_f64(800.0), fa_max_f64(fa_set1_f64(-800.0), x));
    fa_simd_f64 ope = fa_add_f64(one, e), e2 = fa_add_f64(e, two);
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
    fa_simd_f64 d = fa_fmadd_f64(fa_mul_f64(two, e), ope, one);
    fa_simd_f64 r = fa_div_f64(fa_fmsub_f64(fa_add_f64(xc, xc), ope, d), fa_mul_f64(d, d));
    fa_simd_f64 cpos = fa_fmadd_f64(fa_mul_f64(two, fa_mul_f64(e, e)), r, one);
    fa_mask_f64 pos = fa_cmpgt_f64(x, zero);
    return fa_grad_exp_f64(g, fa_select_f64(pos, cpos, cneg), fa_select_f64(pos, one, e),
                           fa_select_f64(pos, zero, fa_neg_abs_f64(x)), zero, 0);
}

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
    fa_simd_f64 e = fa_exp_minus_abs_f64(z);
    fa_simd_f64 d2 = fa_fmadd_f64(e, fa_add_f64(fa_set1_f64(2.0), e), fa_set1_f64(1.0));   /* (1 + e)^2 */
    return fa_grad_exp_f64(g, fa_div_f64(fa_set1_f64(4.0), d2), e, z, fa_set1_f64(0.0), 0);
}

/* The negative branch of the ELU family: c * expm1(min(z, 0)); x > 0 gives xpos.
 * expm1(-0.0) = -0.0 (the result is <= 0: the sign of z is or-ed in). */
FA_INLINE fa_simd_f64 fa_elu_core_f64(fa_simd_f64 x, fa_simd_f64 z, fa_simd_f64 c, fa_simd_f64 xpos)
{
    fa_simd_f64 zn = fa_min_f64(fa_set1_f64(0.0), z);
    fa_simd_f64 em = fa_or_f64(fa_expm1_neg_f64(zn), fa_and_f64(zn, fa_set1_f64(-0.0)));
    return fa_select_f64(fa_cmpgt_f64(x, fa_set1_f64(0.0)), xpos, fa_mul_f64(c, em));
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
    fa_simd_f64 yneg = fa_grad_exp_f64(g, c, fa_exp_minus_abs_f64(zn), zn, fa_set1_f64(0.0), 0);
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

/* celu(x; alpha) = x > 0 ? x : alpha*expm1(x/alpha).  Measured max 1.07 ULP. */
FA_INLINE fa_simd_f64 fa_celu_v_f64(fa_simd_f64 x, const fa_params *p)
{
    fa_simd_f64 alpha = fa_set1_f64(p->a);
    return fa_elu_core_f64(x, fa_div_f64(x, alpha), alpha, x);
}

FA_INLINE fa_simd_f64 fa_celu_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    return fa_elu_grad_core_f64(x, fa_div_f64(x, fa_set1_f64(p->a)), fa_set1_f64(1.0), g, g);
}

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
    const fa_simd_f64 c1h = fa_set1_f64(0x1.9884533d43651p+0), c1l = fa_set1_f64(-0x1.cbc0d30ebfd15p-54);
    const fa_simd_f64 c3h = fa_set1_f64(0x1.2444f2a4d8b4bp-4), c3l = fa_set1_f64(-0x1.3023b0e5fbc6ep-58);
    fa_simd_f64 xw = fa_min_f64(fa_set1_f64(100.0), fa_max_f64(fa_set1_f64(-100.0), x));
    fa_simd_f64 x2l, x2h = fa_two_prod_f64(xw, xw, &x2l);
    fa_simd_f64 bl, bh = fa_two_prod_f64(c3h, x2h, &bl);              /* c3*x^2 */
    bl = fa_add_f64(bl, fa_fmadd_f64(c3h, x2l, fa_mul_f64(c3l, x2h)));
    fa_simd_f64 sl, sh = fa_two_sum_f64(c1h, bh, &sl);                /* c1 + c3*x^2 */
    sl = fa_add_f64(sl, fa_add_f64(c1l, bl));
    fa_simd_f64 wl, wh = fa_two_prod_f64(xw, sh, &wl);                /* x*(c1 + c3*x^2) */
    wl = fa_fmadd_f64(xw, sl, wl);
    return fa_x_sigmoid_f64(x, wh, wl, FA_EXP_LOW);
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
    const fa_simd_f64 c1h = fa_set1_f64(0x1.9884533d43651p+0), c1l = fa_set1_f64(-0x1.cbc0d30ebfd15p-54);
    const fa_simd_f64 c3h = fa_set1_f64(0x1.2444f2a4d8b4bp-4), c3l = fa_set1_f64(-0x1.3023b0e5fbc6ep-58);
    fa_simd_f64 xw = fa_min_f64(fa_set1_f64(100.0), fa_max_f64(fa_set1_f64(-100.0), x));
    fa_simd_f64 x2l, x2h = fa_two_prod_f64(xw, xw, &x2l);
    fa_simd_f64 bl, bh = fa_two_prod_f64(c3h, x2h, &bl);              /* c3*x^2 */
    bl = fa_add_f64(bl, fa_fmadd_f64(c3h, x2l, fa_mul_f64(c3l, x2h)));
    fa_simd_f64 sl, sh = fa_two_sum_f64(c1h, bh, &sl);                /* c1 + c3*x^2 */
    sl = fa_add_f64(sl, fa_add_f64(c1l, bl));
    fa_simd_f64 wl, wh = fa_two_prod_f64(xw, sh, &wl);                /* w = x*(c1 + c3*x^2) */
    wl = fa_fmadd_f64(xw, sl, wl);
    fa_simd_f64 nw = fa_neg_abs_f64(wh);
    fa_simd_f64 nwl = fa_select_f64(fa_cmpge_f64(wh, zero), fa_neg_f64(wl), wl);
    fa_simd_f64 t, n, el;
    fa_simd_f64 em = fa_exp_neg_dd_f64(nw, nwl, FA_EXP_LOW | FA_EXP_M1, &t, &n, &el);   /* sets t, n */
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

/*
 * gelu(x) = x/2 * erfc(-x/sqrt(2)), z = |x|/sqrt(2) carried as a double-double
 * (the rounding of x/sqrt(2) is amplified ~2z^2 in erfc's tail), and
 * erfc(z) = e^(-z^2) * erfcx(z) with z^2 a double-double fed to the exp as its low part:
 *   x >= 0:  x * (1 - erfc(z)/2)
 *   x < 0:   x/2 * erfc(z): e^(-z^2) (mantissa part) and erfcx(z) each as a double-double,
 *            their product and x times it by two-products, rounded once, then halved
 *            and scaled (accurate down to the smallest normal).
 * |x| is clamped to 60 for z (erfc(42) = 0 in float64; no overflow in the splitting).
 * Measured max 2.0 ULP.  gelu(-inf) = -0.0, gelu(+inf) = +inf, gelu(-0.0) = -0.0.
 */
FA_INLINE fa_simd_f64 fa_gelu_v_f64(fa_simd_f64 x, const fa_params *p)
{
    (void)p;
    fa_simd_f64 ax = fa_min_f64(fa_set1_f64(60.0), fa_abs_f64(x));
    fa_simd_f64 zl, zh = fa_two_prod_f64(ax, fa_set1_f64(0x1.6a09e667f3bcdp-1), &zl);   /* 1/sqrt(2) */
    zl = fa_fmadd_f64(ax, fa_set1_f64(-0x1.bdd3413b26456p-55), zl);
    fa_simd_f64 sl, sh = fa_two_prod_f64(zh, zh, &sl);
    sl = fa_fmadd_f64(fa_add_f64(zh, zh), zl, sl);
    fa_simd_f64 t, n, el, fl;
    fa_simd_f64 eh = fa_exp_neg_dd_f64(fa_neg_f64(sh), fa_neg_f64(sl), FA_EXP_LOW | FA_EXP_M1, &t, &n, &el);
    fa_simd_f64 fh = fa_erfcx_f64(zh, zl, &fl);
    fa_simd_f64 pl, ph = fa_two_prod_f64(eh, fh, &pl);             /* erfc(z) = (ph + pl) * 2^m */
    pl = fa_add_f64(pl, fa_fmadd_f64(eh, fl, fa_mul_f64(el, fh)));
    /* x >= 0 */
    fa_simd_f64 half_erfc = fa_mul_f64(fa_set1_f64(0.5), fa_scale_exp_f64(ph, t, n));
    fa_simd_f64 ypos = fa_mul_f64(x, fa_sub_f64(fa_set1_f64(1.0), half_erfc));
    /* x < 0: x*(ph + pl) rounded once, then halved and scaled */
    fa_simd_f64 xc = fa_max_f64(fa_set1_f64(-60.0), x);
    fa_simd_f64 yl, yh = fa_two_prod_f64(xc, ph, &yl);
    fa_simd_f64 yneg = fa_add_f64(yh, fa_fmadd_f64(xc, pl, yl));
    yneg = fa_scale_exp_f64(fa_mul_f64(fa_set1_f64(0.5), yneg), t, n);
    return fa_select_f64(fa_cmpge_f64(x, fa_set1_f64(0.0)), ypos, yneg);
}

/*
 * gelu_grad(x, g) = (Phi(x) + x phi(x)) g.  With z = |x|/sqrt(2) (double-double, |x|
 * clamped to 60 as the forward), E = e^(-z^2) (z^2 a double-double) and
 *   B = erfcx(z)/2 - |x|/sqrt(2 pi)   (erfcx and |x|/sqrt(2 pi) as double-doubles, summed
 *                                      by TwoSum: B's cancellation near x = -0.7518 is exact)
 * gelu'(x) = E B for x < 0 (through fa_grad_exp_f64), 1 - E B for x >= 0 (>= 1/2).
 * f' has a root at x = -0.75179 (ill-conditioned there).  f'(+inf) = 1, f'(-inf) = -0.0.
 */
FA_INLINE fa_simd_f64 fa_gelu_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    fa_simd_f64 ax = fa_min_f64(fa_set1_f64(60.0), fa_abs_f64(x));
    fa_simd_f64 zl, zh = fa_two_prod_f64(ax, fa_set1_f64(0x1.6a09e667f3bcdp-1), &zl);   /* 1/sqrt(2) */
    zl = fa_fmadd_f64(ax, fa_set1_f64(-0x1.bdd3413b26456p-55), zl);
    fa_simd_f64 sl, sh = fa_two_prod_f64(zh, zh, &sl);
    sl = fa_fmadd_f64(fa_add_f64(zh, zh), zl, sl);
    fa_simd_f64 t, n, fl;
    fa_simd_f64 nsh = fa_neg_f64(sh), nsl = fa_neg_f64(sl);
    fa_simd_f64 em = fa_exp_neg_f64(nsh, nsl, FA_EXP_LOW, &t, &n);       /* sets t, n */
    fa_simd_f64 e = fa_scale_exp_f64(em, t, n);
    fa_simd_f64 fh = fa_erfcx_f64(zh, zl, &fl);
    fa_simd_f64 kl, kh = fa_two_prod_f64(ax, fa_set1_f64(0x1.9884533d43651p-2), &kl);  /* 1/sqrt(2 pi) */
    kl = fa_fmadd_f64(ax, fa_set1_f64(-0x1.cbc0d30ebfd15p-56), kl);
    const fa_simd_f64 half = fa_set1_f64(0.5);
    fa_simd_f64 bl, bh = fa_two_sum_f64(fa_mul_f64(half, fh), fa_neg_f64(kh), &bl);
    fa_simd_f64 b = fa_add_f64(bh, fa_add_f64(bl, fa_fmsub_f64(half, fl, kl)));
    fa_simd_f64 yneg = fa_grad_exp_f64(g, b, e, nsh, nsl, FA_EXP_LOW);
    fa_simd_f64 ypos = fa_mul_f64(g, fa_fnmadd_f64(e, b, fa_set1_f64(1.0)));
    return fa_select_f64(fa_cmplt_f64(x, fa_set1_f64(0.0)), yneg, ypos);
}

/*
 * sigmoid_grad(x, g) = sigmoid'(x) g = e/(1 + e)^2 g, e = e^-|x| (symmetric in x: no
 * cancellation, no overflow, e/(1 + e)^2 <= 1/4; torch's g s (1 - s) cancels for large x),
 * (1 + e)^2 = 1 + e (2 + e) in one FMA.  |x| > 708, where e nears or enters the
 * subnormals (a rare branch): (e1 g) e1 with e1 = e^(-|x|/2) normal, so a large g still
 * gets its normal result; |x| = inf gives 0 g (NaN for an infinite g, as torch).
 * float32: fa_sigmoid_grad_v_f32 (kernels/fa_grad_f32.h); this function serves its rare lanes.
 * Measured max against mpmath (ulp.sweep, 20000 points, g = 1 and g = +-2^[-40, 40]):
 * float64 2.04 ULP (scalar, sse2) / 1.80 (avx2, avx512) for g = 1, 2.38 with g (all);
 * NaN in x or g -> NaN.
 */
FA_INLINE fa_simd_f64 fa_sigmoid_grad_v_f64(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    fa_simd_f64 e = fa_exp_minus_abs_f64(x);
    fa_simd_f64 d2 = fa_fmadd_f64(e, fa_add_f64(fa_set1_f64(2.0), e), fa_set1_f64(1.0));   /* (1 + e)^2 */
    fa_simd_f64 y = fa_mul_f64(fa_div_f64(e, d2), g);
    fa_simd_f64 ax = fa_abs_f64(x);
    fa_mask_f64 deep = fa_cmpgt_f64(ax, fa_set1_f64(708.0));
    if (FA_UNLIKELY(fa_mask_any_f64(deep))) {
        fa_simd_f64 t, n;
        fa_simd_f64 em = fa_exp_neg_f64(fa_mul_f64(ax, fa_set1_f64(-0.5)), fa_set1_f64(0.0), 0, &t, &n);
        fa_simd_f64 e1 = fa_scale_exp_f64(em, t, n);
        fa_simd_f64 yd = fa_mul_f64(fa_mul_f64(e1, g), e1);
        yd = fa_select_f64(fa_cmpeq_f64(ax, fa_set1_f64(INFINITY)), fa_mul_f64(g, fa_set1_f64(0.0)), yd);
        y = fa_select_f64(deep, yd, y);
    }
    return y;
}

FA_UNARY_KERNEL(sigmoid, f64, fa_sigmoid_v_f64)
FA_BINARY_KERNEL(sigmoid_grad, f64, fa_sigmoid_grad_v_f64)
FA_UNARY_KERNEL(silu, f64, fa_silu_v_f64)
FA_BINARY_KERNEL(silu_grad, f64, fa_silu_grad_v_f64)
FA_UNARY_KERNEL(log_sigmoid, f64, fa_log_sigmoid_v_f64)
FA_BINARY_KERNEL(log_sigmoid_grad, f64, fa_log_sigmoid_grad_v_f64)
FA_UNARY_KERNEL(softplus, f64, fa_softplus_v_f64)
FA_BINARY_KERNEL(softplus_grad, f64, fa_softplus_grad_v_f64)
FA_UNARY_KERNEL(mish, f64, fa_mish_v_f64)
FA_BINARY_KERNEL(mish_grad, f64, fa_mish_grad_v_f64)
FA_BINARY_KERNEL_F32_VIA_F64(mish_grad, fa_mish_grad_v_f64)
FA_UNARY_KERNEL(tanh, f64, fa_tanh_v_f64)
FA_BINARY_KERNEL(tanh_grad, f64, fa_tanh_grad_v_f64)
FA_UNARY_KERNEL(elu, f64, fa_elu_v_f64)
FA_BINARY_KERNEL(elu_grad, f64, fa_elu_grad_v_f64)
FA_UNARY_KERNEL(selu, f64, fa_selu_v_f64)
FA_BINARY_KERNEL(selu_grad, f64, fa_selu_grad_v_f64)
FA_UNARY_KERNEL(celu, f64, fa_celu_v_f64)
FA_BINARY_KERNEL(celu_grad, f64, fa_celu_grad_v_f64)
FA_UNARY_KERNEL(logit, f64, fa_logit_v_f64)
FA_BINARY_KERNEL(logit_grad, f64, fa_logit_grad_v_f64)
FA_UNARY_KERNEL(gelu_tanh, f64, fa_gelu_tanh_v_f64)
FA_BINARY_KERNEL(gelu_tanh_grad, f64, fa_gelu_tanh_grad_v_f64)
FA_UNARY_KERNEL(gelu, f64, fa_gelu_v_f64)
FA_BINARY_KERNEL(gelu_grad, f64, fa_gelu_grad_v_f64)
