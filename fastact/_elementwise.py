"""The element-wise functions, generated from fastact/_registry.py.

Each public function is a few lines made from a template (so `help()` and
`inspect.signature` show the real parameters); all of them run `apply_unary`, the
one place where an element-wise call turns its arguments into contiguous buffers
for the Cython layer (fastact/_core.pyx).
"""
import numpy as np

from . import _core, _interop, kernels
from ._args import F16, F32, F64, as_array, check_out, compute_dtypes, contiguous, flat_pair, same_memory
from ._args import real_param
from ._registry import ACTIVATIONS

# native dtypes on the common path: dtype -> (compute dtype, result dtype)
_FAST = {F32: (F32, F32), F64: (F64, F64), F16: (F32, F16)}
OP_INDEX = {name: i for i, name in enumerate(kernels.UNARY_OPS)}


def apply_unary(op, x, out, a, b, name):
    """y = kernel[op](x; a, b) with NumPy's conventions (see fastact/_args.py)."""
    if type(x) is not np.ndarray:
        y = _interop.unary(apply_unary, op, x, out, a, b, name)   # Dask, xarray, np.ma, subclasses
        if y is not NotImplemented:
            return y
        x = np.asarray(x)
    compute, result = _FAST.get(x.dtype) or compute_dtypes(x.dtype, name)
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
        if pair is not None and (xc is out or not np.may_share_memory(xc, out) or same_memory(xc, out)):
            run(op, *pair, a, b)
            return out
    y = np.empty_like(xc)           # out is strided, another dtype, or overlaps x partly
    run(op, *flat_pair(xc, y), a, b)
    with np.errstate(over="ignore"):             # a narrower out rounds to inf, with no warning
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


def _build():
    groups = {}
    for entry in ACTIVATIONS:
        groups.setdefault(entry.name, []).append(entry)
    # "inf": repr() of a parameter's none_as value (softplus threshold=None -> inf)
    namespace = {"apply_unary": apply_unary, "unary_fast": _core.unary_fast, "_check_params": _check_params,
                 "real_param": real_param,
                 "inf": float("inf")}
    exec(compile("".join(_make(entries) for entries in groups.values()), "<fastact wrappers>", "exec"),
         namespace)                                   # one compile for all: import stays fast
    functions = {}
    for name, entries in groups.items():
        fn = namespace[name]
        fn.__module__ = "fastact"
        functions[name] = fn
        for alias in entries[0].aliases:
            functions[alias] = fn
    return functions


FUNCTIONS = _build()
