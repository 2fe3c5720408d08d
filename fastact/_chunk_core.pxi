# The per-chunk stages of a softmax / log_softmax / logsumexp along an axis split over chunks
# (the Dask path): the Cython calls of src_c/fa_chunk.h's stages through fastact.kernels'
# internal entry _fa_chunk (included by _core.pyx; the blocks are laid out as rows by
# fastact/_chunk_stats.py).  Every array is checked here: the C stages trust their job.
from libc.string cimport memset
from fastact.kernels cimport _fa_chunk, _fa_chunk_rec_size

cdef extern from "fa_chunk.h" nogil:
    ctypedef struct fa_chunk_rec:
        pass
    ctypedef struct fa_chunk_job:
        const void *x
        void *y
        const unsigned char *mask
        const void *b
        ptrdiff_t rows
        ptrdiff_t n
        fa_chunk_rec *rec
        const fa_chunk_rec *in_ "in"
        double *v
        double *sign
        int exact
        int return_sign
    enum:
        FA_CHUNK_STATS
        FA_CHUNK_SOFTMAX
        FA_CHUNK_LOG_SOFTMAX
        FA_CHUNK_COMBINE
        FA_CHUNK_LSE


def chunk_rec_size():
    """sizeof(fa_chunk_rec): fastact/_chunk_stats.py's STATS dtype must have it."""
    return _fa_chunk_rec_size()


cdef int _chunk_dt(cnp.ndarray x) except -1:
    cdef int t = cnp.PyArray_TYPE(x)
    if not _plain(x, t) or (t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64):
        raise TypeError("chunk stages: x must be a C-contiguous native float32/float64 array")
    return 0 if t == cnp.NPY_FLOAT32 else 1


cdef void *_chunk_ptr(object a, Py_ssize_t size, Py_ssize_t itemsize, bint writeable) except? NULL:
    """The data of a C-contiguous aligned array of `size` items of `itemsize` bytes (None: NULL)."""
    if a is None:
        return NULL
    if type(a) is not cnp.ndarray:
        raise TypeError("chunk stages: operands must be ndarrays")
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if (not cnp.PyArray_IS_C_CONTIGUOUS(arr) or not cnp.PyArray_ISALIGNED(arr)
            or cnp.PyArray_SIZE(arr) != size or cnp.PyArray_ITEMSIZE(arr) != itemsize
            or (writeable and not cnp.PyArray_ISWRITEABLE(arr))):
        raise ValueError("chunk stages: an operand of the wrong layout, size or item size")
    return cnp.PyArray_DATA(arr)


def chunk_stats(cnp.ndarray x, object mask, object b, object rec, bint exact):
    """Records of the rows of x (rows, n): rec[r] = (M, count, S, S0 if exact, flags)."""
    cdef int dt = _chunk_dt(x)
    cdef fa_chunk_job j
    memset(&j, 0, sizeof(j))
    j.rows = cnp.PyArray_DIMS(x)[0]
    j.n = cnp.PyArray_DIMS(x)[1]
    j.x = cnp.PyArray_DATA(x)
    j.mask = <const unsigned char *>_chunk_ptr(mask, j.rows * j.n, 1, False)
    j.b = _chunk_ptr(b, j.rows * j.n, cnp.PyArray_ITEMSIZE(x), False)
    if b is not None and cnp.PyArray_TYPE(<cnp.ndarray>b) != cnp.PyArray_TYPE(x):
        raise TypeError("chunk_stats: b must have x's dtype")
    j.rec = <fa_chunk_rec *>_chunk_ptr(rec, j.rows, _fa_chunk_rec_size(), True)
    j.exact = exact
    with nogil:
        _fa_chunk(FA_CHUNK_STATS, dt, &j)


def chunk_output(cnp.ndarray x, object mask, object rec, cnp.ndarray y, bint log):
    """softmax (log: log_softmax) of the rows of x (rows, n) into y, from their slices' records."""
    cdef int dt = _chunk_dt(x)
    cdef fa_chunk_job j
    memset(&j, 0, sizeof(j))
    j.rows = cnp.PyArray_DIMS(x)[0]
    j.n = cnp.PyArray_DIMS(x)[1]
    j.x = cnp.PyArray_DATA(x)
    if cnp.PyArray_TYPE(y) != cnp.PyArray_TYPE(x):
        raise TypeError("chunk_output: y must have x's dtype")
    j.y = _chunk_ptr(y, j.rows * j.n, cnp.PyArray_ITEMSIZE(x), True)
    j.mask = <const unsigned char *>_chunk_ptr(mask, j.rows * j.n, 1, False)
    j.rec = <fa_chunk_rec *>_chunk_ptr(rec, j.rows, _fa_chunk_rec_size(), False)
    with nogil:
        _fa_chunk(FA_CHUNK_LOG_SOFTMAX if log else FA_CHUNK_SOFTMAX, dt, &j)


def chunk_combine(object recs, Py_ssize_t rows, Py_ssize_t k, object out):
    """out[r] = the record of slice r from its k chunk records recs[r * k: (r + 1) * k]."""
    cdef fa_chunk_job j
    memset(&j, 0, sizeof(j))
    j.rows = rows
    j.n = k
    j.in_ = <const fa_chunk_rec *>_chunk_ptr(recs, rows * k, _fa_chunk_rec_size(), False)
    j.rec = <fa_chunk_rec *>_chunk_ptr(out, rows, _fa_chunk_rec_size(), True)
    with nogil:
        _fa_chunk(FA_CHUNK_COMBINE, 1, &j)


def chunk_logsumexp(object rec, object v, object sign, bint return_sign):
    """v[r], sign[r] (float64) = logsumexp of slice r and its sign from its record."""
    if type(rec) is not cnp.ndarray:
        raise TypeError("chunk_logsumexp: rec must be an ndarray")
    cdef fa_chunk_job j
    memset(&j, 0, sizeof(j))
    j.rows = cnp.PyArray_SIZE(<cnp.ndarray>rec)
    j.rec = <fa_chunk_rec *>_chunk_ptr(rec, j.rows, _fa_chunk_rec_size(), False)
    j.v = <double *>_chunk_ptr(v, j.rows, 8, True)
    j.sign = <double *>_chunk_ptr(sign, j.rows, 8, True)
    j.return_sign = return_sign
    with nogil:
        _fa_chunk(FA_CHUNK_LSE, 1, &j)
