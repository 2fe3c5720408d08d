# cython: language_level=3, boundscheck=False, wraparound=False
"""fastact's kernels called from Cython, one row at a time, without the GIL.

The cimport needs no header and no library: Cython finds fastact/kernels.pxd on
the import path and fetches the functions from fastact.kernels when this module
is imported.  Each call runs the same dispatched kernel as the Python API.
"""
from cython cimport floating
from fastact.kernels cimport (
    fa_sigmoid_f32, fa_sigmoid_f64, fa_leaky_relu_f32, fa_leaky_relu_f64,
    fa_softmax_f32, fa_softmax_f64, fa_logsumexp_f32, fa_logsumexp_f64)


cdef int check_same_shape(Py_ssize_t *a, Py_ssize_t *b) except -1:
    if a[0] != b[0] or a[1] != b[1]:
        raise ValueError(f"out has shape ({b[0]}, {b[1]}), expected ({a[0]}, {a[1]})")
    return 0


def sigmoid_rows(const floating[:, ::1] x, floating[:, ::1] out):
    """out[i] = sigmoid(x[i]) for each row i."""
    check_same_shape(x.shape, out.shape)
    cdef Py_ssize_t i, n = x.shape[1]
    with nogil:
        for i in range(x.shape[0]):
            if floating is float:
                fa_sigmoid_f32(&x[i, 0], &out[i, 0], n)
            else:
                fa_sigmoid_f64(&x[i, 0], &out[i, 0], n)


def leaky_relu_rows(const floating[:, ::1] x, floating[:, ::1] out, double negative_slope):
    """out[i] = leaky_relu(x[i], negative_slope) for each row i."""
    check_same_shape(x.shape, out.shape)
    cdef Py_ssize_t i, n = x.shape[1]
    with nogil:
        for i in range(x.shape[0]):
            if floating is float:
                fa_leaky_relu_f32(&x[i, 0], &out[i, 0], n, negative_slope)
            else:
                fa_leaky_relu_f64(&x[i, 0], &out[i, 0], n, negative_slope)


def softmax_rows(const floating[:, ::1] x, floating[:, ::1] out):
    """out[i] = softmax(x[i]) for each row i, one kernel call per row."""
    check_same_shape(x.shape, out.shape)
    cdef Py_ssize_t i, n = x.shape[1]
    with nogil:
        for i in range(x.shape[0]):
            if floating is float:
                fa_softmax_f32(&x[i, 0], &out[i, 0], 1, n)
            else:
                fa_softmax_f64(&x[i, 0], &out[i, 0], 1, n)


def logsumexp_rows(const floating[:, ::1] x, floating[::1] out):
    """out[i] = logsumexp(x[i]) for each row i, one kernel call per row."""
    if out.shape[0] != x.shape[0]:
        raise ValueError(f"out has {out.shape[0]} entries, expected {x.shape[0]}")
    cdef Py_ssize_t i, n = x.shape[1]
    with nogil:
        for i in range(x.shape[0]):
            if floating is float:
                fa_logsumexp_f32(&x[i, 0], &out[i], 1, n)
            else:
                fa_logsumexp_f64(&x[i, 0], &out[i], 1, n)
