/*
 * fa_math_f32.h -- float32 vector cores of the transcendental activations (included once
 * per ISA, before the activation families in src_c/activations/).  Every core is written over the SIMD wrappers;
 * where FA_HAVE_FMA is 0 (scalar, SSE2) fmadd is a multiply and an add, and the error
 * figures below were measured on those variants too (tools/ulp_report.py through the
 * kernels that use them).
 */
#ifndef FA_MATH_F32_H
#define FA_MATH_F32_H

/* ---- exp, reduced argument --------------------------------------------------------------
 * z = n*ln2 + t, |t| <= ln2/2 (a hair more without FMA: n may then be the neighbour of
 * round(z*log2e)).  Magic-bias rounding: z*log2e + 0x1.8000FEp23 leaves n + 127 in the low
 * mantissa bits, so (bits << 23) is 2^n for n in [-126, 127] (garbage outside: callers
 * flush or rescale).  Cody-Waite rr2 split of ln2 (XNNPACK f32-vsigmoid rr2): the high part
 * 0x1.62E4p-1 has 15 significant bits, so n*ln2_hi and z - n*ln2_hi are exact for |n| < 2^9
 * even without FMA.  Returns t, stores n (an integer-valued float) and s = 2^n. */
#define FA_EXP_MAGIC_F32 0x1.8000FEp23f
#define FA_LOG2E_F32 0x1.715476p0f
#define FA_EXP_CUTOFF_F32 (-0x1.5D589Ep6f)   /* e^z < 2^-126 below: 2^n is not normal */

/* The same with the scale shifted by 2^-K (K an integer, |K| < 2^9), folded into the magic
 * constant: magic_k = FA_EXP_MAGIC_F32 - K (an integer below 2^24, exact), so the rounding is
 * unchanged, *n = round(z log2e) still, and *s = 2^(n - K) for n - K in [-126, 127] (the
 * reductions' shifted sums: e^(z - K ln2) = s (1 + m) without forming z - K ln2). */
FA_INLINE fa_simd_f32 fa_exp_reduce_shift_f32(fa_simd_f32 z, fa_simd_f32 magic_k, fa_simd_f32 *n, fa_simd_f32 *s)
{
    fa_simd_f32 nb = fa_fmadd_f32(z, fa_set1_f32(FA_LOG2E_F32), magic_k);
    *s = fa_bits_shl_f32(nb, 23);
    *n = fa_sub_f32(nb, magic_k);
    fa_simd_f32 t = fa_fnmadd_f32(*n, fa_set1_f32(0x1.62E400p-1f), z);
    return fa_fnmadd_f32(*n, fa_set1_f32(0x1.7F7D1Cp-20f), t);
}

FA_INLINE fa_simd_f32 fa_exp_reduce_f32(fa_simd_f32 z, fa_simd_f32 *n, fa_simd_f32 *s)
{
    return fa_exp_reduce_shift_f32(z, fa_set1_f32(FA_EXP_MAGIC_F32), n, s);
}

/* e^t - 1 on |t| <= 0.3535 (ln2/2 plus the slack of a non-FMA reduction), as t + t^2 P(t),
 * P of degree 4 fitted (Lawson iteration on 4000 Chebyshev nodes against mpmath, relative to
 * e^t, coefficients rounded to float32): |error| <= 2^-27.4 e^t, and 2^-25.5 relative to
 * e^t - 1 itself, so near t = 0 it stays accurate relative to t (tools/fit/fit_exp_f32.py
 * verifies both).  Keeping 1 and t exact is what brings exp
 * from XNNPACK's 2 ULP (rr2-p5) down to ~1 ULP: e^z = s + s*(e^t - 1), s = 2^n. */
FA_INLINE fa_simd_f32 fa_expm1_reduced_f32(fa_simd_f32 t)
{
    fa_simd_f32 p = fa_fmadd_f32(fa_set1_f32(0x1.6a106ap-10f), t, fa_set1_f32(0x1.1245d4p-7f));
    p = fa_fmadd_f32(p, t, fa_set1_f32(0x1.55593ep-5f));
    p = fa_fmadd_f32(p, t, fa_set1_f32(0x1.555482p-3f));
    p = fa_fmadd_f32(p, t, fa_set1_f32(0x1.fffffcp-2f));
    return fa_fmadd_f32(fa_mul_f32(t, t), p, t);
}

/* ---- exp from a 16-entry table (the float32 statistics pass, reductions/fa_stats_f32.h) ----
 * e^(z - K ln2) for K an integer, (K - 127) ln2 <= z < 355 (the caller clamps; NaN propagates),
 * FMA only.  rr2-lut16-p3, XNNPACK's algorithm (f32 raddstoreexpminusmax / vscaleexpminusmax
 * avx512f-rr2-lut16-p3, same table layout), plus a correction of the table's rounding;
 * every constant re-derived in mpmath by tools/fit/fit_exp_lut16_f32.py:
 *   N = round(16 z log2e) - 16K by magic-bias rounding (magic_k = FA_EXP_MAGIC16_F32 - K: the
 *   bias 1.5*2^19 has ulp 1/16, K is folded in exactly), n = N/16, N = 16q + j, j = N mod 16
 *   (the low 4 bits of the biased value, which the lookup takes as they are);
 *   s = 2^q hi_j, hi_j = 2^(j/16) rounded to float32: fa_exp2_16_f32_adj[j] holds
 *   bits(hi_j) - (j << 19), so adding the biased bits << 19 (integer add) puts q into the
 *   exponent field and j's bits cancel;
 *   t = z - n ln2, the rr2 split of fa_exp_reduce_shift_f32 (z - n ln2_hi is exact with FMA:
 *   n has 13 significant bits and the result is a multiple of min(ulp z, 2^-19) below 2^-5),
 *   |t| <= ln2/32 + 5e-6 (the float32 log2e's slack at |z| < 355);
 *   u = t + r_j, r_j = 2^(j/16)/hi_j - 1 rounded (fa_exp2_16_f32_rt, |r_j| < 2^-24):
 *   e^(t + r_j) = e^t (1 + r_j) + O(2^-49), so hi_j's rounding (up to 2^-24, 0.5-1 ULP of
 *   the result) is not in the term; hi_j (1 + r_j) is within 2^-49.3 of 2^(j/16);
 *   e^u - 1 = u + u^2 (c2 + c3 u) on |u| <= 0.02167: Lawson minimax relative to e^u, c3 then
 *   c2 rounded to float32, 2^-29.2; the result s + s (e^u - 1), one rounding.
 * Measured: 0.550 ULP max over every 61st float32 z of [(K - 125.5) ln2, K ln2 + 1] for
 * K in {0, 1, -5, 40, -300, 300, 120} (73.6 M values, against expl), where the degree-4 pair
 * fa_exp_reduce_shift_f32 + fa_expm1_reduced_f32 measures 0.992 (its rounded t of up to
 * 0.35 costs up to 2^-26 relative) and this one without r_j 0.982.  7 FMA-unit operations
 * instead of 10, plus two lookups (vpermps), a shift, an integer add and an add.
 * At z = (K - 127) ln2 (the callers' clamp) N - 16K = -2032: q = -127, j = 0, s = 0 exactly,
 * so clamped entries give 0.  For z in ((K - 127) ln2, (K - 126) ln2) (terms in [2^-127, 2^-126))
 * q = -127 leaves hi_j's mantissa alone in s: a subnormal 2^-126 (hi_j - 1), below the term by
 * less than 2^-127.  Used where a 16-float lookup is one permute (AVX-512: FA_EXP_LUT16_F32);
 * on AVX2 (two vpermps and a blend per table) the statistics pass measured 7% slower with it
 * than with the degree-4 exp, and SSE2 / scalar have no permute: they keep the degree-4 exp. */
#ifndef FA_EXP_LUT16_F32
#define FA_EXP_LUT16_F32 (FA_LANES_F32 >= 16)
#endif
#define FA_EXP_MAGIC16_F32 0x1.8p19f
static const float fa_exp2_16_f32_adj[16] __attribute__((aligned(64))) = {   /* bits(hi_j) - (j << 19) */
    0x1.000000p+0f, 0x1.fb5586p-1f, 0x1.f72b84p-1f, 0x1.f387a6p-1f, 0x1.f06fe0p-1f, 0x1.edea64p-1f,
    0x1.ebfdaep-1f, 0x1.eab07ep-1f, 0x1.ea09e6p-1f, 0x1.ea1148p-1f, 0x1.eace54p-1f, 0x1.ec4918p-1f,
    0x1.ee89fap-1f, 0x1.f199bep-1f, 0x1.f5818ep-1f, 0x1.fa4afap-1f,
};
static const float fa_exp2_16_f32_rt[16] __attribute__((aligned(64))) = {    /* 2^(j/16)/hi_j - 1 */
    0x0.0p+0f, 0x1.8d96d4p-25f, -0x1.9c0c22p-27f, 0x1.964904p-25f, 0x1.125002p-25f, 0x1.370be4p-25f,
    -0x1.0a3550p-25f, -0x1.00d8acp-27f, 0x1.26055cp-26f, -0x1.05cb44p-25f, 0x1.67a1cap-28f,
    0x1.a3b5e4p-28f, -0x1.f9c304p-27f, -0x1.6961b4p-28f, -0x1.a5217cp-28f, 0x1.61428ep-28f,
};

/* e^u - 1 on |u| <= 0.02167: u + u^2 (c2 + c3 u) (2^-29.2 relative to e^u) */
FA_INLINE fa_simd_f32 fa_expm1_lut16_f32(fa_simd_f32 u)
{
    fa_simd_f32 p = fa_fmadd_f32(fa_set1_f32(0x1.5555c2p-3f), u, fa_set1_f32(0x1.00021ep-1f));
    return fa_fmadd_f32(fa_mul_f32(u, u), p, u);
}

/* s and t of the table exp (above): N = round(16 z log2e) in nb's low bits, s = 2^q hi_j
 * from bits, t = z - n ln2 by rr2 */
FA_INLINE fa_simd_f32 fa_exp_shift_lut16_reduce_f32(fa_simd_f32 z, fa_simd_f32 magic_k, fa_simd_f32 *nb,
                                                    fa_simd_f32 *s)
{
    *nb = fa_fmadd_f32(z, fa_set1_f32(FA_LOG2E_F32), magic_k);
    *s = fa_bits_add_f32(fa_lut16_f32(fa_exp2_16_f32_adj, *nb), fa_bits_shl_f32(*nb, 19));
    fa_simd_f32 n = fa_sub_f32(*nb, magic_k);
    fa_simd_f32 t = fa_fnmadd_f32(n, fa_set1_f32(0x1.62E400p-1f), z);
    return fa_fnmadd_f32(n, fa_set1_f32(0x1.7F7D1Cp-20f), t);
}

/* The table exp above, 0 outside keep (one zero-masked FMA).  The statistics' terms: z clamped
 * at (K - 126) ln2 and keep = not (x below it), so that no s is subnormal and the terms of x
 * below (K - 126) ln2 are 0 (NaN kept): a multiply with a subnormal operand or result takes
 * a microcode assist of ~150 cycles on Intel cores with FTZ off; uniform +-44.5 float32 rows
 * of 1024, ~1% of their entries in that band: softmax 2.0 ms, log_softmax 0.77, against
 * 0.43 / 0.40 for uniform +-30 rows.  (The mask on the FMA rather than on s, and the clamp at
 * (K - 126) ln2 rather than (K - 127) ln2 where s is 0 exactly: one operation fewer per vector,
 * the same bits in every kept lane.) */
/* with_rj = 0: without r_j (hi_j's rounding, up to 2^-24, stays in the result): 0.982 ULP
 * measured (the set above), one lookup and one add fewer; for terms that are only summed
 * over many entries (the statistics' blocks of 4 vectors), where it is no worse than the
 * degree-4 exp of the other variants (0.992) and the pass is 7-9% faster. */
FA_INLINE fa_simd_f32 fa_exp_shift_lut16_keep_f32(fa_simd_f32 z, fa_simd_f32 magic_k, fa_mask_f32 keep, int with_rj)
{
    fa_simd_f32 nb, s, t = fa_exp_shift_lut16_reduce_f32(z, magic_k, &nb, &s);
    if (with_rj)
        t = fa_add_f32(t, fa_lut16_f32(fa_exp2_16_f32_rt, nb));
    return fa_fmadd_maskz_f32(keep, s, fa_expm1_lut16_f32(t), s);
}

/* v * 2^n for integer-valued n in [-240, 0] (v normal, |v| < 2^100): one rounding, correct
 * into the subnormal range, and no instruction with an underflowing result (a microcode assist
 * of ~150 cycles per instruction on Intel cores with FTZ off: a float32 softmax of uniform
 * +-50 rows of 1024 took 9.2 ms against 0.5 ms for N(0, 3) rows, on vscalefps's subnormal
 * results).  A vector with a lane at n < -100 (a branch) takes fa_ldexp_deep_f32: there
 * |v| 2^(n + 149) is exact and normal (|v| >= 2^-26), and adding 2^23 rounds it once to an
 * integer, to nearest even, the same rounding as the product into the subnormals; its bits
 * less 2^23's are the subnormal result's (a carry into 2^24 gives 2^-126's bits).  Lanes
 * whose result is normal are scaled plainly (vscalefps, or 2^n from bits in two factors
 * below 2^-120), the others by 2^0 there. */
FA_INLINE fa_simd_f32 fa_pow2i_f32(fa_simd_f32 n)
{
    return fa_bits_shl_f32(fa_add_f32(n, fa_set1_f32(FA_EXP_MAGIC_F32)), 23);
}
FA_INLINE fa_simd_f32 fa_ldexp_plain_f32(fa_simd_f32 v, fa_simd_f32 n)
{
#if FA_HAVE_SCALEF
    return fa_scalef_f32(v, n);
#else
    fa_simd_f32 n1 = fa_max_f32(n, fa_set1_f32(-120.0f));
    return fa_mul_f32(fa_mul_f32(v, fa_pow2i_f32(n1)), fa_pow2i_f32(fa_sub_f32(n, n1)));
#endif
}
/* The float32 y 2^-149 for an exact normal y in [0, 2^23): y rounded to an integer by adding
 * 2^23 (to nearest even: the rounding of a product that lands in the subnormals), its bits
 * less 2^23's (a carry into 2^24 gives 2^-126's bits).  No instruction forms a subnormal. */
FA_INLINE fa_simd_f32 fa_subnormal_from_f32(fa_simd_f32 y)
{
    const fa_simd_f32 two23 = fa_set1_f32(0x1p23f);
    return fa_bits_sub_f32(fa_add_f32(y, two23), two23);
}
/* (lanes below n = -200 are taken at -200: 2^(n + 149) is no float below n = -275, and for
 * |v| < 2^49, every caller's, v 2^n and v 2^-200 both round to 0 of v's sign) */
FA_INLINE fa_simd_f32 fa_ldexp_deep_f32(fa_simd_f32 v, fa_simd_f32 n)
{
    const fa_simd_f32 two23 = fa_set1_f32(0x1p23f), zero = fa_set1_f32(0.0f);
    fa_mask_f32 deep = fa_cmplt_f32(n, fa_set1_f32(-100.0f));
    fa_simd_f32 sign = fa_and_f32(v, fa_set1_f32(-0.0f)), a = fa_abs_f32(v);
    const fa_simd_f32 nd = fa_max_f32(fa_set1_f32(-200.0f), n);
    fa_simd_f32 y = fa_mul_f32(a, fa_pow2i_f32(fa_select_f32(deep, fa_add_f32(nd, fa_set1_f32(149.0f)), zero)));
    fa_mask_f32 sub = fa_mask_and_f32(deep, fa_cmplt_f32(y, two23));
    fa_simd_f32 tiny = fa_subnormal_from_f32(y);
    fa_simd_f32 plain = fa_ldexp_plain_f32(a, fa_select_f32(sub, zero, n));
    return fa_or_f32(fa_select_f32(sub, tiny, plain), sign);
}
/* v 2^n where no lane has n < -100 (the product stays normal for |v| >= 2^-26) */
FA_INLINE fa_simd_f32 fa_ldexp_shallow_f32(fa_simd_f32 v, fa_simd_f32 n)
{
#if FA_HAVE_SCALEF
    return fa_scalef_f32(v, n);
#else
    return fa_mul_f32(v, fa_pow2i_f32(n));
#endif
}
FA_INLINE fa_simd_f32 fa_ldexp_neg_f32(fa_simd_f32 v, fa_simd_f32 n)
{
#if FA_HAVE_SCALEF
    if (fa_tune_scalef_tiny)    /* no assist on this CPU (fa_common.h): the same bits, no branch */
        return fa_scalef_f32(v, n);
#endif
    if (FA_UNLIKELY(fa_mask_any_f32(fa_cmplt_f32(n, fa_set1_f32(-100.0f)))))
        return fa_ldexp_deep_f32(v, n);
    return fa_ldexp_shallow_f32(v, n);
}
/* fa_ldexp_neg_f32 for |v| < 2 (an exp's e^r, gelu's x Phi parts): below n = -151 every v 2^n
 * is under 2^-150 and rounds to 0 of v's sign, so a vector whose deep lanes (n < -100) all lie
 * there (-inf and far-off entries, masked logits at -1e9) gives those lanes +-0 and scales the others plainly, with
 * no integer-side rounding (fa_ldexp_deep_f32, ~10 operations and a mispredicted branch
 * in most such vectors); the same bits.  vscalefps must not see those lanes: it takes a
 * microcode assist for a result that underflows to 0 (Intel cores; 2^16 float32 softplus
 * with 10% -inf 34 -> 254 us when tried), so their n goes in as 0 and the result is selected.
 * Intel Xeon, medians of interleaved builds: 2^16 float32 in cache with 10% -inf, softplus
 * 35.8 -> 30.1 us, log_sigmoid 35.1 -> 30.2, mish 44.0 -> 41.1, gelu 48.9 -> 39.9 (N(0, 3) 25,
 * 24, 26, 37); float32
 * (1024, 1024) softmax along axis 0 with 10% of the entries -1e9 (a mask value) 1621-1643 ->
 * 1050-1076 us (N(0, 3) 930-980).  Bits: the same, except that on AVX-512 such columns'
 * e^x sums (fa_sm_expf_scaled, not clamped then) now count e^-1e9 as 0, where the deep
 * rounding of n = -1.4e9 gave a term that sent the block to the shifted sums: those columns
 * now take the e^x sums, 1-2 ULP apart, within the bound.  (That deep rounding was garbage
 * beside a lane in (-150.5, -100]: fa_ldexp_deep_f32 now takes such lanes at n = -200, and
 * fa_sm_expf_scaled clamps x.) */
FA_INLINE fa_simd_f32 fa_ldexp_exp_f32(fa_simd_f32 v, fa_simd_f32 n)
{
#if FA_HAVE_SCALEF
    if (fa_tune_scalef_tiny)    /* AMD: lanes at any n straight through vscalefps, the same bits */
        return fa_scalef_f32(v, n);
#endif
    const fa_mask_f32 deep = fa_cmplt_f32(n, fa_set1_f32(-100.0f));
    if (FA_UNLIKELY(fa_mask_any_f32(deep))) {
        const fa_mask_f32 gone = fa_cmplt_f32(n, fa_set1_f32(-150.5f));
        if (fa_mask_any_f32(fa_mask_andnot_f32(gone, deep)))
            return fa_ldexp_deep_f32(v, n);
        return fa_select_f32(gone, fa_and_f32(v, fa_set1_f32(-0.0f)),
                             fa_ldexp_shallow_f32(v, fa_select_f32(gone, fa_set1_f32(0.0f), n)));
    }
    return fa_ldexp_shallow_f32(v, n);
}

/* e^z for z in [-110, 0] (NaN propagates): 2^n (1 + m), m = e^t - 1, one rounding where the
 * result is normal (s + s m and 2^n fl(1 + m) are the same bits there).  Subnormal results
 * (z < -87.34) are rounded once more from fl(1 + m): with vscalefps always (branch-free;
 * 2^n alone is not a float below 2^-149, so s + s m cannot serve); without it, a vector with
 * such a lane (rare: a branch) takes fa_ldexp_neg_f32 on those lanes, instead of the flush
 * to 0 it had (SciPy's expit and log_expit are correctly rounded there).  ~1 ULP (the
 * sigmoid figures in activations/fa_sigmoid.h bound it).  Hands back n and m (e^z = 2^n (1 + m))
 * for callers that scale a product themselves. */
FA_INLINE fa_simd_f32 fa_exp_neg_f32(fa_simd_f32 z, fa_simd_f32 *n, fa_simd_f32 *m)
{
    fa_simd_f32 s;
    *m = fa_expm1_reduced_f32(fa_exp_reduce_f32(z, n, &s));
#if FA_HAVE_SCALEF
    return fa_ldexp_exp_f32(fa_add_f32(fa_set1_f32(1.0f), *m), *n);
#else
    fa_simd_f32 e = fa_fmadd_f32(s, *m, s);
    fa_mask_f32 sub = fa_cmplt_f32(z, fa_set1_f32(FA_EXP_CUTOFF_F32));
    if (FA_UNLIKELY(fa_mask_any_f32(sub)))
        e = fa_select_f32(sub, fa_ldexp_exp_f32(fa_add_f32(fa_set1_f32(1.0f), *m), *n), e);
    return e;
#endif
}

/* e^z for z in [-87, 88] (the caller clamps; NaN propagates): s + s m, one rounding, every
 * result normal (fa_exp_neg_f32's normal path without its subnormal branch: the float32
 * gradients (activations/) send every lane below -80 to a rare path of their own).
 * Where a 16-float lookup is one permute (FA_EXP_LUT16_F32: AVX-512) the table exp above with
 * r_j (K = 0): 0.550 ULP, and 7 FMA-unit operations instead of 10, which is what bounds the
 * exp-based gradients on Zen 4 (512-bit FMAs take both FMA pipes): float32 sigmoid_grad at
 * 2^16, in L2, 0.150 -> 0.134 ns per entry, at 2^20 167 -> 141 us; tanh_grad, log_softmax_grad's
 * rows and the ELU family 5-10% (2026-12-07; the gradients' max errors: their kernels'
 * comments).  Elsewhere the degree-4 exp (s = 2^n, m = e^t - 1): ~1 ULP (on AVX2 the table,
 * two vpermps and a blend per lookup, made these gradients 8-20% slower on Zen 4). */
FA_INLINE fa_simd_f32 fa_exp_neg_normal_f32(fa_simd_f32 z)
{
#if FA_EXP_LUT16_F32
    fa_simd_f32 nb, s, t = fa_exp_shift_lut16_reduce_f32(z, fa_set1_f32(FA_EXP_MAGIC16_F32), &nb, &s);
    t = fa_add_f32(t, fa_lut16_f32(fa_exp2_16_f32_rt, nb));
    return fa_fmadd_f32(s, fa_expm1_lut16_f32(t), s);
#else
    fa_simd_f32 n, s;
    fa_simd_f32 m = fa_expm1_reduced_f32(fa_exp_reduce_f32(z, &n, &s));
    return fa_fmadd_f32(s, m, s);
#endif
}

/* expm1(z) for z in [-110, 0]: (s - 1) + s m with s = 2^n, both terms exact, one rounding:
 * ~1 ULP, relative accuracy kept as z -> 0 (n = 0 gives m itself, and m(-0.0) = +0). */
FA_INLINE fa_simd_f32 fa_expm1_neg_f32(fa_simd_f32 z)
{
    fa_simd_f32 n, s;
    fa_simd_f32 m = fa_expm1_reduced_f32(fa_exp_reduce_f32(z, &n, &s));
#if FA_HAVE_SCALEF
    s = fa_scalef_f32(fa_set1_f32(1.0f), fa_max_f32(n, fa_set1_f32(-100.0f)));   /* no subnormal s:
                                        expm1 rounds to -1 below -87 alike */
    return fa_fmadd_f32(s, m, fa_sub_f32(s, fa_set1_f32(1.0f)));
#else
    fa_simd_f32 r = fa_fmadd_f32(s, m, fa_sub_f32(s, fa_set1_f32(1.0f)));
    return fa_select_f32(fa_cmplt_f32(z, fa_set1_f32(FA_EXP_CUTOFF_F32)), fa_set1_f32(-1.0f), r);
#endif
}

/* -|x| clamped to [-110, 0] (NaN kept: max(c, v) returns v when v is NaN).  Below -110
 * every e^z-based result here is 0 or rounds to it, and the clamp keeps inf out of the
 * range reduction. */
FA_INLINE fa_simd_f32 fa_negabs_clamped_f32(fa_simd_f32 x)
{
    return fa_max_f32(fa_set1_f32(-110.0f), fa_or_f32(x, fa_set1_f32(-0.0f)));
}

/* e^-|x| (NaN kept): fa_exp_neg_f32 on -|x| clamped to -110 (below, e^-|x| is under every
 * float32 and rounds to 0); ~1 ULP, subnormal results rounded once. */
FA_INLINE fa_simd_f32 fa_exp_minus_abs_f32(fa_simd_f32 x)
{
    fa_simd_f32 n, m;
    return fa_exp_neg_f32(fa_negabs_clamped_f32(x), &n, &m);
}


/* ---- exp variants of the reductions (src_c/reductions/: names fa_sm_*) --------------------
 * The same reduction and polynomial as above (fa_exp_reduce_f32, fa_expm1_reduced_f32), cut
 * where the softmax column blocks need them: e^(d + e) with x - m = d + e a two-sum, and
 * scaled by 2^n once at the end.  fa_sm_exp_lo_f64 (float32 accuracy on float64 lanes) is
 * with the _f64w cores below. */
/* the float32 exp of the column blocks, from the math family: d = n ln2 + r (Cody-Waite rr2,
 * fa_exp_reduce_f32), p = e^r = 1 + fa_expm1_reduced_f32(r) (2^-27.4) */
FA_INLINE fa_simd_f32 fa_sm_expf_reduce(fa_simd_f32 d, fa_simd_f32 *n_out)
{
    fa_simd_f32 s;
    return fa_exp_reduce_f32(d, n_out, &s);
}

FA_INLINE fa_simd_f32 fa_sm_expf_poly(fa_simd_f32 r)
{
    return fa_add_f32(fa_set1_f32(1.0f), fa_expm1_reduced_f32(r));
}

/* e^r (p1 + p2), e^r = 1 + m never rounded on its own: p1 + (m p1 + (p2 + m p2)), so the
 * last addition's rounding (0.5 ULP) and m p1's (<= 0.21 ULP, |m| <= 0.41) remain, where
 * rounding 1 + m first and then the product (two more roundings without FMA) reached
 * 4.05 ULP in a column softmax on the scalar and SSE2 variants (peaked columns, n = 700) */
FA_INLINE fa_simd_f32 fa_sm_expf_times_pair(fa_simd_f32 r, fa_simd_f32 p1, fa_simd_f32 p2)
{
    const fa_simd_f32 m = fa_expm1_reduced_f32(r);
    return fa_add_f32(p1, fa_fmadd_f32(m, p1, fa_fmadd_f32(m, p2, p2)));
}

FA_INLINE fa_simd_f32 fa_sm_expf_parts(fa_simd_f32 d, fa_simd_f32 e, fa_simd_f32 *n_out)
{
    return fa_sm_expf_poly(fa_add_f32(fa_sm_expf_reduce(d, n_out), e));
}

/* e^x for x <= 88 (NaN stays NaN): subnormal and zero results are right.  x is clamped at
 * -150 first on every variant (e^-150 rounds to 0 as e^x does below it; n >= -217), so -inf
 * and far entries give +0.  The AVX-512 variant had no clamp until 2026-12-07: a vector of
 * the float32 column blocks' e^x sums holding one entry near -90 (n in (-150.5, -100]) and
 * one below about -190 (n < -276) took fa_ldexp_deep_f32 with a 2^(n + 149) that is no float
 * for the far lane, a garbage term (softmax along axis 0 of a column max -21 beside -90 and
 * -1e8 entries: outputs up to 2.36); with vscalefps (fa_tune_scalef_tiny) entries below about
 * -1e15 gave e^r = +inf, so +inf terms (a review, 2026-12-07). */
FA_INLINE fa_simd_f32 fa_sm_expf_scaled(fa_simd_f32 x)
{
    x = fa_max_f32(fa_set1_f32(-150.0f), x);
    fa_simd_f32 n, r = fa_sm_expf_reduce(x, &n);
    return fa_ldexp_exp_f32(fa_sm_expf_poly(r), n);
}

/* e^(d + e), d clamped at -110 (0 in float32), scaled by 2^n (subnormal results right) */
FA_INLINE fa_simd_f32 fa_sm_expf_full(fa_simd_f32 d, fa_simd_f32 e)
{
    fa_simd_f32 n, p = fa_sm_expf_parts(fa_max_f32(fa_set1_f32(-110.0f), d), e, &n);
    return fa_ldexp_exp_f32(p, n);
}

/* 2 atanh(s) = log((1+s)/(1-s)) for |s| <= 1/3: 2s + s w R(w), w = s^2 <= 1/9, R of degree 3
 * fitted (Lawson minimax, coefficients rounded to float32, |error| <= 2^-27.6 relative).  No
 * cancellation anywhere.  The coefficients serve the float64-evaluated twin below too. */
#define FA_2ATANH_R3 0x1.1ef878p-2
#define FA_2ATANH_R2 0x1.1eb610p-2
#define FA_2ATANH_R1 0x1.99d27cp-2
#define FA_2ATANH_R0 0x1.555500p-1
FA_INLINE fa_simd_f32 fa_2atanh_small_f32(fa_simd_f32 s)
{
    fa_simd_f32 w = fa_mul_f32(s, s);
    fa_simd_f32 r = fa_fmadd_f32(fa_set1_f32((float)FA_2ATANH_R3), w, fa_set1_f32((float)FA_2ATANH_R2));
    r = fa_fmadd_f32(r, w, fa_set1_f32((float)FA_2ATANH_R1));
    r = fa_fmadd_f32(r, w, fa_set1_f32((float)FA_2ATANH_R0));
    return fa_fmadd_f32(fa_mul_f32(s, w), r, fa_add_f32(s, s));
}

/* log1p(e) for e in [0, 1] (NaN propagates): 2 atanh(s), s = e/(2+e) in [0, 1/3], evaluated
 * on t = 2s = e/(1 + e/2) (the same bits as 2 (e/(2+e)) for normal e) as t + t v R(v/4)/8,
 * v = t^2: fa_2atanh_small_f32's terms with the powers of two folded into R's coefficients,
 * so the same bits, and a subnormal e passes through exactly (log1p(e) rounds to e) instead
 * of being halved and doubled: ~2 ULP (log_sigmoid's 2.66 bounds it together with the exp). */
FA_INLINE fa_simd_f32 fa_log1p_unit_f32(fa_simd_f32 e)
{
    fa_simd_f32 t = fa_div_f32(e, fa_fmadd_f32(fa_set1_f32(0.5f), e, fa_set1_f32(1.0f)));
    fa_simd_f32 v = fa_mul_f32(t, t);
    fa_simd_f32 r = fa_fmadd_f32(fa_set1_f32((float)(FA_2ATANH_R3 / 512)), v, fa_set1_f32((float)(FA_2ATANH_R2 / 128)));
    r = fa_fmadd_f32(r, v, fa_set1_f32((float)(FA_2ATANH_R1 / 32)));
    r = fa_fmadd_f32(r, v, fa_set1_f32((float)(FA_2ATANH_R0 / 8)));
    return fa_fmadd_f32(fa_mul_f32(t, v), r, t);
}

/* ---- Gaussian tail (FMA variants only: see gelu in activations/fa_gelu.h) ----------------
 * erfc(a/sqrt2)/2 = E(a) e^(-a^2/2) for a in [0, 14.8] (NaN propagates): returns
 * E(a) = erfcx(a/sqrt2)/2 and e^(-a^2/2) as 2^n (1 + *m), n in [-158, 0]; a caller scales
 * its product with E by fa_ldexp_neg_f32, so only a subnormal final result loses bits.
 * e^(-a^2/2): -a^2/2 = z + zlo exactly (FMA two-product of a and -a/2) and zlo goes into
 * the exp's reduced argument, so the Gaussian factor sees the exact exponent (an absolute error of a^2/2 is
 * a relative error of the result: 2^-18 at a = 13 if a*a were rounded).
 * E(a) = t P(v), t = 1/(a + 2), v = 4.601504 t - 1.3007519 in [-1, 1] for a in [0, 13.3]
 * (beyond, E is extrapolated, and the Gaussian factor puts the result below the smallest
 * normal).  P of degree 11 fitted relative to E/t (Lawson minimax on 3000 Chebyshev nodes
 * in v, against scipy.special.erfcx in double; coefficients rounded to float32 one at a
 * time from the constant term, the rest refitted): 2^-27.9.  E is as sensitive to t as t
 * itself (1.6x at a = 0), so t is carried as r + tlo: d = a + 2 with its rounding error
 * dlo = a - (d - 2) (both steps exact: d - 2 is a multiple of ulp(d) <= 2, and of ulp(a)),
 * r = 1/d and its residual 1 - d r (exact by FMA).  P(v) - c0 = v R(v) (|v| <= 1,
 * sum |c_k v^k| <= 2.3 P): Horner for c1..c4, Estrin for the c5..c11 part (below 2^-7 P,
 * so its extra roundings do not show; it shortens the dependency chain: ~4% faster), and
 * c0 r enters in the last fused step: E's relative error 2^-22.6 (float32 emulation). */
#if FA_HAVE_FMA
FA_INLINE fa_simd_f32 fa_half_erfcx_gauss_f32(fa_simd_f32 a, fa_simd_f32 *n, fa_simd_f32 *m)
{
    static const float c[12] = {
        0x1.6ea9c6p-1f, 0x1.2c0742p-2f, 0x1.66cfe2p-7f, -0x1.8273dcp-6f, 0x1.fa3dc2p-10f,
        0x1.45cf90p-9f, -0x1.07cf34p-10f, -0x1.a2a606p-16f, 0x1.8d9512p-13f, -0x1.3a0b72p-14f,
        -0x1.a361aep-17f, 0x1.d15ac4p-17f};
    fa_simd_f32 one = fa_set1_f32(1.0f), two = fa_set1_f32(2.0f);
    fa_simd_f32 dlo, d = fa_fast_two_sum_f32(two, a, &dlo);
    fa_simd_f32 r = fa_div_f32(one, d);
    fa_simd_f32 eps = fa_fnmadd_f32(d, r, one);                       /* 1 - d r, exact */
    fa_simd_f32 tlo = fa_mul_f32(r, fa_fnmadd_f32(r, dlo, eps));
    fa_simd_f32 alpha = fa_set1_f32(4.601504f);
    fa_simd_f32 v = fa_fmadd_f32(alpha, tlo, fa_fmsub_f32(r, alpha, fa_set1_f32(1.3007519f)));
    fa_simd_f32 v2 = fa_mul_f32(v, v), v4 = fa_mul_f32(v2, v2);      /* Estrin for c5..c11 */
    fa_simd_f32 h5 = fa_fmadd_f32(fa_fmadd_f32(fa_set1_f32(c[8]), v, fa_set1_f32(c[7])), v2,
                                  fa_fmadd_f32(fa_set1_f32(c[6]), v, fa_set1_f32(c[5])));
    fa_simd_f32 h9 = fa_fmadd_f32(fa_set1_f32(c[11]), v2, fa_fmadd_f32(fa_set1_f32(c[10]), v, fa_set1_f32(c[9])));
    fa_simd_f32 q = fa_fmadd_f32(h9, v4, h5);
    for (int k = 4; k >= 1; k--)                                      /* Horner for c4..c1 */
        q = fa_fmadd_f32(q, v, fa_set1_f32(c[k]));
    fa_simd_f32 w = fa_mul_f32(q, v);                                 /* P(v) - c[0] */
    fa_simd_f32 s, nha = fa_mul_f32(a, fa_set1_f32(-0.5f));
    fa_simd_f32 z = fa_mul_f32(a, nha);
    fa_simd_f32 zlo = fa_fmsub_f32(a, nha, z);                          /* -a^2/2 = z + zlo */
    *m = fa_expm1_reduced_f32(fa_add_f32(fa_exp_reduce_f32(z, n, &s), zlo));
    fa_simd_f32 c0 = fa_set1_f32(c[0]);
    return fa_fmadd_f32(r, c0, fa_fmadd_f32(r, w, fa_mul_f32(tlo, fa_add_f32(c0, w))));
}
#endif /* FA_HAVE_FMA */

/* ---- float64 evaluation for float32 results (suffix _f64w) ------------------------------
 * Where an intermediate is ill-conditioned (gelu's cubic argument, softplus's beta*x) the
 * float32 kernels widen to double: the arguments are then exact to 2^-50, and the
 * float32-level polynomials above (2^-27 relative) suffice, as the only rounding that
 * matters is the final one to float32. */

/* e^z for z in [-700, 0] (NaN propagates): rr2 reduction with the fdlibm split of ln2
 * (ln2_hi has 32 significant bits: n*ln2_hi exact without FMA), the expm1 polynomial above;
 * relative error <= 2^-27. */
FA_INLINE fa_simd_f64 fa_exp_neg_f64w(fa_simd_f64 z)
{
    const double magic = 0x1.8p52 + 1023.0;
    fa_simd_f64 nb = fa_fmadd_f64(z, fa_set1_f64(0x1.71547652b82fep0), fa_set1_f64(magic));
    fa_simd_f64 s = fa_bits_shl_f64(nb, 52);
    fa_simd_f64 n = fa_sub_f64(nb, fa_set1_f64(magic));
    fa_simd_f64 t = fa_fnmadd_f64(n, fa_set1_f64(0x1.62e42feep-1), z);
    t = fa_fnmadd_f64(n, fa_set1_f64(0x1.a39ef35793c76p-33), t);
    fa_simd_f64 m = fa_fmadd_f64(fa_set1_f64(0x1.6a106ap-10), t, fa_set1_f64(0x1.1245d4p-7));
    m = fa_fmadd_f64(m, t, fa_set1_f64(0x1.55593ep-5));
    m = fa_fmadd_f64(m, t, fa_set1_f64(0x1.555482p-3));
    m = fa_fmadd_f64(m, t, fa_set1_f64(0x1.fffffcp-2));
    m = fa_fmadd_f64(fa_mul_f64(t, t), m, t);
    return fa_fmadd_f64(s, m, s);
}

/* e^-|x| for a float32 result, in double (NaN kept): fa_exp_neg_f64w on -|x| clamped to -700
 * (e^-700 and below round to 0 in float32 alike); 2^-27 relative. */
FA_INLINE fa_simd_f64 fa_exp_minus_abs_f64w(fa_simd_f64 x)
{
    return fa_exp_neg_f64w(fa_max_f64(fa_set1_f64(-700.0), fa_or_f64(x, fa_set1_f64(-0.0))));
}

/* log1p(e) for e in [0, 1], in double: fa_log1p_unit_f32's scheme (same R), error 2^-27.6. */
FA_INLINE fa_simd_f64 fa_log1p_unit_f64w(fa_simd_f64 e)
{
    fa_simd_f64 s = fa_div_f64(e, fa_add_f64(e, fa_set1_f64(2.0)));
    fa_simd_f64 w = fa_mul_f64(s, s);
    fa_simd_f64 r = fa_fmadd_f64(fa_set1_f64(FA_2ATANH_R3), w, fa_set1_f64(FA_2ATANH_R2));
    r = fa_fmadd_f64(r, w, fa_set1_f64(FA_2ATANH_R1));
    r = fa_fmadd_f64(r, w, fa_set1_f64(FA_2ATANH_R0));
    return fa_fmadd_f64(fa_mul_f64(s, w), r, fa_add_f64(s, s));
}

/* the reductions' float32-accuracy exp on float64 lanes (reductions/fa_lanes.h) */
/* exp(d) for d <= ~0, float32 accuracy (fa_exp_neg_f64w, 2^-27); d < -110 counts as -110
 * (0 once rounded to float32); NaN stays NaN */
FA_INLINE fa_simd_f64 fa_sm_exp_lo_f64(fa_simd_f64 d)
{
    return fa_exp_neg_f64w(fa_max_f64(fa_set1_f64(-110.0), d));
}

/* c e^z in double for a float32 result, z <= 0 (NaN propagates): the tails of the float32
 * gradients, where f'(x) nears or enters float32's subnormals (the rare lanes of
 * kernels/fa_map.h).  In double every intermediate is normal (no microcode assist on Intel
 * cores), and the one rounding to float32 is the only one that shows: relative error 2^-27
 * + c's own before it.  z is clamped to -700: c e^-700 is 0 once rounded to float32 for
 * every finite float32 c.  An infinite c (g) keeps its infinity down to z = -1520 and gives
 * NaN (0 g) below, as the float64 kernels do (fa_math_f64.h, FA_GRAD_DEEP_F64). */
FA_INLINE fa_simd_f64 fa_grad_tail_exp_f64w(fa_simd_f64 z, fa_simd_f64 c)
{
    const fa_simd_f64 e = fa_exp_neg_f64w(fa_max_f64(fa_set1_f64(-700.0), z));
    return fa_mul_f64(c, fa_select_f64(fa_cmplt_f64(z, fa_set1_f64(-1520.0)), fa_set1_f64(0.0), e));
}

/* ---- logit's float32 cores ---------------------------------------------------------------- */

/* The bits of x (positive, normal) plus this give 2^(e+127) m with m in [sqrt(1/2), sqrt(2)):
 * e = (bits >> 23) - 127, m = (bits & mantissa) + bits(sqrt(1/2)) (musl's logf offset). */
#define FA_SQRTHALF_BITS_F32 0x3F3504F3u
FA_INLINE fa_simd_f32 fa_log_split_f32(fa_simd_f32 x, fa_simd_f32 *m)
{
    fa_simd_f32 u = fa_bits_add_f32(x, fa_set1_bits_f32(0x3F800000u - FA_SQRTHALF_BITS_F32));
    *m = fa_bits_add_f32(fa_and_f32(u, fa_set1_bits_f32(0x007FFFFFu)),
                         fa_set1_bits_f32(FA_SQRTHALF_BITS_F32));
    return fa_bits_srl_f32(u, 23);
}

/* log(a/b) for normal a, b > 0 without forming a/b: a = 2^i ma, b = 2^j mb (fa_log_split_f32),
 * log(a/b) = (i - j) ln2 + 2 atanh(s), s = (ma - mb)/(ma + mb), |s| < 1/3 as ma/mb is in
 * (1/2, 2); ma - mb is exact (Sterbenz), so one division and one rounded sum make s.
 * Hands back k = i - j (a float) and s; the caller adds k ln2 (split as in
 * fa_exp_reduce_f32: k ln2_hi exact for |k| < 2^9). */
FA_INLINE fa_simd_f32 fa_log_ratio_reduce_f32(fa_simd_f32 a, fa_simd_f32 b, fa_simd_f32 *k)
{
    fa_simd_f32 ma, mb;
    fa_simd_f32 ea = fa_log_split_f32(a, &ma), eb = fa_log_split_f32(b, &mb);
    *k = fa_cvt_i32_f32(fa_bits_sub_f32(ea, eb));
    return fa_div_f32(fa_sub_f32(ma, mb), fa_add_f32(ma, mb));
}

#endif /* FA_MATH_F32_H */
