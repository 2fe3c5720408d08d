# Cross-entropy (class and probability targets), its gradient and nll_loss: the Cython calls
# of their C kernels (included by _core.pyx; the arguments are checked and laid out by
# fastact/_losses.py: flat C-contiguous buffers of the compute dtype).
from fastact.kernels cimport (fa_cross_entropy_f32, fa_cross_entropy_f64, fa_cross_entropy_grad_f32,
                              fa_cross_entropy_grad_f64, fa_nll_loss_f32, fa_nll_loss_f64,
                              fa_cross_entropy_prob_f32, fa_cross_entropy_prob_f64,
                              fa_cross_entropy_prob_grad_f32, fa_cross_entropy_prob_grad_f64)


def cross_entropy_rows(const floating[::1] x, const int64_t[::1] target, const floating[::1] p,
                       const floating[::1] w, const floating[::1] g, floating[::1] loss, floating[::1] grad,
                       Py_ssize_t rows, Py_ssize_t n, int64_t ignore_index, double smoothing, double scale,
                       bint nll=False):
    """Per-row losses (loss, or None) and/or the gradient (grad, or None) of rows x n logits x
    against class targets (target: rows) or probability targets (p: rows*n); w: n class
    weights or None; g: rows grad_outputs or None.  nll: nll_loss of log-probabilities x.
    Returns -1, or the first row whose class target is out of range (nothing written)."""
    cdef Py_ssize_t total = rows * n
    cdef ptrdiff_t bad = -1
    if (x.shape[0] != total or (target is not None and target.shape[0] != rows)
            or (p is not None and p.shape[0] != total) or (target is None) == (p is None)
            or (w is not None and w.shape[0] != n) or (g is not None and g.shape[0] != rows)
            or (loss is not None and loss.shape[0] != rows) or (grad is not None and grad.shape[0] != total)
            or (loss is None and grad is None) or (nll and (p is not None or grad is not None))):
        raise ValueError("cross_entropy_rows: operands of the wrong size")
    cdef const floating *px = _first(x)
    cdef const int64_t *pt = &target[0] if target is not None and target.shape[0] else NULL
    cdef const floating *pp = _first(p)
    cdef const floating *pw = _first(w)
    cdef const floating *pg = _first(g)
    cdef floating *pl = &loss[0] if loss is not None and loss.shape[0] else NULL
    cdef floating *pd = &grad[0] if grad is not None and grad.shape[0] else NULL
    cdef bint has_target = target is not None, has_grad = grad is not None
    with nogil:
        if floating is float:
            if nll:
                fa_nll_loss_f32(px, pt, pw, pl, rows, n, ignore_index, &bad)
            elif has_target and has_grad:
                fa_cross_entropy_grad_f32(px, pt, pw, pg, pd, pl, rows, n, ignore_index, smoothing, scale, &bad)
            elif has_target:
                fa_cross_entropy_f32(px, pt, pw, pl, rows, n, ignore_index, smoothing, &bad)
            elif has_grad:
                fa_cross_entropy_prob_grad_f32(px, pp, pw, pg, pd, pl, rows, n, smoothing, scale)
            else:
                fa_cross_entropy_prob_f32(px, pp, pw, pl, rows, n, smoothing)
        else:
            if nll:
                fa_nll_loss_f64(px, pt, pw, pl, rows, n, ignore_index, &bad)
            elif has_target and has_grad:
                fa_cross_entropy_grad_f64(px, pt, pw, pg, pd, pl, rows, n, ignore_index, smoothing, scale, &bad)
            elif has_target:
                fa_cross_entropy_f64(px, pt, pw, pl, rows, n, ignore_index, smoothing, &bad)
            elif has_grad:
                fa_cross_entropy_prob_grad_f64(px, pp, pw, pg, pd, pl, rows, n, smoothing, scale)
            else:
                fa_cross_entropy_prob_f64(px, pp, pw, pl, rows, n, smoothing)
    return bad
