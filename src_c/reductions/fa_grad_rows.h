/*
 * reductions/fa_grad_rows.h -- the gradients of softmax and log_softmax along the middle
 * axis of a C-contiguous (outer, n, inner) block (kind FA_ROWWISE_GRAD, fastact_kinds.h).
 * A first version: scalar loops with a compensated float64 sum and libm exp, per ISA unit
 * like every kernel but not yet written over the SIMD wrappers (measured and tested for
 * correctness only: tests/test_reduction_gradients.py).
 */
#ifndef FA_GRAD_ROWS_H
#define FA_GRAD_ROWS_H
#include <math.h>

/*
 * Gradients along the middle axis (axis kernels; opts->b holds grad_output g, of x's
 * shape; opts->mask is where=: 0 = left out, gradient 0 and out of the sum):
 *   softmax_grad      x = y, softmax's output:      out = y (g - sum(g y))
 *   log_softmax_grad  x = y, log_softmax's output:  out = g - e^y sum(g)
 * Per slice one pass sums (in float64 with Neumaier's compensation, for both dtypes),
 * a second pass writes out in float64 and rounds once.  e^y: libm exp (double).  NaN in
 * a slice gives NaN for the slice; a fully masked slice gives 0; g NULL counts as ones.
 * The slice is walked with stride `inner` (no separate column path: the Python layer
 * lays a non-last axis out as it does for the forwards).  out may be x or g (in place):
 * each entry is read before it is written.
 */
#define FA_SM_DEFINE_GRADS(T)                                                                     \
static void fa_sm_grad_##T(const fa_scalar_##T *y, fa_scalar_##T *out, ptrdiff_t outer,          \
                           ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o, int LOG)          \
{                                                                                                 \
    const fa_scalar_##T *g = o ? (const fa_scalar_##T *)o->b : NULL;                              \
    const unsigned char *mk = o ? o->mask : NULL;                                                 \
    for (ptrdiff_t r = 0; r < outer; r++) {                                                       \
        for (ptrdiff_t c = 0; c < inner; c++) {                                                   \
            const ptrdiff_t base = r * n * inner + c;                                             \
            double s = 0.0, comp = 0.0;                                                           \
            for (ptrdiff_t k = 0; k < n; k++) {                                                   \
                const ptrdiff_t i = base + k * inner;                                             \
                if (mk && !mk[i]) continue;                                                       \
                double gv = g ? (double)g[i] : 1.0;                                               \
                double term = LOG ? gv : gv * (double)y[i];                                       \
                double t = s + term;                                                              \
                comp += fabs(s) >= fabs(term) ? (s - t) + term : (term - t) + s;                  \
                s = t;                                                                            \
            }                                                                                     \
            s += comp;                                                                            \
            for (ptrdiff_t k = 0; k < n; k++) {                                                   \
                const ptrdiff_t i = base + k * inner;                                             \
                double gv = g ? (double)g[i] : 1.0, yv = (double)y[i];                            \
                double v = LOG ? gv - exp(yv) * s : yv * (gv - s);                                \
                out[i] = (mk && !mk[i]) ? (fa_scalar_##T)0 : (fa_scalar_##T)v;                    \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
}                                                                                                 \
static void fa_k_softmax_grad_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,     \
                                  ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o)            \
{ fa_sm_grad_##T(x, y, outer, n, inner, o, 0); }                                                  \
static void fa_k_log_softmax_grad_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer, \
                                      ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o)        \
{ fa_sm_grad_##T(x, y, outer, n, inner, o, 1); }

FA_SM_DEFINE_GRADS(f32)
FA_SM_DEFINE_GRADS(f64)

#endif /* FA_GRAD_ROWS_H */
