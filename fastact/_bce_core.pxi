# Binary cross-entropy with logits, its gradient and one_hot: the Cython calls of their C
# kernels (included by _core.pyx; the arguments are checked and laid out by fastact/_bce.py).
from libc.stdint cimport int64_t
from fastact.kernels cimport (fa_bce_with_logits_f32, fa_bce_with_logits_f64, fa_bce_with_logits_grad_f32,
                              fa_bce_with_logits_grad_f64, fa_one_hot_f32, fa_one_hot_f64)


cdef inline const floating *_first(const floating[::1] a) noexcept:
    """The data pointer of an optional flat buffer (NULL for None or an empty one)."""
    if a is None or a.shape[0] == 0:
        return NULL
    return &a[0]


def bce_with_logits(const floating[::1] x, const floating[::1] y, const floating[::1] w, const floating[::1] pw,
                    floating[::1] out, Py_ssize_t rows, Py_ssize_t n, int reduction):
    """Losses of rows x n entries (x, y, w flat C-order; pw None or length n) into out: rows*n
    entries for reduction 0 ('none'), else out[0] (1 'mean', 2 'sum')."""
    cdef Py_ssize_t total = rows * n
    if (x.shape[0] != total or y.shape[0] != total or (w is not None and w.shape[0] != total)
            or (pw is not None and pw.shape[0] != n) or out.shape[0] != (total if reduction == 0 else 1)):
        raise ValueError("bce_with_logits: operands of the wrong size")
    cdef const floating *px = _first(x)
    cdef const floating *py = _first(y)
    cdef const floating *pwt = _first(w)
    cdef const floating *ppw = _first(pw)
    cdef floating *po = &out[0] if out.shape[0] else NULL
    with nogil:
        if floating is float:
            fa_bce_with_logits_f32(px, py, pwt, ppw, po, rows, n, reduction)
        else:
            fa_bce_with_logits_f64(px, py, pwt, ppw, po, rows, n, reduction)


def bce_with_logits_grad(const floating[::1] x, const floating[::1] y, const floating[::1] w,
                         const floating[::1] pw, const floating[::1] g, floating[::1] out, Py_ssize_t rows,
                         Py_ssize_t n, double scale):
    """dloss/dx of rows x n entries times g (None: ones) times scale, into out (rows*n)."""
    cdef Py_ssize_t total = rows * n
    if (x.shape[0] != total or y.shape[0] != total or (w is not None and w.shape[0] != total)
            or (pw is not None and pw.shape[0] != n) or (g is not None and g.shape[0] != total)
            or out.shape[0] != total):
        raise ValueError("bce_with_logits_grad: operands of the wrong size")
    cdef const floating *px = _first(x)
    cdef const floating *py = _first(y)
    cdef const floating *pwt = _first(w)
    cdef const floating *ppw = _first(pw)
    cdef const floating *pg = _first(g)
    cdef floating *po = &out[0] if total else NULL
    with nogil:
        if floating is float:
            fa_bce_with_logits_grad_f32(px, py, pwt, ppw, pg, po, rows, n, scale)
        else:
            fa_bce_with_logits_grad_f64(px, py, pwt, ppw, pg, po, rows, n, scale)


def one_hot(const int64_t[::1] labels, floating[::1] out, Py_ssize_t outer, Py_ssize_t inner,
            Py_ssize_t num_classes):
    """out (outer, num_classes, inner) flat gets the encoding of labels (outer*inner); returns
    -1, or the flat position of the first label outside [0, num_classes) (out untouched)."""
    cdef ptrdiff_t bad = -1
    if labels.shape[0] != outer * inner or out.shape[0] != outer * inner * num_classes:
        raise ValueError("one_hot: operands of the wrong size")
    cdef const int64_t *pl = &labels[0] if labels.shape[0] else NULL
    cdef floating *po = &out[0] if out.shape[0] else NULL
    with nogil:
        if floating is float:
            fa_one_hot_f32(pl, po, outer, inner, num_classes, &bad)
        else:
            fa_one_hot_f64(pl, po, outer, inner, num_classes, &bad)
    return bad


def bce_fast(object x, object y, int code, bint grad):
    """binary_cross_entropy_with_logits (grad: its gradient) in the common case straight from the
    NumPy C-API, or None to take the full path (fastact/_bce.py, which checks and reports).

    Taken when x and y are C-contiguous native ndarrays of one dtype, float32 or float64, and
    one shape (ndim >= 1, not empty), with no weight, pos_weight or grad_output.  Returns the
    loss (code 0 'none': x's shape; 1 'mean', 2 'sum': a NumPy scalar) or the gradient.
    """
    if type(x) is not cnp.ndarray or y is None:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x, ra
    cdef int t = cnp.PyArray_TYPE(xa), nd = cnp.PyArray_NDIM(xa)
    cdef char *py
    if (t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64) or nd == 0 or not _plain(xa, t):
        return None
    if cnp.PyArray_SIZE(xa) == 0 or not _operand(xa, y, t, &py):
        return None
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(xa)
    cdef cnp.npy_intp one = 1
    cdef Py_ssize_t total = cnp.PyArray_SIZE(xa), n = dims[nd - 1], rows = total // n
    cdef double scale = 1.0 / total if code == 1 else 1.0
    cdef char *px = <char *>cnp.PyArray_DATA(xa)
    cdef char *pr
    ra = cnp.PyArray_EMPTY(nd, dims, t, 0) if grad or code == 0 else cnp.PyArray_EMPTY(1, &one, t, 0)
    pr = <char *>cnp.PyArray_DATA(ra)
    with nogil:
        if t == cnp.NPY_FLOAT32:
            if grad:
                fa_bce_with_logits_grad_f32(<const float *>px, <const float *>py, NULL, NULL, NULL, <float *>pr,
                                            rows, n, scale)
            else:
                fa_bce_with_logits_f32(<const float *>px, <const float *>py, NULL, NULL, <float *>pr, rows, n, code)
        else:
            if grad:
                fa_bce_with_logits_grad_f64(<const double *>px, <const double *>py, NULL, NULL, NULL,
                                            <double *>pr, rows, n, scale)
            else:
                fa_bce_with_logits_f64(<const double *>px, <const double *>py, NULL, NULL, <double *>pr, rows, n,
                                       code)
    if grad or code == 0:
        return ra
    return ra[0]


_INTP_MAX = _np.iinfo(_np.intp).max


def one_hot_fast(object labels, object num_classes, object dtype, object axis):
    """one_hot in the common case straight from the NumPy C-API, or None to take the full path
    (fastact/_bce.py): labels a C-contiguous int64 ndarray, num_classes a Python int >= 0, dtype
    np.float32 or np.float64 (the type or its dtype), axis -1.  A label out of range gives None
    (the full path raises the IndexError), and so does a result too large to allocate (the full
    path raises NumPy's error for its own allocation: a num_classes beyond intp made this an
    OverflowError, and the 2-D shape named in the MemoryError was not the full path's)."""
    if type(labels) is not cnp.ndarray or type(num_classes) is not int or type(axis) is not int or axis != -1:
        return None
    cdef int t
    if dtype is _F64_TYPE or dtype is _F64_DTYPE:
        t = cnp.NPY_FLOAT64
    elif dtype is _F32_TYPE or dtype is _F32_DTYPE:
        t = cnp.NPY_FLOAT32
    else:
        return None
    cdef cnp.ndarray la = <cnp.ndarray>labels, ra
    cdef int nd = cnp.PyArray_NDIM(la), k
    if not _plain(la, cnp.NPY_INT64) or nd >= 63 or not (0 <= num_classes <= _INTP_MAX):
        return None
    cdef cnp.npy_intp dims[64]
    for k in range(nd):
        dims[k] = cnp.PyArray_DIMS(la)[k]
    dims[nd] = num_classes
    try:                 # a result too large to allocate: the full path's own error, not ours
        ra = cnp.PyArray_EMPTY(nd + 1, dims, t, 0)
    except (MemoryError, ValueError):
        return None
    cdef Py_ssize_t outer = cnp.PyArray_SIZE(la), classes = num_classes
    cdef const int64_t *pl = <const int64_t *>cnp.PyArray_DATA(la)
    cdef char *po = <char *>cnp.PyArray_DATA(ra)
    cdef ptrdiff_t bad = -1
    if outer == 0 or classes == 0:
        return None
    with nogil:
        if t == cnp.NPY_FLOAT32:
            fa_one_hot_f32(pl, <float *>po, outer, 1, classes, &bad)
        else:
            fa_one_hot_f64(pl, <double *>po, outer, 1, classes, &bad)
    return None if bad >= 0 else ra
