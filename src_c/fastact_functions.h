/*
 * fastact_functions.h -- the list of every public fastact kernel (an X-macro list).
 *
 * This list drives the public declarations and the capsule table in fastact.h, the
 * dispatch table, the per-ISA table fillers and the generated Cython `fastact/kernels.pxd`.
 * Its FA_UNARY and FA_BINARY lines (the element-wise functions and their gradients) are
 * WRITTEN FROM fastact/_registry.py by tools/gen_wrappers.py (setup.py runs it before
 * compiling): name, cost class and parameter names come from the registry row; an existing
 * line keeps its place, a new kernel is appended at the end.  The other lines are
 * hand-written; tests/test_registry_c_list.py checks them against the registry.
 * One line per function, FA_<KIND>(...); the kinds and their C signatures are declared
 * in fastact_kinds.h:
 *
 *   FA_UNARY(name, cost, np, p1, p2)    element-wise, np double parameters p1, p2:
 *       void fa_<name>_<f32|f64>(const T *x, T *y, ptrdiff_t n [, double p1 [, double p2]]);
 *   FA_BINARY(name, cost, np, p1, p2)   element-wise on (x, g), g NULL = ones (gradients):
 *       void fa_<name>_<f32|f64>(const T *x, const T *g, T *y, ptrdiff_t n [, double p1 [, double p2]]);
 *   FA_ROWWISE(name)                    along rows of n contiguous entries:
 *       void fa_<name>_<f32|f64>(const T *x, T *y, ptrdiff_t rows, ptrdiff_t n);
 *   FA_REDUCE(name)                     one result per row of n contiguous entries:
 *       void fa_<name>_<f32|f64>(const T *x, T *out, ptrdiff_t rows, ptrdiff_t n);
 *   FA_ROWWISE_GRAD(name)               along rows, with grad_output g of y's shape:
 *       void fa_<name>_<f32|f64>(const T *y, const T *g, T *out, ptrdiff_t rows, ptrdiff_t n);
 *
 * cost (element-wise only): the kernel's measured cost class, from which fa_dispatch.c
 * derives the size where a call starts to split over threads: COPY (memory-bound,
 * < 0.3 ns/element on one AVX2 core), EXP (one exp and a division: ~0.5-1 ns), HEAVY.
 * Unused parameter slots are written `_`.  Keep the order stable: the capsule
 * table for C extensions (fastact.h) is laid out in this order, so new entries
 * go at the end (and FASTACT_API_VERSION, counted from this list, grows by 2).
 */
#include "fastact_kinds.h"

/* element-wise activations (docs/SPEC.md section 1) */
FA_UNARY(relu,        COPY,  0, _, _)
FA_UNARY(relu6,       COPY,  0, _, _)
FA_UNARY(leaky_relu,  COPY,  1, negative_slope, _)
FA_UNARY(hardtanh,    COPY,  2, min_val, max_val)
FA_UNARY(elu,         EXP,   1, alpha, _)
FA_UNARY(selu,        EXP,   0, _, _)
FA_UNARY(celu,        EXP,   1, alpha, _)
FA_UNARY(sigmoid,     EXP,   0, _, _)
FA_UNARY(log_sigmoid, EXP,   0, _, _)
FA_UNARY(logit,       HEAVY, 1, eps, _)            /* eps < 0: no clamping (Python eps=None) */
FA_UNARY(tanh,        EXP,   0, _, _)
FA_UNARY(softplus,    HEAVY, 2, beta, threshold)   /* threshold = +inf: exact everywhere */
FA_UNARY(softsign,    COPY,  0, _, _)
FA_UNARY(silu,        EXP,   0, _, _)
FA_UNARY(gelu,        HEAVY, 0, _, _)              /* x/2 * erfc(-x/sqrt 2) */
FA_UNARY(gelu_tanh,   HEAVY, 0, _, _)              /* torch's approximate='tanh' */
FA_UNARY(mish,        HEAVY, 0, _, _)
FA_UNARY(hardsigmoid, COPY,  0, _, _)
FA_UNARY(hardswish,   COPY,  0, _, _)
/* reductions along an axis */
FA_ROWWISE(softmax)
FA_ROWWISE(log_softmax)
FA_REDUCE(logsumexp)
/* gradients (API version 46): y = f'(x) * g */
FA_BINARY(sigmoid_grad, EXP,   0, _, _)     /* sigmoid(x) (1 - sigmoid(x)) g */
/* gradients of the other element-wise functions (API version 82); kinks as torch */
FA_BINARY(relu_grad,        COPY,  0, _, _)
FA_BINARY(relu6_grad,       COPY,  0, _, _)
FA_BINARY(leaky_relu_grad,  COPY,  1, negative_slope, _)
FA_BINARY(hardtanh_grad,    COPY,  2, min_val, max_val)
FA_BINARY(elu_grad,         EXP,   1, alpha, _)
FA_BINARY(selu_grad,        EXP,   0, _, _)
FA_BINARY(celu_grad,        EXP,   1, alpha, _)
FA_BINARY(log_sigmoid_grad, EXP,   0, _, _)
FA_BINARY(logit_grad,       COPY,  1, eps, _)            /* eps < 0: no clamping */
FA_BINARY(tanh_grad,        EXP,   0, _, _)
FA_BINARY(softplus_grad,    HEAVY, 2, beta, threshold)
FA_BINARY(softsign_grad,    COPY,  0, _, _)
FA_BINARY(silu_grad,        EXP,   0, _, _)
FA_BINARY(gelu_grad,        HEAVY, 0, _, _)
FA_BINARY(gelu_tanh_grad,   HEAVY, 0, _, _)
FA_BINARY(mish_grad,        HEAVY, 0, _, _)
FA_BINARY(hardsigmoid_grad, COPY,  0, _, _)
FA_BINARY(hardswish_grad,   COPY,  0, _, _)
/* gradients along an axis: softmax_grad(y, g), log_softmax_grad(y, g) (y: the forward's output) */
FA_ROWWISE_GRAD(softmax_grad)
FA_ROWWISE_GRAD(log_softmax_grad)
/* binary cross-entropy with logits, its gradient, one-hot encoding (src_c/losses/) */
FA_BCE(bce_with_logits)
FA_BCE_GRAD(bce_with_logits_grad)
FA_ONE_HOT(one_hot)
/* cross-entropy (class and probability targets), its gradients, nll_loss (src_c/losses/) */
FA_CE(cross_entropy)
FA_CE_GRAD(cross_entropy_grad)
FA_NLL(nll_loss)
FA_CE_PROB(cross_entropy_prob)
FA_CE_PROB_GRAD(cross_entropy_prob_grad)
/* gradients of sigmoid and tanh from the forward's output y: y (1 - y) g, (1 - y)(1 + y) g
 * (activations/fa_sigmoid.h; torch's sigmoid_backward / tanh_backward) */
FA_BINARY(sigmoid_grad_from_output, COPY, 0, _, _)
FA_BINARY(tanh_grad_from_output,    COPY, 0, _, _)
