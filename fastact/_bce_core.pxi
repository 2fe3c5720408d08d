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
