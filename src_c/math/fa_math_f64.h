/*
 * fa_math_f64.h -- float64 vector cores (exp, expm1, log1p, log) over the SIMD wrappers.
 * Included once per ISA; used by the activation families (src_c/activations/), the reductions and the losses.
 *
 * Every core is written for FA_HAVE_FMA = 0 as well (scalar, SSE2: fmadd is mul + add):
 * each step that must be exact is exact in both cases (see the comments), and the
 * two-product falls back to Dekker's splitting.
 *
 * exp (z in [-760, 709]: callers work with e^-|x| or keep below overflow) and expm1, Tang's
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

/* The same table for a reduction whose scale 2^floor(n/16) is folded into the magic number
 * (fa_exp_shifted_f64, e^(x - K ln2): tn = 16 x log2e + 0x1.8p52 - 16K keeps m = n - 16K in
 * its low bits): fa_exp2_16_adj[j] = bits(fa_exp2_16_hi[j]) - j << 48, so that adding m << 48 to it on
 * the integer side gives 2^(j/16) 2^floor(m/16) exactly; fa_exp2_16_rt[j] = lo[j] / hi[j]
 * rounded (the table's low part relative to its high part). */
static const double fa_exp2_16_adj[16] __attribute__((aligned(64))) = {
    0x1.0000000000000p+0, 0x1.fb5586cf9890fp-1, 0x1.f72b83c7d517bp-1, 0x1.f387a6e756238p-1,
    0x1.f06fe0a31b715p-1, 0x1.edea64c123422p-1, 0x1.ebfdad5362a27p-1, 0x1.eab07dd485429p-1,
    0x1.ea09e667f3bcdp-1, 0x1.ea11473eb0187p-1, 0x1.eace5422aa0dbp-1, 0x1.ec49182a3f090p-1,
    0x1.ee89f995ad3adp-1, 0x1.f199bdd85529cp-1, 0x1.f5818dcfba487p-1, 0x1.fa4afa2a490dap-1};
static const double fa_exp2_16_rt[16] __attribute__((aligned(64))) = {
    0x0.0p+0, 0x1.79aa65d837b6dp-54, -0x1.01b15eaa59348p-55, 0x1.68efde3a8a894p-54,
    0x1.34d754db0abb6p-55, 0x1.59f48a72a4c6dp-55, 0x1.690cebb7aafb0p-56, 0x1.063e1e21c5409p-54,
    -0x1.3b3efbf5e2229p-54, -0x1.b32dcb94da51dp-56, 0x1.db72fc1f0eab5p-55, 0x1.1affc2b91ce27p-56,
    0x1.c1a7792cb3386p-55, 0x1.36eae30af0cb3p-56, 0x1.4a385a63d07a8p-56, -0x1.ff7128fd391f0p-55};

/* q(r) of the exp branch (p = r + r^2 q(r), 2^-54.8 against 1 + p on |r| <= 0.022); sg = -1
 * evaluates q(-r) (the odd coefficients negated) */
FA_INLINE fa_simd_f64 fa_exp_q4_f64(fa_simd_f64 r, double sg)
{
    fa_simd_f64 q = fa_set1_f64(0x1.6c17c334f5083p-10);
    q = fa_fmadd_f64(q, r, fa_set1_f64(sg * 0x1.111212da060e8p-7));
    q = fa_fmadd_f64(q, r, fa_set1_f64(0x1.555555551573cp-5));
    q = fa_fmadd_f64(q, r, fa_set1_f64(sg * 0x1.55555554d5922p-3));
    return fa_fmadd_f64(q, r, fa_set1_f64(0x1.0p-1));
}

/* The head of Tang's reduction, shared by the 16-step float64 exps here (fa_exp_dd_f64 runs
 * 256 steps per octave and rounds on its own): t = 16 z log2e + magic_k
 * rounded to an integer (*t), *n = t - magic_k = round(16 z log2e), and z - n ln2_hi/16
 * returned, exact (ln2_hi has 32 significant bits and |n| < 2^21, so n ln2_hi/16 is a double
 * within ln2/32 of z: Sterbenz).  magic_k = FA_MAGIC_F64 - 16K (K an integer, |16K| < 2^50)
 * shifts the scale by 2^-K: t's low bits then hold n - 16K, the table index j = n mod 16 is
 * still their low 4 bits.  sg = -1: the same for -z (the sign folded into the constants). */
FA_INLINE fa_simd_f64 fa_exp_round_f64(fa_simd_f64 z, fa_simd_f64 magic_k, double sg, fa_simd_f64 *t, fa_simd_f64 *n)
{
    fa_simd_f64 tn = fa_fmadd_f64(z, fa_set1_f64(sg * 16 * FA_LOG2E_F64), magic_k);
    *t = tn;
    *n = fa_sub_f64(tn, magic_k);
    return fa_fnmadd_f64(*n, fa_set1_f64(sg * FA_LN2_HI_F64 / 16), z);
}

/* Options of fa_exp_reduce_f64 (compile-time constants once inlined). */
enum {
    FA_EXP_LOW = 1,     /* add the caller's low part zl of z */
    FA_EXP_M1 = 2,      /* expm1: p to 2^-58.7 relative (degree 7); else to 2^-54.8
                           absolute (degree 6), enough where p is added to 1 */
    FA_EXP_NEGATE = 4,  /* e^-(z+zl): the sign folded into the reduction constants and the
                           odd coefficients (bit-identical to negating z and zl first) */
    FA_EXP_NO_TLO = 8   /* fa_exp_minus_f64: skip the table's low part (one lookup and one
                           addition less; up to 0.5 ULP more error) */
};

/* (expm1(r) - r)/r^2 to 2^-58.7 of expm1(r) on |r| <= 0.022 (FA_EXP_M1's degree 5 q; sg as
 * fa_exp_q4_f64's: the odd coefficients negated for e^-r) */
#define FA_EXP_Q5_C0 0x1.0000000000001p-1    /* coefficient of r^k in q: FA_EXP_Q5_Ck */
#define FA_EXP_Q5_C1 0x1.5555555555556p-3
#define FA_EXP_Q5_C2 0x1.55555554e258ep-5
#define FA_EXP_Q5_C3 0x1.11111110ddf63p-7
#define FA_EXP_Q5_C4 0x1.6c17f6c39583fp-10
#define FA_EXP_Q5_C5 0x1.a01b149876dbfp-13
FA_INLINE fa_simd_f64 fa_exp_q5_f64(fa_simd_f64 r, double sg)
{
    fa_simd_f64 q = fa_set1_f64(sg * FA_EXP_Q5_C5);
    q = fa_fmadd_f64(q, r, fa_set1_f64(FA_EXP_Q5_C4));
    q = fa_fmadd_f64(q, r, fa_set1_f64(sg * FA_EXP_Q5_C3));
    q = fa_fmadd_f64(q, r, fa_set1_f64(FA_EXP_Q5_C2));
    q = fa_fmadd_f64(q, r, fa_set1_f64(sg * FA_EXP_Q5_C1));
    return fa_fmadd_f64(q, r, fa_set1_f64(FA_EXP_Q5_C0));
}

/* fa_exp_q5_f64's polynomial (sg = 1) by Estrin's scheme, r2 = r * r given: the same 5 FMAs
 * in 3 dependent steps instead of 5 (12 cycles of latency instead of 20 on Zen 4), for
 * loops whose terms are bound by the chain's length rather than by the FP pipes
 * (fa_exp_pair_f64).  Rounding: each step rounds at 2^-53 of q ~ 1/2, times r^2 <= 2^-11
 * in p: about 2^-64 of the term 1 + p, twice Horner's, within the 2^-63 the pair's bound
 * gives q (a review's scan of every float32 z in [-650, 709]: max 2^-57.008 with FMA against
 * 2^-57.025 before, 2^-56.724 without FMA against 2^-56.700). */
FA_INLINE fa_simd_f64 fa_exp_q5_estrin_f64(fa_simd_f64 r, fa_simd_f64 r2)
{
    const fa_simd_f64 a = fa_fmadd_f64(fa_set1_f64(FA_EXP_Q5_C1), r, fa_set1_f64(FA_EXP_Q5_C0));
    const fa_simd_f64 b = fa_fmadd_f64(fa_set1_f64(FA_EXP_Q5_C3), r, fa_set1_f64(FA_EXP_Q5_C2));
    const fa_simd_f64 c = fa_fmadd_f64(fa_set1_f64(FA_EXP_Q5_C5), r, fa_set1_f64(FA_EXP_Q5_C4));
    return fa_fmadd_f64(r2, fa_fmadd_f64(r2, c, b), a);
}

/* e^(z+zl) = 2^floor(n/16) * (thi + tlo) * (1 + p): returns p, with *t = n + magic,
 * *n = n, *thi, *tlo the table entries.  z in [-760, 709], |zl| <= ulp(z).
 * q: Chebyshev-node interpolation of (expm1(r) - r)/r^2 on |r| <= 0.022 (mpmath). */
FA_INLINE fa_simd_f64 fa_exp_reduce_f64(fa_simd_f64 z, fa_simd_f64 zl, int opts, fa_simd_f64 *t,
                                        fa_simd_f64 *n, fa_simd_f64 *thi, fa_simd_f64 *tlo)
{
    const double sg = (opts & FA_EXP_NEGATE) ? -1.0 : 1.0;    /* r below is sg * the true r */
    fa_simd_f64 tn, nn, rh = fa_exp_round_f64(z, fa_set1_f64(FA_MAGIC_F64), sg, &tn, &nn);
    fa_simd_f64 r = fa_fnmadd_f64(nn, fa_set1_f64(sg * FA_LN2_LO_F64 / 16), rh);
    if (opts & FA_EXP_LOW)
        r = fa_add_f64(r, zl);
    fa_simd_f64 q = (opts & FA_EXP_M1) ? fa_exp_q5_f64(r, sg) : fa_exp_q4_f64(r, sg);
    *t = tn;
    *n = nn;
    *thi = fa_lut16_f64(fa_exp2_16_hi, tn);
    *tlo = (opts & FA_EXP_NO_TLO) ? fa_set1_f64(0.0) : fa_lut16_f64(fa_exp2_16_lo, tn);
    if (opts & FA_EXP_NEGATE)
        return fa_fmsub_f64(fa_mul_f64(r, r), q, r);
    return fa_fmadd_f64(fa_mul_f64(r, r), q, r);
}

/* 2^floor(n/16) for t = n + magic, floor(n/16) in [-1022, 1023]: on the bits of t,
 * whose low 52 bits hold 2^51 + n. */
FA_INLINE fa_simd_f64 fa_pow2_n16_f64(fa_simd_f64 t)
{
    return fa_bits_shl_f64(fa_bits_add_f64(fa_bits_srl_f64(t, 4),
                                           fa_set1_bits_f64(1023 - (1ull << 47))), 52);
}

/*
 * Subnormal results without a microcode assist.  Intel cores (seen: a Xeon with AVX-512,
 * 2026-12-05) take an assist of ~150 cycles for every instruction whose result underflows
 * (subnormal, or rounded to 0 from below 2^-1022) while FTZ is off; AMD Zen 4 does not.
 * A float64 softmax of (1024, 1024) rows with 10% -inf entries took 7.6 ms against 0.9 ms
 * for finite rows (0.24x torch), every -inf lane's e^-760 underflowing in vscalefpd.
 * So a product that would land below 2^-1022 is never formed: |v| 2^(k + 1074) is (exact,
 * normal), and adding 2^52 rounds it to an integer once (to nearest even, the same rounding
 * as the product into the subnormals), whose bits, less those of 2^52, are the subnormal
 * result's (a carry into 2^53 gives 2^-1022's bits, right too).  Lanes whose result is
 * normal take the plain scaling with their own k; the others take k = 0 there.
 */
FA_INLINE fa_simd_f64 fa_scale_exp_plain_f64(fa_simd_f64 v, fa_simd_f64 t, fa_simd_f64 n)
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

/* The float64 y 2^-1074 for an exact normal y in [0, 2^52): y rounded to an integer by adding
 * 2^52, its bits less 2^52's (as fa_subnormal_from_f32; a carry gives 2^-1022's bits). */
FA_INLINE fa_simd_f64 fa_subnormal_from_f64(fa_simd_f64 y)
{
    const fa_simd_f64 two52 = fa_set1_f64(0x1p52);
    return fa_bits_sub_f64(fa_add_f64(y, two52), two52);
}

/* the lanes of a vector holding some floor(n/16) < k_deep (-1000 for |v| ~ 1; a caller
 * whose |v| reaches 2^-100 passes -900): |v| 2^(floor(n/16) + 1074) for those
 * (floor(n/16) >= -1100 and |v| 2^k_deep >= 2^-1000 keep it normal), the subnormal ones
 * built from its bits, the rest scaled plainly */
FA_INLINE fa_simd_f64 fa_scale_exp_deep_f64(fa_simd_f64 v, fa_simd_f64 t, fa_simd_f64 n, double k_deep)
{
    const fa_simd_f64 two52 = fa_set1_f64(0x1p52), zero = fa_set1_f64(0.0);
    fa_mask_f64 deep = fa_cmplt_f64(n, fa_set1_f64(16.0 * k_deep));
    fa_simd_f64 sign = fa_and_f64(v, fa_set1_f64(-0.0)), a = fa_abs_f64(v);
    fa_simd_f64 y = fa_mul_f64(a, fa_pow2_n16_f64(fa_select_f64(deep, fa_add_f64(t, fa_set1_f64(16.0 * 1074)),
                                                                fa_set1_f64(FA_MAGIC_F64))));
    fa_mask_f64 sub = fa_mask_and_f64(deep, fa_cmplt_f64(y, two52));
    fa_simd_f64 tiny = fa_subnormal_from_f64(y);
    fa_simd_f64 plain = fa_scale_exp_plain_f64(a, fa_select_f64(sub, fa_set1_f64(FA_MAGIC_F64), t),
                                               fa_select_f64(sub, zero, n));
    return fa_or_f64(fa_select_f64(sub, tiny, plain), sign);
}

/* v * 2^floor(n/16) for floor(n/16) in [-1100, 1022] (t = n + magic), rounded once, into the
 * subnormals too (|v| >= 2^-900 there): vscalefpd on AVX-512; elsewhere in two steps below
 * 2^-1000; a vector with a lane below 2^-1000 (rare but for -inf and far-off entries: a
 * branch) through fa_scale_exp_deep_f64, with no underflowing instruction. */
FA_INLINE fa_simd_f64 fa_scale_exp_f64(fa_simd_f64 v, fa_simd_f64 t, fa_simd_f64 n)
{
#if FA_HAVE_SCALEF
    if (fa_tune_scalef_tiny)    /* no assist on this CPU (fa_common.h): vscalefpd for every lane */
        return fa_scale_exp_plain_f64(v, t, n);
#endif
    if (FA_UNLIKELY(fa_mask_any_f64(fa_cmplt_f64(n, fa_set1_f64(-16.0 * 1000)))))
        return fa_scale_exp_deep_f64(v, t, n, -1000.0);
    return fa_scale_exp_plain_f64(v, t, n);
}

/*
 * e^(z+zl) for z <= 0 (|zl| <= ulp(z), used with FA_EXP_LOW in opts) in two parts:
 * e = fa_scale_exp_f64(em, *t, *n) with em = thi + (thi*p + tlo) in [0.97, 2.05]
 * returned, so that a caller can multiply em by its other factors before the one final
 * (possibly subnormal) rounding.  z below -760 counts as -760 (e^-760 < 2^-1096: every
 * caller's result rounds to zero there).  NaN propagates.  em: 0.5 ULP + 2^-54.8
 * relative (2^-58.7 with FA_EXP_M1).
 */
FA_INLINE fa_simd_f64 fa_exp_neg_f64(fa_simd_f64 z, fa_simd_f64 zl, int opts, fa_simd_f64 *t, fa_simd_f64 *n)
{
    fa_simd_f64 thi, tlo;
    fa_simd_f64 p = fa_exp_reduce_f64(fa_max_f64(fa_set1_f64(-760.0), z), zl, opts, t, n, &thi, &tlo);
    return fa_add_f64(thi, fa_fmadd_f64(thi, p, tlo));
}

/* The same as fa_exp_neg_f64 for e^-(w+wl), w of either sign: w is clamped to
 * [-709, 760] (e^709 < DBL_MAX), NaN kept. */
FA_INLINE fa_simd_f64 fa_exp_minus_f64(fa_simd_f64 w, fa_simd_f64 wl, int opts,
                                       fa_simd_f64 *t, fa_simd_f64 *n)
{
    fa_simd_f64 thi, tlo;
    w = fa_max_f64(fa_set1_f64(-709.0), fa_min_f64(fa_set1_f64(760.0), w));
    fa_simd_f64 p = fa_exp_reduce_f64(w, wl, opts | FA_EXP_NEGATE, t, n, &thi, &tlo);
    if (opts & FA_EXP_NO_TLO)
        return fa_fmadd_f64(thi, p, thi);
    return fa_add_f64(thi, fa_fmadd_f64(thi, p, tlo));
}

/* fa_exp_neg_f64 with em as em + *em_lo (the last addition kept by Fast2Sum):
 * relative error 2^-54.8, or 2^-58 with FA_EXP_M1 in opts. */
FA_INLINE fa_simd_f64 fa_exp_neg_dd_f64(fa_simd_f64 z, fa_simd_f64 zl, int opts,
                                        fa_simd_f64 *t, fa_simd_f64 *n, fa_simd_f64 *em_lo)
{
    fa_simd_f64 thi, tlo;
    fa_simd_f64 p = fa_exp_reduce_f64(fa_max_f64(fa_set1_f64(-760.0), z), zl, opts, t, n, &thi, &tlo);
    return fa_fast_two_sum_f64(thi, fa_fmadd_f64(thi, p, tlo), em_lo);
}

/* -|x| */
FA_INLINE fa_simd_f64 fa_neg_abs_f64(fa_simd_f64 x) { return fa_or_f64(x, fa_set1_f64(-0.0)); }

/* e^(-|x|) rounded (subnormal where it is), NaN propagates. */
FA_INLINE fa_simd_f64 fa_exp_minus_abs_f64(fa_simd_f64 x)
{
    fa_simd_f64 t, n;
    fa_simd_f64 em = fa_exp_neg_f64(fa_neg_abs_f64(x), fa_set1_f64(0.0), 0, &t, &n);
    return fa_scale_exp_f64(em, t, n);
}

/*
 * Gradients: the tail shared by those whose derivative is c e^z, z <= 0: g c e^(z + zl).
 * Main path g (c e), e = e^(z + zl) rounded by the caller from z clamped to >= -600
 * (FA_GRAD_DEEP_F64: e >= 2^-866, so neither the caller's c nor this product touches the
 * subnormals, where an Intel core takes a microcode assist per instruction: see
 * fa_scale_exp_plain_f64; e is also floored at 2^-900 here for the lanes the deep branch
 * replaces).  Lanes with z < -600 (a rare branch: far-off and -inf inputs) take
 * (g c em) 2^k from the exp's own parts, scaled once into the subnormals on the integer side
 * (fa_scale_exp_deep_f64: no underflowing instruction); below -760 and at -inf every such
 * result rounds to 0 (|g c| <= 2^20): (g c) 0, with no exp (a vector of finite entries and
 * -inf ones, a masked row's, pays two compares and a select).  The lanes whose g c is outside
 * [2^-100, 2^20] (and not 0), or NaN, take ((g e1) c) e1 with e1 = e^((z + zl)/2) normal, as
 * before (exact, but may take assists), z below -1520 and z = -inf giving 0 g (NaN for an
 * infinite g, as torch).  opts: as for fa_exp_neg_f64 (FA_EXP_LOW if zl is used).
 */
#define FA_GRAD_DEEP_F64 (-600.0)

/* e^-min(|x|, 600) for the gradients' general formulas (normal, >= 2^-866) */
FA_INLINE fa_simd_f64 fa_exp_minus_abs_grad_f64(fa_simd_f64 x)
{
    return fa_exp_minus_abs_f64(fa_min_f64(fa_set1_f64(-FA_GRAD_DEEP_F64), fa_abs_f64(x)));
}

FA_INLINE fa_simd_f64 fa_grad_exp_f64(fa_simd_f64 g, fa_simd_f64 c, fa_simd_f64 e, fa_simd_f64 z, fa_simd_f64 zl,
                                      int opts)
{
    fa_simd_f64 y = fa_mul_f64(g, fa_mul_f64(c, fa_max_f64(fa_set1_f64(0x1p-900), e)));
    fa_mask_f64 deep = fa_cmplt_f64(z, fa_set1_f64(FA_GRAD_DEEP_F64));
    if (FA_UNLIKELY(fa_mask_any_f64(deep))) {
        fa_simd_f64 t, n;
        fa_simd_f64 gc = fa_mul_f64(g, c), agc = fa_abs_f64(gc);
        fa_mask_f64 ok = fa_mask_or_f64(fa_cmpeq_f64(agc, fa_set1_f64(0.0)),
                                        fa_mask_and_f64(fa_cmpge_f64(agc, fa_set1_f64(0x1p-100)),
                                                        fa_cmple_f64(agc, fa_set1_f64(0x1p20))));
        /* z < -760 and -inf (masked entries: common): the result rounds to 0, (g c) 0 */
        y = fa_select_f64(deep, fa_mul_f64(gc, fa_set1_f64(0.0)), y);
        fa_mask_f64 band = fa_mask_and_f64(fa_mask_and_f64(ok, deep), fa_cmpge_f64(z, fa_set1_f64(-760.0)));
        if (fa_mask_any_f64(band)) {
            fa_simd_f64 em = fa_exp_neg_f64(z, zl, opts, &t, &n);
            fa_simd_f64 v = fa_mul_f64(fa_select_f64(band, gc, fa_set1_f64(1.0)), em);
            y = fa_select_f64(band, fa_scale_exp_deep_f64(v, t, n, -900.0), y);
        }
        fa_mask_f64 odd = fa_mask_andnot_f64(ok, deep);
        if (FA_UNLIKELY(fa_mask_any_f64(odd))) {
            const fa_simd_f64 half = fa_set1_f64(0.5);
            fa_simd_f64 em1 = fa_exp_neg_f64(fa_mul_f64(z, half), fa_mul_f64(zl, half), opts, &t, &n);
            fa_simd_f64 e1 = fa_scale_exp_f64(em1, t, n);
            y = fa_select_f64(odd, fa_mul_f64(fa_mul_f64(fa_mul_f64(g, e1), c), e1), y);
        }
    }
    return y;
}

/*
 * e^z as 2^floor(n/16) * (hi + *lo), |*lo| <= 2^-51 hi, to 2^-78 relative, for the sums that
 * must not lose what cancels after them (logsumexp near 0: reductions/fa_lse_exact.h).  z is
 * clamped to [-760, 709] (NaN propagates); *t = n16 + magic and *n = n16 are what
 * fa_scale_exp_f64 takes (it scales by 2^floor(n16/16)).  Tang's scheme with 256 steps per
 * octave from two 16-entry tables (one lut16 each, no gather):
 *   N = round(z 256/ln2) (magic number), N = 256 k + 16 j1 + j2; n16 = floor(N/16) =
 *   16 k + j1 is taken from t's bits (no int64 <-> double conversion);
 *   r = z - N ln2/256 exactly as rh + rl: ln2/256 in three parts, HI and LO of 34 bits
 *   (|N| < 2^19: N HI and N LO exact; z - N HI exact, Sterbenz; r0 - N LO a two-sum),
 *   LO2 (2^-79, N LO2 <= 2^-61 rounded at 2^-114); |r| <= ln2/512 < 2^-9.5;
 *   e^r - 1 = rh + rh^2/2 + [rh^3 Q(rh) + rl (1 + rh) + (rh^2)_lo/2], rh^2 a two-product,
 *   Q = Taylor 1/6 .. 1/7! (truncation r^8/8! < 2^-91), the bracket (<= 2^-31) rounded at
 *   <= 2^-83 and rh + rh^2/2 kept by Fast2Sum: p = ph + pl to ~2^-82;
 *   2^(N mod 256 / 256) = (2^(j1/16))(2^(j2/256)), each table entry hi + lo (mpmath), the
 *   product a two-product plus the cross terms (2^-104);
 *   (th + tl)(1 + ph + pl) = th + th ph (two-product, Fast2Sum) + (tl + tl ph + th pl).
 * Error, relative: 2^-82 (p) + 2^-83 (rounding of th pl) + 2^-104 (table) < 2^-81.5;
 * without FMA (scalar, SSE2) the two-products are Dekker's, still exact: the same bound.
 */
#define FA_LN2_256_HI 0x1.62e42fef80000p-9    /* ln2/256 to 34 bits (mpmath) */
#define FA_LN2_256_LO 0x1.1cf79abc80000p-44   /* ln2/256 - HI to 34 bits */
#define FA_LN2_256_LO2 0x1.e3b39803f2f6bp-80  /* ln2/256 - HI - LO */
static const double fa_exp2_256[2][16] __attribute__((aligned(64))) = {   /* 2^(j/256): hi, lo (mpmath) */
    {0x1.0000000000000p+0, 0x1.00b1afa5abcbfp+0, 0x1.0163da9fb3335p+0, 0x1.02168143b0281p+0,
     0x1.02c9a3e778061p+0, 0x1.037d42e11bbccp+0, 0x1.04315e86e7f85p+0, 0x1.04e5f72f654b1p+0,
     0x1.059b0d3158574p+0, 0x1.0650a0e3c1f89p+0, 0x1.0706b29ddf6dep+0, 0x1.07bd42b72a836p+0,
     0x1.0874518759bc8p+0, 0x1.092bdf66607e0p+0, 0x1.09e3ecac6f383p+0, 0x1.0a9c79b1f3919p+0},
    {0x0.0p+0, -0x1.4f6b2a7609f71p-55, 0x1.b61299ab8cdb7p-54, -0x1.2bf310fc54eb6p-55,
     -0x1.19083535b085dp-56, 0x1.56811eeade11ap-57, -0x1.0a31c1977c96ep-54, 0x1.4c3793aa0d08dp-55,
     0x1.d73e2a475b465p-55, -0x1.5cb7b5799c397p-54, -0x1.c91dfe2b13c27p-55, 0x1.3233454458700p-55,
     0x1.186be4bb284ffp-57, -0x1.68063800a3fd1p-54, 0x1.1487818316136p-54, 0x1.5d16c873d1d38p-55}};
/* The scheme on z already in [-760, 709]: h, *lo as above, *t = floor(N/16) + magic (the
 * t of fa_scale_exp_f64 and fa_pow2_n16_f64) and *nq = N/256 (vscalefpd's floor(nq) = k).
 * N/256 is formed directly: the bias 1.5 2^44 rounds z log2e to a multiple of 1/256, the same
 * N as 256 z log2e + 1.5 2^52 (a scaling by 2^8, exact), tn's mantissa field the same 2^51 + N,
 * and nq (256 c) = N c for each part c of ln2/256: the same r to the bit. */
FA_INLINE fa_simd_f64 fa_exp_dd_reduced_f64(fa_simd_f64 z, fa_simd_f64 *lo, fa_simd_f64 *t, fa_simd_f64 *nq)
{
    const fa_simd_f64 magic = fa_set1_f64(FA_MAGIC_F64 / 256);
    fa_simd_f64 tn = fa_fmadd_f64(z, fa_set1_f64(FA_LOG2E_F64), magic);
    fa_simd_f64 nn = fa_sub_f64(tn, magic);
    *nq = nn;
    /* t16 = floor(N/16) + magic on the bits: the low 52 bits of tn hold 2^51 + N */
    fa_simd_f64 t16 = fa_bits_add_f64(fa_bits_srl_f64(fa_and_f64(tn, fa_set1_bits_f64(0x000fffffffffffffull)), 4),
                                      fa_set1_bits_f64(0x4330000000000000ull + (1ull << 51) - (1ull << 47)));
    fa_simd_f64 r0 = fa_fnmadd_f64(nn, fa_set1_f64(256 * FA_LN2_256_HI), z);              /* exact */
    fa_simd_f64 rl, rh = fa_two_sum_f64(r0, fa_mul_f64(nn, fa_set1_f64(-256 * FA_LN2_256_LO)), &rl);
    rl = fa_fnmadd_f64(nn, fa_set1_f64(256 * FA_LN2_256_LO2), rl);
    fa_simd_f64 s2l, s2h = fa_two_prod_f64(rh, rh, &s2l);
    fa_simd_f64 Q = fa_set1_f64(1.0 / 5040);
    Q = fa_fmadd_f64(Q, rh, fa_set1_f64(1.0 / 720));
    Q = fa_fmadd_f64(Q, rh, fa_set1_f64(1.0 / 120));
    Q = fa_fmadd_f64(Q, rh, fa_set1_f64(1.0 / 24));
    Q = fa_fmadd_f64(Q, rh, fa_set1_f64(1.0 / 6));
    fa_simd_f64 small = fa_fmadd_f64(fa_set1_f64(0.5), s2l, fa_fmadd_f64(rl, rh, rl));
    small = fa_fmadd_f64(fa_mul_f64(rh, s2h), Q, small);
    fa_simd_f64 pe, ph = fa_fast_two_sum_f64(rh, fa_mul_f64(fa_set1_f64(0.5), s2h), &pe);
    fa_simd_f64 pl = fa_add_f64(pe, small);
    /* the table 2^(j1/16) 2^(j2/256): j2 the low 4 bits of tn, j1 those of t16 */
    fa_simd_f64 ah = fa_lut16_f64(fa_exp2_16_hi, t16), al = fa_lut16_f64(fa_exp2_16_lo, t16);
    fa_simd_f64 bh = fa_lut16_f64(fa_exp2_256[0], tn), bl = fa_lut16_f64(fa_exp2_256[1], tn);
    fa_simd_f64 tl, th = fa_two_prod_f64(ah, bh, &tl);
    tl = fa_fmadd_f64(ah, bl, fa_fmadd_f64(al, bh, tl));
    fa_simd_f64 ul, uh = fa_two_prod_f64(th, ph, &ul);
    fa_simd_f64 eh, h = fa_fast_two_sum_f64(th, uh, &eh);
    *lo = fa_add_f64(fa_add_f64(eh, ul), fa_fmadd_f64(th, pl, fa_fmadd_f64(tl, ph, tl)));
    *t = t16;
    return h;
}

FA_INLINE fa_simd_f64 fa_exp_dd_f64(fa_simd_f64 z, fa_simd_f64 *lo, fa_simd_f64 *t, fa_simd_f64 *n)
{
    fa_simd_f64 nq, h = fa_exp_dd_reduced_f64(fa_max_f64(fa_set1_f64(-760.0), fa_min_f64(fa_set1_f64(709.0), z)),
                                              lo, t, &nq);
    *n = fa_sub_f64(*t, fa_set1_f64(FA_MAGIC_F64));
    return h;
}

/* The two scaled pair exps of logsumexp's cancelling sums (fa_exp_dd_scaled_f64,
 * fa_exp_pair_f64) share their range and their scaling: z clamped below at -650, so that every
 * scaled part is normal (no subnormal test), and above at 709 where vscalefpd is not there to
 * turn a larger z into +inf or NaN (fa_exp_pair_parts_f64: t = +inf, u = +-inf or NaN; the
 * sums then fail their check, no caller passes z above 512); (v, *lo) times 2^floor(nq),
 * the exponent read from t's mantissa field (fa_pow2_n16_f64) where there is no vscalefpd. */
FA_INLINE fa_simd_f64 fa_exp_scaled_arg_f64(fa_simd_f64 z)
{
#if FA_HAVE_SCALEF
    return fa_max_f64(fa_set1_f64(-650.0), z);
#else
    return fa_max_f64(fa_set1_f64(-650.0), fa_min_f64(fa_set1_f64(709.0), z));
#endif
}

FA_INLINE fa_simd_f64 fa_exp_scale_pair_f64(fa_simd_f64 v, fa_simd_f64 *lo, fa_simd_f64 t, fa_simd_f64 nq)
{
#if FA_HAVE_SCALEF
    (void)t;
    *lo = fa_scalef_f64(*lo, nq);
    return fa_scalef_f64(v, nq);
#else
    (void)nq;
    const fa_simd_f64 s = fa_pow2_n16_f64(t);
    *lo = fa_mul_f64(*lo, s);
    return fa_mul_f64(v, s);
#endif
}

/* e^z as hi + *lo, fa_exp_dd_f64's pair scaled (exact), for the unweighted sums of
 * logsumexp's double-double pass: z clamped to [-650, 709] (no upper clamp where vscalefpd
 * turns z > 709 into +inf, and the sum then fails), so that a term below e^-650 (2^-937.8:
 * -inf entries, far-off ones) counts as e^-650 and every scaled part is normal: no test for
 * subnormal results (fa_scale_exp_f64's branch per vector, twice).  The sums are used only
 * from 2^-800 (fa_lse_from_exact), so those terms add at most n 2^-137 relative. */
FA_INLINE fa_simd_f64 fa_exp_dd_scaled_f64(fa_simd_f64 z, fa_simd_f64 *lo)
{
    fa_simd_f64 t, nq, h = fa_exp_dd_reduced_f64(fa_exp_scaled_arg_f64(z), lo, &t, &nq);
    return fa_exp_scale_pair_f64(h, lo, t, nq);
}

/* ---- e^(x - K ln2): exp with its scale shifted by 2^-K (the float64 rows' direct reduction) ----
 * Tang's scheme above (fa_exp_round_f64, the Cody-Waite ln2_hi/lo split, the degree-4 q of
 * fa_exp_q4_f64, the 16-entry table) with magic_k = fa_exp_shift_magic_f64(K) = 0x1.8p52 - 16K:
 * e^(x - K ln2) = 2^(j/16) 2^floor(m/16) e^r, m = n - 16K, n = round(16 x log2e), j = n mod 16,
 * r = (x - n ln2_hi/16) - n ln2_lo/16, |r| <= 0.0217, so x - K ln2 is never formed (the
 * reductions' chunk sums: K = round(mk log2e) of the chunk max mk, |x| < 2^16 keeps |n| < 2^21).
 * Modes (compile-time once inlined):
 *   FA_EXP_SHIFT_NORMAL  every result a normal number (x >= mk - 700 in the reductions):
 *                        THI = 2^(j/16) 2^floor(m/16) exactly, one integer addition of m << 48
 *                        to fa_exp2_16_adj[j], zero where keep is false (masked integer add);
 *                        the result THI (1 + (p + tlo/thi)), p = r + r^2 q(r), rounded once.
 *   FA_EXP_SHIFT_BIASED  the caller's K lies FA_EXP_SHIFT_BIAS (600) below the chunk max mk's
 *                        (or the row's), so that every term from x in [low, mk], low = mk - 760,
 *                        is a normal number in [2^-497, 2^601]: NORMAL's construction with no
 *                        branch, where terms below 2^-1022 at the unbiased scale would take a
 *                        microcode assist per instruction on Intel cores, or lose precision if
 *                        dropped.  x below low gives 0 (NaN is kept): such lanes leave keep (one
 *                        masked compare on AVX-512) and the last FMA is zero-masked, so whatever
 *                        -inf or a far x makes of r and T (NaN, garbage bits) never reaches the
 *                        result (2026-12-07: the clamp of x and the mask's AND before, 2 of ~30
 *                        operations per vector: rows with 10% -inf entries took 6% longer than
 *                        N(0, 3) rows).  The caller takes the bias out of the sum's factor, or
 *                        of each output (fa_sm64_unbias_times).
 * Error: one rounding (2^-53 relative) + q's 2^-54.8 + the table's tlo/thi rounding (2^-106):
 * <= 1.35 ULP in theory; measured max 0.73 ULP (NORMAL; BIASED is the same construction scaled
 * by a power of 2) against quad-precision expq, 2^22 x per chunk max mk in {0, +-1, +-37.5,
 * +-700, +-30000, +-45000}, x in [mk - 700, mk], half of them within 2 of mk, K =
 * round(mk log2e), on the scalar, SSE2, AVX2 and AVX-512 variants (a C harness over this
 * header).  Constants: ln2 split and log2e as in fa_exp_reduce_f64, tables
 * fa_exp2_16_hi/lo/adj/rt (mpmath). */
enum { FA_EXP_SHIFT_NORMAL = 1, FA_EXP_SHIFT_BIASED = 3 };
#define FA_EXP_SHIFT_BIAS 600

/* magic_k of fa_exp_shifted_f64 for an integer K, |K| < 2^20 (exact) */
FA_INLINE fa_simd_f64 fa_exp_shift_magic_f64(double K) { return fa_set1_f64(FA_MAGIC_F64 - 16.0 * K); }

FA_INLINE fa_simd_f64 fa_exp_shifted_f64(fa_simd_f64 x, fa_simd_f64 magic_k, fa_simd_f64 low, fa_mask_f64 keep,
                                         int mode)
{
    fa_simd_f64 t, n;
    if (mode == FA_EXP_SHIFT_BIASED)
        keep = fa_mask_cmpnlt_f64(keep, x, low);
    fa_simd_f64 r = fa_exp_round_f64(x, magic_k, 1.0, &t, &n);
    r = fa_fnmadd_f64(n, fa_set1_f64(FA_LN2_LO_F64 / 16), r);
    fa_simd_f64 q = fa_exp_q4_f64(r, 1.0);
    fa_simd_f64 r2 = fa_mul_f64(r, r);
    if (mode == FA_EXP_SHIFT_BIASED) {
        fa_simd_f64 T = fa_bits_add_f64(fa_lut16_f64(fa_exp2_16_adj, t), fa_bits_shl_f64(t, 48));
        fa_simd_f64 p = fa_fmadd_f64(r2, q, fa_add_f64(r, fa_lut16_f64(fa_exp2_16_rt, t)));
        return fa_fmadd_maskz_f64(keep, T, p, T);
    }
    fa_simd_f64 T = fa_bits_add_maskz_f64(keep, fa_lut16_f64(fa_exp2_16_adj, t), fa_bits_shl_f64(t, 48));
    fa_simd_f64 p = fa_fmadd_f64(r2, q, fa_add_f64(r, fa_lut16_f64(fa_exp2_16_rt, t)));
    return fa_fmadd_f64(T, p, T);
}

/* (gh + gl) e^(x - K ln2) (magic_k = fa_exp_shift_magic_f64(K)) rounded once, for the lanes
 * whose term or whose product by the factor would pass through the subnormals, where an Intel
 * core takes a microcode assist per instruction (fa_scale_exp_plain_f64): em (gh + gl) is
 * formed at em's scale, em = thi + (thi p + tlo) in [0.97, 2.05] (fa_exp_neg_f64's
 * construction), and scaled by 2^floor(m/16) last, into the subnormals on the integer
 * side (fa_scale_exp_deep_f64).  x is clamped at low, a bound at or above K ln2 - 760 where
 * the result is 0; gh in [2^-99, 2^20] and gl = 0 or |gl| >= 2^-60 gh (no product here
 * leaves the normal range).  Error: fa_exp_shifted_f64's em (2^-54.8 + one rounding) and two
 * roundings of the product, then the one into the result's precision. */
FA_INLINE fa_simd_f64 fa_exp_shifted_times_f64(fa_simd_f64 x, fa_simd_f64 magic_k, fa_simd_f64 low, fa_simd_f64 gh,
                                               fa_simd_f64 gl)
{
    fa_simd_f64 t, n;
    fa_simd_f64 r = fa_exp_round_f64(fa_max_f64(low, x), magic_k, 1.0, &t, &n);
    r = fa_fnmadd_f64(n, fa_set1_f64(FA_LN2_LO_F64 / 16), r);
    fa_simd_f64 p = fa_fmadd_f64(fa_mul_f64(r, r), fa_exp_q4_f64(r, 1.0), r);
    fa_simd_f64 thi = fa_lut16_f64(fa_exp2_16_hi, t), tlo = fa_lut16_f64(fa_exp2_16_lo, t);
    fa_simd_f64 em = fa_add_f64(thi, fa_fmadd_f64(thi, p, tlo));
    fa_simd_f64 v = fa_fmadd_f64(em, gh, fa_mul_f64(em, gl));
    return fa_scale_exp_deep_f64(v, t, fa_sub_f64(t, fa_set1_f64(FA_MAGIC_F64)), -900.0);
}

/* ---- scalar exp (one call per slice or per chunk) ----------------------------------------
 * fa_exp_scalar_f64: libm's exp (glibc: < 1 ULP, correctly rounded in practice), for the
 * per-slice and per-chunk factors of the reductions (e^(mk - M), e^(K ln2 - m), e^-M) and
 * their rare scalar re-sums: one call per slice or chunk costs nothing against the vector
 * terms, and these factors were computed with it, so the bits stay.  Both dtypes use it:
 * the float32 reductions compute their factors in double. */
FA_INLINE double fa_exp_scalar_f64(double z) { return exp(z); }

/* v 2^d: one product by the exact 2^d while that is a normal double (|d| <= 1022; the
 * product rounds once, as ldexp does), libm's ldexp beyond (rare); the per-chunk rescalings
 * of the reductions and losses (a libm call each was 1.7% of a (4096, 1000) cross-entropy) */
FA_INLINE double fa_ldexp_scalar_f64(double v, int d)
{
    if (d < -1022 || d > 1022)
        return ldexp(v, d);
    const uint64_t u = (uint64_t)(d + 1023) << 52;
    double p;
    memcpy(&p, &u, 8);
    return v * p;
}

/*
 * e^z as an unevaluated pair hi + *lo, both already scaled by 2^floor(n/16) (exact),
 * |lo| <= 2^-53 hi: between fa_exp_neg_f64 (one rounded double) and
 * fa_exp_dd_f64 (2^-81.5), for sums whose terms need a little more than a double
 * (logsumexp's float32 cancelling tier, reductions/fa_lse_exact.h).  z clamped to
 * [-650, 709], NaN propagates: a term below e^-650 (2^-937.8: -inf entries, far-off ones)
 * counts as e^-650, so that hi and lo stay normal and the scaling needs no test for
 * subnormal results (Intel cores take a microcode assist on each; a -inf entry's lane took a
 * branch per vector before, ~8% of the tier's time); the tier's sums are used only where
 * they reach 2^-800, so those terms add at most n 2^-137 relative.  The pair is fa_exp_neg_dd_f64's em + em_lo
 * with the expm1-grade polynomial (FA_EXP_M1).  fa_exp_pair_parts_f64 returns the unnormalised
 * pair: t = 2^(j/16) 2^floor(n/16) rounded (the table's hi part, scaled exactly) and *u = t p +
 * tlo 2^floor(n/16) (|u| < t/16), e^z = t + u to the same error (a caller that adds both
 * parts exactly, as logsumexp's tier does, takes the renormalisation's 3 dependent
 * operations off each term's chain).  Relative error, per source (|r| <= 0.0217 <
 * 2^-5, so r and p round at <= 2^-59; thi p + tlo < 2^-4 rounds at <= 2^-58; q's fit 2^-58.7
 * of p, <= 2^-64; ln2 to 2^-86 times |n| <= 2^14): 2^-59 + 2^-59 + 2^-58 + 2^-63 < 2^-56.9
 * with FMA; without FMA (scalar, SSE2: r^2 q, thi p and n LO each rounded once more,
 * <= 2^-59 + 2^-57.5 + 2^-75) < 2^-56.2.  Callers take 2^-56.
 */
FA_INLINE fa_simd_f64 fa_exp_pair_parts_f64(fa_simd_f64 z, fa_simd_f64 *u)
{
    z = fa_exp_scaled_arg_f64(z);
    /* fa_exp_reduce_f64's reduction with n/16 formed directly: the bias 1.5 2^48 rounds
     * z log2e to a multiple of 1/16, the same n as 16 z log2e + 1.5 2^52 (a scaling by 16,
     * exact), and tq's mantissa field is the same 2^51 + n (table index: its low 4 bits;
     * fa_pow2_n16_f64 reads only that field); nq ln2_hi = n (ln2_hi/16) exactly: the same
     * r, one multiplication n/16 fewer where vscalefpd takes floor(nq) */
    const fa_simd_f64 magic = fa_set1_f64(FA_MAGIC_F64 / 16);
    fa_simd_f64 tq = fa_fmadd_f64(z, fa_set1_f64(FA_LOG2E_F64), magic), nq = fa_sub_f64(tq, magic);
    fa_simd_f64 r = fa_fnmadd_f64(nq, fa_set1_f64(FA_LN2_HI_F64), z);
    r = fa_fnmadd_f64(nq, fa_set1_f64(FA_LN2_LO_F64), r);
    const fa_simd_f64 r2 = fa_mul_f64(r, r);
    fa_simd_f64 p = fa_fmadd_f64(r2, fa_exp_q5_estrin_f64(r, r2), r);
    /* the table pair scaled by 2^floor(nq) first, off the chain through p (every scaled part
     * a normal number, z >= -650: the same bits as scaling the sum's pair after it) */
    fa_simd_f64 tlo = fa_lut16_f64(fa_exp2_16_lo, tq);
    const fa_simd_f64 thi = fa_exp_scale_pair_f64(fa_lut16_f64(fa_exp2_16_hi, tq), &tlo, tq, nq);
    *u = fa_fmadd_f64(thi, p, tlo);
    return thi;
}

/* e^z as hi + *lo: fa_exp_pair_parts_f64's t + u, renormalised (Fast2Sum, exact: |u| < t/16) */
FA_INLINE fa_simd_f64 fa_exp_pair_f64(fa_simd_f64 z, fa_simd_f64 *lo)
{
    fa_simd_f64 u, t = fa_exp_pair_parts_f64(z, &u);
    return fa_fast_two_sum_f64(t, u, lo);
}
#define FA_EXP_PAIR_REL_ERR 0x1p-56   /* fa_exp_pair_f64's relative error bound, every variant */

/* ---- exp variants of the reductions (src_c/reductions/: names fa_sm_*) --------------------
 * e^(x - m) on lanes with x - m as a two-sum fed in as the low part,
 * the double-double e^(ah + al) of one scalar (through fa_exp_dd_f64), and the scalar
 * e^(a - b) of two running maxima (libm exp with a - b's rounding error folded in). */

/* e^(x - m) for x <= m as 2^floor(n/16) * em: x - m as a two-sum (d + e) fed into the
 * reduction (FA_EXP_LOW), the expm1-grade polynomial (FA_EXP_M1, 2^-58.7) */
FA_INLINE fa_simd_f64 fa_sm_exp_diff_f64(fa_simd_f64 x, fa_simd_f64 m, fa_simd_f64 *t, fa_simd_f64 *n)
{
    fa_simd_f64 e, d = fa_two_sum_f64(x, fa_neg_f64(m), &e);
    e = fa_select_f64(fa_cmplt_f64(d, fa_set1_f64(-740.0)), fa_set1_f64(0.0), e);   /* inf - inf */
    return fa_exp_neg_f64(d, e, FA_EXP_LOW | FA_EXP_M1, t, n);
}

/* e^(ah + al) as hi + lo, |ah| <= 0.37, |al| <= 2^-40: the math family's double-double exp
 * (fa_exp_dd_f64, 2^-81.5) of ah, times 1 + al (al^2/2 < 2^-81) */
FA_INLINE void fa_sm64_exp_dd(double ah, double al, double *hi, double *lo)
{
    fa_simd_f64 t, n, l, h = fa_exp_dd_f64(fa_set1_f64(ah), &l, &t, &n);
    h = fa_scale_exp_f64(h, t, n);
    l = fa_scale_exp_f64(l, t, n);
    const double H = fa_reduce_max_f64(h), Lo = fa_reduce_max_f64(l);   /* every lane alike */
    *hi = fa_fast_two_sum_scalar_f64(H, fma(H, al, Lo + Lo * al), lo);
}

/* e^(a - b) with the rounding error of a - b folded in (float64 maxima: 30 - 3.x rounds, and
 * 2^-49 of a dominant entry's T is 8 ULP of its log_softmax) */
FA_INLINE double fa_sm_exp_diff(double a, double b)
{
    double err, d = fa_two_sum_scalar_f64(a, -b, &err);
    if (!(d > -INFINITY && d < INFINITY))
        return fa_exp_scalar_f64(d);
    return fa_exp_scalar_f64(d) * (1.0 + err);
}

/*
 * expm1(z) for z <= 0 (z < -40 gives -1, the rounded value): with s = 2^floor(n/16),
 *   expm1(z) = (s*thi - 1) + s*(thi*p + tlo),
 * s*thi is exact and s*thi - 1 is carried as a Fast2Sum pair (it is exact anyway where
 * the result is below 1/2 in magnitude, Sterbenz), so one final rounding dominates.
 * expm1(-0.0) gives +0.0 (the caller fixes the sign where it matters).  NaN propagates.
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
    return fa_add_f64(hi, fa_fmadd_f64(s, fa_fmadd_f64(thi, p, tlo), hi_err));
}

/*
 * erfcx(z) = e^(z^2) * erfc(z) for z in [0, 32] (z above 32 counts as 32; NaN propagates),
 * so that erfc(z) = e^(-z^2) * erfcx(z) with e^(-z^2) from fa_exp_neg_f64 on z^2 as a
 * two-product (an error of z^2 is an absolute error of the exponent).  erfcx is entire and
 * slowly varying: 13 intervals [0, 1/2), then half-binades [1/2, 3/4), [3/4, 1), [1, 3/2),
 * ... [24, 32), chosen on the bits of max(z, 3/8) (exponent and first mantissa bit, one
 * lut16 index); on each a degree-16 polynomial in z - mid: Chebyshev-node interpolation
 * of e^(z^2) erfc(z) in mpmath at 50 digits (17 nodes per interval), coefficients
 * rounded to double (the leading one kept as hi + lo).  Table slot = the index's low 4
 * bits, so the 13 intervals sit in slots 11..15, 0..7.
 */
static const double fa_erfcx_mid[16] __attribute__((aligned(64))) = {
    0x1.4000000000000p+1, 0x1.c000000000000p+1, 0x1.4000000000000p+2, 0x1.c000000000000p+2,
    0x1.4000000000000p+3, 0x1.c000000000000p+3, 0x1.4000000000000p+4, 0x1.c000000000000p+4,
    0x0.0p+0, 0x0.0p+0, 0x0.0p+0, 0x1.0000000000000p-2,
    0x1.4000000000000p-1, 0x1.c000000000000p-1, 0x1.4000000000000p+0, 0x1.c000000000000p+0};
static const double fa_erfcx_c[17][16] __attribute__((aligned(64))) = {
    {0x1.afbb3f3b7343bp-3, 0x1.3e0a99a0ee914p-3, 0x1.c57239e943d1ap-4, 0x1.46dc6bf900f68p-4,
     0x1.cbe831f997124p-5, 0x1.494bb2ce2924fp-5, 0x1.cd9bc89b73548p-6, 0x1.49ebde7878139p-6,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, 0x1.8a6adcda2ea92p-1,
     0x1.1d16b5809eaf6p-1, 0x1.db747ee409ac5p-2, 0x1.78a692138767ap-2, 0x1.23cfc2f1dc7e0p-2},
    {-0x1.3086d7f01ac85p-4, -0x1.5285d2eb1ef74p-5, -0x1.5d843497d4f39p-6, -0x1.6e4b45246f91fp-7,
     -0x1.6c55c82b4b6b2p-8, -0x1.76711f8b6cf4dp-9, -0x1.705e8c0688045p-10, -0x1.7892d6052da5cp-11,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, -0x1.7c857b9b3c191p-1,
     -0x1.babd0e4f1a24dp-2, -0x1.4369f60195edcp-2, -0x1.abaacdbfa8b07p-3, -0x1.0c3d538446447p-3},
    {0x1.98958a7a8e4a3p-6, 0x1.5d581133378edp-7, 0x1.08cf82b79a11bp-8, 0x1.96a3de47d5b16p-10,
     0x1.1f3df0de32f59p-11, 0x1.a8b73429cebccp-13, 0x1.259993494e46ap-14, 0x1.ad8ccfc089fa9p-16,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, 0x1.2b497df35fa2ep-1,
     0x1.2577420fcd07dp-2, 0x1.80ef8f454cf88p-3, 0x1.b56f45eef7e58p-4, 0x1.c8d0cef0f810dp-5},
    {-0x1.0632076809e11p-7, -0x1.5e5d7e9899183p-9, -0x1.8abc198708220p-11, -0x1.bf5070ee1923bp-13,
     -0x1.c2c9072e94eb8p-15, -0x1.e08bef3ab5256p-17, -0x1.d36fe3dd94057p-19, -0x1.e9ab4c8d1c33bp-21,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, -0x1.97997ad330409p-2,
     -0x1.59c35c06f7ffep-3, -0x1.9d5868de0b581p-4, -0x1.9b635ac624ad5p-5, -0x1.6cb52fe48945fp-6},
    {0x1.435c04e207cb3p-9, 0x1.5632136d8cce4p-11, 0x1.219f2c3353771p-13, 0x1.e7af6eeff6894p-16,
     0x1.60131845d1d6cp-18, 0x1.0f30b59c10925p-20, 0x1.73a4ded441159p-23, 0x1.16ecc51155d68p-25,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, 0x1.f0ac9d31f335ap-3,
     0x1.72d46a9b3f0fap-4, 0x1.9831c2c85003fp-5, 0x1.68a25a6641f26p-6, 0x1.13648a11ffe73p-7},
    {-0x1.809ce8ab4eb77p-11, -0x1.460abd6b253d1p-13, -0x1.a2a81d242df06p-16, -0x1.078bfe34dabfcp-18,
     -0x1.11b748b921d8dp-21, -0x1.3156aeb7fb008p-24, -0x1.271eee7d916a4p-27, -0x1.3d8fbf04b8bbap-30,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, -0x1.146985bd8e189p-3,
     -0x1.6fce5df0ba11ap-5, -0x1.779dd2a3da23dp-6, -0x1.299636d6c5855p-7, -0x1.8bf716a8eabd4p-9},
    {0x1.ba8a67cfbaca3p-13, 0x1.2f839e543eb89p-15, 0x1.2a41152dda4cep-18, 0x1.1a6f6b79ff7d5p-21,
     0x1.a7aa39fd86a2fp-25, 0x1.56f43e58a2b55p-28, 0x1.d42321f2deab3p-32, 0x1.69529186fedf5p-35,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, 0x1.1d0c27d70a4f5p-4,
     0x1.552fe700068d8p-6, 0x1.452648d62b706p-7, 0x1.d1b695aabbf27p-9, 0x1.106bd5c04333dp-10},
    {-0x1.edd423a02acbfp-15, -0x1.146bc40741d6cp-17, -0x1.a3193d70a5ba6p-21, -0x1.2c2db9e407820p-24,
     -0x1.4669c9e71de39p-28, -0x1.8046e7a06395bp-32, -0x1.72d79857860abp-36, -0x1.9adb10ca92f81p-40,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, -0x1.132db7ba3472bp-5,
     -0x1.2a7f4fb7adc64p-7, -0x1.0ab3832b9a75cp-8, -0x1.5b8bc94c6e6c0p-10, -0x1.6838884abbb22p-12},
    {0x1.0bcba32343445p-16, 0x1.ed2a96753c640p-20, 0x1.228a78eac6505p-23, 0x1.3c768d8ae99dep-27,
     0x1.f4bff20d7c58fp-32, 0x1.ad8cef6e608cep-36, 0x1.2569bdb6e3215p-40, 0x1.d2e2ed4407041p-45,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, 0x1.f54ce1bff7c0fp-7,
     0x1.efd03c2d408fdp-9, 0x1.a0ef7ee62fc3dp-10, 0x1.f0fe6fb60b1e4p-12, 0x1.cb4c687e51f7dp-14},
    {-0x1.1ad10ab8a5671p-18, -0x1.af5d63ce7edb0p-22, -0x1.8dab87a30f6cap-26, -0x1.4affde9592433p-30,
     -0x1.7e6c19cfead47p-35, -0x1.df04da3dd3643p-40, -0x1.cfbcb70483862p-45, -0x1.091ced3f3dfa7p-49,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, -0x1.b1819ed621213p-8,
     -0x1.88ef99729e3e1p-10, -0x1.37fe70bafb180p-11, -0x1.55c07d0db32bap-13, -0x1.1b2912c4f883ap-15},
    {0x1.234fec1129a77p-20, 0x1.724f929341191p-24, 0x1.0cc72f1444112p-28, 0x1.578846ac63c23p-33,
     0x1.22ccc877643cdp-38, 0x1.0a769667651e8p-43, 0x1.6e07b3580eaadp-49, 0x1.2ce42ebeec9c7p-54,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, 0x1.65b08ac34a1b3p-9,
     0x1.2a6ab02dbe8fcp-11, 0x1.c0b37c205f5c2p-13, 0x1.c5703583aa003p-15, 0x1.5273f33c24f7fp-17},
    {-0x1.2516089fa8258p-22, -0x1.3845b1fba466dp-26, -0x1.6703b696a1c7ep-31, -0x1.61db63737737ap-36,
     -0x1.b886673df9695p-42, -0x1.27c59b3f4674ap-47, -0x1.20b2b062d1968p-53, -0x1.554e49807c9dep-59,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, -0x1.1ac2d01794d66p-10,
     -0x1.b3e632ef6f0b6p-13, -0x1.370a7155561f5p-14, -0x1.22fc54614208cp-16, -0x1.88fb3f48c8d91p-19},
    {0x1.205ea2f0d65d1p-24, 0x1.02ddf9ec80018p-28, 0x1.d9e87950bdc40p-34, 0x1.69c8f0803b167p-39,
     0x1.4c272f1c80f13p-45, 0x1.4786521e96b20p-51, 0x1.c6a6e76e8fa20p-58, 0x1.82e25cd62ca77p-64,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, 0x1.adcb3f4710086p-12,
     0x1.3313a105ca45cp-14, 0x1.a0d3e43d29491p-16, 0x1.6a18d1875915fp-18, 0x1.bc1035ed7ca45p-21},
    {-0x1.156b068cd3e63p-26, -0x1.a5eaada01747fp-31, -0x1.33a3d5095192bp-36, -0x1.6e819aa509cd8p-42,
     -0x1.edb11a6068c4cp-49, -0x1.68d03b6ab2e29p-55, -0x1.60f28707ad9a2p-62, -0x1.b4dbc0eb8d273p-69,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, -0x1.3ad43dd99acc2p-13,
     -0x1.a260946a10706p-16, -0x1.0e97aa7e7ba6cp-17, -0x1.b5a70e1ae92b5p-20, -0x1.e90d00140b3d1p-23},
    {0x1.05f2cb2c45b9dp-28, 0x1.52b9489f6c849p-33, 0x1.8d360f741807dp-39, 0x1.7160ce340d7f6p-45,
     0x1.713d3813bfbadp-52, 0x1.8db94e45a9551p-59, 0x1.1546d5d790327p-66, 0x1.ee9633a2da710p-74,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, 0x1.be0b655a9444dp-15,
     0x1.143a88141d6d6p-17, 0x1.55124e0743920p-19, 0x1.01722d19a7f37p-21, 0x1.06e8f27bbe3c3p-24},
    {-0x1.006c9c222404fp-30, -0x1.16eb19cdf733cp-35, -0x1.1b5565eb05fafp-41, -0x1.8b65d369f2ed8p-48,
     -0x1.41c55d58f88d8p-55, -0x1.db4d1a1287ebbp-63, -0x1.03e3ac39b2473p-70, -0x1.31bc3b7e91cbap-78,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, -0x1.3b1ba75f41f29p-16,
     -0x1.646f55ba3bfb0p-19, -0x1.a4864893f7412p-21, -0x1.2d52e7d9ca20fp-23, -0x1.191b414a2ebd0p-26},
    {0x1.d182456c55dc3p-33, 0x1.b23eb0e700542p-38, 0x1.655d8c3bd23ecp-44, 0x1.88a6a5525f6ffp-51,
     0x1.dccd5be857596p-59, 0x1.04ac50a1231cbp-66, 0x1.9731868644f26p-75, 0x1.59ab467da3d15p-83,
     0x0.0p+0, 0x0.0p+0, 0x0.0p+0, 0x1.a3264465f110cp-18,
     0x1.bc6da20f59387p-21, 0x1.f5fc3732ceef5p-23, 0x1.50eeabc07ec9cp-25, 0x1.20d86808366c8p-28},
};
/* the leading coefficients' remainders: c[0] - fa_erfcx_c[0] */
static const double fa_erfcx_c0_lo[16] __attribute__((aligned(64))) = {
    -0x1.9f40bca142466p-58, -0x1.902cb7976c65ep-60, -0x1.0e682190858dbp-59, -0x1.9c3bae12ae446p-59,
    -0x1.ed815e254e295p-60, 0x1.5741133d175cep-59, -0x1.c826601a2f019p-65, -0x1.d95a8796b0b9fp-62,
    0x0.0p+0, 0x0.0p+0, 0x0.0p+0, -0x1.b3e5e8f69dcbfp-57,
    0x1.043e5f49b4044p-55, -0x1.55a083acba9f3p-56, 0x1.4797400f19192p-63, 0x1.3b1040eb318c2p-57};

/* erfcx(z + zl) as hi + *lo, zl the low part of z (erfcx'/erfcx ~ -1/z: a relative error
 * of z passes through whole); the leading coefficient is carried in two parts and the
 * last addition kept by Fast2Sum: the coefficients' relative error is at most 2^-55.28 (on
 * [8, 12); tools/fit/fit_erfcx_f64.py re-derives the table and prints every interval's). */
FA_INLINE fa_simd_f64 fa_erfcx_f64(fa_simd_f64 z, fa_simd_f64 zl, fa_simd_f64 *lo)
{
    fa_simd_f64 zc = fa_min_f64(fa_set1_f64(32.0), z);
    fa_simd_f64 idx = fa_bits_srl_f64(fa_max_f64(fa_set1_f64(0.375), fa_min_f64(fa_set1_f64(31.0), zc)), 51);
    fa_simd_f64 s = fa_add_f64(fa_sub_f64(zc, fa_lut16_f64(fa_erfcx_mid, idx)), zl);
    fa_simd_f64 y = fa_lut16_f64(fa_erfcx_c[16], idx);
    for (int j = 15; j >= 1; j--)
        y = fa_fmadd_f64(y, s, fa_lut16_f64(fa_erfcx_c[j], idx));
    fa_simd_f64 tail = fa_fmadd_f64(y, s, fa_lut16_f64(fa_erfcx_c0_lo, idx));
    return fa_fast_two_sum_f64(fa_lut16_f64(fa_erfcx_c[0], idx), tail, lo);
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

/*
 * log1p(r) for r >= 0 (NaN propagates, +inf gives +inf): u = 1 + r rounded with its exact
 * residual e (TwoSum), log1p(r) = log(u) + log1p(e/u) = fa_log_f64(u, e/u) to 2^-106 (|e/u| <=
 * 2^-53), so tiny r keeps its relative accuracy (u = 1, e = r).  Error: fa_log_f64's (the
 * reduced log1p 2^-57.5, plus its final roundings) -- about 1 ULP of a double.
 */
FA_INLINE fa_simd_f64 fa_log1p_pos_f64(fa_simd_f64 r)
{
    fa_simd_f64 e, u = fa_two_sum_f64(fa_set1_f64(1.0), r, &e);
    return fa_log_f64(u, fa_select_f64(fa_cmplt_f64(u, fa_set1_f64(INFINITY)), fa_div_f64(e, u), fa_set1_f64(0.0)));
}

/*
 * 2 atanh(s) - 2s = s z P(z), z = s^2, for |s| <= 0.1719 (logit's reduced ratio, whose
 * range is widened by a 2^-11 reciprocal seed).  P of degree 6, Chebyshev-node interpolation
 * in mpmath (tools/fit/fit_logit_f64.py): 2s + s z P(z) is 2 atanh(s) to 2^-57.5 relative.
 */
FA_INLINE fa_simd_f64 fa_2atanh_poly_f64(fa_simd_f64 z)
{
    fa_simd_f64 P = fa_set1_f64(0x1.2b737604e10a6p-3);
    P = fa_fmadd_f64(P, z, fa_set1_f64(0x1.39fc2c9cdc087p-3));
    P = fa_fmadd_f64(P, z, fa_set1_f64(0x1.7462c5a97eeb5p-3));
    P = fa_fmadd_f64(P, z, fa_set1_f64(0x1.c71c62a9ad69cp-3));
    P = fa_fmadd_f64(P, z, fa_set1_f64(0x1.2492492e20484p-2));
    P = fa_fmadd_f64(P, z, fa_set1_f64(0x1.9999999995139p-2));
    return fa_fmadd_f64(P, z, fa_set1_f64(0x1.5555555555558p-1));
}

#endif /* FA_MATH_F64_H */
