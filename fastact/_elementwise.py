"""The argument handling behind the element-wise functions.

The public functions themselves are plain defs in fastact/_generated.py, written by
tools/gen_wrappers.py from fastact/_registry.py; each tries the Cython fast path and
otherwise runs `apply_unary` (one input) or `apply_binary` (x and a second operand, the
gradients), the one place where an element-wise call turns its arguments into
contiguous buffers for the Cython layer (fastact/_core.pyx).
"""
import numpy as np

from . import _core, _interop, kernels
from ._args import _FAST_DTYPES, check_out, compute_dtypes, contiguous, flat_pair
from ._registry import ACTIVATIONS

OP_INDEX = {name: i for i, name in enumerate(kernels.UNARY_OPS)}
BINARY_OP_INDEX = {name: i for i, name in enumerate(kernels.BINARY_OPS)}
_in_place_or_apart = _core.in_place_or_apart


def apply_unary(op, x, out, a, b, name):
    """y = kernel[op](x; a, b) with NumPy's conventions (see fastact/_args.py)."""
    if type(x) is not np.ndarray:
        y = _interop.unary(apply_unary, op, x, out, a, b, name)   # Dask, xarray, np.ma, subclasses
        if y is not NotImplemented:
            return y
        x = np.asarray(x)
    compute, result = _FAST_DTYPES.get(x.dtype) or compute_dtypes(x.dtype, name)
    run = _core.unary
    if out is None:
        xc = contiguous(x, compute)
        y = np.empty_like(xc)
        if xc.ndim == 1:
            run(op, xc, y, a, b)
        else:
            run(op, *flat_pair(xc, y), a, b)
        if result is not compute:
            with np.errstate(over="ignore"):     # float16 overflow rounds to inf, as it should
                y = y.astype(result)
        return y if y.ndim else y[()]
    out = check_out(out, x.shape, result, name)
    xc = contiguous(x, compute)
    if out.dtype == compute:
        pair = flat_pair(xc, out)
        if pair is not None and _in_place_or_apart(xc, out):
            run(op, *pair, a, b)
            return out
    y = np.empty_like(xc)           # out is strided, another dtype, or overlaps x partly
    run(op, *flat_pair(xc, y), a, b)
    with np.errstate(over="ignore"):             # a narrower out rounds to inf, with no warning
        np.copyto(out, y, casting="same_kind")
    return out


def _as_operand(v):
    """An operand as an array, and what NumPy's type promotion should see of it (a Python
    scalar stays a scalar: it does not widen a float32 array, NEP 50)."""
    if type(v) is np.ndarray:
        return v, v
    a = np.asarray(v)
    return a, (v if type(v) in (int, float, bool) else a)


def apply_binary(op, x, g, out, a, b, name):
    """y = kernel[op](x, g; a, b) with NumPy's conventions: x and g broadcast together,
    g None stands for ones; the dtype rules of fastact/_args.py applied to NumPy's result
    type of the two; `out` as for apply_unary (written directly when it is in place on x
    or g, or apart from both; errors raised before anything is written)."""
    if type(x) is not np.ndarray or (g is not None and type(g) is not np.ndarray):
        y = _interop.binary(apply_binary, op, x, g, out, a, b, name)   # Dask, xarray, np.ma, subclasses
        if y is not NotImplemented:
            return y
    x, xp = _as_operand(x)
    if g is None:
        shape, dtype = x.shape, x.dtype
    else:
        g, gp = _as_operand(g)
        shape = np.broadcast_shapes(x.shape, g.shape)
        dtype = np.result_type(xp, gp)
    compute, result = _FAST_DTYPES.get(dtype) or compute_dtypes(dtype, name)
    if out is not None:
        out = check_out(out, shape, result, name)
    xc = contiguous(np.broadcast_to(x, shape) if x.shape != shape else x, compute)
    gc = None
    if g is not None:
        gc = contiguous(np.broadcast_to(g, shape) if g.shape != shape else g, compute)
        if flat_pair(xc, gc) is None:            # one C- and one F-ordered: same element order
            xc, gc = np.ascontiguousarray(xc), np.ascontiguousarray(gc)
    run = _core.binary
    if out is not None and out.dtype == compute:
        pair = flat_pair(xc, out)
        if (pair is not None and _in_place_or_apart(xc, out)
                and (gc is None or (flat_pair(gc, out) is not None and _in_place_or_apart(gc, out)))):
            run(op, pair[0], None if gc is None else flat_pair(gc, out)[0], pair[1], a, b)
            return out
    y = np.empty_like(xc)           # no out, or out strided, of another dtype, or overlapping partly
    xf, yf = flat_pair(xc, y)
    run(op, xf, None if gc is None else flat_pair(xc, gc)[1], yf, a, b)
    if out is None:
        if result is not compute:
            with np.errstate(over="ignore"):
                y = y.astype(result)
        return y if y.ndim else y[()]
    with np.errstate(over="ignore"):
        np.copyto(out, y, casting="same_kind")
    return out


_PARAM_CHECKS = {e.name: e.check for e in ACTIVATIONS if e.check}


def _check_params(name, values):
    """Domain errors for parameters, raised before any work (ValueError, torch's rules: the
    registry's Activation.check of the public function `name`)."""
    check = _PARAM_CHECKS.get(name)
    message = check(*values) if check else None
    if message:
        raise ValueError(message)
