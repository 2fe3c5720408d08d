"""binary_cross_entropy_with_logits, its gradient and one_hot: NumPy's argument handling around
the C kernels of src_c/losses/ (docs/SPEC.md sections 1 and 9; registry: BCE_LOSSES, ENCODINGS).

Every check (reduction, dtypes, shapes, labels) runs before a kernel writes anything.  The
operands are laid out here as flat C-contiguous buffers of the compute dtype; the loss, its
reduction and the encoding are computed in C (fastact/_bce_core.pxi calls them).
"""
import math
import operator

import numpy as np

from . import _core, _interop
from ._args import F32, F64, compute_dtypes, index_array, axis_index
from ._registry import BCE_LOSSES, ENCODINGS

__all__ = ["binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_grad", "one_hot"]

_BCE = BCE_LOSSES[0]
_ONE_HOT = ENCODINGS[0]
_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}     # FA_REDUCTION_* of src_c/fastact_kinds.h (torch's)


def _reduction(reduction):
    code = _REDUCTIONS.get(reduction) if isinstance(reduction, str) else None
    if code is None:
        raise ValueError(f"reduction must be one of {tuple(_REDUCTIONS)!r}, got {reduction!r}")
    return code


def _c_array(a, dtype):
    """a as a C-contiguous, aligned array of dtype for a kernel (a copy only where needed:
    an unaligned buffer, e.g. one a Dask worker received over the network, is copied)."""
    return np.require(a, dtype=dtype, requirements=["C", "A"])


def _array(v, name=None):
    """v as an ndarray, and what NumPy's type promotion should see of it (a Python scalar
    stays a scalar: it does not widen a float32 array, NEP 50).  name: the function, for the
    TypeError of a masked operand (_no_masked)."""
    if type(v) is np.ndarray:
        return v, v
    _no_masked(v, name)
    a = np.asarray(v)
    return a, (v if type(v) in (int, float, bool) else a)


def _no_masked(v, name):
    """The losses and one_hot have no masked semantics (which entry, target or row a mask would
    leave out, and what a 'mean' would then divide by): a masked operand is a TypeError that says
    so rather than its data taken with the mask dropped (SPEC section 8)."""
    if _interop.kind(v) == "masked":
        raise TypeError(f"fastact.{name} does not take masked arrays (the mask would be ignored): leave "
                        f"entries out with ignore_index or a zero weight, or pass np.ma.getdata(v) or "
                        f"v.filled(value)")


class _Operands:
    """x, y, weight, pos_weight (and a gradient's grad_output) checked against x's shape and
    laid out flat in the compute dtype: x, y, w (x's size or None), pw (n or None)."""

    def __init__(self, name, x, y, weight, pos_weight, grad_output=None, grad_full=False):
        x, xp = _array(x, name)
        y, yp = _array(y, name)
        promote = [xp, yp]
        if y.shape != x.shape:
            raise ValueError(f"{name}: target shape {y.shape} must be the same as the input shape {x.shape}")
        self.shape = shape = x.shape
        self.n = n = shape[-1] if shape else 1
        self.rows = math.prod(shape[:-1]) if shape else 1
        self.total = self.rows * n
        if weight is not None:
            weight, wp = _array(weight, name)
            promote.append(wp)
            if not _broadcasts_to(weight.shape, shape):
                raise ValueError(f"{name}: weight of shape {weight.shape} does not broadcast to the input "
                                 f"shape {shape}")
        if pos_weight is not None:
            pos_weight, pp = _array(pos_weight, name)
            promote.append(pp)
            core = pos_weight.shape[len(pos_weight.shape) - 1:] if pos_weight.ndim else ()
            if (pos_weight.ndim > max(len(shape), 1) or any(d != 1 for d in pos_weight.shape[:-1])
                    or core not in ((), (1,), (n,))):
                raise ValueError(f"{name}: pos_weight of shape {pos_weight.shape} must be a scalar or one value "
                                 f"per class along the input's last axis, shape ({n},) for the input shape {shape}")
        if grad_output is not None:
            grad_output, gp = _array(grad_output, name)
            if grad_full:           # an array of gradients takes part in the dtype; a scalar one does not
                promote.append(gp)
            if grad_full and not _broadcasts_to(grad_output.shape, shape):
                raise ValueError(f"{name}: grad_output of shape {grad_output.shape} does not broadcast to the "
                                 f"input shape {shape}")
        self.compute, self.result = compute_dtypes(np.result_type(*promote), name)
        self.x = self._flat(x)
        self.y = self._flat(y)
        self.w = None if weight is None else self._flat(weight)
        self.pw = None if pos_weight is None else _c_array(
            np.broadcast_to(pos_weight.reshape(pos_weight.shape[-1:] or (1,)), (n,)), self.compute)
        self.grad_output = grad_output

    def _flat(self, a):
        """a broadcast to x's shape, C-contiguous in the compute dtype, flat (a view when it is already)."""
        if a.shape != self.shape:
            a = np.broadcast_to(a, self.shape)
        return _c_array(a, self.compute).reshape(-1)

    def finish(self, flat, shaped):
        """A result buffer in the result dtype: x's shape, or a NumPy scalar."""
        y = flat.reshape(self.shape) if shaped else flat[0]
        if self.result != self.compute:
            with np.errstate(over="ignore"):          # float16 overflow rounds to inf, as it should
                y = y.astype(self.result) if shaped else self.result.type(y)
        if shaped and y.ndim == 0:
            return y[()]
        return y


def _broadcasts_to(shape, target):
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def binary_cross_entropy_with_logits(x, y, weight=None, pos_weight=None, reduction="mean"):
    """Binary cross-entropy of logits x against targets y (soft targets in [0, 1] allowed):

        loss = weight * ((1 - y) x + (1 + (pos_weight - 1) y) softplus(-x))

    per entry, computed in C in a form where no term cancels (within 4 ULP per entry for y in
    [0, 1]); exact at x = +-inf (the limit: 0 or inf, never NaN), fine for logits of 1e30.
    y has x's shape; weight broadcasts to x's shape (a weight of 0 gives 0 even where the loss
    is inf); pos_weight is a scalar or one value per class along the last axis (torch's
    (C,)).  reduction 'none' returns x's shape, 'sum' and 'mean' (sum / x.size, NaN for empty x)
    a NumPy scalar, summed in C in double-double.  dtype: NumPy's promotion of the operands;
    float16 is computed in float32, integers and bools in float64.
    """
    code = _reduction(reduction)
    if weight is None and pos_weight is None:
        r = _core.bce_fast(x, y, code, False)
        if r is not None:
            return r
    if _interop._xarray_in(x, y):                                  # by dimension name
        from . import _xarray
        return _xarray.bce(binary_cross_entropy_with_logits, _BCE.name, x, y,
                           dict(pos_weight=_xarray._plain(pos_weight), reduction=reduction), weight=weight)
    if _interop._dask_in(x, y, weight):                 # lazy, one kernel call per block
        from . import _dask_losses
        return _dask_losses.bce(binary_cross_entropy_with_logits, _BCE.name, x, y, weight, pos_weight, code)
    op = _Operands(_BCE.name, x, y, weight, pos_weight)
    out = np.empty(op.total if code == 0 else 1, dtype=op.compute)
    _core.bce_with_logits(op.x, op.y, op.w, op.pw, out, op.rows, op.n, code)
    return op.finish(out, code == 0)


def binary_cross_entropy_with_logits_grad(x, y, grad_output=None, weight=None, pos_weight=None, reduction="mean"):
    """d(binary_cross_entropy_with_logits(x, y, weight, pos_weight, reduction))/dx times
    grad_output, of x's shape:

        weight * (c sigmoid(x) - pos_weight y) * grad_output [/ x.size for 'mean'],  c = 1 + (pos_weight - 1) y

    in C, one pass (sigmoid(x) - y without pos_weight; the limits 1 - y at x = +inf and
    -pos_weight y at -inf).  grad_output: for 'none' an array broadcasting to x's shape, for
    'mean' and 'sum' a scalar (the loss is one); None means 1.
    """
    code = _reduction(reduction)
    name = _BCE.name + "_grad"
    if weight is None and pos_weight is None and grad_output is None:
        r = _core.bce_fast(x, y, code, True)
        if r is not None:
            return r
    if code and grad_output is not None and np.ndim(grad_output) != 0:
        raise ValueError(f"{name}: grad_output of a '{reduction}' loss is a scalar, got shape "
                         f"{np.shape(grad_output)}")
    if _interop._xarray_in(x, y):                                  # by dimension name
        from . import _xarray
        return _xarray.bce(binary_cross_entropy_with_logits_grad, name, x, y,
                           dict(pos_weight=_xarray._plain(pos_weight), reduction=reduction), grad_output, weight)
    if _interop._dask_in(x, y, weight, grad_output):
        from . import _dask_losses
        return _dask_losses.bce(binary_cross_entropy_with_logits_grad, name, x, y, weight, pos_weight, code,
                                grad=True, grad_output=grad_output)
    op = _Operands(name, x, y, weight, pos_weight, grad_output, grad_full=code == 0)
    g, scale = None, 1.0
    if op.grad_output is not None:
        if code:
            scale = float(op.grad_output)
        else:
            g = op._flat(op.grad_output)
    if code == 1 and op.total:
        scale /= op.total
    out = np.empty(op.total, dtype=op.compute)
    _core.bce_with_logits_grad(op.x, op.y, op.w, op.pw, g, out, op.rows, op.n, scale)
    return op.finish(out, True)


def one_hot(labels, num_classes=None, dtype=np.float64, axis=-1, dim: str = "class"):
    """One-hot encoding of integer labels: a new axis of num_classes entries (at `axis` of the
    result, the last by default) holding 1 at the label and 0 elsewhere; torch's
    F.one_hot(labels, num_classes) is one_hot(labels, num_classes, dtype=np.int64).

    num_classes None (or -1, as torch) is labels.max() + 1 (a ValueError for empty labels).  A
    label outside [0, num_classes) is an IndexError naming the first such value and its
    position, raised before anything is written.  dtype: float32 and float64 are written by the
    C kernel; float16 and the other numeric dtypes (bool, integers, complex) are written as
    float32 by it and converted.

    xarray labels give a DataArray (a Dataset: each variable) with the labels' dims, coords
    and attrs and the new dimension `dim` (no coordinate) at `axis`; `dim` is unused for
    other input.  Dask labels (or a Dask-backed DataArray) give a lazy result: num_classes
    is then required (the result's shape must be known without computing the labels), and
    a label out of range raises when the graph is computed.
    """
    name = _ONE_HOT.name
    r = _core.one_hot_fast(labels, num_classes, dtype, axis)
    if r is not None:
        return r
    if type(labels) is not np.ndarray:
        if _interop._xarray_in(labels):
            from . import _xarray
            return _xarray.one_hot(one_hot, labels, num_classes, dtype, axis, dim)
        if _interop._dask_in(labels):
            from . import _dask_losses
            return _dask_losses.one_hot(one_hot, name, labels, num_classes, dtype, axis)
    _no_masked(labels, name)
    labels = index_array(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"fastact.{name}() labels must be of an integer dtype, not {labels.dtype!r}")
    dtype = np.dtype(dtype)
    if dtype.kind not in "biufc":
        raise TypeError(f"fastact.{name}() cannot return dtype {dtype!r} (supported: numeric dtypes)")
    if num_classes is None or (not isinstance(num_classes, (bool, np.bool_)) and operator.index(num_classes) == -1):
        if labels.size == 0:
            raise ValueError(f"{name}: cannot infer the number of classes from empty labels; give num_classes")
        # every label negative: 0 classes, and the kernel names the first label (it was NumPy's
        # "negative dimensions are not allowed" from the allocation)
        num_classes = max(int(labels.max()) + 1, 0)
    else:
        if isinstance(num_classes, (bool, np.bool_)):
            raise TypeError(f"fastact.{name}() num_classes must be an integer, not 'bool'")
        num_classes = operator.index(num_classes)
        if num_classes < 0:
            raise ValueError(f"{name}: num_classes must be None, -1 or >= 0, got {num_classes}")
    axis = axis_index(axis, labels.ndim + 1)
    shape = labels.shape[:axis] + (num_classes,) + labels.shape[axis:]
    outer = math.prod(labels.shape[:axis])
    inner = math.prod(labels.shape[axis:])
    compute = dtype if dtype in (F32, F64) else F32
    if dtype.byteorder not in "=|" and dtype.newbyteorder("=") in (F32, F64):
        compute = dtype.newbyteorder("=")
    flat = _c_array(labels, np.int64).reshape(-1)
    out = np.empty(outer * num_classes * inner, dtype=compute)
    bad = _core.one_hot(flat, out, outer, inner, num_classes)
    if bad >= 0:
        where = tuple(int(i) for i in np.unravel_index(bad, labels.shape)) if labels.ndim else ()
        value = labels.reshape(-1)[bad]
        raise IndexError(f"{name}: label {value} at position {where} is out of range for "
                         f"num_classes={num_classes} (labels must be in [0, {num_classes}))")
    out = out.reshape(shape)
    return out if out.dtype == dtype else out.astype(dtype)


for _f in (binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_grad, one_hot):
    _f.__module__ = "fastact"
