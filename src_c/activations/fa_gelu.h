/*
 * fa_gelu.h -- gelu(x) = x Phi(x) = x/2 erfc(-x/sqrt 2) (torch's approximate='none') and its
 * gradient, float32 and float64.  (gelu 'tanh' = x sigmoid(2u) lives in fa_sigmoid.h: it
 * shares sigmoid's math, not erfc's.)  Shared math: erfc(z) = e^(-z^2) erfcx(z), z = |x|/sqrt2
 * and z^2 carried as double-doubles (the rounding of z is amplified ~2z^2 in the tail), with
 * erfcx and the Gaussian from math/ (fa_erfcx_f64, fa_half_erfcx_gauss_f32, the exp family).
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
    fa_simd_f32 h = fa_ldexp_exp_f32(fa_fmadd_f32(u, m, u), n);     /* |u + u m| < 1 */
    return fa_select_f32(fa_cmple_f32(x, fa_set1_f32(0.0f)), h, fa_sub_f32(x, h));
}
FA_UNARY_KERNEL(gelu, f32, fa_gelu_v_f32)
#else
/* gelu(x) = x Phi(x), Phi(x) = erfc(-x/sqrt2)/2, in double: h = erfc(|x|/sqrt2)/2 =
 * t P(t) e^(-x^2/2)/2, t = 1/(1 + 0.3 |x|/sqrt2), P of degree 10 fitted to erfcx(w)/t on
 * w in [0, 10.3] (Lawson minimax, relative error 2^-30.4; beyond, the result is below
 * 2^-149 for x < 0 and h is negligible for x > 0).  x^2/2 is exact in double, so neither
 * the division by sqrt 2 nor the square is amplified by the Gaussian tail (docs/SPEC.md section 6).
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

/* z = ax/sqrt2 as the double-double zh + *zl (1/sqrt2 = hi + lo from mpmath,
 * tools/fit/check_constants.py) and z^2 as *sh + *sl, for the float64 gelu and its
 * gradient (the rounding of z is amplified ~2z^2 in erfc's tail). */
FA_INLINE fa_simd_f64 fa_gelu_z_f64(fa_simd_f64 ax, fa_simd_f64 *zl, fa_simd_f64 *sh, fa_simd_f64 *sl)
{
    fa_simd_f64 zh = fa_two_prod_f64(ax, fa_set1_f64(0x1.6a09e667f3bcdp-1), zl);   /* 1/sqrt(2) */
    *zl = fa_fmadd_f64(ax, fa_set1_f64(-0x1.bdd3413b26456p-55), *zl);
    *sh = fa_two_prod_f64(zh, zh, sl);
    *sl = fa_fmadd_f64(fa_add_f64(zh, zh), *zl, *sl);
    return zh;
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
    fa_simd_f64 zl, sh, sl, zh = fa_gelu_z_f64(ax, &zl, &sh, &sl);
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
    fa_simd_f64 zl, sh, sl, zh = fa_gelu_z_f64(ax, &zl, &sh, &sl);
    fa_simd_f64 t, n, fl;
    fa_simd_f64 nsh = fa_neg_f64(sh), nsl = fa_neg_f64(sl);
    fa_mask_f64 far = fa_cmplt_f64(nsh, fa_set1_f64(FA_GRAD_DEEP_F64));  /* e normal (fa_grad_exp_f64) */
    fa_simd_f64 em = fa_exp_neg_f64(fa_max_f64(fa_set1_f64(FA_GRAD_DEEP_F64), nsh),
                                    fa_select_f64(far, fa_set1_f64(0.0), nsl), FA_EXP_LOW, &t, &n);
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

FA_UNARY_KERNEL(gelu, f64, fa_gelu_v_f64)
FA_BINARY_KERNEL(gelu_grad, f64, fa_gelu_grad_v_f64)

/* ==== float32 gradients in float32 lanes (the design: kernels/fa_map.h) ==================== */

/* ---- gelu ----------------------------------------------------------------------------------
 * gelu_grad(x, g) = (Phi(x) + x phi(x)) g for float32, in double lanes with the forward's
 * float32-level pieces (fa_gelu_v_f64w: erfc(a/sqrt2)/2 = t P(t) e^(-a^2/2)/2, a = |x|,
 * t = 1/(1 + 0.3 a/sqrt2), P relative error 2^-30.4; e^(-a^2/2) by fa_exp_neg_f64w, 2^-27,
 * a^2/2 exact in double) instead of the float64 kernel's double-double erfcx and exp:
 *   B = t P(t)/2 - a/sqrt(2 pi);  gelu' = G B (x < 0), 1 - G B (x >= 0), G = e^(-a^2/2).
 * B cancels at the root x = -0.75179 (registry `ill` [-0.76, -0.745]); at the interval's
 * edges it amplifies P's error ~45 times (2^-24.9), under the final rounding's order.
 * x < -14.5 (P is fitted up to a = 14.6; a large g can still make G B g normal there, down
 * to a ~ 19.6): those vectors take the asymptotic tail fa_gelu_grad_tail_f64w (rare).  f'(+inf) = 1,
 * f'(-inf) = -0.0 (0 g). */
/* gelu_grad's tail for float32 results, x < -12, in double: the asymptotic series
 *   gelu'(x) = -phi(x) |x| (1 - w + w^2 - 3 w^3 + 15 w^4 - 105 w^5 + 945 w^6 ...),  w = 1/x^2
 * (from erfc's: Phi(x) = phi(x)/|x| (1 - w + 3 w^2 - 15 w^3 + ...)), truncated after w^6:
 * relative error 2^-36.9 at most on x <= -12 (mpmath, 2000 points of [-52, -12]);
 * phi(x) = e^(-x^2/2)/sqrt(2 pi), x^2/2 exact in double, fa_exp_neg_f64w (2^-27). */
FA_INLINE fa_simd_f64 fa_gelu_grad_tail_f64w(fa_simd_f64 x, fa_simd_f64 g, const fa_params *p)
{
    (void)p;
    const fa_simd_f64 x2 = fa_mul_f64(x, x);
    const fa_simd_f64 w = fa_div_f64(fa_set1_f64(1.0), x2);
    fa_simd_f64 b = fa_fnmadd_f64(w, fa_set1_f64(945.0), fa_set1_f64(105.0));
    b = fa_fnmadd_f64(w, b, fa_set1_f64(15.0));
    b = fa_fnmadd_f64(w, b, fa_set1_f64(3.0));
    b = fa_fnmadd_f64(w, b, fa_set1_f64(1.0));
    b = fa_fnmadd_f64(w, b, fa_set1_f64(1.0));
    b = fa_fnmadd_f64(w, b, fa_set1_f64(1.0));               /* 1 - w (1 - w (1 - w (3 - ...))) */
    const fa_simd_f64 c = fa_mul_f64(fa_mul_f64(fa_set1_f64(-0x1.9884533d43651p-2), fa_abs_f64(x)), b);
    return fa_grad_tail_exp_f64w(fa_mul_f64(x2, fa_set1_f64(-0.5)), fa_mul_f64(c, g));
}

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
    if (FA_UNLIKELY(fa_mask_any_f64(deep))) {
        fa_simd_f64 t = fa_gelu_grad_tail_f64w(fa_max_f64(fa_set1_f64(-1e30), x), g, p);
        t = fa_select_f64(fa_cmpeq_f64(x, fa_set1_f64(-INFINITY)), fa_mul_f64(g, fa_set1_f64(-0.0)), t);
        y = fa_select_f64(deep, t, y);                      /* f'(-inf) = -0.0: 0 g */
    }
    return y;
}

/* FMA variants (avx2, avx512): gelu_grad in float32 lanes, a = |x| clamped to 12:
 *   gelu' = G B (x < 0), 1 - G B (x >= 0; G B <= 1/2),  G = e^(-a^2/2) = 2^n (1 + m),
 *   B(a) = erfcx(a/sqrt2)/2 - a/sqrt(2 pi)  (root a0 = 0.75179 = -x0),
 * B from 16 piecewise polynomials (no division, no erfcx, no near-root path of its own):
 * j = bits(a + 1) >> 21 mod 16 (quarter binades of a + 1 in [1, 16)), one 16-entry lookup
 * per coefficient (fa_lut16_f32: one vpermps on AVX-512; AVX2 takes 8 half binades of
 * degree 8 instead, one vpermps each: fa_gelu_grad_lut8_f32 below),
 * u = a - c_j (c_j the interval's midpoint), R = c0h + (c0l + u Q(u)) of degree 6 fitted
 * relative (2^-29.35 over every interval: python tools/fit/fit_gelu_grad_lut_f32.py).
 * On the two intervals around the root (a + 1 in [1.5, 2): a in [0.5, 1)) R is fitted to
 * B/(a - a0) and B = (dh + dl) R, dh = a - a0h exact by Sterbenz, dl = x0l, the product
 * G (dh + dl) R formed as fma(rg, dh, rg dl), rg = R + R m (one rounding for d: B keeps its
 * relative accuracy through the root, so the registry's `ill` interval is not needed in
 * float32); elsewhere d = 1 and B = R.  G with the exact square (-a^2/2 = z + zlo by an
 * FMA two-product, zlo into the exp's reduced argument) as fa_half_erfcx_gauss_f32 does.
 * x < -12 (G B g may still be normal for a large g, down to a ~ 19.6; from a ~ 12.4 G B is
 * subnormal, whose products take an assist on Intel cores: kernels/fa_map.h) and -inf: the
 * rare path, fa_gelu_grad_tail_f64w rounded once.  f'(+inf) = 1, f'(-inf) = -0.0 (0 g), NaN kept
 * (u is NaN whatever the lookup returns).
 * Measured max (avx512; avx2 below): 2.19 ULP at x = -0.9194 over every 64th
 * float32 of [-20, 20] against the float64 kernel (grad_f32_sweep.py --step 64), 2.22 ULP at -0.5137
 * over every 16th of [-100, 100] (the earlier erfcx + near-root kernel: 3.42 ULP at x = -0.3267),
 * registry bound 4.  2^20 inputs, 1 thread, Zen 4 (median of 15): avx512 1174 -> 670 us,
 * avx2 1737 -> 1400 us against the erfcx (division, degree-11 polynomial) + degree-10
 * near-root kernel: ~22 FMA-class operations per vector instead of ~49. */
#if FA_HAVE_FMA
static const float fa_gelu_grad_lut_f32[9][16] __attribute__((aligned(64))) = {  /* center, c0h, c0l, c1..c6 */
    {0x1.400000p+0f, 0x1.c00000p+0f, 0x1.200000p+1f, 0x1.600000p+1f, 0x1.c00000p+1f, 0x1.200000p+2f, 0x1.600000p+2f, 0x1.a00000p+2f,
     0x1.000000p+3f, 0x1.400000p+3f, 0x1.800000p+3f, 0x1.c00000p+3f, 0x1.000000p-3f, 0x1.800000p-2f, 0x1.400000p-1f, 0x1.c00000p-1f},
    {-0x1.1258fap-2f, -0x1.069d1ap-1f, -0x1.7ce966p-1f, -0x1.eec798p-1f, -0x1.4a3a5ap+0f, -0x1.b5df30p+0f, -0x1.0fd9fcp+1f, -0x1.443cecp+1f,
     -0x1.923aaep+1f, -0x1.f996dap+1f, -0x1.304642p+2f, -0x1.63a342p+2f, 0x1.9d9ea2p-2f, 0x1.d70acep-3f, -0x1.2ae410p-1f, -0x1.1fff1ap-1f},
    {0x1.ed37b0p-27f, 0x1.d8ca58p-27f, -0x1.447394p-28f, -0x1.03125cp-27f, 0x1.8de716p-25f, -0x1.a299aap-25f, 0x1.e18bacp-28f, 0x1.5e93d4p-25f,
     0x1.16b5dap-24f, 0x1.ef8960p-27f, -0x1.a76fd6p-23f, 0x1.afa5e0p-23f, -0x1.90b010p-27f, -0x1.29d830p-28f, 0x1.7e880cp-28f, -0x1.3a7e06p-26f},
    {-0x1.04d48ep-1f, -0x1.e51942p-2f, -0x1.cf050cp-2f, -0x1.c0e9b6p-2f, -0x1.b3e48cp-2f, -0x1.aa4280p-2f, -0x1.a4dd1ep-2f, -0x1.a191c8p-2f,
     -0x1.9e9f34p-2f, -0x1.9c7c38p-2f, -0x1.9b4bf2p-2f, -0x1.9a91eep-2f, -0x1.7b7960p-1f, -0x1.4fa202p-1f, 0x1.842b10p-4f, 0x1.38c24ep-4f},
    {0x1.7b79e2p-5f, 0x1.bd45eap-6f, 0x1.15aa74p-6f, 0x1.6c5e42p-7f, 0x1.a29f24p-8f, 0x1.bfbaecp-9f, 0x1.07e3eap-9f, 0x1.4ea500p-10f,
     0x1.762608p-11f, 0x1.8af2a4p-12f, 0x1.d0fbf4p-13f, 0x1.27e872p-13f, 0x1.a4e15ap-3f, 0x1.222f22p-3f, -0x1.5caae2p-5f, -0x1.03efccp-5f},
    {-0x1.1f318cp-6f, -0x1.29595ep-7f, -0x1.49c6b2p-8f, -0x1.839790p-9f, -0x1.7e7ab0p-10f, -0x1.55abf6p-11f, -0x1.57f77ep-12f, -0x1.7b46d0p-13f,
     -0x1.6192e8p-14f, -0x1.30c06ep-15f, -0x1.2eabfep-16f, -0x1.4d06a6p-17f, -0x1.b02edap-4f, -0x1.15c9fap-4f, 0x1.1a648cp-6f, 0x1.89ad24p-7f},
    {0x1.8fdb0cp-8f, 0x1.7236f2p-9f, 0x1.70a448p-10f, 0x1.87a0aep-11f, 0x1.4f99bep-12f, 0x1.fa4280p-14f, 0x1.b64346p-15f, 0x1.a6900cp-16f,
     0x1.499bcep-17f, 0x1.d0256cp-19f, 0x1.845e68p-20f, 0x1.70157ep-21f, 0x1.89ede6p-5f, 0x1.dc3efep-6f, -0x1.a434a0p-8f, -0x1.13c914p-8f},
    {-0x1.060ab6p-9f, -0x1.bb558cp-11f, -0x1.7f8a62p-12f, -0x1.72bc0cp-13f, -0x1.20a61ap-14f, -0x1.761d4ep-16f, -0x1.162978p-17f, -0x1.e4ad58p-19f,
     -0x1.32397ap-20f, -0x1.38bcfep-22f, -0x1.537092p-24f, -0x1.ce3360p-27f, -0x1.43d144p-6f, -0x1.747772p-7f, 0x1.260d22p-9f, 0x1.5e49d6p-10f},
    {0x1.46b3f4p-11f, 0x1.cf3b2ep-13f, 0x1.a83beep-14f, 0x1.720e6cp-15f, 0x1.df44e8p-17f, 0x1.000268p-18f, 0x1.4f5e7cp-20f, 0x1.ddf858p-22f,
     0x1.217954p-23f, 0x1.326f66p-25f, 0x1.b2f870p-27f, 0x1.917d4cp-28f, 0x1.da9d64p-8f, 0x1.0585d2p-8f, -0x1.7cfb50p-11f, -0x1.cad3dep-12f},
};
/* AVX2 (FA_LUT16_ONE_OP 0: a 16-entry lookup is two vpermps and a blend): half binades of w,
 * j = bits(w) >> 22 mod 8, one vpermps per coefficient, degree 8 (relative 2^-29.56:
 * python tools/fit/fit_gelu_grad_lut_f32.py --intervals 8 --degree 8); the interval around the
 * root is the same a in [0.5, 1).  11 lookups of one operation instead of 9 of three, two
 * FMAs more: 2^20 float32, one thread, Zen 4 running the avx2 variant (medians of 15 x 10
 * calls, 2026-12-06): 950 -> 785 us; torch's AVX2 autograd 622-647 us (ATEN_CPU_CAPABILITY=avx2,
 * its erf an approximation).  Measured max 2.97 ULP at x = -1.0056673 (every float32 of
 * [-1.06, -0.95], against mpmath; a review, 2026-12-06), 2.77 over every 61st float32 of
 * [-100, 100] (grad_f32_sweep.py), registry bound 4. */
static const float fa_gelu_grad_lut8_f32[11][8] __attribute__((aligned(32))) = {  /* center, c0h, c0l, c1..c8 */
    {0x1.800000p+0f, 0x1.400000p+1f, 0x1.000000p+2f, 0x1.800000p+2f, 0x1.200000p+3f, 0x1.800400p+3f, 0x1.000000p-2f, 0x1.800000p-1f},
    {-0x1.920e52p-2f, -0x1.b648d4p-1f, -0x1.805908p+0f, -0x1.2a188ep+1f, -0x1.c5f9aap+1f, -0x1.30497ap+2f, 0x1.41d6f4p-2f, -0x1.252658p-1f},
    {-0x1.fa32c0p-31f, 0x1.ff3158p-27f, 0x1.ef7a28p-26f, -0x1.3d9cccp-26f, -0x1.8bc68cp-24f, 0x1.28e30cp-23f, -0x1.71724ap-27f, 0x1.eddc04p-26f},
    {-0x1.f4f466p-2f, -0x1.c739c0p-2f, -0x1.ae53eap-2f, -0x1.a3079ap-2f, -0x1.9d6258p-2f, -0x1.9b4be4p-2f, -0x1.638552p-1f, 0x1.5bb314p-4f},
    {0x1.204038p-5f, 0x1.bf3998p-7f, 0x1.2dda0ap-8f, 0x1.a0eec4p-10f, 0x1.0b6deep-11f, 0x1.d0ed6cp-13f, 0x1.5c5672p-3f, -0x1.2c4eb4p-5f},
    {-0x1.9981bep-7f, -0x1.f62340p-9f, -0x1.f6b556p-11f, -0x1.f9a0aap-13f, -0x1.c62e8ep-15f, -0x1.2e6062p-16f, -0x1.595048p-4f, 0x1.d640f0p-7f},
    {0x1.0d5fa0p-8f, 0x1.0ac734p-10f, 0x1.9432eep-13f, 0x1.2ccb16p-15f, 0x1.7dcbc6p-18f, 0x1.84ae64p-20f, 0x1.31304ep-5f, -0x1.537400p-8f},
    {-0x1.4b818ep-10f, -0x1.0eeb72p-12f, -0x1.388e98p-15f, -0x1.698e98p-18f, -0x1.3e63b8p-21f, -0x1.b37e12p-25f, -0x1.ea8080p-7f, 0x1.c6ec7ep-10f},
    {0x1.82da80p-12f, 0x1.02f130p-14f, 0x1.deb83ap-18f, 0x1.81bcb4p-21f, 0x1.0278fcp-24f, 0x1.fab054p-27f, 0x1.6a1590p-8f, -0x1.22f7aap-11f},
    {-0x1.c57d18p-14f, -0x1.a670a2p-17f, -0x1.98aeb4p-20f, -0x1.08635cp-26f, -0x1.b24422p-28f, -0x1.47d25ap-25f, -0x1.240718p-9f, 0x1.06ecf6p-12f},
    {0x1.b6d736p-16f, 0x1.38a7fep-18f, 0x1.ddebd6p-23f, 0x1.118c74p-25f, 0x1.a0ab78p-31f, -0x1.a74894p-29f, 0x1.36f3eep-10f, -0x1.342df0p-15f},
};
#define FA_GELU_GRAD_ROOT_HI_F32 (-0x1.80ead2p-1f)      /* gelu' root -0.75179152469356445746 */
#define FA_GELU_GRAD_ROOT_LO_F32 0x1.a03fd4p-27f
/* R(a), a in [0, 12], w = a + 1: the interval's polynomial (B itself, or B / (a - a0) around
 * the root), from the table this variant takes: row k of interval j by one lookup, the
 * interval from w's bits (low 4 of bits >> 21: quarter binades; low 3 of bits >> 22: half
 * binades), the last row the polynomial's degree + 2 */
#if FA_LUT16_ONE_OP
#define FA_GELU_GRAD_ROW(k, j) fa_lut16_f32(fa_gelu_grad_lut_f32[k], j)
#define FA_GELU_GRAD_SHIFT 21
#define FA_GELU_GRAD_LAST 8
#else
#define FA_GELU_GRAD_ROW(k, j) fa_lut8_f32(fa_gelu_grad_lut8_f32[k], j)
#define FA_GELU_GRAD_SHIFT 22
#define FA_GELU_GRAD_LAST 10
#endif
FA_INLINE fa_simd_f32 fa_gelu_grad_r_f32(fa_simd_f32 a, fa_simd_f32 w)
{
    const fa_simd_f32 j = fa_bits_srl_f32(w, FA_GELU_GRAD_SHIFT);
    const fa_simd_f32 u = fa_sub_f32(a, FA_GELU_GRAD_ROW(0, j));
    fa_simd_f32 q = fa_fmadd_f32(FA_GELU_GRAD_ROW(FA_GELU_GRAD_LAST, j), u, FA_GELU_GRAD_ROW(FA_GELU_GRAD_LAST - 1, j));
    for (int k = FA_GELU_GRAD_LAST - 2; k >= 3; k--)
        q = fa_fmadd_f32(q, u, FA_GELU_GRAD_ROW(k, j));
    return fa_add_f32(FA_GELU_GRAD_ROW(1, j), fa_fmadd_f32(q, u, FA_GELU_GRAD_ROW(2, j)));
}
FA_INLINE fa_simd_f32 fa_gelu_grad_v_f32(fa_simd_f32 x, fa_simd_f32 g, const fa_params *p)
{
    fa_simd_f32 a = fa_min_f32(fa_set1_f32(12.0f), fa_abs_f32(x));            /* NaN kept */
    fa_simd_f32 w = fa_add_f32(a, fa_set1_f32(1.0f));
    fa_simd_f32 r = fa_gelu_grad_r_f32(a, w);
    /* the two intervals around the root (w in [1.5, 2): a in [0.5, 1)): B = d R, d = a - a0 */
    fa_mask_f32 near = fa_mask_and_f32(fa_cmpge_f32(w, fa_set1_f32(1.5f)), fa_cmplt_f32(w, fa_set1_f32(2.0f)));
    fa_simd_f32 dh = fa_select_f32(near, fa_sub_f32(a, fa_set1_f32(-FA_GELU_GRAD_ROOT_HI_F32)), fa_set1_f32(1.0f));
    fa_simd_f32 dl = fa_select_f32(near, fa_set1_f32(FA_GELU_GRAD_ROOT_LO_F32), fa_set1_f32(0.0f));
    /* G = e^(-a^2/2) = 2^n (1 + m), -a^2/2 = z + zlo exactly */
    fa_simd_f32 n, s, nha = fa_mul_f32(a, fa_set1_f32(-0.5f));
    fa_simd_f32 z = fa_mul_f32(a, nha);
    fa_simd_f32 zlo = fa_fmsub_f32(a, nha, z);
    fa_simd_f32 m = fa_expm1_reduced_f32(fa_add_f32(fa_exp_reduce_f32(z, &n, &s), zlo));
    fa_simd_f32 rg = fa_fmadd_f32(r, m, r);
    fa_simd_f32 gb = fa_mul_f32(fa_fmadd_f32(rg, dh, fa_mul_f32(rg, dl)), fa_pow2i_f32(n));
    fa_simd_f32 y = fa_select_f32(fa_cmplt_f32(x, fa_set1_f32(0.0f)), gb, fa_sub_f32(fa_set1_f32(1.0f), gb));
    y = fa_mul_f32(y, g);
    return fa_grad_rare_f32(fa_cmplt_f32(x, fa_set1_f32(-12.0f)), y, x, g, p, fa_gelu_grad_tail_f64w);
}
FA_BINARY_KERNEL(gelu_grad, f32, fa_gelu_grad_v_f32)
#else
FA_BINARY_KERNEL_F32_VIA_F64(gelu_grad, fa_gelu_grad_v_f64w)
#endif
