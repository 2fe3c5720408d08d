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

#endif /* FA_MAP_H */
