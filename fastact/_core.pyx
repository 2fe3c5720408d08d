# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The thin Cython layer: typed-memoryview functions that call the C kernels.

Design:
- unary_fast takes the common call (a C-contiguous float32/float64 array) straight
  from the NumPy C-API in ~100 ns; typed memoryviews cost ~125 ns each to acquire,
  more than the whole fast path.  It never raises: what it does not take goes
  through fastact/_args.py, which does every check.
- Argument handling (dtypes, shapes, `out=`, axes) happens once, in fastact/_args.py;
  these functions only see contiguous float32/float64 buffers of the right size.
- They reach the kernels through `cimport fastact.kernels`, the same C-level API
  that other extensions use, so there is one dispatch table in the process.
- The GIL is released above GIL_RELEASE_MIN elements (releasing costs ~30 ns,
  which matters for tiny arrays).
- `op` is the position of the function in fastact.kernels.UNARY_OPS, BINARY_OPS or
  AXIS_OPS (by the function's loop shape).
- The one rule for writing into `out` directly: `out` holds exactly x's elements (in
  place) or shares no memory with x (in_place_or_apart); the Python layers use it too.
"""
from libc.stddef cimport ptrdiff_t
cimport numpy as cnp
from fastact.kernels cimport (_fa_unary_f32, _fa_unary_f64, _fa_binary_f32, _fa_binary_f64, _fa_axis_f32,
                              _fa_axis_f64)

from libc.math cimport fabs, isfinite, log, NAN, INFINITY
from libc.stdlib cimport malloc, free
from cpython.long cimport PyLong_AsLongLongAndOverflow
import numpy as _np

cnp.import_array()

_F32_TYPE, _F64_TYPE = _np.float32, _np.float64
_F32_DTYPE, _F64_DTYPE = _np.dtype(_np.float32), _np.dtype(_np.float64)

cdef Py_ssize_t GIL_RELEASE_MIN = 4096


cdef inline bint _plain(cnp.ndarray a, int typenum) noexcept:
    """C-contiguous, aligned, native byte order, of this dtype."""
    return (cnp.PyArray_TYPE(a) == typenum and cnp.PyArray_IS_C_CONTIGUOUS(a)
            and cnp.PyArray_ISALIGNED(a) and cnp.PyArray_ISNOTSWAPPED(a))


cdef inline bint _operand(cnp.ndarray xa, object v, int typenum, char **data) noexcept:
    """A fast path's second operand: None (*data NULL), or a plain ndarray of `typenum` and xa's
    shape (*data its buffer).  False for anything else: the call then takes the full path."""
    data[0] = NULL
    if v is None:
        return True
    if type(v) is not cnp.ndarray or not _plain(<cnp.ndarray>v, typenum):
        return False
    if not cnp.PyArray_SAMESHAPE(xa, <cnp.ndarray>v):
        return False
    data[0] = <char *>cnp.PyArray_DATA(<cnp.ndarray>v)
    return True


cdef inline int _float_operands(object x, object g, char **pg) noexcept:
    """The fast paths' first operands: x a plain float32/float64 ndarray with ndim >= 1, g
    None or a plain array of x's dtype and shape (*pg its buffer, or NULL).  Returns x's
    typenum, or -1 (the call then takes the full path)."""
    if type(x) is not cnp.ndarray:
        return -1
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef int t = cnp.PyArray_TYPE(xa)
    if (t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64) or cnp.PyArray_NDIM(xa) == 0 or not _plain(xa, t):
        return -1
    if not _operand(xa, g, t, pg):
        return -1
    return t


cdef inline void _extent(cnp.ndarray a, char **lo, char **hi) noexcept:
    """The bytes [lo, hi) a's elements lie in (lo == hi for an empty array)."""
    cdef char *p = <char *>cnp.PyArray_DATA(a)
    cdef char *q = p
    cdef int k
    cdef cnp.npy_intp d, s
    if cnp.PyArray_SIZE(a) == 0:
        lo[0] = p
        hi[0] = p
        return
    for k in range(cnp.PyArray_NDIM(a)):
        d = cnp.PyArray_DIMS(a)[k] - 1
        s = cnp.PyArray_STRIDES(a)[k]
        if s < 0:
            p += d * s
        else:
            q += d * s
    lo[0] = p
    hi[0] = q + cnp.PyArray_ITEMSIZE(a)


cpdef bint in_place_or_apart(cnp.ndarray x, cnp.ndarray y):
    """y holds exactly x's elements (same start, shape, strides and dtype: an in-place call
    is fine), or y's bytes do not overlap x's (as np.may_share_memory's bounds check).
    Anything else (a partial overlap) must go through a temporary."""
    cdef char *xlo
    cdef char *xhi
    cdef char *ylo
    cdef char *yhi
    cdef int k
    if cnp.PyArray_DATA(x) == cnp.PyArray_DATA(y) and cnp.PyArray_NDIM(x) == cnp.PyArray_NDIM(y) \
            and cnp.PyArray_TYPE(x) == cnp.PyArray_TYPE(y) \
            and cnp.PyArray_ISNOTSWAPPED(x) == cnp.PyArray_ISNOTSWAPPED(y):
        for k in range(cnp.PyArray_NDIM(x)):
            if cnp.PyArray_DIMS(x)[k] != cnp.PyArray_DIMS(y)[k] or \
                    (cnp.PyArray_DIMS(x)[k] > 1 and cnp.PyArray_STRIDES(x)[k] != cnp.PyArray_STRIDES(y)[k]):
                break
        else:
            return True
    _extent(x, &xlo, &xhi)
    _extent(y, &ylo, &yhi)
    return xlo == xhi or ylo == yhi or yhi <= xlo or xhi <= ylo


cdef object _taken_out(cnp.ndarray xa, object out, int t):
    """`out` as an ndarray the fast paths may write directly (plain, writeable, x's shape,
    and x itself or not overlapping it), else None: the Python layer then checks and
    reports, or goes through a temporary for a partial overlap."""
    if type(out) is not cnp.ndarray:
        return None
    cdef cnp.ndarray ya = <cnp.ndarray>out
    if not _plain(ya, t) or not cnp.PyArray_ISWRITEABLE(ya) or not cnp.PyArray_SAMESHAPE(xa, ya):
        return None
    if not in_place_or_apart(xa, ya):
        return None
    return ya


def unary_fast(int op, object x, object out, double a, double b):
    """The common case in ~100 ns, or None to send the call through fastact/_args.py.

    Taken when x is a C-contiguous native float32/float64 ndarray with ndim >= 1 and
    `out` is None or an ndarray of x's dtype and shape, C-contiguous, writeable, and
    either x itself or not overlapping it.  It never raises on bad input: anything
    it does not take, the Python layer checks and reports.
    """
    if type(x) is not cnp.ndarray:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x, ya
    cdef int t = cnp.PyArray_TYPE(xa)
    if (t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64) or not _plain(xa, t) or cnp.PyArray_NDIM(xa) == 0:
        return None
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    cdef char *px = <char *>cnp.PyArray_DATA(xa)
    cdef char *py
    if out is None:
        ya = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(xa), cnp.PyArray_DIMS(xa), t, 0)
    else:
        ya = _taken_out(xa, out, t)
        if ya is None:
            return None
    py = <char *>cnp.PyArray_DATA(ya)
    if t == cnp.NPY_FLOAT32:
        if n >= GIL_RELEASE_MIN:
            with nogil:
                _fa_unary_f32(op, <float *>px, <float *>py, n, a, b)
        else:
            _fa_unary_f32(op, <float *>px, <float *>py, n, a, b)
    else:
        if n >= GIL_RELEASE_MIN:
            with nogil:
                _fa_unary_f64(op, <double *>px, <double *>py, n, a, b)
        else:
            _fa_unary_f64(op, <double *>px, <double *>py, n, a, b)
    return ya


ctypedef fused floating:
    float
    double


cdef inline void _unary_call(int op, const floating *x, floating *y, Py_ssize_t n, double a,
                             double b) noexcept nogil:
    if floating is float:
        _fa_unary_f32(op, x, y, n, a, b)
    else:
        _fa_unary_f64(op, x, y, n, a, b)


def unary(int op, const floating[::1] x, floating[::1] y, double a=0.0, double b=0.0):
    """y = op(x) element-wise (float32 or float64, x and y of the same type); y may be x."""
    cdef Py_ssize_t n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError("x and y differ in size")
    if n == 0:
        return
    if n >= GIL_RELEASE_MIN:
        with nogil:
            _unary_call(op, &x[0], &y[0], n, a, b)
    else:
        _unary_call(op, &x[0], &y[0], n, a, b)


def binary_fast(int op, object x, object g, object out, double a, double b):
    """y = op(x, g) in the common case, as unary_fast, or None to take the full path.

    Taken when x is a C-contiguous native float32/float64 ndarray with ndim >= 1, g is
    None (all ones) or such an array of x's dtype and shape, and `out` is None or an
    ndarray taken as by unary_fast for both x and g (each: in place, or apart).
    """
    cdef char *pg
    cdef int t = _float_operands(x, g, &pg)
    if t < 0:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x, ga = <cnp.ndarray>g if g is not None else None, ya
    cdef Py_ssize_t n = cnp.PyArray_SIZE(xa)
    if out is None:
        ya = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(xa), cnp.PyArray_DIMS(xa), t, 0)
    else:
        ya = _taken_out(xa, out, t)
        if ya is None or (ga is not None and not in_place_or_apart(ga, ya)):
            return None
    cdef char *px = <char *>cnp.PyArray_DATA(xa)
    cdef char *py = <char *>cnp.PyArray_DATA(ya)
    if t == cnp.NPY_FLOAT32:
        if n >= GIL_RELEASE_MIN:
            with nogil:
                _fa_binary_f32(op, <float *>px, <float *>pg, <float *>py, n, a, b)
        else:
            _fa_binary_f32(op, <float *>px, <float *>pg, <float *>py, n, a, b)
    else:
        if n >= GIL_RELEASE_MIN:
            with nogil:
                _fa_binary_f64(op, <double *>px, <double *>pg, <double *>py, n, a, b)
        else:
            _fa_binary_f64(op, <double *>px, <double *>pg, <double *>py, n, a, b)
    return ya


def binary(int op, const floating[::1] x, const floating[::1] g, floating[::1] y, double a=0.0, double b=0.0):
    """y = op(x, g) element-wise (g None: all ones); x, g, y of one type and size; y may be x or g."""
    cdef Py_ssize_t n = x.shape[0]
    cdef const floating *pg = NULL
    if y.shape[0] != n or (g is not None and g.shape[0] != n):
        raise ValueError("x, g and y differ in size")
    if n == 0:
        return
    if g is not None:
        pg = &g[0]
    with nogil:
        if floating is float:
            _fa_binary_f32(op, &x[0], pg, &y[0], n, a, b)
        else:
            _fa_binary_f64(op, &x[0], pg, &y[0], n, a, b)


def axis(int op, const floating[:, :, ::1] x, floating[::1] y, const unsigned char[:, :, ::1] mask=None,
         const floating[:, :, ::1] b=None, floating[::1] sign=None):
    """Row-wise op along axis 1 of a C-contiguous (outer, n, inner) block (float32 or float64).

    y is flat: outer*n*inner entries for FA_ROWWISE ops, outer*inner for FA_REDUCE ops.
    mask / b have x's shape; sign has y's size.
    """
    cdef ptrdiff_t outer = x.shape[0], n = x.shape[1], inner = x.shape[2]
    cdef const unsigned char *pm = NULL
    cdef const floating *pb = NULL
    cdef const floating *px = NULL
    cdef floating *ps = NULL
    if outer == 0 or inner == 0:
        return
    if n:
        px = &x[0, 0, 0]
        if mask is not None:
            pm = &mask[0, 0, 0]
        if b is not None:
            pb = &b[0, 0, 0]
    if sign is not None:
        ps = &sign[0]
    with nogil:
        if floating is float:
            _fa_axis_f32(op, px, &y[0], outer, n, inner, pm, pb, ps)
        else:
            _fa_axis_f64(op, px, &y[0], outer, n, inner, pm, pb, ps)


cdef inline bint _axis_block(cnp.ndarray xa, object axis, bint keepdims, int *k, ptrdiff_t *outer,
                             ptrdiff_t *n, ptrdiff_t *inner, cnp.npy_intp *rdims, int *rnd) noexcept:
    """x's (outer, n, inner) block for `axis` (None: the whole array, k = -1; or a Python int in
    range: k its index), and the reduced shape (rdims[:rnd]; keepdims: the reduced axes kept as
    1).  False for any other axis: the call then takes the full path, which reports."""
    cdef int nd = cnp.PyArray_NDIM(xa), i
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(xa)
    outer[0] = 1
    inner[0] = 1
    if axis is None:
        n[0] = cnp.PyArray_SIZE(xa)
        k[0] = -1
        rnd[0] = nd if keepdims else 0
        for i in range(rnd[0]):
            rdims[i] = 1
        return True
    if type(axis) is not int:
        return False
    cdef int big
    cdef long long v = PyLong_AsLongLongAndOverflow(axis, &big)   # (2**63: big, no C overflow error)
    if big or v < -nd or v >= nd:
        return False
    k[0] = <int>(v + nd if v < 0 else v)
    for i in range(nd):         # one pass: the block's sizes and the reduced shape
        if i < k[0]:
            outer[0] *= dims[i]
            rdims[i] = dims[i]
        elif i > k[0]:
            inner[0] *= dims[i]
            rdims[i - (0 if keepdims else 1)] = dims[i]
        elif keepdims:
            rdims[i] = 1
    n[0] = dims[k[0]]
    rnd[0] = nd if keepdims else nd - 1
    return True


def axis_fast(int op, bint reduce, object x, object axis, object out, object g=None, object where=None,
              bint keepdims=False):
    """The common reduction call straight from the NumPy C-API, or None to take the full path.

    Taken when x is a C-contiguous native float32/float64 ndarray with ndim >= 1, axis is
    None (the whole array) or a Python int in range, and `out` is None (or, for a
    row-wise op, an ndarray of x's dtype and shape, C-contiguous, writeable, x itself or
    not overlapping it).  `g` (softmax_grad / log_softmax_grad: grad_output; logsumexp: the
    weights b) must then be such an array of x's dtype and shape, and `out` in place of it or
    apart from it too; `where`, a C-contiguous bool ndarray of x's
    shape (no broadcasting); keepdims (a reduction): the reduced axes kept as 1.  Never raises
    on bad input.
    Returns the new array, a NumPy scalar for a 0-d result, or `out`.
    """
    cdef char *pg
    cdef int t = _float_operands(x, g, &pg)
    if t < 0:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x, ga = <cnp.ndarray>g if g is not None else None, ya
    cdef int nd = cnp.PyArray_NDIM(xa), k, i
    cdef char *pm
    if not _operand(xa, where, cnp.NPY_BOOL, &pm):
        return None
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(xa)
    cdef cnp.npy_intp rdims[64]
    cdef ptrdiff_t outer, n, inner
    cdef int rnd
    if not _axis_block(xa, axis, keepdims, &k, &outer, &n, &inner, rdims, &rnd):
        return None
    cdef char *px = <char *>cnp.PyArray_DATA(xa)
    cdef char *py
    if reduce:
        if out is not None:
            return None
        try:        # a result too large to allocate (empty x): the full path's own error, not ours
            ya = cnp.PyArray_EMPTY(rnd, rdims, t, 0)
        except (MemoryError, ValueError):
            return None
    elif out is None:
        ya = cnp.PyArray_EMPTY(nd, dims, t, 0)
    else:
        ya = _taken_out(xa, out, t)
        if ya is None or (ga is not None and not in_place_or_apart(ga, ya)):
            return None
        if pm != NULL and not in_place_or_apart(<cnp.ndarray>where, ya):   # a mask in out's bytes
            return None
    py = <char *>cnp.PyArray_DATA(ya)
    if outer * inner > 0 and (n > 0 or reduce):
        if t == cnp.NPY_FLOAT32:
            if outer * n * inner >= GIL_RELEASE_MIN:
                with nogil:
                    _fa_axis_f32(op, <float *>px, <float *>py, outer, n, inner, <const unsigned char *>pm, <float *>pg, NULL)
            else:
                _fa_axis_f32(op, <float *>px, <float *>py, outer, n, inner, <const unsigned char *>pm, <float *>pg, NULL)
        else:
            if outer * n * inner >= GIL_RELEASE_MIN:
                with nogil:
                    _fa_axis_f64(op, <double *>px, <double *>py, outer, n, inner, <const unsigned char *>pm, <double *>pg, NULL)
            else:
                _fa_axis_f64(op, <double *>px, <double *>py, outer, n, inner, <const unsigned char *>pm, <double *>pg, NULL)
    if reduce and cnp.PyArray_NDIM(ya) == 0:     # axis=None, or the one axis of 1-D input
        return ya[()]
    return ya


def logsumexp_grad_fast(int softmax_op, object a, object g, object axis):
    """logsumexp_grad(a, g, axis) without b, where or out, in the common case straight from the
    NumPy C-API, or None to take the full path (fastact/_reductions.py): softmax(a) from the C
    kernel, then each slice times its g in place.  a: a C-contiguous native float32/float64
    ndarray (ndim >= 1, not empty); axis None or a Python int in range; g None (ones) or such an
    array of a's dtype with logsumexp's result shape, or that shape with the reduced axis kept
    as 1 (axis None: 0-d or all ones), every value finite.  A slice whose softmax is NaN (NaN,
    +inf or only -inf: its first entry tells) gives None too: the full path then gives the
    all -inf slices 0."""
    if type(a) is not cnp.ndarray or (g is not None and type(g) is not cnp.ndarray):
        return None
    cdef cnp.ndarray aa = <cnp.ndarray>a, ga = None, wa
    cdef int t = cnp.PyArray_TYPE(aa), nd = cnp.PyArray_NDIM(aa), k, i, gnd
    if (t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64) or nd == 0 or not _plain(aa, t) or cnp.PyArray_SIZE(aa) == 0:
        return None
    cdef cnp.npy_intp *dims = cnp.PyArray_DIMS(aa)
    cdef ptrdiff_t outer, n, inner, o, j, q
    cdef cnp.npy_intp rdims[64]
    cdef int rnd
    if not _axis_block(aa, axis, False, &k, &outer, &n, &inner, rdims, &rnd):
        return None
    cdef const char *pg = NULL
    cdef bint big = False
    cdef double gv
    if g is not None:                 # the result shape, or it with the reduced axes kept as 1
        ga = <cnp.ndarray>g
        gnd = cnp.PyArray_NDIM(ga)
        if not _plain(ga, t) or cnp.PyArray_SIZE(ga) != outer * inner:
            return None
        if gnd == nd:
            for i in range(nd):
                if cnp.PyArray_DIMS(ga)[i] != (1 if (k < 0 or i == k) else dims[i]):
                    return None
        elif gnd == nd - 1 and k >= 0:
            for i in range(gnd):
                if cnp.PyArray_DIMS(ga)[i] != dims[i if i < k else i + 1]:
                    return None
        elif not (gnd == 0 and k < 0):
            return None
        pg = <const char *>cnp.PyArray_DATA(ga)
        for q in range(outer * inner):
            gv = (<const float *>pg)[q] if t == cnp.NPY_FLOAT32 else (<const double *>pg)[q]
            if not isfinite(gv):
                return None
            big = big or fabs(gv) > 1
    wa = cnp.PyArray_EMPTY(nd, dims, t, 0)
    cdef char *px = <char *>cnp.PyArray_DATA(aa)
    cdef char *pw = <char *>cnp.PyArray_DATA(wa)
    cdef float *wf = <float *>pw
    cdef double *wd = <double *>pw
    with nogil:
        if t == cnp.NPY_FLOAT32:
            _fa_axis_f32(softmax_op, <float *>px, wf, outer, n, inner, NULL, NULL, NULL)
        else:
            _fa_axis_f64(softmax_op, <double *>px, wd, outer, n, inner, NULL, NULL, NULL)
    for o in range(outer):            # a NaN slice: the full path's special cases
        for q in range(inner):
            if (wf[o * n * inner + q] != wf[o * n * inner + q]) if t == cnp.NPY_FLOAT32 else (
                    wd[o * n * inner + q] != wd[o * n * inner + q]):
                return None
    cdef int amplified = 0
    if pg != NULL:
        with nogil:
            if t == cnp.NPY_FLOAT32 and big:
                amplified = _scale_slices_checked_f32(wf, <const float *>px, <const float *>pg, outer, n, inner)
            elif t == cnp.NPY_FLOAT32:
                _scale_slices(wf, <const float *>pg, outer, n, inner)
            else:
                _scale_slices(wd, <const double *>pg, outer, n, inner)
    if amplified:
        return None                   # the full path takes those slices from float64 (or, -1, no memory)
    return wa


cdef inline float _amplified_from(const float *W, const float *a, ptrdiff_t n, ptrdiff_t stride,
                                   float gv) noexcept nogil:
    """The least a of a slice (entries k stride apart) whose product g e^(a - lse) reaches
    float32's range: lse - ln|g| - 105, lse = a_k - ln(W_k / g) from its first product W_k = w_k g
    with w_k >= 2^-100 (any entry gives lse to ~1e-6; the max has w >= 1/n); +inf where
    |g| <= 1."""
    cdef ptrdiff_t j
    if not fabs(gv) > 1:
        return INFINITY
    for j in range(n):
        if fabs(W[j * stride]) >= 7.888609052210118e-31 * fabs(gv):          # 2^-100 |g|
            return <float>(a[j * stride] - log(W[j * stride] / gv) - log(fabs(gv)) - 105.0)
    return INFINITY


cdef int _scale_slices_checked_f32(float *w, const float *a, const float *g, ptrdiff_t outer, ptrdiff_t n,
                                   ptrdiff_t inner) noexcept nogil:
    """_scale_slices for float32 (w times g in place), telling (1) whether a slice with |g| > 1
    has a softmax entry below 2^-126 (a few significant bits, or 0) whose product would reach
    float32's range (_amplified_from): the full path then takes such slices from float64
    (_reductions._subnormals_amplified).  Padded logits (-1e9) never count.  w >= 0 (a NaN
    slice was declined before).  Per row (inner == 1) or block of columns: the products formed
    in the pass that flags a tiny w (most have none: done), then, from the products
    (w < 2^-126 where |W| < 2^-126 |g|, up to W's rounding at the boundary), the flag of a tiny
    w at or above the threshold: branch-free loops.  -1: no memory for the per-column state."""
    cdef ptrdiff_t o, j, q, at
    cdef int cnt          # an OR of 0/1 flags (32-bit lanes: the loops vectorize)
    cdef float tiny = 1.1754943508222875e-38       # 2^-126
    cdef float *thr = <float *>malloc(inner * sizeof(float))
    cdef int hit = 0
    cdef float t1, gv, v, gt
    cdef float *row
    if thr == NULL:
        return -1
    for o in range(outer):
        if inner == 1:            # a row: flat loops (vectorized), the threshold in a local
            gv = g[o]
            row = w + o * n
            if not fabs(gv) > 1:
                _scale_slices(row, g + o, 1, n, 1)
                continue
            cnt = 0
            for j in range(n):
                v = row[j]
                cnt |= v < tiny
                row[j] = v * gv
            if cnt == 0:
                continue
            t1 = _amplified_from(row, a + o * n, n, 1, gv)
            gt = tiny * fabs(gv)
            cnt = 0
            for j in range(n):
                cnt |= (fabs(row[j]) < gt) & (a[o * n + j] >= t1)
        else:                     # columns: the same per column, in memory order
            cnt = 0
            for j in range(n):
                row = w + (o * n + j) * inner
                for q in range(inner):
                    v = row[q]
                    cnt |= v < tiny
                    row[q] = v * g[o * inner + q]
            if cnt == 0:
                continue
            for q in range(inner):
                thr[q] = _amplified_from(w + o * n * inner + q, a + o * n * inner + q, n, inner, g[o * inner + q])
            cnt = 0
            for j in range(n):
                for q in range(inner):
                    at = (o * n + j) * inner + q
                    cnt |= (fabs(w[at]) < tiny * fabs(g[o * inner + q])) & (a[at] >= thr[q])
        if cnt:
            hit = 1
            break
    free(thr)
    return hit


cdef void _scale_slices(floating *w, const floating *g, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner) noexcept nogil:
    """w (outer, n, inner) times g (outer, inner) along the middle axis, in place (one rounding
    per entry, as NumPy's multiply of the two)."""
    cdef ptrdiff_t o, j, q
    cdef floating gv
    cdef floating *row
    cdef const floating *gr
    for o in range(outer):
        if inner == 1:
            gv = g[o]
            row = w + o * n
            for j in range(n):
                row[j] = row[j] * gv
        else:
            gr = g + o * inner
            for j in range(n):
                row = w + (o * n + j) * inner
                for q in range(inner):
                    row[q] = row[q] * gr[q]


include "_bce_core.pxi"
include "_ce_core.pxi"
include "_chunk_core.pxi"
