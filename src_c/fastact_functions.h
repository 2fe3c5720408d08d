/*
 * fastact_functions.h -- the list of every public fastact kernel (an X-macro list).
 *
 * This list is the one source of truth on the C side: it drives the public
 * declarations in fastact.h, the dispatch table, the per-ISA table fillers, the
 * capsule for C extensions and the generated Cython `fastact/kernels.pxd`.
 * Adding a function = one line here + its kernel in src_c/kernels/.
 *
 *   FA_UNARY(name, nparams, p1, p2)   element-wise, parameters are doubles:
 *       void fa_<name>_<f32|f64>(const T *x, T *y, ptrdiff_t n [, double p1 [, double p2]]);
 *   FA_ROWWISE(name)                   along rows of n contiguous entries:
 *       void fa_<name>_<f32|f64>(const T *x, T *y, ptrdiff_t rows, ptrdiff_t n);
 *   FA_REDUCE(name)                    one result per row of n contiguous entries:
 *       void fa_<name>_<f32|f64>(const T *x, T *out, ptrdiff_t rows, ptrdiff_t n);
 *
 * Unused parameter slots are written `_`.  Keep the order stable: the capsule
 * table for C extensions (fastact.h) is laid out in this order, so new entries
 * go at the end.
 */
/* element-wise activations (SPEC.md section 1) */
FA_UNARY(relu,        0, _, _)
FA_UNARY(relu6,       0, _, _)
FA_UNARY(leaky_relu,  1, negative_slope, _)
FA_UNARY(hardtanh,    2, min_val, max_val)
FA_UNARY(elu,         1, alpha, _)
FA_UNARY(selu,        0, _, _)
FA_UNARY(celu,        1, alpha, _)
FA_UNARY(sigmoid,     0, _, _)
FA_UNARY(log_sigmoid, 0, _, _)
FA_UNARY(logit,       1, eps, _)            /* eps < 0: no clamping (Python eps=None) */
FA_UNARY(tanh,        0, _, _)
FA_UNARY(softplus,    2, beta, threshold)   /* threshold = +inf: exact everywhere */
FA_UNARY(softsign,    0, _, _)
FA_UNARY(silu,        0, _, _)
FA_UNARY(gelu,        0, _, _)              /* x/2 * erfc(-x/sqrt 2) */
FA_UNARY(gelu_tanh,   0, _, _)              /* torch's approximate='tanh' */
FA_UNARY(mish,        0, _, _)
FA_UNARY(hardsigmoid, 0, _, _)
FA_UNARY(hardswish,   0, _, _)
/* reductions along an axis */
FA_ROWWISE(softmax)
FA_ROWWISE(log_softmax)
FA_REDUCE(logsumexp)
