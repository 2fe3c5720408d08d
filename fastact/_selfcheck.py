"""`python -m fastact`: what this machine runs, how fast, how accurate -- measured on the spot.

Prints show_config() (the CPU's SIMD level and the kernel variant in use), then one row per
(function, dtype): the median time of fastact and of the NumPy formula on ~1e6 elements,
both writing into a preallocated `out=`, their ratio, and fastact's max error in ULPs
over inputs spanning the whole float range.  The reference is mpmath (50 digits) when it
is installed; otherwise a float64 evaluation, which measures float32 results only.
Needs NumPy only (SciPy, when present, supplies erf for the NumPy GELU formula).
"""
import math
import time

import numpy as np

from . import _ulp, show_config, __version__
from ._registry import BY_KERNEL

SIZE = 10 ** 6
ROWS = (1000, 1000)               # the reductions: 1000 rows of 1000, along the last axis
REPEATS = 7
SWEEP_N = 3000
DTYPES = (np.float32, np.float64)


# ---------------------------------------------------------------------------------------
# the NumPy formulas users write, with out=

def _np_sigmoid(x, y):
    np.negative(x, out=y)
    np.exp(y, out=y)
    y += 1
    np.reciprocal(y, out=y)


def _np_silu(x, y):
    np.negative(x, out=y)
    np.exp(y, out=y)
    y += 1
    np.divide(x, y, out=y)


def _np_gelu(x, y):
    try:
        from scipy.special import erf
    except ImportError:
        return None                       # NumPy has no erf
    np.multiply(x, 1 / math.sqrt(2), out=y)
    erf(y, out=y)
    y += 1
    y *= x
    y *= 0.5
    return True


def _np_softmax(x, y):
    np.subtract(x, x.max(axis=-1, keepdims=True), out=y)
    np.exp(y, out=y)
    y /= y.sum(axis=-1, keepdims=True)


def _np_logsumexp(x, y):
    m = x.max(axis=-1)
    t = np.subtract(x, m[:, None])
    np.exp(t, out=t)
    np.log(t.sum(axis=-1), out=y)
    y += m


NUMPY_FORMULAS = {
    "relu": lambda x, y: np.maximum(x, 0, out=y),
    "sigmoid": _np_sigmoid,
    "tanh": lambda x, y: np.tanh(x, out=y),
    "gelu": _np_gelu,
    "silu": _np_silu,
    "softplus": lambda x, y: np.logaddexp(0, x, out=y),
    "softmax": _np_softmax,
    "logsumexp": _np_logsumexp,
}
ELEMENTWISE = ("relu", "sigmoid", "tanh", "gelu", "silu", "softplus")
REDUCTIONS = ("softmax", "logsumexp")


# ---------------------------------------------------------------------------------------
# accuracy

def _sigmoid64(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# float64 references for float32 results when mpmath is missing (a few float64 ULPs of
# error, far below a float32 ULP); written in the stable forms
FLOAT64_REFERENCES = {
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": _sigmoid64,
    "tanh": np.tanh,
    "gelu": lambda x: x / 2 * np.frompyfunc(math.erfc, 1, 1)(-x / math.sqrt(2)).astype(np.float64),
    "silu": lambda x: x * _sigmoid64(x),
    "softplus": lambda x: np.logaddexp(0, x),
}


def _mpmath():
    try:
        import mpmath
    except ImportError:
        return None
    return mpmath


def ulp_error(got, hi, lo, dtype):
    """Max error of `got` (computed in dtype) against hi + lo, in ULPs of dtype; results in
    the subnormal range count as exact within one smallest normal (docs/SPEC.md section 6)."""
    err = _ulp.ulp_errors(got, hi, lo, dtype)
    return float(err.max()) if err.size else 0.0


def sweep(dtype, n=SWEEP_N, seed=0):
    """Every binade of dtype, both signs, and a dense part where the functions bend."""
    fi = np.finfo(dtype)
    rng = np.random.default_rng(seed)
    with np.errstate(over="ignore"):
        mags = np.geomspace(float(fi.smallest_subnormal), float(fi.max), n // 3)
    mags = mags[np.isfinite(mags)]
    x = np.concatenate([mags, -mags, rng.uniform(-30, 30, n // 3), [0.0, -0.0, 1.0, -1.0]])
    return np.unique(x.astype(dtype))


def _elementwise_reference(mp, name, x):
    if mp is None:
        return FLOAT64_REFERENCES[name](x.astype(np.float64)), np.zeros(x.size)
    return _ulp.reference(BY_KERNEL[name].reference, x)


def _reduction_reference(mp, name, rows):
    if mp is None:
        r = rows.astype(np.float64)
        m = r.max(axis=-1, keepdims=True)
        lse = m + np.log(np.exp(r - m).sum(axis=-1, keepdims=True))
        out = np.exp(r - lse) if name == "softmax" else lse
        return out.ravel(), np.zeros(out.size)
    with mp.workdps(50):
        out = []
        for row in rows:
            vals = [mp.mpf(float(v)) for v in row]
            lse = mp.log(mp.fsum(mp.exp(v) for v in vals))
            out.extend([mp.exp(v - lse) for v in vals] if name == "softmax" else [lse])
        return _ulp.hi_lo(out)


# ---------------------------------------------------------------------------------------
# timing

def _median_times(pairs, repeats=REPEATS):
    """Median seconds of each callable, interleaved so both see the same machine load."""
    times = [[] for _ in pairs]
    for _ in range(repeats):
        for i, fn in enumerate(pairs):
            t = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t)
    return [float(np.median(t)) for t in times]


def _row(fa, name, dtype, mp):
    rng = np.random.default_rng(1)
    reduction = name in REDUCTIONS
    fn = getattr(fa, name)
    numpy_formula = NUMPY_FORMULAS[name]
    x = (rng.standard_normal(ROWS if reduction else SIZE) * 3).astype(dtype)
    y = np.empty(ROWS[0] if name == "logsumexp" else x.shape, dtype)
    y_np = np.empty_like(y)
    if reduction:
        ours = lambda: fn(x, axis=-1, out=y)  # noqa: E731
    else:
        ours = lambda: fn(x, out=y)  # noqa: E731
    with np.errstate(all="ignore"):
        available = numpy_formula(x[:4] if not reduction else x[:2], y_np[:4] if not reduction else y_np[:2])
        calls = [ours] if available is None and name == "gelu" else [ours, lambda: numpy_formula(x, y_np)]
        times = _median_times(calls)
    t_fa, t_np = times[0], (times[1] if len(times) > 1 else None)

    if mp is None and np.dtype(dtype) == np.float64:
        err = None                           # a float64 reference cannot measure float64 results
    elif reduction:
        rows = (rng.standard_normal((4, 200)) * 3).astype(dtype)
        hi, lo = _reduction_reference(mp, name, rows)
        err = ulp_error(fn(rows, axis=-1), hi, lo, dtype)
    else:
        xs = sweep(dtype)
        hi, lo = _elementwise_reference(mp, name, xs)
        err = ulp_error(fn(xs), hi, lo, dtype)
    bound = 4.0 if reduction and name == "softmax" else (2.0 if reduction else BY_KERNEL[name].ulp)
    return name, np.dtype(dtype).name, t_fa, t_np, err, bound


def _fmt_ms(t):
    return "-" if t is None else f"{t * 1e3:.3f}"


def main():
    import fastact as fa
    mp = _mpmath()
    names = [n for n in ELEMENTWISE + REDUCTIONS if hasattr(fa, n)]
    reference = ("mpmath, 50 digits" if mp is not None else
                 "float64 NumPy, stable forms (float32 rows only; install mpmath to measure float64)")
    print(f"fastact {__version__} self-check: speed against the NumPy formula, accuracy measured now")
    print()
    show_config()
    print()
    print(f"time     : median of {REPEATS} calls on {SIZE:,} elements (reductions: {ROWS[0]}x{ROWS[1]}, last axis),")
    print("           fastact and the NumPy formula both writing into a preallocated out=")
    print(f"max ULP  : over {SWEEP_N:,} inputs spanning the whole float range (reductions: 4 rows of 200)")
    print(f"reference: {reference}")
    print()
    header = ("function", "dtype", "fastact ms", "NumPy ms", "speed-up", "max ULP", "bound")
    rows = []
    for name in names:
        for dtype in DTYPES:
            n, dt, t_fa, t_np, err, bound = _row(fa, name, dtype, mp)
            rows.append((n, dt, _fmt_ms(t_fa), _fmt_ms(t_np),
                         "-" if t_np is None else f"{t_np / t_fa:.2f}x",
                         "-" if err is None else f"{err:.2f}", f"{bound:g}"))
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    for r in [header] + rows:
        print("  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return 0
