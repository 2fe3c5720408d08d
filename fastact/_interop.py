"""Inputs that are not plain ndarrays: Dask arrays, xarray objects, masked arrays, subclasses.

The public functions call into here only after their ndarray fast path has declined the
call, and only when an argument is not a plain ndarray, so NumPy users pay nothing.  Each
entry returns the result, or NotImplemented to let the caller go on with np.asarray().

Detection never imports an optional library: a Dask array can only exist once
dask.array has been imported, so `sys.modules.get("dask.array")` (likewise xarray and
numpy.ma) tells whether to look at all.  `import fastact` imports none of them.

Why the element-wise functions are not NumPy ufuncs (nor take __array_ufunc__ routes):
a real ufunc (PyUFunc_FromFuncAndData with our contiguous kernels as inner loops) would
give Dask, xarray and np.ma support through NumPy's protocols for free, with the same
kernels and so the same accuracy, but:
  - call overhead: NumPy's ufunc machinery (argument parsing, type resolution, iterator
    set-up, __array_ufunc__ override checks on every argument) costs more than fastact's
    whole fast path.  On an (8, 10) float32 array (timeit, medians of 9 interleaved runs,
    loaded machine): np.negative, a trivial ufunc, 323 ns; scipy.special.expit 599 ns;
    fa.sigmoid 165 ns.  A ufunc would double the small-call time the project optimises;
  - parameters (leaky_relu's slope, gelu's approximate=, softplus' threshold=None) are
    not ufunc inputs: they would become broadcast operands or per-parameter ufunc objects;
  - float16 computed in float32, ints converted to float64 before any arithmetic and
    NumPy-worded errors are the Python layer's rules; a ufunc's casting rules differ;
  - reductions (softmax / logsumexp along a chunked axis) are not ufuncs anyway: they need
    the per-chunk statistics of fastact/_dask.py, not Dask's generic
    __array_function__ fallback (which would materialise or be wrong across chunks).
So the functions stay plain Python functions and dispatch here explicitly.  Results
are the same as a ufunc would give: Dask -> lazy Dask array (blockwise), xarray ->
DataArray with dims/coords/attrs (xarray.apply_ufunc), masked -> mask kept (as
scipy.special's ufuncs), subclass -> __array_wrap__ (as any ufunc) unless the subclass
overrides __array_ufunc__ (then a TypeError: its meaning for fastact's function is unknown).

Masked arrays (np.ma.MaskedArray):
  element-wise: computed on the data everywhere, the mask copied (as scipy.special.expit);
  softmax / log_softmax: masked entries left out as with where=False, result masked where
    the input is; logsumexp: masked entries (and masked weights in b) left out, a slice
    with nothing left is masked in the result (as np.ma reductions; its data is -inf);
    a 0-d result is np.ma.masked or a plain scalar;
  softmax_grad / log_softmax_grad / logsumexp_grad: the gradients of those masked forwards
    (masked entries of either operand, and of b, left out as with where=False; the result
    masked there).
"""
import sys

import numpy as np

_SIMPLE = frozenset((list, tuple, int, float, bool, complex, np.ndarray))


def kind(x):
    """'dask', 'xarray', 'masked', 'subclass' or None (handled by the NumPy path)."""
    t = type(x)
    if t in _SIMPLE or x is None:
        return None
    mods = sys.modules
    dam = mods.get("dask.array")
    if dam is not None and isinstance(x, dam.Array):
        return "dask"
    xr = mods.get("xarray")
    if xr is not None and isinstance(x, (xr.DataArray, xr.Dataset)):
        return "xarray"
    ma = mods.get("numpy.ma")
    if ma is not None and isinstance(x, ma.MaskedArray):
        return "masked"
    if isinstance(x, np.ndarray):
        return "subclass"
    return None


def _check_subclass(x, name):
    if type(x).__array_ufunc__ is not np.ndarray.__array_ufunc__:
        raise TypeError(
            f"fastact.{name} does not support {type(x).__module__}.{type(x).__qualname__}: this "
            f"ndarray subclass defines its own __array_ufunc__, so what fastact.{name} means for "
            f"it is unknown; pass np.asarray(x) to compute on its plain values")


def unary(apply_unary, op, x, out, a, b, name):
    """Element-wise call on a non-ndarray x (from fastact/_elementwise.py's apply_unary)."""
    k = kind(x)
    if k is None:
        return NotImplemented
    if k == "dask":
        from . import _dask
        return _dask.unary(apply_unary, op, x, out, a, b, name)
    if k == "xarray":
        from . import _xarray
        return _xarray.unary(apply_unary, op, x, out, a, b, name)
    if k == "masked":
        ma = sys.modules["numpy.ma"]
        data = np.asarray(x.data)
        mask = ma.getmask(x)
        if out is not None:
            target = out.data if isinstance(out, ma.MaskedArray) else out
            apply_unary(op, data, target, a, b, name)
            if isinstance(out, ma.MaskedArray):
                out.mask = mask if mask is ma.nomask else mask.copy()
            return out
        y = np.asarray(apply_unary(op, data, None, a, b, name))
        return ma.MaskedArray(y, mask=mask if mask is ma.nomask else mask.copy())
    _check_subclass(x, name)                               # other ndarray subclasses
    y = apply_unary(op, x.view(np.ndarray), out, a, b, name)
    if out is not None or not isinstance(y, np.ndarray):
        return y
    return x.__array_wrap__(y, None, False)


def binary(apply_binary, op, x, g, out, a, b, name):
    """Two-operand element-wise call (the gradients: x, grad_output) where an operand is not a
    plain ndarray (from fastact/_elementwise.py's apply_binary); the same rules as unary:
    Dask -> blockwise over both operands, xarray -> apply_ufunc (aligned by dims), masked ->
    the union of the masks kept, other subclasses -> __array_wrap__ of x's type."""
    kinds = (kind(x), kind(g))
    if kinds == (None, None):
        return NotImplemented
    if "xarray" in kinds:
        from . import _xarray
        return _xarray.binary(apply_binary, op, x, g, out, a, b, name)
    if "dask" in kinds:
        from . import _dask
        return _dask.binary(apply_binary, op, x, g, out, a, b, name)
    if "masked" in kinds:
        ma = sys.modules["numpy.ma"]
        mask = ma.mask_or(ma.getmask(x), ma.getmask(g))
        xd, gd = ma.getdata(x), (None if g is None else ma.getdata(g))
        if out is not None:
            target = out.data if isinstance(out, ma.MaskedArray) else out
            apply_binary(op, xd, gd, target, a, b, name)
            if isinstance(out, ma.MaskedArray):
                out.mask = mask if mask is ma.nomask else np.broadcast_to(mask, out.shape).copy()
            return out
        y = np.asarray(apply_binary(op, xd, gd, None, a, b, name))
        return ma.MaskedArray(y, mask=mask if mask is ma.nomask else np.broadcast_to(mask, y.shape).copy())
    for v in (x, g):
        if isinstance(v, np.ndarray) and type(v) is not np.ndarray:
            _check_subclass(v, name)
    wrap = x if kinds[0] == "subclass" else g
    y = apply_binary(op, np.asarray(x), None if g is None else np.asarray(g), out, a, b, name)
    if out is not None or not isinstance(y, np.ndarray):
        return y
    return wrap.__array_wrap__(y, None, False)


def _dask_in(*args):
    return any(kind(v) == "dask" for v in args)


def _masked_in(*args):
    return any(kind(v) == "masked" for v in args)


def _xarray_in(*args):
    return any(kind(v) == "xarray" for v in args)


def _masked_result(r, out, mask):
    """A masked gradient's result: out (its mask set, when it is masked) or a MaskedArray."""
    ma = sys.modules["numpy.ma"]
    if out is not None:
        if isinstance(out, ma.MaskedArray):
            out.mask = mask.copy()
        return out
    return ma.MaskedArray(np.asarray(r), mask=mask.copy())


def _kept(mask, where, shape):
    """The entries a masked gradient keeps: not masked, and where= (if given) true."""
    return ~mask if where is None else ~mask & np.broadcast_to(np.asarray(where, dtype=bool), shape)


def _out_data(out):
    ma = sys.modules["numpy.ma"]
    return out.data if isinstance(out, ma.MaskedArray) else out


def rowwise_grad(fn, name, y, g, axis, out, where):
    """softmax_grad / log_softmax_grad with an xarray operand (by dimension name), a Dask one (lazy) or a masked one (the gradient of
    the masked forward: entries masked in y or in grad_output are left out as with where=False,
    the result masked where either is); NotImplemented otherwise."""
    if kind(y) == "xarray" or kind(g) == "xarray":
        from . import _xarray
        return _xarray.rowwise_grad(fn, name, y, g, axis, out, where)
    if _dask_in(y, g, where):
        from . import _dask
        return _dask.rowwise_grad(fn, name, y, g, axis, out, where)
    if _masked_in(y, g):
        ma = sys.modules["numpy.ma"]
        shape = np.broadcast_shapes(np.shape(y), np.shape(g))
        mask = np.broadcast_to(ma.getmaskarray(y), shape) | np.broadcast_to(ma.getmaskarray(g), shape)
        kept = _kept(mask, where, shape)
        r = fn(np.asarray(ma.getdata(y)), np.asarray(ma.getdata(g)), axis=axis, out=_out_data(out), where=kept)
        return _masked_result(r, out, mask)
    return NotImplemented


def logsumexp_grad(fn, a, grad_output, axis, b, where, out):
    """logsumexp_grad of a DataArray (by dimension name), with a Dask operand (lazy) or a masked one (the gradient of the masked
    logsumexp: entries masked in a or b are left out as with where=False; the result is masked
    there, and over a slice whose grad_output is masked); NotImplemented otherwise."""
    if kind(a) == "xarray":
        from . import _xarray
        return _xarray.logsumexp_grad(fn, a, grad_output, axis, b, where, out)
    if _dask_in(a, grad_output, b, where):
        from . import _dask
        return _dask.logsumexp_grad(fn, a, grad_output, axis, b, where, out)
    if _masked_in(a, b, grad_output):
        ma = sys.modules["numpy.ma"]
        from ._reductions import _axes, _lse_grad_output
        shape = np.shape(a) if b is None else np.broadcast_shapes(np.shape(a), np.shape(b))
        mask = np.broadcast_to(ma.getmaskarray(a), shape)
        if b is not None:
            mask = mask | np.broadcast_to(ma.getmaskarray(b), shape)
        kept = _kept(mask, where, shape)
        g = None if grad_output is None else np.asarray(ma.getdata(grad_output))
        r = fn(np.asarray(ma.getdata(a)), g, axis=axis, b=None if b is None else np.asarray(ma.getdata(b)),
               where=kept, out=_out_data(out))
        if isinstance(grad_output, ma.MaskedArray) and grad_output.mask is not ma.nomask and len(shape):
            gmask, _ = _lse_grad_output(ma.getmaskarray(grad_output), shape, _axes(axis, len(shape)))
            mask = mask | np.broadcast_to(gmask, shape)
        elif isinstance(grad_output, ma.MaskedArray):
            mask = mask | np.broadcast_to(ma.getmaskarray(grad_output), shape)
        return _masked_result(r, out, mask)
    return NotImplemented


def _dim_without_xarray(name):
    """dim= names xarray dimensions; on anything else it is a TypeError (without importing
    xarray, which need not be installed)."""
    raise TypeError(f"fastact.{name}: dim= is for xarray objects; give axis= for arrays")


def rowwise(fn, name, x, axis, out, where, dim=None):
    """softmax / log_softmax on non-ndarray input (fn: the public function)."""
    kx = kind(x)
    if dim is not None and kx != "xarray":
        _dim_without_xarray(name)
    if kx == "xarray":
        from . import _xarray
        return _xarray.rowwise(fn, name, x, axis, out, where, dim)
    if kx == "dask" or _dask_in(where):
        from . import _dask
        return _dask.rowwise(fn, name, x if kx == "dask" else _as_dask(x), axis, out, where)
    if kx == "masked":
        ma = sys.modules["numpy.ma"]
        mask = ma.getmaskarray(x)
        kept = ~mask if where is None else ~mask & np.asarray(where, dtype=bool)
        target = out.data if isinstance(out, ma.MaskedArray) else out
        y = fn(np.asarray(x.data), axis=axis, out=target, where=kept)
        if out is not None:
            if isinstance(out, ma.MaskedArray):
                out.mask = mask.copy()
            return out
        return ma.MaskedArray(np.asarray(y), mask=mask.copy())
    if kx == "subclass":
        _check_subclass(x, name)
        return fn(x.view(np.ndarray), axis=axis, out=out, where=where)   # plain result, as scipy.special
    return NotImplemented


def logsumexp(fn, a, axis, b, keepdims, return_sign, out, where, dim=None):
    """logsumexp on non-ndarray input (fn: the public function)."""
    ka = kind(a)
    if dim is not None and ka != "xarray":
        _dim_without_xarray("logsumexp")
    if ka == "xarray":
        from . import _xarray
        return _xarray.logsumexp(fn, a, axis, b, keepdims, return_sign, out, where, dim)
    if ka == "dask" or _dask_in(b, where):
        from . import _dask
        return _dask.logsumexp(fn, a, axis, b, keepdims, return_sign, out, where)
    kb = kind(b)
    if ka == "masked" or kb == "masked":
        return _masked_logsumexp(fn, a, axis, b, keepdims, return_sign, out, where)
    if ka == "subclass" or kb == "subclass":
        for v in (a, b):
            if kind(v) == "subclass":
                _check_subclass(v, "logsumexp")
        b = None if b is None else np.asarray(b)
        return fn(np.asarray(a), axis=axis, b=b, keepdims=keepdims, return_sign=return_sign,
                  out=out, where=where)
    return NotImplemented


def _as_dask(x):
    import dask.array as da
    return da.asarray(np.asarray(x))


def _masked_logsumexp(fn, a, axis, b, keepdims, return_sign, out, where):
    ma = sys.modules["numpy.ma"]
    a_data = np.asarray(a.data if isinstance(a, ma.MaskedArray) else a)
    shape = a_data.shape if b is None else np.broadcast_shapes(a_data.shape, np.shape(b))
    kept = ~np.broadcast_to(ma.getmaskarray(a), shape) if isinstance(a, ma.MaskedArray) else \
        np.ones(shape, dtype=bool)
    if isinstance(b, ma.MaskedArray):              # a masked weight leaves its entry out
        kept = kept & ~np.broadcast_to(ma.getmaskarray(b), shape)
        b = np.asarray(b.data)
    if where is not None:
        kept = kept & np.broadcast_to(np.asarray(where, dtype=bool), shape)
    r = fn(a_data, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign, out=out, where=kept)
    if out is not None:
        return r
    empty = ~np.any(kept, axis=axis, keepdims=keepdims)

    def masked(v):
        if np.ndim(v) == 0:
            return ma.masked if bool(empty) else v
        return ma.MaskedArray(v, mask=empty)
    if return_sign:
        return masked(r[0]), masked(r[1])
    return masked(r)
