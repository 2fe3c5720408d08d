/*
 * fastact.h -- fastact's public C API.  Find it with `fastact.get_include()`.
 *
 * Every kernel works on raw, contiguous arrays with ptrdiff_t element counts, is
 * safe to call without the GIL and from several threads at once, and runs the
 * kernel variant (scalar, SSE2, AVX2, AVX-512) chosen once when fastact is imported.
 * `y` may equal `x` (in place); other overlap between `x` and `y` is not allowed.
 *
 *   element-wise   void fa_<name>_<f32|f64>(const T *x, T *y, ptrdiff_t n [, double p1 [, double p2]]);
 *   row-wise       void fa_<name>_<f32|f64>(const T *x, T *y, ptrdiff_t rows, ptrdiff_t n);
 *                  (rows of n contiguous entries, y has the same shape)
 *   reducing       void fa_<name>_<f32|f64>(const T *x, T *out, ptrdiff_t rows, ptrdiff_t n);
 *                  (one result per row)
 *
 * The full list, with the parameter names, is fastact_functions.h; semantics,
 * special values and accuracy are those of the Python functions of the same name
 * (see README.md).  Examples:
 *   void fa_sigmoid_f32(const float *x, float *y, ptrdiff_t n);
 *   void fa_leaky_relu_f64(const double *x, double *y, ptrdiff_t n, double negative_slope);
 *   void fa_softmax_f32(const float *x, float *y, ptrdiff_t rows, ptrdiff_t n);
 *   void fa_logsumexp_f64(const double *x, double *out, ptrdiff_t rows, ptrdiff_t n);
 */
#ifndef FASTACT_H
#define FASTACT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FA__PARAMS_0(p1, p2)
#define FA__PARAMS_1(p1, p2) , double p1
#define FA__PARAMS_2(p1, p2) , double p1, double p2

#define FA_UNARY(name, np, p1, p2)                                                        \
    void fa_##name##_f32(const float *x, float *y, ptrdiff_t n FA__PARAMS_##np(p1, p2));  \
    void fa_##name##_f64(const double *x, double *y, ptrdiff_t n FA__PARAMS_##np(p1, p2));
#define FA_ROWWISE(name)                                                                  \
    void fa_##name##_f32(const float *x, float *y, ptrdiff_t rows, ptrdiff_t n);          \
    void fa_##name##_f64(const double *x, double *y, ptrdiff_t rows, ptrdiff_t n);
#define FA_REDUCE(name)                                                                   \
    void fa_##name##_f32(const float *x, float *out, ptrdiff_t rows, ptrdiff_t n);        \
    void fa_##name##_f64(const double *x, double *out, ptrdiff_t rows, ptrdiff_t n);
#include "fastact_functions.h"
#undef FA_UNARY
#undef FA_ROWWISE
#undef FA_REDUCE

/* The kernel variant in use: "scalar", "sse2", "avx2" or "avx512". */
const char *fa_isa_in_use(void);

#ifdef __cplusplus
}
#endif
#endif /* FASTACT_H */
