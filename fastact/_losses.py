"""cross_entropy, cross_entropy_grad and nll_loss: NumPy's argument handling around the C
kernels of src_c/losses/fa_cross_entropy.h (docs/SPEC.md sections 1 and 9; registry: LOSSES).

Every check (reduction, label_smoothing, dtypes, shapes, class targets) runs before a kernel
writes anything.  The class axis is moved last and the logits laid out C-contiguous in the
compute dtype; the per-row losses and the gradient rows are computed in C (fastact/_ce_core.pxi
calls them); the reductions here add the per-row values in float64.  Dask operands: the same
functions per block of rows, lazily (fastact/_dask_losses.py).
"""
import math
import operator

import numpy as np

from . import _core, _interop
from ._args import compute_dtypes, index_array, axis_index, real_param
from ._bce import _array, _c_array, _no_masked, _reduction
from ._registry import LOSS_BY_NAME

__all__ = ["cross_entropy", "cross_entropy_grad", "nll_loss"]

_CE = LOSS_BY_NAME["cross_entropy"]
_NLL = LOSS_BY_NAME["nll_loss"]


def mean_of(s, d):
    """'mean' of a loss total s over its denominator d (the kept targets' weights): 0.0 when
    nothing counts (d == 0, as the gradient's factor), NaN there if s is NaN or infinite."""
    return s / d if d != 0 else (0.0 if s - s == 0 else float("nan"))


class _Rows:
    """The operands of a row-wise loss checked and laid out: x (rows*n, the class axis last),
    the class targets t (rows, int64) or probability targets p (rows*n), the class weights w (n)."""

    def __init__(self, name, x, target, axis, weight, ignore_index, label_smoothing, probs_ok=True):
        x, xp = _array(x, name)
        if x.ndim == 0:
            raise ValueError(f"{name}: the input needs a class axis, got a 0-d array")
        self.axis = axis = axis_index(axis, x.ndim)
        if isinstance(ignore_index, (bool, np.bool_)):      # as one_hot's num_classes
            raise TypeError(f"fastact.{name}() ignore_index must be an integer, not 'bool'")
        self.ignore_index = operator.index(ignore_index)
        if not -2 ** 63 <= self.ignore_index < 2 ** 63:       # the kernels compare int64 targets
            raise OverflowError(f"{name}: ignore_index={self.ignore_index} does not fit in int64")
        smoothing = real_param(label_smoothing, "label_smoothing", name)     # a string: TypeError
        if not 0.0 <= smoothing <= 1.0:
            raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.smoothing = smoothing
        _no_masked(target, name)
        target = np.asarray(target) if x.shape == (0,) else index_array(target)
        promote = [xp]
        self.shape = x.shape
        self.rshape = x.shape[:axis] + x.shape[axis + 1:]            # one loss per position
        self.n = n = x.shape[axis]
        self.rows = math.prod(self.rshape)
        self.prob = target.dtype.kind == "f"
        if self.prob:
            if not probs_ok:
                raise TypeError(f"fastact.{name}() target must be of an integer dtype (class indices), "
                                f"not {target.dtype!r}")
            if target.shape != x.shape:
                raise ValueError(f"{name}: probability target of shape {target.shape} must have the input's "
                                 f"shape {x.shape} (class targets: an integer array of shape {self.rshape})")
            promote.append(target)
        elif target.dtype.kind in "iu":
            if target.shape != self.rshape:
                raise ValueError(f"{name}: class target of shape {target.shape} must have the input's shape "
                                 f"without the class axis {axis}, {self.rshape} (input shape {x.shape})")
        else:
            raise TypeError(f"fastact.{name}() target must be class indices (an integer dtype) or "
                            f"probabilities (a float dtype), not {target.dtype!r}")
        if weight is not None:
            weight, wp = _array(weight, name)
            if weight.shape != (n,):
                raise ValueError(f"{name}: weight of shape {weight.shape} must hold one value per class, "
                                 f"shape ({n},)")
            promote.append(wp)
        if x.dtype.kind not in "fiub":      # integer and bool logits: float64 (SPEC section 2)
            raise TypeError(f"fastact.{name}() input must be of a real dtype, not {x.dtype}")
        self.compute, self.result = compute_dtypes(np.result_type(*promote), name)
        self.x = self._last(x)
        self.p = self._last(target) if self.prob else None
        self.target = target
        if not self.prob and target.dtype.kind == "u" and target.dtype.itemsize >= 8:
            # uint64 targets beyond int64 would wrap on the conversion below (2**64 - 100 -> -100,
            # the default ignore_index): name the first such target instead
            big = np.flatnonzero(target.reshape(-1) > np.iinfo(np.int64).max)
            if big.size:
                self._out_of_range(name, int(big[0]))
        self.t = None if self.prob else _c_array(target, np.int64).reshape(-1)
        self.w = None if weight is None else _c_array(weight, self.compute)
        self.weight = self.w

    def _last(self, a):
        """a with the class axis last, C-contiguous in the compute dtype, flat."""
        if self.axis != a.ndim - 1:
            a = np.moveaxis(a, self.axis, -1)
        return _c_array(a, self.compute).reshape(-1)

    def run(self, name, loss, grad=None, g=None, scale=1.0, nll=False):
        bad = _core.cross_entropy_rows(self.x, self.t, self.p, self.w, g, loss, grad, self.rows, self.n,
                                       self.ignore_index, self.smoothing, scale, nll)
        if bad >= 0:
            self._out_of_range(name, bad)

    def _out_of_range(self, name, bad):
        """IndexError naming the class target at flat position `bad` (C order of the targets)."""
        where = tuple(int(i) for i in np.unravel_index(bad, self.rshape)) if self.rshape else ()
        value = self.target.reshape(-1)[bad]
        raise IndexError(f"{name}: target {value} at position {where} is out of range for {self.n} classes "
                         f"(targets must be in [0, {self.n}) or ignore_index={self.ignore_index})")

    def denominator(self):
        """'mean': the sum of the weights of the non-ignored class targets (rows for probabilities)."""
        if self.prob:
            return float(self.rows)
        t = self.t
        if self.w is None:                  # a target out of range makes the kernel raise
            return float(t.size - np.count_nonzero(t == self.ignore_index))
        kept = t[(t != self.ignore_index) & (t >= 0) & (t < self.n)]
        return _core.loss_total(self.w[kept])    # compensated, as the losses' total (weights may cancel)

    def reduce(self, loss, code):
        """'none': the rshape array; 'sum'; 'mean' (0.0 when nothing counts: every target ignored,
        or the kept targets' weights summing to 0, as the gradient's factor; NaN stays NaN)."""
        if code == 0:
            return self.finish(loss.reshape(self.rshape))
        s = _core.loss_total(loss)             # float64, compensated (+inf and -inf picks: NaN, no warning)
        if code == 1:
            s = mean_of(s, self.denominator())
        with np.errstate(over="ignore"):    # beyond float16's range: inf, with no warning (SPEC 4)
            return self.result.type(s)

    def finish(self, a):
        if self.result != a.dtype:
            with np.errstate(over="ignore"):
                a = a.astype(self.result)
        return a[()] if a.ndim == 0 else a

    def unlast(self, grad):
        """A gradient of the rows' layout back to the input's layout (C-contiguous)."""
        g = grad.reshape(self.rshape + (self.n,))
        if self.axis != len(self.shape) - 1:
            g = np.ascontiguousarray(np.moveaxis(g, -1, self.axis))
        return self.finish(g)


def _grad(ops, name, code, grad_output, loss=None):
    """The gradient of the reduced loss (times grad_output) into the input's layout; loss: also
    the per-row losses."""
    g, scale = None, 1.0
    if code:
        if grad_output is not None:
            if np.ndim(grad_output) != 0:
                raise ValueError(f"{name}: grad_output of a reduced loss is a scalar, got shape "
                                 f"{np.shape(grad_output)}")
            scale = float(grad_output)
    elif grad_output is not None:
        _no_masked(grad_output, name)
        go = np.asarray(grad_output)
        try:
            go = np.broadcast_to(go, ops.rshape)
        except ValueError:
            raise ValueError(f"{name}: grad_output of shape {go.shape} does not broadcast to the loss shape "
                             f"{ops.rshape}") from None
        g = _c_array(go, ops.compute).reshape(-1)
    if code == 1:
        d = ops.denominator()
        scale = scale / d if d != 0 else 0.0
    grad = np.empty(ops.rows * ops.n, dtype=ops.compute)
    ops.run(name, loss, grad, g, scale)
    return ops.unlast(grad)


def cross_entropy(logits, target, axis: int = -1, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0,
                  return_grad=False):
    """Cross-entropy of logits against class targets or probability targets, along `axis` (the
    class axis: PyTorch's (N, C, d1, ..., dK) is axis=1), torch.nn.functional.cross_entropy's
    options and values:

        class target t:  (1 - eps) w_t (lse(x) - x_t) + eps / C' sum_j w_j (lse(x) - x_j)
        probabilities p: -sum_j w_j p'_j log_softmax(x)_j,  p' = (1 - eps) p + eps / C'

    computed in C per row in one fused pass (max, sum of exps, the picked logit, the smoothing
    sum; log_softmax is never materialised), within 4 ULP of the exact row loss; logits of 1e30
    do not overflow.  C' counts the classes whose logit is not -inf: label smoothing over a
    masked vocabulary averages the unmasked classes only (torch gives inf), and a probability
    of 0 on a -inf logit contributes 0 (xlogy).  target: an integer array of logits' shape
    without `axis` (a value equal to ignore_index contributes 0 and does not count in the
    mean), or a float array of logits' shape.  weight: one value per class.
    reduction 'none' (the target's shape), 'sum', or 'mean': divided by the sum of the weights
    of the non-ignored targets (the number of rows for probability targets); every target
    ignored gives 0.0 (torch: NaN).  return_grad: also return the gradient of the (reduced)
    loss with respect to logits, computed with the loss from the same statistics pass:
    (loss, grad).  dtype: float16 is computed in float32; float64 stays float64.
    """
    code = _reduction(reduction)
    name = _CE.name
    if weight is None:
        r = _core.ce_fast(False, logits, target, axis, ignore_index, label_smoothing, code, True, return_grad)
        if r is not None:
            return r
    if _interop._xarray_in(logits):                      # by dimension name
        from . import _xarray
        kw = dict(weight=_xarray._plain(weight), ignore_index=ignore_index, reduction=reduction,
                  label_smoothing=label_smoothing, return_grad=return_grad)
        return _xarray.row_loss(cross_entropy, name, logits, target, axis, kw,
                                ("loss", "grad") if return_grad else ("loss",))
    if _interop._dask_in(logits, target, weight):        # lazy, one kernel call per block of rows
        from . import _dask_losses
        return _dask_losses.row_loss(cross_entropy, name, logits, target, axis, weight, ignore_index, code,
                                     grad_fn=cross_entropy_grad if return_grad else None,
                                     label_smoothing=label_smoothing)
    ops = _Rows(name, logits, target, axis, weight, ignore_index, label_smoothing)
    loss = np.empty(ops.rows, dtype=ops.compute)
    if return_grad:
        grad = _grad(ops, name, code, None, loss)
        return ops.reduce(loss, code), grad
    ops.run(name, loss)
    return ops.reduce(loss, code)


def cross_entropy_grad(logits, target, axis: int = -1, weight=None, ignore_index=-100, reduction="mean",
                       label_smoothing=0.0, grad_output=None):
    """d cross_entropy(logits, target, axis, weight, ignore_index, reduction, label_smoothing) / d logits
    times grad_output, of logits' shape, fused in C: per row

        s (a softmax(x) - w (1 - eps) onehot(t) - w eps / C' [x > -inf])     (class targets)

    with a = (1 - eps) w_t + eps W' / C', s = grad_output times the reduction's scale (1 /
    the mean's denominator); masked (-inf) classes and ignored rows get 0.  grad_output: a
    scalar for 'mean' and 'sum', an array broadcasting to the per-row loss shape for 'none';
    None means 1.
    """
    code = _reduction(reduction)
    name = _CE.name + "_grad"
    if weight is None and grad_output is None:
        r = _core.ce_fast(False, logits, target, axis, ignore_index, label_smoothing, code, False, True)
        if r is not None:
            return r
    if _interop._xarray_in(logits):                      # by dimension name
        from . import _xarray
        kw = dict(weight=_xarray._plain(weight), ignore_index=ignore_index, reduction=reduction,
                  label_smoothing=label_smoothing)
        return _xarray.row_loss(cross_entropy_grad, name, logits, target, axis, kw, ("grad",), grad_output)
    if _interop._dask_in(logits, target, weight, grad_output):
        from . import _dask_losses
        return _dask_losses.row_loss(cross_entropy, name, logits, target, axis, weight, ignore_index, code,
                                     grad_fn=cross_entropy_grad, grad_output=grad_output, with_loss=False,
                                     label_smoothing=label_smoothing)
    ops = _Rows(name, logits, target, axis, weight, ignore_index, label_smoothing)
    return _grad(ops, name, code, grad_output)


def nll_loss(log_probs, target, axis: int = -1, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of log-probabilities (e.g. log_softmax output) along `axis`:
    -weight[t] log_probs[t] per position, torch.nn.functional.nll_loss's options and values
    (a target equal to ignore_index contributes 0; 'mean' divides by the sum of the weights of
    the non-ignored targets, 0.0 when every target is ignored; a zero weight contributes 0).
    """
    code = _reduction(reduction)
    name = _NLL.name
    if weight is None:
        r = _core.ce_fast(True, log_probs, target, axis, ignore_index, 0.0, code, True, False)
        if r is not None:
            return r
    if _interop._xarray_in(log_probs):                   # by dimension name
        from . import _xarray
        kw = dict(weight=_xarray._plain(weight), ignore_index=ignore_index, reduction=reduction)
        return _xarray.row_loss(nll_loss, name, log_probs, target, axis, kw, ("loss",))
    if _interop._dask_in(log_probs, target, weight):
        from . import _dask_losses
        return _dask_losses.row_loss(nll_loss, name, log_probs, target, axis, weight, ignore_index, code)
    ops = _Rows(name, log_probs, target, axis, weight, ignore_index, 0.0, probs_ok=False)
    loss = np.empty(ops.rows, dtype=ops.compute)
    ops.run(name, loss, nll=True)
    return ops.reduce(loss, code)


for _f in (cross_entropy, cross_entropy_grad, nll_loss):
    _f.__module__ = "fastact"
