/*
 * fa_math_f64.h -- float64 vector cores (exp, expm1, log1p, log) over the SIMD wrappers.
 * Included once per ISA; used by fa_activations_f64.h.
 *
 * Every core is written for FA_HAVE_FMA = 0 as well (scalar, SSE2: fmadd is mul + add):
 * each step that must be exact is exact in both cases (see the comments), and the
 * two-product falls back to Dekker's splitting.
 *
 * Range reduction (shared by exp and expm1), Cody-Waite with two constants:
 *   n = round(z / ln2) through the magic number 0x1.8p52 (t = z*log2e + magic keeps n
 *   in its low bits, so 2^n = (bits(t) + 1023) << 52 with no int64<->double conversion);
 *   rh = z - n*LN2_HI is exact (LN2_HI has 32 significant bits, |n| < 2^11, Sterbenz);
 *   r = rh - n*LN2_LO, and its rounding error c (plus the caller's low part zl of z) is
 *   carried to first order: expm1(r + c) = p(r) + c*(1 + p(r)).
 * Polynomial: expm1(r) = r + r^2*q(r), q of degree 10 on |r| <= 0.347, Chebyshev-node
 *   interpolation in mpmath (near-minimax), relative error 2^-60.1 before rounding.
 */
#ifndef FA_MATH_F64_H
#define FA_MATH_F64_H

#define FA_LOG2E_F64 0x1.71547652b82fep+0
#define FA_LN2_HI_F64 0x1.62e42fee00000p-1   /* ln2 to 32 bits: n*FA_LN2_HI exact */
#define FA_LN2_LO_F64 0x1.a39ef35793c76p-33  /* ln2 - FA_LN2_HI */
#define FA_MAGIC_F64 0x1.8p52                /* round-to-integer bias */

/* hi + lo = a*b exactly (no overflow: |a|, |b| < 2^995 without FMA). */
FA_INLINE fa_simd_f64 fa_two_prod_f64(fa_simd_f64 a, fa_simd_f64 b, fa_simd_f64 *lo)
{
    fa_simd_f64 hi = fa_mul_f64(a, b);
#if FA_HAVE_FMA
    *lo = fa_fmsub_f64(a, b, hi);
#else
    const fa_simd_f64 split = fa_set1_f64(0x1.0000002p27);     /* Dekker: 2^27 + 1 */
    fa_simd_f64 ca = fa_mul_f64(a, split), cb = fa_mul_f64(b, split);
    fa_simd_f64 ah = fa_sub_f64(ca, fa_sub_f64(ca, a)), al = fa_sub_f64(a, ah);
    fa_simd_f64 bh = fa_sub_f64(cb, fa_sub_f64(cb, b)), bl = fa_sub_f64(b, bh);
    fa_simd_f64 e = fa_sub_f64(fa_mul_f64(ah, bh), hi);
    e = fa_add_f64(e, fa_mul_f64(ah, bl));
    e = fa_add_f64(e, fa_mul_f64(al, bh));
    *lo = fa_add_f64(e, fa_mul_f64(al, bl));
#endif
    return hi;
}

/* 2^n for t = n + FA_MAGIC_F64, n in [-1022, 1023]. */
FA_INLINE fa_simd_f64 fa_pow2_magic_f64(fa_simd_f64 t)
{
    return fa_bits_shl_f64(fa_bits_add_f64(t, fa_set1_bits_f64(1023)), 52);
}

/* p = expm1(r) where z + zl = n*ln2 + r; returns p and *t = n + FA_MAGIC_F64.
 * z in [-760, 0]. */
FA_INLINE fa_simd_f64 fa_expm1_reduced_f64(fa_simd_f64 z, fa_simd_f64 zl, fa_simd_f64 *t)
{
    const fa_simd_f64 magic = fa_set1_f64(FA_MAGIC_F64);
    fa_simd_f64 tn = fa_fmadd_f64(z, fa_set1_f64(FA_LOG2E_F64), magic);
    fa_simd_f64 n = fa_sub_f64(tn, magic);
    fa_simd_f64 rh = fa_fnmadd_f64(n, fa_set1_f64(FA_LN2_HI_F64), z);
    fa_simd_f64 nl = fa_mul_f64(n, fa_set1_f64(FA_LN2_LO_F64));
    fa_simd_f64 r = fa_sub_f64(rh, nl);
    fa_simd_f64 c = fa_add_f64(fa_sub_f64(fa_sub_f64(rh, r), nl), zl);
    fa_simd_f64 q = fa_set1_f64(0x1.1f7350a074034p-29);
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.af4e70dd7207dp-26));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.27e4db3f36203p-22));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.71de01f07539bp-19));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.a01a01a6e448ep-16));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.a01a01abfc8ddp-13));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.6c16c16c162bfp-10));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.11111111100b6p-7));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.5555555555556p-5));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.5555555555557p-3));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.0p-1));
    fa_simd_f64 p = fa_fmadd_f64(fa_mul_f64(r, r), q, r);
    *t = tn;
    return fa_add_f64(p, fa_fmadd_f64(c, p, c));
}

/*
 * e^(z+zl) for z <= 0 (|zl| <= ulp(z)), returned as e_scaled with e = e_scaled * (*unscale):
 * *unscale is 1, or 2^-128 where z < -700, so that e_scaled is always normal and a
 * caller can multiply it by its other factors before the one final (possibly subnormal)
 * rounding.  z below -760 is treated as -760 (e^-760 < 2^-1096: every caller's result
 * rounds to zero there).  NaN propagates.  e_scaled = s + s*p: max 1 ULP on every variant
 * (tools/ulp_report.py sigmoid: sigmoid = e/(1+e) measures <= 1.6 ULP).
 */
FA_INLINE fa_simd_f64 fa_exp_neg_f64(fa_simd_f64 z, fa_simd_f64 zl, fa_simd_f64 *unscale)
{
    z = fa_max_f64(fa_set1_f64(-760.0), z);
    fa_simd_f64 t;
    fa_simd_f64 p = fa_expm1_reduced_f64(z, zl, &t);
    fa_mask_f64 deep = fa_cmplt_f64(z, fa_set1_f64(-700.0));
    t = fa_select_f64(deep, fa_add_f64(t, fa_set1_f64(128.0)), t);
    *unscale = fa_select_f64(deep, fa_set1_f64(0x1p-128), fa_set1_f64(1.0));
    fa_simd_f64 s = fa_pow2_magic_f64(t);
    return fa_fmadd_f64(s, p, s);
}

/*
 * expm1(z) for z <= 0 (z < -40 gives -1, the rounded value).  s*p is exact (power of
 * two, n >= -58), s - 1 is exact, so fmadd(s, p, s - 1) rounds once with or without FMA.
 * expm1(-0.0) = -0.0.  NaN propagates.  Measured through elu: <= 1 ULP.
 */
FA_INLINE fa_simd_f64 fa_expm1_neg_f64(fa_simd_f64 z)
{
    z = fa_max_f64(fa_set1_f64(-40.0), z);
    fa_simd_f64 t;
    fa_simd_f64 p = fa_expm1_reduced_f64(z, fa_set1_f64(0.0), &t);
    fa_simd_f64 s = fa_pow2_magic_f64(t);
    fa_simd_f64 em = fa_fmadd_f64(s, p, fa_sub_f64(s, fa_set1_f64(1.0)));
    return fa_or_f64(em, fa_and_f64(z, fa_set1_f64(-0.0)));    /* the result is <= 0 */
}

/*
 * log1p(f) + k*ln2 + c for f in [sqrt(2)/2 - 1, sqrt(2) - 1], f exact, k an integer
 * (|k| < 2^11), c a small correction.  s = f/(2+f), z = s^2:
 *   log1p(f) = 2 atanh(s) = f - f^2/2 + s*(f^2/2 + R(z)),  R(z) = 2atanh(s)/s - 2 = z*P(z),
 * where only the small term carries the rounding of s (fdlibm's arrangement).
 * P of degree 6 on z in [0, 0.0295], Chebyshev-node interpolation in mpmath, error
 * 2^-57.5 relative to log1p(f).
 */
FA_INLINE fa_simd_f64 fa_log1p_reduced_f64(fa_simd_f64 f, fa_simd_f64 k, fa_simd_f64 c)
{
    fa_simd_f64 s = fa_div_f64(f, fa_add_f64(fa_set1_f64(2.0), f));
    fa_simd_f64 z = fa_mul_f64(s, s);
    fa_simd_f64 P = fa_set1_f64(0x1.2b6776a1bf0b9p-3);
    P = fa_fmadd_f64(P, z, fa_set1_f64(0x1.39fd25d62ab23p-3));
    P = fa_fmadd_f64(P, z, fa_set1_f64(0x1.7462be245eae3p-3));
    P = fa_fmadd_f64(P, z, fa_set1_f64(0x1.c71c62c42db89p-3));
    P = fa_fmadd_f64(P, z, fa_set1_f64(0x1.2492492e0b70cp-2));
    P = fa_fmadd_f64(P, z, fa_set1_f64(0x1.99999999951f5p-2));
    P = fa_fmadd_f64(P, z, fa_set1_f64(0x1.5555555555558p-1));
    fa_simd_f64 hfsq = fa_mul_f64(fa_set1_f64(0.5), fa_mul_f64(f, f));
    fa_simd_f64 small = fa_mul_f64(s, fa_fmadd_f64(z, P, hfsq));
    small = fa_add_f64(small, fa_fmadd_f64(k, fa_set1_f64(FA_LN2_LO_F64), c));
    fa_simd_f64 lf = fa_sub_f64(f, fa_sub_f64(hfsq, small));
    return fa_fmadd_f64(k, fa_set1_f64(FA_LN2_HI_F64), lf);
}

/*
 * log1p(y) for y in [0, 1] (NaN propagates): y <= sqrt(2)-1 is reduced with k = 0, f = y;
 * above, log1p(y) = ln2 + log1p((y-1)/2) with (y-1)/2 exact.  No rounding of 1 + y
 * anywhere, so tiny y keeps full accuracy.
 */
FA_INLINE fa_simd_f64 fa_log1p_unit_f64(fa_simd_f64 y)
{
    fa_mask_f64 big = fa_cmpgt_f64(y, fa_set1_f64(0x1.a827999fcef32p-2));
    fa_simd_f64 f = fa_select_f64(big, fa_mul_f64(fa_sub_f64(y, fa_set1_f64(1.0)), fa_set1_f64(0.5)), y);
    fa_simd_f64 k = fa_select_f64(big, fa_set1_f64(1.0), fa_set1_f64(0.0));
    return fa_log1p_reduced_f64(f, k, fa_set1_f64(0.0));
}

/*
 * log(u) + c for u >= 0 (c: a small correction, e.g. the relative rounding error of u).
 * Subnormal u is scaled by 2^52 first.  u = 2^k * m, m in [sqrt(2)/2, sqrt(2)) found on
 * the bits (exponent through the magic number: AVX2 has no int64 -> double), f = m - 1
 * exact.  log(0) = -inf, log(+inf) = +inf, log(<0) = log(NaN) = NaN.
 */
FA_INLINE fa_simd_f64 fa_log_f64(fa_simd_f64 u, fa_simd_f64 c)
{
    fa_mask_f64 sub = fa_cmplt_f64(u, fa_set1_f64(0x1p-1022));
    fa_simd_f64 v = fa_select_f64(sub, fa_mul_f64(u, fa_set1_f64(0x1p52)), u);
    fa_simd_f64 kadj = fa_select_f64(sub, fa_set1_f64(-52.0 - 1023.0), fa_set1_f64(-1023.0));
    /* shift so that m in [sqrt(2)/2, sqrt(2)) has exponent field 1023 */
    fa_simd_f64 ix = fa_bits_add_f64(v, fa_set1_bits_f64(0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull));
    fa_simd_f64 kbits = fa_or_f64(fa_bits_srl_f64(ix, 52), fa_set1_f64(FA_MAGIC_F64));
    fa_simd_f64 k = fa_add_f64(fa_sub_f64(kbits, fa_set1_f64(FA_MAGIC_F64)), kadj);
    fa_simd_f64 m = fa_bits_add_f64(fa_and_f64(ix, fa_set1_bits_f64(0x000fffffffffffffull)),
                                    fa_set1_bits_f64(0x3fe6a09e667f3bcdull));
    fa_simd_f64 y = fa_log1p_reduced_f64(fa_sub_f64(m, fa_set1_f64(1.0)), k, c);
    y = fa_select_f64(fa_cmpeq_f64(u, fa_set1_f64(0.0)), fa_set1_f64(-INFINITY), y);
    y = fa_select_f64(fa_cmpeq_f64(u, fa_set1_f64(INFINITY)), u, y);
    return fa_select_f64(fa_cmpge_f64(u, fa_set1_f64(0.0)), y, fa_set1_f64(NAN));
}

#endif /* FA_MATH_F64_H */
