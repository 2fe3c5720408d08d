"""The losses on Dask arrays (imported only when an operand is a dask array): lazy results,
each block computed by the in-memory function (the C kernels) on the worker.

- cross_entropy / nll_loss / cross_entropy_grad: the class axis is one chunk (rechunked to one
  if it is split: a row's loss needs the whole row; the rows stay chunked as given), then one
  kernel call per block of rows.  'sum' and 'mean' add the blocks' float64 sums; 'mean'
  divides by the sum of the kept targets' weights, summed the same way (0.0 when every target
  is ignored, as in memory).  The gradient of a reduced loss: each block's 'sum' gradient with
  the whole scale (grad_output, / that denominator for 'mean') passed to its kernel, so the
  bits are the in-memory ones.
- binary_cross_entropy_with_logits (+ _grad): element-wise, one call per block of x, y and
  weight (broadcast to x's chunks); a pos_weight vector (one value per column) is passed whole,
  the last axis then taken in one chunk.
Bad targets raise when the graph is computed (the IndexError then names the position inside
its block).  Results equal the in-memory ones up to the order of the float64 block sums.
"""
import sys

import numpy as np

from ._args import compute_dtypes, axis_index


def _da():
    return sys.modules["dask.array"]


def _is_dask(v):
    return isinstance(v, _da().Array)


def _as_dask(v, chunks=None):
    da = _da()
    v = v if _is_dask(v) else da.from_array(np.asarray(v), chunks=chunks or -1)
    if chunks is not None and v.chunks != chunks:
        v = v.rechunk(chunks)
    return v


def _in_chunks(v, shape, chunks):
    """v (array-like or dask array) broadcast to `shape`, in `chunks`."""
    if not _is_dask(v):
        return _as_dask(np.broadcast_to(v, shape), chunks)
    if v.shape != shape:
        v = _da().broadcast_to(v, shape)
    return v if v.chunks == chunks else v.rechunk(chunks)


def _small(v):
    """A per-class or per-column vector as a NumPy array (computed if lazy: it is small)."""
    return None if v is None else np.asarray(v.compute() if _is_dask(v) else v)


def _safe_mean(s, d):
    from ._losses import mean_of
    return np.float64(mean_of(float(s), float(d)))


def _item(block):
    """a 0-d block as a NumPy scalar, which compute() then returns (as the eager call and Dask's
    own sum() do; it returned a 0-d ndarray)"""
    return block[()]


def _scalar_map(fn, dtype, *scalars):
    """fn applied to lazy 0-d arrays, lazily (one small task)."""
    da = _da()
    parts = [v.reshape((1,)) for v in scalars]
    return da.map_blocks(lambda *b: np.array([fn(*(p[0] for p in b))], dtype=dtype), *parts,
                         dtype=dtype).reshape(()).map_blocks(_item, dtype=dtype)


class _RowBlocks:
    """Logits (class axis `axis`) and targets as dask arrays with matching row chunks."""

    def __init__(self, name, logits, target, axis):
        x = logits if _is_dask(logits) else _as_dask(logits)
        self.ax = ax = axis_index(axis, x.ndim) if x.ndim else 0
        if x.ndim and x.numblocks[ax] > 1:
            x = x.rechunk({ax: -1})
        self.x, self.nd = x, x.ndim
        t = target if _is_dask(target) else np.asarray(target)
        self.prob = t.dtype.kind == "f"
        rchunks = x.chunks[:ax] + x.chunks[ax + 1:]
        want_shape = x.shape if self.prob else x.shape[:ax] + x.shape[ax + 1:]
        if tuple(t.shape) != tuple(want_shape):    # the in-memory function words the error
            raise ValueError(f"{name}: target of shape {tuple(t.shape)} does not match the input's "
                             f"{'shape' if self.prob else 'shape without the class axis'} {tuple(want_shape)}")
        self.t = _as_dask(t, x.chunks if self.prob else rchunks)
        self.ix = tuple(range(self.nd))
        self.irow = tuple(i for i in self.ix if i != ax)
        self.it = self.ix if self.prob else self.irow

    def per_row(self, fn, dtype, **kw):
        ax = self.ax
        return _da().blockwise(lambda xb, tb: np.asarray(fn(xb, tb, axis=ax, reduction="none", **kw)),
                               self.irow, self.x, self.ix, self.t, self.it, dtype=dtype, concatenate=True)

    def denominator(self, weight, ignore_index):
        """'mean''s divisor as a lazy float64 scalar."""
        if self.prob:
            return _da().from_array(np.float64(np.prod(self.t.shape[:self.ax] + self.t.shape[self.ax + 1:])))
        n = self.x.shape[self.ax]

        def kept(tb):
            k = tb[(tb != ignore_index) & (tb >= 0) & (tb < n)]
            return np.array(float(k.size) if weight is None else float(np.sum(weight[k], dtype=np.float64)))
        return self.t.map_blocks(lambda tb: kept(tb).reshape((1,) * tb.ndim), dtype=np.float64,
                                 chunks=tuple((1,) * len(c) for c in self.t.chunks)).sum()


def _reduce(rows, per_row, code, result, weight, ignore_index):
    if code == 0:
        return per_row
    s = per_row.astype(np.float64).sum()
    if code == 2:
        return s.astype(result)
    return _scalar_map(_safe_mean, result, s, rows.denominator(weight, ignore_index))


def row_loss(fn, name, logits, target, axis, weight, ignore_index, code, grad_fn=None, grad_output=None,
             with_loss=True, **kw):
    """cross_entropy / nll_loss (fn: the in-memory function) on dask operands; grad_fn: also
    (or only, with_loss=False) the gradient, cross_entropy_grad's in-memory function."""
    rows = _RowBlocks(name, logits, target, axis)
    w = _small(weight)
    promote = [rows.x.dtype] + ([rows.t.dtype] if rows.prob else []) + ([w.dtype] if w is not None else [])
    _, result = compute_dtypes(np.result_type(*promote), name)
    common = dict(weight=w, ignore_index=ignore_index, **kw)
    loss = None
    if with_loss:
        loss = _reduce(rows, rows.per_row(fn, result, **common), code, result, w, ignore_index)
    if grad_fn is None:
        return loss
    ax, da = rows.ax, _da()
    if code == 0:
        if grad_output is None:
            grad = da.blockwise(lambda xb, tb: grad_fn(xb, tb, axis=ax, reduction="none", **common),
                                rows.ix, rows.x, rows.ix, rows.t, rows.it, dtype=result, concatenate=True)
        else:
            go = _in_chunks(grad_output, rows.x.shape[:ax] + rows.x.shape[ax + 1:],
                            rows.x.chunks[:ax] + rows.x.chunks[ax + 1:])
            grad = da.blockwise(lambda xb, tb, gb: grad_fn(xb, tb, axis=ax, reduction="none", grad_output=gb,
                                                           **common),
                                rows.ix, rows.x, rows.ix, rows.t, rows.it, go, rows.irow, dtype=result,
                                concatenate=True)
    else:
        # the reduced loss's gradient: each block's 'sum' gradient with the whole scale (grad_output,
        # / the mean's divisor for 'mean') passed to the kernel, as the in-memory call passes it
        scale = 1.0 if grad_output is None else float(grad_output)
        if code == 1:
            factor = _scalar_map(lambda d: np.float64(scale / d if d != 0 else 0.0), np.float64,
                                 rows.denominator(w, ignore_index))
        else:
            factor = da.from_array(np.float64(scale))
        grad = da.blockwise(lambda xb, tb, fb: grad_fn(xb, tb, axis=ax, reduction="sum", grad_output=float(fb),
                                                       **common),
                            rows.ix, rows.x, rows.ix, rows.t, rows.it, factor, (), dtype=result, concatenate=True)
    return grad if loss is None else (loss, grad)


def bce(fn, name, x, y, weight, pos_weight, code, grad=False, grad_output=None):
    """binary_cross_entropy_with_logits (fn) or, grad=True, its gradient (fn: the in-memory
    gradient) on dask operands: one call per block with reduction 'none', then the reduction
    ('mean': over every entry) or the gradient's scale."""
    da = _da()
    xs = x if _is_dask(x) else _as_dask(x)
    if tuple(np.shape(y)) != xs.shape:
        raise ValueError(f"{name}: target of shape {tuple(np.shape(y))} does not match the input's shape {xs.shape}")
    pw = _small(pos_weight)
    if pw is not None and pw.ndim and xs.ndim and xs.numblocks[-1] > 1:
        xs = xs.rechunk({xs.ndim - 1: -1})           # pos_weight is per column: whole rows per block
    ind = tuple(range(xs.ndim))
    ops = [_as_dask(y, xs.chunks)]
    if weight is not None:
        ops.append(_in_chunks(weight, xs.shape, xs.chunks))
    go = None
    if grad and code == 0 and grad_output is not None:
        go = _in_chunks(grad_output, xs.shape, xs.chunks)
        ops.append(go)
    promote = [xs.dtype, ops[0].dtype] + ([ops[1].dtype] if weight is not None else []) + \
        ([pw.dtype] if pw is not None else [])
    _, result = compute_dtypes(np.result_type(*promote), name)
    has_w, has_g = weight is not None, go is not None

    scale = None
    if grad and code:                 # the whole scale into each block's kernel, as in memory
        scale = 1.0 if grad_output is None else float(grad_output)
        n = float(np.prod(xs.shape))
        if code == 1 and n:
            scale /= n

    def block(xb, yb, *rest):
        kw = {"weight": rest[0] if has_w else None, "pos_weight": pw, "reduction": "none"}
        if has_g:
            kw["grad_output"] = rest[-1]
        if scale is not None:
            kw["reduction"], kw["grad_output"] = "sum", scale
        return np.asarray(fn(xb, yb, **kw))
    args = [xs, ind] + [a for v in ops for a in (v, ind)]
    per_entry = da.blockwise(block, ind, *args, dtype=result, concatenate=True)
    if not grad:
        if code == 0:
            return per_entry
        total = per_entry.astype(np.float64).sum()
        if code == 2:
            return total.astype(result)
        n = float(np.prod(xs.shape))
        return _scalar_map(lambda v: np.float64(v / n if n else np.nan), result, total)
    return per_entry


def _one_hot_block(block, fn, num_classes, dtype, axis):
    return fn(block, num_classes, dtype, axis)


def one_hot(fn, name, labels, num_classes, dtype, axis):
    """one_hot (fn: the in-memory function) of dask labels: one call per block, the new axis in
    one chunk of num_classes, which must be given (the result's shape must be known without
    computing the labels).  Every other check is fn's, on empty labels, before the graph is made."""
    import operator
    if num_classes is None or (not isinstance(num_classes, (bool, np.bool_)) and operator.index(num_classes) == -1):
        raise ValueError(f"{name}: num_classes is required for dask labels (the result's shape must be known "
                         f"without computing them): give num_classes, e.g. int(labels.max()) + 1")
    nd = labels.ndim
    ax = axis_index(axis, nd + 1)
    meta = fn(np.zeros((0,) * max(nd, 1), labels.dtype), num_classes, dtype, ax if nd else 0)
    num_classes = meta.shape[ax if nd else 0]
    chunks = labels.chunks[:ax] + ((num_classes,),) + labels.chunks[ax:]
    return labels.map_blocks(_one_hot_block, fn, num_classes, dtype, ax, new_axis=ax, chunks=chunks,
                             dtype=meta.dtype, meta=np.empty((0,) * (nd + 1), meta.dtype), token=f"fastact-{name}")
