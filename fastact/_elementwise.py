"""The element-wise functions, generated from fastact/_registry.py.

Each public function is a few lines made from a template (so `help()` and
`inspect.signature` show the real parameters); all of them run `apply_unary` (one
input) or `apply_binary` (x and a second operand, the gradients), the one place where
an element-wise call turns its arguments into contiguous buffers for the Cython layer
(fastact/_core.pyx).
"""
import numpy as np

from . import _core, _interop, kernels
from ._args import _FAST_DTYPES, check_out, compute_dtypes, contiguous, flat_pair, real_param
from ._registry import ACTIVATIONS, GRADIENTS

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


def _check_params(name, values):
    """Domain errors for parameters, raised before any work (ValueError, torch's rules)."""
    if name == "hardtanh" and values[0] > values[1]:
        raise ValueError("min_val cannot be greater than max_val")
    if name in ("celu", "softplus") and values[0] == 0:
        raise ValueError(f"{'alpha' if name == 'celu' else 'beta'} must be nonzero for {name}")
    if name == "logit" and values[0] is not None and not 0 <= values[0] < 0.5:
        raise ValueError("eps must be None or in [0, 0.5)")


_TEMPLATE = '''
def {name}(x, {sig}out=None):
    """{doc}

    Element-wise, for any array-like; returns a new array of x's shape (a NumPy
    scalar for 0-d input), or writes into `out` and returns it.{extra}
    """
{body}
'''


def _real(param, func):
    """Code turning a numeric parameter into a float: a float as is, else fastact/_args.py's
    real_param (a number, never a string: NumPy's TypeError)."""
    return f"{param} if type({param}) is float else real_param({param}, {param!r}, {func!r})"


def _param_code(entry):
    lines, args = [], []
    for p in entry.params:
        if p.none_as is not None:
            lines.append(f"    _{p.name} = {p.none_as!r} if {p.name} is None else {_real(p.name, entry.name)}")
        else:
            lines.append(f"    _{p.name} = {_real(p.name, entry.name)}")
        args.append(f"_{p.name}")
    if entry.params:
        lines.append(f"    _check_params({entry.name!r}, ({', '.join(p.name for p in entry.params)},))")
    args += ["0.0"] * (2 - len(args))
    return lines, args


def _make(entries):
    """Source of one public function from its registry entries (several when `select`)."""
    first = entries[0]
    name = first.name
    sig = "".join(f"{p.name}={p.default!r}, " for p in first.params)
    lines, args = _param_code(first)
    if first.select:
        pname = first.select[0]
        choices = {e.select[1]: OP_INDEX[e.kernel] for e in entries}
        sig = f"{pname}={first.select[1]!r}, " + sig
        lines.insert(0, f"    op = {choices!r}.get({pname})")
        lines.insert(1, "    if op is None:")
        lines.insert(2, f"        raise ValueError(f\"{pname} must be one of {tuple(choices)!r}, got {{{pname}!r}}\")")
        op = "op"
        extra = "\n\n    " + "\n    ".join(f"{pname}={v!r}: {e.doc}" for v, e in zip(choices, entries))
    else:
        op = str(OP_INDEX[first.kernel])
        extra = ""
    lines.append(f"    y = unary_fast({op}, x, out, {', '.join(args)})")
    lines.append(f"    return apply_unary({op}, x, out, {', '.join(args)}, {name!r}) if y is None else y")
    return _TEMPLATE.format(name=name, sig=sig, doc=first.doc or name, extra=extra, body="\n".join(lines))


_GRAD_TEMPLATE = '''
def {name}(x, grad_output=None, {sig}out=None):
    """{doc}

    The derivative of fastact.{forward} at x times grad_output (None: ones, the plain
    derivative), element-wise; x and grad_output broadcast together (NumPy's rules, and
    its type promotion of the two).  Returns a new array (a NumPy scalar for 0-d input),
    or writes into `out` and returns it.
    """
{body}
'''


def _make_gradient(entries, forward):
    """Source of one public gradient function (several kernels when the forward has a
    `select`, as gelu's approximate=): the forward's parameters, then apply_binary."""
    first = forward[entries[0].forward]
    name = entries[0].name
    sig = "".join(f"{p.name}={p.default!r}, " for p in first.params)
    lines, args = _param_code(first)
    if first.select:
        pname = first.select[0]
        choices = {forward[e.forward].select[1]: BINARY_OP_INDEX[e.kernel] for e in entries}
        sig = f"{pname}={first.select[1]!r}, " + sig
        lines[:0] = [f"    op = {choices!r}.get({pname})", "    if op is None:",
                     f"        raise ValueError(f\"{pname} must be one of {tuple(choices)!r}, got {{{pname}!r}}\")"]
        op = "op"
    else:
        op = str(BINARY_OP_INDEX[entries[0].kernel])
    lines.append(f"    y = binary_fast({op}, x, grad_output, out, {', '.join(args)})")
    lines.append(f"    return apply_binary({op}, x, grad_output, out, {', '.join(args)}, {name!r}) "
                 "if y is None else y")
    return _GRAD_TEMPLATE.format(name=name, sig=sig, doc=entries[0].doc or name,
                                 forward=first.name, body="\n".join(lines))


def _build():
    groups = {}
    for entry in ACTIVATIONS:
        groups.setdefault(entry.name, []).append(entry)
    # "inf": repr() of a parameter's none_as value (softplus threshold=None -> inf)
    namespace = {"apply_unary": apply_unary, "unary_fast": _core.unary_fast, "apply_binary": apply_binary,
                 "binary_fast": _core.binary_fast, "_check_params": _check_params,
                 "real_param": real_param, "inf": float("inf")}
    forward = {e.kernel: e for e in ACTIVATIONS}
    source = "".join(_make(entries) for entries in groups.values())
    grad_groups = {}
    for g in GRADIENTS:
        grad_groups.setdefault(g.name, []).append(g)
    source += "".join(_make_gradient(entries, forward) for entries in grad_groups.values())
    exec(compile(source, "<fastact wrappers>", "exec"), namespace)   # one compile for all: import stays fast
    functions = {}
    for name, entries in groups.items():
        fn = namespace[name]
        fn.__module__ = "fastact"
        functions[name] = fn
        for alias in entries[0].aliases:
            functions[alias] = fn
    for name, entries in grad_groups.items():
        fn = namespace[name]
        fn.__module__ = "fastact"
        functions[name] = fn
        for alias in forward[entries[0].forward].aliases:      # expit_grad, log_expit_grad, swish_grad
            functions[alias + "_grad"] = fn
    return functions


FUNCTIONS = _build()
