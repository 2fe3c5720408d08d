"""`python -m fastact`: what this machine runs, how fast, how accurate -- measured on the spot.

Prints show_config() (the CPU's SIMD level and the kernel variant in use), then one row per
(function, dtype) of FEATURED: the median time of fastact and of the NumPy formula users
write (the registry's `numpy` entry, fastact/_registry.py), both allocating their result as
such a call does, their ratio, and fastact's max error in ULPs over inputs spanning the
whole float range, against the registry's `reference` (mpmath, 50 digits) when mpmath is
installed; otherwise against the same reference evaluated in float64 by Python's math module
(_Float64Math) for |x| <= 700, which measures float32 results only.  Every formula and reference comes from the registry: nothing here
restates a function.  Needs NumPy only (SciPy, when present, supplies erf for the NumPy
GELU formulas; without it those rows show "-").
"""
import math
import time

import numpy as np

from . import _ulp, show_config
from ._registry import BCE_LOSSES, BY_KERNEL, GRAD_BY_KERNEL, LOSS_BY_NAME, OUTPUT_GRADIENTS, REDUCTION_BY_KERNEL

BCE_BY_NAME = {e.name: e for e in BCE_LOSSES}
OUTPUT_GRAD_BY_NAME = {e.name: e for e in OUTPUT_GRADIENTS}
BCE_TARGET = 0.25                 # the BCE rows' soft target (accuracy sweep and timing)

SIZE = 10 ** 6                    # element-wise: 10^6 entries of N(0, 3)
ROWS = (1000, 1000)               # the reductions: 1000 rows of 1000 N(0, 3), along the last axis
REPEATS = 9
SWEEP_N = 3000
DTYPES = (np.float32, np.float64)
FLOAT64_SWEEP_MAX = 700.0         # without mpmath: |x| where float64 references do not overflow
# the rows printed: forwards, gradients (fa.<name>(x, grad_output)), gradients from the
# forward's output (fa.<name>(y, grad_output)), reductions (axis=-1), losses (per-row values,
# reduction='none', one class target per row; BCE per element with a soft target)
FEATURED = ("relu", "sigmoid", "tanh", "gelu", "silu", "softplus",
            "sigmoid_grad", "tanh_grad", "gelu_grad", "silu_grad",
            "sigmoid_grad_from_output", "tanh_grad_from_output",
            "softmax", "log_softmax", "logsumexp", "cross_entropy", "binary_cross_entropy_with_logits")


def _entry(name):
    """(kind, registry entry) of a featured name."""
    if name in REDUCTION_BY_KERNEL:
        return "reduction", REDUCTION_BY_KERNEL[name]
    if name in LOSS_BY_NAME:
        return "loss", LOSS_BY_NAME[name]
    if name in BCE_BY_NAME:
        return "bce", BCE_BY_NAME[name]
    if name in OUTPUT_GRAD_BY_NAME:
        return "output_gradient", OUTPUT_GRAD_BY_NAME[name]
    if name in GRAD_BY_KERNEL:
        return "gradient", GRAD_BY_KERNEL[name]
    return "forward", BY_KERNEL[name]


def _defaults(entry):
    forward = BY_KERNEL[entry.forward] if hasattr(entry, "forward") else entry
    return tuple(p.default for p in forward.params)


def _mpmath():
    try:
        import mpmath
    except ImportError:
        return None
    return mpmath


def _overflow_safe(f, big):
    def g(x):
        try:
            return f(x)
        except OverflowError:
            return big
    return g


class _Float64Math:
    """The part of mpmath the registry's references use, in float64 (Python's math module):
    the reference for float32 results when mpmath is not installed (a few float64 ULPs of
    error, far below a float32 ULP, where the reference is written in a stable form)."""
    inf, pi, mpf, fsum, sqrt, tanh, log1p, erfc = (math.inf, math.pi, float, math.fsum, math.sqrt,
                                                   math.tanh, math.log1p, math.erfc)
    exp = staticmethod(_overflow_safe(math.exp, math.inf))
    expm1 = staticmethod(_overflow_safe(math.expm1, math.inf))
    sech = staticmethod(_overflow_safe(lambda x: 1 / math.cosh(x), 0.0))
    isinf = staticmethod(math.isinf)

    @staticmethod
    def log(x):
        return -math.inf if x == 0 else math.log(x)

    @staticmethod
    def ncdf(x):
        return math.erfc(-x / math.sqrt(2)) / 2

    @staticmethod
    def npdf(x):
        return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _float64_reference(fn, values, *params):
    """(hi, 0) from fn evaluated by _Float64Math on each value."""
    return np.array([float(fn(_Float64Math, float(v), *params)) for v in values]), np.zeros(len(values))


def _numpy_formula(kind, entry):
    """The NumPy formula as a function of the inputs (None: it needs SciPy, not installed)."""
    params = _defaults(entry) if kind in ("forward", "gradient") else ()
    try:
        with np.errstate(all="ignore"):
            if kind == "reduction":
                entry.numpy(np, np.zeros((1, 2)), -1)
            elif kind == "loss":
                entry.numpy(np, np.zeros((1, 2)), np.zeros(1, np.int64))
            elif kind == "bce":
                entry.numpy(np, np.zeros(2), np.zeros(2))
            elif kind == "output_gradient":
                entry.numpy(np, np.zeros(2))
            else:
                entry.numpy(np, np.zeros(2), *params)
    except ImportError:
        return None
    if kind == "reduction":
        return lambda x: entry.numpy(np, x, -1)
    if kind in ("loss", "bce"):
        return lambda x, t: entry.numpy(np, x, t)
    if kind == "output_gradient":
        return lambda y, g: entry.numpy(np, y) * g
    if kind == "gradient":
        return lambda x, g: entry.numpy(np, x, *params) * g
    return lambda x: entry.numpy(np, x, *params)


# ---------------------------------------------------------------------------------------
# accuracy

def ulp_error(got, hi, lo, dtype):
    """Max error of `got` (computed in dtype) against hi + lo, in ULPs of dtype; results in
    the subnormal range count as exact within one smallest normal (docs/SPEC.md section 6)."""
    err = _ulp.ulp_errors(got, hi, lo, dtype)
    return float(err.max()) if err.size else 0.0


def sweep(dtype, domain=(-np.inf, np.inf), n=SWEEP_N, seed=0):
    """Every binade of dtype, both signs, and a dense part where the functions bend, inside
    the function's domain."""
    fi = np.finfo(dtype)
    rng = np.random.default_rng(seed)
    with np.errstate(over="ignore"):
        mags = np.geomspace(float(fi.smallest_subnormal), float(fi.max), n // 3)
    mags = mags[np.isfinite(mags)]
    x = np.concatenate([mags, -mags, rng.uniform(-30, 30, n // 3), [0.0, -0.0, 1.0, -1.0]])
    x = np.unique(x.astype(dtype))
    return x[(x >= domain[0]) & (x <= domain[1])]


def _accuracy(fa, kind, entry, dtype, mp, rng):
    """fastact's max ULP error on this dtype, or None when it cannot be measured here."""
    fn = getattr(fa, entry.name)
    if kind in ("reduction", "loss"):
        rows = (rng.standard_normal((4, 200)) * 3).astype(dtype)
        targets = rng.integers(0, rows.shape[1], rows.shape[0])
        if kind == "loss":
            got = fn(rows, targets, reduction="none")
            ref = lambda m, row, k: [entry.reference(m, row, int(targets[k]))]   # noqa: E731
        else:
            got = fn(rows, axis=-1)
            ref = lambda m, row, k: entry.reference(m, row)                      # noqa: E731
        if mp is not None:
            with mp.workdps(50):
                values = [r for k, row in enumerate(rows) for r in ref(mp, [mp.mpf(float(v)) for v in row], k)]
            hi, lo = _ulp.hi_lo(values)
        elif np.dtype(dtype) == np.float32:
            m = _Float64Math
            hi = np.array([float(r) for k, row in enumerate(rows.astype(np.float64)) for r in ref(m, list(row), k)])
            lo = np.zeros(hi.size)
        else:
            return None
        return ulp_error(got, hi, lo, dtype)
    if kind in ("bce", "output_gradient"):
        # BCE: every binade of x with the soft target; from-output gradients: every binade of
        # y inside the forward's range (any y is accepted)
        xs = sweep(dtype) if kind == "bce" else sweep(dtype, entry.domain)
        params = (BCE_TARGET,) if kind == "bce" else ()
        if mp is None:
            if np.dtype(dtype) != np.float32:
                return None
            xs = xs[np.abs(xs) <= FLOAT64_SWEEP_MAX]
        got = fn(xs, np.full(xs.shape, BCE_TARGET, dtype), reduction="none") if kind == "bce" else fn(xs)
        if mp is None:
            hi, lo = _float64_reference(entry.reference, xs.tolist(), *params)
        else:
            hi, lo = _ulp.reference(entry.reference, xs, *params)
        return ulp_error(got, hi, lo, dtype)
    forward = BY_KERNEL[entry.forward] if kind == "gradient" else entry
    xs = sweep(dtype, forward.domain)
    for lo_x, hi_x in getattr(entry, "ill", ()):       # f' -> 0: not part of a gradient's bound
        xs = xs[(xs < lo_x) | (xs > hi_x)]
    got = fn(xs)                                       # a gradient's grad_output=None: ones
    if mp is not None:
        hi, lo = _ulp.reference(entry.reference, xs, *_defaults(entry))
    elif np.dtype(dtype) == np.float32:
        xs = xs[np.abs(xs) <= FLOAT64_SWEEP_MAX]
        got = fn(xs)
        hi, lo = _float64_reference(entry.reference, xs.tolist(), *_defaults(entry))
    else:
        return None
    return ulp_error(got, hi, lo, dtype)


# ---------------------------------------------------------------------------------------
# timing

def _median_times(calls, repeats=REPEATS):
    """Median seconds of each callable, interleaved so both see the same machine load, after
    two untimed calls each (the first calls of a size fault in fresh pages).  The NumPy
    formula's time includes allocating its temporaries (8 MB each for float64): in a fresh
    process that cost varies, e.g. float64 (1000, 1000) logsumexp's formula took 2.1 ms in
    one run and 3.5-5.3 ms in three others on the same VM (2026-12-06; the formula alone in a
    loop: calls of 3.7 and of 8 ms alternating), so its ratio moves with it."""
    for fn in calls:
        fn()
        fn()
    times = [[] for _ in calls]
    for _ in range(repeats):
        for i, fn in enumerate(calls):
            t = time.perf_counter()
            fn()
            times[i].append(time.perf_counter() - t)
    return [float(np.median(t)) for t in times]


def _row(fa, name, dtype, mp):
    kind, entry = _entry(name)
    rng = np.random.default_rng(1)
    fn = getattr(fa, entry.name)
    formula = _numpy_formula(kind, entry)
    x = (rng.standard_normal(ROWS if kind in ("reduction", "loss") else SIZE) * 3).astype(dtype)
    if kind == "reduction":
        calls = [lambda: fn(x, axis=-1), formula and (lambda: formula(x))]
    elif kind == "loss":
        t = rng.integers(0, ROWS[1], ROWS[0])
        calls = [lambda: fn(x, t, reduction="none"), formula and (lambda: formula(x, t))]
    elif kind == "gradient":
        g = rng.standard_normal(SIZE).astype(dtype)
        calls = [lambda: fn(x, g), formula and (lambda: formula(x, g))]
    elif kind == "output_gradient":
        y = getattr(fa, BY_KERNEL[entry.forward].name)(x)
        g = rng.standard_normal(SIZE).astype(dtype)
        calls = [lambda: fn(y, g), formula and (lambda: formula(y, g))]
    elif kind == "bce":
        t = rng.random(SIZE).astype(dtype)
        calls = [lambda: fn(x, t, reduction="none"), formula and (lambda: formula(x, t))]
    else:
        calls = [lambda: fn(x), formula and (lambda: formula(x))]
    with np.errstate(all="ignore"):
        times = _median_times([c for c in calls if c is not None])
    t_fa, t_np = times[0], (times[1] if len(times) > 1 else None)
    err = _accuracy(fa, kind, entry, dtype, mp, rng)
    return name, np.dtype(dtype).name, t_fa, t_np, err, entry.ulp


def _fmt_ms(t):
    return "-" if t is None else f"{t * 1e3:.3f}"


def _parse(argv):
    """The command line of `python -m fastact`: only --help (-h); any other argument is a
    usage error (exit code 2), as argparse gives, rather than ignored."""
    import argparse
    parser = argparse.ArgumentParser(
        prog="python -m fastact",
        description="Print fastact's configuration (CPU features, kernel variant, threads) and a "
                    "table measured now: per function and dtype, the time of fastact and of the NumPy "
                    "formula, and fastact's max error in ULPs against mpmath (or float64).",
        epilog="FASTACT_ISA=scalar|sse2|avx2|avx512 and FASTACT_NUM_THREADS=n apply as at any import.")
    return parser.parse_args(list(argv))


def main(argv=()):
    """Run the self-check; `argv` is the command line's arguments (sys.argv[1:])."""
    _parse(argv)
    import fastact as fa
    mp = _mpmath()
    reference = ("mpmath, 50 digits" if mp is not None else
                 "the same formulas in float64, Python's math module (float32 rows only, "
                 "|x| <= 700; install mpmath to measure float64 and the whole range)")
    print("fastact self-check: speed against the NumPy formula, accuracy measured now")
    print()
    show_config()
    print()
    print(f"time     : median of {REPEATS} calls on {SIZE:,} elements of N(0, 3) (gradients: with a")
    print(f"           grad_output; reductions and cross_entropy: {ROWS[0]}x{ROWS[1]}, last axis, per-row")
    print("           losses); fastact and the NumPy")
    print("           formula users write (fastact/_registry.py) each allocating its result;")
    print("           NumPy's time includes its temporaries' allocation, which varies from process")
    print("           to process (float64 up to ~2x), and the speed-up with it")
    print(f"max ULP  : over {SWEEP_N:,} inputs spanning the whole float range (reductions, losses: 4 rows of 200;")
    print("           gradients: grad_output = 1, outside the intervals where f'(x) -> 0 is ill-conditioned;")
    print(f"           *_from_output: y over the forward's range; BCE: soft target {BCE_TARGET})")
    print(f"reference: {reference}")
    print("bound    : the max ULP the registry states (and the tests assert) for that function")
    if any(_numpy_formula(*_entry(n)) is None for n in FEATURED):
        print("NumPy -  : no NumPy formula without SciPy (gelu's erf: pip install scipy)")
    print()
    header = ("function", "dtype", "fastact ms", "NumPy ms", "speed-up", "max ULP", "bound")
    rows = []
    for name in FEATURED:
        for dtype in DTYPES:
            n, dt, t_fa, t_np, err, bound = _row(fa, name, dtype, mp)
            rows.append((n, dt, _fmt_ms(t_fa), _fmt_ms(t_np),
                         "-" if t_np is None else f"{t_np / t_fa:.2f}x",
                         "-" if err is None else f"{err:.2f}", f"{bound:g}"))
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    for r in [header] + rows:
        print("  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return 0
