/*
 * fastact_kinds.h -- the kinds of fastact kernel, each declared once (public, plain C).
 *
 * A function of the list (fastact_functions.h) is one line FA_<KIND>(name, ...).  Every
 * table (the public declarations and the capsule table in fastact.h, the consumer's
 * calls through it, the dispatch table and the entry points in fa_dispatch.c, the
 * per-ISA fillers in fa_isa_body.h, tools/gen_cython_api.py's kernels.pxd) expands the
 * list through the one macro
 *
 *     FA_FN(KIND, name, cost, np, p1, p2)
 *
 * and takes what depends on the kind from the kind's three lines below:
 *   FA_<KIND>(...)                  the list line, mapped onto FA_FN
 *   FA_ARGS_<KIND>(T, np, p1, p2)   the public argument list (T = float or double; np of
 *                                   the double parameters p1, p2 come last)
 *   FA_PASS_<KIND>(np, p1, p2)      the same arguments passed on (a call through the table)
 * and, inside fastact, from two more lines in fa_common.h (its kernel type and its entry).
 * tools/gen_cython_api.py reads FA_ARGS_<KIND> and the FA_<KIND> lines of this file:
 * keep each on one line.
 *
 * `cost` is the element-wise kernel's cost class (COPY, EXP, HEAVY: fa_dispatch.c derives
 * the size from which a call is split over threads from it); other kinds use AXIS.
 */
#ifndef FASTACT_KINDS_H
#define FASTACT_KINDS_H

#include <stddef.h>
#include <stdint.h>   /* int64_t: the class labels of one_hot */

#define FA_PARAMS_0(p1, p2)
#define FA_PARAMS_1(p1, p2) , double p1
#define FA_PARAMS_2(p1, p2) , double p1, double p2
#define FA_PASSP_0(p1, p2)
#define FA_PASSP_1(p1, p2) , p1
#define FA_PASSP_2(p1, p2) , p1, p2

/* element-wise: y[i] = f(x[i]; p1, p2) */
#define FA_UNARY(name, cost, np, p1, p2) FA_FN(UNARY, name, cost, np, p1, p2)
#define FA_ARGS_UNARY(T, np, p1, p2) (const T *x, T *y, ptrdiff_t n FA_PARAMS_##np(p1, p2))
#define FA_PASS_UNARY(np, p1, p2) (x, y, n FA_PASSP_##np(p1, p2))

/* element-wise with a second operand: y[i] = f(x[i], g[i]; p1, p2), g NULL = all ones
 * (the gradients: x, grad_output -> grad_input) */
#define FA_BINARY(name, cost, np, p1, p2) FA_FN(BINARY, name, cost, np, p1, p2)
#define FA_ARGS_BINARY(T, np, p1, p2) (const T *x, const T *g, T *y, ptrdiff_t n FA_PARAMS_##np(p1, p2))
#define FA_PASS_BINARY(np, p1, p2) (x, g, y, n FA_PASSP_##np(p1, p2))

/* along rows of n contiguous entries, y of x's shape */
#define FA_ROWWISE(name) FA_FN(ROWWISE, name, AXIS, 0, _, _)
#define FA_ARGS_ROWWISE(T, np, p1, p2) (const T *x, T *y, ptrdiff_t rows, ptrdiff_t n)
#define FA_PASS_ROWWISE(np, p1, p2) (x, y, rows, n)

/* one result per row of n contiguous entries */
#define FA_REDUCE(name) FA_FN(REDUCE, name, AXIS, 0, _, _)
#define FA_ARGS_REDUCE(T, np, p1, p2) (const T *x, T *out, ptrdiff_t rows, ptrdiff_t n)
#define FA_PASS_REDUCE(np, p1, p2) (x, out, rows, n)

/* along rows of n contiguous entries with a second operand of x's shape (the row
 * gradients: y a forward's output, g = grad_output (NULL: ones) -> grad_input); the kernel is an axis
 * kernel that reads g from its options (fa_axis_opts.b) */
#define FA_ROWWISE_GRAD(name) FA_FN(ROWWISE_GRAD, name, AXIS, 0, _, _)
#define FA_ARGS_ROWWISE_GRAD(T, np, p1, p2) (const T *y, const T *g, T *out, ptrdiff_t rows, ptrdiff_t n)
#define FA_PASS_ROWWISE_GRAD(np, p1, p2) (y, g, out, rows, n)

/* A new kind is three lines like these (e.g. a loss: rows of n logits and one int64
 * target per row -> one value per row:
 *   FA_ARGS_LOSS(T, np, p1, p2) (const T *x, const int64_t *target, T *out, ptrdiff_t rows, ptrdiff_t n FA_PARAMS_##np(p1, p2))
 * ), plus its kernel type and entry in fa_common.h and, if no kind has its loop yet,
 * the loop (kernels/fa_map.h) and thread split (fa_dispatch.c). */

/* Reductions of a loss (the `reduction` argument of the loss kinds; torch's numbering). */
#define FA_REDUCTION_NONE 0
#define FA_REDUCTION_MEAN 1
#define FA_REDUCTION_SUM 2

/* binary cross-entropy with logits (docs/SPEC.md section 9): x, target and weight (NULL: ones)
 * hold rows of n contiguous entries, pos_weight (NULL: ones) is one value per column (length n);
 * reduction FA_REDUCTION_NONE writes rows*n losses, MEAN / SUM write out[0] */
#define FA_BCE(name) FA_FN(BCE, name, AXIS, 0, _, _)
#define FA_ARGS_BCE(T, np, p1, p2) (const T *x, const T *target, const T *weight, const T *pos_weight, T *out, ptrdiff_t rows, ptrdiff_t n, int reduction)
#define FA_PASS_BCE(np, p1, p2) (x, target, weight, pos_weight, out, rows, n, reduction)

/* its gradient: out = dloss/dx (x's shape) times grad_output (x's shape; NULL: ones) times scale
 * (the caller's reduction factor: grad_output's scalar, divided by rows*n for a mean) */
#define FA_BCE_GRAD(name) FA_FN(BCE_GRAD, name, AXIS, 0, _, _)
#define FA_ARGS_BCE_GRAD(T, np, p1, p2) (const T *x, const T *target, const T *weight, const T *pos_weight, const T *grad_output, T *out, ptrdiff_t rows, ptrdiff_t n, double scale)
#define FA_PASS_BCE_GRAD(np, p1, p2) (x, target, weight, pos_weight, grad_output, out, rows, n, scale)

/* one-hot encoding: out (outer, num_classes, inner), C-contiguous, gets 1 at
 * [o, labels[o, i], i] and 0 elsewhere; a label outside [0, num_classes) writes nothing and
 * sets *bad to the flat position of the first such label (else *bad = -1) */
#define FA_ONE_HOT(name) FA_FN(ONE_HOT, name, AXIS, 0, _, _)
#define FA_ARGS_ONE_HOT(T, np, p1, p2) (const int64_t *labels, T *out, ptrdiff_t outer, ptrdiff_t inner, ptrdiff_t num_classes, ptrdiff_t *bad)
#define FA_PASS_ONE_HOT(np, p1, p2) (labels, out, outer, inner, num_classes, bad)

/* cross-entropy of rows of n contiguous logits x against one int64 class target per row
 * (docs/SPEC.md section 9): loss[r] = the row's loss times weight[target] (weight: n class
 * weights or NULL), 0 where target[r] == ignore_index; label_smoothing in [0, 1] mixes in the
 * mean over the classes whose logit is not -inf.  A target outside [0, n) (not ignore_index)
 * writes nothing and sets *bad to its row (else *bad = -1). */
#define FA_CE(name) FA_FN(CE, name, AXIS, 0, _, _)
#define FA_ARGS_CE(T, np, p1, p2) (const T *x, const int64_t *target, const T *weight, T *loss, ptrdiff_t rows, ptrdiff_t n, int64_t ignore_index, double label_smoothing, ptrdiff_t *bad)
#define FA_PASS_CE(np, p1, p2) (x, target, weight, loss, rows, n, ignore_index, label_smoothing, bad)

/* its gradient: grad (x's shape) = d loss[r] / dx times grad_output[r] (NULL: ones) times scale
 * (the caller's reduction factor); loss (NULL: not written) gets the forward's per-row losses
 * from the same pass */
#define FA_CE_GRAD(name) FA_FN(CE_GRAD, name, AXIS, 0, _, _)
#define FA_ARGS_CE_GRAD(T, np, p1, p2) (const T *x, const int64_t *target, const T *weight, const T *grad_output, T *grad, T *loss, ptrdiff_t rows, ptrdiff_t n, int64_t ignore_index, double label_smoothing, double scale, ptrdiff_t *bad)
#define FA_PASS_CE_GRAD(np, p1, p2) (x, target, weight, grad_output, grad, loss, rows, n, ignore_index, label_smoothing, scale, bad)

/* negative log-likelihood of rows of n log-probabilities: loss[r] = -weight[t] x[r, t] (0 where
 * t == ignore_index or the weight is 0); targets checked as FA_CE */
#define FA_NLL(name) FA_FN(NLL, name, AXIS, 0, _, _)
#define FA_ARGS_NLL(T, np, p1, p2) (const T *x, const int64_t *target, const T *weight, T *loss, ptrdiff_t rows, ptrdiff_t n, int64_t ignore_index, ptrdiff_t *bad)
#define FA_PASS_NLL(np, p1, p2) (x, target, weight, loss, rows, n, ignore_index, bad)

/* cross-entropy against probability targets p of x's shape: loss[r] = -sum_j weight[j] p'[r, j]
 * log_softmax(x[r])[j], p' = (1 - label_smoothing) p + label_smoothing / C' on the C' classes
 * whose logit is not -inf; a p' of 0 contributes 0 (xlogy) */
#define FA_CE_PROB(name) FA_FN(CE_PROB, name, AXIS, 0, _, _)
#define FA_ARGS_CE_PROB(T, np, p1, p2) (const T *x, const T *target, const T *weight, T *loss, ptrdiff_t rows, ptrdiff_t n, double label_smoothing)
#define FA_PASS_CE_PROB(np, p1, p2) (x, target, weight, loss, rows, n, label_smoothing)

/* its gradient, as FA_CE_GRAD */
#define FA_CE_PROB_GRAD(name) FA_FN(CE_PROB_GRAD, name, AXIS, 0, _, _)
#define FA_ARGS_CE_PROB_GRAD(T, np, p1, p2) (const T *x, const T *target, const T *weight, const T *grad_output, T *grad, T *loss, ptrdiff_t rows, ptrdiff_t n, double label_smoothing, double scale)
#define FA_PASS_CE_PROB_GRAD(np, p1, p2) (x, target, weight, grad_output, grad, loss, rows, n, label_smoothing, scale)

#endif /* FASTACT_KINDS_H */
