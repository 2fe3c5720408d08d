"""logsumexp, softmax and log_softmax along axes: drop-ins for scipy.special.

The work happens in the C kernels of src_c/reductions/ (fa_reductions.h: the stages), which see the input as a
C-contiguous (outer, n, inner) block and reduce along the middle axis.  This module
turns NumPy arguments into such a block without copying whenever the reduced axes are
adjacent in memory (any single axis of a C- or Fortran-ordered array, or the whole
array); otherwise it moves the reduced axes last in one copy.  Argument errors are
raised before anything is written (docs/SPEC.md sections 3 and 5).
"""
import math

import numpy as np

from . import _core, _interop, kernels
from ._args import F16, F32, F64, as_array, base_view, check_out, compute_dtypes, flag, reduction_axes, where_mask

__all__ = ["logsumexp", "softmax", "log_softmax", "softmax_grad", "log_softmax_grad", "logsumexp_grad"]

_OP = {name: i for i, name in enumerate(kernels.AXIS_OPS)}
_SOFTMAX, _LOG_SOFTMAX, _LOGSUMEXP = _OP["softmax"], _OP["log_softmax"], _OP["logsumexp"]
_SOFTMAX_GRAD, _LOG_SOFTMAX_GRAD = _OP["softmax_grad"], _OP["log_softmax_grad"]
_axis_fast = _core.axis_fast


_axes = reduction_axes


def _layout(x, axes):
    """(x3, order, kept): x3 a C-contiguous (outer, n, inner) array, `order` the
    permutation of x's axes x3 was laid out in, `kept` the unreduced axes in that order.

    No copy when x (after transposing to its memory order) has the reduced axes adjacent.
    """
    nd = x.ndim
    if x.flags.c_contiguous:
        order = list(range(nd))
    elif x.flags.f_contiguous:
        order = list(range(nd - 1, -1, -1))
    else:
        order = None
    if order is not None:
        pos = [order.index(a) for a in axes]
        pos.sort()
        if pos and pos[-1] - pos[0] != len(pos) - 1:
            order = None
    if order is None:   # move the reduced axes last, in one copy
        order = [a for a in range(nd) if a not in axes] + list(axes)
        xp = np.ascontiguousarray(x.transpose(order))
    else:
        xp = x.transpose(order)
    pos = sorted(order.index(a) for a in axes)
    shape = xp.shape
    if pos:
        first, last = pos[0], pos[-1] + 1
    else:
        first = last = len(shape)
    outer = math.prod(shape[:first])
    n = math.prod(shape[first:last])
    inner = math.prod(shape[last:])
    kept = [a for a in order if a not in axes]
    return xp.reshape(outer, n, inner), order, kept


def _same_layout(arr, order, shape3):
    """arr in the (outer, n, inner) layout given by `order`, as a view, or None."""
    v = arr.transpose(order)
    if not (v.flags.c_contiguous and v.flags.aligned):
        return None
    return v.reshape(shape3)


def _prepare(x, axis, name, where, complex_ok=False):
    x = as_array(x)
    if x.dtype.kind == "c" and complex_ok:
        return x, None, None, None
    compute, result = compute_dtypes(x.dtype, name)
    if x.dtype != compute or not x.flags.aligned:   # the kernels take aligned native buffers
        x = x.astype(compute)
    axes = _axes(axis, x.ndim)
    mask = None
    if where is not None:
        mask = where_mask(where, x.shape)
    return x, axes, (compute, result), mask


def _store(out, y):
    """out[...] = y with same-kind casting; a value too large for a narrower `out` becomes
    inf silently, as in the element-wise functions (no "overflow encountered in cast")."""
    with np.errstate(over="ignore"):
        np.copyto(out, y, casting="same_kind")


def _narrowed(y, dtype):
    """y as the result dtype (float16 from float32): overflow rounds to inf, with no warning."""
    with np.errstate(over="ignore"):
        return y.astype(dtype)


def _one_entry_slice(x, axes, mask):
    """0-d input is one slice of length 1: the kernels see at least one axis."""
    if x.ndim:
        return x, axes, mask
    return x.reshape(1), (0,), None if mask is None else mask.reshape(1)


def _mask3(mask, order, shape3, out=None):
    """where= in the kernels' (outer, n, inner) layout, as uint8; a copy where it shares
    memory with out (a bool view of out's bytes), which the kernel writes while it reads the
    mask (NumPy's ufuncs copy such an operand too)."""
    if mask is None:
        return None
    m = np.ascontiguousarray(mask.transpose(order)).reshape(shape3).view(np.uint8)
    if out is not None and np.may_share_memory(m, out):
        m = m.copy()
    return m


def _rowwise(op, name, x, axis, out, where):
    """softmax / log_softmax: a result of x's shape."""
    x, axes, (compute, result), mask = _prepare(x, axis, name, where)
    if out is not None:
        out = check_out(out, x.shape, result, name)
    shape = x.shape
    x, axes, mask = _one_entry_slice(x, axes, mask)
    x3, order, _ = _layout(x, axes)
    mask3 = _mask3(mask, order, x3.shape, out)
    y3 = None
    if out is not None and out.dtype == compute and out.ndim == x.ndim:
        y3 = _same_layout(base_view(out), order, x3.shape)
        if y3 is not None and not _core.in_place_or_apart(x3, y3):
            y3 = None      # partial overlap: through a temporary
    direct = y3 is not None
    if not direct:
        y3 = np.empty(x3.shape, dtype=compute)
    if x3.size:
        _core.axis(op, x3, y3.reshape(-1), mask3)
    if direct:
        return out
    y = y3.reshape([x.shape[a] for a in order]).transpose(np.argsort(order)).reshape(shape)
    return _finish(y, out, result, compute)


def _rowwise_call(func, op, x, axis, out, where, dim):
    """softmax / log_softmax (func, its kernel op) past their C-API fast path: Dask, xarray
    and masked arrays (fastact/_interop.py), then the general NumPy path."""
    if type(x) is not np.ndarray or dim is not None or (where is not None and type(where) is not np.ndarray):
        y = _interop.rowwise(func, func.__name__, x, axis, out, where, dim)   # Dask, xarray, np.ma
        if y is not NotImplemented:
            return y
    return _rowwise(op, func.__name__, x, axis, out, where)


def softmax(x, axis=None, out=None, where=None, dim=None):
    """Softmax along `axis`: exp(x - logsumexp(x, axis, keepdims=True)).

    Drop-in for scipy.special.softmax.  axis=None (the default, as in SciPy) means the
    whole array; deep-learning code usually wants axis=-1.  `axis` may be an int, a
    negative int or a tuple.  `where` (a boolean array broadcast against x, as in JAX)
    leaves entries out: they get 0, and a fully masked slice gives 0.  Every entry is
    within 4 ULP of the exact result (float32 and float64); int and bool input is
    converted to float64 first, float16 is computed in float32.  A slice containing NaN
    or +inf, or made only of -inf, gives NaN (as SciPy, torch and JAX).  Empty input
    gives an empty result.  `out` receives the result (it may be x itself).  Dask arrays
    give lazy Dask arrays, xarray objects keep dims/coords/attrs (`dim=` names the reduced
    dimensions), masked arrays leave masked entries out: docs/dask.md.
    """
    if dim is None:
        y = _axis_fast(_SOFTMAX, False, x, axis, out, None, where)
        if y is not None:
            return y
    return _rowwise_call(softmax, _SOFTMAX, x, axis, out, where, dim)


def log_softmax(x, axis=None, out=None, where=None, dim=None):
    """Log of the softmax along `axis`: x - logsumexp(x, axis, keepdims=True).

    Drop-in for scipy.special.log_softmax (same axis rules as `softmax`).  Accurate when
    one entry dominates: log_softmax([0, -40])[0] = -4.248e-18, not 0.  Masked entries
    (`where` False) get -inf.  NaN or +inf in a slice, or a slice of only -inf, gives NaN.
    Dask, xarray (`dim=`) and masked input: docs/dask.md.
    """
    if dim is None:
        y = _axis_fast(_LOG_SOFTMAX, False, x, axis, out, None, where)
        if y is not None:
            return y
    return _rowwise_call(log_softmax, _LOG_SOFTMAX, x, axis, out, where, dim)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, out=None, where=None, dim=None):
    """log(sum(b * exp(a), axis)) without overflow: drop-in for scipy.special.logsumexp.

    axis=None reduces the whole array; an int, negative int or tuple is accepted.  `b`
    (weights broadcast against `a`): an entry with b == 0 is left out even where a is
    inf or NaN; a negative total gives NaN unless return_sign=True, which returns
    (log|total|, sign) with sign +1, -1, or 0 for a zero total.  `where` (boolean,
    broadcast against a) leaves entries out; a fully masked or empty slice gives -inf.
    Accurate to 2 ULP, including a dominant entry: logsumexp([0, -40]) = 4.248e-18.
    int and bool input is converted to float64; float16 is computed in float32 and
    returned as float16.  Complex input takes a NumPy path (max of the real parts, then
    log of the sum), as SciPy does.  `out` must have the reduced shape.  Dask, xarray
    (`dim=`) and masked input: docs/dask.md.
    """
    if keepdims is not False:
        keepdims = flag(keepdims)
    if return_sign is not False:
        return_sign = flag(return_sign)
    if not return_sign and dim is None:
        y = _axis_fast(_LOGSUMEXP, True, a, axis, out, b, where, keepdims)
        if y is not None:
            return y
    if type(a) is not np.ndarray or dim is not None or (b is not None and type(b) is not np.ndarray) or (
            where is not None and type(where) is not np.ndarray):
        y = _interop.logsumexp(logsumexp, a, axis, b, keepdims, return_sign, out, where, dim)
        if y is not NotImplemented:
            return y
    return _logsumexp(a, axis, b, keepdims, return_sign, out, where)


def _logsumexp(a, axis, b, keepdims, return_sign, out, where):
    a = as_array(a)
    if b is not None:
        if a.dtype.kind in "biu":
            a = a.astype(F64)
        if isinstance(b, (int, float, complex)):   # Python scalars are weak (NEP 50)
            dt = np.result_type(a.dtype, b)
            b = np.asarray(b, dtype=dt)
        else:
            b = as_array(b)
            dt = np.result_type(a.dtype, b.dtype)
        if dt.kind in "biu":
            dt = F64
        shape = np.broadcast_shapes(a.shape, b.shape)
        a = np.broadcast_to(a, shape).astype(dt, copy=False)
    if a.dtype.kind == "c" or (b is not None and np.asarray(b).dtype.kind == "c"):
        return _logsumexp_complex(a, axis, b, keepdims, return_sign, out, where)
    x, axes, (compute, result), mask = _prepare(a, axis, "logsumexp", where)
    shape_r = tuple(1 if i in axes else s for i, s in enumerate(x.shape)) if keepdims else \
        tuple(s for i, s in enumerate(x.shape) if i not in axes)
    if out is not None:
        out = check_out(out, shape_r, result, "logsumexp")
    x, axes, mask = _one_entry_slice(x, axes, mask)
    x3, order, kept = _layout(x, axes)
    mask3 = _mask3(mask, order, x3.shape, out)
    b3 = None
    if b is not None:
        bb = np.broadcast_to(np.asarray(b, dtype=compute), x.shape)
        b3 = np.ascontiguousarray(bb.transpose(order)).reshape(x3.shape)
        if not b3.flags.aligned:
            b3 = b3.copy()
    y = np.empty(x3.shape[0] * x3.shape[2], dtype=compute)
    sign = np.empty_like(y) if return_sign else None
    if y.size:
        _core.axis(_LOGSUMEXP, x3, y, mask3, b3, sign)
    kept_shape = [x.shape[a] for a in kept]
    # kept is in layout order; put the axes back in their original order
    perm = [kept.index(a) for a in sorted(kept)]
    y = y.reshape(kept_shape).transpose(perm) if kept else y.reshape(())
    if sign is not None:
        sign = sign.reshape(kept_shape).transpose(perm) if kept else sign.reshape(())
    if keepdims and a.ndim:
        y = np.expand_dims(y, axes)
        if sign is not None:
            sign = np.expand_dims(sign, axes)
    if result is not compute:
        y = _narrowed(y, result)
        if sign is not None:
            sign = sign.astype(result)
    if out is not None:
        _store(out, y)
        y = out
    elif y.ndim == 0:
        y = y[()]
    if return_sign:
        return y, (sign[()] if sign.ndim == 0 else sign)
    return y


def _logsumexp_complex(a, axis, b, keepdims, return_sign, out, where):
    """Complex input, on a NumPy path with SciPy's semantics: log of the complex total, its
    phase in (-pi, pi]; with return_sign, (log|total| as a real number, total/|total|)."""
    a = np.asarray(a)
    axes = _axes(axis, a.ndim)
    mask = None if where is None else where_mask(where, a.shape)
    with np.errstate(all="ignore"):
        re = a.real if mask is None else np.where(mask, a.real, -np.inf)
        m = np.max(re, axis=axes, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0).astype(re.dtype)
        terms = np.exp(a - m)
        if b is not None:
            terms = terms * b
        if mask is not None:
            terms = np.where(mask, terms, 0)
        s = np.sum(terms, axis=axes, keepdims=True)
        if return_sign:
            r = np.log(np.abs(s)) + m            # real: the sign carries the phase
            sgn = np.sign(s)                      # s/|s| (NumPy 2), 0 for a zero total
        else:
            r = np.log(s) + m
    if not keepdims:
        r = np.squeeze(r, axis=axes)
        if return_sign:
            sgn = np.squeeze(sgn, axis=axes)
    if out is not None:
        out = check_out(out, r.shape, r.dtype, "logsumexp")
        _store(out, r)
        r = out
    elif r.ndim == 0:
        r = r[()]
    if return_sign:
        return r, (sgn[()] if sgn.ndim == 0 else sgn)
    return r


# ---- gradients (backward) ----

def _promote(*operands):
    """NumPy's result dtype of the operands (None skipped): arrays by their dtype (a Dask array's
    without computing it), Python scalars weakly (NEP 50: softmax_grad(float32 y, 2.0) stays
    float32, as silu_grad(float32 x, 2.0) and ufuncs)."""
    def dtype(v):
        if type(v) in (bool, int, float):
            return v
        d = getattr(v, "dtype", None)
        return np.asarray(v).dtype if d is None else d
    return np.result_type(*(dtype(v) for v in operands if v is not None))


def _lse_grad_output(g, shape, axes, xp=np):
    """logsumexp_grad's grad_output g (xp: numpy or dask.array) laid out with the reduced axes
    kept as 1: g as it is where it has a's ndim, 1 on the reduced axes and broadcasts to that
    kept shape, else g broadcast to the result shape with the reduced axes put back.  Any other
    shape is a ValueError naming both (a (3, 1) grad_output for axis=0 of a (3, 3) array was
    taken as is and scaled the rows).  Returns (g, kept shape)."""
    kshape = tuple(1 if k in axes else d for k, d in enumerate(shape))
    rshape = tuple(d for k, d in enumerate(shape) if k not in axes)
    kept = g.ndim == len(shape) and all(g.shape[k] == 1 for k in axes)
    if kept:
        try:
            kept = np.broadcast_shapes(g.shape, kshape) == kshape
        except ValueError:
            kept = False
    if not kept:
        try:
            g = xp.expand_dims(xp.broadcast_to(g, rshape), axes)
        except ValueError:
            raise ValueError(f"grad_output of shape {g.shape} does not broadcast to logsumexp's result "
                             f"shape {rshape} (nor to {kshape}, the reduced axes kept as 1)") from None
    return g, kshape


def _grad_operands(y, g, name):
    """y and grad_output as arrays of one compute dtype and their broadcast shape; grad_output
    None (ones) stays None: the kernels read a NULL grad_output as ones."""
    dtype = _promote(y, g)
    y = as_array(y)
    g = None if g is None else as_array(g)
    shape = y.shape if g is None else np.broadcast_shapes(y.shape, g.shape)
    compute, result = compute_dtypes(dtype, name)
    y = np.broadcast_to(y, shape).astype(compute, copy=False)
    if g is not None:
        g = np.broadcast_to(g, shape).astype(compute, copy=False)
    y, g = (v if v is None or v.flags.aligned else v.copy() for v in (y, g))   # the kernels load aligned scalars
    return y, g, compute, result


def _finish(r, out, result, compute):
    """r into out (same-kind) or as the result dtype; beyond a narrower dtype's range: inf, with no
    warning (_store, _narrowed)."""
    if out is not None:
        _store(out, r)
        return out
    if result is not compute:
        r = _narrowed(r, result)
    return r if r.ndim else r[()]


def _rowwise_grad(op, name, y, g, axis, out, where):
    """softmax_grad / log_softmax_grad: the C row kernel on the (outer, n, inner) layout
    of y, with grad_output (laid out the same way) as its second operand."""
    y, g, compute, result = _grad_operands(y, g, name)
    if out is not None:
        out = check_out(out, y.shape, result, name)
    shape = y.shape
    axes = _axes(axis, y.ndim)
    mask = None if where is None else where_mask(where, shape)     # an int array: TypeError, as softmax
    if not y.ndim:
        y, axes = y.reshape(1), (0,)
        g = None if g is None else g.reshape(1)
        mask = None if mask is None else mask.reshape(1)
    y3, order, _ = _layout(y, axes)
    g3 = None if g is None else np.ascontiguousarray(g.transpose(order)).reshape(y3.shape)
    r3 = None
    if out is not None and out.dtype == compute and out.ndim == y.ndim:   # straight into out
        r3 = _same_layout(base_view(out), order, y3.shape)
        if r3 is not None and not (_core.in_place_or_apart(y3, r3) and (g3 is None or _core.in_place_or_apart(g3, r3))):
            r3 = None      # partial overlap: through a temporary
    direct = r3 is not None
    if not direct:
        r3 = np.empty(y3.shape, dtype=compute)
    if y3.size:
        _core.axis(op, y3, r3.reshape(-1), _mask3(mask, order, y3.shape, out), g3)
    if direct:
        return out
    r = r3.reshape([y.shape[a] for a in order]).transpose(np.argsort(order)).reshape(shape)
    return _finish(r, out, result, compute)


def _rowwise_grad_call(func, op, y, g, axis, out, where):
    """softmax_grad / log_softmax_grad (func, its kernel op) past their C-API fast path: Dask
    and masked arrays (fastact/_interop.py), then the general NumPy path."""
    if type(y) is not np.ndarray or not (g is None or type(g) is np.ndarray):
        if g is None:       # Dask, np.ma, xarray: ones of y's dtype (as the NumPy path's NULL)
            g = np.ones((), dtype=_promote(y))
        r = _interop.rowwise_grad(func, func.__name__, y, g, axis, out, where)
        if r is not NotImplemented:
            return r
    return _rowwise_grad(op, func.__name__, y, g, axis, out, where)


def softmax_grad(y, grad_output=None, axis=None, out=None, where=None):
    """The gradient through softmax: y * (grad_output - sum(grad_output * y, axis)).

    `y` is softmax's output (fastact.softmax(x, axis, where=where)) and `grad_output`
    dL/dy (broadcast against y; None: ones, as every gradient); returns dL/dx.  `axis` as for softmax (None: the whole
    array, as SciPy; deep-learning code wants -1).  Entries left out by `where` get 0.
    One C pass per slice for the sum (float64 for float32 data, compensated for float64),
    one for the result.
    """
    r = _axis_fast(_SOFTMAX_GRAD, False, y, axis, out, grad_output, where)    # None: ones (C: NULL)
    if r is not None:
        return r
    return _rowwise_grad_call(softmax_grad, _SOFTMAX_GRAD, y, grad_output, axis, out, where)


def log_softmax_grad(y, grad_output=None, axis=None, out=None, where=None):
    """The gradient through log_softmax: grad_output - exp(y) * sum(grad_output, axis).

    `y` is log_softmax's output, `grad_output` dL/dy (None: ones); returns dL/dx.  Entries left out
    by `where` get 0 (and are left out of the sum).  Same axis rules as softmax_grad.
    """
    r = _axis_fast(_LOG_SOFTMAX_GRAD, False, y, axis, out, grad_output, where)    # None: ones (C: NULL)
    if r is not None:
        return r
    return _rowwise_grad_call(log_softmax_grad, _LOG_SOFTMAX_GRAD, y, grad_output, axis, out, where)


def _weighted_softmax(a, b, axis, where, lse, sign):
    """b e^(a - lse) sign = b e^a / sum(b e^a), lse and sign logsumexp(a, b=b)'s: with p0 the C
    softmax of the entries with b != 0 (and where), b p0 / sum(b p0) along the axis (the
    products and the division in a's dtype, the sum accumulated in float64).  The
    factor was e^(lse0 - lse) with lse0 their unweighted logsumexp, which carried both values'
    rounding, ~ULP(lse) relative: 28 eps at |lse| ~ 30 (third differential fuzz, 2026-12-06).
    Slices with an infinite or NaN lse or sum (+inf entries, overflowing weights) take the
    direct formula b e^(a - lse) sign, as every entry of them does."""
    keep = b != 0
    if where is not None:
        keep &= np.broadcast_to(np.asarray(where, dtype=bool), a.shape)
    p0 = np.asarray(softmax(a, axis=axis, where=keep), a.dtype)
    with np.errstate(all="ignore"):
        wp = p0 * b
        if where is not None:
            wp = np.where(keep, wp, 0)            # b may be inf or NaN where left out
        tot = np.sum(wp, axis=axis, keepdims=True, dtype=np.float64)
        w = np.divide(wp, tot.astype(a.dtype), out=wp)
        odd = ~(np.isfinite(lse) & np.isfinite(tot))
        if odd.any():      # rare: the direct formula, on those slices only
            direct = np.where(keep, b * np.exp(a - lse) * sign, 0)
            w = np.where(np.broadcast_to(odd, a.shape), direct, w)
    return w, p0


def logsumexp_grad(a, grad_output=None, axis=None, b=None, where=None, out=None):
    """The gradient of logsumexp(a, axis, b=b, where=where) times grad_output:
    grad_output * b * exp(a - logsumexp), of a's shape.

    grad_output has logsumexp's result shape, that shape with the reduced axes kept as 1,
    or a shape that broadcasts to the result shape (a scalar); None means ones.  Masked entries (`where` False), entries with b == 0 and every
    entry of a fully masked or all -inf slice get gradient 0 (pytorch#31829, jax#6811:
    there the peers give NaN).  A negative total (b < 0) differentiates log|total|.
    Without b the weights are fastact.softmax's (C, <= 4 ULP); with b, b p0 / sum(b p0) with p0
    the C softmax of the entries with b != 0 (_weighted_softmax).  float32 slices where
    |grad_output| > 1 meets a softmax entry below 2^-126 are computed from float64 instead
    (_subnormals_amplified).
    A Dask operand gives a lazy array (docs/dask.md).
    """
    if b is None and where is None and out is None:
        r = _core.logsumexp_grad_fast(_SOFTMAX, a, grad_output, axis)
        if r is not None:
            return r
    if type(a) is not np.ndarray or not (grad_output is None or type(grad_output) is np.ndarray) or (
            b is not None and type(b) is not np.ndarray):
        r = _interop.logsumexp_grad(logsumexp_grad, a, grad_output, axis, b, where, out)   # Dask, np.ma
        if r is not NotImplemented:
            return r
    a = as_array(a)
    if a.dtype.kind == "c":
        raise TypeError("logsumexp_grad does not support complex input")
    # a, b and grad_output promote together (Python scalars weakly), as the other gradients' operands
    compute, result = compute_dtypes(_promote(a, b, grad_output), "logsumexp_grad")
    a = a.astype(compute, copy=False)
    axes = _axes(axis, a.ndim)
    if out is not None:
        out = check_out(out, a.shape, result, "logsumexp_grad")
    lse, sign = logsumexp(a, axis=axes if a.ndim else None, b=b, keepdims=True, return_sign=True, where=where)
    lse, sign = np.asarray(lse, compute), np.asarray(sign, compute)
    if b is None:
        w = np.asarray(softmax(a, axis=axes if a.ndim else None, where=where), compute)
    else:
        w, p0 = _weighted_softmax(a, np.broadcast_to(np.asarray(b, compute), a.shape), axes if a.ndim else None,
                                  where, lse, sign)
    w = np.asarray(w, compute)
    if w.shape != a.shape:
        w = np.array(np.broadcast_to(w, a.shape))
    bad = np.isneginf(lse) | (sign == 0)            # all -inf / fully masked slices (per slice)
    if bad.any():                                   # (a full-size where only then: 5 ms at (4096, 1000))
        w = np.where(bad, compute.type(0), w)
    g = redo = None
    if grad_output is not None:
        g = np.asarray(grad_output, compute)
        if a.ndim:
            g, _ = _lse_grad_output(g, a.shape, axes)
    if compute == np.float32 and (b is not None or g is not None):
        redo = _subnormals_amplified(a, w if b is None else p0, g, b, where, axes if a.ndim else None, lse)
        if redo is not None:
            # those slices from the float64 kernels (the float32 operands widened), rounded once
            r64 = logsumexp_grad(a.astype(np.float64),
                                 None if grad_output is None else np.asarray(grad_output, compute).astype(np.float64),
                                 axes if a.ndim else None,
                                 None if b is None else np.asarray(b, compute).astype(np.float64), where)
            r64 = np.asarray(r64).reshape(a.shape)
    if g is not None:
        with np.errstate(invalid="ignore"):         # 0 * inf: NaN, a product's value, with no warning
            if g.ndim <= w.ndim and all(d in (1, e) for d, e in zip(g.shape[::-1], w.shape[::-1])):
                np.multiply(w, g, out=w)            # w is this call's own array
            else:
                w = w * g                           # (NumPy's own error where they do not broadcast)
        if not np.isfinite(g).all():                # the entries left out stay exactly 0 (as softmax_grad's)
            left_out = np.broadcast_to(bad, w.shape)
            if where is not None:
                left_out = left_out | ~np.broadcast_to(np.asarray(where, dtype=bool), w.shape)
            if b is not None:
                left_out = left_out | (np.broadcast_to(np.asarray(b), w.shape) == 0)
            w = np.where(left_out, compute.type(0), w)
    if redo is not None:
        w = np.where(redo, r64.astype(compute), w)
    return _finish(np.asarray(w, compute).reshape(a.shape), out, result, compute)


def _subnormals_amplified(a, p, g, b, where, axes, lse):
    """float32 logsumexp_grad: the slices (a boolean array of the kept shape, or None for none)
    where a softmax entry p below 2^-126 (held with a few significant bits, or as 0: within
    one smallest normal, docs/SPEC.md section 6) is scaled up by |grad_output| > 1 or by the
    weights (b p0 / sum(b p0); p is then p0, the softmax of the entries with b != 0) into
    float32's range, which then carried p's rounding as many ULPs
    (logsumexp_grad(float32([0, -100]), float32(1e30))[1] and
    logsumexp_grad(float32([0, -100]), b=float32([1, 1e30]))[1] were 1.7% off; a differential
    fuzz and a review, 2026-12-06).  Those slices are computed from the float64 kernels
    instead.  The result g b e^(a - lse) is below float32's least subnormal unless
    a + ln|g b| - lse >= -104, so padded logits (-1e9) and entries left out (a = -inf, where
    False, b == 0) do not count.  The C fast path (no weights, no where) makes the same test
    in its scaling pass (_core._scale_slices_checked_f32).  float64's p0 in its subnormals
    times weights beyond 2^1022 is the same in kind (README "Not yet")."""
    if b is None:                     # then only |g| > 1 scales p up (g: one per slice, small)
        big = np.abs(g) > 1
        if not big.any():
            return None
        tiny = (np.abs(p) < np.float32(2.0 ** -126)) & big
    else:
        tiny = np.abs(p) < np.float32(2.0 ** -126)
    if not tiny.any():
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = a.astype(np.float64) - np.asarray(lse, np.float64)
        if g is not None:
            reach = reach + np.log(np.abs(np.asarray(g, np.float64)))
        if b is not None:
            reach = reach + np.log(np.abs(np.broadcast_to(np.asarray(b, np.float64), a.shape)))
        hit = tiny & (reach >= -105.0)
    if where is not None:
        hit &= np.broadcast_to(np.asarray(where, dtype=bool), a.shape)
    if not hit.any():
        return None
    return hit.any(axis=axes, keepdims=True) if a.ndim else hit
