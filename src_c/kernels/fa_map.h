/*
 * fa_map.h -- the one loop every element-wise kernel runs (included once per ISA).
 *
 * FA_UNARY_KERNEL(name, T, VFN) defines
 *     static void fa_k_<name>_<T>(const S *x, S *y, ptrdiff_t n, const fa_params *p)
 * computing y[i] = VFN(x[i], &params) with VFN(fa_simd_T, const fa_params *) a
 * FA_INLINE vector function.  The body is unrolled by two vectors; the tail (fewer
 * than FA_LANES elements) goes through the same VFN with a masked or buffered
 * load/store, so a strided or short call gives the same bits as a long one and no
 * byte past x[n-1] / y[n-1] is touched.  y == x (in place) is allowed: every load
 * of an iteration happens before its stores.
 */
#ifndef FA_MAP_H
#define FA_MAP_H

#define FA_UNARY_KERNEL(name, T, VFN)                                                      \
static void fa_k_##name##_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t n,      \
                              const fa_params *pp)                                         \
{                                                                                          \
    const fa_params p = *pp;                                                               \
    const ptrdiff_t L = FA_LANES_##T;                                                      \
    ptrdiff_t i = 0;                                                                       \
    for (; i + 2 * L <= n; i += 2 * L) {                                                   \
        fa_simd_##T v0 = fa_loadu_##T(x + i);                                              \
        fa_simd_##T v1 = fa_loadu_##T(x + i + L);                                          \
        v0 = VFN(v0, &p);                                                                  \
        v1 = VFN(v1, &p);                                                                  \
        fa_storeu_##T(y + i, v0);                                                          \
        fa_storeu_##T(y + i + L, v1);                                                      \
    }                                                                                      \
    for (; i + L <= n; i += L)                                                             \
        fa_storeu_##T(y + i, VFN(fa_loadu_##T(x + i), &p));                                \
    if (i < n)                                                                             \
        fa_store_tail_##T(y + i, VFN(fa_load_tail_##T(x + i, n - i, 0), &p), n - i);      \
}

#endif /* FA_MAP_H */
