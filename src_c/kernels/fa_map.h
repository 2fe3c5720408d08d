/*
 * fa_map.h -- the loops every element-wise kernel runs (included once per ISA).
 *
 * FA_UNARY_KERNEL(name, T, VFN) defines
 *     static void fa_k_<name>_<T>(const S *x, S *y, ptrdiff_t n, const fa_params *p)
 * computing y[i] = VFN(x[i], &params) with VFN(fa_simd_T, const fa_params *) a
 * FA_INLINE vector function.  FA_BINARY_KERNEL(name, T, VFN) defines
 *     static void fa_k_<name>_<T>(const S *x, const S *g, S *y, ptrdiff_t n, const fa_params *p)
 * computing y[i] = VFN(x[i], g[i], &params); g == NULL stands for all ones (the plain
 * derivative): that loop passes a vector of ones and loads no g, chosen once per call.
 * The _F32_VIA_F64 forms take a VFN over fa_simd_f64 for a float32 kernel: the input is
 * widened, evaluated in double and rounded once to float32 on the store.
 *
 * The body is unrolled by two vectors; the tail (fewer than FA_LANES elements) goes
 * through the same VFN with a masked or buffered load/store, so a strided or short call
 * gives the same bits as a long one and no byte past x[n-1] / g[n-1] / y[n-1] is
 * touched.  y == x or y == g (in place) is allowed: every load of an iteration happens
 * before its stores.
 *
 * One loop per shape, parameterised by the memory access: S the element type in memory,
 * V the vector suffix (f32, f64), LD / ST the load and store suffixes (T, T; or
 * f32_as_f64, f64_as_f32 for the widened float32 kernels).
 */
#ifndef FA_MAP_H
#define FA_MAP_H

#define FA__MAP_UNARY_LOOP(fname, S, V, LD, ST, VFN)                                       \
static void fname(const S *x, S *y, ptrdiff_t n, const fa_params *pp)                      \
{                                                                                          \
    const fa_params p = *pp;                                                               \
    const ptrdiff_t L = FA_LANES_##V;                                                      \
    ptrdiff_t i = 0;                                                                       \
    for (; i + 2 * L <= n; i += 2 * L) {                                                   \
        fa_simd_##V v0 = fa_loadu_##LD(x + i);                                             \
        fa_simd_##V v1 = fa_loadu_##LD(x + i + L);                                         \
        v0 = VFN(v0, &p);                                                                  \
        v1 = VFN(v1, &p);                                                                  \
        fa_storeu_##ST(y + i, v0);                                                         \
        fa_storeu_##ST(y + i + L, v1);                                                     \
    }                                                                                      \
    for (; i + L <= n; i += L)                                                             \
        fa_storeu_##ST(y + i, VFN(fa_loadu_##LD(x + i), &p));                              \
    if (i < n)                                                                             \
        fa_store_tail_##ST(y + i, VFN(fa_load_tail_##LD(x + i, n - i, 0), &p), n - i);     \
}

/* GLOAD(ptr) / GTAIL(ptr, count): the second operand's vector (a load, or the ones). */
#define FA__MAP_BINARY_BODY(V, LD, ST, VFN, GLOAD, GTAIL)                                  \
    for (; i + 2 * L <= n; i += 2 * L) {                                                   \
        fa_simd_##V v0 = fa_loadu_##LD(x + i), w0 = GLOAD(g + i);                          \
        fa_simd_##V v1 = fa_loadu_##LD(x + i + L), w1 = GLOAD(g + i + L);                  \
        v0 = VFN(v0, w0, &p);                                                              \
        v1 = VFN(v1, w1, &p);                                                              \
        fa_storeu_##ST(y + i, v0);                                                         \
        fa_storeu_##ST(y + i + L, v1);                                                     \
    }                                                                                      \
    for (; i + L <= n; i += L)                                                             \
        fa_storeu_##ST(y + i, VFN(fa_loadu_##LD(x + i), GLOAD(g + i), &p));                \
    if (i < n)                                                                             \
        fa_store_tail_##ST(y + i, VFN(fa_load_tail_##LD(x + i, n - i, 0),                  \
                                      GTAIL(g + i, n - i), &p), n - i);

#define FA__MAP_BINARY_LOOP(fname, S, V, LD, ST, VFN)                                      \
static void fname(const S *x, const S *g, S *y, ptrdiff_t n, const fa_params *pp)          \
{                                                                                          \
    const fa_params p = *pp;                                                               \
    const ptrdiff_t L = FA_LANES_##V;                                                      \
    ptrdiff_t i = 0;                                                                       \
    if (g == NULL) {                                                                       \
        const fa_simd_##V one = fa_set1_##V(1);                                            \
        FA__MAP_BINARY_BODY(V, LD, ST, VFN, FA__MAP_ONES, FA__MAP_ONES_TAIL)               \
    } else {                                                                               \
        FA__MAP_BINARY_BODY(V, LD, ST, VFN, fa_loadu_##LD, fa_load_tail_##LD##_0)         \
    }                                                                                      \
}
#define FA__MAP_ONES(ptr) one
#define FA__MAP_ONES_TAIL(ptr, count) one
#define fa_load_tail_f32_0(ptr, count) fa_load_tail_f32(ptr, count, 0)
#define fa_load_tail_f64_0(ptr, count) fa_load_tail_f64(ptr, count, 0)
#define fa_load_tail_f32_as_f64_0(ptr, count) fa_load_tail_f32_as_f64(ptr, count, 0)

#define FA_UNARY_KERNEL(name, T, VFN) FA__MAP_UNARY_LOOP(fa_k_##name##_##T, fa_scalar_##T, T, T, T, VFN)
#define FA_UNARY_KERNEL_F32_VIA_F64(name, VFN) \
    FA__MAP_UNARY_LOOP(fa_k_##name##_f32, float, f64, f32_as_f64, f64_as_f32, VFN)
#define FA_BINARY_KERNEL(name, T, VFN) FA__MAP_BINARY_LOOP(fa_k_##name##_##T, fa_scalar_##T, T, T, T, VFN)
#define FA_BINARY_KERNEL_F32_VIA_F64(name, VFN) \
    FA__MAP_BINARY_LOOP(fa_k_##name##_f32, float, f64, f32_as_f64, f64_as_f32, VFN)

/* The gradient kernels' shared selects (a gradient is 0 outside its support, with NaN kept):
 * fa_grad_where_<T>(m, v, x, g) and fa_inside_<T>(x, lo, hi), for T = f32, f64. */
#define FA__GRAD_SELECTS(T)                                                                 \
/* f'(x) g for the lanes in m, elsewhere +0.0 (or NaN when x or g is NaN) */              \
FA_INLINE fa_simd_##T fa_grad_where_##T(fa_mask_##T m, fa_simd_##T v, fa_simd_##T x, fa_simd_##T g) { \
    fa_simd_##T zero = fa_select_##T(fa_cmpunord_##T(x, g), fa_add_##T(x, g), fa_set1_##T(0)); \
    return fa_select_##T(m, v, zero);                                                     \
}                                                                                          \
/* the open interval (lo, hi) */                                                           \
FA_INLINE fa_mask_##T fa_inside_##T(fa_simd_##T x, fa_scalar_##T lo, fa_scalar_##T hi) {   \
    return fa_mask_and_##T(fa_cmpgt_##T(x, fa_set1_##T(lo)), fa_cmplt_##T(x, fa_set1_##T(hi))); \
}
FA__GRAD_SELECTS(f32)
FA__GRAD_SELECTS(f64)

/*
 * The float32 gradients in float32 lanes, y = f'(x) g (each in its family file under
 * activations/, after the float64 gradient vector function that serves its rare path;
 * the pieces they share are below).
 *
 * Native float32 lanes: sigmoid, tanh, log_sigmoid, softplus (beta = 1), elu, selu,
 * celu (alpha = 1), logit, mish, and silu and gelu on the FMA variants (gelu and mish with
 * fa_grad_near_root_f32 below around the root of f').  In double lanes but with
 * float32-level pieces (much cheaper than the float64 kernels' double-double): gelu_tanh,
 * and gelu on scalar and sse2.  Still the float64 kernel, rounded once: softplus with
 * beta != 1, celu with alpha != 1 (an argument that is not exact in float32 is amplified in
 * the exp tail), silu on scalar and sse2 (their family files).
 *
 * The native kernels compute with the exp family of fa_math_f32.h
 * (fa_exp_neg_normal_f32: e^z for z in [-87, 0], ~1 ULP; 0.55 on AVX-512, its table exp).  A lane whose exp argument is
 * below -FA_GRAD_RARE_F32 = -80 (the derivative nears or enters the subnormals, and a large
 * g may still make the product normal) takes the kernel's tail: f'(x) g there is c e^z g to
 * float32 precision (c a constant or 1 + x, the rest of f' below 2^-100 relative; gelu an
 * asymptotic series), evaluated in double lanes (fa_grad_tail_exp_f64w, math/fa_math_f32.h)
 * and rounded once (fa_grad_rare_f32).  A vector holding such a lane pays ~20 double
 * operations per half (the float64 kernels served these lanes until
 * 2026-12-06: 4-11x the N(0, 3) time on uniform +-120 inputs, now 2-3.5x), and the result is blended
 * per lane, so every lane's bits are the same whatever its neighbours.  An infinite x there
 * (masked entries: common) gives y 0 without that trip: 0 g with the sign of f' near the
 * limit (NaN for an infinite g), as the float64 kernels.
 * Why -80 and not the exp's -87: e^-80 = 2^-115.4 keeps f'(x) g out of the subnormals for
 * |g| >= 2^-10 or so.  An Intel core takes a microcode assist (~40 ns on a Xeon, 2026-12-05)
 * for every multiplication or FMA with a subnormal operand or result (FTZ off; additions,
 * conversions and products that underflow to 0 outright are free): a main path that
 * formed f'(-87) g for -inf lanes made float32 silu_grad with 10% -inf entries 22x slower.
 *
 * "Measured max": the largest error in ULPs against the float64 kernel (itself within ~2
 * float64 ULP of mpmath, so the reference is exact to float32 precision) over every k-th
 * float32 bit pattern of the range (k per kernel below; the registry's `ill` intervals left
 * out), g = 1, on each variant (scalar, sse2 without FMA; avx2, avx512):
 *     PYTHONPATH=. python tools/fit/grad_f32_sweep.py <name> --step k
 * and tests/test_gradients.py (mpmath, g over 2^+-40) on every variant.
 */

/* ---- float32 gradients: shared pieces ------------------------------------------------------------------------ */

#define FA_GRAD_RARE_F32 80.0f

/* -|x| clamped to [-80, 0] (NaN kept: max(c, v) returns v when v is NaN). */
FA_INLINE fa_simd_f32 fa_grad_negabs_f32(fa_simd_f32 x)
{
    return fa_max_f32(fa_set1_f32(-FA_GRAD_RARE_F32), fa_or_f32(x, fa_set1_f32(-0.0f)));
}

typedef fa_simd_f64 (*fa_grad_v_f64_fn)(fa_simd_f64, fa_simd_f64, const fa_params *);

/* y, with the lanes in `rare` replaced by the double vector function fn of (x, g) (the
 * kernel's tail, or a float64 kernel) rounded once to float32 (the rare path: a branch on
 * the whole vector; the two halves widened in registers, through the stack on scalar).  Infinite x
 * never reaches fn: those lanes give y 0 with f'(x)'s sign near the limit. */
FA_INLINE fa_simd_f32 fa_grad_rare_f32(fa_mask_f32 rare, fa_simd_f32 y, fa_simd_f32 x, fa_simd_f32 g,
                                       const fa_params *p, fa_grad_v_f64_fn fn)
{
    if (FA_LIKELY(!fa_mask_any_f32(rare)))
        return y;
    fa_mask_f32 inf = fa_mask_and_f32(rare, fa_cmpeq_f32(fa_abs_f32(x), fa_set1_f32(INFINITY)));
    y = fa_select_f32(inf, fa_mul_f32(y, fa_set1_f32(0.0f)), y);       /* 0 g, f' 's sign */
    rare = fa_mask_andnot_f32(inf, rare);
    if (!fa_mask_any_f32(rare))
        return y;
#if FA_LANES_F32 == 2 * FA_LANES_F64              /* in registers (a 64-byte reload of two
                                                   32-byte stores would miss store forwarding) */
    return fa_select_f32(rare, fa_narrow_pair_f64(fn(fa_widen_lo_f32(x), fa_widen_lo_f32(g), p),
                                                  fn(fa_widen_hi_f32(x), fa_widen_hi_f32(g), p)), y);
#else
    float xb[FA_LANES_F32], gb[FA_LANES_F32], yb[FA_LANES_F32];
    fa_storeu_f32(xb, x);
    fa_storeu_f32(gb, g);
    for (int k = 0; k < FA_LANES_F32; k += FA_LANES_F64)
        fa_storeu_f64_as_f32(yb + k, fn(fa_loadu_f32_as_f64(xb + k), fa_loadu_f32_as_f64(gb + k), p));
    return fa_select_f32(rare, fa_loadu_f32(yb), y);
#endif
}

/* y, with f'(x) near a simple root x0 = x0h + x0l of f' (x0h a float32, x0l the float32
 * nearest the rest) in place of the lanes where a general formula y cancels: for x in
 * (2 x0h, x0h/2) (x0h < 0), u = x - x0h is exact (Sterbenz) and f'(x) = d R(u) with
 * d = u - x0l (one rounding) and R(u) = c[0] + (c[1] + u Q(u)),
 * Q(u) = c[2] + c[3] u + ... + c[count-1] u^(count-3) in Horner with FMA (c[0] + c[1]: R's
 * constant term as a float32 pair, as R(x0) shows it unrounded).  R is fitted relative to
 * f'(x)/(x - x0), so the result keeps its relative accuracy through the root:
 * tools/fit/fit_grad_root_f32.py (the coefficients and their error per function). */
FA_INLINE fa_simd_f32 fa_grad_near_root_f32(fa_simd_f32 y, fa_simd_f32 x, float x0h, float x0l, const float *c,
                                            int count)
{
    fa_simd_f32 u = fa_sub_f32(x, fa_set1_f32(x0h));
    fa_simd_f32 q = fa_set1_f32(c[count - 1]);
    for (int k = count - 2; k >= 2; k--)
        q = fa_fmadd_f32(q, u, fa_set1_f32(c[k]));
    fa_simd_f32 r = fa_add_f32(fa_set1_f32(c[0]), fa_fmadd_f32(q, u, fa_set1_f32(c[1])));
    fa_simd_f32 root = fa_mul_f32(fa_sub_f32(u, fa_set1_f32(x0l)), r);
    return fa_select_f32(fa_inside_f32(x, 2 * x0h, x0h / 2), root, y);
}

#endif /* FA_MAP_H */
