/*
 * fa_math_f64.h -- float64 vector cores (exp, expm1, log1p, log) over the SIMD wrappers.
 * Included once per ISA; used by fa_activations_f64.h.
 *
 * Every core is written for FA_HAVE_FMA = 0 as well (scalar, SSE2: fmadd is mul + add):
 * each step that must be exact is exact in both cases (see the comments), and the
 * two-product falls back to Dekker's splitting.
 *
 * exp and expm1 (z <= 0: every caller works with e^-|x|, so nothing overflows), Tang's
 * table-driven scheme with 16 entries:
 *   n = round(z * 16/ln2) through the magic number 0x1.8p52 (t = z*16/ln2 + magic keeps n
 *   in its low bits: the table index j = n mod 16 is the low 4 bits of t, and
 *   2^floor(n/16) is built on the bits, no int64<->double conversion, AVX2 has none);
 *   r = z - n*ln2/16 with Cody-Waite hi/lo constants: z - n*LN2_HI/16 is exact (LN2_HI
 *   has 32 significant bits, |n| < 2^15, Sterbenz), |r| <= 0.0217, so r's one rounding
 *   costs under 2^-58 relative;
 *   e^z = 2^floor(n/16) * 2^(j/16) * (1 + p),  2^(j/16) = T_HI[j] + T_LO[j] (mpmath),
 *   p = expm1(r) = r + r^2*q(r), q of degree 5 (expm1: relative error 2^-58.7) or 4
 *   (exp: 2^-54.8 against 1 + p) on |r| <= 0.022, Chebyshev-node interpolation in
 *   mpmath (near-minimax).
 * The table lookup is one vpermt2pd on AVX-512, a gather on AVX2, two loads elsewhere.
 */
#ifndef FA_MATH_F64_H
#define FA_MATH_F64_H

#define FA_LOG2E_F64 0x1.71547652b82fep+0
#define FA_LN2_HI_F64 0x1.62e42fee00000p-1   /* ln2 to 32 bits: n*FA_LN2_HI exact */
#define FA_LN2_LO_F64 0x1.a39ef35793c76p-33  /* ln2 - FA_LN2_HI */
#define FA_MAGIC_F64 0x1.8p52                /* round-to-integer bias */

static const double fa_exp2_16_hi[16] __attribute__((aligned(64))) = {   /* 2^(j/16) rounded */
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};
static const double fa_exp2_16_lo[16] __attribute__((aligned(64))) = {   /* 2^(j/16) - hi */
    0x0.0p+0, 0x1.8a62e4adc610bp-54, -0x1.19041b9d78a76p-55, 0x1.9b07eb6c70573p-54,
    0x1.6f46ad23182e4p-55, 0x1.ada0911f09ebcp-55, 0x1.d4397afec42e2p-56, 0x1.6324c054647adp-54,
    -0x1.bdd3413b26456p-54, -0x1.41577ee04992fp-55, 0x1.6e9f156864b27p-54, 0x1.c7c46b071f2bep-56,
    0x1.7a1cd345dcc81p-54, 0x1.11065895048ddp-55, 0x1.2ed02d75b3707p-55, -0x1.e9c23179c2893p-54};

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

/* hi + lo = a + b exactly (Knuth's TwoSum, any magnitudes). */
FA_INLINE fa_simd_f64 fa_two_sum_f64(fa_simd_f64 a, fa_simd_f64 b, fa_simd_f64 *lo)
{
    fa_simd_f64 s = fa_add_f64(a, b);
    fa_simd_f64 bb = fa_sub_f64(s, a);
    *lo = fa_add_f64(fa_sub_f64(a, fa_sub_f64(s, bb)), fa_sub_f64(b, bb));
    return s;
}

/* Options of fa_exp_reduce_f64 (compile-time constants once inlined). */
enum {
    FA_EXP_LOW = 1,     /* add the caller's low part zl of z */
    FA_EXP_M1 = 2       /* expm1: p to 2^-58.7 relative (degree 7); else to 2^-54.8
                           absolute (degree 6), enough where p is added to 1 */
};

/* e^(z+zl) = 2^floor(n/16) * (thi + tlo) * (1 + p): returns p, with *t = n + magic,
 * *n = n, *thi, *tlo the table entries.  z in [-760, 0], |zl| <= ulp(z).
 * q: Chebyshev-node interpolation of (expm1(r) - r)/r^2 on |r| <= 0.022 (mpmath). */
FA_INLINE fa_simd_f64 fa_exp_reduce_f64(fa_simd_f64 z, fa_simd_f64 zl, int opts, fa_simd_f64 *t,
                                        fa_simd_f64 *n, fa_simd_f64 *thi, fa_simd_f64 *tlo)
{
    const fa_simd_f64 magic = fa_set1_f64(FA_MAGIC_F64);
    fa_simd_f64 tn = fa_fmadd_f64(z, fa_set1_f64(16 * FA_LOG2E_F64), magic);
    fa_simd_f64 nn = fa_sub_f64(tn, magic);
    fa_simd_f64 rh = fa_fnmadd_f64(nn, fa_set1_f64(FA_LN2_HI_F64 / 16), z);
    fa_simd_f64 r = fa_fnmadd_f64(nn, fa_set1_f64(FA_LN2_LO_F64 / 16), rh);
    if (opts & FA_EXP_LOW)
        r = fa_add_f64(r, zl);
    fa_simd_f64 q;
    if (opts & FA_EXP_M1) {
        q = fa_set1_f64(0x1.a01b149876dbfp-13);
        q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.6c17f6c39583fp-10));
        q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.11111110ddf63p-7));
        q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.55555554e258ep-5));
        q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.5555555555556p-3));
        q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.0000000000001p-1));
    } else {
        q = fa_set1_f64(0x1.6c17c334f5083p-10);
        q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.111212da060e8p-7));
        q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.555555551573cp-5));
        q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.55555554d5922p-3));
        q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.0p-1));
    }
    *t = tn;
    *n = nn;
    *thi = fa_lut16_f64(fa_exp2_16_hi, tn);
    *tlo = fa_lut16_f64(fa_exp2_16_lo, tn);
    return fa_fmadd_f64(fa_mul_f64(r, r), q, r);
}

/* 2^floor(n/16) for t = n + magic, floor(n/16) in [-1022, 1023]: on the bits of t,
 * whose low 52 bits hold 2^51 + n. */
FA_INLINE fa_simd_f64 fa_pow2_n16_f64(fa_simd_f64 t)
{
    return fa_bits_shl_f64(fa_bits_add_f64(fa_bits_srl_f64(t, 4),
                                           fa_set1_bits_f64(1023 - (1ull << 47))), 52);
}

/* v * 2^floor(n/16) for floor(n/16) in [-1100, 0] (t = n + magic), rounded once, into the
 * subnormals too: vscalefpd on AVX-512; elsewhere in two steps below 2^-1000. */
FA_INLINE fa_simd_f64 fa_scale_exp_f64(fa_simd_f64 v, fa_simd_f64 t, fa_simd_f64 n)
{
#if FA_HAVE_SCALEF
    (void)t;
    return fa_scalef_f64(v, fa_mul_f64(n, fa_set1_f64(1.0 / 16)));
#else
    fa_mask_f64 deep = fa_cmplt_f64(n, fa_set1_f64(-16.0 * 1000));
    t = fa_select_f64(deep, fa_add_f64(t, fa_set1_f64(16.0 * 200)), t);
    v = fa_mul_f64(v, fa_pow2_n16_f64(t));
    return fa_mul_f64(v, fa_select_f64(deep, fa_set1_f64(0x1p-200), fa_set1_f64(1.0)));
#endif
}

/*
 * e^(z+zl) for z <= 0 (|zl| <= ulp(z), used with FA_EXP_LOW in opts) in two parts: e = fa_scale_exp_f64(em, *t, *n) with
 * em = thi + (thi*p + tlo) in [0.97, 2.05] returned, so that a caller can multiply em by
 * its other factors before the one final (possibly subnormal) rounding.  z below -760
 * counts as -760 (e^-760 < 2^-1096: every caller's result rounds to zero there).  NaN
 * propagates.  em: 0.5 ULP + 2^-54.8 (+ 2^-58 without FA_EXP_LOW in opts).
 */
FA_INLINE fa_simd_f64 fa_exp_neg_f64(fa_simd_f64 z, fa_simd_f64 zl, int opts, fa_simd_f64 *t, fa_simd_f64 *n)
{
    fa_simd_f64 thi, tlo;
    fa_simd_f64 p = fa_exp_reduce_f64(fa_max_f64(fa_set1_f64(-760.0), z), zl, opts, t, n, &thi, &tlo);
    return fa_add_f64(thi, fa_fmadd_f64(thi, p, tlo));
}

/*
 * expm1(z) for z <= 0 (z < -40 gives -1, the rounded value): with s = 2^floor(n/16),
 *   expm1(z) = (s*thi - 1) + s*(thi*p + tlo),
 * s*thi is exact and s*thi - 1 is carried as a Fast2Sum pair (it is exact anyway where
 * the result is below 1/2 in magnitude, Sterbenz), so one final rounding dominates.  expm1(-0.0) = -0.0.
 * NaN propagates.
 */
FA_INLINE fa_simd_f64 fa_expm1_neg_f64(fa_simd_f64 z)
{
    z = fa_max_f64(fa_set1_f64(-40.0), z);
    fa_simd_f64 t, n, thi, tlo;
    fa_simd_f64 p = fa_exp_reduce_f64(z, fa_set1_f64(0.0), FA_EXP_M1, &t, &n, &thi, &tlo);
    fa_simd_f64 s = fa_pow2_n16_f64(t);
    fa_simd_f64 st = fa_mul_f64(s, thi);                                  /* exact */
    fa_simd_f64 hi = fa_sub_f64(st, fa_set1_f64(1.0));
    fa_simd_f64 hi_err = fa_sub_f64(st, fa_add_f64(hi, fa_set1_f64(1.0))); /* Fast2Sum, exact */
    fa_simd_f64 em = fa_add_f64(hi, fa_fmadd_f64(s, fa_fmadd_f64(thi, p, tlo), hi_err));
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
