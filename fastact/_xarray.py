"""fastact on xarray objects, through xarray.apply_ufunc (the idiomatic wrapper).

    fa.sigmoid(da)                        # DataArray or Dataset: dims, coords, attrs kept
    fa.softmax(da, dim="class")           # or axis=-1, or axis="class"; dim= may be a tuple
    fa.logsumexp(da, dim=("x", "y"), b=weights, where=valid)

Why apply_ufunc and not an accessor (da.fastact.softmax(...)): an accessor must be
registered on import, which would make `import fastact` import xarray (or need a second
import by the user), while fastact's functions already take array-likes; apply_ufunc is
what xarray documents for wrapping NumPy-style functions, keeps dims/coords/attrs
(keep_attrs=True), and with dask="allowed" hands a Dask-backed DataArray's dask array to
fastact's Dask path (so reductions across chunks stay correct and lazy).

Reductions: `dim=` (a name or tuple of names) or `axis=` (ints as in NumPy, or names)
select the reduced dimensions; None reduces over all of them (SciPy's default).  softmax
/ log_softmax keep every dim and coord; logsumexp drops the reduced dims (keepdims=True
keeps them with length 1 and drops their coords).  `where` and `b` may be DataArrays
(broadcast by dimension name) or arrays (by position, against the input's shape).
"""
import numpy as np
import xarray as xr


def _no_out(out, name):
    if out is not None:
        raise TypeError(f"fastact.{name}: out= is not supported for xarray objects "
                        f"(the result is a new DataArray)")


def _apply_unary(data, apply_unary, op, a, b, name):
    return apply_unary(op, data, None, a, b, name)


def unary(apply_unary, op, x, out, a, b, name):
    _no_out(out, name)
    return xr.apply_ufunc(_apply_unary, x, kwargs=dict(apply_unary=apply_unary, op=op, a=a, b=b, name=name),
                          dask="allowed", keep_attrs=True)


def _apply_binary(x, g, apply_binary, op, a, b, name):
    return apply_binary(op, x, g, None, a, b, name)


def binary(apply_binary, op, x, g, out, a, b, name):
    """A gradient with an xarray operand: aligned and broadcast by dimension name."""
    _no_out(out, name)
    if g is None or not isinstance(g, (xr.DataArray, xr.Dataset)) and np.ndim(g) == 0:
        return xr.apply_ufunc(_apply_binary, x, kwargs=dict(g=g, apply_binary=apply_binary, op=op,
                                                           a=a, b=b, name=name),
                              dask="allowed", keep_attrs=True)
    return xr.apply_ufunc(_apply_binary, x, g,
                          kwargs=dict(apply_binary=apply_binary, op=op, a=a, b=b, name=name),
                          dask="allowed", keep_attrs=True)


def _dims(x, axis, dim):
    """The reduced dimension names, in x's order."""
    if dim is not None and axis is not None:
        raise TypeError("give either dim= or axis=, not both")
    sel = dim if dim is not None else axis
    if sel is None:
        return tuple(x.dims)
    items = sel if isinstance(sel, (tuple, list)) else (sel,)
    names = []
    for item in items:
        if isinstance(item, str):
            if item not in x.dims:
                raise ValueError(f"{item!r} is not a dimension of the input (dims: {tuple(x.dims)})")
            names.append(item)
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            from ._args import normalize_axis_index
            names.append(x.dims[normalize_axis_index(int(item), x.ndim)])
        else:
            raise TypeError(f"axis/dim entries must be dimension names or integers, got {item!r}")
    if len(set(names)) != len(names):
        raise ValueError("duplicate value in 'axis'")
    return tuple(d for d in x.dims if d in names)


def _aligned(arr, x, dtype=None):
    """where / b as a DataArray with x's dims (a plain array is taken by position)."""
    if isinstance(arr, xr.DataArray):
        return xr.broadcast(arr, x)[0].transpose(*x.dims)
    arr = np.asarray(arr) if dtype is None else np.asarray(arr, dtype=dtype)
    return xr.DataArray(np.broadcast_to(arr, x.shape), dims=x.dims)


def _extra(x, where, b):
    args, names = [], []
    if where is not None:
        args.append(_aligned(where, x, bool))
        names.append("where")
    if b is not None:
        args.append(_aligned(b, x))
        names.append("b")
    return args, names


def _call_rowwise(data, *extra, fn, k, names):
    kw = dict(zip(names, extra))
    return fn(data, axis=tuple(range(-k, 0)), **kw)


def rowwise(fn, name, x, axis, out, where, dim):
    """x a DataArray or Dataset (_interop.rowwise raises the TypeError of dim= for anything else)."""
    _no_out(out, name)
    dims = _dims(x, axis, dim)
    extra, names = _extra(x, where, None)
    return xr.apply_ufunc(_call_rowwise, x, *extra, kwargs=dict(fn=fn, k=len(dims), names=names),
                          input_core_dims=[list(dims)] * (1 + len(extra)),
                          output_core_dims=[list(dims)], dask="allowed",
                          keep_attrs=True).transpose(*x.dims)      # apply_ufunc puts core dims last


def _call_lse(data, *extra, fn, k, names, keepdims, return_sign):
    kw = dict(zip(names, extra))
    return fn(data, axis=tuple(range(-k, 0)), keepdims=keepdims, return_sign=return_sign, **kw)


def logsumexp(fn, a, axis, b, keepdims, return_sign, out, where, dim):
    _no_out(out, "logsumexp")
    dims = _dims(a, axis, dim)
    extra, names = _extra(a, where, b)
    core_out = list(dims) if keepdims else []
    r = xr.apply_ufunc(_call_lse, a, *extra,
                       kwargs=dict(fn=fn, k=len(dims), names=names, keepdims=keepdims,
                                   return_sign=return_sign),
                       input_core_dims=[list(dims)] * (1 + len(extra)),
                       output_core_dims=[core_out, core_out] if return_sign else [core_out],
                       exclude_dims=set(dims) if keepdims else set(),
                       dask="allowed", keep_attrs=True)
    if keepdims:                                       # apply_ufunc puts core dims last
        r = tuple(v.transpose(*a.dims) for v in r) if return_sign else r.transpose(*a.dims)
    return r


# ---- the reductions' gradients --------------------------------------------------------------------
def _is_xr(v):
    return isinstance(v, (xr.DataArray, xr.Dataset))


def rowwise_grad(fn, name, y, g, axis, out, where):
    """softmax_grad / log_softmax_grad with an xarray operand: y and grad_output aligned and
    broadcast by dimension name (a plain array is taken by position against the other's shape),
    the reduced dims from axis= (ints or names) of the broadcast frame, dims / coords / attrs kept."""
    _no_out(out, name)
    if _is_xr(y) and _is_xr(g):
        y, g = xr.broadcast(y, g)
    elif _is_xr(y):
        g = _aligned(g, y)
    else:
        y = _aligned(y, g)
    g = g.transpose(*y.dims)
    dims = _dims(y, axis, None)
    extra, names = _extra(y, where, None)
    return xr.apply_ufunc(_call_rowwise, y, g, *extra, kwargs=dict(fn=fn, k=len(dims), names=["grad_output"] + names),
                          input_core_dims=[list(dims)] * (2 + len(extra)),
                          output_core_dims=[list(dims)], dask="allowed",
                          keep_attrs=True).transpose(*y.dims)      # apply_ufunc puts core dims last


def _call_lse_grad(a, *extra, fn, k, names):
    kw = dict(zip(names, extra))
    g = kw.pop("grad_output", None)
    if g is not None:           # the kept dims (apply_ufunc's broadcast order), the reduced ones as 1
        g = g.reshape(g.shape + (1,) * k)
    return fn(a, g, axis=tuple(range(-k, 0)), **kw)


def logsumexp_grad(fn, a, grad_output, axis, b, where, out):
    """logsumexp_grad of a DataArray: grad_output a DataArray over the kept dims (the reduced ones
    absent or of length 1, as logsumexp(..., keepdims=True) gives them), or an array of the result
    shape (or the kept shape) by position; b and where as for logsumexp; a's frame kept."""
    _no_out(out, "logsumexp_grad")
    dims = _dims(a, axis, None)
    extra, names = _extra(a, where, b)
    cores = [list(dims)] * (1 + len(extra))
    if grad_output is not None:
        g = grad_output
        if _is_xr(g):
            g = g.squeeze([d for d in dims if d in g.dims], drop=True)
        else:
            from ._reductions import _lse_grad_output
            axes = tuple(a.dims.index(d) for d in dims)
            g, _ = _lse_grad_output(np.asarray(g), a.shape, axes)
            g = xr.DataArray(np.asarray(g).squeeze(axis=axes), dims=[d for d in a.dims if d not in dims])
        extra.append(g)
        names.append("grad_output")
        cores.append([])
    return xr.apply_ufunc(_call_lse_grad, a, *extra, kwargs=dict(fn=fn, k=len(dims), names=names),
                          input_core_dims=cores, output_core_dims=[list(dims)], dask="allowed",
                          keep_attrs=True).transpose(*a.dims)


# ---- losses --------------------------------------------------------------------------------------------
def _plain(v):
    """A small operand (weight, pos_weight, a scalar grad_output) as its data: xarray's labels do not
    apply to it (weight and pos_weight are per class, by position along the class axis)."""
    return v.data if isinstance(v, xr.DataArray) else v


def _call_loss(*arrays, fn, names, kw):
    kw = dict(kw)
    kw.update(zip(names, arrays[1:]))
    return fn(arrays[0], **kw)


def row_loss(fn, name, logits, target, axis, kw, outputs, grad_output=None):
    """cross_entropy / cross_entropy_grad / nll_loss of a DataArray of logits: the class dim from
    axis= (an int or a name), target (class indices over the other dims, or probabilities over all
    of them) and a 'none' gradient's grad_output aligned by dimension name; outputs: 'loss', 'grad'
    or both ('loss', 'grad': return_grad=True).  'none' losses have the target's dims, reduced ones
    are 0-d, gradients have the logits' frame."""
    if isinstance(axis, (tuple, list)) or axis is None:
        raise TypeError(f"fastact.{name}: axis must be one dimension (a name or an int), got {axis!r}")
    (cls,) = _dims(logits, axis, None)
    rdims = [d for d in logits.dims if d != cls]
    args, names, cores = [logits], [], [list(logits.dims)]
    if isinstance(target, xr.DataArray):
        t = target.transpose(*(logits.dims if cls in target.dims else rdims))
        args.append(t)
        names.append("target")
        cores.append(list(t.dims))
    else:
        kw = dict(kw, target=target)
    code = kw.get("reduction", "mean")
    if isinstance(grad_output, xr.DataArray) and grad_output.ndim:
        go = _aligned(grad_output, logits.isel({cls: 0}, drop=True))
        args.append(go)
        names.append("grad_output")
        cores.append(list(go.dims))
    elif grad_output is not None:
        kw = dict(kw, grad_output=_plain(grad_output))
    kw = dict(kw, axis=logits.dims.index(cls))
    out_cores = {"loss": rdims if code == "none" else [], "grad": list(logits.dims)}
    return xr.apply_ufunc(_call_loss, *args, kwargs=dict(fn=fn, names=names, kw=kw),
                          input_core_dims=cores, output_core_dims=[out_cores[o] for o in outputs],
                          dask="allowed", keep_attrs=True)


def bce(fn, name, x, y, kw, grad_output=None, weight=None):
    """binary_cross_entropy_with_logits (+ _grad) with x or y a DataArray: x and y aligned by
    dimension name (a plain one taken by position against the other's shape), weight and a 'none'
    gradient's grad_output broadcast to their frame by name; 'none' losses and gradients keep it."""
    named = [v for v in (x, y) if isinstance(v, xr.DataArray)]
    frame = xr.broadcast(*named)[0] if len(named) > 1 else named[0]
    ops = {"x": x, "y": y, "weight": weight}
    if grad_output is not None and np.ndim(grad_output):
        ops["grad_output"] = grad_output
    elif grad_output is not None:
        kw = dict(kw, grad_output=_plain(grad_output))
    args, names = [], []
    for k, v in ops.items():
        if v is None:
            continue
        args.append(_aligned(v, frame))
        names.append(k)
    x0, names = args[0], names[1:]
    grad = "grad" in name
    out = list(frame.dims) if grad or kw.get("reduction", "mean") == "none" else []
    return xr.apply_ufunc(_call_loss, *args, kwargs=dict(fn=fn, names=names, kw=kw),
                          input_core_dims=[list(frame.dims)] * len(args), output_core_dims=[out],
                          dask="allowed", keep_attrs=True)


def one_hot(fn, labels, num_classes, dtype, axis, dim):
    """one_hot of xarray labels: the new dimension `dim` at `axis` of the result (no coordinate:
    logits' class coordinates, say names, would otherwise not align with it); the labels' dims,
    coords and attrs kept, a Dask-backed one lazy (fn's Dask path)."""
    if isinstance(labels, xr.Dataset):
        return labels.map(lambda v: one_hot(fn, v, num_classes, dtype, axis, dim), keep_attrs=True)
    if dim is None or dim in labels.dims:
        raise ValueError(f"fastact.one_hot: dim={dim!r} cannot name the new class dimension (the labels' "
                         f"dims: {tuple(labels.dims)}); give another name with dim=")
    from ._args import axis_index
    ax = axis_index(axis, labels.ndim + 1)
    r = xr.apply_ufunc(fn, labels, kwargs=dict(num_classes=num_classes, dtype=dtype, axis=-1),
                       output_core_dims=[[dim]], dask="allowed", keep_attrs=True)
    return r.transpose(*labels.dims[:ax], dim, *labels.dims[ax:])     # apply_ufunc puts core dims last
