"""fastact on Dask arrays: lazy dask.array.Array in, lazy dask.array.Array out.

Imported only by fastact/_interop.py once it has seen a dask array (so dask is already
loaded; `import fastact` never imports this module).

- Element-wise functions: one task per block running fastact's kernel (map_blocks);
  the result has x's chunks, the result dtype (float16 stays float16, ints give
  float64) and an ndarray _meta.  Bitwise the in-memory result.
- softmax / log_softmax / logsumexp whose reduced axes each lie in one chunk: one task
  per block running the in-memory function (bitwise the in-memory result).
- Reduced axes split over several chunks: one statistics task per chunk (its max M_c,
  kept count, +inf signs, S_c = sum w e^(x - M_c) as a double-double, and where a
  logsumexp may cancel to ~0 the exact shift-0 sum), combined by a tree reduction
  (dask.array.reduction: M = max, S_c rescaled to M exactly), never rechunking the input:
    logsumexp            = M + log S from the combined statistics (the input read once);
    softmax, log_softmax one more task per chunk: e^(x - M) / S, (x - M) - log S.
  The arithmetic is the C stages of src_c/reductions/fa_chunk_stats.h, reached through
  fastact/_chunk_stats.py (one interface; statistics are its STATS records).  Accuracy
  as in memory (docs/SPEC.md section 6), special values as docs/SPEC.md section 4;
  tests/test_dask.py checks both on a distributed LocalCluster.
"""
import numpy as np
import dask.array as da

from . import _chunk_stats as cs
from ._args import F64, compute_dtypes
from ._reductions import _axes, _lse_grad_output, _promote   # NumPy's axis, shape and dtype rules, as in memory

STATS = cs.STATS
_LSE = np.dtype([("v", "f8"), ("sign", "f8")])


def is_dask(x):
    return isinstance(x, da.Array)


def _meta(ndim, dtype):
    return np.empty((0,) * ndim, dtype=dtype)


# ---- element-wise --------------------------------------------------------------------------------
def _array(y):
    """A block's result as an array (a 0-d result comes back as a NumPy scalar); a masked
    block stays masked."""
    return y if isinstance(y, np.ndarray) else np.asarray(y)


def _unary_block(block, apply_unary, op, a, b, name):
    return _array(apply_unary(op, block, None, a, b, name))


def unary(apply_unary, op, x, out, a, b, name):
    """fastact.<name>(x) for a dask array x: one kernel call per block."""
    if out is not None:
        raise TypeError(f"fastact.{name}: out= is not supported for dask arrays "
                        f"(the result is a new lazy array)")
    _, result = compute_dtypes(x.dtype, name)
    return x.map_blocks(_unary_block, apply_unary, op, a, b, name, dtype=result,
                        meta=_meta(x.ndim, result), token=f"fastact-{name}")


def _binary_block(xb, gb, apply_binary, op, a, b, name):
    return _array(apply_binary(op, xb, gb, None, a, b, name))


def binary(apply_binary, op, x, g, out, a, b, name):
    """fastact.<name>_grad(x, g) with a dask operand: both broadcast together, one kernel call
    per pair of blocks (dask's blockwise unifies the chunks)."""
    if out is not None:
        raise TypeError(f"fastact.{name}: out= is not supported for dask arrays "
                        f"(the result is a new lazy array)")
    xs = x if is_dask(x) else da.asarray(np.asarray(x))
    if g is None or (not is_dask(g) and np.ndim(g) == 0):      # ones, or one number: per block
        gv = None if g is None else np.asarray(g)
        _, result = compute_dtypes(xs.dtype if gv is None else np.result_type(xs.dtype, g), name)
        return xs.map_blocks(_binary_block, gv, apply_binary, op, a, b, name, dtype=result,
                             meta=_meta(xs.ndim, result), token=f"fastact-{name}")
    gs = g if is_dask(g) else da.asarray(np.asarray(g))
    _, result = compute_dtypes(np.result_type(xs.dtype, gs.dtype), name)
    shape = np.broadcast_shapes(xs.shape, gs.shape)   # NumPy's ValueError when not broadcastable
    xs, gs = da.broadcast_to(xs, shape), da.broadcast_to(gs, shape)
    lead = xs if is_dask(x) else gs                   # the caller's chunks are the result's
    xs, gs = (v if v.chunks == lead.chunks else v.rechunk(lead.chunks) for v in (xs, gs))
    return da.map_blocks(_binary_block, xs, gs, apply_binary, op, a, b, name, dtype=result,
                         meta=_meta(len(shape), result), token=f"fastact-{name}")


# ---- arguments -------------------------------------------------------------------------------
def _like(arr, x, dtype):
    """`arr` (array-like or dask array) broadcast to x's shape with x's chunks, as `dtype`."""
    arr = arr if is_dask(arr) else da.asarray(np.asarray(arr))
    if arr.dtype != dtype:
        arr = arr.astype(dtype)
    np.broadcast_shapes(arr.shape, x.shape)           # NumPy's ValueError when not broadcastable
    if arr.shape != x.shape:
        arr = da.broadcast_to(arr, x.shape)
    return arr.rechunk(x.chunks) if arr.chunks != x.chunks else arr


# ---- block layout ----------------------------------------------------------------------------------
def _to3(block, axes):
    """A block as a C-contiguous (outer, n, inner) array reduced along 1, and the shape of its
    statistics with the kept axes in their order (keepdims: 1 on the reduced axes).  No copy
    for a C-contiguous block whose reduced axes are adjacent."""
    shape = block.shape
    kshape = tuple(1 if i in axes else s for i, s in enumerate(shape))
    a0, a1 = axes[0], axes[-1]
    if block.flags.c_contiguous and a1 - a0 == len(axes) - 1:
        outer = int(np.prod(shape[:a0], dtype=np.int64))
        inner = int(np.prod(shape[a1 + 1:], dtype=np.int64))
        return block.reshape(outer, int(np.prod(shape[a0:a1 + 1], dtype=np.int64)), inner), kshape, None
    kept = [i for i in range(block.ndim) if i not in axes]
    order = kept + list(axes)
    xt = np.ascontiguousarray(block.transpose(order))
    K = int(np.prod([shape[i] for i in kept], dtype=np.int64))
    return xt.reshape(K, int(np.prod([shape[i] for i in axes], dtype=np.int64)), 1), kshape, order


def _back3(y3, shape, order):
    """Inverse of _to3 for a result of the block's shape."""
    if order is None:
        return y3.reshape(shape)
    return y3.reshape([shape[i] for i in order]).transpose(np.argsort(order))


def _opt3(arr, axes):
    return None if arr is None else _to3(np.asarray(arr), axes)[0]


def _split_args(args, has_mask, has_b):
    args = list(args)
    mask = args.pop(0) if has_mask else None
    b = args.pop(0) if has_b else None
    return mask, b


# ---- per-block tasks -------------------------------------------------------------------------
def _stats_block(x, *args, axes, has_mask, has_b, cancel):
    """The statistics of one chunk (cs.chunk_statistics): its max M_c, kept count, flags,
    S_c = sum w e^(x - M_c) as a double-double; with `cancel` (logsumexp) also the exact
    shift-0 sum S0_c where the slice may cancel (else NaN)."""
    mask, b = _split_args(args, has_mask, has_b)
    x3, kshape, _ = _to3(x, axes)
    return cs.chunk_statistics(x3, _opt3(mask, axes), _opt3(b, axes), exact=cancel).reshape(kshape)


def _out_block(x, st, *args, axes, has_mask, log, result):
    mask, _ = _split_args(args, has_mask, False)
    x3, kshape, order = _to3(x, axes)
    outer, _, inner = x3.shape
    y3 = cs.softmax_from_stats(x3, st.reshape(outer, inner), _opt3(mask, axes), log=log)
    return _back3(y3, x.shape, order).astype(result, copy=False)


def _lse_block(st, return_sign):
    out = np.empty(st.shape, _LSE)
    out["v"], out["sign"] = cs.logsumexp_from_stats(st, return_sign=return_sign)
    return out


# ---- tree combine (dask.array.reduction) -----------------------------------------------------------
def _identity(x, axis, keepdims):
    return x


def _flat_last(x, axis):
    """x with the reduced axes moved last and flattened: (..., k)."""
    kept = [i for i in range(x.ndim) if i not in axis]
    xt = x.transpose(kept + list(axis))
    return xt.reshape(xt.shape[:len(kept)] + (int(np.prod(xt.shape[len(kept):], dtype=np.int64)),))


def _combine(x, axis, keepdims):
    """Chunk statistics -> the statistics of their union (cs.combine: M = max, S = sum of the
    S_c rescaled to M in double-double, S0 = sum of the S0_c, NaN if one is)."""
    out = cs.combine(_flat_last(x, axis))
    return out.reshape(tuple(1 if i in axis else s for i, s in enumerate(x.shape)))


def _statistics(x, axes, extra, has_mask, has_b, cancel):
    """One task per chunk, then a tree of combines: the slices' statistics (keepdims shape)."""
    kchunks = tuple(tuple(1 for _ in c) if i in axes else c for i, c in enumerate(x.chunks))
    per_chunk = da.map_blocks(_stats_block, x, *extra, axes=axes, has_mask=has_mask, has_b=has_b,
                              cancel=cancel, dtype=STATS, chunks=kchunks, meta=_meta(x.ndim, STATS),
                              token="fastact-stats")
    return da.reduction(per_chunk, _identity, _combine, combine=_combine, axis=axes, keepdims=True,
                        dtype=STATS, meta=_meta(x.ndim, STATS), concatenate=True)


# ---- reductions ----------------------------------------------------------------------------------
def _single_chunk(x, axes):
    return all(len(x.chunks[a]) == 1 for a in axes)


def _block_rowwise(x, *args, fn, axes, has_mask):
    mask, _ = _split_args(args, has_mask, False)
    return _array(fn(x, axis=axes, where=mask))


def _block_lse(x, *args, fn, axes, has_mask, has_b, return_sign):
    mask, b = _split_args(args, has_mask, has_b)
    r = fn(x, axis=axes, b=b, keepdims=True, where=mask, return_sign=return_sign)
    out = np.empty(tuple(1 if i in axes else s for i, s in enumerate(x.shape)), _LSE)
    if return_sign:
        out["v"], out["sign"] = r
    else:
        out["v"], out["sign"] = r, np.nan
    return out


def rowwise(fn, name, x, axis, out, where):
    """softmax / log_softmax of a dask array along `axis` (a lazy array of x's shape)."""
    if out is not None:
        raise TypeError(f"fastact.{name}: out= is not supported for dask arrays "
                        f"(the result is a new lazy array)")
    compute, result = compute_dtypes(x.dtype, name)
    if x.ndim == 0:
        x = x.reshape(1)
        y = rowwise(fn, name, x, 0, None, where)
        return y.reshape(())
    axes = _axes(axis, x.ndim)
    extra = [] if where is None else [_like(where, x, np.dtype(bool))]
    has_mask = where is not None
    if _single_chunk(x, axes):      # the in-memory call on x's own blocks (float16 in, float16 out)
        return da.map_blocks(_block_rowwise, x, *extra, fn=fn, axes=axes, has_mask=has_mask,
                             dtype=result, meta=_meta(x.ndim, result), token=f"fastact-{name}")
    x = x.astype(compute) if x.dtype != compute else x
    st = _statistics(x, axes, extra, has_mask, False, False)
    return da.map_blocks(_out_block, x, st, *extra, axes=axes, has_mask=has_mask,
                         log=(name == "log_softmax"), result=result, dtype=result,
                         meta=_meta(x.ndim, result), token=f"fastact-{name}")


def _lse_dtypes(a, b):
    """(a, b, compute, result) with the dtype rules of the in-memory logsumexp."""
    if b is None:
        compute, result = compute_dtypes(a.dtype, "logsumexp")
        return a, None, compute, result
    bdt = b.dtype if hasattr(b, "dtype") else np.asarray(b).dtype
    if isinstance(b, (int, float)):
        dt = np.result_type(a.dtype, b)
    else:
        dt = np.result_type(a.dtype, bdt)
    if dt.kind in "biu":
        dt = F64
    compute, result = compute_dtypes(dt, "logsumexp")
    return a, b, compute, result


def logsumexp(fn, a, axis, b, keepdims, return_sign, out, where):
    """logsumexp of a dask array (lazy; with return_sign a pair of lazy arrays)."""
    if out is not None:
        raise TypeError("fastact.logsumexp: out= is not supported for dask arrays "
                        "(the result is a new lazy array)")
    if not is_dask(a):
        a = da.asarray(np.asarray(a))
    if a.dtype.kind == "c" or (b is not None and np.asarray(b if not is_dask(b) else b._meta).dtype.kind == "c"):
        raise TypeError("fastact.logsumexp: complex dask arrays are not supported "
                        "(compute them, or call scipy.special.logsumexp per block)")
    a, b, compute, result = _lse_dtypes(a, b)
    if b is not None:
        shape = np.broadcast_shapes(a.shape, b.shape if hasattr(b, "shape") else np.shape(b))
        if shape != a.shape:
            a = da.broadcast_to(a, shape)
    if a.dtype != compute:
        a = a.astype(compute)
    squeeze0 = a.ndim == 0
    if squeeze0:
        a = a.reshape(1)
        b = None if b is None else np.reshape(b, 1) if not is_dask(b) else b.reshape(1)
        where = None if where is None else np.reshape(where, 1) if not is_dask(where) else where.reshape(1)
        axis = None
    axes = _axes(axis, a.ndim)
    extra, has_mask, has_b = [], where is not None, b is not None
    if has_mask:
        extra.append(_like(where, a, np.dtype(bool)))
    if has_b:
        extra.append(_like(b, a, compute))
    kchunks = tuple((1,) if i in axes else c for i, c in enumerate(a.chunks))
    if _single_chunk(a, axes):
        r = da.map_blocks(_block_lse, a, *extra, fn=fn, axes=axes, has_mask=has_mask, has_b=has_b,
                          return_sign=return_sign, dtype=_LSE, chunks=kchunks,
                          meta=_meta(a.ndim, _LSE), token="fastact-logsumexp")
    else:
        st = _statistics(a, axes, extra, has_mask, has_b, True)
        r = da.map_blocks(_lse_block, st, return_sign, dtype=_LSE, meta=_meta(a.ndim, _LSE),
                          token="fastact-logsumexp")
    v, sign = r["v"], r["sign"]
    if not keepdims or squeeze0:
        v = v.squeeze(axis=axes)
        sign = sign.squeeze(axis=axes)
    v = v.astype(result)
    if return_sign:
        return v, sign.astype(result)
    return v


# ---- the reductions' gradients -------------------------------------------------------------------
# softmax_grad, log_softmax_grad and logsumexp_grad need a whole slice per task (the slice's sum,
# or its logsumexp): the reduced axes are merged into one chunk where they span several (a
# rechunk, unlike the forwards), then the in-memory function runs per block, so the result is
# the in-memory result bit for bit.  Memory: one whole slice per block.
def _one_chunk_along(x, axes):
    return x if _single_chunk(x, axes) else x.rechunk({a: -1 for a in axes})


def _block_rowwise_grad(y, g, *args, fn, axes, has_mask):
    mask, _ = _split_args(args, has_mask, False)
    return _array(fn(y, g, axis=axes, where=mask))


def rowwise_grad(fn, name, y, g, axis, out, where):
    """softmax_grad / log_softmax_grad with a dask operand: a lazy array of the broadcast shape."""
    if out is not None:
        raise TypeError(f"fastact.{name}: out= is not supported for dask arrays "
                        f"(the result is a new lazy array)")
    _, result = compute_dtypes(_promote(y, g), name)
    y, g = da.asarray(y), da.asarray(g)
    shape = np.broadcast_shapes(y.shape, g.shape)
    if len(shape) == 0:
        return rowwise_grad(fn, name, y.reshape(1), g.reshape(1), 0, None, where).reshape(())
    axes = _axes(axis, len(shape))
    y = _one_chunk_along(da.broadcast_to(y, shape), axes)
    g = da.broadcast_to(g, shape).rechunk(y.chunks)
    extra = [] if where is None else [_like(where, y, np.dtype(bool)).rechunk(y.chunks)]
    return da.map_blocks(_block_rowwise_grad, y, g, *extra, fn=fn, axes=axes, has_mask=where is not None,
                         dtype=result, meta=_meta(len(shape), result), token=f"fastact-{name}")


def _block_lse_grad(a, g, *args, fn, axes, has_mask, has_b):
    mask, b = _split_args(args, has_mask, has_b)
    return _array(fn(a, g, axis=axes, b=b, where=mask))


def logsumexp_grad(fn, a, grad_output, axis, b, where, out):
    """logsumexp_grad with a dask operand: a lazy array of a's shape."""
    if out is not None:
        raise TypeError("fastact.logsumexp_grad: out= is not supported for dask arrays "
                        "(the result is a new lazy array)")
    _, result = compute_dtypes(_promote(a, b, grad_output), "logsumexp_grad")
    a = da.asarray(a)
    if a.ndim == 0:
        return logsumexp_grad(fn, a.reshape(1), grad_output, 0, b, where, None).reshape(())
    axes = _axes(axis, a.ndim)
    a = _one_chunk_along(a, axes)
    kchunks = tuple((1,) if k in axes else c for k, c in enumerate(a.chunks))
    if grad_output is None:
        g = da.ones(tuple(1 if k in axes else d for k, d in enumerate(a.shape)), dtype=result, chunks=kchunks)
    else:
        g, kshape = _lse_grad_output(da.asarray(grad_output), a.shape, axes, da)
        g = da.broadcast_to(g, kshape).rechunk(kchunks)
    extra = []
    if where is not None:
        extra.append(_like(where, a, np.dtype(bool)).rechunk(a.chunks))
    if b is not None:
        extra.append(da.broadcast_to(da.asarray(b), a.shape).rechunk(a.chunks))
    return da.map_blocks(_block_lse_grad, a, g, *extra, fn=fn, axes=axes, has_mask=where is not None,
                         has_b=b is not None, dtype=result, meta=_meta(a.ndim, result),
                         token="fastact-logsumexp_grad")
