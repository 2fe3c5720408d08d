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


cdef double _total(const char *p, Py_ssize_t n, int t) noexcept nogil:
    """The float64 sum of n float32/float64 values, compensated (Neumaier: the terms' roundings
    carried beside the running sum, error ~2^-53 of the result for any n); a non-finite running
    sum (an inf or NaN loss) is returned as it is, as a plain sum gives it."""
    cdef double s = 0.0, c = 0.0, v, u
    cdef Py_ssize_t i
    for i in range(n):
        v = (<const float *>p)[i] if t == cnp.NPY_FLOAT32 else (<const double *>p)[i]
        u = s + v
        if fabs(s) >= fabs(v):
            c += (s - u) + v
        else:
            c += (v - u) + s
        s = u
    if not isfinite(s):
        return s
    return s + c


def loss_total(cnp.ndarray loss):
    """The per-row losses' float64 total (a C-contiguous float32/float64 array), as _total."""
    cdef int t = cnp.PyArray_TYPE(loss)
    if not (_plain(loss, cnp.NPY_FLOAT32) or _plain(loss, cnp.NPY_FLOAT64)):
        raise ValueError("loss_total: a C-contiguous float32/float64 array")
    return _total(<const char *>cnp.PyArray_DATA(loss), cnp.PyArray_SIZE(loss), t)


cdef object _reduced(double s, Py_ssize_t kept, int code, int t):
    """'sum' (code 2) or 'mean' (1: over `kept` counted targets; 0.0 when none counts) of the
    total s, as a NumPy scalar of the loss dtype (beyond float32's range: inf, no warning)."""
    if code == 1:
        s = s / kept if kept else (0.0 if s == 0 else NAN)
    return _F32_TYPE(<float>s) if t == cnp.NPY_FLOAT32 else _F64_TYPE(s)


def ce_fast(bint nll, object x, object target, object axis, object ignore_index, object smoothing,
            int code, bint want_loss, bint want_grad):
    """cross_entropy / cross_entropy_grad / nll_loss (nll) in the common case, straight from the
    NumPy C-API, or None to take the full path (fastact/_losses.py, which checks and reports).

    Taken when x is a C-contiguous native float32/float64 ndarray with ndim >= 1 and the class
    axis last (axis a Python int), target a C-contiguous int64 ndarray of x's shape without the
    class axis, ignore_index a Python int in int64's range, smoothing a Python float or int in
    [0, 1], no weight and no grad_output, at least one row and one class.  A class target out of
    range gives None too (the kernels then write nothing; the full path raises the IndexError).
    Returns the loss (code 0 'none', 1 'mean', 2 'sum'), the gradient, or (loss, gradient).
    """
    if type(x) is not cnp.ndarray or type(target) is not cnp.ndarray or type(axis) is not int:
        return None
    if type(ignore_index) is not int or type(smoothing) not in (float, int):
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x, ta = <cnp.ndarray>target, la = None, ga = None
    cdef int t = cnp.PyArray_TYPE(xa), nd = cnp.PyArray_NDIM(xa), k
    if (t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64) or nd == 0 or not _plain(xa, t):
        return None
    if (axis != -1 and axis != nd - 1) or not _plain(ta, cnp.NPY_INT64) or cnp.PyArray_NDIM(ta) != nd - 1:
        return None
    if not (-2 ** 63 <= ignore_index < 2 ** 63) or not (0.0 <= smoothing <= 1.0):
        return None
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(xa)
    cdef cnp.npy_intp *tdims = cnp.PyArray_DIMS(ta)
    for k in range(nd - 1):
        if tdims[k] != dims[k]:
            return None
    cdef Py_ssize_t n = dims[nd - 1], rows = cnp.PyArray_SIZE(ta), i, kept = 0
    if n == 0 or rows == 0 or (nll and (want_grad or smoothing != 0)):
        return None
    cdef int64_t ign = ignore_index
    cdef double eps = smoothing, scale = 1.0, s
    cdef const int64_t *pt = <const int64_t *>cnp.PyArray_DATA(ta)
    cdef char *px = <char *>cnp.PyArray_DATA(xa)
    cdef char *pl = NULL
    cdef char *pd = NULL
    cdef ptrdiff_t bad = -1
    if want_loss:
        la = cnp.PyArray_EMPTY(nd - 1, dims, t, 0)
        pl = <char *>cnp.PyArray_DATA(la)
    if want_grad:
        ga = cnp.PyArray_EMPTY(nd, dims, t, 0)
        pd = <char *>cnp.PyArray_DATA(ga)
    for i in range(rows):             # 'mean' divides by the targets that count
        kept += pt[i] != ign
    if want_grad and code == 1:
        scale = 1.0 / kept if kept else 0.0
    with nogil:                       # (~30 ns)
        if t == cnp.NPY_FLOAT32:
            if nll:
                fa_nll_loss_f32(<const float *>px, pt, NULL, <float *>pl, rows, n, ign, &bad)
            elif want_grad:
                fa_cross_entropy_grad_f32(<const float *>px, pt, NULL, NULL, <float *>pd, <float *>pl, rows, n,
                                          ign, eps, scale, &bad)
            else:
                fa_cross_entropy_f32(<const float *>px, pt, NULL, <float *>pl, rows, n, ign, eps, &bad)
        else:
            if nll:
                fa_nll_loss_f64(<const double *>px, pt, NULL, <double *>pl, rows, n, ign, &bad)
            elif want_grad:
                fa_cross_entropy_grad_f64(<const double *>px, pt, NULL, NULL, <double *>pd, <double *>pl, rows,
                                          n, ign, eps, scale, &bad)
            else:
                fa_cross_entropy_f64(<const double *>px, pt, NULL, <double *>pl, rows, n, ign, eps, &bad)
    if bad >= 0:
        return None
    cdef object loss = None
    if want_loss:
        if code == 0:
            loss = la if nd > 1 else la[()]
        else:
            s = _total(pl, rows, t)
            loss = _reduced(s, kept, code, t)
    if want_loss and want_grad:
        return loss, ga
    return ga if want_grad else loss
